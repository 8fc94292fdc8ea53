//! The checker: runs one sequence of ops on the engine and on the spec model side by side,
//! and compares them after every step.

use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use wfsim_engine::time::duration_from_secs;
use wfsim_engine::{
    Accepted, Auth, AwaitError, AwaitOutcome, CallbackRequest, Callbacks, EndpointIdx, Event,
    ExecutionName, ExecutionState, Method, Received, SimTime, Value, WaiterId, WallClock,
};

use crate::model::{self, Answer, AwaitNo, AwaitStart, Model, RequestNo, Token};
use crate::ops::{Body, Final, Op};
use crate::render;
use crate::rules::{CATALOGUE, Rule};

/// How many checks of each rule passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally([u64; CATALOGUE.len()]);

impl Default for Tally {
    fn default() -> Tally {
        Tally([0; CATALOGUE.len()])
    }
}

impl Tally {
    fn hit(&mut self, rule: Rule) {
        self.0[rule as usize] += 1;
    }

    pub fn add(&mut self, other: &Tally) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            *mine += theirs;
        }
    }

    pub fn get(&self, rule: Rule) -> u64 {
        self.0[rule as usize]
    }

    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

/// The engine and the model disagreed, or the engine broke an invariant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub rule: Rule,
    /// Index of the op in the sequence.
    pub step: usize,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} violated at step {}: {}",
            self.rule.id(),
            self.step,
            self.detail
        )
    }
}

macro_rules! ensure {
    ($self:ident, $rule:expr, $cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(Violation { rule: $rule, step: $self.step, detail: format!($($fmt)+) });
        }
        $self.tally.hit($rule);
    };
}

/// A request the checker sent, remembered to check what a workflow later sees of it.
#[derive(Clone, Debug)]
struct Sent {
    method: &'static str,
    path: Rc<str>,
    body: Body,
    extras: bool,
}

const REQUEST_NO_HEADER: &str = "x-wfsim-request";

/// The engine and the model, run in lockstep.
#[derive(Clone, Debug)]
pub struct Checker {
    engine: Callbacks,
    model: Model,
    now: SimTime,
    step: usize,
    sent: Vec<Sent>,
    /// Engine waiter id → the checker's await number.
    awaits: BTreeMap<WaiterId, AwaitNo>,
    await_no_next: AwaitNo,
    execution_path: Rc<str>,
    pub tally: Tally,
}

pub fn execution_name() -> ExecutionName {
    ExecutionName {
        base_url: "https://workflowexecutions.googleapis.com".into(),
        project: "wfsim".into(),
        location: "us-central1".into(),
        workflow: "conformance".into(),
        execution_id: "exec-1".into(),
    }
}

impl Checker {
    pub fn new(seed: u64) -> Checker {
        Checker {
            engine: Callbacks::new(execution_name(), seed),
            model: Model::default(),
            now: SimTime::ZERO,
            step: 0,
            sent: Vec::new(),
            awaits: BTreeMap::new(),
            await_no_next: 0,
            execution_path: execution_name().path().into(),
            tally: Tally::default(),
        }
    }

    /// Runs a whole sequence, then replays it on a fresh checker and compares the final
    /// engine states (CB-2: a run repeats byte for byte).
    pub fn run(seed: u64, ops: &[Op]) -> Result<Tally, Violation> {
        let mut checker = Checker::new(seed);
        for op in ops {
            checker.step(op)?;
        }
        let mut replay = Checker::new(seed);
        for op in ops {
            replay.step(op)?;
        }
        let step = checker.step;
        let same = replay.engine == checker.engine;
        let mut tally = checker.tally;
        if !same {
            return Err(Violation {
                rule: Rule::Cb2,
                step,
                detail: "the same seed and ops gave a different engine state".into(),
            });
        }
        tally.hit(Rule::Cb2);
        Ok(tally)
    }

