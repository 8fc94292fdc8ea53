//! Generated op sequences of the model-based check (`wfsim_conformance::ops`) replayed over
//! the wire (`--cases N`), each request's status and each await's outcome judged against
//! the spec model (`wfsim_conformance::model`).
//!
//! A sequence becomes one workflow and a script. The workflow's parallel branches do what
//! the execution does in the sequence, each at its instant: one branch creates the
//! endpoints, one per await waits on its endpoint and records what it got (the `n` query
//! parameter of the request it took, or the error's tag) in a shared map, and one ends the
//! execution by raising that map, so the result of every await comes back in the error's
//! payload. The judge sends the requests at their instants and cancels where the sequence
//! cancels. To make every instant exact and every order defined, the sequence is first
//! put on a half-second grid, each create, await and end alone at its instant; requests with
//! a bad token are left out (a target's token verdicts are its own accounts'). The model
//! runs the same normalised sequence.

use std::fmt::Write as _;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value as Json;
use wfsim_conformance::model::{Answer, AwaitStart, Model, Request, Token};
use wfsim_conformance::ops::{Body, Final, Op, sequence};
use wfsim_conformance::rules::Rule;

use crate::Judge;
use crate::scenarios::{answer_shape, deploy, execute, run_to_end, status_rule};

/// The grid: every instant is a multiple of half a second, exact as a double.
const HALF: u64 = 500_000_000;

/// Ops per generated sequence, at most.
pub const LEN_MAX: usize = 12;

/// An op of the normalised sequence.
#[derive(Clone, Copy, Debug, PartialEq)]
enum WireOp {
    Advance(u64),
    Create(&'static str),
    Await {
        endpoint: u8,
        timeout_s: f64,
    },
    Request {
        endpoint: u8,
        method: &'static str,
        body: Body,
        extras: bool,
        copies: u8,
    },
    End(Final),
}

fn normalise(ops: &[Op]) -> (Vec<WireOp>, usize) {
    let mut out = Vec::new();
    let mut dropped = 0;
    for op in ops {
        match *op {
            Op::Advance { ns } => out.push(WireOp::Advance(ns.div_ceil(HALF) * HALF)),
            Op::Request { token, .. } if token != Token::Good => dropped += 1,
            Op::Request {
                endpoint,
                method,
                body,
                extras,
                copies,
                ..
            } => out.push(WireOp::Request {
                endpoint,
                method,
                body,
                extras,
                copies,
            }),
            Op::Create { method } => out.extend([
                WireOp::Advance(HALF),
                WireOp::Create(method),
                WireOp::Advance(HALF),
            ]),
            Op::Await {
                endpoint,
                timeout_s,
            } => out.extend([
                WireOp::Advance(HALF),
                WireOp::Await {
                    endpoint,
                    timeout_s,
                },
                WireOp::Advance(HALF),
            ]),
            Op::End(how) => out.extend([
                WireOp::Advance(HALF),
                WireOp::End(how),
                WireOp::Advance(HALF),
            ]),
        }
    }
    (out, dropped)
}

/// What an await should come to.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    /// Took request `n` (CB-5 at its start, else handed to it: CB-12, §3.5).
    Took {
        n: u64,
        at_start: bool,
    },
    TimedOut,
    /// A negative timeout (CB-4).
    Refused,
    /// Still waiting when the execution ended (CB-11).
    Abandoned,
    /// Its deadline is the instant the workflow ends itself: both orders are SPEC's.
    TimedOutOrAbandoned,
}

