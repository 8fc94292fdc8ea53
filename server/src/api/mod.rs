//! The Workflows Executions API v1 and the callback endpoints, over the executions `host/`
//! holds; `wire.rs` renders them. No I/O here: [`State::handle`] takes a request and a time
//! and returns a response, so every route is tested without a socket; `http.rs` is the
//! hyper glue. This file holds [`State`] and what reads or sets it whole; each job has a
//! module of its own: `routes.rs` (parsing, permissions, dispatch), `executions.rs`,
//! `callbacks.rs`, `workflows.rs` (the Workflows API), `filter.rs` (the listings' query
//! grammar; `list.rs` and `entries.rs` their fields), `tokens.rs`, `clock.rs` (server
//! time) and `replay.rs` (the input log).

use std::collections::BTreeMap;

use serde_json::Value as Json;
use wfsim_engine::defn::Workflow;
use wfsim_engine::{IdGen, SimTime};
use wfsim_harness::services::Service;

use crate::auth::{self, Tokens};
pub use crate::config::{ClockMode, Config};
pub use crate::host::KEEP_ENDED_DEFAULT;
use crate::host::{ApiEvent, Host, Level, Observed, OutboundCall, Output};
pub use crate::message::{ApiRequest, ApiResponse};
use crate::parent::Parent;

mod body;
mod callbacks;
mod checkpoint;
mod clock;
mod entries;
mod events;
mod executions;
mod filter;
mod list;
mod query;
mod replay;
mod routes;
mod tokens;
pub mod view;
mod workflows;

pub use events::EVENTS;
pub use workflows::{WORKFLOW_ID_RULE, is_workflow_id};

pub(crate) use routes::ROUTES;

/// Everything live mode holds: the executions' host, tokens, and the input log.
pub struct State {
    config: Config,
    host: Host,
    tokens: Tokens,
    /// Whether inputs are kept for the input log ([`State::record_inputs`]).
    record_inputs: bool,
    /// Server time under a manual or auto clock (unused on the real one).
    clock_now: SimTime,
    /// The Workflows API's operations by name, all done.
    operations: BTreeMap<String, Json>,
    op_ids: IdGen,
    /// The inputs a checkpoint keeps (`checkpoint.rs`), once asked for.
    kept: Option<checkpoint::Kept>,
    /// Events taken by `POST /v1/wfsim/events`, by (source, id): the workflow and the
    /// execution each started, so a redelivered event starts nothing again.
    events: BTreeMap<(String, String), (String, String)>,
    /// The text of the services file in use (`--services`), once one is.
    services_text: Option<String>,
    /// Files of the folder that failed their deploy checks, by workflow name: each error
    /// at `file:line:column`, until a save deploys the file (shown by the UI).
    deploy_errors: BTreeMap<String, Vec<String>>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("workflows", &self.host.all_workflow_names())
            .field("executions", &self.host.execution_count())
            .finish()
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
            op_ids: IdGen::with_stream(config.seed, IdGen::STREAM_OPERATIONS),
            tokens: Tokens::new(config.auth, config.seed, config.grants.clone()),
            host: Host::new(config.clone(), wall_start_unix_nanos),
            config,
            record_inputs: false,
            clock_now: SimTime::ZERO,
            operations: BTreeMap::new(),
            kept: None,
            events: BTreeMap::new(),
            services_text: None,
            deploy_errors: BTreeMap::new(),
        }
    }

    /// Deploys an already built `workflow` as `name` in the default parent at server time
    /// 0 (tests, simulations; see [`State::deploy_source`] for text).
    pub fn deploy(&mut self, name: &str, workflow: Workflow) {
        self.host.deploy(
            SimTime::ZERO,
            &Parent::default_of(&self.config),
            name,
            std::rc::Rc::new(workflow),
            None,
            Default::default(),
        );
    }

    /// The workflows deployed in the default parent, by name.
    pub fn workflow_names(&self) -> Vec<String> {
        self.host.workflow_names(&Parent::default_of(&self.config))
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

    /// Nobody will read the journal ([`State::take_journal`] stays empty): live mode
    /// without a watcher does not build an entry per callback request.
    pub fn journal_unread(&mut self) {
        self.host.journal_unread();
    }

    /// Nobody will hear API events ([`Output::Event`] never comes): a simulated world, or
    /// a server without `on_event`, does not format one per request.
    pub fn events_unheard(&mut self) {
        self.host.events_unheard();
    }

    /// `--log-level`: API events below `level` are not built (default: info).
    pub fn set_log_level(&mut self, level: Level) {
        self.host.set_event_level(level);
    }

    /// Journal every execution's engine events from now on, not only callback requests.
    pub fn observe_executions(&mut self) {
        self.host.observe_executions();
    }

    /// `--services`: scripted services (HT-7) answer the outbound calls of executions
    /// started from now on before the network does (HT-9).
    pub fn use_services(&mut self, services: Vec<Service>) {
        self.host.use_services(services);
    }

    /// [`State::use_services`] at start, read from `text` (`--services FILE`): what
    /// [`State::reload_services`] compares a saved file with.
    pub fn use_services_read_from(&mut self, services: Vec<Service>, text: String) {
        self.host.use_services(services);
        self.services_text = Some(text);
    }

    /// A services file saved again (`wfsim serve --services FILE` watches it): its
    /// services answer the executions started from now on, those running keep theirs (as a
    /// new revision leaves running executions theirs). Kept in the input log, so a restart
    /// replays it. `Ok(false)` when `text` is what is in use; a file that does not read is
    /// refused with its `file:line:column`, and the services in use stay.
    pub fn reload_services(
        &mut self,
        now: SimTime,
        file: &str,
        text: &str,
    ) -> Result<bool, String> {
        if self.services_text.as_deref() == Some(text) {
            return Ok(false);
        }
        let services = wfsim_harness::services::read_file(file, text)?;
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("file", file)
            .finish();
        self.record_internal(now, "services", query, text.as_bytes().to_vec());
        self.host.use_services(services);
        self.services_text = Some(text.to_owned());
        Ok(true)
    }

    /// Panics caught so far (each a wfsim bug): in executions, which failed, and in routes.
    pub fn internal_errors(&self) -> u64 {
        self.host.internal_errors()
    }

    /// The number of executions held (evicted ones are not), for the memory benchmark.
    pub fn execution_count(&self) -> usize {
        self.host.execution_count()
    }

    /// Scheme and authority of the main port, which callback URLs start with.
    pub fn base_url(&self) -> &str {
        &self.config.base_url
    }

    /// The `--keep-ended` in force.
    pub fn keep_ended(&self) -> usize {
        self.host.keep_ended()
    }
}

