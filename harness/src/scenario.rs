//! Scenarios (`fixtures/scenarios/*.yaml`): a workflow, requests sent from outside at
//! simulated times, and what should happen.
//!
//! ```yaml
//! workflow: ../workflows/basic_callback.yaml   # relative to this file
//! seed: 0                                      # optional, default 0
//! argument: {who: "Ada"}                       # optional execution argument
//! start_time: "2024-01-01T00:00:00Z"           # optional simulated wall clock at t = 0
//! project: my-project                          # optional, default wfsim: the execution's
//! location: europe-west1                       # project and location (GOOGLE_CLOUD_PROJECT_ID,
//!                                              # GOOGLE_CLOUD_LOCATION, callback URLs)
//! requests:                                    # sent from outside, at simulated times
//!   - at: 5                                    # seconds since start (decimals allowed)
//!     endpoint: 0                              # endpoints numbered in creation order
//!     method: GET                              # optional, default: the endpoint's method
//!     headers: {Content-Type: application/json} # optional
//!     query: "a=1&a=2"                         # optional raw query string
//!     body: '{"foo": "bar"}'                   # optional: a string is sent as written;
//!                                              # a map or list as JSON (and its type)
//!     expect: 200                              # optional expected status
//!     execution: child                         # optional: a child's endpoint (HT-10), by
//!                                              # workflow name or start index (1 the first)
//! workflows: {child: child.yaml}               # optional: child workflows' files (HT-10);
//!                                              # else NAME.yaml|.yml|.json beside the workflow
//! services: [...]                              # optional: scripted services, see `services`
//! env: {REGION: eu, TIER: gold}                # optional: sys.get_env's variables
//! cancel_at: 100                               # optional
//! expect:                                      # all optional
//!   state: SUCCEEDED                           # when not given: SUCCEEDED
//!   result: {...}
//!   error_tags: [TimeoutError]
//!   ended_at: 5
//!   logs: [{at: 0, severity: INFO, text: "..."}]  # the exact sequence, when given
//!   http_calls: [{at: 0, url: "https://…", status: 200}]  # the sequence, each entry on
//!                                                # the keys it gives (HT-8)
//!   step_entries:                                # EX-8: the history, in order, other entries
//!     - {step: init, state: SUCCEEDED}           # between allowed; each on the keys it gives:
//!     - {step: loop, type: FOR_ITERATION, progress: 2}  # step, routine, type, state,
//!     - {step: add, variables: {total: 3}}       # progress, variables (a subset; asks for
//!                                                # a DETAILED history)
//!   holds: ['${state == "SUCCEEDED"}']           # properties of the run (EXP-2): each must
//!                                                # evaluate to true, or routines
//!                                                # `name: {params: [run], steps}` that return
//!                                                # true (`crate::property`)
//! covers: [CB-5, CB-6]                         # wfsim's addition: the rules it shows
//! ```
//!
//! The same map may be written as JSON. A file is a scenario by its content, not its name
//! ([`recognise`]): a map with `workflow` and no `main`.
//!
//! One file, though long: the format, where each part is written ([`Layout`], which
//! messages and `wfsim test --update` read) and the judging ([`check_located`]) change
//! together, key by key; a fifth of it is their tests.

use crate::doc::{self, DocError, err, map, string};
use crate::report::payload_text;
use crate::runner::{ExecutionSel, Run, RunConfig, ScriptedRequest};
use wfsim_engine::callbacks::ExecutionState;
use wfsim_engine::defn::tree::{self, Node, Pos, Syntax};
use wfsim_engine::error::tags;
use wfsim_engine::interp::{Outcome, StepEntry};
use wfsim_engine::stdlib::LogPayload;
use wfsim_engine::time::{SimTime, WallClock, parse_rfc3339};
use wfsim_engine::value::{Value, show};

#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// As written: relative to the scenario file.
    pub workflow: String,
    /// Where `workflow` names it, for errors about the workflow file.
    pub workflow_pos: Pos,
    pub seed: u64,
    pub argument: Option<Value>,
    pub start_time: WallClock,
    pub requests: Vec<ScriptedRequest>,
    /// Expected status per request, by index.
    pub expect_status: Vec<Option<u16>>,
    pub cancel_at: Option<SimTime>,
    /// The execution's project and location; `None`: `wfsim`, `us-central1`.
    pub project: Option<String>,
    pub location: Option<String>,
    /// The outside world's answers to outbound calls (HT-7).
    pub services: Vec<crate::services::Service>,
    /// User-defined environment variables (`sys.get_env`).
    pub env: std::collections::BTreeMap<String, String>,
    /// Child workflows by name (HT-10): the file as written (relative to the scenario) and
    /// where.
    pub workflows: std::collections::BTreeMap<String, (String, Pos)>,
    pub expect: Expect,
    pub covers: Vec<String>,
    /// Where things are written: what `wfsim test` names a broken expectation by, and
    /// where `wfsim test --update` edits the text.
    pub layout: Layout,
}

/// Where a scenario's parts are written, for messages and for editing the text in place.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    /// The document's first node.
    pub root: Pos,
    /// The `expect:` key and its value.
    pub expect: Option<(Pos, Pos)>,
    /// Each key of `expect:`: its name, where the key and where its value are written.
    pub expect_keys: Vec<(String, Pos, Pos)>,
    /// Each request, in order.
    pub requests: Vec<RequestLayout>,
}

/// Where one request is written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestLayout {
    /// The request's map.
    pub item: Pos,
    /// Its first key.
    pub first_key: Pos,
    /// Its `expect:` key and value.
    pub expect: Option<(Pos, Pos)>,
}

impl Layout {
    /// Where the value of `expect.<key>` is written.
    pub fn expect_value(&self, key: &str) -> Option<Pos> {
        self.expect_keys
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|&(_, _, v)| v)
    }
}

/// A broken expectation and where the expectation is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub pos: Pos,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Expect {
    /// `None`: SUCCEEDED is expected all the same ([`check`]).
    pub state: Option<ExecutionState>,
    pub result: Option<Value>,
    pub error_tags: Option<Vec<String>>,
    pub ended_at: Option<SimTime>,
    pub logs: Option<Vec<ExpectedLog>>,
    /// HT-8: each entry a map of some of `at`, `answered_at`, `method`, `url`, `call`,
    /// `status`, `error`, compared with the report's entry on those keys.
    pub http_calls: Option<Vec<ExpectedCall>>,
    /// EX-8: step entries expected in this order, others allowed between them.
    pub step_entries: Option<Vec<ExpectedEntry>>,
    /// EXP-2: properties of the finished run that must be true.
    pub holds: Vec<crate::property::Property>,
}

