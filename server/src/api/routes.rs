//! Routes: every method of the API is one [`Route`] in [`ROUTES`]: its REST method and
//! path template, the permission it needs, its handler (`executions.rs`, `callbacks.rs`,
//! `workflows.rs`, `clock.rs`, `tokens.rs`) and its gRPC twin (the full method name, how
//! the request message becomes the REST request, the response message). Parsing,
//! permissions, dispatch and the gRPC transcoder (`grpc.rs`) all read that one table, so
//! a new method is one entry. Here too: the checks every request passes (token, body
//! size, query, the parent a path names), and a panic in a handler answered 500.

use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;

use serde_json::{Map, Value as Json, json};
use wfsim_engine::SimTime;
use wfsim_engine::callbacks::BODY_BYTES_MAX;

use super::State;
use super::callbacks::{CallbackPath, Payload};
use super::query::Query;
use crate::auth;
use crate::host::{Level, panic_message};
use crate::message::{ApiRequest, ApiResponse};
use crate::parent::Parent;
use crate::proto::{Call, Rest, Status, decode, ex, lro, number, put, wf, workflow_body};

/// One method of the API.
pub(crate) struct Route {
    /// The HTTP method, or `*` for any (a callback endpoint takes them all).
    pub method: &'static str,
    /// Segments: literal, `{name}`, `{name}suffix` (`{execution}:cancel`), or last
    /// `{name=**}suffix`, which takes the rest of the path, slashes and all. The first
    /// template in the table that a path matches is its route's, so a template with a
    /// suffix comes before the one without. A method the template does not list is
    /// checked as its first entry (a read where there is one), then answered 405.
    pub path: &'static str,
    pub check: Check,
    /// The answer, an error one as `Err`. The request is `mut` for the slot rule alone,
    /// which moves its headers, query and body into the engine's request.
    pub handler: fn(&mut State, &mut Request<'_>) -> Result<ApiResponse, ApiResponse>,
    pub grpc: Option<Twin>,
}

/// What a request must hold before its handler runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// A token with this IAM permission; a body of at most 512 KiB; the API's query.
    Permission(&'static str),
    /// None here: the slot rule checks the token and the size at its own steps, and the
    /// query string is the workflow's to read (CB-7: `a=1&a=2` is a list).
    SlotRule,
}

/// A route's gRPC twin, as its `google.api.http` annotation says.
pub(crate) struct Twin {
    /// The full method name, as in the HTTP/2 path.
    pub name: &'static str,
    /// The request message as the REST request (sent with the route's method).
    pub request: fn(&[u8]) -> Result<Rest, Status>,
    pub response: Call,
}

/// A request as a handler sees it: parsed, checked, its path's variables by name. The
/// [`ApiRequest`]'s fields are borrowed apart: the path is read by the variables while a
/// callback's headers, query and body are moved out ([`Request::take_payload`]); the
/// method and path stay for the 500 and the debug line that name them after the handler.
pub(crate) struct Request<'a> {
    pub now: SimTime,
    pub method: &'a str,
    pub path: &'a str,
    pub query: Query,
    headers: &'a mut Vec<(String, String)>,
    query_text: &'a mut String,
    body: &'a mut Vec<u8>,
    vars: Vars<'a>,
    /// `projects/{project}/locations/{location}` of the path, when its template has them.
    parent: Option<Parent>,
}

/// A path's variables by name, held in place: a `Vec` was an allocation per request.
#[derive(Clone, Copy, Debug)]
pub(super) struct Vars<'a> {
    list: [(&'static str, &'a str); VARS_MAX],
    len: usize,
}

/// Variables a template has at most: a step entry's path has five (a test holds the table
/// to it; [`Template::compile`] refuses more).
const VARS_MAX: usize = 6;

impl<'a> Vars<'a> {
    fn new() -> Vars<'a> {
        Vars {
            list: [("", ""); VARS_MAX],
            len: 0,
        }
    }

    fn clear(&mut self) {
        self.len = 0;
    }

    fn push(&mut self, var: (&'static str, &'a str)) {
        self.list[self.len] = var;
        self.len += 1;
    }
}

impl<'a> std::ops::Deref for Vars<'a> {
    type Target = [(&'static str, &'a str)];

    fn deref(&self) -> &Self::Target {
        &self.list[..self.len]
    }
}

