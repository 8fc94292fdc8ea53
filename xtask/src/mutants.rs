//! `cargo xtask mutants [--file F]… [--re REGEX]… [--in-diff REV] [--minutes M] [--jobs J]
//! [--shard K/N] [--test-package P]… [--output DIR]`: mutation testing with cargo-mutants
//! (installed if missing), with the project's settings in `.cargo/mutants.toml`, and a report
//! per file. `cargo xtask mutants --report DIR…` prints one report of runs already made (the
//! shards of one target, say, run one after another or at once with different `--output`s).
//!
//! Every mutant is judged by the whole workspace's tests unless `--test-package` names the
//! packages whose tests judge instead (a narrower set, for a target whose behaviour those
//! packages state: fewer builds and tests per mutant, and a score that can only be lower
//! than the workspace's). The report names which tests judged.
//!
//! A mutant that survives is a behaviour no test states. Some mutants change no behaviour
//! (removing an assertion, say): those are listed, with a reason each, in
//! `.cargo/mutants-equivalent.txt` and counted apart, never skipped. The score is over the
//! behaviour-changing mutants: (caught + timeout) / (caught + missed + timeout), where a
//! timeout is a mutant that made the tests hang, so they noticed.

// Wall time bounds the run; it reaches no trace or report of the engine.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::project_root;

/// The cargo-mutants release the settings are written for.
const CARGO_MUTANTS_VERSION: &str = "27.1.0";
/// Known-equivalent mutants: `file | mutation | reason`, one per line.
pub const EQUIVALENT: &str = ".cargo/mutants-equivalent.txt";

#[derive(Debug, Default, PartialEq)]
pub struct Options {
    pub files: Vec<String>,
    pub in_diff: Option<String>,
    /// Stop after this long and report what was tested (CI's bound).
    pub minutes: Option<u64>,
    /// Mutants built and tested at once (cargo-mutants' `--jobs`).
    pub jobs: Option<u32>,
    /// `K/N`: every Nth mutant from the Kth, a sample for an estimate in 1/N of the time.
    pub shard: Option<String>,
    /// Packages whose tests judge every mutant, instead of the whole workspace's.
    pub test_packages: Vec<String>,
    /// Only mutants whose names match one of these (cargo-mutants' `--re`): a re-check.
    pub regexes: Vec<String>,
    /// Where cargo-mutants writes its outcomes (default `target/mutants`), so runs can
    /// proceed at once.
    pub output: Option<String>,
    /// Runs to report on, instead of running: the `--output` folders of earlier runs. A
    /// mutant found in several is counted once, as the last folder given has it; a mutant is
    /// its file, position and mutation, so a re-check after an edit above it is another one.
    pub reports: Vec<String>,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut o = Options::default();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = || it.next().cloned().ok_or(format!("{a} needs a value"));
            match a.as_str() {
                "--file" | "-f" => o.files.push(value()?),
                "--in-diff" => o.in_diff = Some(value()?),
                "--minutes" => {
                    let v = value()?;
                    o.minutes = Some(v.parse().map_err(|_| format!("--minutes {v}: a number"))?);
                }
                "--shard" => o.shard = Some(value()?),
                "--test-package" | "-p" => o.test_packages.push(value()?),
                "--re" => o.regexes.push(value()?),
                "--output" | "-o" => o.output = Some(value()?),
                "--report" => o.reports.push(value()?),
                "--jobs" | "-j" => {
                    let v = value()?;
                    o.jobs = Some(v.parse().map_err(|_| format!("--jobs {v}: a number"))?);
                }
                other => return Err(format!("mutants: unknown option '{other}'")),
            }
        }
        if !o.reports.is_empty()
            && o != (Options {
                reports: o.reports.clone(),
                ..Options::default()
            })
        {
            return Err("mutants: --report reads earlier runs and takes no other option".into());
        }
        Ok(o)
    }
}

