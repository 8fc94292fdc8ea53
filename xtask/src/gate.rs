//! `cargo xtask bench --gate`: CI's speed check. Wall time on a shared two-core machine is
//! noise; the instructions a process executes are not. Each workload runs as a whole
//! `wfsim` (or madsim `sweep`) process under valgrind's callgrind (`--cache-sim=no`: the
//! instruction count alone), built here and at `.ci/bench-base`, both run on this
//! checkout's files, from the same folder, with the same arguments and an empty
//! environment. More than 3% more instructions fails, unless `.ci/bench-accepted` accepts
//! that workload's cost with a reason.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::project_root;
use crate::revision::Tree;

/// Which binary a workload runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bin {
    /// `wfsim` (wfsim-cli), the ordinary build.
    Wfsim,
    /// `sweep` (wfsim-sim), the madsim build.
    Sweep,
}

#[derive(Debug)]
struct Workload {
    name: &'static str,
    bin: Bin,
    args: &'static [&'static str],
}

/// What CI counts: the guide's scenarios read to their report, the interpreter on a loop,
/// a batch of explore seeds at engine level and one system-level seed. Paths are relative
/// to the checkout, so both builds read the same files.
const WORKLOADS: &[Workload] = &[
    Workload {
        name: "scenario/basic_callback",
        bin: Bin::Wfsim,
        args: &["run", "fixtures/scenarios/basic_callback.yaml", "--json"],
    },
    Workload {
        name: "scenario/parallel_ten",
        bin: Bin::Wfsim,
        args: &["run", "fixtures/scenarios/parallel_ten.yaml", "--json"],
    },
    Workload {
        name: "scenario/timeouts",
        bin: Bin::Wfsim,
        args: &["run", "fixtures/scenarios/timeouts.yaml", "--json"],
    },
    Workload {
        name: "scenario/retry_loop",
        bin: Bin::Wfsim,
        args: &["run", "fixtures/scenarios/retry_loop.yaml", "--json"],
    },
    Workload {
        name: "scenario/language_tour",
        bin: Bin::Wfsim,
        args: &["run", "fixtures/scenarios/language_tour.yaml", "--json"],
    },
    Workload {
        name: "interpreter_loop",
        bin: Bin::Wfsim,
        args: &["run", "fixtures/bench/assign_loop.yaml", "--json"],
    },
    Workload {
        name: "explore_engine",
        bin: Bin::Wfsim,
        args: &[
            "explore",
            "fixtures/explore/approval.yaml",
            "--seeds",
            "200",
            "--jobs",
            "1",
        ],
    },
    Workload {
        name: "system_seed",
        bin: Bin::Sweep,
        args: &["--seed", "3"],
    },
];

/// More instructions than base × (100 + this) / 100 fails.
const SLACK_PERCENT: u64 = 3;

/// A workload's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Within the slack, or fewer instructions.
    Ok,
    /// Over the slack: fails the gate.
    Fail,
    /// Over the slack, accepted by `.ci/bench-accepted` for this reason.
    Accepted(String),
    /// The base could not run it (a new workload, or a base build without its binary).
    NoBase(String),
}

/// Judges `head`'s count against `base`'s.
pub fn judge(base: Result<u64, String>, head: u64, accepted: Option<&str>) -> Verdict {
    match base {
        Err(why) => Verdict::NoBase(why),
        Ok(base)
            if u128::from(head) * 100 <= u128::from(base) * u128::from(100 + SLACK_PERCENT) =>
        {
            Verdict::Ok
        }
        Ok(_) => match accepted {
            Some(reason) => Verdict::Accepted(reason.to_owned()),
            None => Verdict::Fail,
        },
    }
}

/// The total instructions (`Ir`) of a callgrind output file: its `totals:` line, or the
/// `summary:` line of an older format.
pub fn callgrind_total(text: &str) -> Option<u64> {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
    };
    field("totals:").or_else(|| field("summary:"))
}

/// `.ci/bench-accepted`: one `workload  reason` a line, `#` comments and blank lines
/// ignored. A line without a reason, an unknown workload or a workload twice is an error,
/// so a typo cannot pass for an acceptance.
pub fn parse_accepted(text: &str, known: &[&str]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, reason) = line
            .split_once(char::is_whitespace)
            .map(|(n, r)| (n, r.trim()))
            .unwrap_or((line, ""));
        let at = format!(".ci/bench-accepted:{}", i + 1);
        if reason.is_empty() {
            return Err(format!("{at}: '{name}' needs a reason"));
        }
        if !known.contains(&name) {
            return Err(format!(
                "{at}: no workload '{name}' (the workloads: {})",
                known.join(", ")
            ));
        }
        if out.insert(name.to_owned(), reason.to_owned()).is_some() {
            return Err(format!("{at}: '{name}' is accepted twice"));
        }
    }
    Ok(out)
}

