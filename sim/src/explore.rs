//! `wfsim explore --system` (SPEC §9): the schedule an explore file draws for a seed, played
//! through the real server on the simulated world instead of the engine-level runner.
//!
//! | node        | address      | role                                               |
//! |-------------|--------------|----------------------------------------------------|
//! | `server-1`  | `10.0.0.1`   | `wfsim-server`, the file's workflow and services   |
//! | `client-2`  | `10.0.1.2`   | starts the execution, finds its endpoints, cancels |
//! | `sender-i`  | `10.x.y.1`   | request `i` of the schedule, with its retries      |
//!
//! Each logical request (and each fixed request of the file) has a node of its own, so that
//! a lost answer is a network fault of its own: the link from the server to that node is
//! clogged while the answer would travel. The network adds no latency of its own, but
//! madsim's stream takes a millisecond per write (its sleeps last at least that): a send's
//! drawn latency is its time in flight, that millisecond included, on a connection opened
//! ahead, so a request reaches the server when the engine-level driver says it arrives.
//! Restarts kill `server-1` and restart it; the restarted server replays its input log.
//!
//! The execution is then judged as at engine level: the server's input log is replayed on
//! the caller's thread into a fresh state (what a restart does), its journal must equal the
//! one the world recorded, and the execution taken out of it is the `Run` that properties,
//! the contract checks and coverage read. (A world runs on a thread of its own, and an
//! execution cannot leave the thread it lives on.)

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use madsim::net::NetSim;
use madsim::runtime::{Handle, Runtime};
use tokio::sync::Notify;
use tokio::time::Instant;
use wfsim_engine::SimTime;
use wfsim_engine::defn::tree::{self, Syntax};
use wfsim_engine::interp::Trace;
use wfsim_explore::Driver;
use wfsim_explore::plan::{Plan, RetryPolicy};
use wfsim_explore::schedule::{Executed, Schedule, Sent};
use wfsim_harness::runner::{RequestRecord, Run};
use wfsim_harness::services;
use wfsim_server::clock::Resolution;
use wfsim_server::{ApiRequest, Config, Observed, State};

use crate::client::{self, Backoff, Connection};
// The world's server reads its clock in whole milliseconds, the grain schedules are drawn in.
use crate::run::CLOCK_RESOLUTION;
use crate::world::{SERVER, SERVER_IP};

/// How long a send waits for its answer (or, when its answer is lost, for the server to
/// have it) before it counts as failed: longer than any answer takes on this network.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// API calls of `client-2` outlast a restart's downtime.
const PATIENT: Backoff = Backoff {
    attempts: 60,
    ..Backoff::DEFAULT
};

/// An execution lives at most a year (EX-5): a world whose execution has not ended by then
/// stops there.
const YEAR: Duration = Duration::from_secs(366 * 86_400);

/// When the execution starts on the server's clock: `client-2` writes its start a
/// millisecond before, on a connection opened at once, and the server's wall clock is set
/// so that this instant is the file's `start_time`, as at engine level.
const START: Duration = Duration::from_millis(10);

/// How long before its instant a send opens its connection.
const OPEN_AHEAD: Duration = Duration::from_millis(100);

/// How long a written request takes to reach the server: madsim's stream sleeps a random
/// few microseconds per write, and any madsim sleep lasts at least a millisecond.
const TRANSIT: Duration = Duration::from_millis(1);

const ADMIN: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 1, 2));

/// The system-level driver of `wfsim explore`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemLevel;

impl Driver for SystemLevel {
    fn name(&self) -> &'static str {
        "system"
    }

    fn execute(&self, plan: &Plan, s: &Schedule) -> Result<Executed, String> {
        let setup = Setup::new(plan, s)?;
        let record = play(&setup)?;
        judge(&setup, record)
    }
}

