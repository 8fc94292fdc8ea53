//! Interpreter behaviours that mutation testing found no test stating (SPEC §4–§6): ranges
//! of both number types and their limit, `concurrency_limit`, `sys.sleep_until`, missing
//! arguments of `main` and of a subworkflow, the step limit to the step, assignment past a
//! list's end.

mod common;

use std::rc::Rc;

use common::{fails_with, run};
use wfsim_engine::callbacks::Auth;
use wfsim_engine::error::{message, tags};
use wfsim_engine::interp::{Execution, ExecutionConfig, Outcome};
use wfsim_engine::{ExecutionState, SimTime, Value, WallClock, defn};

fn result(yaml: &str) -> serde_json::Value {
    match run(yaml).execution.outcome() {
        Some(Outcome::Succeeded(v)) => v.to_json().unwrap(),
        other => panic!("{yaml}\nexpected success, got {other:?}"),
    }
}

/// The execution fails with `tag` and a message containing `text`.
#[track_caller]
fn fails(yaml: &str, tag: &str, text: &str) {
    let m = fails_with(yaml, tag);
    assert!(m.contains(text), "{yaml}\n'{m}' lacks '{text}'");
}

/// A loop over `range` collecting its values.
fn range(range: &str) -> String {
    format!(
        "- init:\n    assign:\n      - out: []\n- loop:\n    for:\n      value: x\n      range: {range}\n      steps:\n        - add:\n            assign:\n              - out: ${{list.concat(out, x)}}\n- done:\n    return: ${{out}}\n"
    )
}

#[test]
fn ranges_of_integers_and_doubles() {
    assert_eq!(result(&range("[1, 3]")), serde_json::json!([1, 2, 3]));
    assert_eq!(result(&range("[3, 1]")), serde_json::json!([]));
    assert_eq!(result(&range("[2, 2]")), serde_json::json!([2]));
    assert_eq!(
        result(&range("[1.5, 3.5]")),
        serde_json::json!([1.5, 2.5, 3.5])
    );
    assert_eq!(
        result(&range("[1, 3.5]")),
        serde_json::json!([1.0, 2.0, 3.0])
    );
    assert_eq!(result(&range("[0.5, 2]")), serde_json::json!([0.5, 1.5]));
    assert_eq!(result(&range("[2.5, 1]")), serde_json::json!([]));
    let r = run(&range("[1, 3.5]"));
    let Some(Outcome::Succeeded(Value::List(items))) = r.execution.outcome() else {
        panic!("a list");
    };
    assert!(
        items.iter().all(|v| matches!(v, Value::Double(_))),
        "a double range yields doubles"
    );
}

#[test]
fn a_range_spans_at_most_the_step_limit() {
    let count = |r: &str| {
        format!(
            "- loop:\n    for:\n      value: x\n      range: {r}\n      steps:\n        - s:\n            assign:\n              - y: ${{x}}\n"
        )
    };
    // 100,001 values: allowed, then the steps run out.
    fails(
        &count("[1, 100001]"),
        "ResourceLimitError",
        "ran more than 100000 steps",
    );
    fails(
        &count("[0.5, 100000.5]"),
        "ResourceLimitError",
        "ran more than 100000 steps",
    );
    // One more: refused before a value is made.
    fails(
        &count("[1, 100002]"),
        "ResourceLimitError",
        "the range spans 100001",
    );
    fails(
        &count("[0.5, 100001.5]"),
        "ResourceLimitError",
        "the range spans 100001",
    );
    fails(
        &count("[-9000000000000000000, 9000000000000000000]"),
        "ResourceLimitError",
        "the range spans",
    );
}

#[test]
fn concurrency_limit_is_a_positive_integer() {
    let par = |limit: &str| {
        format!(
            "- init:\n    assign:\n      - n: 0\n- p:\n    parallel:\n      shared: [n]\n      concurrency_limit: {limit}\n      for:\n        value: i\n        range: [1, 3]\n        steps:\n          - add:\n              assign:\n                - n: ${{n + i}}\n- done:\n    return: ${{n}}\n"
        )
    };
    assert_eq!(result(&par("1")), serde_json::json!(6));
    assert_eq!(result(&par("2")), serde_json::json!(6));
    fails(
        &par("0"),
        "ValueError",
        "concurrency_limit must be a positive integer, got 0",
    );
    fails(&par("-1"), "ValueError", "got -1");
    fails(&par("1.5"), "ValueError", "got 1.5");
}

