//! wfsim live mode: the engine behind a local HTTP port, speaking the Workflows Executions
//! API v1 and answering callback requests by the slot rule (SPEC §3, CB-13).
//!
//! Single-threaded by design: the engine's executions are `!Send`, so the state lives in one
//! `Rc<RefCell<_>>` and every task is spawned with `spawn_local` (inside a tokio `LocalSet`;
//! madsim needs none). `api` is the sans-I/O API (routes, auth, the input log) over `host`
//! (the executions on the server's clock, and its one queue of outputs), `wire` renders
//! resources, `clock` converts between the server's and each execution's clock, `http` is
//! the hyper glue, and [`serve`] the accept loop and the timer task that fires awaits,
//! sleeps and back-offs on time. Imports point down only: `config` (the settings),
//! `message` (requests and responses as data) and `auth` import nothing of the crate,
//! `parent` (a project and location) only `config`,
//! `host` and `wire` nothing above them, `api` nothing of `http`.
//!
//! Everything reaches tokio through `madsim-tokio`, hyper only through its connection-level
//! API: the same code runs on real tokio and under madsim.

pub mod api;
pub mod auth;
pub mod client;
pub mod clock;
mod clockwork;
pub mod config;
pub mod connectors;
pub mod durable;
pub mod grpc;
mod host;
mod http;
mod message;
pub mod parent;
mod proto;
pub mod triggers;
mod wire;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use clockwork::Clockwork;
use tokio::time::{Duration, Instant};

pub use api::view::{ExecutionView, Pages, RevisionView, UiAnswer, View, WorkflowView};
pub use api::{ApiRequest, ApiResponse, KEEP_ENDED_DEFAULT, State};
pub use config::{ClockMode, Config};
pub use host::{ApiEvent, Delivery, Level, Observed, OutboundCall, Output};
pub use http::{OnReady, Options, Port, Reply, Shared, SharedParts};
pub use parent::Parent;

/// Serves `state` on `listener` until `shutdown` completes. Log lines go to `on_log`.
pub async fn serve(
    listener: TcpListener,
    state: Rc<RefCell<State>>,
    epoch: Instant,
    on_log: Rc<dyn Fn(String)>,
    shutdown: impl Future<Output = ()>,
) {
    serve_observed(listener, state, epoch, Options::logs(on_log), shutdown).await;
}

/// [`serve`] with every [`Options`]: the journal and the inputs as well as the logs, and
/// the clock's resolution.
pub async fn serve_observed(
    listener: TcpListener,
    state: Rc<RefCell<State>>,
    epoch: Instant,
    options: Options,
    shutdown: impl Future<Output = ()>,
) {
    if options.state_dir.is_some() || options.on_input.is_some() {
        // Whoever keeps the inputs needs them recorded.
        state.borrow_mut().record_inputs();
    }
    // Outputs no hook takes are not built (the journal and events cost strings a request).
    if options.on_journal.is_none() {
        state.borrow_mut().journal_unread();
    }
    if options.on_event.is_none() {
        state.borrow_mut().events_unheard();
    }
    let shared = Shared::new(SharedParts {
        state,
        epoch,
        changed: Notify::new(),
        options,
        in_flight: Cell::default(),
        requests: Cell::default(),
        durable_error: RefCell::default(),
        last_active: Cell::new(http::real_now()),
        timer_armed: Cell::default(),
        draining: Cell::default(),
    });
    shared.flush();
    if let Err(e) = shared.make_durable().await {
        (shared.options.on_log)(format!("ERROR    {e}"));
    }
    let timer = tokio::task::spawn_local(run_timers(shared.clone()));
    if let Some(on_ready) = &shared.options.on_ready {
        on_ready(&shared);
    }
    // HTTP/1.1 and HTTP/2 (gRPC's, cleartext with prior knowledge) on one port, told apart
    // by the connection's first bytes (the gRPC-only port's connections too: what it
    // refuses, it refuses per request, with the reason). With a timer, hyper closes a connection whose
    // request headers have not all come within `header_timeout` (also an idle keep-alive
    // connection's next request); HTTP/2 connections are pinged while idle.
    let clockwork = Clockwork::default();
    tokio::task::spawn_local(clockwork.run());
    let mut builder = auto::Builder::new(LocalExec);
    builder
        .http1()
        .timer(clockwork.clone())
        .header_read_timeout(shared.options.header_timeout);
    // HTTP/2's limits are stated, not left to hyper's defaults, so that SPEC §7 can name
    // them and a test can hold them (`tests/hostile.rs`): a client over them loses its
    // stream or its connection, never the server's other connections.
    builder
        .http2()
        .timer(clockwork)
        .keep_alive_interval(Some(shared.options.header_timeout))
        .keep_alive_timeout(H2_KEEP_ALIVE_TIMEOUT)
        .max_concurrent_streams(H2_STREAMS_MAX)
        .max_header_list_size(H2_HEADER_LIST_BYTES_MAX)
        .max_pending_accept_reset_streams(H2_PENDING_RESETS_MAX)
        .max_local_error_reset_streams(H2_ERROR_RESETS_MAX);
    let builder = Rc::new(builder);
    let open = Rc::new(Cell::new(0usize));
    let closed = Rc::new(Notify::new());
    let mut accept_errors = 0u64;
    tokio::pin!(shutdown);
    let grpc_listener = shared.options.grpc_listener.clone();
    // The gRPC-only port's accepts, or none: a future that never completes.
    let accept_grpc = || {
        let listener = grpc_listener.clone();
        async move {
            match &listener {
                Some(l) => l.accept().await,
                None => std::future::pending().await,
            }
        }
    };
    loop {
        // At the connection limit, wait for one to close: the queue of the listener holds
        // the others, rather than each taking a descriptor.
        while open.get() >= shared.options.max_connections {
            tokio::select! {
                biased;
                () = closed.notified() => {}
                () = &mut shutdown => return drain(&shared, timer).await,
            }
        }
        // `biased`: polled in the order written. An unbiased `select!` starts at a branch
        // drawn from tokio's own per-process randomness, which a simulation cannot seed.
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted.map(|(s, _)| (s, http::Port::Both)),
            accepted = accept_grpc() => accepted.map(|(s, _)| (s, http::Port::Grpc)),
        };
        let (stream, port) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors, most often: back off instead of spinning.
                accept_errors += 1;
                if accept_errors.is_power_of_two() {
                    (shared.options.on_log)(format!(
                        "ERROR    cannot accept a connection ({accept_errors} so far): {e}"
                    ));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // Answers go out at once: with Nagle's algorithm, HTTP/2's small frames
        // wait on the peer's delayed ACK (40 ms a call).
        #[cfg(not(madsim))]
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let builder = Rc::clone(&builder);
        let (open, closed) = (Rc::clone(&open), Rc::clone(&closed));
        open.set(open.get() + 1);
        tokio::task::spawn_local(async move {
            let service = service_fn(move |req| http::handle(shared.clone(), req, port));
            // A client that goes away mid-request is not the server's error.
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
            open.set(open.get() - 1);
            closed.notify_one();
        });
    }
    drain(&shared, timer).await;
}

