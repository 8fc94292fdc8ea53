//! One file of `wfsim test`, run as `wfsim run` runs a scenario or as `wfsim explore`
//! explores: what it found, with where each broken expectation is written.

use std::path::Path;
use std::rc::Rc;

use wfsim_engine::coverage;
use wfsim_explore::cover::{self, ChildCover};
use wfsim_explore::report::CoverRow;
use wfsim_harness::runner::{self, Run};
use wfsim_harness::scenario::{self, Scenario};

use crate::suite::find::Kind;
use crate::suite::outcome::{FileOutcome, Outcome, ScenarioOutcome};
use crate::{Invalid, as_scenario, children_of, read, scenario_workflow};

/// How every file runs.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// Overrides every explore file's seed count.
    pub seeds: Option<u64>,
    pub shard: Option<(u64, u64)>,
}

/// A scenario run: what `--update` writes back from.
pub(crate) struct Ran {
    pub text: String,
    pub scenario: Scenario,
    pub run: Run,
}

/// Runs the scenario at `path`: its text, what it says, and the run.
/// A scenario's step coverage: its workflow's points and each child workflow's (HT-10),
/// counted in passes.
pub(crate) struct Coverage {
    pub rows: Vec<CoverRow>,
    pub children: Vec<ChildCover>,
}

pub(crate) fn scenario_run(path: &Path) -> Result<(Ran, String, Coverage), Invalid> {
    let text = read(path)?;
    let Some((s, workflow_path)) = as_scenario(path, &text)? else {
        return Err(Invalid(format!("{}: not a scenario", path.display())));
    };
    let workflow = scenario_workflow(path, &s, &workflow_path)?;
    let library = children_of(path, Some(&s), &workflow, &workflow_path)?;
    let sites = coverage::points(&workflow);
    let name = workflow_path
        .file_stem()
        .map_or("workflow".into(), |s| s.to_string_lossy().into_owned());
    let run = runner::run_with_children(
        Rc::new(workflow),
        &name,
        &s.run_config(),
        &s.requests,
        &s.services,
        &library,
    );
    let rows = cover::rows(
        &sites,
        &coverage::by_position(&sites, &run.execution.coverage()),
    );
    let passes = cover::children_passes(&run, &library);
    let children = cover::child_rows(
        &cover::child_sites(&library, passes.values().map(|(name, _)| name.as_str())),
        &passes
            .into_iter()
            .map(|(file, (_, counts))| (file, counts))
            .collect(),
    );
    Ok((
        Ran {
            text,
            scenario: s,
            run,
        },
        workflow_path.display().to_string(),
        Coverage { rows, children },
    ))
}

/// The outcome of the scenario at `path` run.
pub(crate) fn scenario_outcome(
    path: &Path,
    ran: &Ran,
    workflow: String,
    coverage: Coverage,
) -> ScenarioOutcome {
    let name = path.display();
    ScenarioOutcome {
        workflow,
        state: ran.run.execution.state().to_string(),
        failures: scenario::check_located(&ran.scenario, &ran.run)
            .into_iter()
            .map(|f| (format!("{name}:{}", f.pos), f.message))
            .collect(),
        coverage: coverage.rows,
        children: coverage.children,
    }
}

/// Runs the file at `path` of kind `kind`.
pub(crate) fn file(path: &Path, kind: Kind, options: &Options) -> Outcome {
    match kind {
        Kind::Scenario => match scenario_run(path) {
            Ok((ran, workflow, coverage)) => {
                Outcome::Scenario(scenario_outcome(path, &ran, workflow, coverage))
            }
            Err(Invalid(why)) => Outcome::Invalid(why),
        },
        Kind::Explore => {
            let explore = wfsim_explore::Options {
                seeds: options.seeds,
                shard: options.shard,
                ..Default::default()
            };
            match wfsim_explore::explore(path, &explore) {
                Ok(r) => Outcome::Explore(Box::new(r)),
                Err(e) => Outcome::Invalid(e.0),
            }
        }
    }
}

/// `run` as a [`FileOutcome`] named `shown`.
pub(crate) fn named(shown: String, result: Outcome, millis: Option<u64>) -> FileOutcome {
    FileOutcome {
        path: shown,
        result,
        millis,
    }
}
