//! `wfsim test [PATH…]` and `wfsim merge REPORT.json…`: a repository's scenarios and explore
//! files in one command, one exit code, JUnit and lcov for CI; and shards of it merged back
//! into what one machine would have printed.
//!
//! `find` says which files, `run` runs one, `outcome` holds what each showed and the JSON,
//! `render` the text, JUnit and lcov, `update` writes observed outcomes into `expect:`,
//! `merge` rebuilds the whole from shards.

mod find;
mod merge;
mod outcome;
mod render;
mod run;
mod update;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::Invalid;
use find::Kind;
use outcome::{FileOutcome, Outcome, Suite};

pub(crate) use merge::{MergeArgs, merge};

#[derive(clap::Args, Debug)]
pub(crate) struct TestArgs {
    /// Files and folders to search for scenarios and explore files (default: `.`).
    paths: Vec<PathBuf>,
    /// Threads to run files on (default: the CPUs); never changes what is printed but times.
    #[arg(long)]
    jobs: Option<usize>,
    /// Only the files whose path contains TEXT.
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Every explore file runs N seeds instead of its own count.
    #[arg(long, value_name = "N")]
    seeds: Option<u64>,
    /// Write JUnit XML to FILE: a test case per scenario and per explore property.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write step coverage of every workflow, merged over all runs, as lcov to FILE.
    #[arg(long, value_name = "FILE")]
    lcov: Option<PathBuf>,
    /// Print one JSON object (nothing from the wall clock in it) instead of the text.
    #[arg(long)]
    json: bool,
    /// Run the K-th of N shares (1 ≤ K ≤ N): every N-th scenario, and every N-th seed of
    /// each explore file. Its `--json` is what `wfsim merge` takes.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// For each scenario whose expectations failed or state nothing, write what happened
    /// into its `expect:` (state, result or error tags, each request's status), printing
    /// the diff first; comments and layout are kept.
    #[arg(long)]
    update: bool,
    /// Write one self-contained HTML file to OUT: the summary, then each file's report (a
    /// scenario's run page, an explore file's page), each linked from its summary line.
    #[arg(long, value_name = "OUT")]
    html: Option<PathBuf>,
}

/// `K/N` with 1 ≤ K ≤ N.
pub(crate) fn parse_shard(s: &str) -> Result<(u64, u64), Invalid> {
    s.split_once('/')
        .and_then(|(k, n)| Some((k.parse::<u64>().ok()?, n.parse::<u64>().ok()?)))
        .filter(|&(k, n)| k >= 1 && k <= n)
        .ok_or_else(|| Invalid(format!("--shard {s}: K/N with 1 ≤ K ≤ N, such as 1/4")))
}

/// A path as the report names it: without a leading `./`.
fn shown(path: &Path) -> String {
    path.strip_prefix(".").unwrap_or(path).display().to_string()
}

/// Writes the suite as a command prints it: `--junit` and `--lcov` files, then the JSON or
/// the text; the exit code of the whole.
fn emit(
    suite: &Suite,
    json: bool,
    junit: Option<&Path>,
    lcov: Option<&Path>,
) -> Result<ExitCode, Invalid> {
    let write = |path: &Path, text: String| {
        std::fs::write(path, text)
            .map_err(|e| Invalid(format!("{}: cannot write: {e}", path.display())))
    };
    if let Some(p) = junit {
        write(p, render::junit(suite))?;
    }
    if let Some(p) = lcov {
        write(p, render::lcov(suite))?;
    }
    if json {
        crate::print_lines(&[suite.json().to_string()]);
    } else {
        print!("{}", render::text(suite));
    }
    Ok(ExitCode::from(suite.exit_code()))
}

