//! The engine-level runner: drives one execution through a script of requests under
//! simulated time, like `quinn-proto`'s test `Pair`; and the children it starts through
//! the Workflow Executions connector (HT-10, `children.rs`), each on the run's one clock.
//!
//! At each instant: requests first, in script order, then the callbacks of scripted
//! services; then the answers of scripted services to outbound calls (HT-4, HT-7); then a
//! cancel; then timers (SPEC: requests before timers). The loop has a budget, so a
//! livelock fails instead of hanging.

use std::rc::Rc;

use crate::children::{self, Library};
use crate::services::{PendingCallback, Service, Stubs};
use wfsim_engine::callbacks::{Accepted, Auth, EndpointIdx, ExecutionName, http_status};
use wfsim_engine::defn::Workflow;
use wfsim_engine::http::{CallId, Callee, HttpCall, HttpOutcome};
use wfsim_engine::interp::{Execution, ExecutionConfig, Outcome, Trace};
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
    /// The execution it is sent to: `None` the run's own, else a child (HT-10).
    pub execution: Option<ExecutionSel>,
}

/// A child execution as a scenario names it (HT-10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecutionSel {
    /// In start order: 1 the first child started; 0 the run's own execution.
    Index(usize),
    /// The first child started of this workflow.
    Name(String),
}

/// What happened to a scripted request.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestRecord {
    pub at: SimTime,
    /// The execution it went to: 0 the run's own, `k` its `k`-th child (HT-10).
    pub execution: usize,
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
    /// Keep the step entries (EX-8) for the report: off unless asked, as each costs a record.
    pub step_entries: bool,
    /// With `step_entries`, each entry's variables too (GCP's DETAILED history).
    pub step_variables: bool,
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
            step_entries: false,
            step_variables: false,
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
    /// The child executions it started (HT-10), in start order: child `k` is `children[k -
    /// 1]`.
    pub children: Vec<Child>,
}

/// A child execution of a run (HT-10).
#[derive(Debug)]
pub struct Child {
    pub workflow: String,
    /// When it started on the run's clock: its own times count from here.
    pub started_at: SimTime,
    /// The execution that started it (0 the run's own) and with which call.
    pub parent: Option<(usize, CallId)>,
    pub argument: Option<Value>,
    pub execution: Execution,
    /// Its outbound calls no scripted service matched.
    pub unmatched: Vec<CallId>,
}

/// The project and location of engine-level runs.
const PROJECT: &str = "wfsim";
const LOCATION: &str = "us-central1";

/// The execution name used by engine-level runs: ids come from the seed (CB-2).
pub fn execution_name(workflow: &str, seed: u64) -> ExecutionName {
    let mut ids =
        wfsim_engine::ids::IdGen::with_stream(seed, wfsim_engine::ids::IdGen::STREAM_EXECUTION_IDS);
    ExecutionName {
        base_url: "https://workflowexecutions.googleapis.com".into(),
        project: PROJECT.into(),
        location: LOCATION.into(),
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
    run_with_children(
        workflow,
        name,
        config,
        script,
        services,
        &Library::default(),
    )
}

/// One execution of a run: the top one (index 0) or a child, on the run's one clock.
struct Slot {
    execution: Execution,
    workflow: String,
    /// When it started on the run's clock: its own `t = 0`.
    offset: SimTime,
    parent: Option<(usize, CallId)>,
    argument: Option<Value>,
    stubs: Stubs,
    /// The request each endpoint holds in its slot, by record index.
    buffered: Vec<Option<usize>>,
    trace_seen: usize,
    /// Calls waiting for its end (HT-10): (execution, call, method).
    waiters: Vec<(usize, CallId, children::Method)>,
}

impl Slot {
    fn local(&self, t: SimTime) -> SimTime {
        SimTime::from_nanos(t.as_nanos() - self.offset.as_nanos())
    }
    fn global(&self, t: SimTime) -> SimTime {
        SimTime::from_nanos(t.as_nanos() + self.offset.as_nanos())
    }
}

/// The executions of a run, as the connector of HT-10 sees them.
struct World<'a> {
    slots: Vec<Slot>,
    library: &'a Library,
    services: Rc<[Service]>,
    config: &'a RunConfig,
    ids: wfsim_engine::ids::IdGen,
    /// The run's clock now.
    now: SimTime,
}

