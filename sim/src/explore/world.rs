//! The world's nodes: `server-1` (its life, run again by every
//! restart), `client-2`'s and the senders' tasks wired to their nodes, the world's own task
//! that kills and restarts the server, and the `Record` a world leaves.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use madsim::runtime::{Handle, Runtime};
use tokio::time::Instant;
use wfsim_engine::SimTime;
use wfsim_engine::interp::Trace;
use wfsim_server::{ApiRequest, Observed};

use super::admin::{cancel, find_endpoints, start};
use super::sender::{Attempt, send};
use super::setup::Setup;
use super::shared::{Durable, Shared, ns, tick};
// The world's server reads its clock in whole milliseconds, the grain schedules are drawn in.
use crate::world::server_node;

/// An execution lives at most a year (EX-5): a world whose execution has not ended by then
/// stops there.
const YEAR: Duration = Duration::from_secs(366 * 86_400);

const ADMIN: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 1, 2));

/// What a world leaves: everything is plain data, to cross back from its thread.
#[derive(Debug)]
pub(super) struct Record {
    pub(super) journal: Vec<Observed>,
    pub(super) inputs: Vec<(SimTime, ApiRequest)>,
    /// The execution's id, the last segment of its name.
    pub(super) execution: String,
    /// Per request of the setup, its sends.
    pub(super) attempts: Vec<Vec<Attempt>>,
    /// When the server was killed and back (server ns).
    pub(super) restarts: Vec<(u64, u64)>,
    /// When the world stopped (server ns).
    pub(super) end_ns: u64,
    pub(super) mismatches: Vec<String>,
}

/// Plays `setup` on a world of its own, on a thread of its own (std's `HashMap` keys are
/// seeded once per thread: see `run::run`).
pub(super) fn play(setup: &Setup) -> Result<Record, String> {
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
async fn server_life(
    listener: tokio::net::TcpListener,
    setup: Arc<Setup>,
    epoch: Instant,
    shared: Arc<Shared>,
) {
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
    let server = server_node(&handle, move |listener| {
        server_life(
            listener,
            Arc::clone(&server_setup),
            epoch,
            Arc::clone(&server_shared),
        )
    });
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
