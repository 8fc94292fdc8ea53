//! Child workflows in live mode (HT-10): the Workflow Executions connector carried out by
//! the host, with the semantics of `wfsim_harness::children` (the engine-level runner's
//! too). A child is a real execution of the deployed workflow, visible over the API; `run`
//! (and `create` without `skip_polling`) waits for its end, which answers the call.

use wfsim_engine::Value;
use wfsim_engine::http::{CallId, Callee, HttpCall, HttpOutcome};
use wfsim_engine::interp::Outcome;
use wfsim_harness::children::{self, Children, ExecRef, Here, Snapshot, Step, WorkflowRef};

use super::{Close, ExecInput, HELD, Host};
use crate::parent::Parent;

/// The host as the connector sees it, at server time `now`.
struct View<'a> {
    host: &'a mut Host,
    now: wfsim_engine::SimTime,
}

impl View<'_> {
    /// The parent a workflow named by the connector lives in (any, as GCP's).
    fn parent(w: &WorkflowRef) -> Parent {
        Parent {
            project: w.project.clone(),
            location: w.location.clone(),
        }
    }
}

impl Children for View<'_> {
    fn start(
        &mut self,
        _parent: usize,
        workflow: &WorkflowRef,
        argument: Option<Value>,
    ) -> Result<usize, HttpOutcome> {
        let parent = View::parent(workflow);
        if !self.host.is_deployed(&parent, &workflow.workflow) {
            return Err(children::not_found(&format!(
                "Resource '{}' was not found: the workflows deployed in {parent} are: {}",
                workflow.name(),
                self.host.workflow_names(&parent).join(", ")
            )));
        }
        let text = argument
            .as_ref()
            .and_then(|a| a.to_json().ok())
            .map(|j| j.to_string());
        let input = ExecInput {
            argument: text,
            value: argument,
            ..ExecInput::default()
        };
        let id = self
            .host
            .start(self.now, &parent, &workflow.workflow, input)
            .expect("deployed: checked above");
        let child = self
            .host
            .find(&workflow.workflow, &id)
            .expect("an execution just started is held");
        self.host.children_started = true;
        Ok(child)
    }

    fn find(&self, name: &ExecRef) -> Option<usize> {
        let parent = View::parent(&name.workflow);
        self.host
            .find(&name.workflow.workflow, &name.id)
            .filter(|&i| self.host.executions[&i].parent == parent)
    }

    fn is_deployed(&self, workflow: &WorkflowRef) -> bool {
        self.host
            .is_deployed(&View::parent(workflow), &workflow.workflow)
    }

    fn list(&self, workflow: &WorkflowRef) -> Vec<usize> {
        let parent = View::parent(workflow);
        self.host
            .executions()
            .filter(|(_, e)| e.workflow == workflow.workflow && e.parent == parent)
            .map(|(i, _)| i)
            .collect()
    }

    fn snapshot(&self, i: usize) -> Snapshot {
        self.host.snapshot(i)
    }

    fn cancel(&mut self, i: usize) -> bool {
        self.host.cancel(i, self.now)
    }
}

impl Host {
    /// HT-10: carries out call `call` of execution `i` at server time `now` when it is the
    /// Workflow Executions connector's; `false` for any other call.
    pub(super) fn child_call(
        &mut self,
        i: usize,
        now: wfsim_engine::SimTime,
        call: &HttpCall,
    ) -> bool {
        let Callee::Connector { name, args } = &call.target else {
            return false;
        };
        if children::method(name).is_none() {
            return false;
        }
        // The calling execution's own parent: where a child is looked for by default.
        let own = &self.executions[&i].parent;
        let here = Here {
            project: own.project.clone(),
            location: own.location.clone(),
        };
        let mut view = View { host: self, now };
        let Some(step) = children::call(&mut view, i, &here, name, args) else {
            return false;
        };
        match step {
            Step::Answer(outcome) => self.answer_now(i, call.at, call.id, outcome),
            Step::Wait { child, method } => {
                self.waiters
                    .entry(child)
                    .or_default()
                    .push((i, call.id, method));
                // A child may have ended as it started.
                self.wake_waiters(child, now);
            }
        }
        true
    }

    /// Answers call `id` of execution `i` at its local time `at`, through its stubs' queue
    /// of answers, which the host runs in order.
    fn answer_now(
        &mut self,
        i: usize,
        at: wfsim_engine::SimTime,
        id: CallId,
        outcome: HttpOutcome,
    ) {
        if let Some(e) = self.executions.get_mut(&i) {
            e.stubs_mut().answer_at(at, id, outcome);
        }
    }

    /// Once child `c` has ended, answers the calls waiting for it (at server time `now`)
    /// and runs their executions, unless one is running already (its loop takes the answer).
    pub(super) fn wake_waiters(&mut self, c: usize, now: wfsim_engine::SimTime) {
        if self.executions.get(&c).and_then(|e| e.ended_at()).is_none() {
            return;
        }
        let Some(waiting) = self.waiters.remove(&c) else {
            return;
        };
        let snap = self.snapshot(c);
        for (p, id, method) in waiting {
            let Some(e) = self.executions.get_mut(&p) else {
                continue;
            };
            let local = e.clock.local(now);
            e.stubs_mut()
                .answer_at(local, id, children::ended(method, &snap));
            if !self.running.contains(&p) {
                self.run(p, now, Close::No);
            }
        }
    }

    /// What the connector shows of execution `i`.
    fn snapshot(&self, i: usize) -> Snapshot {
        let e = self.executions.get(&i).expect(HELD);
        let (result, error) = match (e.crashed.as_deref(), e.execution.outcome()) {
            (Some((_, m)), _) => (
                None,
                Some((
                    Value::map([
                        ("message", Value::str(m.as_str())),
                        ("tags", Value::list(vec![Value::str("InternalError")])),
                    ]),
                    Vec::new(),
                )),
            ),
            (None, Some(Outcome::Succeeded(v))) => (Some(v.clone()), None),
            (None, Some(Outcome::Failed(f))) => (None, Some((f.error.clone(), f.stack.clone()))),
            _ => (None, None),
        };
        let argument = e
            .argument
            .as_deref()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
            .map(|j| Value::from_json(&j));
        let start = e.clock.started_at();
        let end = e.ended_at();
        Snapshot {
            name: self.resource_name(i),
            revision: e.revision_id.clone(),
            state: e.state(),
            argument,
            result,
            error,
            start_time: self.wall(start),
            end_time: end.map(|t| self.wall(t)),
            duration_nanos: end
                .map(|t| u64::try_from(t.saturating_since(start).as_nanos()).unwrap_or(u64::MAX)),
        }
    }

    /// Whether any execution has started a child (HT-10).
    pub(crate) fn has_children(&self) -> bool {
        self.children_started
    }
}
