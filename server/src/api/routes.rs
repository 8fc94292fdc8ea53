//! Routes: a request's path parsed into a [`Route`], the permission each route needs, the
//! checks every request passes (token, body size, query), and the dispatch to the handler
//! of each route (`executions.rs`, `callbacks.rs`, `workflows.rs`, `clock.rs`,
//! `tokens.rs`). A panic in a handler is answered 500 here. gRPC calls arrive already
//! transcoded to these routes (`grpc.rs`).

use std::panic::AssertUnwindSafe;

use wfsim_engine::SimTime;
use wfsim_engine::callbacks::BODY_BYTES_MAX;

use super::State;
use super::query::Query;
use crate::auth;
use crate::host::panic_message;
use crate::message::{ApiRequest, ApiResponse};

/// A route of the API, parsed from a path.
#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    /// `…/locations/L/workflows`: the Workflows API.
    Workflows,
    Workflow {
        workflow: &'a str,
    },
    Revisions {
        workflow: &'a str,
    },
    Operation {
        id: &'a str,
    },
    Executions {
        workflow: &'a str,
    },
    Execution {
        workflow: &'a str,
        id: &'a str,
    },
    Cancel {
        workflow: &'a str,
        id: &'a str,
    },
    Callbacks {
        workflow: &'a str,
        id: &'a str,
    },
    Logs {
        workflow: &'a str,
        id: &'a str,
    },
    Callback {
        workflow: &'a str,
        id: &'a str,
        callback: &'a str,
    },
    AccessToken {
        account: &'a str,
    },
    /// `/v1/wfsim/clock`: wfsim's own, for integration tests.
    Clock,
    /// `/v1/wfsim/clock:advance`.
    ClockAdvance,
}

impl Route<'_> {
    /// The IAM permission a request on this route needs (callbacks are checked inside the
    /// slot rule, at its step 2).
    fn permission(&self, method: &str) -> &'static str {
        match (self, method) {
            (Route::Workflows, "POST") => auth::WORKFLOWS_CREATE,
            (Route::Workflows, _) => auth::WORKFLOWS_LIST,
            (Route::Workflow { .. }, "PATCH") => auth::WORKFLOWS_UPDATE,
            (Route::Workflow { .. }, "DELETE") => auth::WORKFLOWS_DELETE,
            (Route::Workflow { .. } | Route::Revisions { .. }, _) => auth::WORKFLOWS_GET,
            (Route::Operation { .. }, _) => auth::OPERATIONS_GET,
            (Route::Executions { .. }, "POST") => auth::EXECUTIONS_CREATE,
            (Route::Executions { .. }, _) => auth::EXECUTIONS_LIST,
            (Route::Cancel { .. }, _) => auth::EXECUTIONS_CANCEL,
            (
                Route::Execution { .. }
                | Route::Callbacks { .. }
                | Route::Logs { .. }
                | Route::Clock,
                _,
            ) => auth::EXECUTIONS_GET,
            (Route::Callback { .. }, _) => auth::CALLBACKS_SEND,
            (Route::AccessToken { .. }, _) => auth::GET_ACCESS_TOKEN,
            (Route::ClockAdvance, _) => auth::CLOCK_ADVANCE,
        }
    }
}

impl State {
    /// Answers one request at server time `now`.
    pub fn handle(&mut self, now: SimTime, req: &ApiRequest) -> ApiResponse {
        // Reads change nothing (a GET to a callback endpoint is no read), so the input log
        // leaves them out.
        let read = req.method == "GET"
            && !matches!(self.parse_route(&req.path), Ok(Route::Callback { .. }));
        if self.record_inputs && !read {
            self.host.input(now, req.clone());
        }
        self.advance(now);
        self.guarded(now, req, |s| s.route(now, req))
    }

