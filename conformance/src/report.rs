//! The report of `cargo xtask conformance`: one row per rule with the evidence of every
//! part (generated cases, exhaustive sequences, scenarios, system-level seeds), then totals.

use std::fmt::Write as _;

use std::collections::BTreeMap;

use crate::exhaustive::ExhaustiveOutcome;
use crate::property::PropertyOutcome;
use crate::rules::{CATALOGUE, Rule, RuleRow};
use crate::system::SystemSummary;
use crate::text::grouped;

/// Every source of evidence a conformance run has; `None`: that part did not run.
#[derive(Debug)]
pub struct Evidence<'a> {
    pub property: &'a PropertyOutcome,
    pub exhaustive: &'a ExhaustiveOutcome,
    /// Rule id → the scenarios whose `covers:` names it.
    pub scenarios: Option<&'a BTreeMap<String, Vec<String>>>,
    pub system: Option<&'a SystemSummary>,
}

impl Evidence<'_> {
    fn failed(&self, row: &RuleRow) -> bool {
        self.property
            .failure
            .as_ref()
            .is_some_and(|f| f.violation.rule == row.rule)
            || self
                .exhaustive
                .failure
                .as_ref()
                .is_some_and(|(_, v)| v.rule == row.rule)
            || self
                .system
                .and_then(|s| s.failure.as_ref())
                .is_some_and(|f| f.rule == row.id)
    }

    /// Does any part that ran claim this row?
    fn has_row(&self, row: &RuleRow) -> bool {
        row.checked_by.engine
            || (self.scenarios.is_some() && row.checked_by.scenarios)
            || self
                .system
                .is_some_and(|s| s.rules_claimed.iter().any(|r| r == row.id))
    }
}

/// The per-rule table and its verdict.
#[derive(Debug)]
pub struct Report {
    pub table: String,
    /// Rules that passed and were exercised.
    pub passed: usize,
    /// Rules that failed or were never exercised.
    pub failed: usize,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.failed == 0
    }
}

/// One row per rule: the generated cases, exhaustive sequences, scenarios and system-level
/// seeds that checked it, and the verdict.
pub fn render(e: &Evidence) -> Report {
    let mut out = String::new();
    let (mut n_passed, mut n_failed) = (0, 0);
    let _ = writeln!(
        out,
        "{:<15} {:>12} {:>12} {:>9} {:>12}  {:<11} what is checked",
        "rule", "model-based", "exhaustive", "scenarios", "system seeds", "result"
    );
    let dash = |n: Option<u64>| n.map_or("-".to_owned(), grouped);
    let mut totals = [0u64; 2];
    for row in CATALOGUE.iter().filter(|row| e.has_row(row)) {
        let id = row.id;
        let engine = row.checked_by.engine;
        let p = engine.then(|| e.property.tally.get(row.rule));
        let x = engine.then(|| e.exhaustive.tally.get(row.rule));
        let sc = e
            .scenarios
            .filter(|_| row.checked_by.scenarios)
            .map(|m| m.get(id).map_or(0, |v| v.len() as u64));
        let sys = e.system.and_then(|s| {
            s.rules_claimed
                .iter()
                .any(|r| r == id)
                .then(|| s.rules.get(id).map_or(0, |c| c.seeds))
        });
        let result = if e.failed(row) {
            "FAIL"
        } else if row.rule == Rule::Invariant {
            // Asserted inside the engine after every input; passing is not panicking.
            "pass"
        } else if sc == Some(0) {
            "NO SCENARIO"
        } else if sys == Some(0) {
            "NOT CHECKED"
        } else if [p, x, sc, sys].iter().all(|n| n.unwrap_or(0) == 0) {
            "NOT COVERED"
        } else {
            "pass"
        };
        if result == "pass" {
            n_passed += 1;
        } else {
            n_failed += 1;
        }
        for (t, n) in totals.iter_mut().zip([p, x]) {
            *t += n.unwrap_or(0);
        }
        let _ = writeln!(
            out,
            "{id:<15} {:>12} {:>12} {:>9} {:>12}  {result:<11} {}",
            dash(p),
            dash(x),
            dash(sc),
            dash(sys),
            row.what
        );
    }
    // A system-level failure under a name no row has still fails the report.
    if let Some(f) = e.system.and_then(|s| s.failure.as_ref()) {
        if !CATALOGUE
            .iter()
            .any(|row| e.has_row(row) && row.id == f.rule)
        {
            n_failed += 1;
            let _ = writeln!(
                out,
                "{:<15} {:>12} {:>12} {:>9} {:>12}  {:<11} (a name of the system level's own)",
                f.rule, "-", "-", "-", "-", "FAIL"
            );
        }
    }
    // Checks for the engine's columns; scenarios and seeds that ran for the others.
    let scenarios: std::collections::BTreeSet<&String> = e
        .scenarios
        .iter()
        .flat_map(|m| m.values().flatten())
        .collect();
    let _ = writeln!(
        out,
        "{:<15} {:>12} {:>12} {:>9} {:>12}  {}",
        "total",
        grouped(totals[0]),
        grouped(totals[1]),
        dash(e.scenarios.map(|_| scenarios.len() as u64)),
        dash(e.system.map(|s| s.seeds_run)),
        if n_failed == 0 { "pass" } else { "FAIL" }
    );
    Report {
        table: out,
        passed: n_passed,
        failed: n_failed,
    }
}
