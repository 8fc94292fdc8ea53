//! `wfsim serve`: the runtime, the listener, the state directory and Ctrl-C around
//! `wfsim_server`. No rules live here.

use std::cell::RefCell;
use std::path::PathBuf;
use std::process::ExitCode;
use std::rc::Rc;

use wfsim_engine::SimTime;
use wfsim_harness::services::{self, Service};
use wfsim_server::durable::{Meta, StateDir};
use wfsim_server::{ApiEvent, ClockMode, Config, Level, Options, State};

use crate::{Invalid, folder, print_lines, read};

#[derive(clap::Args, Debug)]
pub(crate) struct ServeArgs {
    /// Workflow files and folders to deploy (none given: $WORKFLOWS_DIR, if set). A folder
    /// gives its YAML and JSON workflows, each named by its file (scenario, explore and
    /// services files beside them are skipped). They are watched: a save deploys a new
    /// revision, a file that fails the deploy checks is reported and its last good revision
    /// keeps serving, a removed file deletes its workflow.
    files: Vec<PathBuf>,
    /// How often the files and folders are looked at for changes, in milliseconds; 0 turns
    /// watching off.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    watch_ms: u64,
    /// Port to listen on; 0 picks a free one (the first line printed names it). Else
    /// $WFSIM_PORT, else $PORT (as gcw-emulator reads it), else 8080.
    #[arg(long, env = "WFSIM_PORT")]
    port: Option<u16>,
    /// A second port that serves gRPC only, for clients configured with one port per
    /// protocol (`--port 8787 --grpc-port 8788` is gcw-emulator's pair); the main port
    /// serves gRPC too. 0 picks a free one (printed). Else $WFSIM_GRPC_PORT, else
    /// $GRPC_PORT, else none.
    #[arg(long, value_name = "PORT", env = "WFSIM_GRPC_PORT")]
    grpc_port: Option<u16>,
    /// Address to listen on. Else $WFSIM_BIND, else 127.0.0.1 ($HOST is not read: shells
    /// set it to the machine's name).
    #[arg(long, env = "WFSIM_BIND")]
    bind: Option<String>,
    /// The default project: the served files' workflows live there (any project a client
    /// names is served, as GCP does). Else $WFSIM_PROJECT, else $PROJECT, else `wfsim`.
    #[arg(long, env = "WFSIM_PROJECT")]
    project: Option<String>,
    /// The default location, as --project. Else $WFSIM_LOCATION, else $LOCATION, else
    /// `us-central1`.
    #[arg(long, env = "WFSIM_LOCATION")]
    location: Option<String>,
    /// Accept every request without a token. Refused on an address other than loopback
    /// unless --allow-unauthenticated-remote: anyone who reaches the port could then
    /// deploy a workflow whose calls go out from this host.
    #[arg(long)]
    no_auth: bool,
    /// Let --no-auth listen on an address other than loopback.
    #[arg(long)]
    allow_unauthenticated_remote: bool,
    /// Start one execution of the (single) workflow at once, with this argument (JSON).
    #[arg(long, value_name = "ARG_JSON", num_args = 0..=1, default_missing_value = "")]
    execute: Option<String>,
    /// Permissions of a service account's tokens, e.g. ci@p=workflows.callbacks.send.
    #[arg(long, value_name = "SA=PERM,...")]
    grant: Vec<String>,
    /// Start WORKFLOW once per message published to a Pub/Sub topic, through the emulator
    /// of $PUBSUB_EMULATOR_HOST, with the CloudEvent Eventarc would give it:
    /// pubsub:projects/P/topics/T=WORKFLOW. Repeatable; a folder's `triggers.yaml`
    /// (`triggers: [pubsub:…]`) adds its own.
    #[arg(long, value_name = "pubsub:projects/P/topics/T=WORKFLOW")]
    trigger: Vec<String>,
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
    /// Keep every input (deploys, executions, callbacks, cancels, clock moves) in DIR,
    /// on disk before it is answered; a restart on DIR brings everything back.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// With --state-dir: log records after which the state is checkpointed (the log
    /// compacted to what is held), or half the checkpoint's records if more; disk and
    /// restart time then follow what --keep-ended keeps, not history.
    #[arg(long, value_name = "N", default_value_t = wfsim_server::durable::CHECKPOINT_AFTER_DEFAULT)]
    checkpoint_after: u64,
    /// Scripted services (the `services:` of scenarios, SPEC HT-7) that answer outbound
    /// calls before the network does; a file with `services: [...]` or the list itself.
    #[arg(long, value_name = "FILE")]
    services: Option<PathBuf>,
    /// A PEM file of CA certificates that outbound `https://` calls trust besides the
    /// system's (a local CA, for a service on localhost); repeatable.
    #[arg(long, value_name = "FILE")]
    ca_cert: Vec<PathBuf>,
    /// The form of the API event lines on stderr (executions started and ended, callbacks
    /// answered): `text` or `json` (one object per line).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Which of those lines are printed: `error` (executions that FAILED: the error, the
    /// step and its file:line:column), `warn` (also callbacks refused, outbound calls that
    /// failed or were answered 4xx/5xx), `info` (also executions started and ended,
    /// callbacks taken, every outbound call with its status) or `debug` (also every API
    /// request with its status).
    #[arg(long, value_enum, default_value_t = LogLevel::Info, env = "WFSIM_LOG_LEVEL")]
    log_level: LogLevel,
    /// Seconds a request's headers may take to arrive (an idle keep-alive connection's
    /// next request too) before the connection is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    header_timeout: f64,
    /// Ended executions kept (at least 1; default 10000): once more end, the oldest-ended
    /// is evicted (its record, logs and callback endpoints; a GET of it is 404 saying so),
    /// so a long-running server's memory stays bounded. A restart on --state-dir keeps the
    /// N it last ran with unless given another.
    #[arg(long, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    keep_ended: Option<usize>,
    /// Connections served at once; more wait in the listener's queue.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    max_connections: usize,
    /// Test-only: break one rule on purpose, to prove `wfsim conformance --target` judges
    /// (slot-overwrite, buffer-kept-after-end, waiters-lifo, timer-tick-late,
    /// backoff-off-by-one, cancel-after-end).
    #[arg(long, value_name = "NAME", hide = true)]
    defect: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

impl From<LogLevel> for Level {
    fn from(l: LogLevel) -> Level {
        match l {
            LogLevel::Error => Level::Error,
            LogLevel::Warn => Level::Warn,
            LogLevel::Info => Level::Info,
            LogLevel::Debug => Level::Debug,
        }
    }
}

/// One API event as a line of the operator's log: in text, the time, the level, what
/// happened to what, then `key=value`s (a value with a space quoted, as JSON quotes it).
fn event_line(e: &ApiEvent, format: LogFormat) -> String {
    match format {
        LogFormat::Text => {
            let level = e.level.as_str().to_ascii_uppercase();
            let mut line = format!("{} {level:<8} {} {}", e.time, e.kind, e.name);
            for (k, v) in &e.detail {
                if v.is_empty() || v.contains([' ', '"', '=']) {
                    line.push_str(&format!(" {k}={}", serde_json::Value::from(v.as_str())));
                } else {
                    line.push_str(&format!(" {k}={v}"));
                }
            }
            line
        }
        LogFormat::Json => {
            let mut o = serde_json::Map::new();
            o.insert("time".into(), e.time.clone().into());
            o.insert("level".into(), e.level.as_str().into());
            o.insert("event".into(), e.kind.into());
            o.insert("name".into(), e.name.clone().into());
            for (k, v) in &e.detail {
                o.insert((*k).into(), v.clone().into());
            }
            serde_json::Value::Object(o).to_string()
        }
    }
}

/// Lines written on a thread of their own, through a bounded queue: an output nobody
/// reads costs lines (dropped, counted, and said as soon as the output moves again),
/// never a stalled server.
struct Sink {
    tx: RefCell<Option<std::sync::mpsc::SyncSender<String>>>,
    dropped: std::sync::Arc<std::sync::atomic::AtomicU64>,
    done: std::sync::mpsc::Receiver<()>,
}

impl Sink {
    /// Lines the queue holds before it drops.
    const QUEUE: usize = 65_536;

