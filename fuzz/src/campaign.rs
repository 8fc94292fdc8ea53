//! A fuzzing run: replay the reproducers, then generate inputs on every job until the time
//! is up; minimise and save each new failure.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use wfsim_engine::defn::tree::{self, Syntax};
use wfsim_harness::scenario;

use crate::exec::Ran;
use crate::input::{Definition, Input};
use crate::mutate::{self, Context};
use crate::rand::Rand;
use crate::recipe::Recipe;
use crate::regress::{self, Reproducer};
use crate::supervisor::{Failure, FailureKind, Verdict, Worker};
use crate::{synth, values};

/// Wall time one input may take before it counts as a hang.
pub const INPUT_BUDGET: Duration = Duration::from_secs(2);
/// Wall time spent minimising one failure.
const MINIMISE_BUDGET: Duration = Duration::from_secs(10);
/// Mutated definitions the engine accepted, kept per job to mutate further.
const POOL_MAX: usize = 256;

/// The wall clock, for budgets and the run's length only: nothing generated depends on it.
#[allow(
    clippy::disallowed_methods,
    reason = "wall time bounds the run; inputs depend only on the seed"
)]
fn now() -> Instant {
    Instant::now()
}

/// A fixture to mutate: where it came from and the input it makes.
#[derive(Clone, Debug)]
pub struct Seed {
    pub origin: String,
    pub definition: Definition,
}

/// The fixtures, in path order: workflows; scenarios with the workflow each names; the
/// corpus cases with their execution argument.
pub fn load_seeds(root: &Path) -> Result<Vec<Seed>, String> {
    let fixtures = root.join("fixtures");
    let mut seeds = Vec::new();
    for path in files(&fixtures.join("workflows"), &["yaml", "json"])? {
        seeds.push(seed(&fixtures, &path, None, None)?);
    }
    for path in files(&fixtures.join("scenarios"), &["yaml"])? {
        let text = read(&path)?;
        let sc = scenario::parse(&String::from_utf8_lossy(&text))
            .map_err(|e| format!("{}: {}", path.display(), e.message))?;
        let workflow = path.parent().unwrap_or(&fixtures).join(&sc.workflow);
        let mut s = seed(&fixtures, &workflow, Some(text), None)?;
        s.origin = rel(&fixtures, &path);
        seeds.push(s);
    }
    for path in files(&fixtures.join("corpus/cases"), &["yaml"])? {
        let expected = path.with_extension("expected.json");
        let argument = fs::read_to_string(&expected)
            .ok()
            .and_then(|t| tree::parse(&t, Syntax::Json).ok())
            .and_then(|n| n.to_value().get("argument").cloned())
            .filter(|a| *a != wfsim_engine::Value::Null)
            .map(|a| Recipe::of_value(&a));
        seeds.push(seed(&fixtures, &path, None, argument)?);
    }
    Ok(seeds)
}

fn seed(
    fixtures: &Path,
    path: &Path,
    scenario: Option<Vec<u8>>,
    argument: Option<Recipe>,
) -> Result<Seed, String> {
    Ok(Seed {
        origin: rel(fixtures, path),
        definition: Definition {
            file: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            text: read(path)?,
            scenario,
            argument,
        },
    })
}

fn rel(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Files of `dir` with one of `exts`, sorted.
fn files(dir: &Path, exts: &[&str]) -> Result<Vec<PathBuf>, String> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            !name.ends_with(".expected.json")
                && p.extension().is_some_and(|x| exts.iter().any(|e| x == *e))
        })
        .collect();
    out.sort();
    Ok(out)
}

/// Appends the mutations applied to an origin (see [`regress::signature`]).
fn note(origin: &mut String, mutations: &[&str]) {
    for m in mutations {
        origin.push_str(regress::STEP);
        origin.push_str(m);
    }
}

/// One job's stream of inputs: library calls, template workflows, mutated fixtures, and
/// mutants of mutants the engine accepted.
#[derive(Debug)]
pub struct Generator<'a> {
    r: Rand,
    seeds: &'a [Seed],
    pool: Vec<(Definition, String)>,
}

