//! `wfsim explore FILE`: the CLI side of `wfsim-explore` (options, progress, output, exit
//! codes). The logic is in the `wfsim-explore` crate; `--system` runs the madsim-built
//! binary of `wfsim-sim` (`explore-system`), which only builds with `--cfg madsim`, so it
//! cannot live in this binary.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use crate::Invalid;

#[derive(clap::Args, Debug)]
pub(crate) struct ExploreArgs {
    /// A scenario with an `explore:` section (senders, faults, always, sometimes).
    file: PathBuf,
    /// Seeds to run (default: the file's `explore.seeds`, else 1000).
    #[arg(long)]
    seeds: Option<u64>,
    /// The first seed; seeds S, S+1, … run.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Threads to spread seeds over; never changes a result.
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Run only the K-th of N equal shares of the seeds (1 ≤ K ≤ N), for CI machines.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Print exactly one JSON object instead of the text report.
    #[arg(long)]
    json: bool,
    /// Also write step coverage of the workflow as lcov to FILE.
    #[arg(long, value_name = "FILE")]
    lcov: Option<PathBuf>,
    /// Also write a self-contained HTML report to OUT: each property's verdict, each broken
    /// one's shrunk schedule as a timeline, and coverage over the source.
    #[arg(long, value_name = "OUT")]
    html: Option<PathBuf>,
    /// Play the schedules through the real server on the simulated world (madsim): senders
    /// over simulated TCP, lost answers as network faults, `faults.restarts` applied. Runs
    /// the madsim build's `explore-system` (`WFSIM_SYSTEM_BIN`, or built in
    /// `target/sim` from this checkout).
    #[arg(long)]
    system: bool,
}

/// The system-level binary's name in the madsim build (`sim/src/bin/explore-system.rs`).
const SYSTEM_BIN: &str = "explore-system";