    /// Applies one op to both sides and compares everything they show.
    pub fn step(&mut self, op: &Op) -> Result<(), Violation> {
        match *op {
            Op::Create { method } => self.create(method)?,
            Op::Await {
                endpoint,
                timeout_s,
            } => self.start_await(endpoint, timeout_s)?,
            Op::Request {
                endpoint,
                method,
                token,
                body,
                extras,
                copies,
            } => {
                for _ in 0..copies {
                    self.request(endpoint, method, token, body, extras)?;
                }
            }
            Op::Advance { ns } => self.advance(ns)?,
            Op::End(how) => self.end(how)?,
        }
        self.compare_state()?;
        self.step += 1;
        Ok(())
    }

    fn create(&mut self, method: &'static str) -> Result<(), Violation> {
        let m = Method::parse(method).expect("generated methods are valid");
        let got = self.engine.create_endpoint(self.now, m);
        let want = self.model.create(method);
        ensure!(
            self,
            Rule::Cb1,
            got.map(|i| i.0 as usize) == want,
            "create: engine gave {got:?}, model {want:?}"
        );
        if let Some(idx) = got {
            let ep = self.engine.endpoint(idx).expect("created");
            let id = ep.callback_id();
            let name = execution_name();
            let want_url = format!("{}{}/callbacks/{id}", name.base_url, name.path());
            ensure!(
                self,
                Rule::Cb1,
                ep.url() == want_url,
                "url {} is not {want_url}",
                ep.url()
            );
            let parts: Vec<&str> = id.split('_').collect();
            let is_uuid = |s: &str| {
                s.len() == 36
                    && s.char_indices().all(|(i, c)| match i {
                        8 | 13 | 18 | 23 => c == '-',
                        _ => c.is_ascii_hexdigit() && !c.is_ascii_uppercase(),
                    })
            };
            ensure!(
                self,
                Rule::Cb2,
                parts.len() == 2 && parts.iter().all(|p| is_uuid(p)),
                "callback id {id} is not two UUIDs joined by '_'"
            );
            let unique = self
                .engine
                .endpoints()
                .iter()
                .filter(|e| e.callback_id() == id)
                .count()
                == 1;
            ensure!(self, Rule::Cb2, unique, "callback id {id} is not unique");
        }
        self.expect_no_events("create")
    }

    fn start_await(&mut self, endpoint: u8, timeout_s: f64) -> Result<(), Violation> {
        let timeout = duration_from_secs(timeout_s);
        ensure!(
            self,
            Rule::Cb4,
            timeout.is_ok() == Model::timeout_is_valid(timeout_s),
            "timeout {timeout_s}s: engine says {timeout:?}"
        );
        let Ok(timeout) = timeout else {
            return Ok(());
        };
        let no = self.await_no_next;
        self.await_no_next += 1;
        let timeout_ns = (timeout_s * 1e9) as u64;
        let before = self.waiters_on(endpoint as usize);
        let got = self
            .engine
            .await_callback(self.now, EndpointIdx(u32::from(endpoint)), timeout);
        let want = self.model.start_await(no, endpoint as usize, timeout_ns);
        match (got, want) {
            (Ok(AwaitOutcome::Ready(received)), AwaitStart::Took(request)) => {
                let got_no = request_no(&received);
                ensure!(
                    self,
                    Rule::Cb5,
                    got_no == request && before == 0,
                    "await took request {got_no} with {before} waiters, model took {request}"
                );
                self.check_seen(&received, request)?;
            }
            (Ok(AwaitOutcome::Blocked(waiter)), AwaitStart::Waits { .. }) => {
                self.awaits.insert(waiter, no);
                self.tally.hit(Rule::Cb6);
            }
            (Err(AwaitError::NotActive), AwaitStart::Impossible) if self.model.ended => {
                self.tally.hit(Rule::Cb11);
            }
            (Err(AwaitError::NoSuchEndpoint), AwaitStart::Impossible) => {}
            (got, want) => {
                return Err(
                    self.violation(Rule::Cb6, format!("await: engine {got:?}, model {want:?}"))
                );
            }
        }
        self.expect_no_events("await")
    }

