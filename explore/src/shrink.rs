//! Shrinking a schedule that breaks a property (EXP-5), with the driver that found it:
//! fewer senders, fewer requests, no faults, fewer retries, no restarts, simpler bodies, the lowest stub numbers, earlier times (each kept
//! only if the property still fails), never outside what the senders may do. Deterministic: the same schedule shrinks the same way.

use wfsim_engine::SimTime;

use crate::Driver;
use crate::fault::FaultKind;
use crate::plan::Plan;
use crate::schedule::{Executed, Schedule, SendFault};

/// Runs a shrink may spend.
pub const SHRINK_RUNS_MAX: u32 = 2000;

/// The smallest schedule found that still fails, its run, and how many runs it took.
pub fn shrink(
    plan: &Plan,
    driver: &dyn Driver,
    start: Schedule,
    fails: &dyn Fn(&Executed) -> bool,
) -> (Schedule, u32) {
    let mut best = start;
    let mut runs = 0u32;
    let try_one = |candidate: &Schedule, runs: &mut u32| -> bool {
        *runs += 1;
        driver
            .execute(plan, candidate)
            .is_ok_and(|executed| fails(&executed))
    };
    // Every run below checks the budget first, so the passes need no guard of their own.
    'passes: loop {
        for candidate in candidates(plan, &best) {
            if runs >= SHRINK_RUNS_MAX {
                break 'passes;
            }
            if candidate != best && try_one(&candidate, &mut runs) {
                best = candidate;
                continue 'passes;
            }
        }
        // Earlier times: per request, the earliest time (to the millisecond) found by
        // halving the distance between the sender's first instant and the failing one.
        let mut moved = false;
        for i in 0..best.requests.len() {
            if runs >= SHRINK_RUNS_MAX {
                break 'passes;
            }
            let mut pass = plan.senders[best.requests[i].sender].at.0 / MS * MS;
            let mut fail = best.requests[i].at.as_nanos();
            if pass >= fail {
                continue;
            }
            // The first instant itself may fail.
            let mut c = best.clone();
            c.requests[i].at = SimTime::from_nanos(pass);
            if try_one(&c, &mut runs) {
                best = c;
                moved = true;
                continue;
            }
            while fail - pass > MS && runs < SHRINK_RUNS_MAX {
                let mid = pass + (fail - pass) / 2 / MS * MS;
                let mid = if mid == pass { pass + MS } else { mid };
                let mut c = best.clone();
                c.requests[i].at = SimTime::from_nanos(mid);
                if try_one(&c, &mut runs) {
                    fail = mid;
                    best = c;
                    moved = true;
                } else {
                    pass = mid;
                }
            }
        }
        if !moved {
            break;
        }
    }
    (best, runs)
}

const MS: u64 = 1_000_000;

/// Simpler schedules than `s`, roughly the biggest steps first.
fn candidates(plan: &Plan, s: &Schedule) -> Vec<Schedule> {
    let mut out = Vec::new();
    // Fewer senders: those that may send nothing.
    let mut senders: Vec<usize> = s.requests.iter().map(|r| r.sender).collect();
    senders.sort_unstable();
    senders.dedup();
    for sender in senders {
        if plan.senders[sender].count.0 == 0 {
            let mut c = s.clone();
            c.requests.retain(|r| r.sender != sender);
            out.push(c);
        }
    }
    // Fewer requests, the last first, down to the least each sender sends.
    for i in (0..s.requests.len()).rev() {
        let sender = s.requests[i].sender;
        let has = s.requests.iter().filter(|r| r.sender == sender).count() as u64;
        if has > plan.senders[sender].count.0 {
            let mut c = s.clone();
            c.requests.remove(i);
            out.push(c);
        }
    }
    for i in 0..s.requests.len() {
        // No faults.
        let mut c = s.clone();
        for f in &mut c.requests[i].sends {
            *f = SendFault::default();
        }
        out.push(c);
        // Fewer retries.
        if s.requests[i].sends.len() > 1 {
            let mut c = s.clone();
            c.requests[i].sends.pop();
            out.push(c);
        }
        // Simpler bodies: those listed before it.
        for b in 0..s.requests[i].body {
            let mut c = s.clone();
            c.requests[i].body = b;
            out.push(c);
        }
        // Less of each fault on each send.
        for k in 0..s.requests[i].sends.len() {
            for kind in FaultKind::ALL {
                if let Some(smaller) = kind.smaller(&s.requests[i].sends[k]) {
                    let mut c = s.clone();
                    c.requests[i].sends[k] = smaller;
                    out.push(c);
                }
            }
        }
    }
    // No server restarts, the last first.
    for i in (0..s.restarts.len()).rev() {
        let mut c = s.clone();
        c.restarts.remove(i);
        out.push(c);
    }
    // The lowest stub numbers.
    // (One already at its lowest makes a candidate equal to `s`, which `shrink` skips.)
    for (k, r) in plan.stubs.ranges.iter().enumerate() {
        let mut c = s.clone();
        c.stubs[k] = r.lo;
        out.push(c);
    }
    out
}
