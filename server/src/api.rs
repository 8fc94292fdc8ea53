//! The Workflows Executions API v1, and the callback endpoints, over an in-memory set of
//! executions. No I/O here: [`State::handle`] takes a request and a time and returns a
//! response, so every route is tested without a socket; `http.rs` is the hyper glue.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::rc::Rc;

use serde_json::{Value as Json, json};
use wfsim_engine::callbacks::{Accepted, Auth, ExecutionName, Rejection};
use wfsim_engine::defn::Workflow;
use wfsim_engine::interp::{
    Config as ExecConfig, EXECUTION_SECS_MAX, Execution, Outcome, STEPS_MAX, Trace,
};
use wfsim_engine::scenario::show;
use wfsim_engine::stdlib::LogPayload;
use wfsim_engine::time::format_rfc3339;
use wfsim_engine::{CallbackRequest, ExecutionState, IdGen, SimTime, Value, WallClock, error};

use crate::auth::{self, Denied, Tokens};

/// What live mode is started with.
#[derive(Clone, Debug)]
pub struct Config {
    pub project: String,
    pub location: String,
    /// Scheme and authority that callback URLs start with, e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    pub seed: u64,
    /// `false` is `--no-auth`.
    pub auth: bool,
    /// `--grant SA=PERM,…`.
    pub grants: BTreeMap<String, BTreeSet<String>>,
}

/// An HTTP request, as the glue read it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    /// At most 512 KiB and one byte: enough to tell a body over the limit.
    pub body: Vec<u8>,
}

impl ApiRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ApiResponse {
    fn json(status: u16, body: &Json) -> ApiResponse {
        ApiResponse {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: serde_json::to_vec_pretty(body).unwrap_or_default(),
        }
    }

    /// The Google API error shape of CB-13: `{"error": {"code", "status", "message"}}`.
    pub fn error(code: u16, status: &str, message: impl Into<String>) -> ApiResponse {
        ApiResponse::json(
            code,
            &json!({"error": {"code": code, "status": status, "message": message.into()}}),
        )
    }

    fn denied(d: Denied) -> ApiResponse {
        match d {
            Denied::Unauthenticated(m) => ApiResponse::error(401, "UNAUTHENTICATED", m),
            Denied::PermissionDenied(m) => ApiResponse::error(403, "PERMISSION_DENIED", m),
        }
    }
}

/// One request to a callback endpoint and its answer, as the journal records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Server time of arrival.
    pub at: SimTime,
    pub workflow: String,
    pub execution: String,
    pub callback: String,
    /// The request's `X-Request-Id` header, if it had one.
    pub request_id: Option<String>,
    pub status: u16,
    /// A 200 stored in the slot rather than handed to a waiting await (SPEC §3 step 6).
    pub buffered: bool,
    /// Whether the request changed the execution's endpoints (slot, waiters, tallies): a
    /// refusal must not (CB-9). `None` unless [`State::observe_executions`], or when the
    /// execution does not exist.
    pub changed: Option<bool>,
}

/// What [`State::callback`] did.
struct Answered {
    res: ApiResponse,
    accepted: Option<Accepted>,
    /// The execution, if it exists.
    found: Option<usize>,
    changed: Option<bool>,
}

/// The server's journal: what happened, in the order it happened on the server. A
/// simulation checks the contract against it: requests in the order they arrived,
/// interleaved with what each execution did about them.
#[derive(Clone, Debug, PartialEq)]
pub enum Observed {
    /// A request reached a callback endpoint and was answered. Always journaled.
    Callback(Delivery),
    /// An execution's engine trace event, with `at` on the server's clock (times inside
    /// `event`, like `received_at`, are on the execution's own clock). Journaled only after
    /// [`State::observe_executions`].
    Engine {
        at: SimTime,
        workflow: String,
        execution: String,
        event: Trace,
    },
}

/// Whether running an execution closes the instant (fires the timers due at it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Close {
    /// Timers due at `now` fire: nothing else can arrive at this instant any more.
    Instant,
    /// Only threads already woken run: a later request of the same instant comes first.
    No,
}

