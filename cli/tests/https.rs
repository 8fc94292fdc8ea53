//! A served workflow's `https://` call reaches a real TLS service: here one on localhost
//! (python3's `http.server` wrapped in `ssl`) whose certificate is signed by the test CA of
//! `fixtures/tls/`. Trusted through `--ca-cert`, the call gets its answer; without it, the
//! certificate is unknown and the step fails with ConnectionFailedError, which the workflow
//! could catch.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod common;
use common::{Server, http, root};

const TOKEN: &str = "t0k";
const PARENT: &str = "/v1/projects/wfsim/locations/us-central1";

const SERVICE: &str = r#"
import http.server, ssl, sys
class Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"secure": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Answer)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

const WORKFLOW: &str = "\
main:
  params: [args]
  steps:
    - get:
        call: http.get
        args: {url: '${args.url}'}
        result: r
    - done:
        return: ${r.body}
";

/// The TLS service, killed when dropped; its port.
struct Service(Child, u16);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn service() -> Service {
    let tls = root().join("fixtures/tls");
    let mut child = Command::new("python3")
        .args(["-c", SERVICE])
        .arg(tls.join("localhost.pem"))
        .arg(tls.join("localhost.key"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs (this test needs it)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the service's port");
    let port = line.trim().parse().expect("a port");
    Service(child, port)
}

/// Runs the workflow against `url`; the ended execution.
fn run(server: &Server, url: &str) -> serde_json::Value {
    let argument = serde_json::json!({ "url": url }).to_string();
    let body = serde_json::json!({ "argument": argument }).to_string();
    let (status, created) = http(
        &server.base,
        "POST",
        &format!("{PARENT}/workflows/fetch/executions"),
        TOKEN,
        &body,
    );
    assert_eq!(status, 200, "{created}");
    let e: serde_json::Value = serde_json::from_str(&created).expect("JSON");
    let path = format!("/v1/{}", e["name"].as_str().expect("a name"));
    for _ in 0..500 {
        let (_, body) = http(&server.base, "GET", &path, TOKEN, "");
        let e: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        if e["state"] != "ACTIVE" {
            return e;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the execution never ended");
}

#[test]
fn a_served_workflow_calls_an_https_service_it_trusts() {
    let dir = std::env::temp_dir().join(format!("wfsim-https-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fetch.yaml");
    std::fs::write(&file, WORKFLOW).unwrap();
    let service = service();
    let ca = root().join("fixtures/tls/ca.pem");
    let file_arg = file.to_str().unwrap();

    let trusting = Server::start(&[
        file_arg,
        "--token",
        TOKEN,
        "--ca-cert",
        ca.to_str().unwrap(),
    ]);
    for host in ["localhost", "127.0.0.1"] {
        let e = run(&trusting, &format!("https://{host}:{}/", service.1));
        assert_eq!(e["state"], "SUCCEEDED", "{host}: {e}");
        assert_eq!(e["result"], r#"{"secure":true}"#, "{host}: {e}");
    }
    trusting.kill();

    let plain = Server::start(&[file_arg, "--token", TOKEN]);
    let e = run(&plain, &format!("https://localhost:{}/", service.1));
    assert_eq!(e["state"], "FAILED", "{e}");
    let error = e["error"]["payload"].as_str().unwrap_or_default();
    assert!(
        error.contains("ConnectionFailedError") && error.contains("TLS"),
        "{e}"
    );
    plain.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_ca_cert_file_that_is_not_one_stops_the_start() {
    let out = Command::new(env!("CARGO_BIN_EXE_wfsim"))
        .args(["serve", "--port", "0", "--ca-cert"])
        .arg(root().join("fixtures/tls/README.md"))
        .output()
        .expect("wfsim runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("README.md: holds no PEM certificate"),
        "{stderr}"
    );
}
