//! The sweep's bookkeeping: per-rule counts, coverage, the first failure, as the
//! [`SystemSummary`] that the merged report reads; and a run's timeline for `--seed S`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;

use wfsim_conformance::rules::{self, Rule};
use wfsim_conformance::system::{CoverageRow, SystemFailure, SystemSummary};
use wfsim_conformance::text::grouped;
use wfsim_server::Observed;

use std::hash::{DefaultHasher, Hash, Hasher};

use crate::case::{Case, Part};
use crate::oracle::{self, Coverage, Verdict};
use crate::run::{self, RunRecord};

/// What the sweep makes of one case: it runs twice, the runs are compared, and the oracle
/// checks the first. `Err((rule, detail))` names the first thing broken.
pub fn judge(case: &Case) -> Result<(RunRecord, Verdict), (Rule, String)> {
    let (first, second) = match (run::run(case), run::run(case)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Err((Rule::Run, format!("the run failed: {e}"))),
    };
    if digest(&first) != digest(&second) {
        return Err((Rule::Determinism, "the case ran two different ways".into()));
    }
    let verdict = oracle::check(case, &first);
    match verdict.violations.first() {
        Some(v) => Err((v.rule, v.detail.clone())),
        None => Ok((first, verdict)),
    }
}

/// What [`judge`] made of one case.
pub type Judged = Result<(RunRecord, Verdict), (Rule, String)>;

/// Judges the cases of seeds `0..seeds` on `jobs` threads and hands each to `each` in seed
/// order, until `each` answers `false`. A seed's runs are a function of the seed alone
/// (each in a thread of its own, see [`run::run`]), so `each` sees what one job would
/// show it, and the sweep's output does not depend on `jobs`; seeds finished ahead of
/// their turn wait in a map.
pub fn judge_in_order(seeds: u64, jobs: usize, mut each: impl FnMut(Case, Judged) -> bool) {
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(u64, Case, Judged)>();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            let (tx, next, stop) = (tx.clone(), &next, &stop);
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= seeds {
                        break;
                    }
                    let case = Case::from_seed(seed);
                    let judged = judge(&case);
                    if tx.send((seed, case, judged)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut ahead = BTreeMap::new();
        let mut turn = 0;
        for (seed, case, judged) in rx {
            ahead.insert(seed, (case, judged));
            while let Some((case, judged)) = ahead.remove(&turn) {
                turn += 1;
                if !each(case, judged) {
                    // The workers finish the seed in hand and take no other; dropping
                    // the receiver on the way out fails their sends.
                    stop.store(true, Ordering::Relaxed);
                    return;
                }
            }
        }
    });
}

/// A run's fingerprint: a hash of everything it recorded (its `Debug` text), with std's
/// fixed-key hasher, so equal runs give equal digests in any process of one build.
pub fn digest(out: &RunRecord) -> u64 {
    let mut h = DefaultHasher::new();
    format!("{out:?}").hash(&mut h);
    h.finish()
}

/// Takes parts away from a case that breaks `rule` while it still does: the smallest
/// schedule that shows the failure, the parts taken in order, and what it broke last.
pub fn shrink(case: &Case, rule: Rule, detail: &str) -> (Case, Vec<Part>, String) {
    let (mut current, mut taken, mut detail) = (case.clone(), Vec::new(), detail.to_owned());
    'smaller: loop {
        for part in current.parts() {
            let Some(smaller) = current.without(part) else {
                continue;
            };
            if let Err((r, d)) = judge(&smaller) {
                if r == rule {
                    (current, detail) = (smaller, d);
                    taken.push(part);
                    continue 'smaller;
                }
            }
        }
        return (current, taken, detail);
    }
}

/// A sweep in progress.
#[derive(Debug)]
pub struct Sweep {
    summary: SystemSummary,
    coverage: Coverage,
}

impl Sweep {
    pub fn new(seeds: u64) -> Sweep {
        // The oracle's rules, and `run` and `determinism`, which `judge` checks.
        let rules_claimed = rules::checked_by(|c| c.system)
            .map(|r| r.id.to_owned())
            .collect();
        Sweep {
            summary: SystemSummary {
                seeds,
                rules_claimed,
                ..SystemSummary::default()
            },
            coverage: Coverage::default(),
        }
    }

