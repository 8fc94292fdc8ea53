//! `cargo xtask conformance`: the spec-model checks, built with optimizations (they run
//! tens of millions of steps), with the report of the `wfsim-conformance` binary.

pub fn run(args: &[String]) -> Result<(), String> {
    crate::cargo_run_release("wfsim-conformance", args)
}