impl<'a> Generator<'a> {
    pub fn new(seed: u64, job: u64, seeds: &'a [Seed]) -> Generator<'a> {
        Generator {
            r: Rand::new(seed, job),
            seeds,
            pool: Vec::new(),
        }
    }

    /// The next input and its origin.
    pub fn next_input(&mut self) -> (Input, String) {
        let r = &mut self.r;
        // Per mille. Growing loops are rare: most of them end in a budget overrun, which
        // costs as much as a thousand ordinary inputs.
        let roll = r.below(1000);
        if roll < 450 || self.seeds.is_empty() {
            return (
                Input::Stdlib(values::any_call(r)),
                "generated call".to_owned(),
            );
        }
        if roll < 600 {
            let (mut d, mut origin) = match roll {
                450..=454 => synth::grow(r),
                455..=474 => synth::recursion(r),
                475..=499 => synth::parallel_awaits(r),
                _ => synth::expression_workflow(r),
            };
            if r.chance(1, 3) {
                d.argument = Some(values::value(r, &[], 0));
            }
            if r.chance(1, 4) {
                let donor = &self.seeds[r.below(self.seeds.len())].definition.text;
                let cx = Context { donor, json: false };
                note(&mut origin, &mutate::mutate(r, &mut d.text, &cx));
            }
            return (Input::Definition(d), origin);
        }
        let (mut d, mut origin) = if !self.pool.is_empty() && r.chance(1, 3) {
            self.pool[r.below(self.pool.len())].clone()
        } else {
            let s = &self.seeds[r.below(self.seeds.len())];
            (s.definition.clone(), s.origin.clone())
        };
        let donor = &self.seeds[r.below(self.seeds.len())].definition.text;
        let json = Syntax::of_path(&d.file) == Syntax::Json;
        let target = match &mut d.scenario {
            Some(s) if r.chance(1, 3) => {
                origin.push_str(" (scenario)");
                s
            }
            _ => &mut d.text,
        };
        let cx = Context { donor, json };
        note(&mut origin, &mutate::mutate(r, target, &cx));
        if r.chance(1, 10) {
            d.argument = Some(values::value(r, &[], 0));
        }
        (Input::Definition(d), origin)
    }

    /// Keeps mutants the engine accepted, to mutate them further.
    pub fn accepted(&mut self, input: &Input, origin: &str) {
        let Input::Definition(d) = input else {
            return;
        };
        // Fixtures themselves are seeds already; heavy mutants are slow to run again.
        let mutations: Vec<&str> = origin.split(regress::STEP).skip(1).collect();
        let heavy = mutations
            .iter()
            .any(|m| mutate::by_name(m).is_some_and(|m| m.heavy));
        if mutations.is_empty() || heavy || d.text.len() > 64 << 10 || mutations.len() > 12 {
            return;
        }
        let entry = (d.clone(), origin.to_owned());
        if self.pool.len() < POOL_MAX {
            self.pool.push(entry);
        } else {
            let i = self.r.below(POOL_MAX);
            self.pool[i] = entry;
        }
    }
}

/// Whether `f` is the failure `first` again: same kind, and for a panic the same place.
fn same_failure(first: &Failure, f: &Failure) -> bool {
    f.kind == first.kind && f.location == first.location
}

/// Smaller inputs that may fail the same way, for [`minimise`].
fn candidates(input: &Input) -> Vec<Input> {
    let mut out = Vec::new();
    match input {
        Input::Definition(d) => {
            if d.scenario.is_some() {
                out.push(Input::Definition(Definition {
                    scenario: None,
                    ..d.clone()
                }));
            }
            if let Some(a) = &d.argument {
                out.push(Input::Definition(Definition {
                    argument: None,
                    ..d.clone()
                }));
                for smaller in a.shrink() {
                    out.push(Input::Definition(Definition {
                        argument: Some(smaller),
                        ..d.clone()
                    }));
                }
            }
            // Loop counts and sizes: the three largest numbers, halved.
            let mut numbers = numbers(&d.text);
            numbers.sort_by_key(|&(_, _, n)| std::cmp::Reverse(n));
            for &(s, e, n) in numbers.iter().take(3) {
                let mut text = d.text[..s].to_vec();
                text.extend_from_slice((n / 2).to_string().as_bytes());
                text.extend_from_slice(&d.text[e..]);
                out.push(Input::Definition(Definition { text, ..d.clone() }));
            }
            let lines = mutate::lines(&d.text);
            // The longest line alone, unindented: a deep `- - - …` or `[[[…` overflows
            // wherever it is.
            if let Some(&(s, e)) = lines
                .iter()
                .max_by_key(|(s, e)| e - s)
                .filter(|_| lines.len() > 1)
            {
                let line = &d.text[s..e];
                let indent = line.iter().take_while(|&&b| b == b' ').count();
                out.push(Input::Definition(Definition {
                    text: line[indent..].to_vec(),
                    ..d.clone()
                }));
            }
            // The longest line made shorter: cut to a half or three quarters, or with its
            // middle half or quarter taken out, which keeps both ends (`'${1+1+…+1}'`
            // cut at the end would leave its quote open). Deep `- - - …` or `[[[…` lines
            // get shallower.
            if let Some(&(s, e)) = lines
                .iter()
                .max_by_key(|(s, e)| e - s)
                .filter(|(s, e)| e - s > 64)
            {
                let n = e - s;
                for (keep, resume) in [
                    (n / 2, n),
                    (n * 3 / 4, n),
                    (n / 4, n * 3 / 4),
                    (n * 3 / 8, n * 5 / 8),
                ] {
                    let mut text = d.text[..s + keep].to_vec();
                    if resume == n {
                        text.push(b'\n');
                    }
                    text.extend_from_slice(&d.text[s + resume..]);
                    out.push(Input::Definition(Definition { text, ..d.clone() }));
                }
            }
            let mut chunk = lines.len() / 2;
            while chunk >= 1 {
                for start in (0..lines.len()).step_by(chunk) {
                    let end = (start + chunk).min(lines.len());
                    let mut text = d.text[..lines[start].0].to_vec();
                    text.extend_from_slice(&d.text[lines[end - 1].1..]);
                    out.push(Input::Definition(Definition { text, ..d.clone() }));
                }
                chunk /= 2;
            }
            if d.text.len() > 64 {
                out.push(Input::Definition(Definition {
                    text: d.text[..d.text.len() / 2].to_vec(),
                    ..d.clone()
                }));
            }
        }
        Input::Stdlib(c) => {
            for (i, arg) in c.args.iter().enumerate() {
                let Some(arg) = arg else { continue };
                for smaller in arg.shrink() {
                    let mut args = c.args.clone();
                    args[i] = Some(smaller);
                    out.push(Input::Stdlib(crate::input::StdlibCall {
                        args,
                        ..c.clone()
                    }));
                }
            }
        }
        Input::Probe(_) => {}
    }
    out
}

/// Decimal numbers of two digits or more in `text`: start, end, value.
fn numbers(text: &[u8]) -> Vec<(usize, usize, u64)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        if !text[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < text.len() && text[i].is_ascii_digit() {
            i += 1;
        }
        let digits = std::str::from_utf8(&text[start..i]).unwrap_or_default();
        if let Ok(n) = digits.parse::<u64>() {
            if n >= 10 && !(start > 0 && text[start - 1].is_ascii_alphabetic()) {
                out.push((start, i, n));
            }
        }
    }
    out
}

