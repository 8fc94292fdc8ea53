//! Shrinking (EXP-5) judged on its own: what it reaches on known cases (minimality), that
//! what it returns still fails, and that nothing it tries leaves what the file allows.
//!
//! A `Judge` driver decides which schedules fail by a predicate over the schedule itself
//! and records every schedule it is asked to play, so each test knows the exact minimum.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use wfsim_engine::ExecutionState;
use wfsim_explore::plan::Plan;
use wfsim_explore::schedule::{Executed, Schedule, SendFault};
use wfsim_explore::shrink::{SHRINK_RUNS_MAX, shrink};
use wfsim_explore::{Driver, EngineLevel};

const S: u64 = 1_000_000_000;
const MS: u64 = 1_000_000;

fn plan(text: &str) -> Plan {
    let fixtures: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    Plan::parse(&fixtures.join("explore/test.yaml"), text).expect("a valid explore file")
}

/// Fails exactly the schedules `fails` names; plays them at engine level (a real run, so
/// the shrinker gets a real `Executed`); records every schedule it was given.
struct Judge {
    fails: fn(&Schedule) -> bool,
    tried: Mutex<Vec<Schedule>>,
}

impl Judge {
    fn new(fails: fn(&Schedule) -> bool) -> Judge {
        Judge {
            fails,
            tried: Mutex::new(Vec::new()),
        }
    }
}

impl Driver for Judge {
    fn name(&self) -> &'static str {
        "judge"
    }
    fn execute(&self, plan: &Plan, s: &Schedule) -> Result<Executed, String> {
        self.tried.lock().unwrap().push(s.clone());
        if (self.fails)(s) {
            EngineLevel.execute(plan, s)
        } else {
            Err("holds".into())
        }
    }
}

/// Two senders, bodies to choose from, retries, every fault, a stub range: something to
/// take away of each kind.
const RICH: &str = "workflow: ../workflows/approval.yaml\nargument: {order: 1}\nservices:\n  - match: {url: \"https://notify.example.com/*\"}\n    respond: {status: [200, 204], after: [0.5, 2]}\nexplore:\n  senders:\n    - {endpoint: 0, count: [0, 4], at: [10, 20], body: [{a: 0}, {a: 1}, {a: 2}], retry: {max_attempts: 4, initial_delay: 1, multiplier: 2, max_delay: 10}}\n    - {endpoint: 0, count: [1, 3], at: [5, 15], body: [{b: 0}, {b: 1}], retry: {max_attempts: 3, initial_delay: 1, multiplier: 2, max_delay: 10}}\n  faults: {loss: 0.5, latency: [0.001, 2], restarts: [1, 3]}\n  always: ['${true}']\n";

/// The failure of the minimality test: a request of sender 0 sent at or after 12.345 s,
/// with a body after the first unless it is sent by 13 s. Only once its time has moved
/// below 13 s can its body become the first: shrinking must go round again after moving
/// times.
fn late_second_body(s: &Schedule) -> bool {
    s.requests.iter().any(|r| {
        let at = r.at.as_nanos();
        r.sender == 0 && at >= 12 * S + 345 * MS && (r.body >= 1 || at <= 13 * S)
    })
}

/// Sender 0's requests all after 13 s with a body after the first: the start of the
/// minimality test, so that every step of the way is needed.
fn late_and_second(s: &Schedule) -> bool {
    s.requests
        .iter()
        .filter(|r| r.sender == 0)
        .all(|r| r.at.as_nanos() > 13 * S && r.body >= 1)
}

/// The first seed whose draw fails by `judge`'s predicate, with something to shrink.
fn failing_draw(p: &Plan, fails: fn(&Schedule) -> bool) -> Schedule {
    failing_draw_where(p, fails, |_| true)
}

fn failing_draw_where(
    p: &Plan,
    fails: fn(&Schedule) -> bool,
    also: fn(&Schedule) -> bool,
) -> Schedule {
    (0..10_000)
        .map(|seed| Schedule::draw(p, seed))
        .find(|s| {
            fails(s)
                && also(s)
                && s.requests.len() >= 3
                && !s.restarts.is_empty()
                && s.requests.iter().any(|r| r.sends.len() > 1)
        })
        .expect("a failing draw among 10,000 seeds")
}

