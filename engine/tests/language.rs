//! The workflow language by example (SPEC §4–§6), in the `give(input, output)` style of jaq.

use std::rc::Rc;

use wfsim_engine::defn;
use wfsim_engine::error::tags;
use wfsim_engine::interp::Outcome;
use wfsim_engine::stdlib::LogPayload;
use wfsim_engine::{ExecutionState, SimTime, Value};
use wfsim_harness::runner::{self, RunConfig, ScriptedRequest};

fn config() -> RunConfig {
    RunConfig::default()
}

fn run_with(yaml: &str, config: &RunConfig, script: &[ScriptedRequest]) -> runner::Run {
    let wf = defn::load("test.yaml", yaml).unwrap_or_else(|e| panic!("{e:?}"));
    runner::run(Rc::new(wf), "test", config, script)
}

fn json(v: &Value) -> serde_json::Value {
    v.to_json().unwrap()
}

/// The workflow succeeds with `want` (JSON).
fn run_ok(yaml: &str, want: &str) {
    let run = run_with(yaml, &config(), &[]);
    match run.execution.outcome() {
        Some(Outcome::Succeeded(v)) => {
            let want: serde_json::Value = serde_json::from_str(want).unwrap();
            assert_eq!(json(v), want, "{yaml}");
        }
        other => panic!("{yaml}\nexpected success, got {other:?}"),
    }
}

/// The workflow fails with these tags.
fn run_err(yaml: &str, want_tags: &[&str]) -> Value {
    let run = run_with(yaml, &config(), &[]);
    match run.execution.outcome() {
        Some(Outcome::Failed(e)) => {
            assert_eq!(tags(e), want_tags, "{yaml}\n{e:?}");
            e.error.clone()
        }
        other => panic!("{yaml}\nexpected failure, got {other:?}"),
    }
}

#[test]
fn assign_and_return() {
    run_ok(
        "- a:\n    assign:\n      - x: 1\n      - y: ${x + 1}\n- b:\n    return: ${[x, y]}\n",
        "[1, 2]",
    );
    run_ok(
        "- a:\n    assign:\n      - m: {}\n      - m.k: 1\n      - m[\"j\"]: 2\n      - l: [1, 2]\n      - l[1]: 5\n- b:\n    return: [\"${m}\", \"${l}\"]\n",
        r#"[{"j": 2, "k": 1}, [1, 5]]"#,
    );
    run_ok("- a:\n    assign:\n      - x: 1\n", "null");
}

