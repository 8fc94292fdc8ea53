//! The hyper glue: connections, bodies, responses. No API logic lives here.

use std::cell::{Cell, RefCell};
use std::convert::Infallible;
use std::rc::Rc;
use std::task::Poll;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use tokio::sync::Notify;
use tokio::time::{Duration, Instant};
use wfsim_engine::SimTime;

use crate::clock::Resolution;
use crate::durable::StateDir;
use wfsim_engine::callbacks::BODY_BYTES_MAX;

use crate::api::State;
use crate::api::view::{Pages, UiAnswer, View, is_ui_path};
use crate::client;
use crate::config::ClockMode;
use crate::grpc;
use crate::host::{ApiEvent, Observed, OutboundCall, Output};
use crate::message::{ApiRequest, ApiResponse};

/// How a server runs besides its state: where its outputs go, each handed over right after
/// the request or timer that produced it (before the answer is written), and how fine its
/// clock is.
#[derive(Clone)]
pub struct Options {
    /// Log lines (stdout in `wfsim serve`).
    pub on_log: Rc<dyn Fn(String)>,
    /// The journal, if anyone watches it (simulations do).
    pub on_journal: Option<Rc<dyn Fn(Observed)>>,
    /// Each request handled, with its time, if the state records inputs
    /// ([`State::record_inputs`]): a simulation keeps them as the durable log a restart
    /// replays.
    pub on_input: Option<Rc<dyn Fn(SimTime, ApiRequest)>>,
    /// The server's clock reads in whole multiples of this (1 ns in live mode). A
    /// simulation coarsens it so that requests and deadlines share instants often: the
    /// ties SPEC orders (requests before timers) then happen, instead of missing by the
    /// nanoseconds a simulator charges per task poll.
    pub clock_resolution: Duration,
    /// Under `--clock auto`, how long the server must be idle (no request in flight or
    /// answered) before its clock jumps to the next deadline: room for a client to send
    /// the next request of a test before time moves under it.
    pub auto_idle: Duration,
    /// `--state-dir`: inputs are appended there and synced before their answers go out.
    pub state_dir: Option<Rc<StateDir>>,
    /// Server time at the epoch: zero on a first start, later on a restart from a state
    /// dir (server time goes on from where it stood, by the real clock).
    pub resumed_at: SimTime,
    /// API events (executions started and ended, callbacks answered), if anyone logs them.
    pub on_event: Option<Rc<dyn Fn(ApiEvent)>>,
    /// Connections served at once; more wait in the listener's queue.
    pub max_connections: usize,
    /// A request's headers must all come within this (an idle keep-alive connection's
    /// next request too), or the connection is closed.
    pub header_timeout: Duration,
    /// On shutdown, how long requests in flight may take to be answered.
    pub drain_timeout: Duration,
    /// Called once the server is up, with what its connections share: the embedding
    /// program's own input sources (`wfsim serve`'s folder watcher) start from it, and
    /// feed the state as requests do (`now`, the state, `flush`, `make_durable`).
    pub on_ready: Option<OnReady>,
    /// What outbound `https://` calls trust (none by default).
    pub tls: client::Tls,
    /// `--grpc-port`: a second listener that serves gRPC only, for clients configured
    /// with one port per protocol (gcw-emulator's 8787 and 8788); the main one serves both.
    pub grpc_listener: Option<Rc<tokio::net::TcpListener>>,
    /// Google's emulators that connector calls reach (HT-11; none by default).
    pub emulators: crate::connectors::Emulators,
    /// Pages under `/ui/` (`wfsim serve`'s UI), if any (`api/view.rs`).
    pub pages: Option<Rc<dyn Pages>>,
}

/// [`Options::on_ready`]'s hook.
pub type OnReady = Rc<dyn Fn(&Shared)>;

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("on_journal", &self.on_journal.is_some())
            .field("on_input", &self.on_input.is_some())
            .field("on_event", &self.on_event.is_some())
            .field("clock_resolution", &self.clock_resolution)
            .field("auto_idle", &self.auto_idle)
            .field("state_dir", &self.state_dir)
            .field("resumed_at", &self.resumed_at)
            .field("max_connections", &self.max_connections)
            .field("header_timeout", &self.header_timeout)
            .field("drain_timeout", &self.drain_timeout)
            .field("pages", &self.pages.is_some())
            .field("on_ready", &self.on_ready.is_some())
            .field("grpc_listener", &self.grpc_listener.is_some())
            .finish_non_exhaustive()
    }
}

