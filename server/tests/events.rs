//! HT-12 and HT-13 on the sans-I/O API: `POST /v1/wfsim/events` (a CloudEvent starts a
//! workflow once per source and id, across a replay), and the token a workflow's
//! `auth: {type: OAuth2}` call to this server carries.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Value as Json, json};
use wfsim_engine::http::{CallId, Callee, HttpCall, OutboundRequest};
use wfsim_engine::{SimTime, Value, defn};
use wfsim_server::{ApiRequest, Config, State};

const WAITS: &str = "
main:
  params: [event]
  steps:
    - create:
        call: events.create_callback_endpoint
        result: cb
    - wait:
        call: events.await_callback
        args:
          callback: ${cb}
          timeout: 100
        result: req
    - done:
        return:
          event: ${event.id}
          body: ${req.http_request.body}
";

const BASE: &str = "http://wfsim.test";

fn state(auth: bool, grants: BTreeMap<String, BTreeSet<String>>) -> State {
    let mut s = State::new(
        Config {
            seed: 26,
            auth,
            grants,
            ..Config::new("p", "l", BASE)
        },
        0,
    );
    s.deploy("w", defn::load("w.yaml", WAITS).unwrap());
    s
}

fn req(method: &str, path: &str, query: &str, token: Option<&str>, body: &str) -> ApiRequest {
    let mut headers = vec![("Content-Type".into(), "application/json".into())];
    if let Some(t) = token {
        headers.push(("Authorization".into(), format!("Bearer {t}")));
    }
    ApiRequest {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers,
        body: body.as_bytes().to_vec(),
    }
}

fn send(s: &mut State, r: &ApiRequest) -> (u16, Json) {
    let res = s.handle(SimTime::ZERO, r);
    let body = serde_json::from_slice(&res.body).unwrap_or(Json::Null);
    (res.status, body)
}

fn event(id: &str) -> String {
    json!({"specversion": "1.0", "id": id, "source": "//pubsub.googleapis.com/projects/p/topics/t",
           "type": "google.cloud.pubsub.topic.v1.messagePublished", "data": {"n": 1}})
    .to_string()
}

fn post_event(s: &mut State, body: &str) -> (u16, Json) {
    send(
        s,
        &req("POST", "/v1/wfsim/events", "workflow=w", None, body),
    )
}

#[test]
fn ht_13_an_event_starts_its_workflow_once_with_the_event_as_the_argument() {
    let mut s = state(false, BTreeMap::new());
    let (status, first) = post_event(&mut s, &event("m1"));
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["duplicate"], false);
    let argument: Json =
        serde_json::from_str(first["execution"]["argument"].as_str().unwrap()).unwrap();
    assert_eq!(argument["id"], "m1");
    assert_eq!(argument["data"]["n"], 1);
    let (status, again) = post_event(&mut s, &event("m1"));
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["execution"]["name"], first["execution"]["name"]);
    // Another id, or the same id from another source, is another event.
    let (_, other) = post_event(&mut s, &event("m2"));
    assert_eq!(other["duplicate"], false);
    assert_ne!(other["execution"]["name"], first["execution"]["name"]);
    let elsewhere = event("m1").replace("topics/t", "topics/u");
    let (_, elsewhere) = post_event(&mut s, &elsewhere);
    assert_eq!(elsewhere["duplicate"], false);
    assert_eq!(s.execution_count(), 3);
}

#[test]
fn a_replayed_log_remembers_the_events_taken() {
    let mut s = state(false, BTreeMap::new());
    let inputs = vec![(
        SimTime::ZERO,
        req("POST", "/v1/wfsim/events", "workflow=w", None, &event("m1")),
    )];
    s.replay(&inputs, SimTime::ZERO);
    assert_eq!(s.execution_count(), 1);
    let (_, again) = post_event(&mut s, &event("m1"));
    assert_eq!(again["duplicate"], true, "{again}");
    assert_eq!(s.execution_count(), 1);
}

/// An event whose execution ended and was evicted (`--keep-ended`) is still refused after
/// a checkpoint and a restart from it: the checkpoint drops the execution's inputs, so it
/// keeps the event itself (HT-13). A redelivered Pub/Sub message must not run twice.
#[test]
fn ht_13_an_evicted_events_memory_survives_a_checkpoint() {
    let fresh = || {
        let mut s = state(false, BTreeMap::new());
        s.keep_for_checkpoints();
        s.set_keep_ended(SimTime::ZERO, 2);
        s
    };
    let mut s = fresh();
    s.record_inputs();
    for (k, id) in ["m1", "m2", "m3", "m4"].into_iter().enumerate() {
        let (status, started) = post_event(&mut s, &event(id));
        assert_eq!(status, 200, "{started}");
        // Each waits 100 s for a callback that never comes, and ends.
        s.advance(SimTime::from_secs(200 * (k as u64 + 1)));
    }
    let end = SimTime::from_secs(1000);
    s.advance(end);
    let refused = |s: &mut State, id: &str| {
        let res = s.handle(
            end,
            &req("POST", "/v1/wfsim/events", "workflow=w", None, &event(id)),
        );
        (res.status, String::from_utf8_lossy(&res.body).into_owned())
    };
    let (status, body) = refused(&mut s, "m1");
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("evicted"), "{body}");
    let checkpoint = s.checkpoint().unwrap();
    let posts = |log: &[(SimTime, ApiRequest)]| {
        log.iter()
            .filter(|(_, r)| r.path == "/v1/wfsim/events")
            .count()
    };
    assert_eq!(posts(&s.take_inputs()), 5);
    assert_eq!(
        posts(&checkpoint),
        2,
        "the checkpoint keeps the held executions' events only"
    );
    let mut resumed = fresh();
    resumed.replay(&checkpoint, end);
    let count = resumed.execution_count();
    for id in ["m1", "m2"] {
        let (status, body) = refused(&mut resumed, id);
        assert_eq!(status, 409, "{id} after the restart: {body}");
    }
    assert_eq!(resumed.execution_count(), count, "nothing started again");
    // The one still held is a duplicate, as before the restart.
    let (status, body) = refused(&mut resumed, "m3");
    assert_eq!(status, 200, "{body}");
    let body: Json = serde_json::from_str(&body).unwrap();
    assert_eq!(body["duplicate"], true, "{body}");
}

