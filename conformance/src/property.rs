//! Model-based property checking: proptest generates op sequences, the checker runs each
//! against engine and model, and a failure is shrunk to a few ops.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};

use proptest::test_runner::{
    Config, FileFailurePersistence, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};

use crate::check::{Checker, Tally, Violation};
use crate::ops::{Op, sequence};
use crate::rules::Rule;

/// Failing cases found by any run are saved here and replayed first by every later run,
/// `cargo xtask conformance` and `cargo test` alike. Commit new lines: they are regressions.
pub const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/slots.txt"
);

#[derive(Clone, Copy, Debug)]
pub struct PropertyConfig {
    pub cases: u32,
    pub seed: u64,
    /// Ops per sequence, at most.
    pub len_max: usize,
}

#[derive(Debug)]
pub struct PropertyOutcome {
    pub cases: u32,
    /// Ops run in passing sequences.
    pub steps: u64,
    pub tally: Tally,
    pub failure: Option<Failure>,
}

/// A shrunk failing sequence and what it broke.
#[derive(Debug)]
pub struct Failure {
    pub ops: Vec<Op>,
    pub violation: Violation,
}

/// Runs `ops` through the checker; an engine assertion (a panic) becomes a violation too.
pub fn check(seed: u64, ops: &[Op]) -> Result<Tally, Violation> {
    match panic::catch_unwind(AssertUnwindSafe(|| Checker::run(seed, ops))) {
        Ok(res) => res,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into());
            Err(Violation {
                rule: Rule::Invariant,
                step: ops.len(),
                detail: format!("the engine panicked: {msg}"),
            })
        }
    }
}

pub fn run(config: PropertyConfig) -> PropertyOutcome {
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&config.seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes);
    let runner_config = Config {
        cases: config.cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
        max_shrink_iters: 100_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(runner_config, rng);
    let tally = RefCell::new(Tally::default());
    let steps = Cell::new(0u64);
    // Shrinking runs the failing case hundreds of times: keep its panics off the terminal.
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let result = runner.run(&sequence(config.len_max), |ops| {
        match check(config.seed, &ops) {
            Ok(t) => {
                tally.borrow_mut().add(&t);
                steps.set(steps.get() + ops.len() as u64);
                Ok(())
            }
            Err(v) => Err(TestCaseError::fail(v.to_string())),
        }
    });
    panic::set_hook(hook);
    let failure = match result {
        Ok(()) => None,
        Err(TestError::Fail(_, ops)) => {
            let violation = check(config.seed, &ops)
                .expect_err("a shrunk failing case fails again when replayed");
            Some(Failure { ops, violation })
        }
        Err(TestError::Abort(why)) => Some(Failure {
            ops: Vec::new(),
            violation: Violation {
                rule: Rule::Invariant,
                step: 0,
                detail: format!("proptest aborted: {why}"),
            },
        }),
    };
    PropertyOutcome {
        cases: config.cases,
        steps: steps.get(),
        tally: tally.into_inner(),
        failure,
    }
}
