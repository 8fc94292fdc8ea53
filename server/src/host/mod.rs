//! The multi-execution host: deployed workflows, executions on the server's clock, the
//! deadline index, the queue of outputs (`output.rs`), and the guard that keeps a panic in
//! one execution's engine from reaching the others. No HTTP here: `api/` routes requests
//! to it and renders what it holds. One piece (about 700 lines): starting, running,
//! delivering to and failing an execution each keep the deadline index, the end
//! announcements and the outputs in step; eviction (`evict.rs`), outbound calls
//! (`outbound.rs`) and the output types (`output.rs`) live beside it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::panic::AssertUnwindSafe;
use std::rc::Rc;

use wfsim_engine::callbacks::{Accepted, Auth, ExecutionName, Rejection};
use wfsim_engine::defn::Workflow;
use wfsim_engine::http::{CallId, HttpCall};
use wfsim_engine::interp::{EXECUTION_SECS_MAX, Execution, ExecutionConfig, Outcome, STEPS_MAX};
use wfsim_engine::stdlib::LogPayload;
use wfsim_engine::time::format_rfc3339;
use wfsim_engine::value::show;
use wfsim_engine::{CallbackRequest, ExecutionState, IdGen, SimTime, Value, WallClock};

use wfsim_engine::error::{message, tags};
use wfsim_harness::report;
use wfsim_harness::services::{self, Service, Stubs};

use crate::clock::ExecClock;
use crate::config::Config;
use crate::message::ApiRequest;
use crate::parent::Parent;

mod children;
mod evict;
mod outbound;
mod output;
mod requests;
mod resume;
pub use output::{ApiEvent, Delivery, Level, Observed, OutboundCall, Output};
pub(crate) use requests::Sent;

/// `--keep-ended`'s default: ended executions kept before the oldest-ended is evicted.
/// Ten thousand executions take about 100 MiB (`cargo xtask bench`: 11 KiB resident per
/// execution awaiting a callback); a long-running server (a CI agent, a laptop left on)
/// stays near that however many it runs.
pub const KEEP_ENDED_DEFAULT: usize = 10_000;

/// Why an index into the host's executions is valid: an evicted execution is held until
/// the request or tick that evicted it is over (`Host::drop_evicted`).
const HELD: &str = "an execution is held until the safe point after its eviction";

/// Whether running an execution closes the instant (fires the timers due at it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Close {
    /// Timers due at `now` fire: nothing else can arrive at this instant any more.
    Instant,
    /// Only threads already woken run: a later request of the same instant comes first.
    No,
}

/// What the engine did with a callback request.
pub(crate) enum Taken {
    /// The slot rule's answer, and whether the endpoints changed (when observed).
    Answered {
        verdict: Result<Accepted, Rejection>,
        changed: Option<bool>,
    },
    /// The execution had failed with an internal error before the request came.
    Over,
    /// The engine panicked taking it: the execution failed now, the request was not kept.
    Crashed,
}

/// One revision of a deployed workflow: what an execution runs, and names in
/// `workflowRevisionId`.
pub(crate) struct Revision {
    /// `000001-3fa`: the workflow's own sequence number and three hex digits, in GCP's form.
    pub(crate) id: String,
    /// The source it was deployed from, when it came as text (the Workflows API, files).
    pub(crate) source: Option<String>,
    pub(crate) workflow: Rc<Workflow>,
    pub(crate) created_at: SimTime,
}

/// A deployed workflow: its revisions and the settings the Workflows API keeps.
pub(crate) struct Deployed {
    /// Oldest first; the last is the one new executions run.
    pub(crate) revisions: Vec<Revision>,
    pub(crate) created_at: SimTime,
    pub(crate) updated_at: SimTime,
    pub(crate) settings: Settings,
}

impl Deployed {
    pub(crate) fn current(&self) -> &Revision {
        self.revisions
            .last()
            .expect("a deployed workflow has a revision")
    }
}

/// A workflow's settings as the Workflows API takes them (recorded and shown; wfsim runs
/// every workflow alike).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Settings {
    pub(crate) description: String,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) service_account: String,
    /// Index into the API's `CallLogLevel` names.
    pub(crate) call_log_level: usize,
    pub(crate) user_env_vars: BTreeMap<String, String>,
    /// Index into `ExecutionHistoryLevel`: its executions' level unless they set their own.
    pub(crate) execution_history_level: usize,
}

