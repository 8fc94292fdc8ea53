//! The callback slots of one execution: SPEC §1–§3 (CB-1 … CB-12), sans I/O. One piece
//! (about 740 lines with its tests): the slot rule, the timers and the invariants checked
//! after every input are one state machine over the same fields, read together.
//!
//! The host drives it in the manner of `quinn-proto`:
//!
//! - **inputs** take `now` and never read a clock: [`Callbacks::create_endpoint`],
//!   [`Callbacks::await_callback`], [`Callbacks::deliver`], [`Callbacks::advance`],
//!   [`Callbacks::handle_timeout`], [`Callbacks::finish`];
//! - **outputs** are polled after every input: [`Callbacks::poll_event`] until it returns
//!   `None`, then [`Callbacks::poll_timeout`] for the next instant the host must call
//!   `handle_timeout`.
//!
//! Every input at `now` first fires the timers due strictly before `now`, so a host that
//! is late with `handle_timeout` still sees the right outcome. Timers due exactly at `now`
//! fire only in `handle_timeout(now)`: a host that delivers the requests of an instant
//! before calling it gets SPEC's rule that a request arriving at an await's deadline is
//! taken.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use crate::defect::Defect;
use crate::ids::IdGen;
use crate::request::{CallbackRequest, Method, Received};
use crate::time::SimTime;

/// SPEC §3 step 4: a body over 512 KiB is answered 413 ([`crate::limits`]).
pub use crate::limits::CALLBACK_BODY_BYTES_MAX as BODY_BYTES_MAX;

/// CB-4: the timeout of `events.await_callback` when none is given, 12 hours.
pub const AWAIT_TIMEOUT_DEFAULT: Duration = Duration::from_secs(43_200);

/// An endpoint's position in creation order within its execution: 0, 1, …
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EndpointIdx(pub u32);

/// One blocked await. Ids grow in the order awaits start, so a queue of waiters sorted by
/// id is in await order (CB-12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WaiterId(pub u64);

/// EX-1: the states of an execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExecutionState {
    Active,
    Succeeded,
    Failed,
    Cancelled,
}

impl ExecutionState {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionState::Active => "ACTIVE",
            ExecutionState::Succeeded => "SUCCEEDED",
            ExecutionState::Failed => "FAILED",
            ExecutionState::Cancelled => "CANCELLED",
        }
    }
}

impl fmt::Display for ExecutionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// SPEC §3 step 2: the host's verdict on the request's bearer token. The engine knows no
/// tokens; it only places the verdict in the order of the slot rule. Engine-level runs,
/// which have no tokens, pass `Granted`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    Granted,
    /// No token, or an invalid or expired one: 401.
    Unauthenticated,
    /// A valid token without `workflows.callbacks.send`: 403.
    PermissionDenied,
}

/// Where the execution and its endpoints live; the parts of every callback URL (CB-1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutionName {
    /// Scheme and authority, e.g. `http://127.0.0.1:8080`; empty for a path-only URL.
    pub base_url: String,
    pub project: String,
    pub location: String,
    pub workflow: String,
    pub execution_id: String,
}

impl ExecutionName {
    /// `/v1/projects/<p>/locations/<l>/workflows/<w>/executions/<id>`
    pub fn path(&self) -> String {
        let mut out = String::with_capacity(self.path_len());
        self.push_path(&mut out);
        out
    }

    /// The length of [`ExecutionName::path`].
    pub fn path_len(&self) -> usize {
        let fixed = "/v1/projects//locations//workflows//executions/".len();
        fixed
            + self.project.len()
            + self.location.len()
            + self.workflow.len()
            + self.execution_id.len()
    }

    /// [`ExecutionName::path`], appended to `out`: every endpoint's URL and every request's
    /// path start with it.
    pub fn push_path(&self, out: &mut String) {
        for part in [
            "/v1/projects/",
            &self.project,
            "/locations/",
            &self.location,
            "/workflows/",
            &self.workflow,
            "/executions/",
            &self.execution_id,
        ] {
            out.push_str(part);
        }
    }
}