impl<'a> Request<'a> {
    /// The path's variable `name`; a name the template lacks is a bug (answered 500).
    fn var(&self, name: &str) -> &'a str {
        let found = self.vars.iter().find(|(n, _)| *n == name);
        found
            .unwrap_or_else(|| panic!("the route has no variable {name}"))
            .1
    }

    /// The parent the path names; a template without one is a bug (answered 500).
    fn parent(&self) -> &Parent {
        self.parent
            .as_ref()
            .unwrap_or_else(|| panic!("the route has no parent"))
    }

    fn body(&self) -> &[u8] {
        self.body
    }

    /// The headers, raw query and body, left empty in the request.
    fn take_payload(&mut self) -> Payload {
        Payload {
            headers: std::mem::take(self.headers),
            query: std::mem::take(self.query_text),
            body: std::mem::take(self.body),
        }
    }
}

const WORKFLOWS: &str = "/v1/projects/{project}/locations/{location}/workflows";
const WORKFLOW: &str = "/v1/projects/{project}/locations/{location}/workflows/{workflow}";
const EXECUTIONS: &str =
    "/v1/projects/{project}/locations/{location}/workflows/{workflow}/executions";
const EXECUTION: &str =
    "/v1/projects/{project}/locations/{location}/workflows/{workflow}/executions/{execution}";

