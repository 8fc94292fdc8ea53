//! The report of an exploration (EXP-6): per property the seeds that checked it and the
//! verdict, per `sometimes` how many seeds made it true, the contract checks, and step
//! coverage of the workflow; as text, as one JSON object (nothing from the wall clock: two
//! runs compare byte for byte, whatever `--jobs`), and as lcov over the workflow's lines.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::{Value as Json, json};
use wfsim_conformance::rules::Rule;
use wfsim_engine::coverage::Point;
use wfsim_engine::error::tags;
use wfsim_engine::interp::Outcome;

use crate::cover::ChildCover;
pub use crate::cover::CoverRow;
use crate::fault::FaultKind;
use crate::plan::Plan;
use crate::repro::secs;
use crate::schedule::{Executed, Schedule};
use crate::{Options, SeedOutcome};

#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub file: String,
    pub workflow: String,
    pub first_seed: u64,
    /// Seeds run (after `--shard`).
    pub seeds_run: u64,
    pub shard: Option<(u64, u64)>,
    pub properties: Vec<PropertyReport>,
    /// Contract checks made, by rule, over every seed.
    pub contract_checks: BTreeMap<Rule, u64>,
    /// (seed, rule, what) for every seed whose run broke the contract.
    pub contract_violations: Vec<(u64, Rule, String)>,
    /// Seeds that could not run, and why.
    pub errors: Vec<(u64, String)>,
    pub coverage: Vec<CoverRow>,
    /// The coverage of each child workflow it may start (HT-10), by file.
    pub children: Vec<ChildCover>,
    /// `engine` or `system`: the driver that played the schedules.
    pub driver: &'static str,
    /// The faults the file asks for that the driver left out (their keys): the
    /// engine-level driver has no server to restart.
    pub faults_ignored: Vec<&'static str>,
    /// Server restarts applied over every seed (`--system`).
    pub restarts_applied: u64,
    /// The digest of the files read (`shard::digest`): shards of different files do not
    /// merge.
    pub inputs: String,
    /// Seeds of the whole exploration, every shard's.
    pub seeds_total: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PropertyReport {
    /// `always` or `sometimes`.
    pub kind: &'static str,
    pub expr: String,
    pub line: u32,
    pub seeds_checked: u64,
    /// Seeds where it was true.
    pub seeds_true: u64,
    /// `always`: the first seed where it was not true; `sometimes`: the first where it was.
    pub first_failure: Option<u64>,
    pub first_true: Option<u64>,
    /// `always`: why it failed at `first_failure`.
    pub why: Option<String>,
    pub reproducer: Option<Reproducer>,
}

