//! `cargo xtask conformance`: the system-level sweep on the madsim build, then the
//! engine-level checks (spec model, scenarios, snapshots, corpus), built with
//! optimizations, which print one report with the sweep's summary merged in.

/// Splits `--seeds N` and `--jobs J` (the sweep's) from the engine-level options.
fn split_args(args: &[String]) -> (Vec<String>, Vec<String>) {
    let mut engine = Vec::new();
    let mut sweep = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--seeds" || a == "--jobs" {
            sweep.push(a.clone());
            sweep.extend(it.next().cloned());
        } else {
            engine.push(a.clone());
        }
    }
    (engine, sweep)
}

pub fn run(args: &[String]) -> Result<(), String> {
    // `--target URL`: another implementation judged over its API (`wfsim conformance`);
    // every argument goes through.
    if args
        .iter()
        .any(|a| a == "--target" || a.starts_with("--target="))
    {
        let mut cargo_args = vec!["run", "--release", "--locked", "--quiet"];
        cargo_args.extend([
            "--package",
            "wfsim-cli",
            "--bin",
            "wfsim",
            "--",
            "conformance",
        ]);
        cargo_args.extend(args.iter().map(String::as_str));
        return crate::cargo(&cargo_args, &[]);
    }
    let (mut engine, mut sweep) = split_args(args);
    let summary = crate::project_root().join("target/sim/system-summary.json");
    let summary = summary.to_string_lossy().into_owned();
    // A stale summary must not stand in for a sweep that did not run.
    let _ = std::fs::remove_file(&summary);
    sweep.extend(["--summary".to_owned(), summary.clone()]);
    let sweep_result = crate::sim_run_release(&sweep);
    engine.extend(["--system".to_owned(), summary]);
    let engine_result = crate::cargo_run_release("wfsim-conformance", &engine);
    engine_result.and(sweep_result)
}

/// `cargo xtask sim --seed S`: replays one system-level seed and prints its whole trace.
pub fn sim(args: &[String]) -> Result<(), String> {
    crate::sim_run_release(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_go_to_the_sweep() {
        let args: Vec<String> = [
            "--seed", "3", "--seeds", "50", "--cases", "9", "--jobs", "2",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (engine, sweep) = split_args(&args);
        assert_eq!(engine, ["--seed", "3", "--cases", "9"]);
        assert_eq!(sweep, ["--seeds", "50", "--jobs", "2"]);
    }
}
