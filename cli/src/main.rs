//! `wfsim`: run Google Cloud Workflows definitions with callbacks under simulated time.
//!
//! - `wfsim run FILE [--seed N] [--arg JSON] [--env KEY=VALUE]... [--json]`: a workflow runs
//!   with no requests and must succeed; a scenario runs its script and checks its
//!   expectations (SUCCEEDED when it states no `state`). A file is a scenario by its content
//!   (`scenario::parse_if_scenario`).
//! - `wfsim explore FILE [--seeds N] [--seed S] [--jobs J] [--shard K/N] [--json] [--lcov F]
//!   [--system]`:
//!   a scenario with an `explore:` section under generated schedules (`wfsim-explore`).
//! - `wfsim check FILE...`: deploy-time checks only; a scenario or explore file is checked
//!   with the workflow it names.
//! - `wfsim test [PATH…]`, `wfsim merge REPORT.json…`: a repository's scenarios and explore
//!   files (`suite`).
//! - `wfsim conformance --target URL`: another implementation judged over its API
//!   (`wfsim-judge`).
//!
//! Exit codes: 0 ran and every expectation held; 1 an expectation failed (a workflow run
//! alone expects SUCCEEDED); 2 invalid input.

/// mimalloc rather than the system allocator: explore's seeds and the interpreter allocate
/// and free small values all the time, and glibc's malloc and free were a third of an
/// explore run's instructions.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;

use clap::{Parser, Subcommand};

mod explore;
mod folder;
mod serve;
mod suite;
use wfsim_engine::defn::{self, Workflow};
use wfsim_engine::error;
use wfsim_engine::interp::Outcome;
use wfsim_engine::{ExecutionState, Value, WallClock};
use wfsim_harness::children::Library;
use wfsim_harness::report;
use wfsim_harness::runner::{self, RunConfig};
use wfsim_harness::scenario::{self, Scenario};

#[derive(Parser, Debug)]
#[command(
    name = "wfsim",
    version,
    about = "Deterministic simulation of Google Cloud Workflows callbacks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a workflow (with no requests) or a scenario (with its script) and print what
    /// happened, when.
    Run {
        /// A workflow definition or a scenario (a map with `workflow:`), YAML or JSON.
        file: PathBuf,
        /// Seed for ids and branch scheduling (overrides the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// The execution argument, as JSON (overrides the scenario's).
        #[arg(long = "arg", value_name = "JSON")]
        argument: Option<String>,
        /// A user-defined environment variable for `sys.get_env` (repeatable; overrides
        /// the scenario's `env`).
        #[arg(long = "env", value_name = "KEY=VALUE")]
        env: Vec<String>,
        /// Print exactly one JSON object instead of the timeline.
        #[arg(long)]
        json: bool,
        /// Keep the execution's step entries (its history, as the Executions API's
        /// `stepEntries` list it) and add them to `--json` as `step_entries`;
        /// `--step-entries=detailed` keeps each entry's variables too (`variableData`,
        /// GCP's EXECUTION_HISTORY_DETAILED).
        #[arg(long, value_name = "LEVEL", num_args = 0..=1, require_equals = true,
              default_missing_value = "basic")]
        step_entries: Option<History>,
        /// Also write a self-contained HTML report of the run (timeline, outcome, source,
        /// requests, logs) to this file.
        #[arg(long, value_name = "OUT")]
        html: Option<PathBuf>,
        /// Also write the run's timeline alone as a self-contained SVG picture (lanes per
        /// thread and per callback endpoint, every request's verdict) to this file.
        #[arg(long, value_name = "OUT")]
        svg: Option<PathBuf>,
    },
    /// Run the deploy-time checks on workflow definitions, and on scenarios and explore
    /// files with the workflow each names.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Serve workflows on a local HTTP port: the Workflows Executions API and callback
    /// endpoints, in real time. Each file is deployed as the workflow named by its stem.
    Serve(Box<serve::ServeArgs>),
    /// Judge another implementation over its API: deploy the suite's workflows, run
    /// executions, send callbacks at the scenarios' instants, and print the per-rule
    /// report. Exit 0 when every rule checked over the wire holds, 1 when one fails.
    Conformance {
        /// The implementation's base URL, `http://HOST:PORT`.
        #[arg(long, value_name = "URL")]
        target: String,
        /// Bearer token sent with every request.
        #[arg(long, value_name = "T")]
        token: Option<String>,
        #[arg(long, value_name = "P", default_value = "wfsim")]
        project: String,
        #[arg(long, value_name = "L", default_value = "us-central1")]
        location: String,
        /// Generated op sequences of the model-based check to replay over the wire.
        #[arg(long, value_name = "N", default_value_t = 0)]
        cases: u32,
        /// On a target without wfsim's clock API, wait out long timeouts too.
        #[arg(long)]
        full_time: bool,
        /// The suite: `scenarios/`, `workflows/` and `corpus/` (default: this checkout's
        /// `fixtures/`).
        #[arg(long, value_name = "DIR")]
        fixtures: Option<PathBuf>,
    },
    /// Run a workflow under thousands of generated schedules (a scenario with an
    /// `explore:` section): properties, coverage, and a shrunk reproducer for each failure.
    Explore(explore::ExploreArgs),
    /// Run every scenario and explore file under the paths (default `.`): a line per file,
    /// a summary, exit 0 all passed, 1 one failed, 2 one is invalid (each named).
    Test(suite::TestArgs),
    /// Merge the `--json` reports of every shard (`--shard K/N`) of one `wfsim test` or
    /// `wfsim explore` into what one machine would have printed, with its exit code.
    Merge(suite::MergeArgs),
}

