//! `cargo xtask bench`: engine-level figures, printed, never asserted.
//!
//! - wall time per run of each scenario in `fixtures/scenarios`;
//! - simulated seconds per wall second for the retry scenario;
//! - interpreter steps per second on a loop of 100,000 `assign` steps;
//! - the hostile inputs that were once quadratic (issue: hostile definitions and values):
//!   `text.find_all` at the value limit, a definition nested to its depth limit, 100,000
//!   callback endpoints, a parallel `for` over 99,000 branches.

// A benchmark measures real time; the engine never does.
#![allow(clippy::disallowed_methods)]

/// The allocator `wfsim` runs with (`cli/src/main.rs`), so these figures are its.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

use wfsim_conformance::fixtures;
use wfsim_engine::ExecutionState;
use wfsim_engine::defn;
use wfsim_engine::interp::{Execution, ExecutionConfig};
use wfsim_harness::runner::execution_name;

/// Repeats `f` for at least `budget` (and 5 runs), returning the mean time per run.
fn time_per_run(budget: Duration, mut f: impl FnMut()) -> (Duration, u32) {
    f(); // warm-up
    let start = Instant::now();
    let mut runs = 0u32;
    while runs < 5 || start.elapsed() < budget {
        f();
        runs += 1;
    }
    (start.elapsed() / runs, runs)
}

fn main() {
    let budget = Duration::from_millis(300);
    println!("wfsim bench (release build; figures vary with the machine, compare runs on one)");
    println!("\nwall time per run (read, parse, check, run), fixtures/scenarios:");
    let scenarios = fixtures::files(&fixtures::dir().join("scenarios"), "yaml");
    for path in &scenarios {
        let (per_run, runs) = time_per_run(budget, || {
            black_box(fixtures::run_scenario(path, None).expect("scenario runs"));
        });
        let name = path.file_stem().unwrap_or_default().to_string_lossy();
        println!(
            "  {name:<28} {:>10.1} µs  ({runs} runs)",
            per_run.as_secs_f64() * 1e6
        );
    }

    let retry = fixtures::dir().join("scenarios/retry_loop.yaml");
    let simulated = fixtures::run_scenario(&retry, None)
        .expect("retry scenario runs")
        .run
        .execution
        .ended_at()
        .expect("it ends")
        .as_secs_f64();
    let (per_run, _) = time_per_run(budget, || {
        black_box(fixtures::run_scenario(&retry, None).expect("retry scenario runs"));
    });
    println!(
        "\nretry scenario: {simulated} simulated s per run, {:.0} simulated s per wall s",
        simulated / per_run.as_secs_f64()
    );

    let n = 100_000;
    let text = format!(
        "- init:\n    assign:\n      - x: 0\n- loop:\n    for:\n      value: i\n      range: [1, {n}]\n      steps:\n        - add:\n            assign:\n              - x: ${{x + i}}\n- done:\n    return: ${{x}}\n"
    );
    let workflow = Rc::new(defn::load("assign_loop.yaml", &text).expect("bench workflow loads"));
    let mut steps = 0;
    let (per_run, runs) = time_per_run(Duration::from_secs(1), || {
        let ex = Execution::start(
            Rc::clone(&workflow),
            ExecutionConfig {
                steps_max: 10 * n,
                ..ExecutionConfig::new(execution_name("assign_loop", 0))
            },
        );
        assert_eq!(ex.state(), ExecutionState::Succeeded);
        steps = ex.steps();
        black_box(ex);
    });
    println!(
        "\ninterpreter: a loop of {n} assign steps ({steps} steps in all): {:.1} ms per run, {:.2} M steps/s ({runs} runs)",
        per_run.as_secs_f64() * 1e3,
        steps as f64 / per_run.as_secs_f64() / 1e6
    );

    hostile_rows();
}

/// Runs `text` to its end with `steps_max` steps.
fn run_to_end(name: &str, text: &str, steps_max: u64) -> Execution {
    let workflow = Rc::new(defn::load(name, text).expect("bench workflow loads"));
    Execution::start(
        workflow,
        ExecutionConfig {
            steps_max,
            ..ExecutionConfig::new(execution_name(name, 0))
        },
    )
}

