//! `wfsim merge REPORT.json…`: the `--json` reports of every shard of one `wfsim test` or
//! `wfsim explore` run, merged into what one machine would have printed (text, `--json`,
//! `--junit`, `--lcov`) with the whole's exit code. Refused: shards of different files,
//! options or wfsim versions, a shard given twice, a shard missing.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::Value as Json;
use wfsim_explore::shard::{self, Part};

use crate::Invalid;
use crate::suite::outcome::{FileOutcome, Outcome, Suite};

#[derive(clap::Args, Debug)]
pub(crate) struct MergeArgs {
    /// The `--json` output of every shard (`wfsim test --shard K/N --json`, or
    /// `wfsim explore --shard K/N --json`).
    #[arg(required = true)]
    reports: Vec<PathBuf>,
    /// Print one JSON object: the unsharded run's, byte for byte.
    #[arg(long)]
    json: bool,
    /// Write JUnit XML to FILE (`wfsim test` shards).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write lcov to FILE.
    #[arg(long, value_name = "FILE")]
    lcov: Option<PathBuf>,
}

fn read(path: &PathBuf) -> Result<Json, Invalid> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Invalid(format!("{}: cannot read: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        Invalid(format!(
            "{}:{}:{}: not a JSON report: {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })
}

pub(crate) fn merge(args: MergeArgs) -> Result<ExitCode, Invalid> {
    let reports: Vec<(String, Json)> = args
        .reports
        .iter()
        .map(|p| Ok((p.display().to_string(), read(p)?)))
        .collect::<Result<_, Invalid>>()?;
    let is_test = |j: &Json| j["wfsim"] == "test";
    if reports.iter().all(|(_, j)| is_test(j)) {
        let suite = merge_suites(&reports).map_err(|e| Invalid(format!("wfsim merge: {e}")))?;
        return super::emit(
            &suite,
            args.json,
            args.junit.as_deref(),
            args.lcov.as_deref(),
        );
    }
    if let Some((name, _)) = reports.iter().find(|(_, j)| is_test(j)) {
        return Err(Invalid(format!(
            "wfsim merge: {name} is a `wfsim test` report and others are not: merge the shards of one run"
        )));
    }
    if args.junit.is_some() {
        return Err(Invalid(
            "wfsim merge: --junit is for `wfsim test` shards".to_owned(),
        ));
    }
    let parts = reports
        .iter()
        .map(|(name, j)| {
            if j["partial"].is_null() {
                return Err(Invalid(format!(
                    "wfsim merge: {name} is not a shard's report (made with --shard K/N --json)"
                )));
            }
            Part::read(&j["partial"]).map_err(|e| Invalid(format!("wfsim merge: {name}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_version(parts.iter().map(|p| p.version.as_str()))?;
    let whole = shard::merge(&parts).map_err(|e| Invalid(format!("wfsim merge: {e}")))?;
    let passed =
        wfsim_explore::report::emit(&whole, args.json, args.lcov.as_deref()).map_err(Invalid)?;
    Ok(ExitCode::from(u8::from(!passed)))
}

/// Shards made by one wfsim, this one: another version may judge or print differently.
fn check_version<'a>(mut versions: impl Iterator<Item = &'a str>) -> Result<(), Invalid> {
    let ours = env!("CARGO_PKG_VERSION");
    match versions.find(|v| *v != ours) {
        Some(v) => Err(Invalid(format!(
            "wfsim merge: a shard was made by wfsim {v}, this is wfsim {ours}: merge with the wfsim that ran the shards"
        ))),
        None => Ok(()),
    }
}

fn merge_suites(reports: &[(String, Json)]) -> Result<Suite, String> {
    let mut shards = Vec::new();
    let (first_name, first) = &reports[0];
    for (name, j) in reports {
        let p = &j["partial"];
        if p.is_null() {
            return Err(format!(
                "{name} is not a shard's report (made with --shard K/N --json)"
            ));
        }
        check_version(std::iter::once(p["version"].as_str().unwrap_or("?"))).map_err(|e| e.0)?;
        if p["inputs"] != first["partial"]["inputs"] || p["all"] != first["partial"]["all"] {
            return Err(format!(
                "{name} and {first_name} are shards of different runs (other files, file contents or --seeds)"
            ));
        }
        let k = p["shard"][0]
            .as_u64()
            .ok_or(format!("{name}: 'partial.shard' is [k, n]"))?;
        let n = p["shard"][1]
            .as_u64()
            .ok_or(format!("{name}: 'partial.shard' is [k, n]"))?;
        shards.push((k, n));
    }
    shard::check_complete(&shards)?;
    let all: Vec<String> = first["partial"]["all"]
        .as_array()
        .ok_or("'partial.all' is missing")?
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect();
    let mut single: BTreeMap<String, (FileOutcome, String)> = BTreeMap::new();
    let mut explore: BTreeMap<String, Vec<Part>> = BTreeMap::new();
    for (name, j) in reports {
        for f in j["files"]
            .as_array()
            .ok_or(format!("{name}: 'files' is missing"))?
        {
            let outcome = FileOutcome::from_json(f).map_err(|e| format!("{name}: {e}"))?;
            match outcome.result {
                Outcome::Explore(r) => explore.entry(outcome.path).or_default().push(Part {
                    report: *r,
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                }),
                Outcome::Invalid(ref why) => {
                    // An explore file that does not load is invalid in every shard alike.
                    match single.get(&outcome.path) {
                        Some((
                            FileOutcome {
                                result: Outcome::Invalid(w),
                                ..
                            },
                            _,
                        )) if w == why => {}
                        Some((_, other)) => {
                            return Err(format!(
                                "{} is in {other} and in {name}: the shards overlap",
                                outcome.path
                            ));
                        }
                        None => {
                            single.insert(outcome.path.clone(), (outcome, name.clone()));
                        }
                    }
                }
                Outcome::Scenario(_) => {
                    if let Some((_, other)) = single.get(&outcome.path) {
                        return Err(format!(
                            "{} is in {other} and in {name}: the shards overlap",
                            outcome.path
                        ));
                    }
                    single.insert(outcome.path.clone(), (outcome, name.clone()));
                }
            }
        }
    }
    let mut files = Vec::with_capacity(all.len());
    for path in &all {
        if let Some((f, _)) = single.remove(path) {
            files.push(f);
        } else if let Some(parts) = explore.remove(path) {
            let whole = shard::merge(&parts)?;
            files.push(FileOutcome {
                path: path.clone(),
                result: Outcome::Explore(Box::new(whole)),
                millis: None,
            });
        } else {
            return Err(format!(
                "no shard has {path}: a shard report is missing or was cut short"
            ));
        }
    }
    if let Some(extra) = single.keys().chain(explore.keys()).next() {
        return Err(format!(
            "{extra} is in a shard but not in the run's list of files"
        ));
    }
    Ok(Suite {
        files,
        shard: None,
        all,
        inputs: first["partial"]["inputs"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        millis: None,
    })
}
