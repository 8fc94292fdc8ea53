//! Child workflows (HT-10): the Workflow Executions connector
//! (`googleapis.workflowexecutions.v1.projects.locations.workflows.executions.*`) stated
//! once for both hosts, the engine-level runner (`runner.rs`) and live mode
//! (`wfsim-server`'s `host/children.rs`).
//!
//! A host says what its executions are through [`Children`] (start one, find one by name,
//! describe it, list a workflow's, cancel one); [`call`] reads the connector's arguments,
//! does what the method asks, and answers the call or says to wait for a child's end;
//! [`ended`] is the answer once it ends. What the workflow sees is Google's: `run` returns
//! the child's result, `create`, `get` and `cancel` the Execution resource, `list`
//! `{executions: [...]}`; a child that fails or is cancelled raises `OperationError` with
//! the Execution resource as its `operation` (the connector reference names the tag for a
//! long-running operation that finished unsuccessfully; the fields are a decision); an
//! unknown workflow or execution is an `HttpError` 404, a cancel of an ended one 400.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use wfsim_engine::callbacks::ExecutionState;
use wfsim_engine::defn::{Action, Block, Part, Pos, Tmpl, Workflow};
use wfsim_engine::error::{Raised, StackElement, Tag, builtin};
use wfsim_engine::http::{HttpOutcome, HttpResponse};
use wfsim_engine::value::{Value, show};

/// The connector's module, in both API versions GCP publishes.
const MODULES: [&str; 2] = [
    "googleapis.workflowexecutions.v1.projects.locations.workflows.executions.",
    "googleapis.workflowexecutions.v1beta.projects.locations.workflows.executions.",
];

/// The workflows a run may start as children, by name: those named literally or mapped by
/// the scenario, loaded and checked ahead ([`library`]); a name computed at run time is
/// read when first started, from `NAME.yaml|.yml|.json` in `dir` (the parent's folder).
#[derive(Clone, Debug, Default)]
pub struct Library {
    pub workflows: BTreeMap<String, Rc<Workflow>>,
    pub dir: Option<PathBuf>,
    late: RefCell<BTreeMap<String, Result<Rc<Workflow>, String>>>,
}

impl Library {
    /// Workflow `name`, or why there is none (the message of a 404).
    pub fn get(&self, name: &str) -> Result<Rc<Workflow>, String> {
        if let Some(w) = self.workflows.get(name) {
            return Ok(Rc::clone(w));
        }
        if let Some(r) = self.late.borrow().get(name) {
            return r.clone();
        }
        let found = match &self.dir {
            // GCP's workflow ids: letters, digits, `-` and `_`; nothing else reaches a path.
            Some(dir)
                if !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
            {
                let path = beside(dir, name);
                load(name, &path, None).map(Rc::new)
            }
            _ => Err(format!(
                "no child workflow '{name}': a child is a file the scenario's `workflows:` names or NAME.yaml, .yml or .json beside its parent"
            )),
        };
        self.late
            .borrow_mut()
            .insert(name.to_owned(), found.clone());
        found
    }
}

/// `NAME.yaml`, `.yml` or `.json` in `dir`, the first that exists (`.yaml` when none does).
fn beside(dir: &Path, name: &str) -> PathBuf {
    ["yaml", "yml", "json"]
        .iter()
        .map(|ext| dir.join(format!("{name}.{ext}")))
        .find(|p| p.is_file())
        .unwrap_or_else(|| dir.join(format!("{name}.yaml")))
}

/// Reads and builds child `name` from `path`; `from` is where a workflow names it.
fn load(name: &str, path: &Path, from: Option<(String, Pos)>) -> Result<Workflow, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let at = from.map_or(String::new(), |(f, p)| format!("{f}:{p}: "));
        format!(
            "{at}child workflow '{name}': cannot read {}: {e} (a child is NAME.yaml, .yml or .json beside its parent, or a file the scenario's `workflows:` names)",
            path.display()
        )
    })?;
    wfsim_engine::defn::load(&path.display().to_string(), &text).map_err(|es| {
        es.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// The tag of a child that did not succeed.
pub const OPERATION_ERROR: &str = "OperationError";

/// A method of the connector.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Run,
    Create,
    Get,
    List,
    Cancel,
}

/// The method connector `name` calls, when it is one of this connector's.
pub fn method(name: &str) -> Option<Method> {
    let m = MODULES.iter().find_map(|p| name.strip_prefix(p))?;
    Some(match m {
        "run" => Method::Run,
        "create" => Method::Create,
        "get" => Method::Get,
        "list" => Method::List,
        "cancel" => Method::Cancel,
        _ => return None,
    })
}

/// A workflow by its place: `projects/P/locations/L/workflows/W`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WorkflowRef {
    pub project: String,
    pub location: String,
    pub workflow: String,
}