    /// Runs `route` for `req`; a panic in it (a wfsim bug) is counted, logged and answered
    /// 500 with its message, so one bad route loses neither the server nor the request.
    pub(super) fn guarded(
        &mut self,
        now: SimTime,
        req: &ApiRequest,
        route: impl FnOnce(&mut Self) -> ApiResponse,
    ) -> ApiResponse {
        let answered = std::panic::catch_unwind(AssertUnwindSafe(|| route(self)));
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

    fn route(&mut self, now: SimTime, req: &ApiRequest) -> ApiResponse {
        let route = match self.parse_route(&req.path) {
            Ok(r) => r,
            Err(res) => return res,
        };
        let authz = req.header("authorization").map(str::to_owned);
        if !matches!(route, Route::Callback { .. }) {
            let permission = route.permission(&req.method);
            if let Err(d) = self.tokens.check(authz.as_deref(), permission, now) {
                return ApiResponse::denied(d);
            }
        }
        let method = req.method.as_str();
        if !matches!(route, Route::Callback { .. }) && req.body.len() > BODY_BYTES_MAX {
            // The slot rule answers 413 for callbacks at its own step; the API here.
            return ApiResponse::error(
                413,
                "INVALID_ARGUMENT",
                format!("the request body is over {BODY_BYTES_MAX} bytes (512 KiB)"),
            );
        }
        // A callback's query string is the workflow's to read (CB-7: `a=1&a=2` is a list),
        // not the API's parameters.
        let api_query = if matches!(route, Route::Callback { .. }) {
            ""
        } else {
            &req.query
        };
        let query = match Query::parse(api_query) {
            Ok(q) => q,
            Err(res) => return res,
        };
        let answer = |r: Result<ApiResponse, ApiResponse>| r.unwrap_or_else(|e| e);
        match (route, method) {
            (Route::Workflows, "GET") => answer(self.workflows_list(&query)),
            (Route::Workflows, "POST") => answer(self.workflow_create(now, &query, &req.body)),
            (Route::Workflow { workflow }, "GET") => answer(self.workflow_get(workflow, &query)),
            (Route::Workflow { workflow }, "PATCH") => {
                answer(self.workflow_patch(now, workflow, &query, &req.body))
            }
            (Route::Workflow { workflow }, "DELETE") => {
                answer(self.workflow_delete(now, workflow, &query))
            }
            (Route::Revisions { workflow }, "GET") => answer(self.revisions_list(workflow, &query)),
            (Route::Operation { id }, "GET") => answer(self.operation_get(id, &query)),
            (Route::Executions { workflow }, "POST") => {
                answer(self.create(now, workflow, &query, &req.body))
            }
            (Route::Executions { workflow }, "GET") => answer(self.list(workflow, &query)),
            (Route::Execution { workflow, id }, "GET") => answer(self.get(workflow, id, &query)),
            (Route::Cancel { workflow, id }, "POST") => {
                answer(self.cancel(now, workflow, id, &query))
            }
            (Route::Callbacks { workflow, id }, "GET") => self.callbacks(workflow, id),
            (Route::Logs { workflow, id }, "GET") => answer(self.logs(workflow, id, &query)),
            (
                Route::Callback {
                    workflow,
                    id,
                    callback,
                },
                _,
            ) => self.callback(now, workflow, id, callback, req, authz.as_deref()),
            (Route::AccessToken { account }, "POST") => self
                .generate_token(now, account, &req.body)
                .unwrap_or_else(|e| e),
            (Route::Clock, "GET") => self.clock_json(now),
            (Route::ClockAdvance, "POST") => {
                self.advance_clock(now, &req.body).unwrap_or_else(|e| e)
            }
            (_, m) => ApiResponse::error(
                405,
                "FAILED_PRECONDITION",
                format!("{m} is not supported on {}", req.path),
            ),
        }
    }

    fn parse_route<'a>(&self, path: &'a str) -> Result<Route<'a>, ApiResponse> {
        let not_found =
            || ApiResponse::error(404, "NOT_FOUND", format!("no such API path: {path}"));
        match path {
            "/v1/wfsim/clock" => return Ok(Route::Clock),
            "/v1/wfsim/clock:advance" => return Ok(Route::ClockAdvance),
            _ => {}
        }
        if let Some(rest) = path.strip_prefix("/v1/projects/-/serviceAccounts/") {
            let account = rest
                .strip_suffix(":generateAccessToken")
                .ok_or_else(not_found)?;
            return Ok(Route::AccessToken { account });
        }
        let rest = path.strip_prefix("/v1/projects/").ok_or_else(not_found)?;
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.len() < 4 || parts[1] != "locations" {
            return Err(not_found());
        }
        if parts[0] != self.config.project || parts[2] != self.config.location {
            return Err(ApiResponse::error(
                404,
                "NOT_FOUND",
                format!(
                    "this server serves project '{}' in location '{}' (see --project, --location), not '{}' in '{}'",
                    self.config.project, self.config.location, parts[0], parts[2]
                ),
            ));
        }
        match &parts[3..] {
            ["workflows"] => Ok(Route::Workflows),
            ["workflows", w] => match w.strip_suffix(":listRevisions") {
                Some(workflow) => Ok(Route::Revisions { workflow }),
                None => Ok(Route::Workflow { workflow: w }),
            },
            ["operations", id] => Ok(Route::Operation { id }),
            ["workflows", workflow, "executions", rest @ ..] => match rest {
                [] => Ok(Route::Executions { workflow }),
                [id] => match id.strip_suffix(":cancel") {
                    Some(id) => Ok(Route::Cancel { workflow, id }),
                    None => Ok(Route::Execution { workflow, id }),
                },
                [id, "callbacks"] => Ok(Route::Callbacks { workflow, id }),
                [id, "logs"] => Ok(Route::Logs { workflow, id }),
                [id, "callbacks", callback] => Ok(Route::Callback {
                    workflow,
                    id,
                    callback,
                }),
                _ => Err(not_found()),
            },
            _ => Err(not_found()),
        }
    }
}
