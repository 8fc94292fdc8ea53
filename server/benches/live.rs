//! Live-mode figures for `cargo xtask bench`, printed, never asserted:
//!
//! - callbacks accepted per second through `wfsim serve` on loopback, against a bare hyper
//!   server that answers 200 on the same listener setup, driven by the same client in the
//!   same run, and their ratio;
//! - resident memory with 10,000 executions each awaiting a callback, per execution.

// A benchmark measures real time; the engine never does.
#![allow(clippy::disallowed_methods)]

use std::cell::RefCell;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use wfsim_engine::{SimTime, defn};
use wfsim_server::{Config, State, serve};

const REQUESTS: usize = 10_000;
const CONNECTIONS: usize = 4;
const EXECUTIONS: usize = 10_000;

const LOOP_WORKFLOW: &str = "- create:\n    call: events.create_callback_endpoint\n    result: cb\n- log:\n    call: sys.log\n    args:\n      text: ${cb.url}\n- loop:\n    for:\n      value: i\n      range: [1, 90000]\n      steps:\n        - wait:\n            call: events.await_callback\n            args:\n              callback: ${cb}\n              timeout: 600\n";
const AWAIT_WORKFLOW: &str = "- create:\n    call: events.create_callback_endpoint\n    result: cb\n- wait:\n    call: events.await_callback\n    args:\n      callback: ${cb}\n";

fn config(addr: SocketAddr) -> Config {
    Config {
        project: "p".into(),
        location: "l".into(),
        base_url: format!("http://{addr}"),
        seed: 0,
        auth: false,
        grants: Default::default(),
        clock: Default::default(),
    }
}

/// Runs a server on its own thread; `Some(path)` is wfsim with a looping execution whose
/// callback endpoint is at `path`, `None` a bare hyper server.
fn spawn_server(wfsim: bool) -> (SocketAddr, String) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tokio::task::LocalSet::new().block_on(&rt, async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            if wfsim {
                let mut state = State::new(config(addr), 0);
                state.deploy("loop", defn::load("loop.yaml", LOOP_WORKFLOW).unwrap());
                state.start_execution(SimTime::ZERO, "loop", None).unwrap();
                let url = state
                    .take_log_lines()
                    .pop()
                    .unwrap()
                    .rsplit(' ')
                    .next()
                    .unwrap()
                    .to_owned();
                let path = url
                    .strip_prefix(&format!("http://{addr}"))
                    .unwrap()
                    .to_owned();
                tx.send((addr, path)).unwrap();
                let quiet: Rc<dyn Fn(String)> = Rc::new(|_| {});
                serve(
                    listener,
                    Rc::new(RefCell::new(state)),
                    tokio::time::Instant::now(),
                    quiet,
                    std::future::pending(),
                )
                .await;
            } else {
                tx.send((addr, "/callback".to_owned())).unwrap();
                loop {
                    let (stream, _) = listener.accept().await.unwrap();
                    tokio::task::spawn_local(async move {
                        let svc = service_fn(|req: Request<hyper::body::Incoming>| async move {
                            let _ = req.into_body().collect().await;
                            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"{}"))))
                        });
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), svc)
                            .await;
                    });
                }
            }
        });
    });
    rx.recv().unwrap()
}

/// Sends `REQUESTS` POSTs over `CONNECTIONS` keep-alive connections; returns accepted/s.
fn drive(addr: SocketAddr, path: &str) -> f64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let path = path.to_owned();
    tokio::task::LocalSet::new().block_on(&rt, async move {
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..CONNECTIONS {
            let path = path.clone();
            tasks.push(tokio::task::spawn_local(async move {
                let stream = TcpStream::connect(addr).await.unwrap();
                let (mut sender, conn) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream))
                        .await
                        .unwrap();
                tokio::task::spawn_local(conn);
                let mut ok = 0usize;
                for _ in 0..REQUESTS / CONNECTIONS {
                    let req = Request::post(path.as_str())
                        .header("Host", addr.to_string())
                        .body(Full::new(Bytes::from_static(b"{\"n\": 1}")))
                        .unwrap();
                    let res = sender.send_request(req).await.unwrap();
                    if res.status() == 200 {
                        ok += 1;
                    }
                    let _ = res.into_body().collect().await;
                }
                ok
            }));
        }
        let mut accepted = 0;
        for t in tasks {
            accepted += t.await.unwrap();
        }
        accepted as f64 / start.elapsed().as_secs_f64()
    })
}

/// Resident set size of this process in bytes, from /proc (Linux).
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Measuring rounds, alternating the two servers. The looping execution awaits 90,000
/// times; the warm-up and the rounds stay below that (6 × `REQUESTS`).
const ROUNDS: usize = 5;

fn main() {
    println!(
        "wfsim live-mode bench (release build, loopback, {CONNECTIONS} keep-alive connections)"
    );
    let (bare_addr, bare_path) = spawn_server(false);
    let (wfsim_addr, wfsim_path) = spawn_server(true);
    // Warm both up, then measure them in turns with the same client. On a two-core machine
    // one round swings by half; the median of several rounds is the figure.
    drive(bare_addr, &bare_path);
    drive(wfsim_addr, &wfsim_path);
    let (mut bare, mut live, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let b = drive(bare_addr, &bare_path);
        let l = drive(wfsim_addr, &wfsim_path);
        bare.push(b);
        live.push(l);
        ratios.push(l / b);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (lo, hi) = (
        ratios.iter().copied().fold(f64::INFINITY, f64::min),
        ratios.iter().copied().fold(0.0, f64::max),
    );
    println!(
        "  bare hyper server answering 200:   {:>10.0} requests/s (median of {ROUNDS} rounds)",
        median(&mut bare)
    );
    println!(
        "  wfsim serve, callbacks accepted:   {:>10.0} callbacks/s",
        median(&mut live)
    );
    println!(
        "  ratio wfsim / bare:                {:>10.2}  (goal >= 0.7; rounds ranged {lo:.2}-{hi:.2})",
        median(&mut ratios)
    );

    let before = rss_bytes();
    let mut state = State::new(config("127.0.0.1:0".parse().unwrap()), 0);
    state.deploy("wait", defn::load("wait.yaml", AWAIT_WORKFLOW).unwrap());
    let start = Instant::now();
    for _ in 0..EXECUTIONS {
        state.start_execution(SimTime::ZERO, "wait", None).unwrap();
    }
    let took = start.elapsed();
    let after = rss_bytes();
    match (before, after) {
        (Some(b), Some(a)) => println!(
            "  {EXECUTIONS} executions awaiting a callback: {:.1} KiB resident each ({:.1} MiB in all), started in {:.0} ms",
            (a.saturating_sub(b)) as f64 / EXECUTIONS as f64 / 1024.0,
            (a.saturating_sub(b)) as f64 / 1048576.0,
            took.as_secs_f64() * 1e3
        ),
        _ => println!("  resident memory: /proc/self/statm is not readable here"),
    }
    std::hint::black_box(&state);
}
