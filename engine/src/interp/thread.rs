//! A workflow thread as the rest of the interpreter names it: its id, its future, and why it
//! resumes. A leaf, so the shared state, the scheduler and the steps can all use it.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::unwind::Unwind;
use crate::http::HttpOutcome;
use crate::request::Received;

/// A thread's future (or any step's), boxed: steps recurse, and the executor holds threads
/// of one type.
pub(super) type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A thread of the workflow: main is 0, branches count up in the order they start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ThreadId(pub u64);

/// Why a thread resumes.
#[derive(Debug)]
pub(super) enum Wake {
    Callback(Result<Received, Duration>),
    Timer,
    Yield,
    Child(ThreadId, Result<(), Unwind>),
    /// An outbound call's answer, or `Err` when its timeout passed first.
    Http(Result<HttpOutcome, ()>),
}
