//! hyper's timers (the header-read timeout, HTTP/2's keep-alive pings), on this crate's
//! tokio: the real one, or madsim's simulated one (hyper-util's `TokioTimer` would reach
//! the real tokio's timer behind madsim's back).
//!
//! hyper makes a timer for every HTTP/1 request's headers and drops it once they are read,
//! nearly always long before it is due. A tokio `Sleep` each time (two boxes, and the
//! timer wheel's lock taken to register and again to cancel it) cost a request about
//! 1,000 instructions. Here a timer is a deadline and, once it has had to wait, a slot in
//! a shared table; one task per server sleeps until the earliest deadline of the table and
//! wakes those that are due. Deadlines of a 30 s timeout made one after another come in
//! order, so a new one rarely comes before the earliest, and that task is rarely woken.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// The timer hyper's connections are given ([`hyper::rt::Timer`]); [`Clockwork::run`] must
/// run beside them, on the same runtime.
#[derive(Clone, Debug, Default)]
pub(crate) struct Clockwork(Arc<Mutex<Table>>);

/// The timers that have had to wait.
#[derive(Debug, Default)]
struct Table {
    /// A waiting timer's deadline, and its waker until it has been woken; `None`, a free
    /// slot. A slot belongs to its [`Tick`] until the tick is dropped.
    slots: Vec<Option<(Instant, Option<Waker>)>>,
    free: Vec<usize>,
    /// No waiting deadline comes before this one. A slot freed since may have held it:
    /// the runner then wakes early, finds nothing due, and looks again.
    earliest: Option<Instant>,
    /// The runner's waker, to tell it of an earlier deadline.
    runner: Option<Waker>,
}

impl Drop for Table {
    fn drop(&mut self) {
        // No timer is left to wake: the runner ends.
        if let Some(runner) = self.runner.take() {
            runner.wake();
        }
    }
}

/// The real clock, simulated under madsim (which stands in for the system clock): hyper's
/// deadlines are read on it.
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

impl Clockwork {
    fn table(&self) -> MutexGuard<'_, Table> {
        lock(&self.0)
    }

    /// Wakes each timer when it is due, for as long as any timer or the [`Clockwork`] is
    /// left. Due timers are woken in slot order: under madsim, a seed replays.
    pub(crate) fn run(&self) -> impl Future<Output = ()> + 'static {
        let table: Weak<Mutex<Table>> = Arc::downgrade(&self.0);
        let mut sleeping: Option<(Instant, Pin<Box<tokio::time::Sleep>>)> = None;
        std::future::poll_fn(move |cx| {
            loop {
                let Some(table) = table.upgrade() else {
                    return Poll::Ready(());
                };
                let mut t = lock(&table);
                if !t.runner.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    t.runner = Some(cx.waker().clone());
                }
                let now = now();
                if t.earliest.is_some_and(|e| e <= now) {
                    let mut next: Option<Instant> = None;
                    for (deadline, waker) in t.slots.iter_mut().flatten() {
                        if *deadline <= now {
                            if let Some(w) = waker.take() {
                                w.wake();
                            }
                        } else if waker.is_some() {
                            next = Some(next.map_or(*deadline, |n| n.min(*deadline)));
                        }
                    }
                    t.earliest = next;
                }
                let Some(earliest) = t.earliest else {
                    sleeping = None;
                    return Poll::Pending;
                };
                drop(t);
                if sleeping.as_ref().is_none_or(|(at, _)| *at != earliest) {
                    let left = earliest.saturating_duration_since(now);
                    sleeping = Some((earliest, Box::pin(tokio::time::sleep(left))));
                }
                if let Some((_, sleep)) = &mut sleeping
                    && sleep.as_mut().poll(cx).is_pending()
                {
                    return Poll::Pending;
                }
            }
        })
    }
}

fn lock(table: &Mutex<Table>) -> MutexGuard<'_, Table> {
    // A panic while the table was held left it whole (no step leaves it half-changed).
    table.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One of [`Clockwork`]'s timers.
struct Tick {
    clockwork: Clockwork,
    deadline: Instant,
    /// Its slot in the table, once it has had to wait.
    slot: Option<usize>,
}

