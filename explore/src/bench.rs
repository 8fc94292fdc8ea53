//! `cargo xtask bench`'s explore rows, for either driver: seeds per second with `--jobs 1`
//! and `--jobs 2` (the median of rounds, on a machine others share), and the CPU time per
//! seed, which tells a `--jobs 2` ratio held down by the machine's free cores from one held
//! down by work that serializes. Wall and CPU time are read here and nowhere else in
//! explore: no report holds them.

// A benchmark measures real time; explore never does.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::time::Instant;

use crate::plan::{Invalid, Plan};
use crate::{Driver, Options, run_seeds_with};

/// This process's CPU time (user and system, every thread) in seconds, from
/// `/proc/self/stat` in clock ticks of 1/100 s (Linux's `USER_HZ`); `None` elsewhere.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses: state is the first,
    // utime the 12th, stime the 13th.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// The 1-minute load average, `None` where `/proc/loadavg` is not.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// One row: seeds per wall second, CPU µs per seed, and the cores the process had (CPU
/// seconds per wall second).
#[derive(Clone, Copy, Debug)]
pub struct Row {
    pub seeds_per_s: f64,
    pub cpu_us_per_seed: Option<f64>,
    pub cores_used: Option<f64>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `seeds` seeds of the file at `path` with `driver`, `rounds` times each with `--jobs`
/// 1 and 2 (after a warm-up), and prints the rows under `label`.
pub fn rows(
    label: &str,
    driver: &dyn Driver,
    path: &Path,
    seeds: u64,
    rounds: usize,
) -> Result<[Row; 2], Invalid> {
    let plan = Plan::load(path)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load = load_average().map_or(String::new(), |l| format!(", load average {l:.1}"));
    println!(
        "\nwfsim explore, {label}: {} ({} senders), {seeds} seeds, median of {rounds} rounds ({cores} cores{load})",
        path.file_name().unwrap_or_default().to_string_lossy(),
        plan.senders.len()
    );
    let mut out = Vec::new();
    for jobs in [1, 2] {
        let options = Options {
            seeds: Some(seeds),
            jobs,
            ..Options::default()
        };
        let warm = Options {
            seeds: Some((seeds / 10).max(1)),
            ..options.clone()
        };
        run_seeds_with(driver, path, &plan, &warm)?;
        let (mut rates, mut cpus, mut cores) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let cpu0 = cpu_seconds();
            let start = Instant::now();
            let outcomes = run_seeds_with(driver, path, &plan, &options)?;
            let wall = start.elapsed().as_secs_f64();
            if let Some(e) = outcomes.iter().find_map(|o| o.error.as_ref()) {
                return Err(Invalid(format!("a seed failed: {e}")));
            }
            rates.push(seeds as f64 / wall);
            if let (Some(a), Some(b)) = (cpu0, cpu_seconds()) {
                cpus.push((b - a) * 1e6 / seeds as f64);
                cores.push((b - a) / wall);
            }
        }
        let row = Row {
            seeds_per_s: median(rates),
            cpu_us_per_seed: (!cpus.is_empty()).then(|| median(cpus)),
            cores_used: (!cores.is_empty()).then(|| median(cores)),
        };
        let cpu = match (row.cpu_us_per_seed, row.cores_used) {
            (Some(c), Some(k)) => format!(", {c:.1} µs CPU per seed, {k:.2} cores used"),
            _ => String::new(),
        };
        println!("  --jobs {jobs}: {:>9.0} seeds/s{cpu}", row.seeds_per_s);
        out.push(row);
    }
    let ratio = out[1].seeds_per_s / out[0].seeds_per_s;
    let cpu = match (out[0].cpu_us_per_seed, out[1].cpu_us_per_seed) {
        (Some(a), Some(b)) => format!(
            "; CPU per seed ×{:.2} with 2 jobs (near 1: no work serializes; the ratio is then the cores the machine gave)",
            b / a
        ),
        _ => String::new(),
    };
    println!("  --jobs 2 / --jobs 1: {ratio:.2}×{cpu}");
    Ok([out[0], out[1]])
}
