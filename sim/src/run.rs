//! One case on the simulated world: `server-1` runs `wfsim-server` unchanged, with a
//! durable input log that a restart replays; `client-1` sends the callbacks, `client-2`
//! starts, cancels and watches the execution, `client-3` races awaits' deadlines; the
//! network's latency, loss, clogs and partitions and the server's kill and restart come from
//! the case. One piece (over 700 lines): one function per node's part, all reading and
//! writing the same case record, so the whole world of one case reads in one file.

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use madsim::net::NetSim;
use madsim::runtime::{Handle, Runtime};
use madsim::task::NodeId;
use serde_json::Value as Json;
use tokio::time::Instant;
use wfsim_engine::SimTime;
use wfsim_engine::defn::{self, Workflow};
use wfsim_engine::interp::Trace;
use wfsim_server::clock::Resolution;
use wfsim_server::{ApiRequest, Observed, Options, State, serve_observed};

use crate::case::{Case, Misfit};
use crate::client::{self, Attempts, Backoff, Connection, Started};
use crate::fault::{self, Edge, Fault, FaultKind, Happened};
use crate::world::{SERVER, ServerPreset, UNPRIVILEGED, WALL_START_UNIX_NANOS, server_node};

/// API calls outlast any fault a case draws.
const PATIENT: Backoff = Backoff {
    attempts: 60,
    ..Backoff::DEFAULT
};

/// `server-1` reads its clock in whole milliseconds, so requests share instants with
/// deadlines (and the racer's requests land on them) despite the 50–100 ns madsim charges
/// for every task poll.
pub const CLOCK_RESOLUTION: Duration = Duration::from_millis(1);

/// SPEC §3 step 4: one byte over 512 KiB.
pub const TOO_BIG: usize = 512 * 1024 + 1;

/// The body of a callback over the limit, one for every run: shared, never copied.
static TOO_BIG_BODY: [u8; TOO_BIG] = [b'x'; TOO_BIG];

pub(crate) const CALLBACK_CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1));
pub(crate) const ADMIN_CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 1, 2));
pub(crate) const RACER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 1, 3));

/// One attempt of a logical callback, on the server's clock (ns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    pub sent_ns: u64,
    pub done_ns: u64,
    /// The status, or why there was none.
    pub result: Result<u16, String>,
    /// The answer's body, if there was an answer.
    pub body: Option<Json>,
}

/// One execution as the run saw it at the end.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecutionSeen {
    /// Its id, the last segment of its name.
    pub id: String,
    /// Its start on the server's clock (ns).
    pub started_ns: u64,
    pub callback_id: String,
    pub state: String,
    pub result: Vec<String>,
    pub ended_ns: Option<u64>,
}

/// What a run produced: the server's journal, the clients' view, and the faults as they
/// happened.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// Everything the server journaled, across restarts, in order.
    pub journal: Vec<Observed>,
    /// The case's execution, then its neighbour if it has one.
    pub executions: Vec<ExecutionSeen>,
    /// When the schedule's clock starts: the callback endpoints are known (server ns).
    pub callbacks_start_ns: u64,
    /// Per logical callback (`r0`, …; `n0`, … to the neighbour), then per race (`race0`,
    /// …): its attempts.
    pub sends: Vec<(String, Vec<Sent>)>,
    /// The attempts of the cancel of the case's execution, if one was sent.
    pub cancel: Option<Vec<Sent>>,
    /// When each fault's window opened and closed, in the order they opened.
    pub faults: Vec<Happened>,
    /// Where a restarted server's replayed journal differed from what it had journaled.
    pub replay_mismatches: Vec<String>,
}

impl RunRecord {
    /// When the server was killed and when it came back (ns; 0: not yet, the run ended).
    pub fn restarts(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.faults
            .iter()
            .filter(|h| h.kind == FaultKind::Restart)
            .map(|h| (h.from_ns, h.to_ns))
    }
}

/// What survives a kill: the input log, and the journal so far (to check a replay by).
#[derive(Debug, Default)]
struct Durable {
    inputs: Vec<(SimTime, ApiRequest)>,
    journal: Vec<Observed>,
    mismatches: Vec<String>,
    faults: Vec<Happened>,
}

