//! The interpreter: steps, control flow, calls, retries and parallel branches, written as
//! ordinary (boxed, recursive) async functions that suspend only where the workflow blocks.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use super::{BoxFut, CALL_DEPTH_MAX, Frame, Suspend, ThreadId, Wake, World};
use crate::callbacks::{AWAIT_TIMEOUT_DEFAULT, AwaitOutcome};
use crate::defn::{
    Accessor, Action, Backoff, Block, For, ForSource, Next, Predicate, Retry, Subworkflow, Target,
    Tmpl, Work, Workflow,
};
use crate::error::{Raised, Tag, builtin};
use crate::expr::{self, Context};
use crate::stdlib::{self, Host, table};
use crate::time::{SimTime, duration_from_secs};
use crate::value::Value;

use crate::limits::{self, RANGE_LEN_MAX};

/// How a block of steps ended.
#[derive(Debug)]
enum Flow {
    /// Ran off its end.
    Next,
    /// `next: name`, to a step of an enclosing block.
    Goto(String),
    Break,
    Continue,
    Return(Value),
    /// `next: end`.
    End,
}

/// One thread's position in the call tree.
#[derive(Clone, Copy, Debug)]
struct Th {
    tid: ThreadId,
    depth: u32,
    /// How many parallel steps enclose this thread.
    parallel_depth: u32,
}

pub(super) struct Interp {
    pub(super) workflow: Rc<Workflow>,
    pub(super) world: Rc<RefCell<World>>,
}

/// Yields once, so the scheduler can pick another branch.
struct YieldNow<'a> {
    world: &'a RefCell<World>,
    tid: ThreadId,
    yielded: bool,
}

impl Future for YieldNow<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<()> {
        if self.yielded {
            self.world.borrow_mut().clear_wakes(self.tid);
            Poll::Ready(())
        } else {
            self.yielded = true;
            let tid = self.tid;
            self.world.borrow_mut().wake(tid, Wake::Yield);
            Poll::Pending
        }
    }
}

fn type_error(msg: impl Into<String>) -> Raised {
    builtin(Tag::TypeError, msg)
}

fn value_error(msg: impl Into<String>) -> Raised {
    builtin(Tag::ValueError, msg)
}

/// `60s`, `0.5s`: a duration as CB-6's message says it.
fn secs_text(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}s", s as u64)
    } else {
        format!("{s}s")
    }
}

/// What an expression sees: the frame's variables and the library.
struct EvalCx<'a> {
    frame: &'a Frame,
    world: &'a RefCell<World>,
}

impl Context for EvalCx<'_> {
    fn var(&self, name: &str) -> Option<Value> {
        self.frame.get(name)
    }
    fn call(&mut self, name: &str, args: Vec<Value>) -> Result<Value, Raised> {
        let mut w = self.world.borrow_mut();
        let v = stdlib::call(name, args.into_iter().map(Some).collect(), &mut *w)?;
        limits::check_value(&format_args!("the result of {name}"), v)
    }
}

impl Interp {
    /// The value of `t`, within the value limits ([`limits::check_value`]).
    fn eval(&self, frame: &Frame, t: &Tmpl) -> Result<Value, Raised> {
        let v = self.eval_unchecked(frame, t)?;
        limits::check_value(&"the value of an expression", v)
    }

