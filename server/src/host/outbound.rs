//! Outbound calls in live mode (SPEC §8, HT-9): each execution's `http.*` and connector
//! calls go first to the scripted services of `--services` (the same `services::Stubs` as
//! `wfsim run`, one per execution, answered on the server's clock, sans I/O), and what no
//! service matches goes to the network through `client.rs`, whose answers come back as
//! inputs ([`Host::answer`]).

use wfsim_engine::callbacks::{Accepted, Auth};
use wfsim_engine::http::{CallId, Callee, HttpCall, HttpOutcome};
use wfsim_engine::{CallbackRequest, SimTime};
use wfsim_harness::services::PendingCallback;

use super::output::{Delivery, Level, Observed, OutboundCall, Output};
use super::{Close, HELD, Host, Taken};

/// What a stub does next for an execution.
enum Due {
    Callback(PendingCallback),
    Answer(CallId, HttpOutcome),
}

impl Host {
    /// Runs the stub events of execution `i` due by `now` (its own clock's `local`), each at
    /// its own instant: at one instant, service callbacks before answers (HT-7).
    pub(super) fn run_stub_events(&mut self, i: usize, local: SimTime) {
        loop {
            let Some(stubs) = self
                .executions
                .get_mut(&i)
                .expect(HELD)
                .stubs
                .as_deref_mut()
            else {
                return;
            };
            let callback_at = stubs.callbacks.first_key_value().map(|(k, _)| k.0);
            let answer_at = stubs.answers.first_key_value().map(|(k, _)| k.0);
            let due = match (callback_at, answer_at) {
                (Some(c), a) if c <= local && a.is_none_or(|a| c <= a) => stubs
                    .callbacks
                    .pop_first()
                    .map(|((at, _), cb)| (at, Due::Callback(cb))),
                (_, Some(a)) if a <= local => stubs
                    .answers
                    .pop_first()
                    .map(|((at, _), (id, outcome))| (at, Due::Answer(id, outcome))),
                _ => None,
            };
            let Some((at, due)) = due else {
                return;
            };
            let server_at = self.executions[&i].clock.server(at);
            match due {
                Due::Answer(id, outcome) => {
                    self.call_answered(i, server_at, id, &outcome, "service");
                    // A late answer (the call timed out first) is ignored by the engine.
                    self.guarded(i, server_at, |ex| ex.answer_http(at, id, outcome));
                }
                Due::Callback(cb) => self.stub_callback(i, server_at, cb),
            }
        }
    }

    /// A service's callback (HT-7): a request to the endpoint its URL names, in any
    /// execution of this server, taken by the slot rule like any other and journaled; a
    /// URL that is no endpoint here is answered 404.
    fn stub_callback(&mut self, from: usize, now: SimTime, cb: PendingCallback) {
        let (url, query) = match cb.url.split_once('?') {
            Some((u, q)) => (u.to_owned(), q.to_owned()),
            None => (cb.url.clone(), String::new()),
        };
        let path = url
            .find("/v1/")
            .map_or_else(|| url.clone(), |p| url[p..].to_owned());
        let parts: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
        let target = match parts.as_slice() {
            [
                "projects",
                p,
                "locations",
                l,
                "workflows",
                w,
                "executions",
                e,
                "callbacks",
                c,
            ] => self
                .find(w, e)
                .filter(|&j| {
                    let parent = &self.executions[&j].parent;
                    parent.project == *p && parent.location == *l
                })
                .map(|j| (j, (*w).to_owned(), (*e).to_owned(), (*c).to_owned())),
            _ => None,
        };
        let Some((j, workflow, execution, callback)) = target else {
            self.journal(|| {
                Observed::Callback(Delivery {
                    at: now,
                    workflow: String::new(),
                    execution: String::new(),
                    callback: url,
                    request_id: None,
                    method: cb.method.unwrap_or_else(|| "POST".to_owned()),
                    service: Some(cb.service),
                    status: 404,
                    buffered: false,
                    changed: None,
                })
            });
            return;
        };
        let own_method = self.executions[&j].execution.with_callbacks(|cbs| {
            cbs.endpoint_by_callback_id(&callback)
                .and_then(|idx| cbs.endpoint(idx))
                .map(|ep| ep.method().as_str().to_owned())
        });
        let cb_service = cb.service;
        let method = cb
            .method
            .or(own_method)
            .unwrap_or_else(|| "POST".to_owned());
        let request = CallbackRequest {
            method: method.clone(),
            path,
            headers: cb.headers,
            query,
            body: cb.body,
        };
        let (status, buffered, changed) =
            match self.deliver(j, now, &callback, Auth::Granted, request) {
                Taken::Answered {
                    verdict: Ok(accepted),
                    changed,
                } => (200, accepted == Accepted::Buffered, changed),
                Taken::Answered {
                    verdict: Err(rejection),
                    changed,
                } => (rejection.http_status(), false, changed),
                Taken::Over => (404, false, None),
                Taken::Crashed => (500, false, None),
            };
        if self.hears_events() {
            let name = format!("{}/callbacks/{callback}", self.resource_name(j));
            let mut detail = vec![
                ("method", method.clone()),
                ("status", status.to_string()),
                ("from", format!("service {cb_service}")),
            ];
            if buffered {
                detail.push(("stored", "true".to_owned()));
            }
            self.event(now, "callback.answered", name, detail);
        }
        self.journal(|| {
            Observed::Callback(Delivery {
                at: now,
                workflow,
                execution,
                callback,
                request_id: None,
                method,
                service: Some(cb_service),
                status,
                buffered,
                changed,
            })
        });
        if j != from {
            self.run(j, now, Close::No);
        }
    }

