//! Checkpoints (`api/checkpoint.rs`): a fresh state fed a checkpoint and the inputs after
//! it becomes the state a replay of every input gives, over a long history with evictions,
//! timeouts, buffered callbacks, cancels and a redeploy.

use serde_json::Value as Json;
use wfsim_engine::SimTime;
use wfsim_server::{ApiRequest, ClockMode, Config, State};

const WORKFLOW: &str = "
- create:
    call: events.create_callback_endpoint
    result: cb
- pause:
    call: sys.sleep
    args:
      seconds: 2
- wait:
    try:
      call: events.await_callback
      args:
        callback: ${cb}
        timeout: 10
      result: req
    except:
      as: e
      steps:
        - gave_up:
            return: timeout
- again:
    call: events.await_callback
    args:
      callback: ${cb}
      timeout: 30
    result: second
- done:
    return: ${[req.http_request.body, second.http_request.body, sys.get_env(\"GOOGLE_CLOUD_WORKFLOW_REVISION_ID\")]}
";

const EXECUTIONS: &str = "/v1/projects/p/locations/l/workflows/w/executions";

fn state() -> State {
    State::new(
        Config {
            seed: 11,
            auth: false,
            clock: ClockMode::default(),
            ..Config::new("p", "l", "http://wfsim.test")
        },
        0,
    )
}

fn req(method: &str, path: &str, body: &str) -> ApiRequest {
    ApiRequest {
        method: method.into(),
        path: path.into(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
        ..ApiRequest::default()
    }
}

fn json(s: &mut State, at: SimTime, r: &ApiRequest) -> (u16, Json) {
    let res = s.handle(at, r);
    (res.status, serde_json::from_slice(&res.body).unwrap())
}

/// A seeded stream of choices (an LCG): the history is the same on every run.
struct Draw(u64);

impl Draw {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// What the API shows of a state at `at`: every execution listed (FULL view), its
/// callbacks, and the answer to a GET of every execution ever named (404s say evicted).
fn shown(s: &mut State, at: SimTime, named: &[String]) -> Vec<(u16, Json)> {
    let mut out = vec![json(
        s,
        at,
        &req("GET", &format!("{EXECUTIONS}?pageSize=1000&view=FULL"), ""),
    )];
    for path in named {
        out.push(json(s, at, &req("GET", &format!("{path}?view=FULL"), "")));
        out.push(json(s, at, &req("GET", &format!("{path}/callbacks"), "")));
    }
    out
}

/// Runs `steps` random inputs on `s` from time `from`; returns the time reached.
fn history(
    s: &mut State,
    d: &mut Draw,
    from: SimTime,
    steps: u32,
    named: &mut Vec<String>,
) -> SimTime {
    let mut now = from;
    let mut callbacks: Vec<String> = Vec::new();
    for _ in 0..steps {
        now = now.saturating_add(std::time::Duration::from_millis(d.below(3000)));
        match d.below(10) {
            0..=3 => {
                let (status, created) = json(s, now, &req("POST", EXECUTIONS, ""));
                assert_eq!(status, 200, "{created}");
                let path = format!("/v1/{}", created["name"].as_str().unwrap());
                let (_, list) = json(s, now, &req("GET", &format!("{path}/callbacks"), ""));
                callbacks.push(format!(
                    "/v1/{}",
                    list["callbacks"][0]["name"].as_str().unwrap()
                ));
                named.push(path);
            }
            4..=7 if !callbacks.is_empty() => {
                let i = d.below(callbacks.len() as u64) as usize;
                s.handle(
                    now,
                    &req("POST", &callbacks[i], &format!("{}", d.below(100))),
                );
            }
            8 if !named.is_empty() => {
                let i = d.below(named.len() as u64) as usize;
                s.handle(now, &req("POST", &format!("{}:cancel", named[i]), ""));
            }
            _ => {
                // A callback to an execution that never was: changes nothing.
                s.handle(
                    now,
                    &req("POST", &format!("{EXECUTIONS}/nope/callbacks/x"), "1"),
                );
            }
        }
    }
    now
}

const REVISION_2: &str = "
- done:
    return: second revision
";

#[test]
fn a_checkpoint_and_the_inputs_after_it_replay_to_the_state_of_every_input() {
    let mut d = Draw(5);
    let mut named = Vec::new();
    let mut orig = state();
    orig.record_inputs();
    orig.keep_for_checkpoints();
    orig.set_keep_ended(SimTime::ZERO, 8);
    orig.deploy_source(SimTime::ZERO, "w", "w.yaml", WORKFLOW)
        .unwrap();
    let mid = history(&mut orig, &mut d, SimTime::ZERO, 1500, &mut named);
    let head = orig.take_inputs();
    let checkpoint = orig.checkpoint().unwrap();
    // Bounded by what is held, not by history.
    assert!(
        checkpoint.len() * 5 < head.len(),
        "{} inputs compacted to {}",
        head.len(),
        checkpoint.len()
    );
    let mid = history(&mut orig, &mut d, mid, 700, &mut named);
    orig.deploy_source(mid, "w", "w.yaml", &format!("{WORKFLOW}\n# revision 2\n"))
        .unwrap();
    let end = history(&mut orig, &mut d, mid, 800, &mut named);
    let tail = orig.take_inputs();
    let end = end.saturating_add(std::time::Duration::from_secs(5));

    let mut whole = state();
    whole.replay(&[head.clone(), tail.clone()].concat(), end);
    let mut resumed = state();
    resumed.keep_for_checkpoints();
    resumed.replay(&[checkpoint, tail].concat(), end);
    orig.advance(end);

    let expected = shown(&mut whole, end, &named);
    assert_eq!(shown(&mut orig, end, &named), expected);
    assert_eq!(shown(&mut resumed, end, &named), expected);
    let evicted = expected.iter().filter(|(status, _)| *status == 404).count();
    assert!(evicted > 100, "the history evicts ({evicted} 404s)");
    // A checkpoint of the resumed state is the original's.
    assert_eq!(resumed.checkpoint(), orig.checkpoint());
    // The next starts get the same ids, callback URLs and revisions.
    for s in [&mut whole, &mut resumed] {
        s.deploy_source(end, "w", "w.yaml", REVISION_2).unwrap();
    }
    let mut next = Vec::new();
    for s in [&mut whole, &mut resumed] {
        let mut got = Vec::new();
        for k in 0..3 {
            let at = end.saturating_add(std::time::Duration::from_secs(k));
            got.push(json(s, at, &req("POST", EXECUTIONS, "")));
        }
        next.push(got);
    }
    assert_eq!(next[0], next[1]);
    assert_eq!(next[0][0].0, 200);
}

/// Inputs that are not requests: a start (`--execute`) and the network's answer to an
/// outbound call (HT-9) belong to their execution, so a checkpoint keeps them: the call
/// answered is not sent again after a restart, the one still waiting is.
#[test]
fn a_checkpoint_keeps_internal_starts_and_the_networks_answers() {
    let yaml = "main:\n  steps:\n    - a:\n        call: http.get\n        args:\n          url: http://upstream.test/a\n        result: ra\n    - b:\n        call: http.get\n        args:\n          url: http://upstream.test/b\n        result: rb\n    - done:\n        return: ${ra.code + rb.code}\n";
    let fresh = || {
        let mut s = state();
        s.keep_for_checkpoints();
        s.deploy_source(SimTime::ZERO, "w", "w.yaml", yaml).unwrap();
        s
    };
    let mut before = fresh();
    let id = before.start_execution(SimTime::ZERO, "w", None).unwrap();
    let calls = before.take_outbound();
    assert_eq!(calls.len(), 1);
    let answer = |status| {
        wfsim_engine::http::HttpOutcome::Response(wfsim_engine::http::HttpResponse {
            status,
            headers: Vec::new(),
            body: b"ok".to_vec(),
        })
    };
    let t = SimTime::from_secs;
    before.answer_outbound(t(1), "w", &id, calls[0].call.id, answer(200));
    let second = before.take_outbound();
    let checkpoint = before.checkpoint().unwrap();
    let mut after = fresh();
    after.replay(&checkpoint, t(2));
    let again = after.take_outbound();
    assert_eq!(again.len(), 1, "only the unanswered call: {again:?}");
    assert_eq!(again[0].call, second[0].call);
    for s in [&mut before, &mut after] {
        s.answer_outbound(t(3), "w", &id, second[0].call.id, answer(201));
    }
    let path = format!("{EXECUTIONS}/{id}");
    let got = json(&mut after, t(4), &req("GET", &path, ""));
    assert_eq!(got.1["result"], "401", "{got:?}");
    assert_eq!(got, json(&mut before, t(4), &req("GET", &path, "")));
}

/// Workflows created, changed and deleted over the API (no execution started since) are
/// inputs of no execution: a checkpoint keeps them whole, so a restart from it serves the
/// same workflows at the same revisions.
#[test]
fn a_checkpoint_keeps_workflows_created_changed_and_deleted_over_the_api() {
    let workflows = "/v1/projects/p/locations/l/workflows";
    let source = |text: &str| serde_json::json!({ "sourceContents": text }).to_string();
    let mut orig = state();
    orig.keep_for_checkpoints();
    let t = SimTime::from_secs;
    for (k, name) in ["a", "b"].into_iter().enumerate() {
        let create = ApiRequest {
            query: format!("workflowId={name}"),
            ..req("POST", workflows, &source(REVISION_2))
        };
        let (status, op) = json(&mut orig, t(k as u64), &create);
        assert_eq!(status, 200, "{op}");
    }
    let (status, op) = json(
        &mut orig,
        t(2),
        &req("PATCH", &format!("{workflows}/a"), &source(WORKFLOW)),
    );
    assert_eq!(status, 200, "{op}");
    let (status, op) = json(
        &mut orig,
        t(3),
        &req("DELETE", &format!("{workflows}/b"), ""),
    );
    assert_eq!(status, 200, "{op}");
    let checkpoint = orig.checkpoint().unwrap();
    let mut resumed = state();
    resumed.replay(&checkpoint, t(4));
    let shown = |s: &mut State| {
        ["", "/a", "/b"].map(|w| json(s, t(4), &req("GET", &format!("{workflows}{w}"), "")))
    };
    let expected = shown(&mut orig);
    assert_eq!(
        expected[1].1["revisionId"].as_str().unwrap()[..6],
        *"000002"
    );
    assert_eq!(expected[2].0, 404, "b was deleted");
    assert_eq!(shown(&mut resumed), expected);
}

/// An execution started by `--execute` (an internal start) whose outbound call was
/// answered, then ended and evicted, leaves nothing in a checkpoint: a restart from it
/// neither starts it again (nor sends its call again) nor keeps its answer on disk.
#[test]
fn an_evicted_executions_internal_start_and_answer_leave_the_checkpoint() {
    let yaml = "main:\n  steps:\n    - a:\n        call: http.get\n        args:\n          url: http://upstream.test/a\n        result: ra\n    - done:\n        return: ${ra.code}\n";
    let fresh = || {
        let mut s = state();
        s.keep_for_checkpoints();
        s.set_keep_ended(SimTime::ZERO, 1);
        s.deploy_source(SimTime::ZERO, "w", "w.yaml", yaml).unwrap();
        s
    };
    let mut orig = fresh();
    let t = SimTime::from_secs;
    let mut ids = Vec::new();
    for k in 0..3 {
        let id = orig.start_execution(t(2 * k), "w", None).unwrap();
        let calls = orig.take_outbound();
        assert_eq!(calls.len(), 1);
        let answer = wfsim_engine::http::HttpOutcome::Response(wfsim_engine::http::HttpResponse {
            status: 200,
            headers: Vec::new(),
            body: b"ok".to_vec(),
        });
        orig.answer_outbound(t(2 * k + 1), "w", &id, calls[0].call.id, answer);
        ids.push(id);
    }
    let checkpoint = orig.checkpoint().unwrap();
    let naming = |id: &str| {
        let query = format!("execution={id}");
        checkpoint
            .iter()
            .filter(|(_, r)| r.query.contains(&query))
            .count()
    };
    assert_eq!(
        naming(&ids[0]),
        0,
        "the first execution is evicted: {checkpoint:?}"
    );
    assert_eq!(naming(&ids[2]), 1, "the held one's answer is kept");
    let mut resumed = fresh();
    resumed.replay(&checkpoint, t(10));
    assert!(resumed.take_outbound().is_empty(), "no call sent again");
    for id in &ids {
        let path = format!("{EXECUTIONS}/{id}");
        let got = json(&mut resumed, t(10), &req("GET", &path, ""));
        assert_eq!(got, json(&mut orig, t(10), &req("GET", &path, "")), "{id}");
    }
    let list = format!("{EXECUTIONS}?view=FULL");
    assert_eq!(
        json(&mut resumed, t(10), &req("GET", &list, "")),
        json(&mut orig, t(10), &req("GET", &list, ""))
    );
}