impl PropertyReport {
    /// An `always` held in every seed; a `sometimes` in at least one.
    pub fn passed(&self) -> bool {
        match self.kind {
            "always" => self.first_failure.is_none(),
            _ => self.first_true.is_some(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Reproducer {
    pub scenario: PathBuf,
    pub script: PathBuf,
    pub shrink_runs: u32,
    /// The shrunk schedule, a line per send and the end.
    pub timeline: Vec<String>,
    /// Why the property fails on the shrunk schedule.
    pub why: String,
}

impl Reproducer {
    /// Its object in a report's `--json` (and a shard's, which `wfsim merge` reads back).
    pub fn to_json(&self) -> Json {
        json!({
            "scenario": self.scenario.display().to_string(),
            "script": self.script.display().to_string(),
            "shrink_runs": self.shrink_runs,
            "timeline": self.timeline,
            "why": self.why,
        })
    }
}

impl Report {
    pub fn collect(
        plan: &Plan,
        options: &Options,
        outcomes: &[SeedOutcome],
        driver: &'static str,
    ) -> Report {
        let mut properties = Vec::new();
        for (kind, list) in [("always", &plan.always), ("sometimes", &plan.sometimes)] {
            for p in list.iter() {
                properties.push(PropertyReport {
                    kind,
                    expr: p.source.clone(),
                    line: p.pos.line,
                    seeds_checked: 0,
                    seeds_true: 0,
                    first_failure: None,
                    first_true: None,
                    why: None,
                    reproducer: None,
                });
            }
        }
        let n_always = plan.always.len();
        let mut contract_checks = BTreeMap::new();
        let mut contract_violations = Vec::new();
        let mut errors = Vec::new();
        for o in outcomes {
            if let Some(e) = &o.error {
                errors.push((o.seed, e.clone()));
                continue;
            }
            for (i, v) in o.always.iter().enumerate() {
                let p = &mut properties[i];
                p.seeds_checked += 1;
                match v {
                    None => {
                        p.seeds_true += 1;
                        p.first_true.get_or_insert(o.seed);
                    }
                    Some(why) => {
                        if p.first_failure.is_none() {
                            p.first_failure = Some(o.seed);
                            p.why = Some(why.clone());
                        }
                    }
                }
            }
            for (i, &t) in o.sometimes.iter().enumerate() {
                let p = &mut properties[n_always + i];
                p.seeds_checked += 1;
                if t {
                    p.seeds_true += 1;
                    p.first_true.get_or_insert(o.seed);
                } else {
                    p.first_failure.get_or_insert(o.seed);
                }
            }
            for (rule, n) in &o.contract.checks {
                *contract_checks.entry(*rule).or_insert(0) += n;
            }
            if let Some((rule, why)) = &o.contract.violation {
                contract_violations.push((o.seed, *rule, why.clone()));
            }
        }
        let rows = crate::cover::rows(&plan.sites, &crate::reached(outcomes));
        let started = outcomes
            .iter()
            .flat_map(|o| o.children.iter().map(|(_, name, _)| name.as_str()));
        let sites = crate::cover::child_sites(&plan.children, started);
        let mut reached: BTreeMap<String, wfsim_engine::coverage::Counts> = BTreeMap::new();
        for o in outcomes {
            for (file, _, points) in &o.children {
                let counts = reached.entry(file.clone()).or_default();
                for &k in points {
                    *counts.entry(k).or_insert(0) += 1;
                }
            }
        }
        Report {
            file: plan.file.display().to_string(),
            workflow: plan.workflow_path.display().to_string(),
            first_seed: options.seed,
            seeds_run: outcomes.len() as u64,
            shard: options.shard,
            properties,
            contract_checks,
            contract_violations,
            errors,
            coverage: rows,
            children: crate::cover::child_rows(&sites, &reached),
            driver,
            faults_ignored: FaultKind::ALL
                .into_iter()
                .filter(|k| driver == "engine" && !k.at_engine_level() && k.is_set(&plan.faults))
                .map(FaultKind::key)
                .collect(),
            restarts_applied: outcomes.iter().map(|o| u64::from(o.restarts)).sum(),
            inputs: String::new(),
            seeds_total: options.seeds.unwrap_or(plan.seeds),
        }
    }

    /// Whether property `p` is judged here: a `sometimes` needs every seed, so a shard
    /// leaves it to the merge.
    pub fn judges(&self, p: &PropertyReport) -> bool {
        self.shard.is_none() || p.kind == "always"
    }

    /// A property's verdict in words: `held in all 300 seeds`, `VIOLATED in 3 of 300 seeds
    /// (first: seed 7)`, `true in 5 of 300 seeds (first: seed 2)`, `NEVER true in 300
    /// seeds`; a shard's `sometimes` is left to the merge.
    pub fn verdict(&self, p: &PropertyReport) -> String {
        match (p.kind, p.passed()) {
            ("always", true) => format!("held in all {} seeds", p.seeds_checked),
            ("always", false) => format!(
                "VIOLATED in {} of {} seeds (first: seed {})",
                p.seeds_checked - p.seeds_true,
                p.seeds_checked,
                p.first_failure.unwrap_or_default()
            ),
            _ if !self.judges(p) => format!(
                "true in {} of this shard's {} seeds (judged over all seeds by `wfsim merge`)",
                p.seeds_true, p.seeds_checked
            ),
            (_, true) => format!(
                "true in {} of {} seeds (first: seed {})",
                p.seeds_true,
                p.seeds_checked,
                p.first_true.unwrap_or_default()
            ),
            (_, false) => format!("NEVER true in {} seeds", p.seeds_checked),
        }
    }

    /// Every `always` held, every `sometimes` happened, the contract held and every seed ran.
    pub fn passed(&self) -> bool {
        self.properties
            .iter()
            .all(|p| !self.judges(p) || p.passed())
            && self.contract_violations.is_empty()
            && self.errors.is_empty()
    }

    /// The points of the workflow no seed reached.
    pub fn unreached(&self) -> impl Iterator<Item = &CoverRow> {
        self.coverage.iter().filter(|r| r.seeds == 0)
    }

    pub fn text(&self) -> String {
        let mut t = String::new();
        let last = self
            .first_seed
            .wrapping_add(self.seeds_run.saturating_sub(1));
        let _ = write!(t, "wfsim explore {}: {} seeds", self.file, self.seeds_run);
        match self.shard {
            Some((k, n)) => {
                let _ = writeln!(t, " (shard {k}/{n} of seeds from {})", self.first_seed);
            }
            None => {
                let _ = writeln!(t, " ({} … {last})", self.first_seed);
            }
        }
        match self.driver {
            "system" => {
                let _ = writeln!(
                    t,
                    "  system level: the server on the madsim world; {} server restarts applied",
                    self.restarts_applied
                );
            }
            _ => {
                for key in &self.faults_ignored {
                    let _ = writeln!(
                        t,
                        "  faults.{key}: not applied by the engine-level driver (they need --system)"
                    );
                }
            }
        }
        for p in &self.properties {
            let verdict = self.verdict(p);
            let _ = writeln!(
                t,
                "{:<9} {}  (line {})\n          {verdict}",
                p.kind, p.expr, p.line
            );
            if let Some(why) = &p.why {
                let _ = writeln!(t, "          why: {why}");
            }
            if let Some(r) = &p.reproducer {
                let _ = writeln!(
                    t,
                    "          shrunk in {} runs to this schedule (seed {}):",
                    r.shrink_runs,
                    p.first_failure.unwrap_or_default()
                );
                for line in &r.timeline {
                    let _ = writeln!(t, "            {line}");
                }
                let _ = writeln!(t, "          and there: {}", r.why);
                let _ = writeln!(t, "          replay: wfsim run {}", r.scenario.display());
                let _ = writeln!(
                    t,
                    "          live:   sh {} (starts wfsim serve --clock manual with the services)",
                    r.script.display()
                );
            }
        }
        let checks: u64 = self.contract_checks.values().sum();
        let rules: Vec<String> = self
            .contract_checks
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        let _ = writeln!(
            t,
            "contract  {checks} checks against the spec model ({})",
            rules.join(", ")
        );
        if self.contract_violations.is_empty() {
            t.push_str("          no violation\n");
        }
        for (seed, rule, why) in self.contract_violations.iter().take(5) {
            let _ = writeln!(
                t,
                "          WFSIM ITSELF broke {rule} at seed {seed}: {why} (please report it)"
            );
        }
        for (seed, why) in self.errors.iter().take(5) {
            let _ = writeln!(t, "error     seed {seed}: {why}");
        }
        for (i, (workflow, rows)) in self.workflows().enumerate() {
            let reached = rows.iter().filter(|r| r.seeds > 0).count();
            let child = if i > 0 { " (a child workflow)" } else { "" };
            let _ = writeln!(
                t,
                "coverage  {reached} of {} steps and branches of {workflow}{child} reached",
                rows.len(),
            );
            for r in rows {
                let _ = writeln!(
                    t,
                    "  {:>5}:{:<3} {:>7} seeds  {} ({})",
                    r.pos.line, r.pos.col, r.seeds, r.label, r.subworkflow
                );
            }
            let unreached: Vec<String> = rows
                .iter()
                .filter(|r| r.seeds == 0)
                .map(|r| format!("{} (line {})", r.label, r.pos.line))
                .collect();
            if unreached.is_empty() {
                t.push_str("  every step and branch was reached\n");
            } else {
                let _ = writeln!(t, "  unreached: {}", unreached.join(", "));
            }
        }
        let _ = writeln!(t, "{}", if self.passed() { "PASSED" } else { "FAILED" });
        t
    }

    pub fn json(&self) -> Json {
        let properties: Vec<Json> = self
            .properties
            .iter()
            .map(|p| {
                json!({
                    "kind": p.kind,
                    "expr": p.expr,
                    "line": p.line,
                    "seeds_checked": p.seeds_checked,
                    "seeds_true": p.seeds_true,
                    "passed": if self.judges(p) { json!(p.passed()) } else { Json::Null },
                    "first_violation": if p.kind == "always" { json!(p.first_failure) } else { Json::Null },
                    "first_true": p.first_true,
                    "why": p.why,
                    "reproducer": p.reproducer.as_ref().map(Reproducer::to_json),
                })
            })
            .collect();
        let checks: serde_json::Map<String, Json> = self
            .contract_checks
            .iter()
            .map(|(r, n)| (r.id().to_owned(), json!(n)))
            .collect();
        let mut out = json!({
            "file": self.file,
            "workflow": self.workflow,
            "driver": self.driver,
            "restarts_applied": self.restarts_applied,
            "seeds": {
                "first": self.first_seed,
                "run": self.seeds_run,
                "shard": self.shard.map(|(k, n)| format!("{k}/{n}")),
            },
            "properties": properties,
            "contract": {
                "checks": checks,
                "violations": self.contract_violations.iter().map(|(s, r, w)| json!({"seed": s, "rule": r.id(), "what": w})).collect::<Vec<_>>(),
            },
            "errors": self.errors.iter().map(|(s, w)| json!({"seed": s, "what": w})).collect::<Vec<_>>(),
            "coverage": {
                "points": self.coverage.iter().map(point_json).collect::<Vec<_>>(),
                "unreached": self.unreached().map(|r| format!("{} (line {})", r.label, r.pos.line)).collect::<Vec<_>>(),
            },
            "passed": self.passed(),
        });
        // HT-10: only when the workflow may start children, so other reports keep their bytes.
        if !self.children.is_empty() {
            out["coverage"]["children"] = self
                .children
                .iter()
                .map(|c| {
                    json!({
                        "workflow": c.workflow,
                        "points": c.coverage.iter().map(point_json).collect::<Vec<_>>(),
                        "unreached": c.coverage.iter().filter(|r| r.seeds == 0).map(|r| format!("{} (line {})", r.label, r.pos.line)).collect::<Vec<_>>(),
                    })
                })
                .collect();
        }
        if self.shard.is_some() {
            out["partial"] = self.partial_json();
        }
        out
    }

    /// The workflow's rows, then each child workflow's (HT-10): (file, rows).
    pub fn workflows(&self) -> impl Iterator<Item = (&str, &[CoverRow])> {
        std::iter::once((self.workflow.as_str(), self.coverage.as_slice())).chain(
            self.children
                .iter()
                .map(|c| (c.workflow.as_str(), c.coverage.as_slice())),
        )
    }

    /// lcov over the workflow's lines and each child workflow's, a record per file.
    pub fn lcov(&self) -> String {
        let mut t = String::new();
        for (file, rows) in self.workflows() {
            t.push_str(&lcov_record("wfsim-explore", file, rows));
        }
        t
    }
}

/// A point of a report's `--json` coverage.
fn point_json(r: &CoverRow) -> Json {
    json!({
        "line": r.pos.line,
        "column": r.pos.col,
        "subworkflow": r.subworkflow,
        "what": r.label,
        "seeds": r.seeds,
    })
}

/// One lcov record: `TN`, `SF`, `BRDA` per switch case, except block and retry, `DA` per
/// line with a point (the most any point there counted), and the totals. `wfsim explore`'s
/// and `wfsim test`'s lcov are made of these.
pub fn lcov_record(test: &str, file: &str, rows: &[CoverRow]) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "TN:{test}\nSF:{file}");
    let mut lines: BTreeMap<u32, u64> = BTreeMap::new();
    for r in rows {
        let e = lines.entry(r.pos.line).or_insert(0);
        *e = (*e).max(r.seeds);
    }
    let (mut branches, mut taken) = (0, 0);
    for (block, r) in rows.iter().filter(|r| r.point != Point::Step).enumerate() {
        branches += 1;
        taken += u32::from(r.seeds > 0);
        let _ = writeln!(t, "BRDA:{},{block},0,{}", r.pos.line, r.seeds);
    }
    let _ = writeln!(t, "BRF:{branches}\nBRH:{taken}");
    for (line, n) in &lines {
        let _ = writeln!(t, "DA:{line},{n}");
    }
    let _ = writeln!(
        t,
        "LF:{}\nLH:{}\nend_of_record",
        lines.len(),
        lines.values().filter(|&&n| n > 0).count()
    );
    t
}

/// The schedule as a timeline: each send with what it got, then how the run ended.
pub fn schedule_timeline(plan: &Plan, s: &Schedule, e: &Executed) -> Vec<String> {
    let mut out = Vec::new();
    for (i, v) in s.stubs.iter().enumerate() {
        let r = &plan.stubs.ranges[i];
        out.push(format!("stub {} at line {}: {v}", r.key, r.pos.line));
    }
    for r in &plan.base.requests {
        out.push(format!(
            "{:>10} s  fixed request to endpoint {}",
            secs(r.at),
            r.endpoint
        ));
    }
    let ex = &e.run.execution;
    let end = match ex.outcome() {
        Some(Outcome::Failed(f)) => format!("{} ({})", ex.state(), tags(f).join(", ")),
        _ => ex.state().to_string(),
    };
    let mut ended = ex.ended_at();
    for x in &e.sent {
        if let Some(at) = ended.filter(|&at| at < x.arrived_at) {
            out.push(format!("{:>10} s  the execution ended {end}", secs(at)));
            ended = None;
        }
        let r = &s.requests[x.logical];
        let sender = &plan.senders[r.sender];
        let body = crate::repro::secs_body(&sender.bodies[r.body].value);
        let status = x
            .status
            .map_or("not delivered".to_owned(), |s| s.to_string());
        let lost = if x.lost { ", answer lost" } else { "" };
        let retry = if x.attempt > 1 {
            format!(" (retry {})", x.attempt - 1)
        } else {
            String::new()
        };
        out.push(format!(
            "{:>10} s  sender {} → endpoint {} {}{retry}: {status}{lost}",
            secs(x.arrived_at),
            r.sender,
            sender.endpoint,
            body
        ));
    }
    for (killed, back) in &e.restarts {
        out.push(format!(
            "{:>10} s  server killed, back at {} s",
            secs(*killed),
            secs(*back)
        ));
    }
    if e.sent.is_empty() && plan.base.requests.is_empty() {
        out.push("(no requests)".to_owned());
    }
    match (ended, ex.ended_at()) {
        (Some(at), _) => out.push(format!("{:>10} s  the execution ended {end}", secs(at))),
        (None, None) => out.push(format!("           the execution is still {end}")),
        (None, Some(_)) => {}
    }
    out
}

/// Writes `report` as a command prints it: the lcov file if asked, then the JSON object or
/// the text on stdout. `Ok(passed)`; `Err` names the lcov file that could not be written.
/// Shared by `wfsim explore` and the system-level binary, so both print the same.
pub fn emit(report: &Report, json: bool, lcov: Option<&std::path::Path>) -> Result<bool, String> {
    if let Some(path) = lcov {
        std::fs::write(path, report.lcov())
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    }
    if json {
        println!("{}", report.json());
    } else {
        print!("{}", report.text());
    }
    Ok(report.passed())
}
