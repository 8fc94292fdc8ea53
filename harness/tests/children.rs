//! HT-10: child workflows through the Workflow Executions connector, at engine level: the
//! connector's arguments, answers and errors, and a parent and its children on one clock.

use std::path::PathBuf;
use std::rc::Rc;

use wfsim_engine::callbacks::ExecutionState;
use wfsim_engine::defn::{self, Pos, Workflow};
use wfsim_engine::error::{StackElement, tags};
use wfsim_engine::http::HttpOutcome;
use wfsim_engine::interp::Outcome;
use wfsim_engine::time::SimTime;
use wfsim_engine::value::Value;
use wfsim_harness::children::{self, ExecRef, Library, Method, Snapshot, WorkflowRef};
use wfsim_harness::report;
use wfsim_harness::runner::{self, ExecutionSel, Run, RunConfig, ScriptedRequest};

const PREFIX: &str = "googleapis.workflowexecutions.v1.projects.locations.workflows.executions.";

fn wf(name: &str, text: &str) -> Rc<Workflow> {
    Rc::new(defn::load(name, text).unwrap_or_else(|e| panic!("{e:?}")))
}

/// A child that waits for one callback and returns its body's `answer`, or raises it when
/// it is `"fail"`.
const WAITER: &str = r#"main:
  params: [args]
  steps:
    - create:
        call: events.create_callback_endpoint
        result: cb
    - log:
        call: sys.log
        args: {text: '${"child " + string(args.n)}'}
    - wait:
        call: events.await_callback
        args: {callback: '${cb}', timeout: 600}
        result: got
    - check:
        switch:
          - condition: '${got.http_request.body.answer == "fail"}'
            raise: {code: 7, message: failed on purpose}
    - done:
        return: '${got.http_request.body.answer}'
"#;

/// A child that returns at once.
const QUICK: &str =
    "main:\n  params: [args]\n  steps:\n    - r:\n        return: '${args.n * 2}'\n";

fn library(children: &[(&str, &str)]) -> Library {
    let mut lib = Library::default();
    for (name, text) in children {
        lib.workflows
            .insert((*name).to_owned(), wf(&format!("{name}.yaml"), text));
    }
    lib
}

fn parent(steps: &str) -> Rc<Workflow> {
    wf("parent.yaml", &format!("main:\n  steps:\n{steps}"))
}

fn call_step(method: &str, args: &str, result: &str) -> String {
    format!(
        "    - {result}_step:\n        call: {PREFIX}{method}\n        args: {args}\n        result: {result}\n"
    )
}

fn run_with(parent: Rc<Workflow>, lib: &Library, script: &[ScriptedRequest]) -> Run {
    runner::run_with_children(parent, "parent", &RunConfig::default(), script, &[], lib)
}

