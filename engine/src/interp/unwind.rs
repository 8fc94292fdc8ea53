//! An error unwinding through the interpreter, gathering where it happened on the way out.
//!
//! The library and expressions raise plain values ([`Raised`]); the interpreter turns one
//! into a [`Unwind`] with `?` and adds a stack element as it leaves a step. The happy path
//! pays nothing: a `Unwind` is one pointer, allocated only when something is raised.
//!
//! The stack is built innermost first. Leaving a step records it unless a step of the same
//! routine already was (the innermost one wins); leaving a routine names the routine of the
//! elements recorded inside it and lets its caller's step be recorded next. A parallel
//! branch runs in the routine of its parallel step, so its elements are named when that
//! routine is left.

use crate::defn::Step;
use crate::error::{Failure, Raised, StackElement};
use crate::value::Value;

#[derive(Debug)]
pub(super) struct Unwind(Box<Inner>);

#[derive(Debug)]
struct Inner {
    error: Raised,
    stack: Vec<StackElement>,
    /// Elements from this index on have no routine yet: they were recorded in the routine
    /// being left.
    named: usize,
    /// No step of the current routine is recorded yet.
    open: bool,
}

impl From<Raised> for Unwind {
    fn from(error: Raised) -> Unwind {
        Unwind(Box::new(Inner {
            error,
            stack: Vec::new(),
            named: 0,
            open: true,
        }))
    }
}

impl Unwind {
    /// `error`, raised where `cause` was: a parallel step's `UnhandledBranchError` is raised
    /// where its first failed branch failed, then unwinds from the parallel step.
    pub(super) fn raised_from(error: Raised, cause: Unwind) -> Unwind {
        let mut inner = cause.0;
        inner.error = error;
        inner.open = true;
        Unwind(inner)
    }

    pub(super) fn error(&self) -> &Value {
        &self.0.error
    }

    pub(super) fn into_error(self) -> Raised {
        self.0.error
    }

    /// The error leaves `step`: recorded if it is the innermost step of its routine so far.
    pub(super) fn leaving_step(mut self, step: &Step) -> Unwind {
        if self.0.open {
            self.0.open = false;
            self.0.stack.push(StackElement {
                step: step.name.clone(),
                routine: String::new(),
                pos: step.pos,
            });
        }
        self
    }

    /// The error leaves routine `name` (main or a subworkflow): the elements recorded in it
    /// are named, and the caller's step is recorded next.
    pub(super) fn leaving_routine(mut self, name: &str) -> Unwind {
        let inner = &mut *self.0;
        for e in &mut inner.stack[inner.named..] {
            e.routine = name.to_owned();
        }
        inner.named = inner.stack.len();
        inner.open = true;
        self
    }

    pub(super) fn into_failure(self) -> Failure {
        Failure {
            error: self.0.error,
            stack: self.0.stack,
        }
    }
}
