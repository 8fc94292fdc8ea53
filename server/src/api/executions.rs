//! The Executions API: `executions.create`, `list`, `get`, `cancel`, an execution's
//! callbacks and log entries, and the starts of `--execute`; each renders what the host
//! holds through `wire.rs`.

use serde_json::{Value as Json, json};
use wfsim_engine::limits::ARGUMENT_BYTES_MAX;
use wfsim_engine::{ExecutionState, SimTime, Value};

use super::State;
use super::body::Fields;
use super::list::{Filter, Order, Row};
use super::query::{Query, page_token, paged};
use crate::host::{Exec, ExecInput};
use crate::message::ApiResponse;
use crate::parent::Parent;
use crate::wire::{self, View};

/// An execution's `argument`: JSON text, at most [`ARGUMENT_BYTES_MAX`].
pub(super) fn parse_argument(text: &str) -> Result<Value, ApiResponse> {
    if text.len() > ARGUMENT_BYTES_MAX {
        return Err(ApiResponse::error(
            400,
            "INVALID_ARGUMENT",
            format!(
                "'argument' is {} bytes; an execution argument may hold at most {ARGUMENT_BYTES_MAX} (32 KiB)",
                text.len()
            ),
        ));
    }
    let json: Json = serde_json::from_str(text).map_err(|e| {
        ApiResponse::error(
            400,
            "INVALID_ARGUMENT",
            format!("'argument' must be a JSON document in a string: {e}"),
        )
    })?;
    Ok(Value::from_json(&json))
}

impl State {
    /// 404 for a workflow not deployed in `parent`, in GCP's words (`Resource '…' was not
    /// found`), then what is deployed there and where else a workflow of that name is: the
    /// usual mistake is a project or location that differs from the deploy's.
    pub(super) fn not_deployed(&self, parent: &Parent, workflow: &str) -> ApiResponse {
        let here = self.host.workflow_names(parent);
        let mut message = format!(
            "Resource '{}' was not found (deployed in {parent}: {})",
            wire::workflow_name(parent, workflow),
            if here.is_empty() {
                "none".to_owned()
            } else {
                here.join(", ")
            }
        );
        let elsewhere: Vec<String> = self
            .host
            .parents_of(workflow)
            .iter()
            .map(ToString::to_string)
            .collect();
        if !elsewhere.is_empty() {
            message.push_str(&format!(
                "; '{workflow}' is deployed in {}",
                elsewhere.join(", ")
            ));
        }
        ApiResponse::error(404, "NOT_FOUND", message)
    }

    /// Execution `id` of `workflow` in `parent`: 404 unless the workflow is deployed there
    /// and the execution is its.
    pub(super) fn find(
        &self,
        parent: &Parent,
        workflow: &str,
        id: &str,
    ) -> Result<usize, ApiResponse> {
        if !self.host.is_deployed(parent, workflow) {
            return Err(self.not_deployed(parent, workflow));
        }
        let found = self.host.find(workflow, id);
        found.filter(|&i| self.host.exec(i).parent == *parent).ok_or_else(|| {
            let keep = self.host.keep_ended();
            let message = match self.host.evicted(workflow, id) {
                (true, _) => format!(
                    "execution '{id}' of workflow '{workflow}' ended and was evicted: this server keeps the {keep} most recently ended executions (--keep-ended {keep})"
                ),
                (false, 0) => format!("workflow '{workflow}' has no execution '{id}'"),
                (false, n) => format!(
                    "workflow '{workflow}' has no execution '{id}' (or it ended long ago: {n} ended executions have been evicted under --keep-ended {keep}, and only the last {keep} of their names are remembered)"
                ),
            };
            ApiResponse::error(404, "NOT_FOUND", message)
        })
    }

    /// The Execution resource of execution `i` in `view`.
    pub(super) fn execution_json(&self, i: usize, view: View, query: &Query) -> Json {
        wire::execution(&self.host, self.host.exec(i), view, query.enums)
    }

