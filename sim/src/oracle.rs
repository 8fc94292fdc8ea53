//! The system-level oracle: the server's journal replayed through the spec model
//! (`wfsim_conformance::model`) in the order things reached the server, and the contract's
//! invariants over what the clients and the workflow saw. Also counts what a run covered.
//! One piece (over 700 lines): every check reads the same replayed model state, in journal
//! order, so they are kept beside the replay that feeds them.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use wfsim_conformance::model::{Answer, AwaitNo, AwaitStart, Model, Request, RequestNo, Token};
use wfsim_conformance::rules::Rule;
use wfsim_engine::ExecutionState;
use wfsim_engine::interp::{ThreadId, Trace};
use wfsim_server::Observed;

use crate::case::{Case, Misfit};
use crate::client::Backoff;
use crate::fault::FaultKind;
use crate::run::{CLOCK_RESOLUTION, ExecutionSeen, RunRecord, Sent, TOO_BIG};

/// How late madsim may wake a task: 50 ns past a timer, and 50–100 ns per task poll.
const POLL_SLACK_NS: u64 = 10_000;

/// A contract rule broken by a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub rule: Rule,
    pub detail: String,
}

/// Things the sweep must see happen at least once, and a few it counts besides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    pub buffered_then_taken: u64,
    pub slot_full_429: u64,
    pub raced_a_deadline: u64,
    pub not_found_after_end: u64,
    pub cancelled_while_awaiting: u64,
    pub duplicate_after_lost_answer: u64,
    pub restart_while_retrying: u64,
    pub timeouts: u64,
    pub parallel_waiters: u64,
    pub retry_backoffs: u64,
    pub partitions: u64,
    pub beside_a_neighbour: u64,
}

impl Coverage {
    pub fn add(&mut self, o: &Coverage) {
        for (mine, theirs) in self.counts_mut().into_iter().zip(o.counts()) {
            *mine += theirs;
        }
    }

    fn counts(&self) -> [u64; 12] {
        self.clone().counts_mut().map(|c| *c)
    }

    fn counts_mut(&mut self) -> [&mut u64; 12] {
        [
            &mut self.buffered_then_taken,
            &mut self.slot_full_429,
            &mut self.raced_a_deadline,
            &mut self.not_found_after_end,
            &mut self.cancelled_while_awaiting,
            &mut self.duplicate_after_lost_answer,
            &mut self.restart_while_retrying,
            &mut self.timeouts,
            &mut self.parallel_waiters,
            &mut self.retry_backoffs,
            &mut self.partitions,
            &mut self.beside_a_neighbour,
        ]
    }

    /// Each thing counted, with its count and whether the sweep must see it.
    pub fn rows(&self) -> [(&'static str, u64, bool); 12] {
        let c = self.counts();
        [
            ("request buffered before its await", c[0], true),
            ("429: slot full", c[1], true),
            ("timeout racing a delivery, same instant", c[2], true),
            ("404 after the end", c[3], true),
            ("cancel while awaiting", c[4], true),
            ("duplicate after a lost answer", c[5], true),
            ("server restart while a client retries", c[6], true),
            ("await timed out", c[7], false),
            ("request to one of several waiters", c[8], false),
            ("workflow retry back-off", c[9], false),
            ("partition during a send", c[10], false),
            ("two executions side by side", c[11], false),
        ]
    }
}

/// What one run checked and covered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    pub violations: Vec<Violation>,
    /// Rules with at least one check in this run (by id), each with how many checks. The
    /// rules the oracle may check are those the catalogue says the system level checks.
    pub checked: BTreeMap<&'static str, u64>,
    pub coverage: Coverage,
}

impl Verdict {
    fn check(&mut self, rule: Rule, ok: bool, detail: impl FnOnce() -> String) {
        debug_assert!(
            rule.row().checked_by.system,
            "{rule} is not a system-level rule"
        );
        *self.checked.entry(rule.id()).or_default() += 1;
        if !ok {
            self.violations.push(Violation {
                rule,
                detail: detail(),
            });
        }
    }
}

