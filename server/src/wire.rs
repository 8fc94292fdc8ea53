//! The wire JSON of what the host holds: the Execution resource, the callbacks list and
//! the log entries, as the Workflows Executions API v1 renders them.

use serde_json::{Value as Json, json};
use wfsim_engine::error;
use wfsim_engine::interp::Outcome;
use wfsim_engine::scenario::show;
use wfsim_engine::stdlib::LogPayload;

use crate::api::Config;
use crate::host::{Exec, Host};

/// `projects/P/locations/L/workflows/W`.
pub(crate) fn workflow_name(config: &Config, workflow: &str) -> String {
    format!(
        "projects/{}/locations/{}/workflows/{workflow}",
        config.project, config.location
    )
}

/// `…/workflows/W/executions/ID`.
pub(crate) fn execution_name(config: &Config, e: &Exec) -> String {
    format!("{}/executions/{}", workflow_name(config, &e.workflow), e.id)
}

/// The Execution resource.
pub(crate) fn execution(config: &Config, host: &Host, e: &Exec) -> Json {
    let mut out = serde_json::Map::new();
    out.insert("name".into(), json!(execution_name(config, e)));
    out.insert("state".into(), json!(e.state().as_str()));
    if let Some(a) = &e.argument {
        out.insert("argument".into(), json!(a));
    }
    if let Some((_, message)) = &e.crashed {
        let payload = json!({"message": message, "tags": ["InternalError"]});
        out.insert(
            "error".into(),
            json!({"payload": payload.to_string(), "context": format!("wfsim internal error: {message}")}),
        );
    } else {
        match e.execution.outcome() {
            Some(Outcome::Succeeded(v)) => {
                out.insert("result".into(), json!(json_text(v)));
            }
            Some(Outcome::Failed(err)) => {
                out.insert(
                    "error".into(),
                    json!({"payload": json_text(err), "context": error::message(err).unwrap_or_default()}),
                );
            }
            _ => {}
        }
    }
    out.insert("startTime".into(), json!(host.wall(e.clock.started_at())));
    if let Some(end) = e.ended_at() {
        out.insert("endTime".into(), json!(host.wall(end)));
    }
    Json::Object(out)
}

/// A workflow value as the API's JSON-in-a-string fields hold it.
fn json_text(v: &wfsim_engine::Value) -> String {
    v.to_json()
        .map(|j| j.to_string())
        .unwrap_or_else(|_| show(v))
}

/// `callbacks.list`: the execution's endpoints, by callback id.
pub(crate) fn callbacks(config: &Config, e: &Exec) -> Json {
    let prefix = execution_name(config, e);
    let mut list: Vec<(String, Json)> = e.execution.with_callbacks(|cbs| {
        cbs.endpoints()
            .iter()
            .map(|ep| {
                (
                    ep.callback_id().to_owned(),
                    json!({
                        "name": format!("{prefix}/callbacks/{}", ep.callback_id()),
                        "method": ep.method().as_str(),
                        "waiters": ep.waiters().len().to_string(),
                        "availablePayloads": u8::from(ep.buffered().is_some()).to_string(),
                    }),
                )
            })
            .collect()
    });
    list.sort_by(|a, b| a.0.cmp(&b.0));
    json!({"callbacks": list.into_iter().map(|(_, j)| j).collect::<Vec<_>>()})
}

/// The execution's `sys.log` entries, times on the server's clock.
pub(crate) fn logs(host: &Host, e: &Exec) -> Json {
    let entries: Vec<Json> = e
        .execution
        .logs()
        .iter()
        .map(|l| {
            let time = host.wall(e.clock.server(l.at));
            match &l.payload {
                LogPayload::Text(t) => {
                    json!({"time": time, "severity": l.severity, "textPayload": t})
                }
                LogPayload::Data(d) => json!({
                    "time": time,
                    "severity": l.severity,
                    "jsonPayload": d.to_json().unwrap_or_else(|_| Json::String(show(d))),
                }),
            }
        })
        .collect();
    json!({"entries": entries})
}
