//! `cargo xtask bench`: benchmark figures, built with optimizations and printed.
//! `--baseline REV`: the same benches built at REV too, run in turns with this checkout's,
//! every figure side by side ([`crate::figures`]). `--gate`: CI's instruction counts
//! ([`crate::gate`]).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::figures::{self, Figure};
use crate::flags::BenchArgs;
use crate::revision::Tree;
use crate::targets;

pub fn run(args: &BenchArgs) -> Result<(), String> {
    if args.gate {
        return crate::gate::run(args.base.as_deref());
    }
    if let Some(rev) = &args.baseline {
        return baseline(rev, args.rounds.unwrap_or(2));
    }
    today(args.restart_executions.unwrap_or(RESTART_EXECUTIONS))
}

/// Issue #23's row: how long `serve --state-dir` takes to answer again after `kill -9`
/// following this many executions (the soak's last line).
const RESTART_EXECUTIONS: u64 = 100_000;

/// Every bench of this checkout once, its output shown as it comes, then the targets
/// table: the rows set against another revision say which `--baseline` they need. Then,
/// unless `restart_executions` is 0, the durable state's restart time after that many
/// executions (`cargo xtask soak`, `--keep-ended 10000`).
fn today(restart_executions: u64) -> Result<(), String> {
    let head = Tree::head();
    let mut figures = targets::Side::new();
    let mut failures = Vec::new();
    for b in BENCHES {
        let run = build(&head, b).and_then(|bin| run_once(&head, &bin, b.args, true));
        match run {
            Ok((text, cpu)) => {
                println!("  ({})", cpu.describe());
                figures.insert(b.key, figures::parse(&text));
            }
            Err(e) => failures.push(format!("{}: {e}", b.name)),
        }
    }
    print!("{}", targets::table(&targets::rows(&figures, &[])));
    if let Err(e) = suite_time(&head) {
        failures.push(format!("wfsim test fixtures: {e}"));
    }
    if restart_executions > 0 {
        println!(
            "\n## durable state: restart after {restart_executions} executions (cargo xtask soak)"
        );
        if let Err(e) = crate::soak::run(restart_executions, 10_000) {
            failures.push(format!("the restart row: {e}"));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("some benches failed:\n{}", failures.join("\n")))
    }
}

/// Issue #24's row: the time `wfsim test fixtures` (a release build) takes over the
/// project's own fixtures, the suite a team's CI would run, with the summary it prints.
fn suite_time(head: &Tree) -> Result<(), String> {
    println!("\n## wfsim test fixtures (release build)");
    let bin = head.build_bin("wfsim-cli", "wfsim", false)?;
    let (out, cpu) = run_once(head, &bin, &["test", "fixtures"], false)?;
    if let Some(summary) = out.lines().rev().find(|l| !l.trim().is_empty()) {
        println!("  {summary}");
    }
    println!("  ({})", cpu.describe());
    Ok(())
}

/// How a bench binary is built.
#[derive(Debug)]
enum Build {
    /// `cargo build --release --bin`, the madsim build when `sim`.
    Bin {
        package: &'static str,
        bin: &'static str,
        sim: bool,
    },
    /// `cargo bench --no-run --bench` (a `harness = false` bench).
    Bench {
        package: &'static str,
        bench: &'static str,
    },
}

/// One bench binary and its arguments: what plain `cargo xtask bench` runs.
#[derive(Debug)]
struct BenchBin {
    /// What the targets table knows it by ([`targets::Side`]).
    key: &'static str,
    name: &'static str,
    build: Build,
    args: &'static [&'static str],
}

const BENCHES: &[BenchBin] = &[
    BenchBin {
        key: "engine",
        name: "engine (conformance/src/bin/bench.rs)",
        build: Build::Bin {
            package: "wfsim-conformance",
            bin: "bench",
            sim: false,
        },
        args: &[],
    },
    BenchBin {
        key: "explore",
        name: "explore at engine level (explore-bench)",
        build: Build::Bin {
            package: "wfsim-explore",
            bin: "explore-bench",
            sim: false,
        },
        args: &[],
    },
    BenchBin {
        key: "live",
        name: "live mode (server/benches/live.rs)",
        build: Build::Bench {
            package: "wfsim-server",
            bench: "live",
        },
        args: &["--bench"],
    },
    BenchBin {
        key: "ui",
        name: "UI pages (ui/benches/page.rs)",
        build: Build::Bench {
            package: "wfsim-ui",
            bench: "page",
        },
        args: &["--bench"],
    },
    BenchBin {
        key: "system",
        name: "system level (sweep --bench)",
        build: Build::Bin {
            package: "wfsim-sim",
            bin: "sweep",
            sim: true,
        },
        args: &["--bench", "--seeds", "1000"],
    },
    BenchBin {
        key: "explore-system",
        name: "explore at system level (explore-system --bench)",
        build: Build::Bin {
            package: "wfsim-sim",
            bin: "explore-system",
            sim: true,
        },
        args: &["--bench", "2000"],
    },
];

