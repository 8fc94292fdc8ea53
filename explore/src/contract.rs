//! The contract checks of every seed (EXP-4): the run's requests and awaits replayed, in
//! trace order, through the spec model of SPEC §3 (`wfsim_conformance::model`), which must
//! agree with the engine on every status, every take and every timeout; and the engine's
//! own invariants (it must not panic, and must settle).

use std::collections::BTreeMap;

use wfsim_conformance::model::{Answer, AwaitStart, Model, Request, Token};
use wfsim_conformance::rules::Rule;
use wfsim_engine::EndpointIdx;
use wfsim_engine::SimTime;
use wfsim_engine::interp::{Execution, ThreadId, Trace};
use wfsim_harness::runner::{RequestRecord, Run};

/// Checks made, by rule, and the first that failed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Verdict {
    pub checks: BTreeMap<Rule, u64>,
    pub violation: Option<(Rule, String)>,
}

impl Verdict {
    fn check(&mut self, rule: Rule, ok: bool, why: impl FnOnce() -> String) {
        *self.checks.entry(rule).or_insert(0) += 1;
        if !ok && self.violation.is_none() {
            self.violation = Some((rule, why()));
        }
    }
}

struct Replay<'a> {
    execution: &'a Execution,
    /// When it started on the run's clock: a child's records are on the run's clock, its
    /// trace on its own.
    start: SimTime,
    model: Model,
    /// The run's verdict so far, this execution's checks added to it.
    v: Verdict,
    /// A check of this execution failed: its replay stops there.
    failed: bool,
    /// Blocked awaits: model number → (thread, endpoint).
    awaits: BTreeMap<u64, (ThreadId, usize)>,
    next_await: u64,
    /// Awaits the model timed out that the engine has yet to report.
    timed_out: Vec<u64>,
    /// Awaits the model handed a request that the engine has yet to resume.
    resumes: Vec<u64>,
}

/// Checks `run` against the spec model: its own execution, then each child (HT-10) with
/// the requests sent to it, each against a model of its own.
pub fn check(run: &Run) -> Verdict {
    let mut v = Verdict::default();
    v.check(Rule::Invariant, !run.budget_exhausted, || {
        "the run did not settle: it livelocked or ran out of its loop budget".to_owned()
    });
    let executions = std::iter::once((&run.execution, SimTime::ZERO))
        .chain(run.children.iter().map(|c| (&c.execution, c.started_at)));
    for (k, (execution, start)) in executions.enumerate() {
        let requests: Vec<(u64, &RequestRecord)> = run
            .requests
            .iter()
            .enumerate()
            .filter(|(_, r)| r.execution == k)
            .map(|(no, r)| (no as u64, r))
            .collect();
        v = check_one(execution, start, &requests, v);
    }
    v
}

/// Checks one execution, started at `start` on the run's clock, and the requests sent to
/// it, adding its checks to `v` (whose violation, if it has one, stays the first).
fn check_one(
    execution: &Execution,
    start: SimTime,
    requests: &[(u64, &RequestRecord)],
    v: Verdict,
) -> Verdict {
    let mut r = Replay {
        execution,
        start,
        model: Model::default(),
        v,
        failed: false,
        awaits: BTreeMap::new(),
        next_await: 0,
        timed_out: Vec::new(),
        resumes: Vec::new(),
    };
    let trace = execution.trace();
    let mut requests = requests.iter().peekable();
    for (pos, (at, event)) in trace.iter().enumerate() {
        while let Some((no, req)) = requests.next_if(|(_, q)| q.trace_pos <= pos) {
            r.request(*no, req);
        }
        r.event(at.as_nanos(), event);
        if r.failed {
            return r.v;
        }
    }
    for (no, req) in requests {
        r.request(*no, req);
    }
    if !r.failed {
        let counts: Vec<_> =
            execution.with_callbacks(|cbs| cbs.endpoints().iter().map(|e| e.counts()).collect());
        for (i, (c, m)) in counts.iter().zip(&r.model.endpoints).enumerate() {
            let ok = c.accepted == m.accepted && c.taken == m.taken && c.dropped == m.dropped;
            // The run's verdict itself: this is the execution's last check.
            r.v.check(Rule::Cb10, ok, || {
                format!(
                    "endpoint {i}: the engine counts {} accepted, {} taken, {} dropped; the model {}, {}, {}",
                    c.accepted, c.taken, c.dropped, m.accepted, m.taken, m.dropped
                )
            });
        }
    }
    r.v
}