#[test]
fn switch_next_and_end() {
    let yaml = "- init:\n    assign:\n      - x: 50\n- check:\n    switch:\n      - condition: ${x < 10}\n        next: small\n      - condition: ${x >= 10}\n        next: big\n- small:\n    return: small\n- big:\n    return: big\n";
    run_ok(yaml, r#""big""#);
    run_ok("- a:\n    next: end\n- b:\n    return: 1\n", "null");
    run_ok(
        "- a:\n    switch:\n      - condition: false\n        return: 1\n- b:\n    return: 2\n",
        "2",
    );
    run_err(
        "- a:\n    switch:\n      - condition: 1\n        return: 1\n",
        &["TypeError"],
    );
}

#[test]
fn loops_and_scope() {
    run_ok(
        "- init:\n    assign:\n      - s: 0\n- loop:\n    for:\n      value: v\n      index: i\n      range: [1, 5]\n      steps:\n        - add:\n            assign:\n              - s: ${s + v * 10 + i}\n- done:\n    return: ${s}\n",
        "160",
    );
    // Variables made in the loop do not outlive it; outer ones keep their updates.
    run_ok(
        "- init:\n    assign:\n      - out: 0\n- loop:\n    for:\n      value: v\n      in: [1, 2]\n      steps:\n        - a:\n            assign:\n              - inner: ${v}\n              - out: ${v}\n- done:\n    return: ${[out, default(map.get({}, \"x\"), \"none\")]}\n",
        r#"[2, "none"]"#,
    );
    run_ok(
        "- init:\n    assign:\n      - s: []\n- loop:\n    for:\n      value: v\n      in: [1, 2, 3, 4]\n      steps:\n        - skip:\n            switch:\n              - condition: ${v == 2}\n                next: continue\n              - condition: ${v == 4}\n                next: break\n        - add:\n            assign:\n              - s: ${s + [v]}\n- done:\n    return: ${s}\n",
        "[1, 3]",
    );
}

#[test]
fn subworkflows() {
    let yaml = "main:\n  params: [args]\n  steps:\n    - a:\n        call: greet\n        args:\n          name: ${args.who}\n        result: r\n    - b:\n        return: ${r}\ngreet:\n  params: [name, {greeting: Hello}]\n  steps:\n    - r:\n        return: ${greeting + \", \" + name}\n";
    let wf = defn::load("t.yaml", yaml).unwrap();
    let cfg = RunConfig {
        argument: Some(Value::map([("who", Value::str("Ada"))])),
        ..config()
    };
    let run = runner::run(Rc::new(wf), "t", &cfg, &[]);
    assert_eq!(
        run.execution.outcome(),
        Some(&Outcome::Succeeded(Value::str("Hello, Ada")))
    );
    let recurse = "main:\n  steps:\n    - a:\n        call: f\n        args: {n: 0}\n        result: r\n    - b:\n        return: ${r}\nf:\n  params: [n]\n  steps:\n    - a:\n        call: f\n        args: {n: \"${n + 1}\"}\n        result: r\n    - b:\n        return: ${r}\n";
    run_err(recurse, &["RecursionError"]);
}

#[test]
fn errors_try_except_raise() {
    run_ok(
        "- t:\n    try:\n      steps:\n        - a:\n            assign:\n              - x: ${1 / 0}\n    except:\n      as: e\n      steps:\n        - r:\n            return: ${e.tags}\n",
        r#"["ZeroDivisionError"]"#,
    );
    run_ok(
        "- t:\n    try:\n      steps:\n        - a:\n            raise: boom\n    except:\n      as: e\n      steps:\n        - r:\n            return: ${e}\n",
        r#""boom""#,
    );
    let e = run_err(
        "- a:\n    raise:\n      code: 7\n      tags: [Custom]\n",
        &["Custom"],
    );
    assert_eq!(e.get("code"), Some(&Value::Int(7)));
    run_err("- a:\n    return: ${missing}\n", &["KeyError"]);
    run_err("- a:\n    return: ${[1][3]}\n", &["IndexError"]);
}

#[test]
fn limits() {
    run_err(
        "- a:\n    assign:\n      - i: 0\n- b:\n    assign:\n      - i: ${i + 1}\n    next: b\n",
        &["ResourceLimitError"],
    );
}

#[test]
fn parallel_branches_share_and_fail() {
    run_ok(
        "- init:\n    assign:\n      - total: 0\n- p:\n    parallel:\n      shared: [total]\n      for:\n        value: v\n        in: [1, 2, 3, 4]\n        steps:\n          - add:\n              assign:\n                - total: ${total + v}\n- done:\n    return: ${total}\n",
        "10",
    );
    let e = run_err(
        "- p:\n    parallel:\n      exception_policy: continueAll\n      branches:\n        - bad:\n            steps:\n              - f:\n                  raise: one\n        - good:\n            steps:\n              - ok:\n                  assign:\n                    - x: 1\n",
        &["UnhandledBranchError"],
    );
    assert!(e.get("branches").is_some());
}

#[test]
fn sys_log_and_sleep() {
    let yaml = "- a:\n    call: sys.log\n    args:\n      text: hi\n      severity: INFO\n- s:\n    call: sys.sleep\n    args:\n      seconds: 5\n- b:\n    call: sys.log\n    args:\n      data: ${sys.now()}\n";
    let run = run_with(yaml, &config(), &[]);
    let logs = run.execution.logs();
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[0].at, SimTime::ZERO);
    assert_eq!(logs[0].payload, LogPayload::Text("hi".into()));
    assert_eq!(logs[1].at, SimTime::from_secs(5));
    assert_eq!(logs[1].severity, "DEFAULT");
    assert_eq!(
        logs[1].payload,
        LogPayload::Data(Value::Double(1_704_067_205.0))
    );
    assert_eq!(run.execution.ended_at(), Some(SimTime::from_secs(5)));
}

const GUIDE_BASIC: &str = include_str!("../../fixtures/workflows/basic_callback.yaml");

