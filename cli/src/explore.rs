//! `wfsim explore FILE`: the CLI side of `wfsim-explore` (options, progress, output, exit
//! codes). The logic is in the `wfsim-explore` crate.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

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
}

fn progress(done: u64, total: u64) {
    eprint!("\r  explored {done} of {total} seeds");
}

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
    let terminal = std::io::stderr().is_terminal();
    let options = wfsim_explore::Options {
        seeds: args.seeds,
        seed: args.seed,
        jobs: args.jobs,
        shard,
        progress: terminal.then_some(progress as fn(u64, u64)),
        ..Default::default()
    };
    let report = wfsim_explore::explore(&args.file, &options).map_err(|e| Invalid(e.0))?;
    if terminal {
        eprint!("\r\x1b[K");
    }
    if let Some(path) = &args.lcov {
        std::fs::write(path, report.lcov())
            .map_err(|e| Invalid(format!("{}: cannot write: {e}", path.display())))?;
    }
    if args.json {
        println!("{}", report.json());
    } else {
        print!("{}", report.text());
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
