//! The interpreter: blocks, steps and their actions, subworkflow calls, loops and
//! assignment, written as ordinary (boxed, recursive) async functions that suspend only
//! where the workflow blocks. Retries (`retry.rs`), parallel steps (`parallel.rs`) and call
//! steps with the calls that suspend (`blocking.rs`) are `impl Interp` blocks of their own.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::entries::{Kind, NO_ENTRY};
use super::frame::{Frame, Slot};
use super::scheduler::Suspend;
use super::shared::Shared;
use super::thread::{BoxFut, ThreadId};
use super::unwind::Unwind;
use crate::defn::{
    Accessor, Action, Block, Call, For, ForSource, MapKey, Next, Place, Step, Subworkflow, Tmpl,
    Workflow,
};
use crate::error::{Raised, Tag, builtin};
use crate::expr::{self, Context};
use crate::limits::CALL_DEPTH_MAX;
use crate::stdlib;
use crate::value::Value;

use crate::limits;

/// How a block of steps ended.
#[derive(Debug)]
pub(super) enum Flow {
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
pub(super) struct Th {
    pub(super) tid: ThreadId,
    /// Calls deep, at most [`CALL_DEPTH_MAX`]; `u16`s keep `Th` two words with `entry`.
    pub(super) depth: u16,
    /// How many parallel steps enclose this thread.
    pub(super) parallel_depth: u16,
    /// The step entry the thread's steps run inside (EX-8): [`NO_ENTRY`] at main's top
    /// level, and while nothing is recorded.
    pub(super) entry: u32,
}

pub(super) struct Interp {
    pub(super) workflow: Rc<Workflow>,
    pub(super) shared: Rc<RefCell<Shared>>,
    /// Whether step entries are kept (EX-8): read here, beside the workflow, so that an
    /// execution that keeps none skips their code without reaching into the shared state.
    pub(super) entries: bool,
}

pub(super) fn type_error(msg: impl Into<String>) -> Raised {
    builtin(Tag::TypeError, msg)
}

pub(super) fn value_error(msg: impl Into<String>) -> Raised {
    builtin(Tag::ValueError, msg)
}

/// What an expression sees: the frame's variables and the library.
struct EvalCx<'a> {
    frame: &'a Frame,
    shared: &'a RefCell<Shared>,
}

impl Context for EvalCx<'_> {
    fn var(&self, name: &str) -> Option<Value> {
        self.frame.get(name)
    }
    fn call(&mut self, name: &str, args: Vec<Value>) -> Result<Value, Raised> {
        let mut w = self.shared.borrow_mut();
        let v = stdlib::call(name, args.into_iter().map(Some).collect(), &mut *w)?;
        limits::check_value(&format_args!("the result of {name}"), v)
    }
    fn concat(&mut self, bytes: usize) -> Result<(), Raised> {
        self.shared.borrow_mut().count_concat(bytes)
    }
}

