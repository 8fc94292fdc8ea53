//! One seed's schedule (EXP-1): drawn from a seeded ChaCha stream, run through the
//! engine-level runner (`runner::run_with_services`, as `wfsim run` runs a scenario), with
//! the senders' retries (EXP-3) decided by the answers they get.

use std::rc::Rc;

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use wfsim_engine::SimTime;
use wfsim_engine::defn::Workflow;
use wfsim_harness::runner::{self, Run, ScriptedRequest};

use crate::draw::{time_in, uniform};
use crate::fault::FaultKind;
pub use crate::fault::{RESTART_DOWN, Restart, SendFault, separated};
use crate::plan::{Plan, RetryPolicy};

/// The ChaCha stream schedules are drawn from (the engine's own streams are 0 … 4).
pub const STREAM_SCHEDULES: u64 = wfsim_engine::IdGen::STREAM_EXPLORE_SCHEDULES;

/// A concrete schedule: everything one seed drew.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    /// The run's seed (ids, branch scheduling) and the seed it was drawn from.
    pub seed: u64,
    /// One value per stub range, in the order written.
    pub stubs: Vec<f64>,
    pub requests: Vec<Logical>,
    /// Server restarts (`faults.restarts`), by time: only the system-level driver
    /// (`--system`) applies them.
    pub restarts: Vec<Restart>,
}

/// One logical request of a sender: first sent at `at`, resent as its retry policy says.
#[derive(Clone, Debug, PartialEq)]
pub struct Logical {
    pub sender: usize,
    pub at: SimTime,
    /// Index into the sender's bodies.
    pub body: usize,
    /// What befalls each send, first to last: at most the policy's `max_attempts`.
    pub sends: Vec<SendFault>,
}

/// One send that arrived.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    /// Index into [`Schedule::requests`].
    pub logical: usize,
    /// 1 for the first send.
    pub attempt: u32,
    pub sent_at: SimTime,
    pub arrived_at: SimTime,
    /// `None`: the run ended its loop before this request (it never arrived).
    pub status: Option<u16>,
    pub lost: bool,
}

/// A run and the sends that made it.
#[derive(Debug)]
pub struct Executed {
    pub run: Run,
    /// In the order they arrived.
    pub sent: Vec<Sent>,
    /// When the server was killed and when it was back, on the execution's clock (empty at
    /// engine level, which has no server).
    pub restarts: Vec<(SimTime, SimTime)>,
}

impl Schedule {
    /// EXP-1: what seed `seed` draws, in a fixed order: the stub numbers, then per sender
    /// its count, and per logical request its time, its body and the fault of each send.
    pub fn draw(plan: &Plan, seed: u64) -> Schedule {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(STREAM_SCHEDULES);
        let stubs = plan
            .stubs
            .ranges
            .iter()
            .map(|r| {
                if r.integral() {
                    uniform(&mut rng, r.lo as u64, r.hi as u64) as f64
                } else {
                    let lo = (r.lo * 1000.0).ceil() as u64;
                    let hi = (r.hi * 1000.0).floor() as u64;
                    uniform(&mut rng, lo, hi.max(lo)) as f64 / 1000.0
                }
            })
            .collect();
        let mut requests = Vec::new();
        for (i, s) in plan.senders.iter().enumerate() {
            let count = uniform(&mut rng, s.count.0, s.count.1);
            for _ in 0..count {
                let at = SimTime::from_nanos(time_in(&mut rng, s.at));
                let body = uniform(&mut rng, 0, s.bodies.len() as u64 - 1) as usize;
                let sends = (0..s.retry.max_attempts)
                    .map(|_| {
                        let mut send = SendFault::default();
                        for kind in FaultKind::ALL {
                            kind.draw_send(&plan.faults, &mut rng, &mut send);
                        }
                        send
                    })
                    .collect();
                requests.push(Logical {
                    sender: i,
                    at,
                    body,
                    sends,
                });
            }
        }
        // Drawn last, so that a file without restarts draws what it drew before they existed.
        let mut restarts = Vec::new();
        for kind in FaultKind::ALL {
            kind.draw_restarts(&plan.faults, latest_send(plan), &mut rng, &mut restarts);
        }
        Schedule {
            seed,
            stubs,
            requests,
            restarts: separated(restarts),
        }
    }

