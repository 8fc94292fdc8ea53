//! The Workflows Executions API v1 and the callback endpoints: routes, authorization and
//! the input log, over the executions `host.rs` holds; `wire.rs` renders them. No I/O
//! here: [`State::handle`] takes a request and a time and returns a response, so every
//! route is tested without a socket; `http.rs` is the hyper glue.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;

use serde_json::{Value as Json, json};
use wfsim_engine::callbacks::{Accepted, Auth, Rejection};
use wfsim_engine::defn::Workflow;
use wfsim_engine::{CallbackRequest, ExecutionState, IdGen, SimTime, Value};

use crate::auth::{self, Denied, Tokens};
pub use crate::config::{ClockMode, Config};
pub use crate::host::KEEP_ENDED_DEFAULT;
use crate::host::{
    ApiEvent, Close, Delivery, ExecInput, Host, Observed, OutboundCall, Taken, panic_message,
};
pub use crate::message::{ApiRequest, ApiResponse};
use crate::wire::{self, View};
use wfsim_engine::callbacks::BODY_BYTES_MAX;
use wfsim_engine::http::{CallId, HttpOutcome, HttpResponse};
use wfsim_engine::limits::ARGUMENT_BYTES_MAX;
use wfsim_engine::services::Service;

mod body;
mod list;
mod query;
mod workflows;

use body::Fields;
use body::optional_field;
use list::{Filter, Order, Row};
use query::{Query, page_token, paged};

/// What [`State::callback`] did.
struct Answered {
    res: ApiResponse,
    accepted: Option<Accepted>,
    /// The execution, if it exists.
    found: Option<usize>,
    changed: Option<bool>,
}

/// An execution's `argument`: JSON text, at most [`ARGUMENT_BYTES_MAX`].
fn parse_argument(text: &str) -> Result<Value, ApiResponse> {
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

/// Where the input log keeps inputs that are not requests; `route` serves nothing here, so
/// no request can pass for one.
const INTERNAL: &str = "/v1/wfsim/internal/";

/// Everything live mode holds: the executions' host, tokens, and the input log.
pub struct State {
    config: Config,
    host: Host,
    tokens: Tokens,
    /// Every request handled, with its time: the durable input log a restart replays.
    inputs: Option<Vec<(SimTime, ApiRequest)>>,
    /// Server time under a manual or auto clock (unused on the real one).
    clock_now: SimTime,
    /// The Workflows API's operations by name, all done.
    operations: BTreeMap<String, Json>,
    op_ids: IdGen,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("workflows", &self.host.workflow_names())
            .field("executions", &self.host.execution_count())
            .finish()
    }
}

/// A route of the API, parsed from a path.
#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    /// `…/locations/L/workflows`: the Workflows API.
    Workflows,
    Workflow {
        workflow: &'a str,
    },
    Revisions {
        workflow: &'a str,
    },
    Operation {
        id: &'a str,
    },
    Executions {
        workflow: &'a str,
    },
    Execution {
        workflow: &'a str,
        id: &'a str,
    },
    Cancel {
        workflow: &'a str,
        id: &'a str,
    },
    Callbacks {
        workflow: &'a str,
        id: &'a str,
    },
    Logs {
        workflow: &'a str,
        id: &'a str,
    },
    Callback {
        workflow: &'a str,
        id: &'a str,
        callback: &'a str,
    },
    AccessToken {
        account: &'a str,
    },
    /// `/v1/wfsim/clock`: wfsim's own, for integration tests.
    Clock,
    /// `/v1/wfsim/clock:advance`.
    ClockAdvance,
}

impl Route<'_> {
    /// The IAM permission a request on this route needs (callbacks are checked inside the
    /// slot rule, at its step 2).
    fn permission(&self, method: &str) -> &'static str {
        match (self, method) {
            (Route::Workflows, "POST") => auth::WORKFLOWS_CREATE,
            (Route::Workflows, _) => auth::WORKFLOWS_LIST,
            (Route::Workflow { .. }, "PATCH") => auth::WORKFLOWS_UPDATE,
            (Route::Workflow { .. }, "DELETE") => auth::WORKFLOWS_DELETE,
            (Route::Workflow { .. } | Route::Revisions { .. }, _) => auth::WORKFLOWS_GET,
            (Route::Operation { .. }, _) => auth::OPERATIONS_GET,
            (Route::Executions { .. }, "POST") => auth::EXECUTIONS_CREATE,
            (Route::Executions { .. }, _) => auth::EXECUTIONS_LIST,
            (Route::Cancel { .. }, _) => auth::EXECUTIONS_CANCEL,
            (
                Route::Execution { .. }
                | Route::Callbacks { .. }
                | Route::Logs { .. }
                | Route::Clock,
                _,
            ) => auth::EXECUTIONS_GET,
            (Route::Callback { .. }, _) => auth::CALLBACKS_SEND,
            (Route::AccessToken { .. }, _) => auth::GET_ACCESS_TOKEN,
            (Route::ClockAdvance, _) => auth::CLOCK_ADVANCE,
        }
    }
}

