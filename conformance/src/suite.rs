//! The fixture and corpus parts of `cargo xtask conformance`: one row per scenario, which
//! scenario covers which rule (for the per-rule report), the YAML/JSON twins, and the shared
//! corpus.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::backoff;
use crate::corpus;
use crate::fixtures;

/// Generated retry policies checked by [`backoff::run`] in every conformance run.
const BACKOFF_POLICIES: u32 = 512;

/// Rows checked and failed, and the text to print.
#[derive(Debug, Default)]
pub struct SuiteReport {
    pub text: String,
    /// Rule id → the scenarios whose `covers:` names it (passing or not).
    pub covers: BTreeMap<String, Vec<String>>,
    pub passed: usize,
    pub failed: usize,
}

impl SuiteReport {
    fn row(&mut self, ok: bool) -> &'static str {
        if ok {
            self.passed += 1;
            "pass"
        } else {
            self.failed += 1;
            "FAIL"
        }
    }
}

pub fn run() -> SuiteReport {
    let mut r = SuiteReport::default();
    let dir = fixtures::dir();
    let scenarios = fixtures::files(&dir.join("scenarios"), "yaml");
    let mut runs = Vec::new();
    let _ = writeln!(
        r.text,
        "\nscenarios (fixtures/scenarios), each checked against its expectations and its snapshot:"
    );
    let _ = writeln!(r.text, "{:<28} {:<36} result", "scenario", "covers");
    for path in &scenarios {
        match fixtures::run_scenario(path, None) {
            Ok(run) => {
                let snapshot = format!("scenario_snapshots@{}.yaml", run.name);
                let same_trace = fixtures::matches_snapshot(&snapshot, &run.snapshot());
                let verdict = r.row(run.failures.is_empty() && same_trace);
                let _ = writeln!(
                    r.text,
                    "{:<28} {:<36} {verdict}",
                    run.name,
                    run.scenario.covers.join(" ")
                );
                for f in &run.failures {
                    let _ = writeln!(r.text, "    - {f}");
                }
                if !same_trace {
                    let _ = writeln!(
                        r.text,
                        "    - the trace differs from conformance/tests/snapshots/{snapshot}.snap; \
                         review with `cargo insta test -p wfsim-conformance --review`"
                    );
                }
                runs.push(run);
            }
            Err(e) => {
                r.row(false);
                let _ = writeln!(r.text, "{e}");
            }
        }
    }
    for run in &runs {
        for rule in &run.scenario.covers {
            r.covers
                .entry(rule.clone())
                .or_default()
                .push(run.name.clone());
        }
    }
    let workflows = fixtures::files(&dir.join("workflows"), "yaml");
    let mut same = 0;
    for w in &workflows {
        let name = w
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let ok = fixtures::run_workflow(w)
            .map(|run| {
                fixtures::matches_snapshot(
                    &format!("workflow_snapshots@{name}.yaml"),
                    &fixtures::workflow_snapshot(&run),
                )
            })
            .unwrap_or(false);
        if ok {
            same += 1;
        } else {
            let _ = writeln!(
                r.text,
                "workflow {name}: its trace differs from its snapshot (cargo insta review)"
            );
        }
        r.row(ok);
    }
    let _ = writeln!(
        r.text,
        "\nfixture workflows run alone: {same} of {} traces match their snapshots",
        workflows.len()
    );
    let mut twins = 0;
    for run in &runs {
        if let Some(twin) = fixtures::json_twin(&run.workflow_path) {
            let same = fixtures::run_scenario(
                &dir.join("scenarios").join(format!("{}.yaml", run.name)),
                Some(&twin),
            )
            .map(|other| other.spelling_free() == run.spelling_free())
            .unwrap_or(false);
            twins += 1;
            let verdict = r.row(same);
            if !same {
                let _ = writeln!(
                    r.text,
                    "twin {} differs from its YAML: {verdict}",
                    twin.display()
                );
            }
        }
    }
    let _ = writeln!(
        r.text,
        "\nYAML/JSON twins: {twins} scenario runs compared trace for trace"
    );
    let policies = backoff::run(BACKOFF_POLICIES, 0);
    let verdict = r.row(policies.is_ok());
    let _ = writeln!(
        r.text,
        "\nretry policies against RT-2's formula: {BACKOFF_POLICIES} generated (integers, doubles, negatives): {verdict}"
    );
    if let Err(why) = policies {
        let _ = writeln!(r.text, "    - {why}");
    }
    let corpus_dir = corpus::default_dir();
    let corpus_name = match std::env::var_os("WFSIM_CORPUS") {
        Some(_) => corpus_dir.display().to_string(),
        None => "fixtures/corpus".to_owned(),
    };
    match corpus::run_all(&corpus_dir) {
        Ok(outcomes) => {
            let mut unexpected = Vec::new();
            for o in &outcomes {
                let known = corpus::KNOWN_DIVERGENCES.iter().any(|(n, _)| *n == o.name);
                if o.disagreement.is_some() != known {
                    unexpected.push(format!(
                        "{}: {}",
                        o.name,
                        o.disagreement
                            .as_deref()
                            .unwrap_or("agrees now; drop it from KNOWN_DIVERGENCES")
                    ));
                }
            }
            let agree = outcomes.iter().filter(|o| o.disagreement.is_none()).count();
            let verdict = r.row(unexpected.is_empty());
            let _ = writeln!(
                r.text,
                "\ncorpus ({corpus_name}): {agree} of {} cases agree, {} known divergences: {verdict}",
                outcomes.len(),
                corpus::KNOWN_DIVERGENCES.len()
            );
            for u in unexpected {
                let _ = writeln!(r.text, "    - {u}");
            }
        }
        Err(e) => {
            r.row(false);
            let _ = writeln!(r.text, "\ncorpus ({corpus_name}): {e}");
        }
    }
    r
}