/// EX-8: an expected step entry: the keys it gives, each compared with an entry's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExpectedEntry {
    /// Where it is written, for the failure.
    pub pos: Pos,
    pub step: Option<String>,
    pub routine: Option<String>,
    /// The API's names, prefixed (`STEP_ASSIGN`, `STATE_SUCCEEDED`).
    pub step_type: Option<&'static str>,
    pub state: Option<&'static str>,
    /// The iteration, case, retry or branch it counts (`progressNumber`).
    pub progress: Option<u32>,
    /// Variables in scope (`variableData`), each equal as the language compares; others
    /// may be there too.
    pub variables: Option<Vec<(String, Value)>>,
}

/// HT-8: an expected outbound call: the keys it gives, each with the report's value.
pub type ExpectedCall = Vec<(String, serde_json::Value)>;

#[derive(Clone, Debug, PartialEq)]
pub struct ExpectedLog {
    pub at: SimTime,
    pub severity: String,
    pub payload: LogPayload,
}

impl Scenario {
    pub fn run_config(&self) -> RunConfig {
        RunConfig {
            seed: self.seed,
            argument: self.argument.clone(),
            clock: self.start_time,
            cancel_at: self.cancel_at,
            env: self.env.clone(),
            // EX-8: the history only when an expectation reads it; its variables only
            // when one names them (a DETAILED history keeps a copy per entry).
            step_entries: self.expect.step_entries.is_some(),
            step_variables: self
                .expect
                .step_entries
                .iter()
                .flatten()
                .any(|e| e.variables.is_some()),
            project: self.project.clone(),
            location: self.location.clone(),
        }
    }
}

/// A project or location: a segment of the execution's URL, so letters, digits and `-`.
fn path_segment(n: &Node, what: &str) -> Result<String, DocError> {
    let text = string(n, what)?;
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return err(
            n.pos,
            format!(
                "'{what}' is made of letters, digits and '-' (it is part of the execution's URL), not '{text}'"
            ),
        );
    }
    Ok(text)
}

fn seconds(n: &Node, what: &str) -> Result<SimTime, DocError> {
    let d = doc::seconds(n, what, "seconds since the start")?;
    Ok(SimTime::ZERO.saturating_add(d))
}

/// `a/b/../c` as `a/c`, lexically, with no I/O (after a symbolic link the two may differ:
/// a caller that cares checks); a leading `..` stays. How a scenario's `workflow:` path is
/// shown.
pub fn tidy_path(p: &std::path::Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir if !out.is_empty() => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out.iter().collect()
}

/// Whether the file `name` holding `text` is a scenario: a YAML or JSON map (JSON when the
/// name ends in `.json`) with a `workflow` key and no `main` key. Anything else, text that
/// does not parse included, is a workflow definition, whose loader says what is wrong.
pub fn recognise(name: &str, text: &str) -> bool {
    tree::parse(text, Syntax::of_path(name)).is_ok_and(|root| is_scenario(&root))
}

/// The scenario in the file `name` holding `text`, if [`recognise`] says it is one: the
/// same answer as `recognise` then [`parse_file`], from one parse of the text (reading
/// the file is much of a short scenario's run).
pub fn parse_if_scenario(name: &str, text: &str) -> Option<Result<Scenario, DocError>> {
    let root = tree::parse(text, Syntax::of_path(name)).ok()?;
    is_scenario(&root).then(|| parse_tree(&root, &[]))
}

fn is_scenario(root: &Node) -> bool {
    root.as_map().is_some_and(|m| {
        m.iter().any(|(k, _, _)| k == "workflow") && !m.iter().any(|(k, _, _)| k == "main")
    })
}

/// A scenario written in YAML.
pub fn parse(text: &str) -> Result<Scenario, DocError> {
    parse_as(text, Syntax::Yaml)
}

/// A scenario in the file `name`: JSON when the name ends in `.json`, else YAML.
pub fn parse_file(name: &str, text: &str) -> Result<Scenario, DocError> {
    parse_as(text, Syntax::of_path(name))
}

fn parse_as(text: &str, syntax: Syntax) -> Result<Scenario, DocError> {
    let root = doc::read(text, syntax)?;
    parse_tree(&root, &[])
}

/// A scenario from its parsed tree, leaving the top-level keys `others` to the caller
/// (`wfsim explore` reads `explore:` and its own `services:`).
pub fn parse_tree(root: &Node, others: &[&str]) -> Result<Scenario, DocError> {
    let mut s = Scenario {
        workflow: String::new(),
        workflow_pos: root.pos,
        seed: 0,
        argument: None,
        start_time: WallClock::DEFAULT,
        requests: Vec::new(),
        expect_status: Vec::new(),
        cancel_at: None,
        project: None,
        location: None,
        services: Vec::new(),
        env: Default::default(),
        workflows: Default::default(),
        expect: Expect::default(),
        covers: Vec::new(),
        layout: Layout {
            root: root.pos,
            ..Layout::default()
        },
    };
    let mut has_workflow = false;
    let entries = map(root, "scenario")?;
    if let Some((_, kpos, _)) = entries.iter().find(|(k, _, _)| k == "explore") {
        if !others.contains(&"explore") {
            return err(
                *kpos,
                "this is an explore file (SPEC §9): `wfsim explore` runs it; `wfsim run` takes a scenario",
            );
        }
    }
    for (key, kpos, v) in entries {
        if others.contains(&key.as_str()) {
            continue;
        }
        match key.as_str() {
            "workflow" => {
                s.workflow = string(v, key)?;
                s.workflow_pos = v.pos;
                has_workflow = true;
            }
            "seed" => match v.to_value() {
                Value::Int(i) if i >= 0 => s.seed = i as u64,
                _ => return err(v.pos, "'seed' is a non-negative integer"),
            },
            "argument" => s.argument = Some(v.to_value()),
            "start_time" => {
                let text = string(v, key)?;
                let nanos = parse_rfc3339(&text).ok_or_else(|| DocError::new(v.pos, format!(
                        "'start_time' is an RFC 3339 time like 2024-01-01T00:00:00Z, not '{text}'"
                    )))?;
                s.start_time = WallClock::from_unix_nanos(nanos);
            }
            "requests" => {
                let Some(items) = v.as_seq() else {
                    return err(v.pos, "'requests' is a list");
                };
                for item in items {
                    let (r, expect, layout) = request(item)?;
                    s.requests.push(r);
                    s.expect_status.push(expect);
                    s.layout.requests.push(layout);
                }
            }
            "cancel_at" => s.cancel_at = Some(seconds(v, key)?),
            "project" => s.project = Some(path_segment(v, key)?),
            "location" => s.location = Some(path_segment(v, key)?),
            "services" => s.services = crate::services::parse(v)?,
            "env" => {
                for (name, npos, value) in map(v, "env")? {
                    if let Some(e) = wfsim_engine::stdlib::env_name_error(name) {
                        return err(*npos, e);
                    }
                    let text = string(value, &format!("env.{name}"))?;
                    s.env.insert(name.clone(), text);
                }
            }
            "workflows" => {
                for (name, _, file) in map(v, "workflows")? {
                    let path = string(file, &format!("workflows.{name}"))?;
                    s.workflows.insert(name.clone(), (path, file.pos));
                }
            }
            "expect" => {
                s.expect = expect(v)?;
                s.layout.expect = Some((*kpos, v.pos));
                if let Some(m) = v.as_map() {
                    s.layout.expect_keys = m
                        .iter()
                        .map(|(k, kp, kv)| (k.clone(), *kp, kv.pos))
                        .collect();
                }
            }
            "covers" => {
                let Some(items) = v.as_seq() else {
                    return err(v.pos, "'covers' is a list of rule ids");
                };
                for i in items {
                    s.covers.push(string(i, "covers")?);
                }
            }
            "description" => {
                string(v, key)?;
            }
            other => return err(*kpos, format!("unknown key '{other}' in a scenario")),
        }
    }
    if !has_workflow {
        return err(
            root.pos,
            "a scenario needs 'workflow: <path relative to the scenario>'",
        );
    }
    Ok(s)
}