/// What the world plays, in plain data (a `Plan` holds `Rc`s and stays on its thread).
#[derive(Clone, Debug)]
struct Setup {
    seed: u64,
    /// The real-world time at server time zero: the file's `start_time` less [`START`].
    wall_start_unix_nanos: i128,
    /// The workflow's name on the server (the file's stem, as at engine level).
    name: String,
    text: String,
    /// `services:` with the seed's numbers, as JSON.
    services: Option<String>,
    argument: Option<String>,
    /// The file's `env:`, the workflow's `userEnvVars` on the server.
    env: std::collections::BTreeMap<String, String>,
    cancel_at: Option<Duration>,
    /// The file's fixed requests, then the schedule's logical ones.
    requests: Vec<Req>,
    fixed: usize,
    /// (at, down) on the execution's clock.
    restarts: Vec<(Duration, Duration)>,
}

#[derive(Clone, Debug)]
struct Req {
    endpoint: u32,
    method: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    at: Duration,
    /// Per send: its latency and whether its answer is lost.
    sends: Vec<(Duration, bool)>,
    retry: RetryPolicy,
}

fn since_start(t: SimTime) -> Duration {
    Duration::from_nanos(t.as_nanos())
}

impl Setup {
    fn new(plan: &Plan, s: &Schedule) -> Result<Setup, String> {
        let text = std::fs::read_to_string(&plan.workflow_path)
            .map_err(|e| format!("{}: cannot read: {e}", plan.workflow_path.display()))?;
        let services = match plan.stubs.value_with(&s.stubs).to_json() {
            Ok(serde_json::Value::Null) => None,
            Ok(j) => Some(j.to_string()),
            Err(e) => return Err(format!("the services cannot be written as JSON: {e:?}")),
        };
        let argument = match &plan.base.argument {
            None => None,
            Some(a) => Some(
                a.to_json()
                    .map_err(|e| format!("the argument cannot be sent as JSON: {e:?}"))?
                    .to_string(),
            ),
        };
        let mut requests: Vec<Req> = plan
            .base
            .requests
            .iter()
            .map(|r| Req {
                endpoint: r.endpoint,
                method: r.method.clone(),
                headers: r.headers.clone(),
                body: r.body.clone(),
                at: since_start(r.at),
                sends: vec![(Duration::ZERO, false)],
                retry: RetryPolicy::NONE,
            })
            .collect();
        let fixed = requests.len();
        for r in &s.requests {
            let sender = &plan.senders[r.sender];
            let body = &sender.bodies[r.body];
            requests.push(Req {
                endpoint: sender.endpoint,
                method: sender.method.clone(),
                headers: body.headers.clone(),
                body: body.bytes.clone(),
                at: since_start(r.at),
                sends: r.sends.iter().map(|f| (f.latency, f.lost)).collect(),
                retry: sender.retry,
            });
        }
        Ok(Setup {
            seed: s.seed,
            wall_start_unix_nanos: plan.base.start_time.unix_nanos_at(SimTime::ZERO)
                - START.as_nanos() as i128,
            name: plan
                .workflow_path
                .file_stem()
                .map_or("workflow".into(), |n| n.to_string_lossy().into_owned()),
            text,
            services,
            argument,
            env: plan.base.env.clone(),
            cancel_at: plan.base.cancel_at.map(since_start),
            requests,
            fixed,
            restarts: s
                .restarts
                .iter()
                .map(|r| (since_start(r.at), r.down))
                .collect(),
        })
    }

    /// The server's state at its start: the workflow deployed, the services in place,
    /// every execution's engine events journaled, auth off (senders carry no token).
    fn state(&self) -> Result<State, String> {
        let mut state = State::new(
            Config {
                project: "p".into(),
                location: "l".into(),
                base_url: format!("http://{SERVER}"),
                seed: self.seed,
                auth: false,
                grants: Default::default(),
                clock: Default::default(),
                defect: None,
            },
            self.wall_start_unix_nanos,
        );
        let file = format!("{}.yaml", self.name);
        let workflow = wfsim_engine::defn::load(&file, &self.text)
            .map_err(|e| format!("the workflow does not load on the server: {e:?}"))?;
        state.deploy(&self.name, workflow);
        if let Some(json) = &self.services {
            let node = tree::parse(json, Syntax::Json).map_err(|e| e.message.clone())?;
            let parsed = services::parse(&node).map_err(|e| e.message)?;
            state.use_services(parsed);
        }
        state.observe_executions();
        Ok(state)
    }
}

