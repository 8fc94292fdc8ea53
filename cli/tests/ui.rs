//! `wfsim serve`'s UI in a real browser (issue #27; SPEC UI-1, UI-2): a server on a
//! temporary folder and a manual clock; the page without its link (401, saying how), the
//! link; an execution started from the page, ACTIVE with its waiting endpoint; three
//! callbacks sent from the page, seen on the endpoint's lane as 200 taken, 200 stored and
//! 429; the clock moved from the page to the next deadline, SUCCEEDED; then an await moved
//! past its timeout (from the keyboard), TimeoutError linked to its line; then an execution
//! started and a callback sent over the API, seen on open pages without a reload (the
//! polling of `app.js`). A screenshot of each step goes to
//! `target/ui-screens/`; the browser must log no error and fetch nothing off the server.
//! Nothing waits a fixed time: each step polls for what it expects, for up to 30 s.
//!
//! Skipped, saying why, where chromedriver is not installed (`.ci/run` installs it).

mod common;
#[path = "../../render/tests/support/driver.rs"]
mod driver;

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::{Value as Json, json};

use common::Server;
use driver::js;

/// Creates an endpoint; the first await takes the first request; a sleep (frozen on the
/// manual clock) leaves the endpoint with no waiter, so the second request is stored and
/// the third finds the slot full (CB-5); the second await takes the stored one.
const CALLBACKS: &str = "main:
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
        result: a
    - pause:
        call: sys.sleep
        args:
          seconds: 10
    - second:
        call: events.await_callback
        args:
          callback: ${cb}
          timeout: 3600
        result: b
    - done:
        return: ${[a.http_request.body, b.http_request.body]}
";

/// An await nobody answers, its TimeoutError uncaught: raised at line 6.
const LATE: &str = "main:
  steps:
    - create:
        call: events.create_callback_endpoint
        result: cb
    - wait:
        call: events.await_callback
        args:
          callback: ${cb}
          timeout: 60
        result: answer
    - done:
        return: ${answer}
";

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wfsim-ui-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    std::fs::write(dir.join("callbacks.yaml"), CALLBACKS).unwrap();
    std::fs::write(dir.join("late.yaml"), LATE).unwrap();
    dir
}

/// Waits until `condition` (a JavaScript expression) holds in the page: 300 looks, 100 ms
/// apart (30 s and more: a look takes time too).
async fn until(c: &Client, condition: &str, what: &str) {
    let script = format!("return !!({condition})");
    for _ in 0..300 {
        if c.execute(&script, Vec::new()).await.ok() == Some(json!(true)) {
            return;
        }
        tokio_real::time::sleep(Duration::from_millis(100)).await;
    }
    let text = js(c, "return document.body ? document.body.innerText : ''").await;
    panic!(
        "{what}: not seen within 30 s; the page says:\n{}",
        text.as_str().unwrap_or("")
    );
}

/// Clicks what `css` finds, again if a live update replaced it meanwhile.
async fn click(c: &Client, css: &str) {
    for _ in 0..20 {
        if let Ok(el) = c.find(Locator::Css(css)).await
            && el.click().await.is_ok()
        {
            return;
        }
        tokio_real::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("cannot click {css}");
}

async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("a screenshot");
    std::fs::write(driver::screens().join(name), png).unwrap();
}

/// The marks of kind `kind` on the timeline's lane `lane`.
const MARKS_ON: &str = "((lane, kind) => {
  const l = [...document.querySelectorAll('svg .lane')].find(g => g.dataset.lane === lane);
  if (!l) return 0;
  const b = l.getBBox();
  return [...document.querySelectorAll('svg .mark.' + kind)]
    .filter(m => { const y = m.getBBox().y; return y >= b.y && y < b.y + b.height; }).length;
})";

/// Every resource the page loaded (its script, its polls) came from `base`.
async fn only_from(c: &Client, base: &str) {
    let urls = js(
        c,
        "return performance.getEntriesByType('resource').map(e => e.name)",
    )
    .await;
    let off: Vec<&Json> = urls
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| !u.as_str().unwrap_or("").starts_with(base))
        .collect();
    assert!(off.is_empty(), "requests off the server's origin: {off:?}");
}

