//! What the engine's integration tests share: running a definition to its end, and a host
//! for calling the standard library directly.

#![allow(dead_code)] // each test file uses its own part

use std::rc::Rc;

use wfsim_engine::error::{Raised, message, tags};
use wfsim_engine::interp::{Execution, ExecutionConfig, Outcome};
use wfsim_engine::stdlib::{Effects, LogPayload};
use wfsim_engine::{Value, defn};
use wfsim_harness::runner::{self, RunConfig, execution_name};

/// The settings of an execution a test drives itself: workflow `w`, seed 0, the default
/// wall clock, no argument, the step limit, no defect.
pub fn exec_config() -> ExecutionConfig {
    ExecutionConfig::new(execution_name("w", 0))
}

/// Starts `yaml` (it must be valid) with `config`, for a test to drive.
pub fn start_with(yaml: &str, config: ExecutionConfig) -> Execution {
    let wf = defn::load("w.yaml", yaml).unwrap_or_else(|e| panic!("{e:?}"));
    Execution::start(Rc::new(wf), config)
}

/// Loads `yaml` (it must be valid) and runs it with seed 0, no argument and no requests.
pub fn run(yaml: &str) -> runner::Run {
    let wf = defn::load("test.yaml", yaml).unwrap_or_else(|e| panic!("{e:?}"));
    let config = RunConfig::default();
    runner::run(Rc::new(wf), "test", &config, &[])
}

/// Runs `yaml`, which must fail with exactly the tag `tag`; returns the error's message.
#[track_caller]
pub fn fails_with(yaml: &str, tag: &str) -> String {
    match run(yaml).execution.outcome() {
        Some(Outcome::Failed(e)) => {
            assert_eq!(tags(e), [tag], "{yaml}\n{e:?}");
            message(e).unwrap_or_default()
        }
        other => panic!("{yaml}\nexpected a {tag} failure, got {other:?}"),
    }
}

/// A host with a fixed clock, one environment variable, counted ids, and kept logs.
#[derive(Debug, Default)]
pub struct TestEffects {
    pub logs: Vec<(String, LogPayload)>,
    pub uuids: u32,
    pub endpoints: Vec<String>,
}

impl Effects for TestEffects {
    fn now_unix_nanos(&self) -> i128 {
        1_704_067_205_500_000_000
    }
    fn uuid(&mut self) -> String {
        self.uuids += 1;
        format!("uuid-{}", self.uuids)
    }
    fn env(&self, name: &str) -> Option<String> {
        (name == "GOOGLE_CLOUD_PROJECT_ID").then(|| "demo".to_owned())
    }
    fn log(&mut self, severity: String, payload: LogPayload) {
        self.logs.push((severity, payload));
    }
    fn create_callback_endpoint(&mut self, method: &str) -> Result<Value, Raised> {
        self.endpoints.push(method.to_owned());
        Ok(Value::map([(
            "url",
            Value::str(format!("https://cb/{method}")),
        )]))
    }
}