/// A request accepted with 200.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// SPEC §3 step 5: handed to this waiter, which resumes.
    Taken(WaiterId),
    /// SPEC §3 step 6: stored in the endpoint's free slot.
    Buffered,
}

/// A request refused. CB-9: a refusal changes nothing in the execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// Step 1: the execution has ended (CB-11).
    ExecutionEnded { state: ExecutionState },
    /// Step 1: this execution has no endpoint with that callback id.
    NoSuchEndpoint { callback_id: String },
    /// Step 2.
    Unauthenticated,
    /// Step 2.
    PermissionDenied,
    /// Step 3. **(decision)**
    MethodNotAllowed { allow: Method, got: String },
    /// Step 4. **(decision)**
    PayloadTooLarge { body_bytes: usize },
    /// Step 7: the slot is full and no await is waiting.
    SlotFull,
}

impl Rejection {
    /// The HTTP status of CB-13.
    pub fn http_status(&self) -> u16 {
        match self {
            Rejection::ExecutionEnded { .. } | Rejection::NoSuchEndpoint { .. } => 404,
            Rejection::Unauthenticated => 401,
            Rejection::PermissionDenied => 403,
            Rejection::MethodNotAllowed { .. } => 405,
            Rejection::PayloadTooLarge { .. } => 413,
            Rejection::SlotFull => 429,
        }
    }

    /// The Google API error status of CB-13.
    pub fn google_status(&self) -> &'static str {
        match self {
            Rejection::ExecutionEnded { .. } | Rejection::NoSuchEndpoint { .. } => "NOT_FOUND",
            Rejection::Unauthenticated => "UNAUTHENTICATED",
            Rejection::PermissionDenied => "PERMISSION_DENIED",
            Rejection::MethodNotAllowed { .. } => "FAILED_PRECONDITION",
            Rejection::PayloadTooLarge { .. } => "INVALID_ARGUMENT",
            Rejection::SlotFull => "RESOURCE_EXHAUSTED",
        }
    }
}

impl fmt::Display for Rejection {
    /// The message of the error body: what happened and what to do about it. (The common
    /// refusals are written as pieces: explore words thousands of them per second.)
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::ExecutionEnded { state } => {
                f.write_str("the execution has ended (")?;
                f.write_str(state.as_str())?;
                f.write_str(
                    "); its callback endpoints accept requests only while it is ACTIVE",
                )
            }
            Rejection::NoSuchEndpoint { callback_id } => write!(
                f,
                "this execution has no callback endpoint '{callback_id}'; use the url returned by events.create_callback_endpoint"
            ),
            Rejection::Unauthenticated => write!(
                f,
                "missing, invalid or expired credentials; send 'Authorization: Bearer <access token>'"
            ),
            Rejection::PermissionDenied => write!(
                f,
                "the caller lacks permission 'workflows.callbacks.send' on this workflow"
            ),
            Rejection::MethodNotAllowed { allow, got } => write!(
                f,
                "this callback endpoint accepts {allow} requests, not {got}"
            ),
            Rejection::PayloadTooLarge { body_bytes } => write!(
                f,
                "the request body is {body_bytes} bytes; a callback accepts at most {BODY_BYTES_MAX} bytes (512 KiB)"
            ),
            Rejection::SlotFull => f.write_str(
                "the callback endpoint already holds a request the workflow has not awaited yet; retry later (retrying is safe)",
            ),
        }
    }
}

/// The answer to one request: `Ok` is 200, `Err` carries the refusal. (Not
/// `wfsim_server::Delivery`, the server's journal entry of a request and its answer.)
pub type DeliveryResult = Result<Accepted, Rejection>;

/// The HTTP status of a delivery: 200, or the rejection's status.
pub fn http_status(delivery: &DeliveryResult) -> u16 {
    match delivery {
        Ok(_) => 200,
        Err(rejection) => rejection.http_status(),
    }
}