async fn the_state_is(c: &Client, state: &str) {
    until(
        c,
        &format!("document.querySelector('#state [data-state=\"{state}\"]')"),
        &format!("the execution {state}"),
    )
    .await;
}

#[test]
fn ui_1_ui_3_the_ui_in_chromium() {
    let Some(d) = driver::driver() else { return };
    let dir = temp("browser");
    let server = Server::start(&[dir.to_str().unwrap(), "--clock", "manual", "--seed", "27"]);
    let link = server.line("ui: ")["ui: ".len()..].to_owned();
    assert!(
        link.starts_with(&format!("{}/ui/login?key=", server.base)),
        "{link}"
    );
    let base = server.base.clone();
    let token =
        server.line("token (every permission): ")["token (every permission): ".len()..].to_owned();
    let api = "/v1/projects/wfsim/locations/us-central1";
    let runtime = tokio_real::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let c = driver::browser(d.1).await;

        // Without the link: 401, and a page that says how to open the UI.
        c.goto(&format!("{base}/ui/executions")).await.unwrap();
        until(&c, "document.body.innerText.includes('needs its link')", "the 401 page").await;
        screenshot(&c, "ui-0-locked.png").await;
        // That 401 is the console's one expected error: read it away.
        let _ = driver::console_errors(&c).await;

        c.goto(&link).await.unwrap();
        until(&c, "location.pathname === '/ui/executions'", "the link opens the UI").await;

        // Start an execution from the workflows page.
        c.goto(&format!("{base}/ui/workflows")).await.unwrap();
        click(&c, "form[action$='/workflows/callbacks/executions'] button").await;
        the_state_is(&c, "ACTIVE").await;
        until(
            &c,
            "document.querySelector('#endpoints tr.endpoint td.waiters').textContent === '1'",
            "its endpoint with one await waiting",
        )
        .await;
        let lanes = js(&c, "return [...document.querySelectorAll('svg .lane')].map(l => l.dataset.lane)").await;
        assert_eq!(lanes, json!(["main", "endpoint 0 POST"]));
        js(&c, "document.getElementById('at-timeline').scrollIntoView()").await;
        screenshot(&c, "ui-1-active.png").await;

        // Three callbacks from the page: 200 taken, 200 stored, 429.
        let lane = "endpoint 0 POST";
        for (n, kind, status) in [(1, "taken", "200"), (2, "stored", "200"), (3, "full", "429")] {
            click(&c, "#send button[type=submit]").await;
            until(
                &c,
                &format!("{MARKS_ON}('{lane}', '{kind}') === 1 && document.querySelector('#flash').textContent.includes('answered {status}')"),
                &format!("callback {n}: {status} {kind} on the endpoint's lane"),
            )
            .await;
            screenshot(&c, &format!("ui-2-callback-{n}-{status}.png")).await;
        }
        let statuses = js(&c, "return [...document.querySelectorAll('#requests td.status')].map(t => t.textContent)").await;
        assert_eq!(statuses, json!(["200", "200", "429"]));

        // The sleep ends at the next deadline; the second await takes the stored request.
        click(&c, "#advance button[value=next]").await;
        the_state_is(&c, "SUCCEEDED").await;
        until(&c, "document.querySelector('#outcome').textContent.includes('result')", "the result").await;
        screenshot(&c, "ui-3-succeeded.png").await;
        only_from(&c, &base).await;

        // An await past its timeout on the manual clock: TimeoutError at its line.
        c.goto(&format!("{base}/ui/workflows")).await.unwrap();
        click(&c, "form[action$='/workflows/late/executions'] button").await;
        the_state_is(&c, "ACTIVE").await;
        let seconds = c.find(Locator::Css("#seconds")).await.unwrap();
        seconds.clear().await.unwrap();
        // From the keyboard: Enter in the field sends the form by its first button.
        seconds.send_keys("61\u{E007}").await.unwrap();
        the_state_is(&c, "FAILED").await;
        until(&c, "document.querySelector('#outcome').textContent.includes('TimeoutError')", "a TimeoutError").await;
        let link = js(&c, "return document.querySelector('a.err-line').getAttribute('href')").await;
        assert_eq!(link, json!("#L6"));
        let marked = js(&c, "return document.querySelector('tr.fail').id").await;
        assert_eq!(marked, json!("L6"));
        screenshot(&c, "ui-4-timeout.png").await;
        click(&c, "a.err-line").await;
        until(&c, "location.hash === '#L6'", "the link followed to its line").await;
        screenshot(&c, "ui-5-timeout-line.png").await;
        only_from(&c, &base).await;

        // The executions list, filtered.
        c.goto(&format!("{base}/ui/executions?state=FAILED")).await.unwrap();
        let rows = js(&c, "return document.querySelectorAll('#list tbody tr').length").await;
        assert_eq!(rows, json!(1));
        screenshot(&c, "ui-6-executions.png").await;

        // Live: what happens over the API shows on an open page without a reload (a
        // marker set in the page survives).
        c.goto(&format!("{base}/ui/executions")).await.unwrap();
        js(&c, "window.wfsimMarker = 1").await;
        let (status, body) = common::http(&base, "POST", &format!("{api}/workflows/callbacks/executions"), &token, "{}");
        assert_eq!(status, 200, "{body}");
        until(&c, "document.querySelectorAll('#list tbody tr').length === 3 && window.wfsimMarker === 1", "the new execution listed live").await;
        let name: Json = serde_json::from_str(&body).unwrap();
        c.goto(&format!("{base}/ui/{}", name["name"].as_str().unwrap())).await.unwrap();
        the_state_is(&c, "ACTIVE").await;
        js(&c, "window.wfsimMarker = 2").await;
        let url = js(&c, "return document.querySelector('#endpoints tr.endpoint code').textContent").await;
        let path = url.as_str().unwrap().strip_prefix(&base).unwrap().to_owned();
        let (status, body) = common::http(&base, "POST", &path, &token, "{}");
        assert_eq!(status, 200, "{body}");
        until(
            &c,
            &format!("{MARKS_ON}('endpoint 0 POST', 'taken') === 1 && window.wfsimMarker === 2"),
            "the API's callback on the open page's timeline",
        )
        .await;
        js(&c, "document.getElementById('at-timeline').scrollIntoView()").await;
        screenshot(&c, "ui-7-live.png").await;

        let errors = driver::console_errors(&c).await;
        assert!(errors.is_empty(), "console errors: {errors:?}");
        c.close().await.unwrap();
    });
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Without a browser: the start-up line, the 401 without the cookie, the cookie from the
/// link; under `--no-auth` the link is the UI's root and the pages are open.
#[test]
fn ui_1_the_link_and_the_cookie_over_http() {
    let dir = temp("http");
    let server = Server::start(&[dir.to_str().unwrap(), "--seed", "27"]);
    let link = server.line("ui: ")["ui: ".len()..].to_owned();
    let (status, body) = common::http(&server.base, "GET", "/ui/executions", "", "");
    assert_eq!(status, 401);
    assert!(body.contains("needs its link"), "{body}");
    let path = link.strip_prefix(&server.base).unwrap();
    let (status, _) = common::http(&server.base, "GET", path, "", "");
    assert_eq!(status, 303);
    // The same seed, the same link.
    let again = Server::start(&[dir.to_str().unwrap(), "--seed", "27"]);
    let relinked = again.line("ui: ");
    assert_eq!(
        relinked["ui: ".len()..].strip_prefix(&again.base),
        Some(path)
    );

    let open = Server::start(&[dir.to_str().unwrap(), "--no-auth"]);
    assert_eq!(open.line("ui: "), format!("ui: {}/ui/", open.base));
    let (status, body) = common::http(&open.base, "GET", "/ui/workflows", "", "");
    assert_eq!(status, 200);
    assert!(
        body.contains("/ui/projects/wfsim/locations/us-central1/workflows/late"),
        "{body}"
    );
    drop((server, again, open));
    let _ = std::fs::remove_dir_all(&dir);
}
