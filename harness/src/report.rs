//! The report of an engine-level run: the JSON of `wfsim run --json` and the readable
//! timeline, shared by the CLI and the conformance snapshots.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::runner::Run;
use wfsim_engine::callbacks::EndpointIdx;
use wfsim_engine::error::StackElement;
use wfsim_engine::http::Callee;
use wfsim_engine::interp::{Execution, Outcome, StepEntry, Trace};
use wfsim_engine::stdlib::LogPayload;
use wfsim_engine::time::{SimTime, WallClock, format_rfc3339};
use wfsim_engine::value::{Value, show};

/// A log entry's payload as the timeline and the scenario checks quote it: text in quotes,
/// data as compact JSON.
pub fn payload_text(p: &LogPayload) -> String {
    match p {
        LogPayload::Text(t) => format!("{t:?}"),
        LogPayload::Data(d) => show(d),
    }
}

fn secs(t: SimTime) -> Json {
    json!(t.as_secs_f64())
}

/// A stack (innermost first) as JSON, each element as GCP's `stackTrace.elements[]` has it:
/// `{step, routine, position: {line, column}}` (no `length`: wfsim keeps none).
pub fn stack_json(stack: &[StackElement]) -> Json {
    Json::Array(
        stack
            .iter()
            .map(|e| {
                json!({
                    "step": e.step,
                    "routine": e.routine,
                    "position": {"line": e.pos.line, "column": e.pos.col},
                })
            })
            .collect(),
    )
}

/// A stack (innermost first) in a sentence: `at step 'upper' (main, flow.yaml:7:9), called
/// from step 'go' (main, flow.yaml:3:5)`, positions in `file`; without a file, no positions
/// (the timeline's form, the same for a workflow's YAML and JSON spellings).
pub fn stack_text(stack: &[StackElement], file: Option<&str>) -> String {
    let place = |e: &StackElement| match file {
        Some(f) => format!("step '{}' ({}, {f}:{})", e.step, e.routine, e.pos),
        None => format!("step '{}' ({})", e.step, e.routine),
    };
    let mut parts = stack.iter();
    let Some(first) = parts.next() else {
        return String::new();
    };
    let mut out = format!("at {}", place(first));
    for e in parts {
        out.push_str(&format!(", called from {}", place(e)));
    }
    out
}

/// `wfsim run --json`: exactly one object, keys in the documented order. `error` is the
/// raised value whole (a map keeps every field: `code`, `body`, …), `stack` where it was
/// raised, innermost first.
pub fn to_json(run: &Run, failures: &[String]) -> Json {
    let ex = &run.execution;
    let (result, err, stack) = outcome_json(ex);
    let mut out = json!({
        "state": ex.state().as_str(),
        "result": result,
        "error": err,
        "stack": stack,
        "ended_at": ex.ended_at().map_or(Json::Null, secs),
        "logs": logs_json(ex, SimTime::ZERO),
        "endpoints": endpoints_json(ex, SimTime::ZERO),
        "requests": requests_json(run),
        "requests_accepted_never_taken": accepted_never_taken(run),
        "http_calls": calls_json(ex, SimTime::ZERO),
        "expectations": {"passed": failures.is_empty(), "failures": failures},
    });
    // Only a run that started children has the key: every other report stays as it was.
    if !run.children.is_empty() {
        out.as_object_mut()
            .expect("an object")
            .insert("children".into(), children_json(run));
    }
    // EX-8: only a run that recorded them has step entries (`wfsim run --step-entries`).
    if ex.records_step_entries() {
        let (_, dropped) = ex.step_entries_count();
        if let Some(o) = out.as_object_mut() {
            o.insert("step_entries".into(), Json::Array(step_entries_json(ex)));
            o.insert("step_entries_dropped".into(), json!(dropped));
            // A DETAILED history's: entries the variables' budget left without them.
            if ex.records_step_variables() {
                let left_out = ex.step_variables_dropped();
                o.insert("step_variables_dropped".into(), json!(left_out));
            }
        }
    }
    out
}