/// Greedily replaces the input by the first smaller one that still fails the same way,
/// within a budget of time and attempts (a hang costs two input budgets per attempt), and
/// not past `deadline`, the end of the run: an input is saved as found if need be.
pub fn minimise(
    worker: &mut Worker,
    input: Input,
    failure: Failure,
    budget: Duration,
    deadline: Instant,
) -> (Input, Failure) {
    let stop = deadline.min(now() + MINIMISE_BUDGET);
    let mut attempts = match failure.kind {
        // A hang costs a whole input budget per attempt, a memory overrun about half a
        // second; a panic or a dead worker a few milliseconds.
        FailureKind::Hang => 3,
        FailureKind::Memory => 40,
        _ => 300,
    };
    // A smaller hang must hang for twice the budget: one just over it would pass when the
    // machine is less busy than it was while minimising, and not reproduce.
    let attempt_budget = if failure.kind == FailureKind::Hang {
        budget * 2
    } else {
        budget
    };
    let (mut input, mut failure) = (input, failure);
    'outer: loop {
        for c in candidates(&input) {
            if attempts == 0 || now() > stop {
                break 'outer;
            }
            attempts -= 1;
            if let Ok(Verdict::Fail(f)) = worker.run(&c, attempt_budget) {
                if same_failure(&failure, &f) {
                    input = c;
                    failure = f;
                    continue 'outer;
                }
            }
        }
        break;
    }
    (input, failure)
}

