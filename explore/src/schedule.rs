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

    /// Runs the schedule. Retries depend on answers: the first run decides them as the
    /// answers come ([`runner::Resends`]), each resend sent when the answer before it
    /// fails. Rounds then confirm it: the script with every send so far is read against
    /// the run, and should a sender have another to send, the run is repeated with each
    /// round's retries added until none has; a retry never changes what happened before it
    /// was sent, so each round keeps the last one's past (and the first run is what those
    /// rounds would have reached).
    pub fn execute(&self, plan: &Plan, workflow: &Rc<Workflow>) -> Result<Executed, String> {
        self.execute_deciding(plan, workflow, true)
    }

    /// [`Schedule::execute`]; without `deciding`, the first run has only first sends and
    /// rounds add every retry (what the first run's decisions must come to).
    fn execute_deciding(
        &self,
        plan: &Plan,
        workflow: &Rc<Workflow>,
        deciding: bool,
    ) -> Result<Executed, String> {
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
        let mut first = deciding.then(|| {
            self.run_deciding_retries(plan, workflow, &name, &config, &services, &mut sends)
        });
        loop {
            // When each request of the script arrives, and who sent it.
            let (arrivals, who) = self.arrivals(plan, &sends);
            let run = match first.take() {
                Some(run) => run,
                None => runner::run_with_shared_services(
                    Rc::clone(workflow),
                    &name,
                    &config,
                    &self.script(plan, &sends),
                    Rc::clone(&services),
                    &plan.children,
                ),
            };
            // The runner answers the script in (time, index) order.
            let mut order: Vec<usize> = (0..arrivals.len()).collect();
            order.sort_by_key(|&i| (arrivals[i], i));
            let mut statuses = vec![None; arrivals.len()];
            for (&i, rec) in order
                .iter()
                .zip(run.requests.iter().filter(|r| r.service.is_none()))
            {
                statuses[i] = Some(rec.status);
            }
            let mut sent = Vec::with_capacity(arrivals.len());
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
                    arrived_at: arrivals[i],
                    status: statuses[i],
                    lost: fault.lost,
                });
                let last = attempt as usize == sends[logical].len();
                let Some(status) = statuses[i] else { continue };
                if last
                    && let Some(retry_at) = self.retry(plan, logical, attempt, arrivals[i], status)
                {
                    next.push((arrivals[i], retry_at, logical));
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

    /// When logical request `logical`'s send number `attempt` (from 1), which arrived at
    /// `arrived` and was answered `status`, is sent again (EXP-3): on 429, 5xx or a lost
    /// answer, while the policy has attempts left.
    fn retry(
        &self,
        plan: &Plan,
        logical: usize,
        attempt: u32,
        arrived: SimTime,
        status: u16,
    ) -> Option<SimTime> {
        let r = &self.requests[logical];
        let fault = r.sends[attempt as usize - 1];
        let policy: &RetryPolicy = &plan.senders[r.sender].retry;
        let failed = fault.lost || status == 429 || status >= 500;
        let attempts = policy.max_attempts.min(r.sends.len() as u32);
        (failed && attempt < attempts).then(|| arrived.saturating_add(policy.delay(attempt)))
    }

    /// The script of `sends`: the file's own requests, then each logical request's sends
    /// in order, each arriving its latency after it was sent.
    fn script(&self, plan: &Plan, sends: &[Vec<SimTime>]) -> Vec<ScriptedRequest> {
        let n: usize = sends.iter().map(Vec::len).sum();
        let mut script = Vec::with_capacity(plan.base.requests.len() + n);
        script.extend_from_slice(&plan.base.requests);
        for (r, times) in self.requests.iter().zip(sends) {
            for (k, &sent_at) in times.iter().enumerate() {
                script.push(self.send(plan, r, k, sent_at));
            }
        }
        script
    }

    /// When each request of [`Schedule::script`] arrives, and who sent it: `None` for the
    /// file's own, else the logical request, the send's number (from 1) and when it was
    /// sent.
    fn arrivals(&self, plan: &Plan, sends: &[Vec<SimTime>]) -> (Vec<SimTime>, Vec<Owner>) {
        let mut at: Vec<SimTime> = plan.base.requests.iter().map(|r| r.at).collect();
        let mut who = vec![None; at.len()];
        for (i, (r, times)) in self.requests.iter().zip(sends).enumerate() {
            for (k, &sent_at) in times.iter().enumerate() {
                at.push(sent_at.saturating_add(r.sends[k].latency));
                who.push(Some((i, k as u32 + 1, sent_at)));
            }
        }
        (at, who)
    }

    /// Send `k` (from 0) of logical request `r`, sent at `sent_at`.
    fn send(&self, plan: &Plan, r: &Logical, k: usize, sent_at: SimTime) -> ScriptedRequest {
        ScriptedRequest {
            at: sent_at.saturating_add(r.sends[k].latency),
            ..plan.request(r.sender, r.body).clone()
        }
    }

    /// The first run: the file's own requests in the script, each logical request's
    /// first send beside it, and each resend sent as the answer before it fails
    /// (`runner::Resends`), each placed where it would be in [`Schedule::script`]; the
    /// retries it makes are added to `sends`.
    fn run_deciding_retries(
        &self,
        plan: &Plan,
        workflow: &Rc<Workflow>,
        name: &str,
        config: &runner::RunConfig,
        services: &Rc<[wfsim_harness::services::Service]>,
        sends: &mut [Vec<SimTime>],
    ) -> Run {
        let base = plan.base.requests.len();
        // Places past the file's own: each logical request's sends, room left for as many
        // as it may make; per place, whose send it is (logical request, number from 1).
        let mut first = Vec::with_capacity(self.requests.len());
        let mut whose = Vec::new();
        for (i, r) in self.requests.iter().enumerate() {
            let arrives = r.at.saturating_add(r.sends[0].latency);
            let place = (base + whose.len()) as u64;
            first.push((place, arrives, plan.request(r.sender, r.body)));
            whose.extend((1..=r.sends.len() as u32).map(|k| (i, k)));
        }
        let mut answered = |place: u64, status: u16, t: SimTime| {
            let at = usize::try_from(place).ok()?.checked_sub(base)?;
            let &(logical, attempt) = whose.get(at)?;
            let retry_at = self.retry(plan, logical, attempt, t, status)?;
            sends[logical].push(retry_at);
            let r = &self.requests[logical];
            let latency = r.sends[attempt as usize].latency;
            Some((
                place + 1,
                retry_at.saturating_add(latency),
                plan.request(r.sender, r.body),
            ))
        };
        runner::run_with_resends(
            Rc::clone(workflow),
            name,
            config,
            &plan.base.requests,
            Rc::clone(services),
            &plan.children,
            Some(runner::Resends {
                sends: first,
                answered: &mut answered,
            }),
        )
    }
}