impl State {
    /// Registers `token` as one with every permission, never expiring (`--token`).
    pub fn adopt_master_token(&mut self, token: &str) {
        self.tokens.adopt_master(token);
    }

    /// `wall_start_unix_nanos` is the real-world time at server time zero.
    pub fn new(config: Config, wall_start_unix_nanos: i128) -> State {
        State {
            op_ids: IdGen::with_stream(config.seed, 0x0B5),
            tokens: Tokens::new(config.auth, config.seed, config.grants.clone()),
            host: Host::new(config.clone(), wall_start_unix_nanos),
            config,
            inputs: None,
            clock_now: SimTime::ZERO,
            operations: BTreeMap::new(),
        }
    }

    pub fn clock_mode(&self) -> ClockMode {
        self.config.clock
    }

    /// Server time under a manual or auto clock: where `clock:advance` and the auto clock's
    /// jumps have moved it.
    pub fn clock_now(&self) -> SimTime {
        self.clock_now
    }

    /// Moves a manual or auto clock to `to` (never back) and fires every timer due by then,
    /// `to` included: letting time pass through an instant closes it.
    fn move_clock(&mut self, to: SimTime) {
        self.clock_now = self.clock_now.max(to);
        self.host.advance(
            self.clock_now
                .saturating_add(std::time::Duration::from_nanos(1)),
        );
    }

    /// The auto clock's jump: to the next deadline, if there is one and the clock is auto.
    /// Returns where the clock now reads.
    pub fn jump_to_next_deadline(&mut self) -> Option<SimTime> {
        if self.config.clock != ClockMode::Auto {
            return None;
        }
        let next = self.host.next_deadline()?;
        self.move_clock(next);
        self.record_internal(self.clock_now, "jump", String::new(), Vec::new());
        Some(self.clock_now)
    }

    /// Deploys an already built `workflow` as `name` at server time 0 (tests, simulations;
    /// see [`State::deploy_source`] for text).
    pub fn deploy(&mut self, name: &str, workflow: Workflow) {
        self.host.deploy(
            SimTime::ZERO,
            name,
            std::rc::Rc::new(workflow),
            None,
            Default::default(),
        );
    }

    pub fn workflow_names(&self) -> Vec<String> {
        self.host.workflow_names()
    }

    /// A token with every permission, never expiring; `None` under `--no-auth`.
    pub fn master_token(&mut self) -> Option<String> {
        self.tokens.enabled().then(|| {
            self.tokens.mint(
                "wfsim-admin",
                auth::ALL.iter().map(|p| p.to_string()).collect(),
                None,
            )
        })
    }

    /// The journal since the last call, in the order things happened on the server.
    pub fn take_journal(&mut self) -> Vec<Observed> {
        self.host.take_journal()
    }

    /// Journal every execution's engine events from now on, not only callback requests.
    pub fn observe_executions(&mut self) {
        self.host.observe_executions();
    }

    /// Keep every request handled from now on, with its time: the input log that
    /// [`State::replay`] turns back into this state.
    pub fn record_inputs(&mut self) {
        self.inputs.get_or_insert_with(Vec::new);
    }

