//! Child workflows in live mode (HT-10): the parent/child pair of `fixtures/suite/` deployed
//! and run through the API; the child is a real execution, visible over the API, whose
//! endpoint a callback answers; `create`, `get`, `list` and `cancel` see the same
//! executions; a restart (a replay of the input log, or of a checkpoint) keeps a waiting
//! child and its parent's call.

use serde_json::{Value as Json, json};
use wfsim_engine::SimTime;
use wfsim_server::{ApiRequest, ClockMode, Config, State};

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../fixtures/suite/workflows/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn state() -> State {
    let mut s = State::new(
        Config {
            seed: 3,
            auth: false,
            clock: ClockMode::Manual,
            ..Config::new("p", "l", "http://wfsim.test")
        },
        0,
    );
    for (name, file) in [
        ("approval", "approval.yaml"),
        ("batch", "batch.yaml"),
        ("batch_async", "batch_async.yaml"),
    ] {
        s.deploy_source(SimTime::ZERO, name, file, &fixture(file))
            .unwrap();
    }
    s
}

fn req(method: &str, path: &str, body: Json) -> ApiRequest {
    ApiRequest {
        method: method.into(),
        path: path.into(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: if body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(&body).unwrap()
        },
        ..ApiRequest::default()
    }
}

fn call(s: &mut State, at: SimTime, method: &str, path: &str, body: Json) -> (u16, Json) {
    let res = s.handle(at, &req(method, path, body));
    let j = serde_json::from_slice(&res.body).unwrap_or(Json::Null);
    (res.status, j)
}

const BASE: &str = "/v1/projects/p/locations/l/workflows";

fn start(s: &mut State, workflow: &str, argument: Json) -> String {
    let (status, e) = call(
        s,
        SimTime::ZERO,
        "POST",
        &format!("{BASE}/{workflow}/executions"),
        json!({"argument": argument.to_string()}),
    );
    assert_eq!(status, 200, "{e}");
    format!("/v1/{}", e["name"].as_str().unwrap())
}

/// The executions of `workflow` as the API lists them.
fn listed(s: &mut State, at: SimTime, workflow: &str) -> Vec<Json> {
    let mut r = req("GET", &format!("{BASE}/{workflow}/executions"), Json::Null);
    r.query = "view=FULL".into();
    let res = s.handle(at, &r);
    let (status, l): (u16, Json) = (res.status, serde_json::from_slice(&res.body).unwrap());
    assert_eq!(status, 200, "{l}");
    l["executions"].as_array().cloned().unwrap_or_default()
}

/// The child's one callback endpoint, found over the API.
fn child_callback(s: &mut State, at: SimTime) -> String {
    let children = listed(s, at, "approval");
    assert_eq!(children.len(), 1, "{children:?}");
    let child = children[0]["name"].as_str().unwrap().to_owned();
    let (_, cbs) = call(s, at, "GET", &format!("/v1/{child}/callbacks"), Json::Null);
    format!("/v1/{}", cbs["callbacks"][0]["name"].as_str().unwrap())
}

#[test]
fn ht_10_run_starts_a_real_child_whose_callback_the_parent_waits_for() {
    let mut s = state();
    let parent = start(&mut s, "batch", json!({"order": 7}));
    let t = SimTime::from_secs;
    // The child runs as any execution does: listed, ACTIVE, waiting at its endpoint.
    let children = listed(&mut s, t(1), "approval");
    assert_eq!(children[0]["state"], "ACTIVE");
    assert_eq!(children[0]["argument"], r#"{"order":7}"#);
    let callback = child_callback(&mut s, t(1));
    let (_, p) = call(&mut s, t(1), "GET", &parent, Json::Null);
    assert_eq!(p["state"], "ACTIVE");
    let (status, _) = call(&mut s, t(60), "POST", &callback, json!({"approved": true}));
    assert_eq!(status, 200);
    let (_, p) = call(&mut s, t(61), "GET", &parent, Json::Null);
    assert_eq!(p["state"], "SUCCEEDED", "{p}");
    let result: Json = serde_json::from_str(p["result"].as_str().unwrap()).unwrap();
    assert_eq!(result, json!({"order": 7, "decision": "approved"}));
    assert_eq!(p["duration"], "60s");
    let children = listed(&mut s, t(61), "approval");
    assert_eq!(children[0]["state"], "SUCCEEDED");
    assert_eq!(children[0]["result"], r#""approved""#);
}

#[test]
fn ht_10_a_rejected_child_fails_its_parent_with_operation_error() {
    let mut s = state();
    let parent = start(&mut s, "batch", json!({"order": 8}));
    let callback = child_callback(&mut s, SimTime::ZERO);
    let t = SimTime::from_secs;
    call(&mut s, t(5), "POST", &callback, json!({"approved": false}));
    let (_, p) = call(&mut s, t(5), "GET", &parent, Json::Null);
    assert_eq!(p["state"], "FAILED", "{p}");
    let payload: Json = serde_json::from_str(p["error"]["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["tags"], json!(["OperationError"]));
    assert_eq!(payload["operation"]["state"], "FAILED");
    let child_error: Json =
        serde_json::from_str(payload["operation"]["error"]["payload"].as_str().unwrap()).unwrap();
    assert_eq!(child_error["code"], 403);
}

#[test]
fn ht_10_create_get_list_and_cancel_see_the_servers_executions() {
    let mut s = state();
    let parent = start(&mut s, "batch_async", json!({"order": 9, "cancel": true}));
    let t = SimTime::from_secs;
    let (status, _) = call(
        &mut s,
        t(0),
        "POST",
        "/v1/wfsim/clock:advance",
        json!({"seconds": 121}),
    );
    assert_eq!(status, 200);
    let (_, p) = call(&mut s, t(121), "GET", &parent, Json::Null);
    assert_eq!(p["state"], "SUCCEEDED", "{p}");
    let result: Json = serde_json::from_str(p["result"].as_str().unwrap()).unwrap();
    assert_eq!(
        result,
        json!({"created": "ACTIVE", "now": "CANCELLED", "result": null, "listed": 1})
    );
    let children = listed(&mut s, t(121), "approval");
    assert_eq!(children[0]["state"], "CANCELLED");
}

#[test]
fn ht_10_a_waiting_child_survives_a_restart() {
    let t = SimTime::from_secs;
    let mut orig = state();
    orig.record_inputs();
    orig.keep_for_checkpoints();
    // Inputs of the deploys are kept from here: a fresh state deploys them itself.
    orig.take_inputs();
    let parent = start(&mut orig, "batch", json!({"order": 7}));
    let callback = child_callback(&mut orig, t(1));
    let inputs = orig.take_inputs();
    let checkpoint = orig.checkpoint().unwrap();
    for (how, log) in [("the input log", inputs), ("a checkpoint", checkpoint)] {
        let mut again = state();
        again.keep_for_checkpoints();
        again.replay(&log, t(30));
        assert_eq!(
            child_callback(&mut again, t(30)),
            callback,
            "{how}: the same child, the same URL"
        );
        let (status, _) = call(
            &mut again,
            t(40),
            "POST",
            &callback,
            json!({"approved": true}),
        );
        assert_eq!(status, 200, "{how}");
        let (_, p) = call(&mut again, t(40), "GET", &parent, Json::Null);
        assert_eq!(p["state"], "SUCCEEDED", "{how}: {p}");
        assert_eq!(p["duration"], "40s", "{how}");
    }
}
