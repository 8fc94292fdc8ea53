//! The engine-level runner: drives one execution through a script of requests under
//! simulated time, like `quinn-proto`'s test `Pair`.
//!
//! At each instant: requests first, in script order, then the callbacks of scripted
//! services; then the answers of scripted services to outbound calls (HT-4, HT-7); then a
//! cancel; then timers (SPEC: requests before timers). The loop has a budget, so a
//! livelock fails instead of hanging.

use std::rc::Rc;

use crate::services::{Service, Stubs};
use wfsim_engine::callbacks::{Accepted, Auth, EndpointIdx, ExecutionName, http_status};
use wfsim_engine::defn::Workflow;
use wfsim_engine::http::{CallId, HttpCall, HttpOutcome};
use wfsim_engine::interp::{Execution, ExecutionConfig, Trace};
use wfsim_engine::request::CallbackRequest;
use wfsim_engine::time::{SimTime, WallClock};
use wfsim_engine::value::Value;

/// Iterations of the event loop one run may take.
pub const LOOP_BUDGET: u64 = 10_000_000;

/// A request sent from outside at a simulated time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScriptedRequest {
    pub at: SimTime,
    /// Endpoints are numbered in creation order.
    pub endpoint: u32,
    /// `None`: the endpoint's own method.
    pub method: Option<String>,
    pub headers: Vec<(String, String)>,
    pub query: String,
    pub body: Vec<u8>,
}

/// What happened to a scripted request.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestRecord {
    pub at: SimTime,
    /// The endpoint it was sent to; `None` for a service callback to a URL that is no
    /// endpoint of the execution (answered 404).
    pub endpoint: Option<u32>,
    /// The scripted service that sent it (HT-7), by index; `None` for a scripted request.
    pub service: Option<usize>,
    pub method: String,
    pub status: u16,
    /// Why it was refused, for anything but 200.
    pub message: Option<String>,
    /// When an await took it; `None` if none ever did.
    pub taken_at: Option<SimTime>,
    /// How many trace events came before it: where it sits in the timeline.
    pub trace_pos: usize,
}

/// How to run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub seed: u64,
    pub argument: Option<Value>,
    pub clock: WallClock,
    pub cancel_at: Option<SimTime>,
    /// User-defined environment variables (`sys.get_env`); names checked by
    /// [`wfsim_engine::stdlib::env_name_error`].
    pub env: std::collections::BTreeMap<String, String>,
    /// The execution's project and location (in its name, its callback URLs and
    /// `GOOGLE_CLOUD_PROJECT_ID`/`_LOCATION`); `None`: `wfsim`, `us-central1`.
    pub project: Option<String>,
    pub location: Option<String>,
}

impl Default for RunConfig {
    /// Seed 0, no argument, the default wall clock (2024-01-01T00:00:00Z at `t = 0`), no
    /// cancel, no user variables.
    fn default() -> RunConfig {
        RunConfig {
            seed: 0,
            argument: None,
            clock: WallClock::DEFAULT,
            cancel_at: None,
            env: Default::default(),
            project: None,
            location: None,
        }
    }
}

#[derive(Debug)]
pub struct Run {
    pub execution: Execution,
    pub requests: Vec<RequestRecord>,
    /// Set when the loop budget ran out: the run did not settle.
    pub budget_exhausted: bool,
    /// Outbound calls no scripted service matched (HT-7), answered `ConnectionFailedError`.
    pub unmatched: Vec<CallId>,
    /// Service callbacks that could not be sent (their URL expression failed), each said
    /// in a sentence; a scenario check reports them.
    pub service_errors: Vec<String>,
}

/// The execution name used by engine-level runs: ids come from the seed (CB-2).
pub fn execution_name(workflow: &str, seed: u64) -> ExecutionName {
    let mut ids =
        wfsim_engine::ids::IdGen::with_stream(seed, wfsim_engine::ids::IdGen::STREAM_EXECUTION_IDS);
    ExecutionName {
        base_url: "https://workflowexecutions.googleapis.com".into(),
        project: "wfsim".into(),
        location: "us-central1".into(),
        workflow: workflow.into(),
        execution_id: ids.uuid(),
    }
}

