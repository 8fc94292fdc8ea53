//! Parallel steps: branches (or the iterations of a parallel `for`) each run as a thread of
//! their own, at most `concurrency_limit` at a time; the step waits for them all, or stops
//! the others at the first error without `continueAll`. Between two steps a branch yields,
//! so the seeded scheduler interleaves branches (CB-12).

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};

use super::entries::Kind;
use super::frame::Frame;
use super::run::{Flow, Interp, Th, value_error};
use super::shared::Shared;
use super::thread::{BoxFut, ThreadId, Wake};
use super::unwind::Unwind;
use crate::defn::{Block, Parallel, Work};
use crate::error::{Tag, builtin};
use crate::value::Value;

/// Yields once, so the scheduler can pick another branch.
pub(super) struct YieldNow<'a> {
    shared: &'a RefCell<Shared>,
    tid: ThreadId,
    yielded: bool,
}

impl Future for YieldNow<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<()> {
        if self.yielded {
            self.shared.borrow_mut().clear_wakes(self.tid);
            Poll::Ready(())
        } else {
            self.yielded = true;
            let tid = self.tid;
            self.shared.borrow_mut().wake(tid, Wake::Yield);
            Poll::Pending
        }
    }
}

impl Interp {
    /// Lets the scheduler pick another runnable thread before `th` goes on.
    pub(super) fn yield_now(&self, th: Th) -> YieldNow<'_> {
        YieldNow {
            shared: &self.shared,
            tid: th.tid,
            yielded: false,
        }
    }

    /// A parallel step: starts its branches, at most `concurrency_limit` at a time, and
    /// waits for them; their errors become one `UnhandledBranchError`.
    pub(super) async fn run_parallel(
        self: &Rc<Self>,
        th: Th,
        frame: &Rc<Frame>,
        p: &Parallel,
    ) -> Result<Flow, Unwind> {
        if th.parallel_depth >= 2 {
            return Err(builtin(
                Tag::ParallelNestingError,
                "parallel steps nest at most two deep",
            )
            .into());
        }
        let limit = match &p.concurrency_limit {
            None => usize::MAX,
            Some(t) => match self.eval(frame, t)? {
                Value::Int(n) if n >= 1 => n as usize,
                other => {
                    return Err(value_error(format!(
                        "concurrency_limit must be a positive integer, got {}",
                        crate::value::show(&other)
                    ))
                    .into());
                }
            },
        };
        let mut pending: VecDeque<BranchStart> = VecDeque::new();
        match &p.work {
            Work::Branches(bs) => {
                for (i, (name, _, block)) in bs.iter().enumerate() {
                    let entry = (Kind::Branch, i as u32 + 1, 0);
                    pending.push_back((name.clone(), Rc::clone(block), Vec::new(), entry));
                }
            }
            Work::For(f) => {
                let values = self.for_values(frame, &f.source)?;
                let n = values.len() as u32;
                for (i, v) in values.into_iter().enumerate() {
                    let mut vars = vec![(f.value.clone(), v)];
                    if let Some(index) = &f.index {
                        vars.push((index.clone(), Value::Int(i as i64)));
                    }
                    let entry = (Kind::ParallelIteration, i as u32 + 1, n);
                    pending.push_back((format!("{i}"), Rc::clone(&f.steps), vars, entry));
                }
            }
        }
        let mut running: BTreeMap<ThreadId, String> = BTreeMap::new();
        let mut errors: Vec<(String, Unwind)> = Vec::new();
        loop {
            while running.len() < limit {
                let Some((name, block, vars, entry)) = pending.pop_front() else {
                    break;
                };
                let child_frame = Frame::branch(frame, &p.shared);
                for (k, v) in vars {
                    child_frame.set(&k, v);
                }
                let tid = self.spawn(th, name.clone(), block, child_frame, entry);
                running.insert(tid, name);
            }
            if running.is_empty() {
                break;
            }
            self.shared.borrow_mut().join(th.tid);
            match self.suspend(th.tid).await {
                Wake::Child(tid, res) => {
                    let name = running.remove(&tid).expect("a child of this step");
                    if let Err(e) = res {
                        errors.push((name, e));
                        if !p.continue_all {
                            self.shared.borrow_mut().abort(running.keys().copied());
                            running.clear();
                            pending.clear();
                        }
                    }
                }
                other => unreachable!("a parallel step is woken by its branches, not {other:?}"),
            }
        }
        if errors.is_empty() {
            return Ok(Flow::Next);
        }
        let mut first = None;
        let mut branches = Vec::with_capacity(errors.len());
        for (id, fault) in errors {
            branches.push(Value::map([
                ("id", Value::str(id)),
                ("error", fault.error().clone()),
            ]));
            first.get_or_insert(fault);
        }
        let error = Value::map([
            (
                "message",
                Value::str("a parallel step had branches that raised unhandled errors"),
            ),
            (
                "tags",
                Value::list(vec![Value::str(Tag::UnhandledBranchError.as_str())]),
            ),
            ("branches", Value::list(branches)),
        ]);
        // Where: the first branch to fail, then this step (SPEC §6, "Where").
        Err(Unwind::raised_from(error, first.expect("an error")))
    }

    /// Starts a branch thread running `block` in `frame`; it reports to `parent` when done.
    fn spawn(
        self: &Rc<Self>,
        parent: Th,
        name: String,
        block: Block,
        frame: Rc<Frame>,
        (kind, progress, expected): (Kind, u32, u32),
    ) -> ThreadId {
        let (tid, entry) = {
            let mut w = self.shared.borrow_mut();
            let tid = w.start_branch(parent.tid, name);
            let step = w.entry_cover(parent.entry);
            let entry = w.begin_entry(tid, parent.entry, step, kind, progress, expected, &frame);
            (tid, entry)
        };
        let th = Th {
            tid,
            depth: parent.depth,
            parallel_depth: parent.parallel_depth + 1,
            entry,
        };
        let interp = Rc::clone(self);
        let fut: BoxFut<'static, ()> = Box::pin(async move {
            let res = match interp.run_block(th, &frame, &block).await {
                Ok(Flow::Next | Flow::End | Flow::Return(_)) => Ok(()),
                Ok(Flow::Break | Flow::Continue) => Err(builtin(
                    Tag::SystemError,
                    "'next: break' and 'next: continue' cannot leave a parallel branch",
                )
                .into()),
                Ok(Flow::Goto(name)) => Err(builtin(
                    Tag::SystemError,
                    format!("'next: {name}' cannot leave a parallel branch"),
                )
                .into()),
                Err(e) => Err(e),
            };
            interp.end_entry(entry, &frame, &res);
            interp.shared.borrow_mut().end_branch(tid, parent.tid, res);
        });
        self.shared.borrow_mut().spawn(tid, fut);
        tid
    }
}

/// A branch to start: its name, its steps, the loop variables it begins with, and its
/// entry's kind, number and the iterations expected (EX-8).
type BranchStart = (String, Block, Vec<(String, Value)>, (Kind, u32, u32));