/// One send as its sender saw it.
#[derive(Clone, Debug, PartialEq)]
struct Attempt {
    /// When it left (server ns).
    sent_ns: u64,
    lost: bool,
}

/// What a world leaves: everything is plain data, to cross back from its thread.
#[derive(Debug)]
struct Record {
    journal: Vec<Observed>,
    inputs: Vec<(SimTime, ApiRequest)>,
    /// The execution's id, the last segment of its name.
    execution: String,
    /// Per request of the setup, its sends.
    attempts: Vec<Vec<Attempt>>,
    /// When the server was killed and back (server ns).
    restarts: Vec<(u64, u64)>,
    /// When the world stopped (server ns).
    end_ns: u64,
    mismatches: Vec<String>,
}

/// What the server leaves across kills, and what the clients share: the input log, the
/// journal, and a notification whenever the journal grows.
#[derive(Debug, Default)]
struct Durable {
    inputs: Vec<(SimTime, ApiRequest)>,
    journal: Vec<Observed>,
    mismatches: Vec<String>,
}

#[derive(Debug, Default)]
struct Shared {
    durable: Mutex<Durable>,
    grew: Notify,
    /// Endpoints in creation order, as `client-2` found them: path and method.
    endpoints: Mutex<Vec<(String, String)>>,
    /// Server kills so far: a connection opened before one is dead.
    kills: Mutex<u32>,
    /// The execution's path and its start, once `client-2` has started it.
    started: Mutex<Option<(String, Instant)>>,
}

impl Shared {
    /// Waits until `read` finds something in the journal, looking each time it grows.
    async fn until<T>(&self, read: impl Fn(&Shared, &[Observed]) -> Option<T>) -> T {
        loop {
            let grew = self.grew.notified();
            let found = {
                let d = self.durable.lock().expect("durable");
                read(self, &d.journal)
            };
            if let Some(t) = found {
                return t;
            }
            grew.await;
        }
    }

    fn started(&self) -> Option<(String, Instant)> {
        self.started.lock().expect("started").clone()
    }
}

fn ns(epoch: Instant, at: Instant) -> u64 {
    u64::try_from(at.duration_since(epoch).as_nanos()).unwrap_or(u64::MAX)
}

/// `at` on the server's clock, which reads whole ticks (madsim charges nanoseconds per
/// poll).
fn tick(epoch: Instant, at: Instant) -> SimTime {
    Resolution::new(CLOCK_RESOLUTION).floor(ns(epoch, at))
}

/// Waits until `t`, not at all when it is now or past (a madsim sleep lasts at least a
/// millisecond, which would make a send late).
async fn at(t: Instant) {
    if t > Instant::now() {
        tokio::time::sleep_until(t).await;
    }
}

/// Plays `setup` on a world of its own, on a thread of its own (std's `HashMap` keys are
/// seeded once per thread: see `run::run`).
fn play(setup: &Setup) -> Result<Record, String> {
    let setup = setup.clone();
    std::thread::spawn(move || {
        let mut config = madsim::Config::default();
        // No latency of the network's own: a send's drawn latency is its time in flight.
        config.net.send_latency = Duration::ZERO..Duration::from_nanos(1);
        Runtime::with_seed_and_config(setup.seed, config).block_on(world(setup))
    })
    .join()
    .map_err(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("the simulated world panicked: {what}")
    })?
}