#[test]
fn sleep_until_waits_for_the_wall_clock_instant() {
    // The default clock starts at 2024-01-01T00:00:00Z.
    let until = |t: &str| {
        format!(
            "- s:\n    call: sys.sleep_until\n    args:\n      time: \"{t}\"\n- done:\n    return: ${{sys.now()}}\n"
        )
    };
    let r = run(&until("2024-01-01T00:00:10.5Z"));
    assert_eq!(
        r.execution.ended_at(),
        Some(SimTime::from_nanos(10_500_000_000))
    );
    assert_eq!(
        r.execution.outcome(),
        Some(&Outcome::Succeeded(Value::Double(1_704_067_210.5)))
    );
    // A time already past: no wait.
    let r = run(&until("2023-12-31T23:00:00Z"));
    assert_eq!(r.execution.ended_at(), Some(SimTime::ZERO));
    fails(
        &until("tomorrow"),
        "ValueError",
        "'tomorrow' is not an RFC 3339 time",
    );
    let not_text = "- s:\n    call: sys.sleep_until\n    args:\n      time: 5\n";
    fails(
        not_text,
        "TypeError",
        "time must be a string, got an integer",
    );
    // Messages name types with their article, never Rust's debug text (issue #10).
    let text_seconds = "- s:\n    call: sys.sleep\n    args:\n      seconds: \"10\"\n";
    fails(
        text_seconds,
        "TypeError",
        "sys.sleep: seconds must be a number, got a string",
    );
}

