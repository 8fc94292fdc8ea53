//! `cargo xtask bench`: benchmark figures, built with optimizations and printed.
//! `--baseline REV`: the same benches built at REV too, run in turns with this checkout's,
//! every figure side by side ([`crate::figures`]). `--gate`: CI's instruction counts
//! ([`crate::gate`]).

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::figures::{self, Figure};
use crate::flags::BenchArgs;
use crate::revision::Tree;

pub fn run(args: &BenchArgs) -> Result<(), String> {
    if args.gate {
        return crate::gate::run(args.base.as_deref());
    }
    if let Some(rev) = &args.baseline {
        return baseline(rev, args.rounds.unwrap_or(2));
    }
    crate::cargo_run_release("bench", &[])?;
    crate::cargo(
        &[
            "run",
            "--release",
            "--locked",
            "--quiet",
            "--package",
            "wfsim-explore",
            "--bin",
            "explore-bench",
        ],
        &[],
    )?;
    // The live-mode benchmark is the server's own (`server/benches/live.rs`), so the
    // conformance crate does not depend on the server.
    crate::cargo(
        &[
            "bench",
            "--locked",
            "--quiet",
            "--package",
            "wfsim-server",
            "--bench",
            "live",
        ],
        &[],
    )?;
    crate::sim_run_release(&[
        "--bench".to_owned(),
        "--seeds".to_owned(),
        "1000".to_owned(),
    ])?;
    // `wfsim explore --system`: the explore rows again, through the server on the world.
    crate::sim_bin_release("explore-system", &["--bench".to_owned(), "2000".to_owned()])
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
    name: &'static str,
    build: Build,
    args: &'static [&'static str],
}

const BENCHES: &[BenchBin] = &[
    BenchBin {
        name: "engine (conformance/src/bin/bench.rs)",
        build: Build::Bin {
            package: "wfsim-conformance",
            bin: "bench",
            sim: false,
        },
        args: &[],
    },
    BenchBin {
        name: "explore at engine level (explore-bench)",
        build: Build::Bin {
            package: "wfsim-explore",
            bin: "explore-bench",
            sim: false,
        },
        args: &[],
    },
    BenchBin {
        name: "live mode (server/benches/live.rs)",
        build: Build::Bench {
            package: "wfsim-server",
            bench: "live",
        },
        args: &["--bench"],
    },
    BenchBin {
        name: "system level (sweep --bench)",
        build: Build::Bin {
            package: "wfsim-sim",
            bin: "sweep",
            sim: true,
        },
        args: &["--bench", "--seeds", "1000"],
    },
    BenchBin {
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

/// Runs `bin` from `tree`'s root; its stdout.
fn run_once(tree: &Tree, bin: &PathBuf, args: &[&str]) -> Result<String, String> {
    let out = Command::new(bin)
        .args(args)
        .current_dir(&tree.src)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start {}: {e}", bin.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!("exited with {}: {}", out.status, stdout.trim_end()))
    }
}

/// `--baseline REV`: every bench built at HEAD and at REV (cached), run in turns (HEAD,
/// REV, HEAD, REV, … for `rounds` rounds), then each bench's figures side by side.
fn baseline(rev: &str, rounds: u32) -> Result<(), String> {
    let base = Tree::checkout(rev)?;
    let head = Tree::head();
    let sides = [&head, &base];
    // Each side's binary per bench, or why it has none.
    let bins: Vec<[Result<PathBuf, String>; 2]> = BENCHES
        .iter()
        .map(|b| [build(&head, b), build(&base, b)])
        .collect();
    // Each bench's runs per side, one entry per round.
    let mut runs: Vec<[Vec<Vec<Figure>>; 2]> = BENCHES.iter().map(|_| [vec![], vec![]]).collect();
    let mut failures: Vec<String> = Vec::new();
    for round in 1..=rounds {
        for (i, b) in BENCHES.iter().enumerate() {
            for (s, side) in sides.iter().enumerate() {
                let Ok(bin) = &bins[i][s] else { continue };
                eprintln!("bench: round {round}/{rounds}, {} at {}", b.name, side.name);
                match run_once(side, bin, b.args) {
                    Ok(text) => runs[i][s].push(figures::parse(&text)),
                    Err(e) => failures.push(format!("{} at {}: {e}", b.name, side.name)),
                }
            }
        }
    }
    println!(
        "\nwfsim bench: HEAD against {rev}, run in turns, {rounds} rounds; medians of the rounds"
    );
    println!("(ratio = HEAD / {rev}; \"better\" says which way each figure improves)");
    for (i, b) in BENCHES.iter().enumerate() {
        println!("\n=== {}", b.name);
        let mut printed = false;
        for (s, side) in sides.iter().enumerate() {
            if let Err(e) = &bins[i][s] {
                println!("{} has no such bench binary: {e}", side.name);
                printed = true;
            }
        }
        if runs[i][0].is_empty() && runs[i][1].is_empty() {
            if !printed {
                println!("no run of it succeeded");
            }
            continue;
        }
        print!("{}", figures::table("HEAD", rev, &runs[i][0], &runs[i][1]));
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("some bench runs failed:\n{}", failures.join("\n")))
    }
}
