//! The engine-level runner: drives one execution through a script of requests under
//! simulated time, like `quinn-proto`'s test `Pair`.
//!
//! At each instant: requests first, in script order; then a cancel; then timers (SPEC:
//! requests before timers). The loop has a budget, so a livelock fails instead of hanging.

use std::rc::Rc;

use crate::callbacks::{Accepted, Auth, EndpointIdx, ExecutionName, http_status};
use crate::defn::Workflow;
use crate::interp::{Config, Execution, Trace};
use crate::request::CallbackRequest;
use crate::time::{SimTime, WallClock};
use crate::value::Value;

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
    pub endpoint: u32,
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
    /// [`crate::stdlib::env_name_error`].
    pub env: std::collections::BTreeMap<String, String>,
}

#[derive(Debug)]
pub struct Run {
    pub execution: Execution,
    pub requests: Vec<RequestRecord>,
    /// Set when the loop budget ran out: the run did not settle.
    pub budget_exhausted: bool,
}

/// The execution name used by engine-level runs: ids come from the seed (CB-2).
pub fn execution_name(workflow: &str, seed: u64) -> ExecutionName {
    let mut ids = crate::ids::IdGen::with_stream(seed, crate::ids::IdGen::STREAM_EXECUTION_IDS);
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
    let mut script: Vec<(usize, &ScriptedRequest)> = script.iter().enumerate().collect();
    script.sort_by_key(|(i, r)| (r.at, *i));
    let mut execution = Execution::start_with_env(
        workflow,
        Config {
            name: execution_name(name, config.seed),
            seed: config.seed,
            clock: config.clock,
            argument: config.argument.clone(),
            steps_max: crate::interp::STEPS_MAX,
        },
        config.env.clone(),
    );
    let mut records: Vec<RequestRecord> = Vec::new();
    // The request each endpoint holds in its slot, by record index.
    let mut buffered: Vec<Option<usize>> = Vec::new();
    let mut trace_seen = 0;
    let mut next = 0;
    let mut cancel_at = config.cancel_at;
    let mut budget_exhausted = true;
    for _ in 0..LOOP_BUDGET {
        let t = [
            script.get(next).map(|(_, r)| r.at),
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
                method: method.clone(),
                path,
                headers: r.headers.clone(),
                query: r.query.clone(),
                body: r.body.clone(),
            };
            let trace_pos = execution.trace_len();
            let delivery = execution.deliver(t, &callback_id, Auth::Granted, request);
            let index = records.len();
            records.push(RequestRecord {
                at: t,
                endpoint: r.endpoint,
                method,
                status: http_status(&delivery),
                message: delivery.as_ref().err().map(|e| e.to_string()),
                taken_at: matches!(delivery, Ok(Accepted::Taken(_))).then_some(t),
                trace_pos,
            });
            if let Ok(Accepted::Buffered) = delivery {
                let e = r.endpoint as usize;
                if buffered.len() <= e {
                    buffered.resize(e + 1, None);
                }
                buffered[e] = Some(index);
            }
            note_takes(&execution, &mut trace_seen, &mut buffered, &mut records);
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