/// HT-10: each child, in start order (`index` 1 the first), its times on the run's clock.
pub fn children_json(run: &Run) -> Json {
    Json::Array(
        run.children
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let ex = &c.execution;
                let off = c.started_at;
                let (result, err, stack) = outcome_json(ex);
                let id = ex.with_callbacks(|cbs| cbs.name().execution_id.clone());
                json!({
                    "index": k + 1,
                    "workflow": c.workflow,
                    "id": id,
                    "parent": c.parent.map(|(p, _)| p),
                    "call": c.parent.map(|(_, call)| call.0),
                    "started_at": secs(off),
                    "argument": c.argument.as_ref().map_or(Json::Null, |a| a.to_json().unwrap_or_else(|_| Json::String(show(a)))),
                    "state": ex.state().as_str(),
                    "result": result,
                    "error": err,
                    "stack": stack,
                    "ended_at": ex.ended_at().map_or(Json::Null, |t| secs(at(off, t))),
                    "logs": logs_json(ex, off),
                    "endpoints": endpoints_json(ex, off),
                    "http_calls": calls_json(ex, off),
                })
            })
            .collect(),
    )
}

/// A child's time `t` on the run's clock, the child having started at `off`.
fn at(off: SimTime, t: SimTime) -> SimTime {
    SimTime::from_nanos(off.as_nanos() + t.as_nanos())
}

fn endpoints_json(ex: &Execution, off: SimTime) -> Vec<Json> {
    ex.with_callbacks(|cbs| {
        cbs.endpoints()
            .iter()
            .enumerate()
            .map(|(i, e)| {
                json!({"index": i, "method": e.method().as_str(), "url": e.url(), "created_at": secs(at(off, e.created_at()))})
            })
            .collect()
    })
}

/// The execution's step entries (EX-8), each as [`step_entry_json`] renders it, with its
/// `variableData` when the history is DETAILED ([`with_variables`]).
pub fn step_entries_json(ex: &Execution) -> Vec<Json> {
    let clock = ex.clock();
    let detailed = ex.records_step_variables();
    ex.step_entries()
        .iter()
        .map(|e| {
            let mut json = step_entry_json(e, clock);
            if detailed {
                with_variables(&mut json, ex, e.id);
            }
            json
        })
        .collect()
}

/// Adds entry `id`'s `variableData` (`{variables: {NAME: value}}`, EX-8) to its JSON, when
/// `ex` kept them; live mode's DETAILED view adds it the same way.
pub fn with_variables(entry: &mut Json, ex: &Execution, id: u64) {
    let (Some(vars), Json::Object(o)) = (ex.step_variables(id), entry) else {
        return;
    };
    let variables: serde_json::Map<String, Json> = vars
        .iter()
        .map(|(k, v)| (k.clone(), variable_json(v)))
        .collect();
    o.insert("variableData".into(), json!({ "variables": variables }));
}

/// A variable's value in `variableData`: JSON, bytes as base64 text (EX-8, **decision**:
/// JSON has no bytes, and a callback's non-JSON body is bytes, so one such variable must
/// not hide the others).
fn variable_json(v: &Value) -> Json {
    use base64::Engine as _;
    match v {
        Value::Bytes(b) => json!(base64::engine::general_purpose::STANDARD.encode(b)),
        Value::List(items) => Json::Array(items.iter().map(variable_json).collect()),
        Value::Map(m) => Json::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), variable_json(v)))
                .collect(),
        ),
        other => other.to_json().unwrap_or_else(|_| json!(show(other))),
    }
}

