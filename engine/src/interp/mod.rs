//! Executions: a workflow run under simulated time, driven sans I/O.
//!
//! Each thread of the workflow (main, and every parallel branch) is a Rust future that the
//! [`Execution`] polls by hand; no async runtime is involved. A thread runs until it
//! blocks (an await, a sleep, a retry back-off, a join, a yield between branch steps) and
//! says what it waits for in the shared [`World`]. The host's inputs resolve those waits;
//! the seeded scheduler then picks which runnable thread goes next (CB-12).

mod blocking;
mod fault;
mod frame;
mod parallel;
mod retry;
mod run;
mod runqueue;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use crate::callbacks::{
    Auth, AwaitError, AwaitOutcome, Callbacks, DeliveryResult, EndpointIdx, Event, ExecutionName,
    ExecutionState, WaiterId,
};
use crate::defn::Workflow;
use crate::error::{Failure, Raised, Tag, builtin};
use crate::http::{CallId, CallRecord, HttpCall, HttpOutcome, Target};
use crate::ids::IdGen;
use crate::request::{CallbackRequest, Method, Received};
use crate::stdlib::{Host, LogPayload};
use crate::time::{SimTime, WallClock};
use crate::value::Value;

use fault::Fault;
pub use frame::Frame;
use runqueue::RunQueue;

pub use crate::limits::{CALL_DEPTH_MAX, EXECUTION_SECS_MAX, STEPS_MAX};

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A thread of the workflow: main is 0, branches count up in the order they start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ThreadId(pub u64);

/// How to start an execution.
#[derive(Clone, Debug)]
pub struct Config {
    pub name: ExecutionName,
    pub seed: u64,
    pub clock: WallClock,
    /// The execution argument, given to `main`'s parameter.
    pub argument: Option<Value>,
    /// Steps the execution may run; [`STEPS_MAX`] unless a benchmark needs more.
    pub steps_max: u64,
    /// Test-only: a rule broken on purpose (`crate::defect`); `None` but in those tests.
    pub defect: Option<crate::defect::Defect>,
}

/// The revision id a run outside live mode reports (`sys.get_env`): the first revision's
/// shape, `000001-` and three hex digits, as GCP numbers them.
pub const SIMULATED_REVISION_ID: &str = "000001-000";

/// One `sys.log` entry (EX-4).
#[derive(Clone, Debug, PartialEq)]
pub struct Log {
    pub at: SimTime,
    pub severity: String,
    pub payload: LogPayload,
}

/// What happened, in order, for timelines and snapshots.
#[derive(Clone, Debug, PartialEq)]
pub enum Trace {
    Log(usize),
    EndpointCreated(EndpointIdx),
    /// An await took a buffered request at once (CB-5).
    AwaitTook {
        thread: ThreadId,
        endpoint: EndpointIdx,
        received_at: SimTime,
    },
    AwaitBlocked {
        thread: ThreadId,
        endpoint: EndpointIdx,
        timeout: Duration,
    },
    /// A request was handed to a blocked await (§3 step 5).
    AwaitResumed {
        thread: ThreadId,
        endpoint: EndpointIdx,
    },
    AwaitTimedOut {
        thread: ThreadId,
        endpoint: EndpointIdx,
    },
    Sleep {
        thread: ThreadId,
        until: SimTime,
    },
    /// A retry back-off began (RT-2): retry number `attempt` starts at `until`.
    Backoff {
        thread: ThreadId,
        attempt: u32,
        until: SimTime,
    },
    BranchStarted {
        thread: ThreadId,
        parent: ThreadId,
        branch: String,
    },
    BranchEnded {
        thread: ThreadId,
        failed: bool,
    },
    /// An outbound call was sent (HT-4); `call` indexes [`Execution::http_calls`].
    HttpSent {
        thread: ThreadId,
        call: CallId,
    },
    /// The host answered it in time.
    HttpAnswered {
        thread: ThreadId,
        call: CallId,
    },
    /// No answer came within its timeout (HT-3).
    HttpTimedOut {
        thread: ThreadId,
        call: CallId,
    },
    Ended {
        state: ExecutionState,
    },
}

