//! The simulated world: `wfsim-server`, unchanged, on a madsim node; clients on other nodes
//! speak real HTTP to it over simulated TCP. Time, network latency and every id come from
//! the seed, so a run repeats exactly.
//!
//! Node table:
//!
//! | node       | address      |
//! |------------|--------------|
//! | `server-1` | `10.0.0.1`   |
//! | `client-N` | `10.0.1.N`   |
//!
//!
//! `case` draws a workflow and a schedule from a seed, `run` plays it on the world, `oracle`
//! replays the server's journal through the spec model and counts what the run covered.
//!
//! This crate is only built with `--cfg madsim` (`cargo xtask test` does it, in
//! `target/sim`).
#![cfg(madsim)]
#![allow(
    clippy::disallowed_methods,
    reason = "under madsim, Instant::now reads the simulated clock"
)]

pub mod case;
pub mod client;
pub mod oracle;
pub mod run;
pub mod sweep;
pub mod world;
