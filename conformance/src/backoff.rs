//! Generated retry policies against RT-2's formula: a step that always raises, retried by
//! `${retry.always}` under a drawn `max_retries` and back-off (integers, doubles, zero,
//! sometimes a negative), run by the engine and judged by arithmetic done here, apart from
//! the engine's own `BackoffPolicy`.
//!
//! Parameters are multiples of 1/4 and multipliers multiples of 1/2, so every delay is exact
//! in binary and the model needs no rounding rule of its own.

use std::rc::Rc;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use wfsim_engine::error::tags;
use wfsim_engine::interp::{Outcome, Trace};
use wfsim_engine::{Value, defn};
use wfsim_harness::runner::{self, RunConfig};

/// A back-off parameter as the workflow writes it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    Double(f64),
}

impl Number {
    fn value(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Double(d) => d,
        }
    }

    fn yaml(self) -> String {
        match self {
            Number::Int(i) => i.to_string(),
            Number::Double(d) => format!("{d:?}"),
        }
    }
}

/// One generated policy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    pub max_retries: i64,
    pub initial_delay: Number,
    pub max_delay: Number,
    pub multiplier: Number,
}

impl Policy {
    pub fn workflow(&self) -> String {
        format!(
            "- t:\n    try:\n      steps:\n        - note:\n            call: sys.log\n            args:\n              text: attempt\n        - fail:\n            raise: boom\n    retry:\n      predicate: ${{retry.always}}\n      max_retries: {}\n      backoff:\n        initial_delay: {}\n        max_delay: {}\n        multiplier: {}\n",
            self.max_retries,
            self.initial_delay.yaml(),
            self.max_delay.yaml(),
            self.multiplier.yaml()
        )
    }

    /// What RT-2 says happens: `None` for a `ValueError` (a negative value), else the
    /// instant, in seconds, at which each back-off ends.
    pub fn expected_backoff_ends(&self) -> Option<Vec<f64>> {
        let (initial, max, multiplier) = (
            self.initial_delay.value(),
            self.max_delay.value(),
            self.multiplier.value(),
        );
        if self.max_retries < 0 || initial < 0.0 || max < 0.0 || multiplier < 0.0 {
            return None;
        }
        let mut now = 0.0;
        let mut ends = Vec::new();
        let mut delay = initial;
        for _ in 0..self.max_retries {
            now += delay.min(max);
            ends.push(now);
            delay *= multiplier;
        }
        Some(ends)
    }
}

fn number(lo: i64, hi: i64, quantum: f64) -> impl Strategy<Value = Number> {
    prop_oneof![
        (lo..=hi).prop_map(Number::Int),
        (lo * 4..=hi * 4).prop_map(move |q| Number::Double(q as f64 * quantum)),
    ]
}

/// Mostly valid policies, now and then a negative value.
pub fn policy() -> impl Strategy<Value = Policy> {
    (
        prop_oneof![9 => 0i64..6, 1 => -2i64..0],
        prop_oneof![9 => number(0, 8, 0.25), 1 => number(-2, -1, 0.25)],
        prop_oneof![9 => number(0, 20, 0.25), 1 => number(-2, -1, 0.25)],
        prop_oneof![9 => number(0, 3, 0.5), 1 => number(-2, -1, 0.5)],
    )
        .prop_map(
            |(max_retries, initial_delay, max_delay, multiplier)| Policy {
                max_retries,
                initial_delay,
                max_delay,
                multiplier,
            },
        )
}

/// Runs `p` in the engine and compares with [`Policy::expected_backoff_ends`].
pub fn check(p: &Policy) -> Result<(), String> {
    let wf = defn::load("backoff.yaml", &p.workflow()).map_err(|e| format!("{e:?}"))?;
    let config = RunConfig::default();
    let run = runner::run(Rc::new(wf), "backoff", &config, &[]);
    let error = match run.execution.outcome() {
        Some(Outcome::Failed(e)) => e.error.clone(),
        other => {
            return Err(format!(
                "the step always raises, but the run ended {other:?}"
            ));
        }
    };
    let ends: Vec<f64> = run
        .execution
        .trace()
        .iter()
        .filter_map(|(_, t)| match t {
            Trace::Backoff { until, .. } => Some(until.as_secs_f64()),
            _ => None,
        })
        .collect();
    let attempts = run.execution.logs().len();
    match p.expected_backoff_ends() {
        None => {
            if tags(&error) != ["ValueError"] || attempts != 0 {
                return Err(format!(
                    "a negative value: want a ValueError before any attempt, got {error:?} after {attempts} attempts"
                ));
            }
        }
        Some(want) => {
            if error != Value::str("boom") {
                return Err(format!("want the step's own error, got {error:?}"));
            }
            if ends != want || attempts != want.len() + 1 {
                return Err(format!(
                    "back-offs end at {ends:?} s after {attempts} attempts; RT-2 says {want:?} s after {}",
                    want.len() + 1
                ));
            }
        }
    }
    Ok(())
}

/// Checks `cases` generated policies from `seed`; on failure, the shrunk policy, its
/// workflow and why, to paste into a test.
pub fn run(cases: u32, seed: u64) -> Result<u32, String> {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &key),
    );
    match runner.run(&policy(), |p| check(&p).map_err(TestCaseError::fail)) {
        Ok(()) => Ok(cases),
        Err(TestError::Fail(why, p)) => Err(format!("{p:?}: {why}\n{}", p.workflow())),
        Err(TestError::Abort(why)) => Err(format!("the generator gave up: {why}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_is_rt_2s_formula() {
        let p = Policy {
            max_retries: 4,
            initial_delay: Number::Double(0.5),
            max_delay: Number::Int(3),
            multiplier: Number::Double(2.5),
        };
        // 0.5, 1.25, min(3.125, 3), 3
        assert_eq!(p.expected_backoff_ends(), Some(vec![0.5, 1.75, 4.75, 7.75]));
        let negative = Policy {
            multiplier: Number::Double(-0.5),
            ..p
        };
        assert_eq!(negative.expected_backoff_ends(), None);
        assert_eq!(Number::Double(2.0).yaml(), "2.0");
        assert_eq!(Number::Int(2).yaml(), "2");
    }
}
