//! Conformance of any implementation over its API (`wfsim conformance --target URL`): the
//! suite's workflows deployed through the target's Workflows API, executions run through its
//! Executions API, callbacks sent over HTTP at the scenarios' instants, and what comes back
//! judged against the scenarios' expectations, the corpus and SPEC's rules, in the rows of
//! the rule catalogue (`wfsim_conformance::rules`).
//!
//! - [`client`]: the target over HTTP/1.1, every exchange kept for the report.
//! - [`clock`]: the target's time: wfsim's clock API when offered, else the real clock.
//! - [`scenarios`], [`corpus`]: the two suites over the wire.
//! - [`ops`]: generated op sequences of the model-based check, replayed over the wire.
//! - [`report`]: the per-rule tally and its table.

pub mod client;
pub mod clock;
pub mod corpus;
pub mod ops;
pub mod report;
pub mod scenarios;
pub mod wall;

use std::path::PathBuf;

use client::Target;
use clock::{Clock, Mode};
use report::Tally;

/// What `wfsim conformance --target` was given.
#[derive(Debug, Clone)]
pub struct Options {
    /// `http://HOST:PORT`.
    pub target: String,
    pub token: Option<String>,
    pub project: String,
    pub location: String,
    /// Generated op sequences to replay (`--cases`).
    pub cases: u32,
    /// On the real clock, run what needs long waits too.
    pub full_time: bool,
    /// `fixtures/` (scenarios, workflows, corpus).
    pub fixtures: PathBuf,
}

/// A run in progress: the target, its clock, the tally.
#[derive(Debug)]
pub struct Judge<'a> {
    pub target: &'a Target,
    pub clock: Clock,
    pub tally: Tally,
    pub full_time: bool,
}

/// Judges the target: the report's table and whether every rule held.
pub fn run(options: &Options) -> Result<Tally, String> {
    let target = Target::new(
        &options.target,
        options.token.clone(),
        options.project.clone(),
        options.location.clone(),
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the client's runtime: {e}"))?;
    runtime.block_on(judge(&target, options))
}

async fn judge(target: &Target, options: &Options) -> Result<Tally, String> {
    let clock = Clock::probe(target).await?;
    let mut j = Judge {
        target,
        clock,
        tally: Tally::default(),
        full_time: options.full_time,
    };
    let note = match &j.clock.mode {
        Mode::Driven(m) => {
            format!("time: the target's clock API (GET /v1/wfsim/clock: {m}); every instant exact")
        }
        Mode::Real => format!(
            "time: real (the target has no clock API); {}",
            if options.full_time {
                "--full-time: long waits are waited"
            } else {
                "what spans more than 5 s is skipped (--full-time runs it); when each execution ended is not judged"
            }
        ),
    };
    j.tally.notes.push(note);
    j.tally.parent = target.parent();
    scenarios::run_all(&mut j, &options.fixtures.join("scenarios")).await?;
    corpus::run_all(&mut j, &options.fixtures.join("corpus")).await?;
    ops::run_all(&mut j, options.cases).await?;
    Ok(j.tally)
}
