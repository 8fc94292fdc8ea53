//! The faults an explore file asks for (`explore: faults:`), each in one place, as the
//! sweep's are in `wfsim-sim`: its key in the file and how its value is read, how a seed
//! draws it, how shrinking makes it smaller, and whether the engine-level driver applies it.
//!
//! A fault is drawn into effects both drivers play: what befalls one send (its latency, its
//! answer lost: [`SendFault`]) and the server down for a while ([`Restart`], only the
//! system level has a server to kill). A new fault made of these effects is a new
//! [`FaultKind`], its field in [`Faults`] and its arms here; the plan, the draw, shrinking
//! and the report take it from there. A new effect is a field here and a line in each
//! driver (`Schedule::execute`, and `wfsim-sim`'s sender and world).

use std::time::Duration;

use rand_chacha::ChaCha8Rng;
use wfsim_engine::SimTime;
use wfsim_engine::defn::tree::Node;

use crate::draw::{MS, chance, time_in, uniform};
use crate::read::{At, Invalid, number, seconds_pair, whole_pair};

/// What can go wrong, as an explore file names it under `faults:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// `latency: [lo, hi]` seconds: how long each send takes to arrive.
    Latency,
    /// `loss: p`: the chance that a send's answer never reaches its sender (the request
    /// itself arrives).
    Loss,
    /// `restarts: [lo, hi]`: how many times the server is killed and restarted; live mode
    /// replays its input log, so executions survive it.
    Restarts,
}

impl FaultKind {
    /// Every fault, in the order a seed draws them: a send's draws in this order, then the
    /// schedule's. A new one goes last, so that a file without it draws what it drew before.
    pub const ALL: [FaultKind; 3] = [FaultKind::Latency, FaultKind::Loss, FaultKind::Restarts];

    /// The same, in the order an unknown key's error lists them (as the file's docs do).
    pub const LISTED: [FaultKind; 3] = [FaultKind::Loss, FaultKind::Latency, FaultKind::Restarts];

    /// Its key under `faults:`.
    pub fn key(self) -> &'static str {
        match self {
            FaultKind::Latency => "latency",
            FaultKind::Loss => "loss",
            FaultKind::Restarts => "restarts",
        }
    }

    /// The kind whose key is `key`.
    pub fn of_key(key: &str) -> Option<FaultKind> {
        FaultKind::ALL.into_iter().find(|k| k.key() == key)
    }

    /// Reads its value `v` into `faults`.
    pub(crate) fn read(self, at: &At, v: &Node, faults: &mut Faults) -> Result<(), Invalid> {
        let key = self.key();
        match self {
            FaultKind::Latency => faults.latency = seconds_pair(at, v, key)?,
            FaultKind::Loss => match number(v) {
                Some(p) if (0.0..=1.0).contains(&p) => faults.loss = p,
                _ => return at.err(v.pos, "'loss' is a probability from 0 to 1"),
            },
            FaultKind::Restarts => faults.restarts = Some(whole_pair(at, v, key, 100)?),
        }
        Ok(())
    }

    /// Whether the file asks for it.
    pub fn is_set(self, faults: &Faults) -> bool {
        match self {
            FaultKind::Latency => faults.latency != (0, 0),
            FaultKind::Loss => faults.loss > 0.0,
            FaultKind::Restarts => faults.restarts.is_some(),
        }
    }

    /// Whether the engine-level driver plays it (it has no server to restart).
    pub fn at_engine_level(self) -> bool {
        match self {
            FaultKind::Latency | FaultKind::Loss => true,
            FaultKind::Restarts => false,
        }
    }

    /// Draws what befalls one send. Drawing nothing when the file does not ask for it, so
    /// a file without a fault draws what it drew before the fault existed.
    pub(crate) fn draw_send(self, faults: &Faults, rng: &mut ChaCha8Rng, send: &mut SendFault) {
        match self {
            FaultKind::Latency => send.latency = Duration::from_nanos(time_in(rng, faults.latency)),
            FaultKind::Loss => send.lost = chance(rng, faults.loss),
            FaultKind::Restarts => {}
        }
    }

    /// Draws the schedule's server restarts, after every send's faults.
    pub(crate) fn draw_restarts(
        self,
        faults: &Faults,
        latest_send: u64,
        rng: &mut ChaCha8Rng,
        restarts: &mut Vec<Restart>,
    ) {
        match self {
            FaultKind::Latency | FaultKind::Loss => {}
            FaultKind::Restarts => {
                let Some((lo, hi)) = faults.restarts else {
                    return;
                };
                let horizon = latest_send.max(1_000 * MS);
                for _ in 0..uniform(rng, lo, hi) {
                    let at = SimTime::from_nanos(time_in(rng, (0, horizon)));
                    let down = Duration::from_nanos(time_in(rng, RESTART_DOWN));
                    restarts.push(Restart { at, down });
                }
            }
        }
    }

    /// A send with less of this fault, for shrinking: `None` when it has none to take away
    /// beyond what taking every fault of the send away does.
    pub(crate) fn smaller(self, send: &SendFault) -> Option<SendFault> {
        match self {
            FaultKind::Latency => (send.latency > Duration::ZERO).then_some(SendFault {
                latency: Duration::ZERO,
                ..*send
            }),
            FaultKind::Loss | FaultKind::Restarts => None,
        }
    }
}

/// The file's `faults:`, each kind's value as read (the defaults: none of it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// The chance that a request's answer never reaches its sender.
    pub loss: f64,
    /// Nanoseconds each send takes to arrive, drawn per send, both ends included.
    pub latency: (u64, u64),
    /// How many restarts, both ends included; not applied at engine level.
    pub restarts: Option<(u64, u64)>,
}

/// What befalls one send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendFault {
    /// How long it takes to arrive.
    pub latency: Duration,
    /// Its answer never reaches the sender (the request itself arrives).
    pub lost: bool,
}

/// A server restart: the server is killed at `at` (the execution's time) and is back
/// `down` later; live mode replays its input log, so executions survive it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Restart {
    pub at: SimTime,
    pub down: Duration,
}

/// How long a restarted server stays down, both ends included: long enough for senders to
/// meet a dead server, short enough that their retries outlast it.
pub const RESTART_DOWN: (u64, u64) = (100 * MS, 5_000 * MS);

/// Restarts in time order, each after the one before is back (a dead server cannot be
/// killed again): a later one is moved to a millisecond after the earlier is back.
pub fn separated(mut restarts: Vec<Restart>) -> Vec<Restart> {
    restarts.sort_by_key(|r| r.at);
    let mut free = SimTime::ZERO;
    for r in &mut restarts {
        if r.at < free {
            r.at = free;
        }
        free =
            r.at.saturating_add(r.down)
                .saturating_add(Duration::from_millis(1));
    }
    restarts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_distinct_and_listed_once() {
        for a in FaultKind::ALL {
            assert_eq!(FaultKind::of_key(a.key()), Some(a));
            assert_eq!(FaultKind::LISTED.iter().filter(|&&b| b == a).count(), 1);
        }
    }

    #[test]
    fn no_fault_is_set_by_default() {
        let none = Faults::default();
        assert!(FaultKind::ALL.iter().all(|k| !k.is_set(&none)));
    }
}
