//! The wire JSON of what the host holds: the Execution resource, the callbacks list and
//! the log entries, as the Workflows Executions API v1 renders them.

use serde_json::{Value as Json, json};
use wfsim_engine::error;
use wfsim_engine::interp::Outcome;
use wfsim_engine::stdlib::LogPayload;
use wfsim_engine::value::show;
use wfsim_harness::report;

use crate::host::{Deployed, Exec, Host, Revision};
use crate::parent::Parent;

/// `CallLogLevel` of both APIs, by number.
/// `ExecutionHistoryLevel`, by number (the REST resources' field; the 2024 protos lack it).
pub(crate) const EXECUTION_HISTORY_LEVELS: [&str; 3] = [
    "EXECUTION_HISTORY_LEVEL_UNSPECIFIED",
    "EXECUTION_HISTORY_BASIC",
    "EXECUTION_HISTORY_DETAILED",
];

pub(crate) const CALL_LOG_LEVELS: [&str; 4] = [
    "CALL_LOG_LEVEL_UNSPECIFIED",
    "LOG_ALL_CALLS",
    "LOG_ERRORS_ONLY",
    "LOG_NONE",
];

/// `Execution.State`, by number.
const EXECUTION_STATES: [&str; 7] = [
    "STATE_UNSPECIFIED",
    "ACTIVE",
    "SUCCEEDED",
    "FAILED",
    "CANCELLED",
    "UNAVAILABLE",
    "QUEUED",
];

/// How a response spells enums: by name (the JSON mapping's default) or by number
/// (`$alt=json;enum-encoding=int`, which Google's REST clients send).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Enums {
    Names,
    Numbers,
}

impl Enums {
    fn show(self, names: &[&str], i: usize) -> Json {
        match self {
            Enums::Names => json!(names[i]),
            Enums::Numbers => json!(i),
        }
    }

    fn show_name(self, names: &[&str], name: &str) -> Json {
        self.show(names, names.iter().position(|n| *n == name).unwrap_or(0))
    }
}

/// `ExecutionView`: BASIC leaves out the argument, result, error and the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum View {
    Basic,
    Full,
}

/// A protobuf `Duration` in JSON: seconds with the fraction it needs and `s`.
pub(crate) fn duration(nanos: u64) -> String {
    let (secs, frac) = (nanos / 1_000_000_000, nanos % 1_000_000_000);
    if frac == 0 {
        format!("{secs}s")
    } else {
        let digits = format!("{frac:09}");
        format!("{secs}.{}s", digits.trim_end_matches('0'))
    }
}

/// `projects/P/locations/L/workflows/W`.
pub(crate) fn workflow_name(parent: &Parent, workflow: &str) -> String {
    format!("{parent}/workflows/{workflow}")
}

/// `…/workflows/W/executions/ID`.
pub(crate) fn execution_name(e: &Exec) -> String {
    format!(
        "{}/executions/{}",
        workflow_name(&e.parent, &e.workflow),
        e.id
    )
}

/// The Execution resource, every field of the API's for the FULL view.
pub(crate) fn execution(host: &Host, e: &Exec, view: View, enums: Enums) -> Json {
    let mut out = serde_json::Map::new();
    out.insert("name".into(), json!(execution_name(e)));
    out.insert("startTime".into(), json!(host.wall(e.clock.started_at())));
    if let Some(end) = e.ended_at() {
        out.insert("endTime".into(), json!(host.wall(end)));
        let nanos = end.saturating_since(e.clock.started_at()).as_nanos();
        out.insert(
            "duration".into(),
            json!(duration(u64::try_from(nanos).unwrap_or(u64::MAX))),
        );
    }
    out.insert(
        "state".into(),
        enums.show_name(&EXECUTION_STATES, e.state().as_str()),
    );
    out.insert("workflowRevisionId".into(), json!(e.revision_id));
    if view == View::Basic {
        return Json::Object(out);
    }
    if let Some(a) = &e.argument {
        out.insert("argument".into(), json!(a));
    }
    if e.call_log_level != 0 {
        out.insert(
            "callLogLevel".into(),
            enums.show(&CALL_LOG_LEVELS, e.call_log_level),
        );
    }
    if e.execution_history_level != 0 {
        out.insert(
            "executionHistoryLevel".into(),
            enums.show(&EXECUTION_HISTORY_LEVELS, e.execution_history_level),
        );
    }
    if e.no_overflow_buffering {
        out.insert(
            "disableConcurrencyQuotaOverflowBuffering".into(),
            json!(true),
        );
    }
    if !e.labels.is_empty() {
        out.insert("labels".into(), json!(e.labels));
    }
    // `status.currentSteps`: from main down to the step it is at (the proto's "in the
    // future" form: every step of the call stack, not only the innermost); once ended,
    // where it ended, as the proto says. Nothing for a crashed engine, which is never read
    // again, nor before a first step.
    let steps = match e.crashed {
        Some(_) => Vec::new(),
        None => e.execution.current_steps(),
    };
    if !steps.is_empty() {
        let steps: Vec<Json> = steps
            .into_iter()
            .map(|(routine, step)| json!({"routine": routine, "step": step}))
            .collect();
        out.insert("status".into(), json!({"currentSteps": steps}));
    }
    if let Some((_, message)) = e.crashed.as_deref() {
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
            Some(Outcome::Failed(failure)) => {
                out.insert(
                    "error".into(),
                    json!({
                        "payload": json_text(failure),
                        "context": error::message(failure).unwrap_or_default(),
                        "stackTrace": {"elements": report::stack_json(&failure.stack)},
                    }),
                );
            }
            _ => {}
        }
    }
    Json::Object(out)
}

