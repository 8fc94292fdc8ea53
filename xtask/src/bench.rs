//! `cargo xtask bench`: benchmark figures, built with optimizations and printed.

pub fn run() -> Result<(), String> {
    crate::cargo_run_release("bench", &[])?;
    crate::cargo(
        &[
            "run",
            "--release",
            "--locked",
            "--quiet",
            "--package",
            "wfsim-explore",
            "--bin",
            "explore-bench",
        ],
        &[],
    )?;
    // The live-mode benchmark is the server's own (`server/benches/live.rs`), so the
    // conformance crate does not depend on the server.
    crate::cargo(
        &[
            "bench",
            "--locked",
            "--quiet",
            "--package",
            "wfsim-server",
            "--bench",
            "live",
        ],
        &[],
    )?;
    crate::sim_run_release(&[
        "--bench".to_owned(),
        "--seeds".to_owned(),
        "1000".to_owned(),
    ])?;
    // `wfsim explore --system`: the explore rows again, through the server on the world.
    crate::sim_bin_release("explore-system", &["--bench".to_owned(), "2000".to_owned()])
}