/// What an execution is started with, besides its workflow.
#[derive(Default)]
pub(crate) struct ExecInput {
    /// As the create request gave it: the JSON text.
    pub(crate) argument: Option<String>,
    /// What that text holds.
    pub(crate) value: Option<Value>,
    pub(crate) labels: BTreeMap<String, String>,
    /// Index into the API's `CallLogLevel` names.
    pub(crate) call_log_level: usize,
    /// Index into `ExecutionHistoryLevel`; 0 takes the workflow's.
    pub(crate) execution_history_level: usize,
    /// `disableConcurrencyQuotaOverflowBuffering`: kept and shown; wfsim has no quota.
    pub(crate) no_overflow_buffering: bool,
}

/// One execution and where it sits on the server's clock.
pub(crate) struct Exec {
    /// Where its workflow is deployed: its name, callback URLs and `sys.get_env`'s
    /// `GOOGLE_CLOUD_PROJECT_ID` say it.
    pub(crate) parent: Parent,
    pub(crate) workflow: String,
    /// Shared with its entry in `Host::by_id`.
    pub(crate) id: Rc<str>,
    pub(crate) execution: Execution,
    pub(crate) clock: ExecClock,
    /// The revision it runs.
    pub(crate) revision_id: String,
    /// The file its revision was read from (or named after), for positions.
    pub(crate) file: Rc<str>,
    /// As the create request gave it: the JSON text.
    pub(crate) argument: Option<String>,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) call_log_level: usize,
    /// Its own level, or else its workflow's when it started.
    pub(crate) execution_history_level: usize,
    pub(crate) no_overflow_buffering: bool,
    /// The scripted services that answer its calls: those in use when it started.
    services: Rc<[Service]>,
    /// Their side of this execution (`--services`), and the answers of the child executions
    /// it called: made at their first use (most executions never call out), so a waiting
    /// execution is 64 bytes of its own smaller.
    stubs: Option<Box<Stubs>>,
    /// Its outbound calls waiting for an answer, described for the operator's log
    /// (`call.answered`), when anyone hears events.
    calls: BTreeMap<CallId, Vec<(&'static str, String)>>,
    logs_printed: usize,
    /// Whether its end has been announced (an `execution.ended` event).
    end_announced: bool,
    /// Its entry in `Host::deadlines`, if it has one.
    deadline: Option<SimTime>,
    /// How much of its engine trace is journaled.
    trace_journaled: usize,
    /// Set when the engine panicked while running it: the server time and the panic's
    /// message. The execution is FAILED with `InternalError` from then on, and the engine's
    /// state, which the panic may have left half-changed, is never touched again.
    /// Boxed: an execution carries it never, or once.
    pub(crate) crashed: Option<Box<(SimTime, String)>>,
    /// Evicted under `--keep-ended` (see [`Host::evict`]): no longer found by
    /// name, nothing of it due; dropped at the host's next safe point.
    evicted: bool,
    /// Every callback request it was sent, with its verdict (`requests.rs`): what its
    /// timeline marks on the endpoints' lanes.
    pub(crate) requests: Vec<requests::Kept>,
}

impl Exec {
    /// Its stubs, made now if they were not.
    fn stubs_mut(&mut self) -> &mut Stubs {
        let services = &self.services;
        self.stubs
            .get_or_insert_with(|| Box::new(Stubs::new(Rc::clone(services))))
    }

    /// Its state, FAILED once the engine panicked in it.
    pub(crate) fn state(&self) -> ExecutionState {
        match self.crashed {
            Some(_) => ExecutionState::Failed,
            None => self.execution.state(),
        }
    }

    /// When it ended, in server time.
    pub(crate) fn ended_at(&self) -> Option<SimTime> {
        if let Some((at, _)) = self.crashed.as_deref() {
            return Some(*at);
        }
        self.execution.ended_at().map(|t| self.clock.server(t))
    }
}