/// `Workflow.State`: wfsim's are always ACTIVE.
const WORKFLOW_STATES: [&str; 3] = ["STATE_UNSPECIFIED", "ACTIVE", "UNAVAILABLE"];

/// The Workflow resource at `revision`.
pub(crate) fn workflow(
    parent: &Parent,
    host: &Host,
    name: &str,
    d: &Deployed,
    revision: &Revision,
    enums: Enums,
) -> Json {
    let s = &d.settings;
    let mut out = serde_json::Map::new();
    out.insert("name".into(), json!(workflow_name(parent, name)));
    if !s.description.is_empty() {
        out.insert("description".into(), json!(s.description));
    }
    out.insert("state".into(), enums.show(&WORKFLOW_STATES, 1));
    out.insert("revisionId".into(), json!(revision.id));
    out.insert("createTime".into(), json!(host.wall(d.created_at)));
    out.insert("updateTime".into(), json!(host.wall(d.updated_at)));
    out.insert(
        "revisionCreateTime".into(),
        json!(host.wall(revision.created_at)),
    );
    if !s.labels.is_empty() {
        out.insert("labels".into(), json!(s.labels));
    }
    if !s.service_account.is_empty() {
        out.insert("serviceAccount".into(), json!(s.service_account));
    }
    if let Some(source) = &revision.source {
        out.insert("sourceContents".into(), json!(source));
    }
    if s.call_log_level != 0 {
        out.insert(
            "callLogLevel".into(),
            enums.show(&CALL_LOG_LEVELS, s.call_log_level),
        );
    }
    if !s.user_env_vars.is_empty() {
        out.insert("userEnvVars".into(), json!(s.user_env_vars));
    }
    if s.execution_history_level != 0 {
        out.insert(
            "executionHistoryLevel".into(),
            enums.show(&EXECUTION_HISTORY_LEVELS, s.execution_history_level),
        );
    }
    Json::Object(out)
}

/// A workflow value as the API's JSON-in-a-string fields hold it.
fn json_text(v: &wfsim_engine::Value) -> String {
    v.to_json()
        .map(|j| j.to_string())
        .unwrap_or_else(|_| show(v))
}

/// `callbacks.list`: the execution's endpoints in the order it created them, so a client
/// that lists twice finds the new ones at the end, first-created first.
pub(crate) fn callbacks(e: &Exec) -> Json {
    let prefix = execution_name(e);
    let list: Vec<Json> = e.execution.with_callbacks(|cbs| {
        cbs.endpoints()
            .iter()
            .map(|ep| {
                json!({
                    "name": format!("{prefix}/callbacks/{}", ep.callback_id()),
                    "method": ep.method().as_str(),
                    "waiters": ep.waiters().len().to_string(),
                    "availablePayloads": u8::from(ep.buffered().is_some()).to_string(),
                })
            })
            .collect()
    });
    json!({"callbacks": list})
}

/// A page of the execution's `sys.log` entries (`offset`, at most `size`), times on the
/// server's clock, and where the next page starts, if there is one.
pub(crate) fn logs(host: &Host, e: &Exec, offset: usize, size: usize) -> (Json, Option<usize>) {
    let (page, all) = e.execution.logs_page(offset, size);
    let entries: Vec<Json> = page
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
    let next = offset + entries.len();
    (json!({"entries": entries}), (next < all).then_some(next))
}
