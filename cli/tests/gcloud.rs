//! gcloud, the tool the guide itself uses, against `wfsim serve`: the guide's commands
//! (`workflows deploy`, `describe`, `list`, `execute`, `run` blocking until a callback
//! arrives, `executions list`, `describe`, `cancel`, `wait`, `workflows delete`), pointed at
//! the server by `api_endpoint_overrides` in a throwaway `CLOUDSDK_CONFIG`, authorized by
//! `--access-token-file`. gcloud speaks the REST resources as the discovery documents
//! describe them, so this also judges the fields the 2024 protos lack.
//!
//! Skipped, saying why, where gcloud is not installed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

mod common;
use common::{Server, http};

const TOKEN: &str = "t0k";

const SOURCE: &str = "\
main:
  params: [args]
  steps:
    - make:
        call: events.create_callback_endpoint
        args: {http_callback_method: POST}
        result: cb
    - say:
        call: sys.log
        args: {text: '${\"callback \" + cb.url}'}
    - wait:
        call: events.await_callback
        args: {callback: '${cb}', timeout: 43200}
        result: got
    - done:
        return: ${got.http_request.body}
";

/// A gcloud with its own configuration, every command aimed at one server.
struct Gcloud {
    config: PathBuf,
    token_file: PathBuf,
}

impl Gcloud {
    fn new(dir: &Path, base: &str) -> Gcloud {
        let g = Gcloud {
            config: dir.join("config"),
            token_file: dir.join("token"),
        };
        std::fs::write(&g.token_file, TOKEN).expect("write the token file");
        for (property, value) in [
            ("api_endpoint_overrides/workflows", format!("{base}/")),
            (
                "api_endpoint_overrides/workflowexecutions",
                format!("{base}/"),
            ),
            ("core/disable_prompts", "true".into()),
            ("core/disable_usage_reporting", "true".into()),
            ("component_manager/disable_update_check", "true".into()),
        ] {
            let out = g.command(&["config", "set", property, &value]).output();
            assert_ok(&out.expect("gcloud runs"), "gcloud config set");
        }
        g
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("gcloud");
        c.env("CLOUDSDK_CONFIG", &self.config).args(args);
        c
    }

    /// `gcloud ARGS --project wfsim --location us-central1 --access-token-file F`.
    fn api(&self, args: &[&str]) -> Command {
        let mut c = self.command(args);
        c.args(["--project", "wfsim", "--location", "us-central1"])
            .arg("--access-token-file")
            .arg(&self.token_file);
        c
    }

    /// Runs an API command that must succeed; its stdout and stderr, together.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.api(args).output().expect("gcloud runs");
        assert_ok(&out, &format!("gcloud {}", args.join(" ")))
    }
}

fn assert_ok(out: &Output, what: &str) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    text
}

/// The callback URLs the server's log has printed so far, oldest first.
fn callback_urls(server: &Server) -> Vec<String> {
    server
        .lines()
        .iter()
        .filter_map(|l| {
            l.split_once("callback ")
                .map(|(_, url)| url.trim().to_owned())
        })
        .collect()
}

#[test]
fn the_guides_gcloud_commands_work_against_wfsim() {
    if Command::new("gcloud").arg("--version").output().is_err() {
        eprintln!("skipped: gcloud is not installed (it is on the project's CI machines)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("wfsim-gcloud-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let source = dir.join("flow.yaml");
    std::fs::write(&source, SOURCE).expect("write the workflow");
    let server = Server::start(&["--clock", "manual", "--token", TOKEN, "--seed", "7"]);
    let gcloud = Gcloud::new(&dir, &server.base);
    let source = source.to_str().expect("a UTF-8 path");

    let deployed = gcloud.ok(&["workflows", "deploy", "flow", "--source", source]);
    assert!(deployed.contains("state: ACTIVE"), "{deployed}");
    assert!(deployed.contains("revisionId: 000001-"), "{deployed}");
    let described = gcloud.ok(&["workflows", "describe", "flow"]);
    assert!(described.contains("events.await_callback"), "{described}");
    let listed = gcloud.ok(&["workflows", "list"]);
    assert!(listed.contains("flow"), "{listed}");

    // `execute` starts one and returns at once.
    let executed = gcloud.ok(&["workflows", "execute", "flow", "--data", r#"{"n":1}"#]);
    let waiting = executed
        .split_once("Created [")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(id, _)| id.to_owned())
        .unwrap_or_else(|| panic!("no execution id in: {executed}"));

    // `run` blocks until the execution ends, which the callback brings about.
    let run = gcloud
        .api(&["workflows", "run", "flow", "--data", r#"{"n":2}"#])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("gcloud runs");
    let mut urls = callback_urls(&server);
    for _ in 0..600 {
        if urls.len() == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        urls = callback_urls(&server);
    }
    assert_eq!(urls.len(), 2, "two endpoints logged: {:?}", server.lines());
    let path = urls[1]
        .strip_prefix(&server.base)
        .expect("a URL of this server");
    let (status, body) = http(&server.base, "POST", path, TOKEN, r#"{"approved":true}"#);
    assert_eq!(status, 200, "{body}");
    let ran = assert_ok(&run.wait_with_output().expect("gcloud ends"), "gcloud run");
    assert!(ran.contains("state: SUCCEEDED"), "{ran}");
    assert!(ran.contains(r#"result: '{"approved":true}'"#), "{ran}");

    let executions = gcloud.ok(&["workflows", "executions", "list", "flow"]);
    assert_eq!(
        executions.matches("/executions/").count(),
        2,
        "{executions}"
    );
    let one = gcloud.ok(&[
        "workflows",
        "executions",
        "describe",
        &waiting,
        "--workflow",
        "flow",
    ]);
    assert!(one.contains("state: ACTIVE"), "{one}");
    assert!(one.contains("step: wait"), "{one}");
    let cancelled = gcloud.ok(&[
        "workflows",
        "executions",
        "cancel",
        &waiting,
        "--workflow",
        "flow",
    ]);
    assert!(cancelled.contains("state: CANCELLED"), "{cancelled}");
    let waited = gcloud.ok(&[
        "workflows",
        "executions",
        "wait",
        &waiting,
        "--workflow",
        "flow",
    ]);
    assert!(waited.contains("state: CANCELLED"), "{waited}");

    gcloud.ok(&["workflows", "delete", "flow"]);
    let listed = gcloud.ok(&["workflows", "list"]);
    assert!(!listed.contains("workflows/flow"), "{listed}");
    let (status, _) = http(
        &server.base,
        "GET",
        "/v1/projects/wfsim/locations/us-central1/workflows/flow",
        TOKEN,
        "",
    );
    assert_eq!(status, 404, "deleted");
    server.kill();
    let _ = std::fs::remove_dir_all(&dir);
}
