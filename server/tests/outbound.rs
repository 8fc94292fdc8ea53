//! Outbound calls in live mode (HT-9): scripted services answer on the server's clock as
//! they do in `wfsim run`, and what no service matches goes to the network.

use std::cell::RefCell;
use std::rc::Rc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value as Json, json};
use tokio::net::TcpListener;
use wfsim_engine::interp::Trace;
use wfsim_engine::{SimTime, defn};
use wfsim_harness::scenario;
use wfsim_server::{ApiRequest, ClockMode, Config, Observed, Options, State, serve_observed};

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{}/../fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// A scripted notify service (`POST https://notify.example.com/*`, HT-7): answers 202
/// `answer_after` seconds after the call and calls back `callback_after` seconds after it,
/// with `{approved: true}`, to the `callback_url` the request's body names.
fn notify(answer_after: f64, callback_after: f64) -> scenario::Scenario {
    scenario::parse(&format!(
        "workflow: w.yaml\nservices:\n  - match: {{method: POST, url: \"https://notify.example.com/*\"}}\n    respond: {{status: 202, after: {answer_after}}}\n    callback:\n      url: ${{request.body.callback_url}}\n      after: {callback_after}\n      body: {{approved: true}}\n"
    ))
    .unwrap()
}

fn config(clock: ClockMode, base_url: &str) -> Config {
    Config {
        auth: false,
        clock,
        ..Config::new("p", "l", base_url)
    }
}

fn request(method: &str, path: &str, body: Json) -> ApiRequest {
    ApiRequest {
        method: method.into(),
        path: path.into(),
        body: if body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(&body).unwrap()
        },
        ..ApiRequest::default()
    }
}