fn request(n: &Node) -> Result<(ScriptedRequest, Option<u16>, RequestLayout), DocError> {
    let mut r = ScriptedRequest::default();
    let mut expect = None;
    let (mut has_at, mut has_endpoint) = (false, false);
    let entries = map(n, "request")?;
    // A string is sent as written; any other value as JSON, with its content type unless
    // `headers` name one (as a service callback's body).
    let mut body = None;
    let mut layout = RequestLayout {
        item: n.pos,
        first_key: entries.first().map_or(n.pos, |(_, kp, _)| *kp),
        expect: None,
    };
    for (key, kpos, v) in entries {
        if key == "expect" {
            layout.expect = Some((*kpos, v.pos));
        }
        match key.as_str() {
            "at" => {
                r.at = seconds(v, key)?;
                has_at = true;
            }
            "endpoint" => match v.to_value() {
                Value::Int(i) if (0..=i64::from(u32::MAX)).contains(&i) => {
                    r.endpoint = i as u32;
                    has_endpoint = true;
                }
                _ => return err(v.pos, "'endpoint' is an index in creation order: 0, 1, …"),
            },
            "method" => r.method = Some(string(v, key)?),
            "headers" => {
                for (name, _, value) in map(v, key)? {
                    let text = match value.to_value() {
                        Value::Str(s) => s.to_string(),
                        Value::Int(i) => i.to_string(),
                        _ => return err(value.pos, "a header value is a string"),
                    };
                    r.headers.push((name.clone(), text));
                }
            }
            "query" => r.query = string(v, key)?,
            "execution" => r.execution = Some(execution_sel(v)?),
            "body" => body = Some(v.to_value()),
            "expect" => match v.to_value() {
                Value::Int(code) if (100..600).contains(&code) => expect = Some(code as u16),
                _ => return err(v.pos, "'expect' is an HTTP status such as 200"),
            },
            other => return err(*kpos, format!("unknown key '{other}' in a request")),
        }
    }
    if !has_at || !has_endpoint {
        return err(n.pos, "a request needs 'at' and 'endpoint'");
    }
    match body {
        None => {}
        Some(Value::Str(text)) => r.body = text.as_bytes().to_vec(),
        Some(v) => {
            r.body = crate::services::body_bytes(&v, &mut r.headers)
                .map_err(|why| DocError::new(n.pos, format!("'body': {why}")))?;
        }
    }
    Ok((r, expect, layout))
}

/// `execution:` of a request or a sender (HT-10): a child's workflow name, or its index in
/// start order (1 the first child; 0 the run's own execution).
pub fn execution_sel(v: &Node) -> Result<ExecutionSel, DocError> {
    match v.to_value() {
        Value::Int(i) if i >= 0 => Ok(ExecutionSel::Index(i as usize)),
        Value::Str(name) if !name.is_empty() => Ok(ExecutionSel::Name(name.to_string())),
        _ => err(
            v.pos,
            "'execution' is a child workflow's name, or its index in start order (0 the scenario's own execution, 1 the first child)",
        ),
    }
}

impl Scenario {
    /// The child workflows a run of this scenario (in the file `path`) may start (HT-10):
    /// its `workflows:`, then those `workflow` (at `workflow_path`) names beside it.
    pub fn children(
        &self,
        path: &std::path::Path,
        workflow: &wfsim_engine::defn::Workflow,
        workflow_path: &std::path::Path,
    ) -> Result<crate::children::Library, String> {
        let base = path.parent().unwrap_or(std::path::Path::new("."));
        let files = self
            .workflows
            .iter()
            .map(|(n, (p, _))| (n.clone(), tidy_path(&base.join(p))))
            .collect();
        crate::children::library(workflow, workflow_path, &files).map_err(|e| e.join("\n"))
    }
}

fn expect(n: &Node) -> Result<Expect, DocError> {
    let mut e = Expect::default();
    for (key, kpos, v) in map(n, "expect")? {
        match key.as_str() {
            "state" => {
                e.state = Some(match v.as_str() {
                    Some("ACTIVE") => ExecutionState::Active,
                    Some("SUCCEEDED") => ExecutionState::Succeeded,
                    Some("FAILED") => ExecutionState::Failed,
                    Some("CANCELLED") => ExecutionState::Cancelled,
                    _ => return err(v.pos, "'state' is ACTIVE, SUCCEEDED, FAILED or CANCELLED"),
                })
            }
            "result" => e.result = Some(v.to_value()),
            "error_tags" => {
                let Some(items) = v.as_seq() else {
                    return err(v.pos, "'error_tags' is a list");
                };
                e.error_tags = Some(
                    items
                        .iter()
                        .map(|i| string(i, key))
                        .collect::<Result<_, _>>()?,
                );
            }
            "ended_at" => e.ended_at = Some(seconds(v, key)?),
            "logs" => {
                let Some(items) = v.as_seq() else {
                    return err(v.pos, "'logs' is a list");
                };
                let mut logs = Vec::new();
                for item in items {
                    let mut at = None;
                    let mut severity = "DEFAULT".to_owned();
                    let mut payload = None;
                    for (k, kp, lv) in map(item, "log")? {
                        match k.as_str() {
                            "at" => at = Some(seconds(lv, "at")?),
                            "severity" => severity = string(lv, k)?,
                            "text" => payload = Some(LogPayload::Text(string(lv, k)?)),
                            "data" => payload = Some(LogPayload::Data(lv.to_value())),
                            other => return err(*kp, format!("unknown key '{other}' in a log")),
                        }
                    }
                    let (Some(at), Some(payload)) = (at, payload) else {
                        return err(item.pos, "a log needs 'at' and 'text' or 'data'");
                    };
                    logs.push(ExpectedLog {
                        at,
                        severity,
                        payload,
                    });
                }
                e.logs = Some(logs);
            }
            "http_calls" => {
                let Some(items) = v.as_seq() else {
                    return err(v.pos, "'http_calls' is a list");
                };
                let mut calls = Vec::new();
                for item in items {
                    let mut keys = Vec::new();
                    for (k, kp, cv) in map(item, "http call")? {
                        let want = match k.as_str() {
                            "at" | "answered_at" => match cv.to_value() {
                                Value::Null => serde_json::Value::Null,
                                _ => serde_json::json!(seconds(cv, k)?.as_secs_f64()),
                            },
                            "method" | "url" | "call" | "error" => match cv.to_value() {
                                Value::Null => serde_json::Value::Null,
                                _ => serde_json::json!(string(cv, k)?),
                            },
                            "status" => match cv.to_value() {
                                Value::Null => serde_json::Value::Null,
                                Value::Int(c) if (100..600).contains(&c) => serde_json::json!(c),
                                _ => return err(cv.pos, "'status' is an HTTP status or null"),
                            },
                            other => {
                                return err(
                                    *kp,
                                    format!(
                                        "unknown key '{other}' in an http call (it takes at, answered_at, method, url, call, status, error)"
                                    ),
                                );
                            }
                        };
                        keys.push((k.clone(), want));
                    }
                    calls.push(keys);
                }
                e.http_calls = Some(calls);
            }
            "step_entries" => {
                let Some(items) = v.as_seq() else {
                    return err(v.pos, "'step_entries' is a list of entries, each a map");
                };
                e.step_entries = Some(items.iter().map(expected_entry).collect::<Result<_, _>>()?);
            }
            "holds" => {
                let Some(items) = v.as_seq() else {
                    return err(
                        v.pos,
                        "'holds' is a list of properties (expressions `${...}` or routines)",
                    );
                };
                for item in items {
                    let p = crate::property::parse(item)?;
                    e.holds.push(p);
                }
            }
            other => return err(*kpos, format!("unknown key '{other}' in 'expect'")),
        }
    }
    Ok(e)
}