/// The plan the model makes of a normalised sequence.
#[derive(Debug, Default)]
struct Plan {
    /// (instant, method) of each endpoint created.
    creates: Vec<(u64, &'static str)>,
    /// (await no, instant, endpoint, timeout) of each await that starts.
    awaits: Vec<(u64, u64, usize, f64)>,
    /// The script: (instant, what).
    script: Vec<(u64, Step)>,
    /// When the workflow raises to end itself.
    raise_at: u64,
    cancelled: bool,
    outcomes: Vec<(u64, Outcome)>,
}

#[derive(Debug, Clone)]
enum Step {
    Send {
        n: u64,
        endpoint: usize,
        method: &'static str,
        body: Body,
        extras: bool,
        expect: Answer,
    },
    Cancel,
    /// Reads the endpoint just created from `callbacks.list`.
    Learn,
}

fn plan(ops: &[WireOp]) -> Plan {
    let mut m = Model::default();
    let mut p = Plan::default();
    let (mut now, mut n_req, mut n_await) = (0u64, 0u64, 0u64);
    let mut outcomes: Vec<(u64, Outcome)> = Vec::new();
    let set = |outcomes: &mut Vec<(u64, Outcome)>, no: u64, o: Outcome| {
        if let Some(e) = outcomes.iter_mut().find(|(a, _)| *a == no) {
            e.1 = o;
        } else {
            outcomes.push((no, o));
        }
    };
    let mut ended = false;
    for op in ops {
        match *op {
            WireOp::Advance(ns) => {
                now += ns;
                for (no, _) in m.advance(now) {
                    set(&mut outcomes, no, Outcome::TimedOut);
                }
            }
            WireOp::Create(method) => {
                if m.create(method).is_some() {
                    p.creates.push((now, method));
                    // Once its instant is closed, the new endpoint is the one new name.
                    p.script.push((now + HALF, Step::Learn));
                }
            }
            WireOp::Await {
                endpoint,
                timeout_s,
            } => {
                let e = usize::from(endpoint);
                if ended || e >= m.endpoints.len() {
                    continue;
                }
                let no = n_await;
                n_await += 1;
                p.awaits.push((no, now, e, timeout_s));
                if !Model::timeout_is_valid(timeout_s) {
                    set(&mut outcomes, no, Outcome::Refused);
                    continue;
                }
                let ns = (timeout_s * 1e9) as u64;
                match m.start_await(no, e, ns) {
                    AwaitStart::Took(n) => {
                        set(&mut outcomes, no, Outcome::Took { n, at_start: true })
                    }
                    AwaitStart::Waits { .. } => set(&mut outcomes, no, Outcome::Abandoned),
                    AwaitStart::Impossible => {}
                }
            }
            WireOp::Request {
                endpoint,
                method,
                body,
                extras,
                copies,
            } => {
                for _ in 0..copies {
                    let n = n_req;
                    n_req += 1;
                    let e = usize::from(endpoint);
                    let answer = m.request(Request {
                        no: n,
                        endpoint: (e < m.endpoints.len()).then_some(e),
                        method,
                        body_len: body.bytes().len(),
                        token: Token::Good,
                    });
                    if let Answer::TakenBy(a) = answer {
                        set(&mut outcomes, a, Outcome::Took { n, at_start: false });
                    }
                    p.script.push((
                        now,
                        Step::Send {
                            n,
                            endpoint: e,
                            method,
                            body,
                            extras,
                            expect: answer,
                        },
                    ));
                }
            }
            WireOp::End(how) => {
                if ended {
                    continue;
                }
                ended = true;
                m.end();
                if how == Final::Cancelled {
                    p.cancelled = true;
                    p.script.push((now, Step::Cancel));
                } else {
                    p.raise_at = now;
                }
            }
        }
    }
    if !ended {
        // The workflow ends itself half a second after the last op.
        now += HALF;
        for (no, _) in m.advance(now) {
            set(&mut outcomes, no, Outcome::TimedOut);
        }
        p.raise_at = now;
        m.end();
    } else if p.cancelled {
        // The ender only keeps the execution alive until the cancel.
        p.raise_at = now + HALF;
    }
    // An await whose deadline is the instant the workflow raises may time out first.
    if !p.cancelled {
        for &(no, at, _, timeout_s) in &p.awaits {
            if timeout_s >= 0.0 && at + (timeout_s * 1e9) as u64 == p.raise_at {
                if let Some(e) = outcomes.iter_mut().find(|(a, _)| *a == no) {
                    if matches!(e.1, Outcome::Abandoned | Outcome::TimedOut) {
                        e.1 = Outcome::TimedOutOrAbandoned;
                    }
                }
            }
        }
    }
    p.outcomes = outcomes;
    p
}

fn secs(ns: u64) -> String {
    format!("{}", ns as f64 / 1e9)
}

/// The workflow that does the execution's part of the plan.
fn workflow(p: &Plan, scale: f64) -> String {
    let secs = |ns: u64| format!("{}", ns as f64 / 1e9 * scale);
    let mut w = String::from(
        "# Generated by wfsim conformance --cases: one op sequence's execution side.\nmain:\n  steps:\n    - init:\n        assign:\n          - eps: {}\n          - got: {}\n    - world:\n        parallel:\n          shared: [eps, got]\n          branches:\n",
    );
    let _ = writeln!(
        w,
        "            - creator:\n                steps:\n                  - start:\n                      assign:\n                        - ready: true"
    );
    let mut last = 0;
    for (i, &(at, method)) in p.creates.iter().enumerate() {
        let _ = writeln!(
            w,
            "                  - c{i}_wait:\n                      call: sys.sleep\n                      args:\n                        seconds: {}\n                  - c{i}:\n                      call: events.create_callback_endpoint\n                      args:\n                        http_callback_method: \"{method}\"\n                      result: e{i}\n                  - c{i}_keep:\n                      assign:\n                        - eps.e{i}: ${{e{i}}}",
            secs(at - last)
        );
        last = at;
    }
    for &(no, at, e, timeout_s) in &p.awaits {
        let _ = writeln!(
            w,
            "            - a{no}:\n                steps:\n                  - wait:\n                      call: sys.sleep\n                      args:\n                        seconds: {}\n                  - clear:\n                      assign:\n                        - r: null\n                  - take:\n                      try:\n                        call: events.await_callback\n                        args:\n                          callback: ${{eps.e{e}}}\n                          timeout: {}\n                        result: r\n                      except:\n                        as: err\n                        steps:\n                          - failed:\n                              assign:\n                                - got.a{no}: ${{err.tags[0]}}\n                  - record:\n                      switch:\n                        - condition: ${{r != null}}\n                          assign:\n                            - got.a{no}: ${{r.http_request.query.n[0]}}",
            secs(at),
            timeout_s * scale
        );
    }
    {
        let _ = writeln!(
            w,
            "            - ender:\n                steps:\n                  - wait:\n                      call: sys.sleep\n                      args:\n                        seconds: {}\n                  - stop:\n                      raise: ${{got}}",
            secs(p.raise_at)
        );
    }
    w
}

/// Runs `cases` generated sequences (seed 0, case by case) on the target.
pub async fn run_all(j: &mut Judge<'_>, cases: u32) -> Result<(), String> {
    if cases == 0 {
        return Ok(());
    }
    let mut seed = [0u8; 32];
    seed[0] = 1;
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    let strategy = sequence(LEN_MAX);
    for case in 0..cases {
        let ops = strategy
            .new_tree(&mut runner)
            .map_err(|e| format!("generating op sequence {case}: {e}"))?
            .current();
        run_case(j, case, &ops).await?;
    }
    Ok(())
}

/// On the real clock every instant is scaled by this: the slot rule depends on the order of
/// instants, not on their size, so the contract allows it (a 1 s timeout waits 100 ms).
pub const REAL_SCALE: f64 = 0.1;

/// On the real clock, a case longer than this (scaled) needs `--full-time`.
const REAL_SPAN_MAX_NS: u64 = 10_000_000_000;

/// Why a case cannot be judged on the real clock, if it cannot.
fn real_time_obstacle(p: &Plan, full_time: bool) -> Option<String> {
    let span = p
        .script
        .iter()
        .map(|(at, _)| *at)
        .chain([p.raise_at])
        .max()
        .unwrap_or(0);
    let scaled = (span as f64 * REAL_SCALE) as u64;
    if scaled > REAL_SPAN_MAX_NS && !full_time {
        return Some(format!(
            "it spans {}s ({}s scaled down); on the real clock only with --full-time",
            secs(span),
            secs(scaled)
        ));
    }
    let deadlines: Vec<u64> = p
        .awaits
        .iter()
        .filter(|a| a.3 >= 0.0)
        .map(|&(_, at, _, t)| at + (t * 1e9) as u64)
        .collect();
    p.script.iter().find_map(|(at, step)| {
        (matches!(step, Step::Send { .. }) && deadlines.contains(at)).then(|| {
            "a request at an await's deadline: on the real clock which comes first is a race"
                .to_owned()
        })
    })
}

async fn run_case(j: &mut Judge<'_>, case: u32, ops: &[Op]) -> Result<(), String> {
    let (wire, dropped) = normalise(ops);
    let source = format!("op sequence {case}");
    let scale = if j.clock.driven() { 1.0 } else { REAL_SCALE };
    if dropped > 0 {
        j.tally.skip(
            Rule::Slot2,
            &source,
            "requests with a bad token: a target's token verdicts are its own accounts'",
        );
    }
    let p = plan(&wire);
    if !j.clock.driven() {
        if let Some(reason) = real_time_obstacle(&p, j.full_time) {
            for r in [
                Rule::Slot5,
                Rule::Slot6,
                Rule::Slot7,
                Rule::Cb5,
                Rule::Cb6,
                Rule::Cb12,
            ] {
                j.tally.skip(r, &source, &reason);
            }
            return Ok(());
        }
    }
    let mut header = vec![format!("{source} (as generated):")];
    header.extend(ops.iter().map(|o| format!("  {o}")));
    header
        .push("normalised (half-second grid, create/await/end each alone at its instant):".into());
    let mut t = 0;
    for o in &wire {
        match o {
            WireOp::Advance(ns) => t += ns,
            other => header.push(format!("  t={}s {}", secs(t), show(other))),
        }
    }
    let id = format!("judge_ops_{case}");
    let text = workflow(&p, scale);
    let target = j.target;
    target.take_log();
    let mut passes: Vec<Rule> = Vec::new();
    let mut failures: Vec<(Rule, String)> = Vec::new();
    let result: Result<(), String> = async {
        deploy(j, &id, &text).await?;
        let t0 = j.clock.now(target).await?;
        let name = execute(j, &id, None).await?;
        let mut known: Vec<String> = Vec::new();
        for (at, step) in &p.script {
            target.set_instant(Some(format!("t={}s", secs(*at))));
            j.clock
                .advance_to(target, t0 + (*at as f64 * scale) as i128, true)
                .await?;
            match step {
                Step::Learn => learn(j, &name, &mut known).await?,
                Step::Cancel => {
                    let res = target
                        .send("POST", &format!("/v1/{name}:cancel"), Vec::new())
                        .await?;
                    check(
                        &mut passes,
                        &mut failures,
                        Rule::Ex3,
                        res.status == 200,
                        || {
                            format!(
                                "the cancel at t={}s answered {}, expected 200",
                                secs(*at),
                                res.status
                            )
                        },
                    );
                }
                Step::Send {
                    n,
                    endpoint,
                    method,
                    body,
                    extras,
                    expect,
                } => {
                    let path = match known.get(*endpoint) {
                        Some(e) => format!("/v1/{e}"),
                        None => format!("/v1/{name}/callbacks/judge-never-created-{endpoint}"),
                    };
                    let query = if *extras {
                        format!("n={n}&x=1&x=2")
                    } else {
                        format!("n={n}")
                    };
                    let mut headers = Vec::new();
                    if let Some(ct) = body.content_type() {
                        headers.push(("Content-Type".to_owned(), ct.to_owned()));
                    }
                    if *extras {
                        headers.push(("X-Judge".to_owned(), "1".to_owned()));
                        headers.push(("X-Judge".to_owned(), "2".to_owned()));
                    }
                    let res = target
                        .send_with(method, &format!("{path}?{query}"), &headers, body.bytes())
                        .await?;
                    // A HEAD answer has no body (RFC 9110): nothing of CB-13's shape to see.
                    if *method != "HEAD" {
                        let shape = answer_shape(res.status, &res.json());
                        check(
                            &mut passes,
                            &mut failures,
                            Rule::Cb13,
                            shape.is_ok(),
                            || shape.clone().err().unwrap_or_default(),
                        );
                    }
                    let rule = match expect {
                        Answer::TakenBy(_) => Rule::Slot5,
                        Answer::Stored => Rule::Slot6,
                        Answer::Refused(s) => status_rule(*s).unwrap_or(Rule::Cb13),
                    };
                    check(
                        &mut passes,
                        &mut failures,
                        rule,
                        res.status == expect.status(),
                        || {
                            format!(
                                "request {n} at t={}s answered {}, the model says {} ({expect:?})",
                                secs(*at),
                                res.status,
                                expect.status()
                            )
                        },
                    );
                }
            }
        }
        target.set_instant(None);
        let limit = (p.raise_at as f64 * scale) as u64 + 2_000_000_000;
        let end = run_to_end(j, &name, t0, limit).await?;
        let want_state = if p.cancelled { "CANCELLED" } else { "FAILED" };
        check(
            &mut passes,
            &mut failures,
            Rule::Ex1,
            end["state"] == want_state,
            || format!("the execution is {}, expected {want_state}", end["state"]),
        );
        if !p.cancelled {
            let payload = end["error"]["payload"]
                .as_str()
                .and_then(|s| serde_json::from_str::<Json>(s).ok())
                .unwrap_or(Json::Null);
            // The ender's raise, as the parallel step reports it (UnhandledBranchError), or
            // as raised.
            let got = payload["branches"]
                .as_array()
                .and_then(|bs| bs.iter().find(|b| b["id"] == "ender"))
                .map_or(payload.clone(), |b| b["error"].clone());
            judge_outcomes(&p, &got, &mut passes, &mut failures);
        }
        let res = target
            .send("GET", &format!("/v1/{name}/callbacks"), Vec::new())
            .await?;
        for c in res.json()["callbacks"].as_array().into_iter().flatten() {
            let held = |k: &str| c[k].as_str().is_some_and(|v| v != "0");
            check(
                &mut passes,
                &mut failures,
                Rule::Cb11,
                !held("waiters") && !held("availablePayloads"),
                || {
                    format!(
                        "after the end, callbacks.list shows {} holding something: {c}",
                        c["name"]
                    )
                },
            );
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        failures.push((Rule::Ex2, format!("the case did not run: {e}")));
    }
    let mut transcript = header;
    transcript.push("over the wire:".into());
    transcript.extend(
        target
            .take_log()
            .into_iter()
            .filter(|l| !l.contains("/v1/wfsim/clock")),
    );
    j.tally.record(passes, failures, &source, &transcript);
    Ok(())
}

fn show(o: &WireOp) -> String {
    match *o {
        WireOp::Advance(ns) => format!("advance {}s", secs(ns)),
        WireOp::Create(m) => format!("create endpoint ({m})"),
        WireOp::Await {
            endpoint,
            timeout_s,
        } => format!("await endpoint {endpoint}, timeout {timeout_s}s"),
        WireOp::Request {
            endpoint,
            method,
            body,
            extras,
            copies,
        } => format!(
            "{copies} x {method} endpoint {endpoint} body {body:?}{}",
            if extras { " +headers +query" } else { "" }
        ),
        WireOp::End(how) => format!("end {how:?}"),
    }
}

fn check(
    passes: &mut Vec<Rule>,
    failures: &mut Vec<(Rule, String)>,
    rule: Rule,
    ok: bool,
    message: impl FnOnce() -> String,
) {
    if ok {
        passes.push(rule);
    } else {
        failures.push((rule, message()));
    }
}

/// Each await's record in the raised map against the model's outcome.
fn judge_outcomes(
    p: &Plan,
    got: &Json,
    passes: &mut Vec<Rule>,
    failures: &mut Vec<(Rule, String)>,
) {
    for &(no, outcome) in &p.outcomes {
        let seen = &got[format!("a{no}")];
        let seen_text = seen.as_str().map(str::to_owned);
        let (rule, ok) = match outcome {
            Outcome::Took { n, at_start } => (
                if at_start { Rule::Cb5 } else { Rule::Cb12 },
                seen_text.as_deref() == Some(n.to_string().as_str()),
            ),
            Outcome::TimedOut => (Rule::Cb6, seen_text.as_deref() == Some("TimeoutError")),
            Outcome::Refused => (Rule::Cb4, seen_text.as_deref() == Some("ValueError")),
            Outcome::Abandoned => (Rule::Cb11, seen.is_null()),
            Outcome::TimedOutOrAbandoned => (
                Rule::Cb6,
                seen.is_null() || seen_text.as_deref() == Some("TimeoutError"),
            ),
        };
        check(passes, failures, rule, ok, || {
            format!("await {no} recorded {seen}, the model says {outcome:?}")
        });
    }
}

/// Learns the next endpoint from `callbacks.list`: the one name not known yet.
async fn learn(j: &Judge<'_>, name: &str, known: &mut Vec<String>) -> Result<(), String> {
    let res = j
        .target
        .send("GET", &format!("/v1/{name}/callbacks"), Vec::new())
        .await?;
    let fresh: Vec<String> = res.json()["callbacks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(str::to_owned))
        .filter(|n| !known.contains(n))
        .collect();
    match fresh.as_slice() {
        [one] => {
            known.push(one.clone());
            Ok(())
        }
        _ => Err(format!(
            "callbacks.list shows {} new endpoints where one was created",
            fresh.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn req(endpoint: u8, copies: u8) -> Op {
        Op::Request {
            endpoint,
            method: "POST",
            token: Token::Good,
            body: Body::Empty,
            extras: false,
            copies,
        }
    }

    /// SPEC §3's worked example, normalised: the model's plan over the wire.
    #[test]
    fn the_worked_example_plans_its_statuses_and_outcomes() {
        let ops = [
            Op::Create { method: "POST" },
            req(0, 2),
            Op::Await {
                endpoint: 0,
                timeout_s: 60.0,
            },
            req(0, 1),
            Op::End(Final::Succeeded),
            req(0, 1),
        ];
        let (wire, dropped) = normalise(&ops);
        assert_eq!(dropped, 0);
        let p = plan(&wire);
        assert_eq!(p.creates, vec![(S / 2, "POST")]);
        // Learn at 1 s; requests 0 and 1 at 1 s: stored, then 429 (§3.6, §3.7).
        let statuses: Vec<(u64, u16)> = p
            .script
            .iter()
            .filter_map(|(at, s)| match s {
                Step::Send { expect, .. } => Some((*at, expect.status())),
                _ => None,
            })
            .collect();
        assert_eq!(
            statuses,
            vec![(S, 200), (S, 429), (2 * S, 200), (3 * S, 404)]
        );
        // The await (at 1.5 s) took request 0 from the slot (CB-5); the end raised at 2.5 s.
        assert_eq!(p.awaits, vec![(0, 3 * S / 2, 0, 60.0)]);
        assert_eq!(
            p.outcomes,
            vec![(
                0,
                Outcome::Took {
                    n: 0,
                    at_start: true
                }
            )]
        );
        assert_eq!(p.raise_at, 5 * S / 2);
        assert!(!p.cancelled);
        let text = workflow(&p, 1.0);
        assert!(text.contains("callback: ${eps.e0}"), "{text}");
        assert!(text.contains("raise: ${got}"), "{text}");
    }

    #[test]
    fn a_deadline_at_the_raise_may_time_out_or_be_abandoned() {
        // Await at 1.5 s for 1 s: deadline 2.5 s, the instant the workflow raises.
        let ops = [
            Op::Create { method: "GET" },
            Op::Await {
                endpoint: 0,
                timeout_s: 1.0,
            },
        ];
        let p = plan(&normalise(&ops).0);
        assert_eq!(p.raise_at, 5 * S / 2);
        assert_eq!(p.outcomes, vec![(0, Outcome::TimedOutOrAbandoned)]);
    }

    #[test]
    fn bad_tokens_are_left_out_and_advances_land_on_the_grid() {
        let ops = [
            Op::Request {
                endpoint: 0,
                method: "GET",
                token: Token::Bad,
                body: Body::Empty,
                extras: false,
                copies: 1,
            },
            Op::Advance { ns: 1 },
        ];
        let (wire, dropped) = normalise(&ops);
        assert_eq!(dropped, 1);
        assert_eq!(wire, vec![WireOp::Advance(HALF)]);
    }
}
