//! A run as lanes and marks: one lane per thread (main, then each branch) and one per
//! callback endpoint, each arriving request marked on its endpoint's lane with its verdict
//! (200 taken / 200 stored / 429 / 404 / other 4xx, and the reason), the slot's holding as
//! a span, awaits, sleeps, back-offs and HTTP calls at their instants. This is the data a
//! picture is drawn from, so that tests can say what a picture shows without reading SVG.

use std::collections::BTreeMap;

use wfsim_engine::callbacks::EndpointIdx;
use wfsim_engine::interp::{Outcome, Trace};
use wfsim_engine::time::SimTime;
use wfsim_engine::value::show;
use wfsim_harness::report::{answer_text, payload_text, stack_text};
use wfsim_harness::runner::{RequestRecord, Run};

/// What a lane follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LaneOf {
    Thread(u64),
    Endpoint(u32),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lane {
    pub of: LaneOf,
    pub label: String,
}

/// What a mark says, which decides how it is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    EndpointCreated,
    /// A request answered 200 and handed to a waiting await at once.
    Taken,
    /// A request answered 200 and kept in the slot.
    Stored,
    /// 429: the slot was full (CB-5).
    SlotFull,
    /// 404: the execution was over, or the URL no endpoint.
    NotFound,
    /// Any other refusal (method, auth, size).
    Refused,
    AwaitTook,
    AwaitResumed,
    TimedOut,
    HttpSent,
    HttpAnswered,
    HttpTimedOut,
    Log,
    BranchStarted,
    BranchEnded,
    Succeeded,
    Failed,
    Ended,
}

impl MarkKind {
    /// The class a picture gives it (and its legend names).
    pub fn class(self) -> &'static str {
        match self {
            MarkKind::EndpointCreated => "created",
            MarkKind::Taken => "taken",
            MarkKind::Stored => "stored",
            MarkKind::SlotFull => "full",
            MarkKind::NotFound => "gone",
            MarkKind::Refused => "refused",
            MarkKind::AwaitTook | MarkKind::AwaitResumed => "resumed",
            MarkKind::TimedOut | MarkKind::HttpTimedOut => "timeout",
            MarkKind::HttpSent | MarkKind::HttpAnswered => "http",
            MarkKind::Log => "log",
            MarkKind::BranchStarted | MarkKind::BranchEnded | MarkKind::Ended => "thread",
            MarkKind::Succeeded => "succeeded",
            MarkKind::Failed => "failed",
        }
    }
}

/// Something that happened at one instant on one lane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    pub lane: usize,
    pub at: SimTime,
    pub kind: MarkKind,
    /// What happened, in words (the hover text and the text list).
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SpanKind {
    /// An await blocked, until handed a request or timed out.
    Waiting,
    Sleep,
    Backoff,
    /// An outbound call in flight.
    Http,
    /// The endpoint's slot holds a request no await has taken yet.
    Holding,
}

impl SpanKind {
    pub fn class(self) -> &'static str {
        match self {
            SpanKind::Waiting => "waiting",
            SpanKind::Sleep => "sleep",
            SpanKind::Backoff => "backoff",
            SpanKind::Http => "inflight",
            SpanKind::Holding => "holding",
        }
    }
}

/// Something that lasted on one lane; `to` is `None` when it never ended within the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub lane: usize,
    pub from: SimTime,
    pub to: Option<SimTime>,
    pub kind: SpanKind,
    pub text: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    pub lanes: Vec<Lane>,
    pub marks: Vec<Mark>,
    pub spans: Vec<Span>,
    /// When the run ended (its last instant otherwise): where open spans stop.
    pub end: SimTime,
}