fn since(epoch: Instant) -> SimTime {
    SimTime::from_nanos(u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX))
}

fn to_ns(epoch: Instant, at: Instant) -> u64 {
    u64::try_from(at.duration_since(epoch).as_nanos()).unwrap_or(u64::MAX)
}

fn sent(epoch: Instant, attempts: &Attempts) -> Vec<Sent> {
    attempts
        .list
        .iter()
        .map(|a| Sent {
            sent_ns: to_ns(epoch, a.sent),
            done_ns: to_ns(epoch, a.done),
            result: a.result.clone().map_err(|e| e.0),
            body: a.body.clone(),
        })
        .collect()
}

thread_local! {
    /// The case's workflow as the server's first start built it, with its text: a restart
    /// deploys the same build again instead of parsing the text again. A run has a thread
    /// of its own ([`run`]), so this is the run's.
    static BUILT: RefCell<Option<(String, Workflow)>> = const { RefCell::new(None) };
}

/// The workflow of `text`, built once per thread.
fn built(text: &str) -> Workflow {
    BUILT.with(|b| {
        let mut b = b.borrow_mut();
        match &*b {
            Some((t, w)) if t == text => w.clone(),
            _ => {
                let w = defn::load("case.yaml", text).expect("simulated workflows load");
                *b = Some((text.to_owned(), w.clone()));
                w
            }
        }
    })
}

/// A restarted server's state replays the input log kept durable outside the node, at
/// `now` read in the server's ticks; what the replay journals must be what the server
/// journaled before (a mismatch is recorded, not fatal, so the sweep can report it), and
/// what it journals beyond that is new.
pub(crate) fn replay_restart(
    state: &mut State,
    inputs: &[(SimTime, ApiRequest)],
    journal: &mut Vec<Observed>,
    mismatches: &mut Vec<String>,
    now: SimTime,
) {
    state.replay(
        inputs,
        Resolution::new(CLOCK_RESOLUTION).floor(now.as_nanos()),
    );
    let rebuilt = state.take_journal();
    let known = journal.len();
    match rebuilt.iter().zip(journal.iter()).position(|(a, b)| a != b) {
        Some(i) => mismatches.push(format!(
            "restart: entry {i} replayed as {:?}, journaled as {:?}",
            rebuilt[i], journal[i]
        )),
        None if rebuilt.len() < known => mismatches.push(format!(
            "restart: the replay journaled {} entries, the server had {known}",
            rebuilt.len()
        )),
        None => {}
    }
    journal.extend(rebuilt.into_iter().skip(known));
}

/// `server-1`'s life, run again by every restart: a fresh state replays the durable input
/// log, the replay's journal is checked against what was journaled before, and the server
/// goes on where it was.
async fn server_life(
    listener: tokio::net::TcpListener,
    seed: u64,
    workflow: String,
    epoch: Instant,
    durable: Arc<Mutex<Durable>>,
    admin_token: Arc<Latch<String>>,
) {
    let mut state = ServerPreset::new(seed).state("case", built(&workflow));
    state.observe_executions();
    // Every state of one seed mints the same first token; the first start hands it on.
    if let Some(token) = state.master_token() {
        admin_token.set_once(token);
    }
    {
        let mut d = durable.lock().expect("durable");
        if !d.inputs.is_empty() {
            let Durable {
                inputs,
                journal,
                mismatches,
                ..
            } = &mut *d;
            replay_restart(&mut state, inputs, journal, mismatches, since(epoch));
        }
        state.take_log_lines();
    }
    let (on_journal, on_input) = (Arc::clone(&durable), durable);
    serve_recorded(
        listener,
        state,
        epoch,
        move |o| on_journal.lock().expect("durable").journal.push(o),
        move |at, req| on_input.lock().expect("durable").inputs.push((at, req)),
    )
    .await;
}

