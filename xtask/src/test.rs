//! `cargo xtask test`: every test of the workspace, xtask's tidy checks included.
//!
//! The madsim build (`--cfg madsim`, in its own target dir) joins here when the simulation
//! crate exists.

pub fn run() -> Result<(), String> {
    crate::cargo(&["test", "--workspace", "--locked"], &[])
}