pub fn run(
    workflow: Rc<Workflow>,
    name: &str,
    config: &RunConfig,
    script: &[ScriptedRequest],
) -> Run {
    run_with_services(workflow, name, config, script, &[])
}

/// [`run`], with scripted services answering the execution's outbound calls (HT-7).
pub fn run_with_services(
    workflow: Rc<Workflow>,
    name: &str,
    config: &RunConfig,
    script: &[ScriptedRequest],
    services: &[Service],
) -> Run {
    let mut script: Vec<(usize, &ScriptedRequest)> = script.iter().enumerate().collect();
    script.sort_by_key(|(i, r)| (r.at, *i));
    let mut execution_name = execution_name(name, config.seed);
    if let Some(p) = &config.project {
        execution_name.project = p.clone();
    }
    if let Some(l) = &config.location {
        execution_name.location = l.clone();
    }
    let mut execution = Execution::start_with_env(
        workflow,
        ExecutionConfig {
            seed: config.seed,
            clock: config.clock,
            argument: config.argument.clone(),
            ..ExecutionConfig::new(execution_name)
        },
        config.env.clone(),
    );
    let mut world = Stubs::new(crate::services::for_workflow(&services.into(), name));
    let mut records: Vec<RequestRecord> = Vec::new();
    // The request each endpoint holds in its slot, by record index.
    let mut buffered: Vec<Option<usize>> = Vec::new();
    let mut trace_seen = 0;
    let mut next = 0;
    let mut cancel_at = config.cancel_at;
    let mut budget_exhausted = true;
    for _ in 0..LOOP_BUDGET {
        while let Some(call) = execution.poll_http_call() {
            if !world.take_call(&call) {
                // HT-7: nothing is there to connect to.
                world.answer_at(
                    call.at,
                    call.id,
                    HttpOutcome::ConnectionFailed(unmatched(&call)),
                );
            }
        }
        let t = [
            script.get(next).map(|(_, r)| r.at),
            world.callbacks.first_key_value().map(|(k, _)| k.0),
            world.answers.first_key_value().map(|(k, _)| k.0),
            cancel_at,
            execution.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(t) = t else {
            budget_exhausted = false;
            break;
        };
        while let Some((_, r)) = script.get(next).filter(|(_, r)| r.at == t) {
            next += 1;
            let (callback_id, method) =
                execution.with_callbacks(|cbs| match cbs.endpoint(EndpointIdx(r.endpoint)) {
                    Some(ep) => (ep.callback_id().to_owned(), ep.method().as_str().to_owned()),
                    None => ("not-created".to_owned(), "POST".to_owned()),
                });
            let method = r.method.clone().unwrap_or(method);
            let path = execution
                .with_callbacks(|cbs| format!("{}/callbacks/{callback_id}", cbs.name().path()));
            let request = CallbackRequest {
                method,
                path,
                headers: r.headers.clone(),
                query: r.query.clone(),
                body: r.body.clone(),
            };
            let sent = Sent {
                at: t,
                endpoint: Some(r.endpoint),
                service: None,
                callback_id,
            };
            deliver(&mut execution, sent, request, &mut records, &mut buffered);
            note_takes(&execution, &mut trace_seen, &mut buffered, &mut records);
        }
        while let Some(entry) = world.callbacks.first_entry().filter(|e| e.key().0 == t) {
            let cb = entry.remove();
            // HT-7: the URL must be an endpoint of this execution; any other is answered 404.
            let (path_url, query) = match cb.url.split_once('?') {
                Some((u, q)) => (u.to_owned(), q.to_owned()),
                None => (cb.url.clone(), String::new()),
            };
            let found = execution.with_callbacks(|cbs| {
                let id = path_url.rsplit('/').next()?;
                let i = cbs.endpoint_by_callback_id(id)?;
                let ep = cbs.endpoint(i)?;
                (ep.url() == path_url).then(|| {
                    (
                        i.0,
                        ep.callback_id().to_owned(),
                        ep.method().as_str().to_owned(),
                        format!("{}/callbacks/{}", cbs.name().path(), ep.callback_id()),
                    )
                })
            });
            let (endpoint, callback_id, own_method, path) = match found {
                Some((i, id, m, p)) => (Some(i), id, m, p),
                None => {
                    let path = path_url
                        .find("://")
                        .and_then(|s| path_url[s + 3..].find('/').map(|p| s + 3 + p))
                        .map_or("/".to_owned(), |p| path_url[p..].to_owned());
                    (None, String::new(), "POST".to_owned(), path)
                }
            };
            let request = CallbackRequest {
                method: cb.method.unwrap_or(own_method),
                path,
                headers: cb.headers,
                query,
                body: cb.body,
            };
            let sent = Sent {
                at: t,
                endpoint,
                service: Some(cb.service),
                callback_id,
            };
            deliver(&mut execution, sent, request, &mut records, &mut buffered);
            note_takes(&execution, &mut trace_seen, &mut buffered, &mut records);
        }
        while let Some(entry) = world.answers.first_entry().filter(|e| e.key().0 == t) {
            let (id, outcome) = entry.remove();
            // A late answer (the call timed out first) is ignored by the execution.
            execution.answer_http(t, id, outcome);
        }
        if cancel_at == Some(t) {
            cancel_at = None;
            execution.cancel(t);
        }
        if execution.settle(t).is_err() {
            // No later iteration could differ: report the run as unsettled.
            break;
        }
        note_takes(&execution, &mut trace_seen, &mut buffered, &mut records);
    }
    Run {
        execution,
        requests: records,
        budget_exhausted,
        unmatched: world.unmatched,
        service_errors: world.errors,
    }
}

/// Where and when a request is sent.
struct Sent {
    at: SimTime,
    endpoint: Option<u32>,
    service: Option<usize>,
    callback_id: String,
}

fn deliver(
    execution: &mut Execution,
    sent: Sent,
    request: CallbackRequest,
    records: &mut Vec<RequestRecord>,
    buffered: &mut Vec<Option<usize>>,
) {
    let method = request.method.clone();
    let trace_pos = execution.trace_len();
    let delivery = execution.deliver(sent.at, &sent.callback_id, Auth::Granted, request);
    let index = records.len();
    records.push(RequestRecord {
        at: sent.at,
        endpoint: sent.endpoint,
        service: sent.service,
        method,
        status: http_status(&delivery),
        message: delivery.as_ref().err().map(|e| e.to_string()),
        taken_at: matches!(delivery, Ok(Accepted::Taken(_))).then_some(sent.at),
        trace_pos,
    });
    if let (Ok(Accepted::Buffered), Some(e)) = (&delivery, sent.endpoint) {
        let e = e as usize;
        if buffered.len() <= e {
            buffered.resize(e + 1, None);
        }
        buffered[e] = Some(index);
    }
}

/// Why a call no scripted service matches fails (HT-7).
fn unmatched(call: &HttpCall) -> String {
    match &call.target {
        wfsim_engine::http::Callee::Http(_) => {
            "no scripted service matches it (add one to the scenario's services)".to_owned()
        }
        wfsim_engine::http::Callee::Connector { name, .. } => format!(
            "no scripted service answers this connector (add a service with match: {{call: {name}}})"
        ),
    }
}

/// Marks buffered requests taken by awaits that ran since the last look (CB-5).
fn note_takes(
    execution: &Execution,
    seen: &mut usize,
    buffered: &mut [Option<usize>],
    records: &mut [RequestRecord],
) {
    for (at, t) in execution.trace_since(*seen) {
        *seen += 1;
        if let Trace::AwaitTook { endpoint, .. } = t {
            if let Some(slot) = buffered.get_mut(endpoint.0 as usize) {
                if let Some(i) = slot.take() {
                    records[i].taken_at = Some(at);
                }
            }
        }
    }
}
