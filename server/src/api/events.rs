//! Events (HT-13): `POST /v1/wfsim/events?workflow=W` takes a CloudEvent (structured JSON,
//! as Eventarc delivers one) and starts `W` with it as the argument, as an Eventarc trigger
//! does; `--trigger` (Pub/Sub through its emulator) feeds the same route. An event already
//! taken (the same `source` and `id`: CloudEvents' identity) starts nothing again, so a
//! redelivered message runs its workflow once. The route is an input of the log like any
//! request, so what was taken is remembered across restarts.
//!
//! Also here: the token a workflow's `auth: {type: OAuth2}` call to this server carries
//! (HT-12).

use serde_json::{Value as Json, json};
use wfsim_engine::SimTime;
use wfsim_engine::http::{Callee, HttpCall};

use super::State;
use super::executions::parse_argument;
use super::query::Query;
use crate::host::ExecInput;
use crate::message::ApiResponse;
use crate::parent::Parent;
use crate::wire::View;

/// The route's path.
pub const EVENTS: &str = "/v1/wfsim/events";

fn invalid(message: String) -> ApiResponse {
    ApiResponse::error(400, "INVALID_ARGUMENT", message)
}

impl State {
    /// `POST /v1/wfsim/events?workflow=W`: the answer is `{"execution": Execution,
    /// "duplicate": bool}`, the execution the event started, or started before.
    pub(super) fn event(
        &mut self,
        now: SimTime,
        query: &Query,
        body: &[u8],
    ) -> Result<ApiResponse, ApiResponse> {
        query.allow(&["workflow"])?;
        let workflow = query
            .get("workflow")
            .map(|w| w.rsplit('/').next().unwrap_or(w).to_owned())
            .filter(|w| !w.is_empty())
            .ok_or_else(|| {
                invalid(format!(
                    "{EVENTS} needs ?workflow=NAME: the workflow the event starts"
                ))
            })?;
        let event: Json = serde_json::from_slice(body).map_err(|e| {
            invalid(format!(
                "the body must be a CloudEvent in JSON (structured mode): {e}"
            ))
        })?;
        let Json::Object(fields) = &event else {
            return Err(invalid("the CloudEvent must be a JSON object".into()));
        };
        let attribute = |name: &str| match fields.get(name) {
            Some(Json::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(invalid(format!(
                "the CloudEvent needs '{name}', a non-empty string (id, source, specversion \
                 and type are required by CloudEvents 1.0)"
            ))),
        };
        let (id, source) = (attribute("id")?, attribute("source")?);
        attribute("type")?;
        if attribute("specversion")? != "1.0" {
            return Err(invalid(
                "the CloudEvent's specversion must be \"1.0\"".into(),
            ));
        }
        // Events start workflows of the default parent (`--project`, `--location`).
        let parent = Parent::default_of(&self.config);
        if !self.host.is_deployed(&parent, &workflow) {
            return Err(self.not_deployed(&parent, &workflow));
        }
        let key = (source, id);
        let taken = match self.events.get(&key) {
            Some((w, e)) if *w == workflow => Some((w.clone(), e.clone())),
            _ => None,
        };
        // An event whose execution is held is a duplicate; one whose execution is among the
        // last `--keep-ended` evicted is refused; one older than that is forgotten (HT-13).
        let known = taken.and_then(|(w, e)| match self.host.find(&w, &e) {
            Some(i) => Some(Ok(i)),
            None if self.host.evicted(&w, &e).0 => Some(Err(e)),
            None => None,
        });
        let (i, duplicate) = match known {
            Some(Ok(i)) => (i, true),
            Some(Err(e)) => {
                return Err(ApiResponse::error(
                    409,
                    "ALREADY_EXISTS",
                    format!(
                        "event {} of {} already started execution {e}, which has been evicted \
                         (--keep-ended)",
                        key.1, key.0
                    ),
                ));
            }
            None => {
                let text = event.to_string();
                let value = parse_argument(&text)?;
                let id = self
                    .host
                    .start(
                        now,
                        &parent,
                        &workflow,
                        ExecInput {
                            argument: Some(text),
                            value: Some(value),
                            ..ExecInput::default()
                        },
                    )
                    .expect("deployed: checked above");
                self.events.insert(key, (workflow.clone(), id.clone()));
                if self.events.len() > 2 * (self.host.keep_ended() + self.host.held_count()) + 64 {
                    self.forget_old_events();
                }
                (self.find(&parent, &workflow, &id)?, false)
            }
        };
        Ok(ApiResponse::json(
            200,
            &json!({
                "duplicate": duplicate,
                "execution": self.execution_json(i, View::Full, query),
            }),
        ))
    }

    /// Drops the events whose execution is neither held nor among the last `--keep-ended`
    /// evicted: the route treats those as never taken, so dropping them changes no answer,
    /// and the memory of events stays bounded by what is kept, not by history.
    pub(super) fn forget_old_events(&mut self) {
        let host = &self.host;
        self.events
            .retain(|_, (w, e)| host.find(w, e).is_some() || host.evicted(w, e).0);
    }

    /// The events whose execution was evicted but is still remembered, as a checkpoint
    /// keeps them (`[source, id, workflow, execution]`): the inputs that taught the route
    /// about them are gone with their execution.
    pub(super) fn evicted_events(&self) -> Vec<[String; 4]> {
        self.events
            .iter()
            .filter(|(_, (w, e))| self.host.find(w, e).is_none() && self.host.evicted(w, e).0)
            .map(|((source, id), (w, e))| [source.clone(), id.clone(), w.clone(), e.clone()])
            .collect()
    }

    /// Restores what [`State::evicted_events`] returned.
    pub(super) fn remember_events(&mut self, events: Vec<[String; 4]>) {
        for [source, id, w, e] in events {
            self.events.insert((source, id), (w, e));
        }
    }

    /// The `Authorization` header an outbound call of `workflow` carries (HT-12): with
    /// `auth: {type: OAuth2}` (or OIDC) to a URL of this server, the token of the workflow's
    /// service account, whose permissions `--grant` sets (`workflows.callbacks.send` by
    /// default, as GCP's Workflows Invoker role grants); `None` otherwise (an `auth` to
    /// another host is recorded, not acted on: wfsim has no Google credentials).
    pub fn outbound_authorization(
        &self,
        workflow: &str,
        execution: &str,
        call: &HttpCall,
    ) -> Option<String> {
        let Callee::Http(request) = &call.target else {
            return None;
        };
        let wfsim_engine::Value::Str(kind) = call.auth.as_ref()?.get("type")? else {
            return None;
        };
        if !(kind.eq_ignore_ascii_case("OAuth2") || kind.eq_ignore_ascii_case("OIDC")) {
            return None;
        }
        let base = &self.config.base_url;
        let ours = request
            .url
            .strip_prefix(base.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        if !ours || request.header("authorization").is_some() {
            return None;
        }
        Some(format!(
            "Bearer {}",
            self.tokens
                .workload_token(&self.service_account(workflow, execution))
        ))
    }

    /// The service account `workflow` runs as: its `serviceAccount`, or, like GCP, the
    /// project's Compute Engine default account, named as `sys.get_env` names it (LIB-2:
    /// wfsim's fixed project number).
    pub fn service_account(&self, workflow: &str, execution: &str) -> String {
        let parent = self.host.find(workflow, execution).map_or_else(
            || Parent::default_of(&self.config),
            |i| self.host.exec(i).parent.clone(),
        );
        self.host
            .workflow(&parent, workflow)
            .map(|w| w.settings.service_account.clone())
            .filter(|sa| !sa.is_empty())
            .map(|sa| sa.rsplit('/').next().unwrap_or(&sa).to_owned())
            .unwrap_or_else(|| "000000000000-compute@developer.gserviceaccount.com".to_owned())
    }
}
