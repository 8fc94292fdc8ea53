//! `wfsim serve` under the conditions a long-running server meets: signals, an output
//! nobody reads, half-sent requests; and its operator's log.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::time::Duration;

mod common;
use common::{Server, http, root};

fn workflow(name: &str, text: &str) -> String {
    let path = root().join("target/tmp").join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

const AWAIT: &str = "main:\n  steps:\n    - create:\n        call: events.create_callback_endpoint\n        result: cb\n    - wait:\n        call: events.await_callback\n        args:\n          callback: ${cb}\n          timeout: 60\n        result: req\n    - done:\n        return: ${req.http_request.body}\n";

/// SIGTERM: the server stops accepting, answers what is in flight, syncs, and exits 0
/// saying why.
#[test]
fn sigterm_stops_gracefully_with_exit_0() {
    let flow = workflow("sigterm.yaml", AWAIT);
    let server = Server::start(&[&flow, "--token", "t", "--seed", "1", "--execute"]);
    server.line("execution started: ");
    let pid = server.child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let mut server = server;
    let exit = server.child.wait().unwrap();
    assert_eq!(exit.code(), Some(0));
    assert!(
        server.line("wfsim: stopped").contains("SIGTERM"),
        "{:?}",
        server.lines()
    );
}

/// One line per API event on stderr; `--log-format json` makes each a JSON object.
#[test]
fn api_events_are_logged_on_stderr_as_json() {
    let flow = workflow("events.yaml", AWAIT);
    let mut server = Server::start_with(
        &[
            &flow,
            "--token",
            "t",
            "--seed",
            "1",
            "--execute",
            "--log-format",
            "json",
        ],
        Stdio::piped(),
    );
    let started = server.line("execution started: ");
    let execution = started
        .strip_prefix(&format!("execution started: {}", server.base))
        .unwrap()
        .to_owned();
    let (_, list) = http(
        &server.base,
        "GET",
        &format!("{execution}/callbacks"),
        "t",
        "",
    );
    let name = list
        .split("\"name\": \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let (status, _) = http(&server.base, "POST", &format!("/v1/{name}"), "t", "\"hi\"");
    assert_eq!(status, 200);
    let stderr = server.child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut events = Vec::new();
    while events.len() < 3 {
        let line = lines.next().expect("an event line").unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
        events.push(v);
    }
    assert_eq!(events[0]["event"], "execution.started");
    assert_eq!(events[1]["event"], "callback.answered");
    assert_eq!(events[1]["status"], "200");
    assert_eq!(events[1]["method"], "POST");
    assert_eq!(events[2]["event"], "execution.ended");
    assert_eq!(events[2]["state"], "SUCCEEDED");
    assert!(
        events[2]["name"]
            .as_str()
            .unwrap()
            .ends_with(execution.rsplit('/').next().unwrap())
    );
}

/// A workflow that logs 200,000 lines while nobody reads stdout: the server still answers
/// (lines beyond the queue are dropped and counted, never waited for).
#[test]
fn an_unread_stdout_does_not_stall_the_server() {
    let flow = workflow(
        "chatty.yaml",
        "main:\n  steps:\n    - loop:\n        for:\n          value: i\n          range: [1, 40000]\n          steps:\n            - say:\n                call: sys.log\n                args:\n                  text: ${\"line \" + string(i) + \" of a chatty workflow, long enough to fill a pipe quickly\"}\n    - done:\n        return: done\n",
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wfsim"))
        .args([
            "serve",
            "--port",
            "0",
            &flow,
            "--token",
            "t",
            "--seed",
            "1",
            "--execute",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    // Read only the first line (the address), then never again.
    let mut first = Vec::new();
    let mut byte = [0u8; 1];
    while out.read_exact(&mut byte).is_ok() && byte[0] != b'\n' {
        first.push(byte[0]);
    }
    let first = String::from_utf8(first).unwrap();
    let base = first.strip_prefix("wfsim serving on ").unwrap().to_owned();
    let executions = "/v1/projects/wfsim/locations/us-central1/workflows/chatty/executions";
    let mut state = String::new();
    for _ in 0..300 {
        let (status, list) = http(&base, "GET", executions, "t", "");
        assert_eq!(status, 200);
        if list.contains("\"SUCCEEDED\"") {
            state = "SUCCEEDED".into();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        state, "SUCCEEDED",
        "the execution ran to its end while stdout was unread"
    );
}

/// A request whose headers never finish is closed after `--header-timeout`.
#[test]
fn a_half_sent_request_is_closed_after_the_header_timeout() {
    let server = Server::start(&["--token", "t", "--header-timeout", "0.5"]);
    let authority = server.base.strip_prefix("http://").unwrap().to_owned();
    let mut stream = std::net::TcpStream::connect(&authority).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
        .write_all(b"GET /v1/wfsim/clock HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut buf = Vec::new();
    // The server closes the connection (maybe after a 408): the read ends.
    let n = stream.read_to_end(&mut buf);
    assert!(n.is_ok(), "the connection was closed, not left open: {n:?}");
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
}

/// Fails at `boom` (line 19, column 7) after a call that cannot connect (caught) and one a
/// scripted service answers.
const FAILING: &str = "main:
  steps:
    - ask:
        try:
          call: http.get
          args:
            url: http://127.0.0.1:1/nothing
        except:
          as: e
          steps:
            - noted:
                assign:
                  - why: ${e.tags}
    - charge:
        call: http.post
        args:
          url: https://billing.test/charge
        result: r
    - boom:
        raise:
          code: 7
          message: ${\"charge said \" + string(r.code)}
";

/// The operator's lines of a `wfsim serve --execute` of `FAILING` (stderr), up to its
/// `execution.ended`, with `extra` flags and environment; stderr closing first fails.
fn operator_lines(extra: &[&str], env: &[(&str, &str)]) -> (String, Vec<String>) {
    let flow = workflow("failing.yaml", FAILING);
    let services = workflow(
        "billing.yaml",
        "services:\n  - match: {method: POST, url: \"https://billing.test/*\"}\n    respond: {status: 201, body: {ok: true}}\n",
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wfsim"))
        .args(["serve", "--port", "0", &flow, "--services", &services])
        .args(["--token", "t", "--seed", "1", "--execute"])
        .args(extra)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let mut ended = false;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        // Text lines start with their time, JSON ones with `{`; the rest is start-up talk.
        if !line.starts_with(|c: char| c.is_ascii_digit() || c == '{') {
            continue;
        }
        ended = line.contains("execution.ended");
        lines.push(line);
        if ended {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(ended, "no execution.ended line: {lines:#?}");
    (flow, lines)
}

/// Each line past its time, its duration (the real clock's) as `D`: the level, what
/// happened, to what, and what it says.
fn without_times(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let line = l.split_once(' ').unwrap().1;
            match line.split_once(" duration=") {
                Some((before, after)) => {
                    let rest = after.split_once(' ').map_or("", |(_, r)| r);
                    format!("{before} duration=D {rest}")
                }
                None => line.to_owned(),
            }
        })
        .collect()
}

/// Issue #25: a failed execution's line gives its error, the step and its
/// file:line:column; every outbound call has a line with its method, URL and status or
/// failure, in the order they happened; `--log-level` turns lines down.
#[test]
fn the_operators_log_says_why_an_execution_failed_and_each_call() {
    let (flow, lines) = operator_lines(&[], &[]);
    let lines = without_times(&lines);
    assert_eq!(lines.len(), 4, "{lines:#?}");
    let name = lines[0]
        .strip_prefix("INFO     execution.started ")
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(
        name.starts_with("projects/wfsim/locations/us-central1/workflows/failing/executions/"),
        "{name}"
    );
    let refused = lines[1]
        .strip_prefix(&format!(
            "WARN     call.answered {name} method=GET url=http://127.0.0.1:1/nothing failed=\"ConnectionFailedError: "
        ))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(refused.ends_with("\" by=network"), "{refused}");
    assert_eq!(
        lines[2],
        format!(
            "INFO     call.answered {name} method=POST url=https://billing.test/charge status=201 by=service"
        )
    );
    let ended = lines[3]
        .strip_prefix(&format!(
            "ERROR    execution.ended {name} state=FAILED duration=D"
        ))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(
        ended == format!(" error=\"charge said 201\" at=\"step 'boom' (main, {flow}:19:7)\""),
        "{ended}"
    );

    // Turned down: only the failure; by the environment, warnings too.
    let (_, errors) = operator_lines(&["--log-level", "error"], &[]);
    assert_eq!(without_times(&errors), lines[3..]);
    let (_, warnings) = operator_lines(&[], &[("WFSIM_LOG_LEVEL", "warn")]);
    assert_eq!(
        without_times(&warnings),
        [lines[1].clone(), lines[3].clone()]
    );
    let (_, json) = operator_lines(&["--log-level", "error", "--log-format", "json"], &[]);
    let v: serde_json::Value = serde_json::from_str(&json[0]).unwrap();
    assert_eq!(
        (&v["level"], &v["event"], &v["error"]),
        (
            &"error".into(),
            &"execution.ended".into(),
            &"charge said 201".into()
        )
    );
}
