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
    Serve(ServeArgs),
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Workflow definitions to deploy.
    files: Vec<PathBuf>,
    /// Port to listen on; 0 picks a free one (the first line printed names it).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    #[arg(long, default_value = "wfsim")]
    project: String,
    #[arg(long, default_value = "us-central1")]
    location: String,
    /// Accept every request without a token.
    #[arg(long)]
    no_auth: bool,
    /// Start one execution of the (single) workflow at once, with this argument (JSON).
    #[arg(long, value_name = "ARG_JSON", num_args = 0..=1, default_missing_value = "")]
    execute: Option<String>,
    /// Permissions of a service account's tokens, e.g. ci@p=workflows.callbacks.send.
    #[arg(long, value_name = "SA=PERM,...")]
    grant: Vec<String>,
    /// Seed for execution, callback and token ids (default: a random one, printed, so that
    /// each start mints a different token).
    #[arg(long)]
    seed: Option<u64>,
    /// Use this as the all-permission token instead of minting one.
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    /// What moves time: `real`; `manual` (only POST /v1/wfsim/clock:advance
    /// {"seconds": N}); `auto` (as manual, and once no request but reads has come for
    /// --auto-idle-ms, the clock jumps to the next timer).
    #[arg(long, value_enum, default_value_t = Clock::Real)]
    clock: Clock,
    /// Under --clock auto: how long the server must be idle before time jumps.
    #[arg(long, value_name = "MS", default_value_t = 100)]
    auto_idle_ms: u64,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Clock {
    Real,
    Manual,
    Auto,
}

impl From<Clock> for wfsim_server::ClockMode {
    fn from(c: Clock) -> Self {
        match c {
            Clock::Real => wfsim_server::ClockMode::Real,
            Clock::Manual => wfsim_server::ClockMode::Manual,
            Clock::Auto => wfsim_server::ClockMode::Auto,
        }
    }
}

/// A seed from the operating system, so that a live server's token is not the same on
/// every start.
fn random_seed() -> Result<u64, Invalid> {
    use std::io::Read;
    let mut bytes = [0u8; 8];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| {
            Invalid(format!(
                "cannot read /dev/urandom for a seed (give --seed): {e}"
            ))
        })?;
    Ok(u64::from_le_bytes(bytes))
}

/// Invalid input: a message that names the file and place.
struct Invalid(String);

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
        Command::Serve(args) => serve(args),
    };
    match res {
        Ok(code) => code,
        Err(Invalid(msg)) => {
            eprintln!("{msg}");
            ExitCode::from(2)
        }
    }
}

fn read(path: &Path) -> Result<String, Invalid> {
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
fn print_lines(lines: &[String]) {
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

fn serve(args: ServeArgs) -> Result<ExitCode, Invalid> {
    let seed = match args.seed {
        Some(seed) => seed,
        None => random_seed()?,
    };
    let mut grants = std::collections::BTreeMap::new();
    for g in &args.grant {
        let (sa, perms) = wfsim_server::auth::parse_grant(g).map_err(Invalid)?;
        grants.insert(sa, perms);
    }
    let mut workflows = Vec::new();
    for f in &args.files {
        let name = f
            .file_stem()
            .map_or("workflow".into(), |s| s.to_string_lossy().into_owned());
        workflows.push((name, f.display().to_string(), read(f)?));
    }
    if args.execute.is_some() && workflows.len() != 1 {
        return Err(Invalid(format!(
            "--execute starts the single deployed workflow, but {} are deployed",
            workflows.len()
        )));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Invalid(format!("cannot start the runtime: {e}")))?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let listener = tokio::net::TcpListener::bind((args.bind.as_str(), args.port))
            .await
            .map_err(|e| Invalid(format!("cannot listen on {}:{}: {e}", args.bind, args.port)))?;
        let addr = listener.local_addr().map_err(|e| Invalid(e.to_string()))?;
        let base_url = format!("http://{addr}");
        // Live mode stands in for a real service: its wall clock is the real one.
        #[allow(clippy::disallowed_methods)]
        let wall_start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        let mut state = wfsim_server::State::new(
            wfsim_server::Config {
                project: args.project.clone(),
                location: args.location.clone(),
                base_url: base_url.clone(),
                seed,
                auth: !args.no_auth,
                grants,
                clock: args.clock.into(),
            },
            wall_start,
        );
        let mut lines = vec![format!("wfsim serving on {base_url}")];
        if args.seed.is_none() {
            lines.push(format!("seed: {seed} (drawn at start; --seed {seed} starts the same ids and token again)"));
        }
        if !matches!(args.clock, Clock::Real) {
            lines.push(format!(
                "clock: {} (GET {base_url}/v1/wfsim/clock; POST {base_url}/v1/wfsim/clock:advance {{\"seconds\": N}})",
                wfsim_server::ClockMode::from(args.clock).as_str()
            ));
        }
        if args.no_auth {
            // No token at all: said below.
        } else if let Some(token) = &args.token {
            state.adopt_master_token(token);
            lines.push(format!("token (every permission): {token}"));
        } else if let Some(token) = state.master_token() {
            lines.push(format!("token (every permission): {token}"));
        } else {
            lines.push("no auth: every request is accepted (--no-auth)".into());
        }
        // Files are deployed as the Workflows API deploys: each a first revision, its
        // source kept (`sourceContents`), errors at the file's own line and column.
        for (name, file, text) in workflows {
            state
                .deploy_source(wfsim_engine::SimTime::ZERO, &name, &file, &text)
                .map_err(|errors| {
                    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
                    Invalid(lines.join("\n"))
                })?;
            lines.push(format!(
                "workflow {name}: {base_url}/v1/projects/{}/locations/{}/workflows/{name}/executions",
                args.project, args.location
            ));
        }
        let epoch = tokio::time::Instant::now();
        if let Some(arg) = &args.execute {
            let name = state.workflow_names().remove(0);
            let argument = (!arg.is_empty()).then(|| arg.clone());
            let id = state
                .start_execution(wfsim_engine::SimTime::ZERO, &name, argument)
                .map_err(|res| Invalid(String::from_utf8_lossy(&res.body).into_owned()))?;
            lines.push(format!(
                "execution started: {base_url}/v1/projects/{}/locations/{}/workflows/{name}/executions/{id}",
                args.project, args.location
            ));
        }
        print_lines(&lines);
        let state = std::rc::Rc::new(std::cell::RefCell::new(state));
        let on_log: std::rc::Rc<dyn Fn(String)> = std::rc::Rc::new(|line| print_lines(&[line]));
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let options = wfsim_server::Options {
            auto_idle: std::time::Duration::from_millis(args.auto_idle_ms),
            ..wfsim_server::Options::logs(on_log)
        };
        wfsim_server::serve_observed(listener, state, epoch, options, shutdown).await;
        print_lines(&["wfsim: stopped".to_owned()]);
        Ok(ExitCode::SUCCESS)
    })
}
