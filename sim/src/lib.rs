//! The simulated world: `wfsim-server`, unchanged, on a madsim node; clients on other nodes
//! speak real HTTP to it over simulated TCP. Time, the network's latency, loss, clogs and
//! partitions, the server's restarts and every id come from the seed, so a run repeats
//! exactly.
//!
//! | node       | address    | role                                          |
//! |------------|------------|-----------------------------------------------|
//! | `server-1` | `10.0.0.1` | `wfsim-server`; a restart replays its inputs  |
//! | `client-1` | `10.0.1.1` | sends the callbacks, retrying                 |
//! | `client-2` | `10.0.1.2` | starts, cancels and watches the execution     |
//! | `client-3` | `10.0.1.3` | races awaits' deadlines                       |
//!
//! `case` draws a workflow and a schedule from a seed, `run` plays it on the world, `oracle`
//! replays the server's journal through the spec model and counts what the run covered,
//! `sweep` judges, shrinks and sums up; `world` is the guide's walk-through; `explore` is
//! `wfsim explore --system`, a user's explore file played on the world.
//!
//! This crate is only built with `--cfg madsim` (`cargo xtask test` does it, in
//! `target/sim`).
#![cfg(madsim)]
#![allow(
    clippy::disallowed_methods,
    reason = "under madsim, Instant::now reads the simulated clock"
)]

pub mod bare;
pub mod case;
pub mod client;
pub mod explore;
pub mod fault;
pub mod oracle;
pub mod run;
pub mod sweep;
pub mod world;
