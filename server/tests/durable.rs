//! `--state-dir` over real loopback HTTP with storage that fails (`StateDir::inject`): a
//! write or fsync error is never taken for success. Inputs are refused with 503 and the
//! reason from then on, reads are still served, and the log says so.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wfsim_engine::{SimTime, defn};
use wfsim_server::durable::{Fault, StateDir};
use wfsim_server::{ClockMode, Config, Options, State, serve_observed};

const WORKFLOW: &str = "
- create:
    call: events.create_callback_endpoint
    result: cb
- wait:
    call: events.await_callback
    args:
      callback: ${cb}
      timeout: 60
    result: req
- done:
    return: ${req.http_request.body}
";

const EXECUTIONS: &str = "/v1/projects/p/locations/l/workflows/w/executions";

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/tmp")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// One HTTP/1.1 request on a fresh connection: the status and the body.
async fn call(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: wfsim\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

/// Serves a state with `WORKFLOW` as `w` on the state dir `name`; runs `test` with the
/// address, the dir (to inject faults) and the log lines.
fn with_server<F, Fut>(name: &str, test: F)
where
    F: FnOnce(std::net::SocketAddr, Rc<StateDir>, Rc<RefCell<Vec<String>>>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = scratch(name);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&runtime, async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut state = State::new(
            Config {
                auth: false,
                clock: ClockMode::Manual,
                ..Config::new("p", "l", format!("http://{addr}"))
            },
            0,
        );
        state.keep_for_checkpoints();
        state.deploy("w", defn::load("w.yaml", WORKFLOW).unwrap());
        let state_dir = Rc::new(StateDir::open(&dir).unwrap().dir);
        let logs = Rc::new(RefCell::new(Vec::new()));
        let sink = Rc::clone(&logs);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let options = Options {
            state_dir: Some(Rc::clone(&state_dir)),
            ..Options::logs(Rc::new(move |line| sink.borrow_mut().push(line)))
        };
        let server = tokio::task::spawn_local(serve_observed(
            listener,
            Rc::new(RefCell::new(state)),
            tokio::time::Instant::now(),
            options,
            async {
                let _ = stopped.await;
            },
        ));
        test(addr, state_dir, logs).await;
        let _ = stop.send(());
        let _ = server.await;
    });
}

fn name_of(created: &str) -> String {
    let j: serde_json::Value = serde_json::from_str(created).unwrap();
    format!("/v1/{}", j["name"].as_str().unwrap())
}

#[test]
fn a_failed_write_refuses_inputs_with_503_and_keeps_serving_reads() {
    with_server("durable-live-write", |addr, dir, logs| async move {
        let (status, created) = call(addr, "POST", EXECUTIONS, "").await;
        assert_eq!(status, 200, "{created}");
        let kept = name_of(&created);
        dir.inject(Some(Fault::Write));
        let (status, body) = call(addr, "POST", EXECUTIONS, "").await;
        assert_eq!(status, 503, "{body}");
        assert!(
            body.contains("UNAVAILABLE")
                && body.contains("cannot append to the state dir")
                && body.contains("no space left"),
            "{body}"
        );
        // Healed storage does not unsay the failure: what was refused may be half written.
        dir.inject(None);
        let (status, body) = call(addr, "POST", &format!("{kept}:cancel"), "").await;
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("cannot append"), "{body}");
        // Reads are served, and the refused cancel changed nothing.
        let (status, got) = call(addr, "GET", &kept, "").await;
        assert_eq!(status, 200, "{got}");
        assert!(got.contains("\"ACTIVE\""), "{got}");
        assert_eq!(call(addr, "GET", EXECUTIONS, "").await.0, 200);
        let said: Vec<String> = logs
            .borrow()
            .iter()
            .filter(|l| l.contains("ERROR"))
            .cloned()
            .collect();
        assert_eq!(said.len(), 1, "said once: {said:?}");
        assert!(said[0].contains("refused (503)"), "{said:?}");
    });
    // The one execution answered 200 is what the directory holds.
    let opened = StateDir::open(&scratch_keep("durable-live-write")).unwrap();
    assert_eq!(opened.inputs.len(), 1, "{:?}", opened.inputs);
    assert_eq!(opened.inputs[0].1.method, "POST");
    assert_eq!(opened.inputs[0].0, SimTime::ZERO);
}

/// The path of `name` without clearing it.
fn scratch_keep(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/tmp")
        .join(name)
}

#[test]
fn a_failed_fsync_refuses_the_request_with_503() {
    with_server("durable-live-sync", |addr, dir, _logs| async move {
        dir.inject(Some(Fault::Sync));
        let (status, body) = call(addr, "POST", EXECUTIONS, "").await;
        assert_eq!(status, 503, "{body}");
        assert!(
            body.contains("cannot sync the state dir") && body.contains("fsync failed"),
            "{body}"
        );
        let (status, body) = call(addr, "GET", EXECUTIONS, "").await;
        assert_eq!(status, 200, "{body}");
    });
}
