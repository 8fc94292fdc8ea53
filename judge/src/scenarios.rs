//! The fixture scenarios (`fixtures/scenarios`) over the wire: each workflow deployed through
//! the Workflows API, an execution started, the scripted requests sent at their instants,
//! then the end awaited and judged: statuses, state, result, error tags, when it ended,
//! and what CB-11 and EX-3 say of an execution that is over.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value as Json, json};
use wfsim_conformance::corpus::same_json;
use wfsim_conformance::rules::Rule;
use wfsim_engine::time::parse_rfc3339;
use wfsim_engine::{ExecutionState, SimTime, Value, WallClock};
use wfsim_harness::scenario::{self, Scenario};

use crate::Judge;

/// Starts an error that means "this cannot be judged here", not "this failed".
const SKIP: &str = "skip: ";

/// On the real clock, scenarios longer than this are skipped unless `--full-time`.
pub const REAL_TIME_BUDGET_NS: u64 = 5_000_000_000;

/// The rule a status of the slot rule is evidence for (SPEC §3's steps).
pub fn status_rule(status: u16) -> Option<Rule> {
    Some(match status {
        404 => Rule::Slot1,
        401 | 403 => Rule::Slot2,
        405 => Rule::Slot3,
        413 => Rule::Slot4,
        429 => Rule::Slot7,
        _ => return None,
    })
}

/// Why a scenario cannot run against a target over its API, if it cannot.
fn cannot_run(s: &Scenario) -> Option<&'static str> {
    if !s.services.is_empty() {
        return Some(
            "its outbound calls are answered by scripted services (HT-7), which a target cannot be given over its API",
        );
    }
    if s.covers.iter().any(|c| c.starts_with("HT-")) {
        return Some(
            "it makes outbound calls, answered in a scenario by its scripted services or their absence (HT-7); a live target calls the network",
        );
    }
    if !s.env.is_empty() {
        return Some("it sets user-defined environment variables, which the Executions API cannot");
    }
    if s.start_time != WallClock::DEFAULT {
        return Some("it fixes the wall clock at the start, which a live target's clock is not");
    }
    if s.seed != 0 {
        return Some("it expects the callback ids its seed draws (CB-2); a target draws its own");
    }
    None
}

/// Why the scenario's statuses at one instant are not a live target's to match: a request
/// that may wake an await, then another at the same instant. The scripted runner delivers
/// an instant's requests before any woken await runs; a live server runs it first (SPEC's
/// preface and CB-12 state both), so the later request may find the execution over.
fn same_instant_after_a_wake(s: &Scenario) -> Option<&'static str> {
    let wakes = s
        .requests
        .iter()
        .zip(&s.expect_status)
        .enumerate()
        .any(|(i, (r, st))| {
            st.is_none_or(|st| st == 200)
                && s.requests[i + 1..].iter().any(|later| later.at == r.at)
        });
    wakes.then_some(
        "a request that may wake an await, then another at the same instant: the scripted runner resumes the await after the instant's last request, a live API before answering the next (SPEC preface, CB-12)",
    )
}

/// Every scenario under `dir`, in name order.
pub async fn run_all(j: &mut Judge<'_>, dir: &Path) -> Result<(), String> {
    let mut deployed = BTreeSet::new();
    for path in wfsim_conformance::fixtures::files(dir, "yaml") {
        run_one(j, &path, &mut deployed).await?;
    }
    Ok(())
}

fn rules_of(s: &Scenario) -> Vec<Rule> {
    s.covers.iter().filter_map(|id| Rule::from_id(id)).collect()
}

/// A workflow id for a file: `judge_` and its name, `.` made `_`.
pub fn workflow_id(file: &Path) -> String {
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("judge_{clean}")
}