impl World<'_> {
    fn here(&self) -> children::Here {
        children::Here {
            project: PROJECT.to_owned(),
            location: LOCATION.to_owned(),
        }
    }

    fn name_of(&self, i: usize) -> ExecutionName {
        self.slots[i]
            .execution
            .with_callbacks(|cbs| cbs.name().clone())
    }
}

impl children::Children for World<'_> {
    fn start(
        &mut self,
        parent: usize,
        workflow: &children::WorkflowRef,
        argument: Option<Value>,
    ) -> Result<usize, HttpOutcome> {
        let here = self.here();
        let found = if workflow.project == here.project && workflow.location == here.location {
            self.library.get(&workflow.workflow)
        } else {
            Err(format!(
                "an engine-level run has one project and location, {} and {}",
                here.project, here.location
            ))
        };
        let wf = found.map_err(|why| {
            children::not_found(&format!(
                "Resource '{}' was not found: {why}",
                workflow.name()
            ))
        })?;
        let i = self.slots.len();
        let name = ExecutionName {
            base_url: "https://workflowexecutions.googleapis.com".into(),
            project: PROJECT.into(),
            location: LOCATION.into(),
            workflow: workflow.workflow.clone(),
            execution_id: self.ids.uuid(),
        };
        let seed = self.ids.next_u64();
        let clock = WallClock::from_unix_nanos(
            self.config.clock.unix_nanos_at(SimTime::ZERO) + i128::from(self.now.as_nanos()),
        );
        let execution = Execution::start_with_env(
            wf,
            ExecutionConfig {
                seed,
                clock,
                argument: argument.clone(),
                ..ExecutionConfig::new(name)
            },
            self.config.env.clone(),
        );
        self.slots.push(Slot {
            execution,
            workflow: workflow.workflow.clone(),
            offset: self.now,
            // Set by the caller, which knows the call.
            parent: Some((parent, CallId(u64::MAX))),
            argument,
            stubs: Stubs::new(crate::services::for_workflow(
                &self.services,
                &workflow.workflow,
            )),
            buffered: Vec::new(),
            trace_seen: 0,
            waiters: Vec::new(),
        });
        Ok(i)
    }

    fn find(&self, name: &children::ExecRef) -> Option<usize> {
        (0..self.slots.len()).find(|&i| {
            let n = self.name_of(i);
            n.project == name.workflow.project
                && n.location == name.workflow.location
                && n.workflow == name.workflow.workflow
                && n.execution_id == name.id
        })
    }

    fn is_deployed(&self, workflow: &children::WorkflowRef) -> bool {
        let here = self.here();
        workflow.project == here.project
            && workflow.location == here.location
            && (self.slots[0].workflow == workflow.workflow
                || self.library.get(&workflow.workflow).is_ok())
    }

    fn list(&self, workflow: &children::WorkflowRef) -> Vec<usize> {
        (0..self.slots.len())
            .filter(|&i| self.slots[i].workflow == workflow.workflow)
            .collect()
    }

    fn snapshot(&self, i: usize) -> children::Snapshot {
        snapshot(&self.slots[i], self.config.clock)
    }

    fn cancel(&mut self, i: usize) -> bool {
        let slot = &mut self.slots[i];
        let local = slot.local(self.now);
        slot.execution.cancel(local)
    }
}

/// What the connector shows of execution `s` (HT-10).
fn snapshot(s: &Slot, clock: WallClock) -> children::Snapshot {
    let ex = &s.execution;
    let name = ex.with_callbacks(|cbs| cbs.name().clone());
    let wall = |t: SimTime| wfsim_engine::time::format_rfc3339(clock.unix_nanos_at(s.global(t)));
    let (result, error) = match ex.outcome() {
        Some(Outcome::Succeeded(v)) => (Some(v.clone()), None),
        Some(Outcome::Failed(f)) => (None, Some((f.error.clone(), f.stack.clone()))),
        _ => (None, None),
    };
    children::Snapshot {
        name: name.path().trim_start_matches("/v1/").to_owned(),
        revision: wfsim_engine::interp::SIMULATED_REVISION_ID.to_owned(),
        state: ex.state(),
        argument: s.argument.clone(),
        result,
        error,
        start_time: wall(SimTime::ZERO),
        end_time: ex.ended_at().map(wall),
        duration_nanos: ex.ended_at().map(SimTime::as_nanos),
    }
}

