//! Crash points: `wfsim serve --state-dir` under a workload of creates, callbacks and
//! cancels from three clients, with a checkpoint every few inputs, is SIGKILLed at seeded
//! random moments (so before, during and after checkpoints, renames and appends) and
//! restarted on the same directory. After each restart every input the clients saw
//! answered must be there: each execution created (held, or 404 as evicted), each callback
//! answered 200 (its execution SUCCEEDED with that body), each cancel answered 200
//! (CANCELLED); and each request refused before is refused the same way again.
//!
//! `WFSIM_CRASH_POINTS` (default 50: `cargo xtask test`) and `WFSIM_CRASH_SEED` (default
//! 1); `cargo xtask crash --points N` runs more.

mod common;

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::{Server, root};
use serde_json::Value as Json;

const WORKFLOW: &str = "- create:\n    call: events.create_callback_endpoint\n    result: cb\n- wait:\n    call: events.await_callback\n    args:\n      callback: ${cb}\n      timeout: 86400\n    result: req\n- done:\n    return: ${req.http_request.body}\n";

const EXECUTIONS: &str = "/v1/projects/wfsim/locations/us-central1/workflows/crash/executions";

/// One request on a fresh connection: its status and body, or why no whole answer came
/// (the server died, or did not answer in time), which a failure then prints.
fn try_http(base: &str, method: &str, path: &str, body: &str) -> Result<(u16, String), String> {
    let authority = base.strip_prefix("http://").ok_or("not an http:// base")?;
    let mut stream = std::net::TcpStream::connect(authority)
        .map_err(|e| format!("{method} {path}: connecting: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer t\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("{method} {path}: sending: {e}"))?;
    let mut response = String::new();
    let read = stream.read_to_string(&mut response);
    let whole = |why: &str| {
        format!(
            "{method} {path}: {why}; {} bytes came: {response:?}",
            response.len()
        )
    };
    if let Err(e) = read {
        return Err(whole(&format!("reading: {e}")));
    }
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| whole("no status line"))?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| whole("no end of head"))?;
    // A body cut by the kill is no answer.
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| whole("no Content-Length"))?;
    if body.len() != length {
        return Err(whole("a body cut short"));
    }
    Ok((status, body.to_owned()))
}

/// How an execution ended, as far as a client saw answered.
#[derive(Clone, Debug, PartialEq)]
enum End {
    Callback(u64),
    Cancel,
    /// A callback or cancel was sent and not answered: either may have happened.
    Unknown,
}

#[derive(Clone, Debug)]
struct Exec {
    path: String,
    callback: String,
    end: Option<End>,
}

/// A request answered with an error, to send again after the restart.
#[derive(Clone, Debug)]
struct Refused {
    method: &'static str,
    path: String,
    body: String,
    status: u16,
}

/// A seeded stream of choices (an LCG).
struct Draw(u64);