/// EX-8: one item of `expect.step_entries`. A type or state is taken with or without its
/// prefix, as the API's `filter` takes it.
fn expected_entry(n: &Node) -> Result<ExpectedEntry, DocError> {
    use wfsim_engine::interp::{EntryState, StepType};
    let mut e = ExpectedEntry {
        pos: n.pos,
        ..ExpectedEntry::default()
    };
    let named = |v: &Node, key: &str, prefix: &str, names: &[&'static str]| {
        let text = string(v, key)?;
        let full = if text.starts_with(prefix) {
            text.clone()
        } else {
            format!("{prefix}{text}")
        };
        names.iter().copied().find(|n| *n == full).ok_or_else(|| {
            let short: Vec<&str> = names.iter().map(|n| n.trim_start_matches(prefix)).collect();
            DocError::new(
                v.pos,
                format!("'{key}' is one of {}, not '{text}'", short.join(", ")),
            )
        })
    };
    let types: Vec<&'static str> = StepType::ALL.iter().map(|t| t.as_str()).collect();
    let states: Vec<&'static str> = EntryState::ALL.iter().map(|s| s.as_str()).collect();
    let entries = map(n, "step entry")?;
    if entries.is_empty() {
        return err(
            n.pos,
            "a step entry names at least one of step, routine, type, state, progress, variables",
        );
    }
    for (k, kp, v) in entries {
        match k.as_str() {
            "step" => e.step = Some(string(v, k)?),
            "routine" => e.routine = Some(string(v, k)?),
            "type" => e.step_type = Some(named(v, k, "STEP_", &types)?),
            "state" => e.state = Some(named(v, k, "STATE_", &states)?),
            "progress" => match v.to_value() {
                Value::Int(i) if (1..=i64::from(u32::MAX)).contains(&i) => {
                    e.progress = Some(i as u32)
                }
                _ => {
                    return err(
                        v.pos,
                        "'progress' is the iteration, case, retry or branch it counts: 1, 2, …",
                    );
                }
            },
            "variables" => {
                let mut vars = Vec::new();
                for (name, _, value) in map(v, "variables")? {
                    vars.push((name.clone(), value.to_value()));
                }
                e.variables = Some(vars);
            }
            other => {
                return err(
                    *kp,
                    format!(
                        "unknown key '{other}' in a step entry (it takes step, routine, type, state, progress, variables)"
                    ),
                );
            }
        }
    }
    Ok(e)
}

impl ExpectedEntry {
    /// The first key on which `got` (with `vars`, its variables) differs: the key, what
    /// the entry has and what is expected.
    fn differs(
        &self,
        got: &StepEntry,
        vars: Option<&[(String, Value)]>,
    ) -> Option<(String, String, String)> {
        self.differences(got, vars).into_iter().next()
    }

    /// Every key on which `got` differs, in the order [`ExpectedEntry::describe`] names
    /// them.
    fn differences(
        &self,
        got: &StepEntry,
        vars: Option<&[(String, Value)]>,
    ) -> Vec<(String, String, String)> {
        let text = |k: &str, g: &str, w: &Option<String>| {
            w.as_ref()
                .filter(|w| *w != g)
                .map(|w| (k.to_owned(), format!("'{g}'"), format!("'{w}'")))
        };
        let name = |k: &str, g: &'static str, w: Option<&'static str>| {
            w.filter(|w| *w != g)
                .map(|w| (k.to_owned(), g.to_owned(), w.to_owned()))
        };
        let have = got.progress.map(|(_, n)| n);
        let progress = self.progress.filter(|w| have != Some(*w)).map(|w| {
            let have = have.map_or("none".to_owned(), |n| n.to_string());
            ("progress".to_owned(), have, w.to_string())
        });
        let mut out: Vec<(String, String, String)> = [
            text("step", &got.step, &self.step),
            text("routine", &got.routine, &self.routine),
            name("type", got.step_type.as_str(), self.step_type),
            name("state", got.state.as_str(), self.state),
            progress,
        ]
        .into_iter()
        .flatten()
        .collect();
        for (k, w) in self.variables.iter().flatten() {
            let have = vars
                .and_then(|vs| vs.iter().find(|(n, _)| n == k))
                .map(|(_, v)| v);
            match have {
                Some(h) if wfsim_engine::expr::eval::equal(h, w) => {}
                h => out.push((
                    format!("variables.{k}"),
                    h.map_or("nothing".to_owned(), show),
                    show(w),
                )),
            }
        }
        out
    }

    /// How the expectation reads in a message: `{step: add, state: SUCCEEDED}`.
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = &self.step {
            parts.push(format!("step: {s}"));
        }
        if let Some(r) = &self.routine {
            parts.push(format!("routine: {r}"));
        }
        if let Some(t) = self.step_type {
            parts.push(format!("type: {}", t.trim_start_matches("STEP_")));
        }
        if let Some(s) = self.state {
            parts.push(format!("state: {}", s.trim_start_matches("STATE_")));
        }
        if let Some(p) = self.progress {
            parts.push(format!("progress: {p}"));
        }
        if let Some(vs) = &self.variables {
            let shown: Vec<String> = vs
                .iter()
                .map(|(k, v)| format!("{k}: {}", show(v)))
                .collect();
            parts.push(format!("variables: {{{}}}", shown.join(", ")));
        }
        format!("{{{}}}", parts.join(", "))
    }
}

