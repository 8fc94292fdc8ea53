//! The input log and its replay: every request that changes something, and every input
//! that is not a request (a deploy from a file, `--execute`, an auto clock's jump, the
//! network's answer to an outbound call, a change of `--keep-ended`), kept with its time,
//! so that a fresh state fed the log becomes the old one (a restart, `--state-dir`).

use serde_json::json;
use wfsim_engine::SimTime;
use wfsim_engine::http::{CallId, HttpOutcome, HttpResponse};

use super::State;
use crate::message::ApiRequest;
use crate::parent::Parent;

/// Where the input log keeps inputs that are not requests; `route` serves nothing here, so
/// no request can pass for one.
pub(super) const INTERNAL: &str = "/v1/wfsim/internal/";

impl State {
    /// Keep every request handled from now on, with its time: the input log that
    /// [`State::replay`] turns back into this state.
    pub fn record_inputs(&mut self) {
        self.record_inputs = true;
    }

    /// Handles `inputs` again, answers discarded, then brings timers up to `now`: a fresh
    /// state fed the log of another becomes that state (every id, timer and answer comes
    /// from the seed and the inputs), with the timers that fell due since then fired at
    /// their own instants. This is what a restart means: the real service keeps executions
    /// durably, so a crash loses connections, not executions.
    pub fn replay(&mut self, inputs: &[(SimTime, ApiRequest)], now: SimTime) {
        for (at, req) in inputs {
            match req.path.strip_prefix(INTERNAL) {
                Some(what) => {
                    self.track(*at, req);
                    self.quietly(|s| s.apply_internal(*at, what, req));
                }
                None => {
                    self.handle(*at, req);
                }
            }
        }
        self.advance(now);
    }

    /// The network's answer to an outbound call, at server time `now`: an input, kept in
    /// the input log. Ignored when the call no longer waits (its execution is over, or the
    /// call timed out and was answered already).
    pub fn answer_outbound(
        &mut self,
        now: SimTime,
        workflow: &str,
        execution: &str,
        call: CallId,
        outcome: HttpOutcome,
    ) {
        let Some(i) = self.host.find(workflow, execution) else {
            return;
        };
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("workflow", workflow)
            .append_pair("execution", execution)
            .append_pair("call", &call.0.to_string());
        let body = match &outcome {
            HttpOutcome::Response(r) => {
                q.append_pair("kind", "response")
                    .append_pair("status", &r.status.to_string())
                    .append_pair("headers", &json!(r.headers).to_string());
                r.body.clone()
            }
            HttpOutcome::ConnectionFailed(why) => {
                q.append_pair("kind", "failed").append_pair("reason", why);
                Vec::new()
            }
            HttpOutcome::ConnectionError(why) => {
                q.append_pair("kind", "broken").append_pair("reason", why);
                Vec::new()
            }
            // Only the host answers with a value (a child's end, `host/children.rs`), and
            // that answer follows from inputs already logged: nothing to record.
            HttpOutcome::Returned(_) => {
                self.advance(now);
                self.host.answer(i, now, call, outcome);
                return;
            }
        };
        self.record_internal(now, "answer", q.finish(), body);
        self.advance(now);
        self.host.answer(i, now, call, outcome);
        self.host.drop_evicted();
    }

    /// `--keep-ended N` (at least 1; default [`crate::KEEP_ENDED_DEFAULT`]) from server
    /// time `now` on: once more than N executions have ended, the oldest-ended is evicted,
    /// so a long-running server's memory stays bounded. Evictions follow from the inputs
    /// and N, so only a change of N is kept in the input log (an input like a deploy): a
    /// replay evicts what the original evicted, whatever N the restart is given.
    pub fn set_keep_ended(&mut self, now: SimTime, n: usize) {
        let n = n.max(1);
        if n == self.host.keep_ended() {
            return;
        }
        self.record_internal(now, "keep-ended", format!("n={n}"), Vec::new());
        self.host.set_keep_ended(now, n);
    }

    /// Keeps an input that is not a request (a deploy from a file, `--execute`, an auto
    /// clock's jump) in the input log, under a path no request can reach.
    pub(super) fn record_internal(
        &mut self,
        at: SimTime,
        what: &str,
        query: String,
        body: Vec<u8>,
    ) {
        if self.record_inputs || self.kept.is_some() {
            let req = ApiRequest {
                method: "POST".into(),
                path: format!("{INTERNAL}{what}"),
                query,
                headers: Vec::new(),
                body,
            };
            self.track(at, &req);
            if self.record_inputs {
                self.host.input(at, req);
            }
        }
    }

    /// Replays an input [`State::record_internal`] kept.
    fn apply_internal(&mut self, at: SimTime, what: &str, req: &ApiRequest) {
        let param = |name: &str| {
            form_urlencoded::parse(req.query.as_bytes())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        if self.apply_checkpoint_record(what, req) {
            return;
        }
        let body = String::from_utf8_lossy(&req.body).into_owned();
        // Format 2 kept no parent: everything was the default one's then.
        let parent = match param("parent").as_str() {
            "" => Parent::default_of(&self.config),
            name => match Parent::from_name(name) {
                Ok(p) => p,
                Err(_) => return,
            },
        };
        match what {
            "jump" => self.move_clock(at),
            "keep-ended" => {
                if let Ok(n) = param("n").parse() {
                    self.host.set_keep_ended(at, n);
                }
            }
            "deploy" => {
                // It deployed when it was recorded, so it deploys now.
                let _ = self.deploy_source_in(at, &parent, &param("name"), &param("file"), &body);
            }
            "services" => {
                // It read when it was recorded; a later wfsim reading it otherwise keeps
                // the services in use rather than stop the replay.
                if let Ok(services) = wfsim_harness::services::read_file(&param("file"), &body) {
                    self.host.use_services(services);
                    self.services_text = Some(body);
                }
            }
            "undeploy" => {
                self.undeploy_source_in(at, &parent, &param("name"));
            }
            "start" => {
                let argument = (!req.body.is_empty()).then_some(body);
                let _ = self.start_in(at, &parent, &param("workflow"), argument);
            }
            "answer" => {
                let outcome = match param("kind").as_str() {
                    "response" => HttpOutcome::Response(HttpResponse {
                        status: param("status").parse().unwrap_or(0),
                        headers: serde_json::from_str(&param("headers")).unwrap_or_default(),
                        body: req.body.clone(),
                    }),
                    "failed" => HttpOutcome::ConnectionFailed(param("reason")),
                    _ => HttpOutcome::ConnectionError(param("reason")),
                };
                if let (Some(i), Ok(id)) = (
                    self.host.find(&param("workflow"), &param("execution")),
                    param("call").parse(),
                ) {
                    self.host.answer(i, at, CallId(id), outcome);
                }
            }
            _ => {}
        }
        self.host.drop_evicted();
    }
}
