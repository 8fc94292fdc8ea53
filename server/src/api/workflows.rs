//! The Workflows API v1: deploy from `sourceContents`, revisions, and long-running
//! operations that are done when returned (wfsim deploys at once), so a client's
//! `operation.result()` has its answer on the first look.

use std::rc::Rc;

use serde_json::{Value as Json, json};
use wfsim_engine::SimTime;
use wfsim_engine::defn::{self, DefnError};

use super::State;
use super::body::Fields;
use super::query::{Query, paged};
use crate::host::{Deployed, Settings};
use crate::message::ApiResponse;
use crate::parent::Parent;
use crate::wire::{self, Enums};

fn invalid(message: impl Into<String>) -> ApiResponse {
    ApiResponse::error(400, "INVALID_ARGUMENT", message)
}

/// GCP's rule for a workflow id, said as an error names it.
pub const WORKFLOW_ID_RULE: &str = "a letter first, then letters, digits, '-' or '_', ending in a letter or digit, at most 128 characters";

/// GCP's rule for a workflow id: [`WORKFLOW_ID_RULE`].
pub fn is_workflow_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.ends_with(|c: char| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn check_workflow_id(id: &str) -> Result<(), ApiResponse> {
    if is_workflow_id(id) {
        Ok(())
    } else {
        Err(invalid(format!(
            "workflowId '{id}' is not valid: {WORKFLOW_ID_RULE}"
        )))
    }
}

/// The file name deploy errors are reported against: the workflow's id, with the
/// extension its source looks like.
fn source_file(workflow: &str, source: &str) -> String {
    if source.trim_start().starts_with('{') {
        format!("{workflow}.json")
    } else {
        format!("{workflow}.yaml")
    }
}

/// Deploy errors as one 400, each at `file:line:column`.
fn deploy_errors(errors: &[DefnError]) -> ApiResponse {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    invalid(format!(
        "the workflow cannot be deployed:\n{}",
        lines.join("\n")
    ))
}

/// What a Workflow body holds that wfsim keeps.
struct WorkflowBody {
    source: Option<String>,
    settings: Settings,
    /// Fields the body gave, by name: `updateMask` defaults to them.
    given: Vec<&'static str>,
}

/// Reads a Workflow from a request body.
fn workflow_body(body: &[u8]) -> Result<WorkflowBody, ApiResponse> {
    let mut f = Fields::parse(body, "workflow")?;
    let mut given = Vec::new();
    let mut note = |name: &'static str, present: bool| {
        if present {
            given.push(name);
        }
    };
    let source = f.string("sourceContents")?;
    note("sourceContents", source.is_some());
    let description = f.string("description")?;
    note("description", description.is_some());
    let labels = f.string_map("labels")?;
    note("labels", !labels.is_empty());
    let service_account = f.string("serviceAccount")?;
    note("serviceAccount", service_account.is_some());
    let call_log_level = f.enumeration("callLogLevel", &wire::CALL_LOG_LEVELS)?;
    note("callLogLevel", call_log_level != 0);
    let user_env_vars = f.string_map("userEnvVars")?;
    note("userEnvVars", !user_env_vars.is_empty());
    let execution_history_level =
        f.enumeration("executionHistoryLevel", &wire::EXECUTION_HISTORY_LEVELS)?;
    note("executionHistoryLevel", execution_history_level != 0);
    for unsupported in ["cryptoKeyName", "tags"] {
        if f.string(unsupported).is_ok_and(|v| v.is_some()) {
            return Err(invalid(format!(
                "'{unsupported}' is not supported by wfsim; leave it out"
            )));
        }
    }
    f.ignore(&[
        "name",
        "state",
        "revisionId",
        "createTime",
        "updateTime",
        "revisionCreateTime",
        "stateError",
        "allKmsKeys",
        "allKmsKeysVersions",
        "cryptoKeyVersion",
        "cryptoKeyName",
        "tags",
    ]);
    f.finish()?;
    let description = description.unwrap_or_default();
    if description.chars().count() > 1000 {
        return Err(invalid("'description' is over 1000 characters"));
    }
    Ok(WorkflowBody {
        source,
        settings: Settings {
            description,
            labels,
            service_account: service_account.unwrap_or_default(),
            call_log_level,
            user_env_vars,
            execution_history_level,
        },
        given,
    })
}

