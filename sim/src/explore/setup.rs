//! What the world plays, in plain data: a `Plan` holds `Rc`s and stays on its thread, so
//! the world gets the workflow's text, the services as JSON with the seed's numbers, and
//! each request with its sends; and the server's state at its start, built from them.

use std::time::Duration;

use wfsim_engine::SimTime;
use wfsim_engine::defn::tree::{self, Syntax};
use wfsim_explore::plan::{Plan, RetryPolicy};
use wfsim_explore::schedule::Schedule;
use wfsim_harness::services;
use wfsim_server::State;

use crate::world::ServerPreset;

/// When the execution starts on the server's clock: `client-2` writes its start a
/// millisecond before, on a connection opened at once, and the server's wall clock is set
/// so that this instant is the file's `start_time`, as at engine level.
pub(super) const START: Duration = Duration::from_millis(10);

/// What the world plays, in plain data (a `Plan` holds `Rc`s and stays on its thread).
#[derive(Clone, Debug)]
pub(super) struct Setup {
    pub(super) seed: u64,
    /// The real-world time at server time zero: the file's `start_time` less [`START`].
    pub(super) wall_start_unix_nanos: i128,
    /// The workflow's name on the server (the file's stem, as at engine level).
    pub(super) name: String,
    pub(super) text: String,
    /// `services:` with the seed's numbers, as JSON.
    pub(super) services: Option<String>,
    pub(super) argument: Option<String>,
    /// The file's `env:`, the workflow's `userEnvVars` on the server.
    pub(super) env: std::collections::BTreeMap<String, String>,
    pub(super) cancel_at: Option<Duration>,
    /// The file's fixed requests, then the schedule's logical ones.
    pub(super) requests: Vec<Req>,
    pub(super) fixed: usize,
    /// (at, down) on the execution's clock.
    pub(super) restarts: Vec<(Duration, Duration)>,
}

#[derive(Clone, Debug)]
pub(super) struct Req {
    pub(super) endpoint: u32,
    pub(super) method: Option<String>,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
    pub(super) at: Duration,
    /// Per send: its latency and whether its answer is lost.
    pub(super) sends: Vec<(Duration, bool)>,
    pub(super) retry: RetryPolicy,
}

pub(super) fn since_start(t: SimTime) -> Duration {
    Duration::from_nanos(t.as_nanos())
}

impl Setup {
    pub(super) fn new(plan: &Plan, s: &Schedule) -> Result<Setup, String> {
        // Not done: the simulated world serves one workflow, so no child (HT-10) can start.
        let to_child = plan.senders.iter().any(|x| x.execution.is_some())
            || plan.base.requests.iter().any(|r| r.execution.is_some());
        if to_child || !plan.children.workflows.is_empty() {
            return Err(
                "--system does not run child workflows yet (SPEC HT-10): explore this file at engine level"
                    .to_owned(),
            );
        }
        let text = std::fs::read_to_string(&plan.workflow_path)
            .map_err(|e| format!("{}: cannot read: {e}", plan.workflow_path.display()))?;
        let services = match plan.stubs.value_with(&s.stubs).to_json() {
            Ok(serde_json::Value::Null) => None,
            Ok(j) => Some(j.to_string()),
            Err(e) => return Err(format!("the services cannot be written as JSON: {e:?}")),
        };
        let argument = match &plan.base.argument {
            None => None,
            Some(a) => Some(
                a.to_json()
                    .map_err(|e| format!("the argument cannot be sent as JSON: {e:?}"))?
                    .to_string(),
            ),
        };
        let mut requests: Vec<Req> = plan
            .base
            .requests
            .iter()
            .map(|r| Req {
                endpoint: r.endpoint,
                method: r.method.clone(),
                headers: r.headers.clone(),
                body: r.body.clone(),
                at: since_start(r.at),
                sends: vec![(Duration::ZERO, false)],
                retry: RetryPolicy::NONE,
            })
            .collect();
        let fixed = requests.len();
        for r in &s.requests {
            let sender = &plan.senders[r.sender];
            let body = &sender.bodies[r.body];
            requests.push(Req {
                endpoint: sender.endpoint,
                method: sender.method.clone(),
                headers: body.headers.clone(),
                body: body.bytes.clone(),
                at: since_start(r.at),
                sends: r.sends.iter().map(|f| (f.latency, f.lost)).collect(),
                retry: sender.retry,
            });
        }
        Ok(Setup {
            seed: s.seed,
            wall_start_unix_nanos: plan.base.start_time.unix_nanos_at(SimTime::ZERO)
                - START.as_nanos() as i128,
            name: plan
                .workflow_path
                .file_stem()
                .map_or("workflow".into(), |n| n.to_string_lossy().into_owned()),
            text,
            services,
            argument,
            env: plan.base.env.clone(),
            cancel_at: plan.base.cancel_at.map(since_start),
            requests,
            fixed,
            restarts: s
                .restarts
                .iter()
                .map(|r| (since_start(r.at), r.down))
                .collect(),
        })
    }

    /// The server's state at its start: the workflow deployed, the services in place,
    /// every execution's engine events journaled, auth off (senders carry no token).
    pub(super) fn state(&self) -> Result<State, String> {
        let file = format!("{}.yaml", self.name);
        let workflow = wfsim_engine::defn::load(&file, &self.text)
            .map_err(|e| format!("the workflow does not load on the server: {e:?}"))?;
        let preset = ServerPreset {
            seed: self.seed,
            auth: false,
            wall_start_unix_nanos: self.wall_start_unix_nanos,
        };
        let mut state = preset.state(&self.name, workflow);
        if let Some(json) = &self.services {
            let node = tree::parse(json, Syntax::Json).map_err(|e| e.message.clone())?;
            let parsed = services::parse(&node).map_err(|e| e.message)?;
            state.use_services(parsed);
        }
        state.observe_executions();
        Ok(state)
    }
}
