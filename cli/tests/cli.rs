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
            "ended_at",
            "logs",
            "endpoints",
            "requests",
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
