//! The system-level sweep's summary: `wfsim-sim` (the madsim build) writes it as JSON, and
//! the merged report of `cargo xtask conformance` reads it. Two builds, one format, here.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::text::grouped;

/// How often the system level checked one rule.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCount {
    /// Seeds in which the rule was checked at least once.
    pub seeds: u64,
    /// Checks in all.
    pub checks: u64,
}

/// Something the sweep must see happen (or merely counts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageRow {
    pub what: String,
    pub count: u64,
    /// The sweep fails if this never happened.
    pub required: bool,
}

/// The first failing seed: what broke, and the smallest schedule that still breaks it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemFailure {
    pub seed: u64,
    pub rule: String,
    /// What the shrunk case broke.
    pub detail: String,
    /// The parts of the seed's case taken away while it still failed, in order.
    pub without: Vec<String>,
    /// The shrunk case's schedule, as a person reads it.
    pub schedule: String,
}

impl SystemFailure {
    /// The one command that replays the shrunk case.
    pub fn replay_command(&self) -> String {
        let mut cmd = format!("cargo xtask sim --seed {}", self.seed);
        if !self.without.is_empty() {
            cmd.push_str(&format!(" --without {}", self.without.join(",")));
        }
        cmd
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemSummary {
    /// Seeds asked for.
    pub seeds: u64,
    /// Seeds that ran (twice each) and were checked.
    pub seeds_run: u64,
    pub rules: BTreeMap<String, RuleCount>,
    /// Rules the oracle claims to check: each must have been checked in some seed.
    pub rules_claimed: Vec<String>,
    pub coverage: Vec<CoverageRow>,
    /// Callback requests the server journaled, all seeds.
    pub requests: u64,
    pub failure: Option<SystemFailure>,
}

impl SystemSummary {
    /// Rules claimed but never checked.
    pub fn unchecked(&self) -> Vec<&str> {
        self.rules_claimed
            .iter()
            .filter(|r| self.rules.get(*r).is_none_or(|c| c.checks == 0))
            .map(String::as_str)
            .collect()
    }

    /// Required coverage that never happened.
    pub fn never_happened(&self) -> Vec<&str> {
        self.coverage
            .iter()
            .filter(|c| c.required && c.count == 0)
            .map(|c| c.what.as_str())
            .collect()
    }

    pub fn ok(&self) -> bool {
        self.failure.is_none() && self.unchecked().is_empty() && self.never_happened().is_empty()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data serializes")
    }

    pub fn from_json(text: &str) -> Result<SystemSummary, String> {
        serde_json::from_str(text).map_err(|e| format!("the system-level summary: {e}"))
    }

    /// The coverage table and, on failure, the seed, the rule, the schedule and the replay
    /// command.
    pub fn render_coverage_and_failure(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\nsystem level: {} of {} seeds, each run twice with identical traces; {} callback requests journaled",
            grouped(self.seeds_run),
            grouped(self.seeds),
            grouped(self.requests)
        );
        let _ = writeln!(out, "{:<42} {:>8}  result", "coverage", "count");
        for c in &self.coverage {
            let result = match (c.count, c.required) {
                (0, true) => "NEVER HAPPENED",
                (_, true) => "pass",
                (_, false) => "(counted)",
            };
            let _ = writeln!(out, "{:<42} {:>8}  {result}", c.what, grouped(c.count));
        }
        if let Some(f) = &self.failure {
            let _ = writeln!(
                out,
                "\nsystem-level sweep FAILED at seed {}: {} violated: {}",
                f.seed, f.rule, f.detail
            );
            if f.without.is_empty() {
                let _ = writeln!(out, "schedule (nothing could be taken away):");
            } else {
                let _ = writeln!(
                    out,
                    "shrunk schedule (took away {} and it still fails):",
                    f.without.join(", ")
                );
            }
            let _ = writeln!(out, "{}", f.schedule.trim_end());
            let _ = writeln!(out, "replay: {}", f.replay_command());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_survives_json_and_names_what_is_missing() {
        let mut s = SystemSummary {
            seeds: 2,
            seeds_run: 2,
            rules_claimed: vec!["CB-10".into(), "CB-12".into()],
            coverage: vec![CoverageRow {
                what: "429: slot full".into(),
                count: 0,
                required: true,
            }],
            ..SystemSummary::default()
        };
        s.rules.insert(
            "CB-10".into(),
            RuleCount {
                seeds: 2,
                checks: 5,
            },
        );
        let back = SystemSummary::from_json(&s.to_json()).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.unchecked(), ["CB-12"]);
        assert_eq!(back.never_happened(), ["429: slot full"]);
        assert!(!back.ok());
    }
}