/// The field `field` of an optional JSON body: `None` for an empty body or a missing field;
/// a 400 that shows `example` for a body that is not JSON.
fn optional_field(body: &[u8], field: &str, example: &str) -> Result<Option<Json>, ApiResponse> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let mut parsed: Json = serde_json::from_slice(body).map_err(|e| {
        ApiResponse::error(
            400,
            "INVALID_ARGUMENT",
            format!("the body must be JSON like {example}: {e}"),
        )
    })?;
    Ok(parsed
        .get_mut(field)
        .map(Json::take)
        .filter(|v| !v.is_null()))
}

/// One execution and where it sits on the server's clock.
struct Exec {
    workflow: String,
    id: String,
    execution: Execution,
    /// Server time of its start; its own clock counts from here.
    started_at: SimTime,
    argument: Option<String>,
    logs_printed: usize,
    /// Its entry in `State::deadlines`, if it has one.
    deadline: Option<SimTime>,
    /// How much of its engine trace is journaled.
    trace_journaled: usize,
    /// Set when the engine panicked while running it: the server time and the panic's
    /// message. The execution is FAILED with `InternalError` from then on, and the engine's
    /// state, which the panic may have left half-changed, is never touched again.
    crashed: Option<(SimTime, String)>,
}

impl Exec {
    fn local(&self, now: SimTime) -> SimTime {
        SimTime::from_nanos(now.as_nanos().saturating_sub(self.started_at.as_nanos()))
    }

    /// Its state, FAILED once the engine panicked in it.
    fn state(&self) -> ExecutionState {
        match self.crashed {
            Some(_) => ExecutionState::Failed,
            None => self.execution.state(),
        }
    }

    /// When it ended, in server time.
    fn ended_at(&self) -> Option<SimTime> {
        if let Some((at, _)) = &self.crashed {
            return Some(*at);
        }
        self.execution
            .ended_at()
            .map(|t| SimTime::from_nanos(self.started_at.as_nanos() + t.as_nanos()))
    }
}

/// Everything live mode holds: workflows, executions, tokens.
pub struct State {
    config: Config,
    wall_start_unix_nanos: i128,
    workflows: BTreeMap<String, Rc<Workflow>>,
    /// In the order they started.
    executions: Vec<Exec>,
    /// Executions by the server time their next timer is due, so a request or a tick looks
    /// only at what is due, however many executions wait.
    deadlines: BTreeSet<(SimTime, usize)>,
    /// Index of each execution by (workflow, id).
    by_id: BTreeMap<(String, String), usize>,
    ids: IdGen,
    tokens: Tokens,
    log_lines: Vec<String>,
    journal: Vec<Observed>,
    /// Journal engine events too (simulations do; live mode need not pay for it).
    observe_executions: bool,
    /// Every request handled, with its time: the durable input log a restart replays.
    inputs: Option<Vec<(SimTime, ApiRequest)>>,
    /// Panics caught: in an execution's engine (that execution failed) or in a route
    /// (that request answered 500). Each is a wfsim bug; the log says where.
    internal_errors: u64,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("workflows", &self.workflows.keys().collect::<Vec<_>>())
            .field("executions", &self.executions.len())
            .finish()
    }
}

/// A route of the API, parsed from a path.
#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
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
}

impl State {
    /// `wall_start_unix_nanos` is the real-world time at server time zero.
    pub fn new(config: Config, wall_start_unix_nanos: i128) -> State {
        let tokens = Tokens::new(config.auth, config.seed, config.grants.clone());
        State {
            ids: IdGen::with_stream(config.seed, 0xE7EC),
            config,
            wall_start_unix_nanos,
            workflows: BTreeMap::new(),
            executions: Vec::new(),
            deadlines: BTreeSet::new(),
            by_id: BTreeMap::new(),
            tokens,
            log_lines: Vec::new(),
            journal: Vec::new(),
            observe_executions: false,
            inputs: None,
            internal_errors: 0,
        }
    }

