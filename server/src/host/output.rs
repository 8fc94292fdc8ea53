//! What the host hands to the world, as one queue: every output in the order it happened,
//! drained in one place (`Shared::flush`, which gives each kind to its hook). The kinds
//! are the operator's log lines and API events, the journal a simulation judges, calls for
//! the network, and the input log a restart replays.

use wfsim_engine::SimTime;
use wfsim_engine::http::HttpCall;
use wfsim_engine::interp::Trace;

use crate::message::ApiRequest;

/// One output of the server, in the order it happened.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// A line for stdout: a `sys.log` entry, or an internal error.
    Line(String),
    /// An entry of the journal.
    Journal(Observed),
    /// An API event for the operator's log.
    Event(ApiEvent),
    /// A call no scripted service answers: the I/O layer sends it and hands its answer to
    /// `State::answer_outbound`.
    Outbound(OutboundCall),
    /// An input kept for the input log (after `State::record_inputs`), with its time.
    Input(SimTime, ApiRequest),
}

/// A call for the network: no scripted service answers it.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboundCall {
    pub workflow: String,
    pub execution: String,
    pub call: HttpCall,
}

/// One request to a callback endpoint and its answer, as the journal records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Server time of arrival.
    pub at: SimTime,
    pub workflow: String,
    pub execution: String,
    pub callback: String,
    /// The request's `X-Request-Id` header, if it had one.
    pub request_id: Option<String>,
    /// Its method: a harness that rebuilds the execution's request records from the
    /// journal (`wfsim explore --system`) judges 405s by it.
    pub method: String,
    /// The scripted service that sent it (HT-7), by index; `None` for a request over HTTP.
    pub service: Option<usize>,
    pub status: u16,
    /// A 200 stored in the slot rather than handed to a waiting await (SPEC §3 step 6).
    pub buffered: bool,
    /// Whether the request changed the execution's endpoints (slot, waiters, tallies): a
    /// refusal must not (CB-9). `None` unless [`crate::State::observe_executions`], or when
    /// the execution does not exist.
    pub changed: Option<bool>,
}

/// The server's journal: what happened, in the order it happened on the server. A
/// simulation checks the contract against it: requests in the order they arrived,
/// interleaved with what each execution did about them.
#[derive(Clone, Debug, PartialEq)]
pub enum Observed {
    /// A request reached a callback endpoint and was answered. Always journaled.
    Callback(Delivery),
    /// An execution's engine trace event, with `at` on the server's clock (times inside
    /// `event`, like `received_at`, are on the execution's own clock). Journaled only after
    /// [`crate::State::observe_executions`].
    Engine {
        at: SimTime,
        workflow: String,
        execution: String,
        event: Trace,
    },
}

/// An API event for the operator's log (stderr): one line each.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiEvent {
    /// Server time, as an RFC 3339 timestamp.
    pub time: String,
    /// `execution.started`, `execution.ended`, `callback.answered`.
    pub kind: &'static str,
    /// The execution's resource name (a callback's, for `callback.answered`).
    pub name: String,
    /// What else the event says: the state and duration of an ended execution, the method
    /// and status of a callback.
    pub detail: Vec<(&'static str, String)>,
}