/// Every execution live mode holds, and the workflows they run.
pub(crate) struct Host {
    config: Config,
    wall_start_unix_nanos: i128,
    /// By parent, then name: a workflow lives in the parent it was deployed to.
    workflows: BTreeMap<Parent, BTreeMap<String, Deployed>>,
    /// Revision ids' hex tails: a stream of their own, so deploying does not move the
    /// execution ids a seed gives.
    revision_ids: IdGen,
    /// By the order they started (the key, kept for an execution's life, is what `usize`
    /// names an execution by in this crate): a map, not a vector, because executions are
    /// evicted out of that order (`--keep-ended`). Boxed: a B-tree's nodes are about
    /// half full when keys come in order, and an `Exec` inline in them took 900 bytes of
    /// node per execution, boxed its own size and 16.
    executions: BTreeMap<usize, Box<Exec>>,
    /// Executions started so far: the next one's key, and its seed's part.
    started: usize,
    /// `--keep-ended N`: ended executions held at most.
    keep_ended: usize,
    /// The ended executions held, in the order their ends were announced: the front is
    /// the next evicted.
    ended: VecDeque<usize>,
    /// Evicted, still held until [`Host::drop_evicted`]: an index a caller holds stays
    /// valid until the request or tick is over.
    evicting: Vec<usize>,
    /// Names (workflow, id) of the last `keep_ended` evicted executions, so that a request
    /// for one can say why it is 404; and the same in eviction order, to forget the oldest.
    evicted_names: BTreeSet<(String, String)>,
    evicted_order: VecDeque<(String, String)>,
    /// Executions evicted so far.
    evicted_count: u64,
    /// Executions by the server time their next timer is due, so a request or a tick looks
    /// only at what is due, however many executions wait.
    deadlines: BTreeSet<(SimTime, usize)>,
    /// Index of each execution by id, its key the execution's own string: ids are a
    /// seeded stream of UUIDs, unique across workflows, so the workflow a request names is
    /// checked once found ([`Host::find`]), and neither a lookup nor an entry copies names.
    by_id: BTreeMap<Rc<str>, usize>,
    ids: IdGen,
    /// What the world has not taken yet, in the order it happened.
    outputs: Vec<Output>,
    /// Journal engine events too (simulations do; live mode need not pay for it).
    observe_executions: bool,
    /// Nobody reads the journal (`wfsim serve`): callback deliveries are not built, a
    /// handful of strings copied per request for no one.
    journal_unread: bool,
    /// Nobody hears API events (a simulated world): none is built.
    events_unheard: bool,
    /// API events below this level are not built (`--log-level`).
    event_level: Level,
    /// Panics caught: in an execution's engine (that execution failed) or in a route
    /// (that request answered 500). Each is a wfsim bug; the log says where.
    internal_errors: u64,
    /// `--services`: what answers outbound calls before the network does.
    services: Rc<[Service]>,
    /// Calls no scripted service answers, waiting for the network's answer.
    outbound: BTreeMap<(usize, CallId), HttpCall>,
    /// HT-10: calls waiting for a child's end, by child: (execution, call, method).
    waiters: BTreeMap<usize, Vec<(usize, CallId, wfsim_harness::children::Method)>>,
    /// HT-10: whether any execution has started a child (checkpoints stop compacting).
    children_started: bool,
    /// Executions whose `run` is under way, innermost last: a child's end answers them
    /// without running them again from inside. A stack: no allocation per run.
    running: Vec<usize>,
}

impl Host {
    /// `wall_start_unix_nanos` is the real-world time at server time zero.
    pub(crate) fn new(config: Config, wall_start_unix_nanos: i128) -> Host {
        Host {
            ids: IdGen::with_stream(config.seed, IdGen::STREAM_SERVER_EXECUTION_IDS),
            revision_ids: IdGen::with_stream(config.seed, IdGen::STREAM_REVISIONS),
            config,
            wall_start_unix_nanos,
            workflows: BTreeMap::new(),
            executions: BTreeMap::new(),
            started: 0,
            keep_ended: KEEP_ENDED_DEFAULT,
            ended: VecDeque::new(),
            evicting: Vec::new(),
            evicted_names: BTreeSet::new(),
            evicted_order: VecDeque::new(),
            evicted_count: 0,
            deadlines: BTreeSet::new(),
            by_id: BTreeMap::new(),
            outputs: Vec::new(),
            observe_executions: false,
            journal_unread: false,
            events_unheard: false,
            event_level: Level::Info,
            internal_errors: 0,
            services: Rc::from(Vec::new()),
            outbound: BTreeMap::new(),
            waiters: BTreeMap::new(),
            children_started: false,
            running: Vec::new(),
        }
    }