/// How to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// The project root: fixtures are read, and reproducers written, under it.
    pub root: PathBuf,
    /// The fuzz binary, started as `exe worker`.
    pub exe: PathBuf,
    pub seconds: u64,
    pub seed: u64,
    pub jobs: usize,
    pub budget: Duration,
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Summary {
    pub inputs: u64,
    pub elapsed: Duration,
    /// Wall time jobs spent minimising new failures, summed over jobs.
    pub minimising: Duration,
    /// Every failing input, duplicates included, by kind and by signature.
    pub by_kind: BTreeMap<FailureKind, u64>,
    pub by_signature: BTreeMap<String, u64>,
    /// Reproducers written by this run, with where.
    pub new: Vec<(String, Reproducer)>,
    /// Reproducers that still fail, and how.
    pub still_failing: Vec<(String, Failure)>,
    /// Inputs the worker could not read or build: a fuzzer bug.
    pub invalid: Vec<String>,
    /// Inputs over the time budget once, but not when run again with twice the budget:
    /// slow on a busy machine, not counted as failures.
    pub unconfirmed: u64,
}

impl Summary {
    pub fn failed(&self) -> bool {
        !self.by_kind.is_empty() || !self.still_failing.is_empty() || !self.invalid.is_empty()
    }
}

/// Replays one reproducer file.
pub fn replay(
    worker: &mut Worker,
    path: &Path,
    budget: Duration,
) -> Result<(Reproducer, Verdict), String> {
    let rep = Reproducer::read(path)?;
    let verdict = worker.run(&rep.input, budget)?;
    Ok((rep, verdict))
}

#[derive(Debug, Default)]
struct Shared {
    /// Signatures with a reproducer that fails, from the directory or from this run.
    known: BTreeSet<String>,
    summary: Summary,
}

/// The whole run: replays, then `jobs` threads generating until `seconds` have passed.
pub fn run(opts: &Options) -> Result<Summary, String> {
    let dir = opts.root.join(regress::DIR);
    let mut shared = Shared::default();
    let reproducers = regress::list(&dir)?;
    if !reproducers.is_empty() {
        println!(
            "replaying {} reproducers from {}",
            reproducers.len(),
            regress::DIR
        );
    }
    let mut worker = Worker::new(&opts.exe);
    for path in &reproducers {
        let name = rel_name(&opts.root, path);
        match replay(&mut worker, path, opts.budget)? {
            (rep, Verdict::Fail(f)) => {
                println!("  still fails: {name}: {f}");
                shared.known.insert(rep.signature.clone());
                shared.summary.still_failing.push((name, f));
            }
            (_, Verdict::Invalid(why)) => {
                return Err(format!("{name}: the worker cannot run it: {why}"));
            }
            (_, Verdict::Pass(_)) => println!("  passes now: {name}"),
        }
    }
    drop(worker);
    let seeds = load_seeds(&opts.root)?;
    println!(
        "fuzzing for {} s: seed {}, {} jobs, {} fixtures, {} functions",
        opts.seconds,
        opts.seed,
        opts.jobs,
        seeds.len(),
        wfsim_engine::stdlib::table::FUNCTIONS.len()
    );
    let shared = Mutex::new(shared);
    let started = now();
    let deadline = started + Duration::from_secs(opts.seconds);
    let results: Vec<Result<u64, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..opts.jobs)
            .map(|job| {
                let (seeds, shared) = (&seeds, &shared);
                s.spawn(move || fuzz_job(opts, job as u64, seeds, deadline, shared))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a job panicked".into())))
            .collect()
    });
    let mut summary = shared.into_inner().map_err(|_| "a job panicked")?.summary;
    summary.elapsed = now().duration_since(started);
    for r in results {
        summary.inputs += r?;
    }
    summary.new.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(summary)
}

fn rel_name(root: &Path, path: &Path) -> String {
    rel(root, path)
}

