//! `wfsim explore --system` (SPEC §9): the schedule an explore file draws for a seed, played
//! through the real server on the simulated world instead of the engine-level runner.
//!
//! | node        | address      | role                                               |
//! |-------------|--------------|----------------------------------------------------|
//! | `server-1`  | `10.0.0.1`   | `wfsim-server`, the file's workflow and services   |
//! | `client-2`  | `10.0.1.2`   | starts the execution, finds its endpoints, cancels |
//! | `sender-i`  | `10.x.y.1`   | request `i` of the schedule, with its retries      |
//!
//! Each logical request (and each fixed request of the file) has a node of its own, so that
//! a lost answer is a network fault of its own: the link from the server to that node is
//! clogged while the answer would travel. The network adds no latency of its own, but
//! madsim's stream takes a millisecond per write (its sleeps last at least that): a send's
//! drawn latency is its time in flight, that millisecond included, on a connection opened
//! ahead, so a request reaches the server when the engine-level driver says it arrives.
//! Restarts kill `server-1` and restart it; the restarted server replays its input log.
//!
//! The execution is then judged as at engine level: the server's input log is replayed on
//! the caller's thread into a fresh state (what a restart does), its journal must equal the
//! one the world recorded, and the execution taken out of it is the `Run` that properties,
//! the contract checks and coverage read. (A world runs on a thread of its own, and an
//! execution cannot leave the thread it lives on.)
//!
//! One module per job: [`setup`] (the plain data the world plays, and the server's state
//! at its start), [`world`] (the nodes, the server's life and the world's task of
//! restarts), [`admin`] (`client-2`), [`sender`] (one node per request), [`judge`] (the run
//! rebuilt from the world's input log).

mod admin;
mod judge;
mod sender;
mod setup;
mod shared;
mod world;

use wfsim_explore::Driver;
use wfsim_explore::plan::Plan;
use wfsim_explore::schedule::{Executed, Schedule};

use self::setup::Setup;

/// The system-level driver of `wfsim explore`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemLevel;

impl Driver for SystemLevel {
    fn name(&self) -> &'static str {
        "system"
    }

    fn execute(&self, plan: &Plan, s: &Schedule) -> Result<Executed, String> {
        let setup = Setup::new(plan, s)?;
        let record = world::play(&setup)?;
        judge::judge(&setup, record)
    }
}