impl WorkflowRef {
    /// The resource name, `projects/P/locations/L/workflows/W`.
    pub fn name(&self) -> String {
        format!(
            "projects/{}/locations/{}/workflows/{}",
            self.project, self.location, self.workflow
        )
    }

    /// Reads `projects/P/locations/L/workflows/W` (a leading `/v1/` or `/` is allowed).
    pub fn parse(text: &str) -> Option<WorkflowRef> {
        let t = text.trim_start_matches("/v1/").trim_start_matches('/');
        match t.split('/').collect::<Vec<_>>().as_slice() {
            ["projects", p, "locations", l, "workflows", w]
                if [p, l, w].iter().all(|s| !s.is_empty()) =>
            {
                Some(WorkflowRef {
                    project: (*p).to_owned(),
                    location: (*l).to_owned(),
                    workflow: (*w).to_owned(),
                })
            }
            _ => None,
        }
    }
}

/// An execution by its name: its workflow's place and its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecRef {
    pub workflow: WorkflowRef,
    pub id: String,
}

impl ExecRef {
    /// Reads `projects/P/locations/L/workflows/W/executions/ID`.
    pub fn parse(text: &str) -> Option<ExecRef> {
        let (w, id) = text.rsplit_once("/executions/")?;
        (!id.is_empty() && !id.contains('/')).then_some(())?;
        Some(ExecRef {
            workflow: WorkflowRef::parse(w)?,
            id: id.to_owned(),
        })
    }
}

/// What a host tells of one execution, for the Execution resource.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// `projects/P/locations/L/workflows/W/executions/ID`.
    pub name: String,
    pub revision: String,
    pub state: ExecutionState,
    pub argument: Option<Value>,
    pub result: Option<Value>,
    /// The raised value of a failed execution and where it was raised, innermost first.
    pub error: Option<(Value, Vec<StackElement>)>,
    /// RFC 3339.
    pub start_time: String,
    pub end_time: Option<String>,
    /// From start to end, in nanoseconds.
    pub duration_nanos: Option<u64>,
}

/// The Execution resource as the connector returns it, decoded (the REST resource's JSON:
/// `argument` and `result` as JSON text, `error.payload` too).
pub fn resource(s: &Snapshot) -> Value {
    let mut m: Vec<(&str, Value)> = vec![
        ("name", Value::str(s.name.as_str())),
        ("startTime", Value::str(s.start_time.as_str())),
        ("state", Value::str(s.state.as_str())),
        ("workflowRevisionId", Value::str(s.revision.as_str())),
    ];
    if let Some(end) = &s.end_time {
        m.push(("endTime", Value::str(end.as_str())));
    }
    if let Some(d) = s.duration_nanos {
        m.push(("duration", Value::str(duration_text(d))));
    }
    if let Some(a) = &s.argument {
        m.push(("argument", Value::str(json_text(a))));
    }
    if let Some(r) = &s.result {
        m.push(("result", Value::str(json_text(r))));
    }
    if let Some((raised, stack)) = &s.error {
        let elements = stack
            .iter()
            .map(|e| {
                Value::map([
                    ("step", Value::str(e.step.as_str())),
                    ("routine", Value::str(e.routine.as_str())),
                    (
                        "position",
                        Value::map([
                            ("line", Value::Int(i64::from(e.pos.line))),
                            ("column", Value::Int(i64::from(e.pos.col))),
                        ]),
                    ),
                ])
            })
            .collect();
        m.push((
            "error",
            Value::map([
                ("payload", Value::str(json_text(raised))),
                (
                    "context",
                    Value::str(wfsim_engine::error::message(raised).unwrap_or_default()),
                ),
                (
                    "stackTrace",
                    Value::map([("elements", Value::list(elements))]),
                ),
            ]),
        ));
    }
    Value::map(m)
}