/// One step entry as the Executions API's `StepEntry` has it, less its resource `name`:
/// int64 fields as strings (the JSON mapping's), times in RFC 3339 on `clock`, enums by
/// name. Live mode serves this same object.
pub fn step_entry_json(e: &StepEntry, clock: WallClock) -> Json {
    let time = |t: SimTime| format_rfc3339(clock.unix_nanos_at(t));
    let id = |n: u64| json!(n.to_string());
    let mut nav = serde_json::Map::new();
    if !e.children.is_empty() {
        nav.insert(
            "children".into(),
            Json::Array(e.children.iter().map(|&c| id(c)).collect()),
        );
    }
    for (key, n) in [
        ("parent", e.parent),
        ("next", e.next),
        ("previous", e.previous),
    ] {
        if let Some(n) = n {
            nav.insert(key.into(), id(n));
        }
    }
    let mut meta = serde_json::Map::new();
    if let Some((progress, number)) = e.progress {
        meta.insert("progressType".into(), json!(progress.as_str()));
        meta.insert("progressNumber".into(), id(u64::from(number)));
    }
    if let Some(n) = e.expected_iteration {
        meta.insert("expectedIteration".into(), id(u64::from(n)));
    }
    if let Some(t) = e.thread {
        meta.insert("threadId".into(), json!(t.to_string()));
    }
    let mut out = serde_json::Map::new();
    out.insert("entryId".into(), id(e.id));
    out.insert("createTime".into(), json!(time(e.created)));
    out.insert("updateTime".into(), json!(time(e.updated)));
    out.insert("routine".into(), json!(e.routine));
    out.insert("step".into(), json!(e.step));
    out.insert("stepType".into(), json!(e.step_type.as_str()));
    out.insert("state".into(), json!(e.state.as_str()));
    if let Some(error) = &e.exception {
        let payload = error
            .to_json()
            .map_or_else(|_| show(error), |j| j.to_string());
        out.insert("exception".into(), json!({"payload": payload}));
    }
    out.insert("navigationInfo".into(), Json::Object(nav));
    out.insert("stepEntryMetadata".into(), Json::Object(meta));
    Json::Object(out)
}

/// Field `name` of [`to_json`]'s report, made alone: a property reads a few fields of every
/// run of an exploration, and the whole report (endpoints, stack) would cost more than they.
/// `None` for a name the report has not.
pub fn field_json(run: &Run, name: &str) -> Option<Json> {
    let ex = &run.execution;
    Some(match name {
        "state" => json!(ex.state().as_str()),
        "result" => outcome_json(ex).0,
        "error" => outcome_json(ex).1,
        "ended_at" => ex.ended_at().map_or(Json::Null, secs),
        "logs" => Json::Array(logs_json(ex, SimTime::ZERO)),
        "requests" => Json::Array(requests_json(run)),
        "requests_accepted_never_taken" => accepted_never_taken(run),
        "http_calls" => Json::Array(http_calls(run)),
        "children" => children_json(run),
        _ => return None,
    })
}

/// Field `name` of [`to_json`]'s report as a workflow value: exactly what
/// `Value::from_json` makes of [`field_json`]. The fields an exploration's properties read
/// on every seed (`state`, `result`, `error`, `ended_at`, `http_calls`) are built without
/// the JSON, which cost several times the values; the others go through it.
pub fn field_value(run: &Run, name: &str) -> Option<Value> {
    let ex = &run.execution;
    Some(match name {
        "state" => Value::str(ex.state().as_str()),
        "result" => match ex.outcome() {
            Some(Outcome::Succeeded(v)) => as_if_json(v).unwrap_or(Value::Null),
            _ => Value::Null,
        },
        "error" => match ex.outcome() {
            Some(Outcome::Failed(f)) => {
                as_if_json(&f.error).unwrap_or_else(|| Value::str(show(&f.error)))
            }
            _ => Value::Null,
        },
        "ended_at" => ex.ended_at().map_or(Value::Null, secs_value),
        "http_calls" => calls_value(ex),
        _ => return field_json(run, name).map(|j| Value::from_json(&j)),
    })
}

/// `v` as `Value::from_json(&v.to_json()?)` makes it, `None` where that has no JSON form
/// (bytes, a double that is not finite): lists and maps built anew, so their measure is a
/// fresh value's as the JSON's would be, not the upper bound a changed one keeps.
fn as_if_json(v: &Value) -> Option<Value> {
    if json_fresh(v) {
        // Already what JSON would make: shared, not copied.
        return Some(v.clone());
    }
    Some(match v {
        Value::Bytes(_) => return None,
        Value::Double(d) if !d.is_finite() => return None,
        Value::List(items) => Value::list(items.iter().map(as_if_json).collect::<Option<_>>()?),
        Value::Map(m) => Value::map(
            m.iter()
                .map(|(k, v)| Some((k.clone(), as_if_json(v)?)))
                .collect::<Option<Vec<_>>>()?,
        ),
        scalar => scalar.clone(),
    })
}