/// Each of `tried` within what the file behind `p` allows: each sender's count, times and
/// bodies, the retry policy's attempts, the stub ranges, the latency range (or none at
/// all: removing faults is allowed).
fn assert_within(p: &Plan, tried: &[Schedule]) {
    for s in tried {
        for (k, sender) in p.senders.iter().enumerate() {
            let n = s.requests.iter().filter(|r| r.sender == k).count() as u64;
            assert!(
                (sender.count.0..=sender.count.1).contains(&n),
                "sender {k} sends {n}: {s:#?}"
            );
        }
        for r in &s.requests {
            let sender = &p.senders[r.sender];
            let at = r.at.as_nanos();
            assert!((sender.at.0..=sender.at.1).contains(&at), "{s:#?}");
            assert!(r.body < sender.bodies.len(), "{s:#?}");
            let n = r.sends.len() as u32;
            assert!((1..=sender.retry.max_attempts).contains(&n), "{s:#?}");
            for f in &r.sends {
                let l = f.latency.as_nanos() as u64;
                assert!(l == 0 || (p.faults.latency.0..=p.faults.latency.1).contains(&l));
            }
        }
        for (k, range) in p.stubs.ranges.iter().enumerate() {
            assert!((range.lo..=range.hi).contains(&s.stubs[k]), "{s:#?}");
        }
    }
}

/// EXP-5, minimality: each kind of candidate is taken to its end. What is left is the one
/// request the failure needs (the first body, which fails once it is sent by 13 s; at the
/// earliest millisecond that fails; sent once, without faults), the least the other sender
/// must send (its first body, at its first instant), no restarts, and the lowest stub
/// numbers.
#[test]
fn exp_5_shrinking_reaches_the_known_minimum() {
    let p = plan(RICH);
    let start = failing_draw_where(&p, late_second_body, late_and_second);
    let judge = Judge::new(late_second_body);
    let (small, runs) = shrink(&p, &judge, start.clone(), &|_| true);
    assert!(runs > 0 && runs < SHRINK_RUNS_MAX, "{runs} runs");
    assert_eq!(runs as usize, judge.tried.lock().unwrap().len());
    assert_within(&p, &judge.tried.lock().unwrap());
    let mut requests = small.requests.clone();
    requests.sort_by_key(|r| r.sender);
    let none = vec![SendFault::default()];
    assert_eq!(requests.len(), 2, "{small:#?}");
    assert_eq!(
        (
            requests[0].sender,
            requests[0].body,
            requests[0].at.as_nanos()
        ),
        (0, 0, 12 * S + 345 * MS),
        "{small:#?}"
    );
    assert_eq!(requests[0].sends, none);
    assert_eq!(
        (
            requests[1].sender,
            requests[1].body,
            requests[1].at.as_nanos()
        ),
        (1, 0, 5 * S),
        "{small:#?}"
    );
    assert_eq!(requests[1].sends, none);
    assert!(small.restarts.is_empty(), "{small:#?}");
    assert_eq!(small.stubs, vec![200.0, 0.5]);
    assert_eq!(small.seed, start.seed, "the run's seed is kept");
    // Deterministic: the same schedule shrinks the same way.
    let again = shrink(&p, &Judge::new(late_second_body), start, &|_| true);
    assert_eq!(again, (small, runs));
}

/// EXP-5: a schedule that does not fail only once shrunk is never returned, and when
/// nothing smaller fails the start comes back unchanged.
#[test]
fn exp_5_a_schedule_nothing_smaller_breaks_is_kept() {
    let p = plan(RICH);
    let start = failing_draw(&p, late_second_body);
    let exactly = start.clone();
    // Only the start itself fails.
    thread_local! { static ONLY: std::cell::RefCell<Option<Schedule>> = const { std::cell::RefCell::new(None) }; }
    ONLY.with(|o| *o.borrow_mut() = Some(exactly));
    let judge = Judge::new(|s| ONLY.with(|o| o.borrow().as_ref() == Some(s)));
    let (small, runs) = shrink(&p, &judge, start.clone(), &|_| true);
    assert_eq!(small, start);
    assert!(runs > 0, "candidates were tried");
}

/// EXP-5: the shrunk schedule of a real bug still fails its property, and is the one late
/// request: the approval answered a millisecond after the hour the workflow waits.
#[test]
fn exp_5_the_shrunk_schedule_still_fails() {
    let fixtures: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let p = Plan::load(&fixtures.join("explore/approval_no_catch.yaml")).unwrap();
    let broken = |e: &Executed| e.run.execution.state() != ExecutionState::Succeeded;
    let start = (0..1000)
        .map(|seed| Schedule::draw(&p, seed))
        .find(|s| EngineLevel.execute(&p, s).is_ok_and(|e| broken(&e)))
        .expect("a late approver among 1,000 seeds");
    let (small, _) = shrink(&p, &EngineLevel, start.clone(), &broken);
    assert_ne!(small, start, "something was taken away");
    let e = EngineLevel.execute(&p, &small).unwrap();
    assert!(broken(&e), "the shrunk schedule still fails: {small:#?}");
    assert_eq!(small.requests.len(), 1);
    let r = &small.requests[0];
    assert_eq!((r.body, r.sends.clone()), (0, vec![SendFault::default()]));
    assert_eq!(r.at.as_nanos(), 3600 * S + MS, "{small:#?}");
}