/// Every method of the API, REST and gRPC. Tried in order: a callback, the request a
/// server gets most, comes first (its template matches no other route's paths).
pub(crate) static ROUTES: &[Route] = &[
    Route {
        method: "*",
        path: "/v1/projects/{project}/locations/{location}/workflows/{workflow}/executions/{execution}/callbacks/{callback}",
        check: Check::SlotRule,
        handler: |s, r| {
            let payload = r.take_payload();
            let at = CallbackPath {
                parent: r.parent(),
                workflow: r.var("workflow"),
                id: r.var("execution"),
                callback: r.var("callback"),
            };
            Ok(s.callback(r.now, at, r.method, r.path, payload))
        },
        grpc: None,
    },
    Route {
        method: "GET",
        path: WORKFLOWS,
        check: Check::Permission(auth::WORKFLOWS_LIST),
        handler: |s, r| s.workflows_list(r.parent(), &r.query),
        grpc: Some(Twin {
            name: "/google.cloud.workflows.v1.Workflows/ListWorkflows",
            request: |m| {
                let r: wf::ListWorkflowsRequest = decode(m)?;
                Ok(Rest {
                    path: format!("/v1/{}/workflows", r.parent),
                    params: vec![
                        ("pageSize", number(r.page_size)),
                        ("pageToken", r.page_token),
                        ("filter", r.filter),
                        ("orderBy", r.order_by),
                    ],
                    body: Json::Null,
                })
            },
            response: Call::ListWorkflows,
        }),
    },
    Route {
        method: "POST",
        path: WORKFLOWS,
        check: Check::Permission(auth::WORKFLOWS_CREATE),
        handler: |s, r| s.workflow_create(r.now, r.parent(), &r.query, r.body()),
        grpc: Some(Twin {
            name: "/google.cloud.workflows.v1.Workflows/CreateWorkflow",
            request: |m| {
                let r: wf::CreateWorkflowRequest = decode(m)?;
                Ok(Rest {
                    body: workflow_body(&r.workflow.unwrap_or_default()),
                    params: vec![("workflowId", r.workflow_id)],
                    path: format!("/v1/{}/workflows", r.parent),
                })
            },
            response: Call::Operation,
        }),
    },
    Route {
        method: "GET",
        path: "/v1/projects/{project}/locations/{location}/workflows/{workflow}:listRevisions",
        check: Check::Permission(auth::WORKFLOWS_GET),
        handler: |s, r| s.revisions_list(r.parent(), r.var("workflow"), &r.query),
        grpc: Some(Twin {
            name: "/google.cloud.workflows.v1.Workflows/ListWorkflowRevisions",
            request: |m| {
                let r: wf::ListWorkflowRevisionsRequest = decode(m)?;
                Ok(Rest {
                    path: format!("/v1/{}:listRevisions", r.name),
                    params: vec![
                        ("pageSize", number(r.page_size)),
                        ("pageToken", r.page_token),
                    ],
                    body: Json::Null,
                })
            },
            response: Call::ListRevisions,
        }),
    },
    Route {
        method: "GET",
        path: WORKFLOW,
        check: Check::Permission(auth::WORKFLOWS_GET),
        handler: |s, r| s.workflow_get(r.parent(), r.var("workflow"), &r.query),
        grpc: Some(Twin {
            name: "/google.cloud.workflows.v1.Workflows/GetWorkflow",
            request: |m| {
                let r: wf::GetWorkflowRequest = decode(m)?;
                Ok(Rest {
                    path: format!("/v1/{}", r.name),
                    params: vec![("revisionId", r.revision_id)],
                    body: Json::Null,
                })
            },
            response: Call::Workflow,
        }),
    },
    Route {
        method: "PATCH",
        path: WORKFLOW,
        check: Check::Permission(auth::WORKFLOWS_UPDATE),
        handler: |s, r| s.workflow_patch(r.now, r.parent(), r.var("workflow"), &r.query, r.body()),
        grpc: Some(Twin {
            name: "/google.cloud.workflows.v1.Workflows/UpdateWorkflow",
            request: |m| {
                let r: wf::UpdateWorkflowRequest = decode(m)?;
                let w = r.workflow.unwrap_or_default();
                let mask = r.update_mask.map(|m| m.paths.join(",")).unwrap_or_default();
                Ok(Rest {
                    path: format!("/v1/{}", w.name),
                    params: vec![("updateMask", mask)],
                    body: workflow_body(&w),
                })
            },
            response: Call::Operation,
        }),
    },
    Route {
        method: "DELETE",
        path: WORKFLOW,
        check: Check::Permission(auth::WORKFLOWS_DELETE),
        handler: |s, r| s.workflow_delete(r.now, r.parent(), r.var("workflow"), &r.query),
        grpc: Some(Twin {
            name: "/google.cloud.workflows.v1.Workflows/DeleteWorkflow",
            request: |m| {
                let r: wf::DeleteWorkflowRequest = decode(m)?;
                Ok(Rest::path(format!("/v1/{}", r.name)))
            },
            response: Call::Operation,
        }),
    },
    Route {
        method: "GET",
        path: "/v1/projects/{project}/locations/{location}/operations/{operation}",
        check: Check::Permission(auth::OPERATIONS_GET),
        handler: |s, r| s.operation_get(r.parent(), r.var("operation"), &r.query),
        grpc: Some(Twin {
            name: "/google.longrunning.Operations/GetOperation",
            request: |m| {
                let r: lro::GetOperationRequest = decode(m)?;
                Ok(Rest::path(format!("/v1/{}", r.name)))
            },
            response: Call::Operation,
        }),
    },
    Route {
        method: "GET",
        path: EXECUTIONS,
        check: Check::Permission(auth::EXECUTIONS_LIST),
        handler: |s, r| s.list(r.parent(), r.var("workflow"), &r.query),
        grpc: Some(Twin {
            name: "/google.cloud.workflows.executions.v1.Executions/ListExecutions",
            request: |m| {
                let r: ex::ListExecutionsRequest = decode(m)?;
                Ok(Rest {
                    path: format!("/v1/{}/executions", r.parent),
                    params: vec![
                        ("pageSize", number(r.page_size)),
                        ("pageToken", r.page_token),
                        ("view", number(r.view)),
                        ("filter", r.filter),
                        ("orderBy", r.order_by),
                    ],
                    body: Json::Null,
                })
            },
            response: Call::ListExecutions,
        }),
    },
    Route {
        method: "POST",
        path: EXECUTIONS,
        check: Check::Permission(auth::EXECUTIONS_CREATE),
        handler: |s, r| s.create(r.now, r.parent(), r.var("workflow"), &r.query, r.body()),
        grpc: Some(Twin {
            name: "/google.cloud.workflows.executions.v1.Executions/CreateExecution",
            request: |m| {
                let r: ex::CreateExecutionRequest = decode(m)?;
                let e = r.execution.unwrap_or_default();
                let mut body = Map::new();
                put(&mut body, "argument", json!(e.argument));
                put(&mut body, "callLogLevel", json!(e.call_log_level));
                put(&mut body, "labels", json!(e.labels));
                Ok(Rest {
                    path: format!("/v1/{}/executions", r.parent),
                    params: Vec::new(),
                    body: Json::Object(body),
                })
            },
            response: Call::Execution,
        }),
    },
    Route {
        method: "POST",
        path: "/v1/projects/{project}/locations/{location}/workflows/{workflow}/executions/{execution}:cancel",
        check: Check::Permission(auth::EXECUTIONS_CANCEL),
        handler: |s, r| {
            let (workflow, id) = (r.var("workflow"), r.var("execution"));
            s.cancel(r.now, r.parent(), workflow, id, &r.query)
        },
        grpc: Some(Twin {
            name: "/google.cloud.workflows.executions.v1.Executions/CancelExecution",
            request: |m| {
                let r: ex::CancelExecutionRequest = decode(m)?;
                Ok(Rest::path(format!("/v1/{}:cancel", r.name)))
            },
            response: Call::Execution,
        }),
    },
    Route {
        method: "GET",
        path: EXECUTION,
        check: Check::Permission(auth::EXECUTIONS_GET),
        handler: |s, r| s.get(r.parent(), r.var("workflow"), r.var("execution"), &r.query),
        grpc: Some(Twin {
            name: "/google.cloud.workflows.executions.v1.Executions/GetExecution",
            request: |m| {
                let r: ex::GetExecutionRequest = decode(m)?;
                Ok(Rest {
                    path: format!("/v1/{}", r.name),
                    params: vec![("view", number(r.view))],
                    body: Json::Null,
                })
            },
            response: Call::Execution,
        }),
    },
    Route {
        method: "GET",
        path: "/v1/projects/{project}/locations/{location}/workflows/{workflow}/executions/{execution}/callbacks",
        check: Check::Permission(auth::EXECUTIONS_GET),
        handler: |s, r| Ok(s.callbacks(r.parent(), r.var("workflow"), r.var("execution"))),
        grpc: None,
    },
    Route {
        method: "GET",
        path: "/v1/projects/{project}/locations/{location}/workflows/{workflow}/executions/{execution}/logs",
        check: Check::Permission(auth::EXECUTIONS_GET),
        handler: |s, r| s.logs(r.parent(), r.var("workflow"), r.var("execution"), &r.query),
        grpc: None,
    },
    // Step entries (EX-8): REST only, as in the discovery document.
    Route {
        method: "GET",
        path: "/v1/projects/{project}/locations/{location}/workflows/{workflow}/executions/{execution}/stepEntries",
        check: Check::Permission(auth::EXECUTIONS_GET),
        handler: |s, r| {
            s.step_entries_list(r.parent(), r.var("workflow"), r.var("execution"), &r.query)
        },
        grpc: None,
    },
    Route {
        method: "GET",
        path: "/v1/projects/{project}/locations/{location}/workflows/{workflow}/executions/{execution}/stepEntries/{entry}",
        check: Check::Permission(auth::EXECUTIONS_GET),
        handler: |s, r| {
            let (workflow, id) = (r.var("workflow"), r.var("execution"));
            s.step_entry_get(r.parent(), workflow, id, r.var("entry"), &r.query)
        },
        grpc: None,
    },
    Route {
        method: "POST",
        path: "/v1/projects/-/serviceAccounts/{account=**}:generateAccessToken",
        check: Check::Permission(auth::GET_ACCESS_TOKEN),
        handler: |s, r| s.generate_token(r.now, r.var("account"), r.body()),
        grpc: None,
    },
    // wfsim's own, for integration tests.
    Route {
        method: "GET",
        path: "/v1/wfsim/clock",
        check: Check::Permission(auth::EXECUTIONS_GET),
        handler: |s, r| Ok(s.clock_json(r.now)),
        grpc: None,
    },
    Route {
        method: "POST",
        path: super::events::EVENTS,
        check: Check::Permission(auth::EXECUTIONS_CREATE),
        handler: |s, r| s.event(r.now, &r.query, r.body()),
        grpc: None,
    },
    Route {
        method: "POST",
        path: "/v1/wfsim/clock:advance",
        check: Check::Permission(auth::CLOCK_ADVANCE),
        handler: |s, r| s.advance_clock(r.now, r.body()),
        grpc: None,
    },
];

