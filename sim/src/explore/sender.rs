//! The sender nodes: one per request of the setup, each send written so that it reaches
//! the server at the engine level's instant, its answer lost (the server's link to the node
//! clogged) when the schedule says, resent as its retry policy says.

use std::sync::Arc;
use std::time::Duration;

use madsim::net::NetSim;
use tokio::time::Instant;
use wfsim_engine::SimTime;
use wfsim_engine::interp::Trace;
use wfsim_server::Observed;

use super::setup::{Req, Setup, since_start};
use super::shared::{Shared, TRANSIT, at, ns, tick};
use crate::client::{self, Connection};
use crate::world::SERVER;

/// How long a send waits for its answer (or, when its answer is lost, for the server to
/// have it) before it counts as failed: longer than any answer takes on this network.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long before its instant a send opens its connection.
const OPEN_AHEAD: Duration = Duration::from_millis(100);

/// One send as its sender saw it.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Attempt {
    /// When it left (server ns).
    pub(super) sent_ns: u64,
    pub(super) lost: bool,
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
pub(super) async fn send(
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