/// Deploys `text` as workflow `id` (an update if it exists); `Err` says why it did not.
pub async fn deploy(j: &Judge<'_>, id: &str, text: &str) -> Result<(), String> {
    let t = j.target;
    let body = serde_json::to_vec(&json!({"sourceContents": text})).unwrap_or_default();
    let parent = t.parent();
    let res = t
        .send(
            "POST",
            &format!("{parent}/workflows?workflowId={id}"),
            body.clone(),
        )
        .await?;
    let res = if res.status == 409 {
        t.send(
            "PATCH",
            &format!("{parent}/workflows/{id}?updateMask=sourceContents"),
            body,
        )
        .await?
    } else {
        res
    };
    if res.status != 200 {
        return Err(format!(
            "deploying {id} answered {} {}",
            res.status,
            res.text()
        ));
    }
    if res.json()["error"].is_object() {
        return Err(format!(
            "deploying {id}: the operation failed: {}",
            res.text()
        ));
    }
    Ok(())
}

/// Starts an execution of `id` with `argument`; its resource name (`projects/…`).
pub async fn execute(j: &Judge<'_>, id: &str, argument: Option<&Json>) -> Result<String, String> {
    let t = j.target;
    let body = match argument {
        Some(a) => serde_json::to_vec(&json!({"argument": a.to_string()})).unwrap_or_default(),
        None => Vec::new(),
    };
    let res = t
        .send(
            "POST",
            &format!("{}/workflows/{id}/executions", t.parent()),
            body,
        )
        .await?;
    let name = res.json()["name"].as_str().map(str::to_owned);
    match name {
        Some(n) if res.status == 200 => Ok(n),
        _ => Err(format!(
            "starting {id} answered {} {}",
            res.status,
            res.text()
        )),
    }
}

/// The execution resource.
pub async fn get(j: &Judge<'_>, name: &str) -> Result<Json, String> {
    let res = j
        .target
        .send("GET", &format!("/v1/{name}"), Vec::new())
        .await?;
    if res.status != 200 {
        return Err(format!(
            "GET /v1/{name} answered {} {}",
            res.status,
            res.text()
        ));
    }
    Ok(res.json())
}

