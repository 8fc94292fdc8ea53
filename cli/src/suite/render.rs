//! `wfsim test`'s text (a line per file, the first broken expectation at `file:line`, a
//! summary), its JUnit XML (one test case per scenario and per explore property) and its
//! lcov (step coverage of every workflow, merged over every run).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use wfsim_engine::coverage::Point;
use wfsim_engine::defn::Pos;
use wfsim_explore::cover;
use wfsim_explore::report::{CoverRow, Report, lcov_record};

use crate::suite::outcome::{FileOutcome, Outcome, Suite};

/// A wall time as people read it: `12 ms`, `3.4 s`.
fn took(millis: Option<u64>) -> String {
    match millis {
        None => String::new(),
        Some(ms) if ms < 1000 => format!("  {ms} ms"),
        Some(ms) => format!("  {}.{} s", ms / 1000, (ms % 1000) / 100),
    }
}

/// The first property an exploration broke, as `file:line: what`, with its replay.
fn explore_failure(path: &str, r: &Report) -> Option<String> {
    if let Some(p) = r.properties.iter().find(|p| r.judges(p) && !p.passed()) {
        let what = match p.kind {
            "always" => format!(
                "always {} VIOLATED in {} of {} seeds (first: seed {})",
                p.expr,
                p.seeds_checked - p.seeds_true,
                p.seeds_checked,
                p.first_failure.unwrap_or_default()
            ),
            _ => format!(
                "sometimes {} NEVER true in {} seeds",
                p.expr, p.seeds_checked
            ),
        };
        let replay = p.reproducer.as_ref().map_or(String::new(), |r| {
            format!("; replay: wfsim run {}", r.scenario.display())
        });
        return Some(format!("{path}:{}: {what}{replay}", p.line));
    }
    if let Some((seed, rule, why)) = r.contract_violations.first() {
        return Some(format!(
            "{path}: WFSIM ITSELF broke {rule} at seed {seed}: {why}"
        ));
    }
    r.errors
        .first()
        .map(|(seed, why)| format!("{path}: seed {seed} could not run: {why}"))
}

/// The first thing a file broke, as the text prints it (`file:line: what`).
fn first_failure(f: &FileOutcome) -> Option<String> {
    match &f.result {
        Outcome::Invalid(why) => Some(why.clone()),
        Outcome::Scenario(s) => s.failures.first().map(|(at, what)| {
            let more = match s.failures.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            format!("{at}: {what}{more}")
        }),
        Outcome::Explore(r) if !r.passed() => explore_failure(&f.path, r),
        Outcome::Explore(_) => None,
    }
}

fn verdict(f: &FileOutcome) -> &'static str {
    match (&f.result, f.passed()) {
        (Outcome::Invalid(_), _) => "INVALID",
        (_, true) => "ok",
        (_, false) => "FAILED",
    }
}

/// `--html OUT`: the suite's page ([`wfsim_render::suite`]), `reports` the files' reports
/// in the suite's order; its title names the paths run.
pub(crate) fn html(suite: &Suite, reports: Vec<String>, paths: &[std::path::PathBuf]) -> String {
    let files: Vec<wfsim_render::suite::SuiteFile> = suite
        .files
        .iter()
        .zip(reports)
        .map(|(f, report)| wfsim_render::suite::SuiteFile {
            path: f.path.clone(),
            verdict: verdict(f),
            what: match &f.result {
                Outcome::Invalid(_) => "invalid".to_owned(),
                Outcome::Scenario(_) => "scenario".to_owned(),
                Outcome::Explore(r) => format!("explore, {} seeds", r.seeds_run),
            },
            failure: first_failure(f).map(|x| x.lines().next().unwrap_or_default().to_owned()),
            wall_millis: f.millis,
            report,
        })
        .collect();
    let title = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    wfsim_render::suite::suite_page(&title, &files, suite.millis)
}