    fn new(to_stderr: bool) -> Sink {
        use std::io::Write;
        use std::sync::atomic::Ordering;
        let (tx, rx) = std::sync::mpsc::sync_channel::<String>(Sink::QUEUE);
        let (done_tx, done) = std::sync::mpsc::channel();
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = std::sync::Arc::clone(&dropped);
        std::thread::spawn(move || {
            let mut out: Box<dyn Write> = if to_stderr {
                Box::new(std::io::stderr())
            } else {
                Box::new(std::io::stdout())
            };
            for line in rx {
                let lost = counter.swap(0, Ordering::Relaxed);
                if lost > 0 {
                    let _ = writeln!(
                        out,
                        "wfsim: {lost} lines dropped: the output was not read in time"
                    );
                }
                if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                    break;
                }
            }
            let _ = done_tx.send(());
        });
        Sink {
            tx: RefCell::new(Some(tx)),
            dropped,
            done,
        }
    }

    fn line(&self, line: String) {
        if let Some(tx) = &*self.tx.borrow() {
            if tx.try_send(line).is_err() {
                self.dropped
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }

    /// Lets the queue drain, for at most `wait`; later lines are dropped.
    fn close(&self, wait: std::time::Duration) {
        self.tx.borrow_mut().take();
        let _ = self.done.recv_timeout(wait);
    }
}

/// The scripted services of `--services FILE`, errors at the file's line and column; and
/// the text they were read from, which the watcher compares the file with.
fn load_services(path: &std::path::Path) -> Result<(Vec<Service>, String), Invalid> {
    let text = read(path)?;
    let services = services::read_file(&path.display().to_string(), &text).map_err(Invalid)?;
    Ok((services, text))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Clock {
    Real,
    Manual,
    Auto,
}

impl From<Clock> for ClockMode {
    fn from(c: Clock) -> Self {
        match c {
            Clock::Real => ClockMode::Real,
            Clock::Manual => ClockMode::Manual,
            Clock::Auto => ClockMode::Auto,
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

/// The real time now, in Unix nanoseconds: live mode stands in for a real service.
fn wall_now() -> i128 {
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i128::try_from(d.as_nanos()).unwrap_or(i128::MAX))
}

/// Where `wfsim serve` listens and what it serves, from its flags, else the environment
/// (the `WFSIM_` names, then the unprefixed ones Google's emulators' users know), else the
/// defaults.
#[derive(Debug, PartialEq, Eq)]
struct Place {
    port: u16,
    grpc_port: Option<u16>,
    bind: String,
    project: String,
    location: String,
    files: Vec<PathBuf>,
}

impl Place {
    /// `env` reads a variable (the process's, or a test's); clap has already put the
    /// `WFSIM_` ones into `args`.
    fn of(args: &ServeArgs, env: impl Fn(&str) -> Option<String>) -> Result<Place, Invalid> {
        let port = match (args.port, env("PORT")) {
            (Some(p), _) => p,
            (None, Some(text)) => text.trim().parse().map_err(|_| {
                Invalid(format!(
                    "PORT={text}: not a port number (0 to 65535); give --port to override it"
                ))
            })?,
            (None, None) => 8080,
        };
        let grpc_port = match (args.grpc_port, env("GRPC_PORT").filter(|v| !v.is_empty())) {
            (Some(p), _) => Some(p),
            (None, Some(text)) => Some(text.trim().parse().map_err(|_| {
                Invalid(format!(
                    "GRPC_PORT={text}: not a port number (0 to 65535); give --grpc-port to override it"
                ))
            })?),
            (None, None) => None,
        };
        let files = match (args.files.is_empty(), env("WORKFLOWS_DIR")) {
            (true, Some(dir)) if !dir.is_empty() => vec![PathBuf::from(dir)],
            _ => args.files.clone(),
        };
        let or = |given: &Option<String>, name: &str, default: &str| {
            given
                .clone()
                .or_else(|| env(name).filter(|v| !v.is_empty()))
                .unwrap_or_else(|| default.to_owned())
        };
        let place = Place {
            port,
            grpc_port,
            bind: args.bind.clone().unwrap_or_else(|| "127.0.0.1".into()),
            project: or(&args.project, "PROJECT", "wfsim"),
            location: or(&args.location, "LOCATION", "us-central1"),
            files,
        };
        if args.no_auth && !args.allow_unauthenticated_remote && !is_loopback(&place.bind) {
            return Err(Invalid(format!(
                "--no-auth on {}: anyone who can reach this address could deploy a workflow \
                 whose calls go out from this host. Listen on 127.0.0.1, drop --no-auth, or \
                 add --allow-unauthenticated-remote if that is what you want",
                place.bind
            )));
        }
        Ok(place)
    }
}

/// Whether an address to listen on is reachable from this host only.
fn is_loopback(bind: &str) -> bool {
    bind.eq_ignore_ascii_case("localhost")
        || bind
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub(crate) fn serve(args: ServeArgs) -> Result<ExitCode, Invalid> {
    let place = Place::of(&args, |name| std::env::var(name).ok())?;
    let opened = match &args.state_dir {
        Some(dir) => {
            let opened = StateDir::open(dir).map_err(Invalid)?;
            opened.dir.set_checkpoint_after(args.checkpoint_after);
            Some(opened)
        }
        None => None,
    };
    let meta = opened.as_ref().and_then(|o| o.meta);
    let seed = match (args.seed, meta) {
        (Some(given), Some(m)) if given != m.seed => {
            return Err(Invalid(format!(
                "--seed {given} differs from the seed {} the state dir was started with",
                m.seed
            )));
        }
        (_, Some(m)) => m.seed,
        (Some(given), None) => given,
        (None, None) => random_seed()?,
    };
    let wall_start = meta.map_or_else(wall_now, |m| m.wall_start_unix_nanos);
    let header_timeout = std::time::Duration::try_from_secs_f64(args.header_timeout)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            Invalid(format!(
                "--header-timeout {}: a number of seconds, more than 0",
                args.header_timeout
            ))
        })?;
    let (services, services_text) = match &args.services {
        Some(path) => load_services(path)?,
        None => (Vec::new(), String::new()),
    };
    let mut ca_certs = Vec::new();
    for path in &args.ca_cert {
        let pem = std::fs::read(path)
            .map_err(|e| Invalid(format!("--ca-cert {}: cannot read: {e}", path.display())))?;
        ca_certs.push((path.display().to_string(), pem));
    }
    let (tls, tls_warnings) = wfsim_server::client::Tls::trusting(&ca_certs).map_err(Invalid)?;
    for w in &tls_warnings {
        eprintln!("wfsim: TLS: the system's root certificates: {w}");
    }
    let mut grants = std::collections::BTreeMap::new();
    for g in &args.grant {
        let (sa, perms) = wfsim_server::auth::parse_grant(g).map_err(Invalid)?;
        grants.insert(sa, perms);
    }
    let beside = folder::triggers(&place.files).map_err(Invalid)?;
    let triggers = args
        .trigger
        .iter()
        .chain(&beside)
        .map(|t| wfsim_server::triggers::Trigger::parse(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Invalid)?;
    // Read here, at start, as Google's client libraries read them; the engine never does.
    let emulators = wfsim_server::connectors::Emulators::from_vars(|v| std::env::var(v).ok());
    let pubsub_host = emulators.hosts.get("pubsub").cloned();
    if !triggers.is_empty() && pubsub_host.is_none() {
        return Err(Invalid(
            "--trigger pulls through the Pub/Sub emulator: set PUBSUB_EMULATOR_HOST \
             (gcloud beta emulators pubsub start prints it)"
                .into(),
        ));
    }
    let found = folder::scan(&place.files);
    for p in &found.problems {
        eprintln!("{p}");
    }
    if args.execute.is_some() && found.sources.len() != 1 {
        return Err(Invalid(format!(
            "--execute starts the single deployed workflow, but {} are given",
            found.sources.len()
        )));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Invalid(format!("cannot start the runtime: {e}")))?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async move {
        let listener = tokio::net::TcpListener::bind((place.bind.as_str(), place.port))
            .await
            .map_err(|e| Invalid(format!("cannot listen on {}:{}: {e}", place.bind, place.port)))?;
        let addr = listener.local_addr().map_err(|e| Invalid(e.to_string()))?;
        let base_url = format!("http://{addr}");
        let grpc_listener = match place.grpc_port {
            None => None,
            Some(port) => {
                let l = tokio::net::TcpListener::bind((place.bind.as_str(), port))
                    .await
                    .map_err(|e| {
                        Invalid(format!("--grpc-port: cannot listen on {}:{port}: {e}", place.bind))
                    })?;
                let grpc_addr = l.local_addr().map_err(|e| Invalid(e.to_string()))?;
                Some((Rc::new(l), grpc_addr))
            }
        };
        let clock = ClockMode::from(args.clock);
        let defect = match &args.defect {
            None => None,
            Some(name) => Some(wfsim_engine::defect::Defect::from_name(name).ok_or_else(|| {
                let names: Vec<&str> = wfsim_engine::defect::Defect::ALL
                    .iter()
                    .map(|d| d.name())
                    .collect();
                Invalid(format!(
                    "--defect {name}: no such defect; the defects are {}",
                    names.join(", ")
                ))
            })?),
        };
        let mut state = State::new(
            Config {
                project: place.project.clone(),
                location: place.location.clone(),
                base_url: base_url.clone(),
                seed,
                auth: !args.no_auth,
                grants,
                clock,
                defect,
            },
            wall_start,
        );
        if args.services.is_some() {
            state.use_services_read_from(services, services_text);
        }
        state.set_log_level(args.log_level.into());
        // Google's emulators print the variable their clients read; so does this one.
        let mut lines = vec![
            format!("wfsim serving on {base_url}"),
            format!("export WORKFLOWS_EMULATOR_HOST={addr}"),
        ];
        if let Some((_, grpc_addr)) = &grpc_listener {
            lines.push(format!("gRPC only also on {grpc_addr} (--grpc-port)"));
        }
        if args.seed.is_none() && meta.is_none() {
            lines.push(format!(
                "seed: {seed} (drawn at start; --seed {seed} starts the same ids and token again)"
            ));
        }
        if let Some(d) = defect {
            lines.push(format!(
                "defect: {} (breaks {} on purpose; for testing conformance runs)",
                d.name(),
                d.rule()
            ));
        }
        if clock != ClockMode::Real {
            lines.push(format!(
                "clock: {} (GET {base_url}/v1/wfsim/clock; POST {base_url}/v1/wfsim/clock:advance {{\"seconds\": N}})",
                clock.as_str()
            ));
        }
        if args.no_auth && !is_loopback(&place.bind) {
            lines.push(format!(
                "WARNING: no auth on {}: anyone who reaches this port can deploy and run \
                 workflows (--no-auth --allow-unauthenticated-remote)",
                place.bind
            ));
        } else if args.no_auth {
            lines.push("no auth: every request is accepted (--no-auth)".into());
        }
        // The server's own token: printed, and carried by the triggers' events.
        let own_token = match &args.token {
            _ if args.no_auth => None,
            Some(token) => {
                state.adopt_master_token(token);
                Some(token.clone())
            }
            None => state.master_token(),
        };
        if let Some(token) = &own_token {
            lines.push(format!("token (every permission): {token}"));
        }
        // The UI keeps the API's auth: its link carries a secret derived from the token.
        let ui = Rc::new(wfsim_ui::Ui::new(own_token.as_deref(), seed));
        lines.push(format!("ui: {}", ui.link(&base_url)));
        for (service, host) in &emulators.hosts {
            lines.push(format!("connectors googleapis.{service}.*: the emulator at {host}"));
        }
        for t in &triggers {
            lines.push(format!(
                "trigger {}: {} (POST {base_url}{}?workflow=NAME takes any CloudEvent)",
                t.describe(),
                t.subscription_name(),
                wfsim_server::api::EVENTS
            ));
        }
        // On a restart the server's time goes on from where it stood: by the real clock,
        // or, on a manual or auto one, from the last input (time did not move meanwhile).
        let resumed_at = match (&opened, clock) {
            (None, _) => SimTime::ZERO,
            (Some(_), ClockMode::Real) => SimTime::from_nanos(
                u64::try_from((wall_now() - wall_start).max(0)).unwrap_or(u64::MAX),
            ),
            (Some(o), _) => o.inputs.iter().map(|(at, _)| *at).max().unwrap_or_default(),
        };
        let mut first_start = true;
        if let Some(o) = &opened {
            // Before the replay: a checkpoint keeps the inputs replayed too.
            state.keep_for_checkpoints();
            if let Some(format) = o.upgraded_from {
                lines.push(format!(
                    "state dir {}: upgraded from format {format} to {}",
                    o.dir.path().display(),
                    wfsim_server::durable::FORMAT
                ));
            }
            match meta {
                None => o
                    .dir
                    .write_meta(Meta {
                        seed,
                        wall_start_unix_nanos: wall_start,
                    })
                    .map_err(Invalid)?,
                Some(_) => {
                    first_start = false;
                    state.replay(&o.inputs, resumed_at);
                    lines.push(format!(
                        "state dir {}: {} inputs replayed ({} from the checkpoint), {} executions back",
                        o.dir.path().display(),
                        o.inputs.len(),
                        o.from_checkpoint,
                        state.execution_count()
                    ));
                }
            }
            state.record_inputs();
        }
        // After the replay, which restored the N the log ran with: a new N is an input.
        if let Some(n) = args.keep_ended {
            state.set_keep_ended(resumed_at, n);
        }
        // Files are deployed as the Workflows API deploys: each a first revision (a new one
        // on a restart only if the file changed), its source kept (`sourceContents`), errors
        // at the file's own line and column. One bad file does not stop the others: it is
        // reported, and deployed once a save fixes it.
        for (name, source) in &found.sources {
            let (said, deployed) = folder::deploy(&mut state, resumed_at, source);
            if !deployed {
                if args.execute.is_some() {
                    return Err(Invalid(said));
                }
                eprintln!("{said}");
                continue;
            }
            lines.push(format!(
                "workflow {name}: {base_url}/v1/projects/{}/locations/{}/workflows/{name}/executions",
                place.project, place.location
            ));
        }
        let epoch = tokio::time::Instant::now();
        match &args.execute {
            Some(_) if !first_start => {
                lines.push("--execute: not started again on a restart".into());
            }
            Some(arg) => {
                let name = state.workflow_names().remove(0);
                let argument = (!arg.is_empty()).then(|| arg.clone());
                let id = state
                    .start_execution(resumed_at, &name, argument)
                    .map_err(|res| Invalid(String::from_utf8_lossy(&res.body).into_owned()))?;
                lines.push(format!(
                    "execution started: {base_url}/v1/projects/{}/locations/{}/workflows/{name}/executions/{id}",
                    place.project, place.location
                ));
            }
            None => {}
        }
        // SIGTERM is taken over before the first line goes out: a supervisor that reads
        // the address and stops the server at once must find it listening for the signal.
        let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
        print_lines(&lines);
        let state = Rc::new(RefCell::new(state));
        let (stdout, stderr) = (Rc::new(Sink::new(false)), Rc::new(Sink::new(true)));
        let logs = Rc::clone(&stdout);
        let on_log: Rc<dyn Fn(String)> = Rc::new(move |line| logs.line(line));
        let (events, format) = (Rc::clone(&stderr), args.log_format);
        let on_event: Rc<dyn Fn(ApiEvent)> = Rc::new(move |e| events.line(event_line(&e, format)));
        // Ctrl-C or SIGTERM: stop accepting, answer what is in flight, sync, exit 0.
        let stopped_by = Rc::new(RefCell::new("Ctrl-C"));
        let by = Rc::clone(&stopped_by);
        let shutdown = async move {
            match term {
                Ok(mut term) => tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => *by.borrow_mut() = "SIGTERM",
                },
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        };
        let watcher: Option<wfsim_server::OnReady> =
            (args.watch_ms > 0 && !place.files.is_empty()).then(|| {
                let every = std::time::Duration::from_millis(args.watch_ms);
                let (paths, seen) = (place.files.clone(), RefCell::new(Some(found)));
                let said = Rc::clone(&stderr);
                let say: Rc<dyn Fn(String)> = Rc::new(move |line| said.line(line));
                Rc::new(move |shared: &wfsim_server::Shared| {
                    if let Some(seen) = seen.borrow_mut().take() {
                        folder::watch(shared, paths.clone(), every, seen, Rc::clone(&say));
                    }
                }) as wfsim_server::OnReady
            });
        // `--services FILE` is watched too: a save serves executions started from then on.
        let services_watcher: Option<wfsim_server::OnReady> = match &args.services {
            Some(path) if args.watch_ms > 0 => {
                let every = std::time::Duration::from_millis(args.watch_ms);
                let path = path.clone();
                let said = Rc::clone(&stderr);
                let say: Rc<dyn Fn(String)> = Rc::new(move |line| said.line(line));
                Some(Rc::new(move |shared: &wfsim_server::Shared| {
                    folder::watch_services(shared, path.clone(), every, Rc::clone(&say));
                }) as wfsim_server::OnReady)
            }
            _ => None,
        };
        let watcher = match (watcher, services_watcher) {
            (Some(a), Some(b)) => Some(Rc::new(move |shared: &wfsim_server::Shared| {
                a(shared);
                b(shared);
            }) as wfsim_server::OnReady),
            (a, b) => a.or(b),
        };
        let on_ready: Option<wfsim_server::OnReady> = if triggers.is_empty() {
            watcher
        } else {
            let said = Rc::clone(&stderr);
            let say: Rc<dyn Fn(String)> = Rc::new(move |line| said.line(line));
            let authorization = own_token.map(|t| format!("Bearer {t}"));
            let pending = RefCell::new(Some(triggers));
            let host = pubsub_host.unwrap_or_default();
            Some(Rc::new(move |shared: &wfsim_server::Shared| {
                if let Some(w) = &watcher {
                    w(shared);
                }
                if let Some(triggers) = pending.borrow_mut().take() {
                    wfsim_server::triggers::start(
                        shared,
                        triggers,
                        host.clone(),
                        authorization.clone(),
                        Rc::clone(&say),
                    );
                }
            }) as wfsim_server::OnReady)
        };
        let options = Options {
            on_ready,
            grpc_listener: grpc_listener.map(|(l, _)| l),
            tls,
            emulators,
            pages: Some(ui),
            auto_idle: std::time::Duration::from_millis(args.auto_idle_ms),
            state_dir: opened.map(|o| Rc::new(o.dir)),
            resumed_at,
            on_event: Some(on_event),
            header_timeout,
            max_connections: args.max_connections.max(1),
            ..Options::logs(on_log)
        };
        wfsim_server::serve_observed(listener, state, epoch, options, shutdown).await;
        stdout.line(format!("wfsim: stopped ({})", stopped_by.borrow()));
        for sink in [stdout, stderr] {
            sink.close(std::time::Duration::from_secs(2));
        }
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(clap::Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn place(argv: &[&str], env: &[(&str, &str)]) -> Result<Place, String> {
        let args = Cli::try_parse_from(std::iter::once("serve").chain(argv.iter().copied()))
            .map_err(|e| e.to_string())?
            .serve;
        Place::of(&args, |name| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .map_err(|e| e.0)
    }

    #[test]
    fn flags_win_over_the_environment_which_wins_over_the_defaults() {
        let defaults = place(&[], &[]).unwrap();
        assert_eq!(
            (
                defaults.port,
                defaults.bind.as_str(),
                defaults.project.as_str()
            ),
            (8080, "127.0.0.1", "wfsim")
        );
        assert_eq!(defaults.location, "us-central1");
        let env = [
            ("PORT", "9000"),
            ("PROJECT", "acme"),
            ("LOCATION", "europe-west1"),
            ("WORKFLOWS_DIR", "flows"),
            ("HOST", "laptop"),
            ("GRPC_PORT", "8788"),
        ];
        let from_env = place(&[], &env).unwrap();
        assert_eq!(from_env.port, 9000);
        assert_eq!(from_env.grpc_port, Some(8788));
        assert_eq!(defaults.grpc_port, None, "no second port unless asked");
        assert_eq!(from_env.project, "acme");
        assert_eq!(from_env.location, "europe-west1");
        assert_eq!(from_env.files, [PathBuf::from("flows")]);
        assert_eq!(from_env.bind, "127.0.0.1", "HOST is never read");
        let flags = place(
            &["--port", "1", "--project", "p", "--location", "l", "a.yaml"],
            &env,
        )
        .unwrap();
        assert_eq!((flags.port, flags.project.as_str()), (1, "p"));
        let grpc = place(&["--grpc-port", "0"], &env).unwrap();
        assert_eq!(grpc.grpc_port, Some(0), "the flag wins");
        assert!(
            place(&[], &[("GRPC_PORT", "x")])
                .unwrap_err()
                .contains("GRPC_PORT=x")
        );
        assert_eq!(flags.location, "l");
        assert_eq!(flags.files, [PathBuf::from("a.yaml")]);
        assert!(
            place(&[], &[("PORT", "http")])
                .unwrap_err()
                .contains("PORT=http")
        );
    }

    #[test]
    fn no_auth_stays_on_loopback_unless_told_otherwise() {
        for bind in ["127.0.0.1", "localhost", "::1", "[::1]"] {
            assert!(place(&["--no-auth", "--bind", bind], &[]).is_ok(), "{bind}");
        }
        for bind in ["0.0.0.0", "::", "192.168.1.4", "myhost"] {
            let refused = place(&["--no-auth", "--bind", bind], &[]).unwrap_err();
            assert!(
                refused.contains("--allow-unauthenticated-remote"),
                "{refused}"
            );
        }
        assert!(
            place(
                &[
                    "--no-auth",
                    "--bind",
                    "0.0.0.0",
                    "--allow-unauthenticated-remote"
                ],
                &[]
            )
            .is_ok()
        );
        assert!(
            place(&["--bind", "0.0.0.0"], &[]).is_ok(),
            "with auth, anywhere"
        );
    }
}
