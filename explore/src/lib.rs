//! `wfsim explore`: the user's own workflow under thousands of generated schedules
//! (SPEC §9, EXP-1 … EXP-6).
//!
//! An explore file ([`plan`]) is a scenario with an `explore:` section: senders that call
//! the workflow's endpoints at drawn times with drawn bodies, retrying on 429, 5xx and lost
//! answers; stub numbers drawn per seed; faults; and properties that must hold `always` or
//! `sometimes`. Each seed draws a [`schedule::Schedule`], runs it through the engine-level
//! runner, evaluates the properties, re-checks the contract ([`contract`]) and notes which
//! steps ran. A broken `always` is shrunk ([`shrink`]) and written as a scenario and a curl
//! script ([`repro`]). [`report`] prints it all, as text, JSON and lcov.
//!
//! Determinism: a seed's outcome depends on the file and the seed alone, so `--jobs` and
//! `--shard` never change a result, and the JSON report holds nothing from the wall clock.

pub mod bench;
pub mod contract;
pub mod cover;
mod draw;
pub mod fault;
pub mod plan;
pub mod progress;
mod read;
pub mod report;
pub mod repro;
pub mod schedule;
pub mod shard;
pub mod shrink;

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use wfsim_engine::coverage::Point;
use wfsim_engine::defn::Pos;
use wfsim_harness::property::{self, Property};

use crate::contract::Verdict;
use crate::plan::{Invalid, Plan};
use crate::schedule::{Executed, Schedule};

/// How to explore.
#[derive(Clone, Debug)]
pub struct Options {
    /// Seeds to run; `None`: the file's `seeds`, else 1000.
    pub seeds: Option<u64>,
    /// The first seed.
    pub seed: u64,
    /// Threads; results never depend on it.
    pub jobs: usize,
    /// `(k, n)`: only the seeds whose index is k-1 modulo n (1 ≤ k ≤ n).
    pub shard: Option<(u64, u64)>,
    /// Where reproducers are written (`explore-failures` under the current directory).
    pub out_dir: PathBuf,
    /// Called with (seeds done, seeds in all) while seeds run.
    pub progress: Option<fn(u64, u64)>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            seeds: None,
            seed: 0,
            jobs: 1,
            shard: None,
            out_dir: PathBuf::from(repro::DIR),
            progress: None,
        }
    }
}

/// How a schedule is played: [`EngineLevel`] here, or `--system` (the real server on the
/// madsim world, `wfsim-sim`'s `explore` module, which only builds under `--cfg madsim`).
/// Everything else (the draw, properties, contract, coverage, shrinking, the reproducer and
/// the report) is the same for both, so the two levels differ only where playing differs.
pub trait Driver: Sync {
    /// `engine` or `system`: the report says which ran.
    fn name(&self) -> &'static str;
    /// Plays `s`; `Err` when the seed could not be run (the report lists it).
    fn execute(&self, plan: &Plan, s: &Schedule) -> Result<Executed, String>;
}

/// The engine-level driver: `runner::run_with_services`, as `wfsim run` runs a scenario.
#[derive(Clone, Copy, Debug, Default)]
pub struct EngineLevel;

impl Driver for EngineLevel {
    fn name(&self) -> &'static str {
        "engine"
    }

    fn execute(&self, plan: &Plan, s: &Schedule) -> Result<Executed, String> {
        execute(plan, s)
    }
}

/// A child workflow's points one seed reached: (its file, a name it was started by, the
/// points).
pub type ChildReached = (String, String, Vec<(Pos, Point)>);

/// What one seed showed.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedOutcome {
    pub seed: u64,
    /// Per `always` property: `None` it held, else why not.
    pub always: Vec<Option<String>>,
    /// Per `sometimes` property: whether it was true.
    pub sometimes: Vec<bool>,
    /// The points of the workflow this seed reached.
    pub covered: Vec<(Pos, Point)>,
    /// The points of each child workflow it reached (HT-10), by file.
    pub children: Vec<ChildReached>,
    pub contract: Verdict,
    /// The seed could not be run (a stub did not parse) or the engine panicked.
    pub error: Option<String>,
    /// Server restarts applied (`--system`).
    pub restarts: u32,
}

/// Why `p` is not true of the run, or `None` when it is.
pub fn violation(p: &Property, vars: &property::Vars) -> Option<String> {
    match property::holds(p, vars) {
        Ok(true) => None,
        Ok(false) => Some(format!("{} is false", p.source)),
        Err(why) => Some(why),
    }
}

fn execute(plan: &Plan, s: &Schedule) -> Result<Executed, String> {
    match catch_unwind(AssertUnwindSafe(|| s.execute(plan, &plan.workflow))) {
        Ok(r) => r,
        Err(panic) => Err(format!(
            "the engine panicked: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)")
        )),
    }
}

/// Runs seed `seed` of `plan` at engine level.
pub fn run_seed(plan: &Plan, seed: u64) -> SeedOutcome {
    run_seed_with(&EngineLevel, plan, seed)
}

/// Runs seed `seed` of `plan` with `driver`.
pub fn run_seed_with(driver: &dyn Driver, plan: &Plan, seed: u64) -> SeedOutcome {
    let s = Schedule::draw(plan, seed);
    let mut out = SeedOutcome {
        seed,
        always: Vec::new(),
        sometimes: Vec::new(),
        covered: Vec::new(),
        children: Vec::new(),
        contract: Verdict::default(),
        error: None,
        restarts: 0,
    };
    let executed = match driver.execute(plan, &s) {
        Ok(e) => e,
        Err(why) => {
            out.error = Some(why);
            return out;
        }
    };
    let vars = property::named(&executed.run, plan.reads());
    out.always = plan.always.iter().map(|p| violation(p, &vars)).collect();
    out.sometimes = plan
        .sometimes
        .iter()
        .map(|p| property::holds(p, &vars) == Ok(true))
        .collect();
    out.covered =
        wfsim_engine::coverage::by_position(&plan.sites, &executed.run.execution.coverage())
            .into_keys()
            .collect();
    out.children = cover::children_passes(&executed.run, &plan.children)
        .into_iter()
        .map(|(file, (name, counts))| (file, name, counts.into_keys().collect()))
        .collect();
    out.contract = contract::check(&executed.run);
    out.restarts = executed.restarts.len() as u32;
    out
}