/// The text `wfsim test` prints.
pub(crate) fn text(suite: &Suite) -> String {
    let mut t = String::new();
    if let Some((k, n)) = suite.shard {
        let _ = writeln!(
            t,
            "shard {k}/{n}: {} of {} files; explore files run this shard's seeds, `sometimes` is judged by `wfsim merge`",
            suite.files.len(),
            suite.all.len()
        );
    }
    for f in &suite.files {
        let verdict = verdict(f);
        let what = match &f.result {
            Outcome::Explore(r) => format!("  explore, {} seeds", r.seeds_run),
            _ => String::new(),
        };
        let _ = writeln!(t, "{verdict:<8}{}{what}{}", f.path, took(f.millis));
        let detail = first_failure(f);
        for line in detail.iter().flat_map(|d| d.lines()) {
            let _ = writeln!(t, "        {line}");
        }
    }
    let c = suite.counts();
    let _ = writeln!(
        t,
        "{} files: {} passed, {} failed, {} invalid{}",
        suite.files.len(),
        c.passed,
        c.failed,
        c.invalid,
        took(suite.millis)
    );
    t
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// A test case: its name, and `None` (passed), `Some(("failure" | "error" | "skipped",
/// message, body))`.
type Case = (String, Option<(&'static str, String, String)>);

fn cases(f: &FileOutcome) -> Vec<Case> {
    match &f.result {
        Outcome::Invalid(why) => vec![(
            f.path.clone(),
            Some((
                "error",
                why.lines().next().unwrap_or_default().to_owned(),
                why.clone(),
            )),
        )],
        Outcome::Scenario(s) => {
            let failure = s.failures.first().map(|(at, what)| {
                let body: Vec<String> = s
                    .failures
                    .iter()
                    .map(|(a, w)| format!("{a}: {w}"))
                    .collect();
                ("failure", format!("{at}: {what}"), body.join("\n"))
            });
            vec![(f.path.clone(), failure)]
        }
        Outcome::Explore(r) => {
            let mut out: Vec<Case> = r
                .properties
                .iter()
                .map(|p| {
                    let name = format!("{} {} (line {})", p.kind, p.expr, p.line);
                    let verdict = if !r.judges(p) {
                        Some((
                            "skipped",
                            "a sometimes property is judged over every shard by `wfsim merge`"
                                .to_owned(),
                            String::new(),
                        ))
                    } else if p.passed() {
                        None
                    } else {
                        let mut body = String::new();
                        if let Some(why) = &p.why {
                            let _ = writeln!(body, "why: {why}");
                        }
                        if let Some(rep) = &p.reproducer {
                            let _ = writeln!(body, "reproducer: {}", rep.scenario.display());
                            let _ = writeln!(body, "curl script: {}", rep.script.display());
                            for line in &rep.timeline {
                                let _ = writeln!(body, "  {line}");
                            }
                        }
                        let message = match p.kind {
                            "always" => format!(
                                "{}:{}: VIOLATED in {} of {} seeds (first: seed {})",
                                f.path,
                                p.line,
                                p.seeds_checked - p.seeds_true,
                                p.seeds_checked,
                                p.first_failure.unwrap_or_default()
                            ),
                            _ => format!(
                                "{}:{}: NEVER true in {} seeds",
                                f.path, p.line, p.seeds_checked
                            ),
                        };
                        Some(("failure", message, body))
                    };
                    (name, verdict)
                })
                .collect();
            let contract = r.contract_violations.first().map(|(seed, rule, why)| {
                (
                    "failure",
                    format!("WFSIM ITSELF broke {rule} at seed {seed} (please report it)"),
                    why.clone(),
                )
            });
            out.push(("contract (the spec model)".to_owned(), contract));
            if let Some((seed, why)) = r.errors.first() {
                out.push((
                    "every seed runs".to_owned(),
                    Some(("error", format!("seed {seed} could not run"), why.clone())),
                ));
            }
            out
        }
    }
}

/// JUnit XML as CI systems read it: `testsuites`, a `testsuite` per file, a `testcase` per
/// scenario and per explore property, `failure`/`error`/`skipped` with a message. Times are
/// the wall times measured, `0` after a merge (shard reports carry none).
pub(crate) fn junit(suite: &Suite) -> String {
    let secs = |ms: Option<u64>| format!("{:.3}", ms.unwrap_or(0) as f64 / 1000.0);
    let mut body = String::new();
    let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    for f in &suite.files {
        let cs = cases(f);
        let count = |k: &str| {
            cs.iter()
                .filter(|(_, v)| v.as_ref().is_some_and(|v| v.0 == k))
                .count()
        };
        let (fl, er, sk) = (count("failure"), count("error"), count("skipped"));
        tests += cs.len();
        failures += fl;
        errors += er;
        skipped += sk;
        let _ = writeln!(
            body,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fl}\" errors=\"{er}\" skipped=\"{sk}\" time=\"{}\">",
            xml(&f.path),
            cs.len(),
            secs(f.millis)
        );
        // `suite/failing/a.yaml` → `suite.failing.a`: the dotted name CI tools group by.
        let stem = f
            .path
            .rsplit_once('.')
            .map_or(f.path.as_str(), |(stem, _)| stem);
        let classname = xml(&stem.replace(['/', '\\'], "."));
        for (name, verdict) in &cs {
            let per_case = if cs.len() == 1 { f.millis } else { None };
            let open = format!(
                "    <testcase name=\"{}\" classname=\"{classname}\" file=\"{}\" time=\"{}\"",
                xml(name),
                xml(&f.path),
                secs(per_case)
            );
            match verdict {
                None => {
                    let _ = writeln!(body, "{open}/>");
                }
                Some((kind, message, text)) => {
                    let _ = writeln!(body, "{open}>");
                    if *kind == "skipped" {
                        let _ = writeln!(body, "      <skipped message=\"{}\"/>", xml(message));
                    } else {
                        let _ = writeln!(
                            body,
                            "      <{kind} message=\"{}\" type=\"{}\">{}</{kind}>",
                            xml(message),
                            if *kind == "failure" {
                                "expectation"
                            } else {
                                "invalid"
                            },
                            xml(text)
                        );
                    }
                    let _ = writeln!(body, "    </testcase>");
                }
            }
        }
        let _ = writeln!(body, "  </testsuite>");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"wfsim test\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{}\">\n{body}</testsuites>\n",
        secs(suite.millis)
    )
}

/// lcov of every workflow the suite ran, child workflows (HT-10) among them: per point,
/// passes summed over the scenarios and seeds summed over the explore files; a record per
/// workflow file ([`wfsim_explore::report::lcov_record`]), in path order.
pub(crate) fn lcov(suite: &Suite) -> String {
    let mut by_file: BTreeMap<String, BTreeMap<(Pos, Point), CoverRow>> = BTreeMap::new();
    for f in &suite.files {
        let workflows: Vec<(&str, &[CoverRow])> = match &f.result {
            Outcome::Scenario(s) => std::iter::once((s.workflow.as_str(), s.coverage.as_slice()))
                .chain(
                    s.children
                        .iter()
                        .map(|c| (c.workflow.as_str(), c.coverage.as_slice())),
                )
                .collect(),
            Outcome::Explore(r) => r.workflows().collect(),
            Outcome::Invalid(_) => continue,
        };
        for (workflow, rows) in workflows {
            let points = by_file.entry(cover::file_name(workflow)).or_default();
            for r in rows {
                points
                    .entry((r.pos, r.point))
                    .and_modify(|w| w.seeds += r.seeds)
                    .or_insert_with(|| r.clone());
            }
        }
    }
    by_file
        .iter()
        .map(|(file, points)| {
            let rows: Vec<CoverRow> = points.values().cloned().collect();
            lcov_record("wfsim-test", file, &rows)
        })
        .collect()
}