/// `server-1`'s life, run again by every restart: a fresh state replays the input log,
/// the replay's journal is checked against what was journaled before, and the server goes
/// on where it was.
async fn server_life(setup: Arc<Setup>, epoch: Instant, shared: Arc<Shared>) {
    let listener = tokio::net::TcpListener::bind(SERVER).await.expect("bind");
    let mut state = setup
        .state()
        .expect("the setup was checked before the world");
    {
        let mut d = shared.durable.lock().expect("durable");
        if !d.inputs.is_empty() {
            let Durable {
                inputs,
                journal,
                mismatches,
            } = &mut *d;
            let now = SimTime::from_nanos(ns(epoch, Instant::now()));
            crate::run::replay_restart(&mut state, inputs, journal, mismatches, now);
        }
        state.take_log_lines();
    }
    shared.grew.notify_waiters();
    let (on_journal, on_input) = (Arc::clone(&shared), shared);
    crate::run::serve_recorded(
        listener,
        state,
        epoch,
        move |o| {
            on_journal.durable.lock().expect("durable").journal.push(o);
            on_journal.grew.notify_waiters();
        },
        move |at, req| {
            let mut d = on_input.durable.lock().expect("durable");
            d.inputs.push((at, req));
        },
    )
    .await;
}

/// Sender `i`'s address: 10.x.y.1 (x from 1), one node per request.
fn sender_ip(i: usize) -> IpAddr {
    let x = u8::try_from(1 + i / 250).unwrap_or(u8::MAX);
    IpAddr::V4(Ipv4Addr::new(10, x, (i % 250) as u8 + 1, 1))
}

/// The nodes, what each runs, and what they leave.
async fn world(setup: Setup) -> Result<Record, String> {
    let setup = Arc::new(setup);
    let handle = Handle::current();
    let epoch = Instant::now();
    let shared: Arc<Shared> = Arc::default();
    let (server_setup, server_shared) = (Arc::clone(&setup), Arc::clone(&shared));
    let server = handle
        .create_node()
        .name("server-1")
        .ip(SERVER_IP)
        .init(move || server_life(Arc::clone(&server_setup), epoch, Arc::clone(&server_shared)))
        .build();
    let admin = handle.create_node().name("client-2").ip(ADMIN).build();

    let start = admin.spawn(start(Arc::clone(&setup), Arc::clone(&shared), epoch));
    let finder = admin.spawn(find_endpoints(Arc::clone(&shared)));
    let cancel = admin.spawn(cancel(Arc::clone(&setup), Arc::clone(&shared)));
    let mut senders = Vec::new();
    for i in 0..setup.requests.len() {
        let node = handle
            .create_node()
            .name(format!("sender-{i}"))
            .ip(sender_ip(i))
            .build();
        let me = node.id();
        let task = node.spawn(send(
            Arc::clone(&setup),
            i,
            Arc::clone(&shared),
            epoch,
            (server.id(), me),
        ));
        senders.push((node, task));
    }
    let restarts = tokio::spawn(restarts(
        Arc::clone(&setup),
        Arc::clone(&shared),
        server.id(),
        epoch,
    ));

    let execution = start.await.map_err(|e| format!("client-2: {e}"))??;
    let mut attempts = Vec::new();
    for (_node, task) in senders {
        attempts.push(task.await.map_err(|e| format!("a sender: {e}"))?);
    }
    cancel
        .await
        .map_err(|e| format!("client-2 (cancel): {e}"))??;
    // The run is over when the execution is, or a year on.
    let id = execution.clone();
    let ended = shared.until(move |_, journal| {
        journal
            .iter()
            .any(|o| matches!(o, Observed::Engine { execution, event: Trace::Ended { .. }, .. } if *execution == id))
            .then_some(())
    });
    let _ = tokio::time::timeout(YEAR, ended).await;
    let restarts = restarts.await.map_err(|e| format!("restarts: {e}"))?;
    finder.abort();
    let end_ns = ns(epoch, Instant::now());
    let d = shared.durable.lock().expect("durable");
    Ok(Record {
        journal: d.journal.clone(),
        inputs: d.inputs.clone(),
        execution,
        attempts,
        restarts,
        end_ns,
        mismatches: d.mismatches.clone(),
    })
}