/// What the state hands to the world: one queue ([`Output`]), drained whole by the I/O
/// layer; tests and harnesses that drive the state themselves take one kind at a time.
impl State {
    /// Everything since the last call, in the order it happened: what the I/O layer hands
    /// to its hooks (`Shared::flush`).
    pub fn take_outputs(&mut self) -> Vec<Output> {
        self.host.take_outputs()
    }

    /// The journal since the last call, in the order things happened on the server.
    pub fn take_journal(&mut self) -> Vec<Observed> {
        let taken = self.host.take_only(|o| matches!(o, Output::Journal(_)));
        taken
            .into_iter()
            .filter_map(|o| match o {
                Output::Journal(j) => Some(j),
                _ => None,
            })
            .collect()
    }

    /// Outbound calls no scripted service answers, made since the last look: the I/O
    /// layer sends them and hands each answer to [`State::answer_outbound`].
    pub fn take_outbound(&mut self) -> Vec<OutboundCall> {
        let taken = self.host.take_only(|o| matches!(o, Output::Outbound(_)));
        taken
            .into_iter()
            .filter_map(|o| match o {
                Output::Outbound(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    /// API events since the last call (executions started and ended, callbacks answered),
    /// for the operator's log.
    pub fn take_events(&mut self) -> Vec<ApiEvent> {
        let taken = self.host.take_only(|o| matches!(o, Output::Event(_)));
        taken
            .into_iter()
            .filter_map(|o| match o {
                Output::Event(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    /// Log lines written since the last call, one per `sys.log`, for stdout.
    pub fn take_log_lines(&mut self) -> Vec<String> {
        let taken = self.host.take_only(|o| matches!(o, Output::Line(_)));
        taken
            .into_iter()
            .filter_map(|o| match o {
                Output::Line(l) => Some(l),
                _ => None,
            })
            .collect()
    }

    /// The inputs recorded since the last call (see [`State::record_inputs`]).
    pub fn take_inputs(&mut self) -> Vec<(SimTime, ApiRequest)> {
        let taken = self.host.take_only(|o| matches!(o, Output::Input(_, _)));
        taken
            .into_iter()
            .filter_map(|o| match o {
                Output::Input(at, req) => Some((at, req)),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{self, View};
    use wfsim_engine::ExecutionState;
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
        let ia = state.host.find("w", &a).unwrap();
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
        let res = state.guarded(SimTime::ZERO, &mut req.clone(), |_, _| panic!("injected"));
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

    /// A callback's headers, query and body reach the workflow moved, not copied, from
    /// the request `handle_owned` takes: as they came, the token's header left out, and the
    /// journal still names the request's `X-Request-Id`.
    #[test]
    fn a_callback_request_reaches_the_workflow_as_it_came_but_its_token() {
        let mut state = State::new(config(), 0);
        let wait = "- create:\n    call: events.create_callback_endpoint\n    result: cb\n- wait:\n    call: events.await_callback\n    args:\n      callback: ${cb}\n      timeout: 60\n    result: r\n- done:\n    return: ${r.http_request}\n";
        state.deploy("w", defn::load("w.yaml", wait).unwrap());
        let id = state.start_execution(SimTime::ZERO, "w", None).unwrap();
        let i = state.host.find("w", &id).unwrap();
        let url = state
            .host
            .exec(i)
            .execution
            .with_callbacks(|c| c.endpoints()[0].url().to_owned());
        let path = url.strip_prefix("http://h").unwrap().to_owned();
        drop(state.take_journal());
        let req = ApiRequest {
            method: "POST".into(),
            path,
            query: "a=1&a=2".into(),
            headers: vec![
                ("X-Request-Id".into(), "r-1".into()),
                ("Authorization".into(), "Bearer t".into()),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: br#"{"n": 1}"#.to_vec(),
        };
        let res = state.handle_owned(SimTime::from_secs(1), req);
        assert_eq!((res.status, &res.body[..]), (200, &b"{}"[..]));
        let shown = wire::execution(
            &state.host,
            state.host.exec(i),
            View::Full,
            wire::Enums::Names,
        );
        let got: serde_json::Value =
            serde_json::from_str(shown["result"].as_str().unwrap()).unwrap();
        assert_eq!(got["method"], "POST");
        assert_eq!(got["query"], serde_json::json!({"a": ["1", "2"]}));
        assert_eq!(got["body"], serde_json::json!({"n": 1}));
        assert_eq!(
            got["headers"],
            serde_json::json!({"Content-Type": "application/json", "X-Request-Id": "r-1"})
        );
        let journal = state.take_journal();
        let delivered = journal.iter().find_map(|o| match o {
            Observed::Callback(d) => Some(d),
            _ => None,
        });
        let delivered = delivered.expect("the callback is journaled");
        assert_eq!(delivered.request_id.as_deref(), Some("r-1"));
        assert_eq!(delivered.method, "POST");
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
        let i = state.host.find("w", &id).unwrap();
        let shown = wire::execution(
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
        // Any project and location is served; `w` lives only where it was deployed, and
        // elsewhere is GCP's 404, with where it is.
        for (elsewhere, parent) in [
            (
                "/v1/projects/q/locations/l/workflows/w/executions",
                "projects/q/locations/l",
            ),
            (
                "/v1/projects/p/locations/m/workflows/w/executions",
                "projects/p/locations/m",
            ),
        ] {
            let res = state.handle(t, &get(elsewhere));
            assert_eq!(res.status, 404, "{elsewhere}");
            let body: serde_json::Value = serde_json::from_slice(&res.body).unwrap();
            assert_eq!(body["error"]["status"], "NOT_FOUND");
            let message = body["error"]["message"].as_str().unwrap();
            assert_eq!(
                message,
                format!(
                    "Resource '{parent}/workflows/w' was not found (deployed in {parent}: none); \
                     'w' is deployed in projects/p/locations/l"
                )
            );
        }
    }
}