fn build(tree: &Tree, b: &BenchBin) -> Result<PathBuf, String> {
    match b.build {
        Build::Bin { package, bin, sim } => tree.build_bin(package, bin, sim),
        Build::Bench { package, bench } => tree.build_bench(package, bench),
    }
}

/// A child's CPU time (user and system) beside the wall time it ran: on a machine others
/// share, cores = CPU / wall tells a figure held down by load from one held down by work.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Cpu {
    cpu_s: Option<f64>,
    wall_s: f64,
}

impl Cpu {
    fn describe(&self) -> String {
        match self.cpu_s {
            Some(c) => format!(
                "the bench process: {c:.1} s CPU in {:.1} s wall, {:.2} cores",
                self.wall_s,
                c / self.wall_s
            ),
            None => format!(
                "{:.1} s wall; its CPU time is not readable here",
                self.wall_s
            ),
        }
    }
}

/// The CPU time (user and system) of this process's children that have been waited for,
/// in seconds: `getrusage(RUSAGE_CHILDREN)`, read from `/proc/self/stat` (cutime and
/// cstime, in Linux's 1/100 s ticks) so xtask needs no libc. `None` elsewhere.
fn children_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    children_cpu_of(&stat)
}

fn children_cpu_of(stat: &str) -> Option<f64> {
    // After the command name in parentheses: state first, cutime the 14th, cstime the 15th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// Runs `bin` from `tree`'s root; its stdout (echoed line by line when `echo`) and the CPU
/// it took.
fn run_once(
    tree: &Tree,
    bin: &PathBuf,
    args: &[&str],
    echo: bool,
) -> Result<(String, Cpu), String> {
    // A benchmark measures real time.
    #[allow(clippy::disallowed_methods)]
    let start = std::time::Instant::now();
    let cpu0 = children_cpu_s();
    let mut child = Command::new(bin)
        .args(args)
        .current_dir(&tree.src)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", bin.display()))?;
    let mut stdout = String::new();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines() {
            let line = line.map_err(|e| format!("reading {}: {e}", bin.display()))?;
            if echo {
                println!("{line}");
            }
            stdout.push_str(&line);
            stdout.push('\n');
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for {}: {e}", bin.display()))?;
    let cpu = Cpu {
        cpu_s: children_cpu_s().zip(cpu0).map(|(b, a)| b - a),
        wall_s: start.elapsed().as_secs_f64(),
    };
    if status.success() {
        Ok((stdout, cpu))
    } else {
        Err(format!("exited with {status}: {}", stdout.trim_end()))
    }
}

/// One tree of a `--baseline` run and the benches it runs (`None`: every one).
struct Side {
    tree: Tree,
    sha: String,
    only: Option<Vec<&'static str>>,
}

impl Side {
    fn runs(&self, b: &BenchBin) -> bool {
        self.only.as_ref().is_none_or(|keys| keys.contains(&b.key))
    }
}

/// `--baseline REV`: every bench built at HEAD and at REV (cached), run in turns (HEAD,
/// REV, HEAD, REV, … for `rounds` rounds), then each bench's figures side by side. A
/// revision a target is set against ([`targets::YARDSTICKS`]) other than REV is built
/// too, for that target's bench alone, and run in the same turns: one run judges every row.
fn baseline(rev: &str, rounds: u32) -> Result<(), String> {
    let head = Tree::head();
    let head_sha = crate::revision::git(&head.src, &["rev-parse", "HEAD"])?;
    let base = Tree::checkout(rev)?;
    let base_sha = crate::revision::git(&base.src, &["rev-parse", "HEAD"])?;
    let mut sides = vec![
        Side {
            tree: head,
            sha: head_sha,
            only: None,
        },
        Side {
            tree: base,
            sha: base_sha,
            only: None,
        },
    ];
    for (yardstick, key) in targets::YARDSTICKS {
        let tree = Tree::checkout(yardstick)?;
        let sha = crate::revision::git(&tree.src, &["rev-parse", "HEAD"])?;
        match sides.iter_mut().find(|s| s.sha == sha) {
            Some(side) => {
                if let Some(keys) = &mut side.only {
                    keys.push(key);
                }
            }
            None => sides.push(Side {
                tree,
                sha,
                only: Some(vec![key]),
            }),
        }
    }
    // Each side's binary per bench: `None` where the side does not run it, else the
    // binary or why it has none.
    let bins: Vec<Vec<Option<Result<PathBuf, String>>>> = BENCHES
        .iter()
        .map(|b| {
            sides
                .iter()
                .map(|s| s.runs(b).then(|| build(&s.tree, b)))
                .collect()
        })
        .collect();
    // Each bench's runs per side, one entry per round.
    let mut runs: Vec<Vec<Vec<Vec<Figure>>>> = BENCHES
        .iter()
        .map(|_| sides.iter().map(|_| Vec::new()).collect())
        .collect();
    let mut failures: Vec<String> = Vec::new();
    for round in 1..=rounds {
        for (i, b) in BENCHES.iter().enumerate() {
            for (s, side) in sides.iter().enumerate() {
                let Some(Ok(bin)) = &bins[i][s] else { continue };
                let name = &side.tree.name;
                eprintln!("bench: round {round}/{rounds}, {} at {name}", b.name);
                match run_once(&side.tree, bin, b.args, false) {
                    Ok((text, cpu)) => {
                        eprintln!("bench:   {}", cpu.describe());
                        runs[i][s].push(figures::parse(&text));
                    }
                    Err(e) => failures.push(format!("{} at {name}: {e}", b.name)),
                }
            }
        }
    }
    println!(
        "\nwfsim bench: HEAD against {rev}, run in turns, {rounds} rounds; medians of the rounds"
    );
    println!("(ratio = HEAD / {rev}; \"better\" says which way each figure improves)");
    for (i, b) in BENCHES.iter().enumerate() {
        // HEAD against each other side that ran this bench.
        for (s, side) in sides.iter().enumerate().skip(1) {
            if bins[i][s].is_none() {
                continue;
            }
            let other = &side.tree.name;
            println!("\n=== {} (HEAD against {other})", b.name);
            let mut printed = false;
            for (t, tree) in [(0, &sides[0]), (s, side)] {
                if let Some(Err(e)) = &bins[i][t] {
                    println!("{} has no such bench binary: {e}", tree.tree.name);
                    printed = true;
                }
            }
            if runs[i][0].is_empty() && runs[i][s].is_empty() {
                if !printed {
                    println!("no run of it succeeded");
                }
                continue;
            }
            print!(
                "{}",
                figures::table("HEAD", other, &runs[i][0], &runs[i][s])
            );
        }
    }
    let figures_of = |s: usize| -> targets::Side {
        BENCHES
            .iter()
            .zip(&runs)
            .map(|(b, r)| (b.key, figures::medians(&r[s])))
            .collect()
    };
    let all: Vec<targets::Side> = (0..sides.len()).map(figures_of).collect();
    let bases: Vec<targets::Base> = sides
        .iter()
        .zip(&all)
        .skip(1)
        .map(|(side, figures)| targets::Base {
            sha: &side.sha,
            figures,
        })
        .collect();
    print!("{}", targets::table(&targets::rows(&all[0], &bases)));
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("some bench runs failed:\n{}", failures.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_childrens_cpu_time_is_cutime_and_cstime() {
        // pid (comm with) spaces) state ppid pgrp session tty tpgid flags minflt cminflt
        // majflt cmajflt utime stime cutime cstime …
        let stat = "42 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 11 12 250 75 20 0";
        assert_eq!(children_cpu_of(stat), Some(3.25));
        assert_eq!(children_cpu_of("42 (x) S 1 2"), None);
    }

    #[test]
    fn every_bench_has_its_own_key() {
        let mut keys: Vec<&str> = BENCHES.iter().map(|b| b.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), BENCHES.len());
    }
}
