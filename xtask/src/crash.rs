//! `cargo xtask crash --points N [--seed S]`: the crash-point test of `wfsim serve
//! --state-dir` (`cli/tests/crash.rs`) with more kill points than `cargo xtask test` runs.

pub fn run(points: u64, seed: u64) -> Result<(), String> {
    let (points, seed) = (points.to_string(), seed.to_string());
    crate::cargo(
        &[
            "test",
            "--locked",
            "--package",
            "wfsim-cli",
            "--test",
            "crash",
            "--",
            "--nocapture",
        ],
        &[("WFSIM_CRASH_POINTS", &points), ("WFSIM_CRASH_SEED", &seed)],
    )
}