impl Replay<'_> {
    fn check(&mut self, rule: Rule, ok: bool, why: impl FnOnce() -> String) {
        self.failed |= !ok;
        self.v.check(rule, ok, why);
    }

    /// The model's clock moves to `t`; every await it times out before `t` must have been
    /// reported by the engine already.
    fn advance(&mut self, t: u64) {
        if t < self.model.now {
            return;
        }
        let missed = self.model.advance(t);
        for (a, deadline) in missed {
            if let Some(i) = self.timed_out.iter().position(|&x| x == a) {
                self.timed_out.remove(i);
                continue;
            }
            self.check(Rule::Cb6, false, || {
                format!(
                    "await {a} should have timed out at {deadline} ns; the engine did not say so"
                )
            });
        }
    }

    /// `t` of the run's clock on the execution's.
    fn local(&self, t: SimTime) -> SimTime {
        SimTime::from_nanos(t.as_nanos() - self.start.as_nanos())
    }

    fn request(&mut self, no: u64, q: &RequestRecord) {
        let at = self.local(q.at);
        let taken_at = q.taken_at.map(|t| self.local(t));
        self.advance(at.as_nanos());
        if q.status == 413 {
            // The record keeps no body length: a 413 cannot be judged here.
            return;
        }
        let answer = self.model.request(Request {
            no,
            endpoint: q.endpoint.map(|e| e as usize),
            method: &q.method,
            body_len: 0,
            token: Token::Good,
        });
        let rule = match answer {
            Answer::TakenBy(_) => Rule::Slot5,
            Answer::Stored => Rule::Slot6,
            Answer::Refused(429) => Rule::Slot7,
            Answer::Refused(404) if self.model.ended => Rule::Cb11,
            Answer::Refused(404) => Rule::Slot1,
            Answer::Refused(405) => Rule::Slot3,
            Answer::Refused(_) => Rule::Slot2,
        };
        self.check(rule, answer.status() == q.status, || {
            format!(
                "request {no} at {at} to endpoint {:?} was answered {}; the model says {}",
                q.endpoint,
                q.status,
                answer.status()
            )
        });
        if let Answer::TakenBy(a) = answer {
            self.resumes.push(a);
            self.check(Rule::Slot5, taken_at == Some(at), || {
                format!(
                    "request {no} at {at} was handed to a waiting await by the model, not by the engine"
                )
            });
        }
    }

    fn endpoint_method(&self, e: EndpointIdx) -> String {
        self.execution.with_callbacks(|cbs| {
            cbs.endpoint(e)
                .map_or("POST".to_owned(), |ep| ep.method().as_str().to_owned())
        })
    }

    fn event(&mut self, t: u64, event: &Trace) {
        match event {
            Trace::EndpointCreated(e) => {
                self.advance(t);
                let method = self.endpoint_method(*e);
                let got = self.model.create(&method);
                self.check(Rule::Cb1, got == Some(e.0 as usize), || {
                    format!("endpoint {} was created; the model numbers it {got:?}", e.0)
                });
            }
            Trace::AwaitTook {
                endpoint,
                received_at,
                ..
            } => {
                self.advance(t);
                let a = self.new_await();
                let start = self.model.start_await(a, endpoint.0 as usize, u64::MAX);
                let ok = match start {
                    AwaitStart::Took(req) => {
                        self.model.arrived_at(req) == Some(received_at.as_nanos())
                    }
                    _ => false,
                };
                self.check(Rule::Cb5, ok, || {
                    format!(
                        "an await on endpoint {} took a request received at {received_at}; the model: {start:?}",
                        endpoint.0
                    )
                });
            }
            Trace::AwaitBlocked {
                thread,
                endpoint,
                timeout,
            } => {
                self.advance(t);
                let a = self.new_await();
                let ns = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
                let start = self.model.start_await(a, endpoint.0 as usize, ns);
                self.awaits.insert(a, (*thread, endpoint.0 as usize));
                self.check(Rule::Cb6, matches!(start, AwaitStart::Waits { .. }), || {
                    format!(
                        "an await on endpoint {} blocked; the model: {start:?}",
                        endpoint.0
                    )
                });
            }
            Trace::AwaitResumed { thread, endpoint } => {
                let found = self
                    .resumes
                    .iter()
                    .position(|a| self.awaits.get(a) == Some(&(*thread, endpoint.0 as usize)));
                if let Some(i) = found {
                    self.resumes.remove(i);
                }
                self.check(Rule::Cb12, found.is_some(), || {
                    format!(
                        "thread {} resumed on endpoint {} with no request the model handed it",
                        thread.0, endpoint.0
                    )
                });
            }
            Trace::AwaitTimedOut { thread, endpoint } => {
                self.advance(t);
                let key = (*thread, endpoint.0 as usize);
                let mine = |r: &Replay, a: &u64| r.awaits.get(a) == Some(&key);
                if !self.timed_out.iter().any(|a| mine(self, a)) {
                    let due: Vec<u64> = self
                        .model
                        .close_instant()
                        .into_iter()
                        .map(|x| x.0)
                        .collect();
                    self.timed_out.extend(due);
                }
                let found = self.timed_out.iter().position(|a| mine(self, a));
                if let Some(i) = found {
                    self.timed_out.remove(i);
                }
                self.check(Rule::Cb6, found.is_some(), || {
                    format!(
                        "thread {}'s await on endpoint {} timed out at {t} ns; the model has no deadline then",
                        thread.0, endpoint.0
                    )
                });
            }
            Trace::Ended { .. } => {
                self.advance(t);
                self.model.end();
            }
            _ => {}
        }
    }

    fn new_await(&mut self) -> u64 {
        self.next_await += 1;
        self.next_await
    }
}