    pub fn deploy(&mut self, name: &str, workflow: Workflow) {
        self.workflows.insert(name.to_owned(), Rc::new(workflow));
    }

    pub fn workflow_names(&self) -> Vec<String> {
        self.workflows.keys().cloned().collect()
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
        std::mem::take(&mut self.journal)
    }

    /// Journal every execution's engine events from now on, not only callback requests.
    pub fn observe_executions(&mut self) {
        self.observe_executions = true;
        for e in &mut self.executions {
            e.trace_journaled = e.execution.trace_len();
        }
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
            self.handle(*at, req);
        }
        self.advance(now);
    }

    /// Log lines written since the last call, one per `sys.log`, for stdout.
    pub fn take_log_lines(&mut self) -> Vec<String> {
        std::mem::take(&mut self.log_lines)
    }

    fn wall(&self, server_time: SimTime) -> String {
        format_rfc3339(self.wall_start_unix_nanos + i128::from(server_time.as_nanos()))
    }

    fn path_prefix(&self, workflow: &str) -> String {
        format!(
            "projects/{}/locations/{}/workflows/{workflow}",
            self.config.project, self.config.location
        )
    }

    /// Starts an execution of `workflow` at server time `now`.
    pub fn start_execution(
        &mut self,
        now: SimTime,
        workflow: &str,
        argument: Option<String>,
    ) -> Result<String, ApiResponse> {
        let wf = self
            .workflows
            .get(workflow)
            .cloned()
            .ok_or_else(|| self.not_deployed(workflow))?;
        let value = match &argument {
            None => None,
            Some(text) => {
                let json: Json = serde_json::from_str(text).map_err(|e| {
                    ApiResponse::error(
                        400,
                        "INVALID_ARGUMENT",
                        format!("'argument' must be a JSON document in a string: {e}"),
                    )
                })?;
                Some(Value::from_json(&json))
            }
        };
        let id = self.ids.uuid();
        let execution = Execution::start(
            wf,
            ExecConfig {
                name: ExecutionName {
                    base_url: self.config.base_url.clone(),
                    project: self.config.project.clone(),
                    location: self.config.location.clone(),
                    workflow: workflow.to_owned(),
                    execution_id: id.clone(),
                },
                seed: self.config.seed ^ self.executions.len() as u64,
                clock: WallClock::from_unix_nanos(
                    self.wall_start_unix_nanos + i128::from(now.as_nanos()),
                ),
                argument: value,
                steps_max: STEPS_MAX,
            },
        );
        self.executions.push(Exec {
            workflow: workflow.to_owned(),
            id: id.clone(),
            execution,
            started_at: now,
            argument,
            logs_printed: 0,
            deadline: None,
            trace_journaled: 0,
            crashed: None,
        });
        let i = self.executions.len() - 1;
        self.by_id.insert((workflow.to_owned(), id.clone()), i);
        self.run(i, now, Close::No);
        Ok(id)
    }

    /// Closes every instant before server time `now`: each execution's timers fire at their
    /// own instants, earliest first, however late the call. Timers due at `now` itself wait
    /// for the requests of `now` (SPEC: at one instant, requests before timers); the timer
    /// task closes instant `t` at `t` + 1 ns.
    pub fn advance(&mut self, now: SimTime) {
        while let Some(&(at, i)) = self.deadlines.first() {
            if at >= now {
                break;
            }
            self.run(i, at, Close::Instant);
        }
    }

    /// Runs execution `i` at server time `now` (with `close`, its timeouts, sleeps and
    /// back-offs due by then; always the threads requests woke), prints its new logs,
    /// journals its new events, and files its next deadline.
    fn run(&mut self, i: usize, now: SimTime, close: Close) {
        let local = self.executions[i].local(now);
        let ran = self.guarded(i, now, |ex| match close {
            Close::Instant => ex.settle(local).is_err(),
            Close::No => {
                ex.run_woken(local);
                false
            }
        });
        let Some(livelocked) = ran else {
            return;
        };
        self.print_new_logs(i);
        self.journal_engine_events(i);
        let e = &mut self.executions[i];
        if let Some(old) = e.deadline.take() {
            self.deadlines.remove(&(old, i));
        }
        // A livelocked execution stays due, but running it again now changes nothing (and
        // `advance` would spin): it is filed at its one-year limit (EX-5), which ends it,
        // unless a request runs it before.
        let due = if livelocked {
            Some(SimTime::from_secs(EXECUTION_SECS_MAX)).filter(|&limit| limit > local)
        } else {
            e.execution.poll_timeout()
        };
        e.deadline = due.map(|t| {
            e.started_at
                .saturating_add(std::time::Duration::from_nanos(t.as_nanos()))
        });
        if let Some(d) = e.deadline {
            self.deadlines.insert((d, i));
        }
    }

    /// Runs `f` on execution `i`'s engine. A panic there is a wfsim bug, and it fails that
    /// execution alone: it becomes FAILED with `InternalError`, leaves the deadline index,
    /// is logged and counted, and the server, its timer task and every other execution
    /// carry on. `None` when it panicked now or before.
    fn guarded<R>(
        &mut self,
        i: usize,
        now: SimTime,
        f: impl FnOnce(&mut Execution) -> R,
    ) -> Option<R> {
        if self.executions[i].crashed.is_some() {
            return None;
        }
        let ex = &mut self.executions[i].execution;
        let payload = match std::panic::catch_unwind(AssertUnwindSafe(|| f(ex))) {
            Ok(r) => return Some(r),
            Err(payload) => payload,
        };
        let message = panic_message(payload.as_ref());
        self.internal_errors += 1;
        if let Some(d) = self.executions[i].deadline.take() {
            self.deadlines.remove(&(d, i));
        }
        let e = &self.executions[i];
        let line = format!(
            "{} ERROR    {}/{} wfsim internal error, the execution FAILED: {message} \
             ({} internal errors so far; please report it)",
            self.wall(now),
            e.workflow,
            e.id,
            self.internal_errors
        );
        self.log_lines.push(line);
        self.executions[i].crashed = Some((now, message));
        None
    }

    fn journal_engine_events(&mut self, i: usize) {
        if !self.observe_executions {
            return;
        }
        let e = &mut self.executions[i];
        let events = e.execution.trace_since(e.trace_journaled);
        e.trace_journaled += events.len();
        let started_at = e.started_at;
        self.journal
            .extend(events.into_iter().map(|(at, event)| Observed::Engine {
                at: started_at.saturating_add(std::time::Duration::from_nanos(at.as_nanos())),
                workflow: e.workflow.clone(),
                execution: e.id.clone(),
                event,
            }));
    }

    fn print_new_logs(&mut self, i: usize) {
        let e = &self.executions[i];
        let logs = e.execution.logs_since(e.logs_printed);
        if logs.is_empty() {
            return;
        }
        let mut lines = Vec::with_capacity(logs.len());
        for l in &logs {
            let text = match &l.payload {
                LogPayload::Text(t) => t.clone(),
                LogPayload::Data(d) => show(d),
            };
            let at = SimTime::from_nanos(e.started_at.as_nanos() + l.at.as_nanos());
            lines.push(format!(
                "{} {:<8} {}/{} {text}",
                self.wall(at),
                l.severity,
                e.workflow,
                e.id
            ));
        }
        self.log_lines.extend(lines);
        self.executions[i].logs_printed += logs.len();
    }

    /// The earliest server time at which [`State::advance`] has work.
    pub fn next_deadline(&self) -> Option<SimTime> {
        self.deadlines.first().map(|&(at, _)| at)
    }

    /// Answers one request at server time `now`.
    pub fn handle(&mut self, now: SimTime, req: &ApiRequest) -> ApiResponse {
        if let Some(inputs) = &mut self.inputs {
            inputs.push((now, req.clone()));
        }
        self.advance(now);
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.route(now, req))) {
            Ok(res) => res,
            Err(payload) => {
                let message = panic_message(payload.as_ref());
                self.internal_errors += 1;
                self.log_lines.push(format!(
                    "{} ERROR    wfsim internal error answering {} {}: {message}",
                    self.wall(now),
                    req.method,
                    req.path
                ));
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
            let permission = match route {
                Route::AccessToken { .. } => auth::GET_ACCESS_TOKEN,
                _ => auth::EXECUTIONS,
            };
            if let Err(d) = self.tokens.check(authz.as_deref(), permission, now) {
                return ApiResponse::denied(d);
            }
        }
        let method = req.method.as_str();
        match (route, method) {
            (Route::Executions { workflow }, "POST") => {
                self.create(now, workflow, &req.body).unwrap_or_else(|e| e)
            }
            (Route::Executions { workflow }, "GET") => self.list(workflow),
            (Route::Execution { workflow, id }, "GET") => self.get(workflow, id),
            (Route::Cancel { workflow, id }, "POST") => self.cancel(now, workflow, id),
            (Route::Callbacks { workflow, id }, "GET") => self.callbacks(workflow, id),
            (Route::Logs { workflow, id }, "GET") => self.logs(workflow, id),
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
                self.journal.push(Observed::Callback(Delivery {
                    at: now,
                    workflow: workflow.to_owned(),
                    execution: id.to_owned(),
                    callback: callback.to_owned(),
                    request_id: req.header("x-request-id").map(str::to_owned),
                    status: res.status,
                    buffered: accepted == Some(Accepted::Buffered),
                    changed,
                }));
                // The await it resumed runs now, before the answer goes out, journaled
                // after the request that woke it. **(decision)** So a later request of the
                // same clock tick finds the execution as this one left it (the engine's
                // scripted runner instead delivers every request of an instant first: the
                // eleventh request of CB-12). Timers of the tick still wait for its
                // requests.
                if let Some(i) = found {
                    self.run(i, now, Close::No);
                }
                res
            }
            (Route::AccessToken { account }, "POST") => self
                .generate_token(now, account, &req.body)
                .unwrap_or_else(|e| e),
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
        if let Some(rest) = path.strip_prefix("/v1/projects/-/serviceAccounts/") {
            let account = rest
                .strip_suffix(":generateAccessToken")
                .ok_or_else(not_found)?;
            return Ok(Route::AccessToken { account });
        }
        let rest = path.strip_prefix("/v1/projects/").ok_or_else(not_found)?;
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.len() < 6
            || parts[1] != "locations"
            || parts[3] != "workflows"
            || parts[5] != "executions"
        {
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
        let workflow = parts[4];
        match &parts[6..] {
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
        if !self.workflows.contains_key(workflow) {
            return Err(self.not_deployed(workflow));
        }
        self.by_id
            .get(&(workflow.to_owned(), id.to_owned()))
            .copied()
            .ok_or_else(|| {
                ApiResponse::error(
                    404,
                    "NOT_FOUND",
                    format!("workflow '{workflow}' has no execution '{id}'"),
                )
            })
    }

    fn execution_json(&self, e: &Exec) -> Json {
        let mut out = serde_json::Map::new();
        out.insert(
            "name".into(),
            json!(format!(
                "{}/executions/{}",
                self.path_prefix(&e.workflow),
                e.id
            )),
        );
        out.insert("state".into(), json!(e.state().as_str()));
        if let Some(a) = &e.argument {
            out.insert("argument".into(), json!(a));
        }
        if let Some((_, message)) = &e.crashed {
            let payload = json!({"message": message, "tags": ["InternalError"]});
            out.insert(
                "error".into(),
                json!({"payload": payload.to_string(), "context": format!("wfsim internal error: {message}")}),
            );
        } else {
            match e.execution.outcome() {
                Some(Outcome::Succeeded(v)) => {
                    let text = v
                        .to_json()
                        .map(|j| j.to_string())
                        .unwrap_or_else(|_| show(v));
                    out.insert("result".into(), json!(text));
                }
                Some(Outcome::Failed(err)) => {
                    let payload = err
                        .to_json()
                        .map(|j| j.to_string())
                        .unwrap_or_else(|_| show(err));
                    out.insert(
                    "error".into(),
                    json!({"payload": payload, "context": error::message(err).unwrap_or_default()}),
                );
                }
                _ => {}
            }
        }
        out.insert("startTime".into(), json!(self.wall(e.started_at)));
        if let Some(end) = e.ended_at() {
            out.insert("endTime".into(), json!(self.wall(end)));
        }
        Json::Object(out)
    }

    fn create(
        &mut self,
        now: SimTime,
        workflow: &str,
        body: &[u8],
    ) -> Result<ApiResponse, ApiResponse> {
        let argument = match optional_field(body, "argument", r#"{"argument": "{\"x\": 1}"}"#)? {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(s),
            Some(_) => {
                return Err(ApiResponse::error(
                    400,
                    "INVALID_ARGUMENT",
                    "'argument' must be a string holding JSON, e.g. \"{\\\"x\\\": 1}\"",
                ));
            }
        };
        let id = self.start_execution(now, workflow, argument)?;
        let i = self.find(workflow, &id)?;
        Ok(ApiResponse::json(
            200,
            &self.execution_json(&self.executions[i]),
        ))
    }

    fn list(&self, workflow: &str) -> ApiResponse {
        if !self.workflows.contains_key(workflow) {
            return self.not_deployed(workflow);
        }
        let list: Vec<Json> = self
            .executions
            .iter()
            .filter(|e| e.workflow == workflow)
            .map(|e| self.execution_json(e))
            .collect();
        ApiResponse::json(200, &json!({"executions": list}))
    }

    fn get(&self, workflow: &str, id: &str) -> ApiResponse {
        match self.find(workflow, id) {
            Ok(i) => ApiResponse::json(200, &self.execution_json(&self.executions[i])),
            Err(res) => res,
        }
    }

    fn cancel(&mut self, now: SimTime, workflow: &str, id: &str) -> ApiResponse {
        let i = match self.find(workflow, id) {
            Ok(i) => i,
            Err(res) => return res,
        };
        let local = self.executions[i].local(now);
        let cancelled = self.guarded(i, now, |ex| ex.cancel(local)).unwrap_or(false);
        self.run(i, now, Close::No);
        if !cancelled {
            let state = self.executions[i].state();
            return ApiResponse::error(
                400,
                "FAILED_PRECONDITION",
                format!("the execution is {state}; only an ACTIVE execution can be cancelled"),
            );
        }
        ApiResponse::json(200, &self.execution_json(&self.executions[i]))
    }

    fn callbacks(&self, workflow: &str, id: &str) -> ApiResponse {
        let i = match self.find(workflow, id) {
            Ok(i) => i,
            Err(res) => return res,
        };
        let e = &self.executions[i];
        let prefix = format!("{}/executions/{}", self.path_prefix(workflow), id);
        let mut list: Vec<(String, Json)> = e.execution.with_callbacks(|cbs| {
            cbs.endpoints()
                .iter()
                .map(|ep| {
                    (
                        ep.callback_id().to_owned(),
                        json!({
                            "name": format!("{prefix}/callbacks/{}", ep.callback_id()),
                            "method": ep.method().as_str(),
                            "waiters": ep.waiters().len().to_string(),
                            "availablePayloads": u8::from(ep.buffered().is_some()).to_string(),
                        }),
                    )
                })
                .collect()
        });
        list.sort_by(|a, b| a.0.cmp(&b.0));
        ApiResponse::json(
            200,
            &json!({"callbacks": list.into_iter().map(|(_, j)| j).collect::<Vec<_>>()}),
        )
    }

    fn logs(&self, workflow: &str, id: &str) -> ApiResponse {
        let i = match self.find(workflow, id) {
            Ok(i) => i,
            Err(res) => return res,
        };
        let e = &self.executions[i];
        let entries: Vec<Json> = e
            .execution
            .logs()
            .iter()
            .map(|l| {
                let time = self.wall(SimTime::from_nanos(
                    e.started_at.as_nanos() + l.at.as_nanos(),
                ));
                match &l.payload {
                    LogPayload::Text(t) => {
                        json!({"time": time, "severity": l.severity, "textPayload": t})
                    }
                    LogPayload::Data(d) => json!({
                        "time": time,
                        "severity": l.severity,
                        "jsonPayload": d.to_json().unwrap_or_else(|_| Json::String(show(d))),
                    }),
                }
            })
            .collect();
        ApiResponse::json(200, &json!({"entries": entries}))
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
        if self.executions[i].crashed.is_some() {
            // Over, as far as any caller can tell (SPEC §3: 404 once the execution is over).
            return Answered {
                res: ApiResponse::error(
                    404,
                    "NOT_FOUND",
                    "the execution is over: it FAILED with a wfsim internal error",
                ),
                accepted: None,
                found: Some(i),
                changed: None,
            };
        }
        let local = self.executions[i].local(now);
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
        let endpoints = |e: &Execution| e.with_callbacks(|c| c.endpoints().to_vec());
        let before = self
            .observe_executions
            .then(|| endpoints(&self.executions[i].execution));
        let Some(delivery) =
            self.guarded(i, now, |ex| ex.deliver(local, callback, verdict, request))
        else {
            return Answered {
                res: ApiResponse::error(
                    500,
                    "INTERNAL",
                    "wfsim failed this execution with an internal error while taking the request (a bug); the request was not kept",
                ),
                accepted: None,
                found: Some(i),
                changed: None,
            };
        };
        let changed = before.map(|b| b != endpoints(&self.executions[i].execution));
        let answered = |res, accepted| Answered {
            res,
            accepted,
            found: Some(i),
            changed,
        };
        match delivery {
            Ok(accepted) => answered(ApiResponse::json(200, &json!({})), Some(accepted)),
            Err(rejection) => {
                let mut res = ApiResponse::error(
                    rejection.http_status(),
                    rejection.google_status(),
                    rejection.to_string(),
                );
                if let Rejection::MethodNotAllowed { allow, .. } = rejection {
                    res.headers.push(("Allow".into(), allow.as_str().into()));
                }
                answered(res, None)
            }
        }
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
            &json!({"accessToken": token, "expireTime": self.wall(expires)}),
        ))
    }

    /// When the execution ended, on the server's clock.
    pub fn execution_ended_at(&self, workflow: &str, id: &str) -> Option<SimTime> {
        self.executions[self.find(workflow, id).ok()?].ended_at()
    }

    /// The execution's state, for `--execute` and tests.
    pub fn execution_state(&self, workflow: &str, id: &str) -> Option<ExecutionState> {
        self.find(workflow, id)
            .ok()
            .map(|i| self.executions[i].state())
    }

    /// Panics caught so far (each a wfsim bug): in executions, which failed, and in routes.
    pub fn internal_errors(&self) -> u64 {
        self.internal_errors
    }

    /// The number of executions held, for the memory benchmark.
    pub fn execution_count(&self) -> usize {
        self.executions.len()
    }
}

/// The text a panic was raised with.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
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
        let url = state.executions[ia]
            .execution
            .with_callbacks(|c| c.endpoints()[0].url().to_owned());
        let path = url.strip_prefix("http://h").unwrap().to_owned();

        assert_eq!(state.guarded(ia, t(1), |_| panic!("injected")), None::<()>);
        assert_eq!(state.internal_errors(), 1);
        assert_eq!(state.execution_state("w", &a), Some(ExecutionState::Failed));
        assert_eq!(state.execution_ended_at("w", &a), Some(t(1)));
        let shown = state.execution_json(&state.executions[ia]);
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

    fn get(path: &str) -> ApiRequest {
        ApiRequest {
            method: "GET".into(),
            ..post(path)
        }
    }

    /// Project `p`, location `l`, callbacks at `http://h`, no auth.
    fn config() -> Config {
        Config {
            project: "p".into(),
            location: "l".into(),
            base_url: "http://h".into(),
            seed: 0,
            auth: false,
            grants: BTreeMap::new(),
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
        let shown = state.execution_json(&state.executions[i]);
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
            "/v1/projects/p/locations/l/workflows/w",
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