/// What an await did at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AwaitOutcome {
    /// CB-5: the endpoint held a request; the await took it without waiting.
    Ready(Received),
    /// CB-6: the await waits; an [`Event`] will say how it ends.
    Blocked(WaiterId),
}

/// Why an await could not start. Both are mistakes of the host, not of the workflow: the
/// interpreter maps a foreign callback map to `ValueError` (CB-3) before it gets here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AwaitError {
    NotActive,
    NoSuchEndpoint,
}

impl fmt::Display for AwaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AwaitError::NotActive => "the execution is no longer active",
            AwaitError::NoSuchEndpoint => "no such callback endpoint",
        })
    }
}

/// Something that happened to a waiter, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// SPEC §3 step 5: the waiter was handed a request at `received.at`.
    Resumed {
        waiter: WaiterId,
        endpoint: EndpointIdx,
        received: Received,
    },
    /// CB-6: the waiter's timeout passed at `at`; the await raises `TimeoutError`.
    TimedOut {
        waiter: WaiterId,
        endpoint: EndpointIdx,
        at: SimTime,
        timeout: Duration,
    },
}

/// What the end of the execution let go (CB-11).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ended {
    /// Buffered requests that no await will ever take.
    pub dropped: Vec<(EndpointIdx, Received)>,
    /// Awaits still blocked, in await order.
    pub abandoned: Vec<WaiterId>,
}

/// Per-endpoint tallies for CB-10: `accepted = taken + dropped + buffered`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndpointCounts {
    pub accepted: u64,
    pub taken: u64,
    pub dropped: u64,
}

/// One callback endpoint (CB-1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    callback_id: Rc<str>,
    method: Method,
    url: Rc<str>,
    created_at: SimTime,
    /// The one buffer slot (SPEC §3). Boxed: a request is a few hundred bytes, most slots
    /// are empty, and every endpoint of every waiting execution would carry its size.
    buffer: Option<Box<Received>>,
    /// Blocked awaits, first to start first (CB-12).
    waiters: VecDeque<WaiterId>,
    counts: EndpointCounts,
}

impl Endpoint {
    pub fn callback_id(&self) -> &str {
        &self.callback_id
    }
    pub fn method(&self) -> Method {
        self.method
    }
    /// The full URL that `events.create_callback_endpoint` returns (CB-1).
    pub fn url(&self) -> &str {
        &self.url
    }
    /// [`Endpoint::url`] as shared text: a workflow's string value of it needs no copy.
    pub fn url_shared(&self) -> Rc<str> {
        Rc::clone(&self.url)
    }
    /// Whether `url` is this endpoint's URL itself, shared ([`Endpoint::url_shared`]), not
    /// a copy: then it is the URL without a byte compared.
    pub fn shares_url(&self, url: &Rc<str>) -> bool {
        Rc::ptr_eq(&self.url, url)
    }
    pub fn created_at(&self) -> SimTime {
        self.created_at
    }
    pub fn buffered(&self) -> Option<&Received> {
        self.buffer.as_deref()
    }
    pub fn waiters(&self) -> impl ExactSizeIterator<Item = WaiterId> + Clone + '_ {
        self.waiters.iter().copied()
    }
    pub fn counts(&self) -> EndpointCounts {
        self.counts
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Waiter {
    endpoint: EndpointIdx,
    deadline: SimTime,
    timeout: Duration,
}

/// The callback endpoints of one execution and the awaits blocked on them.
///
/// `Clone + PartialEq` compare the whole state, ids stream included: the CB-9 checks take a
/// copy before a request and compare after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Callbacks {
    /// Shared, not copied, by clones: a simulation clones this state at every branch.
    name: Rc<ExecutionName>,
    state: ExecutionState,
    now: SimTime,
    ids: IdGen,
    endpoints: Vec<Endpoint>,
    by_callback_id: BTreeMap<Rc<str>, EndpointIdx>,
    waiters: BTreeMap<WaiterId, Waiter>,
    /// Deadlines of blocked awaits; the id breaks ties in await order, every run alike.
    timers: BTreeSet<(SimTime, WaiterId)>,
    waiter_id_next: u64,
    events: VecDeque<Event>,
    /// Test-only: a rule broken on purpose (`crate::defect`); `None` but in those tests.
    defect: Option<Defect>,
}