    /// Scripted services (`--services`) that answer the outbound calls of executions
    /// started from now on.
    pub(crate) fn use_services(&mut self, services: Vec<Service>) {
        self.services = services.into();
    }

    /// Deploys `workflow` as a new revision of `name` at server time `now` (creating the
    /// workflow with `settings` if it is new, else replacing its settings); returns the
    /// revision id.
    pub(crate) fn deploy(
        &mut self,
        now: SimTime,
        parent: &Parent,
        name: &str,
        workflow: Rc<Workflow>,
        source: Option<String>,
        settings: Settings,
    ) -> String {
        // Counted per workflow, as GCP does: a new workflow's first revision is `000001`
        // whatever else is deployed (a redeploy after a delete starts again).
        let sequence = self.workflow(parent, name).map_or(0, |d| d.revisions.len()) + 1;
        let tail = &self.revision_ids.uuid()[..3];
        let id = format!("{sequence:06}-{tail}");
        let revision = Revision {
            id: id.clone(),
            source,
            workflow,
            created_at: now,
        };
        let in_parent = self.workflows.entry(parent.clone()).or_default();
        match in_parent.get_mut(name) {
            Some(d) => {
                d.revisions.push(revision);
                d.updated_at = now;
                d.settings = settings;
            }
            None => {
                in_parent.insert(
                    name.to_owned(),
                    Deployed {
                        revisions: vec![revision],
                        created_at: now,
                        updated_at: now,
                        settings,
                    },
                );
            }
        }
        id
    }

    /// Changes a workflow's settings without a new revision.
    pub(crate) fn set_settings(
        &mut self,
        now: SimTime,
        parent: &Parent,
        name: &str,
        settings: Settings,
    ) {
        if let Some(d) = self.workflows.get_mut(parent).and_then(|w| w.get_mut(name)) {
            d.settings = settings;
            d.updated_at = now;
        }
    }

    /// Deletes a workflow; its executions run on, and are no longer listed.
    pub(crate) fn undeploy(&mut self, parent: &Parent, name: &str) -> bool {
        let Some(in_parent) = self.workflows.get_mut(parent) else {
            return false;
        };
        let removed = in_parent.remove(name).is_some();
        if in_parent.is_empty() {
            self.workflows.remove(parent);
        }
        removed
    }

    pub(crate) fn workflow(&self, parent: &Parent, name: &str) -> Option<&Deployed> {
        self.workflows.get(parent)?.get(name)
    }

    /// The workflows deployed in `parent`, by name.
    pub(crate) fn workflows(&self, parent: &Parent) -> impl Iterator<Item = (&String, &Deployed)> {
        self.workflows.get(parent).into_iter().flatten()
    }

    /// Every deployed workflow, by parent then name.
    pub(crate) fn all_workflows(&self) -> impl Iterator<Item = (&Parent, &String, &Deployed)> {
        self.workflows
            .iter()
            .flat_map(|(p, w)| w.iter().map(move |(n, d)| (p, n, d)))
    }

    pub(crate) fn is_deployed(&self, parent: &Parent, workflow: &str) -> bool {
        self.workflow(parent, workflow).is_some()
    }

    /// The names deployed in `parent`.
    pub(crate) fn workflow_names(&self, parent: &Parent) -> Vec<String> {
        self.workflows(parent).map(|(n, _)| n.clone()).collect()
    }

    /// The parents a workflow of this name is deployed in, for a 404's hint.
    pub(crate) fn parents_of(&self, name: &str) -> Vec<&Parent> {
        self.workflows
            .iter()
            .filter_map(|(p, w)| w.contains_key(name).then_some(p))
            .collect()
    }

    /// Every deployed workflow, by parent then name (the state's `Debug`).
    pub(crate) fn all_workflow_names(&self) -> Vec<String> {
        let names = self
            .workflows
            .iter()
            .flat_map(|(p, w)| w.keys().map(move |n| format!("{p}/workflows/{n}")));
        names.collect()
    }

