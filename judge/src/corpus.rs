//! The corpus (`fixtures/corpus`) over the wire: each case deployed and run on the target,
//! its scripted callbacks sent when an await waits (`callbacks.list` says so), and the
//! result or error compared with the one the case expects (EX-2).

use std::path::Path;

use serde_json::Value as Json;
use wfsim_conformance::corpus::{listed_cases, same_json, subset};
use wfsim_conformance::rules::Rule;

use crate::Judge;
use crate::report::Failure;
use crate::scenarios::{REAL_TIME_BUDGET_NS, answer_shape, deploy, execute, get};

/// Every case `SOURCES.md` lists, in its order.
pub async fn run_all(j: &mut Judge<'_>, dir: &Path) -> Result<(), String> {
    for name in listed_cases(dir)? {
        let path = dir.join("cases").join(format!("{name}.yaml"));
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let expected_path = dir.join("cases").join(format!("{name}.expected.json"));
        let expected: Json = serde_json::from_str(
            &std::fs::read_to_string(&expected_path)
                .map_err(|e| format!("{}: {e}", expected_path.display()))?,
        )
        .map_err(|e| format!("{}: {e}", expected_path.display()))?;
        j.target.take_log();
        let outcome = run_case(j, &name, &text, &expected).await;
        let transcript: Vec<String> = j
            .target
            .take_log()
            .into_iter()
            .filter(|l| !l.contains("GET /v1/wfsim/clock"))
            .collect();
        let source = format!("corpus {name}");
        match outcome {
            Ok(Case {
                checks,
                failures,
                skipped,
            }) => {
                j.tally.record(checks, failures, &source, &transcript);
                for reason in skipped {
                    j.tally.skip(Rule::Ex4, &source, &reason);
                }
            }
            Err(message) => j.tally.fail(
                Rule::Ex2,
                Failure {
                    source,
                    message,
                    transcript,
                },
            ),
        }
    }
    Ok(())
}

#[derive(Default)]
struct Case {
    checks: Vec<Rule>,
    failures: Vec<(Rule, String)>,
    skipped: Vec<String>,
}

impl Case {
    fn check(&mut self, rule: Rule, ok: bool, message: impl FnOnce() -> String) {
        if ok {
            self.checks.push(rule);
        } else {
            self.failures.push((rule, message()));
        }
    }
}

async fn run_case(
    j: &mut Judge<'_>,
    name: &str,
    text: &str,
    expected: &Json,
) -> Result<Case, String> {
    let mut case = Case::default();
    let id = format!(
        "judge_corpus_{}",
        name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
    );
    let reject = expected.get("reject") == Some(&Json::Bool(true));
    if let Err(e) = deploy(j, &id, text).await {
        case.check(Rule::Ex2, reject, || e);
        return Ok(case);
    }
    let argument = expected.get("argument").filter(|a| !a.is_null());
    let name_of = execute(j, &id, argument).await?;
    let mut callbacks = expected
        .get("callbacks")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default()
        .into_iter();
    let mut next = callbacks.next();
    let t0 = j.clock.now(j.target).await?;
    let budget = if j.full_time {
        60 * REAL_TIME_BUDGET_NS
    } else {
        REAL_TIME_BUDGET_NS
    };
    let mut end = get(j, &name_of).await?;
    for _ in 0..100_000 {
        if end["state"] != "ACTIVE" {
            break;
        }
        if let Some(cb) = &next {
            if let Some((path, method)) = waiting_endpoint(j, &name_of).await? {
                let (headers, body) = wfsim_conformance::corpus::callback_parts(cb);
                let method = cb
                    .get("method")
                    .and_then(Json::as_str)
                    .unwrap_or(&method)
                    .to_owned();
                let res = j.target.send_with(&method, &path, &headers, body).await?;
                let shape = answer_shape(res.status, &res.json());
                case.check(Rule::Cb13, shape.is_ok(), || {
                    shape.err().unwrap_or_default()
                });
                case.check(Rule::Slot5, res.status == 200, || {
                    format!(
                        "a callback to an endpoint with a waiting await answered {}, expected 200",
                        res.status
                    )
                });
                next = callbacks.next();
                end = get(j, &name_of).await?;
                continue;
            }
        }
        if j.clock.driven() {
            match j.clock.next_deadline(j.target).await? {
                Some(d) => j.clock.advance_to(j.target, d + 1, false).await?,
                None => break,
            }
        } else {
            if j.clock.now(j.target).await? - t0 > i128::from(budget) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        end = get(j, &name_of).await?;
    }
    compare(&mut case, &end, expected, reject);
    if expected.get("logs_subset").is_some() {
        case.skipped
            .push("sys.log entries are not part of the Executions API".into());
    }
    Ok(case)
}

/// The first endpoint `callbacks.list` shows with a waiting await: its path and method.
async fn waiting_endpoint(j: &Judge<'_>, name: &str) -> Result<Option<(String, String)>, String> {
    let res = j
        .target
        .send("GET", &format!("/v1/{name}/callbacks"), Vec::new())
        .await?;
    Ok(res.json()["callbacks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["waiters"].as_str().is_some_and(|w| w != "0"))
        .and_then(|c| {
            Some((
                format!("/v1/{}", c["name"].as_str()?),
                c["method"].as_str()?.to_owned(),
            ))
        }))
}

fn compare(case: &mut Case, end: &Json, expected: &Json, reject: bool) {
    let state = end["state"].as_str().unwrap_or("(none)").to_owned();
    let result = end["result"]
        .as_str()
        .and_then(|r| serde_json::from_str::<Json>(r).ok());
    if let Some(want) = expected.get("result") {
        case.check(
            Rule::Ex2,
            result.as_ref().is_some_and(|g| same_json(g, want)),
            || {
                format!(
                    "{state} with result {}, expected the result {want}",
                    result.clone().unwrap_or(Json::Null)
                )
            },
        );
    }
    if let Some(want) = expected.get("result_subset") {
        case.check(
            Rule::Ex2,
            result.as_ref().is_some_and(|g| subset(want, g)),
            || {
                format!(
                    "{state} with result {}, expected a result containing {want}",
                    result.clone().unwrap_or(Json::Null)
                )
            },
        );
    }
    let payload = end["error"]["payload"]
        .as_str()
        .and_then(|p| serde_json::from_str::<Json>(p).ok());
    if let Some(want) = expected.get("error_tags").and_then(Json::as_array) {
        let got: Vec<&str> = payload
            .as_ref()
            .and_then(|p| p["tags"].as_array())
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .collect();
        let all = want
            .iter()
            .all(|w| w.as_str().is_some_and(|w| got.contains(&w)));
        case.check(Rule::Ex2, state == "FAILED" && all, || {
            format!("{state} with error tags {got:?}, expected FAILED with {want:?}")
        });
        if let Some(sub) = expected.get("error") {
            let ok = payload.as_ref().is_some_and(|p| subset(sub, p));
            case.check(Rule::Ex2, ok, || {
                format!(
                    "error {}, expected one containing {sub}",
                    payload.clone().unwrap_or(Json::Null)
                )
            });
        }
    }
    if reject {
        case.check(Rule::Ex2, state == "FAILED", || {
            format!("{state}, expected the definition refused or the execution FAILED")
        });
    }
}