/// The spec model, driven by the journal.
#[derive(Debug, Default)]
struct Replay {
    model: Model,
    started_ns: u64,
    thread_of: BTreeMap<AwaitNo, ThreadId>,
    next_await: AwaitNo,
    /// Request id (`X-Request-Id`) by model request number.
    ids: Vec<String>,
    /// Awaits the model timed out that the server has not reported yet.
    timeouts_due: VecDeque<(AwaitNo, u64)>,
    /// The await a request was handed to, until the server says it resumed.
    resume_due: Option<(AwaitNo, RequestNo)>,
    /// Retry back-offs: when each thread's next await must start (server ns).
    backoff_until: BTreeMap<ThreadId, u64>,
    /// What each await got: the request it took, if any.
    took: BTreeMap<AwaitNo, RequestNo>,
    /// Requests stored in the slot (step 6).
    stored: BTreeSet<RequestNo>,
    /// The last instant whose timers fired: no request may arrive at it any more.
    closed: Option<u64>,
    /// Sleeps and back-offs: when each thread's timer is due (server ns). A thread that
    /// moves at that instant was woken by it, which closes the instant.
    timers: BTreeMap<ThreadId, u64>,
}

impl Replay {
    fn advance(&mut self, to: u64) {
        let to = to.max(self.model.now);
        let timed_out = self.model.advance(to);
        self.timeouts_due.extend(timed_out);
    }
}

/// Checks a run. Each execution's part of the journal is replayed through a spec model of
/// its own, in the order the server saw things; the first divergence stops that replay
/// (what follows would only echo it).
pub fn check(case: &Case, out: &RunRecord) -> Verdict {
    let mut v = Verdict::default();
    for (k, e) in out.executions.iter().enumerate() {
        let journal: Vec<&Observed> = out
            .journal
            .iter()
            .filter(|o| match o {
                Observed::Callback(d) => d.execution == e.id,
                Observed::Engine { execution, .. } => *execution == e.id,
            })
            .collect();
        replay(case, e, &journal, &mut v);
        // Only the case's own execution is ever cancelled.
        let cancel = out.cancel.as_deref().filter(|_| k == 0);
        execution_invariants(case, e, &journal, cancel, &mut v);
    }
    invariants(out, &mut v);
    v.coverage.beside_a_neighbour += u64::from(out.executions.len() > 1);
    coverage_of_clients(case, out, &mut v);
    v
}

