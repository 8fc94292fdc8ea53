//! The bare world `cargo xtask bench` holds the simulated world against: the same madsim
//! nodes, network (latency, loss) and client, sending the requests a run of the world
//! made (`client::Outgoing`: from the same node, at the same simulated instants, with
//! bodies of the same size, each on a new connection), to a bare hyper server that reads
//! each request and answers 200 `{}`. No faults, no engine, no API: what is left is the
//! floor, HTTP over simulated TCP, and the world's time over it is its own overhead.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use madsim::runtime::{Handle, Runtime};
use tokio::time::Instant;

use crate::case::Case;
use crate::client::{self, ATTEMPT_TIMEOUT, Connection};
use crate::run::{ADMIN_CLIENT, CALLBACK_CLIENT, RACER, in_a_thread, network};
use crate::world::{SERVER, server_node};

/// Sends `requests` (recorded from a run of `case`) through the bare world, in a thread of
/// its own like the world's runs; returns how many got an answer.
pub fn run(case: &Case, requests: &[client::Outgoing]) -> Result<usize, String> {
    let (case, requests) = (case.clone(), requests.to_vec());
    in_a_thread(move || run_here(&case, requests))
}

/// [`run`] on the calling thread, as a bare world needs no more: its count does not depend
/// on std's hash keys. The bench shows what the world's thread per run costs by it.
pub fn run_here(case: &Case, requests: Vec<client::Outgoing>) -> usize {
    Runtime::with_seed_and_config(case.seed, network(case)).block_on(world(requests))
}

/// A server that reads each request whole and answers 200 `{}`.
async fn bare_server(listener: tokio::net::TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let service = service_fn(|req: Request<Incoming>| async move {
                let _ = req.into_body().collect().await;
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"{}"))))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn world(requests: Vec<client::Outgoing>) -> usize {
    let handle = Handle::current();
    let start = Instant::now();
    server_node(&handle, bare_server);
    // In the world's order, so that node ids match the recorded ones.
    let nodes = [
        ("client-1", CALLBACK_CLIENT),
        ("client-2", ADMIN_CLIENT),
        ("client-3", RACER),
    ]
    .map(|(name, ip)| handle.create_node().name(name).ip(ip).build());
    let mut tasks = Vec::new();
    for r in requests {
        let Some(node) = nodes.iter().find(|n| n.id() == r.node) else {
            continue;
        };
        tasks.push(node.spawn(async move {
            tokio::time::sleep_until(start + r.opened).await;
            let attempt = async {
                let mut conn = Connection::open(SERVER).await.ok()?;
                let sent = r.sent?;
                tokio::time::sleep_until(start + sent).await;
                let body = Bytes::from(vec![b'x'; r.body_len]);
                conn.send(&r.method, &r.path, None, body, &[]).await.ok()
            };
            // The world's attempts give up after this long, racers' included.
            let limit = ATTEMPT_TIMEOUT + r.sent.map_or(Duration::ZERO, |s| s - r.opened);
            tokio::time::timeout(limit, attempt)
                .await
                .ok()
                .flatten()
                .is_some()
        }));
    }
    let mut answered = 0;
    for t in tasks {
        answered += usize::from(t.await.unwrap_or(false));
    }
    answered
}
