//! `cargo xtask bench`'s engine-level explore rows: seeds per second on the guide's
//! approval workflow with 3 senders (`fixtures/explore/approval.yaml`), with `--jobs 1` and
//! `--jobs 2` ([`wfsim_explore::bench`]). Printed, never asserted. The system-level row is
//! `explore-system --bench` (madsim build).

/// The allocator `wfsim` runs with (`cli/src/main.rs`), so these figures are its.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::Path;

use wfsim_explore::EngineLevel;

fn main() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/explore/approval.yaml");
    if let Err(e) = wfsim_explore::bench::rows("engine level", &EngineLevel, &path, 20_000, 5) {
        eprintln!("{e}");
        std::process::exit(2);
    }
}