    fn eval_unchecked(&self, frame: &Frame, t: &Tmpl) -> Result<Value, Raised> {
        match t {
            Tmpl::Lit(v) => Ok(v.clone()),
            Tmpl::Expr(e, _) => expr::eval(
                e,
                &mut EvalCx {
                    frame,
                    world: &self.world,
                },
            ),
            Tmpl::List(items) => Ok(Value::list(
                items
                    .iter()
                    .map(|i| self.eval(frame, i))
                    .collect::<Result<_, _>>()?,
            )),
            Tmpl::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    out.push((k.clone(), self.eval(frame, v)?));
                }
                Ok(Value::map(out))
            }
        }
    }

    fn suspend(&self, tid: ThreadId) -> Suspend<'_> {
        Suspend {
            world: &self.world,
            tid,
        }
    }

    /// Runs `main` with the execution argument; the result or error ends the execution.
    pub(super) async fn run_main(
        self: &Rc<Self>,
        argument: Option<Value>,
    ) -> Result<Value, Raised> {
        let main = Rc::clone(&self.workflow.main);
        let mut args = BTreeMap::new();
        if let Some(p) = main.params.first() {
            args.insert(p.name.clone(), argument.unwrap_or(Value::Null));
        }
        let th = Th {
            tid: ThreadId(0),
            depth: 0,
            parallel_depth: 0,
        };
        self.call_sub(th, main, args).await
    }

    fn call_sub<'a>(
        self: &'a Rc<Self>,
        th: Th,
        sub: Rc<Subworkflow>,
        mut args: BTreeMap<String, Value>,
    ) -> BoxFut<'a, Result<Value, Raised>> {
        Box::pin(async move {
            if th.depth >= CALL_DEPTH_MAX {
                return Err(builtin(
                    Tag::RecursionError,
                    format!(
                        "maximum call depth of {CALL_DEPTH_MAX} exceeded calling '{}'",
                        sub.name
                    ),
                ));
            }
            let mut vars = BTreeMap::new();
            for p in &sub.params {
                match args.remove(&p.name).or_else(|| p.default.clone()) {
                    Some(v) => {
                        let what = format_args!("argument '{}' of '{}'", p.name, sub.name);
                        vars.insert(p.name.clone(), limits::check_value(&what, v)?);
                    }
                    None if sub.name == "main" => {
                        vars.insert(p.name.clone(), Value::Null);
                    }
                    None => {
                        return Err(type_error(format!(
                            "subworkflow '{}' needs argument '{}'",
                            sub.name, p.name
                        )));
                    }
                }
            }
            if let Some(extra) = args.keys().next() {
                return Err(type_error(format!(
                    "subworkflow '{}' has no parameter '{extra}'",
                    sub.name
                )));
            }
            let frame = Frame::new(vars);
            let inner = Th {
                depth: th.depth + 1,
                ..th
            };
            match self.run_block(inner, &frame, &sub.steps).await? {
                Flow::Return(v) => Ok(v),
                Flow::Next | Flow::End => Ok(Value::Null),
                Flow::Break | Flow::Continue => Err(builtin(
                    Tag::SystemError,
                    "'next: break' or 'next: continue' outside a for loop",
                )),
                Flow::Goto(name) => Err(builtin(
                    Tag::SystemError,
                    format!("'next: {name}' names no reachable step"),
                )),
            }
        })
    }

    fn run_block<'a>(
        self: &'a Rc<Self>,
        th: Th,
        frame: &'a Rc<Frame>,
        block: &'a Block,
    ) -> BoxFut<'a, Result<Flow, Raised>> {
        Box::pin(async move {
            let mut i = 0;
            while i < block.len() {
                let step = &block[i];
                self.world.borrow_mut().count_step()?;
                if th.parallel_depth > 0 {
                    YieldNow {
                        world: &self.world,
                        tid: th.tid,
                        yielded: false,
                    }
                    .await;
                }
                let mut flow = self.run_action(th, frame, &step.action).await?;
                if let (Flow::Next, Some(next)) = (&flow, &step.next) {
                    flow = jump(next);
                }
                match flow {
                    Flow::Next => i += 1,
                    Flow::Goto(name) => match block.iter().position(|s| s.name == name) {
                        Some(j) => i = j,
                        None => return Ok(Flow::Goto(name)),
                    },
                    other => return Ok(other),
                }
            }
            Ok(Flow::Next)
        })
    }

    fn run_action<'a>(
        self: &'a Rc<Self>,
        th: Th,
        frame: &'a Rc<Frame>,
        action: &'a Action,
    ) -> BoxFut<'a, Result<Flow, Raised>> {
        Box::pin(async move {
            match action {
                Action::Nothing => Ok(Flow::Next),
                Action::Assign(items) => {
                    for (target, value) in items {
                        let v = self.eval(frame, value)?;
                        self.assign(frame, target, v)?;
                    }
                    Ok(Flow::Next)
                }
                Action::Call(call) => {
                    let mut args = Vec::with_capacity(call.args.len());
                    for (k, v) in &call.args {
                        args.push((k.clone(), self.eval(frame, v)?));
                    }
                    let v = self.call(th, &call.func, args).await?;
                    if let Some(r) = &call.result {
                        frame.set(r, v);
                    }
                    Ok(Flow::Next)
                }
                Action::Switch(cases) => {
                    for case in cases {
                        let hit = match self.eval(frame, &case.condition)? {
                            Value::Bool(b) => b,
                            other => {
                                return Err(type_error(format!(
                                    "a switch condition must be a boolean, got {}",
                                    other.type_name()
                                )));
                            }
                        };
                        if hit {
                            let flow = self.run_action(th, frame, &case.action).await?;
                            return Ok(match (&flow, &case.next) {
                                (Flow::Next, Some(next)) => jump(next),
                                _ => flow,
                            });
                        }
                    }
                    Ok(Flow::Next)
                }
                Action::Return(v) => Ok(Flow::Return(self.eval(frame, v)?)),
                Action::Raise(v) => Err(self.eval(frame, v)?),
                Action::Steps(block) => self.run_block(th, frame, block).await,
                Action::Try(t) => {
                    let res = self
                        .run_retrying(th, frame, &t.body, t.retry.as_ref())
                        .await;
                    match (res, &t.except) {
                        (Ok(flow), _) => Ok(flow),
                        (Err(e), Some(except)) => {
                            if let Some(var) = &except.var {
                                frame.set(var, e);
                            }
                            self.run_block(th, frame, &except.steps).await
                        }
                        (Err(e), None) => Err(e),
                    }
                }
                Action::For(f) => self.run_for(th, frame, f).await,
                Action::Parallel(p) => self.run_parallel(th, frame, p).await,
            }
        })
    }

    /// RT-1 … RT-3: runs `body`; on an error, asks the predicate, waits the back-off on the
    /// simulated clock, and runs it again, up to `max_retries` times.
    async fn run_retrying(
        self: &Rc<Self>,
        th: Th,
        frame: &Rc<Frame>,
        body: &Action,
        retry: Option<&Retry>,
    ) -> Result<Flow, Raised> {
        let Some(retry) = retry else {
            return self.run_action(th, frame, body).await;
        };
        let (predicate, max_retries, backoff) = self.retry_policy(frame, retry)?;
        let mut retries: u32 = 0;
        loop {
            let e = match self.run_action(th, frame, body).await {
                Ok(flow) => return Ok(flow),
                Err(e) => e,
            };
            // RT-3: the predicate sees every error, the one after the last retry too.
            let again = match &predicate {
                PredicateFn::Sub(name) => {
                    let sub =
                        Rc::clone(self.workflow.subworkflow(name).expect("checked at deploy"));
                    let mut args = BTreeMap::new();
                    if let Some(p) = sub.params.first() {
                        args.insert(p.name.clone(), e.clone());
                    }
                    self.call_sub(th, sub, args).await?
                }
                PredicateFn::Builtin(name) => {
                    let mut w = self.world.borrow_mut();
                    stdlib::call(name, vec![Some(e.clone())], &mut *w)?
                }
            };
            let again = match again {
                Value::Bool(b) => b,
                other => {
                    return Err(type_error(format!(
                        "a retry predicate must return a boolean, got {}",
                        other.type_name()
                    )));
                }
            };
            if !again || i64::from(retries) >= max_retries {
                return Err(e);
            }
            // A retry is a step: however many `max_retries` allows, the step limit ends them
            // (and keeps the counter far below `u32::MAX`).
            self.world.borrow_mut().count_step()?;
            retries = retries.saturating_add(1);
            let delay = backoff.delay(retries);
            self.world.borrow_mut().back_off(th.tid, retries, delay);
            match self.suspend(th.tid).await {
                Wake::Timer => {}
                other => unreachable!("a back-off is woken by its timer, not {other:?}"),
            }
        }
    }

    fn retry_policy(
        &self,
        frame: &Frame,
        retry: &Retry,
    ) -> Result<(PredicateFn, i64, BackoffPolicy), Raised> {
        match retry {
            Retry::Expr(t) => {
                let name = match t {
                    Tmpl::Expr(e, _) => e.dotted_name().unwrap_or_default(),
                    _ => String::new(),
                };
                let predicate = match name.as_str() {
                    "http.default_retry" => "http.default_retry_predicate",
                    "http.default_retry_non_idempotent" => {
                        "http.default_retry_predicate_non_idempotent"
                    }
                    other => return Err(value_error(format!("'{other}' is not a retry policy"))),
                };
                Ok((
                    PredicateFn::Builtin(predicate.into()),
                    5,
                    BackoffPolicy::DEFAULT,
                ))
            }
            Retry::Policy {
                predicate,
                max_retries,
                backoff,
            } => {
                let predicate = match predicate {
                    Predicate::Subworkflow(s) => PredicateFn::Sub(s.clone()),
                    Predicate::Builtin(b) => PredicateFn::Builtin(b.clone()),
                };
                let max = match self.eval(frame, max_retries)? {
                    Value::Int(n) if n >= 0 => n,
                    other => {
                        return Err(value_error(format!(
                            "max_retries must be a non-negative integer, got {}",
                            crate::scenario::show(&other)
                        )));
                    }
                };
                let backoff = match backoff {
                    None => BackoffPolicy::DEFAULT,
                    Some(b) => self.backoff(frame, b)?,
                };
                Ok((predicate, max, backoff))
            }
        }
    }

    fn backoff(&self, frame: &Frame, b: &Backoff) -> Result<BackoffPolicy, Raised> {
        let num = |t: &Tmpl, what: &str| -> Result<f64, Raised> {
            match self.eval(frame, t)? {
                Value::Int(i) if i >= 0 => Ok(i as f64),
                Value::Double(d) if d >= 0.0 => Ok(d),
                other => Err(value_error(format!(
                    "backoff {what} must be a non-negative number, got {}",
                    crate::scenario::show(&other)
                ))),
            }
        };
        Ok(BackoffPolicy {
            initial_delay: num(&b.initial_delay, "initial_delay")?,
            max_delay: num(&b.max_delay, "max_delay")?,
            multiplier: num(&b.multiplier, "multiplier")?,
        })
    }

    async fn run_for(self: &Rc<Self>, th: Th, frame: &Rc<Frame>, f: &For) -> Result<Flow, Raised> {
        let values = self.for_values(frame, &f.source)?;
        let keep = frame.local_names();
        let mut result = Ok(Flow::Next);
        for (i, v) in values.into_iter().enumerate() {
            frame.set(&f.value, v);
            if let Some(index) = &f.index {
                frame.set(index, Value::Int(i as i64));
            }
            match self.run_block(th, frame, &f.steps).await {
                Ok(Flow::Next | Flow::Continue) => {}
                Ok(Flow::Break) => break,
                other => {
                    result = other;
                    break;
                }
            }
        }
        // Variables made inside the loop, its value and index among them, end with it.
        frame.retain(&keep);
        result
    }

    fn for_values(&self, frame: &Frame, source: &ForSource) -> Result<Vec<Value>, Raised> {
        match source {
            ForSource::In(t) => match self.eval(frame, t)? {
                Value::List(items) => Ok(items.to_vec()),
                other => Err(type_error(format!(
                    "'for ... in' needs a list, got {}",
                    other.type_name()
                ))),
            },
            ForSource::Range(a, b) => {
                let (a, b) = (self.eval(frame, a)?, self.eval(frame, b)?);
                match (a, b) {
                    (Value::Int(a), Value::Int(b)) => {
                        if b.saturating_sub(a) > super::STEPS_MAX as i64 {
                            return Err(builtin(
                                Tag::ResourceLimitError,
                                "the range is longer than the step limit",
                            ));
                        }
                        Ok((a..=b).map(Value::Int).collect())
                    }
                    (
                        a @ (Value::Int(_) | Value::Double(_)),
                        b @ (Value::Int(_) | Value::Double(_)),
                    ) => {
                        let (mut x, y) = (num(&a), num(&b));
                        let mut out = Vec::new();
                        while x <= y && out.len() < RANGE_LEN_MAX {
                            out.push(Value::Double(x));
                            x += 1.0;
                        }
                        Ok(out)
                    }
                    (a, b) => Err(type_error(format!(
                        "'range' needs two numbers, got {} and {}",
                        a.type_name(),
                        b.type_name()
                    ))),
                }
            }
        }
    }

    async fn run_parallel(
        self: &Rc<Self>,
        th: Th,
        frame: &Rc<Frame>,
        p: &crate::defn::Parallel,
    ) -> Result<Flow, Raised> {
        if th.parallel_depth >= 2 {
            return Err(builtin(
                Tag::ParallelNestingError,
                "parallel steps nest at most two deep",
            ));
        }
        let limit = match &p.concurrency_limit {
            None => usize::MAX,
            Some(t) => match self.eval(frame, t)? {
                Value::Int(n) if n >= 1 => n as usize,
                other => {
                    return Err(value_error(format!(
                        "concurrency_limit must be a positive integer, got {}",
                        crate::scenario::show(&other)
                    )));
                }
            },
        };
        let mut pending: VecDeque<BranchStart> = VecDeque::new();
        match &p.work {
            Work::Branches(bs) => {
                for (name, _, block) in bs {
                    pending.push_back((name.clone(), Rc::clone(block), Vec::new()));
                }
            }
            Work::For(f) => {
                for (i, v) in self.for_values(frame, &f.source)?.into_iter().enumerate() {
                    let mut vars = vec![(f.value.clone(), v)];
                    if let Some(index) = &f.index {
                        vars.push((index.clone(), Value::Int(i as i64)));
                    }
                    pending.push_back((format!("{i}"), Rc::clone(&f.steps), vars));
                }
            }
        }
        let mut running: BTreeMap<ThreadId, String> = BTreeMap::new();
        let mut errors: Vec<(String, Raised)> = Vec::new();
        loop {
            while running.len() < limit {
                let Some((name, block, vars)) = pending.pop_front() else {
                    break;
                };
                let child_frame = Frame::branch(frame, &p.shared);
                for (k, v) in vars {
                    child_frame.set(&k, v);
                }
                let tid = self.spawn(th, name.clone(), block, child_frame);
                running.insert(tid, name);
            }
            if running.is_empty() {
                break;
            }
            match self.suspend(th.tid).await {
                Wake::Child(tid, res) => {
                    let name = running.remove(&tid).expect("a child of this step");
                    if let Err(e) = res {
                        errors.push((name, e));
                        if !p.continue_all {
                            self.world.borrow_mut().abort(running.keys().copied());
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
        let branches = errors
            .into_iter()
            .map(|(id, e)| Value::map([("id", Value::str(id)), ("error", e)]))
            .collect();
        Err(Value::map([
            (
                "message",
                Value::str("a parallel step had branches that raised unhandled errors"),
            ),
            (
                "tags",
                Value::list(vec![Value::str(Tag::UnhandledBranchError.as_str())]),
            ),
            ("branches", Value::list(branches)),
        ]))
    }

    /// Starts a branch thread running `block` in `frame`; it reports to `parent` when done.
    fn spawn(
        self: &Rc<Self>,
        parent: Th,
        name: String,
        block: Block,
        frame: Rc<Frame>,
    ) -> ThreadId {
        let tid = self.world.borrow_mut().start_branch(parent.tid, name);
        let th = Th {
            tid,
            depth: parent.depth,
            parallel_depth: parent.parallel_depth + 1,
        };
        let interp = Rc::clone(self);
        let fut: BoxFut<'static, ()> = Box::pin(async move {
            let res = match interp.run_block(th, &frame, &block).await {
                Ok(Flow::Next | Flow::End | Flow::Return(_)) => Ok(()),
                Ok(Flow::Break | Flow::Continue) => Err(builtin(
                    Tag::SystemError,
                    "'next: break' and 'next: continue' cannot leave a parallel branch",
                )),
                Ok(Flow::Goto(name)) => Err(builtin(
                    Tag::SystemError,
                    format!("'next: {name}' cannot leave a parallel branch"),
                )),
                Err(e) => Err(e),
            };
            interp.world.borrow_mut().end_branch(tid, parent.tid, res);
        });
        self.world.borrow_mut().spawn(tid, fut);
        tid
    }

    /// A `call` step: a subworkflow, a blocking function, or any other library function.
    async fn call(
        self: &Rc<Self>,
        th: Th,
        func: &str,
        args: Vec<(String, Value)>,
    ) -> Result<Value, Raised> {
        if let Some(sub) = self.workflow.subworkflow(func) {
            let sub = Rc::clone(sub);
            return self.call_sub(th, sub, args.into_iter().collect()).await;
        }
        let f = table::lookup(func)
            .ok_or_else(|| builtin(Tag::SystemError, format!("symbol '{func}' not found")))?;
        let mut named: BTreeMap<String, Value> = args.into_iter().collect();
        let positional: Vec<Option<Value>> = f.param_list().map(|(p, _)| named.remove(p)).collect();
        for ((p, required), v) in f.param_list().zip(&positional) {
            if required && v.is_none() {
                return Err(type_error(format!("{func} needs argument '{p}'")));
            }
        }
        match func {
            "events.await_callback" => self.await_callback(th, positional).await,
            "sys.sleep" => {
                let secs = match &positional[0] {
                    Some(Value::Int(i)) => *i as f64,
                    Some(Value::Double(d)) => *d,
                    other => {
                        return Err(type_error(format!(
                            "sys.sleep: seconds must be a number, got {}",
                            other.as_ref().map_or("nothing", Value::type_name)
                        )));
                    }
                };
                let d =
                    duration_from_secs(secs).map_err(|e| value_error(format!("sys.sleep: {e}")))?;
                let until = self.world.borrow().now().saturating_add(d);
                self.sleep_until(th, until).await
            }
            "sys.sleep_until" => {
                let text = match &positional[0] {
                    Some(Value::Str(s)) => s.to_string(),
                    other => {
                        return Err(type_error(format!(
                            "sys.sleep_until: time must be a string, got {}",
                            other.as_ref().map_or("nothing", Value::type_name)
                        )));
                    }
                };
                let target = crate::time::parse_rfc3339(&text).ok_or_else(|| {
                    value_error(format!("sys.sleep_until: '{text}' is not an RFC 3339 time"))
                })?;
                let until = {
                    let w = self.world.borrow();
                    let ahead = (target - w.now_unix_nanos()).max(0);
                    w.now().saturating_add(Duration::from_nanos(
                        u64::try_from(ahead).unwrap_or(u64::MAX),
                    ))
                };
                self.sleep_until(th, until).await
            }
            _ => {
                let mut w = self.world.borrow_mut();
                let v = stdlib::call(func, positional, &mut *w)?;
                limits::check_value(&format_args!("the result of {func}"), v)
            }
        }
    }

    async fn sleep_until(&self, th: Th, until: SimTime) -> Result<Value, Raised> {
        self.world.borrow_mut().sleep_until(th.tid, until);
        match self.suspend(th.tid).await {
            Wake::Timer => Ok(Value::Null),
            other => unreachable!("a sleep is woken by its timer, not {other:?}"),
        }
    }

    /// CB-3 … CB-7: `events.await_callback(callback, timeout)`.
    async fn await_callback(&self, th: Th, args: Vec<Option<Value>>) -> Result<Value, Raised> {
        let callback = args[0].clone().unwrap_or(Value::Null);
        let url = match callback.get("url") {
            Some(Value::Str(u)) => u.to_string(),
            _ => {
                return Err(type_error(
                    "events.await_callback: callback must be the map from events.create_callback_endpoint",
                ));
            }
        };
        let timeout = match args.get(1).cloned().flatten() {
            None => AWAIT_TIMEOUT_DEFAULT,
            Some(Value::Int(i)) => duration_from_secs(i as f64)
                .map_err(|e| value_error(format!("events.await_callback: {e}")))?,
            Some(Value::Double(d)) => duration_from_secs(d)
                .map_err(|e| value_error(format!("events.await_callback: {e}")))?,
            Some(other) => {
                return Err(type_error(format!(
                    "events.await_callback: timeout must be a number, got {}",
                    other.type_name()
                )));
            }
        };
        let outcome = {
            let mut w = self.world.borrow_mut();
            // CB-3: only this execution's endpoints.
            let endpoint = w.endpoint_by_url(&url).ok_or_else(|| {
                value_error(format!(
                    "events.await_callback: '{url}' is not an endpoint of this execution"
                ))
            })?;
            w.await_callback(th.tid, endpoint, timeout)
                .map_err(|e| builtin(Tag::SystemError, format!("{e:?}")))?
        };
        let received = match outcome {
            AwaitOutcome::Ready(r) => r,
            AwaitOutcome::Blocked(_) => match self.suspend(th.tid).await {
                Wake::Callback(Ok(r)) => r,
                Wake::Callback(Err(timeout)) => {
                    return Err(builtin(
                        Tag::TimeoutError,
                        format!(
                            "timed out waiting for callback after {}",
                            secs_text(timeout)
                        ),
                    ));
                }
                other => unreachable!("an await is woken by its callback, not {other:?}"),
            },
        };
        let clock = self.world.borrow().clock();
        Ok(received.to_value(clock))
    }

    fn assign(&self, frame: &Frame, target: &Target, value: Value) -> Result<(), Raised> {
        let what = format_args!("variable '{}'", target.root);
        if target.path.is_empty() {
            frame.set(&target.root, limits::check_value(&what, value)?);
            return Ok(());
        }
        let root = frame.get(&target.root).ok_or_else(|| {
            builtin(
                Tag::KeyError,
                format!("variable '{}' not found", target.root),
            )
        })?;
        let mut keys = Vec::with_capacity(target.path.len());
        for a in &target.path {
            keys.push(match a {
                Accessor::Field(f) => Value::str(f.as_str()),
                Accessor::Index(e) => expr::eval(
                    e,
                    &mut EvalCx {
                        frame,
                        world: &self.world,
                    },
                )?,
            });
        }
        let updated = set_in(root, &keys, value)?;
        frame.set(&target.root, limits::check_value(&what, updated)?);
        Ok(())
    }
}

/// `container` with the element at `keys` replaced by `value`.
fn set_in(container: Value, keys: &[Value], value: Value) -> Result<Value, Raised> {
    let Some((key, rest)) = keys.split_first() else {
        return Ok(value);
    };
    match (container, key) {
        (Value::Map(mut m), Value::Str(k)) => {
            let map = Rc::make_mut(&mut m);
            let inner = if rest.is_empty() {
                value
            } else {
                let current = map
                    .remove(k)
                    .ok_or_else(|| builtin(Tag::KeyError, format!("key '{k}' not found")))?;
                set_in(current, rest, value)?
            };
            map.insert(k.to_string(), inner);
            Ok(Value::Map(m))
        }
        (Value::List(mut l), Value::Int(i)) => {
            let list = Rc::make_mut(&mut l);
            let len = list.len();
            let slot = usize::try_from(*i)
                .ok()
                .filter(|&i| i < len)
                .ok_or_else(|| {
                    builtin(
                        Tag::IndexError,
                        format!("list index {i} out of range (length {len})"),
                    )
                })?;
            let current = list.set(slot, Value::Null);
            list.set(slot, set_in(current, rest, value)?);
            Ok(Value::List(l))
        }
        (c, k) => Err(type_error(format!(
            "cannot assign into a {} with a {} key",
            c.type_name(),
            k.type_name()
        ))),
    }
}

fn jump(next: &Next) -> Flow {
    match next {
        Next::Step(name, _) => Flow::Goto(name.clone()),
        Next::End => Flow::End,
        Next::Break => Flow::Break,
        Next::Continue => Flow::Continue,
    }
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Double(d) => *d,
        _ => f64::NAN,
    }
}

/// A branch to start: its name, its steps, and the loop variables it begins with.
type BranchStart = (String, Block, Vec<(String, Value)>);

enum PredicateFn {
    Sub(String),
    Builtin(String),
}

/// RT-2: the delay before retry k is `min(initial_delay × multiplier^(k−1), max_delay)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackoffPolicy {
    pub initial_delay: f64,
    pub max_delay: f64,
    pub multiplier: f64,
}

