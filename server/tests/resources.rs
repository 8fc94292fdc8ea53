//! The Workflows API (deploy, revisions, operations) and the Execution resource as the API
//! defines them (views, every field, list pages, filter, order), on the sans-I/O state.

use serde_json::{Value as Json, json};
use wfsim_server::{ApiRequest, ClockMode, Config, State};

const PARENT: &str = "/v1/projects/p/locations/l";

/// Sleeps `args.s` seconds, then returns `args`; or raises when `args.fail`.
const SOURCE: &str = "main:
  params: [args]
  steps:
    - check:
        switch:
          - condition: ${default(map.get(args, \"fail\"), false)}
            raise: {code: 7, message: failed on purpose}
    - wait:
        call: sys.sleep
        args:
          seconds: ${args.s}
    - done:
        return: ${args}
";

fn state() -> State {
    State::new(
        Config {
            seed: 3,
            auth: false,
            clock: ClockMode::Manual,
            ..Config::new("p", "l", "http://wfsim.test")
        },
        1_704_067_200_000_000_000,
    )
}

fn call(s: &mut State, method: &str, path: &str, body: Json) -> (u16, Json) {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let req = ApiRequest {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: if body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(&body).unwrap()
        },
    };
    let now = s.clock_now();
    let res = s.handle(now, &req);
    (res.status, serde_json::from_slice(&res.body).unwrap())
}

/// Creates workflow `flow` from `body` (its `sourceContents` and settings).
fn create_flow(s: &mut State, body: Json) {
    let (status, op) = call(
        s,
        "POST",
        &format!("{PARENT}/workflows?workflowId=flow"),
        body,
    );
    assert_eq!(status, 200, "{op}");
}

fn advance(s: &mut State, seconds: f64) {
    let (status, _) = call(
        s,
        "POST",
        "/v1/wfsim/clock:advance",
        json!({"seconds": seconds}),
    );
    assert_eq!(status, 200);
}

fn deploy(s: &mut State, name: &str, source: &str) -> Json {
    let (status, op) = call(
        s,
        "POST",
        &format!("{PARENT}/workflows?workflowId={name}"),
        json!({"sourceContents": source}),
    );
    assert_eq!(status, 200, "{op}");
    op
}

fn run(s: &mut State, workflow: &str, argument: Json, labels: Json) -> String {
    let (status, e) = call(
        s,
        "POST",
        &format!("{PARENT}/workflows/{workflow}/executions"),
        json!({"argument": argument.to_string(), "labels": labels}),
    );
    assert_eq!(status, 200, "{e}");
    e["name"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn a_workflow_is_deployed_revised_and_deleted_through_the_api() {
    let mut s = state();
    let op = deploy(&mut s, "flow", SOURCE);
    assert_eq!(op["done"], true);
    assert_eq!(op["metadata"]["verb"], "create");
    assert_eq!(
        op["metadata"]["target"],
        "projects/p/locations/l/workflows/flow"
    );
    let response = &op["response"];
    assert_eq!(
        response["@type"],
        "type.googleapis.com/google.cloud.workflows.v1.Workflow"
    );
    assert_eq!(response["state"], "ACTIVE");
    let first = response["revisionId"].as_str().unwrap().to_owned();
    assert!(first.starts_with("000001-") && first.len() == 10, "{first}");

    // The operation can be read back, as a client's operation.result() does.
    let op_path = format!("/v1/{}", op["name"].as_str().unwrap());
    assert_eq!(call(&mut s, "GET", &op_path, Json::Null), (200, op.clone()));

    let (status, again) = call(
        &mut s,
        "POST",
        &format!("{PARENT}/workflows?workflowId=flow"),
        json!({"sourceContents": SOURCE}),
    );
    assert_eq!(
        (status, again["error"]["status"].clone()),
        (409, json!("ALREADY_EXISTS"))
    );

    // An execution records the revision it runs.
    let id = run(&mut s, "flow", json!({"s": 1}), json!({}));
    let (_, e) = call(
        &mut s,
        "GET",
        &format!("{PARENT}/workflows/flow/executions/{id}"),
        Json::Null,
    );
    assert_eq!(e["workflowRevisionId"], first.as_str());

    // A new source is a new revision; a description alone is not.
    advance(&mut s, 5.0);
    let (status, op) = call(
        &mut s,
        "PATCH",
        &format!("{PARENT}/workflows/flow"),
        json!({"sourceContents": SOURCE.replace("return: ${args}", "return: 2")}),
    );
    assert_eq!(status, 200, "{op}");
    let second = op["response"]["revisionId"].as_str().unwrap().to_owned();
    assert!(second.starts_with("000002-"), "{second}");

    // Revision numbers count per workflow, as GCP's do: a second workflow starts at 000001.
    let (status, op) = call(
        &mut s,
        "POST",
        &format!("{PARENT}/workflows?workflowId=other"),
        json!({"sourceContents": SOURCE}),
    );
    assert_eq!(status, 200, "{op}");
    let other = op["response"]["revisionId"].as_str().unwrap().to_owned();
    assert!(other.starts_with("000001-"), "{other}");
    let (status, op) = call(
        &mut s,
        "PATCH",
        &format!("{PARENT}/workflows/flow?updateMask=description"),
        json!({"description": "approvals"}),
    );
    assert_eq!(status, 200, "{op}");
    assert_eq!(op["response"]["revisionId"], second.as_str());
    assert_eq!(op["response"]["description"], "approvals");
    assert_eq!(
        op["response"]["createTime"],
        "2024-01-01T00:00:00.000000000Z"
    );
    assert_eq!(
        op["response"]["updateTime"],
        "2024-01-01T00:00:05.000000000Z"
    );

    let (_, revisions) = call(
        &mut s,
        "GET",
        &format!("{PARENT}/workflows/flow:listRevisions"),
        Json::Null,
    );
    let ids: Vec<&str> = revisions["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["revisionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [second.as_str(), first.as_str()], "newest first");
    let (_, old) = call(
        &mut s,
        "GET",
        &format!("{PARENT}/workflows/flow?revisionId={first}"),
        Json::Null,
    );
    assert_eq!(old["sourceContents"], SOURCE);

    let (_, list) = call(&mut s, "GET", &format!("{PARENT}/workflows"), Json::Null);
    assert_eq!(list["workflows"].as_array().unwrap().len(), 2);

    let (status, op) = call(
        &mut s,
        "DELETE",
        &format!("{PARENT}/workflows/flow"),
        Json::Null,
    );
    assert_eq!(status, 200);
    assert_eq!(
        op["response"]["@type"],
        "type.googleapis.com/google.protobuf.Empty"
    );
    let (status, _) = call(
        &mut s,
        "GET",
        &format!("{PARENT}/workflows/flow"),
        Json::Null,
    );
    assert_eq!(status, 404);

    // Deployed again after its delete, it is a new workflow: its revisions start over.
    let (_, op) = call(
        &mut s,
        "POST",
        &format!("{PARENT}/workflows?workflowId=flow"),
        json!({"sourceContents": SOURCE}),
    );
    let again = op["response"]["revisionId"].as_str().unwrap();
    assert!(again.starts_with("000001-"), "{again}");
}

#[test]
fn deploy_errors_are_positioned_and_bad_bodies_named() {
    let mut s = state();
    let (status, err) = call(
        &mut s,
        "POST",
        &format!("{PARENT}/workflows?workflowId=broken"),
        json!({"sourceContents": "main:\n  steps:\n    - a:\n        asign: []\n"}),
    );
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["status"], "INVALID_ARGUMENT");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains("broken.yaml:4:"), "{message}");
    for (path, body, says) in [
        (
            format!("{PARENT}/workflows"),
            json!({"sourceContents": SOURCE}),
            "workflowId",
        ),
        (
            format!("{PARENT}/workflows?workflowId=9lives"),
            json!({"sourceContents": SOURCE}),
            "not valid",
        ),
        (
            format!("{PARENT}/workflows?workflowId=w"),
            json!({"source": SOURCE}),
            r#"Unknown name "source""#,
        ),
        (
            format!("{PARENT}/workflows?workflowId=w"),
            json!({}),
            "sourceContents",
        ),
        (
            format!("{PARENT}/workflows?workflowId=w"),
            json!({"sourceContents": SOURCE, "cryptoKeyName": "k"}),
            "not supported",
        ),
        (
            format!("{PARENT}/workflows?workflowId=w&pageSize=1"),
            json!({"sourceContents": SOURCE}),
            "unknown query parameter 'pageSize'",
        ),
    ] {
        let (status, err) = call(&mut s, "POST", &path, body);
        assert_eq!(status, 400, "{path}: {err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{path}: {message}");
    }
    let (_, list) = call(&mut s, "GET", &format!("{PARENT}/workflows"), Json::Null);
    assert_eq!(list["workflows"], json!([]), "nothing was deployed");
}

#[test]
fn the_execution_resource_has_every_field_and_both_views() {
    let mut s = state();
    deploy(&mut s, "flow", SOURCE);
    let id = run(&mut s, "flow", json!({"s": 2.5}), json!({"team": "ops"}));
    let path = format!("{PARENT}/workflows/flow/executions/{id}");
    advance(&mut s, 3.0);
    let (_, full) = call(&mut s, "GET", &path, Json::Null);
    assert_eq!(full["state"], "SUCCEEDED");
    assert_eq!(full["startTime"], "2024-01-01T00:00:00.000000000Z");
    assert_eq!(full["endTime"], "2024-01-01T00:00:02.500000000Z");
    assert_eq!(full["duration"], "2.5s");
    assert_eq!(full["labels"], json!({"team": "ops"}));
    assert_eq!(full["argument"], r#"{"s":2.5}"#);
    assert_eq!(full["result"], r#"{"s":2.5}"#);
    assert!(
        full["workflowRevisionId"]
            .as_str()
            .unwrap()
            .starts_with("000001-")
    );

    let (_, basic) = call(&mut s, "GET", &format!("{path}?view=BASIC"), Json::Null);
    let mut keys: Vec<&String> = basic.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "duration",
            "endTime",
            "name",
            "startTime",
            "state",
            "workflowRevisionId"
        ],
        "BASIC: name, start_time, end_time, duration, state, workflow_revision_id"
    );

    let (_, numbers) = call(
        &mut s,
        "GET",
        &format!("{path}?%24alt=json%3Benum-encoding%3Dint"),
        Json::Null,
    );
    assert_eq!(numbers["state"], 2, "SUCCEEDED = 2");
}

/// gcloud and the discovery-based clients send the REST resources' fields, which the 2024
/// protos lack: `executionHistoryLevel` (the workflow's is its executions' default) and
/// `disableConcurrencyQuotaOverflowBuffering` are taken and shown; `createTime` is ignored.
#[test]
fn the_rest_resources_fields_that_gcloud_sends_are_taken() {
    let mut s = state();
    create_flow(
        &mut s,
        json!({"sourceContents": SOURCE, "executionHistoryLevel": "EXECUTION_HISTORY_DETAILED"}),
    );
    let (_, w) = call(
        &mut s,
        "GET",
        &format!("{PARENT}/workflows/flow"),
        Json::Null,
    );
    assert_eq!(w["executionHistoryLevel"], "EXECUTION_HISTORY_DETAILED");

    let create = |s: &mut State, body: Json| {
        call(
            s,
            "POST",
            &format!("{PARENT}/workflows/flow/executions"),
            body,
        )
    };
    // What `gcloud workflows execute` sends.
    let (status, own) = create(
        &mut s,
        json!({
            "argument": "{}",
            "callLogLevel": "LOG_NONE",
            "executionHistoryLevel": "EXECUTION_HISTORY_BASIC",
            "disableConcurrencyQuotaOverflowBuffering": true,
            "createTime": "2024-01-01T00:00:00Z",
        }),
    );
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["executionHistoryLevel"], "EXECUTION_HISTORY_BASIC");
    assert_eq!(own["disableConcurrencyQuotaOverflowBuffering"], true);

    let (_, inherited) = create(&mut s, json!({}));
    assert_eq!(
        inherited["executionHistoryLevel"],
        "EXECUTION_HISTORY_DETAILED"
    );
    assert!(
        inherited
            .get("disableConcurrencyQuotaOverflowBuffering")
            .is_none()
    );

    for (body, says) in [
        (
            json!({"executionHistoryLevel": "EVERYTHING"}),
            "executionHistoryLevel",
        ),
        (
            json!({"disableConcurrencyQuotaOverflowBuffering": "yes"}),
            "disableConcurrencyQuotaOverflowBuffering",
        ),
        (
            json!({"executionHistory": 1}),
            r#"Unknown name "executionHistory""#,
        ),
    ] {
        let (status, err) = create(&mut s, body.clone());
        assert_eq!(status, 400, "{body}: {err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
    }

    // The workflow's level changes with an update mask, without a new revision.
    let (status, op) = call(
        &mut s,
        "PATCH",
        &format!("{PARENT}/workflows/flow?updateMask=executionHistoryLevel"),
        json!({"executionHistoryLevel": "EXECUTION_HISTORY_BASIC"}),
    );
    assert_eq!(status, 200, "{op}");
    assert_eq!(
        op["response"]["executionHistoryLevel"],
        "EXECUTION_HISTORY_BASIC"
    );
    assert!(
        op["response"]["revisionId"]
            .as_str()
            .unwrap()
            .starts_with("000001-")
    );
}

#[test]
fn executions_list_in_pages_filtered_and_ordered() {
    let mut s = state();
    deploy(&mut s, "flow", SOURCE);
    let mut ids = Vec::new();
    for (i, env) in ["prod", "dev", "prod"].iter().enumerate() {
        ids.push(run(
            &mut s,
            "flow",
            json!({"s": 10 * (i + 1)}),
            json!({"env": env}),
        ));
        advance(&mut s, 1.0);
    }
    let failed = run(&mut s, "flow", json!({"fail": true}), json!({}));
    advance(&mut s, 10.0); // the first execution ends at 10 s
    let list = |s: &mut State, q: &str| {
        let (status, body) = call(
            s,
            "GET",
            &format!("{PARENT}/workflows/flow/executions?{q}"),
            Json::Null,
        );
        assert_eq!(status, 200, "{q}: {body}");
        let names: Vec<String> = body["executions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                e["name"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        (names, body)
    };
    let (all, body) = list(&mut s, "");
    assert_eq!(
        all,
        [&failed, &ids[2], &ids[1], &ids[0]].map(String::as_str),
        "newest first"
    );
    assert!(
        body["executions"][0].get("argument").is_none(),
        "list defaults to BASIC"
    );

    // A page size of 0 is the default size, as none is.
    let (zero, body) = list(&mut s, "pageSize=0");
    assert_eq!((zero, body.get("nextPageToken")), (all.clone(), None));

    // A page that ends at the last execution has no next page.
    let (exact, body) = list(&mut s, "pageSize=4");
    assert_eq!((exact, body.get("nextPageToken")), (all.clone(), None));

    let (page1, body) = list(&mut s, "pageSize=3");
    assert_eq!(page1.len(), 3);
    let token = body["nextPageToken"].as_str().unwrap().to_owned();
    let (page2, body) = list(&mut s, &format!("pageSize=3&pageToken={token}"));
    assert_eq!(page2, [ids[0].as_str()]);
    assert!(body.get("nextPageToken").is_none());

    let (active, _) = list(&mut s, "filter=state%3D%22ACTIVE%22");
    assert_eq!(active, [&ids[2], &ids[1]].map(String::as_str));
    let (prod, _) = list(&mut s, "filter=labels.env%3Dprod&orderBy=startTime");
    assert_eq!(prod, [&ids[0], &ids[2]].map(String::as_str));
    let (ended, _) = list(&mut s, "filter=state%3DFAILED%20OR%20state%3DSUCCEEDED");
    assert_eq!(ended, [&failed, &ids[0]].map(String::as_str));
    // EX-6 over the API: the error says where, as GCP's stackTrace does.
    let (_, e) = call(
        &mut s,
        "GET",
        &format!("{PARENT}/workflows/flow/executions/{failed}"),
        Json::Null,
    );
    assert_eq!(
        e["error"]["stackTrace"],
        json!({"elements": [{"step": "check", "routine": "main", "position": {"line": 4, "column": 7}}]})
    );
    assert!(
        e["error"]["payload"]
            .as_str()
            .unwrap()
            .contains("failed on purpose")
    );
    let (status, err) = call(
        &mut s,
        "GET",
        &format!("{PARENT}/workflows/flow/executions?filter=stepName%3Dx"),
        Json::Null,
    );
    assert_eq!(status, 400);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot be filtered on")
    );
}

/// A chatty execution's logs come in pages: 1,000 entries by default, in order, each page
/// naming the next.
#[test]
fn logs_come_in_pages() {
    let mut s = state();
    deploy(
        &mut s,
        "chatty",
        "main:\n  steps:\n    - loop:\n        for:\n          value: i\n          range: [1, 2500]\n          steps:\n            - say:\n                call: sys.log\n                args:\n                  text: ${string(i)}\n",
    );
    let (status, e) = call(
        &mut s,
        "POST",
        &format!("{PARENT}/workflows/chatty/executions"),
        Json::Null,
    );
    assert_eq!(status, 200, "{e}");
    let logs = format!("/v1/{}/logs", e["name"].as_str().unwrap());
    let (_, first) = call(&mut s, "GET", &logs, Json::Null);
    let entries = first["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1000);
    assert_eq!(entries[0]["textPayload"], "1");
    let token = first["nextPageToken"].as_str().unwrap().to_owned();
    let (_, rest) = call(
        &mut s,
        "GET",
        &format!("{logs}?pageSize=5000&pageToken={token}"),
        Json::Null,
    );
    let entries = rest["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1500);
    assert_eq!(entries[0]["textPayload"], "1001");
    assert_eq!(entries[1499]["textPayload"], "2500");
    assert!(rest.get("nextPageToken").is_none());
    let (status, _) = call(&mut s, "GET", &format!("{logs}?pageSize=-1"), Json::Null);
    assert_eq!(status, 400);
}

/// LIB-2: `GOOGLE_CLOUD_WORKFLOW_REVISION_ID` is the revision the execution runs, the one
/// its resource names in `workflowRevisionId`, for the first revision and a later one.
#[test]
fn lib_2_the_revision_id_variable_names_the_deployed_revision() {
    let mut s = state();
    let source = "main:\n  steps:\n    - done:\n        return: ${sys.get_env(\"GOOGLE_CLOUD_WORKFLOW_REVISION_ID\")}\n";
    deploy(&mut s, "rev", source);
    for round in 0..2 {
        let id = run(&mut s, "rev", json!({}), json!({}));
        let (_, e) = call(
            &mut s,
            "GET",
            &format!("{PARENT}/workflows/rev/executions/{id}"),
            Json::Null,
        );
        assert_eq!(e["state"], "SUCCEEDED", "{e}");
        let revision = e["workflowRevisionId"].as_str().unwrap();
        assert!(revision.starts_with(&format!("00000{}-", round + 1)), "{e}");
        assert_eq!(e["result"], json!(revision).to_string(), "{e}");
        let (status, _) = call(
            &mut s,
            "PATCH",
            &format!("{PARENT}/workflows/rev"),
            json!({"sourceContents": format!("{source}# revision {}\n", round + 2)}),
        );
        assert_eq!(status, 200);
    }
}

/// `main` calls `approve`, which awaits a callback.
const APPROVE: &str = "main:
  steps:
    - ask:
        call: approve
        result: r
    - done:
        return: ${r}
approve:
  steps:
    - make:
        call: events.create_callback_endpoint
        result: cb
    - wait:
        call: events.await_callback
        args:
          callback: ${cb}
        result: req
    - back:
        return: ${req.http_request.body}
";

/// `Execution.Status.current_steps` over gRPC: GetExecution transcoded, answered and
/// decoded as a client would.
fn grpc_steps(s: &mut State, name: &str) -> Vec<(String, String)> {
    use prost::Message;
    use wfsim_server::grpc::{self, proto::google::cloud::workflows::executions::v1 as ex};
    let get = ex::GetExecutionRequest {
        name: name.into(),
        view: ex::ExecutionView::Full as i32,
    };
    let (call, req) = grpc::transcode(
        "/google.cloud.workflows.executions.v1.Executions/GetExecution",
        &get.encode_to_vec(),
    )
    .unwrap();
    let now = s.clock_now();
    let res = s.handle(now, &req);
    let bytes = grpc::answer(call, &res).unwrap();
    let e = ex::Execution::decode(bytes.as_slice()).unwrap();
    e.status
        .map(|st| {
            st.current_steps
                .into_iter()
                .map(|step| (step.routine, step.step))
                .collect()
        })
        .unwrap_or_default()
}

/// While it waits, `status.currentSteps` is the call stack from main down to the await
/// step; once ended, the step it ended at (the proto's comment on `current_steps`). FULL
/// view only, as BASIC lists its fields.
#[test]
fn current_steps_show_where_an_execution_waits_and_where_it_ended() {
    let mut s = state();
    deploy(&mut s, "approval", APPROVE);
    let id = run(&mut s, "approval", json!(null), json!({}));
    let name = format!("projects/p/locations/l/workflows/approval/executions/{id}");
    let path = format!("/v1/{name}");
    let (_, full) = call(&mut s, "GET", &path, Json::Null);
    assert_eq!(
        full["status"],
        json!({"currentSteps": [
            {"routine": "main", "step": "ask"},
            {"routine": "approve", "step": "wait"},
        ]})
    );
    let pair = |r: &str, st: &str| (r.to_owned(), st.to_owned());
    assert_eq!(
        grpc_steps(&mut s, &name),
        [pair("main", "ask"), pair("approve", "wait")]
    );
    let (_, basic) = call(&mut s, "GET", &format!("{path}?view=BASIC"), Json::Null);
    assert_eq!(basic.get("status"), None, "{basic}");

    let (_, callbacks) = call(&mut s, "GET", &format!("{path}/callbacks"), Json::Null);
    let callback = format!(
        "/v1/{}",
        callbacks["callbacks"][0]["name"].as_str().unwrap()
    );
    assert_eq!(call(&mut s, "POST", &callback, json!(1)).0, 200);
    let (_, ended) = call(&mut s, "GET", &path, Json::Null);
    assert_eq!(ended["state"], "SUCCEEDED");
    assert_eq!(
        ended["status"],
        json!({"currentSteps": [{"routine": "main", "step": "done"}]})
    );
    assert_eq!(grpc_steps(&mut s, &name), [pair("main", "done")]);
}

/// A PATCH without `updateMask` changes the fields its body gives, and only those: a
/// description alone leaves the environment variables and labels as they were; new ones
/// replace them.
#[test]
fn a_patch_without_a_mask_changes_the_fields_it_gives() {
    let mut s = state();
    create_flow(
        &mut s,
        json!({"sourceContents": SOURCE, "userEnvVars": {"A": "1"}, "labels": {"team": "a"}}),
    );
    let patch = |s: &mut State, body: Json| {
        let (status, op) = call(s, "PATCH", &format!("{PARENT}/workflows/flow"), body);
        assert_eq!(status, 200, "{op}");
        (
            op["response"]["userEnvVars"].clone(),
            op["response"]["labels"].clone(),
        )
    };
    assert_eq!(
        patch(&mut s, json!({"description": "approvals"})),
        (json!({"A": "1"}), json!({"team": "a"}))
    );
    assert_eq!(
        patch(&mut s, json!({"userEnvVars": {"A": "2"}})),
        (json!({"A": "2"}), json!({"team": "a"}))
    );
    assert_eq!(
        patch(&mut s, json!({"labels": {"team": "b"}})),
        (json!({"A": "2"}), json!({"team": "b"}))
    );
    let level = |s: &mut State, body: Json| {
        let (status, op) = call(s, "PATCH", &format!("{PARENT}/workflows/flow"), body);
        assert_eq!(status, 200, "{op}");
        op["response"]["callLogLevel"].clone()
    };
    assert_eq!(
        level(&mut s, json!({"callLogLevel": "LOG_ERRORS_ONLY"})),
        "LOG_ERRORS_ONLY"
    );
    assert_eq!(
        level(&mut s, json!({"description": "d"})),
        "LOG_ERRORS_ONLY"
    );
}

/// A workflow's fields at their bounds: a description of 1,000 characters, the last
/// `callLogLevel` by number; one character or one number more is refused with the reason.
#[test]
fn workflow_fields_at_their_bounds() {
    let mut s = state();
    let create = |s: &mut State, id: &str, extra: Json| {
        let mut body = json!({"sourceContents": SOURCE});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        call(
            s,
            "POST",
            &format!("{PARENT}/workflows?workflowId={id}"),
            body,
        )
    };
    let long = "d".repeat(1000);
    assert_eq!(create(&mut s, "a", json!({"description": long})).0, 200);
    let (status, e) = create(&mut s, "b", json!({"description": long.clone() + "d"}));
    assert_eq!(status, 400, "{e}");
    assert!(e.to_string().contains("over 1000 characters"), "{e}");
    let (status, op) = create(&mut s, "c", json!({"callLogLevel": 3}));
    assert_eq!(status, 200, "{op}");
    assert_eq!(op["response"]["callLogLevel"], "LOG_NONE");
    let (status, e) = create(&mut s, "d", json!({"callLogLevel": 4}));
    assert_eq!(status, 400, "{e}");
    assert!(e.to_string().contains("callLogLevel"), "{e}");
}

/// A PATCH that changes only the service account makes a new revision (the account runs
/// the source); one that changes only the description does not.
#[test]
fn a_new_service_account_makes_a_new_revision() {
    let mut s = state();
    let path = format!("{PARENT}/workflows/flow");
    create_flow(&mut s, json!({"sourceContents": SOURCE}));
    let revision = |s: &mut State, body: Json| {
        let (status, op) = call(s, "PATCH", &path, body);
        assert_eq!(status, 200, "{op}");
        op["response"]["revisionId"].as_str().unwrap().to_owned()
    };
    let first = revision(&mut s, json!({"description": "d"}));
    let same = revision(&mut s, json!({"description": "e"}));
    assert_eq!(first, same);
    let second = revision(
        &mut s,
        json!({"serviceAccount": "sa@p.iam.gserviceaccount.com"}),
    );
    assert_ne!(first, second);
}

/// `workflows.list` refuses a filter or an order (it lists by name), but an empty one is
/// no filter.
#[test]
fn workflows_list_refuses_a_filter_but_not_an_empty_one() {
    let mut s = state();
    let (status, e) = call(
        &mut s,
        "GET",
        &format!("{PARENT}/workflows?filter=%20"),
        Json::Null,
    );
    assert_eq!(status, 200, "{e}");
    let (status, e) = call(
        &mut s,
        "GET",
        &format!("{PARENT}/workflows?filter=name%3Dx"),
        Json::Null,
    );
    assert_eq!(status, 400, "{e}");
    assert!(e.to_string().contains("does not take 'filter'"), "{e}");
}

/// A PATCH's `updateMask` names the fields it changes, whatever else the body gives; an
/// empty mask is no mask (the fields the body gives).
#[test]
fn a_patch_changes_the_fields_its_mask_names() {
    let mut s = state();
    create_flow(&mut s, json!({"sourceContents": SOURCE}));
    let body = json!({"description": "d", "labels": {"team": "a"}});
    let patch = |s: &mut State, mask: &str| {
        let path = format!("{PARENT}/workflows/flow?updateMask={mask}");
        let (status, op) = call(s, "PATCH", &path, body.clone());
        assert_eq!(status, 200, "{op}");
        (
            op["response"]["description"].clone(),
            op["response"].get("labels").cloned(),
        )
    };
    assert_eq!(patch(&mut s, "description"), (json!("d"), None));
    assert_eq!(
        patch(&mut s, "%20"),
        (json!("d"), Some(json!({"team": "a"})))
    );
}
