//! Requests to callback endpoints (SPEC §3 over HTTP): the engine's slot rule decides,
//! with the token's verdict in its place; then the request is journaled, announced, and
//! the await it resumed runs, all before the answer goes out.

use wfsim_engine::callbacks::{Accepted, Auth, Rejection};
use wfsim_engine::{CallbackRequest, SimTime};

use super::State;
use crate::auth::{self, Denied};
use crate::host::{Close, Delivery, Observed, Sent, Taken};
use crate::message::ApiResponse;
use crate::parent::Parent;
use crate::wire;

/// What the slot rule made of a callback request ([`State::slot_rule`]).
struct Answered {
    res: ApiResponse,
    accepted: Option<Accepted>,
    /// The execution, if it exists.
    found: Option<usize>,
    changed: Option<bool>,
}

/// A callback request's headers, raw query and body, moved out of the `ApiRequest`.
pub(super) struct Payload {
    pub headers: Vec<(String, String)>,
    pub query: String,
    pub body: Vec<u8>,
}

/// Which callback a request is for, as its path names it.
#[derive(Clone, Copy)]
pub(super) struct CallbackPath<'a> {
    pub parent: &'a Parent,
    pub workflow: &'a str,
    /// The execution's id.
    pub id: &'a str,
    pub callback: &'a str,
}

impl State {
    /// A request to callback `callback` of execution `id`, answered, journaled and
    /// announced, with the await it resumed run.
    pub(super) fn callback(
        &mut self,
        now: SimTime,
        at: CallbackPath<'_>,
        method: &str,
        path: &str,
        payload: Payload,
    ) -> ApiResponse {
        let CallbackPath {
            parent,
            workflow,
            id,
            callback,
        } = at;
        // Read before the headers move into the engine's request (copied only when a client
        // sends one).
        let request_id =
            wfsim_engine::request::header(&payload.headers, "x-request-id").map(str::to_owned);
        let Answered {
            res,
            accepted,
            found,
            changed,
        } = self.slot_rule(now, at, method, path, payload);
        self.host.journal(|| {
            Observed::Callback(Delivery {
                at: now,
                workflow: workflow.to_owned(),
                execution: id.to_owned(),
                callback: callback.to_owned(),
                request_id,
                method: method.to_owned(),
                service: None,
                status: res.status,
                buffered: accepted == Some(Accepted::Buffered),
                changed,
            })
        });
        if self.host.hears_events() {
            let name = format!(
                "{}/executions/{id}/callbacks/{callback}",
                wire::workflow_name(parent, workflow)
            );
            let mut detail = vec![
                ("method", method.to_owned()),
                ("status", res.status.to_string()),
            ];
            if accepted == Some(Accepted::Buffered) {
                detail.push(("stored", "true".to_owned()));
            }
            self.host.event(now, "callback.answered", name, detail);
        }
        // The await it resumed runs now, before the answer goes out, journaled after the
        // request that woke it. **(decision)** So a later request of the same clock tick
        // finds the execution as this one left it (the engine's scripted runner instead
        // delivers every request of an instant first: the eleventh request of CB-12).
        // Timers of the tick still wait for its requests.
        if let Some(i) = found {
            let sent = Sent {
                callback,
                method,
                status: res.status,
                message: (res.status != 200).then(|| error_message(&res.body)),
                accepted,
            };
            self.host.record_request(i, now, sent);
            self.host.run(i, now, Close::No);
        }
        res
    }

    /// SPEC §3 over HTTP: the engine's slot rule decides, with the token verdict in its
    /// place. The request's headers, query and body move into the engine's request.
    fn slot_rule(
        &mut self,
        now: SimTime,
        at: CallbackPath<'_>,
        method: &str,
        path: &str,
        payload: Payload,
    ) -> Answered {
        let CallbackPath {
            parent,
            workflow,
            id,
            callback,
        } = at;
        let i = match self.find(parent, workflow, id) {
            Ok(i) => i,
            Err(res) => {
                return Answered {
                    res,
                    accepted: None,
                    found: None,
                    changed: None,
                };
            }
        };
        let Payload {
            mut headers,
            query,
            body,
        } = payload;
        let authz = wfsim_engine::request::header(&headers, "authorization");
        let verdict = match self.tokens.check(authz, auth::CALLBACKS_SEND, now) {
            Ok(()) => Auth::Granted,
            Err(Denied::Unauthenticated(_)) => Auth::Unauthenticated,
            Err(Denied::PermissionDenied(_)) => Auth::PermissionDenied,
        };
        // The caller's token is not the workflow's business: it never reaches `http_request`.
        // **(decision)**
        headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
        let request = CallbackRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            headers,
            query,
            body,
        };
        let answered = |res, accepted, changed| Answered {
            res,
            accepted,
            found: Some(i),
            changed,
        };
        match self.host.deliver(i, now, callback, verdict, request) {
            // Over, as far as any caller can tell (SPEC §3: 404 once the execution is over).
            Taken::Over => answered(
                ApiResponse::error(
                    404,
                    "NOT_FOUND",
                    "the execution is over: it FAILED with a wfsim internal error",
                ),
                None,
                None,
            ),
            Taken::Crashed => answered(
                ApiResponse::error(
                    500,
                    "INTERNAL",
                    "wfsim failed this execution with an internal error while taking the request (a bug); the request was not kept",
                ),
                None,
                None,
            ),
            Taken::Answered {
                verdict: Ok(accepted),
                changed,
            } => answered(ApiResponse::empty_object(), Some(accepted), changed),
            Taken::Answered {
                verdict: Err(rejection),
                changed,
            } => {
                let mut res = ApiResponse::error(
                    rejection.http_status(),
                    rejection.google_status(),
                    rejection.to_string(),
                );
                if let Rejection::MethodNotAllowed { allow, .. } = rejection {
                    res.headers.push(("Allow".into(), allow.as_str().into()));
                }
                answered(res, None, changed)
            }
        }
    }
}

/// The message of an answer in Google's error shape (`{"error": {"message"}}`).
fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_default()
}