impl BackoffPolicy {
    /// RT-1: `retry.default_backoff`.
    pub const DEFAULT: BackoffPolicy = BackoffPolicy {
        initial_delay: 1.0,
        max_delay: 60.0,
        multiplier: 1.25,
    };

    /// The delay before retry `k` (1-based).
    pub fn delay(&self, k: u32) -> Duration {
        let exp = i32::try_from(k.saturating_sub(1)).unwrap_or(i32::MAX);
        let secs = (self.initial_delay * self.multiplier.powi(exp)).min(self.max_delay);
        duration_from_secs(secs).unwrap_or(Duration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rt_2_backoff_delays() {
        let guide = BackoffPolicy {
            initial_delay: 1.0,
            max_delay: 10.0,
            multiplier: 2.0,
        };
        let delays: Vec<u64> = (1..=5).map(|k| guide.delay(k).as_secs()).collect();
        assert_eq!(delays, vec![1, 2, 4, 8, 10]);
        assert_eq!(BackoffPolicy::DEFAULT.delay(2), Duration::from_millis(1250));
        assert_eq!(BackoffPolicy::DEFAULT.delay(100), Duration::from_secs(60));
    }

    #[test]
    fn cb_6_timeout_message() {
        assert_eq!(secs_text(Duration::from_secs(60)), "60s");
        assert_eq!(secs_text(Duration::from_millis(500)), "0.5s");
    }
}