fn replay(case: &Case, e: &ExecutionSeen, journal: &[&Observed], v: &mut Verdict) {
    let mut r = Replay {
        started_ns: e.started_ns,
        ..Replay::default()
    };
    r.model.now = e.started_ns;
    let before = v.violations.len();
    for o in journal {
        if v.violations.len() > before {
            return;
        }
        match o {
            Observed::Callback(d) => {
                let at = d.at.as_nanos();
                if let Some((a, _)) = r.resume_due.take() {
                    v.check(Rule::Cb12, false, || {
                        format!("await {a} was handed a request but did not resume")
                    });
                    continue;
                }
                v.check(Rule::Cb6, r.closed != Some(at), || {
                    format!("a request at {at} ns came after that instant's timers fired (a timeout, sleep or back-off); at one instant, requests come first (SPEC, simulated time)")
                });
                r.advance(at);
                if let Some(&(a, deadline)) = r.timeouts_due.front() {
                    v.check(Rule::Cb6, false, || {
                        format!("await {a} should have timed out at {deadline} ns, before a request at {at} ns")
                    });
                    continue;
                }
                let waiters: Vec<u64> = r
                    .model
                    .endpoints
                    .first()
                    .map(|ep| ep.waiters.iter().map(|&(_, d)| d).collect())
                    .unwrap_or_default();
                if waiters.contains(&at) {
                    v.coverage.raced_a_deadline += 1;
                }
                if waiters.len() >= 2 {
                    v.coverage.parallel_waiters += 1;
                }
                let id = d.request_id.clone().unwrap_or_default();
                let no = r.ids.len() as RequestNo;
                r.ids.push(id.clone());
                let ours = d.callback == e.callback_id;
                let (method, body_len, token) = request_shape(case, &id);
                let answer = r.model.request(Request {
                    no,
                    endpoint: ours.then_some(0),
                    method,
                    body_len,
                    token,
                });
                let rule = match answer {
                    Answer::TakenBy(_) => Rule::Slot5,
                    Answer::Stored => Rule::Slot6,
                    Answer::Refused(429) => Rule::Slot7,
                    Answer::Refused(404) if r.model.ended => Rule::Cb11,
                    Answer::Refused(404) => Rule::Slot1,
                    Answer::Refused(405) => Rule::Slot3,
                    Answer::Refused(413) => Rule::Slot4,
                    Answer::Refused(_) => Rule::Slot2,
                };
                v.check(rule, answer.status() == d.status, || {
                    format!(
                        "{id} at {at} ns answered {}, the model says {}",
                        d.status,
                        answer.status()
                    )
                });
                // The server compared the endpoints before and after the request (`None`:
                // no such execution, nothing to change).
                let refused = d.status != 200;
                let ok = if refused {
                    d.changed != Some(true)
                } else {
                    d.changed == Some(true)
                };
                v.check(Rule::Cb9, ok, || {
                    format!(
                        "{id} answered {}: the endpoints changed: {:?}",
                        d.status, d.changed
                    )
                });
                match answer {
                    Answer::Stored => {
                        r.stored.insert(no);
                        v.check(Rule::Slot6, d.buffered, || {
                            format!("{id}: the model stores it in the slot (step 6), the server handed it to an await")
                        });
                    }
                    Answer::TakenBy(a) => {
                        v.check(Rule::Slot5, !d.buffered, || {
                            format!("{id}: the model hands it to await {a} (step 5), the server stored it")
                        });
                        r.took.insert(a, no);
                        r.resume_due = Some((a, no));
                    }
                    Answer::Refused(_) => {}
                }
            }
            Observed::Engine { at, event, .. } => {
                let at = at.as_nanos();
                engine_event(&mut r, at, event, case, v);
            }
        }
    }
    if v.violations.len() > before {
        return;
    }
    if let Some((a, _)) = r.resume_due {
        v.check(Rule::Cb12, false, || {
            format!("await {a} was handed a request but never resumed")
        });
    }
    if e.ended_ns.is_some() {
        v.check(Rule::Cb6, r.timeouts_due.is_empty(), || {
            format!(
                "awaits the model timed out were never reported: {:?}",
                r.timeouts_due
            )
        });
    }
    // CB-10: what the workflow returned is what the model says the awaits took, each
    // accepted request at most once.
    if e.state == "SUCCEEDED" {
        let mut model_took: Vec<&str> = r
            .took
            .values()
            .map(|&n| r.ids[n as usize].as_str())
            .collect();
        let mut returned: Vec<&str> = e
            .result
            .iter()
            .map(String::as_str)
            .filter(|s| *s != "timeout")
            .collect();
        model_took.sort_unstable();
        returned.sort_unstable();
        v.check(Rule::Cb10, model_took == returned, || {
            format!("the awaits returned {returned:?}; the model says they took {model_took:?}")
        });
    }
    // CB-10 from the server's journal alone, for every execution (a cancelled one returns
    // nothing): each accepted request was taken once, but for the one the slot may hold.
    let accepted = journal
        .iter()
        .filter(|o| matches!(o, Observed::Callback(d) if d.status == 200))
        .count();
    let taken = journal
        .iter()
        .filter(|o| {
            matches!(
                o,
                Observed::Engine {
                    event: Trace::AwaitResumed { .. } | Trace::AwaitTook { .. },
                    ..
                }
            )
        })
        .count();
    v.check(Rule::Cb10, taken <= accepted && accepted <= taken + 1, || {
        format!("the server accepted {accepted} requests and its awaits took {taken}: more than the one slot unaccounted for")
    });
    v.coverage.buffered_then_taken +=
        r.took.values().filter(|n| r.stored.contains(n)).count() as u64;
}

/// What the case sent as request `id`: method, body size, and the token's standing.
fn request_shape(case: &Case, id: &str) -> (&'static str, usize, Token) {
    let misfit = case
        .misfit
        .filter(|(i, _)| id == format!("r{i}"))
        .map(|(_, m)| m);
    match misfit {
        None => ("POST", 16, Token::Good),
        Some(Misfit::NoToken) => ("POST", 2, Token::Bad),
        Some(Misfit::NoPermission) => ("POST", 2, Token::WithoutPermission),
        Some(Misfit::WrongMethod) => ("PUT", 2, Token::Good),
        Some(Misfit::TooBig) => ("POST", TOO_BIG, Token::Good),
    }
}

/// CB-13's error status for an HTTP status.
fn google_status(status: u16) -> &'static str {
    match status {
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        405 => "FAILED_PRECONDITION",
        413 => "INVALID_ARGUMENT",
        429 => "RESOURCE_EXHAUSTED",
        _ => "?",
    }
}

