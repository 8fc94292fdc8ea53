//! The engine-level driver of `wfsim explore` (SPEC §9): schedules, senders' retries,
//! faults, and the contract checks that can fail.

use std::path::{Path, PathBuf};

use wfsim_explore::plan::Plan;
use wfsim_explore::schedule::Schedule;
use wfsim_explore::{contract, run_seed};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// An explore file beside the fixture workflows, read from `text`.
fn plan(text: &str) -> Plan {
    Plan::parse(&fixtures().join("explore/test.yaml"), text).expect("a valid explore file")
}

/// EXP-1: a seed draws the same schedule every time, within the ranges the file gives.
#[test]
fn exp_1_a_seed_draws_one_schedule_within_its_ranges() {
    let p = plan(
        "workflow: ../workflows/approval.yaml\nargument: {order: 1}\nservices:\n  - match: {url: \"https://notify.example.com/*\"}\n    respond: {status: [200, 204], after: [0.5, 2]}\nexplore:\n  senders:\n    - {endpoint: 0, count: [1, 4], at: [10, 20], body: [{approved: true}, {approved: false}]}\n  faults: {latency: [0.001, 0.002]}\n  always: ['${true}']\n",
    );
    let mut bodies = [0; 2];
    let (mut after_lo, mut after_hi) = (f64::MAX, f64::MIN);
    for seed in 0..200 {
        let s = Schedule::draw(&p, seed);
        assert_eq!(s, Schedule::draw(&p, seed));
        assert!((200.0..=204.0).contains(&s.stubs[0]) && s.stubs[0].fract() == 0.0);
        assert!((0.5..=2.0).contains(&s.stubs[1]));
        let ms = s.stubs[1] * 1000.0;
        assert!((ms - ms.round()).abs() < 1e-6, "to the millisecond: {ms}");
        after_lo = after_lo.min(s.stubs[1]);
        after_hi = after_hi.max(s.stubs[1]);
        assert!((1..=4).contains(&s.requests.len()));
        for r in &s.requests {
            let at = r.at.as_nanos();
            assert!((10_000_000_000..=20_000_000_000).contains(&at));
            assert_eq!(at % 1_000_000, 0, "to the millisecond");
            bodies[r.body] += 1;
            let l = r.sends[0].latency.as_nanos();
            assert!((1_000_000..=2_000_000).contains(&l), "{l}");
        }
    }
    assert!(
        bodies[0] > 50 && bodies[1] > 50,
        "both bodies drawn: {bodies:?}"
    );
    // The whole range of a number drawn to the millisecond, both ends near.
    assert!(after_lo < 0.6 && after_hi > 1.9, "{after_lo} … {after_hi}");
}

/// EXP-1: server restarts are drawn over the whole of the senders' window (up to the
/// latest instant any sender may send), each for a while within `RESTART_DOWN`.
#[test]
fn exp_1_restarts_are_drawn_over_the_senders_window() {
    use wfsim_explore::schedule::RESTART_DOWN;
    let p = plan(
        "workflow: ../workflows/approval.yaml\nargument: {order: 1}\nexplore:\n  senders:\n    - {endpoint: 0, count: 1, at: [10, 20], body: {approved: true}}\n    - {endpoint: 0, count: 1, at: [0, 40], body: {approved: true}}\n  faults: {restarts: [1, 3]}\n  always: ['${true}']\n",
    );
    let mut latest = 0;
    for seed in 0..200 {
        let s = Schedule::draw(&p, seed);
        assert!((1..=3).contains(&s.restarts.len()), "{s:?}");
        for r in &s.restarts {
            let at = r.at.as_nanos();
            // Drawn by 40 s, then moved apart (`separated`) by at most the others' downtime.
            assert!(at <= 40_000_000_000 + 3 * RESTART_DOWN.1, "{at}");
            latest = latest.max(at);
            let down = r.down.as_nanos() as u64;
            let (lo, hi) = RESTART_DOWN;
            assert!((lo..=hi).contains(&down), "{down}");
        }
    }
    assert!(latest > 30_000_000_000, "drawn up to 40 s: {latest}");
}

/// EXP-3: a request refused with 429 (the slot is full) is resent after the sender's
/// delay, and a request whose answer was lost is resent although it was accepted: a
/// duplicate.
#[test]
fn exp_3_senders_retry_on_429_and_on_lost_answers() {
    // The workflow sleeps 10 s before it awaits: the first request fills the slot, the
    // second is refused 429 and retried 2 s later, still refused, and so on.
    let p = plan(
        "workflow: ../workflows/buffered_then_await.yaml\nexplore:\n  senders:\n    - {endpoint: 0, count: 2, at: 1, retry: {max_attempts: 4, initial_delay: 2, multiplier: 2, max_delay: 60}}\n  always: ['${true}']\n",
    );
    let s = Schedule::draw(&p, 0);
    let e = s.execute(&p, &p.workflow).unwrap();
    let seen: Vec<(u32, u64, Option<u16>)> = e
        .sent
        .iter()
        .map(|x| (x.attempt, x.arrived_at.as_nanos() / 1_000_000_000, x.status))
        .collect();
    // Second request: 429 at 1 s, resent at 3 s (429), at 7 s (429), at 15 s: the await
    // took the first at 10 s and the execution ended, so 404; no more attempts.
    assert_eq!(
        seen,
        [
            (1, 1, Some(200)),
            (1, 1, Some(429)),
            (2, 3, Some(429)),
            (3, 7, Some(429)),
            (4, 15, Some(404)),
        ]
    );
    // Every answer lost: each request is resent until its attempts run out.
    let p = plan(
        "workflow: ../workflows/buffered_then_await.yaml\nexplore:\n  senders:\n    - {endpoint: 0, count: 1, at: 1, retry: {max_attempts: 3, initial_delay: 1, multiplier: 1, max_delay: 1}}\n  faults: {loss: 1}\n  always: ['${true}']\n",
    );
    let e = Schedule::draw(&p, 0).execute(&p, &p.workflow).unwrap();
    let statuses: Vec<_> = e
        .sent
        .iter()
        .map(|x| (x.attempt, x.status, x.lost))
        .collect();
    assert_eq!(
        statuses,
        [
            (1, Some(200), true),
            (2, Some(429), true),
            (3, Some(429), true)
        ]
    );
}

/// EXP-4: the contract check agrees with correct runs and catches a wrong status.
#[test]
fn exp_4_the_spec_model_rechecks_every_run() {
    let p = plan(&std::fs::read_to_string(fixtures().join("explore/approval.yaml")).unwrap());
    let mut checked = 0;
    for seed in 0..100 {
        let o = run_seed(&p, seed);
        assert_eq!(o.contract.violation, None, "seed {seed}");
        assert_eq!(o.error, None);
        checked += o.contract.checks.values().sum::<u64>();
        let mut e = Schedule::draw(&p, seed).execute(&p, &p.workflow).unwrap();
        if let Some(r) = e.run.requests.first_mut() {
            r.status = if r.status == 200 { 429 } else { 200 };
            let v = contract::check(&e.run);
            assert!(
                v.violation.is_some(),
                "seed {seed}: a flipped status goes unseen"
            );
        }
    }
    assert!(checked > 500, "{checked}");
}
