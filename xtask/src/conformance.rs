//! `cargo xtask conformance`: the spec-model checks, built with optimizations (they run
//! tens of millions of steps), with the report of the `wfsim-conformance` binary.

pub fn run(args: &[String]) -> Result<(), String> {
    let mut cargo_args = vec![
        "run",
        "--release",
        "--locked",
        "--quiet",
        "--package",
        "wfsim-conformance",
        "--",
    ];
    cargo_args.extend(args.iter().map(String::as_str));
    crate::cargo(&cargo_args, &[])
}