    /// `executions.create`: the body is an Execution as the REST resource has it
    /// (`argument`, `labels`, `callLogLevel`, `executionHistoryLevel`,
    /// `disableConcurrencyQuotaOverflowBuffering`; the fields the server sets are ignored).
    pub(super) fn create(
        &mut self,
        now: SimTime,
        parent: &Parent,
        workflow: &str,
        query: &Query,
        body: &[u8],
    ) -> Result<ApiResponse, ApiResponse> {
        query.allow(&[])?;
        let mut f = Fields::parse(body, "execution")?;
        let argument = f.string("argument")?;
        let labels = f.string_map("labels")?;
        let call_log_level = f.enumeration("callLogLevel", &wire::CALL_LOG_LEVELS)?;
        let execution_history_level =
            f.enumeration("executionHistoryLevel", &wire::EXECUTION_HISTORY_LEVELS)?;
        let no_overflow_buffering = f
            .boolean("disableConcurrencyQuotaOverflowBuffering")?
            .unwrap_or(false);
        f.ignore(&[
            "name",
            "createTime",
            "startTime",
            "endTime",
            "duration",
            "state",
            "result",
            "error",
            "workflowRevisionId",
            "status",
            "stateError",
        ]);
        f.finish()?;
        if !self.host.is_deployed(parent, workflow) {
            return Err(self.not_deployed(parent, workflow));
        }
        let value = match &argument {
            None => None,
            Some(text) => Some(parse_argument(text)?),
        };
        let id = self
            .host
            .start(
                now,
                parent,
                workflow,
                ExecInput {
                    argument,
                    value,
                    labels,
                    call_log_level,
                    execution_history_level,
                    no_overflow_buffering,
                },
            )
            .expect("deployed: checked above");
        let i = self.find(parent, workflow, &id)?;
        Ok(ApiResponse::json(
            200,
            &self.execution_json(i, View::Full, query),
        ))
    }