fn to_child(at: u64, sel: ExecutionSel, answer: &str) -> ScriptedRequest {
    ScriptedRequest {
        at: SimTime::from_secs(at),
        endpoint: 0,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: format!(r#"{{"answer": "{answer}"}}"#).into_bytes(),
        execution: Some(sel),
        ..ScriptedRequest::default()
    }
}

fn result(run: &Run) -> Value {
    match run.execution.outcome() {
        Some(Outcome::Succeeded(v)) => v.clone(),
        other => panic!(
            "not succeeded: {other:?}\n{}",
            report::timeline(run).join("\n")
        ),
    }
}

fn error(run: &Run) -> Value {
    match run.execution.outcome() {
        Some(Outcome::Failed(f)) => f.error.clone(),
        other => panic!("not failed: {other:?}"),
    }
}

fn s(v: &str) -> Value {
    Value::str(v)
}

#[test]
fn ht_10_method_names_both_versions_and_nothing_else() {
    assert_eq!(children::method(&format!("{PREFIX}run")), Some(Method::Run));
    assert_eq!(
        children::method(&format!("{PREFIX}create")),
        Some(Method::Create)
    );
    assert_eq!(children::method(&format!("{PREFIX}get")), Some(Method::Get));
    assert_eq!(
        children::method(&format!("{PREFIX}list")),
        Some(Method::List)
    );
    assert_eq!(
        children::method(&format!("{PREFIX}cancel")),
        Some(Method::Cancel)
    );
    assert_eq!(
        children::method(
            "googleapis.workflowexecutions.v1beta.projects.locations.workflows.executions.run"
        ),
        Some(Method::Run)
    );
    assert_eq!(children::method(&format!("{PREFIX}delete")), None);
    assert_eq!(
        children::method("googleapis.workflows.v1.projects.locations.workflows.get"),
        None
    );
}

#[test]
fn ht_10_names_parse_as_the_api_writes_them() {
    let w = WorkflowRef::parse("projects/p/locations/l/workflows/w").unwrap();
    assert_eq!(
        (w.project.as_str(), w.location.as_str(), w.workflow.as_str()),
        ("p", "l", "w")
    );
    assert_eq!(w.name(), "projects/p/locations/l/workflows/w");
    assert_eq!(
        WorkflowRef::parse("/v1/projects/p/locations/l/workflows/w"),
        Some(w.clone())
    );
    assert_eq!(
        WorkflowRef::parse("/projects/p/locations/l/workflows/w"),
        Some(w.clone())
    );
    for bad in [
        "projects/p/locations/l/workflows/",
        "projects//locations/l/workflows/w",
        "projects/p/locations//workflows/w",
        "projects/p/locations/l/workflow/w",
        "projects/p/locations/l/workflows/w/x",
        "w",
    ] {
        assert_eq!(WorkflowRef::parse(bad), None, "{bad}");
    }
    let e = ExecRef::parse("projects/p/locations/l/workflows/w/executions/e1").unwrap();
    assert_eq!((e.workflow, e.id.as_str()), (w, "e1"));
    for bad in [
        "projects/p/locations/l/workflows/w/executions/",
        "projects/p/locations/l/workflows/w/executions/a/b",
        "projects/p/locations/l/workflows/w",
        "projects/p/locations/l/workflows//executions/e",
    ] {
        assert_eq!(ExecRef::parse(bad), None, "{bad}");
    }
}

fn snapshot(state: ExecutionState) -> Snapshot {
    Snapshot {
        name: "projects/p/locations/l/workflows/w/executions/e".into(),
        revision: "000001-000".into(),
        state,
        argument: Some(Value::map([("n", Value::Int(1))])),
        result: None,
        error: None,
        start_time: "2024-01-01T00:00:00Z".into(),
        end_time: None,
        duration_nanos: None,
    }
}

#[test]
fn ht_10_the_execution_resource_has_the_rest_fields() {
    let active = children::resource(&snapshot(ExecutionState::Active));
    assert_eq!(active.get("state"), Some(&s("ACTIVE")));
    assert_eq!(active.get("argument"), Some(&s(r#"{"n":1}"#)));
    assert_eq!(active.get("workflowRevisionId"), Some(&s("000001-000")));
    assert_eq!(active.get("startTime"), Some(&s("2024-01-01T00:00:00Z")));
    for absent in ["endTime", "duration", "result", "error"] {
        assert_eq!(active.get(absent), None, "{absent}");
    }
    let mut done = snapshot(ExecutionState::Succeeded);
    done.result = Some(Value::list(vec![Value::Int(1)]));
    done.end_time = Some("2024-01-01T00:00:05Z".into());
    done.duration_nanos = Some(5_000_000_000);
    let r = children::resource(&done);
    assert_eq!(r.get("result"), Some(&s("[1]")));
    assert_eq!(r.get("endTime"), Some(&s("2024-01-01T00:00:05Z")));
    assert_eq!(r.get("duration"), Some(&s("5s")));
    done.duration_nanos = Some(250_000_000);
    assert_eq!(children::resource(&done).get("duration"), Some(&s("0.25s")));
    done.duration_nanos = Some(1_000_000_001);
    assert_eq!(
        children::resource(&done).get("duration"),
        Some(&s("1.000000001s"))
    );
    let mut failed = snapshot(ExecutionState::Failed);
    failed.error = Some((
        Value::map([("message", s("no")), ("code", Value::Int(3))]),
        vec![StackElement {
            step: "boom".into(),
            routine: "main".into(),
            pos: Pos { line: 4, col: 7 },
        }],
    ));
    let e = children::resource(&failed).get("error").cloned().unwrap();
    assert_eq!(e.get("payload"), Some(&s(r#"{"code":3,"message":"no"}"#)));
    assert_eq!(e.get("context"), Some(&s("no")));
    let el = &e.get("stackTrace").unwrap().get("elements").unwrap();
    let Value::List(el) = el else { panic!() };
    assert_eq!(el[0].get("step"), Some(&s("boom")));
    assert_eq!(el[0].get("routine"), Some(&s("main")));
    let p = el[0].get("position").unwrap();
    assert_eq!(
        (p.get("line"), p.get("column")),
        (Some(&Value::Int(4)), Some(&Value::Int(7)))
    );
}

#[test]
fn ht_10_ended_maps_the_child_to_the_call() {
    let mut ok = snapshot(ExecutionState::Succeeded);
    ok.result = Some(s("yes"));
    assert_eq!(
        children::ended(Method::Run, &ok),
        HttpOutcome::Returned(Ok(s("yes")))
    );
    assert_eq!(
        children::ended(Method::Create, &ok),
        HttpOutcome::Returned(Ok(children::resource(&ok)))
    );
    for state in [ExecutionState::Failed, ExecutionState::Cancelled] {
        for method in [Method::Run, Method::Create] {
            let child = snapshot(state);
            let HttpOutcome::Returned(Err(e)) = children::ended(method, &child) else {
                panic!("{state} must raise");
            };
            assert_eq!(tags(&e), ["OperationError"]);
            assert_eq!(e.get("operation"), Some(&children::resource(&child)));
            assert!(
                wfsim_engine::error::message(&e)
                    .unwrap()
                    .ends_with(&format!("ended {state}")),
                "{e:?}"
            );
        }
    }
}

#[test]
fn ht_10_run_blocks_until_the_child_ends_and_returns_its_result() {
    let lib = library(&[("waiter", WAITER)]);
    let p = parent(&format!(
        "{}    - r:\n        return: ${{got}}\n",
        call_step("run", "{workflow_id: waiter, argument: {n: 3}}", "got")
    ));
    let run = run_with(
        p,
        &lib,
        &[to_child(40, ExecutionSel::Name("waiter".into()), "yes")],
    );
    assert_eq!(result(&run), s("yes"));
    assert_eq!(run.execution.ended_at(), Some(SimTime::from_secs(40)));
    assert_eq!(run.children.len(), 1);
    let c = &run.children[0];
    assert_eq!(c.workflow, "waiter");
    assert_eq!(c.execution.state(), ExecutionState::Succeeded);
    assert_eq!(c.argument, Some(Value::map([("n", Value::Int(3))])));
    assert_eq!(c.parent, Some((0, wfsim_engine::http::CallId(0))));
    assert_eq!(run.requests[0].execution, 1);
    assert_eq!(run.requests[0].status, 200);
    assert_eq!(run.requests[0].taken_at, Some(SimTime::from_secs(40)));
    // The child's id comes from the seed's own stream: the same on every run.
    let again = run_with(
        parent(&call_step(
            "run",
            "{workflow_id: waiter, argument: {n: 3}}",
            "got",
        )),
        &lib,
        &[to_child(40, ExecutionSel::Index(1), "yes")],
    );
    let id = |r: &Run| {
        r.children[0]
            .execution
            .with_callbacks(|c| c.name().execution_id.clone())
    };
    assert_eq!(id(&run), id(&again));
    let other_seed = runner::run_with_children(
        parent(&call_step(
            "run",
            "{workflow_id: waiter, argument: {n: 3}}",
            "got",
        )),
        "parent",
        &RunConfig {
            seed: 1,
            ..RunConfig::default()
        },
        &[],
        &[],
        &lib,
    );
    assert_ne!(id(&run), id(&other_seed));
    // Its callback ids too: the child's seed is drawn from the run's.
    let callback = |r: &Run| {
        r.children[0].execution.with_callbacks(|c| {
            c.endpoint(wfsim_engine::EndpointIdx(0))
                .unwrap()
                .callback_id()
                .to_owned()
        })
    };
    assert_eq!(callback(&run), callback(&again));
    assert_ne!(callback(&run), callback(&other_seed));
    let parent_id = run
        .execution
        .with_callbacks(|c| c.name().execution_id.clone());
    assert_ne!(id(&run), parent_id);
}

#[test]
fn ht_10_a_child_started_later_keeps_the_run_clock() {
    let lib = library(&[("waiter", WAITER)]);
    let p = parent(&format!(
        "    - nap:\n        call: sys.sleep\n        args: {{seconds: 100}}\n{}",
        call_step("run", "{workflow_id: waiter, argument: {n: 1}}", "got")
    ));
    // Sent at 130 s of the run: 30 s into the child's life.
    let run = run_with(p, &lib, &[to_child(130, ExecutionSel::Index(1), "yes")]);
    assert_eq!(run.execution.state(), ExecutionState::Succeeded);
    let c = &run.children[0];
    assert_eq!(c.started_at, SimTime::from_secs(100));
    assert_eq!(c.execution.ended_at(), Some(SimTime::from_secs(30)));
    assert_eq!(run.execution.ended_at(), Some(SimTime::from_secs(130)));
    let j = report::to_json(&run, &[]);
    let child = &j["children"][0];
    assert_eq!(child["index"], 1);
    assert_eq!(child["workflow"], "waiter");
    assert_eq!(child["parent"], 0);
    assert_eq!(child["call"], 0);
    assert_eq!(child["started_at"], 100.0);
    assert_eq!(child["ended_at"], 130.0);
    assert_eq!(child["state"], "SUCCEEDED");
    assert_eq!(child["result"], "yes");
    assert_eq!(child["argument"]["n"], 1);
    assert_eq!(child["logs"][0]["at"], 100.0);
    assert_eq!(child["endpoints"][0]["created_at"], 100.0);
    assert_eq!(j["requests"][0]["execution"], 1);
    assert_eq!(j["requests"][0]["at"], 130.0);
    let calls = j["http_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["call"], format!("{PREFIX}run"));
    assert_eq!(calls[0]["at"], 100.0);
    assert_eq!(calls[0]["answered_at"], 130.0);
    assert_eq!(child["http_calls"], serde_json::json!([]));
    let start = wfsim_engine::time::format_rfc3339(
        wfsim_engine::WallClock::DEFAULT.unix_nanos_at(SimTime::from_secs(100)),
    );
    let env_start = c.execution.clock().unix_nanos_at(SimTime::ZERO);
    assert_eq!(
        wfsim_engine::time::format_rfc3339(env_start),
        start,
        "the child's wall clock starts when it does"
    );
    let timeline = report::timeline(&run).join("\n");
    assert!(
        timeline.contains("100s  child 1: waiter (")
            && timeline.contains("started by the workflow's call 0"),
        "{timeline}"
    );
    assert!(
        timeline
            .contains("130s  request POST endpoint 0 -> 200  taken by a waiting await  [child 1]"),
        "{timeline}"
    );
    // The report of a run without children has no key for them.
    let alone = runner::run(
        wf("q.yaml", QUICK),
        "q",
        &RunConfig {
            argument: Some(Value::map([("n", Value::Int(1))])),
            ..RunConfig::default()
        },
        &[],
    );
    let j = report::to_json(&alone, &[]);
    assert!(j.get("children").is_none(), "{j}");
    assert_eq!(
        report::field_json(&alone, "children"),
        Some(serde_json::json!([]))
    );
}

#[test]
fn ht_10_a_failed_child_raises_operation_error_with_the_execution() {
    let lib = library(&[("waiter", WAITER)]);
    let p = parent(&call_step(
        "run",
        "{workflow_id: waiter, argument: {n: 1}}",
        "got",
    ));
    let run = run_with(p, &lib, &[to_child(5, ExecutionSel::Index(1), "fail")]);
    let e = error(&run);
    assert_eq!(tags(&e), ["OperationError"]);
    let op = e.get("operation").unwrap();
    assert_eq!(op.get("state"), Some(&s("FAILED")));
    assert_eq!(
        op.get("error").unwrap().get("payload"),
        Some(&s(r#"{"code":7,"message":"failed on purpose"}"#))
    );
    assert_eq!(op.get("duration"), Some(&s("5s")));
    assert_eq!(
        op.get("endTime"),
        Some(&s("2024-01-01T00:00:05.000000000Z"))
    );
    let j = report::to_json(&run, &[]);
    assert_eq!(j["children"][0]["error"]["code"], 7);
    assert_eq!(j["children"][0]["stack"][0]["step"], "check");
}

#[test]
fn ht_10_create_get_list_and_cancel() {
    let lib = library(&[("waiter", WAITER)]);
    let parent_name = "projects/wfsim/locations/us-central1/workflows/waiter";
    let steps = [
        call_step(
            "create",
            &format!(
                "{{parent: {parent_name}, body: {{argument: '{{\"n\": 5}}'}}, connector_params: {{skip_polling: true}}}}"
            ),
            "a",
        ),
        call_step(
            "create",
            &format!("{{parent: {parent_name}, body: {{argument: '{{\"n\": 6}}'}}, connector_params: {{skip_polling: true}}}}"),
            "b",
        ),
        "    - nap:\n        call: sys.sleep\n        args: {seconds: 10}\n".to_owned(),
        call_step("cancel", "{name: '${b.name}'}", "cb"),
        call_step("get", "{name: '${a.name}'}", "ga"),
        call_step("list", &format!("{{parent: {parent_name}}}"), "all"),
        "    - r:\n        return: {a: '${a}', b: '${b}', cb: '${cb}', ga: '${ga}', all: '${all}'}\n"
            .to_owned(),
    ];
    let run = run_with(
        parent(&steps.concat()),
        &lib,
        &[to_child(5, ExecutionSel::Index(1), "yes")],
    );
    let r = result(&run);
    let field = |k: &str, f: &str| r.get(k).unwrap().get(f).cloned();
    assert_eq!(field("a", "state"), Some(s("ACTIVE")));
    assert_eq!(field("a", "argument"), Some(s(r#"{"n":5}"#)));
    assert_eq!(field("b", "argument"), Some(s(r#"{"n":6}"#)));
    assert_eq!(field("cb", "state"), Some(s("CANCELLED")));
    assert_eq!(field("cb", "duration"), Some(s("10s")));
    assert_eq!(field("ga", "state"), Some(s("SUCCEEDED")));
    assert_eq!(field("ga", "result"), Some(s(r#""yes""#)));
    assert_eq!(field("ga", "name"), field("a", "name"));
    let Some(Value::List(all)) = field("all", "executions") else {
        panic!("{r:?}")
    };
    // Newest first.
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].get("name"), field("b", "name").as_ref());
    assert_eq!(all[1].get("name"), field("a", "name").as_ref());
    assert_eq!(run.children.len(), 2);
    assert_eq!(run.children[1].execution.state(), ExecutionState::Cancelled);
    assert_eq!(
        run.children[1].parent,
        Some((0, wfsim_engine::http::CallId(1)))
    );
}

#[test]
fn ht_10_create_without_skip_polling_waits_and_run_with_it_returns_null() {
    let lib = library(&[("waiter", WAITER)]);
    let parent_name = "projects/wfsim/locations/us-central1/workflows/waiter";
    let steps = [
        call_step(
            "run",
            "{workflow_id: waiter, argument: {n: 1}, connector_params: {skip_polling: true}}",
            "fired",
        ),
        call_step(
            "create",
            &format!("{{parent: {parent_name}, body: {{argument: '{{\"n\": 2}}'}}}}"),
            "waited",
        ),
        "    - r:\n        return: {fired: '${fired}', waited: '${waited.state}'}\n".to_owned(),
    ];
    let run = run_with(
        parent(&steps.concat()),
        &lib,
        &[to_child(9, ExecutionSel::Index(2), "fine")],
    );
    let r = result(&run);
    assert_eq!(r.get("fired"), Some(&Value::Null));
    assert_eq!(r.get("waited"), Some(&s("SUCCEEDED")));
    assert_eq!(run.execution.ended_at(), Some(SimTime::from_secs(9)));
    // A child outlives its parent: the run goes on until it times out.
    assert_eq!(run.children[0].execution.state(), ExecutionState::Failed);
    assert_eq!(
        run.children[0].execution.ended_at(),
        Some(SimTime::from_secs(600))
    );
}

/// One call's error: the tags it raised and the message or the HTTP code.
fn raised(lib: &Library, method: &str, args: &str) -> Value {
    let steps = format!(
        "    - t:\n        try:\n          call: {PREFIX}{method}\n          args: {args}\n        except:\n          as: e\n          steps:\n            - r:\n                return: ${{e}}\n    - none:\n        return: no error\n"
    );
    result(&run_with(parent(&steps), lib, &[]))
}

#[test]
fn ht_10_bad_arguments_and_unknown_names_raise_as_gcp_does() {
    let lib = library(&[("quick", QUICK)]);
    let tag = |v: &Value| tags(v).first().cloned().unwrap_or_default();
    let msg = |v: &Value| wfsim_engine::error::message(v).unwrap_or_default();
    let e = raised(&lib, "run", "{argument: 1}");
    assert_eq!(tag(&e), "TypeError");
    assert!(msg(&e).ends_with("needs argument 'workflow_id'"), "{e:?}");
    let e = raised(&lib, "run", "{workflow_id: quick, project_id: 1}");
    assert_eq!(tag(&e), "TypeError");
    assert!(
        msg(&e).contains("project_id must be a string, got an integer"),
        "{e:?}"
    );
    let e = raised(&lib, "run", "{workflow_id: quick, location: [1]}");
    assert!(msg(&e).contains("location must be a string"), "{e:?}");
    let e = raised(&lib, "run", "{workflow_id: nowhere}");
    assert_eq!(tag(&e), "HttpError");
    assert_eq!(e.get("code"), Some(&Value::Int(404)));
    let body = e.get("body").unwrap().get("error").unwrap();
    assert_eq!(body.get("status"), Some(&s("NOT_FOUND")));
    assert!(
        body.get("message")
            .and_then(|m| wfsim_engine::value::show(m)
                .contains("workflows/nowhere")
                .then_some(()))
            .is_some(),
        "{e:?}"
    );
    let e = raised(
        &lib,
        "run",
        "{workflow_id: quick, project_id: other, argument: {n: 1}}",
    );
    assert_eq!(e.get("code"), Some(&Value::Int(404)));
    let e = raised(
        &lib,
        "run",
        "{workflow_id: quick, location: eu, argument: {n: 1}}",
    );
    assert_eq!(e.get("code"), Some(&Value::Int(404)));
    let e = raised(
        &lib,
        "run",
        "{workflow_id: quick, connector_params: {skip_polling: 1}}",
    );
    assert_eq!(tag(&e), "TypeError");
    assert!(msg(&e).contains("skip_polling must be a boolean"), "{e:?}");
    let parent_name = "projects/wfsim/locations/us-central1/workflows/quick";
    let e = raised(
        &lib,
        "create",
        &format!("{{parent: {parent_name}, body: {{argument: {{n: 1}}}}}}"),
    );
    assert_eq!(tag(&e), "TypeError");
    assert!(
        msg(&e).contains("body.argument must be a JSON document in a string"),
        "{e:?}"
    );
    let e = raised(
        &lib,
        "create",
        &format!("{{parent: {parent_name}, body: {{argument: 'nope'}}}}"),
    );
    assert_eq!(tag(&e), "ValueError");
    let e = raised(
        &lib,
        "create",
        &format!("{{parent: {parent_name}, body: 3}}"),
    );
    assert!(msg(&e).contains("body must be a map"), "{e:?}");
    let e = raised(&lib, "create", "{parent: quick}");
    assert_eq!(tag(&e), "ValueError");
    assert!(
        msg(&e).contains("is not projects/PROJECT/locations/LOCATION/workflows/WORKFLOW"),
        "{e:?}"
    );
    let e = raised(&lib, "get", "{name: quick}");
    assert_eq!(tag(&e), "ValueError");
    let e = raised(
        &lib,
        "get",
        &format!("{{name: {parent_name}/executions/nope}}"),
    );
    assert_eq!(e.get("code"), Some(&Value::Int(404)));
    let e = raised(
        &lib,
        "cancel",
        &format!("{{name: {parent_name}/executions/nope}}"),
    );
    assert_eq!(e.get("code"), Some(&Value::Int(404)));
    let e = raised(
        &lib,
        "list",
        "{parent: projects/wfsim/locations/us-central1/workflows/nope}",
    );
    assert_eq!(e.get("code"), Some(&Value::Int(404)));
    // The parent's own workflow is deployed too: it lists itself.
    let listed = result(&run_with(
        parent(&format!(
            "{}    - r:\n        return: '${{len(l.executions)}}'\n",
            call_step(
                "list",
                "{parent: projects/wfsim/locations/us-central1/workflows/parent}",
                "l"
            )
        )),
        &lib,
        &[],
    ));
    assert_eq!(listed, Value::Int(1));
    // Cancelling an ended child: 400, as the API answers it.
    let steps = [
        call_step(
            "create",
            &format!(
                "{{parent: {parent_name}, body: {{argument: '{{\"n\": 1}}'}}, connector_params: {{skip_polling: true}}}}"
            ),
            "c",
        ),
        format!(
            "    - t:\n        try:\n          call: {PREFIX}cancel\n          args: {{name: '${{c.name}}'}}\n        except:\n          as: e\n          steps:\n            - r:\n                return: ${{e}}\n"
        ),
    ];
    let e = result(&run_with(parent(&steps.concat()), &lib, &[]));
    assert_eq!(e.get("code"), Some(&Value::Int(400)));
    let body = e.get("body").unwrap().get("error").unwrap();
    assert_eq!(body.get("status"), Some(&s("FAILED_PRECONDITION")));
    assert_eq!(
        body.get("message"),
        Some(&s(
            "the execution is SUCCEEDED; only an ACTIVE execution can be cancelled"
        ))
    );
}

#[test]
fn ht_10_requests_to_a_child_that_has_not_started_are_404() {
    let lib = library(&[("waiter", WAITER)]);
    let p = parent(&format!(
        "    - nap:\n        call: sys.sleep\n        args: {{seconds: 50}}\n{}",
        call_step("run", "{workflow_id: waiter, argument: {n: 1}}", "got")
    ));
    let run = run_with(
        p,
        &lib,
        &[
            to_child(10, ExecutionSel::Name("waiter".into()), "x"),
            to_child(11, ExecutionSel::Index(1), "x"),
            to_child(12, ExecutionSel::Index(0), "x"),
        ],
    );
    let r = &run.requests;
    assert_eq!((r[0].status, r[0].execution, r[0].endpoint), (404, 0, None));
    assert_eq!(
        r[0].message.as_deref(),
        Some("no execution to send it to: a child 'waiter' has not started")
    );
    assert_eq!(
        r[1].message.as_deref(),
        Some("no execution to send it to: child 1 has not started")
    );
    // Index 0 is the run's own execution, which has no endpoint 0.
    assert_eq!(
        (r[2].status, r[2].execution, r[2].endpoint),
        (404, 0, Some(0))
    );
    assert_eq!(
        r[0].trace_pos,
        run.execution.trace().len().min(r[0].trace_pos)
    );
}

#[test]
fn ht_10_named_finds_literal_children_in_every_block() {
    let text = format!(
        r#"main:
  steps:
    - a:
        call: {PREFIX}run
        args: {{workflow_id: one}}
    - b:
        try:
          call: {PREFIX}create
          args: {{parent: projects/p/locations/l/workflows/two}}
        except:
          as: e
          steps:
            - c:
                call: {PREFIX}get
                args: {{name: projects/p/locations/l/workflows/three/executions/x}}
    - d:
        for:
          value: v
          in: [1]
          steps:
            - e:
                call: {PREFIX}list
                args: {{parent: '${{"projects/p/locations/l/workflows/" + "dynamic"}}'}}
    - f:
        parallel:
          branches:
            - b1:
                steps:
                  - g:
                      call: {PREFIX}run
                      args: {{workflow_id: four}}
    - h:
        switch:
          - condition: true
            steps:
              - i:
                  call: {PREFIX}cancel
                  args: {{name: projects/p/locations/l/workflows/five/executions/y}}
    - j:
        call: sub
sub:
  steps:
    - k:
        call: {PREFIX}run
        args: {{workflow_id: six}}
    - l:
        call: {PREFIX}run
        args: {{workflow_id: '${{"seven"}}'}}
    - m:
        call: googleapis.workflows.v1.projects.locations.workflows.get
        args: {{name: eight}}
"#
    );
    let w = wf("named.yaml", &text);
    let names: Vec<(String, u32)> = children::named(&w)
        .into_iter()
        .map(|(n, p)| (n, p.line))
        .collect();
    let expect: Vec<(String, u32)> = [
        ("one", 4),
        ("two", 8),
        ("three", 14),
        ("four", 30),
        ("five", 37),
        ("six", 44),
    ]
    .iter()
    .map(|(n, l)| ((*n).to_owned(), *l))
    .collect();
    assert_eq!(names, expect);
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wfsim-children-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn ht_10_the_library_loads_named_children_beside_their_parent() {
    let dir = scratch("lib");
    let parent_text = format!(
        "main:\n  steps:\n    - a:\n        call: {PREFIX}run\n        args: {{workflow_id: mid}}\n"
    );
    std::fs::write(dir.join("top.yaml"), &parent_text).unwrap();
    // `mid` names `leaf`, found beside it; `.yml` and `.json` are found too.
    std::fs::write(
        dir.join("mid.yml"),
        format!("main:\n  steps:\n    - a:\n        call: {PREFIX}run\n        args: {{workflow_id: leaf}}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("leaf.json"),
        r#"{"main": {"steps": [{"r": {"return": 1}}]}}"#,
    )
    .unwrap();
    std::fs::write(dir.join("late.yaml"), QUICK).unwrap();
    std::fs::write(dir.join("late-2_b.yaml"), QUICK).unwrap();
    std::fs::write(dir.join("broken.yaml"), "main:\n  steps: 3\n").unwrap();
    let top = wf(&dir.join("top.yaml").display().to_string(), &parent_text);
    let lib = children::library(&top, &dir.join("top.yaml"), &Default::default()).unwrap();
    assert_eq!(lib.workflows.keys().collect::<Vec<_>>(), ["leaf", "mid"]);
    assert_eq!(lib.dir.as_deref(), Some(dir.as_path()));
    // A name computed at run time is read when first asked for, and kept.
    assert!(lib.get("late").is_ok());
    std::fs::remove_file(dir.join("late.yaml")).unwrap();
    assert!(lib.get("late").is_ok(), "kept from the first read");
    assert!(lib.get("late-2_b").is_ok(), "GCP's ids take '-' and '_'");
    let broken = lib.get("broken").unwrap_err();
    assert!(broken.contains("broken.yaml:2:"), "{broken}");
    let missing = lib.get("absent").unwrap_err();
    assert!(missing.contains("cannot read"), "{missing}");
    for bad in ["../top", "a/b", "", "x.y"] {
        let e = lib.get(bad).unwrap_err();
        assert!(e.starts_with(&format!("no child workflow '{bad}'")), "{e}");
    }
    // A scenario's map wins over the file beside; a child that is nowhere is an error at
    // the call naming it.
    let mut files = std::collections::BTreeMap::new();
    files.insert("mid".to_owned(), dir.join("leaf.json"));
    let lib = children::library(&top, &dir.join("top.yaml"), &files).unwrap();
    assert_eq!(lib.workflows.keys().collect::<Vec<_>>(), ["mid"]);
    std::fs::remove_file(dir.join("leaf.json")).unwrap();
    let errors = children::library(&top, &dir.join("top.yaml"), &Default::default()).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with(&format!(
            "{}:4:9: child workflow 'leaf': cannot read",
            dir.join("mid.yml").display()
        )),
        "{errors:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const ASKER: &str = r#"main:
  steps:
    - create:
        call: events.create_callback_endpoint
        result: cb
    - ask:
        call: http.post
        args: {url: 'https://svc.test/ask', body: {url: '${cb.url}'}}
    - wait:
        call: events.await_callback
        args: {callback: '${cb}', timeout: 60}
        result: got
    - done:
        return: '${got.http_request.body.answer}'
"#;

#[test]
fn ht_10_a_service_calls_back_a_child_at_its_endpoint() {
    let lib = library(&[("asker", ASKER)]);
    let p = parent(&format!(
        "{}    - r:\n        return: '${{got}}'\n",
        call_step("run", "{workflow_id: asker}", "got")
    ));
    let services = wfsim_harness::services::parse(
        &wfsim_engine::defn::tree::parse(
            "- match: {url: 'https://svc.test/*'}\n  workflow: asker\n  respond: {status: 200, after: 1}\n  callback:\n    url: '${request.body.url}'\n    after: 2\n    body: {answer: called back}\n",
            wfsim_engine::defn::tree::Syntax::Yaml,
        )
        .unwrap(),
    )
    .unwrap();
    let run = runner::run_with_children(p, "parent", &RunConfig::default(), &[], &services, &lib);
    assert_eq!(result(&run), s("called back"));
    assert_eq!(run.requests.len(), 1);
    let r = &run.requests[0];
    assert_eq!(
        (r.status, r.execution, r.endpoint, r.service),
        (200, 1, Some(0), Some(0))
    );
    assert_eq!(r.at, SimTime::from_secs(3));
    let j = report::to_json(&run, &[]);
    let calls = &j["children"][0]["http_calls"];
    assert_eq!(calls[0]["url"], "https://svc.test/ask");
    assert_eq!(calls[0]["answered_at"], 1.0);
    assert_eq!(calls[0]["status"], 200);
    assert_eq!(run.execution.ended_at(), Some(SimTime::from_secs(3)));
}

#[test]
fn ht_10_the_resource_of_a_later_child_is_on_the_run_clock() {
    let lib = library(&[("waiter", WAITER)]);
    let steps = [
        "    - nap:\n        call: sys.sleep\n        args: {seconds: 100}\n".to_owned(),
        call_step(
            "create",
            "{parent: projects/wfsim/locations/us-central1/workflows/waiter, body: {argument: '{\"n\": 1}'}, connector_params: {skip_polling: true}}",
            "c",
        ),
        "    - later:\n        call: sys.sleep\n        args: {seconds: 40}\n".to_owned(),
        call_step("get", "{name: '${c.name}'}", "g"),
        "    - r:\n        return: '${g}'\n".to_owned(),
    ];
    let run = run_with(
        parent(&steps.concat()),
        &lib,
        &[to_child(130, ExecutionSel::Index(1), "yes")],
    );
    let g = result(&run);
    assert_eq!(
        g.get("startTime"),
        Some(&s("2024-01-01T00:01:40.000000000Z"))
    );
    assert_eq!(g.get("endTime"), Some(&s("2024-01-01T00:02:10.000000000Z")));
    assert_eq!(g.get("duration"), Some(&s("30s")));
    assert_eq!(g.get("state"), Some(&s("SUCCEEDED")));
}

#[test]
fn ht_10_a_request_buffered_at_a_child_is_taken_on_the_run_clock() {
    let sleepy = "main:\n  steps:\n    - create:\n        call: events.create_callback_endpoint\n        result: cb\n    - nap:\n        call: sys.sleep\n        args: {seconds: 20}\n    - wait:\n        call: events.await_callback\n        args: {callback: '${cb}', timeout: 60}\n        result: got\n    - done:\n        return: '${got.http_request.body.answer}'\n";
    let lib = library(&[("sleepy", sleepy)]);
    let p = parent(&format!(
        "    - nap:\n        call: sys.sleep\n        args: {{seconds: 100}}\n{}",
        call_step("run", "{workflow_id: sleepy}", "got")
    ));
    let run = run_with(p, &lib, &[to_child(105, ExecutionSel::Index(1), "kept")]);
    assert_eq!(run.requests[0].status, 200);
    assert_eq!(run.requests[0].taken_at, Some(SimTime::from_secs(120)));
    assert_eq!(run.execution.ended_at(), Some(SimTime::from_secs(120)));
}

#[test]
fn ht_10_scenarios_name_children_and_address_their_endpoints() {
    let text = "workflow: w/parent.yaml\nworkflows: {kid: kids/kid.yaml, other: o.yaml}\nrequests:\n  - {at: 1, endpoint: 0, execution: kid}\n  - {at: 2, endpoint: 1, execution: 2}\n  - {at: 3, endpoint: 0}\n";
    let sc = wfsim_harness::scenario::parse(text).unwrap();
    assert_eq!(
        sc.requests[0].execution,
        Some(ExecutionSel::Name("kid".into()))
    );
    assert_eq!(sc.requests[1].execution, Some(ExecutionSel::Index(2)));
    assert_eq!(sc.requests[2].execution, None);
    assert_eq!(
        sc.workflows
            .get("kid")
            .map(|(f, p)| (f.as_str(), p.line, p.col)),
        Some(("kids/kid.yaml", 2, 18))
    );
    for (bad, col) in [("-1", 37), ("''", 37), ("[1]", 37)] {
        let text =
            format!("workflow: w.yaml\nrequests:\n  - {{at: 1, endpoint: 0, execution: {bad}}}\n");
        let e = wfsim_harness::scenario::parse(&text).unwrap_err();
        assert_eq!((e.pos.line, e.pos.col), (3, col), "{bad}");
        assert!(
            e.message
                .starts_with("'execution' is a child workflow's name"),
            "{}",
            e.message
        );
    }
    let e = wfsim_harness::scenario::parse("workflow: w.yaml\nworkflows: {kid: 3}\n").unwrap_err();
    assert_eq!(e.pos.line, 2);
    let e = wfsim_harness::scenario::parse("workflow: w.yaml\nworkflows: [kid]\n").unwrap_err();
    assert_eq!(e.pos.line, 2);
    // The files a scenario maps are relative to it.
    let dir = scratch("scenario");
    std::fs::create_dir_all(dir.join("kids")).unwrap();
    std::fs::write(dir.join("kids/kid.yaml"), QUICK).unwrap();
    std::fs::write(dir.join("o.yaml"), QUICK).unwrap();
    let top = wf(
        "parent.yaml",
        "main:\n  steps:\n    - r:\n        return: 1\n",
    );
    let lib = sc
        .children(&dir.join("s.yaml"), &top, &dir.join("w/parent.yaml"))
        .unwrap();
    assert_eq!(lib.workflows.keys().collect::<Vec<_>>(), ["kid", "other"]);
    assert_eq!(lib.dir.as_deref(), Some(dir.join("w").as_path()));
    std::fs::remove_file(dir.join("o.yaml")).unwrap();
    std::fs::write(dir.join("kids/kid.yaml"), "main: 3\n").unwrap();
    let e = sc
        .children(&dir.join("s.yaml"), &top, &dir.join("w/parent.yaml"))
        .unwrap_err();
    assert_eq!(e.lines().count(), 2, "every error, one a line: {e}");
    assert!(e.contains("kid.yaml:1:"), "{e}");
    assert!(e.contains("child workflow 'other': cannot read"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ht_10_properties_read_the_children() {
    let lib = library(&[("quick", QUICK)]);
    let p = parent(&call_step(
        "run",
        "{workflow_id: quick, argument: {n: 21}}",
        "got",
    ));
    let run = run_with(p, &lib, &[]);
    let vars = wfsim_harness::property::vars(&run);
    let root = wfsim_engine::defn::tree::parse(
        "p: '${len(children) == 1 and children[0].result == 42 and children[0].workflow == \"quick\"}'\n",
        wfsim_engine::defn::tree::Syntax::Yaml,
    )
    .unwrap();
    let prop = wfsim_harness::property::parse(&root.as_map().unwrap()[0].2).unwrap();
    assert_eq!(wfsim_harness::property::holds(&prop, &vars), Ok(true));
}

/// Each field a property reads is the report's own, for a run with an error, logs,
/// requests, calls and children.
#[test]
fn ht_10_every_property_name_reads_the_reports_field() {
    let lib = library(&[("waiter", WAITER)]);
    let p = parent(&format!(
        "    - hello:\n        call: sys.log\n        args: {{text: hi}}\n{}    - r:\n        return: '${{got}}'\n",
        call_step("run", "{workflow_id: waiter, argument: {n: 4}}", "got")
    ));
    let failed = run_with(
        Rc::clone(&p),
        &lib,
        &[to_child(7, ExecutionSel::Index(1), "fail")],
    );
    let succeeded = run_with(p, &lib, &[to_child(7, ExecutionSel::Index(1), "fine")]);
    for name in wfsim_harness::property::NAMES {
        let mut shown = false;
        for run in [&failed, &succeeded] {
            let whole = report::to_json(run, &[]);
            assert_eq!(
                report::field_json(run, name).as_ref(),
                Some(&whole[name]),
                "{name}"
            );
            shown |= whole[name] != serde_json::Value::Null;
        }
        assert!(shown, "{name} shows something in one of the runs");
    }
    assert_eq!(report::field_json(&failed, "nope"), None);
}

/// A request buffered after an earlier one was taken from the same slot is not marked
/// taken by that earlier take (each await's take is read once).
#[test]
fn cb_5_a_later_buffered_request_is_not_marked_by_an_earlier_take() {
    let w = wf(
        "w.yaml",
        "main:\n  steps:\n    - create:\n        call: events.create_callback_endpoint\n        result: cb\n    - nap:\n        call: sys.sleep\n        args: {seconds: 10}\n    - wait:\n        call: events.await_callback\n        args: {callback: '${cb}', timeout: 60}\n    - nap2:\n        call: sys.sleep\n        args: {seconds: 100}\n",
    );
    let req = |at| ScriptedRequest {
        at: SimTime::from_secs(at),
        endpoint: 0,
        ..ScriptedRequest::default()
    };
    let run = runner::run(w, "w", &RunConfig::default(), &[req(5), req(20)]);
    assert_eq!(run.requests[0].taken_at, Some(SimTime::from_secs(10)));
    assert_eq!(run.requests[1].status, 200);
    assert_eq!(run.requests[1].taken_at, None);
}

/// HT-10: `list` pages as the connector reference says: `pageSize` (100 by default, at
/// most 1000), `nextPageToken` while executions are left, `pageToken` for the next page;
/// a token it did not give or a negative size is the API's 400.
#[test]
fn ht_10_list_pages_with_page_size_and_tokens() {
    let lib = library(&[("quick", QUICK)]);
    let parent_name = "projects/wfsim/locations/us-central1/workflows/quick";
    let mut steps: Vec<String> = (1..=3)
        .map(|n| {
            call_step(
                "create",
                &format!(
                    "{{parent: {parent_name}, body: {{argument: '{{\"n\": {n}}}'}}, connector_params: {{skip_polling: true}}}}"
                ),
                &format!("c{n}"),
            )
        })
        .collect();
    steps.push(call_step(
        "list",
        &format!("{{parent: {parent_name}, pageSize: 2}}"),
        "first",
    ));
    steps.push(call_step(
        "list",
        &format!("{{parent: {parent_name}, pageSize: 2, pageToken: '${{first.nextPageToken}}'}}"),
        "second",
    ));
    steps.push(call_step(
        "list",
        &format!("{{parent: {parent_name}}}"),
        "whole",
    ));
    steps.push(
        "    - r:\n        return: {first: '${first}', second: '${second}', whole: '${whole}', c1: '${c1.name}', c2: '${c2.name}', c3: '${c3.name}'}\n"
            .to_owned(),
    );
    let r = result(&run_with(parent(&steps.concat()), &lib, &[]));
    let names = |k: &str| -> Vec<Value> {
        match r.get(k).and_then(|l| l.get("executions")) {
            Some(Value::List(l)) => l.iter().map(|e| e.get("name").unwrap().clone()).collect(),
            other => panic!("{k}: {other:?}"),
        }
    };
    let c = |k: &str| r.get(k).unwrap().clone();
    // Newest first, two to a page, then the last.
    assert_eq!(names("first"), [c("c3"), c("c2")]);
    assert_eq!(
        r.get("first").unwrap().get("nextPageToken"),
        Some(&s("wfsim-2"))
    );
    assert_eq!(names("second"), [c("c1")]);
    assert_eq!(r.get("second").unwrap().get("nextPageToken"), None);
    assert_eq!(names("whole").len(), 3);
    assert_eq!(r.get("whole").unwrap().get("nextPageToken"), None);
    // Refusals.
    let e = raised(
        &lib,
        "list",
        &format!("{{parent: {parent_name}, pageToken: nope}}"),
    );
    assert_eq!(e.get("code"), Some(&Value::Int(400)), "{e:?}");
    let e = raised(
        &lib,
        "list",
        &format!("{{parent: {parent_name}, pageSize: -1}}"),
    );
    assert_eq!(e.get("code"), Some(&Value::Int(400)), "{e:?}");
    let e = raised(
        &lib,
        "list",
        &format!("{{parent: {parent_name}, pageSize: two}}"),
    );
    assert_eq!(tags(&e), ["TypeError"], "{e:?}");
}
