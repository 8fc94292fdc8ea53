//! SPEC §5 retries, stated behaviour by behaviour: back-off parameters of both number types
//! and `${retry.default_backoff}` in a user's own policy (RT-2), negative values refused,
//! both built-in predicates for and against each error (RT-1), and a retry counter that
//! stops at `max_retries` (RT-3). Each test kills a mutant that survived the whole suite.

mod common;

use std::time::Duration;

use common::{TestEffects, run};

use wfsim_engine::error::{Raised, message, tags};
use wfsim_engine::interp::{Outcome, Trace};
use wfsim_engine::stdlib;
use wfsim_engine::{SimTime, Value};
use wfsim_harness::runner;

/// A step that raises `raised` (YAML flow) every time, retried by `retry` (YAML, indented
/// under `retry:`).
fn raising(raised: &str, retry: &str) -> String {
    format!(
        "- t:\n    try:\n      steps:\n        - note:\n            call: sys.log\n            args:\n              text: attempt\n        - fail:\n            raise: {raised}\n    retry:\n{retry}"
    )
}

fn policy(max_retries: &str, backoff: &str) -> String {
    format!(
        "      predicate: ${{retry.always}}\n      max_retries: {max_retries}\n      backoff: {backoff}\n"
    )
}

/// The instants (seconds) at which each back-off ends, from the trace.
fn backoffs(run: &runner::Run) -> Vec<f64> {
    run.execution
        .trace()
        .iter()
        .filter_map(|(_, t)| match t {
            Trace::Backoff { until, .. } => Some(until.as_secs_f64()),
            _ => None,
        })
        .collect()
}

fn attempts(run: &runner::Run) -> usize {
    run.execution.logs().len()
}