    fn request(
        &mut self,
        endpoint: u8,
        method: &'static str,
        token: Token,
        body: Body,
        extras: bool,
    ) -> Result<(), Violation> {
        let no = self.sent.len() as RequestNo;
        let idx = EndpointIdx(u32::from(endpoint));
        let callback_id = match self.engine.endpoint(idx) {
            Some(ep) => ep.callback_id().to_owned(),
            None => "no-such-callback".to_owned(),
        };
        let path: Rc<str> = format!("{}/callbacks/{callback_id}", self.execution_path).into();
        let mut headers = vec![(REQUEST_NO_HEADER.to_owned(), no.to_string())];
        if let Some(ct) = body.content_type() {
            headers.push(("content-type".to_owned(), ct.to_owned()));
        }
        if extras {
            headers.push(("x-tag".to_owned(), "a".to_owned()));
            headers.push(("X-TAG".to_owned(), "b".to_owned()));
        }
        let bytes = body.bytes();
        let body_len = bytes.len();
        let request = CallbackRequest {
            method: method.to_owned(),
            path: path.to_string(),
            headers,
            query: if extras {
                "a=1&a=2&b=x+y%21".into()
            } else {
                String::new()
            },
            body: bytes,
        };
        self.sent.push(Sent {
            method,
            path,
            body,
            extras,
        });
        let auth = match token {
            Token::Good => Auth::Granted,
            Token::Bad => Auth::Unauthenticated,
            Token::WithoutPermission => Auth::PermissionDenied,
        };
        let waiters_before = self.waiters_on(endpoint as usize);
        let before = self.engine.clone();
        let got = self.engine.deliver(self.now, &callback_id, auth, request);
        let want = self.model.request(model::Request {
            no,
            endpoint: (self.engine.endpoint(idx).is_some()).then_some(endpoint as usize),
            method,
            body_len,
            token,
        });
        let got_status = wfsim_engine::http_status(&got);
        let rule = match want {
            Answer::Refused(404) => Rule::Slot1,
            Answer::Refused(401 | 403) => Rule::Slot2,
            Answer::Refused(405) => Rule::Slot3,
            Answer::Refused(413) => Rule::Slot4,
            Answer::TakenBy(_) => Rule::Slot5,
            Answer::Stored => Rule::Slot6,
            Answer::Refused(_) => Rule::Slot7,
        };
        ensure!(
            self,
            rule,
            got_status == want.status(),
            "request {no} ({method}) answered {got_status}, the model says {}",
            want.status()
        );
        match (&got, want) {
            (Ok(Accepted::Taken(waiter)), Answer::TakenBy(await_no)) => {
                let got_no = self.awaits.get(waiter).copied();
                ensure!(
                    self,
                    Rule::Slot5,
                    got_no == Some(await_no),
                    "request {no} went to await {got_no:?}, the model says {await_no}"
                );
                if waiters_before > 1 {
                    self.tally.hit(Rule::Cb12);
                }
                match self.engine.poll_event() {
                    Some(Event::Resumed {
                        waiter: w,
                        endpoint: e,
                        received,
                    }) if w == *waiter && e == idx && received.at == self.now => {
                        self.tally.hit(Rule::Cb6);
                        self.check_seen(&received, no)?;
                    }
                    other => {
                        return Err(self.violation(
                            Rule::Cb6,
                            format!("request {no} taken, but the engine reported {other:?}"),
                        ));
                    }
                }
            }
            (Ok(Accepted::Buffered), Answer::Stored) => {}
            (Err(_), Answer::Refused(_)) => {
                ensure!(
                    self,
                    Rule::Cb9,
                    self.engine == before,
                    "request {no} was refused ({got_status}) but changed the engine state"
                );
                if self.model.ended {
                    self.tally.hit(Rule::Cb11);
                }
            }
            (got, want) => {
                return Err(self.violation(rule, format!("engine {got:?}, model {want:?}")));
            }
        }
        self.expect_no_events("request")
    }

