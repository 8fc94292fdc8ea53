//! An execution as its host drives it: the inputs (`start`, `deliver`, `answer_http`,
//! `handle_timeout`, `cancel`), the outputs to poll after each, and what can be read of it.
//! It owns the shared state and the scheduler, and checks the shared state's invariants after every
//! input.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::entries::{Entries, StepEntry};
use super::run;
use super::scheduler::Scheduler;
use super::shared::{Env, NO_STEP, Shared};
use super::thread::BoxFut;
use super::trace::{LogEntry, Trace};
use crate::callbacks::{Auth, Callbacks, DeliveryResult, ExecutionName, ExecutionState};
use crate::defn::Workflow;
use crate::error::{Failure, Tag, builtin};
use crate::http::{CallId, CallRecord, HttpCall, HttpOutcome};
use crate::limits::EXECUTION_SECS_MAX;
use crate::request::CallbackRequest;
use crate::time::{SimTime, WallClock};
use crate::value::Value;

/// How to start an execution.
#[derive(Clone, Debug)]
pub struct ExecutionConfig {
    pub name: ExecutionName,
    pub seed: u64,
    pub clock: WallClock,
    /// The execution argument, given to `main`'s parameter.
    pub argument: Option<Value>,
    /// Steps the execution may run; [`crate::limits::STEPS_MAX`] unless a benchmark needs more.
    pub steps_max: u64,
    /// Test-only: a rule broken on purpose (`crate::defect`); `None` but in those tests.
    pub defect: Option<crate::defect::Defect>,
    /// Whether to keep the step entries (EX-8, [`Execution::step_entries`]): off, a step
    /// costs one comparison more; on, one push of a small record.
    pub step_entries: bool,
    /// With `step_entries`, each entry's variables too ([`Execution::step_variables`]):
    /// GCP's DETAILED history. A copy of the frame's names and a count per entry, twice.
    pub step_variables: bool,
}

impl ExecutionConfig {
    /// Execution `name` with the defaults every host starts from: seed 0, the default wall
    /// clock, no argument, the step limit of SPEC §7, no defect.
    pub fn new(name: ExecutionName) -> ExecutionConfig {
        ExecutionConfig {
            name,
            seed: 0,
            clock: WallClock::DEFAULT,
            argument: None,
            steps_max: crate::limits::STEPS_MAX,
            defect: None,
            step_entries: false,
            step_variables: false,
        }
    }
}

/// The revision id a run outside live mode reports (`sys.get_env`): the first revision's
/// shape, `000001-` and three hex digits, as GCP numbers them.
pub const SIMULATED_REVISION_ID: &str = "000001-000";

/// `handle_timeout` made no progress while work stayed due: see [`Execution::settle`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Livelock {
    pub at: SimTime,
}

impl std::fmt::Display for Livelock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "livelock at {}: work stays due but handling it does nothing",
            self.at
        )
    }
}

/// The result and end of a finished execution.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Succeeded(Value),
    /// The uncaught error and where it was raised (SPEC §6, "Where").
    Failed(Failure),
    Cancelled,
}

/// One execution of a workflow.
///
/// Inputs take `now`: [`Execution::start`], [`Execution::deliver`],
/// [`Execution::handle_timeout`], [`Execution::cancel`]. After each, read
/// [`Execution::poll_timeout`] for the next instant that needs `handle_timeout`. A host
/// delivers all the requests of an instant, then calls `handle_timeout` for it: requests
/// come before timers and before the workflow moves on (SPEC §3 preamble, CB-12).
pub struct Execution {
    shared: Rc<RefCell<Shared>>,
    /// What step entries' names are read from.
    workflow: Rc<Workflow>,
    scheduler: Scheduler,
    outcome: Option<Outcome>,
    ended_at: Option<SimTime>,
}

impl std::fmt::Debug for Execution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Execution")
            .field("threads", &self.scheduler.ids().collect::<Vec<_>>())
            .field("outcome", &self.outcome)
            .field("ended_at", &self.ended_at)
            .finish()
    }
}

impl Execution {
    /// Starts `workflow` at `t = 0` and runs it until every thread blocks or it ends.
    pub fn start(workflow: Rc<Workflow>, config: ExecutionConfig) -> Execution {
        Execution::start_with_env(workflow, config, BTreeMap::new())
    }

    /// [`Execution::start`] with user-defined environment variables (`sys.get_env`) beside
    /// GCP's built-in ones; a name [`crate::stdlib::env_name_error`] refuses never
    /// shadows a built-in variable.
    pub fn start_with_env(
        workflow: Rc<Workflow>,
        config: ExecutionConfig,
        user_env: BTreeMap<String, String>,
    ) -> Execution {
        Execution::start_revision(workflow, config, user_env, SIMULATED_REVISION_ID)
    }