/// The thread an engine event belongs to, if any.
fn thread_of(event: &Trace) -> Option<ThreadId> {
    match event {
        Trace::AwaitTook { thread, .. }
        | Trace::AwaitBlocked { thread, .. }
        | Trace::AwaitResumed { thread, .. }
        | Trace::AwaitTimedOut { thread, .. }
        | Trace::Sleep { thread, .. }
        | Trace::Backoff { thread, .. }
        | Trace::BranchStarted { thread, .. }
        | Trace::BranchEnded { thread, .. }
        | Trace::HttpSent { thread, .. }
        | Trace::HttpAnswered { thread, .. }
        | Trace::HttpTimedOut { thread, .. } => Some(*thread),
        Trace::Log(_) | Trace::EndpointCreated(_) | Trace::Ended { .. } => None,
    }
}

fn engine_event(r: &mut Replay, at: u64, event: &Trace, case: &Case, v: &mut Verdict) {
    // A thread moving at or after its sleep or back-off was woken by that timer, which
    // closed the timer's instant (SPEC: requests first); so did an end at a timer's instant.
    let fired = match thread_of(event) {
        Some(th) => r.timers.remove(&th).filter(|&due| due <= at),
        // A cancel is a request: it ends the execution before the instant's timers fire.
        None if matches!(
            event,
            Trace::Ended {
                state: ExecutionState::Cancelled
            }
        ) =>
        {
            r.timers.clear();
            None
        }
        None if matches!(event, Trace::Ended { .. }) => {
            r.timers.values().copied().find(|&due| due == at)
        }
        None => None,
    };
    if let Some(due) = fired {
        r.closed = Some(due);
    }
    match event {
        Trace::EndpointCreated(_) => {
            r.advance(at);
            r.model.create("POST");
        }
        Trace::AwaitBlocked { thread, .. } | Trace::AwaitTook { thread, .. } => {
            r.advance(at);
            if let Some(until) = r.backoff_until.remove(thread) {
                v.check(Rule::Rt2, until == at, || {
                    format!(
                        "thread {thread:?} retried at {at} ns, its back-off ended at {until} ns"
                    )
                });
            }
            let no = r.next_await;
            r.next_await += 1;
            r.thread_of.insert(no, *thread);
            // Every await of a case has the case's timeout.
            let timeout_ns = u64::from(case.timeout_s) * 1_000_000_000;
            let started = r.model.start_await(no, 0, timeout_ns);
            match (event, started) {
                (Trace::AwaitBlocked { timeout, .. }, AwaitStart::Waits { .. }) => {
                    v.check(Rule::Cb4, timeout.as_nanos() == u128::from(timeout_ns), || {
                        format!(
                            "await {no} blocked with timeout {timeout:?}, the workflow says {} s",
                            case.timeout_s
                        )
                    });
                }
                (Trace::AwaitTook { received_at, .. }, AwaitStart::Took(req)) => {
                    r.took.insert(no, req);
                    let arrived = r.model.arrived_at(req);
                    let server_said = r.started_ns + received_at.as_nanos();
                    v.check(Rule::Cb5, arrived == Some(server_said), || {
                        format!("await {no} took a request received at {server_said} ns; the slot held {} from {arrived:?}", r.ids[req as usize])
                    });
                }
                (_, s) => v.check(Rule::Cb5, false, || {
                    format!(
                        "await {no} at {at} ns: the server {}, the model says {s:?}",
                        if matches!(event, Trace::AwaitBlocked { .. }) {
                            "blocked"
                        } else {
                            "took a buffered request"
                        }
                    )
                }),
            }
        }
        Trace::AwaitResumed { thread, .. } => {
            let due = r.resume_due.take();
            let expected = due.and_then(|(a, _)| r.thread_of.get(&a).copied());
            v.check(Rule::Cb12, expected == Some(*thread), || {
                format!("thread {thread:?} resumed at {at} ns; the model handed the request to await {due:?} (thread {expected:?}), the first waiter")
            });
        }
        Trace::AwaitTimedOut { thread, .. } => {
            r.advance(at);
            if r.timeouts_due.is_empty() {
                r.timeouts_due.extend(r.model.close_instant());
                r.closed = Some(at);
            }
            let due = r.timeouts_due.pop_front();
            let expected = due.map(|(a, d)| (r.thread_of.get(&a).copied(), d));
            v.check(Rule::Cb6, expected == Some((Some(*thread), at)), || {
                format!("thread {thread:?} timed out at {at} ns; the model times out {due:?} first")
            });
            v.coverage.timeouts += 1;
        }
        Trace::Backoff {
            thread,
            attempt,
            until,
        } => {
            let until = r.started_ns + until.as_nanos();
            if let Some(policy) = case.retry {
                let want = policy.delay_ns(*attempt);
                let lasted = until.checked_sub(at);
                v.check(Rule::Rt2, lasted == Some(want), || {
                    format!("back-off before retry {attempt} from {at} ns to {until} ns; RT-2 says {want} ns")
                });
            }
            r.backoff_until.insert(*thread, until);
            r.timers.insert(*thread, until);
            v.coverage.retry_backoffs += 1;
        }
        Trace::Ended { state } => {
            r.advance(at);
            v.check(Rule::Cb6, r.timeouts_due.is_empty(), || {
                format!(
                    "the execution ended at {at} ns before awaits timed out: {:?}",
                    r.timeouts_due
                )
            });
            let waiting = r
                .model
                .endpoints
                .first()
                .is_some_and(|ep| !ep.waiters.is_empty());
            if *state == ExecutionState::Cancelled && waiting {
                v.coverage.cancelled_while_awaiting += 1;
            }
            r.model.end();
        }
        Trace::Sleep { thread, until } => {
            r.timers.insert(*thread, r.started_ns + until.as_nanos());
        }
        _ => {}
    }
}