/// The issue's headline, live: the workflow posts its callback URL to a stubbed service,
/// which calls back an hour later and again an hour after that. The same stubs answer as
/// in `wfsim run` (fixtures/scenarios/http_callback_duplicate.yaml), so the execution ends
/// at 3601.2 s with the same result, and the duplicate finds it over (404).
#[test]
fn ht_9_scripted_services_answer_live_as_in_wfsim_run() {
    let script = scenario::parse(&fixture("scenarios/http_callback_duplicate.yaml")).unwrap();
    let mut s = State::new(config(ClockMode::Manual, "http://wfsim.test"), 0);
    s.observe_executions();
    s.use_services(script.services.clone());
    s.deploy(
        "approval",
        defn::load(
            "http_approval.yaml",
            &fixture("workflows/http_approval.yaml"),
        )
        .unwrap(),
    );
    let executions = "/v1/projects/p/locations/l/workflows/approval/executions";
    let res = s.handle(
        SimTime::ZERO,
        &request(
            "POST",
            executions,
            json!({"argument": r#"{"item": "42", "cool_down": 0}"#}),
        ),
    );
    assert_eq!(res.status, 200);
    let e: Json = serde_json::from_slice(&res.body).unwrap();
    let path = format!("/v1/{}", e["name"].as_str().unwrap());
    let res = s.handle(
        SimTime::ZERO,
        &request("POST", "/v1/wfsim/clock:advance", json!({"seconds": 7300})),
    );
    assert_eq!(res.status, 200);
    let res = s.handle(s.clock_now(), &request("GET", &path, Json::Null));
    let e: Json = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(e["state"], "SUCCEEDED", "{e}");
    assert_eq!(e["duration"], "3601.2s");
    let result: Json = serde_json::from_str(e["result"].as_str().unwrap()).unwrap();
    assert_eq!(
        result,
        json!({"ticket": "T-1", "approved": true, "audit": 204})
    );
    let callbacks: Vec<(f64, u16)> = s
        .take_journal()
        .into_iter()
        .filter_map(|o| match o {
            Observed::Callback(d) => Some((d.at.as_secs_f64(), d.status)),
            _ => None,
        })
        .collect();
    assert_eq!(callbacks, [(3600.2, 200), (7200.2, 404)]);
    assert!(s.take_outbound().is_empty(), "every call had a stub");
}

/// A call no stub matches goes over the network: here to a local HTTP server, whose JSON
/// answer becomes the call's result; a call to a host that cannot be reached (here one
/// that cannot exist, `.invalid`) fails with ConnectionFailedError naming it, which the
/// workflow catches.
#[test]
fn ht_9_unmatched_calls_go_to_the_network() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&rt, async {
        let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream_addr = upstream.local_addr().unwrap();
        tokio::task::spawn_local(async move {
            loop {
                let (stream, _) = upstream.accept().await.unwrap();
                tokio::task::spawn_local(async move {
                    let svc = service_fn(|req: Request<hyper::body::Incoming>| async move {
                        let path = req.uri().path().to_owned();
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let answer = json!({"path": path, "got": String::from_utf8_lossy(&body)});
                        let mut res = Response::new(Full::new(Bytes::from(answer.to_string())));
                        res.headers_mut().insert("content-type", "application/json".parse().unwrap());
                        Ok::<_, std::convert::Infallible>(res)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut state = State::new(config(ClockMode::Real, &format!("http://{addr}")), 0);
        let yaml = format!(
            "main:\n  steps:\n    - ask:\n        call: http.post\n        args:\n          url: http://{upstream_addr}/items/7\n          body: {{n: 1}}\n        result: r\n    - tls:\n        try:\n          call: http.get\n          args:\n            url: https://example.invalid/\n        except:\n          as: e\n          steps:\n            - keep:\n                assign:\n                  - failed: '${{e.tags[0] + \" \" + e.message}}'\n    - done:\n        return:\n          body: ${{r.body}}\n          failed: ${{failed}}\n"
        );
        state.deploy("w", defn::load("w.yaml", &yaml).unwrap());
        let id = state.start_execution(SimTime::ZERO, "w", None).unwrap();
        let state = Rc::new(RefCell::new(state));
        let quiet: Rc<dyn Fn(String)> = Rc::new(|_| {});
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::task::spawn_local(serve_observed(
            listener,
            Rc::clone(&state),
            tokio::time::Instant::now(),
            Options::logs(quiet),
            async {
                let _ = stopped.await;
            },
        ));
        let mut done = None;
        for _ in 0..200 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            if state.borrow().execution_state("w", &id) != Some(wfsim_engine::ExecutionState::Active) {
                done = state.borrow().execution_state("w", &id);
                break;
            }
        }
        assert_eq!(done, Some(wfsim_engine::ExecutionState::Succeeded));
        let res = state.borrow_mut().handle(
            SimTime::from_secs(1),
            &request("GET", &format!("/v1/projects/p/locations/l/workflows/w/executions/{id}"), Json::Null),
        );
        let e: Json = serde_json::from_slice(&res.body).unwrap();
        let result: Json = serde_json::from_str(e["result"].as_str().unwrap()).unwrap();
        assert_eq!(result["body"], json!({"path": "/items/7", "got": "{\"n\":1}"}));
        let failed = result["failed"].as_str().unwrap();
        assert!(
            failed.starts_with("ConnectionFailedError ")
                && failed.contains("cannot connect to example.invalid:443"),
            "{failed}"
        );
        let _ = stop.send(());
        let _ = server.await;
    });
}

/// The network's answer is an input: kept in the input log, so a restart replays it and
/// does not send the call again; a call still unanswered at the restart is sent again.
#[test]
fn ht_9_answers_are_inputs_a_restart_replays() {
    let yaml = "main:\n  steps:\n    - a:\n        call: http.get\n        args:\n          url: http://upstream.test/a\n        result: ra\n    - b:\n        call: http.get\n        args:\n          url: http://upstream.test/b\n        result: rb\n    - done:\n        return: ${ra.code + rb.code}\n";
    let fresh = || {
        let mut s = State::new(config(ClockMode::Manual, "http://wfsim.test"), 0);
        s.deploy("w", defn::load("w.yaml", yaml).unwrap());
        s
    };
    let mut before = fresh();
    before.record_inputs();
    let id = before.start_execution(SimTime::ZERO, "w", None).unwrap();
    let calls = before.take_outbound();
    assert_eq!(calls.len(), 1, "the second call waits for the first");
    let answer = |status| {
        wfsim_engine::http::HttpOutcome::Response(wfsim_engine::http::HttpResponse {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: b"ok".to_vec(),
        })
    };
    before.answer_outbound(
        SimTime::from_secs(1),
        "w",
        &id,
        calls[0].call.id,
        answer(200),
    );
    let second = before.take_outbound();
    assert_eq!(second.len(), 1);
    let inputs = before.take_inputs();

    // A restart now: the first answer is replayed, the second call is sent again.
    let mut after = fresh();
    after.replay(&inputs, SimTime::from_secs(2));
    let again = after.take_outbound();
    assert_eq!(again.len(), 1, "only the unanswered call: {again:?}");
    assert_eq!(again[0].call, second[0].call);
    after.answer_outbound(
        SimTime::from_secs(3),
        "w",
        &id,
        again[0].call.id,
        answer(201),
    );
    assert_eq!(
        after.execution_state("w", &id),
        Some(wfsim_engine::ExecutionState::Succeeded)
    );
    // A second answer to the same call changes nothing.
    after.answer_outbound(
        SimTime::from_secs(4),
        "w",
        &id,
        again[0].call.id,
        answer(500),
    );
    assert_eq!(
        after.execution_ended_at("w", &id),
        Some(SimTime::from_secs(3))
    );
}

/// HT-7 in live mode (HT-9): at one instant, a service's callback comes before an answer,
/// as in `wfsim run`. The notify service answers at 0.2 s and calls back 1 s later; the
/// audit call, made at 0.2 s in a branch beside the await, is answered at 1.2 s too. At
/// 1.2 s the await is resumed first, then the audit call answered.
#[test]
fn ht_7_at_one_instant_a_service_callback_comes_before_an_answer() {
    let script = scenario::parse(
        r#"
workflow: w.yaml
services:
  - match: {method: POST, url: "https://notify.example.com/*"}
    respond: {status: 202, after: 0.2}
    callback:
      url: ${request.body.callback_url}
      after: 1
      body: {approved: true}
  - match: {method: PUT, url: "https://audit.example.com/*"}
    respond: {status: 204, after: 1}
"#,
    )
    .unwrap();
    let workflow = r#"
main:
  steps:
    - create:
        call: events.create_callback_endpoint
        args:
          http_callback_method: POST
        result: cb
    - ask:
        call: http.post
        args:
          url: https://notify.example.com/approvals
          body:
            callback_url: ${cb.url}
    - both:
        parallel:
          branches:
            - waiting:
                steps:
                  - wait:
                      call: events.await_callback
                      args:
                        callback: ${cb}
                        timeout: 60
            - auditing:
                steps:
                  - audit:
                      call: http.put
                      args:
                        url: https://audit.example.com/items/1
    - done:
        return: ok
"#;
    let mut s = State::new(config(ClockMode::Manual, "http://wfsim.test"), 0);
    s.observe_executions();
    s.use_services(script.services.clone());
    s.deploy("w", defn::load("w.yaml", workflow).unwrap());
    let id = s.start_execution(SimTime::ZERO, "w", None).unwrap();
    let res = s.handle(
        SimTime::ZERO,
        &request("POST", "/v1/wfsim/clock:advance", json!({"seconds": 10})),
    );
    assert_eq!(res.status, 200);
    let path = format!("/v1/projects/p/locations/l/workflows/w/executions/{id}");
    let res = s.handle(s.clock_now(), &request("GET", &path, Json::Null));
    let e: Json = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(e["state"], "SUCCEEDED", "{e}");
    assert_eq!(e["duration"], "1.2s");
    let at_1_2: Vec<&str> = s
        .take_journal()
        .into_iter()
        .filter_map(|o| match o {
            Observed::Engine { at, event, .. } if at == SimTime::from_nanos(1_200_000_000) => {
                match event {
                    Trace::AwaitResumed { .. } => Some("await resumed"),
                    Trace::HttpAnswered { .. } => Some("http answered"),
                    _ => None,
                }
            }
            _ => None,
        })
        .collect();
    assert_eq!(at_1_2, ["await resumed", "http answered"]);
}

/// `--keep-ended`: an evicted execution's scripted services' pending callbacks go with it.
/// Two executions each leave a service callback due 30 s after they end; kept, both are
/// sent and answered 404 (CB-11); with room for one, the older is evicted when the newer
/// ends, and only the newer's is sent.
#[test]
fn an_evicted_execution_leaves_no_service_callback_due() {
    let script = notify(0.0, 30.0);
    let workflow = "main:\n  steps:\n    - create:\n        call: events.create_callback_endpoint\n        result: cb\n    - ask:\n        call: http.post\n        args:\n          url: https://notify.example.com/approvals\n          body:\n            callback_url: ${cb.url}\n    - done:\n        return: ok\n";
    let sent = |keep: usize| -> Vec<(Option<usize>, u16)> {
        let mut s = State::new(config(ClockMode::Manual, "http://wfsim.test"), 0);
        s.observe_executions();
        s.set_keep_ended(SimTime::ZERO, keep);
        s.use_services(script.services.clone());
        s.deploy("w", defn::load("w.yaml", workflow).unwrap());
        let ids = [
            s.start_execution(SimTime::ZERO, "w", None).unwrap(),
            s.start_execution(SimTime::ZERO, "w", None).unwrap(),
        ];
        let res = s.handle(
            SimTime::ZERO,
            &request("POST", "/v1/wfsim/clock:advance", json!({"seconds": 60})),
        );
        assert_eq!(res.status, 200);
        s.take_journal()
            .into_iter()
            .filter_map(|o| match o {
                Observed::Callback(d) => {
                    Some((ids.iter().position(|id| *id == d.execution), d.status))
                }
                _ => None,
            })
            .collect()
    };
    assert_eq!(sent(2), [(Some(0), 404), (Some(1), 404)]);
    assert_eq!(sent(1), [(Some(1), 404)]);
}

/// An eviction takes only the evicted execution's calls: another execution's call in
/// flight is still answered when its answer comes.
#[test]
fn an_eviction_leaves_other_executions_calls_in_flight() {
    let mut s = State::new(config(ClockMode::Manual, "http://wfsim.test"), 0);
    s.set_keep_ended(SimTime::ZERO, 1);
    let call = "main:\n  steps:\n    - a:\n        call: http.get\n        args:\n          url: http://upstream.test/a\n        result: ra\n    - done:\n        return: ${ra.code}\n";
    s.deploy("call", defn::load("call.yaml", call).unwrap());
    s.deploy(
        "quick",
        defn::load("quick.yaml", "- done:\n    return: 1\n").unwrap(),
    );
    let id = s.start_execution(SimTime::ZERO, "call", None).unwrap();
    let calls = s.take_outbound();
    assert_eq!(calls.len(), 1);
    let first = s.start_execution(SimTime::ZERO, "quick", None).unwrap();
    s.start_execution(SimTime::ZERO, "quick", None).unwrap();
    assert_eq!(s.execution_state("quick", &first), None, "evicted");
    s.answer_outbound(
        SimTime::from_secs(1),
        "call",
        &id,
        calls[0].call.id,
        wfsim_engine::http::HttpOutcome::Response(wfsim_engine::http::HttpResponse {
            status: 200,
            headers: vec![],
            body: Vec::new(),
        }),
    );
    assert_eq!(
        s.execution_state("call", &id),
        Some(wfsim_engine::ExecutionState::Succeeded)
    );
}

/// HT-7: a scripted service's answer comes at its own instant: before it, the call still
/// waits; the journal has each engine event once, however often the execution ran; a
/// service's callback that finds no await waiting is buffered, and the journal says so.
#[test]
fn ht_7_a_services_answer_and_callback_at_their_instants() {
    let script = notify(2.0, 1.0);
    let workflow = "main:\n  steps:\n    - create:\n        call: events.create_callback_endpoint\n        result: cb\n    - ask:\n        call: http.post\n        args:\n          url: https://notify.example.com/approvals\n          body:\n            callback_url: ${cb.url}\n    - told:\n        call: sys.log\n        args:\n          text: answered\n    - nap:\n        call: sys.sleep\n        args:\n          seconds: 5\n    - wait:\n        call: events.await_callback\n        args:\n          callback: ${cb}\n          timeout: 60\n        result: req\n    - done:\n        return: ${req.http_request.body.approved}\n";
    let mut s = State::new(config(ClockMode::Manual, "http://wfsim.test"), 0);
    s.observe_executions();
    s.use_services(script.services.clone());
    s.deploy("w", defn::load("w.yaml", workflow).unwrap());
    let id = s.start_execution(SimTime::ZERO, "w", None).unwrap();
    let state = |s: &State| s.execution_state("w", &id);
    s.advance(SimTime::from_secs(1));
    assert!(s.take_log_lines().is_empty(), "the answer is due at 2 s");
    let res = s.handle(
        SimTime::from_secs(1),
        &request("POST", "/v1/wfsim/clock:advance", json!({"seconds": 10})),
    );
    assert_eq!(res.status, 200);
    assert_eq!(state(&s), Some(wfsim_engine::ExecutionState::Succeeded));
    assert_eq!(
        s.execution_ended_at("w", &id),
        Some(SimTime::from_secs(7)),
        "answered at 2 s, then 5 s asleep"
    );
    let journal = s.take_journal();
    let logs = journal
        .iter()
        .filter(|o| {
            matches!(
                o,
                Observed::Engine {
                    event: Trace::Log(_),
                    ..
                }
            )
        })
        .count();
    assert_eq!(logs, 1, "each engine event journaled once");
    let callbacks: Vec<(u16, bool)> = journal
        .iter()
        .filter_map(|o| match o {
            Observed::Callback(d) => Some((d.status, d.buffered)),
            _ => None,
        })
        .collect();
    assert_eq!(callbacks, [(200, true)], "at 1 s, before any await");
}

/// HT-7 with HT-3: a scripted service that answers after the call's timeout is too late;
/// the call times out at its deadline, not when the answer would come.
#[test]
fn a_services_answer_after_the_calls_timeout_is_too_late() {
    let script = scenario::parse(
        "workflow: w.yaml\nservices:\n  - match: {method: GET, url: \"https://slow.example.com/*\"}\n    respond: {status: 200, after: 2}\n",
    )
    .unwrap();
    let workflow = "main:\n  steps:\n    - ask:\n        try:\n          call: http.get\n          args:\n            url: https://slow.example.com/x\n            timeout: 1\n        except:\n          as: e\n          steps:\n            - late:\n                return: ${e.tags}\n    - done:\n        return: answered\n";
    let mut s = State::new(config(ClockMode::Manual, "http://wfsim.test"), 0);
    s.use_services(script.services.clone());
    s.deploy("w", defn::load("w.yaml", workflow).unwrap());
    let id = s.start_execution(SimTime::ZERO, "w", None).unwrap();
    s.advance(SimTime::from_secs(10));
    let path = format!("/v1/projects/p/locations/l/workflows/w/executions/{id}");
    let res = s.handle(SimTime::from_secs(10), &request("GET", &path, Json::Null));
    let e: Json = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(e["state"], "SUCCEEDED", "{e}");
    assert!(
        e["result"].as_str().unwrap().contains("TimeoutError"),
        "{e}"
    );
    assert_eq!(e["duration"], "1s", "{e}");
}

/// HT-7: a service's callback to another execution's endpoint runs that execution at the
/// callback's instant, as a request from outside would.
#[test]
fn ht_7_a_services_callback_to_another_execution_runs_it_then() {
    let script = notify(0.0, 1.0);
    let waiter = "main:\n  steps:\n    - create:\n        call: events.create_callback_endpoint\n        result: cb\n    - wait:\n        call: events.await_callback\n        args:\n          callback: ${cb}\n          timeout: 60\n        result: req\n    - done:\n        return: ${req.http_request.body.approved}\n";
    let asker = "main:\n  params: [args]\n  steps:\n    - ask:\n        call: http.post\n        args:\n          url: https://notify.example.com/approvals\n          body:\n            callback_url: ${args.url}\n    - done:\n        return: asked\n";
    let mut s = State::new(config(ClockMode::Manual, "http://wfsim.test"), 0);
    s.use_services(script.services.clone());
    s.deploy("b", defn::load("b.yaml", waiter).unwrap());
    s.deploy("a", defn::load("a.yaml", asker).unwrap());
    let b = s.start_execution(SimTime::ZERO, "b", None).unwrap();
    let list = format!("/v1/projects/p/locations/l/workflows/b/executions/{b}/callbacks");
    let res = s.handle(SimTime::ZERO, &request("GET", &list, Json::Null));
    let list: Json = serde_json::from_slice(&res.body).unwrap();
    let url = format!(
        "http://wfsim.test/v1/{}",
        list["callbacks"][0]["name"].as_str().unwrap()
    );
    let argument = json!({ "url": url }).to_string();
    s.start_execution(SimTime::ZERO, "a", Some(argument))
        .unwrap();
    s.advance(SimTime::from_secs(100));
    assert_eq!(
        s.execution_state("b", &b),
        Some(wfsim_engine::ExecutionState::Succeeded)
    );
    assert_eq!(s.execution_ended_at("b", &b), Some(SimTime::from_secs(1)));
}

/// HT-9: a network failure is an input like an answer: replaying the log fails the call the
/// same way, a connection never made (`ConnectionFailedError`) apart from one broken
/// (`ConnectionError`).
#[test]
fn ht_9_network_failures_replay_as_they_were() {
    use wfsim_engine::http::HttpOutcome;
    let yaml = "main:\n  steps:\n    - a:\n        try:\n          call: http.get\n          args:\n            url: http://upstream.test/a\n        except:\n          as: e\n          steps:\n            - failed:\n                return: ${e.tags}\n";
    let fresh = || {
        let mut s = State::new(config(ClockMode::Manual, "http://wfsim.test"), 0);
        s.deploy("w", defn::load("w.yaml", yaml).unwrap());
        s
    };
    let mut before = fresh();
    before.record_inputs();
    let mut ids = Vec::new();
    for outcome in [
        HttpOutcome::ConnectionFailed("refused".into()),
        HttpOutcome::ConnectionError("reset".into()),
    ] {
        let id = before.start_execution(SimTime::ZERO, "w", None).unwrap();
        let calls = before.take_outbound();
        before.answer_outbound(SimTime::from_secs(1), "w", &id, calls[0].call.id, outcome);
        ids.push(id);
    }
    let inputs = before.take_inputs();
    let mut after = fresh();
    after.replay(&inputs, SimTime::from_secs(2));
    for s in [&mut before, &mut after] {
        let tags: Vec<String> = ids
            .iter()
            .map(|id| {
                let path = format!("/v1/projects/p/locations/l/workflows/w/executions/{id}");
                let res = s.handle(SimTime::from_secs(2), &request("GET", &path, Json::Null));
                let e: Json = serde_json::from_slice(&res.body).unwrap();
                e["result"].as_str().unwrap_or_default().to_owned()
            })
            .collect();
        assert!(tags[0].contains("ConnectionFailedError"), "{tags:?}");
        assert!(tags[1].contains("\"ConnectionError\""), "{tags:?}");
    }
}

/// `--services FILE` saved again (the watcher of `wfsim serve`): executions started since
/// get the new services, one already running keeps those it started with, as a running
/// execution keeps its revision; the same text again changes nothing, a file that does
/// not read is refused at its line and column with the services in use kept; and the
/// reload is an input a restart replays.
#[test]
fn ht_9_a_services_file_read_again_serves_the_executions_started_since() {
    let yaml = "main:\n  steps:\n    - later:\n        call: sys.sleep\n        args:\n          seconds: 10\n    - ask:\n        call: http.get\n        args:\n          url: https://svc.test/x\n        result: r\n    - done:\n        return: ${r.code}\n";
    let text = |status: u16| {
        format!(
            "services:\n  - match: {{url: \"https://svc.test/*\"}}\n    respond: {{status: {status}}}\n"
        )
    };
    let fresh = || {
        let mut s = State::new(config(ClockMode::Manual, "http://wfsim.test"), 0);
        let first = text(201);
        let services = wfsim_harness::services::read_file("svc.yaml", &first).unwrap();
        s.use_services_read_from(services, first);
        s.deploy("w", defn::load("w.yaml", yaml).unwrap());
        s
    };
    let result = |s: &mut State, id: &str| {
        let path = format!("/v1/projects/p/locations/l/workflows/w/executions/{id}");
        let res = s.handle(s.clock_now(), &request("GET", &path, Json::Null));
        let e: Json = serde_json::from_slice(&res.body).unwrap();
        (e["state"].clone(), e["result"].clone())
    };
    let mut s = fresh();
    s.record_inputs();
    let running = s.start_execution(SimTime::ZERO, "w", None).unwrap();
    assert_eq!(
        s.reload_services(SimTime::from_secs(1), "svc.yaml", &text(201)),
        Ok(false)
    );
    assert_eq!(
        s.reload_services(SimTime::from_secs(1), "svc.yaml", &text(202)),
        Ok(true)
    );
    let bad = s
        .reload_services(
            SimTime::from_secs(1),
            "svc.yaml",
            "services:\n  - respond: 7\n",
        )
        .unwrap_err();
    assert!(bad.starts_with("svc.yaml:2:"), "{bad}");
    let started_since = s.start_execution(SimTime::from_secs(2), "w", None).unwrap();
    s.advance(SimTime::from_secs(20));
    let done = |code: &str| (json!("SUCCEEDED"), json!(code));
    assert_eq!(result(&mut s, &running), done("201"));
    assert_eq!(result(&mut s, &started_since), done("202"));

    let inputs = s.take_inputs();
    let mut again = fresh();
    again.replay(&inputs, SimTime::from_secs(20));
    assert_eq!(result(&mut again, &running), done("201"));
    assert_eq!(result(&mut again, &started_since), done("202"));
    assert_eq!(
        again.reload_services(SimTime::from_secs(21), "svc.yaml", &text(202)),
        Ok(false),
        "the replay put the reloaded services back"
    );
}