impl Options {
    /// Log lines only, a nanosecond clock: live mode.
    pub fn logs(on_log: Rc<dyn Fn(String)>) -> Options {
        Options {
            on_log,
            on_journal: None,
            on_input: None,
            clock_resolution: Duration::from_nanos(1),
            auto_idle: Duration::from_millis(100),
            state_dir: None,
            resumed_at: SimTime::ZERO,
            on_event: None,
            max_connections: 1024,
            header_timeout: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(10),
            on_ready: None,
            tls: client::Tls::default(),
            grpc_listener: None,
            emulators: crate::connectors::Emulators::default(),
            pages: None,
        }
    }
}

/// What every connection shares: a handle, cloned for each request (one count, not one
/// per field: a clone and a drop of every field cost a request 350 instructions).
#[derive(Clone, Debug)]
pub struct Shared(Rc<SharedParts>);

impl std::ops::Deref for Shared {
    type Target = SharedParts;
    fn deref(&self) -> &SharedParts {
        &self.0
    }
}

impl Shared {
    pub fn new(parts: SharedParts) -> Shared {
        Shared(Rc::new(parts))
    }
}

/// What [`Shared`] holds.
pub struct SharedParts {
    pub state: Rc<RefCell<State>>,
    /// Server time zero.
    pub epoch: Instant,
    /// Tells the timer task that deadlines may have moved.
    pub changed: Notify,
    pub options: Options,
    /// Requests other than reads being read or answered now.
    pub in_flight: Cell<u64>,
    /// Every request being read or answered now, reads too: a graceful stop waits for
    /// them.
    pub requests: Cell<u64>,
    /// When a request other than a read last began or ended: the auto clock jumps only
    /// once the server has been idle for `auto_idle` since.
    pub last_active: Cell<Instant>,
    /// The first failure to append to the state dir: from then on nothing is answered 200.
    pub durable_error: RefCell<Option<String>>,
    /// On the real clock, the deadline the timer task sleeps for, if it sleeps for one.
    pub timer_armed: Cell<Option<SimTime>>,
    /// A graceful stop waits for the requests in flight: each one's end wakes it.
    pub draining: Cell<bool>,
}

