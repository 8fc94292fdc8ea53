//! Any project and location, as GCP serves them: a workflow lives in the parent it was
//! deployed to, and its executions, callbacks, operations and listings there; elsewhere it
//! is GCP's 404. Over REST and gRPC (transcoded, as `http.rs` does), and through a restart
//! from the input log and from a checkpoint.

use prost::Message;
use serde_json::{Value as Json, json};
use wfsim_engine::SimTime;
use wfsim_server::grpc::{self, proto::google::cloud::workflows::v1 as wf};
use wfsim_server::{ApiRequest, ClockMode, Config, State};

/// The default parent is `projects/p/locations/l`.
const DEFAULT: &str = "projects/p/locations/l";
const ACME: &str = "projects/acme-prod/locations/europe-west1";

/// Reports where it runs, then waits for a callback and returns its body.
const WHERE: &str = "main:
  steps:
    - create:
        call: events.create_callback_endpoint
        result: cb
    - wait:
        call: events.await_callback
        args:
          callback: ${cb}
        result: req
    - done:
        return:
          project: ${sys.get_env(\"GOOGLE_CLOUD_PROJECT_ID\")}
          location: ${sys.get_env(\"GOOGLE_CLOUD_LOCATION\")}
          url: ${cb.url}
          body: ${req.http_request.body}
";

fn state() -> State {
    State::new(
        Config {
            seed: 5,
            auth: false,
            clock: ClockMode::Manual,
            ..Config::new("p", "l", "http://wfsim.test")
        },
        0,
    )
}

fn req(method: &str, path: &str, body: &Json) -> ApiRequest {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    ApiRequest {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: if body.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(body).unwrap()
        },
    }
}

fn call(s: &mut State, method: &str, path: &str, body: Json) -> (u16, Json) {
    let now = s.clock_now();
    let res = s.handle(now, &req(method, path, &body));
    (res.status, serde_json::from_slice(&res.body).unwrap())
}

/// Deploys `WHERE` as `name` in `parent` through the Workflows API; the operation.
fn deploy(s: &mut State, parent: &str, name: &str) -> Json {
    let (status, op) = call(
        s,
        "POST",
        &format!("/v1/{parent}/workflows?workflowId={name}"),
        json!({"sourceContents": WHERE}),
    );
    assert_eq!(status, 200, "{op}");
    op
}

/// Starts an execution of `name` in `parent`; its resource name.
fn start(s: &mut State, parent: &str, name: &str) -> String {
    let path = format!("/v1/{parent}/workflows/{name}/executions");
    let (status, e) = call(s, "POST", &path, json!({}));
    assert_eq!(status, 200, "{e}");
    e["name"].as_str().unwrap().to_owned()
}

/// The one callback of execution `name`: its path.
fn callback_path(s: &mut State, name: &str) -> String {
    let (status, list) = call(s, "GET", &format!("/v1/{name}/callbacks"), Json::Null);
    assert_eq!(status, 200, "{list}");
    format!("/v1/{}", list["callbacks"][0]["name"].as_str().unwrap())
}

fn names(list: &Json, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|w| w["name"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn message(body: &Json) -> &str {
    body["error"]["message"].as_str().unwrap()
}

#[test]
fn a_workflow_lives_in_the_parent_it_was_deployed_to() {
    let mut s = state();
    let op = deploy(&mut s, ACME, "flow");
    let op_name = op["name"].as_str().unwrap();
    assert!(op_name.starts_with(&format!("{ACME}/operations/")), "{op}");
    assert_eq!(op["metadata"]["target"], format!("{ACME}/workflows/flow"));
    assert_eq!(
        call(&mut s, "GET", &format!("/v1/{op_name}"), Json::Null).0,
        200
    );
    let elsewhere_op = op_name.replace(ACME, DEFAULT);
    let (status, body) = call(&mut s, "GET", &format!("/v1/{elsewhere_op}"), Json::Null);
    assert_eq!(status, 404);
    assert_eq!(
        message(&body),
        format!("Resource '{elsewhere_op}' was not found")
    );

    // The same name in the default parent is another workflow, with its own revisions.
    deploy(&mut s, DEFAULT, "flow");
    deploy(&mut s, DEFAULT, "other");
    let (_, acme) = call(&mut s, "GET", &format!("/v1/{ACME}/workflows"), Json::Null);
    assert_eq!(
        names(&acme, "workflows"),
        [format!("{ACME}/workflows/flow")]
    );
    assert!(
        acme["workflows"][0]["revisionId"]
            .as_str()
            .unwrap()
            .starts_with("000001-")
    );
    let (_, default) = call(
        &mut s,
        "GET",
        &format!("/v1/{DEFAULT}/workflows"),
        Json::Null,
    );
    assert_eq!(
        names(&default, "workflows"),
        [
            format!("{DEFAULT}/workflows/flow"),
            format!("{DEFAULT}/workflows/other")
        ]
    );

    // Not deployed in a third parent: GCP's 404, then where it is.
    let third = "projects/acme-prod/locations/us-east1";
    let (status, body) = call(
        &mut s,
        "GET",
        &format!("/v1/{third}/workflows/flow"),
        Json::Null,
    );
    assert_eq!(status, 404);
    assert_eq!(body["error"]["status"], "NOT_FOUND");
    assert_eq!(
        message(&body),
        format!(
            "Resource '{third}/workflows/flow' was not found (deployed in {third}: none); \
             'flow' is deployed in {ACME}, {DEFAULT}"
        )
    );
    let (status, body) = call(
        &mut s,
        "POST",
        &format!("/v1/{ACME}/workflows/other/executions"),
        json!({}),
    );
    assert_eq!(status, 404);
    assert!(
        message(&body).starts_with(&format!(
            "Resource '{ACME}/workflows/other' was not found (deployed in {ACME}: flow); \
             'other' is deployed in {DEFAULT}"
        )),
        "{body}"
    );
    let (status, body) = call(
        &mut s,
        "POST",
        &format!("/v1/{ACME}/workflows?workflowId=flow"),
        json!({"sourceContents": WHERE}),
    );
    assert_eq!(status, 409);
    assert!(
        message(&body).starts_with(&format!("Resource '{ACME}/workflows/flow' already exists")),
        "{body}"
    );

    // Deleted in one parent, it stays in the other.
    let (status, _) = call(
        &mut s,
        "DELETE",
        &format!("/v1/{DEFAULT}/workflows/flow"),
        Json::Null,
    );
    assert_eq!(status, 200);
    assert_eq!(
        call(
            &mut s,
            "GET",
            &format!("/v1/{ACME}/workflows/flow"),
            Json::Null
        )
        .0,
        200
    );
    assert_eq!(
        call(
            &mut s,
            "GET",
            &format!("/v1/{DEFAULT}/workflows/flow"),
            Json::Null
        )
        .0,
        404
    );
    assert_eq!(s.workflow_names(), ["other"], "the default parent's");
}

#[test]
fn executions_and_callbacks_carry_their_parent() {
    let mut s = state();
    deploy(&mut s, ACME, "flow");
    deploy(&mut s, DEFAULT, "flow");
    let acme = start(&mut s, ACME, "flow");
    let default = start(&mut s, DEFAULT, "flow");
    assert!(acme.starts_with(&format!("{ACME}/workflows/flow/executions/")));
    assert!(default.starts_with(&format!("{DEFAULT}/workflows/flow/executions/")));

    // Each parent lists its own.
    for (parent, own) in [(ACME, &acme), (DEFAULT, &default)] {
        let path = format!("/v1/{parent}/workflows/flow/executions");
        let (_, list) = call(&mut s, "GET", &path, Json::Null);
        assert_eq!(names(&list, "executions"), [own.as_str()], "{parent}");
    }
    // An execution is not found through another parent: not read, cancelled nor called.
    let id = acme.rsplit('/').next().unwrap();
    let wrong = format!("/v1/{DEFAULT}/workflows/flow/executions/{id}");
    let (status, body) = call(&mut s, "GET", &wrong, Json::Null);
    assert_eq!(status, 404);
    assert_eq!(
        message(&body),
        format!("workflow 'flow' has no execution '{id}'")
    );
    assert_eq!(
        call(&mut s, "POST", &format!("{wrong}:cancel"), Json::Null).0,
        404
    );
    let callback = callback_path(&mut s, &acme);
    assert!(
        callback.starts_with(&format!("/v1/{acme}/callbacks/")),
        "{callback}"
    );
    let misrouted = callback.replace(ACME, DEFAULT);
    assert_eq!(call(&mut s, "POST", &misrouted, json!("x")).0, 404);
    assert_eq!(
        call(&mut s, "GET", &format!("/v1/{acme}"), Json::Null).1["state"],
        "ACTIVE"
    );

    // Its callback URL and `sys.get_env` say its own parent.
    assert_eq!(call(&mut s, "POST", &callback, json!("hi")).0, 200);
    let (_, ended) = call(&mut s, "GET", &format!("/v1/{acme}"), Json::Null);
    assert_eq!(ended["state"], "SUCCEEDED", "{ended}");
    let result: Json = serde_json::from_str(ended["result"].as_str().unwrap()).unwrap();
    assert_eq!(result["project"], "acme-prod");
    assert_eq!(result["location"], "europe-west1");
    assert_eq!(result["body"], "hi");
    assert_eq!(
        result["url"],
        format!("http://wfsim.test{}", callback.trim_end_matches('/'))
    );
    let default_callback = callback_path(&mut s, &default);
    assert_eq!(call(&mut s, "POST", &default_callback, json!("yo")).0, 200);
    let (_, ended) = call(&mut s, "GET", &format!("/v1/{default}"), Json::Null);
    let result: Json = serde_json::from_str(ended["result"].as_str().unwrap()).unwrap();
    assert_eq!(
        (&result["project"], &result["location"]),
        (&json!("p"), &json!("l"))
    );
}

#[test]
fn a_path_that_names_no_parent_is_refused_with_the_reason() {
    let mut s = state();
    let (status, body) = call(
        &mut s,
        "GET",
        "/v1/projects/-/locations/l/workflows",
        Json::Null,
    );
    assert_eq!(status, 400);
    assert!(
        message(&body).contains("'-' is not a project wfsim can serve"),
        "{body}"
    );
    let (status, body) = call(
        &mut s,
        "GET",
        "/v1/projects/p/locations//workflows",
        Json::Null,
    );
    assert_eq!(status, 400);
    assert!(message(&body).contains("is not a location"), "{body}");
    // A callback path answers 404 first (SPEC §3), with the same reason.
    let (status, body) = call(
        &mut s,
        "POST",
        "/v1/projects/a%20b/locations/l/workflows/w/executions/e/callbacks/c",
        json!({}),
    );
    assert_eq!(status, 404);
    assert!(message(&body).contains("not a project"), "{body}");
}

/// gRPC as `http.rs` answers it: the call transcoded, answered, its message decoded.
fn grpc_call<M: Message + Default>(
    s: &mut State,
    method: &str,
    request: impl Message,
) -> Result<M, grpc::Status> {
    let (call, req) = grpc::transcode(method, &request.encode_to_vec())?;
    let now = s.clock_now();
    let res = s.handle(now, &req);
    let bytes = grpc::answer(call, &res)?;
    Ok(M::decode(bytes.as_slice()).unwrap())
}

#[test]
fn grpc_lists_per_parent_and_answers_not_found_elsewhere() {
    let mut s = state();
    deploy(&mut s, ACME, "flow");
    deploy(&mut s, DEFAULT, "local");
    let list = |s: &mut State, parent: &str| {
        let answer: wf::ListWorkflowsResponse = grpc_call(
            s,
            "/google.cloud.workflows.v1.Workflows/ListWorkflows",
            wf::ListWorkflowsRequest {
                parent: parent.into(),
                ..Default::default()
            },
        )
        .unwrap();
        answer
            .workflows
            .into_iter()
            .map(|w| w.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(list(&mut s, ACME), [format!("{ACME}/workflows/flow")]);
    assert_eq!(
        list(&mut s, DEFAULT),
        [format!("{DEFAULT}/workflows/local")]
    );
    assert!(list(&mut s, "projects/nobody/locations/l").is_empty());
    let get = |s: &mut State, name: String| {
        grpc_call::<wf::Workflow>(
            s,
            "/google.cloud.workflows.v1.Workflows/GetWorkflow",
            wf::GetWorkflowRequest {
                name,
                ..Default::default()
            },
        )
    };
    assert_eq!(
        get(&mut s, format!("{ACME}/workflows/flow")).unwrap().name,
        format!("{ACME}/workflows/flow")
    );
    let status = get(&mut s, format!("{DEFAULT}/workflows/flow")).unwrap_err();
    assert_eq!(status.code, 5, "NOT_FOUND");
    assert!(
        status.message.starts_with(&format!(
            "Resource '{DEFAULT}/workflows/flow' was not found"
        )),
        "{}",
        status.message
    );
}

/// A deploy's parent is an input like the rest: a fresh state fed the log, or a
/// checkpoint of it, serves each workflow where it was deployed, and a file's deploy in
/// the parent that was the default then, whatever the default of the restart.
#[test]
fn parents_replay_from_the_log_and_from_a_checkpoint() {
    let mut s = state();
    s.record_inputs();
    s.keep_for_checkpoints();
    deploy(&mut s, ACME, "flow");
    s.deploy_source(SimTime::ZERO, "local", "local.yaml", WHERE)
        .unwrap();
    let acme = start(&mut s, ACME, "flow");
    let local = s.start_execution(SimTime::ZERO, "local", None).unwrap();
    let inputs = s.take_inputs();
    let checkpoint = s.checkpoint().unwrap();
    let shown = |s: &mut State| {
        let mut out = Vec::new();
        for parent in [ACME, DEFAULT] {
            let (_, w) = call(s, "GET", &format!("/v1/{parent}/workflows"), Json::Null);
            out.push(names(&w, "workflows"));
        }
        let (_, e) = call(s, "GET", &format!("/v1/{acme}"), Json::Null);
        out.push(vec![e["name"].as_str().unwrap_or("none").to_owned()]);
        let path = format!("/v1/{DEFAULT}/workflows/local/executions/{local}");
        let (_, e) = call(s, "GET", &path, Json::Null);
        out.push(vec![e["name"].as_str().unwrap_or("none").to_owned()]);
        out
    };
    let before = shown(&mut s);
    assert_eq!(before[0], [format!("{ACME}/workflows/flow")]);
    assert_eq!(before[1], [format!("{DEFAULT}/workflows/local")]);
    for (what, log) in [("the log", &inputs), ("a checkpoint", &checkpoint)] {
        let mut again = state();
        again.replay(log, SimTime::ZERO);
        assert_eq!(shown(&mut again), before, "from {what}");
    }
    // Restarted with another default parent, the file's deploy stays where it was.
    let mut moved = State::new(
        Config {
            seed: 5,
            auth: false,
            clock: ClockMode::Manual,
            ..Config::new("q", "m", "http://wfsim.test")
        },
        0,
    );
    moved.replay(&inputs, SimTime::ZERO);
    assert_eq!(shown(&mut moved), before);
    assert!(moved.workflow_names().is_empty(), "nothing in q/m");
}

/// Format 2's records of a file's deploy named no parent: they are the default one's.
#[test]
fn a_format_2_deploy_record_is_the_default_parents() {
    let mut s = state();
    s.record_inputs();
    s.deploy_source(SimTime::ZERO, "local", "local.yaml", WHERE)
        .unwrap();
    let mut inputs = s.take_inputs();
    assert_eq!(inputs.len(), 1);
    let record = &mut inputs[0].1;
    assert!(record.query.contains("parent="), "{}", record.query);
    record.query = "name=local&file=local.yaml".into();
    let mut again = state();
    again.replay(&inputs, SimTime::ZERO);
    assert_eq!(again.workflow_names(), ["local"]);
}