impl Draw {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// One client until the server dies or `stop`: its executions and refusals.
fn client(
    base: String,
    seed: u64,
    stop: Arc<AtomicBool>,
    bodies: Arc<AtomicU64>,
) -> (Vec<Exec>, Vec<Refused>, u64) {
    let mut d = Draw(seed);
    let (mut execs, mut refused, mut answered) = (Vec::<Exec>::new(), Vec::new(), 0);
    while !stop.load(Ordering::Relaxed) {
        let active: Vec<usize> = (0..execs.len())
            .filter(|&i| execs[i].end.is_none())
            .collect();
        let choice = d.below(10);
        if active.len() < 3 || (choice < 3 && active.len() < 6) {
            let Ok((status, body)) = try_http(&base, "POST", EXECUTIONS, "{}") else {
                break;
            };
            assert_eq!(status, 200, "{body}");
            answered += 1;
            let j: Json = serde_json::from_str(&body).unwrap();
            let path = format!("/v1/{}", j["name"].as_str().unwrap());
            let Ok((status, list)) = try_http(&base, "GET", &format!("{path}/callbacks"), "")
            else {
                // Created and answered: it must be back, callback unknown for now.
                execs.push(Exec {
                    path,
                    callback: String::new(),
                    end: None,
                });
                break;
            };
            assert_eq!(status, 200, "{list}");
            let j: Json = serde_json::from_str(&list).unwrap();
            let callback = format!("/v1/{}", j["callbacks"][0]["name"].as_str().unwrap());
            execs.push(Exec {
                path,
                callback,
                end: None,
            });
        } else if choice < 8 || execs.len() == active.len() {
            let i = active[d.below(active.len() as u64) as usize];
            if execs[i].callback.is_empty() {
                continue;
            }
            let n = bodies.fetch_add(1, Ordering::Relaxed);
            execs[i].end = Some(End::Unknown);
            let Ok((status, body)) = try_http(
                &base,
                "POST",
                &execs[i].callback,
                &format!("{{\"n\": {n}}}"),
            ) else {
                break;
            };
            assert_eq!(status, 200, "{body}");
            answered += 1;
            execs[i].end = Some(End::Callback(n));
        } else if choice == 8 {
            let i = active[d.below(active.len() as u64) as usize];
            execs[i].end = Some(End::Unknown);
            let Ok((status, body)) =
                try_http(&base, "POST", &format!("{}:cancel", execs[i].path), "")
            else {
                break;
            };
            assert_eq!(status, 200, "{body}");
            answered += 1;
            execs[i].end = Some(End::Cancel);
        } else {
            // A callback to one that ended: refused, and refused the same after a restart.
            let ended: Vec<usize> = (0..execs.len())
                .filter(|&i| matches!(execs[i].end, Some(End::Callback(_) | End::Cancel)))
                .collect();
            let Some(&i) = ended.last() else { continue };
            let Ok((status, body)) = try_http(&base, "POST", &execs[i].callback, "{\"late\": 1}")
            else {
                break;
            };
            assert_ne!(status, 200, "{body}");
            answered += 1;
            refused.push(Refused {
                method: "POST",
                path: execs[i].callback.clone(),
                body: "{\"late\": 1}".into(),
                status,
            });
        }
    }
    (execs, refused, answered)
}

/// Checks `e` on the restarted server at `base`.
fn check(base: &str, e: &Exec, point: usize) {
    let (status, got) = try_http(base, "GET", &e.path, "")
        .unwrap_or_else(|why| panic!("point {point}: the restarted server did not answer: {why}"));
    if status == 404 {
        assert!(
            got.contains("evicted"),
            "point {point}: {} lost: {got}",
            e.path
        );
        return;
    }
    assert_eq!(status, 200, "point {point}: {got}");
    let j: Json = serde_json::from_str(&got).unwrap();
    let state = j["state"].as_str().unwrap();
    match &e.end {
        Some(End::Callback(n)) => {
            assert_eq!(state, "SUCCEEDED", "point {point}: {} {got}", e.path);
            let result: Json = serde_json::from_str(j["result"].as_str().unwrap()).unwrap();
            assert_eq!(result["n"], *n, "point {point}: {got}");
        }
        Some(End::Cancel) => assert_eq!(state, "CANCELLED", "point {point}: {got}"),
        Some(End::Unknown) => {}
        None => assert_eq!(state, "ACTIVE", "point {point}: {got}"),
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn every_answered_input_survives_sigkill_at_any_point() {
    let points = env_u64("WFSIM_CRASH_POINTS", 50) as usize;
    let seed = env_u64("WFSIM_CRASH_SEED", 1);
    let dir = root().join("target/tmp/crash.state");
    let _ = std::fs::remove_dir_all(&dir);
    let workflow = root().join("target/tmp/crash.yaml");
    std::fs::create_dir_all(workflow.parent().unwrap()).unwrap();
    std::fs::write(&workflow, WORKFLOW).unwrap();
    let args = [
        workflow.to_str().unwrap(),
        "--state-dir",
        dir.to_str().unwrap(),
        "--token",
        "t",
        "--seed",
        "9",
        "--keep-ended",
        "20",
        "--checkpoint-after",
        "7",
    ];
    let mut d = Draw(seed);
    let bodies = Arc::new(AtomicU64::new(0));
    let (mut execs, mut refused, mut answered) = (Vec::<Exec>::new(), Vec::<Refused>::new(), 0u64);
    let mut server = Server::start(&args);
    for point in 0..points {
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..3)
            .map(|k| {
                let (base, stop, bodies) =
                    (server.base.clone(), Arc::clone(&stop), Arc::clone(&bodies));
                let s = seed ^ ((point as u64) << 8) ^ k;
                std::thread::spawn(move || client(base, s, stop, bodies))
            })
            .collect();
        // The kill: at a seeded moment in the first 120 ms of the workload.
        std::thread::sleep(Duration::from_micros(d.below(120_000)));
        server.kill();
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            let (e, r, a) = c.join().expect("a client");
            execs.extend(e);
            refused.extend(r);
            answered += a;
        }
        server = Server::start(&args);
        let back = server.line("state dir ");
        assert!(back.contains("executions back"), "{back}");
        // What this round answered, and a seeded sample of what earlier rounds did.
        let recent = execs.len().saturating_sub(60);
        for e in &execs[recent..] {
            check(&server.base, e, point);
        }
        for _ in 0..10.min(recent) {
            check(&server.base, &execs[d.below(recent as u64) as usize], point);
        }
        // End what the last round left waiting (answered cancels, checked after the next
        // kill), so the held set, and each restart, stays bounded by --keep-ended.
        for e in execs.iter_mut().filter(|e| e.end.is_none()) {
            e.end = Some(End::Unknown);
            let (status, body) = try_http(&server.base, "POST", &format!("{}:cancel", e.path), "")
                .unwrap_or_else(|why| panic!("point {point}: {why}"));
            assert_eq!(status, 200, "point {point}: {body}");
            e.end = Some(End::Cancel);
        }
        for r in refused.iter().rev().take(5) {
            let (status, body) = try_http(&server.base, r.method, &r.path, &r.body)
                .unwrap_or_else(|why| panic!("point {point}: {why}"));
            assert_eq!(
                status, r.status,
                "point {point}: {} refused differently: {body}",
                r.path
            );
        }
    }
    let files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    eprintln!(
        "crash points: {points}, seed {seed}: {answered} requests answered, {} executions created, {} refusals re-sent; state dir now {files:?}",
        execs.len(),
        refused.len()
    );
    assert!(files.contains(&"checkpoint".to_owned()), "{files:?}");
    assert!(
        execs.len() > points,
        "the workload ran: {} executions",
        execs.len()
    );
}