fn fuzz_job(
    opts: &Options,
    job: u64,
    seeds: &[Seed],
    deadline: Instant,
    shared: &Mutex<Shared>,
) -> Result<u64, String> {
    let mut worker = Worker::new(&opts.exe);
    let mut generator = Generator::new(opts.seed, job, seeds);
    let mut n = 0u64;
    while now() < deadline {
        let (input, origin) = generator.next_input();
        n += 1;
        let failure = match worker.run(&input, opts.budget)? {
            Verdict::Pass(Ran::Accepted) => {
                generator.accepted(&input, &origin);
                continue;
            }
            Verdict::Pass(Ran::Refused) => continue,
            Verdict::Invalid(why) => {
                let mut sh = shared.lock().map_err(|_| "poisoned")?;
                if sh.summary.invalid.len() < 10 {
                    sh.summary.invalid.push(format!("{origin}: {why}"));
                }
                continue;
            }
            Verdict::Fail(f) => f,
        };
        let mut sig = regress::signature(&input, &failure, &origin);
        let mut fresh = shared
            .lock()
            .map_err(|_| "poisoned")?
            .known
            .insert(sig.clone());
        // A new hang must fail again with twice the budget: one just over it, on a busy
        // machine, would make a reproducer that passes. (It may fail otherwise the second
        // time: a loop that fills memory slowly hangs first, then runs out.)
        let mut failure = failure;
        if failure.kind == FailureKind::Hang && fresh {
            let again = worker.run(&input, opts.budget * 2)?;
            let mut sh = shared.lock().map_err(|_| "poisoned")?;
            let Verdict::Fail(again) = again else {
                sh.known.remove(&sig);
                sh.summary.unconfirmed += 1;
                continue;
            };
            if !same_failure(&failure, &again) {
                sh.known.remove(&sig);
                sig = regress::signature(&input, &again, &origin);
                fresh = sh.known.insert(sig.clone());
            }
            failure = again;
        }
        {
            let mut sh = shared.lock().map_err(|_| "poisoned")?;
            *sh.summary.by_kind.entry(failure.kind).or_default() += 1;
            *sh.summary.by_signature.entry(sig.clone()).or_default() += 1;
        }
        if !fresh {
            continue;
        }
        println!("job {job}, input {n}: {failure} ({sig}); minimising");
        let t0 = now();
        let (input, failure) = minimise(&mut worker, input, failure, opts.budget, deadline);
        let spent = now().duration_since(t0);
        let rep = Reproducer {
            input,
            failure,
            signature: sig,
            origin,
            found_by: format!("seed {}, job {job}, input {n}", opts.seed),
        };
        let path = regress::save(&opts.root, &rep)?;
        println!("  saved {path}");
        let mut sh = shared.lock().map_err(|_| "poisoned")?;
        sh.summary.new.push((path, rep));
        sh.summary.minimising += spent;
    }
    Ok(n)
}

