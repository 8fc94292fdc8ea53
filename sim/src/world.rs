//! A world per seed: the server node and client nodes, and what the clients saw.

use std::cell::RefCell;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use madsim::runtime::{Handle, NodeHandle, Runtime};
use serde_json::{Value as Json, json};
use wfsim_engine::defn::{self, Workflow};
use wfsim_server::{Config, State, serve};

use crate::client::{self, Backoff};

pub const SERVER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
pub const SERVER: SocketAddr = SocketAddr::new(SERVER_IP, 8080);
/// The real-world time the server's clock starts at: 2024-01-01T00:00:00Z.
pub const WALL_START_UNIX_NANOS: i128 = 1_704_067_200_000_000_000;

/// A service account granted nothing: its tokens are refused by callbacks (403).
pub const UNPRIVILEGED: &str = "nobody@p.iam.gserviceaccount.com";

/// `server-1`, the server node of every world: named and addressed alike everywhere (the
/// node ids and addresses a run draws with depend on it), `serve` run on a listener bound
/// to [`SERVER`] at each start (a restart runs it again).
pub fn server_node<S, F>(handle: &Handle, serve: S) -> NodeHandle
where
    S: Fn(tokio::net::TcpListener) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + 'static,
{
    let serve = Arc::new(serve);
    handle
        .create_node()
        .name("server-1")
        .ip(SERVER_IP)
        .init(move || {
            let serve = Arc::clone(&serve);
            async move {
                let listener = tokio::net::TcpListener::bind(SERVER).await.expect("bind");
                serve(listener).await;
            }
        })
        .build()
}

/// The server's settings on `server-1`: project `p`, location `l`, [`UNPRIVILEGED`]
/// granted nothing (`--grant` would say so); what differs between worlds is the seed,
/// whether auth is on, and the real-world time the server's clock starts at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerPreset {
    pub seed: u64,
    pub auth: bool,
    pub wall_start_unix_nanos: i128,
}

impl ServerPreset {
    /// Auth on, the clock starting at [`WALL_START_UNIX_NANOS`].
    pub fn new(seed: u64) -> ServerPreset {
        ServerPreset {
            seed,
            auth: true,
            wall_start_unix_nanos: WALL_START_UNIX_NANOS,
        }
    }

    /// The server's state with `workflow` deployed as `name`.
    pub fn state(&self, name: &str, workflow: Workflow) -> State {
        let mut state = State::new(
            Config {
                seed: self.seed,
                auth: self.auth,
                grants: [(UNPRIVILEGED.to_owned(), Default::default())].into(),
                ..Config::new("p", "l", format!("http://{SERVER}"))
            },
            self.wall_start_unix_nanos,
        );
        state.deploy(name, workflow);
        state
    }
}

/// The settings a seed draws; printed first, so a failure report says what ran.
#[derive(Clone, Debug, PartialEq)]
pub struct WorldConfig {
    pub seed: u64,
    pub latency: Range<Duration>,
}

impl WorldConfig {
    /// One server, a healthy network with 1–10 ms latency.
    pub fn single_server(seed: u64) -> WorldConfig {
        WorldConfig {
            seed,
            latency: Duration::from_millis(1)..Duration::from_millis(10),
        }
    }

    /// Latency of up to 0.5 s, the range drawn from the seed.
    pub fn slow_network(seed: u64) -> WorldConfig {
        let max_ms = 20 + seed % 480;
        WorldConfig {
            seed,
            latency: Duration::from_millis(1)..Duration::from_millis(max_ms),
        }
    }

    fn madsim(&self) -> madsim::Config {
        let mut c = madsim::Config::default();
        c.net.send_latency = self.latency.clone();
        c
    }
}

/// Every event a world's clients saw, each stamped with simulated time: equal transcripts
/// mean equal runs.
pub type Transcript = Vec<String>;

fn stamp(trace: &Arc<Mutex<Transcript>>, start: tokio::time::Instant, what: String) {
    let t = start.elapsed();
    trace
        .lock()
        .expect("trace lock")
        .push(format!("{:>12.6}s  {what}", t.as_secs_f64()));
}