/// A template compiled for matching: its literal head, then each variable with the literal
/// that follows its segment. Each of [`ROUTES`] is compiled once ([`compiled`]), so a
/// request's path is compared a literal at a time (`/workflows/` is one compare) and the
/// template's own bytes are not scanned again per request: the callback route, tried first
/// for every request, cost 2,500 instructions a match scanning both (callgrind, `live --api`).
#[derive(Debug)]
struct Template {
    head: &'static str,
    vars: Vec<Var>,
}

/// A variable's segment of a [`Template`].
#[derive(Debug)]
struct Var {
    name: &'static str,
    /// `{name=**}`: the rest of the path, slashes and all.
    greedy: bool,
    /// In the template's last segment: the rest of the path, which must have no slash.
    last: bool,
    /// The literal its segment ends with (`:cancel`), often none.
    suffix: &'static str,
    /// The literal after its segment, `/` first, up to the next variable's segment or the
    /// end: `/callbacks/`, or nothing after the last.
    then: &'static str,
}

impl Template {
    /// `template` as [`Route::path`] describes it; `None` for one that matches nothing (a
    /// `{` without its `}`), and for a greedy variable not in the last segment or more than
    /// [`VARS_MAX`] variables, which the table has none of (a test compiles it all).
    fn compile(template: &'static str) -> Option<Template> {
        let mut out = Template {
            head: "",
            vars: Vec::new(),
        };
        // The literal not yet placed starts here: the head's, or the last variable's `then`.
        let mut literal = 0;
        let mut at = 0;
        loop {
            let end = template[at..].find('/').map_or(template.len(), |i| at + i);
            let last = end == template.len();
            if let Some(open) = template[at..end].strip_prefix('{') {
                let (inner, suffix) = split_at_byte(open, b'}')?;
                out.place(&template[literal..at]);
                let greedy = inner.ends_with("=**");
                if greedy && !last || out.vars.len() == VARS_MAX {
                    return None;
                }
                out.vars.push(Var {
                    name: split_at_byte(inner, b'=').map_or(inner, |(n, _)| n),
                    greedy,
                    last,
                    suffix,
                    then: "",
                });
                literal = end;
            }
            if last {
                out.place(&template[literal..]);
                return Some(out);
            }
            at = end + 1;
        }
    }