pub fn run(args: &[String]) -> Result<(), String> {
    let opts = Options::parse(args)?;
    let root = project_root();
    if !opts.reports.is_empty() {
        return report(&root, &opts.reports);
    }
    ensure_installed()?;
    let out = root.join(opts.output.as_deref().unwrap_or("target/mutants"));
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut cmd = Command::new(crate::cargo_bin());
    cmd.current_dir(&root)
        .args(["mutants", "--no-shuffle", "--output"])
        .arg(&out);
    for f in &opts.files {
        cmd.args(["--file", f]);
    }
    if let Some(j) = opts.jobs {
        cmd.args(["--jobs", &j.to_string()]);
    }
    if let Some(shard) = &opts.shard {
        cmd.args(["--shard", shard, "--sharding", "round-robin"]);
    }
    // On cargo-mutants' command line, `--test-package` overrides the settings'
    // `test_workspace = true`.
    for p in &opts.test_packages {
        cmd.args(["--test-package", p]);
    }
    for r in &opts.regexes {
        cmd.args(["--re", r]);
    }
    if let Some(rev) = &opts.in_diff {
        let diff = git_diff(&root, rev)?;
        if diff.trim().is_empty() {
            println!("mutants: no change since {rev}: nothing to mutate");
            return Ok(());
        }
        let patch = out.join("in-diff.patch");
        fs::write(&patch, diff).map_err(|e| format!("{}: {e}", patch.display()))?;
        cmd.arg("--in-diff").arg(&patch);
    }
    eprintln!("$ {cmd:?}");
    let mut child = cmd
        .stdout(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("could not start cargo mutants: {e}"))?;
    let deadline = opts
        .minutes
        .map(|m| Instant::now() + Duration::from_secs(m * 60));
    let mut stopped_early = false;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            // cargo-mutants exits non-zero when a mutant survives; the report judges.
            if !matches!(status.code(), Some(0..=3)) {
                return Err(format!("cargo mutants failed ({status})"));
            }
            break;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            interrupt(&mut child);
            stopped_early = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let outcomes = read_outcomes(&out.join("mutants.out/outcomes.json"))?;
    let equivalent = read_equivalent(&root.join(EQUIVALENT))?;
    let report = Report::new(&outcomes, &equivalent);
    println!("\njudged by: {}", judges(&opts));
    if let Some(shard) = &opts.shard {
        println!("sample: shard {shard} (round-robin), not the whole target");
    }
    print!("{}", report.render());
    if stopped_early {
        println!(
            "mutants: stopped after {} minutes (--minutes): the list above is what was tested",
            opts.minutes.unwrap_or_default()
        );
    }
    report.verdict()
}

/// The outcomes of several runs, each mutant once, as the last run that tested it says.
fn latest(runs: Vec<Vec<Outcome>>) -> Vec<Outcome> {
    let mut by_mutant: BTreeMap<(String, u64, u64, String), Outcome> = BTreeMap::new();
    for o in runs.into_iter().flatten() {
        by_mutant.insert((o.file.clone(), o.line, o.col, o.mutation.clone()), o);
    }
    by_mutant.into_values().collect()
}

/// `--report DIR…`: one report of earlier runs, each mutant counted once (as the last
/// folder that tested it says).
fn report(root: &Path, dirs: &[String]) -> Result<(), String> {
    let mut runs = Vec::new();
    for dir in dirs {
        let path = root.join(dir).join("mutants.out/outcomes.json");
        if !path.is_file() {
            return Err(format!(
                "{}: no outcomes here (not a run's --output)",
                path.display()
            ));
        }
        runs.push(read_outcomes(&path)?);
    }
    let outcomes = latest(runs);
    let report = Report::new(&outcomes, &read_equivalent(&root.join(EQUIVALENT))?);
    println!("runs: {}", dirs.join(", "));
    print!("{}", report.render());
    report.verdict()
}

