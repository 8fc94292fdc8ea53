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

    use wfsim_explore::bench::cpu_seconds;
    use wfsim_sim::case::{Case, Part};
    use wfsim_sim::oracle;
    use wfsim_sim::run;
    use wfsim_sim::sweep::{self, Sweep};

    const USAGE: &str =
        "usage: sweep [--seeds N] [--jobs J] [--seed S [--without PARTS]] [--summary FILE] [--bench] [--digests]
  --seeds N       seeds 0..N, each run twice and compared (default 1000)
  --jobs J        seeds judged on J threads at once (default: the CPUs); the output is
                  the same for every J
  --seed S        replay seed S and print its schedule, journal and verdict
  --without P,…   take parts away from seed S's case first, as a shrunk failure says
  --summary FILE  write the sweep's summary as JSON for the merged report, print one line
  --bench         time N seeds: the world and a bare hyper world doing its network work
                  (seeds/s, their ratio), then the sweep with --jobs 1 and the CPUs
  --digests       run N seeds once each and print `seed digest` per line: a change meant
                  to leave every run as it was must leave these lines as they were";

    /// Rounds of the bench; medians are printed, the machine being shared.
    const ROUNDS: usize = 3;

    fn median(xs: &mut [f64]) -> f64 {
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    }

    /// `cargo xtask bench`: system-level speed, the world beside the bare world doing its
    /// network work (`wfsim_sim::bare`), then the sweep as `cargo xtask conformance` runs
    /// it. Wall time stays out of every report.
    #[allow(clippy::disallowed_methods)]
    fn bench(seeds: u64) -> ExitCode {
        use std::time::Instant;
        // Untimed: what each seed's clients sent, for the bare world to send again.
        let mut recorded = Vec::new();
        let (mut simulated_ns, mut requests) = (0u64, 0usize);
        for seed in 0..seeds {
            let c = Case::from_seed(seed);
            match run::run_recording(&c) {
                Ok((out, sent)) => {
                    simulated_ns += out
                        .executions
                        .iter()
                        .filter_map(|e| e.ended_ns)
                        .max()
                        .unwrap_or(0);
                    requests += sent.len();
                    recorded.push((c, sent));
                }
                Err(e) => {
                    println!("seed {seed} failed: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        let per_s = |start: Instant| seeds as f64 / start.elapsed().as_secs_f64();
        let (mut world, mut bare, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let (mut bare_here, mut ratios_here) = (Vec::new(), Vec::new());
        let (mut world_cpu, mut bare_cpu) = (0.0f64, 0.0f64);
        for _ in 0..ROUNDS {
            // Seed by seed in turns, world then bare, each side's time summed: a change in
            // the machine's load mid-round weighs on both sides alike.
            let (mut w_s, mut b_s) = (0.0, 0.0);
            for (c, sent) in &recorded {
                let (start, cpu0) = (Instant::now(), cpu_seconds());
                if let Err(e) = run::run(c) {
                    println!("seed {} failed: {e}", c.seed);
                    return ExitCode::FAILURE;
                }
                let (middle, cpu1) = (Instant::now(), cpu_seconds());
                if let Err(e) = wfsim_sim::bare::run(c, sent) {
                    println!("seed {} failed in the bare world: {e}", c.seed);
                    return ExitCode::FAILURE;
                }
                w_s += (middle - start).as_secs_f64();
                b_s += middle.elapsed().as_secs_f64();
                if let (Some(a), Some(b), Some(c)) = (cpu0, cpu1, cpu_seconds()) {
                    world_cpu += b - a;
                    bare_cpu += c - b;
                }
            }
            let (w, b) = (seeds as f64 / w_s, seeds as f64 / b_s);
            let start = Instant::now();
            for (c, sent) in &recorded {
                wfsim_sim::bare::run_here(c, sent.clone());
            }
            let b1 = per_s(start);
            world.push(w);
            bare.push(b);
            bare_here.push(b1);
            ratios.push(w / b);
            ratios_here.push(w / b1);
        }
        let w = median(&mut world);
        let range = |xs: &[f64]| {
            let lo = xs.iter().copied().fold(f64::MAX, f64::min);
            let hi = xs.iter().copied().fold(0.0, f64::max);
            format!("rounds ranged {lo:.2}-{hi:.2}")
        };
        let (spread, spread_here) = (range(&ratios), range(&ratios_here));
        println!("\nsystem level (madsim, release), seeds 0..{seeds}; median of {ROUNDS} rounds:");
        println!(
            "  the world, one run per seed:       {w:>8.0} seeds/s, {:.0} simulated s per wall s",
            w * simulated_ns as f64 / 1e9 / seeds as f64
        );
        println!(
            "  bare hyper over madsim, same work: {:>8.0} seeds/s ({:.1} connections per seed; same nodes, latency, loss, instants)",
            median(&mut bare),
            requests as f64 / seeds as f64
        );
        println!(
            "  ratio world / bare:                {:>8.2}  (goal >= 0.8; {spread}); seed by seed in turns, both with a thread per run",
            median(&mut ratios)
        );
        if world_cpu > 0.0 {
            println!(
                "  CPU per seed, summed over the rounds: world {:.0} µs | bare {:.0} µs; CPU ratio bare / world: {:.2}",
                world_cpu * 1e6 / (seeds as f64 * ROUNDS as f64),
                bare_cpu * 1e6 / (seeds as f64 * ROUNDS as f64),
                bare_cpu / world_cpu
            );
        }
        println!(
            "  bare, all runs on one thread:      {:>8.0} seeds/s, ratio {:.2} ({spread_here}): the world's thread per run counted against it",
            median(&mut bare_here),
            median(&mut ratios_here)
        );
        let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
        for j in [1, jobs] {
            let start = Instant::now();
            let mut ok = true;
            sweep::judge_in_order(seeds, j, |_, judged| {
                ok &= judged.is_ok();
                ok
            });
            println!(
                "  the sweep (each seed run twice, compared, oracle), --jobs {j}: {:>6.0} seeds/s{}",
                per_s(start),
                if ok { "" } else { " (stopped at a failure)" }
            );
            if jobs == 1 {
                break;
            }
        }
        ExitCode::SUCCESS
    }

    /// `--digests`: one line per seed, the digest of its whole run, to compare before and
    /// after a change that must not change any run (the summary alone sums seeds up).
    fn digests(seeds: u64) -> ExitCode {
        for seed in 0..seeds {
            match run::run(&Case::from_seed(seed)) {
                Ok(out) => println!("{seed} {:016x}", sweep::digest(&out)),
                Err(e) => println!("{seed} failed: {e}"),
            }
        }
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
        let mut jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut one: Option<u64> = None;
        let mut without = String::new();
        let mut timing = false;
        let mut digest_lines = false;
        let mut summary_path: Option<String> = None;
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            if a == "--bench" {
                timing = true;
                continue;
            }
            if a == "--digests" {
                digest_lines = true;
                continue;
            }
            let value = args.next();
            match (a.as_str(), value) {
                ("--seeds", Some(n)) if n.parse::<u64>().is_ok() => seeds = n.parse().unwrap_or(0),
                ("--seed", Some(s)) if s.parse::<u64>().is_ok() => one = s.parse().ok(),
                ("--jobs", Some(j)) if j.parse::<usize>().is_ok_and(|j| j > 0) => {
                    jobs = j.parse().unwrap_or(1)
                }
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
        if digest_lines {
            return digests(seeds);
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
        sweep::judge_in_order(seeds, jobs, |c, judged| match judged {
            Ok((out, verdict)) => {
                sweep.add(&out, &verdict);
                true
            }
            Err((rule, detail)) => {
                sweep.fail(&c, rule, &detail);
                false
            }
        });
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