/// Whether `v` has a JSON form and every list and map in it is measured as a fresh one
/// (its bytes and depth those of its elements): then JSON read back would make a value
/// equal to it in every respect.
fn json_fresh(v: &Value) -> bool {
    use wfsim_engine::value::SCALAR_BYTES;
    let fresh = |entries: &mut dyn Iterator<Item = (usize, &Value)>| {
        let (mut bytes, mut depth) = (SCALAR_BYTES, 1u32);
        for (key_bytes, item) in entries {
            if !json_fresh(item) {
                return false;
            }
            bytes = bytes.saturating_add(key_bytes + item.bytes());
            depth = depth.max(item.depth().saturating_add(1));
        }
        (bytes, depth) == (v.bytes(), v.depth())
    };
    match v {
        Value::Bytes(_) => false,
        Value::Double(d) => d.is_finite(),
        Value::List(items) => fresh(&mut items.iter().map(|i| (0, i))),
        Value::Map(m) => fresh(&mut m.iter().map(|(k, i)| (k.len(), i))),
        _ => true,
    }
}

/// [`secs`] as a value: a JSON float is a double.
fn secs_value(t: SimTime) -> Value {
    Value::Double(t.as_secs_f64())
}

/// [`calls_json`] of the run's own execution as a value, [`field_value`]'s `http_calls`.
fn calls_value(ex: &Execution) -> Value {
    let opt = |v: Option<Value>| v.unwrap_or(Value::Null);
    let calls = ex.http_calls();
    let attempts = attempts_of(ex, &calls);
    Value::list(
        calls
            .iter()
            .zip(attempts)
            .map(|(c, attempt)| {
                let k = str::to_owned;
                let answered_at = opt(c.answered_at.map(secs_value));
                let at = secs_value(c.at);
                let attempt = Value::Int(attempt.into());
                let error = opt(c.error.as_deref().map(Value::str));
                let status = opt(c.status.map(|s| Value::Int(s.into())));
                // Built from arrays in key order: no list to collect, nothing to sort.
                Value::from_btree(match &c.target {
                    Callee::Http(r) => BTreeMap::from([
                        (k("answered_at"), answered_at),
                        (k("at"), at),
                        (k("attempt"), attempt),
                        (k("error"), error),
                        (k("method"), Value::str(r.method.as_str())),
                        (k("status"), status),
                        (k("url"), Value::str(r.url.as_str())),
                    ]),
                    Callee::Connector { name, .. } => BTreeMap::from([
                        (k("answered_at"), answered_at),
                        (k("at"), at),
                        (k("attempt"), attempt),
                        (k("call"), Value::str(name.as_str())),
                        (k("error"), error),
                        (k("status"), status),
                    ]),
                })
            })
            .collect(),
    )
}

/// The report's `result`, `error` and `stack`.
fn outcome_json(ex: &Execution) -> (Json, Json, Json) {
    match ex.outcome() {
        Some(Outcome::Succeeded(v)) => (v.to_json().unwrap_or(Json::Null), Json::Null, Json::Null),
        Some(Outcome::Failed(f)) => (
            Json::Null,
            f.error
                .to_json()
                .unwrap_or_else(|_| Json::String(show(&f.error))),
            stack_json(&f.stack),
        ),
        _ => (Json::Null, Json::Null, Json::Null),
    }
}

fn logs_json(ex: &Execution, off: SimTime) -> Vec<Json> {
    ex.logs()
        .iter()
        .map(|l| match &l.payload {
            LogPayload::Text(t) => {
                json!({"at": secs(at(off, l.at)), "severity": l.severity, "text": t})
            }
            LogPayload::Data(d) => json!({
                "at": secs(at(off, l.at)),
                "severity": l.severity,
                "data": d.to_json().unwrap_or_else(|_| Json::String(show(d))),
            }),
        })
        .collect()
}

fn requests_json(run: &Run) -> Vec<Json> {
    run.requests
        .iter()
        .map(|r| {
            let mut o = json!({
                "at": secs(r.at),
                "endpoint": r.endpoint,
                "service": r.service,
                "method": r.method,
                "status": r.status,
                "taken_at": r.taken_at.map_or(Json::Null, secs),
            });
            // A request to a child says which (HT-10); the run's own need not.
            if r.execution != 0 {
                o.as_object_mut()
                    .expect("an object")
                    .insert("execution".into(), json!(r.execution));
            }
            o
        })
        .collect()
}

