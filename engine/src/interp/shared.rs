//! What the threads of an execution share: the clock, the callbacks, logs, ids, and who waits for
//! what. Threads reach it only through its methods and the library's [`Effects`], so what each
//! wait records, and how it is traced, is said once; the inputs that end waits (requests,
//! timers, answers) are its methods too, and so is the check that the records agree.
//! One piece over 700 lines (with its tests): the records, the methods that write them and
//! the check that they agree change together.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;
use std::time::Duration;

use super::entries::{Entries, EntryState, Kind, NO_ENTRY};
use super::frame::Frame;
use super::runqueue::RunQueue;
use super::thread::{BoxFut, ThreadId, Wake};
use super::trace::{LogEntry, Trace};
use super::unwind::Unwind;
use crate::callbacks::{
    AwaitError, AwaitOutcome, Callbacks, EndpointIdx, Event, ExecutionName, ExecutionState,
    WaiterId,
};
use crate::error::{Raised, Tag, builtin};
use crate::http::{CallId, CallRecord, Callee, HttpCall, HttpOutcome};
use crate::ids::IdGen;
use crate::request::Method;
use crate::stdlib::{Effects, LogPayload};
use crate::time::{SimTime, WallClock};
use crate::value::Value;

/// What `sys.get_env` reads (LIB-2): GCP's built-in variables, made from the execution's
/// name when asked rather than copied into every execution (most never ask, and a waiting
/// execution's memory is the measure), and the user's (`env:`; usually none).
pub(crate) struct Env {
    pub(crate) user: BTreeMap<String, String>,
    pub(crate) revision_id: Box<str>,
}

/// (decision) No project number or service account exists in simulation: a fixed
/// twelve-digit number and the default compute account named after it.
const PROJECT_NUMBER: &str = "000000000000";

/// Everything threads share: the clock, the callbacks, logs, ids, and who waits for what.
pub(super) struct Shared {
    pub(super) now: SimTime,
    pub(super) clock: WallClock,
    pub(super) callbacks: Callbacks,
    uuids: IdGen,
    /// The seeded stream that picks the next runnable thread (CB-12).
    pub(super) schedule: IdGen,
    env: Env,
    pub(super) logs: Vec<LogEntry>,
    pub(super) trace: Vec<(SimTime, Trace)>,
    pub(super) steps: u64,
    steps_max: u64,
    /// Bytes built by string `+` so far ([`crate::limits::CONCAT_BYTES_MAX`]).
    concat_bytes: u64,
    thread_next: u64,
    pub(super) runnable: RunQueue,
    wakes: BTreeMap<ThreadId, VecDeque<Wake>>,
    /// Where each blocked thread waits: one entry per thread, beside the record of that
    /// place (`sleeps`, `waiter_threads`, `http_waiting`) that lets an input find the
    /// thread; `joins` counts the `Wait::Join` entries. [`Shared::check_invariants`]
    /// holds the two views to each other.
    waits: BTreeMap<ThreadId, Wait>,
    joins: usize,
    /// The threads the current input ran, woke or stopped: what the next check looks at.
    touched: Vec<ThreadId>,
    waiter_threads: BTreeMap<WaiterId, ThreadId>,
    /// The endpoint the last await was on: where [`Shared::endpoint_by_url`] looks first.
    last_awaited: EndpointIdx,
    sleeps: BTreeSet<(SimTime, ThreadId)>,
    /// Outbound calls (HT-4): sent and not yet taken by the host; every call made, in
    /// order; the calls waiting for an answer (their thread and deadline) and their
    /// deadlines in order.
    pub(super) http_outbox: VecDeque<HttpCall>,
    pub(super) http_calls: Vec<CallRecord>,
    http_waiting: BTreeMap<CallId, (ThreadId, SimTime)>,
    http_deadlines: BTreeSet<(SimTime, CallId)>,
    parents: BTreeMap<ThreadId, ThreadId>,
    pub(super) spawned: Vec<(ThreadId, BoxFut<'static, ()>)>,
    pub(super) aborted: Vec<ThreadId>,
    /// Main's result, once main has returned or failed.
    pub(super) outcome: Option<Result<Value, Unwind>>,
    pub(super) defect: Option<crate::defect::Defect>,
    /// Which steps and branches ran, how often, by their `cover` index.
    pub(super) coverage: crate::coverage::Passes,
    /// Where each thread is (`Execution::current_steps`): one entry per routine it is in,
    /// outermost first, each the routine and the `cover` index of the step it runs or last
    /// ran there ([`NO_STEP`] before its first). A branch starts with a copy of its
    /// parent's, whose last entry is the parallel step; its own steps, in the same routine,
    /// take that entry's place. One store per step: the names are found only when asked.
    pub(super) positions: BTreeMap<ThreadId, Vec<(Rc<crate::defn::Subworkflow>, u32)>>,
    /// The thread that last began a step (the parent of a branch that ended since).
    pub(super) last_thread: ThreadId,
    /// The step entries (EX-8), when the host asked for them.
    pub(super) entries: Option<Box<Entries>>,
}

/// A routine entered whose first step has not begun.
pub(super) const NO_STEP: u32 = u32::MAX;

/// The one place a blocked thread waits, and the key of its record there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wait {
    /// A sleep or a retry back-off: `(until, thread)` in `sleeps`.
    Sleep(SimTime),
    /// A blocked await: in `waiter_threads`.
    Await(WaiterId),
    /// An outbound call: in `http_waiting`.
    Http(CallId),
    /// A parallel step waiting for its branches, which name it in `parents`.
    Join,
}