/// [`run_with_services`], with the workflows of `library` to start as children (HT-10):
/// each child an execution of its own on the run's one clock, with its own endpoints,
/// callbacks, logs and calls; scripted requests reach it through their `execution`.
pub fn run_with_children(
    workflow: Rc<Workflow>,
    name: &str,
    config: &RunConfig,
    script: &[ScriptedRequest],
    services: &[Service],
    library: &Library,
) -> Run {
    run_with_shared_services(workflow, name, config, script, services.into(), library)
}

/// [`run_with_children`] with the services already shared: a caller that runs one set of
/// services many times (explore, every seed and retry round) shares them rather than have
/// each run copy them.
pub fn run_with_shared_services(
    workflow: Rc<Workflow>,
    name: &str,
    config: &RunConfig,
    script: &[ScriptedRequest],
    services: Rc<[Service]>,
    library: &Library,
) -> Run {
    run_with_resends(workflow, name, config, script, services, library, None)
}

/// Requests sent in answer to answers: a sender's resends (explore's senders retry on 429,
/// 5xx and lost answers, EXP-3), decided as the run goes instead of by running it again
/// with each round of resends.
pub struct Resends<'a> {
    /// Requests sent besides the script's, each with its place and arrival. At an instant,
    /// requests are sent in the order of their places: a request of the script is placed
    /// by its index, so these come after the script's with places from its length on.
    pub sends: Vec<(u64, SimTime, &'a ScriptedRequest)>,
    /// Called when the request at `place` has been answered with `status` at `t`: a request
    /// to send, its place and when it arrives (not before `t`), if any. One released for
    /// `t` itself is sent at `t`, after the requests of `t` placed before it: exactly where
    /// it would be had it been in the script from the start.
    pub answered: &'a mut Answered<'a>,
}

/// [`Resends::answered`]: (place, status, now) to (place, arrival, request) of a resend.
pub type Answered<'a> =
    dyn FnMut(u64, u16, SimTime) -> Option<(u64, SimTime, &'a ScriptedRequest)> + 'a;

impl std::fmt::Debug for Resends<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resends")
            .field("sends", &self.sends)
            .finish_non_exhaustive()
    }
}

