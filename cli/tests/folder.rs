//! `wfsim serve FOLDER`: the folder's workflows are deployed and watched. A save is a new
//! revision, a broken file is reported at its line and column while the last good revision
//! keeps serving, a fix deploys again, a removed file deletes its workflow; and with
//! `--state-dir`, a restart brings back what the watcher did.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

mod common;
use common::{Server, http};

const TOKEN: &str = "t0k";
const PARENT: &str = "/v1/projects/wfsim/locations/us-central1";

fn returning(value: &str) -> String {
    format!("main:\n  steps:\n    - done:\n        return: {value}\n")
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wfsim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir
}

/// The workflow's current revision id, or the status it answered.
fn revision(server: &Server, name: &str) -> Result<String, u16> {
    let (status, body) = http(
        &server.base,
        "GET",
        &format!("{PARENT}/workflows/{name}"),
        TOKEN,
        "",
    );
    if status != 200 {
        return Err(status);
    }
    let w: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    Ok(w["revisionId"].as_str().expect("a revision").to_owned())
}

/// Waits (up to 10 s) until `check` holds, polling the server.
fn until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..500 {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("never: {what}");
}

/// Runs the workflow and waits for its result.
fn result_of(server: &Server, name: &str) -> String {
    let (status, body) = http(
        &server.base,
        "POST",
        &format!("{PARENT}/workflows/{name}/executions"),
        TOKEN,
        "{}",
    );
    assert_eq!(status, 200, "{body}");
    let e: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let path = format!("/v1/{}", e["name"].as_str().expect("a name"));
    let mut result = String::new();
    until("the execution ends", || {
        let (_, body) = http(&server.base, "GET", &path, TOKEN, "");
        let e: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        result = e["result"].as_str().unwrap_or_default().to_owned();
        e["state"] == "SUCCEEDED"
    });
    result
}

fn serve(dir: &Path, stderr: &Path, extra: &[&str]) -> Server {
    let log = std::fs::File::create(stderr).expect("a log file");
    let mut args = vec![
        dir.to_str().expect("UTF-8"),
        "--token",
        TOKEN,
        "--seed",
        "5",
        "--watch-ms",
        "20",
    ];
    args.extend_from_slice(extra);
    Server::start_with(&args, Stdio::from(log))
}

#[test]
fn a_folder_is_deployed_and_follows_its_files() {
    let dir = temp("folder");
    let flow = dir.join("flow.yaml");
    std::fs::write(&flow, returning("1")).unwrap();
    std::fs::write(
        dir.join("other.json"),
        r#"{"main": {"steps": [{"r": {"return": 2}}]}}"#,
    )
    .unwrap();
    // A scenario beside the workflows is not deployed.
    std::fs::write(dir.join("flow_test.yaml"), "workflow: flow.yaml\n").unwrap();
    let log = dir.join("stderr.log");
    let server = serve(&dir, &log, &[]);
    server.line("workflow flow: ");
    server.line("workflow other: ");
    assert_eq!(revision(&server, "flow_test"), Err(404));
    let first = revision(&server, "flow").unwrap();
    assert!(first.starts_with("000001-"), "{first}");
    assert_eq!(result_of(&server, "other"), "2");

    // A save is a new revision.
    std::fs::write(&flow, returning("10")).unwrap();
    until("revision 2", || {
        revision(&server, "flow").is_ok_and(|r| r.starts_with("000002-"))
    });
    assert_eq!(result_of(&server, "flow"), "10");

    // A broken save is reported at its line and column; revision 2 keeps serving.
    std::fs::write(&flow, "main:\n  steps:\n    - done:\n        retrun: 3\n").unwrap();
    until("the error reported", || {
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("keeps serving")
    });
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(said.contains(&format!("{}:4:", flow.display())), "{said}");
    assert!(revision(&server, "flow").unwrap().starts_with("000002-"));
    assert_eq!(result_of(&server, "flow"), "10");

    // Fixed, it deploys again; removed, it is deleted.
    std::fs::write(&flow, returning("30")).unwrap();
    until("revision 3", || {
        revision(&server, "flow").is_ok_and(|r| r.starts_with("000003-"))
    });
    assert_eq!(result_of(&server, "flow"), "30");
    std::fs::remove_file(&flow).unwrap();
    until("deleted", || revision(&server, "flow") == Err(404));
    // A new file is a new workflow.
    std::fs::write(dir.join("late.yaml"), returning("4")).unwrap();
    until("late deployed", || revision(&server, "late").is_ok());
    assert_eq!(result_of(&server, "late"), "4");
    server.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn one_bad_file_does_not_stop_the_server_and_a_restart_keeps_what_the_watcher_did() {
    let dir = temp("folder-state");
    let flows = dir.join("flows");
    std::fs::create_dir_all(&flows).unwrap();
    std::fs::write(flows.join("good.yaml"), returning("1")).unwrap();
    std::fs::write(flows.join("bad.yaml"), "main:\n  steps: 3\n").unwrap();
    let state = dir.join("state");
    let log = dir.join("stderr.log");
    let state_arg = ["--state-dir", state.to_str().unwrap()];
    let server = serve(&flows, &log, &state_arg);
    server.line("workflow good: ");
    assert_eq!(revision(&server, "bad"), Err(404));
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(said.contains("bad.yaml:2:"), "{said}");

    std::fs::write(flows.join("good.yaml"), returning("2")).unwrap();
    until("revision 2", || {
        revision(&server, "good").is_ok_and(|r| r.starts_with("000002-"))
    });
    let second = revision(&server, "good").unwrap();
    server.kill();

    // Restarted on the state dir with the file unchanged: the same revision, no new one.
    let server = serve(&flows, &log, &state_arg);
    server.line("workflow good: ");
    assert_eq!(revision(&server, "good").unwrap(), second);
    assert_eq!(result_of(&server, "good"), "2");
    server.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--services FILE` is watched like the folder: a save serves the executions started
/// from then on; a broken save is reported at its line and column, and the services in use
/// keep answering.
#[test]
fn a_services_file_saved_again_answers_the_executions_started_since() {
    let dir = temp("folder-services");
    let flows = dir.join("flows");
    std::fs::create_dir_all(&flows).unwrap();
    std::fs::write(
        flows.join("ask.yaml"),
        "main:\n  steps:\n    - ask:\n        call: http.get\n        args:\n          url: https://svc.test/x\n        result: r\n    - done:\n        return: ${r.code}\n",
    )
    .unwrap();
    let services = dir.join("services.yaml");
    let answering = |status: u16| {
        format!(
            "services:\n  - match: {{url: \"https://svc.test/*\"}}\n    respond: {{status: {status}}}\n"
        )
    };
    std::fs::write(&services, answering(201)).unwrap();
    let log = dir.join("stderr.log");
    let server = serve(&flows, &log, &["--services", services.to_str().unwrap()]);
    server.line("workflow ask: ");
    assert_eq!(result_of(&server, "ask"), "201");

    std::fs::write(&services, answering(202)).unwrap();
    until("the services read again", || {
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("read again")
    });
    assert_eq!(result_of(&server, "ask"), "202");

    std::fs::write(&services, "services:\n  - respond: 7\n").unwrap();
    until("the error reported", || {
        std::fs::read_to_string(&log).unwrap().contains("not read")
    });
    let said = std::fs::read_to_string(&log).unwrap();
    assert!(
        said.contains(&format!("{}:2:", services.display())),
        "{said}"
    );
    assert_eq!(result_of(&server, "ask"), "202");
    server.kill();
    let _ = std::fs::remove_dir_all(&dir);
}
