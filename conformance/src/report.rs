//! The report of `cargo xtask conformance`: one row per rule, then totals.

use std::fmt::Write as _;

use crate::check::Rule;
use crate::exhaustive::ExhaustiveOutcome;
use crate::property::PropertyOutcome;

/// Thousands separated by commas: `131,072`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The rule that a failure names, if any.
fn failed_rules(property: &PropertyOutcome, exhaustive: &ExhaustiveOutcome) -> Vec<Rule> {
    let mut rules = Vec::new();
    if let Some(f) = &property.failure {
        rules.push(f.violation.rule);
    }
    if let Some((_, v)) = &exhaustive.failure {
        rules.push(v.rule);
    }
    rules
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

pub fn render(property: &PropertyOutcome, exhaustive: &ExhaustiveOutcome) -> Report {
    let failed = failed_rules(property, exhaustive);
    let mut out = String::new();
    let (mut n_passed, mut n_failed) = (0, 0);
    let _ = writeln!(
        out,
        "{:<7} {:>13} {:>13}  {:<11} what is checked",
        "rule", "model-based", "exhaustive", "result"
    );
    for rule in Rule::ALL {
        let (p, e) = (property.tally.get(rule), exhaustive.tally.get(rule));
        let result = if failed.contains(&rule) {
            "FAIL"
        } else if rule == Rule::Invariant {
            // Asserted inside the engine after every input; passing is not panicking.
            continue;
        } else if p + e == 0 {
            "NOT COVERED"
        } else {
            "pass"
        };
        if result == "pass" {
            n_passed += 1;
        } else {
            n_failed += 1;
        }
        let _ = writeln!(
            out,
            "{:<7} {:>13} {:>13}  {result:<11} {}",
            rule.id(),
            grouped(p),
            grouped(e),
            rule.what()
        );
    }
    let _ = writeln!(
        out,
        "{:<7} {:>13} {:>13}  {}",
        "total",
        grouped(property.tally.total()),
        grouped(exhaustive.tally.total()),
        if n_failed == 0 { "pass" } else { "FAIL" }
    );
    Report {
        table: out,
        passed: n_passed,
        failed: n_failed,
    }
}
