//! States with executions to show, built through the API without a socket: what the
//! page tests (`tests/pages.rs`) and the render budget's bench (`benches/page.rs`) share.

// Each includer uses what it needs of this module.
#![allow(dead_code)]

use wfsim_engine::SimTime;
use wfsim_server::{ApiRequest, Config, State, View};

/// The default parent of [`state`].
pub const PARENT: &str = "projects/p/locations/l";

/// A state without auth, on a manual clock (time moves only by the `now` each request is
/// handed at).
pub fn state() -> State {
    let mut config = Config::new("p", "l", "http://wfsim.test");
    config.auth = false;
    config.clock = wfsim_server::ClockMode::Manual;
    State::new(config, 0)
}

/// A request to `path`.
pub fn request(method: &str, path: &str, body: &str) -> ApiRequest {
    ApiRequest {
        method: method.into(),
        path: path.into(),
        query: String::new(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
    }
}

/// Deploys `source` as `name` and starts it; its id.
pub fn start(state: &mut State, name: &str, source: &str) -> String {
    state
        .deploy_source(SimTime::ZERO, name, &format!("{name}.yaml"), source)
        .expect("the workflow deploys");
    state
        .start_execution(SimTime::ZERO, name, None)
        .expect("the execution starts")
}

/// The path of endpoint `k` of execution `id`.
pub fn endpoint_path(state: &State, name: &str, id: &str, k: usize) -> String {
    let view = View::new(state, SimTime::ZERO);
    let e = view.execution(name, id).expect("held");
    let url = e
        .execution()
        .with_callbacks(|c| c.endpoints()[k].url().to_owned());
    url.strip_prefix("http://wfsim.test")
        .expect("the base URL")
        .to_owned()
}

/// The UI's page of execution `id` of `name`.
pub fn page_path(name: &str, id: &str) -> String {
    format!("/ui/{PARENT}/workflows/{name}/executions/{id}")
}

/// An execution that awaited `n` callbacks in a loop, each request 1 ms after the last:
/// the state, the workflow's name and the execution's id.
pub fn awaited(n: usize) -> (State, &'static str, String) {
    let mut state = state();
    let id = awaited_in(&mut state, n);
    (state, "awaited", id)
}

/// [`awaited`] in `state`: the execution's id.
pub fn awaited_in(state: &mut State, n: usize) -> String {
    let source = format!(
        "main:
  steps:
    - create:
        call: events.create_callback_endpoint
        args:
          http_callback_method: POST
        result: cb
    - loop:
        for:
          value: i
          range: [1, {n}]
          steps:
            - wait:
                call: events.await_callback
                args:
                  callback: ${{cb}}
                  timeout: 3600
    - done:
        return: ok
"
    );
    let id = start(state, "awaited", &source);
    let path = endpoint_path(state, "awaited", &id, 0);
    for k in 1..=n as u64 {
        let res = state.handle(
            SimTime::from_nanos(k * 1_000_000),
            &request("POST", &path, "{}"),
        );
        assert_eq!(res.status, 200, "{}", String::from_utf8_lossy(&res.body));
    }
    id
}

/// Ten parallel branches awaiting on three endpoints (branch i on endpoint i % 3), and
/// `n` requests to the endpoints in turn, five each, 1 ms apart: taken, stored, 429, then 404 once
/// the execution has ended.
pub fn ten_waiters(n: usize) -> (State, &'static str, String) {
    let source = "main:
  steps:
    - init:
        assign:
          - eps: []
    - make:
        for:
          value: i
          range: [0, 2]
          steps:
            - mk:
                call: events.create_callback_endpoint
                args:
                  http_callback_method: POST
                result: cb
            - keep:
                assign:
                  - eps: ${list.concat(eps, cb)}
    - wait:
        parallel:
          for:
            value: i
            range: [0, 9]
            steps:
              - await:
                  call: events.await_callback
                  args:
                    callback: ${eps[i % 3]}
                    timeout: 3600
    - done:
        return: ok
";
    let mut state = state();
    let id = start(&mut state, "ten", source);
    let paths: Vec<String> = (0..3)
        .map(|k| endpoint_path(&state, "ten", &id, k))
        .collect();
    for k in 0..n {
        let at = SimTime::from_nanos((k as u64 + 1) * 1_000_000);
        state.handle(at, &request("POST", &paths[(k / 5) % 3], "{}"));
    }
    (state, "ten", id)
}

/// `n` executions of a workflow that returns at once.
pub fn many(n: usize) -> State {
    let mut state = state();
    start(
        &mut state,
        "quick",
        "main:\n  steps:\n    - done:\n        return: 1\n",
    );
    for k in 1..n as u64 {
        state
            .start_execution(SimTime::from_nanos(k), "quick", None)
            .expect("starts");
    }
    state
}