/// EX-8: `want` in order among `run`'s step entries, others allowed between (each matched
/// to the earliest entry that fits, which finds an order whenever one exists); the first
/// expected entry with no match is a failure naming the nearest candidate's first
/// difference.
fn check_step_entries(
    want: &[ExpectedEntry],
    ex: &wfsim_engine::interp::Execution,
) -> Option<(usize, String)> {
    let got = ex.step_entries();
    let vars: Vec<Option<Vec<(String, Value)>>> = if want.iter().any(|w| w.variables.is_some()) {
        got.iter().map(|g| ex.step_variables(g.id)).collect()
    } else {
        vec![None; got.len()]
    };
    let mut from = 0;
    for (k, w) in want.iter().enumerate() {
        let fits = |i: usize| w.differs(&got[i], vars[i].as_deref()).is_none();
        if let Some(i) = (from..got.len()).find(|&i| fits(i)) {
            from = i + 1;
            continue;
        }
        let after = match from.checked_sub(1).and_then(|i| got.get(i)) {
            Some(g) => format!("after entry {} ('{}')", g.id, g.step),
            None => "in the history".to_owned(),
        };
        // The nearest candidate: of the entries left (of the same step, when it names
        // one), the first that differs on the fewest keys.
        let near = (from..got.len())
            .filter(|&i| w.step.as_ref().is_none_or(|s| *s == got[i].step))
            .min_by_key(|&i| (w.differences(&got[i], vars[i].as_deref()).len(), i));
        let why = match near {
            Some(i) => {
                let (key, have, expected) = w.differs(&got[i], vars[i].as_deref())?;
                format!(
                    "; entry {} ('{}', {}) has {key} {have}, expected {expected}",
                    got[i].id,
                    got[i].step,
                    got[i].step_type.as_str()
                )
            }
            None => match &w.step {
                Some(s) => format!("; no entry of step '{s}' follows"),
                None => String::new(),
            },
        };
        return Some((
            k,
            format!(
                "step entry {} of {} {} not found {after} ({} entries in all){why}",
                k + 1,
                want.len(),
                w.describe(),
                got.len()
            ),
        ));
    }
    None
}

/// Every way `run` differs from what `scenario` expects, in a sentence each.
pub fn check(scenario: &Scenario, run: &Run) -> Vec<String> {
    check_located(scenario, run)
        .into_iter()
        .map(|f| f.message)
        .collect()
}

/// [`check`], each failure with where its expectation is written (the `expect:` value's
/// key, a request's `expect`, a property; the document's start for what no key states).
pub fn check_located(scenario: &Scenario, run: &Run) -> Vec<Failure> {
    let mut out = Vec::new();
    let layout = &scenario.layout;
    let key = |k: &str| {
        layout
            .expect_value(k)
            .or(layout.expect.map(|(kp, _)| kp))
            .unwrap_or(layout.root)
    };
    let mut failures = Located {
        out: &mut out,
        pos: layout.root,
    };
    let ex = &run.execution;
    if run.budget_exhausted {
        failures
            .push("the run did not settle: it livelocked or ran out of its loop budget".to_owned());
    }
    for e in &run.service_errors {
        failures.push(e.clone());
    }
    for (i, got) in scripted_records(scenario, run) {
        if let Some(want) = scenario.expect_status.get(i).copied().flatten() {
            if want != got.status {
                failures.pos = layout
                    .requests
                    .get(i)
                    .map_or(layout.root, |r| r.expect.map_or(r.item, |(_, v)| v));
                failures.push(format!(
                    "request {i} (at {}): status {}, expected {want}",
                    got.at, got.status
                ));
            }
        }
    }
    let e = &scenario.expect;
    failures.pos = key("state");
    match e.state {
        Some(state) if ex.state() != state => {
            failures.push(format!("state {}, expected {state}", ex.state()));
        }
        None if ex.state() != ExecutionState::Succeeded => failures.push(format!(
            "state {}, expected SUCCEEDED (the scenario states no 'state'; say `expect: {{state: {}}}` if that is intended)",
            ex.state(),
            ex.state()
        )),
        _ => {}
    }
    if let Some(want) = &e.result {
        failures.pos = key("result");
        match ex.outcome() {
            Some(Outcome::Succeeded(got)) if wfsim_engine::expr::eval::equal(got, want) => {}
            Some(Outcome::Succeeded(got)) => {
                let mut message = match first_difference(got, want, "result".to_owned()) {
                    Some((path, g, w)) if path != "result" => {
                        format!("{path}: {g}, expected {w}; ")
                    }
                    _ => String::new(),
                };
                message.push_str(&format!("result {}, expected {}", show(got), show(want)));
                failures.push(message)
            }
            _ => failures.push(format!(
                "no result (state {}), expected {}",
                ex.state(),
                show(want)
            )),
        }
    }
    if let Some(want) = &e.error_tags {
        failures.pos = key("error_tags");
        match ex.outcome() {
            Some(Outcome::Failed(err)) => {
                let got = tags(err);
                if &got != want {
                    failures.push(format!("error tags {got:?}, expected {want:?}"));
                }
            }
            _ => failures.push(format!(
                "no error (state {}), expected tags {want:?}",
                ex.state()
            )),
        }
    }
    if let Some(want) = e.ended_at {
        failures.pos = key("ended_at");
        match ex.ended_at() {
            Some(got) if got == want => {}
            Some(got) => failures.push(format!("ended at {got}, expected {want}")),
            None => failures.push(format!("still running, expected to end at {want}")),
        }
    }
    if let Some(want) = &e.logs {
        failures.pos = key("logs");
        let got = ex.logs();
        let n = got.len().max(want.len());
        for i in 0..n {
            match (got.get(i), want.get(i)) {
                (Some(g), Some(w))
                    if g.at == w.at
                        && g.severity == w.severity
                        && same_payload(&g.payload, &w.payload) => {}
                (g, w) => {
                    failures.push(format!(
                        "log {i}: got {}, expected {}",
                        g.map_or("nothing".into(), |g| format!(
                            "{} {} {}",
                            g.at,
                            g.severity,
                            payload_text(&g.payload)
                        )),
                        w.map_or("nothing".into(), |w| format!(
                            "{} {} {}",
                            w.at,
                            w.severity,
                            payload_text(&w.payload)
                        )),
                    ));
                    break;
                }
            }
        }
    }
    if let Some(want) = &e.http_calls {
        failures.pos = key("http_calls");
        let got = crate::report::http_calls(run);
        if got.len() != want.len() {
            failures.push(format!(
                "{} outbound calls, expected {}",
                got.len(),
                want.len()
            ));
        }
        for (i, (g, keys)) in got.iter().zip(want).enumerate() {
            for (k, w) in keys {
                let have = g.get(k).cloned().unwrap_or(serde_json::Value::Null);
                if &have != w {
                    failures.push(format!("http call {i}: {k} {have}, expected {w}"));
                }
            }
        }
    }
    if let Some(want) = &e.step_entries {
        if let Some((k, message)) = check_step_entries(want, ex) {
            failures.pos = want[k].pos;
            failures.push(message);
        }
    }
    if !e.holds.is_empty() {
        let vars = crate::property::vars(run);
        for p in &e.holds {
            failures.pos = p.pos;
            match crate::property::holds(p, &vars) {
                Ok(true) => {}
                Ok(false) => {
                    failures.push(format!("{} (line {}) does not hold", p.source, p.pos.line))
                }
                Err(why) => failures.push(format!("{why} (line {})", p.pos.line)),
            }
        }
    }
    out
}