/// Serves `state` as the world's server does: its inputs recorded for the next restart's
/// replay, on the server's clock ticks, its log lines dropped; every journal entry and
/// input handed to the hooks, which keep them outside the node (a kill loses the node's
/// memory, not theirs).
pub(crate) async fn serve_recorded(
    listener: tokio::net::TcpListener,
    mut state: State,
    epoch: Instant,
    on_journal: impl Fn(Observed) + 'static,
    on_input: impl Fn(SimTime, ApiRequest) + 'static,
) {
    state.record_inputs();
    let quiet: Rc<dyn Fn(String)> = Rc::new(|_| {});
    let options = Options {
        on_journal: Some(Rc::new(on_journal)),
        on_input: Some(Rc::new(on_input)),
        clock_resolution: CLOCK_RESOLUTION,
        ..Options::logs(quiet)
    };
    serve_observed(
        listener,
        Rc::new(RefCell::new(state)),
        epoch,
        options,
        std::future::pending(),
    )
    .await;
}

/// What `client-2` hands the others once it has started the executions.
#[derive(Clone, Debug)]
struct Ready {
    /// The case's execution first.
    executions: Vec<Started>,
    /// When the endpoints became known: the schedule's clock starts here.
    at: Instant,
    /// The admin token, good for everything.
    token: String,
    /// A token without `workflows.callbacks.send`.
    unprivileged: String,
}

type Go = Arc<Latch<Ready>>;

/// A value nodes wait for, set once; setting it wakes every waiter, in the order they began
/// to wait. Polling for it instead (a timer a millisecond) cost some 40% of a run's
/// instructions, madsim charging every wake-up. (Not a `tokio::sync::watch`: its wake-ups
/// pick a shard with tokio's own per-process randomness, which would make runs of one seed
/// differ.)
#[derive(Debug)]
struct Latch<T> {
    state: Mutex<(Option<T>, Vec<Waker>)>,
}

impl<T> Default for Latch<T> {
    fn default() -> Self {
        Latch {
            state: Mutex::new((None, Vec::new())),
        }
    }
}

impl<T: Clone> Latch<T> {
    /// Sets the value unless it is set, and wakes the waiters.
    fn set_once(&self, value: T) {
        let waiters = {
            let mut state = self.state.lock().expect("latch");
            if state.0.is_some() {
                return;
            }
            state.0 = Some(value);
            std::mem::take(&mut state.1)
        };
        waiters.into_iter().for_each(Waker::wake);
    }

    /// The value, once it is set.
    async fn wait(&self) -> T {
        std::future::poll_fn(|cx| {
            let mut state = self.state.lock().expect("latch");
            match &state.0 {
                Some(value) => Poll::Ready(value.clone()),
                None => {
                    if !state.1.iter().any(|w| w.will_wake(cx.waker())) {
                        state.1.push(cx.waker().clone());
                    }
                    Poll::Pending
                }
            }
        })
        .await
    }
}

/// Waits for `client-2` to have started the executions.
async fn started(go: &Go) -> Ready {
    go.wait().await
}

/// What the racer finds in the journal from index `from` on.
enum Seen {
    /// An await blocked at `at` (server time) for `timeout`; the journal entry's index.
    Blocked {
        index: usize,
        at: SimTime,
        timeout: Duration,
    },
    Ended,
    Nothing,
}

/// What execution `id` did in the journal from index `from` on.
fn look(journal: &[Observed], id: &str, from: usize) -> Seen {
    let ended = journal.iter().any(|o| {
        matches!(o, Observed::Engine { execution, event: Trace::Ended { .. }, .. } if execution == id)
    });
    if ended {
        return Seen::Ended;
    }
    journal
        .iter()
        .enumerate()
        .skip(from)
        .find_map(|(index, o)| match o {
            Observed::Engine {
                at,
                execution,
                event: Trace::AwaitBlocked { timeout, .. },
                ..
            } if execution == id => Some(Seen::Blocked {
                index,
                at: *at,
                timeout: *timeout,
            }),
            _ => None,
        })
        .unwrap_or(Seen::Nothing)
}