/// `client-2` starts the execution with the file's argument and says where, and when on
/// the simulated clock it started (its `startTime` is on the server's, which started with
/// the world at `epoch`).
async fn start(setup: Arc<Setup>, shared: Arc<Shared>, epoch: Instant) -> Result<String, String> {
    let path = format!(
        "/v1/projects/p/locations/l/workflows/{}/executions",
        setup.name
    );
    let body = match &setup.argument {
        Some(a) => serde_json::json!({ "argument": a })
            .to_string()
            .into_bytes(),
        None => b"{}".to_vec(),
    };
    if !setup.env.is_empty() {
        // The Workflows API sets them (an input of the log, so a restart keeps them).
        let workflow = format!("/v1/projects/p/locations/l/workflows/{}", setup.name);
        let body = serde_json::json!({ "userEnvVars": setup.env }).to_string();
        let (_, got) =
            client::send_retrying(SERVER, "PATCH", &workflow, None, body.as_bytes(), PATIENT).await;
        match got {
            Some(a) if a.status == 200 => {}
            other => return Err(format!("setting the file's env: on the server: {other:?}")),
        }
    }
    let first = match Connection::open(SERVER).await {
        Ok(mut conn) => {
            at(epoch + START - TRANSIT).await;
            conn.send("POST", &path, None, body.clone(), &[]).await.ok()
        }
        Err(_) => None,
    };
    let created = match first {
        Some(answer) => answer,
        None => client::send_retrying(SERVER, "POST", &path, None, &body, PATIENT)
            .await
            .1
            .ok_or("could not start the execution")?,
    };
    if created.status != 200 {
        return Err(format!(
            "starting the execution was answered {}: {}",
            created.status, created.body
        ));
    }
    let name = created.body["name"]
        .as_str()
        .ok_or("the new execution has no name")?;
    let started_ns = created.body["startTime"]
        .as_str()
        .and_then(wfsim_engine::time::parse_rfc3339)
        .map(|n| (n - setup.wall_start_unix_nanos) as u64)
        .ok_or("the new execution has no startTime")?;
    let at = epoch + Duration::from_nanos(started_ns);
    *shared.started.lock().expect("started") = Some((format!("/v1/{name}"), at));
    shared.grew.notify_waiters();
    Ok(name.rsplit('/').next().unwrap_or_default().to_owned())
}

/// `client-2` learns each endpoint's path as the journal says it is created: the new names
/// in the execution's callbacks list, in the order it lists them, which is the order the
/// execution created them (so endpoint `n` is the engine level's `n`, however many were
/// created between two lists).
async fn find_endpoints(shared: Arc<Shared>) {
    let (execution, _) = shared.until(|s, _| s.started()).await;
    let id = execution.rsplit('/').next().unwrap_or_default().to_owned();
    loop {
        let known = shared.endpoints.lock().expect("endpoints").len();
        let id = id.clone();
        shared
            .until(move |_, journal| {
                let created = journal
                    .iter()
                    .filter(|o| matches!(o, Observed::Engine { execution, event: Trace::EndpointCreated(_), .. } if *execution == id))
                    .count();
                (created > known).then_some(())
            })
            .await;
        let path = format!("{execution}/callbacks");
        let (_, list) = client::send_retrying(SERVER, "GET", &path, None, b"", PATIENT).await;
        let Some(list) = list else { continue };
        let mut endpoints = shared.endpoints.lock().expect("endpoints");
        for c in list.body["callbacks"].as_array().into_iter().flatten() {
            if let Some(name) = c["name"].as_str() {
                let path = format!("/v1/{name}");
                if !endpoints.iter().any(|(p, _)| *p == path) {
                    let method = c["method"].as_str().unwrap_or("POST").to_owned();
                    endpoints.push((path, method));
                }
            }
        }
        drop(endpoints);
        shared.grew.notify_waiters();
    }
}