pub(crate) fn test(args: TestArgs) -> Result<ExitCode, Invalid> {
    let shard = args.shard.as_deref().map(parse_shard).transpose()?;
    if args.jobs == Some(0) {
        return Err(Invalid("--jobs: 1 or more".to_owned()));
    }
    if args.seeds == Some(0) {
        return Err(Invalid("--seeds: 1 or more".to_owned()));
    }
    if args.update && shard.is_some() {
        return Err(Invalid(
            "--update edits files: run it without --shard".to_owned(),
        ));
    }
    if args.html.is_some() && (shard.is_some() || args.update) {
        return Err(Invalid(
            "--html draws each file's run: run it without --shard or --update".to_owned(),
        ));
    }
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut found = find::find(&paths).map_err(Invalid)?;
    if let Some(f) = &args.filter {
        found.retain(|x| shown(&x.path).contains(f.as_str()));
    }
    if found.is_empty() {
        return Err(Invalid(format!(
            "no scenario or explore file under {}{}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            args.filter
                .as_ref()
                .map_or(String::new(), |f| format!(" matching --filter {f}"))
        )));
    }
    let all: Vec<String> = found.iter().map(|f| shown(&f.path)).collect();
    let inputs = {
        let texts: Vec<Vec<u8>> = found
            .iter()
            .flat_map(|f| {
                let read = |p: &Path| std::fs::read(p).unwrap_or_default();
                [
                    shown(&f.path).into_bytes(),
                    read(&f.path),
                    f.workflow.as_deref().map(read).unwrap_or_default(),
                ]
            })
            .chain([format!("{:?}", args.seeds).into_bytes()])
            .collect();
        wfsim_explore::shard::digest(texts.iter().map(Vec::as_slice))
    };
    // A shard takes every N-th file that is not an explore file, and every explore file
    // (whose seeds it shares out).
    let mut nth = 0u64;
    found.retain(|f| {
        if matches!(f.kind, Ok(Kind::Explore)) {
            return true;
        }
        nth += 1;
        shard.is_none_or(|(k, n)| (nth - 1) % n == k - 1)
    });
    let options = run::Options {
        seeds: args.seeds,
        shard,
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .min(found.len().max(1));
    let next = AtomicUsize::new(0);
    // (index, outcome, --update's diff, --html's report)
    type Done = (usize, FileOutcome, Option<String>, Option<String>);
    let results: Mutex<Vec<Done>> = Mutex::new(Vec::new());
    #[allow(
        clippy::disallowed_methods,
        reason = "the text's times, never the JSON's"
    )]
    let start = std::time::Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(f) = found.get(i) else { break };
                    #[allow(
                        clippy::disallowed_methods,
                        reason = "the text's times, never the JSON's"
                    )]
                    let began = std::time::Instant::now();
                    let ids = args.html.as_ref().map(|_| wfsim_render::suite::ids(i));
                    let (result, diff, report) = match (&f.kind, args.update) {
                        (Err(why), _) => (
                            Outcome::Invalid(why.clone()),
                            None,
                            ids.as_ref()
                                .map(|_| wfsim_render::suite::invalid_section(why)),
                        ),
                        (Ok(Kind::Scenario), true) => {
                            let (result, diff) = update::run_and_update(&f.path);
                            (result, diff, None)
                        }
                        (Ok(kind), false) | (Ok(kind @ Kind::Explore), true) => {
                            let (result, report) =
                                run::file(&f.path, *kind, &options, ids.as_deref());
                            (result, None, report)
                        }
                    };
                    let millis = u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX);
                    let outcome = run::named(shown(&f.path), result, Some(millis));
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((i, outcome, diff, report));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, ..)| *i);
    let mut files = Vec::with_capacity(results.len());
    let mut reports = Vec::new();
    for (_, outcome, diff, report) in results {
        reports.extend(report);
        if let Some(diff) = diff {
            // The diff first, then the file's line: what was written, and why. With
            // `--json` on stderr, so stdout stays one object.
            if args.json {
                eprint!("{diff}");
            } else {
                print!("{diff}");
            }
        }
        files.push(outcome);
    }
    let suite = Suite {
        files,
        shard,
        all,
        inputs,
        millis: Some(u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)),
    };
    if let Some(out) = &args.html {
        let page = render::html(&suite, reports, &paths);
        std::fs::write(out, page)
            .map_err(|e| Invalid(format!("--html {}: cannot write: {e}", out.display())))?;
    }
    emit(
        &suite,
        args.json,
        args.junit.as_deref(),
        args.lcov.as_deref(),
    )
}
