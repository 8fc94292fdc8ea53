//! The fixtures of `fixtures/`: every scenario run and checked against its expectations,
//! every workflow checked at deploy time and run, and every YAML/JSON twin compared.

use std::fs;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use wfsim_engine::defn::{self, Workflow};
use wfsim_harness::report;
use wfsim_harness::runner::{self, Run, RunConfig};
use wfsim_harness::scenario::{self, Scenario};

/// `fixtures/` at the project root.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// Files with extension `ext` in `dir`, sorted by name.
pub fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    out.retain(|p| p.extension().is_some_and(|x| x == ext));
    out.sort();
    out
}

pub fn load_workflow(path: &Path) -> Result<Workflow, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    defn::load(&name, &text).map_err(|errs| {
        errs.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// A scenario run: what happened and which expectations failed.
#[derive(Debug)]
pub struct ScenarioRun {
    pub name: String,
    pub scenario: Scenario,
    pub workflow_path: PathBuf,
    pub run: Run,
    pub failures: Vec<String>,
}

impl ScenarioRun {
    /// The snapshot of the run: its JSON report and its timeline.
    pub fn snapshot(&self) -> String {
        let json = serde_json::to_string_pretty(&report::to_json(&self.run, &self.failures))
            .expect("reports are JSON");
        format!("{json}\n\n{}\n", report::timeline(&self.run).join("\n"))
    }

    /// [`ScenarioRun::snapshot`] without the error stack's positions, which are where each
    /// spelling (YAML, JSON) writes its steps (EX-6): what a workflow and its twin must
    /// share. The steps and routines are compared.
    pub fn spelling_free(&self) -> String {
        let mut json = report::to_json(&self.run, &self.failures);
        if let Some(stack) = json["stack"].as_array_mut() {
            for e in stack {
                e["position"] = serde_json::Value::Null;
            }
        }
        format!("{json}\n{}", report::timeline(&self.run).join("\n"))
    }
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// Runs the scenario at `path`; `workflow_override` runs it against another spelling of
/// its workflow (the JSON twin).
pub fn run_scenario(path: &Path, workflow_override: Option<&Path>) -> Result<ScenarioRun, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let scenario = scenario::parse(&text)
        .map_err(|e| format!("{}:{}: {}", path.display(), e.pos, e.message))?;
    let workflow_path = match workflow_override {
        Some(p) => p.to_path_buf(),
        None => path
            .parent()
            .unwrap_or(Path::new("."))
            .join(&scenario.workflow),
    };
    let workflow = load_workflow(&workflow_path)?;
    let run = runner::run_with_services(
        Rc::new(workflow),
        &stem(&workflow_path),
        &scenario.run_config(),
        &scenario.requests,
        &scenario.services,
    );
    let failures = scenario::check(&scenario, &run);
    Ok(ScenarioRun {
        name: stem(path),
        scenario,
        workflow_path,
        run,
        failures,
    })
}

/// Runs a workflow alone: no requests, seed 0.
pub fn run_workflow(path: &Path) -> Result<Run, String> {
    let workflow = load_workflow(path)?;
    let config = RunConfig::default();
    Ok(runner::run(Rc::new(workflow), &stem(path), &config, &[]))
}

/// The JSON twin of a YAML workflow, if there is one.
pub fn json_twin(workflow: &Path) -> Option<PathBuf> {
    let twin = workflow.with_extension("json");
    (workflow.extension().is_some_and(|e| e == "yaml") && twin.is_file()).then_some(twin)
}

/// The stored insta snapshot `name` (`conformance/tests/snapshots/<name>.snap`), without its
/// header, or `None` when there is none.
pub fn stored_snapshot(name: &str) -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.snap"));
    let text = fs::read_to_string(path).ok()?;
    let body = text.strip_prefix("---\n")?;
    let end = body.find("\n---\n")?;
    Some(body[end + 5..].to_owned())
}

/// Whether `actual` is what the stored snapshot `name` holds (insta trims the ends).
pub fn matches_snapshot(name: &str, actual: &str) -> bool {
    stored_snapshot(name).is_some_and(|s| s.trim() == actual.trim())
}

/// The timeline snapshot of a workflow run alone.
pub fn workflow_snapshot(run: &Run) -> String {
    report::timeline(run).join("\n")
}
