//! `cargo xtask bench`: benchmark figures, built with optimizations and printed.

pub fn run() -> Result<(), String> {
    crate::cargo_run_release("bench", &[])?;
    crate::cargo_run_release("bench_live", &[])?;
    crate::sim_run_release(&[
        "--bench".to_owned(),
        "--seeds".to_owned(),
        "1000".to_owned(),
    ])
}