impl std::fmt::Debug for SharedParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Server time: on the real clock, since the epoch in whole clock ticks; on a manual or
    /// auto one, where the state's clock stands.
    pub fn now(&self) -> SimTime {
        let state = self.state.borrow();
        match state.clock_mode() {
            ClockMode::Real => {
                let elapsed = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
                let ns = self.options.resumed_at.as_nanos().saturating_add(elapsed);
                self.resolution().floor(ns)
            }
            ClockMode::Manual | ClockMode::Auto => state.clock_now(),
        }
    }

    /// Wakes the timer task if what it sleeps for may no longer be right. On the real
    /// clock, only when a deadline now comes before the one it sleeps for: one that moved
    /// later it finds when it wakes at the old one, for nothing (`advance` has no work
    /// then). Every callback to a looping execution moves its deadline later: woken for
    /// each, the timer task cost a poll and a sleep registered anew, twice a request.
    pub fn deadlines_moved(&self) {
        let wake = {
            let state = self.state.borrow();
            match state.clock_mode() {
                ClockMode::Real => match (self.timer_armed.get(), state.next_deadline()) {
                    (_, None) => false,
                    (None, Some(_)) => true,
                    (Some(armed), Some(next)) => next < armed,
                },
                ClockMode::Manual | ClockMode::Auto => true,
            }
        };
        if wake {
            self.changed.notify_one();
        }
    }

    /// The resolution the server's clock is read at.
    pub fn resolution(&self) -> Resolution {
        Resolution::new(self.options.clock_resolution)
    }

    /// Hands what the last request or timer produced to the hooks.
    pub fn flush(&self) {
        let outputs = self.state.borrow_mut().take_outputs();
        // Kind by kind, in a fixed order, whatever their interleaving in the queue: hooks
        // wake tasks (a simulated world's journal) and sends spawn them, and a madsim run's
        // schedule follows the order tasks become ready in.
        let (mut lines, mut journal, mut inputs, mut outbound, mut events) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for o in outputs {
            match o {
                Output::Line(l) => lines.push(l),
                Output::Journal(j) => journal.push(j),
                Output::Input(at, req) => inputs.push((at, req)),
                Output::Outbound(c) => outbound.push(c),
                Output::Event(e) => events.push(e),
            }
        }
        if let Some(on_event) = &self.options.on_event {
            events.into_iter().for_each(|e| on_event(e));
        }
        for call in outbound {
            self.send(call);
        }
        for line in lines {
            (self.options.on_log)(line);
        }
        if let Some(on_journal) = &self.options.on_journal {
            journal.into_iter().for_each(|o| on_journal(o));
        }
        if let Some(dir) = &self.options.state_dir {
            for (at, req) in &inputs {
                if let Err(e) = dir.append(*at, req) {
                    self.durable_failed(format!("cannot append to the state dir: {e}"));
                }
            }
            if !inputs.is_empty() && dir.wants_checkpoint() {
                // Everything appended is in the state: the checkpoint holds it all.
                if let Some(kept) = self.state.borrow_mut().checkpoint()
                    && let Err(e) = dir.checkpoint(&kept)
                {
                    self.durable_failed(format!("cannot write a checkpoint: {e}"));
                }
            }
        }
        if let Some(on_input) = &self.options.on_input {
            inputs.into_iter().for_each(|(at, req)| on_input(at, req));
        }
    }

    /// Sends an outbound call no scripted service answers (HT-9) and hands the answer back
    /// as an input. While it is in flight it counts as a request (the auto clock waits).
    fn send(&self, mut out: OutboundCall) {
        let authorization =
            self.state
                .borrow()
                .outbound_authorization(&out.workflow, &out.execution, &out.call);
        if let (Some(value), wfsim_engine::http::Callee::Http(r)) =
            (authorization, &mut out.call.target)
        {
            r.headers.push(("Authorization".to_owned(), value));
        }
        let shared = self.clone();
        let busy = Busy::call(self);
        tokio::task::spawn_local(async move {
            let outcome =
                client::send(&out.call, &shared.options.tls, &shared.options.emulators).await;
            if let Some(outcome) = outcome {
                let now = shared.now();
                shared.state.borrow_mut().answer_outbound(
                    now,
                    &out.workflow,
                    &out.execution,
                    out.call.id,
                    outcome,
                );
                shared.flush();
                shared.deadlines_moved();
                if let Err(e) = shared.make_durable().await {
                    (shared.options.on_log)(format!("ERROR    {e}"));
                }
            }
            drop(busy);
        });
    }

    /// Waits until every input so far is on disk (`--state-dir`); the reason, if it cannot
    /// be, in which case nothing may be answered as if it were kept.
    pub async fn make_durable(&self) -> Result<(), String> {
        if let Some(e) = self.durable_error.borrow().clone() {
            return Err(e);
        }
        match &self.options.state_dir {
            None => Ok(()),
            Some(dir) => dir.sync().await.map_err(|e| {
                let e = format!("cannot sync the state dir: {e}");
                self.durable_failed(e.clone());
                e
            }),
        }
    }

    /// The state dir failed: from now on inputs are refused (503, with `why`) and reads
    /// still served. Said once, on stderr as well as in the log.
    fn durable_failed(&self, why: String) {
        if self.durable_error.borrow().is_some() {
            return;
        }
        let line = format!(
            "ERROR    {why}; from now on requests that change something are refused (503), reads are served"
        );
        eprintln!("wfsim: {line}");
        (self.options.on_log)(line);
        self.durable_error.replace(Some(why));
    }
}