/// Endpoint `n`'s path and method once the execution has created it and `client-2` has
/// found it; a path no endpoint has (answered 404), and POST as at engine level, while it
/// is not created.
async fn endpoint(shared: &Shared, execution: &str, n: u32) -> (String, String) {
    let id = execution.rsplit('/').next().unwrap_or_default().to_owned();
    let created = {
        let d = shared.durable.lock().expect("durable");
        d.journal
            .iter()
            .filter(|o| matches!(o, Observed::Engine { execution, event: Trace::EndpointCreated(_), .. } if *execution == id))
            .count()
    };
    if created <= n as usize {
        return (
            format!("{execution}/callbacks/not-created"),
            "POST".to_owned(),
        );
    }
    shared
        .until(|s, _| {
            s.endpoints
                .lock()
                .expect("endpoints")
                .get(n as usize)
                .cloned()
        })
        .await
}

/// The request of the journal whose `X-Request-Id` is `id`: its arrival (server time).
fn arrival(journal: &[Observed], id: &str) -> Option<SimTime> {
    journal.iter().find_map(|o| match o {
        Observed::Callback(d) if d.request_id.as_deref() == Some(id) => Some(d.at),
        _ => None,
    })
}

/// Request `i` of the setup, from its own node: each send at its time, in flight for its
/// latency, its answer lost when the schedule says (the server's link to this node clogged
/// until the server has it), resent on 429, 5xx, a lost answer or a dead server, `delay`
/// after the send before it arrived (EXP-3) or failed.
async fn send(
    setup: Arc<Setup>,
    i: usize,
    shared: Arc<Shared>,
    epoch: Instant,
    (server, me): (madsim::task::NodeId, madsim::task::NodeId),
) -> Vec<Attempt> {
    let r = &setup.requests[i];
    let (execution, start) = shared.until(|s, _| s.started()).await;
    let net = NetSim::current();
    let mut out = Vec::new();
    let mut next = start + r.at;
    for (k, &(latency, lost)) in r.sends.iter().enumerate() {
        // The request is written TRANSIT before it is due at the server (the send's instant
        // plus its latency), on a connection opened ahead (madsim's connect takes simulated
        // milliseconds), again if the server was killed meanwhile.
        let write_at = (next + latency).checked_sub(TRANSIT).unwrap_or(next);
        let look_at = next.min(write_at);
        at(look_at.checked_sub(OPEN_AHEAD).unwrap_or(look_at)).await;
        let kills = *shared.kills.lock().expect("kills");
        let mut conn = Connection::open(SERVER).await;
        at(look_at).await;
        if *shared.kills.lock().expect("kills") != kills {
            conn = Connection::open(SERVER).await;
        }
        let (path, own_method) = endpoint(&shared, &execution, r.endpoint).await;
        let method = r.method.clone().unwrap_or(own_method);
        at(write_at).await;
        let id = format!("{}{}.{}", if i < setup.fixed { "f" } else { "s" }, i, k + 1);
        out.push(Attempt {
            sent_ns: ns(epoch, next),
            lost,
        });
        let answer = attempt(
            &shared,
            &net,
            (server, me),
            conn,
            &path,
            &method,
            r,
            lost,
            &id,
        )
        .await;
        let failed = match answer {
            Outcome::Answered(status) => status == 429 || status >= 500,
            Outcome::Lost | Outcome::NoServer => true,
        };
        if !failed {
            break;
        }
        let from = {
            let d = shared.durable.lock().expect("durable");
            arrival(&d.journal, &id)
        };
        let from = match from {
            Some(arrived) => epoch + since_start(arrived),
            None => epoch + since_start(tick(epoch, Instant::now())),
        };
        next = from + r.retry.delay(k as u32 + 1);
    }
    out
}

/// What one send came to.
enum Outcome {
    Answered(u16),
    /// The server has it; its answer was lost.
    Lost,
    /// It never reached a server (killed, or not back yet).
    NoServer,
}

