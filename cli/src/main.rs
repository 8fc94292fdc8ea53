//! `wfsim`: run Google Cloud Workflows definitions with callbacks under simulated time.
//!
//! - `wfsim run FILE [--seed N] [--arg JSON] [--json]`: a workflow runs with no requests; a
//!   scenario runs its script and checks its expectations.
//! - `wfsim check FILE...`: deploy-time checks only.
//!
//! Exit codes: 0 ran and every expectation held; 1 an expectation failed; 2 invalid input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;

use clap::{Parser, Subcommand};

mod serve;
use wfsim_engine::defn::{self, Syntax, Workflow};
use wfsim_engine::runner::{self, RunConfig};
use wfsim_engine::scenario::{self, Scenario};
use wfsim_engine::{Value, WallClock, report};

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
        /// A workflow definition (.yaml, .json) or a scenario (.yaml with `workflow:`).
        file: PathBuf,
        /// Seed for ids and branch scheduling (overrides the scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// The execution argument, as JSON (overrides the scenario's).
        #[arg(long = "arg", value_name = "JSON")]
        argument: Option<String>,
        /// Print exactly one JSON object instead of the timeline.
        #[arg(long)]
        json: bool,
    },
    /// Run the deploy-time checks on workflow definitions.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Serve workflows on a local HTTP port: the Workflows Executions API and callback
    /// endpoints, in real time. Each file is deployed as the workflow named by its stem.
    Serve(serve::ServeArgs),
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
            json,
        } => run(&file, seed, argument.as_deref(), json),
        Command::Check { files } => check(&files),
        Command::Serve(args) => serve::serve(args),
    };
    match res {
        Ok(code) => code,
        Err(Invalid(msg)) => {
            eprintln!("{msg}");
            ExitCode::from(2)
        }
    }
}

pub(crate) fn read(path: &Path) -> Result<String, Invalid> {
    std::fs::read_to_string(path)
        .map_err(|e| Invalid(format!("{}: cannot read: {e}", path.display())))
}

fn load_workflow(path: &Path) -> Result<Workflow, Invalid> {
    let text = read(path)?;
    defn::load(&path.display().to_string(), &text).map_err(|errors| {
        Invalid(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })
}

/// A YAML map with a `workflow` key is a scenario; anything else is a workflow.
fn is_scenario(path: &Path, text: &str) -> bool {
    let name = path.display().to_string();
    if Syntax::of_path(&name) == Syntax::Json {
        return false;
    }
    match defn::tree::parse(text, Syntax::Yaml) {
        Ok(root) => root
            .as_map()
            .is_some_and(|m| m.iter().any(|(k, _, _)| k == "workflow")),
        Err(_) => false,
    }
}

fn run(
    path: &Path,
    seed: Option<u64>,
    argument: Option<&str>,
    json: bool,
) -> Result<ExitCode, Invalid> {
    let text = read(path)?;
    let (workflow_path, mut scenario) = if is_scenario(path, &text) {
        let s = scenario::parse(&text)
            .map_err(|e| Invalid(format!("{}:{}: {}", path.display(), e.pos, e.message)))?;
        let base = path.parent().unwrap_or(Path::new("."));
        (base.join(&s.workflow), Some(s))
    } else {
        (path.to_path_buf(), None)
    };
    let workflow = load_workflow(&workflow_path)?;
    let mut config = scenario.as_ref().map_or(
        RunConfig {
            seed: 0,
            argument: None,
            clock: WallClock::DEFAULT,
            cancel_at: None,
        },
        Scenario::run_config,
    );
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
    let name = workflow_path
        .file_stem()
        .map_or("workflow".into(), |s| s.to_string_lossy().into_owned());
    let (script, services) = scenario
        .as_ref()
        .map(|s| (s.requests.clone(), s.services.clone()))
        .unwrap_or_default();
    let run = runner::run_with_services(Rc::new(workflow), &name, &config, &script, &services);
    let failures = scenario
        .as_ref()
        .map(|s| scenario::check(s, &run))
        .unwrap_or_default();
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
        if scenario.is_some() {
            if failures.is_empty() {
                out.push("expectations: all held".into());
            } else {
                out.push(format!("expectations: {} failed", failures.len()));
                out.extend(failures.iter().map(|f| format!("  - {f}")));
            }
        }
    }
    print_lines(&out);
    Ok(if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
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
        match load_workflow(f) {
            Ok(_) => print_lines(&[format!("{}: ok", f.display())]),
            Err(Invalid(msg)) => errors.push(msg),
        }
    }
    if errors.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Invalid(errors.join("\n")))
    }
}
