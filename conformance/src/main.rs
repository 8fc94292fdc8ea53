//! `wfsim-conformance`: the engine against the spec model, the scenarios, the corpus, and
//! (with `--system FILE`, the sweep's summary) the system level, in one per-rule report.
//! Run it as `cargo xtask conformance`, which runs the sweep first.

use std::process::ExitCode;

use wfsim_conformance::exhaustive;
use wfsim_conformance::property::{self, PropertyConfig};
use wfsim_conformance::report::Evidence;
use wfsim_conformance::system::SystemSummary;
use wfsim_conformance::text::grouped;
use wfsim_conformance::{report, suite};

const USAGE: &str =
    "usage: wfsim-conformance [--cases N] [--seed S] [--exhaustive-len L] [--system FILE]

  --cases N           generated sequences for the model-based check (default 4096)
  --seed S            seed of the generator; a failure prints the one to replay (default 0)
  --exhaustive-len L  check every sequence up to this length (default 7)
  --system FILE       the system-level sweep's summary to merge (xtask passes it)";

struct Args {
    cases: u32,
    seed: u64,
    exhaustive_len: usize,
    system: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        cases: 4096,
        seed: 0,
        exhaustive_len: 7,
        system: None,
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
            "--system" => args.system = Some(value("--system")?),
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
        grouped(u64::from(prop.cases)),
        grouped(prop.steps)
    );
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let exh = exhaustive::run(args.exhaustive_len, threads);
    println!(
        "exhaustive: every sequence of 1 to {} ops over a {}-op alphabet: {} of {} sequences checked",
        exh.len_max,
        exhaustive::ALPHABET.len(),
        grouped(exh.sequences),
        grouped(exhaustive::count(exh.len_max)),
    );
    let system = match args.system.as_deref().map(std::fs::read_to_string) {
        None => None,
        Some(Ok(text)) => match SystemSummary::from_json(&text) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        },
        Some(Err(e)) => {
            eprintln!(
                "error: cannot read {}: {e} (did the sweep run?)",
                args.system.unwrap_or_default()
            );
            return ExitCode::FAILURE;
        }
    };
    if let Some(s) = &system {
        println!(
            "system level: {} seeds on the simulated world (madsim), each run twice; {} callback requests",
            grouped(s.seeds_run),
            grouped(s.requests)
        );
    }
    let suite = suite::run();
    print!("{}", suite.text);
    println!(
        "\nper rule: generated cases and exhaustive sequences (checks), scenarios, system-level seeds"
    );
    let report = report::render(&Evidence {
        property: &prop,
        exhaustive: &exh,
        scenarios: Some(&suite.covers),
        system: system.as_ref(),
    });
    print!("{}", report.table);
    let mut passed = report.passed + suite.passed;
    let mut failed = report.failed + suite.failed;
    if let Some(s) = &system {
        print!("{}", s.render_coverage_and_failure());
        for c in s.coverage.iter().filter(|c| c.required) {
            if c.count > 0 {
                passed += 1;
            } else {
                failed += 1;
            }
        }
    }
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
    println!("\nconformance: {passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