    /// `executions.list`: newest first unless `orderBy` says otherwise, in pages.
    pub(super) fn list(
        &self,
        parent: &Parent,
        workflow: &str,
        query: &Query,
    ) -> Result<ApiResponse, ApiResponse> {
        query.allow(&["pageSize", "pageToken", "view", "filter", "orderBy"])?;
        if !self.host.is_deployed(parent, workflow) {
            return Err(self.not_deployed(parent, workflow));
        }
        let view = query.view(View::Basic)?;
        let invalid = |m: String| ApiResponse::error(400, "INVALID_ARGUMENT", m);
        let filter = query
            .get("filter")
            .filter(|f| !f.trim().is_empty())
            .map(Filter::parse)
            .transpose()
            .map_err(|e| invalid(format!("filter: {e}")))?;
        let order = Order::parse(query.get("orderBy").unwrap_or(""))
            .map_err(|e| invalid(format!("orderBy: {e}")))?;
        let rows: Vec<(usize, Row<'_>)> = self
            .host
            .executions()
            .filter(|(_, e)| e.workflow == workflow && e.parent == *parent)
            .map(|(i, e)| (i, self.row(i, e)))
            .filter(|(_, r)| filter.as_ref().is_none_or(|f| f.matches(r)))
            .collect();
        let mut rows = rows;
        rows.sort_by(|a, b| order.cmp(&a.1, &b.1));
        let most = match view {
            View::Basic => 1000,
            View::Full => 100,
        };
        let (offset, size) = query.page(100, most)?;
        let out = paged("executions", &rows, offset, size, |(i, _)| {
            self.execution_json(*i, view, query)
        });
        Ok(ApiResponse::json(200, &out))
    }

    /// What `filter` and `orderBy` read of execution `i`.
    fn row<'a>(&self, i: usize, e: &'a Exec) -> Row<'a> {
        let nanos = |t: SimTime| self.host.unix_nanos(t);
        let end = e.ended_at();
        Row {
            id: &e.id,
            state: e.state().as_str(),
            start: nanos(e.clock.started_at()),
            end: end.map(nanos),
            duration: end.map(|t| {
                let d = t.saturating_since(e.clock.started_at()).as_nanos();
                u64::try_from(d).unwrap_or(u64::MAX)
            }),
            revision: &e.revision_id,
            labels: &e.labels,
            index: i,
        }
    }

    pub(super) fn get(
        &self,
        parent: &Parent,
        workflow: &str,
        id: &str,
        query: &Query,
    ) -> Result<ApiResponse, ApiResponse> {
        query.allow(&["view"])?;
        let view = query.view(View::Full)?;
        let i = self.find(parent, workflow, id)?;
        Ok(ApiResponse::json(200, &self.execution_json(i, view, query)))
    }

    pub(super) fn cancel(
        &mut self,
        now: SimTime,
        parent: &Parent,
        workflow: &str,
        id: &str,
        query: &Query,
    ) -> Result<ApiResponse, ApiResponse> {
        query.allow(&[])?;
        let i = self.find(parent, workflow, id)?;
        if !self.host.cancel(i, now) {
            let state = self.host.exec(i).state();
            return Err(ApiResponse::error(
                400,
                "FAILED_PRECONDITION",
                format!("the execution is {state}; only an ACTIVE execution can be cancelled"),
            ));
        }
        Ok(ApiResponse::json(
            200,
            &self.execution_json(i, View::Full, query),
        ))
    }

    pub(super) fn callbacks(&self, parent: &Parent, workflow: &str, id: &str) -> ApiResponse {
        match self.find(parent, workflow, id) {
            Ok(i) => ApiResponse::json(200, &wire::callbacks(self.host.exec(i))),
            Err(res) => res,
        }
    }

    /// An execution's log entries, oldest first, in pages (default 1,000 entries, at most
    /// 10,000): one request of a chatty execution must not stall every other one.
    pub(super) fn logs(
        &self,
        parent: &Parent,
        workflow: &str,
        id: &str,
        query: &Query,
    ) -> Result<ApiResponse, ApiResponse> {
        query.allow(&["pageSize", "pageToken"])?;
        let i = self.find(parent, workflow, id)?;
        let (offset, size) = query.page(1000, 10_000)?;
        let (mut body, next) = wire::logs(&self.host, self.host.exec(i), offset, size);
        if let Some(next) = next {
            body["nextPageToken"] = json!(page_token(next));
        }
        Ok(ApiResponse::json(200, &body))
    }

    /// Starts an execution of `workflow`, deployed in the default parent (`--project`,
    /// `--location`), at server time `now` (`--execute`, tests).
    pub fn start_execution(
        &mut self,
        now: SimTime,
        workflow: &str,
        argument: Option<String>,
    ) -> Result<String, ApiResponse> {
        let parent = Parent::default_of(&self.config);
        self.start_in(now, &parent, workflow, argument)
    }

    /// [`State::start_execution`] in `parent`, kept in the input log with it.
    pub(super) fn start_in(
        &mut self,
        now: SimTime,
        parent: &Parent,
        workflow: &str,
        argument: Option<String>,
    ) -> Result<String, ApiResponse> {
        if !self.host.is_deployed(parent, workflow) {
            return Err(self.not_deployed(parent, workflow));
        }
        let value = match &argument {
            None => None,
            Some(text) => Some(parse_argument(text)?),
        };
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("workflow", workflow)
            .append_pair("parent", &parent.to_string())
            .finish();
        let body = argument.clone().unwrap_or_default().into_bytes();
        self.record_internal(now, "start", query, body);
        let input = ExecInput {
            argument,
            value,
            ..ExecInput::default()
        };
        let id = self
            .host
            .start(now, parent, workflow, input)
            .expect("deployed: checked above");
        self.host.drop_evicted();
        Ok(id)
    }

    /// When the execution ended, on the server's clock.
    pub fn execution_ended_at(&self, workflow: &str, id: &str) -> Option<SimTime> {
        self.host.exec(self.host.find(workflow, id)?).ended_at()
    }

    /// The execution's state, for `--execute` and tests.
    pub fn execution_state(&self, workflow: &str, id: &str) -> Option<ExecutionState> {
        self.host
            .find(workflow, id)
            .map(|i| self.host.exec(i).state())
    }

    /// Execution `id` of `workflow` taken out of the state, with its start on the server's
    /// clock: a harness that judges the execution itself (`wfsim explore --system`) reads its
    /// trace, coverage and outcome once the run is over, as the engine-level runner hands
    /// them over. The state is spent.
    pub fn into_execution(
        self,
        workflow: &str,
        id: &str,
    ) -> Option<(wfsim_engine::interp::Execution, SimTime)> {
        let i = self.host.find(workflow, id)?;
        Some(self.host.into_execution(i))
    }
}
