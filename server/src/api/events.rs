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
        let (i, duplicate) = match self.events.get(&key) {
            Some((w, e)) if *w == workflow => match self.host.find(w, e) {
                Some(i) => (i, true),
                None => {
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
            },
            _ => {
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
