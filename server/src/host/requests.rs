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
/// [`RequestRecord`] says of it, in 32 bytes rather than 120 and an allocation (CB-1's
/// method as its enum, what is rare behind one pointer, the fields every live execution's
/// records share left out); made whole when read ([`Exec::requests`]). A looping execution
/// keeps one per callback, and the growing vector is fresh memory the kernel zeroes.
pub(crate) struct Kept {
    at: SimTime,
    endpoint: Option<u32>,
    /// How many trace events came before it (saturated at `u32::MAX`, four billion
    /// events being more than an execution's memory holds).
    trace_pos: u32,
    status: u16,
    /// `None` for a method CB-1 does not name (its name is in `rare`).
    method: Option<Method>,
    /// An await took it as it came (its `taken_at` is `at`).
    taken: bool,
    rare: Option<Box<Rare>>,
}

/// What few requests have.
struct Rare {
    /// A method CB-1 does not name, as sent.
    method: Option<Box<str>>,
    /// Why it was refused, for anything but 200.
    message: Option<Box<str>>,
}

impl Kept {
    fn record(&self) -> RequestRecord {
        let rare = self.rare.as_deref();
        RequestRecord {
            at: self.at,
            execution: 0,
            endpoint: self.endpoint,
            service: None,
            method: match (self.method, rare.and_then(|r| r.method.as_deref())) {
                (Some(m), _) => m.as_str().to_owned(),
                (None, other) => other.unwrap_or_default().to_owned(),
            },
            status: self.status,
            message: rare.and_then(|r| r.message.as_deref()).map(str::to_owned),
            taken_at: self.taken.then_some(self.at),
            trace_pos: self.trace_pos as usize,
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
        let method = Method::parse(sent.method);
        let message = sent
            .message
            .filter(|_| sent.status != 200)
            .map(String::into_boxed_str);
        let rare = (method.is_none() || message.is_some()).then(|| {
            Box::new(Rare {
                method: method.is_none().then(|| sent.method.into()),
                message,
            })
        });
        e.requests.push(Kept {
            at,
            endpoint,
            trace_pos: u32::try_from(trace_pos).unwrap_or(u32::MAX),
            status: sent.status,
            method,
            taken: matches!(sent.accepted, Some(Accepted::Taken(_))),
            rare,
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