    /// Runs the schedule. Retries depend on answers, so the run is repeated with each
    /// round's retries added until no sender has another to send; a retry never changes
    /// what happened before it was sent, so each round keeps the last one's past.
    pub fn execute(&self, plan: &Plan, workflow: &Rc<Workflow>) -> Result<Executed, String> {
        // Shared by every round's run, not copied into each.
        let services: Rc<[wfsim_harness::services::Service]> = plan.stubs.with(&self.stubs)?.into();
        let mut config = plan.base.run_config();
        config.seed = self.seed;
        let name = plan
            .workflow_path
            .file_stem()
            .map_or("workflow".into(), |s| s.to_string_lossy().into_owned());
        // Per logical request, the times its sends so far left.
        let mut sends: Vec<Vec<SimTime>> = self.requests.iter().map(|r| vec![r.at]).collect();
        loop {
            let sends_now: usize = sends.iter().map(Vec::len).sum();
            let mut script: Vec<ScriptedRequest> =
                Vec::with_capacity(plan.base.requests.len() + sends_now);
            script.extend_from_slice(&plan.base.requests);
            let mut who: Vec<Option<(usize, u32, SimTime)>> = Vec::with_capacity(script.capacity());
            who.resize(script.len(), None);
            for (i, (r, times)) in self.requests.iter().zip(&sends).enumerate() {
                let sender = &plan.senders[r.sender];
                let body = &sender.bodies[r.body];
                for (k, &sent_at) in times.iter().enumerate() {
                    let arrived = sent_at.saturating_add(r.sends[k].latency);
                    script.push(ScriptedRequest {
                        at: arrived,
                        endpoint: sender.endpoint,
                        method: sender.method.clone(),
                        headers: body.headers.clone(),
                        query: String::new(),
                        body: body.bytes.clone(),
                        execution: sender.execution.clone(),
                    });
                    who.push(Some((i, k as u32 + 1, sent_at)));
                }
            }
            let run = runner::run_with_shared_services(
                Rc::clone(workflow),
                &name,
                &config,
                &script,
                Rc::clone(&services),
                &plan.children,
            );
            // The runner answers the script in (time, index) order.
            let mut order: Vec<usize> = (0..script.len()).collect();
            order.sort_by_key(|&i| (script[i].at, i));
            let mut statuses = vec![None; script.len()];
            for (&i, rec) in order
                .iter()
                .zip(run.requests.iter().filter(|r| r.service.is_none()))
            {
                statuses[i] = Some(rec.status);
            }
            let mut sent = Vec::with_capacity(sends_now);
            // (arrived, retry at, logical)
            let mut next: Vec<(SimTime, SimTime, usize)> = Vec::new();
            for &i in &order {
                let Some((logical, attempt, sent_at)) = who[i] else {
                    continue;
                };
                let fault = self.requests[logical].sends[attempt as usize - 1];
                sent.push(Sent {
                    logical,
                    attempt,
                    sent_at,
                    arrived_at: script[i].at,
                    status: statuses[i],
                    lost: fault.lost,
                });
                let policy: &RetryPolicy = &plan.senders[self.requests[logical].sender].retry;
                let last = attempt as usize == sends[logical].len();
                let Some(status) = statuses[i] else { continue };
                let failed = fault.lost || status == 429 || status >= 500;
                let attempts = policy
                    .max_attempts
                    .min(self.requests[logical].sends.len() as u32);
                if last && failed && attempt < attempts {
                    let retry_at = script[i].at.saturating_add(policy.delay(attempt));
                    next.push((script[i].at, retry_at, logical));
                }
            }
            let Some(first) = next.iter().map(|n| n.1).min() else {
                return Ok(Executed {
                    run,
                    sent,
                    restarts: Vec::new(),
                });
            };
            // Only retries decided before the earliest new send are certain: a later
            // answer may change once that send is in.
            for (arrived, retry_at, logical) in next {
                if arrived < first {
                    sends[logical].push(retry_at);
                }
            }
        }
    }
}

/// When the last sender's window ends, in nanoseconds: where restarts may be drawn up to.
fn latest_send(plan: &Plan) -> u64 {
    plan.senders.iter().map(|s| s.at.1).max().unwrap_or(0)
}