/// The indexes in `requests` of those answered 200 whose request no await ever took: the
/// answer told the sender it was delivered, and the workflow never saw it.
fn accepted_never_taken(run: &Run) -> Json {
    run.requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == 200 && r.taken_at.is_none())
        .map(|(i, _)| json!(i))
        .collect()
}

/// Per outbound call (by index), which send of one logical call it is: 1, or, when the
/// last back-off on its thread came after a send of the same call (method and URL, or
/// connector) and no send of that call has been answered since the back-off, that send's
/// number plus one. It is what a `retry` makes of a failing call, read off the trace; an
/// answer ends the chain, so the next turn of a loop starts again at 1.
pub fn attempts(ex: &Execution) -> Vec<u32> {
    attempts_of(ex, &ex.http_calls())
}

/// [`attempts`], given `ex`'s calls.
fn attempts_of(ex: &Execution, calls: &[wfsim_engine::http::CallRecord]) -> Vec<u32> {
    let mut out = vec![1; calls.len()];
    let trace = ex.trace();
    // Without a back-off every send is a first.
    if !trace
        .iter()
        .any(|(_, e)| matches!(e, Trace::Backoff { .. }))
    {
        return out;
    }
    // Each call's key, made once: the events of a call name it twice.
    let keys: Vec<String> = calls.iter().map(|c| c.target.describe()).collect();
    // Per thread: the sends of the attempt before the last back-off, and those since.
    let mut before: BTreeMap<u64, BTreeMap<&str, u32>> = BTreeMap::new();
    let mut since: BTreeMap<u64, BTreeMap<&str, u32>> = BTreeMap::new();
    for (_, event) in &trace {
        match event {
            Trace::HttpSent { thread, call } => {
                let key = keys[call.0 as usize].as_str();
                let n = before
                    .get(&thread.0)
                    .and_then(|b| b.get(key))
                    .map_or(1, |n| n + 1);
                out[call.0 as usize] = n;
                since.entry(thread.0).or_default().insert(key, n);
            }
            Trace::HttpAnswered { thread, call } => {
                let key = keys[call.0 as usize].as_str();
                if let Some(b) = before.get_mut(&thread.0) {
                    b.remove(key);
                }
            }
            Trace::Backoff { thread, .. } => {
                let sent = since.remove(&thread.0).unwrap_or_default();
                before.insert(thread.0, sent);
            }
            _ => {}
        }
    }
    out
}

pub fn http_calls(run: &Run) -> Vec<Json> {
    calls_json(&run.execution, SimTime::ZERO)
}

fn calls_json(ex: &Execution, off: SimTime) -> Vec<Json> {
    let calls = ex.http_calls();
    let attempts = attempts_of(ex, &calls);
    calls
        .iter()
        .zip(attempts)
        .map(|(c, attempt)| {
            let mut o = serde_json::Map::new();
            o.insert("at".into(), secs(at(off, c.at)));
            o.insert(
                "answered_at".into(),
                c.answered_at.map_or(Json::Null, |t| secs(at(off, t))),
            );
            match &c.target {
                Callee::Http(r) => {
                    o.insert("method".into(), json!(r.method));
                    o.insert("url".into(), json!(r.url));
                }
                Callee::Connector { name, .. } => {
                    o.insert("call".into(), json!(name));
                }
            }
            o.insert("status".into(), json!(c.status));
            o.insert("error".into(), json!(c.error));
            o.insert("attempt".into(), json!(attempt));
            Json::Object(o)
        })
        .collect()
}

/// The readable timeline: one line per event, `time  what`.
/// Each child (HT-10) follows the run's own, under a line that says which it is, its times
/// on the run's clock.
pub fn timeline(run: &Run) -> Vec<String> {
    let mine = |k: usize| run.requests.iter().filter(move |r| r.execution == k);
    let mut lines = timeline_of(&run.execution, mine(0), SimTime::ZERO);
    for (k, c) in run.children.iter().enumerate() {
        let id = c
            .execution
            .with_callbacks(|cbs| cbs.name().execution_id.clone());
        let by = c.parent.map_or(String::new(), |(p, call)| {
            let who = if p == 0 {
                "the workflow".to_owned()
            } else {
                format!("child {p}")
            };
            format!(" by {who}'s call {}", call.0)
        });
        lines.push(format!(
            "{:>12}  child {}: {} ({id}) started{by}",
            c.started_at.to_string(),
            k + 1,
            c.workflow
        ));
        lines.extend(
            timeline_of(&c.execution, mine(k + 1), c.started_at)
                .into_iter()
                .map(|l| format!("{l}  [child {}]", k + 1)),
        );
    }
    lines
}