/// A protobuf `Duration` as JSON writes it: `5s`, `0.25s`.
fn duration_text(nanos: u64) -> String {
    let (secs, frac) = (nanos / 1_000_000_000, nanos % 1_000_000_000);
    if frac == 0 {
        format!("{secs}s")
    } else {
        format!("{secs}.{}s", format!("{frac:09}").trim_end_matches('0'))
    }
}

fn json_text(v: &Value) -> String {
    v.to_json().map_or_else(|_| show(v), |j| j.to_string())
}

/// What the calling execution is: the defaults of `run`'s `project_id` and `location`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Here {
    pub project: String,
    pub location: String,
}

/// A host's executions, as the connector needs them. Executions are the host's indices.
pub trait Children {
    /// Starts an execution of `workflow` with `argument`, started by execution `parent`:
    /// its index, or why not as the answer to the call (404 for a workflow not deployed).
    fn start(
        &mut self,
        parent: usize,
        workflow: &WorkflowRef,
        argument: Option<Value>,
    ) -> Result<usize, HttpOutcome>;
    /// The execution `name` names, if the host has it.
    fn find(&self, name: &ExecRef) -> Option<usize>;
    /// Whether `workflow` is deployed (a `list` of a workflow that is not is 404).
    fn is_deployed(&self, workflow: &WorkflowRef) -> bool;
    /// The executions of `workflow`, in start order.
    fn list(&self, workflow: &WorkflowRef) -> Vec<usize>;
    fn snapshot(&self, i: usize) -> Snapshot;
    /// Cancels an ACTIVE execution; `false` when it had ended.
    fn cancel(&mut self, i: usize) -> bool;
}

/// What the host does with a call.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Answer the call now with this.
    Answer(HttpOutcome),
    /// Answer it when child `i` ends, with [`ended`]`(method, …)`.
    Wait { child: usize, method: Method },
}

/// HT-10: carries out call `name` (`args` as the step gave them) of execution `from`, which
/// runs in `here`. `None` when `name` is not this connector's.
pub fn call<H: Children>(
    host: &mut H,
    from: usize,
    here: &Here,
    name: &str,
    args: &Value,
) -> Option<Step> {
    let method = method(name)?;
    Some(match carry_out(host, from, here, name, method, args) {
        Ok(step) => step,
        Err(raised) => Step::Answer(HttpOutcome::Returned(Err(raised))),
    })
}

