//! EX-6, EX-7: where an uncaught error was raised: the innermost step of each routine, out
//! through subworkflow calls and parallel branches, with the step's `line:column`.

mod common;

use common::run;
use wfsim_engine::error::{Failure, tags};
use wfsim_engine::interp::Outcome;

/// Runs `yaml`, which must fail; its stack as `step routine line:col`, innermost first.
#[track_caller]
fn stack_of(yaml: &str) -> (Failure, Vec<String>) {
    match run(yaml).execution.outcome() {
        Some(Outcome::Failed(f)) => {
            let stack = f
                .stack
                .iter()
                .map(|e| format!("{} {} {}", e.step, e.routine, e.pos))
                .collect();
            (f.clone(), stack)
        }
        other => panic!("{yaml}\nexpected a failure, got {other:?}"),
    }
}

#[test]
fn ex_6_the_innermost_step_of_main() {
    let yaml = "\
main:
  steps:
    - first:
        assign:
          - n: 1
    - group:
        steps:
          - upper:
              assign:
                - s: ${text.to_upper(n)}
";
    let (f, stack) = stack_of(yaml);
    assert_eq!(tags(&f), ["TypeError"]);
    assert_eq!(stack, ["upper main 8:13"]);
}

#[test]
fn ex_6_through_subworkflow_calls() {
    let yaml = "\
main:
  steps:
    - go:
        call: outer
outer:
  steps:
    - loop:
        for:
          value: i
          in: [1, 2]
          steps:
            - deeper:
                call: inner
                args:
                  x: ${i}
inner:
  params: [x]
  steps:
    - check:
        switch:
          - condition: ${x == 2}
            raise:
              code: 500
              message: two
";
    let (f, stack) = stack_of(yaml);
    assert_eq!(f.get("code"), Some(&wfsim_engine::Value::Int(500)));
    assert_eq!(
        stack,
        ["check inner 19:7", "deeper outer 12:15", "go main 3:7"]
    );
}

#[test]
fn ex_6_a_call_refused_before_the_subworkflow_runs_is_at_the_call_step() {
    let yaml = "\
main:
  steps:
    - go:
        call: sub
sub:
  steps:
    - again:
        call: sub
";
    let (f, stack) = stack_of(yaml);
    assert_eq!(tags(&f), ["RecursionError"]);
    // The 20th call of `sub` is refused at its call step: 19 frames of `sub`, then main.
    assert_eq!(stack.len(), 20, "{stack:?}");
    assert!(
        stack[..19].iter().all(|e| e == "again sub 7:7"),
        "{stack:?}"
    );
    assert_eq!(stack[19], "go main 3:7");
}

#[test]
fn ex_6_through_parallel_branches() {
    let yaml = "\
main:
  steps:
    - fan:
        parallel:
          branches:
            - b1:
                steps:
                  - fine:
                      assign:
                        - a: 1
            - b2:
                steps:
                  - bad:
                      call: helper
helper:
  steps:
    - boom:
        raise: nope
";
    let (f, stack) = stack_of(yaml);
    assert_eq!(tags(&f), ["UnhandledBranchError"]);
    assert_eq!(
        stack,
        ["boom helper 17:7", "bad main 13:21", "fan main 3:7"]
    );
}

#[test]
fn ex_7_a_caught_error_raised_again_is_where_it_is_raised_again() {
    let yaml = "\
main:
  steps:
    - attempt:
        try:
          steps:
            - fail:
                raise: {code: 7, message: first}
        except:
          as: e
          steps:
            - again:
                raise: ${e}
";
    let (f, stack) = stack_of(yaml);
    assert_eq!(f.get("code"), Some(&wfsim_engine::Value::Int(7)));
    assert_eq!(stack, ["again main 11:15"]);
}

#[test]
fn ex_6_an_error_retries_gave_up_on_is_where_the_try_body_raised_it() {
    let yaml = "\
main:
  steps:
    - attempt:
        try:
          steps:
            - fail:
                raise: {code: 503, message: busy, tags: [HttpError]}
        retry:
          predicate: ${retry.always}
          max_retries: 2
          backoff: {initial_delay: 1, max_delay: 1, multiplier: 1}
";
    let (_, stack) = stack_of(yaml);
    assert_eq!(stack, ["fail main 6:15"]);
}

#[test]
fn ex_6_the_step_limit_is_at_the_step_over_it() {
    let yaml = "\
main:
  steps:
    - spin:
        next: spin
";
    let (f, stack) = stack_of(yaml);
    assert_eq!(tags(&f), ["ResourceLimitError"]);
    assert_eq!(stack, ["spin main 3:7"]);
}

#[test]
fn ex_6_a_bare_list_of_steps_is_main() {
    let (_, stack) = stack_of("- a:\n    assign:\n      - x: ${1 / 0}\n");
    assert_eq!(stack, ["a main 1:3"]);
}