impl Future for Tick {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if now() >= this.deadline {
            return Poll::Ready(());
        }
        let mut t = this.clockwork.table();
        match this.slot {
            Some(i) => {
                if let Some(Some((_, waker))) = t.slots.get_mut(i)
                    && !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker()))
                {
                    *waker = Some(cx.waker().clone());
                }
            }
            None => {
                let entry = Some((this.deadline, Some(cx.waker().clone())));
                let i = match t.free.pop() {
                    Some(i) => {
                        t.slots[i] = entry;
                        i
                    }
                    None => {
                        t.slots.push(entry);
                        t.slots.len() - 1
                    }
                };
                this.slot = Some(i);
                if t.earliest.is_none_or(|e| this.deadline < e) {
                    t.earliest = Some(this.deadline);
                    if let Some(runner) = &t.runner {
                        runner.wake_by_ref();
                    }
                }
            }
        }
        Poll::Pending
    }
}

impl Drop for Tick {
    fn drop(&mut self) {
        if let Some(i) = self.slot {
            let mut t = self.clockwork.table();
            t.slots[i] = None;
            t.free.push(i);
        }
    }
}

impl hyper::rt::Sleep for Tick {}

impl hyper::rt::Timer for Clockwork {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        // A duration past the clock's range: a timer that is never due, in effect.
        let deadline = now()
            .checked_add(duration)
            .unwrap_or_else(|| now() + Duration::from_secs(u64::from(u32::MAX)));
        self.sleep_until(deadline)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(Tick {
            clockwork: self.clone(),
            deadline,
            slot: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::rt::Timer;

    fn run_local(f: impl Future<Output = ()>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        tokio::task::LocalSet::new().block_on(&rt, f);
    }

    /// Each timer is due no sooner than its deadline; one made later with an earlier
    /// deadline wakes the runner, asleep for the first, and is done first.
    #[test]
    fn timers_end_at_their_deadlines_the_earliest_first() {
        run_local(async {
            let clockwork = Clockwork::default();
            tokio::task::spawn_local(clockwork.run());
            let order = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
            let mut tasks = Vec::new();
            for (name, ms) in [("late", 400), ("early", 20), ("middle", 150)] {
                let (clockwork, order) = (clockwork.clone(), order.clone());
                tasks.push(tokio::task::spawn_local(async move {
                    let deadline = now() + Duration::from_millis(ms);
                    clockwork.sleep_until(deadline).await;
                    assert!(now() >= deadline, "{name} ended before its deadline");
                    order.borrow_mut().push(name);
                }));
                // Each waits (takes its slot) before the next is made.
                tokio::task::yield_now().await;
            }
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(*order.borrow(), ["early", "middle", "late"]);
            // All ended and dropped: every slot is free again.
            let t = clockwork.table();
            assert!(t.slots.iter().all(Option::is_none));
            assert_eq!(t.free.len(), t.slots.len());
        });
    }

    /// A timer dropped while it waits (a request's headers read in time) gives its slot
    /// back, and the next one takes it; the runner ends once nothing can use it.
    #[test]
    fn a_dropped_timer_frees_its_slot_and_the_runner_ends_with_the_clockwork() {
        run_local(async {
            let clockwork = Clockwork::default();
            let runner = tokio::task::spawn_local(clockwork.run());
            let waker = futures_waker();
            let mut cx = Context::from_waker(&waker);
            let mut first = clockwork.sleep(Duration::from_secs(30));
            assert!(first.as_mut().poll(&mut cx).is_pending());
            assert_eq!(clockwork.table().slots.len(), 1);
            drop(first);
            assert_eq!(clockwork.table().free, [0]);
            let mut second = clockwork.sleep(Duration::from_secs(30));
            assert!(second.as_mut().poll(&mut cx).is_pending());
            assert_eq!(clockwork.table().slots.len(), 1, "the slot is taken again");
            assert!(clockwork.table().free.is_empty());
            drop(second);
            drop(clockwork);
            tokio::time::timeout(Duration::from_secs(10), runner)
                .await
                .expect("the runner ends once the clockwork is gone")
                .unwrap();
        });
    }

    /// A waker that does nothing: the test polls by hand.
    fn futures_waker() -> Waker {
        struct Nothing;
        impl std::task::Wake for Nothing {
            fn wake(self: Arc<Self>) {}
        }
        Waker::from(Arc::new(Nothing))
    }
}
