//! `cargo xtask conformance` (system level) and `cargo xtask sim --seed S`: generated cases
//! on the simulated world, each seed run twice and compared, checked by the oracle, with the
//! coverage the sweep must reach.

#[cfg(not(madsim))]
fn main() {
    eprintln!(
        "wfsim-sim runs only in the madsim build: use `cargo xtask conformance` or `cargo xtask sim`"
    );
    std::process::exit(2);
}

#[cfg(madsim)]
fn main() -> std::process::ExitCode {
    sweep::main()
}

#[cfg(madsim)]
mod sweep {
    use std::process::ExitCode;

    use wfsim_sim::case::{Case, Part};
    use wfsim_sim::oracle;
    use wfsim_sim::run;
    use wfsim_sim::sweep::{self, Sweep};

    const USAGE: &str =
        "usage: sweep [--seeds N] [--seed S [--without PARTS]] [--summary FILE] [--bench]
  --seeds N       seeds 0..N, each run twice and compared (default 1000)
  --seed S        replay seed S and print its schedule, journal and verdict
  --without P,…   take parts away from seed S's case first, as a shrunk failure says
  --summary FILE  write the sweep's summary as JSON for the merged report, print one line
  --bench         time N seeds (once each): seeds/s and simulated s per wall s";

    /// `cargo xtask bench`: system-level speed. Wall time stays out of every report.
    #[allow(clippy::disallowed_methods)]
    fn bench(seeds: u64) -> ExitCode {
        let start = std::time::Instant::now();
        let mut simulated_ns = 0u64;
        for seed in 0..seeds {
            match run::run(&Case::from_seed(seed)) {
                Ok(out) => {
                    simulated_ns += out
                        .executions
                        .iter()
                        .filter_map(|e| e.ended_ns)
                        .max()
                        .unwrap_or(0)
                }
                Err(e) => {
                    println!("seed {seed} failed: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        let wall = start.elapsed().as_secs_f64();
        println!(
            "\nsystem level (madsim, release): {seeds} seeds in {wall:.2} s: {:.0} seeds/s, {:.0} simulated s per wall s",
            seeds as f64 / wall,
            simulated_ns as f64 / 1e9 / wall
        );
        ExitCode::SUCCESS
    }

    /// `--seed S [--without PARTS]`: everything one case did.
    fn replay(c: &Case) -> ExitCode {
        println!("{}\nworkflow:\n{}", c.schedule(), c.workflow());
        let out = match run::run(c) {
            Ok(out) => out,
            Err(e) => {
                println!("the run failed: {e}");
                return ExitCode::FAILURE;
            }
        };
        print!("{}", sweep::timeline(&out));
        let verdict = oracle::check(c, &out);
        println!(
            "\nchecked: {:?}\ncovered: {:?}",
            verdict.checked, verdict.coverage
        );
        for v in &verdict.violations {
            println!("VIOLATED {}: {}", v.rule, v.detail);
        }
        if verdict.violations.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }

    /// The case of `seed`, less the parts of `without` (`clog,send2`), in order.
    fn case(seed: u64, without: &str) -> Result<Case, String> {
        let mut c = Case::from_seed(seed);
        for part in without.split(',').filter(|p| !p.is_empty()) {
            let part: Part = part.parse()?;
            c = c
                .without(part)
                .ok_or_else(|| format!("seed {seed}'s case has no {part} to take away"))?;
        }
        Ok(c)
    }

    pub fn main() -> ExitCode {
        let mut seeds = 1000u64;
        let mut one: Option<u64> = None;
        let mut without = String::new();
        let mut timing = false;
        let mut summary_path: Option<String> = None;
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            if a == "--bench" {
                timing = true;
                continue;
            }
            let value = args.next();
            match (a.as_str(), value) {
                ("--seeds", Some(n)) if n.parse::<u64>().is_ok() => seeds = n.parse().unwrap_or(0),
                ("--seed", Some(s)) if s.parse::<u64>().is_ok() => one = s.parse().ok(),
                ("--without", Some(w)) => without = w,
                ("--summary", Some(p)) => summary_path = Some(p),
                _ => {
                    eprintln!("{USAGE}");
                    return ExitCode::from(2);
                }
            }
        }
        if timing {
            return bench(seeds);
        }
        if let Some(seed) = one {
            return match case(seed, &without) {
                Ok(c) => replay(&c),
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            };
        }
        let mut sweep = Sweep::new(seeds);
        for seed in 0..seeds {
            let c = Case::from_seed(seed);
            match sweep::judge(&c) {
                Ok((out, verdict)) => sweep.add(&out, &verdict),
                Err((rule, detail)) => {
                    sweep.fail(&c, rule, &detail);
                    break;
                }
            }
        }
        let summary = sweep.finish();
        match summary_path {
            None => print!("{}", sweep::render(&summary)),
            Some(path) => {
                if let Err(e) = std::fs::write(&path, summary.to_json()) {
                    eprintln!("could not write {path}: {e}");
                    return ExitCode::FAILURE;
                }
                println!(
                    "system level: {} of {seeds} seeds run ({}); the report below includes them",
                    summary.seeds_run,
                    if summary.ok() { "pass" } else { "FAILED" }
                );
            }
        }
        if summary.ok() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}