/// The seeds an exploration runs, in order.
pub fn seeds(plan_seeds: u64, options: &Options) -> Vec<u64> {
    let n = options.seeds.unwrap_or(plan_seeds);
    (0..n)
        .filter(|i| options.shard.is_none_or(|(k, of)| i % of == k - 1))
        .map(|i| options.seed.wrapping_add(i))
        .collect()
}

/// Runs every seed of the file at `path` at engine level: see [`run_seeds_with`].
pub fn run_seeds(path: &Path, plan: &Plan, options: &Options) -> Result<Vec<SeedOutcome>, Invalid> {
    run_seeds_with(&EngineLevel, path, plan, options)
}

/// Runs every seed of the file at `path` with `driver` on `options.jobs` threads, each with
/// its own reading of the file (a workflow is not shared across threads); outcomes in seed
/// order.
pub fn run_seeds_with(
    driver: &dyn Driver,
    path: &Path,
    plan: &Plan,
    options: &Options,
) -> Result<Vec<SeedOutcome>, Invalid> {
    let list = seeds(plan.seeds, options);
    let total = list.len() as u64;
    let jobs = options.jobs.max(1).min(list.len().max(1));
    if jobs == 1 {
        let mut out = Vec::with_capacity(list.len());
        for (i, &seed) in list.iter().enumerate() {
            out.push(run_seed_with(driver, plan, seed));
            if let Some(p) = options.progress {
                p(i as u64 + 1, total);
            }
        }
        return Ok(out);
    }
    let done = AtomicU64::new(0);
    let results: Vec<Result<Vec<(usize, SeedOutcome)>, Invalid>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|j| {
                let list = &list;
                let done = &done;
                scope.spawn(move || {
                    let plan = Plan::load(path)?;
                    let mut out = Vec::new();
                    for i in (j..list.len()).step_by(jobs) {
                        out.push((i, run_seed_with(driver, &plan, list[i])));
                        let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if let Some(p) = options.progress {
                            p(d, total);
                        }
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Invalid("a worker thread panicked".to_owned())))
            })
            .collect()
    });
    let mut all = Vec::with_capacity(list.len());
    for r in results {
        all.extend(r?);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, o)| o).collect())
}

/// Explores the file at `path` at engine level: see [`explore_with`].
pub fn explore(path: &Path, options: &Options) -> Result<report::Report, Invalid> {
    explore_with(&EngineLevel, path, options)
}

/// Explores the file at `path` with `driver`: runs the seeds, shrinks each broken `always`
/// property's first failing seed and writes its reproducer, and returns the report.
pub fn explore_with(
    driver: &dyn Driver,
    path: &Path,
    options: &Options,
) -> Result<report::Report, Invalid> {
    let plan = Plan::load(path)?;
    if let Some((k, n)) = options.shard {
        if n == 0 || k == 0 || k > n {
            return Err(Invalid(format!("--shard {k}/{n}: K/N needs 1 ≤ K ≤ N")));
        }
    }
    let outcomes = run_seeds_with(driver, path, &plan, options)?;
    let mut r = report::Report::collect(&plan, options, &outcomes, driver.name());
    let read = |p: &Path| std::fs::read(p).unwrap_or_default();
    r.inputs = shard::digest([read(path).as_slice(), read(&plan.workflow_path).as_slice()]);
    for (i, p) in plan.always.iter().enumerate() {
        let Some(seed) = r.properties[i].first_failure else {
            continue;
        };
        let found = Schedule::draw(&plan, seed);
        let fails = |e: &Executed| violation(p, &property::vars(&e.run)).is_some();
        let (small, runs) = shrink::shrink(&plan, driver, found, &fails);
        let Ok(executed) = driver.execute(&plan, &small) else {
            continue;
        };
        let stem = format!(
            "{}-always{}-seed{seed}",
            path.file_stem().unwrap_or_default().to_string_lossy(),
            i + 1
        );
        let text = repro::scenario_text(
            &plan,
            &small,
            &executed,
            ("always", p),
            &options.out_dir,
            driver.name(),
        );
        let services = repro::services_text(&plan, &small);
        let written = repro::write(&options.out_dir, &stem, &text, services, |yaml| {
            repro::curl_text(&plan, &small, &executed, yaml)
        })
        .map_err(|e| {
            Invalid(format!(
                "cannot write the reproducer under {}: {e}",
                options.out_dir.display()
            ))
        })?;
        r.properties[i].reproducer = Some(report::Reproducer {
            scenario: written.0,
            script: written.1,
            shrink_runs: runs,
            timeline: report::schedule_timeline(&plan, &small, &executed),
            why: violation(p, &property::vars(&executed.run)).unwrap_or_default(),
        });
    }
    Ok(r)
}

/// The points of the workflow reached by any outcome, with how many seeds reached each.
pub fn reached(outcomes: &[SeedOutcome]) -> std::collections::BTreeMap<(Pos, Point), u64> {
    let mut m = std::collections::BTreeMap::new();
    for o in outcomes {
        let set: BTreeSet<&(Pos, Point)> = o.covered.iter().collect();
        for k in set {
            *m.entry(*k).or_insert(0) += 1;
        }
    }
    m
}