/// `client-3`: watches the journal (the harness may) for the case's execution's blocked
/// awaits, opens a connection
/// early, and sends so that the request reaches the server exactly at the await's deadline
/// (the case's latency is exact), for the first `races` awaits.
async fn race(
    go: Go,
    durable: Arc<Mutex<Durable>>,
    races: u32,
    latency: Duration,
    epoch: Instant,
) -> Vec<(String, Vec<Sent>)> {
    let mut out = Vec::new();
    if races == 0 {
        return out;
    }
    let ready = started(&go).await;
    let s = &ready.executions[0];
    let id = s.execution.rsplit('/').next().unwrap_or_default();
    let mut from = 0;
    while (out.len() as u32) < races {
        let seen = look(&durable.lock().expect("durable").journal, id, from);
        let (at, timeout) = match seen {
            Seen::Ended => break,
            Seen::Nothing => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Seen::Blocked { index, at, timeout } => {
                from = index + 1;
                (at, timeout)
            }
        };
        let deadline = epoch + Duration::from_nanos(at.as_nanos()) + timeout;
        let Some(leave) = deadline
            .checked_sub(latency)
            .filter(|l| *l > Instant::now())
        else {
            continue;
        };
        let id = format!("race{}", out.len());
        let opened = Instant::now();
        let result = match Connection::open(SERVER).await {
            Ok(mut conn) if Instant::now() < leave => {
                tokio::time::sleep_until(leave).await;
                let headers = [("X-Request-Id", id.as_str())];
                conn.send(
                    "POST",
                    &s.callback,
                    Some(&ready.token),
                    b"{}".to_vec(),
                    &headers,
                )
                .await
                .map_err(|e| e.0)
            }
            Ok(_) => Err("connected too late to race".to_owned()),
            Err(e) => Err(e.0),
        };
        let sent = Sent {
            sent_ns: to_ns(epoch, opened.max(leave)),
            done_ns: to_ns(epoch, Instant::now()),
            result: result.as_ref().map(|a| a.status).map_err(String::clone),
            body: result.ok().map(|a| a.body),
        };
        out.push((id, vec![sent]));
    }
    out
}

/// `client-2` polls an execution until it is over, and reads what it became.
async fn watch(
    admin: &madsim::runtime::NodeHandle,
    s: Started,
    token: String,
) -> Result<ExecutionSeen, String> {
    let path = s.execution.clone();
    let state = admin
        .spawn(async move {
            let poll = Duration::from_secs(2);
            client::wait_for_end(SERVER, &path, Some(&token), PATIENT, poll, 1000).await
        })
        .await
        .map_err(|e| format!("client-2 (watch): {e}"))?;
    let server_ns = |field: &str| {
        state[field]
            .as_str()
            .and_then(wfsim_engine::time::parse_rfc3339)
            .map(|n| (n - WALL_START_UNIX_NANOS) as u64)
    };
    let last = |path: &str| path.rsplit('/').next().unwrap_or_default().to_owned();
    Ok(ExecutionSeen {
        id: last(&s.execution),
        started_ns: server_ns("startTime").ok_or("the execution has no startTime")?,
        callback_id: last(&s.callback),
        state: state["state"].as_str().unwrap_or("?").to_owned(),
        result: serde_json::from_str(state["result"].as_str().unwrap_or("[]")).unwrap_or_default(),
        ended_ns: server_ns("endTime"),
    })
}

/// Runs `case` on a world of its own, in a thread of its own: std's `HashMap` keys are
/// seeded once per thread (madsim makes that seed deterministic), so a second run on the
/// same thread would see other keys, and whatever iterates a map inside madsim, tokio or
/// hyper would run differently. madsim's own determinism check does the same.
pub fn run(case: &Case) -> Result<RunRecord, String> {
    let case = case.clone();
    in_a_thread(move || run_here(&case))?
}

/// [`run`], and every request the clients made (for the bare world of `crate::bare`).
pub fn run_recording(case: &Case) -> Result<(RunRecord, Vec<client::Outgoing>), String> {
    let case = case.clone();
    let (out, requests) = in_a_thread(move || client::record_requests(|| run_here(&case)))?;
    Ok((out?, requests))
}

/// Runs `f` on a thread of its own (see [`run`] for why); a panic becomes an error.
pub(crate) fn in_a_thread<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, String> {
    std::thread::spawn(f).join().map_err(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("the world panicked: {what}")
    })
}

/// The network a case draws: latency and loss.
pub(crate) fn network(case: &Case) -> madsim::Config {
    let mut config = madsim::Config::default();
    let (lo, hi) = case.latency_ms;
    config.net.send_latency =
        Duration::from_millis(lo)..Duration::from_millis(hi) + Duration::from_nanos(1);
    config.net.packet_loss_rate = case.loss;
    config
}