    fn advance(&mut self, ns: u64) -> Result<(), Violation> {
        let to = SimTime::from_nanos(self.now.as_nanos().saturating_add(ns));
        // The host's loop: fire each timer due before `to` at its own instant.
        while let Some(due) = self.engine.poll_timeout().filter(|&t| t < to) {
            self.engine.handle_timeout(due);
            if self.engine.poll_timeout() == Some(due) {
                return Err(self.violation(
                    Rule::Cb6,
                    format!("handle_timeout({due}) left a timer due at {due}"),
                ));
            }
        }
        self.engine.advance(to);
        self.now = to;
        let mut got = Vec::new();
        while let Some(event) = self.engine.poll_event() {
            match event {
                Event::TimedOut {
                    waiter,
                    at,
                    timeout,
                    ..
                } => got.push((self.awaits.get(&waiter).copied(), at.as_nanos(), timeout)),
                other => {
                    return Err(self.violation(Rule::Cb6, format!("unexpected event {other:?}")));
                }
            }
        }
        let want = self.model.advance(to.as_nanos());
        let got_pairs: Vec<(Option<AwaitNo>, u64)> = got.iter().map(|g| (g.0, g.1)).collect();
        let want_pairs: Vec<(Option<AwaitNo>, u64)> =
            want.iter().map(|&(no, at)| (Some(no), at)).collect();
        ensure!(
            self,
            Rule::Cb6,
            got_pairs == want_pairs,
            "timeouts until {to}: engine {got_pairs:?}, model {want_pairs:?}"
        );
        Ok(())
    }

    fn end(&mut self, how: Final) -> Result<(), Violation> {
        let state = match how {
            Final::Succeeded => ExecutionState::Succeeded,
            Final::Failed => ExecutionState::Failed,
            Final::Cancelled => ExecutionState::Cancelled,
        };
        let got = self.engine.finish(self.now, state);
        let want = self.model.end();
        let got = got.map(|ended| {
            let dropped: Vec<(usize, RequestNo)> = ended
                .dropped
                .iter()
                .map(|(e, r)| (e.0 as usize, request_no(r)))
                .collect();
            let abandoned: Vec<Option<AwaitNo>> = ended
                .abandoned
                .iter()
                .map(|w| self.awaits.get(w).copied())
                .collect();
            (dropped, abandoned)
        });
        let want = want.map(|e| (e.dropped, e.abandoned.into_iter().map(Some).collect()));
        ensure!(
            self,
            Rule::Cb11,
            got == want,
            "end: engine let go {got:?}, the model {want:?}"
        );
        let state_ok = self.engine.state() == state || want.is_none();
        ensure!(
            self,
            Rule::Cb11,
            state_ok,
            "ended {how:?}, the engine says {}",
            self.engine.state()
        );
        self.expect_no_events("end")
    }

    /// After every step: the same slots, waiters, tallies and next deadline on both sides.
    fn compare_state(&mut self) -> Result<(), Violation> {
        let ended = self.engine.state() != ExecutionState::Active;
        if ended != self.model.ended {
            return Err(self.violation(
                Rule::Cb11,
                format!("engine ended: {ended}, model ended: {}", self.model.ended),
            ));
        }
        let n = self.engine.endpoints().len();
        ensure!(
            self,
            Rule::Cb10,
            n == self.model.endpoints.len(),
            "engine has {n} endpoints, the model {}",
            self.model.endpoints.len()
        );
        for (i, (ep, want)) in self
            .engine
            .endpoints()
            .iter()
            .zip(&self.model.endpoints)
            .enumerate()
        {
            let slot = ep.buffered().map(request_no);
            let waiters = ep.waiters().map(|w| self.awaits.get(&w).copied());
            let want_waiters = want.waiters.iter().map(|&(no, _)| Some(no));
            let counts = ep.counts();
            let same = slot == want.slot
                && waiters.clone().eq(want_waiters.clone())
                && (counts.accepted, counts.taken, counts.dropped)
                    == (want.accepted, want.taken, want.dropped)
                && self.model.conserves();
            if !same {
                return Err(self.violation(
                    Rule::Cb10,
                    format!(
                        "endpoint {i}: engine slot {slot:?} waiters {:?} counts {counts:?}; \
                         model slot {:?} waiters {:?} accepted {} taken {} dropped {}",
                        waiters.collect::<Vec<_>>(),
                        want.slot,
                        want_waiters.collect::<Vec<_>>(),
                        want.accepted,
                        want.taken,
                        want.dropped
                    ),
                ));
            }
        }
        self.tally.hit(Rule::Cb10);
        let next = self.engine.poll_timeout().map(SimTime::as_nanos);
        let want_next = self
            .model
            .endpoints
            .iter()
            .flat_map(|ep| ep.waiters.iter().map(|&(_, deadline)| deadline))
            .min();
        if next != want_next {
            return Err(self.violation(
                Rule::Cb6,
                format!("next deadline: engine {next:?}, model {want_next:?}"),
            ));
        }
        if next.is_some() {
            self.tally.hit(Rule::Cb6);
        }
        Ok(())
    }