/// [`run_with_shared_services`], with the resends `resends` decides as the script's
/// requests are answered. The run is the one the script with the resends in it would
/// make: a request changes nothing before it arrives.
pub fn run_with_resends<'a>(
    workflow: Rc<Workflow>,
    name: &str,
    config: &RunConfig,
    script: &'a [ScriptedRequest],
    services: Rc<[Service]>,
    library: &Library,
    mut resends: Option<Resends<'a>>,
) -> Run {
    let mut script: Vec<(u64, &ScriptedRequest)> = script
        .iter()
        .enumerate()
        .map(|(i, r)| (i as u64, r))
        .collect();
    script.sort_by_key(|&(p, r)| (r.at, p));
    // The requests sent besides the script's, to come, by (arrival, place).
    let mut released: std::collections::BTreeMap<(SimTime, u64), &ScriptedRequest> = resends
        .as_mut()
        .map(|r| std::mem::take(&mut r.sends))
        .unwrap_or_default()
        .into_iter()
        .map(|(p, at, r)| ((at, p), r))
        .collect();
    let mut execution_name = execution_name(name, config.seed);
    if let Some(p) = &config.project {
        execution_name.project = p.clone();
    }
    if let Some(l) = &config.location {
        execution_name.location = l.clone();
    }
    let execution = Execution::start_with_env(
        workflow,
        ExecutionConfig {
            seed: config.seed,
            clock: config.clock,
            argument: config.argument.clone(),
            step_entries: config.step_entries,
            step_variables: config.step_variables,
            ..ExecutionConfig::new(execution_name)
        },
        config.env.clone(),
    );
    let mut w = World {
        slots: vec![Slot {
            execution,
            workflow: name.to_owned(),
            offset: SimTime::ZERO,
            parent: None,
            argument: config.argument.clone(),
            stubs: Stubs::new(crate::services::for_workflow(&services, name)),
            buffered: Vec::new(),
            trace_seen: 0,
            waiters: Vec::new(),
        }],
        library,
        services,
        config,
        ids: wfsim_engine::ids::IdGen::with_stream(
            config.seed,
            wfsim_engine::ids::IdGen::STREAM_CHILDREN,
        ),
        now: SimTime::ZERO,
    };
    // Every scripted request is recorded; services' callbacks may add more.
    let mut records: Vec<RequestRecord> = Vec::with_capacity(script.len());
    let mut next = 0;
    let mut cancel_at = config.cancel_at;
    let mut budget_exhausted = true;
    for _ in 0..LOOP_BUDGET {
        take_calls(&mut w);
        answer_waiters(&mut w);
        let t = [
            script.get(next).map(|(_, r)| r.at),
            released.first_key_value().map(|(&(at, _), _)| at),
            cancel_at,
        ]
        .into_iter()
        .chain(w.slots.iter().flat_map(|s| {
            [
                s.stubs.next_due().map(|t| s.global(t)),
                s.execution.poll_timeout().map(|t| s.global(t)),
            ]
        }))
        .flatten()
        .min();
        let Some(t) = t else {
            budget_exhausted = false;
            break;
        };
        w.now = t;
        loop {
            // The requests of `t` by place, resends among them.
            let scripted_next = script.get(next).filter(|(_, r)| r.at == t).copied();
            let resend_next = released
                .first_key_value()
                .filter(|&(&(at, _), _)| at == t)
                .map(|(&(_, p), &r)| (p, r));
            let (p, r) = match (scripted_next, resend_next) {
                (Some(a), Some(b)) if b.0 < a.0 => {
                    released.pop_first();
                    b
                }
                (Some(a), _) => {
                    next += 1;
                    a
                }
                (None, Some(b)) => {
                    released.pop_first();
                    b
                }
                (None, None) => break,
            };
            scripted(&mut w, t, r, &mut records);
            if let Some(rs) = resends.as_mut() {
                let status = records.last().expect("just recorded").status;
                if let Some((p2, at, r2)) = (rs.answered)(p, status, t) {
                    assert!(at >= t, "a resend arrives after its cause");
                    released.insert((at, p2), r2);
                }
            }
        }
        for i in 0..w.slots.len() {
            let local = w.slots[i].local(t);
            while let Some(entry) = w.slots[i]
                .stubs
                .callbacks
                .first_entry()
                .filter(|e| e.key().0 == local)
            {
                let cb = entry.remove();
                service_callback(&mut w, t, cb, &mut records);
            }
        }
        for s in &mut w.slots {
            let local = s.local(t);
            while let Some(entry) = s.stubs.answers.first_entry().filter(|e| e.key().0 == local) {
                let (id, outcome) = entry.remove();
                // A late answer (the call timed out first) is ignored by the execution.
                s.execution.answer_http(local, id, outcome);
            }
        }
        if cancel_at == Some(t) {
            cancel_at = None;
            w.slots[0].execution.cancel(t);
        }
        let mut livelock = false;
        for i in 0..w.slots.len() {
            let local = w.slots[i].local(t);
            livelock |= w.slots[i].execution.settle(local).is_err();
            note_takes(&mut w.slots[i], &mut records);
        }
        if livelock {
            // No later iteration could differ: report the run as unsettled.
            break;
        }
        answer_waiters(&mut w);
    }
    let mut slots = w.slots.into_iter();
    let top = slots.next().expect("the run's own execution");
    let mut service_errors = top.stubs.errors;
    let children = slots
        .map(|s| {
            service_errors.extend(
                s.stubs
                    .errors
                    .iter()
                    .map(|e| format!("child {}: {e}", s.workflow)),
            );
            Child {
                workflow: s.workflow,
                started_at: s.offset,
                parent: s.parent,
                argument: s.argument,
                execution: s.execution,
                unmatched: s.stubs.unmatched,
            }
        })
        .collect();
    Run {
        execution: top.execution,
        requests: records,
        budget_exhausted,
        unmatched: top.stubs.unmatched,
        service_errors,
        children,
    }
}