#[allow(clippy::too_many_arguments, reason = "one send's every particular")]
async fn attempt(
    shared: &Shared,
    net: &NetSim,
    (server, me): (madsim::task::NodeId, madsim::task::NodeId),
    conn: Result<Connection, client::NetError>,
    path: &str,
    method: &str,
    r: &Req,
    lost: bool,
    id: &str,
) -> Outcome {
    let Ok(mut conn) = conn else {
        return Outcome::NoServer;
    };
    let headers: Vec<(&str, &str)> = r
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain([("X-Request-Id", id)])
        .collect();
    if !lost {
        let answer = tokio::time::timeout(
            ATTEMPT_TIMEOUT,
            conn.send(method, path, None, r.body.clone(), &headers),
        )
        .await;
        return match answer {
            Ok(Ok(a)) => Outcome::Answered(a.status),
            _ => Outcome::NoServer,
        };
    }
    net.clog_link(server, me);
    let id_owned = id.to_owned();
    let arrived = async {
        shared
            .until(move |_, journal| arrival(journal, &id_owned))
            .await
    };
    let outcome = tokio::select! {
        biased;
        _ = conn.send(method, path, None, r.body.clone(), &headers) => Outcome::NoServer,
        got = tokio::time::timeout(ATTEMPT_TIMEOUT, arrived) => match got {
            Ok(_) => Outcome::Lost,
            Err(_) => Outcome::NoServer,
        },
    };
    drop(conn);
    // The answer was written in the instant the server took the request: gone by now.
    tokio::time::sleep(Duration::from_millis(1)).await;
    net.unclog_link(server, me);
    outcome
}

/// `client-2` cancels the execution at the file's `cancel_at`.
async fn cancel(setup: Arc<Setup>, shared: Arc<Shared>) -> Result<(), String> {
    let Some(at) = setup.cancel_at else {
        return Ok(());
    };
    let (execution, start) = shared.until(|s, _| s.started()).await;
    tokio::time::sleep_until(start + at).await;
    let path = format!("{execution}:cancel");
    let (_, got) = client::send_retrying(SERVER, "POST", &path, None, b"", PATIENT).await;
    got.map(|_| ())
        .ok_or_else(|| "the cancel got no answer".to_owned())
}

/// The world's own task: kills `server-1` and restarts it at the schedule's instants.
async fn restarts(
    setup: Arc<Setup>,
    shared: Arc<Shared>,
    server: madsim::task::NodeId,
    epoch: Instant,
) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    if setup.restarts.is_empty() {
        return out;
    }
    let (_, start) = shared.until(|s, _| s.started()).await;
    let handle = Handle::current();
    for &(at, down) in &setup.restarts {
        tokio::time::sleep_until(start + at).await;
        handle.kill(server);
        *shared.kills.lock().expect("kills") += 1;
        let killed = tick(epoch, Instant::now()).as_nanos();
        tokio::time::sleep(down).await;
        handle.restart(server);
        out.push((killed, tick(epoch, Instant::now()).as_nanos()));
    }
    out
}

