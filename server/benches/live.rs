//! Live-mode figures for `cargo xtask bench`, printed, never asserted:
//!
//! - callbacks accepted per second through `wfsim serve` on loopback, bare and with
//!   `--state-dir`, against a bare hyper server that answers 200 on the same listener
//!   setup, driven by the same client with the same requests (wfsim's callback path) in
//!   the same run at the same concurrency (4 and 64 connections), and their ratios;
//! - a callback through the API alone (`State::handle`, no sockets): what wfsim adds to
//!   each request over bare hyper, before hyper's and the kernel's share;
//! - memory with 10,000 and 100,000 executions each awaiting a callback, per execution:
//!   the resident set's growth, the allocator's slack included (a counting allocator
//!   would need `unsafe`, which the workspace forbids). The outputs each start queues
//!   (its event) are taken as the I/O layer takes them, so the figure is the executions'.

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
use wfsim_server::durable::StateDir;
use wfsim_server::grpc::proto::google::cloud::workflows::executions::v1 as ex;
use wfsim_server::{Config, Options, State, serve_observed};

/// The allocator `wfsim serve` runs with (`cli/src/main.rs`), so these figures are its.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const REQUESTS: usize = 10_000;
const CONNECTIONS: usize = 4;
const EXECUTIONS: usize = 10_000;

const LOOP_WORKFLOW: &str = "- create:\n    call: events.create_callback_endpoint\n    result: cb\n- log:\n    call: sys.log\n    args:\n      text: ${cb.url}\n- loop:\n    for:\n      value: i\n      range: [1, 90000]\n      steps:\n        - wait:\n            call: events.await_callback\n            args:\n              callback: ${cb}\n              timeout: 600\n";
const AWAIT_WORKFLOW: &str = "- create:\n    call: events.create_callback_endpoint\n    result: cb\n- wait:\n    call: events.await_callback\n    args:\n      callback: ${cb}\n";

fn config(addr: SocketAddr) -> Config {
    Config {
        auth: false,
        ..Config::new("p", "l", format!("http://{addr}"))
    }
}

/// What a benchmark server is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A hyper server answering 200, the yardstick.
    Bare,
    /// `wfsim serve` with a looping execution awaiting callbacks.
    Wfsim,
    /// The same with `--state-dir`: each callback on disk before its answer.
    Durable,
}

/// A benchmark server: its address, the path requests go to, and its thread's
/// `/proc/…/task/…/stat` (where Linux has one), for the CPU time it spent.
struct Server {
    addr: SocketAddr,
    path: String,
    stat: Option<std::path::PathBuf>,
}