    /// Server time as an RFC 3339 timestamp.
    pub(crate) fn wall(&self, server_time: SimTime) -> String {
        format_rfc3339(self.unix_nanos(server_time))
    }

    /// Server time as Unix nanoseconds.
    pub(crate) fn unix_nanos(&self, server_time: SimTime) -> i128 {
        self.wall_start_unix_nanos + i128::from(server_time.as_nanos())
    }

    pub(crate) fn exec(&self, i: usize) -> &Exec {
        &self.executions[&i]
    }

    /// Execution `i` and its start on the server's clock; the host is spent.
    pub(crate) fn into_execution(mut self, i: usize) -> (Execution, SimTime) {
        let e = *self.executions.remove(&i).expect(HELD);
        (e.execution, e.clock.started_at())
    }

    fn exec_mut(&mut self, i: usize) -> &mut Exec {
        self.executions.get_mut(&i).expect(HELD)
    }

    /// Those held and not evicted, with their keys, in the order they started.
    pub(crate) fn executions(&self) -> impl Iterator<Item = (usize, &Exec)> {
        self.executions
            .iter()
            .filter(|(_, e)| !e.evicted)
            .map(|(&i, e)| (i, &**e))
    }

    /// How many [`Host::executions`] yields (a count for benchmarks and tests, not a hot path).
    pub(crate) fn execution_count(&self) -> usize {
        self.executions().count()
    }

    pub(crate) fn find(&self, workflow: &str, id: &str) -> Option<usize> {
        let &i = self.by_id.get(id)?;
        self.executions
            .get(&i)
            .is_some_and(|e| e.workflow == workflow)
            .then_some(i)
    }

    /// Starts an execution of the deployed `workflow`'s current revision at server time
    /// `now`; `None` if it is not deployed.
    pub(crate) fn start(
        &mut self,
        now: SimTime,
        parent: &Parent,
        workflow: &str,
        input: ExecInput,
    ) -> Option<String> {
        let deployed = self.workflow(parent, workflow)?;
        let revision = deployed.current();
        let (wf, revision_id) = (Rc::clone(&revision.workflow), revision.id.clone());
        let file = Rc::clone(&wf.file);
        // The workflow's userEnvVars are what `sys.get_env` reads (LIB-2).
        let env = deployed.settings.user_env_vars.clone();
        let execution_history_level = match input.execution_history_level {
            0 => deployed.settings.execution_history_level,
            own => own,
        };
        let id = self.ids.uuid();
        let execution = Execution::start_revision(
            wf,
            ExecutionConfig {
                name: ExecutionName {
                    base_url: self.config.base_url.clone(),
                    project: parent.project.clone(),
                    location: parent.location.clone(),
                    workflow: workflow.to_owned(),
                    execution_id: id.clone(),
                },
                seed: self.config.seed ^ self.started as u64,
                clock: WallClock::from_unix_nanos(
                    self.wall_start_unix_nanos + i128::from(now.as_nanos()),
                ),
                argument: input.value,
                steps_max: STEPS_MAX,
                defect: self.config.defect,
                // Served as `stepEntries` (EX-8), and rebuilt by a replay like the rest;
                // their variables only for a DETAILED history, as GCP keeps them.
                step_entries: true,
                step_variables: execution_history_level == 2,
            },
            env,
            &revision_id,
        );
        let i = self.started;
        self.started += 1;
        let shared_id: Rc<str> = Rc::from(id.as_str());
        self.executions.insert(
            i,
            Box::new(Exec {
                parent: parent.clone(),
                workflow: workflow.to_owned(),
                id: Rc::clone(&shared_id),
                execution,
                clock: ExecClock::starting_at(now),
                revision_id,
                file,
                argument: input.argument,
                labels: input.labels,
                call_log_level: input.call_log_level,
                execution_history_level,
                no_overflow_buffering: input.no_overflow_buffering,
                services: services::for_workflow(&self.services, workflow),
                stubs: None,
                calls: BTreeMap::new(),
                logs_printed: 0,
                end_announced: false,
                deadline: None,
                trace_journaled: 0,
                crashed: None,
                evicted: false,
                requests: Vec::new(),
            }),
        );
        self.by_id.insert(shared_id, i);
        let name = self.resource_name(i);
        self.event(now, "execution.started", name, Vec::new());
        self.run(i, now, Close::No);
        Some(id)
    }