/// Reads at most 512 KiB and one byte of a body: enough to answer 413 at the right step of
/// the slot rule without holding an unbounded body.
async fn read_body(mut body: Incoming) -> Result<Vec<u8>, hyper::Error> {
    // Room for what the request says it sends (its Content-Length), up to the limit, so a
    // big body is not copied again at every doubling.
    let announced = hyper::body::Body::size_hint(&body).lower();
    let mut out =
        Vec::with_capacity(usize::try_from(announced).map_or(0, |n| n.min(BODY_BYTES_MAX + 1)));
    // A body known to be over (its Content-Length all read, or none) is not polled for its
    // end: 150 instructions a request. What is left then is no data (trailers at most).
    while !hyper::body::Body::is_end_stream(&body) {
        let Some(frame) = body.frame().await else {
            break;
        };
        if let Ok(data) = frame?.into_data() {
            let room = (BODY_BYTES_MAX + 1).saturating_sub(out.len());
            out.extend_from_slice(&data[..data.len().min(room)]);
            if out.len() > BODY_BYTES_MAX {
                break;
            }
        }
    }
    Ok(out)
}

/// A header's value as text: invalid UTF-8 replaced (U+FFFD), as the API has always seen it.
/// Valid text, nearly every value, is copied once, without `from_utf8_lossy`'s chunking.
fn header_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Which requests a port serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    /// REST and gRPC, told apart by the request (the main port).
    Both,
    /// gRPC only (`--grpc-port`): anything else is refused, naming the main port.
    Grpc,
}

/// One HTTP request: read it, let the API answer, write the answer. A gRPC call
/// (`application/grpc`, over HTTP/2) is answered by the same API, transcoded (`grpc.rs`).
pub async fn handle(
    shared: Shared,
    req: Request<Incoming>,
    port: Port,
) -> Result<Response<Reply>, Infallible> {
    let grpc = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
    if port == Port::Grpc && !grpc {
        let base = shared.state.borrow().base_url().to_owned();
        return Ok(to_hyper(ApiResponse::error(
            400,
            "FAILED_PRECONDITION",
            format!(
                "this port (--grpc-port) serves gRPC only (content-type application/grpc); \
                 REST and callbacks are served on {base}"
            ),
        )));
    }
    let read_only = if grpc {
        let method = req.uri().path().rsplit('/').next().unwrap_or("");
        method.starts_with("Get") || method.starts_with("List")
    } else {
        req.method() == hyper::Method::GET
    };
    let _busy = Busy::request(&shared, read_only);
    let (parts, body) = req.into_parts();
    // A body that stops short of what its Content-Length promised would hold the request
    // (and, under `--clock auto`, the clock) for as long as the client keeps the
    // connection: it too must come within `header_timeout`.
    let timeout = shared.options.header_timeout;
    let read = read_body(body);
    tokio::pin!(read);
    // Most bodies come whole with their headers: a timer (registered, then cancelled) only
    // for one still on its way.
    let read = match std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await {
        Poll::Ready(read) => Ok(read),
        Poll::Pending => tokio::time::timeout(timeout, read).await,
    };
    let body = match read {
        Ok(Ok(b)) => b,
        failed => {
            let (status, code, grpc_code, why) = match failed {
                Ok(Err(e)) => (
                    400,
                    "INVALID_ARGUMENT",
                    3,
                    format!("could not read the request body: {e}"),
                ),
                _ => (
                    408,
                    "DEADLINE_EXCEEDED",
                    4,
                    format!(
                        "the request body did not all come within {timeout:?}: it is shorter \
                         than its Content-Length says, or was sent too slowly"
                    ),
                ),
            };
            return Ok(if grpc {
                grpc_reply(Err(grpc::Status {
                    code: grpc_code,
                    message: why,
                }))
            } else {
                to_hyper(ApiResponse::error(status, code, why))
            });
        }
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), header_text(v.as_bytes())))
        .collect();
    if grpc {
        let result = grpc_call(&shared, parts.uri.path(), headers, &body).await;
        return Ok(grpc_reply(result));
    }
    let api_req = ApiRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers,
        body,
    };
    if let Some(pages) = shared.options.pages.clone()
        && is_ui_path(&api_req.path)
    {
        return Ok(to_hyper(ui_answer(&shared, &*pages, &api_req).await));
    }
    Ok(to_hyper(answer(&shared, api_req).await))
}

