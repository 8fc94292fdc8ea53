//! `cargo xtask`: the project's commands, in Rust rather than shell scripts.
//!
//! - `cargo xtask test`: every test of the workspace, and the tidy checks.
//! - `cargo xtask conformance [--cases N] [--seed S] [--exhaustive-len L]`: the engine
//!   against the spec model, the scenarios and the corpus, with the per-rule report.
//!   `cargo xtask conformance --target URL [...]`: `wfsim conformance --target`, another
//!   implementation judged over its API.
//! - `cargo xtask bench`: benchmark figures. `--baseline REV`: side by side with REV's.
//!   `--gate`: CI's instruction-count check against `.ci/bench-base`.
//! - `cargo xtask sim --seed S`: replays one system-level seed, printing its whole trace.
//! - `cargo xtask mutants [--file F]… [--in-diff REV] [--minutes M] [--shard K/N]
//!   [--test-package P]…`: mutation testing.
//! - `cargo xtask fuzz [--seconds N] [--seed S] [--jobs J] [--replay FILE]`: the fuzzer.
//! - `cargo xtask crash [--points N] [--seed S]`: the crash-point test, at length.
//! - `cargo xtask soak [--executions N] [--keep-ended K]`: `--state-dir` over a long run.

mod bench;
mod conformance;
mod crash;
mod figures;
mod flags;
mod fuzz;
mod gate;
#[cfg(test)]
mod layers;
mod mutants;
mod revision;
mod soak;
mod targets;
mod test;
#[cfg(test)]
mod tidy;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let res = match flags::Cmd::parse(&args) {
        Ok(flags::Cmd::Test) => test::run(),
        Ok(flags::Cmd::Conformance(rest)) => conformance::run(&rest),
        Ok(flags::Cmd::Bench(args)) => bench::run(&args),
        Ok(flags::Cmd::Sim(rest)) => conformance::sim(&rest),
        Ok(flags::Cmd::Mutants(rest)) => mutants::run(&rest),
        Ok(flags::Cmd::Fuzz(args)) => fuzz::run(&args),
        Ok(flags::Cmd::Crash { points, seed }) => crash::run(points, seed),
        Ok(flags::Cmd::Soak {
            executions,
            keep_ended,
        }) => soak::run(executions, keep_ended),
        Ok(flags::Cmd::Help) => {
            println!("{}", flags::USAGE);
            Ok(())
        }
        Err(msg) => {
            eprintln!("error: {msg}\n\n{}", flags::USAGE);
            return ExitCode::from(2);
        }
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("xtask: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask lives one level below it.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}

/// Runs binary `bin` of `wfsim-conformance`, built with optimizations, with `args`.
pub fn cargo_run_release(bin: &str, args: &[String]) -> Result<(), String> {
    let mut cargo_args = vec!["run", "--release", "--locked", "--quiet"];
    cargo_args.extend(["--package", "wfsim-conformance", "--bin", bin, "--"]);
    cargo_args.extend(args.iter().map(String::as_str));
    cargo(&cargo_args, &[])
}

/// Runs the system-level sweep (`wfsim-sim`'s `sweep`) from the madsim build in
/// `target/sim`, with `args`.
pub fn sim_run_release(args: &[String]) -> Result<(), String> {
    sim_bin_release("sweep", args)
}

/// Runs binary `bin` of `wfsim-sim` (`sweep`, `explore-system`) from the madsim build in
/// `target/sim`, with `args`.
pub fn sim_bin_release(bin: &str, args: &[String]) -> Result<(), String> {
    let sim_dir = project_root().join("target/sim");
    let sim_dir = sim_dir.to_string_lossy().into_owned();
    let mut cargo_args = vec!["run", "--release", "--locked", "--quiet"];
    cargo_args.extend(["--package", "wfsim-sim", "--bin", bin, "--"]);
    cargo_args.extend(args.iter().map(String::as_str));
    cargo(
        &cargo_args,
        &[
            ("RUSTFLAGS", "--cfg madsim"),
            ("CARGO_TARGET_DIR", &sim_dir),
        ],
    )
}

/// The cargo that runs xtask (`CARGO`), or the one on the PATH.
pub fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Runs `cargo <args>` at the project root, echoing the command first.
pub fn cargo(args: &[&str], envs: &[(&str, &str)]) -> Result<(), String> {
    let cargo = cargo_bin();
    let shown: Vec<String> = envs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .chain(std::iter::once("cargo".into()))
        .chain(args.iter().map(|a| a.to_string()))
        .collect();
    eprintln!("$ {}", shown.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(project_root())
        .status()
        .map_err(|e| format!("could not start cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", shown.join(" ")))
    }
}
