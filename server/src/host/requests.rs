//! The callback requests each execution was sent, with their verdicts: what the UI's
//! timeline marks on an endpoint's lane (`wfsim_render::timeline::of_execution`, the same
//! records `wfsim run` keeps). Rebuilt by a replay, as the requests are inputs.

use wfsim_engine::SimTime;
use wfsim_engine::callbacks::{Accepted, EndpointIdx};
use wfsim_engine::interp::Trace;
use wfsim_engine::request::Method;
use wfsim_harness::runner::RequestRecord;

use super::{Exec, Host};

/// A callback request as the API answered it.
pub(crate) struct Sent<'a> {
    pub(crate) callback: &'a str,
    pub(crate) method: &'a str,
    pub(crate) status: u16,
    /// Why it was refused, for anything but 200.
    pub(crate) message: Option<String>,
    /// How a 200 was taken.
    pub(crate) accepted: Option<Accepted>,
}

/// A callback request as kept, one per request for the execution's life: what a
/// [`RequestRecord`] says of it, in 64 bytes rather than 120 and an allocation (no `String`
/// for one of CB-1's methods, the fields a live execution's records all share left out);
/// made whole when read ([`Exec::requests`]).
pub(crate) struct Kept {
    at: SimTime,
    /// How many trace events came before it.
    trace_pos: usize,
    endpoint: Option<u32>,
    method: MethodName,
    /// Why it was refused, for anything but 200.
    message: Option<Box<str>>,
    status: u16,
    /// An await took it as it came (its `taken_at` is `at`).
    taken: bool,
}

/// A request's method: one of CB-1's without an allocation, any other as sent.
enum MethodName {
    Known(Method),
    Other(Box<str>),
}

impl Kept {
    fn record(&self) -> RequestRecord {
        RequestRecord {
            at: self.at,
            execution: 0,
            endpoint: self.endpoint,
            service: None,
            method: match &self.method {
                MethodName::Known(m) => m.as_str().to_owned(),
                MethodName::Other(m) => m.to_string(),
            },
            status: self.status,
            message: self.message.as_deref().map(str::to_owned),
            taken_at: self.taken.then_some(self.at),
            trace_pos: self.trace_pos,
        }
    }
}

impl Host {
    /// Records a callback request to execution `i` at server time `now`.
    pub(crate) fn record_request(&mut self, i: usize, now: SimTime, sent: Sent<'_>) {
        let e = self.exec_mut(i);
        let at = e.clock.local(now);
        let endpoint = e
            .execution
            .with_callbacks(|c| c.endpoint_by_callback_id(sent.callback))
            .map(|EndpointIdx(n)| n);
        let trace_pos = e.execution.trace_len();
        e.requests.push(Kept {
            at,
            trace_pos,
            endpoint,
            method: Method::parse(sent.method)
                .map_or_else(|| MethodName::Other(sent.method.into()), MethodName::Known),
            message: sent
                .message
                .filter(|_| sent.status != 200)
                .map(String::into_boxed_str),
            status: sent.status,
            taken: matches!(sent.accepted, Some(Accepted::Taken(_))),
        });
    }
}

impl Exec {
    /// Its callback requests so far, each stored one with the instant an await took it:
    /// a slot holds one request at a time (CB-5), so the k-th request stored on an
    /// endpoint is the one its k-th `AwaitTook` took.
    pub(crate) fn requests(&self) -> Vec<RequestRecord> {
        let mut out: Vec<RequestRecord> = self.requests.iter().map(Kept::record).collect();
        let stored = out.iter().any(|r| r.status == 200 && r.taken_at.is_none());
        if !stored {
            return out;
        }
        let mut takes: std::collections::BTreeMap<u32, Vec<SimTime>> = Default::default();
        for (at, t) in self.execution.trace() {
            if let Trace::AwaitTook { endpoint, .. } = t {
                takes.entry(endpoint.0).or_default().push(at);
            }
        }
        let mut seen: std::collections::BTreeMap<u32, usize> = Default::default();
        for r in out
            .iter_mut()
            .filter(|r| r.status == 200 && r.taken_at.is_none())
        {
            let Some(e) = r.endpoint else { continue };
            let k = seen.entry(e).or_default();
            r.taken_at = takes.get(&e).and_then(|v| v.get(*k)).copied();
            *k += 1;
        }
        out
    }
}
