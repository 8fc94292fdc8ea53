//! Hostile definitions and values (the limits of `wfsim_engine::limits`, SPEC §7): each ends
//! cleanly, a positioned deploy error or a FAILED execution with the right tag, never a
//! panic, an abort or a hang. The inputs are the probe's own reproducers.

mod common;

use common::{TestEffects, fails_with, run};
use wfsim_engine::error::tags;
use wfsim_engine::interp::Outcome;
use wfsim_engine::limits::{self, STEPS_MAX};
use wfsim_engine::{Value, defn};

#[test]
fn a_value_nested_in_a_loop_stops_at_the_depth_limit() {
    let yaml = "main:\n  steps:\n    - init:\n        assign:\n          - x: 0\n    - grow:\n        assign:\n          - x: ${[x]}\n        next: grow\n";
    let msg = fails_with(yaml, "ResourceLimitError");
    assert!(msg.contains("nest 129 levels"), "{msg}");
}

#[test]
fn a_string_doubled_thirty_times_stops_at_the_size_limit() {
    let yaml = "main:\n  steps:\n    - init:\n        assign:\n          - s: ab\n    - grow:\n        for:\n          value: i\n          range: [1, 30]\n          steps:\n            - twice:\n                assign:\n                  - s: ${s + s}\n";
    let msg = fails_with(yaml, "ResourceLimitError");
    assert!(msg.contains("512 KiB"), "{msg}");
    let lists = yaml.replace("- s: ab", "- s: [1, 2]");
    fails_with(&lists, "ResourceLimitError");
}

/// SPEC §7: `s: ${s + "x"}` in a loop copies `s` at every step, so the bytes `+` builds
/// grow with the square of the steps. They are counted over the execution: the 46,341st
/// append is the first to pass 1 GiB (46,341 × 46,342 / 2 bytes), and raises.
#[test]
fn a_string_grown_by_plus_in_a_loop_stops_at_the_concatenation_budget() {
    let yaml = "main:\n  steps:\n    - init:\n        assign:\n          - s: \"\"\n    - grow:\n        for:\n          value: i\n          range: [1, 90000]\n          steps:\n            - add:\n                assign:\n                  - s: ${s + \"x\"}\n";
    let msg = fails_with(yaml, "ResourceLimitError");
    assert_eq!(limits::CONCAT_BYTES_MAX, 1 << 30);
    assert!(
        msg.contains("would have built 1073767311 bytes") && msg.contains("1 GiB"),
        "{msg}"
    );
    // Under the budget, the same loop runs to its end.
    let short = yaml.replace("[1, 90000]", "[1, 46340]");
    let r = run(&short);
    assert!(
        matches!(r.execution.outcome(), Some(Outcome::Succeeded(_))),
        "{:?}",
        r.execution.outcome()
    );
}

#[test]
fn retry_always_with_endless_max_retries_ends_at_the_step_limit() {
    // max_retries past u32::MAX, no back-off: every retry counts as a step.
    let yaml = "main:\n  steps:\n    - t:\n        try:\n          raise: boom\n        retry:\n          predicate: ${retry.always}\n          max_retries: 1099511627776\n          backoff:\n            initial_delay: 0\n            max_delay: 0\n            multiplier: 1\n";
    let r = run(yaml);
    match r.execution.outcome() {
        Some(Outcome::Failed(e)) => assert_eq!(tags(e), ["ResourceLimitError"]),
        other => panic!("{other:?}"),
    }
    assert!(r.execution.steps() <= STEPS_MAX + 1);
}

#[test]
fn no_built_in_predicate_retries_a_resource_limit_error() {
    let e = wfsim_engine::error::builtin(
        wfsim_engine::error::Tag::ResourceLimitError,
        "the execution ran more than 100000 steps",
    );
    let mut host = TestEffects::default();
    for p in [
        "retry.always",
        "http.default_retry_predicate",
        "http.default_retry_predicate_non_idempotent",
    ] {
        let again = wfsim_engine::stdlib::call(p, vec![Some(e.clone())], &mut host);
        assert_eq!(again, Ok(Value::Bool(false)), "{p}");
    }
    let other = Value::str("boom");
    let again = wfsim_engine::stdlib::call("retry.always", vec![Some(other)], &mut host);
    assert_eq!(again, Ok(Value::Bool(true)));
}

#[test]
fn time_parse_of_a_non_ascii_zone_is_a_value_error() {
    let yaml =
        "main:\n  steps:\n    - p:\n        return: ${time.parse(\"2024-01-01T00:00:00é1234\")}\n";
    fails_with(yaml, "ValueError");
}