/// Why a thread resumes.
#[derive(Debug)]
enum Wake {
    Callback(Result<Received, Duration>),
    Timer,
    Yield,
    Child(ThreadId, Result<(), Fault>),
    /// An outbound call's answer, or `Err` when its timeout passed first.
    Http(Result<HttpOutcome, ()>),
}

/// Everything threads share: the clock, the callbacks, logs, ids, and who waits for what.
pub(crate) struct World {
    now: SimTime,
    clock: WallClock,
    callbacks: Callbacks,
    uuids: IdGen,
    schedule: IdGen,
    env: BTreeMap<String, String>,
    logs: Vec<Log>,
    trace: Vec<(SimTime, Trace)>,
    steps: u64,
    steps_max: u64,
    thread_next: u64,
    runnable: RunQueue,
    wakes: BTreeMap<ThreadId, VecDeque<Wake>>,
    waiter_threads: BTreeMap<WaiterId, ThreadId>,
    sleeps: BTreeSet<(SimTime, ThreadId)>,
    /// Outbound calls (HT-4): sent and not yet taken by the host; every call made, in
    /// order; the calls waiting for an answer (their thread and deadline) and their
    /// deadlines in order.
    http_outbox: VecDeque<HttpCall>,
    http_calls: Vec<CallRecord>,
    http_waiting: BTreeMap<CallId, (ThreadId, SimTime)>,
    http_deadlines: BTreeSet<(SimTime, CallId)>,
    parents: BTreeMap<ThreadId, ThreadId>,
    spawned: Vec<(ThreadId, BoxFut<'static, ()>)>,
    aborted: Vec<ThreadId>,
    outcome: Option<Result<Value, Fault>>,
    defect: Option<crate::defect::Defect>,
    /// Which steps and branches ran, how often, by their `cover` index.
    coverage: crate::coverage::Passes,
    /// Where each thread is (`Execution::current_steps`): one entry per routine it is in,
    /// outermost first, each the routine and the `cover` index of the step it runs or last
    /// ran there ([`NO_STEP`] before its first). A branch starts with a copy of its
    /// parent's, whose last entry is the parallel step; its own steps, in the same routine,
    /// take that entry's place. One store per step: the names are found only when asked.
    positions: BTreeMap<ThreadId, Vec<(Rc<crate::defn::Subworkflow>, u32)>>,
    /// The thread that last began a step (the parent of a branch that ended since).
    last_thread: ThreadId,
}

/// A routine entered whose first step has not begun.
const NO_STEP: u32 = u32::MAX;

impl World {
    /// Counts one pass of the point `cover` (a step, a case, an `except`).
    fn cover(&mut self, cover: u32) {
        if let Some(c) = self.coverage.points.get_mut(cover as usize) {
            *c += 1;
        }
    }

    /// Counts retry `attempt` of the `retry` whose point is `cover`.
    fn cover_retry(&mut self, cover: u32, attempt: u32) {
        *self.coverage.retries.entry((cover, attempt)).or_insert(0) += 1;
    }

    /// Counts one step (a step of a block, or a retry) against the step limit.
    fn count_step(&mut self) -> Result<(), Raised> {
        self.steps += 1;
        if self.steps > self.steps_max {
            return Err(crate::error::builtin(
                crate::error::Tag::ResourceLimitError,
                format!("the execution ran more than {} steps", self.steps_max),
            ));
        }
        Ok(())
    }

    fn push_trace(&mut self, t: Trace) {
        self.trace.push((self.now, t));
    }

    fn wake(&mut self, tid: ThreadId, wake: Wake) {
        self.wakes.entry(tid).or_default().push_back(wake);
        self.runnable.insert(tid);
    }

    fn new_thread(&mut self) -> ThreadId {
        let tid = ThreadId(self.thread_next);
        self.thread_next += 1;
        tid
    }