/// CPU seconds (user and system) the thread whose stat file is `stat` has used, in
/// Linux's 1/100 s ticks.
fn thread_cpu_s(stat: &std::path::Path) -> Option<f64> {
    let text = std::fs::read_to_string(stat).ok()?;
    let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// Runs a server on its own thread; its address and the path requests go to (for wfsim,
/// the looping execution's callback endpoint; its execution is
/// `/v1/projects/p/locations/l/workflows/loop/executions/…`, found by `execution_path`).
fn spawn_server(kind: Kind) -> Server {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // `<pid>/task/<tid>`: this thread's own entry, readable from the others.
        let stat = std::fs::read_link("/proc/thread-self")
            .ok()
            .map(|t| std::path::Path::new("/proc").join(t).join("stat"));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tokio::task::LocalSet::new().block_on(&rt, async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            if kind != Kind::Bare {
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
                tx.send(Server { addr, path, stat }).unwrap();
                let quiet: Rc<dyn Fn(String)> = Rc::new(|_| {});
                let mut options = Options::logs(quiet);
                if kind == Kind::Durable {
                    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
                        .join(format!("bench-state-dir-{}", addr.port()));
                    let _ = std::fs::remove_dir_all(&dir);
                    options.state_dir = Some(Rc::new(StateDir::open(&dir).unwrap().dir));
                }
                serve_observed(
                    listener,
                    Rc::new(RefCell::new(state)),
                    tokio::time::Instant::now(),
                    options,
                    std::future::pending(),
                )
                .await;
            } else {
                // Sent wfsim's callback path (`compare_at`); any path is answered 200.
                tx.send(Server {
                    addr,
                    path: "/callback".to_owned(),
                    stat,
                })
                .unwrap();
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

/// Sends `REQUESTS` POSTs over `connections` keep-alive connections; returns accepted/s.
fn drive_over(addr: SocketAddr, path: &str, connections: usize) -> f64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let path = path.to_owned();
    tokio::task::LocalSet::new().block_on(&rt, async move {
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let path = path.clone();
            tasks.push(tokio::task::spawn_local(async move {
                let stream = TcpStream::connect(addr).await.unwrap();
                let (mut sender, conn) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream))
                        .await
                        .unwrap();
                tokio::task::spawn_local(conn);
                let mut ok = 0usize;
                for _ in 0..REQUESTS / connections {
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

/// The median of some figures.
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `GetExecution` over gRPC (HTTP/2, one connection, `CONNECTIONS` calls in flight): calls/s.
fn drive_grpc(addr: SocketAddr, execution: &str) -> f64 {
    use prost::Message;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let message = ex::GetExecutionRequest {
        name: execution.to_owned(),
        view: 1,
    }
    .encode_to_vec();
    let mut framed = vec![0];
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(&message);
    let framed = Bytes::from(framed);
    tokio::task::LocalSet::new().block_on(&rt, async move {
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (sender, conn) = hyper::client::conn::http2::handshake(LocalExec, TokioIo::new(stream))
            .await
            .unwrap();
        tokio::task::spawn_local(conn);
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..CONNECTIONS {
            let mut sender = sender.clone();
            let framed = framed.clone();
            tasks.push(tokio::task::spawn_local(async move {
                let mut ok = 0usize;
                for _ in 0..REQUESTS / CONNECTIONS {
                    let req = Request::post(format!(
                        "http://{addr}/google.cloud.workflows.executions.v1.Executions/GetExecution"
                    ))
                    .header("content-type", "application/grpc")
                    .header("te", "trailers")
                    .body(Full::new(framed.clone()))
                    .unwrap();
                    let res = sender.send_request(req).await.unwrap();
                    let body = res.into_body().collect().await.unwrap();
                    let status = body.trailers().and_then(|t| t.get("grpc-status").cloned());
                    if status.as_ref().is_some_and(|s| s == "0") {
                        ok += 1;
                    }
                }
                ok
            }));
        }
        let mut answered = 0;
        for t in tasks {
            answered += t.await.unwrap();
        }
        answered as f64 / start.elapsed().as_secs_f64()
    })
}

#[derive(Clone, Copy)]
struct LocalExec;

impl<F: std::future::Future + 'static> hyper::rt::Executor<F> for LocalExec {
    fn execute(&self, fut: F) {
        tokio::task::spawn_local(fut);
    }
}

/// Memory per execution awaiting a callback, with `n` of them: the resident set's growth
/// over `n`.
fn memory_per_execution(n: usize) {
    let before = rss_bytes();
    let mut state = State::new(config("127.0.0.1:0".parse().unwrap()), 0);
    state.deploy("wait", defn::load("wait.yaml", AWAIT_WORKFLOW).unwrap());
    let start = Instant::now();
    for _ in 0..n {
        state.start_execution(SimTime::ZERO, "wait", None).unwrap();
        // What a server hands on and drops after each request (its `execution.started`
        // event): left queued, 100,000 of them would count as the executions' memory.
        drop(state.take_outputs());
    }
    let took = start.elapsed();
    let after = rss_bytes();
    match (before, after) {
        (Some(b), Some(a)) => println!(
            "  {n} executions awaiting a callback: {:.1} KiB resident each ({:.1} MiB in all; goal <= 8 KiB), started in {:.0} ms",
            (a.saturating_sub(b)) as f64 / n as f64 / 1024.0,
            (a.saturating_sub(b)) as f64 / 1048576.0,
            took.as_secs_f64() * 1e3
        ),
        _ => println!("  resident memory: /proc/self/statm is not readable here"),
    }
    std::hint::black_box(&state);
}

/// `n` callback requests to the looping execution, each as hyper hands one to the API (a
/// Host header and the headers the bench's client sends), handled in turn at one instant.
fn api_only(n: u32) {
    let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
    let mut state = State::new(config(addr), 0);
    state.journal_unread();
    state.events_unheard();
    state.deploy("loop", defn::load("loop.yaml", LOOP_WORKFLOW).unwrap());
    state.start_execution(SimTime::ZERO, "loop", None).unwrap();
    let url = state.take_log_lines().pop().unwrap();
    let path = url.rsplit(' ').next().unwrap();
    let path = path.strip_prefix(&format!("http://{addr}")).unwrap();
    let req = wfsim_server::ApiRequest {
        method: "POST".into(),
        path: path.to_owned(),
        query: String::new(),
        headers: vec![
            ("host".into(), addr.to_string()),
            ("content-length".into(), "8".into()),
        ],
        body: b"{\"n\": 1}".to_vec(),
    };
    let start = Instant::now();
    let mut ok = 0u32;
    for _ in 0..n {
        ok += u32::from(state.handle(SimTime::ZERO, &req).status == 200);
        drop(state.take_outputs());
    }
    println!(
        "  the API alone: {n} callbacks, {ok} answered 200, {:.2} µs each",
        start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
    );
}

/// Callbacks per second at `connections` keep-alive connections: a bare hyper server, wfsim
/// and wfsim with `--state-dir`, each server fresh, warmed up, then measured in turns by
/// the same client for `ROUNDS` rounds; the medians, and each ratio to bare hyper at the
/// same concurrency. Then each server thread's CPU time per request over all the rounds:
/// on a machine others share, throughput swings with their load, CPU per request does not,
/// and bare / wfsim is the throughput ratio a run bound by the server would give.
/// Returns the wfsim server, for the gRPC figure.
fn compare_at(connections: usize, bare: &Server) -> Server {
    let wfsim = spawn_server(Kind::Wfsim);
    let durable = spawn_server(Kind::Durable);
    // Every server is sent the same requests: bare hyper too parses wfsim's callback path
    // (its URI alone is 1,600 instructions longer to parse than a short one's).
    let bare = Server {
        addr: bare.addr,
        path: wfsim.path.clone(),
        stat: bare.stat.clone(),
    };
    let servers = [&bare, &wfsim, &durable];
    for s in servers {
        drive_over(s.addr, &s.path, connections);
    }
    let cpu = |s: &Server| s.stat.as_deref().and_then(thread_cpu_s);
    let cpu0 = servers.map(cpu);
    // On a two-core machine one round swings by half; the median of several rounds is
    // the figure, and the ratios are taken round by round.
    let (mut rates, mut ratios, mut durable_ratios) =
        ([vec![], vec![], vec![]], Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let r = servers.map(|s| drive_over(s.addr, &s.path, connections));
        for (rate, x) in rates.iter_mut().zip(r) {
            rate.push(x);
        }
        ratios.push(r[1] / r[0]);
        durable_ratios.push(r[2] / r[0]);
    }
    let (lo, hi) = (
        durable_ratios.iter().copied().fold(f64::INFINITY, f64::min),
        durable_ratios.iter().copied().fold(0.0, f64::max),
    );
    let [bare_rate, live_rate, durable_rate] = &mut rates;
    println!(
        "  {connections:>2} connections: bare hyper {:>7.0}/s | wfsim {:>7.0}/s, {:.2} of bare (goal >= 0.8) | --state-dir {:>7.0}/s, {:.2} of bare (goal >= 0.3; rounds {lo:.2}-{hi:.2})",
        median(bare_rate),
        median(live_rate),
        median(&mut ratios),
        median(durable_rate),
        median(&mut durable_ratios),
    );
    let used: Vec<Option<f64>> = servers
        .iter()
        .zip(cpu0)
        .map(|(s, before)| Some((cpu(s)? - before?) * 1e6 / (ROUNDS * REQUESTS) as f64))
        .collect();
    if let [Some(b), Some(w), Some(d)] = used[..] {
        println!(
            "  {connections:>2} connections, server thread CPU per request: bare hyper {b:.1} µs | wfsim {w:.1} µs | --state-dir {d:.1} µs; CPU ratio bare / wfsim: {:.2}",
            b / w
        );
    }
    wfsim
}

fn main() {
    // `--profile C`: wfsim alone at C connections, 8 rounds, nothing else: what a profiler
    // (`perf record`, `valgrind --tool=callgrind --separate-threads=yes`) attached to this
    // process sees is the live path. `--profile C --bare`: the bare hyper server the same
    // way, the yardstick's own share.
    let args: Vec<String> = std::env::args().collect();
    // `--api N`: N callback requests through `State::handle` alone, no sockets, no hyper:
    // under callgrind, the API's and the engine's instructions per request, exactly.
    if let Some(c) = args.iter().position(|a| a == "--api") {
        let n: u32 = args
            .get(c + 1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(10_000);
        api_only(n);
        return;
    }
    if let Some(c) = args.iter().position(|a| a == "--memory") {
        // One part alone, for a heap profiler (valgrind's massif, dhat).
        memory_per_execution(
            args.get(c + 1)
                .and_then(|n| n.parse().ok())
                .unwrap_or(10_000),
        );
        return;
    }
    if let Some(c) = args.iter().position(|a| a == "--profile") {
        let connections = args.get(c + 1).and_then(|c| c.parse().ok()).unwrap_or(64);
        let (kind, name) = if args.iter().any(|a| a == "--bare") {
            (Kind::Bare, "bare hyper")
        } else {
            (Kind::Wfsim, "wfsim")
        };
        let s = spawn_server(kind);
        // The requests wfsim's would be sent (see `compare_at`).
        let path = match kind {
            Kind::Bare => spawn_server(Kind::Wfsim).path,
            _ => s.path.clone(),
        };
        for _ in 0..8 {
            let rate = drive_over(s.addr, &path, connections);
            println!("  {name}, {connections} connections: {rate:.0}/s");
        }
        return;
    }
    println!(
        "wfsim live-mode bench (release build, loopback): callbacks accepted per second, each side at the same concurrency, medians of {ROUNDS} rounds"
    );
    let bare = spawn_server(Kind::Bare);
    let wfsim = compare_at(CONNECTIONS, &bare);
    // Group commit: one fdatasync serves every request waiting at that moment, so more
    // clients at once share each sync.
    compare_at(64, &bare);
    let execution = wfsim
        .path
        .split("/callbacks/")
        .next()
        .unwrap()
        .trim_start_matches("/v1/")
        .to_owned();
    drive_grpc(wfsim.addr, &execution);
    let mut grpc: Vec<f64> = (0..ROUNDS)
        .map(|_| drive_grpc(wfsim.addr, &execution))
        .collect();
    println!(
        "  gRPC GetExecution (HTTP/2):        {:>10.0} calls/s (median of {ROUNDS} rounds)",
        median(&mut grpc)
    );
    api_only(20_000);
    memory_per_execution(EXECUTIONS);
    memory_per_execution(100_000);
}
