//! The `wfsim-fuzz` binary. `wfsim-fuzz worker` is the process that runs inputs for a
//! parent.

use std::process::ExitCode;

use wfsim_fuzz::budget::Budgeted;
use wfsim_fuzz::worker;

/// Counts live heap bytes; a worker sets a limit on it (see `budget.rs`).
#[global_allocator]
static ALLOC: Budgeted = Budgeted::new();

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("worker") {
        eprintln!("usage: wfsim-fuzz worker");
        return ExitCode::from(2);
    }
    ALLOC.set_limit(worker::MEMORY_BUDGET);
    match worker::serve() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wfsim-fuzz worker: {e}");
            ExitCode::from(3)
        }
    }
}