    /// Takes the calls execution `i` made: a scripted service answers each it matches, the
    /// network the rest. `true` when a stub now has something due by `local`.
    pub(super) fn take_calls(&mut self, i: usize, now: SimTime, local: SimTime) -> bool {
        while let Some(Some(call)) = self.guarded(i, now, |ex| ex.poll_http_call()) {
            // HT-10: the Workflow Executions connector is the host's own (`children.rs`).
            if self.child_call(i, now, &call) {
                continue;
            }
            let described = self.hears(Level::Warn).then(|| describe(&call));
            let e = self.executions.get_mut(&i).expect(HELD);
            if let Some(d) = described {
                e.calls.insert(call.id, d);
            }
            if !e.stubs_mut().take_call(&call) {
                let out = OutboundCall {
                    workflow: e.workflow.clone(),
                    execution: e.id.to_string(),
                    call: call.clone(),
                };
                self.outputs.push(Output::Outbound(out));
                self.outbound.insert((i, call.id), call);
            }
        }
        self.executions[&i]
            .stubs
            .as_ref()
            .and_then(|s| s.next_due())
            .is_some_and(|t| t <= local)
    }

    /// The network's answer to call `id` of execution `i`, at server time `now`. Ignored
    /// when the call is no longer waiting (answered, or its execution is over).
    pub(crate) fn answer(&mut self, i: usize, now: SimTime, id: CallId, outcome: HttpOutcome) {
        if self.outbound.remove(&(i, id)).is_none() {
            return;
        }
        self.call_answered(i, now, id, &outcome, "network");
        let local = self.executions[&i].clock.local(now);
        self.guarded(i, now, |ex| ex.answer_http(local, id, outcome));
        self.run(i, now, Close::No);
    }
}

/// How the operator's log names a call: its method and URL, or the connector.
fn describe(call: &HttpCall) -> Vec<(&'static str, String)> {
    match &call.target {
        Callee::Http(r) => vec![("method", r.method.clone()), ("url", r.url.clone())],
        Callee::Connector { name, .. } => vec![("connector", name.clone())],
    }
}

impl Host {
    /// One `call.answered` line per outbound call of execution `i`: how it was called,
    /// and its status or why it failed, answered by `by` (a scripted service, the network).
    fn call_answered(
        &mut self,
        i: usize,
        now: SimTime,
        id: CallId,
        outcome: &HttpOutcome,
        by: &'static str,
    ) {
        let Some(mut detail) = self.exec_mut(i).calls.remove(&id) else {
            return;
        };
        match outcome {
            HttpOutcome::Response(r) => detail.push(("status", r.status.to_string())),
            HttpOutcome::ConnectionFailed(why) => {
                detail.push(("failed", format!("ConnectionFailedError: {why}")));
            }
            HttpOutcome::ConnectionError(why) => {
                detail.push(("failed", format!("ConnectionError: {why}")));
            }
            // A call the host carries out itself (a child workflow's, HT-10).
            HttpOutcome::Returned(Ok(_)) => detail.push(("returned", "a value".to_owned())),
            HttpOutcome::Returned(Err(_)) => detail.push(("raised", "an error".to_owned())),
        }
        detail.push(("by", by.to_owned()));
        let name = self.resource_name(i);
        self.event(now, "call.answered", name, detail);
    }
}
