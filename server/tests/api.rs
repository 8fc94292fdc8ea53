//! The sans-I/O API at exact instants: what no socket test can pin down.

use serde_json::Value as Json;
use wfsim_engine::interp::Trace;
use wfsim_engine::{SimTime, defn};
use wfsim_server::{ApiRequest, ClockMode, Config, Level, Observed, State};

const WORKFLOW: &str = "
- create:
    call: events.create_callback_endpoint
    result: cb
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
- done:
    return: ${req.http_request.body}
";

const EXECUTIONS: &str = "/v1/projects/p/locations/l/workflows/w/executions";

/// A server with nothing deployed.
fn blank() -> State {
    blank_on(ClockMode::default())
}

/// The tests' server settings, on `clock`, auth off.
fn config(clock: ClockMode) -> Config {
    Config {
        seed: 7,
        auth: false,
        clock,
        ..Config::new("p", "l", "http://wfsim.test")
    }
}

/// A server on `clock` with nothing deployed.
fn blank_on(clock: ClockMode) -> State {
    State::new(config(clock), 0)
}

fn state() -> State {
    state_on(ClockMode::default())
}

/// A server on `clock` with `WORKFLOW` deployed as `w`.
fn state_on(clock: ClockMode) -> State {
    let mut s = blank_on(clock);
    s.deploy("w", defn::load("w.yaml", WORKFLOW).unwrap());
    s
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

/// Starts an execution at t = 0; its path and its callback's path.
fn start(s: &mut State) -> (String, String) {
    let (_, created) = json(s, SimTime::ZERO, &req("POST", EXECUTIONS, ""));
    let execution = format!("/v1/{}", created["name"].as_str().unwrap());
    let (_, list) = json(
        s,
        SimTime::ZERO,
        &req("GET", &format!("{execution}/callbacks"), ""),
    );
    let callback = format!("/v1/{}", list["callbacks"][0]["name"].as_str().unwrap());
    (execution, callback)
}

fn result(s: &mut State, at: SimTime, execution: &str) -> Json {
    json(s, at, &req("GET", execution, "")).1["result"].clone()
}

/// SPEC, simulated time: a request that arrives exactly at an await's deadline is taken,
/// however the server's timer task and its connections are scheduled.
#[test]
fn a_request_at_the_deadline_instant_is_taken() {
    let mut s = state();
    let (execution, callback) = start(&mut s);
    let deadline = SimTime::from_secs(10);
    // The timer task closes instant 10 s at 10 s + 1 ns; a request of 10 s comes first.
    assert_eq!(s.next_deadline(), Some(deadline));
    assert_eq!(s.handle(deadline, &req("POST", &callback, "1")).status, 200);
    s.advance(deadline.saturating_add(std::time::Duration::from_nanos(1)));
    assert_eq!(result(&mut s, deadline, &execution), "1");
}

#[test]
fn a_request_one_nanosecond_late_finds_the_execution_over() {
    let mut s = state();
    let (execution, callback) = start(&mut s);
    let late = SimTime::from_nanos(10_000_000_001);
    assert_eq!(s.handle(late, &req("POST", &callback, "1")).status, 404);
    assert_eq!(result(&mut s, late, &execution), "\"timeout\"");
}

/// A server whose journal and events nobody takes builds neither, and answers and runs
/// as it would with them (CB-13: the slot rule's answer does not depend on who watches).
#[test]
fn unread_journal_and_unheard_events_are_not_built_and_change_no_answer() {
    let (mut watched, mut unwatched) = (state(), state());
    unwatched.journal_unread();
    unwatched.events_unheard();
    let (a, b) = (start(&mut watched), start(&mut unwatched));
    assert_eq!(a, b, "one seed, one execution and callback name");
    let (execution, callback) = a;
    let at = SimTime::from_secs(1);
    for body in ["1", "2"] {
        assert_eq!(
            watched.handle(at, &req("POST", &callback, body)).status,
            unwatched.handle(at, &req("POST", &callback, body)).status
        );
    }
    assert!(
        watched
            .take_journal()
            .iter()
            .any(|o| matches!(o, Observed::Callback(_)))
    );
    assert!(
        watched
            .take_events()
            .iter()
            .any(|e| e.kind == "callback.answered")
    );
    assert_eq!(unwatched.take_journal(), Vec::new());
    assert!(unwatched.take_events().is_empty());
    assert_eq!(
        result(&mut watched, at, &execution),
        result(&mut unwatched, at, &execution)
    );
}

/// A late timer fires at its own instant: the journal and the end time do not depend on
/// when the host got round to it.
#[test]
fn timers_fire_at_their_own_instants_however_late_the_call() {
    let mut s = state();
    s.observe_executions();
    let (execution, _) = start(&mut s);
    s.advance(SimTime::from_secs(3600));
    let timed_out: Vec<SimTime> = s
        .take_journal()
        .into_iter()
        .filter_map(|o| match o {
            Observed::Engine {
                at,
                event: Trace::AwaitTimedOut { .. },
                ..
            } => Some(at),
            _ => None,
        })
        .collect();
    assert_eq!(timed_out, vec![SimTime::from_secs(10)]);
    let (_, got) = json(
        &mut s,
        SimTime::from_secs(3600),
        &req("GET", &execution, ""),
    );
    assert_eq!(got["endTime"], "1970-01-01T00:00:10.000000000Z");
}

/// A restart: a fresh state fed another's recorded inputs becomes that state, and timers
/// that fell due while it was down fire at their own instants.
#[test]
fn replaying_the_recorded_inputs_rebuilds_the_state() {
    let mut before = state();
    before.record_inputs();
    before.observe_executions();
    let (execution, callback) = start(&mut before);
    assert_eq!(
        before
            .handle(SimTime::from_secs(2), &req("POST", &callback, "41"))
            .status,
        200
    );
    assert_eq!(
        before
            .handle(SimTime::from_secs(3), &req("POST", &callback, "42"))
            .status,
        404,
        "the first request ended the execution"
    );
    let inputs = before.take_inputs();
    // The create and both callbacks; the read of the callbacks list changes nothing.
    assert_eq!(inputs.len(), 3);
    let journal = before.take_journal();

    let mut after = state();
    after.observe_executions();
    after.replay(&inputs, SimTime::from_secs(5));
    assert_eq!(after.take_journal(), journal);
    let now = SimTime::from_secs(5);
    let get = req("GET", &execution, "");
    assert_eq!(json(&mut after, now, &get), json(&mut before, now, &get));
    assert_eq!(result(&mut after, now, &execution), "41");
}

/// `--clock manual`: only `clock:advance` moves time. Advancing through an instant fires
/// the timers due at it, at that instant; the body is checked.
#[test]
fn a_manual_clock_moves_only_when_advanced() {
    let mut s = state_on(ClockMode::Manual);
    // As the glue does: a manual clock's requests arrive at the time it shows.
    let at_clock = |s: &mut State, r: &ApiRequest| {
        let now = s.clock_now();
        json(s, now, r)
    };
    let (status, exec) = at_clock(&mut s, &req("POST", EXECUTIONS, ""));
    assert_eq!(status, 200, "{exec}");
    let id = exec["name"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let advance = |secs: &str| req("POST", "/v1/wfsim/clock:advance", secs);
    let (status, clock) = at_clock(&mut s, &advance(r#"{"seconds": 9.5}"#));
    assert_eq!(status, 200, "{clock}");
    assert_eq!(clock["elapsedSeconds"], 9.5);
    assert_eq!(clock["nextDeadline"], "1970-01-01T00:00:10.000000000Z");
    assert_eq!(s.clock_now(), SimTime::from_nanos(9_500_000_000));
    assert_eq!(
        s.execution_state("w", &id),
        Some(wfsim_engine::ExecutionState::Active)
    );
    // Through t = 10 s, the await's deadline: it times out at 10 s, not at 10.5 s.
    let (status, _) = at_clock(&mut s, &advance(r#"{"seconds": 1}"#));
    assert_eq!(status, 200);
    assert_eq!(
        s.execution_state("w", &id),
        Some(wfsim_engine::ExecutionState::Succeeded)
    );
    assert_eq!(s.execution_ended_at("w", &id), Some(SimTime::from_secs(10)));
    assert_eq!(
        s.jump_to_next_deadline(),
        None,
        "a manual clock never jumps"
    );
    for bad in ["", "[1]", r#"{"seconds": -1}"#, r#"{"seconds": "5"}"#, "{"] {
        let (status, err) = at_clock(&mut s, &advance(bad));
        assert_eq!(status, 400, "{bad}: {err}");
        assert_eq!(err["error"]["status"], "INVALID_ARGUMENT", "{bad}");
    }
    assert_eq!(s.clock_now(), SimTime::from_nanos(10_500_000_000));
}

/// `"closeInstant": false`: the clock stands at the instant reached, its timers waiting, so
/// a request sent then comes before them (SPEC: requests before timers); the next advance,
/// even by 0, closes it at its own instant. What `wfsim conformance --target` relies on.
#[test]
fn an_advance_can_leave_its_instant_open() {
    let mut s = state_on(ClockMode::Manual);
    let at_clock = |s: &mut State, r: &ApiRequest| {
        let now = s.clock_now();
        json(s, now, r)
    };
    let (_, exec) = at_clock(&mut s, &req("POST", EXECUTIONS, ""));
    let id = exec["name"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let advance = |body: &str| req("POST", "/v1/wfsim/clock:advance", body);
    // To t = 10 s, the await's deadline, left open: the await still waits.
    let (status, clock) = at_clock(
        &mut s,
        &advance(r#"{"seconds": 10, "closeInstant": false}"#),
    );
    assert_eq!(status, 200, "{clock}");
    assert_eq!(clock["nextDeadline"], "1970-01-01T00:00:10.000000000Z");
    assert_eq!(
        s.execution_state("w", &id),
        Some(wfsim_engine::ExecutionState::Active)
    );
    // Closing it (an advance by 0) times the await out at 10 s.
    let (status, _) = at_clock(&mut s, &advance(r#"{"seconds": 0}"#));
    assert_eq!(status, 200);
    assert_eq!(s.execution_ended_at("w", &id), Some(SimTime::from_secs(10)));
    let (status, err) = at_clock(&mut s, &advance(r#"{"seconds": 1, "closeInstant": "no"}"#));
    assert_eq!(status, 400, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'closeInstant' must be true or false")
    );
}

/// Starts an execution at `at`; its path and its callback's path.
fn start_at(s: &mut State, at: SimTime) -> (String, String) {
    let (status, created) = json(s, at, &req("POST", EXECUTIONS, ""));
    assert_eq!(status, 200, "{created}");
    let execution = format!("/v1/{}", created["name"].as_str().unwrap());
    let (_, list) = json(s, at, &req("GET", &format!("{execution}/callbacks"), ""));
    let callback = format!("/v1/{}", list["callbacks"][0]["name"].as_str().unwrap());
    (execution, callback)
}

fn listed(s: &mut State, at: SimTime) -> Vec<String> {
    let (_, list) = json(s, at, &req("GET", EXECUTIONS, ""));
    list["executions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| format!("/v1/{}", e["name"].as_str().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

fn message(s: &mut State, at: SimTime, r: &ApiRequest) -> (u16, String) {
    let (status, body) = json(s, at, r);
    (
        status,
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// `--keep-ended 2`: four executions end; the two that ended first are evicted. A GET of
/// one is 404 saying so, its callback endpoint is 404 as after any end (CB-11), a cancel
/// 404; the list and the count hold the other two.
#[test]
fn keep_ended_evicts_the_oldest_ended_and_says_so() {
    let mut s = state();
    s.set_keep_ended(SimTime::ZERO, 2);
    let t = SimTime::from_secs;
    let started: Vec<(String, String)> = (0..4).map(|k| start_at(&mut s, t(k))).collect();
    // Each times out 10 s after its start (the workflow returns "timeout").
    s.advance(t(20));
    assert_eq!(s.execution_count(), 2);
    let mut kept = listed(&mut s, t(20));
    kept.sort();
    let mut want = vec![started[2].0.clone(), started[3].0.clone()];
    want.sort();
    assert_eq!(kept, want);
    for (execution, callback) in &started[..2] {
        let (status, m) = message(&mut s, t(20), &req("GET", execution, ""));
        assert_eq!(status, 404, "{m}");
        assert!(
            m.contains("ended and was evicted") && m.contains("--keep-ended 2"),
            "{m}"
        );
        let (status, m) = message(&mut s, t(20), &req("POST", callback, "1"));
        assert_eq!(status, 404, "CB-11 after eviction: {m}");
        assert!(m.contains("evicted"), "{m}");
        let cancel = format!("{execution}:cancel");
        assert_eq!(s.handle(t(20), &req("POST", &cancel, "")).status, 404);
        let logs = format!("{execution}/logs");
        assert_eq!(s.handle(t(20), &req("GET", &logs, "")).status, 404);
    }
    for (execution, _) in &started[2..] {
        assert_eq!(result(&mut s, t(20), execution), "\"timeout\"");
    }
}

/// Oldest-ended, not oldest-started: A starts first and ends last, so B goes.
#[test]
fn keep_ended_evicts_by_when_each_ended() {
    let mut s = state();
    s.set_keep_ended(SimTime::ZERO, 1);
    let t = SimTime::from_secs;
    let (a, _) = start_at(&mut s, t(0));
    let (b, b_callback) = start_at(&mut s, t(1));
    assert_eq!(
        s.handle(t(2), &req("POST", &b_callback, "\"b\"")).status,
        200
    );
    assert_eq!(
        result(&mut s, t(3), &b),
        "\"b\"",
        "B ended at 2 s and is kept"
    );
    s.advance(t(11));
    assert_eq!(result(&mut s, t(11), &a), "\"timeout\"");
    assert_eq!(s.handle(t(11), &req("GET", &b, "")).status, 404);
    // An ACTIVE execution is never evicted, however many ended.
    let (c, _) = start_at(&mut s, t(12));
    assert_eq!(s.handle(t(12), &req("GET", &c, "")).status, 200);
    assert_eq!(s.execution_count(), 2);
}

/// Only the last N evicted names are remembered: an older one is 404 with a message that
/// says it may have been evicted, not that it was.
#[test]
fn keep_ended_forgets_old_names_and_says_it_may_have() {
    let mut s = state();
    s.set_keep_ended(SimTime::ZERO, 1);
    let t = SimTime::from_secs;
    let first = start_at(&mut s, t(0)).0;
    let second = start_at(&mut s, t(1)).0;
    start_at(&mut s, t(2));
    s.advance(t(20));
    let (status, m) = message(&mut s, t(20), &req("GET", &second, ""));
    assert_eq!(status, 404);
    assert!(m.contains("ended and was evicted"), "{m}");
    let (status, m) = message(&mut s, t(20), &req("GET", &first, ""));
    assert_eq!(status, 404);
    assert!(
        m.contains("has no execution") && m.contains("2 ended executions have been evicted"),
        "{m}"
    );
    let never = format!("{EXECUTIONS}/never-was");
    let (_, m) = message(&mut s, t(20), &req("GET", &never, ""));
    assert!(m.contains("evicted under --keep-ended 1"), "{m}");
    let (_, m) = message(&mut state(), t(0), &req("GET", &never, ""));
    assert_eq!(
        m, "workflow 'w' has no execution 'never-was'",
        "no eviction yet"
    );
}

/// Evictions are not logged: a replay of the input log derives them, so a restarted
/// state holds the same executions and answers the same.
#[test]
fn keep_ended_evictions_replay_to_the_same_executions() {
    let t = SimTime::from_secs;
    let mut s = state();
    s.record_inputs();
    // Kept in the input log like any input: the replay below is not told N.
    s.set_keep_ended(SimTime::ZERO, 2);
    let mut paths = Vec::new();
    for k in 0..6 {
        let (execution, callback) = start_at(&mut s, t(k));
        if k % 2 == 1 {
            // Odd ones end at once, before the even ones time out.
            assert_eq!(s.handle(t(k), &req("POST", &callback, "1")).status, 200);
        }
        paths.push(execution);
    }
    s.advance(t(13));
    let inputs = s.take_inputs();
    let mut again = state();
    again.replay(&inputs, t(13));
    assert_eq!(again.execution_count(), s.execution_count());
    assert_eq!(listed(&mut again, t(13)), listed(&mut s, t(13)));
    let mut statuses = Vec::new();
    for p in &paths {
        let (status, body) = json(&mut s, t(13), &req("GET", p, ""));
        assert_eq!(json(&mut again, t(13), &req("GET", p, "")), (status, body));
        statuses.push(status);
    }
    // Ends: 1 at 1 s, 3 at 3 s, 5 at 5 s (1 evicted), 0 at 10 s (3 evicted), 2 at 12 s (5
    // evicted); 4 still waits.
    assert_eq!(statuses, [200, 404, 200, 404, 200, 404], "{paths:?}");
}

/// A workflow deployed from a file (`wfsim serve FILE`) is an input like a request: the
/// replay of a restart deploys it again, at its instant, so the executions started from it
/// come back with the revision they ran.
#[test]
fn replaying_the_recorded_inputs_deploys_what_was_deployed_from_files() {
    let mut before = blank();
    before.record_inputs();
    before
        .deploy_source(SimTime::ZERO, "w", "w.yaml", WORKFLOW)
        .unwrap();
    let (first, _) = start(&mut before);
    let revised = WORKFLOW.replace("timeout: 10", "timeout: 20");
    before
        .deploy_source(SimTime::from_secs(1), "w", "w.yaml", &revised)
        .unwrap();
    let (_, created) = json(
        &mut before,
        SimTime::from_secs(1),
        &req("POST", EXECUTIONS, ""),
    );
    let second = format!("/v1/{}", created["name"].as_str().unwrap());
    let inputs = before.take_inputs();

    let mut after = blank();
    after.replay(&inputs, SimTime::from_secs(2));
    assert_eq!(after.workflow_names(), ["w"]);
    let now = SimTime::from_secs(2);
    for execution in [&first, &second] {
        let get = req("GET", execution, "");
        let (status, resource) = json(&mut after, now, &get);
        assert_eq!(status, 200, "{resource}");
        assert_eq!(resource, json(&mut before, now, &get).1);
    }
    let revision =
        |s: &mut State, e: &str| json(s, now, &req("GET", e, "")).1["workflowRevisionId"].clone();
    assert_ne!(revision(&mut after, &first), revision(&mut after, &second));
}

/// CB-9 as the journal tells it: a request the slot rule refuses (here a GET to a POST
/// endpoint) leaves the execution's endpoints as they were; one it hands to the waiting
/// await changes them.
#[test]
fn cb_9_the_journal_says_which_requests_changed_the_endpoints() {
    let mut s = state();
    s.observe_executions();
    let (_, callback) = start(&mut s);
    let refused = s.handle(SimTime::from_secs(1), &req("GET", &callback, ""));
    assert_ne!(refused.status, 200);
    let taken = s.handle(SimTime::from_secs(2), &req("POST", &callback, "41"));
    assert_eq!(taken.status, 200);
    let deliveries: Vec<(u16, Option<bool>)> = s
        .take_journal()
        .into_iter()
        .filter_map(|o| match o {
            Observed::Callback(d) => Some((d.status, d.changed)),
            _ => None,
        })
        .collect();
    assert_eq!(
        deliveries,
        [(refused.status, Some(false)), (200, Some(true))]
    );
}

/// The operator's log: an execution that ends says so once, with its state and how long
/// it ran.
#[test]
fn an_ended_execution_is_announced_once_with_its_state_and_duration() {
    let mut s = state();
    let (execution, callback) = start(&mut s);
    s.handle(SimTime::from_secs(2), &req("POST", &callback, "41"));
    s.handle(SimTime::from_secs(3), &req("POST", &callback, "42"));
    let ended: Vec<_> = s
        .take_events()
        .into_iter()
        .filter(|e| e.kind == "execution.ended")
        .collect();
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(format!("/v1/{}", ended[0].name), execution);
    assert_eq!(
        ended[0].detail,
        [
            ("state", "SUCCEEDED".to_owned()),
            ("duration", "2s".to_owned())
        ]
    );
}

/// A failed execution's end says why and where, at the file's line and column (EX-6's
/// form), so the operator's log answers "why did it fail" without a second request.
#[test]
fn a_failed_execution_is_announced_with_its_error_and_step() {
    let mut s = state();
    let source = "main:\n  steps:\n    - boom:\n        raise: {code: 7, message: broke}\n";
    s.deploy_source(SimTime::ZERO, "f", "flows/f.yaml", source)
        .unwrap();
    s.start_execution(SimTime::ZERO, "f", None).unwrap();
    let ended: Vec<_> = s
        .take_events()
        .into_iter()
        .filter(|e| e.kind == "execution.ended")
        .collect();
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(
        ended[0].detail,
        [
            ("state", "FAILED".to_owned()),
            ("duration", "0s".to_owned()),
            ("error", "broke".to_owned()),
            ("at", "step 'boom' (main, flows/f.yaml:3:7)".to_owned()),
        ]
    );
    assert_eq!(ended[0].level, Level::Error);
}

/// `--log-level`: `debug` adds a line per API request with its status and, for an error,
/// the reason the client was given; below it, none is built; `error` keeps failures only.
#[test]
fn the_log_level_decides_which_events_are_built() {
    let mut s = state();
    let (execution, _) = start(&mut s);
    let missing = format!("{execution}x");
    s.handle(SimTime::ZERO, &req("GET", &missing, ""));
    assert!(
        s.take_events().iter().all(|e| e.kind != "request.answered"),
        "none at info"
    );
    s.set_log_level(Level::Debug);
    s.handle(SimTime::ZERO, &req("GET", &missing, ""));
    s.handle(SimTime::ZERO, &req("GET", &execution, ""));
    let requests: Vec<_> = s
        .take_events()
        .into_iter()
        .filter(|e| e.kind == "request.answered")
        .collect();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0].name, missing);
    assert_eq!(requests[0].level, Level::Debug);
    assert_eq!(
        requests[0].detail[..2],
        [("method", "GET".to_owned()), ("status", "404".to_owned())]
    );
    assert!(
        requests[0].detail[2].1.contains("has no execution"),
        "{:?}",
        requests[0].detail
    );
    assert_eq!(
        requests[1].detail,
        [("method", "GET".to_owned()), ("status", "200".to_owned())]
    );
    s.set_log_level(Level::Error);
    start(&mut s);
    assert!(s.take_events().is_empty(), "an execution started is info");
}

/// Output-only fields of an execution (`name`, `state`, `result`, …) are accepted in a
/// create request and ignored, as Google's API does: the server sets them itself.
#[test]
fn output_only_fields_of_a_new_execution_are_ignored() {
    let mut s = state();
    let body = r#"{"argument": "{}", "name": "mine", "state": "SUCCEEDED", "result": "1",
                   "workflowRevisionId": "000009-abc"}"#;
    let (status, created) = json(&mut s, SimTime::ZERO, &req("POST", EXECUTIONS, body));
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["state"], "ACTIVE");
    assert!(
        !created["name"].as_str().unwrap().ends_with("/mine"),
        "{created}"
    );
    assert!(created.get("result").is_none(), "{created}");
    assert_ne!(created["workflowRevisionId"], "000009-abc");
}

/// A deploy from a file answers with the revision it made, the one a read of the workflow
/// then shows as current; a second source makes a second revision, current in its turn.
#[test]
fn a_deploy_from_a_file_names_the_revision_the_workflow_shows() {
    let mut s = state();
    let path = "/v1/projects/p/locations/l/workflows/f";
    for (t, source) in [(0, WORKFLOW.to_owned()), (1, WORKFLOW.replace("10", "20"))] {
        let revision = s
            .deploy_source(SimTime::from_secs(t), "f", "f.yaml", &source)
            .unwrap();
        let (status, shown) = json(&mut s, SimTime::from_secs(t), &req("GET", path, ""));
        assert_eq!(status, 200, "{shown}");
        assert_eq!(shown["revisionId"], revision.as_str(), "{shown}");
    }
}

/// `--execute` with an argument: the execution reads it and a read of it shows it as
/// given; replaying the recorded inputs starts it again with the same argument.
#[test]
fn an_execution_started_with_an_argument_reads_it_and_shows_it() {
    let source = "main:\n  params: [args]\n  steps:\n    - done:\n        return: ${args.x + 1}\n";
    let mut before = blank();
    before.record_inputs();
    before.deploy("a", defn::load("a.yaml", source).unwrap());
    let id = before
        .start_execution(SimTime::ZERO, "a", Some(r#"{"x": 41}"#.into()))
        .unwrap();
    let inputs = before.take_inputs();
    let mut after = blank();
    after.deploy("a", defn::load("a.yaml", source).unwrap());
    after.replay(&inputs, SimTime::from_secs(1));
    let path = format!("/v1/projects/p/locations/l/workflows/a/executions/{id}");
    for s in [&mut before, &mut after] {
        let (status, shown) = json(s, SimTime::from_secs(1), &req("GET", &path, ""));
        assert_eq!(status, 200, "{shown}");
        assert_eq!(shown["argument"], r#"{"x": 41}"#, "{shown}");
        assert_eq!(shown["result"], "42", "{shown}");
    }
}

/// `callbacks.list` lists an execution's endpoints in the order it created them, however
/// their ids sort: a client that lists again finds the new ones at the end.
#[test]
fn the_callbacks_list_is_in_creation_order() {
    let methods = ["PUT", "GET", "DELETE", "POST", "PATCH"];
    let mut source = String::new();
    for (i, m) in methods.iter().enumerate() {
        source += &format!(
            "- e{i}:\n    call: events.create_callback_endpoint\n    args:\n      http_callback_method: {m}\n"
        );
    }
    source += "- hold:\n    call: sys.sleep\n    args:\n      seconds: 60\n";
    let mut s = blank();
    s.deploy("w", defn::load("w.yaml", &source).unwrap());
    let (_, created) = json(&mut s, SimTime::ZERO, &req("POST", EXECUTIONS, ""));
    let execution = format!("/v1/{}", created["name"].as_str().unwrap());
    let (status, list) = json(
        &mut s,
        SimTime::ZERO,
        &req("GET", &format!("{execution}/callbacks"), ""),
    );
    assert_eq!(status, 200, "{list}");
    let listed: Vec<&str> = list["callbacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["method"].as_str().unwrap())
        .collect();
    assert_eq!(listed, methods, "{list}");
}

/// `--clock auto`'s jumps are inputs: replaying the log moves a fresh server's clock as
/// the jump did, and fires the timeouts it fired.
#[test]
fn replaying_the_recorded_inputs_jumps_the_clock_as_it_jumped() {
    let mut before = state_on(ClockMode::Auto);
    before.record_inputs();
    let (execution, _) = start(&mut before);
    assert_eq!(before.jump_to_next_deadline(), Some(SimTime::from_secs(10)));
    let inputs = before.take_inputs();
    let mut after = state_on(ClockMode::Auto);
    after.replay(&inputs, SimTime::ZERO);
    assert_eq!(after.clock_now(), SimTime::from_secs(10));
    assert_eq!(
        result(&mut after, SimTime::from_secs(10), &execution),
        "\"timeout\""
    );
}

/// `--token`: a token adopted as the master is granted every permission, for ever; with
/// auth on, a request without it is refused.
#[test]
fn an_adopted_master_token_is_granted_everything() {
    let mut s = State::new(
        Config {
            auth: true,
            ..config(ClockMode::default())
        },
        0,
    );
    s.adopt_master_token("master");
    let list = "/v1/projects/p/locations/l/workflows";
    let with = |token: Option<&str>| {
        let mut r = req("GET", list, "");
        if let Some(t) = token {
            r.headers
                .push(("Authorization".into(), format!("Bearer {t}")));
        }
        r
    };
    let year = SimTime::from_secs(365 * 24 * 3600);
    assert_eq!(s.handle(year, &with(Some("master"))).status, 200);
    assert_eq!(s.handle(year, &with(Some("other"))).status, 401);
    assert_eq!(s.handle(year, &with(None)).status, 401);
}

/// An API request's body may be 512 KiB exactly; one byte more is refused 413 with the
/// reason.
#[test]
fn an_api_body_of_the_limit_is_read_and_one_byte_more_refused() {
    let mut s = state();
    let at_limit = " ".repeat(512 * 1024 - 2) + "{}";
    let (status, body) = json(&mut s, SimTime::ZERO, &req("POST", EXECUTIONS, &at_limit));
    assert_eq!(status, 200, "{body}");
    let over = at_limit + " ";
    let (status, body) = json(&mut s, SimTime::ZERO, &req("POST", EXECUTIONS, &over));
    assert_eq!(status, 413, "{body}");
    assert!(body.to_string().contains("512 KiB"), "{body}");
}

/// A lower `--keep-ended` evicts at once, oldest-ended first, down to it; a higher one
/// evicts nothing.
#[test]
fn keep_ended_lowered_evicts_at_once_down_to_it() {
    let mut s = state();
    let t = SimTime::from_secs;
    let started: Vec<(String, String)> = (0..3).map(|k| start_at(&mut s, t(k))).collect();
    s.advance(t(20));
    assert_eq!(s.keep_ended(), 10_000, "the default");
    s.set_keep_ended(t(20), 5);
    assert_eq!((s.keep_ended(), s.execution_count()), (5, 3));
    s.set_keep_ended(t(20), 1);
    assert_eq!((s.keep_ended(), s.execution_count()), (1, 1));
    for (k, (execution, _)) in started.iter().enumerate() {
        let status = s.handle(t(20), &req("GET", execution, "")).status;
        assert_eq!(status, if k == 2 { 200 } else { 404 }, "execution {k}");
    }
}

/// Live mode prints each `sys.log` line once, when it is written, however many times the
/// execution runs after it.
#[test]
fn each_log_line_is_printed_once() {
    let mut s = blank();
    let source = "- one:\n    call: sys.log\n    args:\n      text: first\n- nap:\n    call: sys.sleep\n    args:\n      seconds: 1\n- two:\n    call: sys.log\n    args:\n      text: second\n- nap_again:\n    call: sys.sleep\n    args:\n      seconds: 1\n";
    s.deploy("w", defn::load("w.yaml", source).unwrap());
    s.start_execution(SimTime::ZERO, "w", None).unwrap();
    let mut printed = s.take_log_lines();
    for k in 1..=3 {
        s.advance(SimTime::from_secs(k));
        printed.extend(s.take_log_lines());
    }
    let texts: Vec<&str> = printed
        .iter()
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(texts, ["first", "second"], "{printed:?}");
}

/// The journal says which requests the slot rule stored (§3): one that finds no await
/// waiting is buffered; one an await takes is not, nor is one refused.
#[test]
fn the_journal_says_which_requests_were_buffered() {
    let source = "- create:\n    call: events.create_callback_endpoint\n    result: cb\n- nap:\n    call: sys.sleep\n    args:\n      seconds: 10\n- wait:\n    call: events.await_callback\n    args:\n      callback: ${cb}\n      timeout: 60\n- again:\n    call: events.await_callback\n    args:\n      callback: ${cb}\n      timeout: 60\n";
    let mut s = blank();
    s.deploy("w", defn::load("w.yaml", source).unwrap());
    s.observe_executions();
    let (_, callback) = start(&mut s);
    let t = SimTime::from_secs;
    assert_eq!(s.handle(t(1), &req("POST", &callback, "1")).status, 200);
    assert_eq!(s.handle(t(2), &req("POST", &callback, "2")).status, 429);
    s.advance(t(11));
    assert_eq!(s.handle(t(12), &req("POST", &callback, "3")).status, 200);
    let buffered: Vec<(u16, bool)> = s
        .take_journal()
        .into_iter()
        .filter_map(|o| match o {
            Observed::Callback(d) => Some((d.status, d.buffered)),
            _ => None,
        })
        .collect();
    assert_eq!(buffered, [(200, true), (429, false), (200, false)]);
    // The operator's log says so too: only the stored request is marked stored.
    let stored: Vec<bool> = s
        .take_events()
        .into_iter()
        .filter(|e| e.kind == "callback.answered")
        .map(|e| e.detail.contains(&("stored", "true".to_owned())))
        .collect();
    assert_eq!(stored, [true, false, false]);
}

/// An execution's argument may be 32 KiB of JSON text exactly; one byte more is refused
/// with the reason.
#[test]
fn an_argument_of_the_limit_is_taken_and_one_byte_more_refused() {
    let mut s = state();
    let body = |n: usize| {
        let text = format!("\"{}\"", "a".repeat(n - 2));
        assert_eq!(text.len(), n);
        serde_json::json!({ "argument": text }).to_string()
    };
    let (status, e) = json(
        &mut s,
        SimTime::ZERO,
        &req("POST", EXECUTIONS, &body(32 * 1024)),
    );
    assert_eq!(status, 200, "{e}");
    let (status, e) = json(
        &mut s,
        SimTime::ZERO,
        &req("POST", EXECUTIONS, &body(32 * 1024 + 1)),
    );
    assert_eq!(status, 400, "{e}");
    assert!(e.to_string().contains("32 KiB"), "{e}");
}

/// Each execution draws from a seed of its own (CB-2): ten executions of one workflow on
/// one server get ten callback ids and ten `uuid.generate` values.
#[test]
fn cb_2_each_execution_draws_from_its_own_seed() {
    let source = "- cb:\n    call: events.create_callback_endpoint\n    result: cb\n- id:\n    call: uuid.generate\n    result: u\n- done:\n    return: ${[cb.url, u]}\n";
    let mut s = blank();
    s.deploy("w", defn::load("w.yaml", source).unwrap());
    let results: Vec<Json> = (0..10)
        .map(|_| {
            let id = s.start_execution(SimTime::ZERO, "w", None).unwrap();
            let path = format!("/v1/projects/p/locations/l/workflows/w/executions/{id}");
            let shown = json(&mut s, SimTime::ZERO, &req("GET", &path, "")).1;
            let result: Json = serde_json::from_str(shown["result"].as_str().unwrap()).unwrap();
            let url = result[0].as_str().unwrap();
            let callback_id = url.rsplit('/').next().unwrap().to_owned();
            serde_json::json!([callback_id, result[1]])
        })
        .collect();
    for (i, a) in results.iter().enumerate() {
        for b in &results[i + 1..] {
            assert_ne!(a[0], b[0], "callback ids");
            assert_ne!(a[1], b[1], "uuids");
        }
    }
}

/// A harness takes an execution out of the state once the run is over (`explore
/// --system`): the engine's execution, its outcome and trace, and when it started.
#[test]
fn an_execution_is_taken_out_with_its_start() {
    let mut s = state();
    let (execution, callback) = start(&mut s);
    let t = SimTime::from_secs;
    assert_eq!(s.handle(t(3), &req("POST", &callback, "41")).status, 200);
    let id = execution.rsplit('/').next().unwrap().to_owned();
    assert!(
        state().into_execution("w", &id).is_none(),
        "not on another server"
    );
    let (taken, started) = s.into_execution("w", &id).unwrap();
    assert_eq!(started, SimTime::ZERO);
    assert_eq!(taken.state(), wfsim_engine::ExecutionState::Succeeded);
    assert_eq!(taken.ended_at(), Some(t(3)));
    assert!(!taken.trace().is_empty());
}