    // What the interpreter asks of the world. Threads reach it only through these methods
    // and `Host` (below), so what a wait records, and how it is traced, is said once.

    fn now(&self) -> SimTime {
        self.now
    }

    fn clock(&self) -> WallClock {
        self.clock
    }

    /// Forgets `tid`'s queued wakes: a yield queues one only to make its thread runnable.
    fn clear_wakes(&mut self, tid: ThreadId) {
        self.wakes.remove(&tid);
    }

    /// `sys.sleep`: `tid` waits until the timer at `until` wakes it.
    fn sleep_until(&mut self, tid: ThreadId, until: SimTime) {
        self.sleeps.insert((until, tid));
        self.push_trace(Trace::Sleep { thread: tid, until });
    }

    /// RT-2: `tid` waits `delay` on the simulated clock before retry number `attempt`.
    fn back_off(&mut self, tid: ThreadId, attempt: u32, delay: Duration) {
        let until = self.now.saturating_add(delay);
        self.sleeps.insert((until, tid));
        self.push_trace(Trace::Backoff {
            thread: tid,
            attempt,
            until,
        });
    }

    /// CB-3: the endpoint of this execution whose URL is `url`.
    /// Found by the callback id that ends the URL, then the whole URL compared: a lookup,
    /// not a walk over every endpoint on each await.
    fn endpoint_by_url(&self, url: &str) -> Option<EndpointIdx> {
        let id = url.rsplit('/').next()?;
        let i = self.callbacks.endpoint_by_callback_id(id)?;
        (self.callbacks.endpoint(i)?.url() == url).then_some(i)
    }

    /// CB-5, CB-6: `tid` awaits `endpoint`. A blocked await is remembered, so that the
    /// callback event that ends it wakes `tid`.
    fn await_callback(
        &mut self,
        tid: ThreadId,
        endpoint: EndpointIdx,
        timeout: Duration,
    ) -> Result<AwaitOutcome, AwaitError> {
        let outcome = self.callbacks.await_callback(self.now, endpoint, timeout)?;
        match &outcome {
            AwaitOutcome::Ready(r) => self.push_trace(Trace::AwaitTook {
                thread: tid,
                endpoint,
                received_at: r.at,
            }),
            AwaitOutcome::Blocked(waiter) => {
                self.waiter_threads.insert(*waiter, tid);
                self.push_trace(Trace::AwaitBlocked {
                    thread: tid,
                    endpoint,
                    timeout,
                });
            }
        }
        Ok(outcome)
    }

    /// HT-4: `tid` sends an outbound call and waits for its answer until `timeout` passes.
    fn send_http(
        &mut self,
        tid: ThreadId,
        target: Target,
        timeout: Duration,
        auth: Option<Value>,
    ) -> CallId {
        let id = CallId(self.http_calls.len() as u64);
        let deadline = self.now.saturating_add(timeout);
        self.http_calls.push(CallRecord {
            id,
            at: self.now,
            target: target.clone(),
            timeout,
            answered_at: None,
            status: None,
            error: None,
            message: None,
        });
        self.http_outbox.push_back(HttpCall {
            id,
            at: self.now,
            timeout,
            target,
            auth,
        });
        self.http_waiting.insert(id, (tid, deadline));
        self.http_deadlines.insert((deadline, id));
        self.push_trace(Trace::HttpSent {
            thread: tid,
            call: id,
        });
        id
    }

    /// Records how call `id` ended: the status of its response, the tag it raised.
    fn note_http_result(&mut self, id: CallId, status: Option<u16>, error: Option<&Raised>) {
        if let Some(r) = self.http_calls.get_mut(id.0 as usize) {
            r.status = status;
            r.error = error.and_then(|e| crate::error::tags(e).into_iter().next());
            r.message = error.and_then(crate::error::message);
        }
    }

    /// Thread `tid` calls routine `sub` (main, or a subworkflow).
    fn enter_routine(&mut self, tid: ThreadId, sub: Rc<crate::defn::Subworkflow>) {
        self.positions.entry(tid).or_default().push((sub, NO_STEP));
    }