impl Interp {
    /// The value of `t`, within the value limits ([`limits::check_value`]).
    pub(super) fn eval(&self, frame: &Frame, t: &Tmpl) -> Result<Value, Raised> {
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
                    shared: &self.shared,
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
                    let key = match k {
                        MapKey::Lit(k) => k.clone(),
                        MapKey::Expr(e, pos) => {
                            match self.eval_unchecked(frame, &Tmpl::Expr(Rc::clone(e), *pos))? {
                                Value::Str(s) => s.to_string(),
                                other => {
                                    return Err(builtin(
                                        Tag::TypeError,
                                        format!(
                                            "a map key must be a string, got {}",
                                            other.a_type()
                                        ),
                                    ));
                                }
                            }
                        }
                    };
                    out.push((key, self.eval(frame, v)?));
                }
                Ok(Value::map(out))
            }
        }
    }

    pub(super) fn suspend(&self, tid: ThreadId) -> Suspend<'_> {
        Suspend {
            shared: &self.shared,
            tid,
        }
    }

    /// Runs `main` with the execution argument; the result or error ends the execution.
    pub(super) async fn run_main(
        self: &Rc<Self>,
        argument: Option<Value>,
    ) -> Result<Value, Unwind> {
        let main = Rc::clone(&self.workflow.main);
        let mut args = BTreeMap::new();
        if let Some(p) = main.params.first() {
            args.insert(p.name.clone(), argument.unwrap_or(Value::Null));
        }
        let th = Th {
            tid: ThreadId(0),
            depth: 0,
            parallel_depth: 0,
            entry: NO_ENTRY,
        };
        self.call_sub(th, main, args).await
    }

    pub(super) fn call_sub<'a>(
        self: &'a Rc<Self>,
        th: Th,
        sub: Rc<Subworkflow>,
        mut args: BTreeMap<String, Value>,
    ) -> BoxFut<'a, Result<Value, Unwind>> {
        Box::pin(async move {
            if u32::from(th.depth) >= CALL_DEPTH_MAX {
                return Err(builtin(
                    Tag::RecursionError,
                    format!(
                        "maximum call depth of {CALL_DEPTH_MAX} exceeded calling '{}'",
                        sub.name
                    ),
                )
                .into());
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
                        ))
                        .into());
                    }
                }
            }
            if let Some(extra) = args.keys().next() {
                return Err(type_error(format!(
                    "subworkflow '{}' has no parameter '{extra}'",
                    sub.name
                ))
                .into());
            }
            let frame = Frame::new(vars);
            let inner = Th {
                depth: th.depth + 1,
                ..th
            };
            self.shared
                .borrow_mut()
                .enter_routine(th.tid, Rc::clone(&sub));
            let ran = self.run_block(inner, &frame, &sub.steps).await;
            // Main's entry stays: where the execution ended (`Execution::current_steps`).
            if th.depth > 0 {
                self.shared.borrow_mut().leave_routine(th.tid);
            }
            let flow = ran.map_err(|f| f.leaving_routine(&sub.name))?;
            match flow {
                Flow::Return(v) => Ok(v),
                Flow::Next | Flow::End => Ok(Value::Null),
                Flow::Break | Flow::Continue => Err(builtin(
                    Tag::SystemError,
                    "'next: break' or 'next: continue' outside a for loop",
                )
                .into()),
                Flow::Goto(name) => Err(builtin(
                    Tag::SystemError,
                    format!("'next: {name}' names no reachable step"),
                )
                .into()),
            }
        })
    }

    /// A block's steps in order, following jumps. Not boxed: a loop runs its body once per
    /// value, and each call would otherwise allocate a future; the recursion (a step whose
    /// action holds a block) goes through `run_action`'s box.
    pub(super) async fn run_block(
        self: &Rc<Self>,
        th: Th,
        frame: &Rc<Frame>,
        block: &Block,
    ) -> Result<Flow, Unwind> {
        let mut i = 0;
        while i < block.len() {
            let step = &block[i];
            {
                let mut w = self.shared.borrow_mut();
                if let Err(e) = w.count_step() {
                    return Err(Unwind::from(e).leaving_step(step));
                }
                w.cover(step.cover);
                w.at_step(th.tid, step.cover);
            }
            let ran = if self.entries {
                self.run_step_recorded(th, frame, step).await
            } else {
                if th.parallel_depth > 0 {
                    self.yield_now(th).await;
                }
                // An assignment never suspends: run here, it needs no boxed future of its
                // own (the commonest step of a loop).
                match &step.action {
                    Action::Assign(items) => self.run_assign(frame, items).map_err(Unwind::from),
                    Action::Call(call) => self.run_call(th, frame, call).await,
                    action => self.run_action(th, frame, action).await,
                }
            };
            let mut flow = match ran {
                Ok(flow) => flow,
                Err(f) => return Err(f.leaving_step(step)),
            };
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
    }

    /// A step of `run_block` as an entry of its own (EX-8): begun before the step yields
    /// or runs, ended as it ends. Apart from the loop, so that an execution that keeps no
    /// entries runs a step without carrying an entry through it: with the entry in the
    /// loop, `assign` steps ran about 7% slower though nothing was recorded (issue #22).
    async fn run_step_recorded(
        self: &Rc<Self>,
        th: Th,
        frame: &Rc<Frame>,
        step: &Step,
    ) -> Result<Flow, Unwind> {
        let entry = self.begin_entry(th, step.cover, Kind::Step, 0, 0, frame);
        if th.parallel_depth > 0 {
            self.yield_now(th).await;
        }
        let ran = match &step.action {
            Action::Assign(items) => self.run_assign(frame, items).map_err(Unwind::from),
            Action::Call(call) => self.run_call(Th { entry, ..th }, frame, call).await,
            action => self.run_action(Th { entry, ..th }, frame, action).await,
        };
        if entry != NO_ENTRY {
            self.end_entry(entry, frame, &ran);
        }
        ran
    }

    /// A `call` step. Not boxed: a library call recurses into no step, so `run_block`
    /// runs it in its own future (see there); a subworkflow's steps run in `call_sub`'s.
    async fn run_call(
        self: &Rc<Self>,
        th: Th,
        frame: &Rc<Frame>,
        call: &Call,
    ) -> Result<Flow, Unwind> {
        let v = match self.workflow.subworkflow(&call.func) {
            Some(sub) => {
                let sub = Rc::clone(sub);
                let mut args = BTreeMap::new();
                for (k, v) in &call.args {
                    args.insert(k.clone(), self.eval(frame, v)?);
                }
                self.call_sub(th, sub, args).await?
            }
            None => self.call(th, frame, &call.func, &call.args).await?,
        };
        if let Some(r) = &call.result {
            frame.set(r, v);
        }
        Ok(Flow::Next)
    }

    pub(super) fn run_action<'a>(
        self: &'a Rc<Self>,
        th: Th,
        frame: &'a Rc<Frame>,
        action: &'a Action,
    ) -> BoxFut<'a, Result<Flow, Unwind>> {
        Box::pin(async move {
            match action {
                Action::Nothing => Ok(Flow::Next),
                Action::Assign(items) => Ok(self.run_assign(frame, items)?),
                Action::Call(call) => self.run_call(th, frame, call).await,
                Action::Switch(cases) => {
                    for (k, case) in cases.iter().enumerate() {
                        let hit = match self.eval(frame, &case.condition)? {
                            Value::Bool(b) => b,
                            other => {
                                return Err(type_error(format!(
                                    "a switch condition must be a boolean, got {}",
                                    other.a_type()
                                ))
                                .into());
                            }
                        };
                        if hit {
                            // EX-8: the case that held is an entry of its own.
                            let entry = {
                                let mut w = self.shared.borrow_mut();
                                w.cover(case.cover);
                                let step = w.entry_cover(th.entry);
                                let number = k as u32 + 1;
                                let kind = Kind::Condition;
                                w.begin_entry(th.tid, th.entry, step, kind, number, 0, frame)
                            };
                            let ran = self
                                .run_action(Th { entry, ..th }, frame, &case.action)
                                .await;
                            self.end_entry(entry, frame, &ran);
                            let flow = ran?;
                            return Ok(match (&flow, &case.next) {
                                (Flow::Next, Some(next)) => jump(next),
                                _ => flow,
                            });
                        }
                    }
                    Ok(Flow::Next)
                }
                Action::Return(v) => Ok(Flow::Return(self.eval(frame, v)?)),
                Action::Raise(v) => Err(self.eval(frame, v)?.into()),
                Action::Steps(block) => self.run_block(th, frame, block).await,
                Action::Try(t) => {
                    let res = self
                        .run_retrying(th, frame, &t.body, t.retry.as_ref(), t.retry_cover)
                        .await;
                    match (res, &t.except) {
                        (Ok(flow), _) => Ok(flow),
                        (Err(e), Some(except)) => {
                            let entry = {
                                let mut w = self.shared.borrow_mut();
                                w.cover(except.cover);
                                let step = w.entry_cover(th.entry);
                                w.begin_entry(th.tid, th.entry, step, Kind::Except, 0, 0, frame)
                            };
                            if let Some(var) = &except.var {
                                frame.set(var, e.into_error());
                            }
                            let ran = self
                                .run_block(Th { entry, ..th }, frame, &except.steps)
                                .await;
                            self.end_entry(entry, frame, &ran);
                            ran
                        }
                        (Err(e), None) => Err(e),
                    }
                }
                Action::For(f) => self.run_for(th, frame, f).await,
                Action::Parallel(p) => self.run_parallel(th, frame, p).await,
            }
        })
    }

    /// Thread `th` begins an entry of step `cover` under its own (EX-8). Out of line and
    /// cold, as [`Interp::end_entry`]'s work is: inlined, the recording (which only an
    /// execution that keeps entries runs) made the loop of `run_block` and `run_for`
    /// larger and about 7% slower (issue #22) though it ran none of it.
    #[cold]
    #[inline(never)]
    fn begin_entry(
        &self,
        th: Th,
        cover: u32,
        kind: Kind,
        progress: u32,
        expected: u32,
        frame: &Frame,
    ) -> u32 {
        let mut w = self.shared.borrow_mut();
        w.begin_entry(th.tid, th.entry, cover, kind, progress, expected, frame)
    }

    /// Entry `entry` ended as `ran` did, its steps having run in `frame` (EX-8); nothing
    /// when it is [`NO_ENTRY`].
    pub(super) fn end_entry<T>(&self, entry: u32, frame: &Frame, ran: &Result<T, Unwind>) {
        self.finish_entry(entry, ran.as_ref().err().map(Unwind::error), frame);
    }

    /// [`Interp::end_entry`]'s work, out of line (see [`Interp::begin_entry`]).
    #[cold]
    #[inline(never)]
    fn finish_entry(&self, entry: u32, error: Option<&Value>, frame: &Frame) {
        self.shared.borrow_mut().finish_entry(entry, error, frame);
    }

    /// An `assign` step's assignments, in order.
    fn run_assign(&self, frame: &Frame, items: &[(Place, Tmpl)]) -> Result<Flow, Raised> {
        for (target, value) in items {
            let v = self.eval(frame, value)?;
            self.assign(frame, target, v)?;
        }
        Ok(Flow::Next)
    }

    async fn run_for(self: &Rc<Self>, th: Th, frame: &Rc<Frame>, f: &For) -> Result<Flow, Unwind> {
        let values = self.for_values(frame, &f.source)?;
        let scope = frame.scope();
        let mut result = Ok(Flow::Next);
        let (n, step) = (
            values.len() as u32,
            self.shared.borrow().entry_cover(th.entry),
        );
        // The value and index are set by name once, then where they are kept: every
        // iteration sets them, and no iteration can move them (`Frame::set_at`).
        let (mut value_slot, mut index_slot) = (None, None);
        for (i, v) in values.into_iter().enumerate() {
            set_loop_var(frame, &f.value, &mut value_slot, v);
            if let Some(index) = &f.index {
                set_loop_var(frame, index, &mut index_slot, Value::Int(i as i64));
            }
            let entry = if self.entries {
                self.begin_entry(th, step, Kind::ForIteration, i as u32 + 1, n, frame)
            } else {
                NO_ENTRY
            };
            let ran = self.run_block(Th { entry, ..th }, frame, &f.steps).await;
            if entry != NO_ENTRY {
                self.end_entry(entry, frame, &ran);
            }
            match ran {
                Ok(Flow::Next | Flow::Continue) => {}
                Ok(Flow::Break) => break,
                other => {
                    result = other;
                    break;
                }
            }
        }
        // Variables made inside the loop, its value and index among them, end with it.
        frame.end_scope(scope);
        result
    }

    pub(super) fn for_values(
        &self,
        frame: &Frame,
        source: &ForSource,
    ) -> Result<Vec<Value>, Raised> {
        match source {
            ForSource::In(t) => match self.eval(frame, t)? {
                Value::List(items) => Ok(items.to_vec()),
                other => Err(type_error(format!(
                    "'for ... in' needs a list, got {}",
                    other.a_type()
                ))),
            },
            ForSource::Range(a, b) => range_values(self.eval(frame, a)?, self.eval(frame, b)?),
            ForSource::RangeOf(t) => match self.eval(frame, t)? {
                Value::List(ends) if ends.len() == 2 => {
                    range_values(ends[0].clone(), ends[1].clone())
                }
                Value::List(ends) => Err(value_error(format!(
                    "'range' needs a list of two numbers, [from, to]; got a list of {}",
                    ends.len()
                ))),
                other => Err(type_error(format!(
                    "'range' needs a list of two numbers, [from, to]; got {}",
                    other.a_type()
                ))),
            },
        }
    }

    fn assign(&self, frame: &Frame, target: &Place, value: Value) -> Result<(), Raised> {
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
                        shared: &self.shared,
                    },
                )?,
            });
        }
        let updated = set_in(root, &keys, value)?;
        frame.set(&target.root, limits::check_value(&what, updated)?);
        Ok(())
    }
}