    /// Closes every instant before server time `now`: each execution's timers fire at their
    /// own instants, earliest first, however late the call. Timers due at `now` itself wait
    /// for the requests of `now` (SPEC: at one instant, requests before timers); the timer
    /// task closes instant `t` at the next tick.
    pub(crate) fn advance(&mut self, now: SimTime) {
        while let Some(&(at, i)) = self.deadlines.first() {
            if at >= now {
                break;
            }
            self.run(i, at, Close::Instant);
        }
        self.drop_evicted();
    }

    /// The earliest server time at which [`Host::advance`] has work.
    pub(crate) fn next_deadline(&self) -> Option<SimTime> {
        self.deadlines.first().map(|&(at, _)| at)
    }

    /// Runs execution `i` at server time `now` (with `close`, its timeouts, sleeps and
    /// back-offs due by then; always the threads requests woke), prints its new logs,
    /// journals its new events, and files its next deadline; if it ended, the calls
    /// waiting for it as a child are answered (HT-10).
    pub(crate) fn run(&mut self, i: usize, now: SimTime, close: Close) {
        self.running.push(i);
        self.run_one(i, now, close);
        self.running.pop();
        if !self.waiters.is_empty() {
            self.wake_waiters(i, now);
        }
    }

    fn run_one(&mut self, i: usize, now: SimTime, close: Close) {
        let local = self.executions[&i].clock.local(now);
        let mut ran;
        loop {
            // Scripted services' callbacks and answers due by now come before the timers of
            // their instant (HT-7); an answer with no latency is due at once.
            self.run_stub_events(i, local);
            ran = self.guarded(i, now, |ex| match close {
                Close::Instant => ex.settle(local).is_err(),
                Close::No => {
                    ex.run_woken(local);
                    false
                }
            });
            if ran.is_none() || !self.take_calls(i, now, local) {
                break;
            }
        }
        let Some(livelocked) = ran else {
            self.announce_end(i);
            return;
        };
        self.announce_end(i);
        self.print_new_logs(i);
        self.journal_engine_events(i);
        let e = self.executions.get_mut(&i).expect(HELD);
        if e.evicted {
            // Evicted by an end this run caused (a stub's callback): nothing of it is due.
            return;
        }
        if let Some(old) = e.deadline.take() {
            self.deadlines.remove(&(old, i));
        }
        // A livelocked execution stays due, but running it again now changes nothing (and
        // `advance` would spin): it is filed at its one-year limit (EX-5), which ends it,
        // unless a request runs it before.
        let due = if livelocked {
            Some(SimTime::from_secs(EXECUTION_SECS_MAX)).filter(|&limit| limit > local)
        } else {
            let stubs = e.stubs.as_ref().and_then(|s| s.next_due());
            e.execution.poll_timeout().into_iter().chain(stubs).min()
        };
        e.deadline = due.map(|t| e.clock.server(t));
        if let Some(d) = e.deadline {
            self.deadlines.insert((d, i));
        }
    }

    /// Cancels execution `i` at server time `now`; `false` if it was not ACTIVE.
    pub(crate) fn cancel(&mut self, i: usize, now: SimTime) -> bool {
        let local = self.executions[&i].clock.local(now);
        let cancelled = self.guarded(i, now, |ex| ex.cancel(local)).unwrap_or(false);
        self.run(i, now, Close::No);
        cancelled
    }

    /// Hands a callback request to execution `i`'s slot rule at server time `now`. The
    /// await it resumes does not run yet: see [`Host::run`].
    pub(crate) fn deliver(
        &mut self,
        i: usize,
        now: SimTime,
        callback: &str,
        auth: Auth,
        request: CallbackRequest,
    ) -> Taken {
        if self.executions[&i].crashed.is_some() {
            return Taken::Over;
        }
        let local = self.executions[&i].clock.local(now);
        let endpoints = |e: &Execution| e.with_callbacks(|c| c.endpoints().to_vec());
        let before = self
            .observe_executions
            .then(|| endpoints(&self.executions[&i].execution));
        match self.guarded(i, now, |ex| ex.deliver(local, callback, auth, request)) {
            None => Taken::Crashed,
            Some(verdict) => Taken::Answered {
                verdict,
                changed: before.map(|b| b != endpoints(&self.executions[&i].execution)),
            },
        }
    }