/// A page under `/ui/`: read from a view of the state, or an API request made on the
/// user's behalf through [`answer`] (as any client's), then shown.
async fn ui_answer(shared: &Shared, pages: &dyn Pages, req: &ApiRequest) -> ApiResponse {
    let first = {
        let state = shared.state.borrow();
        pages.answer(&View::new(&state, shared.now()), req)
    };
    match first {
        UiAnswer::Page(res) => res,
        UiAnswer::Call(call) => {
            let res = answer(shared, call).await;
            let state = shared.state.borrow();
            pages.answered(&View::new(&state, shared.now()), req, &res)
        }
    }
}

/// The API's answer to one request, its outputs handed on; under `--state-dir`, given
/// only once the request is on disk.
async fn answer(shared: &Shared, req: ApiRequest) -> ApiResponse {
    let input = shared.state.borrow().is_input(&req);
    let failed = shared.durable_error.borrow().clone();
    if let Some(why) = failed
        && input
    {
        return unavailable(&why);
    }
    let now = shared.now();
    let res = shared.state.borrow_mut().handle_owned(now, req);
    shared.flush();
    shared.deadlines_moved();
    match shared.make_durable().await {
        Ok(()) => res,
        // Reads are served once the state dir has failed (what they show may include an
        // input answered 503, whose outcome is unknown, as after a timeout).
        Err(_) if !input => res,
        Err(e) => unavailable(&e),
    }
}

/// The answer to an input the state dir cannot keep.
fn unavailable(why: &str) -> ApiResponse {
    ApiResponse::error(
        503,
        "UNAVAILABLE",
        format!("wfsim cannot keep this request: {why} (reads are still served)"),
    )
}

/// A gRPC call: transcoded to the REST request it stands for, with the caller's metadata
/// (the bearer token among it) as its headers.
async fn grpc_call(
    shared: &Shared,
    path: &str,
    metadata: Vec<(String, String)>,
    body: &[u8],
) -> Result<Vec<u8>, grpc::Status> {
    if body.len() > BODY_BYTES_MAX {
        return Err(grpc::Status {
            code: 8,
            message: format!("the request message is over {BODY_BYTES_MAX} bytes (512 KiB)"),
        });
    }
    let (call, mut req) = grpc::transcode(path, grpc::unframe(body)?)?;
    req.headers.extend(
        metadata
            .into_iter()
            .filter(|(k, _)| !k.starts_with(':') && !k.eq_ignore_ascii_case("content-type")),
    );
    grpc::answer(call, &answer(shared, req).await)
}

/// A gRPC answer: the framed message, then `grpc-status` (and `grpc-message`) as trailers.
fn grpc_reply(result: Result<Vec<u8>, grpc::Status>) -> Response<Reply> {
    let mut trailers = hyper::HeaderMap::new();
    let data = match result {
        Ok(message) => {
            trailers.insert("grpc-status", hyper::header::HeaderValue::from_static("0"));
            Some(Bytes::from(grpc::frame(&message)))
        }
        Err(status) => {
            trailers.insert("grpc-status", status.code.into());
            if let Ok(v) = hyper::header::HeaderValue::from_str(&percent_encode(&status.message)) {
                trailers.insert("grpc-message", v);
            }
            None
        }
    };
    let mut out = Response::new(Reply {
        data,
        trailers: Some(trailers),
    });
    out.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/grpc"),
    );
    out
}