/// Stops cargo-mutants as Ctrl-C would: it then stops the build or test it runs and removes
/// its copy of the tree (a `SIGKILL` would leave both behind, the copy gigabytes of build
/// output). Killed outright if it has not stopped in a minute.
fn interrupt(child: &mut Child) {
    let signalled = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    if signalled {
        let give_up = Instant::now() + Duration::from_secs(60);
        while Instant::now() < give_up {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Whose tests judged the mutants, for the report.
fn judges(opts: &Options) -> String {
    if opts.test_packages.is_empty() {
        "the whole workspace's tests (test_workspace = true)".to_owned()
    } else {
        format!("the tests of {} only", opts.test_packages.join(", "))
    }
}

fn ensure_installed() -> Result<(), String> {
    let found = Command::new(crate::cargo_bin())
        .args(["mutants", "--version"])
        .output()
        .map(|o| {
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains(CARGO_MUTANTS_VERSION)
        })
        .unwrap_or(false);
    if found {
        return Ok(());
    }
    crate::cargo(
        &[
            "install",
            "--locked",
            "cargo-mutants",
            "--version",
            CARGO_MUTANTS_VERSION,
        ],
        &[],
    )
}

/// The diff from `rev` to the work tree, as `git diff` prints it.
fn git_diff(root: &Path, rev: &str) -> Result<String, String> {
    let out = Command::new("git")
        .args(["diff", rev, "--"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("could not run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git diff {rev}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// One tested mutant.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub file: String,
    pub line: u64,
    pub col: u64,
    /// What it did, as cargo-mutants names it without the position: `replace += with *= in
    /// Interp::run_retrying`.
    pub mutation: String,
    pub summary: Summary,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Summary {
    Caught,
    Missed,
    Timeout,
    Unviable,
}

/// The mutants cargo-mutants tested, from its `outcomes.json` (the baseline left out).
pub fn read_outcomes(path: &Path) -> Result<Vec<Outcome>, String> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let json: Json = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for o in json["outcomes"].as_array().into_iter().flatten() {
        let Some(m) = o["scenario"].get("Mutant") else {
            continue; // the baseline
        };
        let summary = match o["summary"].as_str() {
            Some("CaughtMutant") => Summary::Caught,
            Some("MissedMutant") => Summary::Missed,
            Some("Timeout") => Summary::Timeout,
            Some("Unviable") => Summary::Unviable,
            _ => continue,
        };
        let name = m["name"].as_str().unwrap_or_default();
        out.push(Outcome {
            file: m["file"].as_str().unwrap_or_default().to_owned(),
            line: m["span"]["start"]["line"].as_u64().unwrap_or(0),
            col: m["span"]["start"]["column"].as_u64().unwrap_or(0),
            mutation: mutation_of(name),
            summary,
        });
    }
    Ok(out)
}

/// `engine/src/x.rs:12:5: replace a with b` → `replace a with b`.
fn mutation_of(name: &str) -> String {
    let mut rest = name;
    for _ in 0..3 {
        match rest.split_once(':') {
            Some((_, r)) => rest = r,
            None => return name.trim().to_owned(),
        }
    }
    rest.trim().to_owned()
}

/// Known-equivalent mutants: a file, a mutation (`replace f with ()`; or `* in f`, every
/// mutation inside function `f`), and why it changes nothing observable.
#[derive(Debug, Default)]
pub struct Equivalents {
    entries: Vec<(String, String, String)>,
}

impl Equivalents {
    /// Why mutant `mutation` of `file` is equivalent, if it is listed.
    fn reason(&self, file: &str, mutation: &str) -> Option<&str> {
        self.entries.iter().find_map(|(f, m, reason)| {
            let matches = match m.strip_prefix("* ") {
                Some(suffix) => mutation.ends_with(suffix),
                None => mutation == m,
            };
            (f == file && matches).then_some(reason.as_str())
        })
    }
}

/// The equivalents file; positions are left out so that an entry survives edits above it.
pub fn read_equivalent(path: &Path) -> Result<Equivalents, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_equivalent(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn parse_equivalent(text: &str) -> Result<Equivalents, String> {
    let mut out = Equivalents::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.splitn(3, '|').map(str::trim).collect();
        match parts[..] {
            [file, mutation, reason] if !reason.is_empty() => {
                out.entries
                    .push((file.to_owned(), mutation.to_owned(), reason.to_owned()));
            }
            _ => {
                return Err(format!(
                    "line {}: want `file | mutation | reason`, got `{line}`",
                    i + 1
                ));
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Default, PartialEq)]
struct FileRow {
    caught: u32,
    missed: u32,
    timeout: u32,
    unviable: u32,
    equivalent: u32,
}

impl FileRow {
    /// Caught share of the behaviour-changing mutants; `None` when there are none.
    fn score(&self) -> Option<f64> {
        let changing = self.caught + self.missed + self.timeout;
        (changing > 0).then(|| f64::from(self.caught + self.timeout) / f64::from(changing))
    }
}

#[derive(Debug)]
pub struct Report {
    rows: BTreeMap<String, FileRow>,
    /// `file:line:col: mutation`, missed and not known-equivalent.
    pub survivors: Vec<String>,
    equivalents: Vec<String>,
}

impl Report {
    pub fn new(outcomes: &[Outcome], equivalent: &Equivalents) -> Report {
        let mut rows: BTreeMap<String, FileRow> = BTreeMap::new();
        let mut survivors = Vec::new();
        let mut equivalents = Vec::new();
        for o in outcomes {
            let row = rows.entry(o.file.clone()).or_default();
            let at = format!("{}:{}:{}: {}", o.file, o.line, o.col, o.mutation);
            let known = equivalent.reason(&o.file, &o.mutation);
            match (o.summary, known) {
                (Summary::Missed | Summary::Caught | Summary::Timeout, Some(reason)) => {
                    row.equivalent += 1;
                    equivalents.push(format!("{at}  ({reason})"));
                }
                (Summary::Caught, None) => row.caught += 1,
                (Summary::Timeout, None) => row.timeout += 1,
                (Summary::Unviable, _) => row.unviable += 1,
                (Summary::Missed, None) => {
                    row.missed += 1;
                    survivors.push(at);
                }
            }
        }
        Report {
            rows,
            survivors,
            equivalents,
        }
    }

    pub fn render(&self) -> String {
        let mut s = String::from(
            "\nfile                                    caught missed timeout unviable equivalent  score\n",
        );
        let mut total = FileRow::default();
        for (file, r) in &self.rows {
            s += &row_line(file, r);
            total.caught += r.caught;
            total.missed += r.missed;
            total.timeout += r.timeout;
            total.unviable += r.unviable;
            total.equivalent += r.equivalent;
        }
        s += &row_line("all", &total);
        if !self.equivalents.is_empty() {
            s += &format!("\nknown equivalent ({EQUIVALENT}):\n");
            for e in &self.equivalents {
                s += &format!("  {e}\n");
            }
        }
        if !self.survivors.is_empty() {
            s += "\nsurvivors (behaviour no test states):\n";
            for e in &self.survivors {
                s += &format!("  {e}\n");
            }
        }
        s
    }

    /// Fails when a behaviour-changing mutant survived.
    fn verdict(&self) -> Result<(), String> {
        if self.survivors.is_empty() {
            return Ok(());
        }
        Err(format!(
            "{} behaviour-changing mutants survived: state the behaviour in a test, or, if the \
             mutant changes nothing observable, list it in {EQUIVALENT} with the reason",
            self.survivors.len()
        ))
    }
}

fn row_line(file: &str, r: &FileRow) -> String {
    let score = r
        .score()
        .map_or("-".to_owned(), |x| format!("{:.1}%", x * 100.0));
    format!(
        "{file:<40} {:>6} {:>6} {:>7} {:>8} {:>10} {score:>6}\n",
        r.caught, r.missed, r.timeout, r.unviable, r.equivalent
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(file: &str, mutation: &str, summary: Summary) -> Outcome {
        Outcome {
            file: file.into(),
            line: 3,
            col: 9,
            mutation: mutation.into(),
            summary,
        }
    }

    #[test]
    fn names_lose_their_position() {
        assert_eq!(
            mutation_of("engine/src/a.rs:12:5: replace a::b -> bool with true"),
            "replace a::b -> bool with true"
        );
    }

    #[test]
    fn the_equivalents_file_needs_a_reason() {
        let ok = parse_equivalent(
            "# c\n\nengine/src/a.rs | replace f with () | only asserts\na.rs | * in g | g only asserts\n",
        )
        .unwrap();
        assert_eq!(
            ok.reason("engine/src/a.rs", "replace f with ()"),
            Some("only asserts")
        );
        assert_eq!(
            ok.reason("a.rs", "replace == with != in g"),
            Some("g only asserts")
        );
        assert_eq!(ok.reason("a.rs", "replace == with != in h"), None);
        assert_eq!(ok.reason("b.rs", "replace f with ()"), None);
        assert!(parse_equivalent("engine/src/a.rs | replace f with ()\n").is_err());
        assert!(parse_equivalent("engine/src/a.rs | replace f with () | \n").is_err());
    }

    #[test]
    fn survivors_fail_and_equivalents_are_counted_apart() {
        let eq = parse_equivalent("a.rs | replace f with () | only asserts\n").unwrap();
        let outcomes = [
            outcome("a.rs", "replace f with ()", Summary::Missed),
            outcome("a.rs", "replace + with -", Summary::Caught),
            outcome("a.rs", "replace g -> bool with true", Summary::Missed),
            outcome("a.rs", "replace h with ()", Summary::Timeout),
            outcome("b.rs", "replace k with ()", Summary::Unviable),
        ];
        let r = Report::new(&outcomes, &eq);
        assert_eq!(r.survivors, ["a.rs:3:9: replace g -> bool with true"]);
        let a = &r.rows["a.rs"];
        assert_eq!((a.caught, a.missed, a.timeout, a.equivalent), (1, 1, 1, 1));
        assert_eq!(a.score(), Some(2.0 / 3.0));
        assert_eq!(r.rows["b.rs"].score(), None);
        let text = r.render();
        assert!(text.contains("66.7%"), "{text}");
        assert!(text.contains("only asserts"), "{text}");
    }

    #[test]
    fn options() {
        let args: Vec<String> = [
            "--file",
            "engine/src/a.rs",
            "--in-diff",
            "HEAD~1",
            "--minutes",
            "8",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            Options::parse(&args),
            Ok(Options {
                files: vec!["engine/src/a.rs".into()],
                in_diff: Some("HEAD~1".into()),
                minutes: Some(8),
                jobs: None,
                shard: None,
                test_packages: vec![],
                regexes: vec![],
                output: None,
                reports: vec![],
            })
        );
        assert!(Options::parse(&["--minutes".to_owned(), "x".to_owned()]).is_err());
        assert!(Options::parse(&["--nope".to_owned()]).is_err());
        let jobs = Options::parse(&["-j".to_owned(), "2".to_owned()]).unwrap();
        assert_eq!(jobs.jobs, Some(2));
        let narrow: Vec<String> = ["--test-package", "wfsim-engine", "-p", "wfsim-conformance"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let narrow = Options::parse(&narrow).unwrap();
        assert_eq!(narrow.test_packages, ["wfsim-engine", "wfsim-conformance"]);
        assert_eq!(
            judges(&narrow),
            "the tests of wfsim-engine, wfsim-conformance only"
        );
        assert!(judges(&Options::default()).contains("whole workspace"));
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let reports = Options::parse(&words(&["--report", "a", "--report", "b"])).unwrap();
        assert_eq!(reports.reports, ["a", "b"]);
        let mixed = Options::parse(&words(&["--report", "a", "--file", "x.rs"]));
        assert!(mixed.unwrap_err().contains("no other option"));
        let run = Options::parse(&words(&["--re", "tokens", "--output", "target/m1"])).unwrap();
        assert_eq!(
            (run.regexes, run.output),
            (words(&["tokens"]), Some("target/m1".into()))
        );
    }

    /// Shards add up; a mutant tested again (a re-check after a test was added) counts as
    /// its last run says.
    #[test]
    fn reports_of_several_runs_count_each_mutant_once() {
        let first = vec![
            outcome("a.rs", "replace f with ()", Summary::Missed),
            outcome("a.rs", "replace g with ()", Summary::Caught),
        ];
        let shard = vec![outcome("b.rs", "replace h with ()", Summary::Unviable)];
        let recheck = vec![outcome("a.rs", "replace f with ()", Summary::Caught)];
        let merged = latest(vec![first, shard, recheck]);
        assert_eq!(merged.len(), 3);
        let report = Report::new(&merged, &Equivalents::default());
        assert!(report.survivors.is_empty(), "{:?}", report.survivors);
        assert!(report.render().contains("100.0%"));
    }
}
