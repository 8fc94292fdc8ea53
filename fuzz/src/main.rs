//! The `wfsim-fuzz` binary: a fuzzing run, the replay of one reproducer, or (`worker`) the
//! process that runs inputs for a parent. `cargo xtask fuzz` builds and starts it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use wfsim_fuzz::budget::Budgeted;
use wfsim_fuzz::campaign::{self, Options};
use wfsim_fuzz::supervisor::{Verdict, Worker};
use wfsim_fuzz::worker;

/// Counts live heap bytes; a worker sets a limit on it (see `budget.rs`).
#[global_allocator]
static ALLOC: Budgeted = Budgeted::new();

const USAGE: &str =
    "usage: wfsim-fuzz [--seconds N] [--seed S] [--jobs J] [--budget-ms MS] [--replay FILE]

  --seconds N      how long to generate inputs (default 60); reproducers are replayed first
  --seed S         the seed every generated input derives from (default 0)
  --jobs J         worker processes (default: the number of CPUs, at most 4)
  --budget-ms MS   wall time an input may take (default 2000)
  --replay FILE    run one reproducer and say whether it still fails";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("worker") {
        ALLOC.set_limit(worker::MEMORY_BUDGET);
        return match worker::serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("wfsim-fuzz worker: {e}");
                ExitCode::from(3)
            }
        };
    }
    match parse(&args) {
        Ok(cmd) => match cmd.run() {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("wfsim-fuzz: {e}");
                ExitCode::from(2)
            }
        },
        Err(e) => {
            eprintln!("wfsim-fuzz: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[derive(Debug)]
struct Cmd {
    seconds: u64,
    seed: u64,
    jobs: usize,
    budget: Duration,
    replay: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Cmd, String> {
    let mut cmd = Cmd {
        seconds: 60,
        seed: 0,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
        budget: campaign::INPUT_BUDGET,
        replay: None,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: &String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: '{v}' is not a number"))
        };
        match flag.as_str() {
            "--seconds" => cmd.seconds = number(value()?)?,
            "--seed" => cmd.seed = number(value()?)?,
            "--jobs" => cmd.jobs = number(value()?)?.clamp(1, 64) as usize,
            "--budget-ms" => cmd.budget = Duration::from_millis(number(value()?)?.max(1)),
            "--replay" => cmd.replay = Some(PathBuf::from(value()?)),
            "-h" | "--help" => return Err("help".into()),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(cmd)
}

impl Cmd {
    /// `Ok(true)`: nothing failed.
    fn run(&self) -> Result<bool, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
        if let Some(file) = &self.replay {
            return replay_one(&exe, file, self.budget);
        }
        let opts = Options {
            root: Path::new(env!("CARGO_MANIFEST_DIR")).join(".."),
            exe,
            seconds: self.seconds,
            seed: self.seed,
            jobs: self.jobs,
            budget: self.budget,
        };
        let summary = campaign::run(&opts)?;
        print!("{}", campaign::report(&summary, self.jobs));
        Ok(!summary.failed())
    }
}

fn replay_one(exe: &Path, file: &Path, budget: Duration) -> Result<bool, String> {
    let mut worker = Worker::new(exe);
    let (rep, verdict) = campaign::replay(&mut worker, file, budget)?;
    println!(
        "{}: {} input, recorded as: {}",
        file.display(),
        rep.input.kind(),
        rep.failure
    );
    match verdict {
        Verdict::Fail(f) => {
            println!("still fails: {f}");
            Ok(false)
        }
        Verdict::Pass(_) => {
            println!("passes: the bug is fixed; keep the file, a regression test now");
            Ok(true)
        }
        Verdict::Invalid(why) => Err(format!("the worker cannot run it: {why}")),
    }
}
