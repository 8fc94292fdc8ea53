//! `wfsim-conformance`: the engine against the spec model. Run it as `cargo xtask
//! conformance [--cases N] [--seed S] [--exhaustive-len L]`.

use std::process::ExitCode;

use wfsim_conformance::exhaustive;
use wfsim_conformance::property::{self, PropertyConfig};
use wfsim_conformance::{report, suite};

const USAGE: &str = "usage: cargo xtask conformance [--cases N] [--seed S] [--exhaustive-len L]

  --cases N           generated sequences for the model-based check (default 4096)
  --seed S            seed of the generator; a failure prints the one to replay (default 0)
  --exhaustive-len L  check every sequence up to this length (default 7)";

struct Args {
    cases: u32,
    seed: u64,
    exhaustive_len: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        cases: 4096,
        seed: 0,
        exhaustive_len: 7,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--cases" => args.cases = parse(&value("--cases")?, "--cases")?,
            "--seed" => args.seed = parse(&value("--seed")?, "--seed")?,
            "--exhaustive-len" => {
                args.exhaustive_len = parse(&value("--exhaustive-len")?, "--exhaustive-len")?
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok(args)
}

fn parse<T: std::str::FromStr>(s: &str, name: &str) -> Result<T, String> {
    s.parse()
        .map_err(|_| format!("{name} takes a non-negative number, got '{s}'"))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("error: {msg}\n");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    println!(
        "wfsim conformance: engine against the spec model of SPEC §3 (seed={}, cases={})",
        args.seed, args.cases
    );
    let prop = property::run(PropertyConfig {
        cases: args.cases,
        seed: args.seed,
        len_max: 64,
    });
    println!(
        "model-based: {} generated sequences, {} steps",
        report::grouped(u64::from(prop.cases)),
        report::grouped(prop.steps)
    );
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let exh = exhaustive::run(args.exhaustive_len, threads);
    println!(
        "exhaustive: every sequence of 1 to {} ops over a {}-op alphabet: {} of {} sequences checked",
        exh.len_max,
        exhaustive::ALPHABET.len(),
        report::grouped(exh.sequences),
        report::grouped(exhaustive::count(exh.len_max)),
    );
    println!();
    let report = report::render(&prop, &exh);
    print!("{}", report.table);
    if let Some(f) = &prop.failure {
        println!("\nmodel-based check FAILED: {}", f.violation);
        println!("shrunk to {} ops:", f.ops.len());
        for (i, op) in f.ops.iter().enumerate() {
            println!("  {i:>3}  {op}");
        }
        println!(
            "replay: cargo xtask conformance --seed {} --cases {}",
            args.seed, args.cases
        );
        println!("the failing case was saved to {}", property::REGRESSIONS);
    }
    if let Some((ops, v)) = &exh.failure {
        println!("\nexhaustive check FAILED: {v}");
        for (i, op) in ops.iter().enumerate() {
            println!("  {i:>3}  {op}");
        }
        println!(
            "replay: cargo xtask conformance --exhaustive-len {}",
            ops.len()
        );
    }
    let suite = suite::run();
    print!("{}", suite.text);
    let passed = report.passed + suite.passed;
    let failed = report.failed + suite.failed;
    println!("\nconformance: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