fn carry_out<H: Children>(
    host: &mut H,
    from: usize,
    here: &Here,
    name: &str,
    method: Method,
    args: &Value,
) -> Result<Step, Raised> {
    let skip_polling = match args
        .get("connector_params")
        .and_then(|p| p.get("skip_polling"))
    {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(builtin(
                Tag::TypeError,
                format!(
                    "{name}: connector_params.skip_polling must be a boolean, got {}",
                    other.a_type()
                ),
            ));
        }
    };
    let answer = |v: Value| Ok(Step::Answer(HttpOutcome::Returned(Ok(v))));
    match method {
        Method::Run => {
            let workflow = WorkflowRef {
                project: optional_string(name, args, "project_id")?
                    .unwrap_or_else(|| here.project.clone()),
                location: optional_string(name, args, "location")?
                    .unwrap_or_else(|| here.location.clone()),
                workflow: required_string(name, args, "workflow_id")?,
            };
            let argument = args.get("argument").filter(|a| **a != Value::Null).cloned();
            match host.start(from, &workflow, argument) {
                Err(outcome) => Ok(Step::Answer(outcome)),
                // The reference: with skip_polling, run returns nothing.
                Ok(_) if skip_polling => answer(Value::Null),
                Ok(child) => Ok(Step::Wait { child, method }),
            }
        }
        Method::Create => {
            let workflow = parent_arg(name, args)?;
            let argument = match args.get("body") {
                None | Some(Value::Null) => None,
                Some(Value::Map(b)) => create_argument(name, b.get("argument"))?,
                Some(other) => {
                    return Err(type_error(name, "body", "a map", other));
                }
            };
            match host.start(from, &workflow, argument) {
                Err(outcome) => Ok(Step::Answer(outcome)),
                Ok(child) if skip_polling => answer(resource(&host.snapshot(child))),
                Ok(child) => Ok(Step::Wait { child, method }),
            }
        }
        Method::Get => match host.find(&exec_arg(name, args)?) {
            Some(i) => answer(resource(&host.snapshot(i))),
            None => Ok(Step::Answer(not_found_name(&required_string(
                name, args, "name",
            )?))),
        },
        Method::List => {
            let workflow = parent_arg(name, args)?;
            if !host.is_deployed(&workflow) {
                return Ok(Step::Answer(not_found_name(&workflow.name())));
            }
            let (offset, size) = match page(name, args)? {
                Ok(page) => page,
                Err(refused) => return Ok(Step::Answer(refused)),
            };
            // GCP lists the newest first.
            let all = host.list(&workflow);
            let executions = all
                .iter()
                .rev()
                .skip(offset)
                .take(size)
                .map(|&i| resource(&host.snapshot(i)))
                .collect();
            let mut out = vec![("executions", Value::list(executions))];
            if offset.saturating_add(size) < all.len() {
                out.push(("nextPageToken", Value::str(page_token(offset + size))));
            }
            answer(Value::map(out))
        }
        Method::Cancel => {
            let Some(i) = host.find(&exec_arg(name, args)?) else {
                return Ok(Step::Answer(not_found_name(&required_string(
                    name, args, "name",
                )?)));
            };
            if host.cancel(i) {
                answer(resource(&host.snapshot(i)))
            } else {
                let state = host.snapshot(i).state;
                Ok(Step::Answer(api_error(
                    400,
                    "FAILED_PRECONDITION",
                    &format!("the execution is {state}; only an ACTIVE execution can be cancelled"),
                )))
            }
        }
    }
}

/// The answer to a `run` or `create` that waited, once its child has ended: `run` the
/// result, `create` the Execution resource; a child that failed or was cancelled raises
/// `OperationError` with the resource as `operation`.
pub fn ended(method: Method, child: &Snapshot) -> HttpOutcome {
    HttpOutcome::Returned(match (child.state, method) {
        (ExecutionState::Succeeded, Method::Run) => Ok(child.result.clone().unwrap_or(Value::Null)),
        (ExecutionState::Succeeded, _) => Ok(resource(child)),
        (state, _) => Err(Value::map([
            (
                "message",
                Value::str(format!(
                    "the child execution {} ended {}",
                    child.name,
                    state.as_str()
                )),
            ),
            ("operation", resource(child)),
            ("tags", Value::list(vec![Value::str(OPERATION_ERROR)])),
        ])),
    })
}

/// 404 for `name`, as the API answers it.
fn not_found_name(name: &str) -> HttpOutcome {
    not_found(&format!("Resource '{name}' was not found"))
}

/// A 404 with `message`, as the API answers it.
pub fn not_found(message: &str) -> HttpOutcome {
    api_error(404, "NOT_FOUND", message)
}

/// An API error as GCP's REST API writes it: `{error: {code, message, status}}`.
fn api_error(code: u16, status: &str, message: &str) -> HttpOutcome {
    let body = serde_json::json!({"error": {"code": code, "message": message, "status": status}});
    HttpOutcome::Response(HttpResponse {
        status: code,
        headers: vec![(
            "Content-Type".to_owned(),
            "application/json; charset=utf-8".to_owned(),
        )],
        body: body.to_string().into_bytes(),
    })
}

/// `list`'s page size when none is given, and the most it returns (a larger one is coerced
/// down), as the API's reference says for the BASIC view.
const PAGE_SIZE_DEFAULT: usize = 100;
const PAGE_SIZE_MAX: usize = 1000;

/// A page token: where the next page starts in the newest-first list, the form live mode's
/// REST list gives (`wfsim-N`), so a token reads the same from either.
fn page_token(offset: usize) -> String {
    format!("wfsim-{offset}")
}