fn run_here(case: &Case) -> Result<RunRecord, String> {
    let runtime = Runtime::with_seed_and_config(case.seed, network(case));
    runtime.block_on(world(case.clone()))
}

/// The nodes, what each runs, and what they report at the end.
async fn world(case: Case) -> Result<RunRecord, String> {
    let handle = Handle::current();
    let epoch = Instant::now();
    let durable: Arc<Mutex<Durable>> = Arc::default();
    let token: Arc<Latch<String>> = Arc::default();
    let (workflow, seed) = (case.workflow(), case.seed);
    let (server_durable, server_token) = (Arc::clone(&durable), Arc::clone(&token));
    let server = server_node(&handle, move |listener| {
        server_life(
            listener,
            seed,
            workflow.clone(),
            epoch,
            Arc::clone(&server_durable),
            Arc::clone(&server_token),
        )
    });
    let node = |name: &str, ip| handle.create_node().name(name).ip(ip).build();
    let (callbacks_node, admin, racer) = (
        node("client-1", CALLBACK_CLIENT),
        node("client-2", ADMIN_CLIENT),
        node("client-3", RACER),
    );
    let go: Go = Arc::default();

    // client-2 starts the execution and tells everyone where its endpoint is.
    let executions = 1 + usize::from(case.neighbour);
    let admin_start = admin.spawn(start(token, executions, Arc::clone(&go)));

    // The faults, timed from when the callbacks start.
    let faults = tokio::spawn(faults(
        Arc::clone(&go),
        case.faults.clone(),
        (server.id(), callbacks_node.id()),
        epoch,
        Arc::clone(&durable),
    ));

    // client-1: every logical callback, sent until it gets a final answer.
    let callbacks = callbacks_node.spawn(send_callbacks(Arc::clone(&go), case.clone(), epoch));

    // client-2 cancels, if the case says so.
    let cancel = admin.spawn(cancel(Arc::clone(&go), case.cancel_ms, epoch));

    // client-3 races deadlines.
    let racer = racer.spawn(race(
        Arc::clone(&go),
        Arc::clone(&durable),
        case.races,
        Duration::from_millis(case.latency_ms.0),
        epoch,
    ));

    let ready = admin_start.await.map_err(|e| format!("client-2: {e}"))??;
    let callbacks_start_ns = to_ns(epoch, ready.at);
    let mut sends = callbacks.await.map_err(|e| format!("client-1: {e}"))??;
    let cancel = cancel
        .await
        .map_err(|e| format!("client-2 (cancel): {e}"))?;
    sends.extend(racer.await.map_err(|e| format!("client-3: {e}"))?);
    let mut executions = Vec::new();
    for s in ready.executions {
        executions.push(watch(&admin, s, ready.token.clone()).await?);
    }
    faults.abort();
    let d = durable.lock().expect("durable");
    Ok(RunRecord {
        journal: d.journal.clone(),
        executions,
        callbacks_start_ns,
        sends,
        cancel,
        faults: d.faults.clone(),
        replay_mismatches: d.mismatches.clone(),
    })
}

/// `client-2`: starts the executions once the server has a token, mints a token without
/// permissions, and tells the other nodes.
async fn start(token: Arc<Latch<String>>, executions: usize, go: Go) -> Result<Ready, String> {
    let token = token.wait().await;
    let mut all = Vec::new();
    for _ in 0..executions {
        all.push(client::start_execution(SERVER, "case", Some(&token), PATIENT).await?);
    }
    let mint = format!("/v1/projects/-/serviceAccounts/{UNPRIVILEGED}:generateAccessToken");
    let (_, minted) =
        client::send_retrying(SERVER, "POST", &mint, Some(&token), b"", PATIENT).await;
    let unprivileged = minted
        .and_then(|m| m.body["accessToken"].as_str().map(str::to_owned))
        .ok_or("could not mint a token without permissions")?;
    let ready = Ready {
        executions: all,
        at: Instant::now(),
        token,
        unprivileged,
    };
    go.set_once(ready.clone());
    Ok(ready)
}

