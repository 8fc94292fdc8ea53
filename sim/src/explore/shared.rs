//! What the world's nodes share (the server's input log and journal across kills, the
//! endpoints `client-2` found, the start) and the clock helpers every node times its sends
//! by. Below the nodes, so `admin.rs`, `sender.rs` and `world.rs` depend down on it.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;
use wfsim_engine::SimTime;
use wfsim_server::clock::Resolution;
use wfsim_server::{ApiRequest, Observed};

use crate::run::CLOCK_RESOLUTION;

/// How long a written request takes to reach the server: madsim's stream sleeps a random
/// few microseconds per write, and any madsim sleep lasts at least a millisecond.
pub(super) const TRANSIT: Duration = Duration::from_millis(1);

/// What the server leaves across kills, and what the clients share: the input log, the
/// journal, and a notification whenever the journal grows.
#[derive(Debug, Default)]
pub(super) struct Durable {
    pub(super) inputs: Vec<(SimTime, ApiRequest)>,
    pub(super) journal: Vec<Observed>,
    pub(super) mismatches: Vec<String>,
}

#[derive(Debug, Default)]
pub(super) struct Shared {
    pub(super) durable: Mutex<Durable>,
    pub(super) grew: Notify,
    /// Endpoints in creation order, as `client-2` found them: path and method.
    pub(super) endpoints: Mutex<Vec<(String, String)>>,
    /// Server kills so far: a connection opened before one is dead.
    pub(super) kills: Mutex<u32>,
    /// The execution's path and its start, once `client-2` has started it.
    pub(super) started: Mutex<Option<(String, Instant)>>,
}

impl Shared {
    /// Waits until `read` finds something in the journal, looking each time it grows.
    pub(super) async fn until<T>(&self, read: impl Fn(&Shared, &[Observed]) -> Option<T>) -> T {
        loop {
            let grew = self.grew.notified();
            let found = {
                let d = self.durable.lock().expect("durable");
                read(self, &d.journal)
            };
            if let Some(t) = found {
                return t;
            }
            grew.await;
        }
    }

    pub(super) fn started(&self) -> Option<(String, Instant)> {
        self.started.lock().expect("started").clone()
    }
}

pub(super) fn ns(epoch: Instant, at: Instant) -> u64 {
    u64::try_from(at.duration_since(epoch).as_nanos()).unwrap_or(u64::MAX)
}

/// `at` on the server's clock, which reads whole ticks (madsim charges nanoseconds per
/// poll).
pub(super) fn tick(epoch: Instant, at: Instant) -> SimTime {
    Resolution::new(CLOCK_RESOLUTION).floor(ns(epoch, at))
}

/// Waits until `t`, not at all when it is now or past (a madsim sleep lasts at least a
/// millisecond, which would make a send late).
pub(super) async fn at(t: Instant) {
    if t > Instant::now() {
        tokio::time::sleep_until(t).await;
    }
}
