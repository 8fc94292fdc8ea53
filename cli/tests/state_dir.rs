//! `--state-dir`: what was answered survives `kill -9`.

mod common;
use common::{Server, http, root};

/// A callback answered 200 and stored in the slot (nobody awaits yet), then `kill -9`: the
/// restarted server has the execution and the stored body, and the await takes it.
#[test]
fn a_buffered_callback_survives_kill_9() {
    let dir = root().join("target/tmp/state-dir-kill-9");
    let _ = std::fs::remove_dir_all(&dir);
    let workflow = root().join("target/tmp/state-dir-kill-9.yaml");
    std::fs::create_dir_all(workflow.parent().unwrap()).unwrap();
    std::fs::write(
        &workflow,
        "main:\n  steps:\n    - create:\n        call: events.create_callback_endpoint\n        result: cb\n    - busy:\n        call: sys.sleep\n        args:\n          seconds: 10\n    - wait:\n        call: events.await_callback\n        args:\n          callback: ${cb}\n          timeout: 60\n        result: req\n    - done:\n        return: ${req.http_request.body}\n",
    )
    .unwrap();
    let args = [
        workflow.to_str().unwrap(),
        "--state-dir",
        dir.to_str().unwrap(),
        "--clock",
        "manual",
        "--token",
        "t",
        "--seed",
        "4",
        "--execute",
    ];
    let first = Server::start(&args);
    let started = first.line("execution started: ");
    let execution = started
        .strip_prefix(&format!("execution started: {}", first.base))
        .unwrap()
        .to_owned();
    let (status, list) = http(
        &first.base,
        "GET",
        &format!("{execution}/callbacks"),
        "t",
        "",
    );
    assert_eq!(status, 200, "{list}");
    let name = list
        .split("\"name\": \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let callback = format!("/v1/{name}");
    let (status, body) = http(&first.base, "POST", &callback, "t", r#"{"kept": true}"#);
    assert_eq!(status, 200, "stored in the slot: {body}");
    first.kill();

    let second = Server::start(&args);
    let back = second.line("state dir ");
    assert!(back.contains("1 executions back"), "{back}");
    assert!(
        second.line("--execute").contains("not started again"),
        "one execution, not two"
    );
    let (status, _) = http(
        &second.base,
        "POST",
        "/v1/wfsim/clock:advance",
        "t",
        r#"{"seconds": 10}"#,
    );
    assert_eq!(status, 200);
    let (status, got) = http(&second.base, "GET", &execution, "t", "");
    assert_eq!(status, 200, "{got}");
    assert!(got.contains(r#""state": "SUCCEEDED""#), "{got}");
    assert!(got.contains(r#""result": "{\"kept\":true}""#), "{got}");
    // The same again on a third start: the log holds the clock move too.
    second.kill();
    let third = Server::start(&args);
    let (_, got) = http(&third.base, "GET", &execution, "t", "");
    assert!(got.contains(r#""state": "SUCCEEDED""#), "{got}");
}