/// Takes every execution's new outbound calls: the connector of HT-10 is carried out here,
/// the rest go to the execution's scripted services (HT-7).
fn take_calls(w: &mut World) {
    let mut i = 0;
    // Children started here are appended, and their first calls taken in the same pass.
    while i < w.slots.len() {
        while let Some(call) = w.slots[i].execution.poll_http_call() {
            let now = w.slots[i].global(call.at);
            w.now = now;
            if let Callee::Connector { name, args } = &call.target {
                let here = w.here();
                let before = w.slots.len();
                if let Some(step) = children::call(w, i, &here, name, args) {
                    if let Some(child) = w.slots.get_mut(before) {
                        child.parent = Some((i, call.id));
                    }
                    match step {
                        children::Step::Answer(outcome) => {
                            w.slots[i].stubs.answer_at(call.at, call.id, outcome)
                        }
                        children::Step::Wait { child, method } => {
                            w.slots[child].waiters.push((i, call.id, method))
                        }
                    }
                    continue;
                }
            }
            let s = &mut w.slots[i];
            if !s.stubs.take_call(&call) {
                // HT-7: nothing is there to connect to.
                s.stubs.answer_at(
                    call.at,
                    call.id,
                    HttpOutcome::ConnectionFailed(unmatched(&call)),
                );
            }
        }
        i += 1;
    }
}

/// HT-10: the calls waiting for a child that has ended are answered at its end.
fn answer_waiters(w: &mut World) {
    for c in 0..w.slots.len() {
        let Some(end) = w.slots[c].execution.ended_at() else {
            continue;
        };
        if w.slots[c].waiters.is_empty() {
            continue;
        }
        let at = w.slots[c].global(end);
        let snap = snapshot(&w.slots[c], w.config.clock);
        for (p, id, method) in std::mem::take(&mut w.slots[c].waiters) {
            let local = w.slots[p].local(at);
            w.slots[p]
                .stubs
                .answer_at(local, id, children::ended(method, &snap));
        }
    }
}

/// The execution a scripted request is addressed to: 0 for the run's own, `k` for the
/// `k`-th child started; `None` when no such execution has started (yet).
fn addressed(w: &World, r: &ScriptedRequest) -> Option<usize> {
    match &r.execution {
        None => Some(0),
        Some(ExecutionSel::Index(k)) => (*k < w.slots.len()).then_some(*k),
        Some(ExecutionSel::Name(n)) => (1..w.slots.len()).find(|&i| w.slots[i].workflow == *n),
    }
}

fn scripted(w: &mut World, t: SimTime, r: &ScriptedRequest, records: &mut Vec<RequestRecord>) {
    let Some(i) = addressed(w, r) else {
        let what = match &r.execution {
            Some(ExecutionSel::Index(k)) => format!("child {k}"),
            Some(ExecutionSel::Name(n)) => format!("a child '{n}'"),
            None => unreachable!("the run's own execution always exists"),
        };
        records.push(RequestRecord {
            at: t,
            execution: 0,
            endpoint: None,
            service: None,
            method: r.method.clone().unwrap_or_else(|| "POST".to_owned()),
            status: 404,
            message: Some(format!(
                "no execution to send it to: {what} has not started"
            )),
            taken_at: None,
            trace_pos: w.slots[0].execution.trace_len(),
        });
        return;
    };
    let (callback_id, own_method, path) = w.slots[i].execution.with_callbacks(|cbs| {
        let (id, method) = match cbs.endpoint(EndpointIdx(r.endpoint)) {
            Some(ep) => (ep.callback_id(), ep.method().as_str()),
            None => ("not-created", "POST"),
        };
        (id.to_owned(), method, callback_path(cbs.name(), id))
    });
    let method = r.method.clone().unwrap_or_else(|| own_method.to_owned());
    let request = CallbackRequest {
        method,
        path,
        headers: r.headers.clone(),
        query: r.query.clone(),
        body: r.body.clone(),
    };
    let sent = Sent {
        at: t,
        execution: i,
        endpoint: Some(r.endpoint),
        service: None,
        callback_id,
    };
    deliver(&mut w.slots[i], sent, request, records);
    note_takes(&mut w.slots[i], records);
}

