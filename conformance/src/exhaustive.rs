//! Every sequence up to a length over a small alphabet, engine against model.
//!
//! Depth-first with shared prefixes: each sequence is its parent's checker state plus one
//! op, so checking all sequences of length ≤ n costs one step per sequence. A failure is
//! the first failing sequence found; all its prefixes passed.

use std::panic::{self, AssertUnwindSafe};

use crate::check::{Checker, Tally, Violation};
use crate::model::Token;
use crate::ops::{Body, Final, Op};
use crate::rules::Rule;

const SECOND: u64 = 1_000_000_000;

/// Two endpoints (created GET and POST), two methods, awaits with two timeouts on either,
/// matching and mismatching requests, a one-second tick, and the end.
pub const ALPHABET: [Op; 12] = [
    Op::Create { method: "GET" },
    Op::Create { method: "POST" },
    Op::Await {
        endpoint: 0,
        timeout_s: 1.0,
    },
    Op::Await {
        endpoint: 0,
        timeout_s: 2.0,
    },
    Op::Await {
        endpoint: 1,
        timeout_s: 1.0,
    },
    Op::Await {
        endpoint: 1,
        timeout_s: 2.0,
    },
    request(0, "GET"),
    request(0, "POST"),
    request(1, "GET"),
    request(1, "POST"),
    Op::Advance { ns: SECOND },
    Op::End(Final::Succeeded),
];

const fn request(endpoint: u8, method: &'static str) -> Op {
    Op::Request {
        endpoint,
        method,
        token: Token::Good,
        body: Body::JsonNumber,
        extras: false,
        copies: 1,
    }
}

#[derive(Debug, Default)]
pub struct ExhaustiveOutcome {
    pub len_max: usize,
    /// Sequences checked, of every length from 1 to `len_max`.
    pub sequences: u64,
    pub tally: Tally,
    pub failure: Option<(Vec<Op>, Violation)>,
}

/// Checks every sequence of 1 to `len_max` ops from [`ALPHABET`], split across `threads`.
/// A failure is reported as one of the shortest failing sequences.
pub fn run(len_max: usize, threads: usize) -> ExhaustiveOutcome {
    let mut outcome = run_up_to(len_max, threads);
    if outcome.failure.is_some() {
        // Depth-first search finds a failing sequence, not a shortest one: look again,
        // one length at a time (cheap, since it stops at the first length that fails).
        for len in 1..len_max {
            if let Some(shorter) = run_up_to(len, threads).failure {
                outcome.failure = Some(shorter);
                break;
            }
        }
    }
    outcome
}

fn run_up_to(len_max: usize, threads: usize) -> ExhaustiveOutcome {
    let threads = threads.clamp(1, ALPHABET.len());
    let parts: Vec<ExhaustiveOutcome> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut out = ExhaustiveOutcome {
                        len_max,
                        ..ExhaustiveOutcome::default()
                    };
                    let root = Checker::new(0);
                    for (i, op) in ALPHABET.iter().enumerate() {
                        if i % threads == t && len_max > 0 {
                            let mut prefix = vec![*op];
                            extend(&root, &mut prefix, len_max, &mut out);
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("exhaustive worker"))
            .collect()
    });
    let mut total = ExhaustiveOutcome {
        len_max,
        ..ExhaustiveOutcome::default()
    };
    for part in parts {
        total.sequences += part.sequences;
        total.tally.add(&part.tally);
        if total.failure.is_none() {
            total.failure = part.failure;
        }
    }
    total
}

/// Checks `prefix` (its last op applied to `parent`), then every extension of it.
fn extend(parent: &Checker, prefix: &mut Vec<Op>, len_max: usize, out: &mut ExhaustiveOutcome) {
    if out.failure.is_some() {
        return;
    }
    let mut checker = parent.clone();
    let op = *prefix.last().expect("non-empty prefix");
    let stepped = panic::catch_unwind(AssertUnwindSafe(|| checker.step(&op)));
    let res = stepped.unwrap_or_else(|_| {
        Err(Violation {
            rule: Rule::Invariant,
            step: prefix.len() - 1,
            detail: "the engine panicked".into(),
        })
    });
    if let Err(v) = res {
        out.failure = Some((prefix.clone(), v));
        return;
    }
    out.sequences += 1;
    out.tally.add(&std::mem::take(&mut checker.tally));
    if prefix.len() < len_max {
        for next in ALPHABET {
            prefix.push(next);
            extend(&checker, prefix, len_max, out);
            prefix.pop();
        }
    }
}

/// How many sequences of 1 to `len_max` ops the alphabet has.
pub fn count(len_max: usize) -> u64 {
    (1..=len_max as u32)
        .map(|k| (ALPHABET.len() as u64).pow(k))
        .sum()
}
