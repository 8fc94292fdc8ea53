//! `client-2`: starts the execution, learns its endpoints as the journal shows them
//! created, and cancels it when the file says.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use wfsim_engine::interp::Trace;
use wfsim_server::Observed;

use super::setup::{START, Setup};
use super::shared::{Shared, TRANSIT, at};
use crate::client::{self, Backoff, Connection};
use crate::world::SERVER;

/// API calls of `client-2` outlast a restart's downtime.
const PATIENT: Backoff = Backoff {
    attempts: 60,
    ..Backoff::DEFAULT
};

/// `client-2` starts the execution with the file's argument and says where, and when on
/// the simulated clock it started (its `startTime` is on the server's, which started with
/// the world at `epoch`).
pub(super) async fn start(
    setup: Arc<Setup>,
    shared: Arc<Shared>,
    epoch: Instant,
) -> Result<String, String> {
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
pub(super) async fn find_endpoints(shared: Arc<Shared>) {
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

/// `client-2` cancels the execution at the file's `cancel_at`.
pub(super) async fn cancel(setup: Arc<Setup>, shared: Arc<Shared>) -> Result<(), String> {
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
