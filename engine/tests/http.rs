//! Outbound calls (SPEC §8, HT-1 … HT-8): the sans-I/O API a host drives
//! (`poll_http_call`, `answer_http`, the engine's own timeout), the deploy-time checks,
//! and scripted services through the runner.

mod common;

use std::rc::Rc;
use std::time::Duration;

use common::fails_with;
use wfsim_engine::error::tags;
use wfsim_engine::http::{CallId, Callee, HttpOutcome, HttpResponse};
use wfsim_engine::interp::{Execution, Outcome};
use wfsim_engine::{ExecutionState, SimTime, Value, defn};
use wfsim_harness::runner::{self, RunConfig};
use wfsim_harness::scenario;

fn start(yaml: &str) -> Execution {
    common::start_with(yaml, common::exec_config())
}

fn ok(status: u16, content_type: &str, body: &str) -> HttpOutcome {
    HttpOutcome::Response(HttpResponse {
        status,
        headers: vec![("Content-Type".into(), content_type.into())],
        body: body.as_bytes().to_vec(),
    })
}

fn t(secs: f64) -> SimTime {
    SimTime::from_nanos((secs * 1e9) as u64)
}

fn result(ex: &Execution) -> serde_json::Value {
    match ex.outcome() {
        Some(Outcome::Succeeded(v)) => v.to_json().unwrap(),
        other => panic!("expected success, got {other:?}"),
    }
}

const POST: &str = "- p:\n    call: http.post\n    args:\n      url: https://h.example/x\n      headers: {X-Id: 7}\n      query: {a: [1, 2]}\n      body: {k: v}\n      timeout: 30\n      auth: {type: OIDC}\n    result: r\n- done:\n    return: ${r}\n";

