//! One file of `wfsim test`, run as `wfsim run` runs a scenario or as `wfsim explore`
//! explores: what it found, with where each broken expectation is written.

use std::path::Path;
use std::rc::Rc;

use wfsim_engine::coverage;
use wfsim_engine::defn::Workflow;
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
    /// The workflow run, for the HTML report's graph and coverage.
    pub workflow: Rc<Workflow>,
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
    let workflow = Rc::new(workflow);
    let run = runner::run_with_children(
        Rc::clone(&workflow),
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
            workflow,
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

/// Runs the file at `path` of kind `kind`; with `html`, also its report for the suite's
/// page, its ids starting with `html` (the run page of a scenario, the explore page of an
/// explore file, why an invalid file is).
pub(crate) fn file(
    path: &Path,
    kind: Kind,
    options: &Options,
    html: Option<&str>,
) -> (Outcome, Option<String>) {
    let (outcome, report) = match kind {
        Kind::Scenario => match scenario_run(path) {
            Ok((ran, workflow, coverage)) => {
                let outcome = scenario_outcome(path, &ran, workflow.clone(), coverage);
                let report = html.map(|ids| scenario_html(&ran, &workflow, &outcome, ids));
                (Outcome::Scenario(outcome), report)
            }
            Err(Invalid(why)) => (Outcome::Invalid(why), None),
        },
        Kind::Explore => {
            let explore = wfsim_explore::Options {
                seeds: options.seeds,
                shard: options.shard,
                ..Default::default()
            };
            match wfsim_explore::explore(path, &explore) {
                Ok(r) => {
                    let report = html.map(|ids| match crate::explore::html(&r, Some(ids)) {
                        Ok(section) => section,
                        Err(Invalid(why)) => wfsim_render::suite::invalid_section(&why),
                    });
                    (Outcome::Explore(Box::new(r)), report)
                }
                Err(e) => (Outcome::Invalid(e.0), None),
            }
        }
    };
    let report = match (&outcome, html) {
        (Outcome::Invalid(why), Some(_)) => Some(wfsim_render::suite::invalid_section(why)),
        _ => report,
    };
    (outcome, report)
}

/// A scenario's run page, as `wfsim run --html` draws it, as a section of the suite's page.
fn scenario_html(ran: &Ran, workflow: &str, outcome: &ScenarioOutcome, ids: &str) -> String {
    let source = match crate::read(Path::new(workflow)) {
        Ok(s) => s,
        Err(Invalid(why)) => return wfsim_render::suite::invalid_section(&why),
    };
    let failures: Vec<String> = outcome
        .failures
        .iter()
        .map(|(at, what)| format!("{at}: {what}"))
        .collect();
    wfsim_render::html::run_section(
        &ran.run,
        wfsim_render::html::RunPage {
            file: workflow,
            source: &source,
            seed: ran.scenario.seed,
            failures: &failures,
            workflow: Some(&ran.workflow),
        },
        ids,
    )
}

/// `run` as a [`FileOutcome`] named `shown`.
pub(crate) fn named(shown: String, result: Outcome, millis: Option<u64>) -> FileOutcome {
    FileOutcome {
        path: shown,
        result,
        millis,
    }
}