#[test]
fn a_bad_event_is_refused_with_the_reason() {
    let mut s = state(false, BTreeMap::new());
    let cases = [
        ("workflow=w", "not json", "structured mode"),
        ("workflow=w", "[1]", "must be a JSON object"),
        (
            "workflow=w",
            r#"{"specversion": "1.0", "source": "s", "type": "t"}"#,
            "needs 'id'",
        ),
        (
            "workflow=w",
            r#"{"specversion": "0.3", "id": "1", "source": "s", "type": "t"}"#,
            "specversion must be \"1.0\"",
        ),
        ("", &event("m"), "needs ?workflow=NAME"),
        ("workflow=nope", &event("m"), "nope"),
    ];
    for (query, body, reason) in cases {
        let (status, answer) = send(&mut s, &req("POST", "/v1/wfsim/events", query, None, body));
        assert!(status == 400 || status == 404, "{status} {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(reason), "{reason}: {answer}");
    }
    assert_eq!(s.execution_count(), 0);
}

/// The call a workflow of `w` makes to `url` with `auth`.
fn call(url: &str, auth: Option<&str>) -> HttpCall {
    HttpCall {
        id: CallId(0),
        at: SimTime::ZERO,
        timeout: Duration::from_secs(1),
        target: Callee::Http(OutboundRequest {
            method: "POST".into(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }),
        auth: auth.map(|t| Value::map([("type", Value::str(t))])),
    }
}

/// Starts `w` through the events route with the master token; its callback's path.
fn waiting(s: &mut State, token: &str) -> String {
    let r = req(
        "POST",
        "/v1/wfsim/events",
        "workflow=w",
        Some(token),
        &event("m"),
    );
    let (status, started) = send(s, &r);
    assert_eq!(status, 200, "{started}");
    let execution = format!("/v1/{}", started["execution"]["name"].as_str().unwrap());
    let (_, list) = send(
        s,
        &req(
            "GET",
            &format!("{execution}/callbacks"),
            "",
            Some(token),
            "",
        ),
    );
    format!("/v1/{}", list["callbacks"][0]["name"].as_str().unwrap())
}

#[test]
fn ht_12_an_oauth2_call_to_this_server_is_authorized_as_the_workflows_service_account() {
    let mut s = state(true, BTreeMap::new());
    let admin = s.master_token().unwrap();
    let callback = waiting(&mut s, &admin);
    let url = format!("{BASE}{callback}");
    let header = s
        .outbound_authorization("w", "none", &call(&url, Some("OAuth2")))
        .expect("a token for a call to this server");
    // Not for another host, nor without auth, nor for an auth type wfsim does not act on.
    assert_eq!(
        s.outbound_authorization("w", "none", &call("https://example.com/x", Some("OAuth2"))),
        None
    );
    assert_eq!(
        s.outbound_authorization(
            "w",
            "none",
            &call("http://wfsim.test.evil/x", Some("OAuth2"))
        ),
        None
    );
    assert_eq!(
        s.outbound_authorization("w", "none", &call(&url, None)),
        None
    );
    assert_eq!(
        s.outbound_authorization("w", "none", &call(&url, Some("Basic"))),
        None
    );
    let token = header.strip_prefix("Bearer ").unwrap();
    // Without it the callback is refused; with it, taken.
    let (status, _) = send(&mut s, &req("POST", &callback, "", None, "{}"));
    assert_eq!(status, 401);
    let forged = format!("{}0", &token[..token.len() - 1]);
    let (status, _) = send(&mut s, &req("POST", &callback, "", Some(&forged), "{}"));
    assert_eq!(status, 401);
    let (status, answer) = send(&mut s, &req("POST", &callback, "", Some(token), "{}"));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        s.service_account("w", "none"),
        "000000000000-compute@developer.gserviceaccount.com"
    );
}

#[test]
fn grant_takes_workflows_callbacks_send_away() {
    let sa = "000000000000-compute@developer.gserviceaccount.com";
    let grants = BTreeMap::from([(
        sa.to_owned(),
        BTreeSet::from(["workflows.executions.get".to_owned()]),
    )]);
    let mut s = state(true, grants);
    let admin = s.master_token().unwrap();
    let callback = waiting(&mut s, &admin);
    let header = s
        .outbound_authorization(
            "w",
            "none",
            &call(&format!("{BASE}{callback}"), Some("OAuth2")),
        )
        .unwrap();
    let token = header.strip_prefix("Bearer ").unwrap();
    let (status, answer) = send(&mut s, &req("POST", &callback, "", Some(token), "{}"));
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer.to_string().contains("workflows.callbacks.send"),
        "{answer}"
    );
}