/// `wfsim run --step-entries=LEVEL`: GCP's execution history levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum History {
    Basic,
    Detailed,
}

/// Invalid input: a message that names the file and place.
pub(crate) struct Invalid(String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = match cli.command {
        Command::Run {
            file,
            seed,
            argument,
            env,
            json,
            step_entries,
            html,
            svg,
        } => run(
            &file,
            seed,
            argument.as_deref(),
            &env,
            json,
            step_entries,
            Pictures {
                html: html.as_deref(),
                svg: svg.as_deref(),
            },
        ),
        Command::Check { files } => check(&files),
        Command::Serve(args) => serve::serve(*args),
        Command::Conformance {
            target,
            token,
            project,
            location,
            cases,
            full_time,
            fixtures,
        } => conformance(wfsim_judge::Options {
            target,
            token,
            project,
            location,
            cases,
            full_time,
            fixtures: fixtures.unwrap_or_else(wfsim_conformance::fixtures::dir),
        }),
        Command::Explore(args) => explore::explore(args),
        Command::Test(args) => suite::test(args),
        Command::Merge(args) => suite::merge(args),
    };
    match res {
        Ok(code) => code,
        Err(Invalid(msg)) => {
            eprintln!("{msg}");
            ExitCode::from(2)
        }
    }
}

