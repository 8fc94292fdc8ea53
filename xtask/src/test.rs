//! `cargo xtask test`: every test of the workspace, xtask's tidy checks included, Google's
//! Rust clients against live mode, then the
//! madsim build's tests (`--cfg madsim`, in its own target dir so the two builds do not
//! evict each other's artifacts).

pub fn run() -> Result<(), String> {
    crate::cargo(&["test", "--workspace", "--locked"], &[])?;
    // Google's own Rust crates against `wfsim serve` (live mode's judges): a feature of their
    // own, so the workspace build above does not compile them into every member.
    crate::cargo(
        &[
            "test",
            "--locked",
            "--package",
            "wfsim-client-tests",
            "--features",
            "google-clients",
            "--test",
            "google",
        ],
        &[],
    )?;
    let sim_dir = crate::project_root().join("target/sim");
    let sim_dir = sim_dir.to_string_lossy();
    crate::cargo(
        &["test", "--locked", "--package", "wfsim-sim"],
        &[
            ("RUSTFLAGS", "--cfg madsim"),
            ("CARGO_TARGET_DIR", &sim_dir),
        ],
    )
}