/// `12345678` as `12,345,678`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One row of the table.
#[derive(Debug)]
pub struct Row {
    pub name: String,
    pub base: Result<u64, String>,
    pub head: u64,
    pub verdict: Verdict,
}

/// The gate's table: workload, base Ir, head Ir, ratio, verdict.
pub fn render(base_name: &str, rows: &[Row]) -> String {
    let mut out = String::new();
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(8).max(8);
    let base_col = format!("base Ir ({base_name})");
    let _ = writeln!(
        out,
        "{:<width$}  {:>18}  {:>15}  {:>6}  verdict",
        "workload", base_col, "head Ir", "ratio"
    );
    for r in rows {
        let (base, ratio) = match &r.base {
            Ok(b) => (grouped(*b), format!("{:.3}", r.head as f64 / *b as f64)),
            Err(_) => ("-".to_owned(), "-".to_owned()),
        };
        let verdict = match &r.verdict {
            Verdict::Ok => "ok".to_owned(),
            Verdict::Fail => format!("FAIL: more than {SLACK_PERCENT}% more instructions"),
            Verdict::Accepted(reason) => format!("accepted: {reason}"),
            Verdict::NoBase(why) => format!("not compared: {why}"),
        };
        let _ = writeln!(
            out,
            "{:<width$}  {base:>18}  {:>15}  {ratio:>6}  {verdict}",
            r.name,
            grouped(r.head)
        );
    }
    out
}

/// The first `valgrind` on the PATH.
fn valgrind() -> Result<PathBuf, String> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join("valgrind"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "valgrind is not on the PATH: install it (Debian: apt-get install valgrind; .ci/run does)"
                .to_owned()
        })
}

/// Both binaries of `tree`, copied to `target/bench-gate/<side>/bin/`, so that the two
/// sides' `argv[0]` have the same length (`head`, `base`). A binary that does not build is
/// the reason instead.
fn binaries(tree: &Tree, side: &str) -> Result<[Result<PathBuf, String>; 2], String> {
    let dir = project_root()
        .join("target/bench-gate")
        .join(side)
        .join("bin");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let copy = |built: Result<PathBuf, String>, name: &str| {
        let built = built?;
        let to = dir.join(name);
        std::fs::copy(&built, &to).map_err(|e| format!("copy {}: {e}", built.display()))?;
        Ok(to)
    };
    Ok([
        copy(tree.build_bin("wfsim-cli", "wfsim", false), "wfsim"),
        copy(tree.build_bin("wfsim-sim", "sweep", true), "sweep"),
    ])
}

/// Runs `bin args` under callgrind from the checkout's root with an empty environment;
/// its instruction count, or why there is none.
fn count(valgrind: &Path, bin: &Path, args: &[&str], out_file: &Path) -> Result<u64, String> {
    let _ = std::fs::remove_file(out_file);
    let out = Command::new(valgrind)
        .arg("--tool=callgrind")
        .arg("--cache-sim=no")
        .arg("-q")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(bin)
        .args(args)
        .env_clear()
        .current_dir(project_root())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("could not start valgrind: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        return Err(format!(
            "exited with {} ({})",
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        ));
    }
    let text = std::fs::read_to_string(out_file)
        .map_err(|e| format!("no callgrind output {}: {e}", out_file.display()))?;
    callgrind_total(&text).ok_or_else(|| format!("no totals in {}", out_file.display()))
}

