//! `range: ${[from, to]}`, the form of Google's iteration reference: an expression giving
//! a list of two numbers, evaluated when the loop starts (SPEC §6).

mod common;

use common::{fails_with, run};
use wfsim_engine::interp::Outcome;

/// Sums a loop over `range`, with `n` set to 4 first.
fn sum(range: &str) -> String {
    format!(
        "main:\n  params: [args]\n  steps:\n    - init:\n        assign:\n          - n: 4\n          - total: 0\n    - loop:\n        for:\n          value: v\n          range: {range}\n          steps:\n            - add:\n                assign:\n                  - total: ${{total + v}}\n    - done:\n        return: ${{total}}\n"
    )
}

fn result(yaml: &str) -> serde_json::Value {
    match run(yaml).execution.outcome() {
        Some(Outcome::Succeeded(v)) => v.to_json().unwrap(),
        other => panic!("{yaml}\nexpected success, got {other:?}"),
    }
}

#[test]
fn an_expression_giving_two_numbers_is_a_range() {
    assert_eq!(result(&sum("${[1, n]}")), 10);
    assert_eq!(result(&sum("${[n - 1, n]}")), 7);
    assert_eq!(result(&sum("${[1.5, n]}")), 1.5 + 2.5 + 3.5);
    assert_eq!(result(&sum("${[n, 1]}")), 0, "an empty range");
    // The list form with an expression inside still works.
    assert_eq!(result(&sum("[2, \"${n}\"]")), 9);
}

#[test]
fn the_range_is_evaluated_once_when_the_loop_starts() {
    let yaml = "- init:\n    assign:\n      - n: 3\n      - count: 0\n- loop:\n    for:\n      value: v\n      range: ${[1, n]}\n      steps:\n        - grow:\n            assign:\n              - n: ${n + 1}\n              - count: ${count + 1}\n- done:\n    return: ${count}\n";
    assert_eq!(result(yaml), 3);
}

#[test]
fn a_bad_range_value_raises_at_run_time() {
    let m = fails_with(&sum("${n}"), "TypeError");
    assert_eq!(
        m,
        "'range' needs a list of two numbers, [from, to]; got an integer"
    );
    let m = fails_with(&sum("${[1, 2, 3]}"), "ValueError");
    assert_eq!(
        m,
        "'range' needs a list of two numbers, [from, to]; got a list of 3"
    );
    let m = fails_with(&sum("${[1, \"4\"]}"), "TypeError");
    assert_eq!(m, "'range' needs two numbers, got an integer and a string");
    fails_with(&sum("${[0, 1000000]}"), "ResourceLimitError");
}

#[test]
fn a_bad_range_is_at_the_for_step() {
    let Some(Outcome::Failed(f)) = run(&sum("${[1]}")).execution.outcome().cloned() else {
        panic!("a failure");
    };
    let at: Vec<String> = f
        .stack
        .iter()
        .map(|e| format!("{} {} {}", e.step, e.routine, e.pos))
        .collect();
    assert_eq!(at, ["loop main 8:7"]);
}

#[test]
fn a_range_that_is_neither_a_list_nor_an_expression_is_refused_at_deploy_time() {
    let e: Vec<String> = wfsim_engine::defn::load("w.yaml", &sum("5"))
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        e.contains(
            &"w.yaml:11:18: 'range' is a list of two numbers, [from, to], or an expression giving one"
                .to_owned()
        ),
        "{e:?}"
    );
}
