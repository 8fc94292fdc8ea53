//! Rebuilding a run: the world's input log replayed into a fresh state on the caller's
//! thread, its journal checked against the world's, and the execution and its requests
//! handed over as the engine-level runner gives them, so that properties, contract checks,
//! coverage, shrinking and the reproducer are explore's own.

use wfsim_engine::SimTime;
use wfsim_engine::interp::Trace;
use wfsim_explore::schedule::{Executed, Sent};
use wfsim_harness::runner::{RequestRecord, Run};
use wfsim_server::Observed;
use wfsim_server::clock::Resolution;

use super::setup::{START, Setup, since_start};
use super::world::Record;
use crate::run::CLOCK_RESOLUTION;

/// The executed schedule: the input log replayed into a fresh state, its journal checked
/// against the world's, the execution and its requests as the engine-level runner gives
/// them.
pub(super) fn judge(setup: &Setup, record: Record) -> Result<Executed, String> {
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
                    execution: 0,
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
                    execution: 0,
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
            children: Vec::new(),
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