#[test]
fn guide_basic_callback() {
    let script = [ScriptedRequest {
        at: SimTime::from_secs(5),
        endpoint: 0,
        query: "a=1".into(),
        ..ScriptedRequest::default()
    }];
    let run = run_with(GUIDE_BASIC, &config(), &script);
    assert_eq!(run.execution.state(), ExecutionState::Succeeded);
    assert_eq!(run.execution.ended_at(), Some(SimTime::from_secs(5)));
    assert_eq!(run.requests[0].status, 200);
    assert_eq!(run.requests[0].taken_at, Some(SimTime::from_secs(5)));
    let Some(Outcome::Succeeded(result)) = run.execution.outcome() else {
        panic!()
    };
    assert_eq!(result.get("method"), Some(&Value::str("GET")));
    assert_eq!(result.get("body"), Some(&Value::Null));
    let logs = run.execution.logs();
    assert_eq!(logs.len(), 2);
    assert!(matches!(&logs[1].payload, LogPayload::Text(t) if t.starts_with("Received {")));
}

#[test]
fn guide_basic_callback_times_out() {
    let run = run_with(GUIDE_BASIC, &config(), &[]);
    let Some(Outcome::Failed(e)) = run.execution.outcome() else {
        panic!("{:?}", run.execution)
    };
    assert_eq!(tags(e), ["TimeoutError"]);
    assert_eq!(
        e.get("message"),
        Some(&Value::str("timed out waiting for callback after 3600s"))
    );
    assert_eq!(run.execution.ended_at(), Some(SimTime::from_secs(3600)));
}

const GUIDE_RETRY: &str = include_str!("../../fixtures/workflows/retry_loop.yaml");

/// SPEC §5, the worked example, to the second.
#[test]
fn rt_2_guide_retry_timeline() {
    let run = run_with(GUIDE_RETRY, &config(), &[]);
    assert_eq!(run.execution.state(), ExecutionState::Failed);
    assert_eq!(run.execution.ended_at(), Some(SimTime::from_secs(385)));
    let warnings: Vec<u64> = run
        .execution
        .logs()
        .iter()
        .filter(|l| l.severity == "WARNING")
        .map(|l| l.at.as_nanos() / 1_000_000_000)
        .collect();
    assert_eq!(warnings, vec![60, 121, 183, 247, 315, 385]);
}

/// SPEC §5: a request during the back-off is buffered and taken by the next await.
#[test]
fn rt_2_request_during_backoff_is_taken_by_the_next_await() {
    let script = [ScriptedRequest {
        at: SimTime::from_secs(122),
        endpoint: 0,
        ..ScriptedRequest::default()
    }];
    let run = run_with(GUIDE_RETRY, &config(), &script);
    assert_eq!(run.requests[0].status, 200);
    assert_eq!(run.requests[0].taken_at, Some(SimTime::from_secs(123)));
    assert_eq!(run.execution.state(), ExecutionState::Succeeded);
    assert_eq!(run.execution.ended_at(), Some(SimTime::from_secs(123)));
}

/// CB-12: the seed chooses the branch schedule; one seed always chooses the same.
#[test]
fn cb_12_seed_chooses_branch_order() {
    let yaml = include_str!("../../fixtures/workflows/parallel_ten.yaml");
    let order = |seed: u64| -> Vec<u64> {
        let cfg = RunConfig { seed, ..config() };
        let run = run_with(yaml, &cfg, &[]);
        run.execution
            .trace()
            .iter()
            .filter_map(|(_, t)| match t {
                wfsim_engine::interp::Trace::AwaitBlocked { thread, .. } => Some(thread.0),
                _ => None,
            })
            .collect()
    };
    let orders: Vec<Vec<u64>> = (0..6).map(order).collect();
    assert!(orders.iter().all(|o| o.len() == 10));
    assert_eq!(orders[3], order(3), "a seed replays exactly");
    let distinct: std::collections::BTreeSet<&Vec<u64>> = orders.iter().collect();
    assert!(
        distinct.len() >= 3,
        "six seeds gave only {} orders",
        distinct.len()
    );
}

/// A library call's arguments land in their parameters' places whatever order the step
/// gives them in (SPEC §6: arguments by name).
#[test]
fn library_call_arguments_by_name_in_any_order() {
    let call = |args: &str| {
        format!(
            "- a:\n    call: default\n    args: {args}\n    result: r\n- b:\n    return: ${{r}}\n"
        )
    };
    run_ok(&call("{default_value: 2, value: null}"), "2");
    run_ok(&call("{value: 1, default_value: 2}"), "1");
    run_ok(&call("{default_value: 2, value: 3}"), "3");
}
