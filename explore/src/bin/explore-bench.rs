//! `cargo xtask bench`'s explore rows: engine-level explore seeds per second on the guide's
//! approval workflow with 3 senders (`fixtures/explore/approval.yaml`), with `--jobs 1` and
//! `--jobs 2`. Printed, never asserted.

// A benchmark measures real time; explore never does.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::time::Instant;

use wfsim_explore::plan::Plan;
use wfsim_explore::{Options, run_seeds};

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/explore/approval.yaml");
    let plan = match Plan::load(&path) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let seeds = 20_000;
    println!(
        "\nwfsim explore, engine level: fixtures/explore/approval.yaml (3 senders), {seeds} seeds"
    );
    let mut per_job = Vec::new();
    for jobs in [1, 2] {
        let options = Options {
            seeds: Some(seeds),
            jobs,
            ..Options::default()
        };
        // Warm-up, then the measured sweep.
        let _ = run_seeds(
            &path,
            &plan,
            &Options {
                seeds: Some(200),
                ..options.clone()
            },
        );
        let start = Instant::now();
        let outcomes = run_seeds(&path, &plan, &options).expect("the fixture explores");
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(outcomes.len() as u64, seeds);
        let rate = seeds as f64 / secs;
        per_job.push(rate);
        println!(
            "  --jobs {jobs}: {rate:>9.0} seeds/s ({:.1} µs per seed)",
            secs * 1e6 / seeds as f64
        );
    }
    println!("  --jobs 2 / --jobs 1: {:.2}×", per_job[1] / per_job[0]);
}