    /// Thread `tid` returns from (or unwinds out of) the routine it entered last.
    fn leave_routine(&mut self, tid: ThreadId) {
        if let Some(stack) = self.positions.get_mut(&tid) {
            stack.pop();
        }
    }

    /// Thread `tid` begins the step whose coverage point is `cover`.
    fn at_step(&mut self, tid: ThreadId, cover: u32) {
        if let Some((_, at)) = self.positions.get_mut(&tid).and_then(|s| s.last_mut()) {
            *at = cover;
        }
        self.last_thread = tid;
    }

    /// A new branch thread of `parent`; the parallel step's name for it goes in the trace.
    fn start_branch(&mut self, parent: ThreadId, branch: String) -> ThreadId {
        let tid = self.new_thread();
        self.parents.insert(tid, parent);
        let inherited = self.positions.get(&parent).cloned().unwrap_or_default();
        self.positions.insert(tid, inherited);
        self.push_trace(Trace::BranchStarted {
            thread: tid,
            parent,
            branch,
        });
        tid
    }

    /// Hands thread `tid`'s future to the executor, which adopts it before its next pick.
    fn spawn(&mut self, tid: ThreadId, fut: BoxFut<'static, ()>) {
        self.spawned.push((tid, fut));
    }

    /// Branch `tid` ended with `res`; its parent, waiting on its branches, is woken with it.
    fn end_branch(&mut self, tid: ThreadId, parent: ThreadId, res: Result<(), Fault>) {
        self.push_trace(Trace::BranchEnded {
            thread: tid,
            failed: res.is_err(),
        });
        self.parents.remove(&tid);
        self.positions.remove(&tid);
        if self.last_thread == tid {
            self.last_thread = parent;
        }
        self.wake(parent, Wake::Child(tid, res));
    }

    /// Stops these threads, and the threads they started, before the executor's next pick.
    fn abort(&mut self, tids: impl IntoIterator<Item = ThreadId>) {
        self.aborted.extend(tids);
    }
}

/// The execution, as the standard library sees it.
impl Host for World {
    fn now_unix_nanos(&self) -> i128 {
        self.clock.unix_nanos_at(self.now)
    }
    fn uuid(&mut self) -> String {
        self.uuids.uuid()
    }
    fn env(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }
    fn log(&mut self, severity: String, payload: LogPayload) {
        let at = self.now;
        self.logs.push(Log {
            at,
            severity,
            payload,
        });
        let i = self.logs.len() - 1;
        self.push_trace(Trace::Log(i));
    }
    fn create_callback_endpoint(&mut self, method: &str) -> Result<Value, Raised> {
        let m = Method::parse(method).ok_or_else(|| {
            builtin(
                Tag::ValueError,
                format!(
                    "http_callback_method must be one of GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH; got '{method}'"
                ),
            )
        })?;
        let idx = self
            .callbacks
            .create_endpoint(self.now, m)
            .ok_or_else(|| builtin(Tag::SystemError, "the execution has ended"))?;
        self.push_trace(Trace::EndpointCreated(idx));
        let url = self
            .callbacks
            .endpoint(idx)
            .expect("created")
            .url()
            .to_owned();
        Ok(Value::map([("url", Value::str(url))]))
    }
}

/// A future that completes with the thread's next wake.
struct Suspend<'a> {
    world: &'a RefCell<World>,
    tid: ThreadId,
}

impl Future for Suspend<'_> {
    type Output = Wake;
    fn poll(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<Wake> {
        let mut w = self.world.borrow_mut();
        match w.wakes.get_mut(&self.tid).and_then(VecDeque::pop_front) {
            Some(wake) => Poll::Ready(wake),
            None => Poll::Pending,
        }
    }
}

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
    world: Rc<RefCell<World>>,
    threads: BTreeMap<ThreadId, BoxFut<'static, ()>>,
    outcome: Option<Outcome>,
    ended_at: Option<SimTime>,
}

