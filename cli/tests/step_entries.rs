//! EX-8: `wfsim run --json --step-entries` adds the execution's step entries, each as the
//! Executions API's `StepEntry` (less its resource name), so a test can assert on them.

use std::path::Path;
use std::process::Command;

fn run_json(args: &[&str]) -> serde_json::Value {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let out = Command::new(env!("CARGO_BIN_EXE_wfsim"))
        .current_dir(fixtures)
        .args(args)
        .output()
        .expect("wfsim runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn step_entries_are_in_the_json_only_when_asked_for() {
    let plain = run_json(&["run", "scenarios/worked_example.yaml", "--json"]);
    assert!(plain.get("step_entries").is_none());
    let with = run_json(&[
        "run",
        "scenarios/worked_example.yaml",
        "--json",
        "--step-entries",
    ]);
    assert_eq!(with["step_entries_dropped"], 0);
    insta::assert_yaml_snapshot!("worked_example_step_entries", with["step_entries"]);
}

/// A retried `try`: its attempts, the predicate's steps and the except are entries, each
/// failed attempt with its error.
#[test]
fn a_retried_steps_attempts_are_entries() {
    let v = run_json(&[
        "run",
        "scenarios/retry_loop.yaml",
        "--json",
        "--step-entries",
    ]);
    let lines: Vec<String> = v["step_entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}.{} {} {} {}",
                e["entryId"].as_str().unwrap(),
                e["routine"].as_str().unwrap(),
                e["step"].as_str().unwrap(),
                e["stepType"].as_str().unwrap(),
                e["state"].as_str().unwrap(),
                e["updateTime"].as_str().unwrap(),
            )
        })
        .collect();
    insta::assert_yaml_snapshot!("retry_loop_step_entries", lines);
}

/// `--step-entries=detailed` (GCP's DETAILED history) adds each entry's `variableData`:
/// the same entries, each with the variables in scope as of its last update, and how many
/// the budget left without (`step_variables_dropped`); anything else is refused by name.
#[test]
fn detailed_entries_carry_their_variables() {
    let args = ["run", "scenarios/worked_example.yaml", "--json"];
    let basic = run_json(&[&args[..], &["--step-entries=basic"]].concat());
    let detailed = run_json(&[&args[..], &["--step-entries=detailed"]].concat());
    assert!(basic.get("step_variables_dropped").is_none());
    assert_eq!(detailed["step_variables_dropped"], 0);
    let (b, d) = (
        basic["step_entries"].as_array().unwrap(),
        detailed["step_entries"].as_array().unwrap(),
    );
    assert_eq!(b.len(), d.len());
    for (b, d) in b.iter().zip(d) {
        assert!(b.get("variableData").is_none(), "{b}");
        let mut d = d.clone();
        let vars = d.as_object_mut().unwrap().remove("variableData").unwrap();
        assert!(vars["variables"].is_object(), "{vars}");
        assert_eq!(b, &d, "the rest is the same");
    }
    let last = &d[d.len() - 1]["variableData"]["variables"];
    assert!(last["cb"]["url"].is_string(), "{last}");
    assert_eq!(
        last["req"]["http_request"]["body"], "QQ==",
        "A, as bytes: {last}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_wfsim"))
        .args(["run", "x.yaml", "--step-entries=everything"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values: basic, detailed"));
}