    /// The requests recorded since the last call (see [`State::record_inputs`]).
    pub fn take_inputs(&mut self) -> Vec<(SimTime, ApiRequest)> {
        self.inputs.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Handles `inputs` again, answers discarded, then brings timers up to `now`: a fresh
    /// state fed the log of another becomes that state (every id, timer and answer comes
    /// from the seed and the inputs), with the timers that fell due since then fired at
    /// their own instants. This is what a restart means: the real service keeps executions
    /// durably, so a crash loses connections, not executions.
    pub fn replay(&mut self, inputs: &[(SimTime, ApiRequest)], now: SimTime) {
        for (at, req) in inputs {
            match req.path.strip_prefix(INTERNAL) {
                Some(what) => self.apply_internal(*at, what, req),
                None => {
                    self.handle(*at, req);
                }
            }
        }
        self.advance(now);
    }

    /// `--services`: scripted services (HT-7) answer the outbound calls of executions
    /// started from now on before the network does (HT-9).
    pub fn use_services(&mut self, services: Vec<Service>) {
        self.host.use_services(services);
    }

    /// Outbound calls no scripted service answers, made since the last look: the I/O
    /// layer sends them and hands each answer to [`State::answer_outbound`].
    pub fn take_outbound(&mut self) -> Vec<OutboundCall> {
        self.host.take_unsent()
    }

    /// The network's answer to an outbound call, at server time `now`: an input, kept in
    /// the input log. Ignored when the call no longer waits (its execution is over, or the
    /// call timed out and was answered already).
    pub fn answer_outbound(
        &mut self,
        now: SimTime,
        workflow: &str,
        execution: &str,
        call: CallId,
        outcome: HttpOutcome,
    ) {
        let Some(i) = self.host.find(workflow, execution) else {
            return;
        };
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("workflow", workflow)
            .append_pair("execution", execution)
            .append_pair("call", &call.0.to_string());
        let body = match &outcome {
            HttpOutcome::Response(r) => {
                q.append_pair("kind", "response")
                    .append_pair("status", &r.status.to_string())
                    .append_pair("headers", &json!(r.headers).to_string());
                r.body.clone()
            }
            HttpOutcome::ConnectionFailed(why) => {
                q.append_pair("kind", "failed").append_pair("reason", why);
                Vec::new()
            }
            HttpOutcome::ConnectionError(why) => {
                q.append_pair("kind", "broken").append_pair("reason", why);
                Vec::new()
            }
        };
        self.record_internal(now, "answer", q.finish(), body);
        self.advance(now);
        self.host.answer(i, now, call, outcome);
        self.host.drop_evicted();
    }

    /// Keeps an input that is not a request (a deploy from a file, `--execute`, an auto
    /// clock's jump) in the input log, under a path no request can reach.
    fn record_internal(&mut self, at: SimTime, what: &str, query: String, body: Vec<u8>) {
        if let Some(inputs) = &mut self.inputs {
            inputs.push((
                at,
                ApiRequest {
                    method: "POST".into(),
                    path: format!("{INTERNAL}{what}"),
                    query,
                    headers: Vec::new(),
                    body,
                },
            ));
        }
    }

    /// Replays an input [`State::record_internal`] kept.
    fn apply_internal(&mut self, at: SimTime, what: &str, req: &ApiRequest) {
        let param = |name: &str| {
            form_urlencoded::parse(req.query.as_bytes())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let body = String::from_utf8_lossy(&req.body).into_owned();
        match what {
            "jump" => self.move_clock(at),
            "keep-ended" => {
                if let Ok(n) = param("n").parse() {
                    self.host.set_keep_ended(at, n);
                }
            }
            "deploy" => {
                // It deployed when it was recorded, so it deploys now.
                let _ = self.deploy_source(at, &param("name"), &param("file"), &body);
            }
            "start" => {
                let argument = (!req.body.is_empty()).then_some(body);
                let _ = self.start_execution(at, &param("workflow"), argument);
            }
            "answer" => {
                let outcome = match param("kind").as_str() {
                    "response" => HttpOutcome::Response(HttpResponse {
                        status: param("status").parse().unwrap_or(0),
                        headers: serde_json::from_str(&param("headers")).unwrap_or_default(),
                        body: req.body.clone(),
                    }),
                    "failed" => HttpOutcome::ConnectionFailed(param("reason")),
                    _ => HttpOutcome::ConnectionError(param("reason")),
                };
                if let (Some(i), Ok(id)) = (
                    self.host.find(&param("workflow"), &param("execution")),
                    param("call").parse(),
                ) {
                    self.host.answer(i, at, CallId(id), outcome);
                }
            }
            _ => {}
        }
        self.host.drop_evicted();
    }

    /// API events since the last call (executions started and ended, callbacks answered),
    /// for the operator's log.
    pub fn take_events(&mut self) -> Vec<ApiEvent> {
        self.host.take_events()
    }

    /// Log lines written since the last call, one per `sys.log`, for stdout.
    pub fn take_log_lines(&mut self) -> Vec<String> {
        self.host.take_log_lines()
    }

    /// Starts an execution of `workflow` at server time `now` (`--execute`, tests).
    pub fn start_execution(
        &mut self,
        now: SimTime,
        workflow: &str,
        argument: Option<String>,
    ) -> Result<String, ApiResponse> {
        if !self.host.is_deployed(workflow) {
            return Err(self.not_deployed(workflow));
        }
        let value = match &argument {
            None => None,
            Some(text) => Some(parse_argument(text)?),
        };
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("workflow", workflow)
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
            .start(now, workflow, input)
            .expect("deployed: checked above");
        self.host.drop_evicted();
        Ok(id)
    }

    /// Closes every instant before server time `now` (see `Host::advance`).
    pub fn advance(&mut self, now: SimTime) {
        self.host.advance(now);
    }

    /// The earliest server time at which [`State::advance`] has work.
    pub fn next_deadline(&self) -> Option<SimTime> {
        self.host.next_deadline()
    }

    /// Answers one request at server time `now`.
    pub fn handle(&mut self, now: SimTime, req: &ApiRequest) -> ApiResponse {
        // Reads change nothing (a GET to a callback endpoint is no read), so the input log
        // leaves them out.
        let read = req.method == "GET"
            && !matches!(self.parse_route(&req.path), Ok(Route::Callback { .. }));
        if let (Some(inputs), false) = (&mut self.inputs, read) {
            inputs.push((now, req.clone()));
        }
        self.advance(now);
        self.guarded(now, req, |s| s.route(now, req))
    }

    /// Runs `route` for `req`; a panic in it (a wfsim bug) is counted, logged and answered
    /// 500 with its message, so one bad route loses neither the server nor the request.
    fn guarded(
        &mut self,
        now: SimTime,
        req: &ApiRequest,
        route: impl FnOnce(&mut Self) -> ApiResponse,
    ) -> ApiResponse {
        let answered = std::panic::catch_unwind(AssertUnwindSafe(|| route(self)));
        // The answer is rendered: no index into the executions is held any more.
        self.host.drop_evicted();
        match answered {
            Ok(res) => res,
            Err(payload) => {
                let message = panic_message(payload.as_ref());
                let line = format!(
                    "{} ERROR    wfsim internal error answering {} {}: {message}",
                    self.host.wall(now),
                    req.method,
                    req.path
                );
                self.host.internal_error(line);
                ApiResponse::error(
                    500,
                    "INTERNAL",
                    format!("wfsim failed to answer this request (a bug): {message}"),
                )
            }
        }
    }

    fn route(&mut self, now: SimTime, req: &ApiRequest) -> ApiResponse {
        let route = match self.parse_route(&req.path) {
            Ok(r) => r,
            Err(res) => return res,
        };
        let authz = req.header("authorization").map(str::to_owned);
        if !matches!(route, Route::Callback { .. }) {
            let permission = route.permission(&req.method);
            if let Err(d) = self.tokens.check(authz.as_deref(), permission, now) {
                return ApiResponse::denied(d);
            }
        }
        let method = req.method.as_str();
        if !matches!(route, Route::Callback { .. }) && req.body.len() > BODY_BYTES_MAX {
            // The slot rule answers 413 for callbacks at its own step; the API here.
            return ApiResponse::error(
                413,
                "INVALID_ARGUMENT",
                format!("the request body is over {BODY_BYTES_MAX} bytes (512 KiB)"),
            );
        }
        // A callback's query string is the workflow's to read (CB-7: `a=1&a=2` is a list),
        // not the API's parameters.
        let api_query = if matches!(route, Route::Callback { .. }) {
            ""
        } else {
            &req.query
        };
        let query = match Query::parse(api_query) {
            Ok(q) => q,
            Err(res) => return res,
        };
        let answer = |r: Result<ApiResponse, ApiResponse>| r.unwrap_or_else(|e| e);
        match (route, method) {
            (Route::Workflows, "GET") => answer(self.workflows_list(&query)),
            (Route::Workflows, "POST") => answer(self.workflow_create(now, &query, &req.body)),
            (Route::Workflow { workflow }, "GET") => answer(self.workflow_get(workflow, &query)),
            (Route::Workflow { workflow }, "PATCH") => {
                answer(self.workflow_patch(now, workflow, &query, &req.body))
            }
            (Route::Workflow { workflow }, "DELETE") => {
                answer(self.workflow_delete(now, workflow, &query))
            }
            (Route::Revisions { workflow }, "GET") => answer(self.revisions_list(workflow, &query)),
            (Route::Operation { id }, "GET") => answer(self.operation_get(id, &query)),
            (Route::Executions { workflow }, "POST") => {
                answer(self.create(now, workflow, &query, &req.body))
            }
            (Route::Executions { workflow }, "GET") => answer(self.list(workflow, &query)),
            (Route::Execution { workflow, id }, "GET") => answer(self.get(workflow, id, &query)),
            (Route::Cancel { workflow, id }, "POST") => {
                answer(self.cancel(now, workflow, id, &query))
            }
            (Route::Callbacks { workflow, id }, "GET") => self.callbacks(workflow, id),
            (Route::Logs { workflow, id }, "GET") => answer(self.logs(workflow, id, &query)),
            (
                Route::Callback {
                    workflow,
                    id,
                    callback,
                },
                _,
            ) => {
                let Answered {
                    res,
                    accepted,
                    found,
                    changed,
                } = self.callback(now, workflow, id, callback, req, authz.as_deref());
                self.host.journal(Observed::Callback(Delivery {
                    at: now,
                    workflow: workflow.to_owned(),
                    execution: id.to_owned(),
                    callback: callback.to_owned(),
                    request_id: req.header("x-request-id").map(str::to_owned),
                    method: req.method.clone(),
                    service: None,
                    status: res.status,
                    buffered: accepted == Some(Accepted::Buffered),
                    changed,
                }));
                let name = format!(
                    "{}/executions/{id}/callbacks/{callback}",
                    wire::workflow_name(&self.config, workflow)
                );
                let mut detail = vec![
                    ("method", req.method.clone()),
                    ("status", res.status.to_string()),
                ];
                if accepted == Some(Accepted::Buffered) {
                    detail.push(("stored", "true".to_owned()));
                }
                self.host.event(now, "callback.answered", name, detail);
                // The await it resumed runs now, before the answer goes out, journaled
                // after the request that woke it. **(decision)** So a later request of the
                // same clock tick finds the execution as this one left it (the engine's
                // scripted runner instead delivers every request of an instant first: the
                // eleventh request of CB-12). Timers of the tick still wait for its
                // requests.
                if let Some(i) = found {
                    self.host.run(i, now, Close::No);
                }
                res
            }
            (Route::AccessToken { account }, "POST") => self
                .generate_token(now, account, &req.body)
                .unwrap_or_else(|e| e),
            (Route::Clock, "GET") => self.clock_json(now),
            (Route::ClockAdvance, "POST") => {
                self.advance_clock(now, &req.body).unwrap_or_else(|e| e)
            }
            (_, m) => ApiResponse::error(
                405,
                "FAILED_PRECONDITION",
                format!("{m} is not supported on {}", req.path),
            ),
        }
    }

    fn parse_route<'a>(&self, path: &'a str) -> Result<Route<'a>, ApiResponse> {
        let not_found =
            || ApiResponse::error(404, "NOT_FOUND", format!("no such API path: {path}"));
        match path {
            "/v1/wfsim/clock" => return Ok(Route::Clock),
            "/v1/wfsim/clock:advance" => return Ok(Route::ClockAdvance),
            _ => {}
        }
        if let Some(rest) = path.strip_prefix("/v1/projects/-/serviceAccounts/") {
            let account = rest
                .strip_suffix(":generateAccessToken")
                .ok_or_else(not_found)?;
            return Ok(Route::AccessToken { account });
        }
        let rest = path.strip_prefix("/v1/projects/").ok_or_else(not_found)?;
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.len() < 4 || parts[1] != "locations" {
            return Err(not_found());
        }
        if parts[0] != self.config.project || parts[2] != self.config.location {
            return Err(ApiResponse::error(
                404,
                "NOT_FOUND",
                format!(
                    "this server serves project '{}' in location '{}' (see --project, --location), not '{}' in '{}'",
                    self.config.project, self.config.location, parts[0], parts[2]
                ),
            ));
        }
        match &parts[3..] {
            ["workflows"] => Ok(Route::Workflows),
            ["workflows", w] => match w.strip_suffix(":listRevisions") {
                Some(workflow) => Ok(Route::Revisions { workflow }),
                None => Ok(Route::Workflow { workflow: w }),
            },
            ["operations", id] => Ok(Route::Operation { id }),
            ["workflows", workflow, "executions", rest @ ..] => match rest {
                [] => Ok(Route::Executions { workflow }),
                [id] => match id.strip_suffix(":cancel") {
                    Some(id) => Ok(Route::Cancel { workflow, id }),
                    None => Ok(Route::Execution { workflow, id }),
                },
                [id, "callbacks"] => Ok(Route::Callbacks { workflow, id }),
                [id, "logs"] => Ok(Route::Logs { workflow, id }),
                [id, "callbacks", callback] => Ok(Route::Callback {
                    workflow,
                    id,
                    callback,
                }),
                _ => Err(not_found()),
            },
            _ => Err(not_found()),
        }
    }