impl State {
    /// Deploys `source` as workflow `name` from a file (`wfsim serve FILE`), read as `file`
    /// for error positions: a new revision if the workflow exists with another source,
    /// none if with this one. Kept in the input log.
    pub fn deploy_source(
        &mut self,
        now: SimTime,
        name: &str,
        file: &str,
        source: &str,
    ) -> Result<String, Vec<DefnError>> {
        let parent = Parent::default_of(&self.config);
        let deployed = self.deploy_source_in(now, &parent, name, file, source);
        // The UI shows a file's errors until a save fixes it (`view.rs`).
        match &deployed {
            Ok(_) => self.deploy_errors.remove(name),
            Err(errors) => self.deploy_errors.insert(
                name.to_owned(),
                errors.iter().map(ToString::to_string).collect(),
            ),
        };
        deployed
    }

    /// [`State::deploy_source`] in `parent`, kept in the input log with it: a restart
    /// with another `--project` finds the workflow where it was deployed.
    pub(super) fn deploy_source_in(
        &mut self,
        now: SimTime,
        parent: &Parent,
        name: &str,
        file: &str,
        source: &str,
    ) -> Result<String, Vec<DefnError>> {
        let workflow = defn::load(file, source)?;
        if let Some(current) = self.host.workflow(parent, name).map(Deployed::current) {
            if current.source.as_deref() == Some(source) {
                // The same source again (a restart on a state dir): no new revision.
                return Ok(current.id.clone());
            }
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("name", name)
            .append_pair("file", file)
            .append_pair("parent", &parent.to_string())
            .finish();
        self.record_internal(now, "deploy", query, source.as_bytes().to_vec());
        let settings = self
            .host
            .workflow(parent, name)
            .map(|d| d.settings.clone())
            .unwrap_or_default();
        Ok(self.host.deploy(
            now,
            parent,
            name,
            Rc::new(workflow),
            Some(source.to_owned()),
            settings,
        ))
    }

    /// Deletes a workflow deployed from a file that is gone (`wfsim serve`'s folder
    /// watcher), as `workflows.delete` does, recorded as an input; `false` if it was not
    /// deployed.
    pub fn undeploy_source(&mut self, now: SimTime, name: &str) -> bool {
        let parent = Parent::default_of(&self.config);
        self.deploy_errors.remove(name);
        self.undeploy_source_in(now, &parent, name)
    }

    /// [`State::undeploy_source`] in `parent`, kept in the input log with it.
    pub(super) fn undeploy_source_in(&mut self, now: SimTime, parent: &Parent, name: &str) -> bool {
        if self.host.workflow(parent, name).is_none() {
            return false;
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("name", name)
            .append_pair("parent", &parent.to_string())
            .finish();
        self.record_internal(now, "undeploy", query, Vec::new());
        self.host.undeploy(parent, name)
    }

    /// The revision id new executions of a workflow of the default parent run, if it is
    /// deployed.
    pub fn current_revision(&self, name: &str) -> Option<String> {
        let parent = Parent::default_of(&self.config);
        self.host
            .workflow(&parent, name)
            .map(|d| d.current().id.clone())
    }

    fn workflow_json(
        &self,
        parent: &Parent,
        name: &str,
        d: &Deployed,
        revision: usize,
        enums: Enums,
    ) -> Json {
        wire::workflow(parent, &self.host, name, d, &d.revisions[revision], enums)
    }

    fn deployed(&self, parent: &Parent, name: &str) -> Result<&Deployed, ApiResponse> {
        self.host
            .workflow(parent, name)
            .ok_or_else(|| self.not_deployed(parent, name))
    }

    /// A long-running operation, done: kept for `operations.get`, and answered.
    fn operation(
        &mut self,
        now: SimTime,
        parent: &Parent,
        workflow: &str,
        verb: &str,
        response: Json,
    ) -> ApiResponse {
        let name = format!("{parent}/operations/operation-{}", self.op_ids.uuid());
        let op = json!({
            "name": name,
            "metadata": {
                "@type": "type.googleapis.com/google.cloud.workflows.v1.OperationMetadata",
                "createTime": self.host.wall(now),
                "endTime": self.host.wall(now),
                "target": wire::workflow_name(parent, workflow),
                "verb": verb,
                "apiVersion": "v1",
            },
            "done": true,
            "response": response,
        });
        self.operations.insert(name, op.clone());
        ApiResponse::json(200, &op)
    }

    /// `workflows.create`: `?workflowId=NAME`, the body a Workflow with `sourceContents`.
    pub(super) fn workflow_create(
        &mut self,
        now: SimTime,
        parent: &Parent,
        query: &Query,
        body: &[u8],
    ) -> Result<ApiResponse, ApiResponse> {
        query.allow(&["workflowId"])?;
        let name = query
            .get("workflowId")
            .ok_or_else(|| invalid("workflows.create needs ?workflowId=NAME"))?
            .to_owned();
        check_workflow_id(&name)?;
        let b = workflow_body(body)?;
        if self.host.workflow(parent, &name).is_some() {
            return Err(ApiResponse::error(
                409,
                "ALREADY_EXISTS",
                format!(
                    "Resource '{}' already exists; update it with PATCH",
                    wire::workflow_name(parent, &name)
                ),
            ));
        }
        let source = b
            .source
            .ok_or_else(|| invalid("the workflow needs 'sourceContents'"))?;
        let workflow =
            defn::load(&source_file(&name, &source), &source).map_err(|e| deploy_errors(&e))?;
        self.host.deploy(
            now,
            parent,
            &name,
            Rc::new(workflow),
            Some(source),
            b.settings,
        );
        let d = self.deployed(parent, &name)?;
        let last = d.revisions.len() - 1;
        let mut response = self.workflow_json(parent, &name, d, last, query.enums);
        response["@type"] = json!("type.googleapis.com/google.cloud.workflows.v1.Workflow");
        Ok(self.operation(now, parent, &name, "create", response))
    }

    /// `workflows.get`, at `?revisionId=` if given.
    pub(super) fn workflow_get(
        &self,
        parent: &Parent,
        name: &str,
        query: &Query,
    ) -> Result<ApiResponse, ApiResponse> {
        query.allow(&["revisionId"])?;
        let d = self.deployed(parent, name)?;
        let revision = match query.get("revisionId").filter(|r| !r.is_empty()) {
            None => d.revisions.len() - 1,
            Some(id) => d.revisions.iter().position(|r| r.id == id).ok_or_else(|| {
                ApiResponse::error(
                    404,
                    "NOT_FOUND",
                    format!("workflow '{name}' has no revision '{id}'"),
                )
            })?,
        };
        Ok(ApiResponse::json(
            200,
            &self.workflow_json(parent, name, d, revision, query.enums),
        ))
    }

    /// `workflows.list`, by name, in pages.
    pub(super) fn workflows_list(
        &self,
        parent: &Parent,
        query: &Query,
    ) -> Result<ApiResponse, ApiResponse> {
        query.allow(&["pageSize", "pageToken", "filter", "orderBy"])?;
        for refused in ["filter", "orderBy"] {
            if query.get(refused).is_some_and(|v| !v.trim().is_empty()) {
                return Err(invalid(format!(
                    "workflows.list does not take '{refused}' in wfsim: workflows are listed by name"
                )));
            }
        }
        let (offset, size) = query.page(500, 1000)?;
        let all: Vec<(&String, &Deployed)> = self.host.workflows(parent).collect();
        let out = paged("workflows", &all, offset, size, |(name, d)| {
            self.workflow_json(parent, name, d, d.revisions.len() - 1, query.enums)
        });
        Ok(ApiResponse::json(200, &out))
    }

    /// `workflows.listRevisions`: newest first.
    pub(super) fn revisions_list(
        &self,
        parent: &Parent,
        name: &str,
        query: &Query,
    ) -> Result<ApiResponse, ApiResponse> {
        query.allow(&["pageSize", "pageToken"])?;
        let d = self.deployed(parent, name)?;
        let (offset, size) = query.page(20, 100)?;
        let newest_first: Vec<usize> = (0..d.revisions.len()).rev().collect();
        let out = paged("workflows", &newest_first, offset, size, |&r| {
            self.workflow_json(parent, name, d, r, query.enums)
        });
        Ok(ApiResponse::json(200, &out))
    }

    /// `workflows.patch`: the fields of `updateMask` (default: those the body gives) are
    /// replaced; a new source or service account makes a new revision, as in GCP.
    pub(super) fn workflow_patch(
        &mut self,
        now: SimTime,
        parent: &Parent,
        name: &str,
        query: &Query,
        body: &[u8],
    ) -> Result<ApiResponse, ApiResponse> {
        query.allow(&["updateMask"])?;
        let b = workflow_body(body)?;
        let old = self.deployed(parent, name)?;
        let mask: Vec<String> = match query.get("updateMask").filter(|m| !m.trim().is_empty()) {
            None => b.given.iter().map(|s| s.to_string()).collect(),
            Some(m) => m.split(',').map(|f| f.trim().to_owned()).collect(),
        };
        let mut settings = old.settings.clone();
        let mut source = None;
        for field in &mask {
            let field = super::body::camel(field);
            match field.as_str() {
                "sourceContents" => {
                    source = Some(b.source.clone().ok_or_else(|| {
                        invalid("updateMask names 'sourceContents', but the body has none")
                    })?);
                }
                "description" => settings.description = b.settings.description.clone(),
                "labels" => settings.labels = b.settings.labels.clone(),
                "serviceAccount" => {
                    settings.service_account = b.settings.service_account.clone();
                }
                "callLogLevel" => settings.call_log_level = b.settings.call_log_level,
                "userEnvVars" => settings.user_env_vars = b.settings.user_env_vars.clone(),
                "executionHistoryLevel" => {
                    settings.execution_history_level = b.settings.execution_history_level;
                }
                other => {
                    return Err(invalid(format!(
                        "updateMask: '{other}' cannot be updated; the fields are sourceContents, \
                         description, labels, serviceAccount, callLogLevel, userEnvVars, \
                         executionHistoryLevel"
                    )));
                }
            }
        }
        let new_account = settings.service_account != old.settings.service_account;
        match source {
            Some(src) => {
                let workflow =
                    defn::load(&source_file(name, &src), &src).map_err(|e| deploy_errors(&e))?;
                self.host
                    .deploy(now, parent, name, Rc::new(workflow), Some(src), settings);
            }
            None if new_account => {
                let current = old.current();
                let (workflow, src) = (Rc::clone(&current.workflow), current.source.clone());
                self.host.deploy(now, parent, name, workflow, src, settings);
            }
            None => self.host.set_settings(now, parent, name, settings),
        }
        let d = self.deployed(parent, name)?;
        let last = d.revisions.len() - 1;
        let mut response = self.workflow_json(parent, name, d, last, query.enums);
        response["@type"] = json!("type.googleapis.com/google.cloud.workflows.v1.Workflow");
        Ok(self.operation(now, parent, name, "update", response))
    }

    /// `workflows.delete`: its executions run on, but are no longer listed.
    pub(super) fn workflow_delete(
        &mut self,
        now: SimTime,
        parent: &Parent,
        name: &str,
        query: &Query,
    ) -> Result<ApiResponse, ApiResponse> {
        query.allow(&[])?;
        self.deployed(parent, name)?;
        self.host.undeploy(parent, name);
        let empty = json!({"@type": "type.googleapis.com/google.protobuf.Empty"});
        Ok(self.operation(now, parent, name, "delete", empty))
    }

    /// `operations.get`.
    pub(super) fn operation_get(
        &self,
        parent: &Parent,
        id: &str,
        query: &Query,
    ) -> Result<ApiResponse, ApiResponse> {
        query.allow(&[])?;
        let name = format!("{parent}/operations/{id}");
        self.operations
            .get(&name)
            .map(|op| ApiResponse::json(200, op))
            .ok_or_else(|| {
                ApiResponse::error(404, "NOT_FOUND", format!("Resource '{name}' was not found"))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_ids_follow_gcp() {
        for ok in ["a", "approval", "my-flow_2", "A1"] {
            assert!(check_workflow_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1a", "-a", "a-", "a b", "a/b", &"a".repeat(129)] {
            assert!(check_workflow_id(bad).is_err(), "{bad}");
        }
    }
}
