//! `--state-dir`: what was answered survives `kill -9`.

mod common;
use std::path::PathBuf;

use common::{Server, http, root};

/// An empty state dir `target/tmp/NAME.state` and the workflow `target/tmp/NAME.yaml`
/// (the file's stem is the workflow's id) holding `source`.
fn fresh(name: &str, source: &str) -> (PathBuf, PathBuf) {
    let dir = root().join(format!("target/tmp/{name}.state"));
    let _ = std::fs::remove_dir_all(&dir);
    let workflow = root().join(format!("target/tmp/{name}.yaml"));
    std::fs::create_dir_all(workflow.parent().unwrap()).unwrap();
    std::fs::write(&workflow, source).unwrap();
    (dir, workflow)
}

/// A callback answered 200 and stored in the slot (nobody awaits yet), then `kill -9`: the
/// restarted server has the execution, its step entries and the stored body, and the await
/// takes it.
#[test]
fn a_buffered_callback_survives_kill_9() {
    let (dir, workflow) = fresh(
        "state-dir-kill-9",
        "main:\n  steps:\n    - create:\n        call: events.create_callback_endpoint\n        result: cb\n    - busy:\n        call: sys.sleep\n        args:\n          seconds: 10\n    - wait:\n        call: events.await_callback\n        args:\n          callback: ${cb}\n          timeout: 60\n        result: req\n    - done:\n        return: ${req.http_request.body}\n",
    );
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
    // EX-8: the history so far (create done, busy sleeping), which the restart rebuilds.
    let entries = format!("{execution}/stepEntries");
    let (status, history) = http(&first.base, "GET", &entries, "t", "");
    assert_eq!(status, 200, "{history}");
    assert!(history.contains("STATE_IN_PROGRESS"), "{history}");
    first.kill();

    let second = Server::start(&args);
    let back = second.line("state dir ");
    assert!(back.contains("1 executions back"), "{back}");
    assert!(
        second.line("--execute").contains("not started again"),
        "one execution, not two"
    );
    assert_eq!(
        http(&second.base, "GET", &entries, "t", ""),
        (200, history),
        "the step entries survive the restart"
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

/// `--keep-ended 1`: three executions end, the first two are evicted; a `kill -9` and a
/// restart on the state dir derive the same evictions from the input log (they are not
/// logged), so the same execution is back and the others are 404 as before.
#[test]
fn evictions_under_keep_ended_survive_a_restart() {
    let (dir, workflow) = fresh(
        "keep-ended",
        "- done:\n    return: ${sys.get_env(\"GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID\")}\n",
    );
    let args = [
        workflow.to_str().unwrap(),
        "--state-dir",
        dir.to_str().unwrap(),
        "--clock",
        "manual",
        "--token",
        "t",
        "--seed",
        "5",
        "--keep-ended",
        "1",
    ];
    let executions = "/v1/projects/wfsim/locations/us-central1/workflows/keep-ended/executions";
    let first = Server::start(&args);
    let mut paths = Vec::new();
    for _ in 0..3 {
        let (status, body) = http(&first.base, "POST", executions, "t", "{}");
        assert_eq!(status, 200, "{body}");
        assert!(body.contains(r#""state": "SUCCEEDED""#), "{body}");
        let name = body
            .split("\"name\": \"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        paths.push(format!("/v1/{name}"));
    }
    let seen = |server: &Server| -> Vec<(u16, String)> {
        paths
            .iter()
            .map(|p| http(&server.base, "GET", p, "t", ""))
            .collect()
    };
    let before = seen(&first);
    assert_eq!(
        before.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        [404, 404, 200]
    );
    assert!(
        before[1].1.contains("ended and was evicted") && before[1].1.contains("--keep-ended 1"),
        "{}",
        before[1].1
    );
    first.kill();

    let second = Server::start(&args);
    let back = second.line("state dir ");
    assert!(back.contains("1 executions back"), "{back}");
    assert_eq!(seen(&second), before);
    let (_, list) = http(&second.base, "GET", executions, "t", "");
    assert_eq!(list.matches("\"name\"").count(), 1, "{list}");
    // N is in the log: a restart without --keep-ended keeps what it kept; a higher N
    // brings nothing back, and holds more from then on.
    second.kill();
    let third = Server::start(&args[..args.len() - 2]);
    assert!(third.line("state dir ").contains("1 executions back"));
    assert_eq!(seen(&third), before);
    third.kill();
    let mut raised = args;
    raised[args.len() - 1] = "2";
    let fourth = Server::start(&raised);
    assert!(fourth.line("state dir ").contains("1 executions back"));
    let (status, _) = http(&fourth.base, "POST", executions, "t", "{}");
    assert_eq!(status, 200);
    assert_eq!(seen(&fourth)[2].0, 200, "kept: two may be held now");
}

/// A workflow deployed through the API to another project than the default, and its
/// execution, survive `kill -9` in that project; a restart with another `--project` finds
/// the file's workflow where it was deployed too, beside the file deployed anew.
#[test]
fn a_deploy_to_another_project_survives_kill_9() {
    let source = "main:\n  steps:\n    - where:\n        return: ${sys.get_env(\"GOOGLE_CLOUD_PROJECT_ID\")}\n";
    let (dir, workflow) = fresh("state-dir-parents", source);
    let args = |project: &'static str| {
        vec![
            workflow.display().to_string(),
            "--state-dir".into(),
            dir.display().to_string(),
            "--token".into(),
            "t".into(),
            "--seed".into(),
            "4".into(),
            "--project".into(),
            project.into(),
        ]
    };
    let start = |project| {
        let args = args(project);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Server::start(&args)
    };
    let acme = "/v1/projects/acme-prod/locations/us-central1/workflows";
    let first = start("wfsim");
    let body = serde_json::json!({"sourceContents": source}).to_string();
    let (status, op) = http(
        &first.base,
        "POST",
        &format!("{acme}?workflowId=far"),
        "t",
        &body,
    );
    assert_eq!(status, 200, "{op}");
    let (status, run) = http(
        &first.base,
        "POST",
        &format!("{acme}/far/executions"),
        "t",
        "{}",
    );
    assert_eq!(status, 200, "{run}");
    let run: serde_json::Value = serde_json::from_str(&run).unwrap();
    let execution = format!("/v1/{}", run["name"].as_str().unwrap());
    first.kill();

    let second = start("other");
    second.line("state dir ");
    let (status, got) = http(&second.base, "GET", &execution, "t", "");
    assert_eq!(status, 200, "{got}");
    let got: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(got["result"], "\"acme-prod\"", "{got}");
    for (parent, expected) in [
        (acme.to_owned(), vec!["far"]),
        (
            "/v1/projects/wfsim/locations/us-central1/workflows".to_owned(),
            vec!["state-dir-parents"],
        ),
        (
            "/v1/projects/other/locations/us-central1/workflows".to_owned(),
            vec!["state-dir-parents"],
        ),
    ] {
        let (status, list) = http(&second.base, "GET", &parent, "t", "");
        assert_eq!(status, 200, "{list}");
        let list: serde_json::Value = serde_json::from_str(&list).unwrap();
        let names: Vec<&str> = list["workflows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["name"].as_str().unwrap().rsplit('/').next().unwrap())
            .collect();
        assert_eq!(names, expected, "{parent}");
    }
}