    /// 404 for a workflow that is not deployed, naming those that are.
    fn not_deployed(&self, workflow: &str) -> ApiResponse {
        ApiResponse::error(
            404,
            "NOT_FOUND",
            format!(
                "workflow '{workflow}' is not deployed; deployed: {}",
                self.workflow_names().join(", ")
            ),
        )
    }

    fn find(&self, workflow: &str, id: &str) -> Result<usize, ApiResponse> {
        if !self.host.is_deployed(workflow) {
            return Err(self.not_deployed(workflow));
        }
        self.host.find(workflow, id).ok_or_else(|| {
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
    fn execution_json(&self, i: usize, view: View, query: &Query) -> Json {
        wire::execution(
            &self.config,
            &self.host,
            self.host.exec(i),
            view,
            query.enums,
        )
    }

    /// `executions.create`: the body is an Execution (`argument`, `labels`,
    /// `callLogLevel`; the fields the server sets are ignored).
    fn create(
        &mut self,
        now: SimTime,
        workflow: &str,
        query: &Query,
        body: &[u8],
    ) -> Result<ApiResponse, ApiResponse> {
        query.allow(&[])?;
        let mut f = Fields::parse(body, "execution")?;
        let argument = f.string("argument")?;
        let labels = f.string_map("labels")?;
        let call_log_level = f.enumeration("callLogLevel", &wire::CALL_LOG_LEVELS)?;
        f.ignore(&[
            "name",
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
        if !self.host.is_deployed(workflow) {
            return Err(self.not_deployed(workflow));
        }
        let value = match &argument {
            None => None,
            Some(text) => Some(parse_argument(text)?),
        };
        let id = self
            .host
            .start(
                now,
                workflow,
                ExecInput {
                    argument,
                    value,
                    labels,
                    call_log_level,
                },
            )
            .expect("deployed: checked above");
        let i = self.find(workflow, &id)?;
        Ok(ApiResponse::json(
            200,
            &self.execution_json(i, View::Full, query),
        ))
    }

    /// `executions.list`: newest first unless `orderBy` says otherwise, in pages.
    fn list(&self, workflow: &str, query: &Query) -> Result<ApiResponse, ApiResponse> {
        query.allow(&["pageSize", "pageToken", "view", "filter", "orderBy"])?;
        if !self.host.is_deployed(workflow) {
            return Err(self.not_deployed(workflow));
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
            .filter(|(_, e)| e.workflow == workflow)
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
    fn row<'a>(&self, i: usize, e: &'a crate::host::Exec) -> Row<'a> {
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

    fn get(&self, workflow: &str, id: &str, query: &Query) -> Result<ApiResponse, ApiResponse> {
        query.allow(&["view"])?;
        let view = query.view(View::Full)?;
        let i = self.find(workflow, id)?;
        Ok(ApiResponse::json(200, &self.execution_json(i, view, query)))
    }

    fn cancel(
        &mut self,
        now: SimTime,
        workflow: &str,
        id: &str,
        query: &Query,
    ) -> Result<ApiResponse, ApiResponse> {
        query.allow(&[])?;
        let i = self.find(workflow, id)?;
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

    fn callbacks(&self, workflow: &str, id: &str) -> ApiResponse {
        match self.find(workflow, id) {
            Ok(i) => ApiResponse::json(200, &wire::callbacks(&self.config, self.host.exec(i))),
            Err(res) => res,
        }
    }

    /// An execution's log entries, oldest first, in pages (default 1,000 entries, at most
    /// 10,000): one request of a chatty execution must not stall every other one.
    fn logs(&self, workflow: &str, id: &str, query: &Query) -> Result<ApiResponse, ApiResponse> {
        query.allow(&["pageSize", "pageToken"])?;
        let i = self.find(workflow, id)?;
        let (offset, size) = query.page(1000, 10_000)?;
        let (mut body, next) = wire::logs(&self.host, self.host.exec(i), offset, size);
        if let Some(next) = next {
            body["nextPageToken"] = json!(page_token(next));
        }
        Ok(ApiResponse::json(200, &body))
    }

    /// SPEC §3 over HTTP: the engine's slot rule decides, with the token verdict in its place.
    fn callback(
        &mut self,
        now: SimTime,
        workflow: &str,
        id: &str,
        callback: &str,
        req: &ApiRequest,
        authz: Option<&str>,
    ) -> Answered {
        let i = match self.find(workflow, id) {
            Ok(i) => i,
            Err(res) => {
                return Answered {
                    res,
                    accepted: None,
                    found: None,
                    changed: None,
                };
            }
        };
        let verdict = match self.tokens.check(authz, auth::CALLBACKS_SEND, now) {
            Ok(()) => Auth::Granted,
            Err(Denied::Unauthenticated(_)) => Auth::Unauthenticated,
            Err(Denied::PermissionDenied(_)) => Auth::PermissionDenied,
        };
        // The caller's token is not the workflow's business: it never reaches `http_request`.
        // **(decision)**
        let headers = req
            .headers
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("authorization"))
            .cloned()
            .collect();
        let request = CallbackRequest {
            method: req.method.clone(),
            path: req.path.clone(),
            headers,
            query: req.query.clone(),
            body: req.body.clone(),
        };
        let answered = |res, accepted, changed| Answered {
            res,
            accepted,
            found: Some(i),
            changed,
        };
        match self.host.deliver(i, now, callback, verdict, request) {
            // Over, as far as any caller can tell (SPEC §3: 404 once the execution is over).
            Taken::Over => answered(
                ApiResponse::error(
                    404,
                    "NOT_FOUND",
                    "the execution is over: it FAILED with a wfsim internal error",
                ),
                None,
                None,
            ),
            Taken::Crashed => answered(
                ApiResponse::error(
                    500,
                    "INTERNAL",
                    "wfsim failed this execution with an internal error while taking the request (a bug); the request was not kept",
                ),
                None,
                None,
            ),
            Taken::Answered {
                verdict: Ok(accepted),
                changed,
            } => answered(ApiResponse::json(200, &json!({})), Some(accepted), changed),
            Taken::Answered {
                verdict: Err(rejection),
                changed,
            } => {
                let mut res = ApiResponse::error(
                    rejection.http_status(),
                    rejection.google_status(),
                    rejection.to_string(),
                );
                if let Rejection::MethodNotAllowed { allow, .. } = rejection {
                    res.headers.push(("Allow".into(), allow.as_str().into()));
                }
                answered(res, None, changed)
            }
        }
    }

    /// `GET /v1/wfsim/clock`: the mode, the time, and the next deadline.
    fn clock_json(&self, now: SimTime) -> ApiResponse {
        let mut out = serde_json::Map::new();
        out.insert("mode".into(), json!(self.config.clock.as_str()));
        out.insert("now".into(), json!(self.host.wall(now)));
        out.insert("elapsedSeconds".into(), json!(now.as_secs_f64()));
        if let Some(next) = self.host.next_deadline() {
            out.insert("nextDeadline".into(), json!(self.host.wall(next)));
        }
        ApiResponse::json(200, &Json::Object(out))
    }

    /// `POST /v1/wfsim/clock:advance {"seconds": N}`: moves a manual or auto clock N
    /// seconds on, firing every timer due by then at its own instant.
    fn advance_clock(&mut self, now: SimTime, body: &[u8]) -> Result<ApiResponse, ApiResponse> {
        if self.config.clock == ClockMode::Real {
            return Err(ApiResponse::error(
                400,
                "FAILED_PRECONDITION",
                "this server runs on the real clock; start it with --clock manual (or auto) to move time by hand",
            ));
        }
        let bad = || {
            ApiResponse::error(
                400,
                "INVALID_ARGUMENT",
                "the body must be JSON like {\"seconds\": 3600}: a number of seconds, 0 or more",
            )
        };
        let seconds = optional_field(body, "seconds", r#"{"seconds": 3600}"#)?
            .and_then(|v| v.as_f64())
            .ok_or_else(bad)?;
        let by = wfsim_engine::time::duration_from_secs(seconds).map_err(|_| bad())?;
        // `"closeInstant": false` leaves the instant reached open: its timers wait for the
        // next advance, so requests sent meanwhile come before them, as at one simulated
        // instant (SPEC: requests before timers). What `wfsim conformance` drives time with.
        let close = match optional_field(body, "closeInstant", r#"{"closeInstant": false}"#)? {
            None => true,
            Some(Json::Bool(b)) => b,
            Some(_) => {
                return Err(ApiResponse::error(
                    400,
                    "INVALID_ARGUMENT",
                    "'closeInstant' must be true or false",
                ));
            }
        };
        let to = now.saturating_add(by);
        if close {
            self.move_clock(to);
        } else {
            self.clock_now = self.clock_now.max(to);
            self.host.advance(self.clock_now);
        }
        Ok(self.clock_json(self.clock_now))
    }

    fn generate_token(
        &mut self,
        now: SimTime,
        account: &str,
        body: &[u8],
    ) -> Result<ApiResponse, ApiResponse> {
        let lifetime = match optional_field(body, "lifetime", r#"{"lifetime": "3600s"}"#)? {
            None => 3600.0,
            Some(Json::String(s)) => auth::parse_lifetime(&s)
                .map_err(|m| ApiResponse::error(400, "INVALID_ARGUMENT", m))?,
            Some(_) => {
                return Err(ApiResponse::error(
                    400,
                    "INVALID_ARGUMENT",
                    "'lifetime' is a string like \"3600s\"",
                ));
            }
        };
        let expires = now.saturating_add(std::time::Duration::from_secs_f64(lifetime));
        let perms = self.tokens.granted_to(account);
        let token = self.tokens.mint(account, perms, Some(expires));
        Ok(ApiResponse::json(
            200,
            &json!({"accessToken": token, "expireTime": self.host.wall(expires)}),
        ))
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

    /// Panics caught so far (each a wfsim bug): in executions, which failed, and in routes.
    pub fn internal_errors(&self) -> u64 {
        self.host.internal_errors()
    }

    /// The number of executions held (evicted ones are not), for the memory benchmark.
    pub fn execution_count(&self) -> usize {
        self.host.execution_count()
    }

    /// `--keep-ended N` (at least 1; default [`KEEP_ENDED_DEFAULT`]) from server time `now`
    /// on: once more than N executions have ended, the oldest-ended is evicted, so a
    /// long-running server's memory stays bounded. Evictions follow from the inputs and N,
    /// so only a change of N is kept in the input log (an input like a deploy): a replay
    /// evicts what the original evicted, whatever N the restart is given.
    pub fn set_keep_ended(&mut self, now: SimTime, n: usize) {
        let n = n.max(1);
        if n == self.host.keep_ended() {
            return;
        }
        self.record_internal(now, "keep-ended", format!("n={n}"), Vec::new());
        self.host.set_keep_ended(now, n);
    }

    /// The `--keep-ended` in force.
    pub fn keep_ended(&self) -> usize {
        self.host.keep_ended()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wfsim_engine::defn;

    fn post(path: &str) -> ApiRequest {
        ApiRequest {
            method: "POST".into(),
            path: path.into(),
            query: String::new(),
            headers: Vec::new(),
            body: b"{}".to_vec(),
        }
    }

    /// However the engine fails (here: a panic injected into one execution's run), that
    /// execution alone ends FAILED with InternalError; its callbacks get 404, and the other
    /// execution's timer still fires at its own instant.
    #[test]
    fn a_panic_fails_its_execution_alone() {
        let mut state = State::new(config(), 0);
        let wait = "- create:\n    call: events.create_callback_endpoint\n    result: cb\n- wait:\n    call: events.await_callback\n    args:\n      callback: ${cb}\n      timeout: 60\n";
        let sleep =
            "- s:\n    call: sys.sleep\n    args:\n      seconds: 2\n- done:\n    return: slept\n";
        state.deploy("w", defn::load("w.yaml", wait).unwrap());
        state.deploy("s", defn::load("s.yaml", sleep).unwrap());
        let t = SimTime::from_secs;
        let a = state.start_execution(t(0), "w", None).unwrap();
        let b = state.start_execution(t(0), "s", None).unwrap();
        let ia = state.find("w", &a).unwrap();
        let url = state
            .host
            .exec(ia)
            .execution
            .with_callbacks(|c| c.endpoints()[0].url().to_owned());
        let path = url.strip_prefix("http://h").unwrap().to_owned();

        assert_eq!(state.internal_errors(), 0, "no internal error yet");
        assert_eq!(
            state.host.guarded(ia, t(1), |_| panic!("injected")),
            None::<()>
        );
        assert_eq!(state.internal_errors(), 1);
        assert_eq!(state.execution_state("w", &a), Some(ExecutionState::Failed));
        assert_eq!(state.execution_ended_at("w", &a), Some(t(1)));
        let shown = wire::execution(
            &state.config,
            &state.host,
            state.host.exec(ia),
            View::Full,
            wire::Enums::Names,
        );
        assert_eq!(shown["state"], "FAILED");
        let payload = shown["error"]["payload"].as_str().unwrap();
        assert!(payload.contains("InternalError") && payload.contains("injected"));
        assert!(
            state
                .take_log_lines()
                .iter()
                .any(|l| l.contains("internal error"))
        );

        let res = state.handle(t(1), &post(&path));
        assert_eq!(res.status, 404, "{}", String::from_utf8_lossy(&res.body));
        assert_eq!(
            state.next_deadline(),
            Some(t(2)),
            "only the sleeper's timer is left"
        );
        state.advance(t(2).saturating_add(std::time::Duration::from_nanos(1)));
        assert_eq!(
            state.execution_state("s", &b),
            Some(ExecutionState::Succeeded)
        );
        assert_eq!(state.execution_ended_at("s", &b), Some(t(2)));
    }

    /// A route that panics is answered 500 with the panic's message, counted and logged;
    /// the server answers the next request as before.
    #[test]
    fn a_panic_in_a_route_is_answered_500_counted_and_logged() {
        let mut state = State::new(config(), 0);
        let req = get("/v1/projects/p/locations/l/workflows");
        let res = state.guarded(SimTime::ZERO, &req, |_| panic!("injected"));
        assert_eq!(res.status, 500);
        let body = String::from_utf8_lossy(&res.body);
        assert!(
            body.contains("INTERNAL") && body.contains("injected"),
            "{body}"
        );
        assert_eq!(state.internal_errors(), 1);
        let logged = state.take_log_lines();
        assert_eq!(logged.len(), 1, "{logged:?}");
        assert!(
            logged[0].contains("internal error answering GET /v1/projects/p/locations/l/workflows")
                && logged[0].contains("injected"),
            "{logged:?}"
        );
        assert_eq!(state.handle(SimTime::ZERO, &req).status, 200);
        assert_eq!(state.internal_errors(), 1);
    }

    fn get(path: &str) -> ApiRequest {
        ApiRequest {
            method: "GET".into(),
            ..post(path)
        }
    }

    /// `--keep-ended`: an evicted execution's memory is freed once the request that
    /// evicted it is answered, not only hidden.
    #[test]
    fn an_evicted_execution_is_freed() {
        let mut state = State::new(config(), 0);
        state.deploy(
            "q",
            defn::load("q.yaml", "- done:\n    return: 1\n").unwrap(),
        );
        state.set_keep_ended(SimTime::ZERO, 1);
        let path = "/v1/projects/p/locations/l/workflows/q/executions";
        for _ in 0..3 {
            let res = state.handle(SimTime::ZERO, &post(path));
            assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
        }
        assert_eq!((state.execution_count(), state.host.held()), (1, 1));
    }

    /// Project `p`, location `l`, callbacks at `http://h`, no auth.
    fn config() -> Config {
        Config {
            auth: false,
            ..Config::new("p", "l", "http://h")
        }
    }

    /// Workflow `w` returns `sys.now()`.
    fn state() -> State {
        let mut state = State::new(config(), 1_704_067_200_000_000_000);
        let now = "- n:\n    return: ${sys.now()}\n";
        state.deploy("w", defn::load("w.yaml", now).unwrap());
        state
    }

    /// An execution's wall clock starts where the server's stood when it started.
    #[test]
    fn an_execution_started_later_reads_a_later_clock() {
        let mut state = state();
        let id = state
            .start_execution(SimTime::from_secs(5), "w", None)
            .unwrap();
        let i = state.find("w", &id).unwrap();
        let shown = wire::execution(
            &state.config,
            &state.host,
            state.host.exec(i),
            View::Full,
            wire::Enums::Names,
        );
        assert_eq!(shown["result"], "1704067205.0");
        assert_eq!(state.execution_count(), 1);
    }

    /// Each segment of an execution path is checked: a wrong one is 404 with the reason.
    #[test]
    fn paths_with_a_wrong_segment_are_not_found() {
        let mut state = state();
        let t = SimTime::from_secs(1);
        let ok = state.handle(t, &get("/v1/projects/p/locations/l/workflows/w/executions"));
        assert_eq!(ok.status, 200);
        for bad in [
            "/v1/projects/p/regions/l/workflows/w/executions",
            "/v1/projects/p/locations/l/flows/w/executions",
            "/v1/projects/p/locations/l/workflows/w/runs",
            "/v1/projects/p/locations/l/workflows/w/executions/x/y",
            "/v1/projects/p/locations/l/queues/w",
        ] {
            let res = state.handle(t, &get(bad));
            assert_eq!(res.status, 404, "{bad}");
            let body = String::from_utf8_lossy(&res.body).into_owned();
            assert!(body.contains("no such API path"), "{bad}: {body}");
        }
        for elsewhere in [
            "/v1/projects/q/locations/l/workflows/w/executions",
            "/v1/projects/p/locations/m/workflows/w/executions",
        ] {
            let res = state.handle(t, &get(elsewhere));
            assert_eq!(res.status, 404, "{elsewhere}");
            let body = String::from_utf8_lossy(&res.body).into_owned();
            assert!(
                body.contains("this server serves project 'p' in location 'l'"),
                "{elsewhere}: {body}"
            );
        }
    }
}