/// `list`'s `pageSize` and `pageToken` as (offset, size); a size of 0 or none is the
/// default. A negative size or a token this host did not give is the API's 400 (the
/// answer), a value of the wrong type a `TypeError`.
fn page(name: &str, args: &Value) -> Result<Result<(usize, usize), HttpOutcome>, Raised> {
    let size = match args.get("pageSize") {
        None | Some(Value::Null) | Some(Value::Int(0)) => PAGE_SIZE_DEFAULT,
        Some(Value::Int(n)) if *n > 0 => {
            usize::try_from(*n).map_or(PAGE_SIZE_MAX, |n| n.min(PAGE_SIZE_MAX))
        }
        Some(Value::Int(n)) => {
            return Ok(Err(api_error(
                400,
                "INVALID_ARGUMENT",
                &format!("pageSize={n} must be 0 or more"),
            )));
        }
        Some(other) => return Err(type_error(name, "pageSize", "an integer", other)),
    };
    let offset = match optional_string(name, args, "pageToken")?.filter(|t| !t.is_empty()) {
        None => 0,
        Some(token) => match token
            .strip_prefix("wfsim-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| page_token(n) == token)
        {
            Some(offset) => offset,
            None => {
                return Ok(Err(api_error(
                    400,
                    "INVALID_ARGUMENT",
                    &format!("pageToken '{token}' is not one this list gave (use nextPageToken)"),
                )));
            }
        },
    };
    Ok(Ok((offset, size)))
}

fn type_error(name: &str, arg: &str, want: &str, got: &Value) -> Raised {
    builtin(
        Tag::TypeError,
        format!("{name}: {arg} must be {want}, got {}", got.a_type()),
    )
}

fn optional_string(name: &str, args: &Value, arg: &str) -> Result<Option<String>, Raised> {
    match args.get(arg) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.to_string())),
        Some(other) => Err(type_error(name, arg, "a string", other)),
    }
}

fn required_string(name: &str, args: &Value, arg: &str) -> Result<String, Raised> {
    optional_string(name, args, arg)?
        .ok_or_else(|| builtin(Tag::TypeError, format!("{name} needs argument '{arg}'")))
}

fn parent_arg(name: &str, args: &Value) -> Result<WorkflowRef, Raised> {
    let parent = required_string(name, args, "parent")?;
    WorkflowRef::parse(&parent).ok_or_else(|| {
        builtin(
            Tag::ValueError,
            format!(
                "{name}: parent '{parent}' is not projects/PROJECT/locations/LOCATION/workflows/WORKFLOW"
            ),
        )
    })
}

fn exec_arg(name: &str, args: &Value) -> Result<ExecRef, Raised> {
    let text = required_string(name, args, "name")?;
    ExecRef::parse(&text).ok_or_else(|| {
        builtin(
            Tag::ValueError,
            format!(
                "{name}: name '{text}' is not projects/PROJECT/locations/LOCATION/workflows/WORKFLOW/executions/ID"
            ),
        )
    })
}

/// `body.argument` of `create`: a JSON document in a string, as the REST resource has it.
fn create_argument(name: &str, a: Option<&Value>) -> Result<Option<Value>, Raised> {
    match a {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Str(text)) => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(j) => Ok(Some(Value::from_json(&j))),
            Err(e) => Err(builtin(
                Tag::ValueError,
                format!("{name}: body.argument must be a JSON document in a string: {e}"),
            )),
        },
        Some(other) => Err(type_error(
            name,
            "body.argument",
            "a JSON document in a string (json.encode_to_string of the argument)",
            other,
        )),
    }
}

/// The children a workflow names with a literal (`workflow_id: child`, or a `parent` or
/// `name` ending in `/workflows/child…`), each with where its call is written: what `wfsim
/// check` checks and a runner loads ahead. A name computed at run time is found then.
pub fn named(workflow: &Workflow) -> Vec<(String, Pos)> {
    calls(workflow)
        .into_iter()
        .filter_map(|(_, name, pos)| Some((name?, pos)))
        .collect()
}

