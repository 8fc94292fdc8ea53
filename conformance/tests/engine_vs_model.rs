//! The engine against the spec model, at the size `cargo test` can afford. `cargo xtask
//! conformance` runs the same checks at full size and prints the per-rule report.

use wfsim_conformance::model::Token;
use wfsim_conformance::ops::{Body, Final, Op};
use wfsim_conformance::property::{self, PropertyConfig};
use wfsim_conformance::rules::{self, Rule};
use wfsim_conformance::{exhaustive, report};

#[test]
fn model_based_sequences() {
    let prop = property::run(PropertyConfig {
        cases: 512,
        seed: 0,
        len_max: 64,
    });
    if let Some(f) = &prop.failure {
        let ops: Vec<String> = f.ops.iter().map(|op| op.to_string()).collect();
        panic!("{}\nshrunk to:\n  {}", f.violation, ops.join("\n  "));
    }
    assert!(prop.steps > 10_000, "only {} steps ran", prop.steps);
    let exh = exhaustive::run(3, 1);
    let report = report::render(&report::Evidence {
        property: &prop,
        exhaustive: &exh,
        scenarios: None,
        system: None,
    });
    assert!(report.ok(), "{}", report.table);
    assert_eq!(
        report.passed,
        rules::checked_by(|c| c.engine).count(),
        "{}",
        report.table
    );
}

#[test]
fn exhaustive_to_length_5() {
    let exh = exhaustive::run(5, 2);
    assert_eq!(exh.sequences, exhaustive::count(5));
    assert_eq!(exh.sequences, 12 + 144 + 1_728 + 20_736 + 248_832);
    if let Some((ops, v)) = &exh.failure {
        panic!("{v}\n{ops:?}");
    }
    for rule in [
        Rule::Cb5,
        Rule::Cb6,
        Rule::Cb9,
        Rule::Cb10,
        Rule::Cb11,
        Rule::Cb12,
    ] {
        assert!(exh.tally.get(rule) > 0, "{} never checked", rule.id());
    }
}

fn request(endpoint: u8, method: &'static str, copies: u8) -> Op {
    Op::Request {
        endpoint,
        method,
        token: Token::Good,
        body: Body::Empty,
        extras: false,
        copies,
    }
}

/// Sequences worth keeping by name: each once showed, or would show, a bug.
#[test]
fn regressions() {
    let cases: &[(&str, Vec<Op>)] = &[
        (
            // Step 6 answered 200 on a full slot (a deliberately broken slot rule).
            "second request to a full slot is 429",
            vec![Op::Create { method: "GET" }, request(0, "GET", 2)],
        ),
        (
            "request at the await's deadline is taken",
            vec![
                Op::Create { method: "POST" },
                Op::Await {
                    endpoint: 0,
                    timeout_s: 1.0,
                },
                Op::Advance { ns: 1_000_000_000 },
                request(0, "POST", 1),
            ],
        ),
        (
            "timeout then request is stored, not taken",
            vec![
                Op::Create { method: "POST" },
                Op::Await {
                    endpoint: 0,
                    timeout_s: 0.0,
                },
                Op::Advance { ns: 1 },
                request(0, "POST", 2),
                Op::End(Final::Succeeded),
                request(0, "POST", 1),
            ],
        ),
        (
            "two waiters, first started takes first",
            vec![
                Op::Create { method: "GET" },
                Op::Await {
                    endpoint: 0,
                    timeout_s: 5.0,
                },
                Op::Await {
                    endpoint: 0,
                    timeout_s: 1.0,
                },
                request(0, "GET", 3),
                Op::Advance { ns: 60_000_000_000 },
            ],
        ),
    ];
    for (name, ops) in cases {
        if let Err(v) = property::check(0, ops) {
            panic!("{name}: {v}");
        }
    }
}