/// HT-7: a service's callback, to the endpoint its URL names in any execution of the run;
/// any other URL is answered 404 (recorded against the run's own execution).
fn service_callback(
    w: &mut World,
    t: SimTime,
    cb: PendingCallback,
    records: &mut Vec<RequestRecord>,
) {
    let (path_url, query) = match cb.url.split_once('?') {
        Some((u, q)) => (u.to_owned(), q.to_owned()),
        None => (cb.url.clone(), String::new()),
    };
    let found = (0..w.slots.len()).find_map(|x| {
        w.slots[x].execution.with_callbacks(|cbs| {
            let id = path_url.rsplit('/').next()?;
            let i = cbs.endpoint_by_callback_id(id)?;
            let ep = cbs.endpoint(i)?;
            (ep.url() == path_url).then(|| {
                (
                    x,
                    i.0,
                    ep.callback_id().to_owned(),
                    ep.method().as_str().to_owned(),
                    callback_path(cbs.name(), ep.callback_id()),
                )
            })
        })
    });
    let (x, endpoint, callback_id, own_method, path) = match found {
        Some((x, i, id, m, p)) => (x, Some(i), id, m, p),
        // Refused (404) before its path is read: the URL stands for it.
        None => (0, None, String::new(), "POST".to_owned(), path_url.clone()),
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
        execution: x,
        endpoint,
        service: Some(cb.service),
        callback_id,
    };
    deliver(&mut w.slots[x], sent, request, records);
    note_takes(&mut w.slots[x], records);
}

/// The path of endpoint `callback_id` of execution `name`, as a request to it has it.
fn callback_path(name: &ExecutionName, callback_id: &str) -> String {
    let mut path = String::with_capacity(name.path_len() + "/callbacks/".len() + callback_id.len());
    name.push_path(&mut path);
    path.push_str("/callbacks/");
    path.push_str(callback_id);
    path
}

/// Where and when a request is sent.
struct Sent {
    at: SimTime,
    execution: usize,
    endpoint: Option<u32>,
    service: Option<usize>,
    callback_id: String,
}

fn deliver(
    slot: &mut Slot,
    sent: Sent,
    request: CallbackRequest,
    records: &mut Vec<RequestRecord>,
) {
    let method = request.method.clone();
    let execution = &mut slot.execution;
    let trace_pos = execution.trace_len();
    let local = SimTime::from_nanos(sent.at.as_nanos() - slot.offset.as_nanos());
    let delivery = execution.deliver(local, &sent.callback_id, Auth::Granted, request);
    let index = records.len();
    records.push(RequestRecord {
        at: sent.at,
        execution: sent.execution,
        endpoint: sent.endpoint,
        service: sent.service,
        method,
        status: http_status(&delivery),
        message: delivery.as_ref().err().map(refusal_text),
        taken_at: matches!(delivery, Ok(Accepted::Taken(_))).then_some(sent.at),
        trace_pos,
    });
    if let (Ok(Accepted::Buffered), Some(e)) = (&delivery, sent.endpoint) {
        let e = e as usize;
        if slot.buffered.len() <= e {
            slot.buffered.resize(e + 1, None);
        }
        slot.buffered[e] = Some(index);
    }
}

/// A refusal's message, written into room for it: most are over 100 bytes, and a
/// growing `String` would be copied several times.
fn refusal_text(e: &wfsim_engine::callbacks::Rejection) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(160);
    write!(text, "{e}").expect("writing to a String");
    text
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

/// Marks buffered requests taken by awaits of `slot` that ran since the last look (CB-5),
/// at the run's time.
fn note_takes(slot: &mut Slot, records: &mut [RequestRecord]) {
    // Most looks find nothing new, or nothing buffered an await could have taken: no
    // copy of the trace's tail then.
    let len = slot.execution.trace_len();
    if len == slot.trace_seen || slot.buffered.iter().all(Option::is_none) {
        slot.trace_seen = len;
        return;
    }
    for (at, t) in slot.execution.trace_since(slot.trace_seen) {
        slot.trace_seen += 1;
        if let Trace::AwaitTook { endpoint, .. } = t {
            if let Some(b) = slot.buffered.get_mut(endpoint.0 as usize) {
                if let Some(i) = b.take() {
                    records[i].taken_at = Some(slot.global(at));
                }
            }
        }
    }
}
