//! `cargo xtask bench`: benchmark figures, built with optimizations and printed.

pub fn run() -> Result<(), String> {
    crate::cargo_run_release("bench", &[])?;
    crate::cargo_run_release("bench_live", &[])
}