    fn place(&mut self, literal: &'static str) {
        match self.vars.last_mut() {
            Some(var) => var.then = literal,
            None => self.head = literal,
        }
    }

    /// Whether `path` matches, its variables pushed on `vars` (left as they were when it
    /// does not match: the caller clears them). Allocates nothing.
    fn matches<'a>(&self, path: &'a str, vars: &mut Vars<'a>) -> bool {
        let Some(mut rest) = path.strip_prefix(self.head) else {
            return false;
        };
        for var in &self.vars {
            let here;
            if var.greedy || var.last {
                if !var.greedy && find_slash(rest).is_some() {
                    return false;
                }
                here = std::mem::take(&mut rest);
            } else {
                let Some(i) = find_slash(rest) else {
                    return false;
                };
                (here, rest) = rest.split_at(i);
            }
            let Some(value) = here.strip_suffix(var.suffix) else {
                return false;
            };
            vars.push((var.name, value));
            let Some(after) = rest.strip_prefix(var.then) else {
                return false;
            };
            rest = after;
        }
        rest.is_empty()
    }
}

/// [`ROUTES`]' templates compiled, in its order.
fn compiled() -> &'static [Option<Template>] {
    static COMPILED: OnceLock<Vec<Option<Template>>> = OnceLock::new();
    COMPILED.get_or_init(|| ROUTES.iter().map(|r| Template::compile(r.path)).collect())
}

/// The first `/` in `s`, by `memchr`'s search: a path's ids are 36 bytes, and a byte at a
/// time was half of a callback's match.
fn find_slash(s: &str) -> Option<usize> {
    memchr::memchr(b'/', s.as_bytes())
}

/// Whether `path` matches `template` (see [`Route::path`]), its variables pushed on `vars`
/// (left as they were when it does not match: the caller clears them).
#[cfg(test)]
fn matches<'a>(template: &'static str, path: &'a str, vars: &mut Vars<'a>) -> bool {
    Template::compile(template).is_some_and(|t| t.matches(path, vars))
}

/// The parent a path's `{project}` and `{location}` name (the one place a path's parent is
/// read); `None` for a path without one. Segments that cannot name one are 400, but 404 for
/// a callback: no execution lives there, and SPEC §3 answers that first.
fn parent_of(vars: &Vars<'_>, check: Check) -> Result<Option<Parent>, ApiResponse> {
    let var = |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    match (var("project"), var("location")) {
        (Some(project), Some(location)) => {
            Parent::parse(project, location)
                .map(Some)
                .map_err(|why| match check {
                    Check::Permission(_) => ApiResponse::error(400, "INVALID_ARGUMENT", why),
                    Check::SlotRule => ApiResponse::error(404, "NOT_FOUND", why),
                })
        }
        _ => Ok(None),
    }
}

/// Whether `path` ends as `template` requires: its last segment, a literal or a
/// variable's literal suffix (`{workflow}:listRevisions`), compared first, so that most of
/// the table is passed over without a scan of the path (a poll's path was matched against
/// a dozen templates before its own).
fn ends_fit(template: &str, path: &str) -> bool {
    // A variable last, without a suffix (a callback's `{callback}`): any ending fits.
    if template.ends_with('}') {
        return true;
    }
    let last = match template.bytes().rposition(|b| b == b'/') {
        Some(i) => &template[i + 1..],
        None => template,
    };
    match split_at_byte(last, b'}') {
        Some((_, suffix)) => path.ends_with(suffix),
        None => path
            .strip_suffix(last)
            .is_some_and(|before| before.ends_with('/')),
    }
}

/// `s` split around its first `byte` (ASCII), by a plain loop: segments are a few bytes
/// long, and `str::split`'s searcher cost more to set up than to search (matching a
/// callback's path took 6,900 instructions with it, 3,700 with this; callgrind, `live
/// --api`).
fn split_at_byte(s: &str, byte: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == byte)?;
    Some((&s[..i], &s[i + 1..]))
}

