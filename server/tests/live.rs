//! Live mode over real loopback HTTP: the guide's walk-through and every status of CB-13.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::path::Path;
use std::rc::Rc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::{Value as Json, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::LocalSet;
use wfsim_engine::defn;
use wfsim_server::{ClockMode, Config, State, serve};

/// A running server: its address, admin token, and captured log lines.
struct Live {
    addr: SocketAddr,
    token: String,
    logs: Rc<RefCell<Vec<String>>>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn fixture(name: &str) -> defn::Workflow {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/workflows")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    defn::load(name, &text).unwrap()
}

async fn start(workflows: Vec<(&str, defn::Workflow)>, grants: &[(&str, &[&str])]) -> Live {
    start_with_clock(workflows, grants, ClockMode::Real).await
}

async fn start_with_clock(
    workflows: Vec<(&str, defn::Workflow)>,
    grants: &[(&str, &[&str])],
    clock: ClockMode,
) -> Live {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let grants = grants
        .iter()
        .map(|(sa, perms)| {
            (
                sa.to_string(),
                perms.iter().map(|p| p.to_string()).collect(),
            )
        })
        .collect();
    let mut state = State::new(
        Config {
            grants,
            clock,
            ..Config::new("p", "l", format!("http://{addr}"))
        },
        1_704_067_200_000_000_000,
    );
    for (name, wf) in workflows {
        state.deploy(name, wf);
    }
    let token = state.master_token().unwrap();
    let logs = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&logs);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::task::spawn_local(serve(
        listener,
        Rc::new(RefCell::new(state)),
        tokio::time::Instant::now(),
        Rc::new(move |line| sink.borrow_mut().push(line)),
        async {
            let _ = stopped.await;
        },
    ));
    Live {
        addr,
        token,
        logs,
        stop: Some(stop),
    }
}

/// One request over a fresh connection: (status, headers, JSON or text body).
async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> (u16, hyper::HeaderMap, Json) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::task::spawn_local(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("Host", addr.to_string());
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    let res = sender
        .send_request(req.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or(Json::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, headers, json)
}

impl Live {
    /// One request with the admin token.
    async fn admin(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> (u16, hyper::HeaderMap, Json) {
        call(self.addr, method, path, Some(&self.token), body).await
    }
}

fn base(workflow: &str) -> String {
    format!("/v1/projects/p/locations/l/workflows/{workflow}/executions")
}

/// Starts an execution and returns its path.
async fn execute(live: &Live, workflow: &str, argument: Option<&str>) -> String {
    let body = match argument {
        Some(a) => serde_json::to_vec(&json!({"argument": a})).unwrap(),
        None => Vec::new(),
    };
    let (status, _, exec) = live.admin("POST", &base(workflow), body).await;
    assert_eq!(status, 200, "{exec}");
    format!("/v1/{}", exec["name"].as_str().unwrap())
}

/// The path of the execution's only callback endpoint, from its callbacks list.
async fn callback_path(live: &Live, execution: &str) -> String {
    let (status, _, list) = live
        .admin("GET", &format!("{execution}/callbacks"), vec![])
        .await;
    assert_eq!(status, 200);
    format!("/v1/{}", list["callbacks"][0]["name"].as_str().unwrap())
}

async fn state_of(live: &Live, execution: &str) -> Json {
    live.admin("GET", execution, vec![]).await.2
}

async fn wait_for_state(live: &Live, execution: &str, state: &str) -> Json {
    for _ in 0..200 {
        let e = state_of(live, execution).await;
        if e["state"] == state {
            return e;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!(
        "{execution} never reached {state}: {}",
        state_of(live, execution).await
    );
}

fn run_local(f: impl std::future::Future<Output = ()>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    LocalSet::new().block_on(&rt, f);
}

#[test]
fn the_guides_walk_through() {
    run_local(async {
        let live = start(
            vec![("basic_callback", fixture("basic_callback.yaml"))],
            &[],
        )
        .await;
        let execution = execute(&live, "basic_callback", None).await;
        // The URL is in the log, as the guide says.
        let line = live
            .logs
            .borrow()
            .iter()
            .find(|l| l.contains("Listening for callbacks on"))
            .cloned()
            .unwrap();
        let url = line.rsplit(' ').next().unwrap().to_owned();
        let path = url
            .strip_prefix(&format!("http://{}", live.addr))
            .unwrap()
            .to_owned();
        let (status, _, body) = live.admin("GET", &format!("{path}?a=1"), vec![]).await;
        assert_eq!((status, body), (200, json!({})));
        let done = wait_for_state(&live, &execution, "SUCCEEDED").await;
        let result: Json = serde_json::from_str(done["result"].as_str().unwrap()).unwrap();
        assert_eq!(result["method"], "GET");
        assert_eq!(result["url"], path.as_str());
        assert_eq!(result["query"], json!({"a": ["1"]}));
        assert!(
            result["headers"].get("Authorization").is_none(),
            "the token is not the workflow's"
        );
        let (_, _, logs) = live
            .admin("GET", &format!("{execution}/logs"), vec![])
            .await;
        assert_eq!(logs["entries"].as_array().unwrap().len(), 2);
        assert_eq!(logs["entries"][1]["severity"], "INFO");
        // CB-11: the execution is over.
        let (status, _, err) = live.admin("GET", &path, vec![]).await;
        assert_eq!(status, 404);
        assert_eq!(err["error"]["status"], "NOT_FOUND");
    });
}

#[test]
fn cb_13_every_status() {
    run_local(async {
        let live = start(
            vec![("create_await", fixture("create_await.yaml"))],
            &[("reader@p", &["workflows.executions.get"])],
        )
        .await;
        let execution = execute(&live, "create_await", None).await;
        let cb = callback_path(&live, &execution).await;
        // 401: no token, a made-up one.
        let (status, _, err) = call(live.addr, "POST", &cb, None, vec![]).await;
        assert_eq!(
            (status, err["error"]["status"].as_str()),
            (401, Some("UNAUTHENTICATED"))
        );
        assert_eq!(
            call(live.addr, "POST", &cb, Some("nope"), vec![]).await.0,
            401
        );
        // 403: a valid token without workflows.callbacks.send.
        let (_, _, minted) = live
            .admin(
                "POST",
                "/v1/projects/-/serviceAccounts/reader@p:generateAccessToken",
                br#"{"lifetime": "3600s"}"#.to_vec(),
            )
            .await;
        let reader = minted["accessToken"].as_str().unwrap().to_owned();
        let (status, _, err) = call(live.addr, "POST", &cb, Some(&reader), vec![]).await;
        assert_eq!(
            (status, err["error"]["status"].as_str()),
            (403, Some("PERMISSION_DENIED"))
        );
        // 405, with Allow.
        let (status, headers, _) = live.admin("PUT", &cb, vec![]).await;
        assert_eq!(status, 405);
        assert_eq!(headers.get("allow").unwrap(), "POST");
        // 413: over 512 KiB.
        let (status, _, err) = live.admin("POST", &cb, vec![b'x'; 512 * 1024 + 1]).await;
        assert_eq!(
            (status, err["error"]["status"].as_str()),
            (413, Some("INVALID_ARGUMENT"))
        );
        // 404: no such callback.
        let (status, _, _) = live
            .admin("POST", &format!("{execution}/callbacks/nope"), vec![])
            .await;
        assert_eq!(status, 404);
        // 200, then the execution succeeds.
        let (status, _, _) = live.admin("POST", &cb, b"hi".to_vec()).await;
        assert_eq!(status, 200);
        wait_for_state(&live, &execution, "SUCCEEDED").await;
    });
}

#[test]
fn slot_full_then_accepted_after_the_await() {
    run_local(async {
        let yaml = "- create:\n    call: events.create_callback_endpoint\n    result: cb\n- wait:\n    call: sys.sleep\n    args:\n      seconds: 0.3\n- first:\n    call: events.await_callback\n    args:\n      callback: ${cb}\n      timeout: 10\n- second:\n    call: events.await_callback\n    args:\n      callback: ${cb}\n      timeout: 10\n    result: r\n- done:\n    return: ${text.decode(r.http_request.body)}\n";
        let wf = defn::load("two_awaits.yaml", yaml).unwrap();
        let live = &start(vec![("two_awaits", wf)], &[]).await;
        let execution = execute(live, "two_awaits", None).await;
        let cb = callback_path(live, &execution).await;
        assert_eq!(live.admin("POST", &cb, b"A".to_vec()).await.0, 200);
        let (status, _, err) = live.admin("POST", &cb, b"B".to_vec()).await;
        assert_eq!(status, 429, "{err}");
        // After the first await takes A, the slot is free: B's retry is accepted (CB-9).
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        assert_eq!(live.admin("POST", &cb, b"B".to_vec()).await.0, 200);
        let done = wait_for_state(live, &execution, "SUCCEEDED").await;
        assert_eq!(done["result"], "\"B\"");
    });
}

#[test]
fn expired_tokens_are_refused() {
    run_local(async {
        let live = start(vec![("create_await", fixture("create_await.yaml"))], &[]).await;
        let execution = execute(&live, "create_await", None).await;
        let cb = callback_path(&live, &execution).await;
        let (status, _, minted) = live
            .admin(
                "POST",
                "/v1/projects/-/serviceAccounts/sender@p:generateAccessToken",
                br#"{"lifetime": "0.2s"}"#.to_vec(),
            )
            .await;
        assert_eq!(status, 200, "{minted}");
        let short = minted["accessToken"].as_str().unwrap().to_owned();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let (status, _, err) = call(live.addr, "POST", &cb, Some(&short), vec![]).await;
        assert_eq!(status, 401);
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("expired")
        );
        // Minting needs a valid token too.
        let (status, _, _) = call(
            live.addr,
            "POST",
            "/v1/projects/-/serviceAccounts/x:generateAccessToken",
            None,
            vec![],
        )
        .await;
        assert_eq!(status, 401);
    });
}

#[test]
fn cb_12_ten_waiters_ten_concurrent_requests() {
    run_local(async {
        let live = start(vec![("parallel_ten", fixture("parallel_ten.yaml"))], &[]).await;
        let execution = execute(&live, "parallel_ten", None).await;
        let cb = callback_path(&live, &execution).await;
        for _ in 0..100 {
            let (_, _, list) = live
                .admin("GET", &format!("{execution}/callbacks"), vec![])
                .await;
            if list["callbacks"][0]["waiters"] == "10" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let mut tasks = Vec::new();
        for i in 0..10 {
            let (addr, token, cb) = (live.addr, live.token.clone(), cb.clone());
            tasks.push(tokio::task::spawn_local(async move {
                call(addr, "POST", &cb, Some(&token), format!("{i}").into_bytes())
                    .await
                    .0
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 200);
        }
        wait_for_state(&live, &execution, "SUCCEEDED").await;
    });
}

/// CB-12 in live mode (SPEC preface: a request is answered after the threads it woke have
/// run): on a manual clock that never moves, the guide's ten requests resume the ten
/// branches one by one, the tenth ends the execution at the same instant, and an eleventh
/// of that instant gets 404 (CB-11) where the scripted runner would have buffered it.
#[test]
fn cb_12_live_eleventh_request_of_the_instant_finds_the_execution_ended() {
    run_local(async {
        let live = start_with_clock(
            vec![("parallel_ten", fixture("parallel_ten.yaml"))],
            &[],
            ClockMode::Manual,
        )
        .await;
        let execution = execute(&live, "parallel_ten", None).await;
        let cb = callback_path(&live, &execution).await;
        let (_, _, list) = live
            .admin("GET", &format!("{execution}/callbacks"), vec![])
            .await;
        assert_eq!(list["callbacks"][0]["waiters"], "10", "{list}");
        for i in 0..10 {
            let (status, _, _) = call(
                live.addr,
                "POST",
                &cb,
                Some(&live.token),
                format!("{i}").into_bytes(),
            )
            .await;
            assert_eq!(status, 200, "request {i}");
        }
        let (_, _, ended) = live.admin("GET", &execution, vec![]).await;
        assert_eq!(ended["state"], "SUCCEEDED", "{ended}");
        assert_eq!(ended["startTime"], ended["endTime"], "one instant: {ended}");
        let (status, _, err) =
            call(live.addr, "POST", &cb, Some(&live.token), b"11".to_vec()).await;
        assert_eq!(status, 404, "{err}");
    });
}

#[test]
fn bad_requests_say_what_to_fix() {
    run_local(async {
        let live = start(vec![("create_await", fixture("create_await.yaml"))], &[]).await;
        let (status, _, err) = live
            .admin("POST", &base("create_await"), b"{oops".to_vec())
            .await;
        assert_eq!(status, 400);
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not JSON")
        );
        // A misspelt field, a body that is not an object, an argument over 32 KiB, a body
        // over 512 KiB: each refused with the reason, nothing started.
        for (body, status_wanted, says) in [
            (
                br#"{"argumnet": "{}"}"#.to_vec(),
                400,
                r#"Unknown name "argumnet""#,
            ),
            (b"[1, 2]".to_vec(), 400, "must be a JSON object, got a list"),
            (
                serde_json::to_vec(&json!({"argument": format!("\"{}\"", "x".repeat(33_000))}))
                    .unwrap(),
                400,
                "at most 32768",
            ),
            (vec![b' '; 600 * 1024], 413, "over 524288 bytes"),
        ] {
            let (status, _, err) = live.admin("POST", &base("create_await"), body).await;
            assert_eq!(status, status_wanted, "{err}");
            let message = err["error"]["message"].as_str().unwrap();
            assert!(message.contains(says), "{message}");
        }
        let (_, _, list) = live.admin("GET", &base("create_await"), vec![]).await;
        assert_eq!(list["executions"], json!([]));
        let (status, _, err) = live
            .admin(
                "POST",
                &base("create_await"),
                br#"{"argument": {"x": 1}}"#.to_vec(),
            )
            .await;
        assert_eq!(status, 400);
        assert!(err["error"]["message"].as_str().unwrap().contains("string"));
        let (status, _, err) = live.admin("POST", &base("nope"), vec![]).await;
        assert_eq!(status, 404);
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("create_await")
        );
        let (status, _, _) = live.admin("GET", "/v1/elsewhere", vec![]).await;
        assert_eq!(status, 404);
        let (status, _, _) = call(live.addr, "GET", &base("create_await"), None, vec![]).await;
        assert_eq!(status, 401);
        let execution = execute(&live, "create_await", Some(r#"{"x": 1}"#)).await;
        let (status, _, cancelled) = live
            .admin("POST", &format!("{execution}:cancel"), vec![])
            .await;
        assert_eq!(
            (status, cancelled["state"].as_str()),
            (200, Some("CANCELLED"))
        );
        assert_eq!(cancelled["argument"], r#"{"x": 1}"#);
        let (status, _, _) = live
            .admin("POST", &format!("{execution}:cancel"), vec![])
            .await;
        assert_eq!(status, 400);
        let (_, _, list) = live.admin("GET", &base("create_await"), vec![]).await;
        assert_eq!(list["executions"].as_array().unwrap().len(), 1);
    });
}

/// A callback whose body the workflow cannot parse (the probe's `time.parse` of a
/// non-ASCII zone, once a panic that closed the connection and stopped every timer): the
/// request is answered, that execution fails with ValueError, and another execution's 2 s
/// sleep ends at its own instant with no request arriving meanwhile.
#[test]
fn a_hostile_callback_body_fails_only_its_execution() {
    run_local(async {
        let parse = "- create:\n    call: events.create_callback_endpoint\n    result: cb\n- wait:\n    call: events.await_callback\n    args:\n      callback: ${cb}\n      timeout: 60\n    result: r\n- parse:\n    return: ${time.parse(json.decode(r.http_request.body).t)}\n";
        let sleep =
            "- s:\n    call: sys.sleep\n    args:\n      seconds: 2\n- done:\n    return: slept\n";
        let live = &start(
            vec![
                ("parse", defn::load("parse.yaml", parse).unwrap()),
                ("sleep", defn::load("sleep.yaml", sleep).unwrap()),
            ],
            &[],
        )
        .await;
        let sleeper = execute(live, "sleep", None).await;
        let parser = execute(live, "parse", None).await;
        let cb = callback_path(live, &parser).await;
        let body = serde_json::to_vec(&json!({"t": "2024-01-01T00:00:00é1234"})).unwrap();
        let (status, _, answer) = live.admin("POST", &cb, body).await;
        assert_eq!(status, 200, "{answer}");
        let failed = wait_for_state(live, &parser, "FAILED").await;
        assert!(
            failed["error"]["payload"]
                .as_str()
                .unwrap()
                .contains("ValueError"),
            "{failed}"
        );
        // No request for 2.5 s: only the timer task can end the sleep.
        tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
        let done = state_of(live, &sleeper).await;
        assert_eq!(done["state"], "SUCCEEDED", "{done}");
        assert_eq!(done["result"], "\"slept\"");
    });
}

/// `--clock auto`: a 12 h await timeout passes once the server has been idle a moment, not
/// in 12 h; polling the execution (GET) does not hold the clock back. The timeout fires at
/// its own instant: the execution ends 43,200 s after it started, on the server's clock.
#[test]
fn the_auto_clock_jumps_to_the_next_deadline() {
    run_local(async {
        let yaml = "- create:\n    call: events.create_callback_endpoint\n    result: cb\n- wait:\n    try:\n      call: events.await_callback\n      args:\n        callback: ${cb}\n        timeout: 43200\n    except:\n      as: e\n      steps:\n        - gave_up:\n            return: ${e.tags}\n";
        let wf = defn::load("long.yaml", yaml).unwrap();
        let live = start_with_clock(vec![("long", wf)], &[], ClockMode::Auto).await;
        let execution = execute(&live, "long", None).await;
        let (status, _, clock) = live.admin("GET", "/v1/wfsim/clock", vec![]).await;
        assert_eq!(status, 200);
        assert_eq!(clock["mode"], "auto");
        assert_eq!(clock["nextDeadline"], "2024-01-01T12:00:00.000000000Z");
        let done = wait_for_state(&live, &execution, "SUCCEEDED").await;
        assert_eq!(done["result"], r#"["TimeoutError"]"#);
        assert_eq!(done["startTime"], "2024-01-01T00:00:00.000000000Z");
        assert_eq!(done["endTime"], "2024-01-01T12:00:00.000000000Z");
    });
}

/// On the real clock, `clock:advance` is refused with the flag that allows it.
#[test]
fn the_real_clock_cannot_be_advanced() {
    run_local(async {
        let live = start(vec![], &[]).await;
        let (status, _, err) = live
            .admin(
                "POST",
                "/v1/wfsim/clock:advance",
                br#"{"seconds": 5}"#.to_vec(),
            )
            .await;
        assert_eq!(status, 400);
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains("--clock manual"), "{message}");
        let (_, _, clock) = live.admin("GET", "/v1/wfsim/clock", vec![]).await;
        assert_eq!(clock["mode"], "real");
    });
}
