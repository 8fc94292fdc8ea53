//! The corpus of `fixtures/corpus`: workflow definitions from public emulator test suites
//! and Google's samples, each with the result another emulator expects. It checks the
//! interpreter from outside; where a case disagrees with SPEC.md, SPEC.md wins, and
//! [`KNOWN_DIVERGENCES`] says why.

use std::fs;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde_json::Value as Json;
use wfsim_engine::callbacks::Auth;
use wfsim_engine::error::tags;
use wfsim_engine::interp::{Execution, ExecutionConfig, Outcome};
use wfsim_engine::stdlib::LogPayload;
use wfsim_engine::{CallbackRequest, ExecutionState, Value, defn};
use wfsim_harness::runner::execution_name;

/// Cases whose expectation wfsim does not share, and why.
pub const KNOWN_DIVERGENCES: &[(&str, &str)] = &[];

/// Where the corpus is: `WFSIM_CORPUS` if set (another copy, a larger one), else the
/// project's own `fixtures/corpus`.
pub fn default_dir() -> PathBuf {
    match std::env::var_os("WFSIM_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => crate::fixtures::dir().join("corpus"),
    }
}

/// The case names `SOURCES.md` lists under `## cases/`, in its order: the corpus as it
/// should be, so that a case file lost in a copy is noticed, not silently skipped.
pub fn listed_cases(dir: &Path) -> Result<Vec<String>, String> {
    let path = dir.join("SOURCES.md");
    let text =
        fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut in_cases = false;
    let mut names = Vec::new();
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            in_cases = heading.trim() == "cases/";
        } else if in_cases {
            let Some(row) = line.strip_prefix("| ") else {
                continue;
            };
            let name = row.split('|').next().unwrap_or_default().trim();
            if !name.is_empty() && name != "Case" && !name.starts_with('-') {
                names.push(name.to_owned());
            }
        }
    }
    Ok(names)
}

#[derive(Debug)]
pub struct CaseOutcome {
    pub name: String,
    /// `None` when the case agrees.
    pub disagreement: Option<String>,
}

