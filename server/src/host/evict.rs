//! `--keep-ended N`: once more than N executions have ended, the oldest-ended is evicted
//! (unfindable by name, nothing of it due) and freed at the next safe point, so a
//! long-running server's memory stays bounded. Decided at ends, in the order ends happen,
//! so a replay of the input log evicts the same executions.

use std::rc::Rc;

use wfsim_engine::SimTime;

use super::{HELD, Host};

impl Host {
    /// `--keep-ended N` (at least 1) from server time `now` on: ended executions held
    /// before the oldest-ended is evicted; a lower N evicts at once down to it.
    pub(crate) fn set_keep_ended(&mut self, now: SimTime, n: usize) {
        self.keep_ended = n.max(1);
        while self.ended.len() > self.keep_ended {
            let Some(oldest) = self.ended.pop_front() else {
                break;
            };
            self.evict(oldest, now);
        }
        self.drop_evicted();
    }

    pub(crate) fn keep_ended(&self) -> usize {
        self.keep_ended
    }

    /// Evicts ended execution `i` at server time `now`: its name no longer finds it (a GET
    /// is 404, a callback to its endpoints 404 as after any end, SPEC CB-11), and nothing of
    /// it stays due: its scripted services' pending callbacks and answers are dropped, so
    /// that when it is dropped cannot change what happens. Decided at the end that made one
    /// too many, in the order ends happen, so a replay of the input log (`--state-dir`)
    /// evicts the same executions at the same points: evictions need no record of their
    /// own. Its memory goes at the next safe point ([`Host::drop_evicted`]).
    pub(super) fn evict(&mut self, i: usize, now: SimTime) {
        let name = self.resource_name(i);
        let e = self.executions.get_mut(&i).expect(HELD);
        e.evicted = true;
        e.stubs = None;
        e.services = Rc::from(Vec::new());
        if let Some(d) = e.deadline.take() {
            self.deadlines.remove(&(d, i));
        }
        self.by_id.remove(&e.id);
        let key = (e.workflow.clone(), e.id.to_string());
        self.outbound.retain(|&(j, _), _| j != i);
        self.evicted_names.insert(key.clone());
        self.evicted_order.push_back(key);
        while self.evicted_order.len() > self.keep_ended {
            if let Some(old) = self.evicted_order.pop_front() {
                self.evicted_names.remove(&old);
            }
        }
        self.evicted_count += 1;
        self.evicting.push(i);
        let detail = vec![("keepEnded", self.keep_ended.to_string())];
        self.event(now, "execution.evicted", name, detail);
    }

    /// Frees the executions evicted since the last call. Called where no index into the
    /// executions is held: after a request is answered, after timers ran.
    pub(crate) fn drop_evicted(&mut self) {
        for i in std::mem::take(&mut self.evicting) {
            self.executions.remove(&i);
        }
    }

    /// Whether `(workflow, id)` was evicted (among the last `keep_ended` evicted), and how
    /// many have been evicted in all.
    pub(crate) fn evicted(&self, workflow: &str, id: &str) -> (bool, u64) {
        let key = (workflow.to_owned(), id.to_owned());
        (self.evicted_names.contains(&key), self.evicted_count)
    }
}