/// Each scripted request's record with the request's index in the file: the runner sends
/// them in time order (ties in file order), so a file that lists a later one first still
/// pairs each with its own.
pub fn scripted_records<'a>(
    scenario: &Scenario,
    run: &'a Run,
) -> Vec<(usize, &'a crate::runner::RequestRecord)> {
    let mut order: Vec<usize> = (0..scenario.requests.len()).collect();
    order.sort_by_key(|&i| (scenario.requests[i].at, i));
    let mut out: Vec<_> = order
        .into_iter()
        .zip(run.requests.iter().filter(|r| r.service.is_none()))
        .collect();
    out.sort_by_key(|(i, _)| *i);
    out
}

/// Failures as they are found, each at the place last set.
struct Located<'a> {
    out: &'a mut Vec<Failure>,
    pos: Pos,
}

impl Located<'_> {
    fn push(&mut self, message: String) {
        self.out.push(Failure {
            pos: self.pos,
            message,
        });
    }
}

/// Where `got` first differs from `want`, in key order and then list order: the path
/// (`result.items[2].price`) and both values there (`nothing` for a side without it).
pub fn first_difference(
    got: &Value,
    want: &Value,
    path: String,
) -> Option<(String, String, String)> {
    let step = |key: &str| {
        if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            format!("{path}.{key}")
        } else {
            format!("{path}[{}]", serde_json::Value::from(key))
        }
    };
    match (got, want) {
        (Value::Map(g), Value::Map(w)) => {
            let keys: std::collections::BTreeSet<&String> = g.keys().chain(w.keys()).collect();
            keys.into_iter().find_map(|k| match (g.get(k), w.get(k)) {
                (Some(a), Some(b)) => first_difference(a, b, step(k)),
                (a, b) => Some((
                    step(k),
                    a.map_or("nothing".to_owned(), show),
                    b.map_or("nothing".to_owned(), show),
                )),
            })
        }
        (Value::List(g), Value::List(w)) => (0..g.len().max(w.len())).find_map(|i| {
            let here = format!("{path}[{i}]");
            match (g.get(i), w.get(i)) {
                (Some(a), Some(b)) => first_difference(a, b, here),
                (a, b) => Some((
                    here,
                    a.map_or("nothing".to_owned(), show),
                    b.map_or("nothing".to_owned(), show),
                )),
            }
        }),
        _ if wfsim_engine::expr::eval::equal(got, want) => None,
        _ => Some((path, show(got), show(want))),
    }
}