/// The report printed at the end of a run.
pub fn report(s: &Summary, jobs: usize) -> String {
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    let mut out = format!(
        "{} inputs in {:.1} s on {jobs} jobs: {:.0} inputs/s ({:.1} job-seconds of it minimising new failures)\n",
        s.inputs,
        secs,
        s.inputs as f64 / secs,
        s.minimising.as_secs_f64()
    );
    let kinds: Vec<String> = FailureKind::ALL
        .iter()
        .map(|k| format!("{} {}", k.name(), s.by_kind.get(k).copied().unwrap_or(0)))
        .collect();
    out.push_str(&format!("failing inputs by kind: {}\n", kinds.join(", ")));
    for (sig, n) in &s.by_signature {
        out.push_str(&format!("  {n:>6}  {sig}\n"));
    }
    if s.unconfirmed > 0 {
        out.push_str(&format!(
            "{} inputs went over the time budget once but not on a second run with twice \
             the budget: not counted\n",
            s.unconfirmed
        ));
    }
    if !s.still_failing.is_empty() {
        out.push_str(&format!(
            "{} reproducers still fail:\n",
            s.still_failing.len()
        ));
        for (name, f) in &s.still_failing {
            out.push_str(&format!("  {name}: {f}\n"));
        }
    }
    if s.new.is_empty() {
        out.push_str("no new failures\n");
    } else {
        out.push_str(&format!("{} new failures:\n", s.new.len()));
        for (path, rep) in &s.new {
            out.push_str(&format!(
                "  {path}\n    {}\n    replay: cargo xtask fuzz --replay {path}\n",
                rep.failure
            ));
        }
    }
    for why in &s.invalid {
        out.push_str(&format!(
            "the worker could not run an input (a fuzzer bug): {why}\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    #[test]
    fn seeds_are_every_fixture_in_order() {
        let seeds = load_seeds(&root()).unwrap();
        let origins: Vec<&str> = seeds.iter().map(|s| s.origin.as_str()).collect();
        assert!(origins.contains(&"workflows/basic_callback.json"));
        assert!(origins.contains(&"scenarios/basic_callback.yaml"));
        assert!(
            origins
                .iter()
                .filter(|o| o.starts_with("corpus/cases/"))
                .count()
                > 100
        );
        let sc = seeds
            .iter()
            .find(|s| s.origin == "scenarios/basic_callback.yaml")
            .unwrap();
        assert_eq!(sc.definition.file, "basic_callback.yaml");
        assert!(sc.definition.scenario.is_some());
        let args = seeds
            .iter()
            .find(|s| s.origin == "corpus/cases/gcs_args.yaml")
            .unwrap();
        assert!(args.definition.argument.is_some());
        assert!(!origins.iter().any(|o| o.ends_with(".expected.json")));
    }

    #[test]
    fn generation_repeats_from_the_seed_and_mixes_kinds() {
        let seeds = load_seeds(&root()).unwrap();
        let take = |seed| {
            let mut g = Generator::new(seed, 0, &seeds);
            (0..300).map(|_| g.next_input()).collect::<Vec<_>>()
        };
        let a = take(5);
        assert_eq!(
            a.iter()
                .map(|(i, o)| (i.encode(), o.clone()))
                .collect::<Vec<_>>(),
            take(5)
                .iter()
                .map(|(i, o)| (i.encode(), o.clone()))
                .collect::<Vec<_>>()
        );
        let kinds: BTreeSet<&str> = a.iter().map(|(i, _)| i.kind()).collect();
        assert_eq!(kinds, BTreeSet::from(["definition", "stdlib"]));
        assert!(a.iter().any(|(_, o)| o.starts_with("synth")));
        assert!(a.iter().any(|(_, o)| o.contains("(scenario)")));
    }

    #[test]
    fn candidates_are_smaller() {
        let d = Input::Definition(Definition {
            file: "a.yaml".into(),
            text: b"a: 1\nb: 2\nc: 3\nd: 4\n".to_vec(),
            scenario: Some(b"x".to_vec()),
            argument: Some(Recipe::Int(1)),
        });
        let cs = candidates(&d);
        assert!(
            cs.iter()
                .all(|c| matches!(c, Input::Definition(x) if x.text.len() <= 20))
        );
        assert!(
            cs.iter()
                .any(|c| matches!(c, Input::Definition(x) if x.text == b"c: 3\nd: 4\n"))
        );
        assert!(
            cs.iter()
                .any(|c| matches!(c, Input::Definition(x) if x.text == b"a: 1\nb: 2\nc: 3\n"))
        );
        let loop_count = Input::Definition(Definition {
            file: "a.yaml".into(),
            text: b"range: [1, 40000]\nx1: 3\n".to_vec(),
            scenario: None,
            argument: None,
        });
        assert!(
            candidates(&loop_count).iter().any(
                |c| matches!(c, Input::Definition(x) if x.text == b"range: [1, 20000]\nx1: 3\n")
            )
        );
        assert_eq!(numbers(b"a12 34 5 x 678"), [(4, 6, 34), (11, 14, 678)]);
        let long = format!("a:\n  b: '${{{}1}}'\n", "1+".repeat(100));
        let long = Input::Definition(Definition {
            file: "a.yaml".into(),
            text: long.into_bytes(),
            scenario: None,
            argument: None,
        });
        let middle_out = format!("a:\n  b: '${{{}1}}'\n", "1+".repeat(50));
        assert!(candidates(&long).iter().any(
            |c| matches!(c, Input::Definition(x) if x.text.ends_with(b"+1}'\n") && x.text.len() < middle_out.len() + 4)
        ));
    }
}