/// EXP-5: every schedule the shrinker plays, and the one it returns, stays within what the
/// file allows: each sender's count, times and bodies, the retry policy's attempts, the
/// stub ranges, the latency range (or none at all: removing faults is allowed).
#[test]
fn exp_5_shrinking_never_leaves_what_the_file_allows() {
    let p = plan(RICH);
    let fails = |s: &Schedule| s.requests.iter().filter(|r| r.sender == 1).count() >= 2;
    let start = failing_draw(&p, fails);
    let judge = Judge::new(fails);
    let (small, _) = shrink(&p, &judge, start, &|_| true);
    let mut tried = judge.tried.into_inner().unwrap();
    assert!(tried.len() > 10, "{} tried", tried.len());
    tried.push(small.clone());
    assert_within(&p, &tried);
    // The sender that fails the run keeps the two requests it needs, the other none.
    assert_eq!(small.requests.len(), 2, "{small:#?}");
    assert!(small.requests.iter().all(|r| r.sender == 1));
}

/// EXP-5: a request's time off the millisecond grid (a schedule not drawn, as a
/// system-level driver or a hand may give) still shrinks to the earliest millisecond that
/// fails, inside the sender's window.
#[test]
fn exp_5_a_time_off_the_millisecond_shrinks_onto_it() {
    let p = plan(RICH);
    let mut start = failing_draw_where(&p, late_second_body, late_and_second);
    let i = start.requests.iter().position(|r| r.sender == 0).unwrap();
    start.requests[i].at = wfsim_engine::SimTime::from_nanos(12 * S + 345 * MS + 500_000);
    start.requests[i].body = 1;
    let (small, _) = shrink(&p, &Judge::new(late_second_body), start, &|_| true);
    let r = small.requests.iter().find(|r| r.sender == 0).unwrap();
    assert_eq!(r.at.as_nanos(), 12 * S + 345 * MS, "{small:#?}");
}

/// EXP-5: a shrink stops at `SHRINK_RUNS_MAX` runs, not one more, whichever stage it is in.
/// The judge fails every third schedule it is given, so there is always more to try.
#[test]
fn exp_5_shrinking_stops_at_its_run_budget() {
    use std::sync::atomic::{AtomicU32, Ordering};
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let p = plan(
        "workflow: ../workflows/approval.yaml\nargument: {order: 1}\nexplore:\n  senders:\n    - {endpoint: 0, count: [60, 80], at: [0, 100000], body: [{a: 0}, {a: 1}]}\n  faults: {latency: [0.001, 2]}\n  always: ['${true}']\n",
    );
    let start = Schedule::draw(&p, 1);
    CALLS.store(0, Ordering::SeqCst);
    let judge = Judge::new(|_| CALLS.fetch_add(1, Ordering::SeqCst) % 3 == 2);
    let (_, runs) = shrink(&p, &judge, start, &|_| true);
    assert_eq!(runs, SHRINK_RUNS_MAX);
    assert_eq!(judge.tried.lock().unwrap().len(), SHRINK_RUNS_MAX as usize);
}

/// EXP-5: the same, when only times are left to shrink (a fixed count, one body, no
/// faults): the budget runs out inside the halving of one request's time.
#[test]
fn exp_5_shrinking_times_stops_at_its_run_budget() {
    use std::sync::atomic::{AtomicU32, Ordering};
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let p = plan(
        "workflow: ../workflows/approval.yaml\nargument: {order: 1}\nexplore:\n  senders:\n    - {endpoint: 0, count: 90, at: [0, 100000], body: {a: 0}}\n  always: ['${true}']\n",
    );
    let start = Schedule::draw(&p, 1);
    CALLS.store(0, Ordering::SeqCst);
    let judge = Judge::new(|_| CALLS.fetch_add(1, Ordering::SeqCst) % 4 == 3);
    let (_, runs) = shrink(&p, &judge, start, &|_| true);
    assert_eq!(runs, SHRINK_RUNS_MAX);
    let tried = judge.tried.into_inner().unwrap();
    assert_eq!(tried.len(), SHRINK_RUNS_MAX as usize);
    assert_within(&p, &tried);
}
