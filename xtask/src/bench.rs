//! `cargo xtask bench`: benchmark figures, built with optimizations and printed.

pub fn run() -> Result<(), String> {
    crate::cargo(
        &[
            "run",
            "--release",
            "--locked",
            "--quiet",
            "--package",
            "wfsim-conformance",
            "--bin",
            "bench",
        ],
        &[],
    )
}