    /// Runs `f` on execution `i`'s engine. A panic there is a wfsim bug, and it fails that
    /// execution alone: it becomes FAILED with `InternalError`, leaves the deadline index,
    /// is logged and counted, and the server, its timer task and every other execution
    /// carry on. `None` when it panicked now or before.
    pub(crate) fn guarded<R>(
        &mut self,
        i: usize,
        now: SimTime,
        f: impl FnOnce(&mut Execution) -> R,
    ) -> Option<R> {
        let e = self.executions.get_mut(&i).expect(HELD);
        if e.crashed.is_some() {
            return None;
        }
        let ex = &mut e.execution;
        let payload = match std::panic::catch_unwind(AssertUnwindSafe(|| f(ex))) {
            Ok(r) => return Some(r),
            Err(payload) => payload,
        };
        let message = panic_message(payload.as_ref());
        self.internal_errors += 1;
        if let Some(d) = self.exec_mut(i).deadline.take() {
            self.deadlines.remove(&(d, i));
        }
        let e = &self.executions[&i];
        let line = format!(
            "{} ERROR    {}/{} wfsim internal error, the execution FAILED: {message} \
             ({} internal errors so far; please report it)",
            self.wall(now),
            e.workflow,
            e.id,
            self.internal_errors
        );
        self.outputs.push(Output::Line(line));
        self.exec_mut(i).crashed = Some(Box::new((now, message)));
        None
    }

    /// `projects/P/locations/L/workflows/W/executions/ID` of execution `i`.
    pub(crate) fn resource_name(&self, i: usize) -> String {
        let e = &self.executions[&i];
        format!("{}/workflows/{}/executions/{}", e.parent, e.workflow, e.id)
    }