/// The product guide's walk-through, on simulated nodes: a client starts the basic callback
/// workflow over HTTP, finds its callback endpoint, calls it back with retries, watches the
/// execution succeed, and calls again (404, CB-11). Returns the trace, or what went wrong.
pub fn guide_walk_through(config: &WorldConfig) -> Result<Transcript, String> {
    let runtime = Runtime::with_seed_and_config(config.seed, config.madsim());
    let seed = config.seed;
    runtime.block_on(async move {
        let handle = Handle::current();
        let token: Arc<Mutex<Option<String>>> = Arc::default();
        let server_token = Arc::clone(&token);
        server_node(&handle, move |listener| {
            let token = Arc::clone(&server_token);
            async move {
                let text = include_str!("../../fixtures/workflows/basic_callback.yaml");
                let workflow =
                    defn::load("basic_callback.yaml", text).expect("the guide's workflow loads");
                let mut state = ServerPreset::new(seed).state("basic_callback", workflow);
                *token.lock().expect("token lock") = state.master_token();
                let quiet: Rc<dyn Fn(String)> = Rc::new(|_| {});
                serve(
                    listener,
                    Rc::new(RefCell::new(state)),
                    tokio::time::Instant::now(),
                    quiet,
                    std::future::pending(),
                )
                .await;
            }
        });
        let client = handle
            .create_node()
            .name("client-1")
            .ip(IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1)))
            .build();
        client
            .spawn(async move {
                let start = tokio::time::Instant::now();
                let trace: Arc<Mutex<Transcript>> = Arc::default();
                let token = loop {
                    if let Some(t) = token.lock().expect("token lock").clone() {
                        break t;
                    }
                    tokio::time::sleep(Duration::from_millis(1)).await;
                };
                let started = client::start_execution(
                    SERVER,
                    "basic_callback",
                    Some(&token),
                    Backoff::DEFAULT,
                )
                .await?;
                stamp(
                    &trace,
                    start,
                    format!("POST execution -> {}", started.status),
                );
                let (execution, callback) = (started.execution, started.callback);
                stamp(
                    &trace,
                    start,
                    format!("callbacks: {} waiter(s)", started.waiters),
                );
                let (attempts, answer) = client::send_retrying(
                    SERVER,
                    "GET",
                    &callback,
                    Some(&token),
                    b"",
                    Backoff::DEFAULT,
                )
                .await;
                stamp(
                    &trace,
                    start,
                    format!(
                        "GET callback -> {:?} after {} attempt(s)",
                        answer.as_ref().map(|a| a.status),
                        attempts.list.len()
                    ),
                );
                if attempts.last_status() != Some(200) {
                    return Err(format!("the callback was not accepted: {attempts:?}"));
                }
                let state = client::wait_for_end(
                    SERVER,
                    &execution,
                    Some(&token),
                    Backoff::DEFAULT,
                    Duration::from_millis(50),
                    100,
                )
                .await;
                stamp(&trace, start, format!("execution {}", state["state"]));
                if state["state"] != "SUCCEEDED" {
                    return Err(format!("the execution did not succeed: {state}"));
                }
                let result: Json = serde_json::from_str(state["result"].as_str().unwrap_or("null"))
                    .unwrap_or(Json::Null);
                if result["method"] != json!("GET") || result["url"] != json!(callback) {
                    return Err(format!("the result is not the request: {result}"));
                }
                let (_, again) = client::send_retrying(
                    SERVER,
                    "GET",
                    &callback,
                    Some(&token),
                    b"",
                    Backoff::DEFAULT,
                )
                .await;
                let again = again.map(|a| a.status);
                stamp(&trace, start, format!("GET callback again -> {again:?}"));
                if again != Some(404) {
                    return Err(format!(
                        "CB-11: a callback after the end got {again:?}, not 404"
                    ));
                }
                let trace = trace.lock().expect("trace lock").clone();
                Ok(trace)
            })
            .await
            .map_err(|e| format!("the client task failed: {e}"))?
    })
}