/// `wfsim conformance --target`: the report on stdout; 1 if a rule failed.
fn conformance(options: wfsim_judge::Options) -> Result<ExitCode, Invalid> {
    let target = options.target.clone();
    let tally = wfsim_judge::run(&options).map_err(Invalid)?;
    print!("{}", tally.render(&target));
    Ok(if tally.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub(crate) fn read(path: &Path) -> Result<String, Invalid> {
    std::fs::read_to_string(path)
        .map_err(|e| Invalid(format!("{}: cannot read: {e}", path.display())))
}

fn load_workflow_text(path: &Path, text: &str) -> Result<Workflow, Invalid> {
    defn::load(&path.display().to_string(), text).map_err(|errors| {
        Invalid(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })
}

/// Whether the file at `path` holding `text` is an explore file: a scenario with `explore:`.
fn is_explore_file(path: &Path, text: &str) -> bool {
    let name = path.display().to_string();
    scenario::recognise(&name, text)
        && defn::tree::parse(text, defn::tree::Syntax::of_path(&name)).is_ok_and(|root| {
            root.as_map()
                .is_some_and(|m| m.iter().any(|(k, _, _)| k == "explore"))
        })
}

/// The file at `path` (holding `text`), when it is a scenario: the scenario, and the path of
/// the workflow it names.
fn as_scenario(path: &Path, text: &str) -> Result<Option<(Scenario, PathBuf)>, Invalid> {
    let name = path.display().to_string();
    let Some(parsed) = scenario::parse_if_scenario(&name, text) else {
        return Ok(None);
    };
    let s = parsed.map_err(|e| Invalid(e.in_file(&name).to_string()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let joined = base.join(&s.workflow);
    // `scenarios/../workflows/w.yaml` is named `workflows/w.yaml` when both are one file.
    let tidy = scenario::tidy_path(&joined);
    let same = |a: &Path, b: &Path| {
        std::fs::canonicalize(a).is_ok_and(|a| std::fs::canonicalize(b).is_ok_and(|b| a == b))
    };
    let workflow = if same(&tidy, &joined) { tidy } else { joined };
    Ok(Some((s, workflow)))
}

/// The child workflows a run of `workflow` (at `workflow_path`, run by the scenario `s` in
/// the file `path`, if any) may start (HT-10); a child that cannot be found or loaded is an
/// error at the call that names it.
pub(crate) fn children_of(
    path: &Path,
    s: Option<&Scenario>,
    workflow: &Workflow,
    workflow_path: &Path,
) -> Result<Library, Invalid> {
    match s {
        Some(s) => s.children(path, workflow, workflow_path).map_err(Invalid),
        None => wfsim_harness::children::library(workflow, workflow_path, &Default::default())
            .map_err(|e| Invalid(e.join("\n"))),
    }
}

/// The workflow scenario `s` (in the file `path`) names; a file that cannot be read is an
/// error at the scenario's `workflow:` line.
fn scenario_workflow(path: &Path, s: &Scenario, workflow: &Path) -> Result<Workflow, Invalid> {
    let text = std::fs::read_to_string(workflow).map_err(|e| {
        let resolved = workflow.display().to_string();
        let also = if resolved == s.workflow {
            String::new()
        } else {
            format!(" ({resolved})")
        };
        Invalid(format!(
            "{}:{}: cannot read the workflow '{}'{also}: {e}",
            path.display(),
            s.workflow_pos,
            s.workflow,
        ))
    })?;
    load_workflow_text(workflow, &text)
}

/// Where `wfsim run` writes its pictures: `--html OUT` (the whole report) and `--svg OUT`
/// (the timeline alone, e.g. for a README).
#[derive(Clone, Copy)]
struct Pictures<'a> {
    html: Option<&'a Path>,
    svg: Option<&'a Path>,
}

fn run(
    path: &Path,
    seed: Option<u64>,
    argument: Option<&str>,
    env: &[String],
    json: bool,
    step_entries: Option<History>,
    pictures: Pictures<'_>,
) -> Result<ExitCode, Invalid> {
    let text = read(path)?;
    let (workflow_path, workflow, mut scenario) = match as_scenario(path, &text)? {
        Some((s, workflow_path)) => {
            let workflow = scenario_workflow(path, &s, &workflow_path)?;
            (workflow_path, workflow, Some(s))
        }
        None => (path.to_path_buf(), load_workflow_text(path, &text)?, None),
    };
    let file = workflow.file.to_string();
    let mut config = scenario.as_ref().map_or(
        RunConfig {
            seed: 0,
            argument: None,
            clock: WallClock::DEFAULT,
            cancel_at: None,
            env: Default::default(),
            step_entries: false,
            step_variables: false,
            project: None,
            location: None,
        },
        Scenario::run_config,
    );
    // A scenario that expects entries keeps them already; the flag adds them to `--json`.
    if let Some(level) = step_entries {
        config.step_entries = true;
        config.step_variables |= level == History::Detailed;
    }
    if let Some(seed) = seed {
        config.seed = seed;
        if let Some(s) = scenario.as_mut() {
            s.seed = seed;
        }
    }
    if let Some(arg) = argument {
        let parsed: serde_json::Value =
            serde_json::from_str(arg).map_err(|e| Invalid(format!("--arg: not JSON: {e}")))?;
        config.argument = Some(Value::from_json(&parsed));
    }
    for pair in env {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| Invalid(format!("--env {pair}: expected KEY=VALUE")))?;
        if let Some(e) = wfsim_engine::stdlib::env_name_error(key) {
            return Err(Invalid(format!("--env {pair}: {e}")));
        }
        config.env.insert(key.to_owned(), value.to_owned());
    }
    let name = workflow_path
        .file_stem()
        .map_or("workflow".into(), |s| s.to_string_lossy().into_owned());
    let (script, services) = scenario
        .as_ref()
        .map(|s| (s.requests.clone(), s.services.clone()))
        .unwrap_or_default();
    let library = children_of(path, scenario.as_ref(), &workflow, &workflow_path)?;
    let workflow = Rc::new(workflow);
    let run = runner::run_with_children(
        Rc::clone(&workflow),
        &name,
        &config,
        &script,
        &services,
        &library,
    );
    let failures = match &scenario {
        Some(s) => scenario::check(s, &run),
        // A workflow run alone must succeed: a FAILED run exiting 0 would pass CI.
        None if run.execution.state() != ExecutionState::Succeeded => vec![format!(
            "state {}, expected SUCCEEDED (a workflow run alone must succeed)",
            run.execution.state()
        )],
        None => Vec::new(),
    };
    if let Some(out) = pictures.svg {
        let picture = wfsim_render::svg::standalone(&wfsim_render::timeline::of_run(&run));
        std::fs::write(out, picture)
            .map_err(|e| Invalid(format!("--svg {}: cannot write: {e}", out.display())))?;
    }
    if let Some(out) = pictures.html {
        let source = if workflow_path == path {
            text.clone()
        } else {
            read(&workflow_path)?
        };
        let page = wfsim_render::html::run_page(
            &run,
            wfsim_render::html::RunPage {
                file: &file,
                source: &source,
                seed: config.seed,
                failures: &failures,
                workflow: Some(&workflow),
            },
        );
        std::fs::write(out, page)
            .map_err(|e| Invalid(format!("--html {}: cannot write: {e}", out.display())))?;
    }
    let mut out = Vec::new();
    if json {
        out.push(report::to_json(&run, &failures).to_string());
    } else {
        out.push(format!(
            "wfsim run {} (seed {})",
            path.display(),
            config.seed
        ));
        out.extend(report::timeline(&run));
        if let Some(Outcome::Failed(f)) = run.execution.outcome() {
            let what = error::message(f).unwrap_or_else(|| wfsim_engine::value::show(f));
            out.push(if f.stack.is_empty() {
                format!("error: {what}")
            } else {
                format!(
                    "error {}: {what}",
                    report::stack_text(&f.stack, Some(&file))
                )
            });
        }
        if scenario.is_some() {
            if failures.is_empty() {
                out.push("expectations: all held".into());
            } else {
                out.push(format!("expectations: {} failed", failures.len()));
                out.extend(failures.iter().map(|f| format!("  - {f}")));
            }
        } else if !failures.is_empty() {
            out.extend(failures.iter().cloned());
        }
    }
    print_lines(&out);
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs a scenario file as `wfsim run` does (its workflow, requests, services and config).
fn run_scenario_file(path: &Path) -> Result<runner::Run, Invalid> {
    let text = read(path)?;
    let Some((s, workflow_path)) = as_scenario(path, &text)? else {
        return Err(Invalid(format!("{}: not a scenario", path.display())));
    };
    let workflow = scenario_workflow(path, &s, &workflow_path)?;
    let library = children_of(path, Some(&s), &workflow, &workflow_path)?;
    let name = workflow_path
        .file_stem()
        .map_or("workflow".into(), |s| s.to_string_lossy().into_owned());
    Ok(runner::run_with_children(
        Rc::new(workflow),
        &name,
        &s.run_config(),
        &s.requests,
        &s.services,
        &library,
    ))
}

/// Prints to stdout; a closed pipe (`wfsim run … | head`) ends the output quietly.
pub(crate) fn print_lines(lines: &[String]) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    for line in lines {
        if writeln!(stdout, "{line}").is_err() {
            return;
        }
    }
}

fn check(files: &[PathBuf]) -> Result<ExitCode, Invalid> {
    let mut errors = Vec::new();
    for f in files {
        match check_one(f) {
            Ok(line) => print_lines(&[line]),
            // A workflow's error is said once, though the scenarios naming it meet it too.
            Err(Invalid(msg)) if errors.contains(&msg) => {}
            Err(Invalid(msg)) => errors.push(msg),
        }
    }
    if errors.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Invalid(errors.join("\n")))
    }
}

/// `; children a, b: ok` for the children `wfsim check` loaded and checked (HT-10).
fn children_text(library: &Library) -> String {
    if library.workflows.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = library.workflows.keys().map(String::as_str).collect();
    format!("; children {}: ok", names.join(", "))
}

/// Checks one file: a workflow, a scenario and the workflow it names, or an explore file
/// (its plan and workflow, as `wfsim explore` reads them), so `wfsim check **/*.yaml` takes
/// a whole repository.
fn check_one(path: &Path) -> Result<String, Invalid> {
    let text = read(path)?;
    if is_explore_file(path, &text) {
        let plan = wfsim_explore::plan::Plan::parse(path, &text).map_err(|e| Invalid(e.0))?;
        return Ok(format!(
            "{}: ok (explore file; workflow {}: ok)",
            path.display(),
            plan.workflow_path.display()
        ));
    }
    match as_scenario(path, &text)? {
        Some((s, workflow_path)) => {
            let workflow = scenario_workflow(path, &s, &workflow_path)?;
            let library = children_of(path, Some(&s), &workflow, &workflow_path)?;
            Ok(format!(
                "{}: ok (scenario; workflow {}: ok{})",
                path.display(),
                workflow_path.display(),
                children_text(&library)
            ))
        }
        None => {
            let workflow = load_workflow_text(path, &text)?;
            let library = children_of(path, None, &workflow, path)?;
            Ok(format!("{}: ok{}", path.display(), children_text(&library)))
        }
    }
}
