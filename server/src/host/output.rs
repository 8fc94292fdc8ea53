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
    /// How much an operator needs it ([`Level::of`]).
    pub level: Level,
    /// Server time, as an RFC 3339 timestamp.
    pub time: String,
    /// `execution.started`, `execution.ended`, `execution.evicted`, `callback.answered`,
    /// `call.answered` (an outbound call's answer), `request.answered` (an API request).
    pub kind: &'static str,
    /// The execution's resource name (a callback's, for `callback.answered`).
    pub name: String,
    /// What else the event says: the state and duration of an ended execution, the method
    /// and status of a callback.
    pub detail: Vec<(&'static str, String)>,
}

/// How much an operator needs an event (`wfsim serve --log-level`): each level shows its
/// own and those above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// An execution FAILED.
    Error,
    /// Something refused or failed on the way: a callback answered other than 200, an
    /// outbound call that failed or was answered 4xx or 5xx.
    Warn,
    /// Executions started and ended, callbacks taken, outbound calls answered.
    Info,
    /// Every API request besides, with its status.
    Debug,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Error, Level::Warn, Level::Info, Level::Debug];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }

    /// The level of an event by its kind and detail: the one place the rules live.
    pub fn of(kind: &str, detail: &[(&'static str, String)]) -> Level {
        let says = |key: &str| {
            detail
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str())
        };
        let refused = || says("status").is_some_and(|s| s != "200");
        match kind {
            "execution.ended" if says("state") == Some("FAILED") => Level::Error,
            "callback.answered" if refused() => Level::Warn,
            "call.answered"
                if says("failed").is_some()
                    || says("status")
                        .and_then(|s| s.parse::<u16>().ok())
                        .is_some_and(|s| s >= 400) =>
            {
                Level::Warn
            }
            "request.answered" => Level::Debug,
            _ => Level::Info,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Level;

    #[test]
    fn levels_follow_what_the_event_says() {
        let d = |pairs: &[(&'static str, &str)]| -> Vec<(&'static str, String)> {
            pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
        };
        let ended = |state| Level::of("execution.ended", &d(&[("state", state)]));
        assert_eq!(ended("FAILED"), Level::Error);
        assert_eq!(ended("SUCCEEDED"), Level::Info);
        assert_eq!(ended("CANCELLED"), Level::Info);
        let callback = |status| Level::of("callback.answered", &d(&[("status", status)]));
        assert_eq!(callback("200"), Level::Info);
        assert_eq!(callback("429"), Level::Warn);
        let call = |pairs: &[(&'static str, &str)]| Level::of("call.answered", &d(pairs));
        assert_eq!(call(&[("status", "200")]), Level::Info);
        assert_eq!(call(&[("status", "399")]), Level::Info);
        assert_eq!(call(&[("status", "400")]), Level::Warn);
        assert_eq!(call(&[("failed", "refused")]), Level::Warn);
        assert_eq!(Level::of("request.answered", &[]), Level::Debug);
        assert_eq!(Level::of("execution.started", &[]), Level::Info);
        assert!(
            Level::Error < Level::Warn && Level::Warn < Level::Info && Level::Info < Level::Debug
        );
    }
}
