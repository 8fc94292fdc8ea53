//! `cargo xtask conformance` (system level) and `cargo xtask sim --seed S`: generated cases
//! on the simulated world, each seed run twice and compared, checked against the contract's
//! invariants, with the coverage the sweep must reach.

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
    use std::collections::BTreeMap;
    use std::hash::{DefaultHasher, Hash, Hasher};
    use std::process::ExitCode;

    use wfsim_sim::case::{self, Case, Coverage};

    const USAGE: &str = "usage: sweep [--seeds N] [--seed S] [--bench]\n  --seeds N  seeds 0..N, each run twice (default 1000)\n  --seed S   replay seed S once and print its whole trace\n  --bench    time N seeds (once each) and print seeds/s and simulated s per wall s";

    /// `cargo xtask bench`: system-level speed. Wall time stays out of the report above.
    #[allow(clippy::disallowed_methods)]
    fn bench(seeds: u64) -> ExitCode {
        let start = std::time::Instant::now();
        let mut simulated_ms = 0u64;
        for seed in 0..seeds {
            match case::run(&Case::from_seed(seed)) {
                Ok(out) => simulated_ms += out.ended_at_ms.unwrap_or(0),
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
            simulated_ms as f64 / 1000.0 / wall
        );
        ExitCode::SUCCESS
    }

    fn digest(out: &case::Outcome) -> u64 {
        let mut h = DefaultHasher::new();
        format!("{out:?}").hash(&mut h);
        h.finish()
    }

    pub fn main() -> ExitCode {
        let mut seeds = 1000u64;
        let mut one: Option<u64> = None;
        let mut timing = false;
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            if a == "--bench" {
                timing = true;
                continue;
            }
            let value = args.next().and_then(|v| v.parse().ok());
            match (a.as_str(), value) {
                ("--seeds", Some(n)) => seeds = n,
                ("--seed", Some(s)) => one = Some(s),
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
            let c = Case::from_seed(seed);
            println!("seed={seed}\n{c:#?}\nworkflow:\n{}", c.workflow());
            return match case::run(&c) {
                Ok(out) => {
                    println!("{out:#?}");
                    let (violations, cov) = case::check(&c, &out);
                    println!("{cov:#?}");
                    for v in &violations {
                        println!("VIOLATED {}: {}", v.rule, v.detail);
                    }
                    if violations.is_empty() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(e) => {
                    println!("the run failed: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        println!(
            "\nsystem level (madsim): {seeds} seeds, each run twice; server on a simulated node, clients over simulated TCP"
        );
        let mut total = Coverage::default();
        let mut checks: BTreeMap<&str, u64> = BTreeMap::new();
        let mut failure: Option<(u64, String)> = None;
        for seed in 0..seeds {
            let c = Case::from_seed(seed);
            let (first, second) = (case::run(&c), case::run(&c));
            let (first, second) = match (first, second) {
                (Ok(a), Ok(b)) => (a, b),
                (Err(e), _) | (_, Err(e)) => {
                    failure = Some((seed, format!("the run failed: {e}")));
                    break;
                }
            };
            if digest(&first) != digest(&second) {
                failure = Some((seed, "determinism: the seed ran two different ways".into()));
                break;
            }
            *checks.entry("determinism").or_default() += 1;
            let (violations, cov) = case::check(&c, &first);
            if let Some(v) = violations.first() {
                failure = Some((seed, format!("{} violated: {}", v.rule, v.detail)));
                break;
            }
            for rule in ["CB-6", "CB-10", "CB-11", "CB-13", "EX-1", "EX-3"] {
                *checks.entry(rule).or_default() += 1;
            }
            *checks.entry("requests").or_default() += first.journal.len() as u64;
            total.add(&cov);
        }
        let mut passed = 0;
        let mut failed = 0;
        println!("{:<14} {:>10}  result", "check", "seeds");
        for (rule, n) in &checks {
            if *rule == "requests" {
                continue;
            }
            passed += 1;
            println!("{rule:<14} {n:>10}  pass");
        }
        println!(
            "callback requests journaled: {}",
            checks.get("requests").copied().unwrap_or(0)
        );
        println!("{:<34} {:>8}  result", "coverage (must happen)", "count");
        for (what, n) in total.rows() {
            let ok = n > 0 || failure.is_some();
            if ok {
                passed += 1
            } else {
                failed += 1
            }
            println!(
                "{what:<34} {n:>8}  {}",
                if n > 0 { "pass" } else { "NEVER HAPPENED" }
            );
        }
        if let Some((seed, why)) = &failure {
            failed += 1;
            println!("\nsystem-level sweep FAILED at seed {seed}: {why}");
            println!("replay: cargo xtask sim --seed {seed}");
        }
        println!("\nsystem level: {passed} passed, {failed} failed");
        if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}