    /// [`Execution::start_with_env`] of a deployed revision: live mode deploys real
    /// revisions, and `GOOGLE_CLOUD_WORKFLOW_REVISION_ID` names the one that runs.
    pub fn start_revision(
        workflow: Rc<Workflow>,
        config: ExecutionConfig,
        user_env: BTreeMap<String, String>,
        revision_id: &str,
    ) -> Execution {
        let points = workflow.points;
        let shared = Rc::new(RefCell::new(Shared::new(
            config.name,
            config.seed,
            config.clock,
            config.steps_max,
            config.defect,
            Env {
                user: user_env,
                revision_id: revision_id.into(),
            },
            points,
        )));
        if config.step_entries {
            shared.borrow_mut().entries = Some(Box::new(Entries::new(config.step_variables)));
        }
        let interp = Rc::new(run::Interp {
            workflow: Rc::clone(&workflow),
            entries: config.step_entries,
            shared: Rc::clone(&shared),
        });
        let argument = config.argument;
        let main: BoxFut<'static, ()> = Box::pin(async move {
            let res = interp.run_main(argument).await;
            interp.shared.borrow_mut().outcome = Some(res);
        });
        let mut ex = Execution {
            shared,
            workflow,
            scheduler: Scheduler::new(main),
            outcome: None,
            ended_at: None,
        };
        ex.run();
        ex.check_invariants();
        ex
    }

    // Getters.

    pub fn state(&self) -> ExecutionState {
        match &self.outcome {
            None => ExecutionState::Active,
            Some(Outcome::Succeeded(_)) => ExecutionState::Succeeded,
            Some(Outcome::Failed(_)) => ExecutionState::Failed,
            Some(Outcome::Cancelled) => ExecutionState::Cancelled,
        }
    }

    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// The latest instant an input was given at.
    pub fn now(&self) -> SimTime {
        self.shared.borrow().now
    }

    pub fn ended_at(&self) -> Option<SimTime> {
        self.ended_at
    }

    /// Where the execution is, as `(routine, step)` from `main` down to the step it runs:
    /// one entry per routine of the call stack, each the innermost step begun there (a step
    /// inside a `for`, a `try` or a parallel branch stands for the steps enclosing it). With
    /// parallel branches, the stack of the thread that last began a step. Once ended, where
    /// it ended: for a failure, the error's stack (EX-6) when it has one; otherwise the
    /// last step begun. What the Executions API's `Execution.Status.current_steps` shows.
    pub fn current_steps(&self) -> Vec<(String, String)> {
        if let Some(Outcome::Failed(f)) = &self.outcome {
            if !f.stack.is_empty() {
                return f
                    .stack
                    .iter()
                    .rev()
                    .map(|e| (e.routine.clone(), e.step.clone()))
                    .collect();
            }
        }
        let w = self.shared.borrow();
        let Some(stack) = w.positions.get(&w.last_thread) else {
            return Vec::new();
        };
        stack
            .iter()
            .filter(|(_, cover)| *cover != NO_STEP)
            .filter_map(|(sub, cover)| {
                let step = crate::coverage::step_at(&sub.steps, *cover)?;
                Some((sub.name.clone(), step.name.clone()))
            })
            .collect()
    }

    pub fn logs(&self) -> Vec<LogEntry> {
        self.shared.borrow().logs.clone()
    }

    /// At most `n` log entries from index `from` on, and how many there are in all: a page,
    /// without copying the rest of a chatty execution's log.
    pub fn logs_page(&self, from: usize, n: usize) -> (Vec<LogEntry>, usize) {
        let w = self.shared.borrow();
        let all = w.logs.len();
        let page = w.logs.get(from..).unwrap_or_default();
        (page[..n.min(page.len())].to_vec(), all)
    }

    /// The log entries from index `from` on.
    pub fn logs_since(&self, from: usize) -> Vec<LogEntry> {
        self.shared
            .borrow()
            .logs
            .get(from..)
            .map(<[_]>::to_vec)
            .unwrap_or_default()
    }

    /// The steps and branches run so far, with how often each was passed
    /// (`coverage::by_position` names them).
    pub fn coverage(&self) -> crate::coverage::Passes {
        self.shared.borrow().coverage.clone()
    }

    /// The step entries so far, oldest first (EX-8); empty unless
    /// [`ExecutionConfig::step_entries`] asked for them.
    pub fn step_entries(&self) -> Vec<StepEntry> {
        let w = self.shared.borrow();
        w.entries
            .as_ref()
            .map(|e| e.resolve(&self.workflow))
            .unwrap_or_default()
    }

    /// Whether step entries are kept ([`ExecutionConfig::step_entries`]).
    pub fn records_step_entries(&self) -> bool {
        self.shared.borrow().entries.is_some()
    }

    /// Whether step entries keep their variables ([`ExecutionConfig::step_variables`]).
    pub fn records_step_variables(&self) -> bool {
        let w = self.shared.borrow();
        w.entries.as_ref().is_some_and(|e| e.keeps_variables())
    }

    /// The variables in scope at step entry `id` (1, 2, …) as of its last update, by name
    /// (EX-8's `variableData`); `None` unless [`ExecutionConfig::step_variables`] asked for
    /// them, or when [`STEP_VARIABLES_BYTES_MAX`] left them out. Read one entry at a time:
    /// a page of the API renders only its own.
    ///
    /// [`STEP_VARIABLES_BYTES_MAX`]: super::STEP_VARIABLES_BYTES_MAX
    pub fn step_variables(&self, id: u64) -> Option<Vec<(String, Value)>> {
        let index = u32::try_from(id.checked_sub(1)?).ok()?;
        let w = self.shared.borrow();
        Some(w.entries.as_ref()?.variables(index)?.to_vec())
    }

    /// How many entries the budget ([`super::STEP_VARIABLES_BYTES_MAX`]) left without
    /// their variables.
    pub fn step_variables_dropped(&self) -> u64 {
        let w = self.shared.borrow();
        w.entries.as_ref().map_or(0, |e| e.variables_dropped())
    }

    /// How many entries the execution has, and how many more its cap left unrecorded.
    pub fn step_entries_count(&self) -> (usize, u64) {
        let w = self.shared.borrow();
        w.entries.as_ref().map_or((0, 0), |e| (e.len(), e.dropped))
    }

    pub fn trace(&self) -> Vec<(SimTime, Trace)> {
        self.shared.borrow().trace.clone()
    }

    /// A measure that grows whenever the execution does anything (steps run, events traced).
    fn progress(&self) -> (u64, usize) {
        let w = self.shared.borrow();
        (w.steps, w.trace.len())
    }

    /// Steps run so far.
    pub fn steps(&self) -> u64 {
        self.shared.borrow().steps
    }

    pub fn trace_len(&self) -> usize {
        self.shared.borrow().trace.len()
    }

    /// The trace events from index `from` on.
    pub fn trace_since(&self, from: usize) -> Vec<(SimTime, Trace)> {
        self.shared
            .borrow()
            .trace
            .get(from..)
            .map(<[_]>::to_vec)
            .unwrap_or_default()
    }

    /// The callback endpoints and their state.
    pub fn with_callbacks<R>(&self, f: impl FnOnce(&Callbacks) -> R) -> R {
        f(&self.shared.borrow().callbacks)
    }

    pub fn clock(&self) -> WallClock {
        self.shared.borrow().clock
    }

    /// Every outbound call made so far, in call order, with what became of it (HT-4).
    pub fn http_calls(&self) -> Vec<CallRecord> {
        self.shared.borrow().http_calls.clone()
    }

    // Inputs.

    /// HT-4: the answer to outbound call `id`, at `now`. Like a request, it only wakes the
    /// calling thread, which runs at `handle_timeout(now)` (or `run_woken`). An answer at
    /// exactly the call's deadline is in time (SPEC: at one instant, inputs before timers);
    /// a later one, or one for a call whose thread is gone, is ignored: `false`.
    pub fn answer_http(&mut self, now: SimTime, id: CallId, outcome: HttpOutcome) -> bool {
        self.set_now(now);
        let answered =
            self.outcome.is_none() && self.shared.borrow_mut().answer_http(now, id, outcome);
        self.check_invariants();
        answered
    }

    /// A request arrives at endpoint `callback_id`: the slot rule answers it (SPEC §3). A
    /// thread it resumes runs at `handle_timeout(now)`, after every request of the instant:
    /// the guide's eleventh request to ten waiters still finds the execution ACTIVE (CB-12).
    pub fn deliver(
        &mut self,
        now: SimTime,
        callback_id: &str,
        auth: Auth,
        request: CallbackRequest,
    ) -> DeliveryResult {
        self.set_now(now);
        let delivery = self
            .shared
            .borrow_mut()
            .callbacks
            .deliver(now, callback_id, auth, request);
        self.shared.borrow_mut().pump();
        self.check_invariants();
        delivery
    }

    /// Closes the instant `now`: fires the await timeouts and sleeps due at or before it, and
    /// the one-year limit (EX-5), then runs every thread that requests or timers woke.
    pub fn handle_timeout(&mut self, now: SimTime) {
        self.close_instant(now);
        self.check_invariants();
    }

    fn close_instant(&mut self, now: SimTime) {
        self.set_now(now);
        if self.outcome.is_some() {
            return;
        }
        if now >= SimTime::from_secs(EXECUTION_SECS_MAX) {
            let e = builtin(
                Tag::TimeoutError,
                format!(
                    "the execution ran longer than its limit of {EXECUTION_SECS_MAX} s (one year)"
                ),
            );
            self.finish(Outcome::Failed(Failure {
                error: e,
                stack: Vec::new(),
            }));
            return;
        }
        {
            let mut w = self.shared.borrow_mut();
            w.callbacks.handle_timeout(now);
            w.pump();
            w.fire_timers(now);
        }
        self.run();
    }

    /// Runs the threads that requests woke at `now`, without closing the instant: timers due
    /// at `now` wait, so a later request of the same instant still finds their awaits (SPEC:
    /// at one instant, requests before timers). For hosts that receive requests one at a
    /// time, like live mode; `handle_timeout(now)` closes the instant.
    pub fn run_woken(&mut self, now: SimTime) {
        self.set_now(now);
        if self.outcome.is_none() {
            self.run();
        }
        self.check_invariants();
    }

    /// Calls `handle_timeout(now)` until nothing is due at or before `now`. `Err` is a
    /// livelock: something stays due but handling it does nothing (no step, no event), so
    /// no further call could differ; hosts stop instead of spinning.
    pub fn settle(&mut self, now: SimTime) -> Result<(), Livelock> {
        while self.poll_timeout().is_some_and(|t| t <= now) {
            let before = self.progress();
            self.handle_timeout(now);
            if self.progress() == before {
                return Err(Livelock { at: now });
            }
        }
        Ok(())
    }

    /// EX-3: cancels an ACTIVE execution.
    pub fn cancel(&mut self, now: SimTime) -> bool {
        self.set_now(now);
        if self.outcome.is_some() {
            return self.shared.borrow().defect == Some(crate::defect::Defect::CancelAfterEnd);
        }
        self.finish(Outcome::Cancelled);
        self.check_invariants();
        true
    }

    // Outputs.

    /// HT-4: the next outbound call to send, in call order. Each is given once.
    pub fn poll_http_call(&mut self) -> Option<HttpCall> {
        self.shared.borrow_mut().http_outbox.pop_front()
    }

    /// The next instant at which `handle_timeout` has work: `now` itself while a request
    /// has woken a thread that has not run yet.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        if self.outcome.is_some() {
            return None;
        }
        self.shared
            .borrow()
            .next_due(SimTime::from_secs(EXECUTION_SECS_MAX))
    }

    // Driving the threads.

    fn set_now(&mut self, now: SimTime) {
        self.shared.borrow_mut().set_now(now);
    }

    /// Runs the runnable threads; if main ends meanwhile, so does the execution.
    fn run(&mut self) {
        let Some(res) = self.scheduler.run(&self.shared) else {
            return;
        };
        self.finish(match res {
            Ok(v) => match v.to_json() {
                Ok(_) => Outcome::Succeeded(v),
                Err(what) => Outcome::Failed(Failure {
                    error: builtin(
                        Tag::TypeError,
                        format!("the workflow result contains {what}, which has no JSON form"),
                    ),
                    stack: Vec::new(),
                }),
            },
            Err(e) => Outcome::Failed(e.into_failure()),
        });
    }

    fn finish(&mut self, outcome: Outcome) {
        let state = match &outcome {
            Outcome::Succeeded(_) => ExecutionState::Succeeded,
            Outcome::Failed(_) => ExecutionState::Failed,
            Outcome::Cancelled => ExecutionState::Cancelled,
        };
        // Futures may hold clones of the shared state; drop them before touching it.
        self.scheduler.clear();
        let mut w = self.shared.borrow_mut();
        w.end(state);
        self.outcome = Some(outcome);
        self.ended_at = Some(w.now);
    }

    /// [`Shared::check_invariants`], with the threads that have futures.
    fn check_invariants(&mut self) {
        let scheduler = &self.scheduler;
        self.shared
            .borrow_mut()
            .check_invariants(|t| scheduler.is_live(t), scheduler.len());
    }
}
