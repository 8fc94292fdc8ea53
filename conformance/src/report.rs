//! The report of `cargo xtask conformance`: one row per rule with the evidence of every
//! part (generated cases, exhaustive sequences, scenarios, system-level seeds), then totals.

use std::fmt::Write as _;

use std::collections::BTreeMap;

use crate::check::Rule;
use crate::exhaustive::ExhaustiveOutcome;
use crate::property::PropertyOutcome;
use crate::suite::SCENARIO_RULES;
use crate::system::SystemSummary;

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

/// Every row the report can have, in report order: SPEC's rules, the steps of the slot
/// rule, then what the system level checks beyond SPEC's ids.
const ORDER: &[&str] = &[
    "CB-1",
    "CB-2",
    "CB-3",
    "CB-4",
    "CB-5",
    "CB-6",
    "CB-7",
    "CB-8",
    "CB-9",
    "CB-10",
    "CB-11",
    "CB-12",
    "CB-13",
    "§3.1",
    "§3.2",
    "§3.3",
    "§3.4",
    "§3.5",
    "§3.6",
    "§3.7",
    "EX-1",
    "EX-2",
    "EX-3",
    "EX-4",
    "EX-5",
    "RT-1",
    "RT-2",
    "RT-3",
    "LIB-1",
    "LIB-2",
    "LIB-3",
    "LIB-4",
    "LIB-5",
    "restart",
    "client back-off",
    "clock",
    "run",
    "determinism",
    "assert",
];

/// What a row checks, for the ids the engine-level checker has no [`Rule`] for.
fn what(id: &str) -> &'static str {
    if let Some(rule) = Rule::ALL.into_iter().find(|r| r.id() == id) {
        return rule.what();
    }
    match id {
        "CB-3" => "an endpoint is awaited only by the execution that made it",
        "CB-13" => "statuses of §3 only; 200 is {}, errors the Google shape with a message",
        "EX-1" => "every execution ends SUCCEEDED, or CANCELLED when a cancel got 200",
        "EX-2" => "an execution's result, or the error that failed it",
        "EX-3" => "a cancel answered 200 ends it CANCELLED, one answered 400 found it over",
        "EX-4" => "sys.log records",
        "EX-5" => "the one-year limit",
        "RT-1" => "retry policies and their standard forms",
        "RT-2" => "every back-off lasts what RT-2 says, to the nanosecond",
        "RT-3" => "the retry predicate sees every error",
        "LIB-1" => "time.format: six decimals, Z or the IANA zone's offset",
        "LIB-2" => "sys.get_env: built-in and user-defined variables",
        "LIB-3" => "regexes: leftmost, then longest; literal replacement",
        "LIB-4" => "hash.*: bytes in, bytes out, GCP's algorithms",
        "LIB-5" => "types named with their article; get_type's names",
        "restart" => "a restarted server replays its input log to the same journal",
        "client back-off" => "a sender's retries wait what its policy says",
        "clock" => "the server's journal never goes back in time",
        "run" => "the world runs to the end: no panic, every client finishes",
        "determinism" => "each seed runs twice with identical outcomes",
        _ => "",
    }
}

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
    fn failed(&self, id: &str) -> bool {
        let named = |rule: Rule| rule.id() == id;
        self.property
            .failure
            .as_ref()
            .is_some_and(|f| named(f.violation.rule))
            || self
                .exhaustive
                .failure
                .as_ref()
                .is_some_and(|(_, v)| named(v.rule))
            || self
                .system
                .and_then(|s| s.failure.as_ref())
                .is_some_and(|f| f.rule == id)
    }

    /// Does any part that ran claim this row?
    fn has_row(&self, id: &str) -> bool {
        Rule::ALL.iter().any(|r| r.id() == id)
            || (self.scenarios.is_some() && SCENARIO_RULES.contains(&id))
            || self
                .system
                .is_some_and(|s| s.rules_claimed.iter().any(|r| r == id))
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
    for &id in ORDER.iter().filter(|id| e.has_row(id)) {
        let rule = Rule::ALL.into_iter().find(|r| r.id() == id);
        let p = rule.map(|r| e.property.tally.get(r));
        let x = rule.map(|r| e.exhaustive.tally.get(r));
        let sc = e
            .scenarios
            .filter(|_| SCENARIO_RULES.contains(&id))
            .map(|m| m.get(id).map_or(0, |v| v.len() as u64));
        let sys = e.system.and_then(|s| {
            s.rules_claimed
                .iter()
                .any(|r| r == id)
                .then(|| s.rules.get(id).map_or(0, |c| c.seeds))
        });
        let result = if e.failed(id) {
            "FAIL"
        } else if rule == Some(Rule::Invariant) {
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
            what(id)
        );
    }
    // A system-level failure under a name no row has still fails the report.
    if let Some(f) = e.system.and_then(|s| s.failure.as_ref()) {
        if !ORDER.iter().any(|id| e.has_row(id) && *id == f.rule) {
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