/// Streams open at once on one HTTP/2 connection; more are refused (`REFUSED_STREAM`).
pub const H2_STREAMS_MAX: u32 = 100;
/// Bytes of one request's header list over HTTP/2 (names, values and 32 per field, as
/// RFC 9113 counts them); over it the request is refused, the connection kept.
pub const H2_HEADER_LIST_BYTES_MAX: u32 = 16 * 1024;
/// Streams a client may open and reset before the server has taken them (the "rapid
/// reset" attack, CVE-2023-44487); over it, `GOAWAY` with `ENHANCE_YOUR_CALM`.
pub const H2_PENDING_RESETS_MAX: usize = 20;
/// Streams the server may reset for a client's errors on one connection (streams over
/// [`H2_STREAMS_MAX`] among them); over it, `GOAWAY` with `ENHANCE_YOUR_CALM`.
pub const H2_ERROR_RESETS_MAX: usize = 1024;
/// How long an idle HTTP/2 connection's keep-alive PING may go unanswered before the
/// connection is closed.
pub const H2_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// A graceful stop: no new connections (the listener is gone), the requests in flight
/// answered (for at most `drain_timeout`), every input on disk.
async fn drain(shared: &Shared, timer: tokio::task::JoinHandle<()>) {
    shared.draining.set(true);
    let deadline = tokio::time::sleep(shared.options.drain_timeout);
    tokio::pin!(deadline);
    while shared.requests.get() > 0 {
        tokio::select! {
            biased;
            () = &mut deadline => {
                (shared.options.on_log)(format!(
                    "ERROR    stopping with {} requests unanswered after {:?}",
                    shared.requests.get(),
                    shared.options.drain_timeout
                ));
                break;
            }
            () = shared.changed.notified() => {}
        }
    }
    timer.abort();
    if let Err(e) = shared.make_durable().await {
        (shared.options.on_log)(format!("ERROR    {e}"));
    }
}

/// Runs HTTP/2's connection tasks on this thread: the server's state is `!Send`.
#[derive(Clone, Copy, Debug)]
struct LocalExec;

impl<F: Future + 'static> hyper::rt::Executor<F> for LocalExec {
    fn execute(&self, fut: F) {
        tokio::task::spawn_local(fut);
    }
}

/// Fires timers on time. On the real clock: sleeps until the next deadline of any
/// execution, then runs what is due; a request that moves the deadlines wakes it early.
/// Instant `t` closes when the clock reads the next tick: a request that arrives at `t`
/// itself goes first (SPEC: requests before timers). On a manual clock only
/// `clock:advance` fires timers. On the auto clock: once the server has been idle for
/// `auto_idle`, the clock jumps to the next deadline.
async fn run_timers(shared: Shared) {
    loop {
        let next = shared.state.borrow().next_deadline();
        let mode = shared.state.borrow().clock_mode();
        shared
            .timer_armed
            .set(next.filter(|_| mode == ClockMode::Real));
        match (mode, next) {
            (ClockMode::Real, Some(t)) => {
                let since_epoch = (t.as_nanos() + shared.resolution().tick_ns())
                    .saturating_sub(shared.options.resumed_at.as_nanos());
                let at = shared.epoch + Duration::from_nanos(since_epoch);
                tokio::select! {
                    biased;
                    () = tokio::time::sleep_until(at) => {
                        let now = shared.now();
                        shared.state.borrow_mut().advance(now);
                        shared.flush();
                    }
                    () = shared.changed.notified() => {}
                }
            }
            (ClockMode::Auto, Some(_)) if shared.in_flight.get() == 0 => {
                let quiet_at = shared.last_active.get() + shared.options.auto_idle;
                tokio::select! {
                    biased;
                    () = tokio::time::sleep_until(quiet_at) => {
                        let idle = shared.last_active.get() + shared.options.auto_idle;
                        if shared.in_flight.get() == 0 && http::real_now() >= idle {
                            shared.state.borrow_mut().jump_to_next_deadline();
                            shared.flush();
                            // The jump is an input: on disk before time moves on.
                            if let Err(e) = shared.make_durable().await {
                                (shared.options.on_log)(format!("ERROR    {e}"));
                            }
                        }
                    }
                    () = shared.changed.notified() => {}
                }
            }
            _ => shared.changed.notified().await,
        }
    }
}