impl Callbacks {
    /// The callbacks of a new, ACTIVE execution at `t = 0`. Callback ids come from `seed`
    /// (CB-2).
    pub fn new(name: ExecutionName, seed: u64) -> Callbacks {
        Callbacks {
            name: Rc::new(name),
            state: ExecutionState::Active,
            now: SimTime::ZERO,
            ids: IdGen::with_stream(seed, IdGen::STREAM_CALLBACKS),
            endpoints: Vec::new(),
            by_callback_id: BTreeMap::new(),
            waiters: BTreeMap::new(),
            timers: BTreeSet::new(),
            waiter_id_next: 0,
            events: VecDeque::new(),
            defect: None,
        }
    }

    /// Test-only: breaks one rule on purpose (`wfsim serve --defect`).
    pub fn set_defect(&mut self, defect: Option<Defect>) {
        self.defect = defect;
    }

    // Getters.

    pub fn name(&self) -> &ExecutionName {
        &self.name
    }
    pub fn state(&self) -> ExecutionState {
        self.state
    }
    /// The latest instant an input was given at.
    pub fn now(&self) -> SimTime {
        self.now
    }
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }
    pub fn endpoint(&self, idx: EndpointIdx) -> Option<&Endpoint> {
        self.endpoints.get(idx.0 as usize)
    }
    pub fn endpoint_by_callback_id(&self, callback_id: &str) -> Option<EndpointIdx> {
        self.by_callback_id.get(callback_id).copied()
    }

    // Inputs.

    /// CB-1: a new endpoint for `method`, accepting requests from this moment. Returns
    /// `None` once the execution has ended.
    pub fn create_endpoint(&mut self, now: SimTime, method: Method) -> Option<EndpointIdx> {
        let fired = self.catch_up(now);
        if self.state != ExecutionState::Active {
            return None;
        }
        let idx = EndpointIdx(u32::try_from(self.endpoints.len()).expect("u32 endpoints"));
        let callback_id: Rc<str> = self.ids.callback_id().into();
        let mut url = String::with_capacity(
            self.name.base_url.len()
                + self.name.path_len()
                + "/callbacks/".len()
                + callback_id.len(),
        );
        url.push_str(&self.name.base_url);
        self.name.push_path(&mut url);
        url.push_str("/callbacks/");
        url.push_str(&callback_id);
        let url = url.into();
        self.by_callback_id.insert(Rc::clone(&callback_id), idx);
        // Most executions make one endpoint: room for one, not the four a first push takes.
        self.endpoints
            .reserve_exact(usize::from(self.endpoints.is_empty()));
        self.endpoints.push(Endpoint {
            callback_id,
            method,
            url,
            created_at: now,
            buffer: None,
            waiters: VecDeque::new(),
            counts: EndpointCounts::default(),
        });
        self.check_touched(fired, Some(idx));
        Some(idx)
    }

    /// CB-4 … CB-6: an await on `endpoint` that gives up after `timeout`.
    pub fn await_callback(
        &mut self,
        now: SimTime,
        endpoint: EndpointIdx,
        timeout: Duration,
    ) -> Result<AwaitOutcome, AwaitError> {
        let fired = self.catch_up(now);
        if self.state != ExecutionState::Active {
            return Err(AwaitError::NotActive);
        }
        let ep = self
            .endpoints
            .get_mut(endpoint.0 as usize)
            .ok_or(AwaitError::NoSuchEndpoint)?;
        // CB-5: a buffered request is taken at once and the slot is free again.
        if let Some(received) = ep.buffer.take() {
            ep.counts.taken += 1;
            self.check_touched(fired, Some(endpoint));
            return Ok(AwaitOutcome::Ready(*received));
        }
        // CB-6, CB-12: wait, behind every await that started earlier.
        let waiter = WaiterId(self.waiter_id_next);
        self.waiter_id_next += 1;
        let mut deadline = now.saturating_add(timeout);
        if self.defect == Some(Defect::TimerTickLate) {
            deadline = deadline.saturating_add(Duration::from_millis(1));
        }
        ep.waiters.push_back(waiter);
        self.waiters.insert(
            waiter,
            Waiter {
                endpoint,
                deadline,
                timeout,
            },
        );
        self.timers.insert((deadline, waiter));
        self.check_touched(fired, Some(endpoint));
        Ok(AwaitOutcome::Blocked(waiter))
    }

    /// A request arrives at the endpoint `callback_id`: the slot rule decides its answer.
    pub fn deliver(
        &mut self,
        now: SimTime,
        callback_id: &str,
        auth: Auth,
        request: CallbackRequest,
    ) -> DeliveryResult {
        let fired = self.catch_up(now);
        let target = self.by_callback_id.get(callback_id).copied();
        let delivery = self.slot_rule(callback_id, target, auth, request);
        self.check_touched(fired, target);
        delivery
    }

    /// Moves the clock to `now`, firing the await timeouts due strictly before it (CB-6).
    /// Timeouts due exactly at `now` wait for `handle_timeout(now)`, so the requests of the
    /// instant, delivered in between, come first.
    pub fn advance(&mut self, now: SimTime) {
        let touched = self.catch_up(now);
        self.check_invariants(&touched);
    }

    /// Fires every await timeout due at or before `now` (CB-6). A call with nothing due does
    /// nothing.
    pub fn handle_timeout(&mut self, now: SimTime) {
        let mut touched = self.catch_up(now);
        touched.extend(self.fire_timers(|deadline| deadline <= now));
        self.check_invariants(&touched);
    }

    /// Withdraws a blocked await whose branch was stopped (a failed parallel step): it
    /// leaves its queue without an event, as if it had never waited. Returns whether it was
    /// still waiting.
    pub fn abandon_await(&mut self, now: SimTime, waiter: WaiterId) -> bool {
        self.abandon_awaits(now, &BTreeSet::from([waiter])) == 1
    }

    /// [`Callbacks::abandon_await`] for many at once, one pass over each queue they were in
    /// (thousands of branches may stop together). Returns how many were still waiting.
    pub fn abandon_awaits(&mut self, now: SimTime, waiters: &BTreeSet<WaiterId>) -> usize {
        let mut touched = self.catch_up(now);
        let mut queues = BTreeSet::new();
        for waiter in waiters {
            if let Some(w) = self.waiters.remove(waiter) {
                assert!(self.timers.remove(&(w.deadline, *waiter)));
                queues.insert(w.endpoint);
            }
        }
        let mut abandoned = 0;
        for &ep in &queues {
            let queue = &mut self.endpoints[ep.0 as usize].waiters;
            let before = queue.len();
            queue.retain(|q| !waiters.contains(q));
            abandoned += before - queue.len();
            touched.push(ep);
        }
        self.check_invariants(&touched);
        abandoned
    }

    /// CB-11, EX-3: the execution ends in `state`. The buffered requests are dropped, the
    /// waiters abandoned, and every later request is answered 404. Returns `None` if it had
    /// already ended.
    pub fn finish(&mut self, now: SimTime, state: ExecutionState) -> Option<Ended> {
        assert_ne!(
            state,
            ExecutionState::Active,
            "an execution ends in a final state"
        );
        // Every endpoint is checked below, the ones whose timers fire here among them.
        let _ = self.catch_up(now);
        if self.state != ExecutionState::Active {
            return None;
        }
        self.state = state;
        let mut ended = Ended::default();
        let keep_buffer = self.defect == Some(Defect::BufferKeptAfterEnd);
        for (i, ep) in self.endpoints.iter_mut().enumerate() {
            if keep_buffer {
                ep.waiters.clear();
                continue;
            }
            if let Some(received) = ep.buffer.take() {
                ep.counts.dropped += 1;
                ended.dropped.push((EndpointIdx(i as u32), *received));
            }
            ep.waiters.clear();
        }
        ended.abandoned = self.waiters.keys().copied().collect();
        self.waiters.clear();
        self.timers.clear();
        let all: Vec<EndpointIdx> = (0..self.endpoints.len() as u32).map(EndpointIdx).collect();
        self.check_invariants(&all);
        Some(ended)
    }

    // Outputs.

    /// The next thing that happened to a waiter, oldest first.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The earliest instant at which `handle_timeout` has work to do.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<SimTime> {
        self.timers.first().map(|&(deadline, _)| deadline)
    }

    // The rule.

    /// SPEC §3, the slot rule, the one place it is written. In this order:
    ///
    /// 1. the execution is not ACTIVE, or has no such endpoint: 404;
    /// 2. (live mode) no, invalid or expired token: 401; no `workflows.callbacks.send`: 403;
    /// 3. the method is not the endpoint's: 405;
    /// 4. the body is over 512 KiB: 413;
    /// 5. a waiter exists: the first waiter takes the request and resumes: 200;
    /// 6. the buffer slot is free: the request is stored: 200;
    /// 7. otherwise: 429.
    ///
    /// CB-9: every refusal returns before anything is changed.
    ///
    /// `target` is the endpoint `callback_id` names, found once by the caller.
    fn slot_rule(
        &mut self,
        callback_id: &str,
        target: Option<EndpointIdx>,
        auth: Auth,
        request: CallbackRequest,
    ) -> DeliveryResult {
        if self.state != ExecutionState::Active {
            return Err(Rejection::ExecutionEnded { state: self.state });
        }
        let Some(idx) = target else {
            return Err(Rejection::NoSuchEndpoint {
                callback_id: callback_id.to_owned(),
            });
        };
        match auth {
            Auth::Granted => {}
            Auth::Unauthenticated => return Err(Rejection::Unauthenticated),
            Auth::PermissionDenied => return Err(Rejection::PermissionDenied),
        }
        let ep = &mut self.endpoints[idx.0 as usize];
        if request.method != ep.method.as_str() {
            return Err(Rejection::MethodNotAllowed {
                allow: ep.method,
                got: request.method,
            });
        }
        if request.body.len() > BODY_BYTES_MAX {
            return Err(Rejection::PayloadTooLarge {
                body_bytes: request.body.len(),
            });
        }
        let received = Received {
            request,
            at: self.now,
        };
        let next = if self.defect == Some(Defect::WaitersLifo) {
            ep.waiters.pop_back()
        } else {
            ep.waiters.pop_front()
        };
        if let Some(waiter) = next {
            let removed = self
                .waiters
                .remove(&waiter)
                .expect("a queued waiter is live");
            assert!(self.timers.remove(&(removed.deadline, waiter)));
            ep.counts.accepted += 1;
            ep.counts.taken += 1;
            self.events.push_back(Event::Resumed {
                waiter,
                endpoint: idx,
                received,
            });
            return Ok(Accepted::Taken(waiter));
        }
        if ep.buffer.is_none() {
            ep.counts.accepted += 1;
            ep.buffer = Some(Box::new(received));
            return Ok(Accepted::Buffered);
        }
        if self.defect == Some(Defect::SlotOverwrite) {
            ep.counts.accepted += 1;
            ep.counts.dropped += 1;
            ep.buffer = Some(Box::new(received));
            return Ok(Accepted::Buffered);
        }
        Err(Rejection::SlotFull)
    }

    /// Moves the clock to `now`, firing the timers due before it; returns the endpoints
    /// whose waiters timed out.
    #[must_use]
    fn catch_up(&mut self, now: SimTime) -> Vec<EndpointIdx> {
        assert!(
            now >= self.now,
            "simulated time went backwards: {} after {}",
            now,
            self.now
        );
        let touched = self.fire_timers(|deadline| deadline < now);
        self.now = now;
        touched
    }

    /// CB-6: each due waiter leaves its queue and times out at its deadline, earliest
    /// first, ties in await order.
    fn fire_timers(&mut self, due: impl Fn(SimTime) -> bool) -> Vec<EndpointIdx> {
        let mut touched = Vec::new();
        while let Some(&(deadline, waiter)) = self.timers.first() {
            if !due(deadline) {
                break;
            }
            self.timers.pop_first();
            let w = self
                .waiters
                .remove(&waiter)
                .expect("a timer's waiter is live");
            let queue = &mut self.endpoints[w.endpoint.0 as usize].waiters;
            let pos = queue
                .iter()
                .position(|&q| q == waiter)
                .expect("a live waiter is queued");
            queue.remove(pos);
            touched.push(w.endpoint);
            self.events.push_back(Event::TimedOut {
                waiter,
                endpoint: w.endpoint,
                at: deadline,
                timeout: w.timeout,
            });
        }
        touched
    }

    /// The invariants of SPEC §3, checked after every input: in full for the endpoints the
    /// input touched (so that an execution with many endpoints pays per input only for what
    /// changed), and the ones that span endpoints in constant or logarithmic time.
    /// [`Callbacks::check_invariants`] over the endpoints whose timers `fired` and `also`:
    /// most inputs fire none, and then need no list of their own.
    fn check_touched(&self, mut fired: Vec<EndpointIdx>, also: Option<EndpointIdx>) {
        if fired.is_empty() {
            self.check_invariants(also.as_slice());
        } else {
            fired.extend(also);
            self.check_invariants(&fired);
        }
    }

    fn check_invariants(&self, touched: &[EndpointIdx]) {
        let active = self.state == ExecutionState::Active;
        for &EndpointIdx(i) in touched {
            let Some(ep) = self.endpoints.get(i as usize) else {
                continue;
            };
            let n_buffered = u64::from(ep.buffer.is_some());
            // CB-10: conservation.
            assert_eq!(
                ep.counts.accepted,
                ep.counts.taken + ep.counts.dropped + n_buffered
            );
            // A request never waits in the slot while an await waits for one.
            assert!(ep.buffer.is_none() || ep.waiters.is_empty());
            // CB-11: an ended execution holds nothing.
            assert!(
                active
                    || (ep.buffer.is_none() && ep.waiters.is_empty())
                    || self.defect == Some(Defect::BufferKeptAfterEnd)
            );
            // CB-12: each queue is in await order.
            assert!(
                ep.waiters
                    .iter()
                    .zip(ep.waiters.iter().skip(1))
                    .all(|(a, b)| a < b)
            );
            for w in &ep.waiters {
                assert_eq!(self.waiters[w].endpoint.0, i);
            }
        }
        // A full check (at the end): every waiter is in exactly one queue.
        if touched.len() == self.endpoints.len() {
            let n_queued: usize = self.endpoints.iter().map(|ep| ep.waiters.len()).sum();
            assert_eq!(n_queued, self.waiters.len());
        }
        // Every waiter has one timer, and no timer is overdue.
        assert_eq!(self.timers.len(), self.waiters.len());
        assert!(
            self.timers
                .first()
                .is_none_or(|&(deadline, _)| deadline >= self.now)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `path_len` is the path's length exactly, so the path is made in one allocation.
    #[test]
    fn an_execution_paths_length_is_known_before_it_is_written() {
        let name = ExecutionName {
            base_url: "http://127.0.0.1:8080".into(),
            project: "p1".into(),
            location: "us-central1".into(),
            workflow: "wf".into(),
            execution_id: "e-123".into(),
        };
        let path = name.path();
        assert_eq!(
            path,
            "/v1/projects/p1/locations/us-central1/workflows/wf/executions/e-123"
        );
        assert_eq!(name.path_len(), path.len());
        assert_eq!(path.capacity(), path.len());
    }

    /// The host's mistakes are said in words, not as Rust's debug text (LIB-5).
    #[test]
    fn await_errors_say_what_is_wrong() {
        assert_eq!(
            AwaitError::NotActive.to_string(),
            "the execution is no longer active"
        );
        assert_eq!(
            AwaitError::NoSuchEndpoint.to_string(),
            "no such callback endpoint"
        );
    }
}