#[test]
fn ht_4_the_host_takes_the_call_and_answers_it() {
    let mut ex = start(POST);
    let call = ex.poll_http_call().expect("a call is queued");
    assert!(ex.poll_http_call().is_none(), "each call is given once");
    assert_eq!(call.id, CallId(0));
    assert_eq!(call.at, SimTime::ZERO);
    assert_eq!(call.timeout, Duration::from_secs(30));
    assert_eq!(call.auth, Some(Value::map([("type", Value::str("OIDC"))])));
    let Callee::Http(req) = &call.target else {
        panic!("an HTTP call");
    };
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, "https://h.example/x?a=1&a=2");
    assert_eq!(req.header("x-id"), Some("7"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.body, br#"{"k":"v"}"#);
    // HT-4: the deadline is the next instant the engine needs.
    assert_eq!(ex.poll_timeout(), Some(t(30.0)));
    assert!(ex.answer_http(t(2.0), call.id, ok(201, "application/json", "[1]")));
    // Like a request, the answer only wakes the thread; the instant is closed by the host.
    assert_eq!(ex.state(), ExecutionState::Active);
    assert_eq!(ex.poll_timeout(), Some(t(2.0)));
    ex.handle_timeout(t(2.0));
    assert_eq!(
        result(&ex),
        serde_json::json!({"code": 201, "headers": {"Content-Type": "application/json"}, "body": [1]})
    );
    let rec = &ex.http_calls()[0];
    assert_eq!(
        (rec.answered_at, rec.status, rec.error.as_deref()),
        (Some(t(2.0)), Some(201), None)
    );
    // An answer to a call already answered is ignored.
    assert!(!ex.answer_http(t(3.0), call.id, ok(200, "text/plain", "")));
}

#[test]
fn ht_3_timeout_at_exactly_start_plus_timeout_and_late_answers_ignored() {
    let yaml = "- s:\n    call: sys.sleep\n    args: {seconds: 5}\n- g:\n    try:\n      call: http.get\n      args: {url: \"https://h/\", timeout: 10}\n    except:\n      as: e\n      steps:\n        - r:\n            return: ${e.tags}\n";
    let mut ex = start(yaml);
    ex.settle(t(5.0)).unwrap();
    let call = ex.poll_http_call().unwrap();
    assert_eq!(call.at, t(5.0));
    assert_eq!(ex.poll_timeout(), Some(t(15.0)));
    ex.settle(t(15.0)).unwrap();
    assert_eq!(ex.ended_at(), Some(t(15.0)));
    assert_eq!(result(&ex), serde_json::json!(["TimeoutError"]));
    let rec = &ex.http_calls()[0];
    assert_eq!(
        (rec.answered_at, rec.error.as_deref()),
        (None, Some("TimeoutError"))
    );
    assert!(!ex.answer_http(t(16.0), call.id, ok(200, "text/plain", "late")));
}

#[test]
fn ht_4_an_answer_at_the_deadline_is_in_time() {
    let yaml = "- g:\n    call: http.get\n    args: {url: \"https://h/\", timeout: 10}\n    result: r\n- d:\n    return: ${r.body}\n";
    let mut ex = start(yaml);
    let call = ex.poll_http_call().unwrap();
    assert!(ex.answer_http(t(10.0), call.id, ok(200, "text/plain", "just")));
    ex.settle(t(10.0)).unwrap();
    assert_eq!(result(&ex), serde_json::json!("just"));
}

#[test]
fn ht_4_a_stopped_branch_withdraws_its_call() {
    // The failing branch stops its sibling, whose call is then answered too late.
    let yaml = "- p:\n    parallel:\n      branches:\n        - a:\n            steps:\n              - g:\n                  call: http.get\n                  args: {url: \"https://h/\"}\n        - b:\n            steps:\n              - s:\n                  call: sys.sleep\n                  args: {seconds: 1}\n              - x:\n                  raise: boom\n";
    let mut ex = start(yaml);
    let call = ex.poll_http_call().unwrap();
    ex.settle(t(1.0)).unwrap();
    assert_eq!(ex.state(), ExecutionState::Failed);
    assert!(!ex.answer_http(t(2.0), call.id, ok(200, "text/plain", "")));
    assert_eq!(ex.poll_timeout(), None);
}

#[test]
fn ht_1_arguments_are_checked() {
    let get = |args: &str| format!("- g:\n    call: http.get\n    args: {{{args}}}\n");
    assert!(fails_with(&get("url: 1"), "TypeError").contains("url must be a string"));
    assert!(fails_with(&get("url: \"ftp://x\""), "ValueError").contains("http://"));
    assert!(fails_with(&get("url: \"https://h\", timeout: 0"), "ValueError").contains("1800"));
    assert!(fails_with(&get("url: \"https://h\", timeout: 1801"), "ValueError").contains("1800"));
    assert!(
        fails_with(&get("url: \"https://h\", timeout: \"9\""), "TypeError")
            .contains("timeout must be a number")
    );
    assert!(fails_with(&get("url: \"https://h\", headers: [1]"), "TypeError").contains("headers"));
    assert!(
        fails_with(
            &get("url: \"https://h\", private_service_name: 1"),
            "TypeError"
        )
        .contains("private_service_name must be a string")
    );
    let req =
        "- r:\n    call: http.request\n    args: {url: \"https://h\", method: \"bad method\"}\n";
    assert!(fails_with(req, "ValueError").contains("not an HTTP method"));
    // A lower-case method is sent upper-cased.
    let mut ex =
        start("- r:\n    call: http.request\n    args: {url: \"https://h\", method: patch}\n");
    let Callee::Http(r) = ex.poll_http_call().unwrap().target else {
        panic!("an HTTP call");
    };
    assert_eq!(r.method, "PATCH");
    // The default timeout is 300 s.
    assert_eq!(
        start("- g:\n    call: http.delete\n    args: {url: \"https://h\"}\n")
            .poll_http_call()
            .unwrap()
            .timeout,
        Duration::from_secs(300)
    );
}

#[test]
fn ht_5_deploy_time_checks() {
    let errs = |yaml: &str| match defn::load("w.yaml", yaml) {
        Ok(_) => Vec::new(),
        Err(es) => es.iter().map(ToString::to_string).collect::<Vec<_>>(),
    };
    let e = errs("- a:\n    assign:\n      - x: ${http.get(\"https://h\")}\n");
    assert!(e[0].starts_with("w.yaml:3:12: http.get blocks"), "{e:?}");
    let e = errs("- a:\n    call: http.get\n    args: {url: \"https://h\", bogus: 1}\n");
    assert!(e[0].contains("http.get has no argument 'bogus'"), "{e:?}");
    // HT-6: any googleapis.SERVICE.VERSION.METHOD is a connector, with any args.
    assert!(
        errs("- a:\n    call: googleapis.pubsub.v1.projects.topics.publish\n    args: {topic: t, anything: 1}\n")
            .is_empty()
    );
    // HT-1: http.get sends no body.
    let e = errs("- a:\n    call: http.get\n    args: {url: \"https://h\", body: 1}\n");
    assert!(e[0].contains("http.get has no argument 'body'"), "{e:?}");
    let e = errs("- a:\n    call: googleapis.pubsub\n");
    assert!(
        e[0].contains("symbol 'googleapis.pubsub' not found"),
        "{e:?}"
    );
}

#[test]
fn ht_6_connector_timeout_and_answer() {
    let yaml = "- c:\n    call: googleapis.storage.v1.objects.get\n    args:\n      bucket: b\n      object: o\n      connector_params: {timeout: 60}\n    result: r\n- d:\n    return: ${r}\n";
    let mut ex = start(yaml);
    let call = ex.poll_http_call().unwrap();
    assert_eq!(call.timeout, Duration::from_secs(60));
    let Callee::Connector { name, args } = &call.target else {
        panic!("a connector call");
    };
    assert_eq!(name, "googleapis.storage.v1.objects.get");
    assert_eq!(args.get("bucket"), Some(&Value::str("b")));
    ex.answer_http(
        t(1.0),
        call.id,
        ok(200, "application/json", r#"{"size": 3}"#),
    );
    ex.settle(t(1.0)).unwrap();
    assert_eq!(result(&ex), serde_json::json!({"size": 3}));
    // A status of 400 or more raises HttpError, as for http.*.
    let mut ex = start(yaml);
    let call = ex.poll_http_call().unwrap();
    ex.answer_http(t(0.0), call.id, ok(403, "application/json", "{}"));
    ex.settle(t(0.0)).unwrap();
    match ex.outcome() {
        Some(Outcome::Failed(e)) => {
            assert_eq!(tags(e), ["HttpError"]);
            assert_eq!(e.get("code"), Some(&Value::Int(403)));
        }
        other => panic!("{other:?}"),
    }
}

/// The issue's headline, asserted here on the statuses themselves: the service's first
/// callback is handed to the waiting await (200, §3 step 5); its duplicate, an hour later,
/// finds the execution ended (404, §3 step 1, CB-11).
#[test]
fn ht_7_service_callback_and_its_duplicate() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/scenarios");
    let text = std::fs::read_to_string(dir.join("http_callback_duplicate.yaml")).unwrap();
    let s = scenario::parse(&text).unwrap();
    let wf_text = std::fs::read_to_string(dir.join(&s.workflow)).unwrap();
    let wf = defn::load("http_approval.yaml", &wf_text).unwrap();
    let run = runner::run_with_services(
        Rc::new(wf),
        "http_approval",
        &s.run_config(),
        &s.requests,
        &s.services,
    );
    assert!(scenario::check(&s, &run).is_empty());
    let got: Vec<_> = run
        .requests
        .iter()
        .map(|r| (r.at, r.service, r.endpoint, r.status, r.taken_at))
        .collect();
    assert_eq!(
        got,
        [
            (t(3600.2), Some(0), Some(0), 200, Some(t(3600.2))),
            (t(7200.2), Some(0), Some(0), 404, None),
        ]
    );
    assert_eq!(run.execution.ended_at(), Some(t(3601.2)));
    assert_eq!(run.execution.http_calls().len(), 2);
}

#[test]
fn ht_7_callback_to_a_url_that_is_no_endpoint_is_answered_404() {
    let wf = defn::load(
        "w.yaml",
        "- p:\n    call: http.post\n    args: {url: \"https://s/\", body: {u: \"https://elsewhere.example/cb\"}}\n- w:\n    call: sys.sleep\n    args: {seconds: 10}\n",
    )
    .unwrap();
    let s = scenario::parse(
        "workflow: w.yaml\nservices:\n  - match: {url: \"https://s/*\"}\n    callback: {url: \"${request.body.u}\", after: 1}\n",
    )
    .unwrap();
    let config = RunConfig::default();
    let run = runner::run_with_services(Rc::new(wf), "w", &config, &[], &s.services);
    assert_eq!(run.requests.len(), 1);
    assert_eq!(
        (run.requests[0].endpoint, run.requests[0].status),
        (None, 404)
    );
    assert_eq!(run.execution.state(), ExecutionState::Succeeded);
}

#[test]
fn ht_8_expectations_on_http_calls_are_checked() {
    let wf = defn::load(
        "w.yaml",
        "- g:\n    call: http.get\n    args: {url: \"https://a/\"}\n",
    )
    .unwrap();
    let s = scenario::parse(
        "workflow: w.yaml\nservices:\n  - match: {url: \"https://a/\"}\n    respond: {status: 204, after: 2}\nexpect:\n  http_calls:\n    - {at: 0, answered_at: 3, status: 204}\n    - {at: 9}\n",
    )
    .unwrap();
    let run = runner::run_with_services(Rc::new(wf), "w", &s.run_config(), &[], &s.services);
    let failures = scenario::check(&s, &run);
    assert_eq!(
        failures,
        [
            "1 outbound calls, expected 2",
            "http call 0: answered_at 2.0, expected 3.0"
        ]
    );
}

/// RT-1 through HT-7: the non-idempotent policy retries 503 but not 502; the idempotent
/// one retries both.
#[test]
fn rt_1_non_idempotent_policy_on_http_errors() {
    let run = |policy: &str, statuses: &str| {
        let yaml = format!(
            "- p:\n    try:\n      call: http.post\n      args: {{url: \"https://s/\"}}\n    retry: ${{{policy}}}\n"
        );
        let wf = defn::load("w.yaml", &yaml).unwrap();
        let s = scenario::parse(&format!(
            "workflow: w.yaml\nservices:\n  - match: {{url: \"https://s/\"}}\n    respond: {statuses}\n"
        ))
        .unwrap();
        let run = runner::run_with_services(Rc::new(wf), "w", &s.run_config(), &[], &s.services);
        (run.execution.http_calls().len(), run.execution.state())
    };
    let ok = "[{status: 503}, {status: 200}]";
    let bad_gateway = "[{status: 502}, {status: 200}]";
    assert_eq!(
        run("http.default_retry_non_idempotent", ok),
        (2, ExecutionState::Succeeded)
    );
    assert_eq!(
        run("http.default_retry_non_idempotent", bad_gateway),
        (1, ExecutionState::Failed)
    );
    assert_eq!(
        run("http.default_retry", bad_gateway),
        (2, ExecutionState::Succeeded)
    );
}