    /// A seed that ran twice the same way, and what the oracle made of it.
    pub fn add(&mut self, out: &RunRecord, verdict: &Verdict) {
        let s = &mut self.summary;
        s.seeds_run += 1;
        for (rule, n) in verdict
            .checked
            .iter()
            .map(|(r, n)| (*r, *n))
            .chain([(Rule::Run.id(), 1), (Rule::Determinism.id(), 1)])
        {
            let count = s.rules.entry(rule.to_owned()).or_default();
            count.seeds += 1;
            count.checks += n;
        }
        s.requests += out
            .journal
            .iter()
            .filter(|o| matches!(o, Observed::Callback(_)))
            .count() as u64;
        self.coverage.add(&verdict.coverage);
    }

    /// Records the failure of `case`, shrunk.
    pub fn fail(&mut self, case: &Case, rule: Rule, detail: &str) {
        let (shrunk, without, detail) = shrink(case, rule, detail);
        self.summary.failure = Some(SystemFailure {
            seed: case.seed,
            rule: rule.id().to_owned(),
            detail,
            without: without.iter().map(Part::to_string).collect(),
            schedule: shrunk.schedule(),
        });
    }

    pub fn finish(mut self) -> SystemSummary {
        self.summary.coverage = self
            .coverage
            .rows()
            .into_iter()
            .map(|(what, count, required)| CoverageRow {
                what: what.to_owned(),
                count,
                required,
            })
            .collect();
        self.summary
    }
}

/// The system level alone (`cargo xtask sim --seeds N`): rules, coverage, failure.
pub fn render(s: &SystemSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<16} {:>8} {:>10}  result",
        "rule", "seeds", "checks"
    );
    for rule in &s.rules_claimed {
        let c = s.rules.get(rule).cloned().unwrap_or_default();
        let result = if s.failure.as_ref().is_some_and(|f| &f.rule == rule) {
            "FAIL"
        } else if c.checks == 0 {
            "NOT CHECKED"
        } else {
            "pass"
        };
        let _ = writeln!(
            out,
            "{rule:<16} {:>8} {:>10}  {result}",
            grouped(c.seeds),
            grouped(c.checks)
        );
    }
    out.push_str(&s.render_coverage_and_failure());
    let _ = writeln!(
        out,
        "\nsystem level: {}",
        if s.ok() { "pass" } else { "FAILED" }
    );
    out
}

/// Everything a run did, one line each, on the server's clock: the journal, then each
/// logical callback's attempts as its client saw them.
pub fn timeline(out: &RunRecord) -> String {
    let ms = |ns: u64| ns as f64 / 1e6;
    let mut text = String::new();
    // Executions are named by their order (the case's is e0), ids being long.
    let short = |id: &str| {
        out.executions
            .iter()
            .position(|e| e.id == id)
            .map_or("e?".to_owned(), |k| format!("e{k}"))
    };
    for (k, e) in out.executions.iter().enumerate() {
        let _ = writeln!(
            text,
            "e{k} = execution {}: started at {:.3} ms, ended {} at {}, returned {:?}",
            e.id,
            ms(e.started_ns),
            e.state,
            e.ended_ns
                .map_or("never".into(), |t| format!("{:.3} ms", ms(t))),
            e.result
        );
    }
    let _ = writeln!(text, "callbacks from {:.3} ms", ms(out.callbacks_start_ns));
    for (killed, back) in out.restarts() {
        let _ = writeln!(
            text,
            "server-1 killed at {:.3} ms, back at {:.3} ms",
            ms(killed),
            ms(back)
        );
    }
    let _ = writeln!(
        text,
        "journal (server-1; times inside an event, like `until` or `received_at`, are on its execution's clock, from its start):"
    );
    for o in &out.journal {
        match o {
            Observed::Callback(d) => {
                let _ = writeln!(
                    text,
                    "{:>14.3} ms  {}  request {} -> {}{}",
                    ms(d.at.as_nanos()),
                    short(&d.execution),
                    d.request_id.as_deref().unwrap_or("?"),
                    d.status,
                    if d.buffered {
                        " (stored in the slot)"
                    } else {
                        ""
                    }
                );
            }
            Observed::Engine {
                at,
                execution,
                event,
                ..
            } => {
                let _ = writeln!(
                    text,
                    "{:>14.3} ms  {}  {event:?}",
                    ms(at.as_nanos()),
                    short(execution)
                );
            }
        }
    }
    let _ = writeln!(text, "clients:");
    for (id, attempts) in &out.sends {
        for a in attempts {
            let _ = writeln!(
                text,
                "{:>14.3} ms  {id} sent, {:?} at {:.3} ms",
                ms(a.sent_ns),
                a.result,
                ms(a.done_ns)
            );
        }
    }
    text
}
