//! Every reproducer in `fixtures/fuzz-regressions/` must pass: `cargo xtask test` fails
//! while any still fails. Each runs in a worker process, as in a fuzzing run, so a stack
//! overflow or a memory blow-up fails this test instead of killing the test binary.

use std::path::Path;
use std::time::Duration;

use wfsim_fuzz::campaign;
use wfsim_fuzz::regress;
use wfsim_fuzz::supervisor::{Verdict, Worker};

/// Five times the fuzzer's budget, for a debug build. A saved hang took at least twice the
/// fuzzer's budget in its optimised build and is no faster here; where its hot loop is in
/// the (optimised) standard library, it may take as little as that, so a hang just over
/// 10 s in the fuzz build is the smallest this test is sure to catch: `cargo xtask fuzz`
/// replays with the real budget.
const BUDGET: Duration = Duration::from_secs(10);

#[test]
fn every_reproducer_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let files = regress::list(&root.join(regress::DIR)).unwrap();
    let mut worker = Worker::new(env!("CARGO_BIN_EXE_wfsim-fuzz").as_ref());
    let mut failing = Vec::new();
    for path in &files {
        let name = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        match campaign::replay(&mut worker, path, BUDGET) {
            Ok((_, Verdict::Pass(_))) => {}
            Ok((_, Verdict::Fail(f))) => failing.push(format!(
                "{name}: {f}\n  replay: cargo xtask fuzz --replay {name}"
            )),
            Ok((_, Verdict::Invalid(why))) => failing.push(format!("{name}: cannot be run: {why}")),
            Err(e) => failing.push(format!("{name}: {e}")),
        }
    }
    assert!(
        failing.is_empty(),
        "{} of {} reproducers still fail:\n{}",
        failing.len(),
        files.len(),
        failing.join("\n")
    );
}