impl Timeline {
    /// Every instant something happens at, each once, in order: the axis's columns.
    pub fn instants(&self) -> Vec<SimTime> {
        let mut all: Vec<SimTime> = self
            .marks
            .iter()
            .map(|m| m.at)
            .chain(
                self.spans
                    .iter()
                    .flat_map(|s| [Some(s.from), s.to])
                    .flatten(),
            )
            .chain([SimTime::ZERO, self.end])
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// The lane following `of`.
    pub fn lane(&self, of: LaneOf) -> Option<usize> {
        self.lanes.iter().position(|l| l.of == of)
    }
}

/// Lanes in a fixed order: threads by id, then endpoints by index.
#[derive(Default)]
struct Lanes {
    lanes: BTreeMap<LaneOf, String>,
}

impl Lanes {
    fn add(&mut self, of: LaneOf, label: String) {
        self.lanes.entry(of).or_insert(label);
    }
}

fn endpoint_of(e: EndpointIdx) -> LaneOf {
    LaneOf::Endpoint(e.0)
}

/// The verdict of a request, as its mark says it.
fn request_mark(r: &RequestRecord) -> (MarkKind, String) {
    let from = r
        .service
        .map_or(String::new(), |s| format!(" (service {s}'s callback)"));
    let (kind, verdict) = match (r.status, r.taken_at) {
        (200, Some(t)) if t == r.at => (MarkKind::Taken, "200 taken by a waiting await".to_owned()),
        (200, Some(t)) => (MarkKind::Stored, format!("200 stored, taken at {t}")),
        (200, None) => (MarkKind::Stored, "200 stored, never taken".to_owned()),
        (429, _) => (MarkKind::SlotFull, "429".to_owned()),
        (404, _) => (MarkKind::NotFound, "404".to_owned()),
        (s, _) => (MarkKind::Refused, s.to_string()),
    };
    let reason = r
        .message
        .as_deref()
        .filter(|_| r.status != 200)
        .map_or(String::new(), |m| format!(": {m}"));
    (
        kind,
        format!("{} request{from} → {verdict}{reason}", r.method),
    )
}

/// Builds the timeline of a run: its own execution's (a child's is [`of_child`]'s).
pub fn of_run(run: &Run) -> Timeline {
    let requests: Vec<&RequestRecord> = run.requests.iter().filter(|r| r.execution == 0).collect();
    of_execution(&run.execution, &requests)
}

/// The timeline of child `k` of `run` (HT-10; 1 the first started), on the run's clock:
/// its own lanes, and the requests sent to it. `None` when it has no such child.
pub fn of_child(run: &Run, k: usize) -> Option<Timeline> {
    let child = run.children.get(k.checked_sub(1)?)?;
    let off = child.started_at;
    let local = |t: SimTime| SimTime::from_nanos(t.as_nanos().saturating_sub(off.as_nanos()));
    let requests: Vec<RequestRecord> = run
        .requests
        .iter()
        .filter(|r| r.execution == k)
        .map(|r| RequestRecord {
            at: local(r.at),
            taken_at: r.taken_at.map(local),
            ..r.clone()
        })
        .collect();
    let mut t = of_execution(&child.execution, &requests.iter().collect::<Vec<_>>());
    let global = |x: SimTime| SimTime::from_nanos(x.as_nanos() + off.as_nanos());
    for m in &mut t.marks {
        m.at = global(m.at);
    }
    for sp in &mut t.spans {
        sp.from = global(sp.from);
        sp.to = sp.to.map(global);
    }
    t.end = global(t.end);
    Some(t)
}

/// The timeline of `ex` with `requests` (on its own clock).
fn of_execution(ex: &wfsim_engine::interp::Execution, requests: &[&RequestRecord]) -> Timeline {
    let trace = ex.trace();
    let logs = ex.logs();
    let calls = ex.http_calls();
    let mut lanes = Lanes::default();
    lanes.add(LaneOf::Thread(0), "main".into());
    // First pass: every lane, so marks can name them by position.
    for (_, event) in &trace {
        match event {
            Trace::BranchStarted { thread, branch, .. } => {
                lanes.add(LaneOf::Thread(thread.0), format!("branch {branch}"));
            }
            Trace::EndpointCreated(e) => {
                let label = ex.with_callbacks(|cbs| {
                    cbs.endpoint(*e)
                        .map_or(String::new(), |ep| format!(" {}", ep.method()))
                });
                lanes.add(endpoint_of(*e), format!("endpoint {}{label}", e.0));
            }
            _ => {}
        }
    }
    for r in requests {
        if let Some(e) = r.endpoint {
            lanes.add(LaneOf::Endpoint(e), format!("endpoint {e}"));
        }
    }
    let mut t = Timeline {
        lanes: lanes
            .lanes
            .into_iter()
            .map(|(of, label)| Lane { of, label })
            .collect(),
        end: ex
            .ended_at()
            .or_else(|| trace.last().map(|(at, _)| *at))
            .unwrap_or(SimTime::ZERO),
        ..Timeline::default()
    };
    let mut open = Open::default();
    for (at, event) in &trace {
        let at = *at;
        match event {
            Trace::Log(i) => {
                let l = &logs[*i];
                t.mark(
                    LaneOf::Thread(0),
                    at,
                    MarkKind::Log,
                    format!("log {}: {}", l.severity, payload_text(&l.payload)),
                );
            }
            Trace::EndpointCreated(e) => t.mark(
                endpoint_of(*e),
                at,
                MarkKind::EndpointCreated,
                format!("endpoint {} created", e.0),
            ),
            Trace::AwaitTook {
                thread,
                endpoint,
                received_at,
            } => t.mark(
                LaneOf::Thread(thread.0),
                at,
                MarkKind::AwaitTook,
                format!(
                    "await on endpoint {} took the request stored at {received_at}",
                    endpoint.0
                ),
            ),
            Trace::AwaitBlocked {
                thread,
                endpoint,
                timeout,
            } => open.start(
                &mut t,
                LaneOf::Thread(thread.0),
                at,
                SpanKind::Waiting,
                format!(
                    "await on endpoint {} (timeout {})",
                    endpoint.0,
                    SimTime::ZERO.saturating_add(*timeout)
                ),
            ),
            Trace::AwaitResumed { thread, endpoint } => {
                open.end(&mut t, LaneOf::Thread(thread.0), SpanKind::Waiting, at);
                t.mark(
                    LaneOf::Thread(thread.0),
                    at,
                    MarkKind::AwaitResumed,
                    format!("await on endpoint {} handed the request", endpoint.0),
                );
            }
            Trace::AwaitTimedOut { thread, endpoint } => {
                open.end(&mut t, LaneOf::Thread(thread.0), SpanKind::Waiting, at);
                t.mark(
                    LaneOf::Thread(thread.0),
                    at,
                    MarkKind::TimedOut,
                    format!("await on endpoint {} timed out", endpoint.0),
                );
                t.mark(
                    endpoint_of(*endpoint),
                    at,
                    MarkKind::TimedOut,
                    format!("an await on it (thread {}) timed out", thread.0),
                );
            }
            Trace::Sleep { thread, until } => {
                let lane = t.lane_or_main(LaneOf::Thread(thread.0));
                t.spans.push(Span {
                    lane,
                    from: at,
                    to: Some(*until),
                    kind: SpanKind::Sleep,
                    text: format!("sleep until {until}"),
                });
            }
            Trace::Backoff {
                thread,
                attempt,
                until,
            } => {
                let lane = t.lane_or_main(LaneOf::Thread(thread.0));
                t.spans.push(Span {
                    lane,
                    from: at,
                    to: Some(*until),
                    kind: SpanKind::Backoff,
                    text: format!("back-off: retry {attempt} at {until}"),
                });
            }
            Trace::BranchStarted { thread, branch, .. } => t.mark(
                LaneOf::Thread(thread.0),
                at,
                MarkKind::BranchStarted,
                format!("branch {branch} started"),
            ),
            Trace::BranchEnded { thread, failed } => t.mark(
                LaneOf::Thread(thread.0),
                at,
                MarkKind::BranchEnded,
                if *failed {
                    "branch ended with an error".into()
                } else {
                    "branch ended".into()
                },
            ),
            Trace::HttpSent { thread, call } => {
                let c = &calls[call.0 as usize];
                open.start(
                    &mut t,
                    LaneOf::Thread(thread.0),
                    at,
                    SpanKind::Http,
                    format!("{call}: {}", c.target.describe()),
                );
            }
            Trace::HttpAnswered { thread, call } => {
                open.end(&mut t, LaneOf::Thread(thread.0), SpanKind::Http, at);
                let c = &calls[call.0 as usize];
                let what = answer_text(c);
                t.mark(
                    LaneOf::Thread(thread.0),
                    at,
                    MarkKind::HttpAnswered,
                    format!("{call} answered: {what}"),
                );
            }
            Trace::HttpTimedOut { thread, call } => {
                open.end(&mut t, LaneOf::Thread(thread.0), SpanKind::Http, at);
                t.mark(
                    LaneOf::Thread(thread.0),
                    at,
                    MarkKind::HttpTimedOut,
                    format!("{call} timed out"),
                );
            }
            Trace::Ended { state } => {
                let (kind, text) = match ex.outcome() {
                    Some(Outcome::Succeeded(v)) => {
                        (MarkKind::Succeeded, format!("{state}: {}", show(v)))
                    }
                    Some(Outcome::Failed(f)) => (
                        MarkKind::Failed,
                        format!("{state}: {} {}", show(f), stack_text(&f.stack, None)),
                    ),
                    _ => (MarkKind::Ended, state.to_string()),
                };
                t.mark(LaneOf::Thread(0), at, kind, text.trim_end().to_owned());
            }
        }
    }
    for r in requests {
        let of = r.endpoint.map_or(LaneOf::Thread(0), LaneOf::Endpoint);
        let (kind, text) = request_mark(r);
        if kind == MarkKind::Stored {
            let lane = t.lane_or_main(of);
            t.spans.push(Span {
                lane,
                from: r.at,
                to: r.taken_at,
                kind: SpanKind::Holding,
                text: format!("the slot holds the request of {}", r.at),
            });
        }
        t.mark(of, r.at, kind, text);
    }
    // Fixed order whatever the order of discovery: by instant, then lane.
    t.marks.sort_by_key(|m| (m.at, m.lane));
    t.spans.sort_by_key(|s| (s.from, s.lane));
    t
}

impl Timeline {
    /// The lane following `of`; main's for what has none (a request to a URL that is no
    /// endpoint of the execution).
    fn lane_or_main(&self, of: LaneOf) -> usize {
        self.lane(of).unwrap_or(0)
    }

    fn mark(&mut self, of: LaneOf, at: SimTime, kind: MarkKind, text: String) {
        let lane = self.lane_or_main(of);
        self.marks.push(Mark {
            lane,
            at,
            kind,
            text,
        });
    }
}

/// Spans begun and not yet ended, by lane and kind, oldest first.
#[derive(Default)]
struct Open(BTreeMap<(LaneOf, SpanKind), Vec<usize>>);

impl Open {
    fn start(&mut self, t: &mut Timeline, of: LaneOf, at: SimTime, kind: SpanKind, text: String) {
        let lane = t.lane_or_main(of);
        t.spans.push(Span {
            lane,
            from: at,
            to: None,
            kind,
            text,
        });
        self.0
            .entry((of, kind))
            .or_default()
            .push(t.spans.len() - 1);
    }

    fn end(&mut self, t: &mut Timeline, of: LaneOf, kind: SpanKind, at: SimTime) {
        if let Some(open) = self.0.get_mut(&(of, kind)).filter(|v| !v.is_empty()) {
            let i = open.remove(0);
            t.spans[i].to = Some(at);
        }
    }
}
