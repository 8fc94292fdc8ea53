//! The judge's per-rule report: the catalogue's rows, each with the checks that ran over
//! the wire, the ones skipped and why, and the verdict; then every failure with the
//! requests that show it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use wfsim_conformance::rules::{CATALOGUE, Rule};
use wfsim_conformance::text::grouped;

/// One failed check: what was expected, what came, and the exchanges that led to it.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Where it came from: `scenario cancel.yaml`, `corpus gcs_args`, `ops case 3`.
    pub source: String,
    pub message: String,
    pub transcript: Vec<String>,
}

#[derive(Debug, Default, Clone)]
struct Row {
    checks: u64,
    failures: Vec<Failure>,
    /// Reason → the sources skipped for it.
    skipped: BTreeMap<String, Vec<String>>,
}

/// Checks, failures and skips by rule.
#[derive(Debug, Clone)]
pub struct Tally {
    rows: Vec<Row>,
    /// Lines about the run as a whole (the clock, the target).
    pub notes: Vec<String>,
    /// `/v1/projects/P/locations/L`, which transcripts write `...`.
    pub parent: String,
}

impl Default for Tally {
    fn default() -> Tally {
        Tally {
            rows: vec![Row::default(); CATALOGUE.len()],
            notes: Vec::new(),
            parent: String::new(),
        }
    }
}

impl Tally {
    /// One check of `rule` that held.
    pub fn pass(&mut self, rule: Rule) {
        self.rows[rule as usize].checks += 1;
    }

    /// One check of `rule` that did not hold.
    pub fn fail(&mut self, rule: Rule, failure: Failure) {
        let row = &mut self.rows[rule as usize];
        row.checks += 1;
        row.failures.push(failure);
    }

    /// The checks one source made: those that held, and each failure with the source and
    /// the transcript that shows it.
    pub fn record(
        &mut self,
        passes: impl IntoIterator<Item = Rule>,
        failures: impl IntoIterator<Item = (Rule, String)>,
        source: &str,
        transcript: &[String],
    ) {
        for r in passes {
            self.pass(r);
        }
        for (r, message) in failures {
            self.fail(
                r,
                Failure {
                    source: source.to_owned(),
                    message,
                    transcript: transcript.to_vec(),
                },
            );
        }
    }

    /// `source` was not run for `rule`, for `reason`.
    pub fn skip(&mut self, rule: Rule, source: &str, reason: &str) {
        self.rows[rule as usize]
            .skipped
            .entry(reason.to_owned())
            .or_default()
            .push(source.to_owned());
    }

    pub fn checks(&self, rule: Rule) -> u64 {
        self.rows[rule as usize].checks
    }

    pub fn failures(&self, rule: Rule) -> &[Failure] {
        &self.rows[rule as usize].failures
    }

    /// The rules with a failed check, in report order.
    pub fn failed_rules(&self) -> Vec<Rule> {
        Rule::all()
            .filter(|&r| !self.rows[r as usize].failures.is_empty())
            .collect()
    }

    pub fn ok(&self) -> bool {
        self.failed_rules().is_empty()
    }

    /// The table, then each failed rule's first failure with its transcript, then what was
    /// skipped and why.
    pub fn render(&self, target: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "conformance of {target} over its API");
        let _ = writeln!(out, "  paths: .../ is {}", self.parent);
        for n in &self.notes {
            let _ = writeln!(out, "  {n}");
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<15} {:>12} {:>8}  {:<16} what is checked",
            "rule", "over the wire", "skipped", "result"
        );
        let (mut passed, mut failed, mut unchecked) = (0, 0, 0);
        for row in &CATALOGUE {
            let r = &self.rows[row.rule as usize];
            let n_skipped: usize = r.skipped.values().map(Vec::len).sum();
            let result = if !r.failures.is_empty() {
                failed += 1;
                "FAIL"
            } else if r.checks > 0 {
                passed += 1;
                "pass"
            } else {
                unchecked += 1;
                if n_skipped > 0 {
                    "skipped"
                } else {
                    "not over the wire"
                }
            };
            let _ = writeln!(
                out,
                "{:<15} {:>13} {:>8}  {result:<16} {}",
                row.id,
                if r.checks == 0 {
                    "-".to_owned()
                } else {
                    grouped(r.checks)
                },
                if n_skipped == 0 {
                    "-".to_owned()
                } else {
                    n_skipped.to_string()
                },
                row.what
            );
        }
        let total: u64 = self.rows.iter().map(|r| r.checks).sum();
        let _ = writeln!(
            out,
            "{:<15} {:>13} {:>8}  {}: {passed} rules pass, {failed} fail, {unchecked} not checked over the wire",
            "total",
            grouped(total),
            "",
            if failed == 0 { "pass" } else { "FAIL" }
        );
        for rule in self.failed_rules() {
            let fs = &self.rows[rule as usize].failures;
            let f = &fs[0];
            let _ = writeln!(
                out,
                "\nFAIL {rule} ({}): {} of {} checks failed; the first, {}: {}",
                rule.what(),
                fs.len(),
                grouped(self.rows[rule as usize].checks),
                f.source,
                f.message
            );
            let _ = writeln!(out, "  the requests that show it:");
            for line in &f.transcript {
                let _ = writeln!(out, "    {line}");
            }
        }
        // Skips, grouped by reason across rules.
        let mut by_reason: BTreeMap<&str, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
        for row in &CATALOGUE {
            for (reason, sources) in &self.rows[row.rule as usize].skipped {
                let e = by_reason.entry(reason).or_default();
                e.0.push(row.id);
                for s in sources {
                    if !e.1.contains(&s.as_str()) {
                        e.1.push(s);
                    }
                }
            }
        }
        if !by_reason.is_empty() {
            let _ = writeln!(out, "\nskipped:");
            for (reason, (rules, sources)) in by_reason {
                let _ = writeln!(
                    out,
                    "  {} ({}): {reason}",
                    sources.join(", "),
                    rules.join(", ")
                );
            }
        }
        out
    }
}