/// Sets loop variable `name` to `v`: at `slot` once known, else by name, learning it.
fn set_loop_var(frame: &Frame, name: &str, slot: &mut Option<Slot>, v: Value) {
    match *slot {
        Some(s) => frame.set_at(s, v),
        None => {
            frame.set(name, v);
            *slot = frame.slot(name);
        }
    }
}

/// The values of `range: [a, b]`: integers when both ends are, else doubles; both ends
/// inclusive; the span within [`limits::RANGE_SPAN_MAX`].
fn range_values(a: Value, b: Value) -> Result<Vec<Value>, Raised> {
    match (a, b) {
        (Value::Int(a), Value::Int(b)) => {
            range_within_limit(b as f64 - a as f64)?;
            Ok((a..=b).map(Value::Int).collect())
        }
        (a @ (Value::Int(_) | Value::Double(_)), b @ (Value::Int(_) | Value::Double(_))) => {
            let (x, y) = (num(&a), num(&b));
            range_within_limit(y - x)?;
            let n = if x <= y {
                (y - x).floor() as u64 + 1
            } else {
                0
            };
            Ok((0..n).map(|k| Value::Double(x + k as f64)).collect())
        }
        (a, b) => Err(type_error(format!(
            "'range' needs two numbers, got {} and {}",
            a.a_type(),
            b.a_type()
        ))),
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
            "cannot assign into {} with {} key",
            c.a_type(),
            k.a_type()
        ))),
    }
}

fn jump(next: &Next) -> Flow {
    match next {
        Next::Step(name, _) => Flow::Goto(name.clone()),
        Next::End => Flow::End,
        Next::Break(_) => Flow::Break,
        Next::Continue(_) => Flow::Continue,
    }
}

/// A range spanning `span` (its last value less its first) yields `span + 1` values, each
/// needing a step: one longer than the step limit could never finish, and is refused before
/// its values are made ([`limits::RANGE_SPAN_MAX`]).
fn range_within_limit(span: f64) -> Result<(), Raised> {
    if span > limits::RANGE_SPAN_MAX as f64 {
        return Err(builtin(
            Tag::ResourceLimitError,
            format!(
                "the range spans {span} > {}: more values than the step limit allows",
                limits::RANGE_SPAN_MAX
            ),
        ));
    }
    Ok(())
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Double(d) => *d,
        _ => f64::NAN,
    }
}