#[test]
fn find_all_and_replace_all_stop_at_the_size_limit() {
    let big = "main:\n  steps:\n    - a:\n        assign:\n          - s: ${text.replace_all(\"x\", \"x\", \"aaaaaaaaaaaaaaaa\")}\n";
    assert!(matches!(
        run(big).execution.outcome(),
        Some(Outcome::Succeeded(_))
    ));
    // 16 -> 256 -> 4,096 -> 65,536 characters; then a find_all of 65,536 matches.
    let yaml = "main:\n  steps:\n    - a:\n        assign:\n          - s: aaaaaaaaaaaaaaaa\n          - s: ${text.replace_all(s, \"a\", \"aaaaaaaaaaaaaaaa\")}\n          - s: ${text.replace_all(s, \"a\", \"aaaaaaaaaaaaaaaa\")}\n          - s: ${text.replace_all(s, \"a\", \"aaaaaaaaaaaaaaaa\")}\n          - n: ${len(text.find_all(s, \"a\"))}\n";
    let msg = fails_with(yaml, "ResourceLimitError");
    assert!(msg.contains("text.find_all"), "{msg}");
    let more = yaml.replace(
        "          - n: ${len(text.find_all(s, \"a\"))}\n",
        "          - s: ${text.replace_all(s, \"a\", \"aaaaaaaaaaaaaaaa\")}\n",
    );
    let msg = fails_with(&more, "ResourceLimitError");
    assert!(msg.contains("text.replace_all"), "{msg}");
}

#[test]
fn deep_and_large_definitions_are_refused_with_a_position() {
    let deep = format!("{}1\n", "- ".repeat(12_000));
    let e = defn::load("deep.yaml", &deep).unwrap_err();
    assert_eq!((e[0].pos.line, e[0].pos.col), (1, 257));
    assert!(e[0].to_string().starts_with("deep.yaml:1:257:"), "{}", e[0]);
    // To the byte: a source of exactly 128 KiB loads, one byte more does not.
    let frame = "main:\n  steps:\n    - a:\n        return: \"\"\n";
    let exact = frame.replace(
        "\"\"",
        &format!("\"{}\"", "x".repeat(limits::SOURCE_BYTES_MAX - frame.len())),
    );
    assert_eq!(exact.len(), limits::SOURCE_BYTES_MAX);
    assert!(defn::load("exact.yaml", &exact).is_ok());
    let over = exact.replace("\"x", "\"xx");
    assert!(
        defn::load("over.yaml", &over).unwrap_err()[0]
            .message
            .contains("131073 bytes")
    );
    let large = format!(
        "main:\n  steps:\n    - a:\n        return: \"{}\"\n",
        "x".repeat(limits::SOURCE_BYTES_MAX)
    );
    let e = defn::load("large.yaml", &large).unwrap_err();
    assert!(e[0].message.contains("128 KiB"), "{}", e[0]);
}

#[test]
fn expressions_and_targets_are_limited_to_400_characters() {
    let padded = |n: usize| format!("${{{}1}}", "0+".repeat((n - 1) / 2));
    let at = padded(399);
    let inner = &at[2..at.len() - 1];
    assert_eq!(inner.chars().count(), 399);
    let ok = format!("- a:\n    return: '{at}'\n");
    assert!(defn::load("ok.yaml", &ok).is_ok());
    let over = format!("- a:\n    return: '${{{inner}+1}}'\n");
    let e = defn::load("over.yaml", &over).unwrap_err();
    assert!(
        e[0].message.contains("an expression of 401 characters"),
        "{e:?}"
    );
    // An assignment target, likewise.
    let target = |n: usize| format!("m{}", ".a".repeat((n - 1) / 2));
    let t400 = format!("- a:\n    assign:\n      - {}: 1\n", target(399));
    assert!(
        defn::load("t.yaml", &t400).is_ok(),
        "399 characters is within the limit"
    );
    let t401 = format!("- a:\n    assign:\n      - {}: 1\n", target(401));
    let e = defn::load("t.yaml", &t401).unwrap_err();
    assert!(
        e[0].message
            .contains("an assignment target of 401 characters"),
        "{e:?}"
    );
}

#[test]
fn many_endpoints_and_branches_run_to_the_end() {
    // Formerly quadratic; now linear. `cargo xtask bench` prints their times.
    let endpoints = "main:\n  steps:\n    - loop:\n        for:\n          value: i\n          range: [1, 20000]\n          steps:\n            - mk:\n                call: events.create_callback_endpoint\n                args:\n                  http_callback_method: POST\n    - done:\n        return: ok\n";
    let r = run(endpoints);
    assert_eq!(r.execution.with_callbacks(|c| c.endpoints().len()), 20_000);
    assert!(matches!(r.execution.outcome(), Some(Outcome::Succeeded(_))));
    let branches = "main:\n  steps:\n    - p:\n        parallel:\n          for:\n            value: i\n            range: [1, 20000]\n            steps:\n              - s:\n                  assign:\n                    - y: ${i}\n    - done:\n        return: ok\n";
    match run(branches).execution.outcome() {
        Some(Outcome::Succeeded(v)) => assert_eq!(v, &Value::str("ok")),
        other => panic!("{other:?}"),
    }
}