/// The calls of `workflow` that start a child (`run`, `create`): (the connector function,
/// the child's name when written literally, where the call is written). A report links a
/// child to the one call that could have started it.
pub fn start_sites(workflow: &Workflow) -> Vec<(String, Option<String>, Pos)> {
    calls(workflow)
        .into_iter()
        .filter(|(f, _, _)| matches!(method(f), Some(Method::Run | Method::Create)))
        .collect()
}

/// Every call of the connector: (function, the workflow it names literally, place).
fn calls(workflow: &Workflow) -> Vec<(String, Option<String>, Pos)> {
    let mut out = Vec::new();
    let routines = std::iter::once(&workflow.main).chain(workflow.subworkflows.values());
    for r in routines {
        walk_block(&r.steps, &mut out);
    }
    out
}

fn walk_block(b: &Block, out: &mut Vec<(String, Option<String>, Pos)>) {
    for step in b.iter() {
        walk_action(&step.action, out);
    }
}

fn walk_action(a: &Action, out: &mut Vec<(String, Option<String>, Pos)>) {
    if let Action::Call(c) = a {
        if method(&c.func).is_some() {
            let literal = |k: &str| {
                c.args
                    .iter()
                    .find(|(n, _)| n == k)
                    .and_then(|(_, t)| match t {
                        Tmpl::Lit(Value::Str(s)) => Some(s.to_string()),
                        _ => None,
                    })
            };
            let name = literal("workflow_id")
                .or_else(|| {
                    literal("parent")
                        .and_then(|p| WorkflowRef::parse(&p))
                        .map(|w| w.workflow)
                })
                .or_else(|| {
                    literal("name")
                        .and_then(|n| ExecRef::parse(&n))
                        .map(|e| e.workflow.workflow)
                });
            out.push((c.func.to_string(), name, c.pos));
        }
    }
    for part in a.parts() {
        match part {
            Part::Case(c) => walk_action(&c.action, out),
            Part::Body(t) => walk_action(&t.body, out),
            Part::Steps(b) => walk_block(b, out),
            Part::Except(e) => walk_block(&e.steps, out),
            Part::Loop(f) => walk_block(&f.steps, out),
            Part::Parallel(p) => p
                .threads()
                .into_iter()
                .for_each(|(b, _)| walk_block(b, out)),
        }
    }
}

/// A child to load: its name, its file, and the file and place that name it.
type Wanted = (String, PathBuf, Option<(String, Pos)>);

/// The workflows a run may start as children, found as HT-10 says: a name the scenario maps
/// (`workflows: {child: child.yaml}`, paths relative to the scenario, in `named`) is that
/// file; any other name a workflow names literally is `NAME.yaml`, `.yml` or `.json` beside
/// that workflow; children's children likewise. Every mapped file is loaded, so a name
/// computed at run time finds it. Errors: each `file:line:column: message`, all of them.
pub fn library(
    parent: &Workflow,
    parent_path: &Path,
    named_files: &BTreeMap<String, PathBuf>,
) -> Result<Library, Vec<String>> {
    let mut lib = Library {
        dir: parent_path.parent().map(Path::to_path_buf),
        ..Library::default()
    };
    let mut errors = Vec::new();
    let mut todo: Vec<Wanted> = named_files
        .iter()
        .map(|(n, p)| (n.clone(), p.clone(), None))
        .collect();
    let queue_named = |w: &Workflow, path: &Path, todo: &mut Vec<_>| {
        let dir = path.parent().unwrap_or(Path::new("."));
        for (name, pos) in named(w) {
            if !named_files.contains_key(&name) {
                let file = beside(dir, &name);
                todo.push((name, file, Some((path.display().to_string(), pos))));
            }
        }
    };
    queue_named(parent, parent_path, &mut todo);
    let mut i = 0;
    while i < todo.len() {
        let (name, path, from) = todo[i].clone();
        i += 1;
        if lib.workflows.contains_key(&name) {
            continue;
        }
        match load(&name, &path, from) {
            Ok(w) => {
                queue_named(&w, &path, &mut todo);
                lib.workflows.insert(name, Rc::new(w));
            }
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(lib)
    } else {
        Err(errors)
    }
}
