//! The UI's pages rendered from a state built through the API, no socket and no browser
//! (`cli/tests/ui.rs` drives them in chromium): a big execution's page, a busy timeline's
//! lanes, the 401 without the link (UI-1), forms refused without the page's token (UI-2),
//! and each form becoming the API request that carries it out.

#[path = "support/sample.rs"]
mod sample;

use wfsim_engine::SimTime;
use wfsim_server::{ApiRequest, ApiResponse, Pages, UiAnswer, View};
use wfsim_ui::Ui;

fn get(ui: &Ui, state: &wfsim_server::State, path: &str) -> ApiResponse {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let req = ApiRequest {
        query: query.into(),
        ..sample::request("GET", path, "")
    };
    match ui.answer(&View::new(state, SimTime::from_secs(1)), &req) {
        UiAnswer::Page(res) => res,
        UiAnswer::Call(c) => panic!("a GET made an API request: {c:?}"),
    }
}

fn text(res: &ApiResponse) -> String {
    String::from_utf8(res.body.clone()).unwrap()
}

#[test]
fn the_page_of_an_execution_with_1000_requests_shows_each() {
    let (state, name, id) = sample::awaited(1000);
    let ui = Ui::new(None, 0);
    let res = get(&ui, &state, &sample::page_path(name, &id));
    assert_eq!(res.status, 200);
    let page = text(&res);
    assert!(page.contains(r#"data-state="SUCCEEDED""#));
    assert_eq!(page.matches(r#"class="mark taken""#).count(), 1000);
    let requests = page.split(r#"id="requests""#).nth(1).unwrap();
    let requests = requests.split("</section>").next().unwrap();
    assert_eq!(
        requests
            .matches(r#"<td class="num status">200</td>"#)
            .count(),
        1000
    );
}

#[test]
fn ten_waiters_on_three_endpoints_and_100_requests_have_a_lane_each() {
    let (state, name, id) = sample::ten_waiters(100);
    let ui = Ui::new(None, 0);
    let page = text(&get(&ui, &state, &sample::page_path(name, &id)));
    let lanes: Vec<&str> = page
        .split(r#"<g class="lane" data-lane=""#)
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    let mut expected = vec!["main".to_owned()];
    expected.extend((0..10).map(|b| format!("branch {b}")));
    expected.extend((0..3).map(|e| format!("endpoint {e} POST")));
    assert_eq!(lanes, expected);
    // Five requests to each endpoint in turn: endpoint 0's four awaits take four, the
    // fifth is stored; endpoint 1's three take three, one is stored, one is 429 (CB-5);
    // endpoint 2's three take three and the execution ends: the other 87 are 404.
    assert_eq!(page.matches(r#"class="mark taken""#).count(), 10);
    assert_eq!(page.matches(r#"class="mark stored""#).count(), 2);
    assert_eq!(page.matches(r#"class="mark full""#).count(), 1);
    assert_eq!(page.matches(r#"class="mark gone""#).count(), 87);
    let statuses = |s: &str| {
        page.matches(&format!(r#"<td class="num status">{s}</td>"#))
            .count()
    };
    assert_eq!(
        (statuses("200"), statuses("429"), statuses("404")),
        (12, 1, 87)
    );
}

#[test]
fn ui_1_without_the_link_the_ui_is_401_and_says_how_to_open_it() {
    let (state, name, id) = sample::awaited(1);
    let ui = Ui::new(Some("the-token"), 0);
    for path in [
        "/ui/",
        "/ui/executions",
        "/ui/workflows",
        &sample::page_path(name, &id),
    ] {
        let res = get(&ui, &state, path);
        assert_eq!(res.status, 401, "{path}");
        assert!(text(&res).contains("ui: http://…/ui/login?key=…"));
    }
    let wrong = get(&ui, &state, "/ui/login?key=0000");
    assert_eq!(wrong.status, 401);
    let link = ui.link("http://wfsim.test");
    let opened = get(&ui, &state, link.strip_prefix("http://wfsim.test").unwrap());
    assert_eq!(opened.status, 303);
    let cookie = opened
        .headers
        .iter()
        .find(|(k, _)| k == "Set-Cookie")
        .map(|(_, v)| v.clone())
        .expect("a cookie");
    let value = cookie.split(';').next().unwrap();
    let req = ApiRequest {
        headers: vec![("Cookie".into(), value.into())],
        ..sample::request("GET", "/ui/executions", "")
    };
    match ui.answer(&View::new(&state, SimTime::ZERO), &req) {
        UiAnswer::Page(res) => assert_eq!(res.status, 200),
        UiAnswer::Call(_) => panic!("a page"),
    }
}

/// The `csrf` value the UI's forms carry.
fn token_of(page: &str) -> String {
    page.split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a form with a token")
        .to_owned()
}

fn post(ui: &Ui, state: &wfsim_server::State, path: &str, form: &[(&str, &str)]) -> UiAnswer {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let req = ApiRequest {
        headers: vec![
            ("Host".into(), "wfsim.test".into()),
            ("Origin".into(), "http://wfsim.test".into()),
        ],
        ..sample::request("POST", path, &body)
    };
    ui.answer(&View::new(state, SimTime::ZERO), &req)
}

#[test]
fn ui_3_forms_become_the_api_requests_that_carry_them_out() {
    let (state, name, id) = sample::awaited(2);
    let ui = Ui::new(None, 0);
    let page = text(&get(&ui, &state, "/ui/workflows"));
    let csrf = token_of(&page);
    let start = format!("/ui/{}/workflows/{name}/executions", sample::PARENT);
    // Without the page's token, or from another origin: refused, nothing asked of the API.
    match post(&ui, &state, &start, &[("argument", "{}")]) {
        UiAnswer::Page(res) => assert_eq!(res.status, 403),
        UiAnswer::Call(c) => panic!("forged, yet called {c:?}"),
    }
    match post(
        &ui,
        &state,
        &start,
        &[("csrf", &csrf), ("argument", r#"{"a": 1}"#)],
    ) {
        UiAnswer::Call(c) => {
            assert_eq!(
                (c.method.as_str(), c.path.as_str()),
                (
                    "POST",
                    "/v1/projects/p/locations/l/workflows/awaited/executions"
                )
            );
            let body: serde_json::Value = serde_json::from_slice(&c.body).unwrap();
            assert_eq!(body, serde_json::json!({"argument": r#"{"a": 1}"#}));
        }
        UiAnswer::Page(res) => panic!("{}", text(&res)),
    }
    let cancel = format!("{}/cancel", sample::page_path(name, &id));
    match post(&ui, &state, &cancel, &[("csrf", &csrf)]) {
        UiAnswer::Call(c) => assert!(c.path.ends_with(&format!("/executions/{id}:cancel"))),
        UiAnswer::Page(res) => panic!("{}", text(&res)),
    }
    match post(
        &ui,
        &state,
        "/ui/clock",
        &[("csrf", &csrf), ("to", "by"), ("seconds", "2.5")],
    ) {
        UiAnswer::Call(c) => {
            assert_eq!(c.path, "/v1/wfsim/clock:advance");
            assert_eq!(c.body, br#"{"seconds":2.5}"#);
        }
        UiAnswer::Page(res) => panic!("{}", text(&res)),
    }
    // A bad header line is said, with its number, before anything is sent.
    let send = format!("{}/callback", sample::page_path(name, &id));
    match post(
        &ui,
        &state,
        &send,
        &[
            ("csrf", &csrf),
            ("endpoint", "0"),
            ("headers", "X-Ok: 1\nno colon"),
        ],
    ) {
        UiAnswer::Page(res) => {
            assert_eq!(res.status, 400);
            assert!(text(&res).contains("header line 2"), "{}", text(&res));
        }
        UiAnswer::Call(c) => panic!("sent {c:?}"),
    }
}

#[test]
fn a_file_that_fails_to_deploy_is_shown_at_its_line_and_column() {
    let mut state = sample::state();
    let errors = state
        .deploy_source(
            SimTime::ZERO,
            "broken",
            "broken.yaml",
            "main:\n  steps:\n    - a:\n        nxt: b\n",
        )
        .unwrap_err();
    assert!(!errors.is_empty());
    let ui = Ui::new(None, 0);
    let page = text(&get(&ui, &state, "/ui/workflows"));
    assert!(page.contains("broken.yaml:4:9: unexpected key"), "{page}");
    // Fixed by a save: the error is gone, the workflow deployed.
    state
        .deploy_source(
            SimTime::ZERO,
            "broken",
            "broken.yaml",
            "main:\n  steps:\n    - a:\n        return: 1\n",
        )
        .unwrap();
    let page = text(&get(&ui, &state, "/ui/workflows"));
    assert!(!page.contains("unexpected key"));
    assert!(page.contains("/ui/projects/p/locations/l/workflows/broken"));
}

#[test]
fn a_replayed_state_shows_the_same_requests() {
    let mut first = sample::state();
    first.record_inputs();
    let id = sample::awaited_in(&mut first, 5);
    let inputs = first.take_inputs();
    let mut again = sample::state();
    again.replay(&inputs, SimTime::from_secs(1));
    let ui = Ui::new(None, 0);
    let path = sample::page_path("awaited", &id);
    let (a, b) = (
        text(&get(&ui, &first, &path)),
        text(&get(&ui, &again, &path)),
    );
    assert_eq!(a.matches(r#"<td class="num status">200</td>"#).count(), 5);
    assert_eq!(a, b);
}

#[test]
fn executions_are_filtered_by_state_and_a_wrong_state_is_said() {
    let (state, _, _) = sample::awaited(1);
    let ui = Ui::new(None, 0);
    let rows = |page: &str| page.matches("<td><a href=\"/ui/projects/").count();
    assert_eq!(
        rows(&text(&get(&ui, &state, "/ui/executions?state=SUCCEEDED"))),
        1
    );
    assert_eq!(
        rows(&text(&get(&ui, &state, "/ui/executions?state=ACTIVE"))),
        0
    );
    let wrong = get(&ui, &state, "/ui/executions?state=DONE");
    assert_eq!(wrong.status, 400);
    assert!(
        text(&wrong)
            .contains("'DONE' is no state; the states are ACTIVE, SUCCEEDED, FAILED, CANCELLED")
    );
}

/// A request stored while the workflow sleeps is marked taken when the next await takes
/// it: the k-th request stored on an endpoint is its k-th take (CB-5's one slot).
#[test]
fn a_stored_request_is_shown_taken_when_an_await_takes_it() {
    let source = "main:
  steps:
    - create:
        call: events.create_callback_endpoint
        args:
          http_callback_method: POST
        result: cb
    - first:
        call: events.await_callback
        args:
          callback: ${cb}
          timeout: 3600
    - pause:
        call: sys.sleep
        args:
          seconds: 10
    - second:
        call: events.await_callback
        args:
          callback: ${cb}
          timeout: 3600
";
    let mut state = sample::state();
    let id = sample::start(&mut state, "twice", source);
    let path = sample::endpoint_path(&state, "twice", &id, 0);
    let ms = |n: u64| SimTime::from_nanos(n * 1_000_000);
    for (at, status) in [(1, 200), (2, 200), (3, 429)] {
        let res = state.handle(ms(at), &sample::request("POST", &path, "{}"));
        assert_eq!(res.status, status);
    }
    let ui = Ui::new(None, 0);
    let page_path = sample::page_path("twice", &id);
    let before = text(&get(&ui, &state, &page_path));
    assert!(before.contains("<td>stored</td>"), "{before}");
    assert!(before.contains("200 stored, not taken yet"));
    let res = state.handle(
        ms(3),
        &sample::request("POST", "/v1/wfsim/clock:advance", r#"{"seconds": 10}"#),
    );
    assert_eq!(res.status, 200, "{}", text(&res));
    // The sleep began at 1 ms, when the first await took the first request.
    let after = text(&get(&ui, &state, &page_path));
    assert!(after.contains(r#"data-state="SUCCEEDED""#), "{after}");
    assert!(
        after.contains("<td>stored, taken at 10.001s</td>"),
        "{after}"
    );
    assert!(after.contains("200 stored, taken at 10.001s"));
}

#[test]
fn a_long_list_shows_the_newest_200_and_says_so() {
    let state = sample::many(250);
    let ui = Ui::new(None, 0);
    let page = text(&get(&ui, &state, "/ui/executions"));
    assert_eq!(page.matches("<td><a href=\"/ui/projects/").count(), 200);
    assert!(
        page.contains("250 of 250 executions; the newest 200 shown"),
        "{page}"
    );
}