fn same_payload(a: &LogPayload, b: &LogPayload) -> bool {
    match (a, b) {
        (LogPayload::Text(x), LogPayload::Text(y)) => x == y,
        (LogPayload::Data(x), LogPayload::Data(y)) => wfsim_engine::expr::eval::equal(x, y),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_format() {
        let text = "workflow: ../workflows/basic_callback.yaml\nseed: 3\nargument: {who: \"Ada\"}\nstart_time: \"2024-01-01T00:00:00Z\"\nrequests:\n  - at: 5.5\n    endpoint: 0\n    method: GET\n    headers: {Content-Type: application/json}\n    query: \"a=1&a=2\"\n    body: '{\"foo\": \"bar\"}'\n    expect: 200\ncancel_at: 100\nexpect:\n  state: SUCCEEDED\n  result: {a: 1}\n  error_tags: [TimeoutError]\n  ended_at: 5\n  logs: [{at: 0, severity: INFO, text: \"hi\"}]\ncovers: [CB-5]\n";
        let s = parse(text).unwrap();
        assert_eq!(s.seed, 3);
        assert_eq!(s.requests[0].at, SimTime::from_nanos(5_500_000_000));
        assert_eq!(
            s.requests[0].headers,
            vec![("Content-Type".to_owned(), "application/json".to_owned())]
        );
        assert_eq!(s.expect_status, vec![Some(200)]);
        assert_eq!(s.cancel_at, Some(SimTime::from_secs(100)));
        assert_eq!(s.expect.state, Some(ExecutionState::Succeeded));
        assert_eq!(
            s.expect.logs.as_ref().unwrap()[0].payload,
            LogPayload::Text("hi".into())
        );
        assert_eq!(s.covers, vec!["CB-5"]);
    }

    #[test]
    fn a_scenario_is_known_by_its_content_in_yaml_or_json() {
        assert!(recognise("s.yaml", "workflow: w.yaml\n"));
        let s = parse_if_scenario("s.yaml", "workflow: w.yaml\nseed: 7\n").unwrap();
        assert_eq!(s.unwrap().seed, 7);
        let e = parse_if_scenario("s.yaml", "workflow: w.yaml\nseed: x\n").unwrap();
        assert_eq!(e.unwrap_err().pos, Pos { line: 2, col: 7 });
        assert!(parse_if_scenario("w.yaml", "- a:\n    return: 1\n").is_none());
        assert!(parse_if_scenario("w.json", "{\"workflow\": ").is_none());
        assert!(recognise("s.json", r#"{"workflow": "w.yaml", "seed": 1}"#));
        assert!(
            recognise("s.txt", r#"{"workflow": "w.yaml"}"#),
            "JSON is YAML"
        );
        assert!(!recognise("w.yaml", "main:\n  steps: []\nworkflow: x\n"));
        assert!(!recognise("w.yaml", "- a:\n    return: 1\n"));
        assert!(
            !recognise("w.json", "{\"workflow\": "),
            "text that does not parse"
        );
        let s = parse_file("s.json", "{\n  \"workflow\": \"w.yaml\"\n}").unwrap();
        assert_eq!(s.workflow, "w.yaml");
        assert_eq!(s.workflow_pos, Pos { line: 2, col: 15 });
        let e = parse_file("s.json", "{\"workflow\": 1,}").unwrap_err();
        assert!(e.message.contains("invalid JSON"), "{e:?}");
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse("workflow: w.yaml\nrequests:\n  - at: -1\n    endpoint: 0\n").unwrap_err();
        assert_eq!(e.pos, Pos { line: 3, col: 9 });
        assert!(e.message.contains("negative"), "{e:?}");
        let e = parse("workflow: w.yaml\nbogus: 1\n").unwrap_err();
        assert_eq!(e.pos, Pos { line: 2, col: 1 });
        assert!(
            parse("seed: 1\n")
                .unwrap_err()
                .message
                .contains("needs 'workflow")
        );
    }

    /// A request's body may be a map (sent as JSON, typed unless a header says) as well
    /// as a string (sent as written), as a service callback's.
    /// A scenario sets the execution's project and location: the workflow reads them, and
    /// its callback URLs name them; without them, `wfsim` and `us-central1`.
    #[test]
    fn a_scenario_sets_the_project_and_location() {
        let w = "main:\n  steps:\n    - c:\n        call: events.create_callback_endpoint\n        result: cb\n    - r:\n        return:\n          - ${sys.get_env(\"GOOGLE_CLOUD_PROJECT_ID\")}\n          - ${sys.get_env(\"GOOGLE_CLOUD_LOCATION\")}\n          - ${cb.url}\n";
        let workflow = std::rc::Rc::new(wfsim_engine::defn::load("w.yaml", w).unwrap());
        let got = |text: &str| {
            let s = parse(text).unwrap();
            let run = crate::runner::run(workflow.clone(), "w", &s.run_config(), &[]);
            crate::report::to_json(&run, &[])["result"].clone()
        };
        let r = got("workflow: w.yaml\nproject: acme-prod-1\nlocation: europe-west1\n");
        assert_eq!(r[0], "acme-prod-1");
        assert_eq!(r[1], "europe-west1");
        let url = r[2].as_str().unwrap();
        assert!(
            url.contains("/projects/acme-prod-1/locations/europe-west1/workflows/w/"),
            "{url}"
        );
        let r = got("workflow: w.yaml\nproject: acme\n");
        assert_eq!(
            (r[0].as_str(), r[1].as_str()),
            (Some("acme"), Some("us-central1"))
        );
        let r = got("workflow: w.yaml\n");
        assert_eq!(
            (r[0].as_str(), r[1].as_str()),
            (Some("wfsim"), Some("us-central1"))
        );
        for bad in ["project: 'a/b'", "location: ''", "project: 3"] {
            let e = parse(&format!("workflow: w.yaml\n{bad}\n")).unwrap_err();
            assert_eq!(e.pos.line, 2, "{bad}: {e:?}");
        }
        let e = parse("workflow: w.yaml\nproject: my_proj\n").unwrap_err();
        assert_eq!(
            e.message,
            "'project' is made of letters, digits and '-' (it is part of the execution's URL), not 'my_proj'"
        );
    }

    #[test]
    fn a_request_body_is_a_string_or_a_value() {
        let s = parse("workflow: w.yaml\nrequests:\n  - {at: 1, endpoint: 0, body: {approved: true}}\n  - {at: 2, endpoint: 0, body: 'raw', headers: {Content-Type: text/csv}}\n  - {at: 3, endpoint: 0, body: [1], headers: {content-type: application/x-json}}\n").unwrap();
        assert_eq!(s.requests[0].body, br#"{"approved":true}"#);
        assert_eq!(
            s.requests[0].headers,
            [("Content-Type".to_owned(), "application/json".to_owned())]
        );
        assert_eq!(s.requests[1].body, b"raw");
        assert_eq!(s.requests[1].headers.len(), 1);
        assert_eq!(s.requests[2].body, b"[1]");
        assert_eq!(
            s.requests[2].headers.len(),
            1,
            "the header given is kept alone"
        );
    }

    /// The runner sends requests in time order; each status expectation is still the one
    /// written on its own request, whatever order the file lists them in, and a failure
    /// is placed at that request's `expect`.
    #[test]
    fn request_statuses_pair_with_their_own_request() {
        let w = "main:\n  steps:\n    - c:\n        call: events.create_callback_endpoint\n        result: cb\n    - a:\n        call: events.await_callback\n        args:\n          callback: ${cb}\n          timeout: 100\n";
        let workflow = std::rc::Rc::new(wfsim_engine::defn::load("w.yaml", w).unwrap());
        let s = parse("workflow: w.yaml\nrequests:\n  - {at: 200, endpoint: 0, expect: 404}\n  - {at: 10, endpoint: 0, expect: 200}\nexpect: {state: SUCCEEDED}\n").unwrap();
        let run = crate::runner::run_with_services(
            workflow.clone(),
            "w",
            &s.run_config(),
            &s.requests,
            &[],
        );
        assert_eq!(check_located(&s, &run), []);
        let statuses: Vec<(usize, u16)> = scripted_records(&s, &run)
            .into_iter()
            .map(|(i, r)| (i, r.status))
            .collect();
        assert_eq!(statuses, [(0, 404), (1, 200)]);
        let wrong = parse("workflow: w.yaml\nrequests:\n  - {at: 200, endpoint: 0, expect: 200}\n  - {at: 10, endpoint: 0}\nexpect:\n  state: FAILED\n").unwrap();
        let run = crate::runner::run_with_services(
            workflow,
            "w",
            &wrong.run_config(),
            &wrong.requests,
            &[],
        );
        let failures = check_located(&wrong, &run);
        assert_eq!(failures.len(), 2, "{failures:?}");
        assert_eq!(
            failures[1].pos,
            Pos { line: 6, col: 10 },
            "the value of `state`"
        );
        assert_eq!(
            failures[0].pos,
            Pos { line: 3, col: 36 },
            "the value of its `expect`"
        );
        assert!(
            failures[0]
                .message
                .starts_with("request 0 (at 200s): status 404, expected 200"),
            "{failures:?}"
        );
    }

    /// Where each part is written, as messages and `wfsim test --update` need it.
    #[test]
    fn the_layout_says_where_things_are_written() {
        let s = parse("# c\nworkflow: w.yaml\nrequests:\n  - at: 1\n    endpoint: 0\n  - {at: 2, endpoint: 0, expect: 404}\nexpect:\n  state: FAILED\n  result:\n    a: 1\n").unwrap();
        let l = &s.layout;
        let p = |line, col| Pos { line, col };
        assert_eq!(l.root, p(2, 1));
        assert_eq!(l.expect, Some((p(7, 1), p(8, 3))));
        assert_eq!(
            l.expect_keys,
            [
                ("state".to_owned(), p(8, 3), p(8, 10)),
                ("result".to_owned(), p(9, 3), p(10, 5))
            ]
        );
        assert_eq!(l.expect_value("result"), Some(p(10, 5)));
        assert_eq!(l.expect_value("logs"), None);
        assert_eq!(
            l.requests,
            [
                RequestLayout {
                    item: p(4, 5),
                    first_key: p(4, 5),
                    expect: None
                },
                RequestLayout {
                    item: p(6, 5),
                    first_key: p(6, 6),
                    expect: Some((p(6, 26), p(6, 34)))
                },
            ]
        );
        assert_eq!(parse("workflow: w.yaml\n").unwrap().layout.expect, None);
    }

    /// A failed `result` names the path of the first difference, then both values whole.
    #[test]
    fn first_difference_names_the_path() {
        let v = |y: &str| tree::parse(y, Syntax::Yaml).unwrap().to_value();
        let d = |g: &str, w: &str| first_difference(&v(g), &v(w), "result".to_owned());
        assert_eq!(
            d("{fraud_score: 0.2, id: 1}", "{fraud_score: 0.3, id: 1}"),
            Some((
                "result.fraud_score".to_owned(),
                "0.2".to_owned(),
                "0.3".to_owned()
            ))
        );
        assert_eq!(
            d("{items: [1, {p: 2}]}", "{items: [1, {p: 3}]}").unwrap().0,
            "result.items[1].p"
        );
        assert_eq!(
            d("{a: 1}", "{a: 1, b: x}"),
            Some((
                "result.b".to_owned(),
                "nothing".to_owned(),
                "\"x\"".to_owned()
            ))
        );
        assert_eq!(
            d("{\"a b\": 1}", "{\"a b\": 2}").unwrap().0,
            "result[\"a b\"]"
        );
        assert_eq!(d("[1, 2]", "[1, 2]"), None);
        assert_eq!(d("1", "1.0"), None, "equal as the language compares");
    }

    /// EX-8: `expect.step_entries` is matched in order among the history, other entries
    /// between; a miss names the nearest entry's first difference and is placed at the
    /// expected entry; a scenario that expects entries records them, and their variables
    /// only when one names them; bad items are refused where they are written.
    #[test]
    fn ex_8_step_entries_are_expected_in_order() {
        let w = "main:\n  steps:\n    - a:\n        assign: [{x: 1}]\n    - l:\n        for:\n          value: v\n          in: [1, 2]\n          steps:\n            - b:\n                assign: [{x: '${x + v}'}]\n    - r:\n        return: ${x}\n";
        let workflow = std::rc::Rc::new(wfsim_engine::defn::load("w.yaml", w).unwrap());
        let judge = |items: &str| {
            let s = parse(&format!(
                "workflow: w.yaml\nexpect:\n  step_entries:\n{items}"
            ))
            .unwrap();
            let run = crate::runner::run(workflow.clone(), "w", &s.run_config(), &[]);
            (s.run_config(), check_located(&s, &run))
        };
        let (config, failures) = judge(
            "    - {step: a, type: STEP_ASSIGN, state: SUCCEEDED}\n    - {step: l, type: FOR_ITERATION, progress: 2}\n    - {type: RETURN}\n",
        );
        assert_eq!(failures, []);
        assert!(config.step_entries && !config.step_variables);
        let (config, failures) =
            judge("    - {step: b, variables: {x: 4, v: 2}}\n    - {step: r, variables: {x: 4}}\n");
        assert_eq!(failures, []);
        assert!(
            config.step_variables,
            "variables ask for a DETAILED history"
        );
        let (_, failures) = judge("    - {step: r}\n    - {step: a}\n");
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert_eq!(
            failures[0].pos,
            Pos { line: 5, col: 7 },
            "the expected entry"
        );
        assert_eq!(
            failures[0].message,
            "step entry 2 of 2 {step: a} not found after entry 7 ('r') (7 entries in all); no entry of step 'a' follows"
        );
        let (_, failures) = judge("    - {step: b, variables: {x: 5}}\n");
        assert_eq!(
            failures[0].message,
            "step entry 1 of 1 {step: b, variables: {x: 5}} not found in the history (7 entries in all); entry 4 ('b', STEP_ASSIGN) has variables.x 2, expected 5"
        );
        let (_, failures) = judge("    - {step: l, type: FOR_ITERATION, progress: 3}\n");
        assert!(
            failures[0]
                .message
                .ends_with("entry 3 ('l', STEP_FOR_ITERATION) has progress 1, expected 3"),
            "{failures:?}"
        );
        assert!(
            parse("workflow: w.yaml\n")
                .unwrap()
                .expect
                .step_entries
                .is_none()
        );
        for (items, line, col, says) in [
            (
                "    - {step: a, colour: red}",
                4,
                17,
                "unknown key 'colour' in a step entry",
            ),
            (
                "    - {type: SOMETHING}",
                4,
                14,
                "'type' is one of TYPE_UNSPECIFIED, ASSIGN,",
            ),
            (
                "    - {state: DONE}",
                4,
                15,
                "'state' is one of IN_PROGRESS, SUCCEEDED, FAILED, CANCELLED, not 'DONE'",
            ),
            ("    - {progress: 0}", 4, 18, "'progress' is the iteration"),
            ("    - {}", 4, 7, "names at least one of"),
            ("    - a", 4, 7, "must be a map"),
        ] {
            let e = parse(&format!(
                "workflow: w.yaml\nexpect:\n  step_entries:\n{items}\n"
            ))
            .unwrap_err();
            assert_eq!(e.pos, Pos { line, col }, "{items}: {}", e.message);
            assert!(e.message.contains(says), "{items}: {}", e.message);
        }
        let e = parse("workflow: w.yaml\nexpect:\n  step_entries: {step: a}\n").unwrap_err();
        assert_eq!(e.pos, Pos { line: 3, col: 17 });
    }

    /// LIB-2: `env:` is a map of names to strings; GCP's reserved names are refused where
    /// they are written.
    #[test]
    fn lib_2_env_is_a_map_of_names_to_strings() {
        let s = parse("workflow: w.yaml\nenv: {B: \"2\", A: x}\n").unwrap();
        assert_eq!(
            s.env.iter().collect::<Vec<_>>(),
            [
                (&"A".to_owned(), &"x".to_owned()),
                (&"B".to_owned(), &"2".to_owned())
            ]
        );
        assert_eq!(s.run_config().env, s.env);
        let bad = |text: &str, line, col, says: &str| {
            let e = parse(text).unwrap_err();
            assert_eq!(e.pos, Pos { line, col }, "{text}: {}", e.message);
            assert!(e.message.contains(says), "{text}: {}", e.message);
        };
        bad("workflow: w.yaml\nenv: [A]\n", 2, 6, "'env' must be a map");
        bad(
            "workflow: w.yaml\nenv:\n  A: 1\n",
            3,
            6,
            "'env.A' must be a string, not an integer",
        );
        bad(
            "workflow: w.yaml\nenv:\n  GOOGLE_CLOUD_LOCATION: x\n",
            3,
            3,
            "reserved for the built-in variables",
        );
        bad(
            "workflow: w.yaml\nenv: {WORKFLOWS_A: x}\n",
            2,
            7,
            "WORKFLOWS_",
        );
    }
}