/// Runs every `cases/*.yaml` under `dir`, in name order.
pub fn run_all(dir: &Path) -> Result<Vec<CaseOutcome>, String> {
    let cases = dir.join("cases");
    let mut names: Vec<PathBuf> = fs::read_dir(&cases)
        .map_err(|e| format!("cannot read {}: {e}", cases.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    names.sort();
    Ok(names.iter().map(|p| run_case(p)).collect())
}

fn run_case(path: &Path) -> CaseOutcome {
    let name = path
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let disagreement = check_case(path).err();
    CaseOutcome { name, disagreement }
}

fn check_case(path: &Path) -> Result<(), String> {
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    let expected_path = path.with_extension("expected.json");
    let expected: Json = serde_json::from_str(
        &fs::read_to_string(&expected_path)
            .map_err(|e| format!("{}: {e}", expected_path.display()))?,
    )
    .map_err(|e| e.to_string())?;
    let file = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let workflow = match defn::load(&file, &text) {
        Ok(w) => w,
        Err(errors) => {
            if expected.get("reject") == Some(&Json::Bool(true)) {
                return Ok(());
            }
            return Err(format!("rejected at deploy: {}", errors[0]));
        }
    };
    let argument = expected
        .get("argument")
        .filter(|a| !a.is_null())
        .map(Value::from_json);
    let mut ex = Execution::start(
        Rc::new(workflow),
        ExecutionConfig {
            argument,
            ..ExecutionConfig::new(execution_name("corpus", 0))
        },
    );
    drive(
        &mut ex,
        expected
            .get("callbacks")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default(),
    )?;
    compare(&ex, &expected)
}

/// Delivers each scripted callback as soon as some await waits, then lets time run.
fn drive(ex: &mut Execution, callbacks: Vec<Json>) -> Result<(), String> {
    let mut queue = callbacks.into_iter();
    let mut next = queue.next();
    for _ in 0..1_000_000 {
        if ex.state() != ExecutionState::Active {
            return Ok(());
        }
        if let Some(cb) = &next {
            let waiting = ex.with_callbacks(|cbs| {
                cbs.endpoints()
                    .iter()
                    .find(|e| e.waiters().len() > 0)
                    .map(|e| (e.callback_id().to_owned(), e.method().as_str().to_owned()))
            });
            if let Some((id, method)) = waiting {
                let (headers, body) = callback_parts(cb);
                let request = CallbackRequest {
                    method: cb
                        .get("method")
                        .and_then(Json::as_str)
                        .unwrap_or(&method)
                        .to_owned(),
                    path: format!("/callbacks/{id}"),
                    headers,
                    query: String::new(),
                    body,
                };
                let now = ex.now();
                if let Err(refused) = ex.deliver(now, &id, Auth::Granted, request) {
                    return Err(format!("the scripted callback was refused: {refused}"));
                }
                ex.handle_timeout(now);
                next = queue.next();
                continue;
            }
        }
        match ex.poll_timeout() {
            Some(t) => ex.settle(t).map_err(|l| l.to_string())?,
            None => return Ok(()),
        }
    }
    Err("the execution did not settle within the loop budget".into())
}

fn compare(ex: &Execution, expected: &Json) -> Result<(), String> {
    let outcome = ex.outcome().ok_or("the execution did not end")?;
    if let Some(want) = expected.get("result") {
        match outcome {
            Outcome::Succeeded(v) => {
                let got = v.to_json().map_err(|e| e.to_string())?;
                if !same_json(&got, want) {
                    return Err(format!("result {got}, expected {want}"));
                }
            }
            other => return Err(format!("expected a result, got {}", describe(other))),
        }
    }
    if let Some(want) = expected.get("result_subset") {
        match outcome {
            Outcome::Succeeded(v) => {
                let got = v.to_json().map_err(|e| e.to_string())?;
                if !subset(want, &got) {
                    return Err(format!("result {got} does not contain {want}"));
                }
            }
            other => return Err(format!("expected a result, got {}", describe(other))),
        }
    }
    if let Some(want) = expected.get("error_tags").and_then(Json::as_array) {
        match outcome {
            Outcome::Failed(e) => {
                let got = tags(e);
                for t in want {
                    let t = t.as_str().unwrap_or_default();
                    if !got.iter().any(|g| g == t) {
                        return Err(format!("error tags {got:?} lack {t}"));
                    }
                }
                if let Some(sub) = expected.get("error") {
                    let got = e.to_json().map_err(|e| e.to_string())?;
                    if !subset(sub, &got) {
                        return Err(format!("error {got} does not contain {sub}"));
                    }
                }
            }
            other => return Err(format!("expected failure, got {}", describe(other))),
        }
    }
    if expected.get("reject") == Some(&Json::Bool(true)) && !matches!(outcome, Outcome::Failed(_)) {
        return Err(format!("expected rejection, got {}", describe(outcome)));
    }
    if let Some(want) = expected.get("logs_subset").and_then(Json::as_array) {
        let logs = ex.logs();
        let mut it = logs.iter();
        for w in want {
            let sev = w.get("severity").and_then(Json::as_str);
            let prefix = w.get("text_prefix").and_then(Json::as_str).unwrap_or("");
            let found = it.any(|l| {
                sev.is_none_or(|s| s == l.severity)
                    && matches!(&l.payload, LogPayload::Text(t) if t.starts_with(prefix))
            });
            if !found {
                return Err(format!("no log {w} (in order)"));
            }
        }
    }
    Ok(())
}

fn describe(o: &Outcome) -> String {
    match o {
        Outcome::Succeeded(v) => format!("SUCCEEDED with {v:?}"),
        Outcome::Failed(e) => format!("FAILED with {:?}", e.error),
        Outcome::Cancelled => "CANCELLED".into(),
    }
}

/// Equal JSON, numbers compared as doubles (3 == 3.0), key order ignored.
pub fn same_json(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// Every key of `want` is in `got` with a value that is itself a subset.
pub fn subset(want: &Json, got: &Json) -> bool {
    match (want, got) {
        (Json::Object(w), Json::Object(g)) => w
            .iter()
            .all(|(k, v)| g.get(k).is_some_and(|gv| subset(v, gv))),
        _ => same_json(want, got),
    }
}

/// A corpus case's callback (`{headers, body}`) as the request's headers and body: a string
/// body as it is, any other JSON as its text.
pub fn callback_parts(cb: &Json) -> (Vec<(String, String)>, Vec<u8>) {
    let headers = cb
        .get("headers")
        .and_then(Json::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    let body = match cb.get("body") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::String(s)) => s.clone().into_bytes(),
        Some(other) => other.to_string().into_bytes(),
    };
    (headers, body)
}