/// Lets the execution run to its end: driven, timer by timer; real, by polling until
/// `limit_ns` after `t0`. The resource at the end (or as it stands when time ran out).
pub async fn run_to_end(
    j: &mut Judge<'_>,
    name: &str,
    t0: i128,
    limit_ns: u64,
) -> Result<Json, String> {
    for _ in 0..100_000 {
        let e = get(j, name).await?;
        if e["state"] != "ACTIVE" {
            return Ok(e);
        }
        if j.clock.driven() {
            let Some(next) = j.clock.next_deadline(j.target).await? else {
                return Ok(e);
            };
            // Past the deadline by a nanosecond: the timer fires at its own instant.
            j.clock.advance_to(j.target, next + 1, false).await?;
        } else {
            let now = j.clock.now(j.target).await?;
            if now - t0 > i128::from(limit_ns) {
                return Ok(e);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    get(j, name).await
}

/// CB-13 over the wire: 200 is `{}`; anything else is the Google error shape with a message.
pub fn answer_shape(status: u16, body: &Json) -> Result<(), String> {
    if status == 200 {
        return if body == &json!({}) {
            Ok(())
        } else {
            Err(format!("200 with the body {body}, expected {{}}"))
        };
    }
    let e = &body["error"];
    let code_ok = e["code"].as_u64() == Some(u64::from(status));
    let status_ok = e["status"].as_str().is_some_and(|s| !s.is_empty());
    let message_ok = e["message"].as_str().is_some_and(|s| !s.is_empty());
    if code_ok && status_ok && message_ok {
        Ok(())
    } else {
        Err(format!(
            "{status} with the body {body}, expected {{\"error\": {{\"code\": {status}, \"status\", \"message\"}}}}"
        ))
    }
}

fn secs(ns: i128) -> String {
    format!("t={}s", ns as f64 / 1e9)
}

async fn run_one(
    j: &mut Judge<'_>,
    path: &Path,
    deployed: &mut BTreeSet<String>,
) -> Result<(), String> {
    let file = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let source = format!("scenario {file}");
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let s = scenario::parse(&text)
        .map_err(|e| format!("{}:{}: {}", path.display(), e.pos, e.message))?;
    let rules = rules_of(&s);
    if let Some(reason) = cannot_run(&s) {
        for &r in &rules {
            j.tally.skip(r, &file, reason);
        }
        return Ok(());
    }
    let span = s
        .requests
        .iter()
        .map(|r| r.at)
        .chain(s.cancel_at)
        .chain(s.expect.ended_at)
        .max()
        .map_or(0, |t| t.as_nanos());
    if !j.clock.driven() && span > REAL_TIME_BUDGET_NS && !j.full_time {
        let reason = format!(
            "it spans {}s; the target has no clock API and this runs in real time only with --full-time",
            span as f64 / 1e9
        );
        for &r in &rules {
            j.tally.skip(r, &file, &reason);
        }
        return Ok(());
    }
    if let Some(reason) = same_instant_after_a_wake(&s) {
        for &r in &rules {
            j.tally.skip(r, &file, reason);
        }
        return Ok(());
    }
    let workflow_path = path.parent().unwrap_or(Path::new(".")).join(&s.workflow);
    let workflow_text = std::fs::read_to_string(&workflow_path).map_err(|e| {
        format!(
            "{}:{}: {}: {e}",
            path.display(),
            s.workflow_pos,
            workflow_path.display()
        )
    })?;
    let id = workflow_id(&workflow_path);
    let t = j.target;
    t.take_log();
    t.set_instant(None);
    let mut failures: Vec<(Vec<Rule>, String)> = Vec::new();
    let mut passes: Vec<Rule> = Vec::new();
    let result: Result<(), String> = async {
        if !deployed.contains(&id) {
            deploy(j, &id, &workflow_text).await?;
            deployed.insert(id.clone());
        }
        let argument = match &s.argument {
            Some(v) => Some(v.to_json().map_err(|e| format!("the argument: {e}"))?),
            None => None,
        };
        let t0 = j.clock.now(t).await?;
        let name = execute(j, &id, argument.as_ref()).await?;
        let start = get(j, &name).await?;
        let started = start["startTime"].as_str().and_then(parse_rfc3339);
        // Events in time order, requests before a cancel of the same instant.
        let mut events: Vec<(u64, usize)> = s
            .requests
            .iter()
            .enumerate()
            .map(|(i, r)| (r.at.as_nanos(), i))
            .collect();
        if let Some(c) = s.cancel_at {
            events.push((c.as_nanos(), usize::MAX));
        }
        events.sort_by_key(|&(at, i)| (at, i));
        let mut endpoints: Vec<(String, String)> = Vec::new();
        for (at, i) in events {
            t.set_instant(Some(secs(i128::from(at))));
            j.clock.advance_to(t, t0 + i128::from(at), true).await?;
            if i == usize::MAX {
                let res = t
                    .send("POST", &format!("/v1/{name}:cancel"), Vec::new())
                    .await?;
                if res.status == 200 {
                    passes.push(Rule::Ex3);
                } else {
                    failures.push((
                        vec![Rule::Ex3],
                        format!(
                            "a cancel at {} answered {}, expected 200",
                            secs(i128::from(at)),
                            res.status
                        ),
                    ));
                }
                continue;
            }
            let r = &s.requests[i];
            let idx = r.endpoint as usize;
            if idx >= endpoints.len() {
                learn_endpoints(j, &name, &mut endpoints, true).await?;
            }
            let (path, own_method) = match endpoints.get(idx) {
                Some((n, m)) => (format!("/v1/{n}"), m.clone()),
                None => (
                    format!("/v1/{name}/callbacks/judge-never-created-{idx}"),
                    "POST".to_owned(),
                ),
            };
            let method = r.method.clone().unwrap_or(own_method);
            let path = if r.query.is_empty() {
                path
            } else {
                format!("{path}?{}", r.query)
            };
            let res = t
                .send_with(&method, &path, &r.headers, r.body.clone())
                .await?;
            if method != "HEAD" {
                shape(&mut passes, &mut failures, res.status, &res.json());
            }
            if let Some(Some(want)) = s.expect_status.get(i) {
                let rule = status_rule(*want).map_or_else(|| rules.clone(), |r| vec![r]);
                if res.status == *want {
                    passes.extend(rule);
                } else {
                    failures.push((
                        rule,
                        format!(
                            "request {i} at {} answered {}, expected {want}",
                            secs(i128::from(at)),
                            res.status
                        ),
                    ));
                }
            }
        }
        t.set_instant(None);
        let limit = span.max(REAL_TIME_BUDGET_NS) + 2_000_000_000;
        let end = run_to_end(j, &name, t0, limit).await?;
        judge_end(
            &s,
            &rules,
            &end,
            started,
            j.clock.driven(),
            &mut passes,
            &mut failures,
        );
        if end["state"] != "ACTIVE" {
            t.set_instant(Some("after end".into()));
            learn_endpoints(j, &name, &mut endpoints, false).await?;
            after_end(j, &name, &endpoints, &mut passes, &mut failures).await?;
            t.set_instant(None);
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {}
        Err(e) => match e.strip_prefix(SKIP) {
            Some(reason) => {
                for &r in &rules {
                    j.tally.skip(r, &file, reason);
                }
            }
            None => failures.push((rules.clone(), e)),
        },
    }
    let transcript: Vec<String> = t
        .take_log()
        .into_iter()
        .filter(|l| !l.contains("GET /v1/wfsim/clock"))
        .collect();
    let failures = failures
        .into_iter()
        .flat_map(|(rs, message)| rs.into_iter().map(move |r| (r, message.clone())));
    j.tally.record(passes, failures, &source, &transcript);
    if s.expect.logs.is_some() {
        j.tally.skip(
            Rule::Ex4,
            &file,
            "sys.log entries are not part of the Executions API",
        );
    }
    if s.expect.step_entries.is_some() {
        j.tally.skip(
            Rule::Ex8,
            &file,
            "its step entries are not read over the wire (the server's and the clients' tests judge stepEntries)",
        );
    }
    if s.expect.ended_at.is_some() && !j.clock.driven() {
        for &r in &rules {
            j.tally.skip(
                r,
                &file,
                "when it ended: on the real clock an instant is not exact (its other expectations were judged)",
            );
        }
    }
    Ok(())
}

fn shape(
    passes: &mut Vec<Rule>,
    failures: &mut Vec<(Vec<Rule>, String)>,
    status: u16,
    body: &Json,
) {
    match answer_shape(status, body) {
        Ok(()) => passes.push(Rule::Cb13),
        Err(e) => failures.push((vec![Rule::Cb13], e)),
    }
}

/// Adds the endpoints `callbacks.list` shows that are not known yet, in the order they
/// appear; when more than one is new, which came first is not said, so the scenario's
/// numbering may not be the target's.
async fn learn_endpoints(
    j: &Judge<'_>,
    name: &str,
    known: &mut Vec<(String, String)>,
    ordered: bool,
) -> Result<(), String> {
    let res = j
        .target
        .send("GET", &format!("/v1/{name}/callbacks"), Vec::new())
        .await?;
    if res.status != 200 {
        return Err(format!(
            "callbacks.list answered {} {}",
            res.status,
            res.text()
        ));
    }
    let list = res.json();
    let fresh: Vec<(String, String)> = list["callbacks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            Some((
                c["name"].as_str()?.to_owned(),
                c["method"].as_str()?.to_owned(),
            ))
        })
        .filter(|(n, _)| !known.iter().any(|(k, _)| k == n))
        .collect();
    if fresh.len() > 1 && ordered {
        return Err(format!(
            "{SKIP}{} endpoints appeared between two requests; callbacks.list does not say which was created first",
            fresh.len()
        ));
    }
    known.extend(fresh);
    Ok(())
}

fn judge_end(
    s: &Scenario,
    rules: &[Rule],
    end: &Json,
    started: Option<i128>,
    driven: bool,
    passes: &mut Vec<Rule>,
    failures: &mut Vec<(Vec<Rule>, String)>,
) {
    let mut check = |ok: bool, message: String| {
        if ok {
            passes.extend(rules.iter().copied());
        } else {
            failures.push((rules.to_vec(), message));
        }
    };
    let want_state = s.expect.state.unwrap_or(ExecutionState::Succeeded).as_str();
    let state = end["state"].as_str().unwrap_or("(none)");
    check(
        state == want_state,
        format!("the execution is {state}, expected {want_state}"),
    );
    if let Some(want) = &s.expect.result {
        let got = end["result"]
            .as_str()
            .and_then(|r| serde_json::from_str::<Json>(r).ok());
        match (got, want.to_json()) {
            (Some(g), Ok(w)) => {
                // Times in the expected result, moved to the target's calendar.
                let delta = started.unwrap_or(0) - WallClock::DEFAULT.unix_nanos_at(SimTime::ZERO);
                let w = crate::wall::shift(&w, delta);
                check(same_json(&g, &w), format!("result {g}, expected {w}"));
            }
            (Some(g), Err(_)) => {
                let gv = Value::from_json(&g);
                check(
                    wfsim_engine::expr::eval::equal(&gv, want),
                    format!("result {g}, expected {}", wfsim_engine::value::show(want)),
                );
            }
            (None, _) => check(
                false,
                format!("no result, expected {}", wfsim_engine::value::show(want)),
            ),
        }
    }
    if let Some(want) = &s.expect.error_tags {
        let payload = end["error"]["payload"]
            .as_str()
            .and_then(|p| serde_json::from_str::<Json>(p).ok())
            .unwrap_or(Json::Null);
        let got: Vec<String> = payload["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect();
        check(
            &got == want,
            format!("error tags {got:?}, expected {want:?}"),
        );
    }
    if let Some(want) = s.expect.ended_at {
        if driven {
            let ended = end["endTime"].as_str().and_then(parse_rfc3339);
            match (started, ended) {
                (Some(a), Some(b)) => {
                    let got = b - a;
                    check(
                        got == i128::from(want.as_nanos()),
                        format!(
                            "ended {}s after it started, expected {}s",
                            got as f64 / 1e9,
                            want.as_nanos() as f64 / 1e9
                        ),
                    );
                }
                _ => check(
                    false,
                    format!("no startTime and endTime to compare with ended_at {want}"),
                ),
            }
        }
    }
}

/// CB-11 and EX-3 on an execution that is over: nothing held, every request 404, a cancel
/// 400.
async fn after_end(
    j: &Judge<'_>,
    name: &str,
    endpoints: &[(String, String)],
    passes: &mut Vec<Rule>,
    failures: &mut Vec<(Vec<Rule>, String)>,
) -> Result<(), String> {
    let t = j.target;
    let res = t
        .send("GET", &format!("/v1/{name}/callbacks"), Vec::new())
        .await?;
    for c in res.json()["callbacks"].as_array().into_iter().flatten() {
        let held = |k: &str| c[k].as_str().unwrap_or("0") != "0" && !c[k].is_null();
        if held("waiters") || held("availablePayloads") {
            failures.push((
                vec![Rule::Cb11],
                format!(
                    "after the end, callbacks.list shows {} with waiters {} and availablePayloads {}; an ended execution holds nothing",
                    c["name"], c["waiters"], c["availablePayloads"]
                ),
            ));
        } else {
            passes.push(Rule::Cb11);
        }
    }
    for (n, method) in endpoints {
        let res = t
            .send_with(method, &format!("/v1/{n}"), &[], Vec::new())
            .await?;
        if method != "HEAD" {
            shape(passes, failures, res.status, &res.json());
        }
        if res.status == 404 {
            passes.extend([Rule::Cb11, Rule::Slot1]);
        } else {
            failures.push((
                vec![Rule::Cb11, Rule::Slot1],
                format!(
                    "a request after the end answered {}, expected 404",
                    res.status
                ),
            ));
        }
    }
    let res = t
        .send("POST", &format!("/v1/{name}:cancel"), Vec::new())
        .await?;
    if res.status == 400 {
        passes.push(Rule::Ex3);
    } else {
        failures.push((
            vec![Rule::Ex3],
            format!(
                "a cancel after the end answered {}, expected 400",
                res.status
            ),
        ));
    }
    Ok(())
}