    /// CB-7 and CB-8: what `events.await_callback` returns for request `no`.
    fn check_seen(&mut self, received: &Received, no: RequestNo) -> Result<(), Violation> {
        let sent = self.sent[no as usize].clone();
        let seen = received.to_value(WallClock::DEFAULT);
        let http = seen.get("http_request").cloned().unwrap_or(Value::Null);
        let body_ok = http.get("body") == Some(&expected_body(sent.body));
        ensure!(
            self,
            Rule::Cb8,
            body_ok,
            "request {no} body {:?} seen as {:?}",
            sent.body,
            http.get("body")
        );
        let arrived = self.model.arrived_at(no).unwrap_or(u64::MAX);
        let mut headers = vec![("X-Wfsim-Request", Value::str(no.to_string()))];
        if let Some(ct) = sent.body.content_type() {
            headers.push(("Content-Type", Value::str(ct)));
        }
        let mut query = Value::map::<&str>([]);
        if sent.extras {
            headers.push(("X-Tag", Value::str("a, b")));
            query = Value::map([
                ("a", Value::list(vec![Value::str("1"), Value::str("2")])),
                ("b", Value::list(vec![Value::str("x y!")])),
            ]);
        }
        let want = Value::map([
            (
                "http_request",
                Value::map([
                    ("body", expected_body(sent.body)),
                    ("headers", Value::map(headers)),
                    ("method", Value::str(sent.method)),
                    ("query", query),
                    ("url", Value::Str(sent.path)),
                ]),
            ),
            ("received_time", Value::str(render::go_time(arrived))),
            ("type", Value::str("HTTP")),
        ]);
        ensure!(
            self,
            Rule::Cb7,
            seen == want,
            "request {no} seen as {seen:?}, expected {want:?}"
        );
        Ok(())
    }

    fn expect_no_events(&mut self, what: &str) -> Result<(), Violation> {
        match self.engine.poll_event() {
            None => Ok(()),
            Some(event) => Err(self.violation(
                Rule::Cb6,
                format!("{what} produced an unexpected event {event:?}"),
            )),
        }
    }

    fn waiters_on(&self, endpoint: usize) -> usize {
        self.model
            .endpoints
            .get(endpoint)
            .map_or(0, |ep| ep.waiters.len())
    }

    fn violation(&self, rule: Rule, detail: String) -> Violation {
        Violation {
            rule,
            step: self.step,
            detail,
        }
    }
}

fn request_no(received: &Received) -> RequestNo {
    received
        .request
        .header(REQUEST_NO_HEADER)
        .and_then(|v| v.parse().ok())
        .expect("every checked request carries its number")
}

/// CB-8, written out for each generated body.
fn expected_body(body: Body) -> Value {
    match body {
        Body::Empty => Value::Null,
        Body::JsonObject => Value::map([
            ("n", Value::list(vec![Value::Int(1), Value::Double(2.5)])),
            ("ok", Value::Bool(true)),
        ]),
        Body::JsonNumber => Value::Int(42),
        Body::JsonSuffixType => Value::str("hi"),
        Body::BadJsonText => Value::str("{not json"),
        Body::Text => Value::str("h\u{e9}llo"),
        Body::BadJsonBytes | Body::TextBytes | Body::Octets | Body::AtLimit | Body::OverLimit => {
            Value::Bytes(body.bytes().into())
        }
    }
}