/// What needs no model, per execution: the server's own timestamps, how it ended.
fn execution_invariants(
    case: &Case,
    e: &ExecutionSeen,
    journal: &[&Observed],
    cancel: Option<&[Sent]>,
    v: &mut Verdict,
) {
    for d in journal.iter().filter_map(|o| match o {
        Observed::Callback(d) => Some(d),
        Observed::Engine { .. } => None,
    }) {
        if let Some(end) = e.ended_ns {
            let at = d.at.as_nanos();
            // The API's endTime and the journal agree on when the execution ended.
            v.check(Rule::Cb11, (at > end) <= (d.status == 404), || {
                format!(
                    "{:?} at {at} ns, after the end at {end} ns, got {}",
                    d.request_id, d.status
                )
            });
            if at > end && d.status == 404 {
                v.coverage.not_found_after_end += 1;
            }
        }
    }
    let logical = case.awaits as usize;
    if e.state == "SUCCEEDED" {
        v.check(Rule::Cb6, e.result.len() == logical, || {
            format!("{} awaits ended, {logical} expected", e.result.len())
        });
    }
    // The journal's end, if it was a cancel: when.
    let cancelled_at = journal.iter().find_map(|o| match o {
        Observed::Engine {
            at,
            event: Trace::Ended {
                state: ExecutionState::Cancelled,
            },
            ..
        } => Some(at.as_nanos()),
        _ => None,
    });
    // EX-1: nothing ends these workflows but success or a cancel, and the API agrees with
    // the journal on which.
    let want = if cancelled_at.is_some() {
        "CANCELLED"
    } else {
        "SUCCEEDED"
    };
    v.check(Rule::Ex1, e.state == want, || {
        format!(
            "execution {} ended {}, its journal says {want}",
            e.id, e.state
        )
    });
    // EX-3: a cancel answered 200 ended it then; a cancelled end needs a cancel that got 200,
    // or one whose answer was lost while the end happened (its retry then finds the
    // execution over: 400).
    let Some(attempts) = cancel else {
        v.check(Rule::Ex3, cancelled_at.is_none(), || {
            format!("execution {} was cancelled, but nobody cancelled it", e.id)
        });
        return;
    };
    let answered_200 = attempts.iter().any(|a| a.result == Ok(200));
    v.check(Rule::Ex3, !answered_200 || cancelled_at.is_some(), || {
        format!(
            "the cancel of {} got 200, yet it did not end cancelled",
            e.id
        )
    });
    if let Some(t) = cancelled_at {
        // The server's clock reads in ticks: its time of a request may precede, by less
        // than a tick, the instant the client sent it.
        let tick = wfsim_server::clock::Resolution::new(CLOCK_RESOLUTION).tick_ns();
        let during = |a: &&Sent| a.sent_ns.saturating_sub(tick) <= t && t <= a.done_ns;
        let explained = attempts
            .iter()
            .filter(during)
            .any(|a| a.result == Ok(200) || a.result.is_err());
        v.check(Rule::Ex3, explained, || {
            let got: Vec<_> = attempts.iter().map(|a| (a.sent_ns, &a.result)).collect();
            format!("{} was cancelled at {t} ns, but no attempt of the cancel then got 200 or lost its answer: {got:?}", e.id)
        });
    }
}