impl Shared {
    /// Shared state at `t = 0` whose only thread is main, runnable.
    pub(super) fn new(
        name: ExecutionName,
        seed: u64,
        clock: WallClock,
        steps_max: u64,
        defect: Option<crate::defect::Defect>,
        env: Env,
        points: u32,
    ) -> Shared {
        Shared {
            now: SimTime::ZERO,
            clock,
            callbacks: {
                let mut callbacks = Callbacks::new(name, seed);
                callbacks.set_defect(defect);
                callbacks
            },
            defect,
            uuids: IdGen::with_stream(seed, IdGen::STREAM_UUIDS),
            schedule: IdGen::with_stream(seed, IdGen::STREAM_SCHEDULE),
            env,
            logs: Vec::new(),
            trace: Vec::new(),
            steps: 0,
            steps_max,
            concat_bytes: 0,
            thread_next: 1,
            runnable: {
                let mut q = RunQueue::default();
                q.insert(ThreadId(0));
                q
            },
            wakes: BTreeMap::new(),
            waits: BTreeMap::new(),
            joins: 0,
            touched: Vec::new(),
            waiter_threads: BTreeMap::new(),
            last_awaited: EndpointIdx(0),
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
            entries: None,
            coverage: crate::coverage::Passes {
                points: vec![0; points as usize],
                retries: BTreeMap::new(),
            },
        }
    }

    /// Counts one pass of the point `cover` (a step, a case, an `except`).
    pub(super) fn cover(&mut self, cover: u32) {
        if let Some(c) = self.coverage.points.get_mut(cover as usize) {
            *c += 1;
        }
    }