pub(crate) fn explore(args: ExploreArgs) -> Result<ExitCode, Invalid> {
    let shard =
        match &args.shard {
            None => None,
            Some(s) => {
                let parsed = s
                    .split_once('/')
                    .and_then(|(k, n)| Some((k.parse::<u64>().ok()?, n.parse::<u64>().ok()?)))
                    .filter(|&(k, n)| k >= 1 && k <= n);
                Some(parsed.ok_or_else(|| {
                    Invalid(format!("--shard {s}: K/N with 1 ≤ K ≤ N, such as 1/4"))
                })?)
            }
        };
    if args.jobs == 0 {
        return Err(Invalid("--jobs: 1 or more".to_owned()));
    }
    if args.seeds == Some(0) {
        return Err(Invalid("--seeds: 1 or more".to_owned()));
    }
    if args.system {
        return system(&args);
    }
    let options = wfsim_explore::Options {
        seeds: args.seeds,
        seed: args.seed,
        jobs: args.jobs,
        shard,
        progress: wfsim_explore::progress::on_terminal("engine level"),
        ..Default::default()
    };
    let report = wfsim_explore::explore(&args.file, &options).map_err(|e| Invalid(e.0));
    wfsim_explore::progress::clear();
    let report = report?;
    if let Some(out) = &args.html {
        write_html(&report, out)?;
    }
    let passed =
        wfsim_explore::report::emit(&report, args.json, args.lcov.as_deref()).map_err(Invalid)?;
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `--system`: the same options, checked here, passed to the madsim build's binary, whose
/// output and exit code are this command's.
fn system(args: &ExploreArgs) -> Result<ExitCode, Invalid> {
    let bin = system_binary()?;
    let mut cmd = Command::new(&bin);
    cmd.arg(&args.file)
        .args(["--seed", &args.seed.to_string()])
        .args(["--jobs", &args.jobs.to_string()]);
    if let Some(n) = args.seeds {
        cmd.args(["--seeds", &n.to_string()]);
    }
    if let Some(s) = &args.shard {
        cmd.args(["--shard", s]);
    }
    if args.json {
        cmd.arg("--json");
    }
    if let Some(f) = &args.lcov {
        cmd.arg("--lcov").arg(f);
    }
    let status = cmd.status().map_err(|e| {
        Invalid(format!(
            "wfsim explore --system: cannot start {}: {e}",
            bin.display()
        ))
    })?;
    Ok(ExitCode::from(
        status
            .code()
            .and_then(|c| u8::try_from(c).ok())
            .unwrap_or(2),
    ))
}

/// Where the system-level binary is: `WFSIM_SYSTEM_BIN` when set; else this checkout's
/// madsim build, brought up to date first with the cargo invocation `cargo xtask` uses
/// (cargo does nothing when it is). A `wfsim` installed away from its checkout needs the
/// variable: the madsim build is a second build of the server and cannot be part of this
/// binary.
fn system_binary() -> Result<PathBuf, Invalid> {
    if let Some(bin) = std::env::var_os("WFSIM_SYSTEM_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    if !root.join("sim/Cargo.toml").is_file() {
        return Err(Invalid(format!(
            "wfsim explore --system needs the madsim build of wfsim-sim, and the checkout this wfsim was built from ({}) is gone: build `{SYSTEM_BIN}` there with `RUSTFLAGS=\"--cfg madsim\" cargo build --release -p wfsim-sim --bin {SYSTEM_BIN}` and set WFSIM_SYSTEM_BIN to it",
            root.display()
        )));
    }
    let target = root.join("target/sim");
    let bin = target.join("release").join(SYSTEM_BIN);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let shown = format!(
        "RUSTFLAGS=\"--cfg madsim\" CARGO_TARGET_DIR={} cargo build --release --locked -p wfsim-sim --bin {SYSTEM_BIN}",
        target.display()
    );
    let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
    match built {
        None => eprintln!(
            "wfsim explore --system: building the simulated world first (a few minutes, once):\n  {shown}"
        ),
        Some(at) if newest_source(&root).is_some_and(|s| s > at) => eprintln!(
            "wfsim explore --system: the sources changed since the simulated world was built; rebuilding:\n  {shown}"
        ),
        Some(_) => {}
    }
    let status = Command::new(cargo)
        .args(["build", "--release", "--locked", "--quiet"])
        .args(["--package", "wfsim-sim", "--bin", SYSTEM_BIN])
        .env("RUSTFLAGS", "--cfg madsim")
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(&root)
        .status()
        .map_err(|e| {
            Invalid(format!(
                "wfsim explore --system: cannot run cargo to build the simulated world ({e}); build it with `{shown}` and set WFSIM_SYSTEM_BIN to {}",
                bin.display()
            ))
        })?;
    if !status.success() || !bin.exists() {
        return Err(Invalid(format!(
            "wfsim explore --system: building the simulated world failed ({status}): `{shown}` in {}",
            root.display()
        )));
    }
    // Up to date now, even if cargo had nothing to relink: stamped with the newest source's
    // time, so the next run says nothing.
    if let (Some(newest), Ok(f)) = (
        newest_source(&root),
        std::fs::File::options().append(true).open(&bin),
    ) {
        let now_built = f.metadata().and_then(|m| m.modified()).ok();
        if now_built.is_some_and(|b| b < newest) {
            let _ = f.set_modified(newest);
        }
    }
    Ok(bin)
}

/// When a source of the madsim build was last changed: the newest file under the crates it
/// is built from, and the lock file. Only to say why a build is about to take a while;
/// cargo decides what to rebuild.
fn newest_source(root: &Path) -> Option<std::time::SystemTime> {
    fn walk(dir: &Path, newest: &mut Option<std::time::SystemTime>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                walk(&path, newest);
            } else if let Ok(t) = e.metadata().and_then(|m| m.modified()) {
                *newest = (*newest).max(Some(t));
            }
        }
    }
    let mut newest = std::fs::metadata(root.join("Cargo.lock"))
        .and_then(|m| m.modified())
        .ok();
    for krate in ["engine", "conformance", "explore", "server", "sim"] {
        for part in ["src", "Cargo.toml", "build.rs"] {
            let path = root.join(krate).join(part);
            match std::fs::metadata(&path) {
                Ok(m) if m.is_dir() => walk(&path, &mut newest),
                Ok(m) => newest = newest.max(m.modified().ok()),
                Err(_) => {}
            }
        }
    }
    walk(&root.join("proto"), &mut newest);
    newest
}

/// `--html OUT`: the exploration's page.
fn write_html(report: &wfsim_explore::report::Report, out: &Path) -> Result<(), Invalid> {
    let page = html(report, None)?;
    std::fs::write(out, page)
        .map_err(|e| Invalid(format!("--html {}: cannot write: {e}", out.display())))
}

/// The exploration's page (`ids` `None`), or its section of a suite's page with ids that
/// start with `ids`; each reproducer run again at engine level for its timeline (the
/// shrunk schedule, as `wfsim run` of the reproducer plays it).
pub(crate) fn html(
    report: &wfsim_explore::report::Report,
    ids: Option<&str>,
) -> Result<String, Invalid> {
    // The report names the workflow by the path the exploration read it from.
    let workflow_path = PathBuf::from(&report.workflow);
    let source = crate::read(&workflow_path)?;
    let mut runs = Vec::new();
    for (i, p) in report.properties.iter().enumerate() {
        if let Some(r) = &p.reproducer {
            runs.push((i, crate::run_scenario_file(&r.scenario)?));
        }
    }
    let reproducers: Vec<(usize, &wfsim_harness::runner::Run)> =
        runs.iter().map(|(i, run)| (*i, run)).collect();
    let file = workflow_path.display().to_string();
    let p = wfsim_render::html::ExplorePage {
        file: &file,
        source: &source,
        reproducers: &reproducers,
    };
    Ok(match ids {
        None => wfsim_render::html::explore_page(report, p),
        Some(ids) => wfsim_render::html::explore_section(report, p, ids),
    })
}
