//! `cargo xtask fuzz`: builds the fuzzer (`wfsim-fuzz`) optimised, with overflow checks
//! and debug assertions (the `fuzz` profile), and runs it. It exits 1 when an input failed.

use crate::flags::FuzzArgs;

pub fn run(args: &FuzzArgs) -> Result<(), String> {
    let mut args = args.to_args();
    // Cargo runs the fuzzer from the project root: a reproducer named from elsewhere is
    // resolved against where the command was typed.
    if let Some(i) = args.iter().position(|a| a == "--replay") {
        let file = std::path::Path::new(&args[i + 1]);
        if file.is_relative() {
            let cwd = std::env::current_dir().map_err(|e| format!("no current directory: {e}"))?;
            args[i + 1] = cwd.join(file).to_string_lossy().into_owned();
        }
    }
    let mut cargo_args = vec!["run", "--profile", "fuzz", "--locked", "--quiet"];
    cargo_args.extend(["--package", "wfsim-fuzz", "--bin", "wfsim-fuzz", "--"]);
    cargo_args.extend(args.iter().map(String::as_str));
    crate::cargo(&cargo_args, &[])
}