/// Whether `path` is a callback endpoint's: what the slot rule answers. Its route is the
/// table's first and its only one with that check (a test holds both), so this is whether
/// [`State::parse_route`] would find it, one template tried instead of the table: every
/// GET asks, twice (is it an input, and is it a read), and a poll's path matched late
/// cost 10,000 instructions a time.
pub(super) fn is_callback_path(path: &str) -> bool {
    let mut vars = Vars::new();
    compiled()[0]
        .as_ref()
        .is_some_and(|t| t.matches(path, &mut vars))
}

impl State {
    /// Answers one request at server time `now`.
    pub fn handle(&mut self, now: SimTime, req: &ApiRequest) -> ApiResponse {
        self.handle_owned(now, req.clone())
    }

    /// [`State::handle`] for a request the caller is done with (the hyper glue's): a
    /// callback's headers, query and body move into the engine's request, not copied.
    pub fn handle_owned(&mut self, now: SimTime, mut req: ApiRequest) -> ApiResponse {
        // Reads change nothing (a GET to a callback endpoint is no read), so the input log
        // leaves them out.
        let read = req.method == "GET" && !is_callback_path(&req.path);
        if !read {
            self.track(now, &req);
            if self.record_inputs {
                self.host.input(now, req.clone());
            }
        }
        self.advance(now);
        let res = self.guarded(now, &mut req, |s, req| s.route(now, req));
        if self.host.hears(Level::Debug) {
            self.request_answered(now, &req, &res);
        }
        res
    }

    /// `--log-level debug`: a line per API request (callbacks have `callback.answered`),
    /// with its status, and for an error the reason the client was given.
    fn request_answered(&mut self, now: SimTime, req: &ApiRequest, res: &ApiResponse) {
        if is_callback_path(&req.path) {
            return;
        }
        let mut detail = vec![
            ("method", req.method.clone()),
            ("status", res.status.to_string()),
        ];
        if res.status != 200 {
            let body: Json = serde_json::from_slice(&res.body).unwrap_or(Json::Null);
            if let Some(message) = body["error"]["message"].as_str() {
                detail.push(("error", message.to_owned()));
            }
        }
        self.host
            .event(now, "request.answered", req.path.clone(), detail);
    }

    /// Runs `route` for `req`; a panic in it (a wfsim bug) is counted, logged and answered
    /// 500 with its message, so one bad route loses neither the server nor the request.
    pub(super) fn guarded(
        &mut self,
        now: SimTime,
        req: &mut ApiRequest,
        route: impl FnOnce(&mut Self, &mut ApiRequest) -> ApiResponse,
    ) -> ApiResponse {
        let answered = std::panic::catch_unwind(AssertUnwindSafe(|| route(self, req)));
        // The answer is rendered: no index into the executions is held any more.
        self.host.drop_evicted();
        match answered {
            Ok(res) => res,
            Err(payload) => {
                let message = panic_message(payload.as_ref());
                let line = format!(
                    "{} ERROR    wfsim internal error answering {} {}: {message}",
                    self.host.wall(now),
                    req.method,
                    req.path
                );
                self.host.internal_error(line);
                ApiResponse::error(
                    500,
                    "INTERNAL",
                    format!("wfsim failed to answer this request (a bug): {message}"),
                )
            }
        }
    }

    fn route(&mut self, now: SimTime, req: &mut ApiRequest) -> ApiResponse {
        let ApiRequest {
            method,
            path,
            query: query_text,
            headers,
            body,
        } = req;
        let (method, path): (&str, &str) = (method, path);
        let (first, vars) = match self.parse_route(path) {
            Ok(r) => r,
            Err(res) => return res,
        };
        // The routes of one template are adjacent; the first stands for a method none lists.
        let found = ROUTES
            .iter()
            .skip_while(|r| !std::ptr::eq(*r, first))
            .take_while(|r| r.path == first.path)
            .find(|r| r.method == method || r.method == "*");
        if let Check::Permission(permission) = found.unwrap_or(first).check {
            let authz = wfsim_engine::request::header(headers, "authorization");
            if let Err(d) = self.tokens.check(authz, permission, now) {
                return ApiResponse::denied(d);
            }
            if body.len() > BODY_BYTES_MAX {
                // The slot rule answers 413 for callbacks at its own step; the API here.
                return ApiResponse::error(
                    413,
                    "INVALID_ARGUMENT",
                    format!("the request body is over {BODY_BYTES_MAX} bytes (512 KiB)"),
                );
            }
        }
        let api_query = match first.check {
            Check::Permission(_) => query_text.as_str(),
            Check::SlotRule => "",
        };
        let query = match Query::parse(api_query) {
            Ok(q) => q,
            Err(res) => return res,
        };
        let Some(route) = found else {
            return ApiResponse::error(
                405,
                "FAILED_PRECONDITION",
                format!("{method} is not supported on {path}"),
            );
        };
        let parent = match parent_of(&vars, route.check) {
            Ok(p) => p,
            Err(res) => return res,
        };
        let mut request = Request {
            now,
            method,
            path,
            query,
            headers,
            query_text,
            body,
            vars,
            parent,
        };
        (route.handler)(self, &mut request).unwrap_or_else(|e| e)
    }

