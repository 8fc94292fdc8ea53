//! The extension point for pages under `/ui/` (`wfsim serve`'s UI, crate `wfsim-ui`): a
//! [`Pages`] object is handed a read-only [`View`] of the state and either answers from it
//! or names an API request to make on the user's behalf, which goes through
//! [`State::handle`] like any client's (auth, the input log, durability: one rule in one
//! place), and then renders what it got. **Decision:** a trait object here rather than the
//! pages in this crate, so the server does not depend on the renderer (`wfsim-render` sits
//! above the server in the layers, and pages are not the API's business).

use std::collections::BTreeMap;

use wfsim_engine::interp::Execution;
use wfsim_engine::{ExecutionState, SimTime};
use wfsim_harness::runner::RequestRecord;

use super::State;
use crate::config::ClockMode;
use crate::host::{Deployed, Exec};
use crate::message::{ApiRequest, ApiResponse};
use crate::parent::Parent;

/// Whether a path is the UI's (`/ui` and everything under `/ui/`).
pub fn is_ui_path(path: &str) -> bool {
    path == "/ui" || path.starts_with("/ui/")
}

/// Pages served under `/ui/` ([`crate::Options::pages`]).
pub trait Pages {
    /// Answers `req` from `view`, or names the API request that carries it out.
    fn answer(&self, view: &View<'_>, req: &ApiRequest) -> UiAnswer;
    /// After [`UiAnswer::Call`]: what the user sees of the API's answer `res` to it.
    fn answered(&self, view: &View<'_>, req: &ApiRequest, res: &ApiResponse) -> ApiResponse;
}

/// What [`Pages::answer`] makes of a request.
#[derive(Debug)]
pub enum UiAnswer {
    Page(ApiResponse),
    /// An API request, handled as any client's would be.
    Call(ApiRequest),
}

/// What the UI may read of the state, at server time `now`.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    state: &'a State,
    now: SimTime,
}

/// A deployed workflow.
#[derive(Clone, Debug)]
pub struct WorkflowView<'a> {
    pub parent: &'a Parent,
    pub name: &'a str,
    /// Oldest first; the last is what new executions run.
    pub revisions: Vec<RevisionView<'a>>,
}

/// One revision of a workflow.
#[derive(Clone, Copy, Debug)]
pub struct RevisionView<'a> {
    pub id: &'a str,
    /// The file it was read from (or named after), as positions name it.
    pub file: &'a str,
    pub source: Option<&'a str>,
    /// Server time.
    pub created_at: SimTime,
}

/// An execution.
#[derive(Clone, Copy)]
pub struct ExecutionView<'a> {
    exec: &'a Exec,
    host_source: Option<&'a str>,
}

impl std::fmt::Debug for ExecutionView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutionView")
            .field("workflow", &self.exec.workflow)
            .field("id", &self.exec.id)
            .finish_non_exhaustive()
    }
}

impl<'a> ExecutionView<'a> {
    pub fn parent(&self) -> &'a Parent {
        &self.exec.parent
    }
    pub fn workflow(&self) -> &'a str {
        &self.exec.workflow
    }
    pub fn id(&self) -> &'a str {
        &self.exec.id
    }
    pub fn revision_id(&self) -> &'a str {
        &self.exec.revision_id
    }
    /// The file its revision was read from, for positions.
    pub fn file(&self) -> &'a str {
        &self.exec.file
    }
    /// Its revision's source, while the workflow is deployed and it came as text.
    pub fn source(&self) -> Option<&'a str> {
        self.host_source
    }
    /// The argument as the create request gave it (JSON text).
    pub fn argument(&self) -> Option<&'a str> {
        self.exec.argument.as_deref()
    }
    /// FAILED once the engine panicked in it.
    pub fn state(&self) -> ExecutionState {
        self.exec.state()
    }
    /// When it started and ended, in server time.
    pub fn started_at(&self) -> SimTime {
        self.exec.clock.started_at()
    }
    pub fn ended_at(&self) -> Option<SimTime> {
        self.exec.ended_at()
    }
    /// The engine's execution: its trace, logs, step entries, outcome and endpoints (its
    /// own clock counts from [`ExecutionView::started_at`]).
    pub fn execution(&self) -> &'a Execution {
        &self.exec.execution
    }
    /// Why wfsim failed it (an internal error), if it did.
    pub fn internal_error(&self) -> Option<&'a str> {
        self.exec.crashed.as_deref().map(|(_, m)| m.as_str())
    }
    /// Its callback requests so far, with their verdicts and when stored ones were taken,
    /// on its own clock.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.exec.requests()
    }
}

impl<'a> View<'a> {
    pub fn new(state: &'a State, now: SimTime) -> View<'a> {
        View { state, now }
    }

    /// Server time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    pub fn clock_mode(&self) -> ClockMode {
        self.state.config.clock
    }

    /// When the next timer of any execution is due, in server time.
    pub fn next_deadline(&self) -> Option<SimTime> {
        self.state.host.next_deadline()
    }

    /// Server time as an RFC 3339 timestamp.
    pub fn wall(&self, t: SimTime) -> String {
        self.state.host.wall(t)
    }

    /// Whether requests need a token (not `--no-auth`).
    pub fn auth(&self) -> bool {
        self.state.config.auth
    }

    /// `--project`/`--location`: where the folder's workflows are deployed.
    pub fn default_parent(&self) -> Parent {
        Parent::default_of(&self.state.config)
    }

    /// Every deployed workflow, by parent then name.
    pub fn workflows(&self) -> Vec<WorkflowView<'a>> {
        self.state
            .host
            .all_workflows()
            .map(|(parent, name, d)| WorkflowView {
                parent,
                name,
                revisions: revisions(d),
            })
            .collect()
    }

    /// The folder's files that failed their deploy checks, by workflow name: each error at
    /// `file:line:column`.
    pub fn deploy_errors(&self) -> &'a BTreeMap<String, Vec<String>> {
        &self.state.deploy_errors
    }

    /// Every execution held, in the order they started.
    pub fn executions(&self) -> Vec<ExecutionView<'a>> {
        self.state
            .host
            .executions()
            .map(|(_, e)| self.execution_view(e))
            .collect()
    }

    /// Execution `id` of `workflow`, if it is held.
    pub fn execution(&self, workflow: &str, id: &str) -> Option<ExecutionView<'a>> {
        let i = self.state.host.find(workflow, id)?;
        Some(self.execution_view(self.state.host.exec(i)))
    }

    fn execution_view(&self, e: &'a Exec) -> ExecutionView<'a> {
        let host_source = self
            .state
            .host
            .workflow(&e.parent, &e.workflow)
            .and_then(|d| d.revisions.iter().find(|r| r.id == e.revision_id))
            .and_then(|r| r.source.as_deref());
        ExecutionView {
            exec: e,
            host_source,
        }
    }
}

fn revisions(d: &Deployed) -> Vec<RevisionView<'_>> {
    d.revisions
        .iter()
        .map(|r| RevisionView {
            id: &r.id,
            file: &r.workflow.file,
            source: r.source.as_deref(),
            created_at: r.created_at,
        })
        .collect()
}