#[test]
fn missing_arguments_of_main_and_of_a_subworkflow() {
    // main's parameter without an argument is null.
    let main = "main:\n  params: [args]\n  steps:\n    - done:\n        return: ${args}\n";
    assert_eq!(result(main), serde_json::Value::Null);
    // A subworkflow's is an error at run time, naming both, where deploy cannot see it: a
    // retry predicate is called with the error alone.
    let sub = "main:\n  steps:\n    - t:\n        try:\n          raise: boom\n        retry:\n          predicate: ${judge}\n          max_retries: 1\n          backoff:\n            initial_delay: 1\n            max_delay: 1\n            multiplier: 1\njudge:\n  params: [e, strict]\n  steps:\n    - s:\n        return: ${strict}\n";
    fails(
        sub,
        "TypeError",
        "subworkflow 'judge' needs argument 'strict'",
    );
    let with_default = sub.replace("params: [e, strict]", "params: [e, strict: false]");
    match run(&with_default).execution.outcome() {
        Some(Outcome::Failed(e)) => assert_eq!(e, &Value::str("boom")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_step_limit_to_the_step() {
    let yaml = "- a:\n    assign:\n      - x: 1\n- b:\n    assign:\n      - x: 2\n- c:\n    return: ${x}\n";
    let wf = Rc::new(defn::load("steps.yaml", yaml).unwrap());
    let with_max = |steps_max| {
        Execution::start(
            Rc::clone(&wf),
            ExecutionConfig {
                steps_max,
                ..common::exec_config()
            },
        )
    };
    let ex = with_max(3);
    assert_eq!((ex.state(), ex.steps()), (ExecutionState::Succeeded, 3));
    let ex = with_max(2);
    match ex.outcome() {
        Some(Outcome::Failed(e)) => {
            assert_eq!(tags(e), ["ResourceLimitError"]);
            assert_eq!(
                message(e).as_deref(),
                Some("the execution ran more than 2 steps")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn assignment_past_a_lists_end_is_an_index_error() {
    let at = |i: u32| {
        format!(
            "- a:\n    assign:\n      - l: [1, 2]\n      - l[{i}]: 9\n- done:\n    return: ${{l}}\n"
        )
    };
    assert_eq!(result(&at(1)), serde_json::json!([1, 9]));
    fails(&at(2), "IndexError", "list index 2 out of range (length 2)");
}

#[test]
fn a_failed_branch_stops_its_siblings() {
    // Without continueAll, the first error stops the step: the sleeping branch never logs,
    // and the execution ends at once, not after the sleep.
    let yaml = "- p:\n    parallel:\n      branches:\n        - fail:\n            steps:\n              - boom:\n                  raise: boom\n        - slow:\n            steps:\n              - wait:\n                  call: sys.sleep\n                  args:\n                    seconds: 100\n              - late:\n                  call: sys.log\n                  args:\n                    text: late\n";
    let r = run(yaml);
    match r.execution.outcome() {
        Some(Outcome::Failed(e)) => assert_eq!(tags(e), ["UnhandledBranchError"]),
        other => panic!("{other:?}"),
    }
    assert_eq!(r.execution.ended_at(), Some(SimTime::ZERO));
    assert!(r.execution.logs().is_empty(), "{:?}", r.execution.logs());
    // Caught, and the execution lives on past the sleep: the stopped branch stays stopped.
    let caught = format!(
        "- t:\n    try:\n      steps:\n{}    except:\n      as: e\n      steps:\n        - wait:\n            call: sys.sleep\n            args:\n              seconds: 200\n- done:\n    return: ok\n",
        yaml.lines()
            .map(|l| format!("        {l}\n"))
            .collect::<String>()
    );
    let r = run(&caught);
    assert_eq!(r.execution.ended_at(), Some(SimTime::from_secs(200)));
    assert!(r.execution.logs().is_empty(), "{:?}", r.execution.logs());
    // The execution's clock is the latest instant it was given.
    assert_eq!(r.execution.now(), SimTime::from_secs(200));
    let slept = run("- s:\n    call: sys.sleep\n    args:\n      seconds: 5\n");
    assert_eq!(slept.execution.now(), SimTime::from_secs(5));
}

#[test]
fn a_livelock_says_where_and_why() {
    let l = wfsim_engine::interp::Livelock {
        at: SimTime::from_secs(3),
    };
    assert_eq!(
        l.to_string(),
        "livelock at 3s: work stays due but handling it does nothing"
    );
}

/// LIB-2: every built-in variable GCP lists is set, and the user's sit beside them.
#[test]
fn lib_2_built_in_and_user_environment_variables() {
    let yaml = "- r:\n    return:\n      - ${sys.get_env(\"GOOGLE_CLOUD_PROJECT_ID\")}\n      - ${sys.get_env(\"GOOGLE_CLOUD_LOCATION\")}\n      - ${sys.get_env(\"GOOGLE_CLOUD_WORKFLOW_ID\")}\n      - ${sys.get_env(\"GOOGLE_CLOUD_WORKFLOW_REVISION_ID\")}\n      - ${sys.get_env(\"GOOGLE_CLOUD_PROJECT_NUMBER\")}\n      - ${sys.get_env(\"GOOGLE_CLOUD_SERVICE_ACCOUNT_NAME\")}\n      - ${len(sys.get_env(\"GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID\"))}\n      - ${sys.get_env(\"REGION\", \"none\")}\n";
    assert_eq!(
        result(yaml),
        serde_json::json!([
            "wfsim",
            "us-central1",
            "test",
            "000001-000",
            "000000000000",
            "000000000000-compute@developer.gserviceaccount.com",
            36,
            "none"
        ])
    );
    let wf = Rc::new(defn::load("test.yaml", yaml).unwrap());
    let config = wfsim_harness::runner::RunConfig {
        seed: 0,
        argument: None,
        clock: WallClock::DEFAULT,
        cancel_at: None,
        env: [("REGION".to_owned(), "eu".to_owned())].into(),
        step_entries: false,
        step_variables: false,
        project: None,
        location: None,
    };
    let r = wfsim_harness::runner::run(wf, "test", &config, &[]);
    match r.execution.outcome() {
        Some(Outcome::Succeeded(v)) => {
            assert_eq!(v.to_json().unwrap()[7], "eu");
        }
        other => panic!("{other:?}"),
    }
}

/// LIB-2: an execution of a deployed revision (live mode) reads that revision's id, and
/// the user's variables beside it.
#[test]
fn lib_2_a_deployed_revision_names_itself() {
    let yaml = "- r:\n    return: ${[sys.get_env(\"GOOGLE_CLOUD_WORKFLOW_REVISION_ID\"), sys.get_env(\"REGION\")]}\n";
    let ex = Execution::start_revision(
        Rc::new(defn::load("w.yaml", yaml).unwrap()),
        common::exec_config(),
        [("REGION".to_owned(), "eu".to_owned())].into(),
        "000002-7c1",
    );
    match ex.outcome() {
        Some(Outcome::Succeeded(v)) => {
            assert_eq!(
                v.to_json().unwrap(),
                serde_json::json!(["000002-7c1", "eu"])
            );
        }
        other => panic!("{other:?}"),
    }
}

/// A workflow whose `main` calls `approve`, which awaits a callback for 60 s.
const APPROVE: &str = "main:\n  steps:\n    - init:\n        assign:\n          - n: 1\n    - ask:\n        call: approve\n        result: r\n    - done:\n        return: ${r}\napprove:\n  steps:\n    - make:\n        call: events.create_callback_endpoint\n        result: cb\n    - wait:\n        call: events.await_callback\n        args:\n          callback: ${cb}\n          timeout: 60\n        result: req\n    - back:\n        return: ${req.http_request.body}\n";

fn start(yaml: &str) -> Execution {
    common::start_with(yaml, common::exec_config())
}

fn steps(ex: &Execution) -> Vec<(String, String)> {
    ex.current_steps()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(r, s)| ((*r).to_owned(), (*s).to_owned()))
        .collect()
}

/// `Execution.Status.current_steps`: waiting, the call stack from main down to the await
/// step; once ended, where it ended (the proto: "the last attempted or executed step").
#[test]
fn current_steps_are_the_call_stack_down_to_the_step_running() {
    let mut ex = start(APPROVE);
    assert_eq!(steps(&ex), pairs(&[("main", "ask"), ("approve", "wait")]));
    let id = ex.with_callbacks(|c| c.endpoints()[0].callback_id().to_owned());
    let request = wfsim_engine::CallbackRequest {
        method: "POST".into(),
        path: "/cb".into(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        query: String::new(),
        body: b"true".to_vec(),
    };
    let t = SimTime::from_secs(1);
    assert!(ex.deliver(t, &id, Auth::Granted, request).is_ok());
    assert_eq!(steps(&ex), pairs(&[("main", "ask"), ("approve", "wait")]));
    ex.handle_timeout(t);
    assert_eq!(ex.state(), ExecutionState::Succeeded);
    assert_eq!(steps(&ex), pairs(&[("main", "done")]), "returned to main");

    // Failed: the error's stack (EX-6), outermost first.
    let mut ex = start(APPROVE);
    ex.handle_timeout(SimTime::from_secs(60));
    assert_eq!(ex.state(), ExecutionState::Failed);
    assert_eq!(steps(&ex), pairs(&[("main", "ask"), ("approve", "wait")]));

    // Cancelled while waiting: where it waited.
    let mut ex = start(APPROVE);
    assert!(ex.cancel(SimTime::from_secs(2)));
    assert_eq!(steps(&ex), pairs(&[("main", "ask"), ("approve", "wait")]));
}

/// A step nested in a `for`, a `try` or a branch stands for the steps enclosing it, in its
/// routine; a branch that ended leaves its parent's parallel step, never a stale step.
#[test]
fn current_steps_inside_loops_and_branches() {
    let nested = "- outer:\n    for:\n      value: i\n      in: [1]\n      steps:\n        - guarded:\n            try:\n              steps:\n                - nap:\n                    call: sys.sleep\n                    args:\n                      seconds: 5\n            except:\n              as: e\n              steps:\n                - never:\n                    return: 0\n";
    let ex = start(nested);
    assert_eq!(steps(&ex), pairs(&[("main", "nap")]));

    let par = "- p:\n    parallel:\n      branches:\n        - b1:\n            steps:\n              - w1:\n                  call: sys.sleep\n                  args:\n                    seconds: 10\n        - b2:\n            steps:\n              - w2:\n                  call: sys.sleep\n                  args:\n                    seconds: 20\n- after:\n    return: 1\n";
    let mut ex = start(par);
    let both = [pairs(&[("main", "w1")]), pairs(&[("main", "w2")])];
    assert!(both.contains(&steps(&ex)), "{:?}", steps(&ex));
    ex.handle_timeout(SimTime::from_secs(10));
    let later = [pairs(&[("main", "p")]), pairs(&[("main", "w2")])];
    assert!(later.contains(&steps(&ex)), "{:?}", steps(&ex));
    ex.handle_timeout(SimTime::from_secs(20));
    assert_eq!(steps(&ex), pairs(&[("main", "after")]));
}

/// Every kind of nested block names its step: a switch case's steps, an `except`'s, a
/// parallel `for`'s; a parallel step that finished leaves itself as main's step.
#[test]
fn current_steps_in_cases_excepts_and_parallel_loops() {
    let sleep = |name: &str, indent: usize| {
        let pad = " ".repeat(indent);
        format!("{pad}- {name}:\n{pad}    call: sys.sleep\n{pad}    args:\n{pad}      seconds: 1\n")
    };
    let yaml = format!(
        "- sw:\n    switch:\n      - condition: ${{true}}\n        steps:\n{}- t:\n    try:\n      raise: boom\n    except:\n      as: e\n      steps:\n{}- pf:\n    parallel:\n      for:\n        value: i\n        in: [1]\n        steps:\n{}",
        sleep("in_case", 10),
        sleep("in_except", 8),
        sleep("in_for", 10),
    );
    let mut ex = start(&yaml);
    assert_eq!(steps(&ex), pairs(&[("main", "in_case")]));
    ex.handle_timeout(SimTime::from_secs(1));
    assert_eq!(steps(&ex), pairs(&[("main", "in_except")]));
    ex.handle_timeout(SimTime::from_secs(2));
    assert_eq!(steps(&ex), pairs(&[("main", "in_for")]));
    ex.handle_timeout(SimTime::from_secs(3));
    assert_eq!(ex.state(), ExecutionState::Succeeded);
    assert_eq!(steps(&ex), pairs(&[("main", "pf")]));
}

/// A branch stopped by its sibling's error (no `continueAll`) is no longer where the
/// execution is: during the retry's back-off it is at the parallel step, whichever branch
/// began a step last (both orders of the branches are run).
#[test]
fn current_steps_after_a_branch_is_stopped() {
    let fail = "          - a:\n              steps:\n                - boom:\n                    raise: boom\n";
    let slow = "          - b:\n              steps:\n                - nap:\n                    call: sys.sleep\n                    args:\n                      seconds: 100\n";
    for branches in [format!("{fail}{slow}"), format!("{slow}{fail}")] {
        let yaml = format!(
            "- t:\n    try:\n      steps:\n        - p:\n            parallel:\n              branches:\n{}    retry:\n      predicate: ${{retry.always}}\n      max_retries: 1\n      backoff:\n        initial_delay: 10\n        max_delay: 10\n        multiplier: 1\n",
            branches
                .replace("\n          ", "\n                ")
                .replacen("          ", "                ", 1)
        );
        let ex = start(&yaml);
        assert_eq!(ex.state(), ExecutionState::Active, "{yaml}");
        assert_eq!(steps(&ex), pairs(&[("main", "p")]), "{yaml}");
    }
}

/// A page of an execution's log: at most `n` entries from `from` on, and how many there
/// are in all, however far the page reaches; or every entry from `from` on.
#[test]
fn a_page_of_the_log_and_the_rest_of_it() {
    let ex = start(
        "- logs:\n    for:\n      value: i\n      range: [0, 4]\n      steps:\n        - log:\n            call: sys.log\n            args:\n              text: ${string(i)}\n",
    );
    let texts = |from: usize, n: usize| {
        let (page, all) = ex.logs_page(from, n);
        let texts: Vec<String> = page
            .iter()
            .map(|l| match &l.payload {
                wfsim_engine::stdlib::LogPayload::Text(t) => t.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        (texts, all)
    };
    assert_eq!(texts(1, 2), (vec!["1".to_owned(), "2".to_owned()], 5));
    assert_eq!(texts(4, 10), (vec!["4".to_owned()], 5));
    assert_eq!(texts(9, 1), (vec![], 5));
    assert_eq!(ex.logs_since(3), ex.logs_page(3, 10).0);
    assert_eq!(ex.logs_since(3).len(), 2);
}

/// Live mode's step (`run_woken`): the await a request woke runs at once, without closing
/// the instant; the instant's timers wait for `handle_timeout`.
#[test]
fn run_woken_runs_what_a_request_woke_and_leaves_the_timers() {
    let mut ex = start(APPROVE);
    let id = ex.with_callbacks(|c| c.endpoints()[0].callback_id().to_owned());
    let request = wfsim_engine::CallbackRequest {
        method: "POST".into(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: b"\"yes\"".to_vec(),
        ..wfsim_engine::CallbackRequest::default()
    };
    let t = SimTime::from_secs(1);
    assert!(ex.deliver(t, &id, Auth::Granted, request).is_ok());
    assert_eq!(ex.state(), ExecutionState::Active, "woken, not yet run");
    ex.run_woken(t);
    assert_eq!(ex.state(), ExecutionState::Succeeded);

    // A sleep due at the instant is a timer: it waits.
    let mut ex = start("- nap:\n    call: sys.sleep\n    args:\n      seconds: 1\n");
    ex.run_woken(t);
    assert_eq!(ex.state(), ExecutionState::Active);
    ex.handle_timeout(t);
    assert_eq!(ex.state(), ExecutionState::Succeeded);
}

/// EX-3: an execution that is over is not cancelled again (the API answers 400).
#[test]
fn ex_3_cancel_after_the_end_changes_nothing() {
    let mut ex = start("- done:\n    return: 1\n");
    assert_eq!(ex.state(), ExecutionState::Succeeded);
    assert!(!ex.cancel(SimTime::from_secs(1)));
    assert_eq!(ex.state(), ExecutionState::Succeeded);
}

/// `main` calling itself without an argument reads its parameter as null, as an execution
/// started without one does; any other subworkflow called without an argument it needs is
/// a TypeError.
#[test]
fn main_called_without_its_argument_reads_null() {
    let yaml = "main:\n  params: [n]\n  steps:\n    - first:\n        switch:\n          - condition: ${n == 1}\n            steps:\n              - inner:\n                  call: main\n                  result: r\n              - out:\n                  return: ${[n, r]}\n    - done:\n        return: ${n}\n";
    let config = wfsim_harness::runner::RunConfig {
        argument: Some(Value::Int(1)),
        ..Default::default()
    };
    let run = wfsim_harness::runner::run(
        Rc::new(defn::load("w.yaml", yaml).unwrap()),
        "w",
        &config,
        &[],
    );
    match run.execution.outcome() {
        Some(Outcome::Succeeded(v)) => {
            assert_eq!(v.to_json().unwrap(), serde_json::json!([1, null]));
        }
        other => panic!("{other:?}"),
    }
}

/// EX-9: a map key wholly `${...}` is evaluated with the map, in the order written; a key
/// that is not a string is a `TypeError`; any other key is text as written, `${` and all.
#[test]
fn ex_9_expression_keys_of_maps() {
    let yaml = "- a:\n    assign:\n      - k: exec_1\n      - n: 2\n- r:\n    return:\n      ${k}:\n        stringValue: ${k + \"!\"}\n      ${\"n\" + string(n)}: 1\n      plain: 2\n      a${k}: 3\n      lit:\n        ${k}: 4\n";
    assert_eq!(
        result(yaml),
        serde_json::json!({
            "exec_1": {"stringValue": "exec_1!"},
            "n2": 1,
            "plain": 2,
            "a${k}": 3,
            "lit": {"exec_1": 4},
        })
    );
    // A map whose values are all literal but whose key is not is still evaluated.
    assert_eq!(
        result("- a:\n    assign:\n      - k: x\n- r:\n    return:\n      ${k}: 1\n"),
        serde_json::json!({"x": 1})
    );
    fails(
        "- r:\n    return:\n      ${1 + 1}: 1\n",
        "TypeError",
        "a map key must be a string, got an integer",
    );
    fails("- r:\n    return:\n      ${nope}: 1\n", "KeyError", "nope");
    // Checked at deploy, at the key's own line and column.
    let e = defn::load(
        "k.yaml",
        "- r:\n    return:\n      ok: 1\n      ${1 +}: 1\n",
    )
    .unwrap_err();
    let text = format!("{e:?}");
    assert!(text.contains("invalid expression '${1 +}'"), "{text}");
    assert!(text.contains("line: 4"), "{text}");
    // A key is an expression of at most 400 characters, as a value is.
    let key = |inner: &str| format!("- r:\n    return:\n      ${{{inner}}}: 1\n");
    let at_limit = format!("{}10", "0+".repeat(199));
    assert_eq!(at_limit.chars().count(), 400);
    assert!(defn::load("k.yaml", &key(&at_limit)).is_ok());
    let over = format!("{at_limit}0");
    let e = defn::load("k.yaml", &key(&over)).unwrap_err();
    assert!(
        format!("{e:?}").contains("an expression of 401 characters; the limit is 400"),
        "{e:?}"
    );
}