fn hostile_rows() {
    println!(
        "
inputs that were once quadratic, now linear (wall time per run):"
    );
    let row = |what: &str, f: &mut dyn FnMut()| {
        let (per_run, runs) = time_per_run(Duration::from_millis(300), f);
        println!(
            "  {what:<58} {:>9.2} ms  ({runs} runs)",
            per_run.as_secs_f64() * 1e3
        );
    };
    // 64 Ki "a"s: every character a match, the list stops at the 512 KiB value limit.
    let find_all = "- a:\n    assign:\n      - s: aaaaaaaaaaaaaaaa\n      - s: ${text.replace_all(s, \"a\", \"aaaaaaaaaaaaaaaa\")}\n      - s: ${text.replace_all(s, \"a\", \"aaaaaaaaaaaaaaaa\")}\n      - s: ${text.replace_all(s, \"a\", \"aaaaaaaaaaaaaaaa\")}\n      - n: ${len(text.find_all(s, \"a\"))}\n";
    row(
        "text.find_all over 65,536 matches (ResourceLimitError)",
        &mut || {
            let ex = run_to_end("find_all.yaml", find_all, 100);
            assert_eq!(ex.state(), ExecutionState::Failed);
            black_box(ex);
        },
    );
    let depth = wfsim_engine::limits::DEFINITION_DEPTH_MAX - 8;
    let nested = format!(
        "- a:\n    return: {}1{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    row(
        &format!("a literal nested {depth} deep: load and run"),
        &mut || {
            let ex = run_to_end("nested.yaml", &nested, 100);
            assert_eq!(ex.state(), ExecutionState::Succeeded);
            black_box(ex);
        },
    );
    // Leftmost-longest: every match of a|a.*z rescans to the end; the scan budget stops it.
    let rescan = find_all.replace(
        "text.find_all(s, \"a\")",
        "text.find_all_regex(s, \"a|a.*z\")",
    );
    row(
        "text.find_all_regex rescanning 65,536 chars (ResourceLimitError)",
        &mut || {
            let ex = run_to_end("rescan.yaml", &rescan, 100);
            assert_eq!(ex.state(), ExecutionState::Failed);
            black_box(ex);
        },
    );
    let too_deep = format!("{}1\n", "- ".repeat(12_000));
    row("12,000 nested block lists: refused at deploy", &mut || {
        assert!(defn::load("deep.yaml", black_box(&too_deep)).is_err());
    });
    let endpoints = "- loop:\n    for:\n      value: i\n      range: [1, 100000]\n      steps:\n        - mk:\n            call: events.create_callback_endpoint\n            args:\n              http_callback_method: POST\n- done:\n    return: ok\n";
    row("100,000 create_callback_endpoint calls", &mut || {
        let ex = run_to_end("endpoints.yaml", endpoints, 1_000_000);
        assert_eq!(ex.state(), ExecutionState::Succeeded);
        black_box(ex);
    });
    let branches = "- p:\n    parallel:\n      for:\n        value: i\n        range: [1, 99000]\n        steps:\n          - s:\n              assign:\n                - y: ${i}\n- done:\n    return: ok\n";
    row("a parallel for over 99,000 branches", &mut || {
        let ex = run_to_end("branches.yaml", branches, 1_000_000);
        assert_eq!(ex.state(), ExecutionState::Succeeded);
        black_box(ex);
    });
    // Issue #11: each prepend copied the whole list (26 s in a release build on a loaded
    // machine); the list is a persistent vector now.
    let prepend = "- init:\n    assign:\n      - x: ${[1]}\n- grow:\n    for:\n      value: i\n      range: [1, 40000]\n      steps:\n        - step:\n            assign:\n              - x: ${list.prepend(x, i)}\n- done:\n    return: ${x == x}\n";
    row("a list grown by 40,000 list.prepend calls", &mut || {
        let ex = run_to_end("prepend.yaml", prepend, 1_000_000);
        assert_eq!(ex.state(), ExecutionState::Succeeded);
        black_box(ex);
    });
    let plus = prepend.replace("list.prepend(x, i)", "x + [i]");
    row("a list grown by 40,000 sums x + [i]", &mut || {
        let ex = run_to_end("plus.yaml", &plus, 1_000_000);
        assert_eq!(ex.state(), ExecutionState::Succeeded);
        black_box(ex);
    });
    let failing = "- p:\n    parallel:\n      for:\n        value: i\n        range: [1, 99000]\n        steps:\n          - s:\n              switch:\n                - condition: ${i == 99000}\n                  raise: boom\n          - w:\n              call: sys.sleep\n              args:\n                seconds: 10\n";
    row(
        "99,000 branches, the last fails: 98,999 stopped",
        &mut || {
            let ex = run_to_end("abort.yaml", failing, 1_000_000);
            assert_eq!(ex.state(), ExecutionState::Failed);
            black_box(ex);
        },
    );
}