/// The executed schedule: the input log replayed into a fresh state, its journal checked
/// against the world's, the execution and its requests as the engine-level runner gives
/// them.
fn judge(setup: &Setup, record: Record) -> Result<Executed, String> {
    if let Some(m) = record.mismatches.first() {
        return Err(format!("the server's replay after a restart differed: {m}"));
    }
    let mut state = setup.state()?;
    let end = Resolution::new(CLOCK_RESOLUTION).floor(record.end_ns);
    state.replay(&record.inputs, end);
    let journal = state.take_journal();
    if let Some(i) = journal
        .iter()
        .zip(&record.journal)
        .position(|(a, b)| a != b)
    {
        return Err(format!(
            "the server's input log replays to another journal: entry {i} is {:?}, the world journaled {:?}",
            journal[i], record.journal[i]
        ));
    }
    if journal.len() != record.journal.len() {
        return Err(format!(
            "the server's input log replays to {} journal entries, the world journaled {}",
            journal.len(),
            record.journal.len()
        ));
    }
    let (execution, started) = state
        .into_execution(&setup.name, &record.execution)
        .ok_or_else(|| format!("the server has no execution {}", record.execution))?;
    if since_start(started) != START {
        return Err(format!(
            "the execution started at {started} of the server's clock, not at {START:?}: its wall clock would be off the file's start_time"
        ));
    }
    let local = |t: SimTime| SimTime::from_nanos(t.as_nanos().saturating_sub(started.as_nanos()));
    let mut requests = Vec::new();
    let mut sent = Vec::new();
    let mut trace_pos = 0;
    for o in &journal {
        match o {
            Observed::Engine { execution, .. } if *execution == record.execution => trace_pos += 1,
            // A scripted service's callback (HT-7): to one of the execution's endpoints,
            // or to a URL that is none (journaled without an execution).
            Observed::Callback(d)
                if d.service.is_some()
                    && (d.execution == record.execution || d.execution.is_empty()) =>
            {
                let at = local(d.at);
                let endpoint = execution
                    .with_callbacks(|cbs| cbs.endpoint_by_callback_id(&d.callback).map(|e| e.0));
                requests.push(RequestRecord {
                    at,
                    endpoint: endpoint.filter(|_| d.execution == record.execution),
                    service: d.service,
                    method: d.method.clone(),
                    status: d.status,
                    message: None,
                    taken_at: (d.status == 200 && !d.buffered).then_some(at),
                    trace_pos,
                });
            }
            Observed::Callback(d) if d.execution == record.execution => {
                let Some((i, k)) = d.request_id.as_deref().and_then(parse_id) else {
                    continue;
                };
                let (Some(req), Some(a)) = (
                    setup.requests.get(i),
                    record.attempts.get(i).and_then(|l| l.get(k - 1)),
                ) else {
                    continue;
                };
                let at = local(d.at);
                requests.push(RequestRecord {
                    at,
                    endpoint: Some(req.endpoint),
                    service: None,
                    method: d.method.clone(),
                    status: d.status,
                    message: None,
                    taken_at: (d.status == 200 && !d.buffered).then_some(at),
                    trace_pos,
                });
                if i >= setup.fixed {
                    sent.push(Sent {
                        logical: i - setup.fixed,
                        attempt: k as u32,
                        sent_at: local(SimTime::from_nanos(a.sent_ns)),
                        arrived_at: at,
                        status: Some(d.status),
                        lost: a.lost,
                    });
                }
            }
            _ => {}
        }
    }
    // A request stored in the slot is taken by the await that later finds it.
    for (pos, (took_at, event)) in execution.trace().iter().enumerate() {
        if let Trace::AwaitTook {
            endpoint,
            received_at,
            ..
        } = event
        {
            let stored = requests.iter_mut().find(|q| {
                q.taken_at.is_none()
                    && q.status == 200
                    && q.at == *received_at
                    && q.endpoint == Some(endpoint.0)
                    && q.trace_pos <= pos
            });
            if let Some(q) = stored {
                q.taken_at = Some(*took_at);
            }
        }
    }
    let restarts = record
        .restarts
        .iter()
        .map(|&(k, b)| (local(SimTime::from_nanos(k)), local(SimTime::from_nanos(b))))
        .collect();
    Ok(Executed {
        run: Run {
            execution,
            requests,
            budget_exhausted: false,
            unmatched: Vec::new(),
            service_errors: Vec::new(),
        },
        sent,
        restarts,
    })
}

/// `s3.2` (or `f0.1`): request 3 of the setup, its second send.
fn parse_id(id: &str) -> Option<(usize, usize)> {
    let (i, k) = id.get(1..)?.split_once('.')?;
    Some((i.parse().ok()?, k.parse().ok()?))
}