fn timeline_of<'a>(
    ex: &Execution,
    requests: impl Iterator<Item = &'a crate::runner::RequestRecord>,
    off: SimTime,
) -> Vec<String> {
    let trace = ex.trace();
    let logs = ex.logs();
    let calls = ex.http_calls();
    let mut lines = Vec::new();
    let mut requests = requests.peekable();
    let endpoint_name = |e: EndpointIdx| format!("endpoint {}", e.0);
    for (pos, (at, event)) in trace.iter().enumerate() {
        while let Some(r) = requests.next_if(|r| r.trace_pos <= pos) {
            lines.push(request_line(r));
        }
        let what = match event {
            Trace::Log(i) => {
                let l = &logs[*i];
                format!("log {:<8} {}", l.severity, payload_text(&l.payload))
            }
            Trace::EndpointCreated(e) => ex.with_callbacks(|cbs| {
                let ep = cbs.endpoint(*e).expect("created");
                format!(
                    "{} created: {} {}",
                    endpoint_name(*e),
                    ep.method(),
                    ep.url()
                )
            }),
            Trace::AwaitTook {
                thread,
                endpoint,
                received_at,
            } => format!(
                "thread {}: await on {} took the request buffered at {received_at}",
                thread.0,
                endpoint_name(*endpoint)
            ),
            Trace::AwaitBlocked {
                thread,
                endpoint,
                timeout,
            } => format!(
                "thread {}: await on {} waits (timeout {})",
                thread.0,
                endpoint_name(*endpoint),
                SimTime::ZERO.saturating_add(*timeout)
            ),
            Trace::AwaitResumed { thread, endpoint } => {
                format!(
                    "thread {}: await on {} handed the request",
                    thread.0,
                    endpoint_name(*endpoint)
                )
            }
            Trace::AwaitTimedOut { thread, endpoint } => {
                format!(
                    "thread {}: await on {} timed out",
                    thread.0,
                    endpoint_name(*endpoint)
                )
            }
            Trace::Sleep { thread, until } => format!("thread {}: sleep until {until}", thread.0),
            Trace::Backoff {
                thread,
                attempt,
                until,
            } => {
                format!(
                    "thread {}: retry {attempt} after back-off, at {until}",
                    thread.0
                )
            }
            Trace::BranchStarted { thread, branch, .. } => {
                format!("branch '{branch}' started (thread {})", thread.0)
            }
            Trace::BranchEnded { thread, failed } => {
                format!(
                    "thread {} ended{}",
                    thread.0,
                    if *failed { " with an error" } else { "" }
                )
            }
            Trace::HttpSent { thread, call } => {
                let c = &calls[call.0 as usize];
                format!(
                    "thread {}: {call} sent: {} (timeout {})",
                    thread.0,
                    c.target.describe(),
                    SimTime::ZERO.saturating_add(c.timeout)
                )
            }
            Trace::HttpAnswered { thread, call } => {
                let c = &calls[call.0 as usize];
                let what = answer_text(c);
                format!("thread {}: {call} answered: {what}", thread.0)
            }
            Trace::HttpTimedOut { thread, call } => {
                format!("thread {}: {call} timed out", thread.0)
            }
            Trace::Ended { state } => {
                let detail = match ex.outcome() {
                    Some(Outcome::Succeeded(v)) => format!(" result: {}", show(v)),
                    Some(Outcome::Failed(f)) if f.stack.is_empty() => {
                        format!(" error: {}", show(f))
                    }
                    Some(Outcome::Failed(f)) => {
                        format!(" error: {} {}", show(f), stack_text(&f.stack, None))
                    }
                    _ => String::new(),
                };
                format!("execution {state}{detail}")
            }
        };
        lines.push(format!("{:>12}  {what}", self::at(off, *at).to_string()));
    }
    for r in requests {
        lines.push(request_line(r));
    }
    lines
}

