//! What live mode is started with: the server's settings and what moves its clock. Below
//! everything else in the crate, so the host, the wire renderings and the routes all read
//! it without reaching up into the router.

use std::collections::{BTreeMap, BTreeSet};

/// What live mode is started with.
#[derive(Clone, Debug)]
pub struct Config {
    pub project: String,
    pub location: String,
    /// Scheme and authority that callback URLs start with, e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    pub seed: u64,
    /// `false` is `--no-auth`.
    pub auth: bool,
    /// `--grant SA=PERM,…`.
    pub grants: BTreeMap<String, BTreeSet<String>>,
    /// `--clock`: what moves server time.
    pub clock: ClockMode,
    /// Test-only `--defect`: a rule broken on purpose, to prove a conformance run judges.
    pub defect: Option<wfsim_engine::defect::Defect>,
}

impl Config {
    /// A server for `project` in `location` whose callback URLs start with `base_url`, with
    /// the command line's defaults: seed 0, auth on and nothing granted, the real clock, no
    /// defect. Callers change what they need with `..Config::new(…)`.
    pub fn new(
        project: impl Into<String>,
        location: impl Into<String>,
        base_url: impl Into<String>,
    ) -> Config {
        Config {
            project: project.into(),
            location: location.into(),
            base_url: base_url.into(),
            seed: 0,
            auth: true,
            grants: BTreeMap::new(),
            clock: ClockMode::default(),
            defect: None,
        }
    }
}

/// What moves the server's clock (`--clock`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClockMode {
    /// Real time: a 12 h timeout takes 12 h.
    #[default]
    Real,
    /// Only `POST /v1/wfsim/clock:advance` moves it.
    Manual,
    /// As manual, and when the server has been idle a while (no request in flight, every
    /// execution blocked, as always between requests), it jumps to the next deadline.
    Auto,
}

impl ClockMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockMode::Real => "real",
            ClockMode::Manual => "manual",
            ClockMode::Auto => "auto",
        }
    }
}