/// What needs no model, over the whole run: the statuses a sender may see, the restarts,
/// the senders' back-off.
fn invariants(out: &RunRecord, v: &mut Verdict) {
    let mut last = 0;
    for o in &out.journal {
        let at = match o {
            Observed::Callback(d) => d.at.as_nanos(),
            Observed::Engine { at, .. } => at.as_nanos(),
        };
        v.check(Rule::Clock, at >= last, || {
            format!("the journal goes back from {last} ns to {at} ns: {o:?}")
        });
        last = last.max(at);
    }
    for d in out.journal.iter().filter_map(|o| match o {
        Observed::Callback(d) => Some(d),
        Observed::Engine { .. } => None,
    }) {
        v.check(
            Rule::Cb13,
            matches!(d.status, 200 | 401 | 403 | 404 | 405 | 413 | 429),
            || {
                format!(
                    "{:?} got {}, not a status of SPEC §3",
                    d.request_id, d.status
                )
            },
        );
        if d.status == 429 {
            v.coverage.slot_full_429 += 1;
        }
    }
    if out.restarts().next().is_some() {
        v.check(Rule::Restart, out.replay_mismatches.is_empty(), || {
            format!(
                "a restarted server replayed differently: {:?}",
                out.replay_mismatches
            )
        });
    }
    // CB-13 as the senders read it: `{}` for 200, else the Google error shape.
    for (id, attempts) in &out.sends {
        for a in attempts {
            let (Ok(status), Some(body)) = (&a.result, &a.body) else {
                continue;
            };
            let ok = if *status == 200 {
                body.as_object().is_some_and(|o| o.is_empty())
            } else {
                let e = &body["error"];
                e["code"] == *status
                    && e["status"] == google_status(*status)
                    && e["message"].as_str().is_some_and(|m| !m.is_empty())
            };
            v.check(Rule::Cb13, ok, || {
                format!("{id} got {status} with the body {body}")
            });
        }
    }
    // Client back-off: each retry waited what the policy says, on the simulated clock (give
    // or take what madsim charges for the task polls in between).
    for (id, attempts) in &out.sends {
        for (n, pair) in attempts.windows(2).enumerate() {
            let want = Backoff::DEFAULT.delay(n as u32 + 2).as_nanos() as u64;
            let waited = pair[1].sent_ns - pair[0].done_ns;
            let ok = (want..=want + POLL_SLACK_NS).contains(&waited);
            v.check(Rule::ClientBackoff, ok, || {
                format!(
                    "{id}: attempt {} waited {waited} ns, the policy says {want} ns",
                    n + 2
                )
            });
        }
    }
}

/// Coverage seen from the clients' side, matched with the journal.
fn coverage_of_clients(case: &Case, out: &RunRecord, v: &mut Verdict) {
    let mut answers: BTreeMap<&str, Vec<(u64, u16)>> = BTreeMap::new();
    for o in &out.journal {
        if let Observed::Callback(d) = o {
            if let Some(id) = &d.request_id {
                answers
                    .entry(id)
                    .or_default()
                    .push((d.at.as_nanos(), d.status));
            }
        }
    }
    for (id, attempts) in &out.sends {
        let at_server = answers.get(id.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        // The server accepted it, the client never heard, and sent it again.
        let lost_then_sent = at_server.first().is_some_and(|&(_, s)| s == 200)
            && at_server.len() >= 2
            && attempts.first().is_some_and(|a| a.result.is_err());
        if lost_then_sent {
            v.coverage.duplicate_after_lost_answer += 1;
        }
        let retried_across_a_restart = out.restarts().any(|(killed, back)| {
            let failed_around = attempts
                .iter()
                .any(|a: &Sent| a.result.is_err() && a.sent_ns <= back && a.done_ns >= killed);
            let answered_after = attempts
                .iter()
                .any(|a| a.result.is_ok() && a.sent_ns >= back);
            failed_around && answered_after
        });
        if retried_across_a_restart {
            v.coverage.restart_while_retrying += 1;
        }
        let cut_off = case.fault(FaultKind::Partition).is_some_and(|w| {
            attempts.iter().any(|a| {
                let from = out.callbacks_start_ns + w.from_ms * 1_000_000;
                let to = out.callbacks_start_ns + w.to_ms * 1_000_000;
                a.result.is_err() && a.sent_ns < to && a.done_ns >= from
            })
        });
        if cut_off {
            v.coverage.partitions += 1;
        }
    }
}