    /// Records an API event at server time `at`.
    pub(crate) fn event(
        &mut self,
        at: SimTime,
        kind: &'static str,
        name: String,
        detail: Vec<(&'static str, String)>,
    ) {
        if self.events_unheard {
            return;
        }
        let level = Level::of(kind, &detail);
        if level > self.event_level {
            return;
        }
        let time = self.wall(at);
        self.outputs.push(Output::Event(ApiEvent {
            level,
            time,
            kind,
            name,
            detail,
        }));
    }

    /// An `execution.ended` event, once, when execution `i` has ended.
    fn announce_end(&mut self, i: usize) {
        let e = &self.executions[&i];
        let Some(end) = e.ended_at().filter(|_| !e.end_announced) else {
            return;
        };
        let seconds = end.saturating_since(e.clock.started_at()).as_secs_f64();
        let mut detail = vec![
            ("state", e.state().as_str().to_owned()),
            ("duration", format!("{seconds}s")),
        ];
        // Why it failed, and where: what an operator reads first (SPEC EX-6's form).
        if let Some((_, message)) = e.crashed.as_deref() {
            detail.push(("error", format!("InternalError: {message}")));
        } else if let Some(Outcome::Failed(f)) = e.execution.outcome() {
            detail.push(("error", failure_summary(&f.error)));
            if !f.stack.is_empty() {
                let at = report::stack_text(&f.stack, Some(&e.file));
                let at = at.strip_prefix("at ").unwrap_or(&at).to_owned();
                detail.push(("at", at));
            }
        }
        self.exec_mut(i).end_announced = true;
        let name = self.resource_name(i);
        self.event(end, "execution.ended", name, detail);
        self.ended.push_back(i);
        while self.ended.len() > self.keep_ended {
            let Some(oldest) = self.ended.pop_front() else {
                break;
            };
            self.evict(oldest, end);
        }
    }

    /// Counts and logs a panic caught outside any execution (in a route).
    pub(crate) fn internal_error(&mut self, line: String) {
        self.internal_errors += 1;
        self.outputs.push(Output::Line(line));
    }

    pub(crate) fn internal_errors(&self) -> u64 {
        self.internal_errors
    }

    /// Journals what `event` builds, unless nobody reads the journal.
    pub(crate) fn journal(&mut self, event: impl FnOnce() -> Observed) {
        if !self.journal_unread {
            self.outputs.push(Output::Journal(event()));
        }
    }

    pub(crate) fn journal_unread(&mut self) {
        self.journal_unread = true;
    }

    pub(crate) fn events_unheard(&mut self) {
        self.events_unheard = true;
    }

    pub(crate) fn set_event_level(&mut self, level: Level) {
        self.event_level = level;
    }

    /// Whether an API event would reach anyone: where building one costs formatting per
    /// request, callers ask first.
    pub(crate) fn hears_events(&self) -> bool {
        !self.events_unheard
    }

    /// Whether events of `level` would reach anyone.
    pub(crate) fn hears(&self, level: Level) -> bool {
        !self.events_unheard && level <= self.event_level
    }

    /// Keeps input `req` of server time `at` for the input log.
    pub(crate) fn input(&mut self, at: SimTime, req: ApiRequest) {
        self.outputs.push(Output::Input(at, req));
    }

    /// Every output since the last call, in the order it happened; calls for the network
    /// that no longer wait (answered meanwhile, their execution evicted) are left out.
    pub(crate) fn take_outputs(&mut self) -> Vec<Output> {
        let mut outputs = std::mem::take(&mut self.outputs);
        outputs.retain(|o| self.waits(o));
        outputs
    }

    /// The outputs of the kind `kind` tells, in order; the rest stay queued. For tests and
    /// harnesses that drive the state without the I/O layer and look at one kind.
    pub(crate) fn take_only(&mut self, kind: impl Fn(&Output) -> bool) -> Vec<Output> {
        let (taken, rest) = self.take_outputs().into_iter().partition(|o| kind(o));
        self.outputs = rest;
        taken
    }

    /// Whether output `o` still stands: a call for the network only while it waits for
    /// its answer.
    fn waits(&self, o: &Output) -> bool {
        match o {
            Output::Outbound(c) => self
                .find(&c.workflow, &c.execution)
                .is_some_and(|i| self.outbound.contains_key(&(i, c.call.id))),
            _ => true,
        }
    }

    pub(crate) fn observe_executions(&mut self) {
        self.observe_executions = true;
        for e in self.executions.values_mut() {
            e.trace_journaled = e.execution.trace_len();
        }
    }

    fn journal_engine_events(&mut self, i: usize) {
        if !self.observe_executions {
            return;
        }
        let e = self.executions.get_mut(&i).expect(HELD);
        let events = e.execution.trace_since(e.trace_journaled);
        e.trace_journaled += events.len();
        let clock = e.clock;
        self.outputs.extend(events.into_iter().map(|(at, event)| {
            Output::Journal(Observed::Engine {
                at: clock.server(at),
                workflow: e.workflow.clone(),
                execution: e.id.to_string(),
                event,
            })
        }));
    }

    fn print_new_logs(&mut self, i: usize) {
        let e = &self.executions[&i];
        let logs = e.execution.logs_since(e.logs_printed);
        if logs.is_empty() {
            return;
        }
        self.outputs.reserve(logs.len());
        for l in &logs {
            let text = match &l.payload {
                LogPayload::Text(t) => t.clone(),
                LogPayload::Data(d) => show(d),
            };
            let line = format!(
                "{} {:<8} {}/{} {text}",
                self.wall(e.clock.server(l.at)),
                l.severity,
                e.workflow,
                e.id
            );
            self.outputs.push(Output::Line(line));
        }
        self.exec_mut(i).logs_printed += logs.len();
    }
}

/// The text a panic was raised with.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

#[cfg(test)]
impl Host {
    /// Executions whose memory is still held, evicted ones not yet freed among them.
    pub(crate) fn held(&self) -> usize {
        self.executions.len()
    }
}

/// A raised error in one short line for the operator's log: its tags and message (else the
/// value shown), at most 200 characters.
fn failure_summary(error: &Value) -> String {
    let tags = tags(error);
    let text = message(error).unwrap_or_else(|| show(error));
    let mut line = if tags.is_empty() {
        text
    } else {
        format!("{}: {text}", tags.join(","))
    };
    if line.chars().count() > 200 {
        line = line.chars().take(199).collect::<String>() + "…";
    }
    line
}
