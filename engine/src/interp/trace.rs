//! What an execution records for its host to read: the `sys.log` entries and the trace of
//! events, in order.

use std::time::Duration;

use super::thread::ThreadId;
use crate::callbacks::{EndpointIdx, ExecutionState};
use crate::http::CallId;
use crate::stdlib::LogPayload;
use crate::time::SimTime;

/// One `sys.log` entry (EX-4).
#[derive(Clone, Debug, PartialEq)]
pub struct LogEntry {
    pub at: SimTime,
    pub severity: String,
    pub payload: LogPayload,
}

/// What happened, in order, for timelines and snapshots.
#[derive(Clone, Debug, PartialEq)]
pub enum Trace {
    Log(usize),
    EndpointCreated(EndpointIdx),
    /// An await took a buffered request at once (CB-5).
    AwaitTook {
        thread: ThreadId,
        endpoint: EndpointIdx,
        received_at: SimTime,
    },
    AwaitBlocked {
        thread: ThreadId,
        endpoint: EndpointIdx,
        timeout: Duration,
    },
    /// A request was handed to a blocked await (§3 step 5).
    AwaitResumed {
        thread: ThreadId,
        endpoint: EndpointIdx,
    },
    AwaitTimedOut {
        thread: ThreadId,
        endpoint: EndpointIdx,
    },
    Sleep {
        thread: ThreadId,
        until: SimTime,
    },
    /// A retry back-off began (RT-2): retry number `attempt` starts at `until`.
    Backoff {
        thread: ThreadId,
        attempt: u32,
        until: SimTime,
    },
    BranchStarted {
        thread: ThreadId,
        parent: ThreadId,
        branch: String,
    },
    BranchEnded {
        thread: ThreadId,
        failed: bool,
    },
    /// An outbound call was sent (HT-4); `call` indexes [`super::Execution::http_calls`].
    HttpSent {
        thread: ThreadId,
        call: CallId,
    },
    /// The host answered it in time.
    HttpAnswered {
        thread: ThreadId,
        call: CallId,
    },
    /// No answer came within its timeout (HT-3).
    HttpTimedOut {
        thread: ThreadId,
        call: CallId,
    },
    Ended {
        state: ExecutionState,
    },
}