/// The world's own task: opens and closes each fault's window on time, and records when
/// each happened.
async fn faults(
    go: Go,
    faults: Vec<Fault>,
    (server, sender): (NodeId, NodeId),
    epoch: Instant,
    durable: Arc<Mutex<Durable>>,
) {
    let start = started(&go).await.at;
    let net = NetSim::current();
    let handle = Handle::current();
    let world = fault::World {
        net: &net,
        handle: &handle,
        server,
        sender,
    };
    for (ms, kind, edge) in fault::edges(&faults) {
        tokio::time::sleep_until(start + Duration::from_millis(ms)).await;
        match edge {
            Edge::Opens => {
                kind.apply(&world);
                let from_ns = to_ns(epoch, Instant::now());
                durable.lock().expect("durable").faults.push(Happened {
                    kind,
                    from_ns,
                    to_ns: 0,
                });
            }
            Edge::Closes => {
                kind.undo(&world);
                let to_ns = to_ns(epoch, Instant::now());
                let mut d = durable.lock().expect("durable");
                if let Some(h) = d.faults.iter_mut().rev().find(|h| h.kind == kind) {
                    h.to_ns = to_ns;
                }
            }
        }
    }
}

/// What logical callback `i` sends to the case's own execution: its method, token and
/// body, wrong in the way its misfit says.
fn callback_request(
    ready: &Ready,
    i: usize,
    misfit: Option<Misfit>,
) -> (&'static str, Option<String>, Bytes) {
    let empty = Bytes::from_static(b"{}");
    match misfit {
        None => (
            "POST",
            Some(ready.token.clone()),
            format!("{{\"n\": {i}}}").into(),
        ),
        Some(Misfit::NoToken) => ("POST", None, empty),
        Some(Misfit::NoPermission) => ("POST", Some(ready.unprivileged.clone()), empty),
        Some(Misfit::WrongMethod) => ("PUT", Some(ready.token.clone()), empty),
        Some(Misfit::TooBig) => (
            "POST",
            Some(ready.token.clone()),
            Bytes::from_static(&TOO_BIG_BODY),
        ),
    }
}

/// `client-1`: every logical callback, each sent at its time and resent until it gets a
/// final answer.
async fn send_callbacks(
    go: Go,
    case: Case,
    epoch: Instant,
) -> Result<Vec<(String, Vec<Sent>)>, String> {
    let (sends_ms, stray, misfit) = (case.sends_ms, case.stray, case.misfit);
    let ready = started(&go).await;
    let start = ready.at;
    let mut tasks = Vec::new();
    // Each logical callback goes to the case's execution (`r…`) and, when there is one,
    // the same to its neighbour (`n…`).
    let targets = ready
        .executions
        .iter()
        .zip(["r", "n"])
        .flat_map(|(s, prefix)| {
            sends_ms
                .iter()
                .enumerate()
                .map(move |(i, at)| (s.callback.clone(), prefix, i, *at))
        });
    for (callback, prefix, i, at) in targets {
        let ours = prefix == "r";
        // A mistyped URL: the execution exists, the endpoint does not.
        let callback = if ours && stray == Some(i) {
            format!("{callback}0")
        } else {
            callback
        };
        let misfit = misfit.filter(|(j, _)| ours && *j == i).map(|(_, m)| m);
        let (method, token, body) = callback_request(&ready, i, misfit);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(start + Duration::from_millis(at)).await;
            let id = format!("{prefix}{i}");
            let (attempts, _) = client::send_retrying_shared(
                SERVER,
                method,
                &callback,
                token.as_deref(),
                body,
                Backoff::DEFAULT,
                &[("X-Request-Id", &id)],
            )
            .await;
            (id, sent(epoch, &attempts))
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.map_err(|e| format!("callback task: {e}"))?);
    }
    Ok(out)
}

/// `client-2` cancels the case's execution `cancel_ms` after the callbacks start, if the
/// case says so.
async fn cancel(go: Go, cancel_ms: Option<u64>, epoch: Instant) -> Option<Vec<Sent>> {
    let ms = cancel_ms?;
    let ready = started(&go).await;
    tokio::time::sleep_until(ready.at + Duration::from_millis(ms)).await;
    let path = format!("{}:cancel", ready.executions[0].execution);
    let (attempts, _) =
        client::send_retrying(SERVER, "POST", &path, Some(&ready.token), b"", PATIENT).await;
    Some(sent(epoch, &attempts))
}