/// What an answered outbound call got, in words: `status 200`, `ConnectionError: refused`.
pub fn answer_text(c: &wfsim_engine::http::CallRecord) -> String {
    match (c.status, &c.error, &c.message) {
        (Some(s), _, _) => format!("status {s}"),
        (None, Some(e), Some(m)) => format!("{e}: {m}"),
        (None, Some(e), None) => e.clone(),
        (None, None, _) => "an answer".to_owned(),
    }
}

fn request_line(r: &crate::runner::RequestRecord) -> String {
    let outcome = match (r.status, r.taken_at) {
        (200, Some(t)) if t == r.at => "taken by a waiting await".to_owned(),
        (200, Some(t)) => format!("buffered, taken at {t}"),
        (200, None) => "buffered, never taken".to_owned(),
        (_, _) => r.message.clone().unwrap_or_default(),
    };
    let to = r
        .endpoint
        .map_or("an unknown URL".to_owned(), |e| format!("endpoint {e}"));
    let from = r
        .service
        .map_or(String::new(), |s| format!("service {s} callback "));
    format!(
        "{:>12}  {from}request {} {to} -> {}  {outcome}",
        r.at.to_string(),
        r.method,
        r.status
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use wfsim_engine::defn::tree::{Syntax, parse as tree};

    fn run_with(workflow: &str, services: &str, script: &[crate::runner::ScriptedRequest]) -> Run {
        let wf = std::rc::Rc::new(wfsim_engine::defn::load("w.yaml", workflow).unwrap());
        let services = crate::services::parse(&tree(services, Syntax::Yaml).unwrap()).unwrap();
        crate::runner::run_with_services(
            wf,
            "w",
            &crate::runner::RunConfig::default(),
            script,
            &services,
        )
    }

    /// EXP-2's `attempt`: the sends of a retried body count up per call; a call that was
    /// answered without an error starts again at 1 (the loop's next turn), and so does one
    /// on another thread.
    #[test]
    fn exp_2_attempts_count_the_sends_of_one_call() {
        let run = run_with(
            "main:\n  steps:\n    - loop:\n        for:\n          value: i\n          range: [1, 2]\n          steps:\n            - a:\n                try:\n                  steps:\n                    - first:\n                        call: http.get\n                        args:\n                          url: https://a.example.com/x\n                    - second:\n                        call: http.get\n                        args:\n                          url: https://b.example.com/y\n                retry:\n                  predicate: ${http.default_retry_predicate}\n                  max_retries: 3\n                  backoff:\n                    initial_delay: 1\n                    max_delay: 10\n                    multiplier: 2\n    - side:\n        parallel:\n          branches:\n            - b1:\n                steps:\n                  - c:\n                      call: http.get\n                      args:\n                        url: https://b.example.com/y\n",
            "- match: {url: \"https://a.example.com/*\"}\n  respond: {status: 200}\n- match: {url: \"https://b.example.com/*\"}\n  respond: [{status: 503}, {status: 503}, {status: 200}]\n",
            &[],
        );
        assert_eq!(attempts(&run.execution), vec![1, 1, 2, 2, 3, 3, 1, 1, 1]);
        let json = http_calls(&run);
        assert_eq!(json[5]["attempt"], 3);
        assert_eq!(json[6]["attempt"], 1);
    }

    /// The fields built as values are what their JSON makes, measures included: results
    /// with doubles, a map changed in place, bytes (no JSON form), errors, retried and
    /// failed calls.
    #[test]
    fn exp_2_field_values_are_their_json_read_back() {
        let services = "- match: {url: \"https://a.example.com/*\"}\n  respond: [{status: 503}, {status: 200}]\n- match: {call: googleapis.pubsub.v1.projects.topics.publish}\n  respond: {body: {messageIds: [\"1\"]}}\n";
        let call = "    - c:\n        try:\n          call: http.get\n          args:\n            url: https://a.example.com/x\n        retry:\n          predicate: ${http.default_retry_predicate}\n          max_retries: 2\n          backoff: {initial_delay: 1, max_delay: 10, multiplier: 2}\n    - d:\n        try:\n          call: http.get\n          args:\n            url: https://nowhere.example.com/\n        except:\n          as: e\n          steps:\n            - ignored:\n                assign:\n                  - x: 1\n    - p:\n        call: googleapis.pubsub.v1.projects.topics.publish\n        args:\n          topic: projects/p/topics/t\n          body: {messages: []}\n";
        let endings = [
            "    - m:\n        assign:\n          - m: {a: [1, 2.5, \"x\", [[null]]], b: true}\n          - m.a: 0\n    - r:\n        return: ${m}\n",
            "    - r:\n        return: ${text.encode(\"hi\")}\n",
            "    - r:\n        raise: {code: 7, message: \"no\", tags: [\"A\"], extra: {x: -0.5}}\n",
            "    - r:\n        raise: ${text.encode(\"hi\")}\n",
            "    - e:\n        assign:\n          - e: {message: \"x\", b: null}\n          - e.b: ${text.encode(\"hi\")}\n    - r:\n        raise: ${e}\n",
            "    - r:\n        return: ${double(\"NaN\")}\n",
        ];
        for (k, end) in endings.iter().enumerate() {
            let calls = if k == 0 { call } else { "" };
            let run = run_with(&format!("main:\n  steps:\n{calls}{end}"), services, &[]);
            if k == 0 {
                let calls = run.execution.http_calls();
                assert_eq!(calls.len(), 4, "a retried call, a failed one, a connector");
                assert!(matches!(calls[3].target, Callee::Connector { .. }));
            }
            for name in crate::property::NAMES {
                let want = field_json(&run, name).map(|j| Value::from_json(&j));
                let got = field_value(&run, name);
                assert_eq!(got, want, "{name} of ending {k}");
                let measure = |v: &Option<Value>| v.as_ref().map(|v| (v.bytes(), v.depth()));
                assert_eq!(measure(&got), measure(&want), "{name} of ending {k}");
            }
        }
    }

    /// EXP-2's `requests_accepted_never_taken`: the indexes of the 200s no await took, not
    /// those taken, nor those refused.
    #[test]
    fn exp_2_requests_accepted_never_taken_lists_the_ignored() {
        let req = |at: u64, endpoint: u32| crate::runner::ScriptedRequest {
            at: SimTime::from_secs(at),
            endpoint,
            method: None,
            headers: Vec::new(),
            query: String::new(),
            body: Vec::new(),
            execution: None,
        };
        let run = run_with(
            "main:\n  steps:\n    - c:\n        call: events.create_callback_endpoint\n        result: cb\n    - w:\n        call: events.await_callback\n        args:\n          callback: ${cb}\n          timeout: 60\n    - s:\n        call: sys.sleep\n        args:\n          seconds: 10\n",
            "[]",
            &[req(1, 0), req(2, 0), req(3, 1), req(4, 0)],
        );
        let statuses: Vec<u16> = run.requests.iter().map(|r| r.status).collect();
        assert_eq!(statuses, vec![200, 200, 404, 429]);
        assert_eq!(accepted_never_taken(&run), json!([1]));
        assert_eq!(
            to_json(&run, &[])["requests_accepted_never_taken"],
            json!([1])
        );
        assert_eq!(
            field_json(&run, "requests_accepted_never_taken"),
            Some(json!([1]))
        );
    }

    /// Simulated times print exactly: a sleep to a deadline computed from `sys.now()` (a
    /// double of epoch seconds) ends at 7200 s, not 7200.000000048 s, in the timeline and
    /// in the JSON.
    #[test]
    fn times_computed_from_sys_now_print_without_float_noise() {
        let run = run_with(
            "main:\n  steps:\n    - t0:\n        assign:\n          - deadline: ${sys.now() + 7200}\n    - a:\n        call: sys.sleep\n        args:\n          seconds: 0.3\n    - s:\n        call: sys.sleep\n        args:\n          seconds: ${deadline - sys.now()}\n",
            "[]",
            &[],
        );
        let lines = timeline(&run);
        assert_eq!(lines[1].trim_start(), "0.3s  thread 0: sleep until 7200s");
        assert_eq!(to_json(&run, &[])["ended_at"].to_string(), "7200.0");
    }
}