/// Who sent a request of a script: `None` the file itself, else (logical request, send
/// number from 1, when it was sent).
type Owner = Option<(usize, u32, SimTime)>;

/// When the last sender's window ends, in nanoseconds: where restarts may be drawn up to.
fn latest_send(plan: &Plan) -> u64 {
    plan.senders.iter().map(|s| s.at.1).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first run's retries, decided as its answers come, are those the rounds of runs
    /// come to: the same run, request for request and event for event, on every example
    /// file and many seeds.
    #[test]
    fn exp_3_retries_decided_in_one_run_are_those_of_the_rounds() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/explore");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let mut resent = 0;
        for path in files {
            let plan = Plan::load(&path).unwrap();
            for seed in 0..400 {
                let s = Schedule::draw(&plan, seed);
                let one = s.execute_deciding(&plan, &plan.workflow, true).unwrap();
                let rounds = s.execute_deciding(&plan, &plan.workflow, false).unwrap();
                let at = format!("{} seed {seed}", path.display());
                assert_eq!(one.sent, rounds.sent, "{at}");
                assert_eq!(one.run.requests, rounds.run.requests, "{at}");
                let (a, b) = (&one.run.execution, &rounds.run.execution);
                assert_eq!(a.trace(), b.trace(), "{at}");
                assert_eq!(a.http_calls(), b.http_calls(), "{at}");
                assert_eq!(a.outcome(), b.outcome(), "{at}");
                assert_eq!(a.logs(), b.logs(), "{at}");
                assert_eq!(
                    one.run.budget_exhausted, rounds.run.budget_exhausted,
                    "{at}"
                );
                resent += one.sent.iter().filter(|x| x.attempt > 1).count();
            }
        }
        assert!(resent > 100, "the files retry: {resent} resends");
    }
}