/// The gate against `base` (`.ci/bench-base` when `None`).
pub fn run(base: Option<&str>) -> Result<(), String> {
    let root = project_root();
    let valgrind = valgrind()?;
    let base = match base {
        Some(b) => b.to_owned(),
        None => std::fs::read_to_string(root.join(".ci/bench-base"))
            .map_err(|e| format!(".ci/bench-base: {e}"))?
            .split_whitespace()
            .next()
            .ok_or(".ci/bench-base is empty: write the commit the gate compares with")?
            .to_owned(),
    };
    let names: Vec<&str> = WORKLOADS.iter().map(|w| w.name).collect();
    let accepted = match std::fs::read_to_string(root.join(".ci/bench-accepted")) {
        Ok(text) => parse_accepted(&text, &names)?,
        Err(_) => BTreeMap::new(),
    };
    let base_tree = Tree::checkout(&base)?;
    let head_tree = Tree::head();
    let base_bins = binaries(&base_tree, "base")?;
    let [head_wfsim, head_sweep] = binaries(&head_tree, "head")?;
    let head_bins = [head_wfsim?, head_sweep?];
    let mut rows = Vec::new();
    for w in WORKLOADS {
        let i = match w.bin {
            Bin::Wfsim => 0,
            Bin::Sweep => 1,
        };
        let file = w.name.replace('/', "-");
        let out = |side: &str| root.join(format!("target/bench-gate/{side}/{file}.callgrind"));
        eprintln!(
            "gate: {} ({} {})",
            w.name,
            head_bins[i].display(),
            w.args.join(" ")
        );
        let head = count(&valgrind, &head_bins[i], w.args, &out("head"))
            .map_err(|e| format!("{} at HEAD: {e}", w.name))?;
        let base_count = match &base_bins[i] {
            Ok(bin) => count(&valgrind, bin, w.args, &out("base")),
            Err(e) => Err(e.clone()),
        };
        let verdict = judge(
            base_count.clone(),
            head,
            accepted.get(w.name).map(String::as_str),
        );
        rows.push(Row {
            name: w.name.to_owned(),
            base: base_count,
            head,
            verdict,
        });
    }
    let short = base.get(..12).filter(|_| base.len() == 40).unwrap_or(&base);
    println!("\ninstructions (callgrind, total Ir), HEAD against {base}:");
    print!("{}", render(short, &rows));
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .map(|r| r.name.as_str())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the gate failed: {} ran more than {SLACK_PERCENT}% more instructions than at {base}; \
             make it cheaper again, or accept the cost in .ci/bench-accepted (`workload  reason`)",
            failed.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_of_a_callgrind_file() {
        let text = "version: 1\ncmd: wfsim run x\nevents: Ir\nsummary: 999\nfl=a.rs\n0 5\ntotals: 1234567\n";
        assert_eq!(callgrind_total(text), Some(1234567));
        assert_eq!(callgrind_total("events: Ir\nsummary: 42\n"), Some(42));
        assert_eq!(callgrind_total("events: Ir\n"), None);
    }

    #[test]
    fn three_percent_more_fails_unless_accepted() {
        assert_eq!(judge(Ok(1000), 1030, None), Verdict::Ok);
        assert_eq!(judge(Ok(1000), 900, None), Verdict::Ok);
        assert_eq!(judge(Ok(1000), 1031, None), Verdict::Fail);
        assert_eq!(
            judge(Ok(1000), 1500, Some("new checks")),
            Verdict::Accepted("new checks".into())
        );
        assert_eq!(
            judge(Err("no sweep".into()), 5, None),
            Verdict::NoBase("no sweep".into())
        );
        // Counts in the tens of billions do not overflow.
        assert_eq!(judge(Ok(u64::MAX / 2), u64::MAX / 2, None), Verdict::Ok);
    }

    #[test]
    fn the_accepted_file() {
        let known = ["interpreter_loop", "system_seed"];
        let text =
            "# workload  reason\n\ninterpreter_loop   stack traces now kept per step (issue 9)\n";
        let got = parse_accepted(text, &known).unwrap();
        assert_eq!(
            got.get("interpreter_loop").map(String::as_str),
            Some("stack traces now kept per step (issue 9)")
        );
        assert_eq!(got.len(), 1);
        assert!(
            parse_accepted("system_seed\n", &known)
                .unwrap_err()
                .contains(":1: 'system_seed' needs a reason")
        );
        assert!(
            parse_accepted("# c\nsystem_sed slower\n", &known)
                .unwrap_err()
                .contains(":2: no workload 'system_sed'")
        );
        assert!(
            parse_accepted("system_seed a\nsystem_seed b\n", &known)
                .unwrap_err()
                .contains("twice")
        );
    }

    #[test]
    fn the_table() {
        let rows = [
            Row {
                name: "a".into(),
                base: Ok(1_000_000),
                head: 1_100_000,
                verdict: Verdict::Fail,
            },
            Row {
                name: "b".into(),
                base: Err("no sweep".into()),
                head: 7,
                verdict: Verdict::NoBase("no sweep".into()),
            },
        ];
        let t = render("abc", &rows);
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("workload") && lines[0].contains("base Ir (abc)"));
        assert!(lines[1].contains("1,000,000") && lines[1].contains("1,100,000"));
        assert!(lines[1].contains("1.100  FAIL"));
        assert!(lines[2].ends_with("not compared: no sweep"));
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
    }

    #[test]
    fn workloads_have_unique_names_and_files_that_exist() {
        let mut names: Vec<&str> = WORKLOADS.iter().map(|w| w.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), WORKLOADS.len());
        for w in WORKLOADS {
            for a in w.args.iter().filter(|a| a.starts_with("fixtures/")) {
                assert!(project_root().join(a).is_file(), "{}: no {a}", w.name);
            }
        }
    }
}