    /// Thread `tid` begins an entry under `parent` (EX-8), its steps running in `frame`:
    /// its index, or [`NO_ENTRY`] when nothing is recorded. A step's entry is the
    /// commonest: `progress` and `expected` 0.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn begin_entry(
        &mut self,
        tid: ThreadId,
        parent: u32,
        cover: u32,
        kind: Kind,
        progress: u32,
        expected: u32,
        frame: &Frame,
    ) -> u32 {
        match &mut self.entries {
            None => NO_ENTRY,
            Some(e) => e.begin(
                self.now, tid, parent, cover, kind, progress, expected, frame,
            ),
        }
    }

    /// The step whose entry is `id` (the step a sub-entry belongs to); [`NO_STEP`] for none.
    pub(super) fn entry_cover(&self, id: u32) -> u32 {
        self.entries.as_ref().map_or(NO_STEP, |e| e.cover_of(id))
    }

    /// Entry `id` ended now, in `frame`: succeeded, or failed with `error`.
    pub(super) fn finish_entry(&mut self, id: u32, error: Option<&Value>, frame: &Frame) {
        if let Some(e) = &mut self.entries {
            e.finish(id, self.now, error, frame);
        }
    }

    /// Counts retry `attempt` of the `retry` whose point is `cover`.
    pub(super) fn cover_retry(&mut self, cover: u32, attempt: u32) {
        *self.coverage.retries.entry((cover, attempt)).or_insert(0) += 1;
    }

    /// Counts one step (a step of a block, or a retry) against the step limit.
    pub(super) fn count_step(&mut self) -> Result<(), Raised> {
        self.steps += 1;
        if self.steps > self.steps_max {
            return Err(crate::error::builtin(
                crate::error::Tag::ResourceLimitError,
                format!("the execution ran more than {} steps", self.steps_max),
            ));
        }
        Ok(())
    }

    /// Counts the bytes a string `+` is about to build against
    /// [`crate::limits::CONCAT_BYTES_MAX`].
    pub(super) fn count_concat(&mut self, bytes: usize) -> Result<(), Raised> {
        self.concat_bytes = self.concat_bytes.saturating_add(bytes as u64);
        if self.concat_bytes > crate::limits::CONCAT_BYTES_MAX {
            return Err(builtin(
                Tag::ResourceLimitError,
                format!(
                    "string '+' would have built {} bytes in this execution; at most {} \
                     (1 GiB) may be built (a string grown by '+' is copied at every step)",
                    self.concat_bytes,
                    crate::limits::CONCAT_BYTES_MAX
                ),
            ));
        }
        Ok(())
    }

    pub(super) fn push_trace(&mut self, t: Trace) {
        self.trace.push((self.now, t));
    }

    /// Makes `tid` runnable with `wake` queued: whatever it waited in, it waits no more.
    pub(super) fn wake(&mut self, tid: ThreadId, wake: Wake) {
        self.wakes.entry(tid).or_default().push_back(wake);
        self.runnable.insert(tid);
        self.unwait(tid);
        self.touched.push(tid);
    }

    /// The next wake queued for `tid`, which its suspended future takes.
    pub(super) fn take_wake(&mut self, tid: ThreadId) -> Option<Wake> {
        self.wakes.get_mut(&tid).and_then(VecDeque::pop_front)
    }

    /// The executor is about to poll `tid`: the check after this input looks at it.
    pub(super) fn touch(&mut self, tid: ThreadId) {
        self.touched.push(tid);
    }

    fn new_thread(&mut self) -> ThreadId {
        let tid = ThreadId(self.thread_next);
        self.thread_next += 1;
        tid
    }

    /// `tid` waits at `wait`, whose record the caller has just written. Only a running
    /// thread blocks, and a running thread waits nowhere (its wake removed its wait).
    fn wait_at(&mut self, tid: ThreadId, wait: Wait) {
        let before = self.waits.insert(tid, wait);
        assert!(
            before.is_none(),
            "thread {} blocks at {wait:?} while it waits at {before:?}",
            tid.0
        );
        if wait == Wait::Join {
            self.joins += 1;
        }
    }

    /// `tid` waits nowhere (its record is gone, or it never had one).
    fn unwait(&mut self, tid: ThreadId) {
        if let Some(Wait::Join) = self.waits.remove(&tid) {
            self.joins -= 1;
        }
    }

    // What the interpreter asks of the shared state. Threads reach it only through these methods
    // and `Effects` (below), so what a wait records, and how it is traced, is said once.

    pub(super) fn now(&self) -> SimTime {
        self.now
    }

    pub(super) fn clock(&self) -> WallClock {
        self.clock
    }

    /// Forgets `tid`'s queued wakes: a yield queues one only to make its thread runnable.
    pub(super) fn clear_wakes(&mut self, tid: ThreadId) {
        self.wakes.remove(&tid);
    }

    /// `sys.sleep`: `tid` waits until the timer at `until` wakes it.
    pub(super) fn sleep_until(&mut self, tid: ThreadId, until: SimTime) {
        self.sleeps.insert((until, tid));
        self.wait_at(tid, Wait::Sleep(until));
        self.push_trace(Trace::Sleep { thread: tid, until });
    }

    /// RT-2: `tid` waits `delay` on the simulated clock before retry number `attempt`.
    pub(super) fn back_off(&mut self, tid: ThreadId, attempt: u32, delay: Duration) {
        let until = self.now.saturating_add(delay);
        self.sleeps.insert((until, tid));
        self.wait_at(tid, Wait::Sleep(until));
        self.push_trace(Trace::Backoff {
            thread: tid,
            attempt,
            until,
        });
    }

    /// A parallel step `tid` waits for its branches, unless one that ended already woke it:
    /// then it goes on at once, waiting nowhere.
    pub(super) fn join(&mut self, tid: ThreadId) {
        if self.wakes.get(&tid).is_none_or(VecDeque::is_empty) {
            self.wait_at(tid, Wait::Join);
        }
    }

    /// CB-3: the endpoint of this execution whose URL is `url`.
    /// Found by the callback id that ends the URL, then the whole URL compared: a lookup,
    /// not a walk over every endpoint on each await. First, the endpoint awaited last, if
    /// `url` is its very text (the map `events.create_callback_endpoint` made shares it):
    /// an await in a loop finds its endpoint without reading the URL's 150 bytes twice.
    pub(super) fn endpoint_by_url(&self, url: &Rc<str>) -> Option<EndpointIdx> {
        let last = self.last_awaited;
        if self
            .callbacks
            .endpoint(last)
            .is_some_and(|e| e.shares_url(url))
        {
            return Some(last);
        }
        self.endpoint_by_url_text(url)
    }

    /// [`Shared::endpoint_by_url`] by the text alone.
    fn endpoint_by_url_text(&self, url: &str) -> Option<EndpointIdx> {
        let i = self
            .callbacks
            .endpoint_by_callback_id(after_last_slash(url))?;
        (self.callbacks.endpoint(i)?.url() == url).then_some(i)
    }

    /// CB-5, CB-6: `tid` awaits `endpoint`. A blocked await is remembered, so that the
    /// callback event that ends it wakes `tid`.
    pub(super) fn await_callback(
        &mut self,
        tid: ThreadId,
        endpoint: EndpointIdx,
        timeout: Duration,
    ) -> Result<AwaitOutcome, AwaitError> {
        let outcome = self.callbacks.await_callback(self.now, endpoint, timeout)?;
        self.last_awaited = endpoint;
        match &outcome {
            AwaitOutcome::Ready(r) => self.push_trace(Trace::AwaitTook {
                thread: tid,
                endpoint,
                received_at: r.at,
            }),
            AwaitOutcome::Blocked(waiter) => {
                self.waiter_threads.insert(*waiter, tid);
                self.wait_at(tid, Wait::Await(*waiter));
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
    pub(super) fn send_http(
        &mut self,
        tid: ThreadId,
        target: Callee,
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
        self.wait_at(tid, Wait::Http(id));
        self.push_trace(Trace::HttpSent {
            thread: tid,
            call: id,
        });
        id
    }

    /// Records how call `id` ended: the status of its response, the tag it raised.
    pub(super) fn note_http_result(
        &mut self,
        id: CallId,
        status: Option<u16>,
        error: Option<&Raised>,
    ) {
        if let Some(r) = self.http_calls.get_mut(id.0 as usize) {
            r.status = status;
            r.error = error.and_then(|e| crate::error::tags(e).into_iter().next());
            r.message = error.and_then(crate::error::message);
        }
    }

    /// Thread `tid` calls routine `sub` (main, or a subworkflow).
    pub(super) fn enter_routine(&mut self, tid: ThreadId, sub: Rc<crate::defn::Subworkflow>) {
        self.positions.entry(tid).or_default().push((sub, NO_STEP));
    }

    /// Thread `tid` returns from (or unwinds out of) the routine it entered last.
    pub(super) fn leave_routine(&mut self, tid: ThreadId) {
        if let Some(stack) = self.positions.get_mut(&tid) {
            stack.pop();
        }
    }

    /// Thread `tid` begins the step whose coverage point is `cover`.
    pub(super) fn at_step(&mut self, tid: ThreadId, cover: u32) {
        if let Some((_, at)) = self.positions.get_mut(&tid).and_then(|s| s.last_mut()) {
            *at = cover;
        }
        self.last_thread = tid;
    }

    /// A new branch thread of `parent`; the parallel step's name for it goes in the trace.
    pub(super) fn start_branch(&mut self, parent: ThreadId, branch: String) -> ThreadId {
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
    pub(super) fn spawn(&mut self, tid: ThreadId, fut: BoxFut<'static, ()>) {
        self.spawned.push((tid, fut));
    }

    /// Branch `tid` ended with `res`; its parent, waiting on its branches, is woken with it.
    pub(super) fn end_branch(&mut self, tid: ThreadId, parent: ThreadId, res: Result<(), Unwind>) {
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
    pub(super) fn abort(&mut self, tids: impl IntoIterator<Item = ThreadId>) {
        self.aborted.extend(tids);
    }
}

/// The execution, as the standard library sees it.
impl Effects for Shared {
    fn now_unix_nanos(&self) -> i128 {
        self.clock.unix_nanos_at(self.now)
    }
    fn uuid(&mut self) -> String {
        self.uuids.uuid()
    }
    fn env(&self, name: &str) -> Option<String> {
        let n = self.callbacks.name();
        Some(match name {
            "GOOGLE_CLOUD_PROJECT_ID" => n.project.clone(),
            "GOOGLE_CLOUD_LOCATION" => n.location.clone(),
            "GOOGLE_CLOUD_WORKFLOW_ID" => n.workflow.clone(),
            "GOOGLE_CLOUD_WORKFLOW_REVISION_ID" => self.env.revision_id.to_string(),
            "GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID" => n.execution_id.clone(),
            "GOOGLE_CLOUD_PROJECT_NUMBER" => PROJECT_NUMBER.to_owned(),
            "GOOGLE_CLOUD_SERVICE_ACCOUNT_NAME" => {
                format!("{PROJECT_NUMBER}-compute@developer.gserviceaccount.com")
            }
            // A user's name never shadows a built-in one (`stdlib::env_name_error`).
            _ => return self.env.user.get(name).cloned(),
        })
    }
    fn log(&mut self, severity: String, payload: LogPayload) {
        let at = self.now;
        self.logs.push(LogEntry {
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
        let url = self.callbacks.endpoint(idx).expect("created").url_shared();
        Ok(Value::map([("url", Value::Str(url))]))
    }
}

/// The inputs' side: what ends waits, stops threads and ends the shared state.
impl Shared {
    /// Moves the clock to `now`; it never goes back.
    pub(super) fn set_now(&mut self, now: SimTime) {
        assert!(now >= self.now, "simulated time went backwards");
        self.now = now;
        self.callbacks.advance(now);
    }

    /// Hands the callback events to the threads that wait for them.
    pub(super) fn pump(&mut self) {
        while let Some(event) = self.callbacks.poll_event() {
            match event {
                Event::Resumed {
                    waiter,
                    endpoint,
                    received,
                } => {
                    if let Some(tid) = self.waiter_threads.remove(&waiter) {
                        self.push_trace(Trace::AwaitResumed {
                            thread: tid,
                            endpoint,
                        });
                        self.wake(tid, Wake::Callback(Ok(received)));
                    }
                }
                Event::TimedOut {
                    waiter,
                    endpoint,
                    timeout,
                    ..
                } => {
                    if let Some(tid) = self.waiter_threads.remove(&waiter) {
                        self.push_trace(Trace::AwaitTimedOut {
                            thread: tid,
                            endpoint,
                        });
                        self.wake(tid, Wake::Callback(Err(timeout)));
                    }
                }
            }
        }
    }

    /// Wakes the sleeps due at or before `now`, then the outbound calls whose timeout has
    /// passed (HT-3).
    pub(super) fn fire_timers(&mut self, now: SimTime) {
        while let Some(&(at, tid)) = self.sleeps.first() {
            if at > now {
                break;
            }
            self.sleeps.pop_first();
            self.wake(tid, Wake::Timer);
        }
        while let Some(&(at, id)) = self.http_deadlines.first() {
            if at > now {
                break;
            }
            self.http_deadlines.pop_first();
            if let Some((tid, _)) = self.http_waiting.remove(&id) {
                self.push_trace(Trace::HttpTimedOut {
                    thread: tid,
                    call: id,
                });
                self.wake(tid, Wake::Http(Err(())));
            }
        }
    }

    /// HT-4: the answer to call `id` wakes its thread, if it still waits for one.
    pub(super) fn answer_http(&mut self, now: SimTime, id: CallId, outcome: HttpOutcome) -> bool {
        let Some((tid, deadline)) = self.http_waiting.remove(&id) else {
            return false;
        };
        self.http_deadlines.remove(&(deadline, id));
        if let Some(r) = self.http_calls.get_mut(id.0 as usize) {
            r.answered_at = Some(now);
        }
        self.push_trace(Trace::HttpAnswered {
            thread: tid,
            call: id,
        });
        self.wake(tid, Wake::Http(Ok(outcome)));
        true
    }

    /// The next instant at which a timer of this execution is due: `now` itself while a thread
    /// is runnable.
    pub(super) fn next_due(&self, limit: SimTime) -> Option<SimTime> {
        if !self.runnable.is_empty() {
            return Some(self.now);
        }
        [
            self.callbacks.poll_timeout(),
            self.sleeps.first().map(|&(t, _)| t),
            self.http_deadlines.first().map(|&(t, _)| t),
            Some(limit),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// `roots` and every thread they started, and those started, and so on.
    pub(super) fn descendants(&self, roots: Vec<ThreadId>) -> BTreeSet<ThreadId> {
        let mut children: BTreeMap<ThreadId, Vec<ThreadId>> = BTreeMap::new();
        for (&child, &parent) in &self.parents {
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
    }

    /// Forgets the stopped threads `doomed`, withdrawing whatever they waited for. All at
    /// once, one pass over each index: a failed parallel step may stop thousands of
    /// branches, and stopping them one by one walked every index once per branch.
    pub(super) fn forget_threads(&mut self, doomed: &BTreeSet<ThreadId>) {
        let now = self.now;
        // The last thread to begin a step is stopped: where it was is the nearest ancestor
        // left (the parallel step that stops it).
        while doomed.contains(&self.last_thread) {
            match self.parents.get(&self.last_thread) {
                Some(&up) => self.last_thread = up,
                None => break,
            }
        }
        if let Some(e) = &mut self.entries {
            e.stop(now, EntryState::Cancelled, |t| doomed.contains(&t));
        }
        for &t in doomed {
            self.positions.remove(&t);
            self.runnable.remove(t);
            self.wakes.remove(&t);
            self.parents.remove(&t);
            self.unwait(t);
        }
        self.touched.extend(doomed);
        self.sleeps.retain(|(_, t)| !doomed.contains(t));
        let calls: Vec<CallId> = self
            .http_waiting
            .iter()
            .filter(|(_, (t, _))| doomed.contains(t))
            .map(|(id, _)| *id)
            .collect();
        for id in calls {
            if let Some((_, deadline)) = self.http_waiting.remove(&id) {
                self.http_deadlines.remove(&(deadline, id));
            }
        }
        let waiters: BTreeSet<WaiterId> = self
            .waiter_threads
            .iter()
            .filter(|(_, t)| doomed.contains(t))
            .map(|(wid, _)| *wid)
            .collect();
        for wid in &waiters {
            self.waiter_threads.remove(wid);
        }
        self.callbacks.abandon_awaits(now, &waiters);
    }

    /// The execution ended in `state`: nothing waits any more, and where it ended is all
    /// that stays of where its threads were. The executor has dropped every thread.
    pub(super) fn end(&mut self, state: ExecutionState) {
        let now = self.now;
        self.callbacks.finish(now, state);
        self.runnable.clear();
        self.wakes.clear();
        self.waits.clear();
        self.joins = 0;
        self.sleeps.clear();
        self.http_waiting.clear();
        self.http_deadlines.clear();
        self.waiter_threads.clear();
        self.spawned.clear();
        let last = self.last_thread;
        self.positions.retain(|&t, _| t == last);
        // Entries still open end with the execution: a cancel cancels them, and a failure
        // no step raised (EX-5) fails them.
        if let Some(e) = &mut self.entries {
            let left = match state {
                ExecutionState::Failed => EntryState::Failed,
                _ => EntryState::Cancelled,
            };
            e.stop(now, left, |_| true);
        }
        self.push_trace(Trace::Ended { state });
    }

    /// The interpreter's invariants, checked after every input as [`Callbacks`] checks its
    /// own: each blocked thread (one with a future that is not runnable) waits in exactly
    /// one place, a sleep, an await, an outbound call or a branch join, and every waiting
    /// record belongs to a blocked thread. In full for the threads the input ran, woke or
    /// stopped, so that an execution with many waiting branches pays per input only for
    /// what changed (a few lookups each); across all threads by counts, in constant time.
    /// `live` says whether a thread has a future; `n_live` is how many do.
    pub(super) fn check_invariants(&mut self, live: impl Fn(ThreadId) -> bool, n_live: usize) {
        let mut touched = std::mem::take(&mut self.touched);
        touched.sort_unstable();
        touched.dedup();
        for &t in &touched {
            let runnable = self.runnable.contains(t);
            let alive = live(t);
            assert!(alive || !runnable, "thread {} is runnable but gone", t.0);
            // A wake is queued only for a runnable thread: a blocked one would never see it.
            assert!(
                runnable || self.wakes.get(&t).is_none_or(VecDeque::is_empty),
                "thread {} has a wake but is not runnable",
                t.0
            );
            let blocked = alive && !runnable;
            match self.waits.get(&t) {
                None => assert!(!blocked, "thread {} is blocked but waits nowhere", t.0),
                Some(&wait) => {
                    assert!(
                        blocked,
                        "thread {} is not blocked but waits at {wait:?}",
                        t.0
                    );
                    let recorded = match wait {
                        Wait::Sleep(until) => self.sleeps.contains(&(until, t)),
                        Wait::Await(w) => self.waiter_threads.get(&w) == Some(&t),
                        Wait::Http(id) => self.http_waiting.get(&id).is_some_and(|r| r.0 == t),
                        // Its branches name it; they are checked as they run and end.
                        Wait::Join => true,
                    };
                    assert!(recorded, "thread {} waits at {wait:?} with no record", t.0);
                }
            }
            // A branch's parent outlives it: it waits for it to end.
            if let Some(&parent) = self.parents.get(&t).filter(|_| alive) {
                assert!(
                    live(parent),
                    "thread {} outlived its parent {}",
                    t.0,
                    parent.0
                );
            }
        }
        // Every blocked thread waits somewhere (the runnable ones all have futures, above
        // for the touched and by construction for the rest) ...
        assert_eq!(
            self.waits.len() + self.runnable.len(),
            n_live,
            "blocked threads and where they wait"
        );
        // ... and every record is one of those waits: a thread in two places, or a record
        // left behind by a thread woken or stopped, makes one record too many.
        assert_eq!(
            self.sleeps.len() + self.waiter_threads.len() + self.http_waiting.len() + self.joins,
            self.waits.len(),
            "waiting records and waiting threads"
        );
        assert_eq!(self.http_deadlines.len(), self.http_waiting.len());
        touched.clear();
        self.touched = touched;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIN: ThreadId = ThreadId(0);

    fn shared() -> Shared {
        let name = ExecutionName {
            base_url: String::new(),
            project: "p".into(),
            location: "l".into(),
            workflow: "w".into(),
            execution_id: "e".into(),
        };
        Shared::new(
            name,
            0,
            WallClock::DEFAULT,
            crate::limits::STEPS_MAX,
            None,
            Env {
                user: BTreeMap::new(),
                revision_id: "".into(),
            },
            0,
        )
    }

    /// SPEC §7: string `+` may build exactly CONCAT_BYTES_MAX bytes over an execution; the
    /// byte after is refused, and so is every later sum.
    #[test]
    fn the_concatenation_budget_holds_exactly_its_bytes() {
        let max = usize::try_from(crate::limits::CONCAT_BYTES_MAX).unwrap();
        let mut w = shared();
        assert!(w.count_concat(max - 1).is_ok());
        assert!(w.count_concat(1).is_ok(), "exactly the budget");
        let over = w.count_concat(1).unwrap_err();
        assert_eq!(crate::error::tags(&over), ["ResourceLimitError"]);
        assert!(w.count_concat(0).is_err(), "past it, nothing more");
    }

    /// CB-3: looking first at the endpoint awaited last finds what the URL's text finds,
    /// whichever endpoint that was: its own shared URL, a copy of any URL, a foreign one.
    #[test]
    fn the_endpoint_awaited_last_is_found_as_by_its_urls_text() {
        let mut w = shared();
        let urls: Vec<Rc<str>> = (0..3)
            .map(
                |_| match w.create_callback_endpoint("POST").unwrap().get("url") {
                    Some(Value::Str(u)) => Rc::clone(u),
                    other => panic!("{other:?}"),
                },
            )
            .collect();
        let foreign: Rc<str> = format!("{}0", urls[0]).into();
        for awaited in 0..4 {
            w.last_awaited = EndpointIdx(awaited);
            for (i, url) in urls.iter().enumerate() {
                let copy: Rc<str> = Rc::from(&**url);
                let by_text = w.endpoint_by_url_text(url);
                assert_eq!(by_text, Some(EndpointIdx(i as u32)));
                assert_eq!(w.endpoint_by_url(url), by_text);
                assert_eq!(w.endpoint_by_url(&copy), by_text);
            }
            assert_eq!(w.endpoint_by_url(&foreign), None);
        }
    }

    /// Main has run (the executor took it off the run queue) and blocked in `sys.sleep`.
    fn main_asleep() -> Shared {
        let mut w = shared();
        assert!(w.runnable.remove(MAIN));
        w.touch(MAIN);
        w.sleep_until(MAIN, SimTime::from_secs(10));
        w
    }

    fn check_main_only(w: &mut Shared) {
        w.check_invariants(|t| t == MAIN, 1);
    }

    #[test]
    fn a_thread_blocked_in_one_place_passes() {
        let mut w = main_asleep();
        check_main_only(&mut w);
        // The timer fires: main is runnable and waits nowhere.
        w.fire_timers(SimTime::from_secs(10));
        check_main_only(&mut w);
    }

    #[test]
    #[should_panic(expected = "waiting records and waiting threads")]
    fn a_record_left_behind_by_a_woken_thread_is_caught() {
        let mut w = main_asleep();
        // Woken as if by its timer, but its sleep stays recorded.
        w.wake(MAIN, Wake::Timer);
        check_main_only(&mut w);
    }

    #[test]
    #[should_panic(expected = "is blocked but waits nowhere")]
    fn a_blocked_thread_waiting_nowhere_is_caught() {
        let mut w = shared();
        // Main ran and blocked without saying on what: nothing would ever wake it.
        w.runnable.remove(MAIN);
        w.touch(MAIN);
        check_main_only(&mut w);
    }

    /// Caught as it happens: a thread that blocks again while it waits.
    #[test]
    #[should_panic(expected = "blocks at Http(CallId(0)) while it waits at Some(Sleep(")]
    fn a_thread_waiting_in_two_places_is_caught() {
        let mut w = main_asleep();
        let target = Callee::Connector {
            name: "googleapis.x.v1.y".into(),
            args: Value::Null,
        };
        w.send_http(MAIN, target, Duration::from_secs(1), None);
        check_main_only(&mut w);
    }

    #[test]
    #[should_panic(expected = "is not blocked but waits at Sleep")]
    fn a_stopped_thread_still_waiting_is_caught() {
        let mut w = main_asleep();
        // Branch 1 sleeps, then is stopped: its future is gone but its sleep was kept.
        let branch = w.start_branch(MAIN, "b".into());
        w.sleep_until(branch, SimTime::from_secs(5));
        w.touch(branch);
        w.check_invariants(|t| t == MAIN, 1);
    }
}

/// What follows the last `/` of `s` (all of it without one), as `s.rsplit('/').next()`:
/// found by `memchr`'s search, as `rsplit`'s searcher cost 270 instructions an await to
/// set up for a 73-byte callback id (callgrind, `live --api`).
fn after_last_slash(s: &str) -> &str {
    memchr::memrchr(b'/', s.as_bytes()).map_or(s, |at| &s[at + 1..])
}

#[cfg(test)]
mod after_last_slash_tests {
    use super::after_last_slash;

    /// As `rsplit('/').next()` wherever the last slash is: in a word, in the head, past
    /// bytes a carry could mistake (`.`, `0`, 0x80 and above), or nowhere.
    #[test]
    fn after_last_slash_is_rsplits_last_piece() {
        let base = "ab.0\u{80}xyz0123456789-._é~abcdefgh_ijklmnop";
        for len in 0..base.len() {
            let Some(s) = base.get(..len) else { continue };
            assert_eq!(after_last_slash(s), s);
            for i in (0..=len).filter(|&i| s.is_char_boundary(i)) {
                for other in 0..=i {
                    let mut t = s.to_owned();
                    t.insert(i, '/');
                    if s.is_char_boundary(other) {
                        t.insert(other, '/');
                    }
                    assert_eq!(after_last_slash(&t), t.rsplit('/').next().unwrap(), "{t}");
                }
            }
        }
    }
}