    /// The first route whose template `path` matches, with the path's variables. Any
    /// project and location match, as in GCP: what is found there is the handler's
    /// business (`Request::parent`).
    pub(super) fn parse_route<'a>(
        &self,
        path: &'a str,
    ) -> Result<(&'static Route, Vars<'a>), ApiResponse> {
        // A callback's path has five.
        let mut vars = Vars::new();
        for (route, template) in ROUTES.iter().zip(compiled()) {
            vars.clear();
            let Some(template) = template else { continue };
            if ends_fit(route.path, path) && template.matches(path, &mut vars) {
                return Ok((route, vars));
            }
        }
        Err(ApiResponse::error(
            404,
            "NOT_FOUND",
            format!("no such API path: {path}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// `template` with its project and location the server's, every other variable its
    /// own name.
    fn filled(template: &str) -> String {
        let mut out = template
            .replace("{project}", "p")
            .replace("{location}", "l");
        while let Some(open) = out.find('{') {
            let close = open + out[open..].find('}').expect("closed");
            let name = out[open + 1..close]
                .split('=')
                .next()
                .unwrap_or("")
                .to_owned();
            out.replace_range(open..=close, &name);
        }
        out
    }

    /// The table's order is right (each template's own path finds it, not an earlier one)
    /// and every handler reads only variables its template has (a missing one panics,
    /// answered 500).
    #[test]
    fn every_route_is_found_by_its_own_path_and_answers() {
        let config = Config {
            auth: false,
            ..Config::new("p", "l", "http://wfsim.test")
        };
        for route in ROUTES {
            let mut s = State::new(config.clone(), 0);
            let path = filled(route.path);
            let (found, _) = s.parse_route(&path).expect("a route");
            assert_eq!(found.path, route.path, "{path}");
            let method = if route.method == "*" {
                "POST"
            } else {
                route.method
            };
            let req = ApiRequest {
                method: method.into(),
                path: path.clone(),
                query: String::new(),
                headers: Vec::new(),
                body: Vec::new(),
            };
            let res = s.handle(SimTime::ZERO, &req);
            assert_ne!(res.status, 500, "{method} {path}: {:?}", res.body);
        }
    }

    #[test]
    fn the_slot_rules_route_is_the_first_and_the_only_one() {
        assert_eq!(ROUTES[0].check, Check::SlotRule);
        assert!(ROUTES[1..].iter().all(|r| r.check != Check::SlotRule));
        for route in ROUTES {
            let path = filled(route.path);
            assert_eq!(
                is_callback_path(&path),
                route.check == Check::SlotRule,
                "{path}"
            );
        }
    }

    #[test]
    fn templates_match_whole_segments_and_a_greedy_variable_takes_slashes() {
        let mut vars = Vars::new();
        assert!(matches("/a/{x}/b", "/a/1/b", &mut vars));
        assert_eq!(vars[..], [("x", "1")]);
        for path in ["/a/1/b/c", "/a/1", "/a/1/bb", "/a//b/", "a/1/b"] {
            vars.clear();
            assert!(!matches("/a/{x}/b", path, &mut vars), "{path}");
        }
        vars.clear();
        assert!(matches("/t/{acc=**}:gen", "/t/p/q:gen", &mut vars));
        assert_eq!(vars[..], [("acc", "p/q")]);
        vars.clear();
        assert!(!matches("/t/{acc=**}:gen", "/t/p/q:get", &mut vars));
        vars.clear();
        assert!(matches("/c/{op}:run", "/c/x:run", &mut vars));
        assert_eq!(vars[..], [("op", "x")]);
        // What `ends_fit` passes over, `matches` refuses too.
        for (template, path) in [
            ("/c/{op}:run", "/c/x:ran"),
            ("/a/{x}/b", "/a/1/bb"),
            ("/a/{x}/b", "/a/1b"),
            ("/t/{acc=**}:gen", "/t/p/q:get"),
        ] {
            vars.clear();
            assert!(!ends_fit(template, path), "{template} {path}");
            assert!(!matches(template, path, &mut vars), "{template} {path}");
        }
        assert!(ends_fit("/a/{x}/b", "/a/1/b") && ends_fit("/c/{op}:run", "/c/x:run"));
        assert_eq!(split_at_byte("ab/c/d", b'/'), Some(("ab", "c/d")));
        assert_eq!(split_at_byte("abc", b'/'), None);
    }

    /// The matcher before templates were compiled (session 12), kept as the reference the
    /// compiled one is pinned to: a template's segments split off in turn, a literal
    /// compared whole, a variable taking its segment (the rest of the path when last or
    /// greedy).
    fn reference_matches<'a>(
        template: &'static str,
        path: &'a str,
        vars: &mut Vec<(&'static str, &'a str)>,
    ) -> bool {
        let mut rest = path;
        let mut template_rest = template;
        loop {
            let (segment, next) = match split_at_byte(template_rest, b'/') {
                Some((segment, next)) => (segment, Some(next)),
                None => (template_rest, None),
            };
            match segment.strip_prefix('{') {
                None => {
                    let Some(after) = rest.strip_prefix(segment) else {
                        return false;
                    };
                    if next.is_none() {
                        return after.is_empty();
                    }
                    let Some(after) = after.strip_prefix('/') else {
                        return false;
                    };
                    rest = after;
                }
                Some(open) => {
                    let Some((inner, suffix)) = split_at_byte(open, b'}') else {
                        return false;
                    };
                    let greedy = inner.ends_with("=**");
                    let here = if greedy || next.is_none() {
                        let all = std::mem::take(&mut rest);
                        if !greedy && all.bytes().any(|b| b == b'/') {
                            return false;
                        }
                        all
                    } else {
                        let Some((here, after)) = split_at_byte(rest, b'/') else {
                            return false;
                        };
                        rest = after;
                        here
                    };
                    let Some(value) = here.strip_suffix(suffix) else {
                        return false;
                    };
                    vars.push((split_at_byte(inner, b'=').map_or(inner, |(n, _)| n), value));
                }
            }
            match next {
                Some(next) => template_rest = next,
                None => return true,
            }
        }
    }

    /// Every template of the table, and the tests' own, matches what the reference matcher
    /// matches, with the same variables: on each one's own path, every path of another
    /// template, and each of those cut short, lengthened, with a byte changed, a slash
    /// added or a segment emptied.
    #[test]
    fn compiled_templates_match_as_the_reference_does() {
        let mut templates: Vec<&'static str> = ROUTES.iter().map(|r| r.path).collect();
        templates.extend([
            "/a/{x}/b",
            "/t/{acc=**}:gen",
            "/c/{op}:run",
            "/a/{x}{y}",
            "/{x}",
            "/",
        ]);
        assert!(compiled().iter().all(Option::is_some), "the table compiles");
        let mut paths = Vec::new();
        for t in &templates {
            let path = filled(t);
            for i in 0..=path.len() {
                paths.push(path[..i].to_owned());
                for insert in ["/", "x", ":cancel", "/x"] {
                    let mut p = path.clone();
                    p.insert_str(i, insert);
                    paths.push(p);
                }
                if i < path.len() {
                    let mut p = path.clone();
                    p.replace_range(i..=i, "x");
                    paths.push(p);
                }
            }
            paths.push(path.replace("/p/", "//"));
            paths.push(path);
        }
        paths.extend(
            ["", "/", "//", "/a//b", "/a/1/b/", "/t/p/q:gen/", "/t/:gen"].map(String::from),
        );
        for t in &templates {
            for path in &paths {
                let (mut want, mut got) = (Vec::new(), Vars::new());
                let expected = reference_matches(t, path, &mut want);
                assert_eq!(matches(t, path, &mut got), expected, "{t} {path}");
                if expected {
                    assert_eq!(got[..], want[..], "{t} {path}");
                }
            }
        }
    }

    /// `find_slash` finds the first slash wherever it is: in a word, past one, in the
    /// tail, after bytes a borrow could mistake (`.`, `0`, 0x80 and above), or none.
    #[test]
    fn find_slash_finds_the_first_slash() {
        let base = "ab.0\u{80}xyz0123456789-._é~abcdefgh";
        for len in 0..base.len() {
            let Some(s) = base.get(..len) else { continue };
            assert_eq!(find_slash(s), None, "{s}");
            for i in (0..=len).filter(|&i| s.is_char_boundary(i)) {
                for second in [None, Some(i)] {
                    let mut t = s.to_owned();
                    if let Some(j) = second {
                        t.insert(j, '/');
                    }
                    t.insert(i, '/');
                    assert_eq!(find_slash(&t), t.bytes().position(|b| b == b'/'), "{t}");
                }
            }
        }
    }

    #[test]
    fn grpc_method_names_are_unique() {
        let mut names: Vec<&str> = ROUTES
            .iter()
            .filter_map(|r| Some(r.grpc.as_ref()?.name))
            .collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all);
    }
}
