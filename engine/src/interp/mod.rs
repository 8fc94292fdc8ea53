//! Executions: a workflow run under simulated time, driven sans I/O.
//!
//! Each thread of the workflow (main, and every parallel branch) is a Rust future that the
//! [`Execution`] polls by hand; no async runtime is involved. A thread runs until it
//! blocks (an await, a sleep, a retry back-off, a join, a yield between branch steps) and
//! says what it waits for in the state the threads share (`Shared`). The host's inputs resolve those waits;
//! the seeded scheduler then picks which runnable thread goes next (CB-12).
//!
//! By job: `execution.rs` is the API hosts drive; `shared.rs` what the threads share and
//! what each wait records; `scheduler.rs` the executor; `thread.rs` and `trace.rs` the
//! names they share; `run.rs`, `retry.rs`, `parallel.rs` and `blocking.rs` the interpreter
//! proper, one `Interp` in `impl` blocks by concern.

mod blocking;
mod entries;
mod execution;
mod frame;
mod parallel;
mod retry;
mod run;
mod runqueue;
mod scheduler;
mod shared;
mod thread;
mod trace;
mod unwind;

pub use entries::{
    EntryState, ProgressType, STEP_ENTRIES_MAX, STEP_VARIABLES_BYTES_MAX, StepEntry, StepType,
};
pub use execution::{Execution, ExecutionConfig, Livelock, Outcome, SIMULATED_REVISION_ID};
pub use frame::Frame;
pub use thread::ThreadId;
pub use trace::{LogEntry, Trace};

pub use crate::limits::{CALL_DEPTH_MAX, EXECUTION_SECS_MAX, STEPS_MAX};
