//! EX-8 over REST: `stepEntries.list` and `stepEntries.get` as the Executions API's
//! discovery document describes them, at exact instants (sans I/O).

use serde_json::{Value as Json, json};
use wfsim_engine::{SimTime, defn};
use wfsim_server::{ApiRequest, Config, State};

const WORKFLOW: &str = "
- create:
    call: events.create_callback_endpoint
    result: cb
- wait:
    call: events.await_callback
    args:
      callback: ${cb}
      timeout: 60
    result: req
- check:
    switch:
      - condition: ${req.http_request.body == 41}
        raise: wrong
- done:
    return: ${req.http_request.body}
";

const EXECUTIONS: &str = "/v1/projects/p/locations/l/workflows/w/executions";

/// A server whose clock starts at the Unix epoch.
fn state() -> State {
    let mut s = State::new(
        Config {
            seed: 7,
            auth: false,
            ..Config::new("p", "l", "http://wfsim.test")
        },
        0,
    );
    s.deploy("w", defn::load("w.yaml", WORKFLOW).unwrap());
    s
}

fn get(path: &str, query: &str) -> ApiRequest {
    ApiRequest {
        method: "GET".into(),
        path: path.into(),
        query: query.into(),
        ..ApiRequest::default()
    }
}

fn post(path: &str, body: &str) -> ApiRequest {
    ApiRequest {
        method: "POST".into(),
        path: path.into(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
        ..ApiRequest::default()
    }
}

fn call(s: &mut State, at: u64, r: &ApiRequest) -> (u16, Json) {
    let res = s.handle(SimTime::from_secs(at), r);
    (res.status, serde_json::from_slice(&res.body).unwrap())
}

/// An execution started at 0 and its callback's path.
fn start(s: &mut State) -> (String, String) {
    let (_, created) = call(s, 0, &post(EXECUTIONS, ""));
    let execution = format!("/v1/{}", created["name"].as_str().unwrap());
    let (_, list) = call(s, 0, &get(&format!("{execution}/callbacks"), ""));
    let callback = format!("/v1/{}", list["callbacks"][0]["name"].as_str().unwrap());
    (execution, callback)
}

/// `step (TYPE STATE)` of each entry of a list page.
fn summary(page: &Json) -> Vec<String> {
    page["stepEntries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} ({} {})",
                e["entryId"].as_str().unwrap(),
                e["step"].as_str().unwrap(),
                e["stepType"].as_str().unwrap(),
                e["state"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_live_executions_entries_update_as_it_runs() {
    let mut s = state();
    let (execution, callback) = start(&mut s);
    let entries = format!("{execution}/stepEntries");
    let (status, page) = call(&mut s, 5, &get(&entries, ""));
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        summary(&page),
        [
            "1 create (STEP_STD_LIB_CALL STATE_SUCCEEDED)",
            "2 wait (STEP_STD_LIB_CALL STATE_IN_PROGRESS)",
        ]
    );
    assert_eq!(page["totalSize"], 2);
    let name = execution.trim_start_matches("/v1/");
    assert_eq!(
        page["stepEntries"][1],
        json!({
            "name": format!("{name}/stepEntries/2"),
            "entryId": "2",
            "createTime": "1970-01-01T00:00:00.000000000Z",
            "updateTime": "1970-01-01T00:00:00.000000000Z",
            "routine": "main",
            "step": "wait",
            "stepType": "STEP_STD_LIB_CALL",
            "state": "STATE_IN_PROGRESS",
            "navigationInfo": {"previous": "1"},
            "stepEntryMetadata": {},
        })
    );
    assert_eq!(call(&mut s, 7, &post(&callback, "42")).0, 200);
    let (_, page) = call(&mut s, 8, &get(&entries, ""));
    assert_eq!(
        summary(&page),
        [
            "1 create (STEP_STD_LIB_CALL STATE_SUCCEEDED)",
            "2 wait (STEP_STD_LIB_CALL STATE_SUCCEEDED)",
            "3 check (STEP_SWITCH STATE_SUCCEEDED)",
            "4 done (STEP_RETURN STATE_SUCCEEDED)",
        ]
    );
    let wait = &page["stepEntries"][1];
    assert_eq!(wait["updateTime"], "1970-01-01T00:00:07.000000000Z");
    assert_eq!(
        wait["navigationInfo"],
        json!({"previous": "1", "next": "3"})
    );
}

#[test]
fn pages_skip_filter_order_and_get_as_documented() {
    let mut s = state();
    let (execution, callback) = start(&mut s);
    call(&mut s, 1, &post(&callback, "41"));
    let entries = format!("{execution}/stepEntries");
    let mut list = |query: &str| {
        let (status, page) = call(&mut s, 2, &get(&entries, query));
        assert_eq!(status, 200, "{query}: {page}");
        page
    };
    // The switch's case raised: its condition entry and the switch failed with the error.
    let all = list("");
    assert_eq!(
        summary(&all)[2..],
        [
            "3 check (STEP_SWITCH STATE_FAILED)",
            "4 check (STEP_CONDITION STATE_FAILED)",
        ]
    );
    let condition = &all["stepEntries"][3];
    assert_eq!(
        condition["stepEntryMetadata"],
        json!({"progressType": "PROGRESS_TYPE_SWITCH", "progressNumber": "1"})
    );
    assert_eq!(condition["navigationInfo"], json!({"parent": "3"}));
    let payload: Json =
        serde_json::from_str(condition["exception"]["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload, "wrong");

    let first = list("pageSize=3");
    assert_eq!(summary(&first).len(), 3);
    let token = first["nextPageToken"].as_str().unwrap().to_owned();
    let second = list(&format!("pageSize=3&pageToken={token}"));
    assert_eq!(summary(&second), ["4 check (STEP_CONDITION STATE_FAILED)"]);
    assert!(second.get("nextPageToken").is_none());
    assert_eq!(
        summary(&list("skip=1&pageSize=2")),
        [
            "2 wait (STEP_STD_LIB_CALL STATE_SUCCEEDED)",
            "3 check (STEP_SWITCH STATE_FAILED)",
        ]
    );
    let failed = list("filter=state%3D%22FAILED%22");
    assert_eq!(failed["totalSize"], 2);
    assert_eq!(
        summary(&list("filter=entryId%3E1+AND+stepType%3DSTEP_STD_LIB_CALL")),
        ["2 wait (STEP_STD_LIB_CALL STATE_SUCCEEDED)"]
    );
    assert_eq!(
        summary(&list("filter=parent%3D3")),
        ["4 check (STEP_CONDITION STATE_FAILED)"]
    );
    assert_eq!(
        summary(&list("filter=createTime%3E%221970-01-01T00%3A00%3A00Z%22")),
        [
            "3 check (STEP_SWITCH STATE_FAILED)",
            "4 check (STEP_CONDITION STATE_FAILED)",
        ],
        "the steps after the callback began at 1 s"
    );
    assert_eq!(
        summary(&list("orderBy=entryId+desc&pageSize=1")),
        ["4 check (STEP_CONDITION STATE_FAILED)"]
    );
    assert_eq!(
        summary(&list("orderBy=step,stepType+desc&pageSize=2")),
        [
            "4 check (STEP_CONDITION STATE_FAILED)",
            "3 check (STEP_SWITCH STATE_FAILED)",
        ],
        "by name, then by the enum's number, highest first"
    );
    let numbers = list("%24alt=json%3Benum-encoding%3Dint&pageSize=1");
    assert_eq!(numbers["stepEntries"][0]["stepType"], 2);
    assert_eq!(numbers["stepEntries"][0]["state"], 2);

    let (status, one) = call(&mut s, 2, &get(&format!("{entries}/2"), ""));
    assert_eq!((status, &one), (200, &all["stepEntries"][1]));
    let (status, one) = call(
        &mut s,
        2,
        &get(
            &format!("{entries}/4"),
            "view=EXECUTION_ENTRY_VIEW_DETAILED",
        ),
    );
    assert_eq!((status, &one), (200, &all["stepEntries"][3]));
}

#[test]
fn bad_queries_and_unknown_entries_say_why() {
    let mut s = state();
    let (execution, _) = start(&mut s);
    let entries = format!("{execution}/stepEntries");
    for (path, query, status, why) in [
        (
            entries.clone(),
            "filter=stepNam%3Dx",
            400,
            "cannot be filtered on",
        ),
        (
            entries.clone(),
            "orderBy=parent",
            400,
            "cannot be ordered by",
        ),
        (
            entries.clone(),
            "pageToken=abc",
            400,
            "is not one this server gave",
        ),
        (entries.clone(), "skip=-1", 400, "skip=-1"),
        (entries.clone(), "view=ALL", 400, "view=ALL"),
        (
            entries.clone(),
            "color=red",
            400,
            "unknown query parameter 'color'",
        ),
        (
            format!("{entries}/9"),
            "",
            404,
            "has no step entry 9; it has 2",
        ),
        (format!("{entries}/0"), "", 404, "has no step entry 0"),
        (format!("{entries}/x"), "", 400, "not an entry id"),
        (
            format!("{EXECUTIONS}/nope/stepEntries"),
            "",
            404,
            "has no execution 'nope'",
        ),
    ] {
        let (got, body) = call(&mut s, 1, &get(&path, query));
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert_eq!(got, status, "{path}?{query}: {body}");
        assert!(message.contains(why), "{path}?{query}: {message}");
    }
}

/// The entries come from the engine, which a replay of the input log runs again: a
/// restarted server (`--state-dir`) lists the same history.
#[test]
fn a_replayed_server_lists_the_same_entries() {
    let mut before = state();
    before.record_inputs();
    let (execution, callback) = start(&mut before);
    call(&mut before, 3, &post(&callback, "42"));
    let inputs = before.take_inputs();
    let mut after = state();
    after.replay(&inputs, SimTime::from_secs(5));
    let entries = get(&format!("{execution}/stepEntries"), "");
    let (status, listed) = call(&mut after, 5, &entries);
    assert_eq!(status, 200);
    assert_eq!(summary(&listed).len(), 4);
    assert_eq!(listed, call(&mut before, 5, &entries).1);
}

/// EX-8's `variableData`: the variables in scope as of each entry's last update, given
/// only for an execution whose history is DETAILED and only in the DETAILED view, as GCP
/// gives them; an entry in progress shows what its step began with. The replay rebuilds
/// them with the rest.
#[test]
fn variable_data_for_a_detailed_history_in_the_detailed_view() {
    let mut s = state();
    s.record_inputs();
    let body = r#"{"executionHistoryLevel": "EXECUTION_HISTORY_DETAILED"}"#;
    let (_, created) = call(&mut s, 0, &post(EXECUTIONS, body));
    let execution = format!("/v1/{}", created["name"].as_str().unwrap());
    let entries = format!("{execution}/stepEntries");
    let detailed = "view=EXECUTION_ENTRY_VIEW_DETAILED";
    let (status, page) = call(&mut s, 1, &get(&entries, detailed));
    assert_eq!(status, 200, "{page}");
    let vars = |page: &Json, i: usize| page["stepEntries"][i]["variableData"].clone();
    let cb = vars(&page, 0)["variables"]["cb"].clone();
    assert!(
        cb["url"]
            .as_str()
            .unwrap()
            .starts_with("http://wfsim.test/"),
        "{cb}"
    );
    assert_eq!(
        vars(&page, 1),
        json!({"variables": {"cb": cb}}),
        "the await in progress: what it began with"
    );
    let (_, basic) = call(&mut s, 1, &get(&entries, "view=EXECUTION_ENTRY_VIEW_BASIC"));
    assert!(
        basic["stepEntries"][0].get("variableData").is_none(),
        "{basic}"
    );
    let (_, plain) = call(&mut s, 1, &get(&entries, ""));
    assert_eq!(plain, basic, "no view is the BASIC view");

    let (_, list) = call(&mut s, 1, &get(&format!("{execution}/callbacks"), ""));
    let callback = format!("/v1/{}", list["callbacks"][0]["name"].as_str().unwrap());
    assert_eq!(call(&mut s, 3, &post(&callback, "42")).0, 200);
    let (_, page) = call(&mut s, 4, &get(&entries, detailed));
    let req = &vars(&page, 1)["variables"]["req"];
    assert_eq!(
        req["http_request"]["body"], 42,
        "the await ended: what it left"
    );
    assert_eq!(vars(&page, 3)["variables"].as_object().unwrap().len(), 2);
    let (_, one) = call(&mut s, 4, &get(&format!("{entries}/2"), detailed));
    assert_eq!(one, page["stepEntries"][1]);

    // The same execution's replay lists the same variables.
    let inputs = s.take_inputs();
    let mut after = state();
    after.replay(&inputs, SimTime::from_secs(4));
    assert_eq!(call(&mut after, 4, &get(&entries, detailed)).1, page);

    // A BASIC history has none, whatever the view.
    let (_, created) = call(&mut s, 5, &post(EXECUTIONS, ""));
    let basic = format!("/v1/{}/stepEntries", created["name"].as_str().unwrap());
    let (_, page) = call(&mut s, 5, &get(&basic, detailed));
    assert!(
        page["stepEntries"][0].get("variableData").is_none(),
        "{page}"
    );
}