fn failed(run: &runner::Run) -> &Raised {
    match run.execution.outcome() {
        Some(Outcome::Failed(e)) => e,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn rt_2_double_backoff_parameters() {
    let r = run(&raising(
        "boom",
        &policy(
            "3",
            "\n        initial_delay: 0.5\n        max_delay: 10.5\n        multiplier: 1.5",
        ),
    ));
    assert_eq!(failed(&r), &Value::str("boom"));
    assert_eq!(backoffs(&r), [0.5, 1.25, 2.375]);
    assert_eq!(attempts(&r), 4);
    assert_eq!(
        r.execution.ended_at(),
        Some(SimTime::from_nanos(2_375_000_000))
    );
}

#[test]
fn rt_2_integer_backoff_parameters() {
    let r = run(&raising(
        "boom",
        &policy(
            "3",
            "\n        initial_delay: 2\n        max_delay: 5\n        multiplier: 2",
        ),
    ));
    // 2, then 4, then min(8, 5).
    assert_eq!(backoffs(&r), [2.0, 6.0, 11.0]);
}

#[test]
fn rt_2_default_backoff_in_a_users_own_retry() {
    let r = run(&raising("boom", &policy("2", "${retry.default_backoff}")));
    assert_eq!(failed(&r), &Value::str("boom"));
    // RT-1: initial 1 s, multiplier 1.25.
    assert_eq!(backoffs(&r), [1.0, 2.25]);
}

#[test]
fn rt_3_the_retry_counter_stops_at_max_retries() {
    for n in [0u32, 1, 2, 5] {
        let r = run(&raising(
            "boom",
            &policy(&n.to_string(), "${retry.default_backoff}"),
        ));
        assert_eq!(failed(&r), &Value::str("boom"), "max_retries {n}");
        assert_eq!(attempts(&r), n as usize + 1, "max_retries {n}");
        assert_eq!(backoffs(&r).len(), n as usize);
    }
}

#[test]
fn rt_2_negative_values_are_value_errors() {
    let cases = [
        policy("-1", "${retry.default_backoff}"),
        policy(
            "2",
            "\n        initial_delay: -1\n        max_delay: 10\n        multiplier: 2",
        ),
        policy(
            "2",
            "\n        initial_delay: 1\n        max_delay: -0.5\n        multiplier: 2",
        ),
        policy(
            "2",
            "\n        initial_delay: 1\n        max_delay: 10\n        multiplier: -1.5",
        ),
        policy(
            "2",
            "\n        initial_delay: -0.25\n        max_delay: 10\n        multiplier: 2",
        ),
    ];
    for retry in cases {
        let r = run(&raising("boom", &retry));
        let e = failed(&r);
        assert_eq!(tags(e), ["ValueError"], "{retry}: {e:?}");
        // The policy is read before the first attempt, so nothing ran.
        assert!(backoffs(&r).is_empty(), "{retry}");
        assert_eq!(attempts(&r), 0, "{retry}");
    }
    // Zero is not negative.
    let zero = policy(
        "1",
        "\n        initial_delay: 0\n        max_delay: 0.0\n        multiplier: 0",
    );
    let r = run(&raising("boom", &zero));
    assert_eq!(failed(&r), &Value::str("boom"));
    assert_eq!(backoffs(&r), [0.0]);
}

fn predicate(name: &str, error: &str) -> bool {
    let e = Value::from_json(&serde_json::from_str(error).unwrap());
    match stdlib::call(name, vec![Some(e)], &mut TestEffects::default()) {
        Ok(Value::Bool(b)) => b,
        other => panic!("{name}({error}): {other:?}"),
    }
}

/// RT-1: which errors each built-in predicate retries, for and against.
#[test]
fn rt_1_default_predicates_for_and_against() {
    let idempotent = "http.default_retry_predicate";
    let non_idempotent = "http.default_retry_predicate_non_idempotent";
    let cases: &[(&str, bool, bool)] = &[
        (r#"{"tags": ["ConnectionError"]}"#, true, false),
        (r#"{"tags": ["ConnectionFailedError"]}"#, true, true),
        (r#"{"tags": ["TimeoutError"]}"#, true, false),
        (r#"{"tags": ["HttpError"], "code": 429}"#, true, true),
        (r#"{"tags": ["HttpError"], "code": 502}"#, true, false),
        (r#"{"tags": ["HttpError"], "code": 503}"#, true, true),
        (r#"{"tags": ["HttpError"], "code": 504}"#, true, false),
        (r#"{"tags": ["HttpError"], "code": 500}"#, false, false),
        (r#"{"tags": ["HttpError"], "code": 404}"#, false, false),
        (r#"{"tags": ["HttpError"]}"#, false, false),
        (r#"{"tags": ["ValueError"], "code": 503}"#, false, false),
        (
            r#"{"tags": ["ResourceLimitError", "ConnectionError"]}"#,
            false,
            false,
        ),
        (r#""ConnectionError""#, false, false),
        (r#"{"tags": []}"#, false, false),
    ];
    for &(error, want, want_non_idempotent) in cases {
        assert_eq!(predicate(idempotent, error), want, "{idempotent}({error})");
        assert_eq!(
            predicate(non_idempotent, error),
            want_non_idempotent,
            "{non_idempotent}({error})"
        );
    }
}

/// RT-1 through a step's `retry:`: the policies retry what their predicate says, five
/// times, with the default back-off.
#[test]
fn rt_1_default_retry_policies_in_a_step() {
    let connection = "{tags: [ConnectionError], message: lost}";
    let r = run(&raising(connection, "      ${http.default_retry}\n"));
    assert_eq!(attempts(&r), 6);
    assert_eq!(backoffs(&r).len(), 5);
    assert_eq!(message(failed(&r)).as_deref(), Some("lost"));
    let r = run(&raising(
        connection,
        "      ${http.default_retry_non_idempotent}\n",
    ));
    assert_eq!(attempts(&r), 1, "a plain ConnectionError is not retried");
    let r = run(&raising(
        "{tags: [ConnectionFailedError]}",
        "      ${http.default_retry_non_idempotent}\n",
    ));
    assert_eq!(attempts(&r), 6);
}

/// CB-1: an endpoint records when it was created (the report's `created_at`), on the
/// execution's clock.
#[test]
fn cb_1_endpoints_record_their_creation_time() {
    let yaml = "- first:\n    call: events.create_callback_endpoint\n- wait:\n    call: sys.sleep\n    args:\n      seconds: 7.5\n- second:\n    call: events.create_callback_endpoint\n- done:\n    return: ok\n";
    let r = run(yaml);
    let created: Vec<SimTime> = r
        .execution
        .with_callbacks(|c| c.endpoints().iter().map(|e| e.created_at()).collect());
    assert_eq!(
        created,
        [
            SimTime::ZERO,
            SimTime::ZERO.saturating_add(Duration::from_millis(7500))
        ]
    );
}

/// The `backoff-off-by-one` defect (test-only: a conformance run must catch it) makes retry
/// k wait the delay RT-2 gives retry k + 1; without it, retry k waits its own.
#[test]
fn the_backoff_off_by_one_defect_waits_the_next_retrys_delay() {
    use wfsim_engine::defect::Defect;
    use wfsim_engine::interp::ExecutionConfig;
    let yaml = raising(
        "boom",
        &policy(
            "2",
            "\n        initial_delay: 1\n        max_delay: 100\n        multiplier: 2",
        ),
    );
    let until = |defect: Option<Defect>| -> Vec<f64> {
        let mut ex = common::start_with(
            &yaml,
            ExecutionConfig {
                defect,
                ..common::exec_config()
            },
        );
        while let Some(at) = ex.poll_timeout() {
            ex.handle_timeout(at);
        }
        ex.trace()
            .iter()
            .filter_map(|(_, t)| match t {
                Trace::Backoff { until, .. } => Some(until.as_secs_f64()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(until(None), [1.0, 3.0]);
    assert_eq!(until(Some(Defect::BackoffOffByOne)), [2.0, 6.0]);
}