/// gRPC's `grpc-message` encoding: bytes outside printable ASCII, and `%`, as `%XX`; so is a
/// space at either end, since an HTTP/2 field value may not start or end with one (grpc-js,
/// through Node's nghttp2, drops such a field and reports an empty message).
fn percent_encode(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let last = message.len().saturating_sub(1);
    for (i, b) in message.bytes().enumerate() {
        let edge_space = b == b' ' && (i == 0 || i == last);
        if (0x20..=0x7e).contains(&b) && b != b'%' && !edge_space {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A response body: the bytes, then trailers if any (gRPC's status travels in them).
#[derive(Debug)]
pub struct Reply {
    data: Option<Bytes>,
    trailers: Option<hyper::HeaderMap>,
}

impl hyper::body::Body for Reply {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        let frame = match self.data.take() {
            Some(d) => Some(hyper::body::Frame::data(d)),
            None => self.trailers.take().map(hyper::body::Frame::trailers),
        };
        std::task::Poll::Ready(frame.map(Ok))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        let len = self.data.as_ref().map_or(0, |d| d.len() as u64);
        hyper::body::SizeHint::with_exact(len)
    }
}

/// The real time (simulated under madsim): how long the server has been idle is a matter of
/// the real world, not of any execution's clock.
#[allow(clippy::disallowed_methods)]
pub(crate) fn real_now() -> Instant {
    Instant::now()
}

/// A request in flight, from its first byte to its answer (dropped on every path out).
/// Holds the one handle, not a clone of each counter it touches: five `Rc`s cloned and
/// dropped a request were 40 instructions.
struct Busy {
    shared: Shared,
    /// Whether it counts among the requests in flight (a graceful stop waits for them):
    /// not an outbound call.
    request: bool,
    /// Whether it holds the auto clock back: not a read.
    holds: bool,
    /// Whether its end is news to the timer task: only on a manual or auto clock (the
    /// auto clock waits for the server to be idle); on the real one, the deadlines a
    /// request moved were told as it was answered ([`Shared::deadlines_moved`]).
    tell_timer: bool,
    /// Whether its start and end are stamped in `last_active`: only the auto clock reads
    /// it, and the real time is a clock read (twice a request) that no other mode needs.
    stamps: bool,
}

impl Busy {
    /// A request being read or answered. Reads (GET, gRPC's Get… and List…) do not hold
    /// the auto clock back: a test that polls an execution until it ends must not keep the
    /// clock from reaching the deadline that ends it.
    fn request(shared: &Shared, read_only: bool) -> Busy {
        shared.requests.set(shared.requests.get() + 1);
        let mut busy = Busy::holding_the_clock(shared, !read_only);
        busy.request = true;
        busy
    }

    /// An outbound call in flight: it holds the auto clock back, a stop does not wait.
    fn call(shared: &Shared) -> Busy {
        Busy::holding_the_clock(shared, true)
    }

    fn holding_the_clock(shared: &Shared, holds: bool) -> Busy {
        let mode = shared.state.borrow().clock_mode();
        let stamps = mode == ClockMode::Auto;
        if holds {
            shared.in_flight.set(shared.in_flight.get() + 1);
            if stamps {
                shared.last_active.set(real_now());
            }
        }
        Busy {
            shared: shared.clone(),
            request: false,
            holds,
            tell_timer: mode != ClockMode::Real,
            stamps,
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let shared = &self.shared;
        if self.request {
            shared.requests.set(shared.requests.get() - 1);
        }
        if self.holds {
            shared.in_flight.set(shared.in_flight.get() - 1);
            if self.stamps {
                shared.last_active.set(real_now());
            }
        }
        if self.tell_timer || shared.draining.get() {
            shared.changed.notify_one();
        }
    }
}

fn to_hyper(res: ApiResponse) -> Response<Reply> {
    let mut out = Response::new(Reply {
        data: Some(Bytes::from(res.body)),
        trailers: None,
    });
    *out.status_mut() =
        StatusCode::from_u16(res.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in res.headers {
        // What nearly every answer has, without its name and value parsed again.
        if k == "Content-Type" && v == "application/json" {
            out.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("application/json"),
            );
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(&v),
        ) {
            out.headers_mut().insert(name, value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{header_text, percent_encode};

    /// A header value reaches the API as text, invalid UTF-8 replaced as before the fast
    /// path for valid text.
    #[test]
    fn header_values_are_text_with_invalid_bytes_replaced() {
        for bytes in [
            &b"application/json"[..],
            b"caf\xc3\xa9",
            b"a\xffb",
            b"\xc3",
            b"",
        ] {
            assert_eq!(
                header_text(bytes),
                String::from_utf8_lossy(bytes),
                "{bytes:?}"
            );
        }
        assert_eq!(header_text(b"a\xffb"), "a\u{fffd}b");
    }

    #[test]
    fn grpc_messages_are_valid_field_values() {
        assert_eq!(percent_encode("50% off\n"), "50%25 off%0A");
        // HTTP/2 refuses a field value with a space at either end.
        assert_eq!(percent_encode(" deployed: "), "%20deployed:%20");
        assert_eq!(percent_encode(""), "");
    }
}
