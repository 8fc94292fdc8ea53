//! The `wfsim` binary from outside: exit codes, output forms, errors with positions.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

fn wfsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wfsim"))
        .args(args)
        .output()
        .expect("wfsim runs")
}

fn path(rel: &str) -> String {
    fixtures().join(rel).display().to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn run_scenario_prints_a_timeline_and_exits_0() {
    let out = wfsim(&["run", &path("scenarios/basic_callback.yaml")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(
        text.contains("5s  request GET endpoint 0 -> 200  taken by a waiting await"),
        "{text}"
    );
    assert!(text.contains("execution SUCCEEDED"), "{text}");
    assert!(text.ends_with("expectations: all held\n"), "{text}");
}

#[test]
fn json_is_exactly_one_object_with_the_documented_keys() {
    let out = wfsim(&["run", &path("scenarios/worked_example.yaml"), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let v: serde_json::Value = serde_json::from_str(&text).expect("one JSON object");
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "state",
            "result",
            "error",
            "stack",
            "ended_at",
            "logs",
            "endpoints",
            "requests",
            "requests_accepted_never_taken",
            "http_calls",
            "expectations"
        ]
    );
    let statuses: Vec<u64> = v["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 429, 200, 404]);
    assert_eq!(v["requests"][0]["taken_at"], 3.0);
    assert_eq!(v["requests"][2]["taken_at"], serde_json::Value::Null);
    assert_eq!(v["expectations"]["passed"], true);
}

#[test]
fn a_failed_expectation_exits_1() {
    let dir = std::env::temp_dir().join(format!("wfsim-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = dir.join("wrong.yaml");
    let workflow = path("workflows/basic_callback.yaml");
    std::fs::write(
        &scenario,
        format!("workflow: {workflow}\nexpect:\n  state: SUCCEEDED\n"),
    )
    .unwrap();
    let out = wfsim(&["run", &scenario.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("state FAILED, expected SUCCEEDED"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_guides_mis_escaped_json_exits_2_with_line_and_column() {
    let out = wfsim(&[
        "check",
        &path("workflows/basic_callback_guide_verbatim.json"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("basic_callback_guide_verbatim.json:1:546: invalid JSON"),
        "{err}"
    );
}

#[test]
fn seed_and_argument_flags() {
    let a = stdout(&wfsim(&[
        "run",
        &path("workflows/create_await.yaml"),
        "--json",
        "--seed",
        "1",
    ]));
    let b = stdout(&wfsim(&[
        "run",
        &path("workflows/create_await.yaml"),
        "--json",
        "--seed",
        "2",
    ]));
    let url = |s: &str| {
        serde_json::from_str::<serde_json::Value>(s).unwrap()["endpoints"][0]["url"].clone()
    };
    assert_ne!(url(&a), url(&b), "the seed picks the ids (CB-2)");
    assert_eq!(
        a,
        stdout(&wfsim(&[
            "run",
            &path("workflows/create_await.yaml"),
            "--json",
            "--seed",
            "1"
        ]))
    );
    let tour = wfsim(&[
        "run",
        &path("workflows/language_tour.yaml"),
        "--json",
        "--arg",
        r#"{"who": "Grace"}"#,
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&tour)).unwrap();
    assert_eq!(v["result"]["hello"], "Hello, Grace!");
    let bad = wfsim(&[
        "run",
        &path("workflows/language_tour.yaml"),
        "--arg",
        "{oops",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn missing_files_and_bad_scenarios_exit_2() {
    let out = wfsim(&["run", "no/such/file.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/file.yaml: cannot read"));
}

/// HT-7, HT-8: the issue's headline from outside: the service's callback and its duplicate
/// are requests with their statuses, both outbound calls are listed, the run succeeds at
/// 3601.2 s.
#[test]
fn run_with_scripted_services_lists_calls_and_callbacks() {
    let out = wfsim(&[
        "run",
        &path("scenarios/http_callback_duplicate.yaml"),
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    assert_eq!(v["state"], "SUCCEEDED");
    assert_eq!(v["ended_at"], 3601.2);
    let statuses: Vec<(f64, u64)> = v["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["at"].as_f64().unwrap(), r["status"].as_u64().unwrap()))
        .collect();
    assert_eq!(statuses, [(3600.2, 200), (7200.2, 404)]);
    let calls: Vec<String> = v["http_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{} {} {}", c["method"], c["url"], c["status"]))
        .collect();
    assert_eq!(
        calls,
        [
            r#""POST" "https://notify.example.com/approvals" 202"#,
            r#""PUT" "https://audit.example.com/items/42" 204"#
        ]
    );
    let text = stdout(&wfsim(&[
        "run",
        &path("scenarios/http_callback_duplicate.yaml"),
    ]));
    assert!(
        text.contains("7200.2s  service 0 callback request POST endpoint 0 -> 404"),
        "{text}"
    );
}

/// A scratch directory of files for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("wfsim-cli-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn file(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const UPPER: &str = "main:\n  steps:\n    - init:\n        assign:\n          - n: 1\n    - upper:\n        assign:\n          - s: ${text.to_upper(n)}\n";

#[test]
fn ex_6_a_workflow_run_alone_that_fails_exits_1_and_says_where() {
    let dir = Scratch::new("where");
    let flow = dir.file("flow.yaml", UPPER);
    let out = wfsim(&["run", &flow]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "error at step 'upper' (main, {flow}:6:7): text.to_upper: needs a string"
        )),
        "{text}"
    );
    assert!(
        text.contains("state FAILED, expected SUCCEEDED (a workflow run alone must succeed)"),
        "{text}"
    );
    // A workflow that succeeds alone still exits 0.
    let ok = wfsim(&["run", &path("workflows/language_tour.yaml")]);
    assert_eq!(ok.status.code(), Some(0));
}

#[test]
fn ex_6_json_keeps_the_whole_error_and_its_stack() {
    let dir = Scratch::new("json-error");
    let flow = dir.file(
        "flow.yaml",
        "main:\n  steps:\n    - go:\n        call: sub\nsub:\n  steps:\n    - fail:\n        raise:\n          code: 500\n          message: upstream down\n          body: {retry_after: 30}\n          tags: [HttpError]\n",
    );
    let out = wfsim(&["run", &flow, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        v["error"],
        serde_json::json!({"body": {"retry_after": 30}, "code": 500, "message": "upstream down", "tags": ["HttpError"]})
    );
    assert_eq!(
        v["stack"],
        serde_json::json!([
            {"step": "fail", "routine": "sub", "position": {"line": 7, "column": 7}},
            {"step": "go", "routine": "main", "position": {"line": 3, "column": 7}},
        ])
    );
    assert_eq!(v["expectations"]["passed"], false);
}

#[test]
fn a_json_scenario_is_recognised_by_its_content() {
    let dir = Scratch::new("json-scenario");
    dir.file("flow.yaml", UPPER);
    let scenario = dir.file(
        "x.scenario.json",
        r#"{"workflow": "flow.yaml", "expect": {"state": "FAILED", "error_tags": ["TypeError"]}}"#,
    );
    let out = wfsim(&["run", &scenario]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).ends_with("expectations: all held\n"));
    let out = wfsim(&["check", &scenario]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("x.scenario.json: ok (scenario; workflow"),
        "{}",
        stdout(&out)
    );
    // A map with `main` is a workflow even if it has a `workflow` key.
    let wf = dir.file(
        "odd.json",
        r#"{"main": {"steps": [{"done": {"return": 1}}]}, "workflow": {"steps": [{"x": {"return": 2}}]}}"#,
    );
    let out = wfsim(&["run", &wf, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["result"], 1);
}

#[test]
fn check_of_a_scenario_checks_the_workflow_it_names() {
    let dir = Scratch::new("check-scenario");
    let bad = dir.file("bad.yaml", "- a:\n    next: nowhere\n");
    let scenario = dir.file("s.yaml", "workflow: bad.yaml\n");
    let out = wfsim(&["check", &scenario]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{bad}:2:11:")), "{err}");
}

/// An unquoted expression holding YAML's own characters is said once, with the hint to
/// quote it, though the workflow and the scenario naming it are both checked.
#[test]
fn check_says_a_workflow_error_once_with_its_fix() {
    let dir = Scratch::new("check-once");
    let bad = dir.file(
        "bad.yaml",
        "- s:\n    assign:\n      - x: ${map.get({\"k\": 1}, \"k\")}\n",
    );
    let scenario = dir.file("s.yaml", "workflow: bad.yaml\n");
    let out = wfsim(&["check", &bad, &scenario]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches(&format!("{bad}:3:")).count(), 1, "{err}");
    assert!(
        err.contains("must be quoted whole in YAML: '${...}'"),
        "{err}"
    );
}

#[test]
fn a_scenario_naming_a_missing_workflow_says_which_line_named_it() {
    let dir = Scratch::new("missing-workflow");
    let scenario = dir.file("s.yaml", "description: d\nworkflow: nowhere.yaml\n");
    for cmd in ["run", "check"] {
        let out = wfsim(&[cmd, &scenario]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!(
                "{scenario}:2:11: cannot read the workflow 'nowhere.yaml'"
            )),
            "{err}"
        );
    }
}

#[test]
fn a_scenario_without_a_state_expects_succeeded() {
    let dir = Scratch::new("default-state");
    dir.file("flow.yaml", UPPER);
    let scenario = dir.file("s.yaml", "workflow: flow.yaml\n");
    let out = wfsim(&["run", &scenario]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("state FAILED, expected SUCCEEDED (the scenario states no 'state'"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn an_empty_json_file_is_refused_at_line_1_column_1() {
    let dir = Scratch::new("empty-json");
    let empty = dir.file("empty.json", "");
    let out = wfsim(&["check", &empty]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{empty}:1:1: invalid JSON")), "{err}");
}

#[test]
fn a_scenarios_workflow_is_named_without_dot_dot() {
    let dir = Scratch::new("tidy-path");
    std::fs::create_dir_all(dir.0.join("scenarios")).unwrap();
    std::fs::create_dir_all(dir.0.join("workflows")).unwrap();
    let flow = dir.file("workflows/flow.yaml", UPPER);
    let scenario = dir.file(
        "scenarios/s.yaml",
        "workflow: ../workflows/flow.yaml\nexpect: {state: FAILED}\n",
    );
    let out = wfsim(&["run", &scenario]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains(&format!("(main, {flow}:6:7)")), "{text}");
}

/// LIB-2: `--env KEY=VALUE` feeds `sys.get_env`, over the scenario's `env`; a reserved or
/// malformed one is invalid input.
#[test]
fn lib_2_env_flags_override_the_scenario() {
    let out = wfsim(&[
        "run",
        &path("scenarios/stdlib_more.yaml"),
        "--json",
        "--env",
        "REGION=asia-east1",
        "--env",
        "EXTRA=x=y",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["result"]["region"], "asia-east1");
    assert_eq!(
        v["result"]["tier"], "gold",
        "the scenario's other variables stay"
    );
    // The scenario expected europe-west1: the override is seen, the expectation fails.
    assert_eq!(out.status.code(), Some(1));
    let alone = wfsim(&[
        "run",
        &path("workflows/stdlib_more.yaml"),
        "--json",
        "--env",
        "TIER=silver",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&alone)).unwrap();
    assert_eq!(v["result"]["tier"], "silver");
    assert_eq!(v["result"]["region"], serde_json::Value::Null);
    for (flag, says) in [
        (
            "GOOGLE_CLOUD_PROJECT_ID=x",
            "reserved for the built-in variables",
        ),
        ("WORKFLOWS_X=1", "reserved"),
        ("=1", "needs a name"),
        ("NOVALUE", "expected KEY=VALUE"),
    ] {
        let bad = wfsim(&["run", &path("workflows/stdlib_more.yaml"), "--env", flag]);
        assert_eq!(bad.status.code(), Some(2), "--env {flag}");
        let err = String::from_utf8_lossy(&bad.stderr);
        assert!(err.contains(says), "--env {flag}: {err}");
    }
}

/// HT-10: `wfsim check` loads and checks the children a workflow names, each error at its
/// `file:line:column`; `wfsim run` runs a parent and its child, and `--json` shows both.
#[test]
fn check_and_run_take_the_children_a_workflow_names() {
    let dir = Scratch::new("children");
    let parent = dir.file(
        "parent.yaml",
        "main:\n  steps:\n    - go:\n        call: googleapis.workflowexecutions.v1.projects.locations.workflows.executions.run\n        args: {workflow_id: kid, argument: {n: 20}}\n        result: r\n    - done:\n        return: ${r + 1}\n",
    );
    let out = wfsim(&["check", &parent]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{parent}:4:9: child workflow 'kid': cannot read")),
        "{err}"
    );
    let kid = dir.file(
        "kid.yaml",
        "main:\n  params: [args]\n  steps:\n    - a:\n        next: nowhere\n",
    );
    let out = wfsim(&["check", &parent]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{kid}:5:15:")), "{err}");
    dir.file(
        "kid.yaml",
        "main:\n  params: [args]\n  steps:\n    - a:\n        return: ${args.n * 2}\n",
    );
    let out = wfsim(&["check", &parent]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), format!("{parent}: ok; children kid: ok\n"));
    let out = wfsim(&["run", &parent, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["result"], 41);
    assert_eq!(v["children"][0]["workflow"], "kid");
    assert_eq!(v["children"][0]["result"], 40);
}
