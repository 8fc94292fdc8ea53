//! The executor: every thread is a future polled by hand with a no-op waker, no async
//! runtime. It polls the runnable threads one at a time, the seeded stream picking which
//! goes next (CB-12), adopts the branches started meanwhile and drops the ones stopped,
//! until none is runnable or main has ended.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, Waker};

use super::shared::Shared;
use super::thread::{BoxFut, ThreadId, Wake};
use super::unwind::Unwind;
use crate::value::Value;

/// A future that completes with the thread's next wake.
pub(super) struct Suspend<'a> {
    pub(super) shared: &'a RefCell<Shared>,
    pub(super) tid: ThreadId,
}

impl Future for Suspend<'_> {
    type Output = Wake;
    fn poll(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<Wake> {
        match self.shared.borrow_mut().take_wake(self.tid) {
            Some(wake) => Poll::Ready(wake),
            None => Poll::Pending,
        }
    }
}

/// The threads that have not ended, by id.
#[derive(Default)]
pub(super) struct Scheduler {
    threads: BTreeMap<ThreadId, BoxFut<'static, ()>>,
}

impl Scheduler {
    /// A scheduler whose one thread is `main`, thread 0.
    pub(super) fn new(main: BoxFut<'static, ()>) -> Scheduler {
        Scheduler {
            threads: BTreeMap::from([(ThreadId(0), main)]),
        }
    }

    /// Whether `tid` has a future (it has not ended, and was not stopped).
    pub(super) fn is_live(&self, tid: ThreadId) -> bool {
        self.threads.contains_key(&tid)
    }

    pub(super) fn len(&self) -> usize {
        self.threads.len()
    }

    pub(super) fn ids(&self) -> impl Iterator<Item = &ThreadId> {
        self.threads.keys()
    }

    /// Drops every thread: the execution has ended.
    pub(super) fn clear(&mut self) {
        self.threads.clear();
    }

    /// Polls runnable threads, one at a time in an order the seed picks, until none is;
    /// main's result if it ended meanwhile (then the rest are left to the caller).
    pub(super) fn run(&mut self, shared: &RefCell<Shared>) -> Option<Result<Value, Unwind>> {
        let waker = Waker::noop();
        let mut cx = TaskContext::from_waker(waker);
        loop {
            self.adopt_and_abort(shared);
            let main_done = shared.borrow_mut().outcome.take();
            if main_done.is_some() {
                return main_done;
            }
            let tid = {
                let mut w = shared.borrow_mut();
                let n = w.runnable.len() as u64;
                if n == 0 {
                    return None;
                }
                let pick = if n == 1 { 0 } else { w.schedule.next_u64() % n };
                let tid = w.runnable.nth(pick as usize).expect("pick < len");
                w.runnable.remove(tid);
                w.touch(tid);
                tid
            };
            let Some(fut) = self.threads.get_mut(&tid) else {
                continue;
            };
            if fut.as_mut().poll(&mut cx).is_ready() {
                self.threads.remove(&tid);
            }
        }
    }

    fn adopt_and_abort(&mut self, shared: &RefCell<Shared>) {
        let (spawned, aborted) = {
            let mut w = shared.borrow_mut();
            // Most picks follow none: no lists to take apart and drop.
            if w.spawned.is_empty() && w.aborted.is_empty() {
                return;
            }
            (
                std::mem::take(&mut w.spawned),
                std::mem::take(&mut w.aborted),
            )
        };
        for (tid, fut) in spawned {
            self.threads.insert(tid, fut);
            shared.borrow_mut().runnable.insert(tid);
        }
        self.drop_threads(shared, aborted);
    }

    /// Stops threads and every thread they started, withdrawing whatever they waited for.
    fn drop_threads(&mut self, shared: &RefCell<Shared>, roots: Vec<ThreadId>) {
        if roots.is_empty() {
            return;
        }
        let doomed = shared.borrow().descendants(roots);
        for t in &doomed {
            self.threads.remove(t);
        }
        shared.borrow_mut().forget_threads(&doomed);
    }
}