impl std::fmt::Debug for Execution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Execution")
            .field("threads", &self.threads.keys().collect::<Vec<_>>())
            .field("outcome", &self.outcome)
            .field("ended_at", &self.ended_at)
            .finish()
    }
}

impl Execution {
    /// Starts `workflow` at `t = 0` and runs it until every thread blocks or it ends.
    pub fn start(workflow: Rc<Workflow>, config: Config) -> Execution {
        Execution::start_with_env(workflow, config, BTreeMap::new())
    }

    /// [`Execution::start`] with user-defined environment variables (`sys.get_env`) beside
    /// GCP's built-in ones; a name [`crate::stdlib::env_name_error`] refuses never
    /// shadows a built-in variable.
    pub fn start_with_env(
        workflow: Rc<Workflow>,
        config: Config,
        user_env: BTreeMap<String, String>,
    ) -> Execution {
        Execution::start_revision(workflow, config, user_env, SIMULATED_REVISION_ID)
    }

    /// [`Execution::start_with_env`] of a deployed revision: live mode deploys real
    /// revisions, and `GOOGLE_CLOUD_WORKFLOW_REVISION_ID` names the one that runs.
    pub fn start_revision(
        workflow: Rc<Workflow>,
        config: Config,
        user_env: BTreeMap<String, String>,
        revision_id: &str,
    ) -> Execution {
        let project_number = "000000000000";
        let mut env = user_env;
        env.extend([
            (
                "GOOGLE_CLOUD_PROJECT_ID".to_owned(),
                config.name.project.clone(),
            ),
            (
                "GOOGLE_CLOUD_LOCATION".to_owned(),
                config.name.location.clone(),
            ),
            (
                "GOOGLE_CLOUD_WORKFLOW_ID".to_owned(),
                config.name.workflow.clone(),
            ),
            (
                "GOOGLE_CLOUD_WORKFLOW_REVISION_ID".to_owned(),
                revision_id.to_owned(),
            ),
            (
                "GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID".to_owned(),
                config.name.execution_id.clone(),
            ),
            // (decision) No project number or service account exists in simulation: a
            // fixed twelve-digit number and the default compute account named after it.
            (
                "GOOGLE_CLOUD_PROJECT_NUMBER".to_owned(),
                project_number.to_owned(),
            ),
            (
                "GOOGLE_CLOUD_SERVICE_ACCOUNT_NAME".to_owned(),
                format!("{project_number}-compute@developer.gserviceaccount.com"),
            ),
        ]);
        let world = Rc::new(RefCell::new(World {
            now: SimTime::ZERO,
            clock: config.clock,
            callbacks: {
                let mut callbacks = Callbacks::new(config.name, config.seed);
                callbacks.set_defect(config.defect);
                callbacks
            },
            defect: config.defect,
            uuids: IdGen::with_stream(config.seed, IdGen::STREAM_UUIDS),
            schedule: IdGen::with_stream(config.seed, IdGen::STREAM_SCHEDULE),
            env,
            logs: Vec::new(),
            trace: Vec::new(),
            steps: 0,
            steps_max: config.steps_max,
            thread_next: 1,
            runnable: {
                let mut q = RunQueue::default();
                q.insert(ThreadId(0));
                q
            },
            wakes: BTreeMap::new(),
            waiter_threads: BTreeMap::new(),
            sleeps: BTreeSet::new(),
            http_outbox: VecDeque::new(),
            http_calls: Vec::new(),
            http_waiting: BTreeMap::new(),
            http_deadlines: BTreeSet::new(),
            parents: BTreeMap::new(),
            spawned: Vec::new(),
            aborted: Vec::new(),
            outcome: None,
            positions: BTreeMap::new(),
            last_thread: ThreadId(0),
            coverage: crate::coverage::Passes {
                points: vec![0; workflow.points as usize],
                retries: BTreeMap::new(),
            },
        }));
        let interp = Rc::new(run::Interp {
            workflow,
            world: Rc::clone(&world),
        });
        let argument = config.argument;
        let main: BoxFut<'static, ()> = Box::pin(async move {
            let res = interp.run_main(argument).await;
            interp.world.borrow_mut().outcome = Some(res);
        });
        let mut ex = Execution {
            world,
            threads: BTreeMap::from([(ThreadId(0), main)]),
            outcome: None,
            ended_at: None,
        };
        ex.run();
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
        self.world.borrow().now
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
        let w = self.world.borrow();
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

    pub fn logs(&self) -> Vec<Log> {
        self.world.borrow().logs.clone()
    }

    /// At most `n` log entries from index `from` on, and how many there are in all: a page,
    /// without copying the rest of a chatty execution's log.
    pub fn logs_page(&self, from: usize, n: usize) -> (Vec<Log>, usize) {
        let w = self.world.borrow();
        let all = w.logs.len();
        let page = w.logs.get(from..).unwrap_or_default();
        (page[..n.min(page.len())].to_vec(), all)
    }

    /// The log entries from index `from` on.
    pub fn logs_since(&self, from: usize) -> Vec<Log> {
        self.world
            .borrow()
            .logs
            .get(from..)
            .map(<[_]>::to_vec)
            .unwrap_or_default()
    }

    /// The steps and branches run so far, with how often each was passed
    /// (`coverage::by_position` names them).
    pub fn coverage(&self) -> crate::coverage::Passes {
        self.world.borrow().coverage.clone()
    }

    pub fn trace(&self) -> Vec<(SimTime, Trace)> {
        self.world.borrow().trace.clone()
    }

    /// A measure that grows whenever the execution does anything (steps run, events traced).
    fn progress(&self) -> (u64, usize) {
        let w = self.world.borrow();
        (w.steps, w.trace.len())
    }

    /// Steps run so far.
    pub fn steps(&self) -> u64 {
        self.world.borrow().steps
    }

    pub fn trace_len(&self) -> usize {
        self.world.borrow().trace.len()
    }

    /// The trace events from index `from` on.
    pub fn trace_since(&self, from: usize) -> Vec<(SimTime, Trace)> {
        self.world
            .borrow()
            .trace
            .get(from..)
            .map(<[_]>::to_vec)
            .unwrap_or_default()
    }

    /// The callback endpoints and their state.
    pub fn with_callbacks<R>(&self, f: impl FnOnce(&Callbacks) -> R) -> R {
        f(&self.world.borrow().callbacks)
    }

    pub fn clock(&self) -> WallClock {
        self.world.borrow().clock
    }

    /// Every outbound call made so far, in call order, with what became of it (HT-4).
    pub fn http_calls(&self) -> Vec<CallRecord> {
        self.world.borrow().http_calls.clone()
    }

    // Inputs.

    /// HT-4: the answer to outbound call `id`, at `now`. Like a request, it only wakes the
    /// calling thread, which runs at `handle_timeout(now)` (or `run_woken`). An answer at
    /// exactly the call's deadline is in time (SPEC: at one instant, inputs before timers);
    /// a later one, or one for a call whose thread is gone, is ignored: `false`.
    pub fn answer_http(&mut self, now: SimTime, id: CallId, outcome: HttpOutcome) -> bool {
        self.set_now(now);
        if self.outcome.is_some() {
            return false;
        }
        let mut w = self.world.borrow_mut();
        let Some((tid, deadline)) = w.http_waiting.remove(&id) else {
            return false;
        };
        w.http_deadlines.remove(&(deadline, id));
        if let Some(r) = w.http_calls.get_mut(id.0 as usize) {
            r.answered_at = Some(now);
        }
        w.push_trace(Trace::HttpAnswered {
            thread: tid,
            call: id,
        });
        w.wake(tid, Wake::Http(Ok(outcome)));
        true
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
            .world
            .borrow_mut()
            .callbacks
            .deliver(now, callback_id, auth, request);
        self.pump();
        delivery
    }

    /// Closes the instant `now`: fires the await timeouts and sleeps due at or before it, and
    /// the one-year limit (EX-5), then runs every thread that requests or timers woke.
    pub fn handle_timeout(&mut self, now: SimTime) {
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
        self.world.borrow_mut().callbacks.handle_timeout(now);
        self.pump();
        {
            let mut w = self.world.borrow_mut();
            while let Some(&(at, tid)) = w.sleeps.first() {
                if at > now {
                    break;
                }
                w.sleeps.pop_first();
                w.wake(tid, Wake::Timer);
            }
            while let Some(&(at, id)) = w.http_deadlines.first() {
                if at > now {
                    break;
                }
                w.http_deadlines.pop_first();
                if let Some((tid, _)) = w.http_waiting.remove(&id) {
                    w.push_trace(Trace::HttpTimedOut {
                        thread: tid,
                        call: id,
                    });
                    w.wake(tid, Wake::Http(Err(())));
                }
            }
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
            return self.world.borrow().defect == Some(crate::defect::Defect::CancelAfterEnd);
        }
        self.finish(Outcome::Cancelled);
        true
    }

    // Outputs.

    /// HT-4: the next outbound call to send, in call order. Each is given once.
    pub fn poll_http_call(&mut self) -> Option<HttpCall> {
        self.world.borrow_mut().http_outbox.pop_front()
    }

    /// The next instant at which `handle_timeout` has work: `now` itself while a request
    /// has woken a thread that has not run yet.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        if self.outcome.is_some() {
            return None;
        }
        let w = self.world.borrow();
        if !w.runnable.is_empty() {
            return Some(w.now);
        }
        [
            w.callbacks.poll_timeout(),
            w.sleeps.first().map(|&(t, _)| t),
            w.http_deadlines.first().map(|&(t, _)| t),
            Some(SimTime::from_secs(EXECUTION_SECS_MAX)),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // The executor.

    fn set_now(&mut self, now: SimTime) {
        let mut w = self.world.borrow_mut();
        assert!(now >= w.now, "simulated time went backwards");
        w.now = now;
        w.callbacks.advance(now);
    }

    /// Hands the callback events to the threads that wait for them.
    fn pump(&mut self) {
        let mut w = self.world.borrow_mut();
        while let Some(event) = w.callbacks.poll_event() {
            match event {
                Event::Resumed {
                    waiter,
                    endpoint,
                    received,
                } => {
                    if let Some(tid) = w.waiter_threads.remove(&waiter) {
                        w.push_trace(Trace::AwaitResumed {
                            thread: tid,
                            endpoint,
                        });
                        w.wake(tid, Wake::Callback(Ok(received)));
                    }
                }
                Event::TimedOut {
                    waiter,
                    endpoint,
                    timeout,
                    ..
                } => {
                    if let Some(tid) = w.waiter_threads.remove(&waiter) {
                        w.push_trace(Trace::AwaitTimedOut {
                            thread: tid,
                            endpoint,
                        });
                        w.wake(tid, Wake::Callback(Err(timeout)));
                    }
                }
            }
        }
    }

    /// Polls runnable threads, one at a time in an order the seed picks, until none is.
    fn run(&mut self) {
        let waker = Waker::noop();
        let mut cx = TaskContext::from_waker(waker);
        loop {
            self.adopt_and_abort();
            let main_done = self.world.borrow_mut().outcome.take();
            if let Some(res) = main_done {
                self.finish(match res {
                    Ok(v) => match v.to_json() {
                        Ok(_) => Outcome::Succeeded(v),
                        Err(what) => Outcome::Failed(Failure {
                            error: builtin(
                                Tag::TypeError,
                                format!(
                                    "the workflow result contains {what}, which has no JSON form"
                                ),
                            ),
                            stack: Vec::new(),
                        }),
                    },
                    Err(e) => Outcome::Failed(e.into_failure()),
                });
                return;
            }
            let tid = {
                let mut w = self.world.borrow_mut();
                let n = w.runnable.len() as u64;
                if n == 0 {
                    return;
                }
                let pick = if n == 1 { 0 } else { w.schedule.next_u64() % n };
                let tid = w.runnable.nth(pick as usize).expect("pick < len");
                w.runnable.remove(tid);
                tid
            };
            let Some(fut) = self.threads.get_mut(&tid) else {
                continue;
            };
            if fut.as_mut().poll(&mut cx).is_ready() {
                self.threads.remove(&tid);
            }
        }
    }

    fn adopt_and_abort(&mut self) {
        let (spawned, aborted) = {
            let mut w = self.world.borrow_mut();
            (
                std::mem::take(&mut w.spawned),
                std::mem::take(&mut w.aborted),
            )
        };
        for (tid, fut) in spawned {
            self.threads.insert(tid, fut);
            self.world.borrow_mut().runnable.insert(tid);
        }
        self.drop_threads(aborted);
    }

    /// Stops threads and every thread they started, withdrawing whatever they waited for.
    /// All at once, one pass over each index: a failed parallel step may stop thousands of
    /// branches, and stopping them one by one walked every index once per branch.
    fn drop_threads(&mut self, roots: Vec<ThreadId>) {
        if roots.is_empty() {
            return;
        }
        let doomed: BTreeSet<ThreadId> = {
            let w = self.world.borrow();
            let mut children: BTreeMap<ThreadId, Vec<ThreadId>> = BTreeMap::new();
            for (&child, &parent) in &w.parents {
                children.entry(parent).or_default().push(child);
            }
            let mut doomed = BTreeSet::new();
            let mut stack = roots;
            while let Some(t) = stack.pop() {
                if doomed.insert(t) {
                    stack.extend(children.get(&t).into_iter().flatten().copied());
                }
            }
            doomed
        };
        for t in &doomed {
            self.threads.remove(t);
        }
        let mut w = self.world.borrow_mut();
        let now = w.now;
        // The last thread to begin a step is stopped: where it was is the nearest ancestor
        // left (the parallel step that stops it).
        while doomed.contains(&w.last_thread) {
            match w.parents.get(&w.last_thread) {
                Some(&up) => w.last_thread = up,
                None => break,
            }
        }
        for &t in &doomed {
            w.positions.remove(&t);
            w.runnable.remove(t);
            w.wakes.remove(&t);
            w.parents.remove(&t);
        }
        w.sleeps.retain(|(_, t)| !doomed.contains(t));
        let calls: Vec<CallId> = w
            .http_waiting
            .iter()
            .filter(|(_, (t, _))| doomed.contains(t))
            .map(|(id, _)| *id)
            .collect();
        for id in calls {
            if let Some((_, deadline)) = w.http_waiting.remove(&id) {
                w.http_deadlines.remove(&(deadline, id));
            }
        }
        let waiters: BTreeSet<WaiterId> = w
            .waiter_threads
            .iter()
            .filter(|(_, t)| doomed.contains(t))
            .map(|(wid, _)| *wid)
            .collect();
        for wid in &waiters {
            w.waiter_threads.remove(wid);
        }
        w.callbacks.abandon_awaits(now, &waiters);
    }

    fn finish(&mut self, outcome: Outcome) {
        let state = match &outcome {
            Outcome::Succeeded(_) => ExecutionState::Succeeded,
            Outcome::Failed(_) => ExecutionState::Failed,
            Outcome::Cancelled => ExecutionState::Cancelled,
        };
        // Futures may hold clones of the world; drop them before touching it.
        self.threads.clear();
        let mut w = self.world.borrow_mut();
        let now = w.now;
        w.callbacks.finish(now, state);
        w.runnable.clear();
        w.wakes.clear();
        w.sleeps.clear();
        w.http_waiting.clear();
        w.http_deadlines.clear();
        w.waiter_threads.clear();
        w.spawned.clear();
        // Where it ended is all that stays of where its threads were.
        let last = w.last_thread;
        w.positions.retain(|&t, _| t == last);
        w.push_trace(Trace::Ended { state });
        self.outcome = Some(outcome);
        self.ended_at = Some(now);
    }
}
