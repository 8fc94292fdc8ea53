//! The JSON Schemas of the scenario and explore formats (`schema/*.schema.json`, which
//! editors read through `# yaml-language-server: $schema=…`) say what the readers say:
//! every fixture scenario and explore file is valid, and a misspelt key at each level is
//! refused by the schema exactly where the reader refuses it.

use std::path::{Path, PathBuf};

use jsonschema::{Registry, Validator};
use serde_json::Value as Json;
use wfsim_engine::defn::tree::{self, Syntax};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn schema(name: &str) -> Json {
    let text = std::fs::read_to_string(root().join("schema").join(name)).expect("the schema");
    serde_json::from_str(&text).expect("the schema is JSON")
}

/// The scenario and explore validators, each able to resolve the other's references.
fn validators() -> (Validator, Validator) {
    let (scenario, explore) = (
        schema("scenario.schema.json"),
        schema("explore.schema.json"),
    );
    let id = |s: &Json| s["$id"].as_str().expect("an $id").to_owned();
    let registry = Registry::new()
        .add(id(&scenario), scenario.clone())
        .and_then(|r| r.add(id(&explore), explore.clone()))
        .and_then(|r| r.prepare())
        .expect("a registry of the two schemas");
    let build = |s: &Json| {
        jsonschema::options()
            .with_registry(&registry)
            .build(s)
            .expect("a valid schema")
    };
    (build(&scenario), build(&explore))
}

/// A YAML or JSON document as JSON, read as wfsim reads it.
fn as_json(name: &str, text: &str) -> Option<Json> {
    let node = tree::parse(text, Syntax::of_path(name)).ok()?;
    node.to_value().to_json().ok()
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("a fixtures folder")
        .map(|e| e.expect("an entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(p);
        }
    }
}

fn errors(v: &Validator, doc: &Json) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn every_fixture_scenario_and_explore_file_is_valid() {
    let (scenario, explore) = validators();
    let mut all = Vec::new();
    files(&root().join("fixtures"), &mut all);
    let (mut scenarios, mut explores) = (0, 0);
    let mut bad = Vec::new();
    for path in all {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        if !wfsim_harness::scenario::recognise(&name, &text) {
            continue;
        }
        let doc = as_json(&name, &text).expect("a scenario is a document");
        let v = if doc.get("explore").is_some() {
            explores += 1;
            &explore
        } else {
            scenarios += 1;
            &scenario
        };
        for e in errors(v, &doc) {
            bad.push(format!("{name}: {e}"));
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
    assert!(
        scenarios >= 30 && explores >= 5,
        "{scenarios} scenarios, {explores} explore files"
    );
}

/// A base file, its schema, its reader (whether it takes a text), and misspellings
/// (what is written, what it becomes).
type Case<'a> = (
    &'a str,
    &'a Validator,
    &'a dyn Fn(&str) -> bool,
    &'a [(&'a str, &'a str)],
);

/// A scenario and an explore file using every key, each misspelt in turn: the reader and
/// the schema both accept the file as written and both refuse each misspelling.
#[test]
fn a_misspelt_key_is_refused_by_the_schema_where_the_reader_refuses_it() {
    let (scenario, explore) = validators();
    let dir = root().join("fixtures/explore");
    let scenario_text = "workflow: ../workflows/basic_callback.yaml\ndescription: d\nseed: 1\nargument: {a: 1}\nstart_time: \"2024-01-01T00:00:00Z\"\nproject: acme\nlocation: europe-west1\nenv: {REGION: eu}\ncancel_at: 100\nrequests:\n  - {at: 1, endpoint: 0, method: POST, headers: {X-A: b}, query: \"a=1\", body: {k: 1}, expect: 200}\nservices:\n  - description: d\n    workflow: basic_callback\n    match: {method: GET, url: \"https://x/*\"}\n    respond: [{status: 503, after: 1, headers: {X-A: b}, body: x}, {error: ConnectionError}]\n    callback: {url: \"${request.url}\", after: 1, method: POST, headers: {X-A: b}, body: {a: 1}, times: 2}\n  - match: {call: googleapis.pubsub.v1.projects.topics.publish}\nexpect:\n  state: SUCCEEDED\n  result: {a: 1}\n  error_tags: [TimeoutError]\n  ended_at: 5\n  logs: [{at: 0, severity: INFO, text: hi}, {at: 1, data: {a: 1}}]\n  http_calls: [{at: 0, answered_at: 1, method: GET, url: u, call: null, error: null, status: 200}]\n  step_entries: [{step: s, routine: main, type: ASSIGN, state: STATE_SUCCEEDED, progress: 1, variables: {x: 1}}]\n  holds: [\"${true}\", {p: {params: [run], steps: [{r: {return: true}}]}}]\ncovers: [CB-5]\n";
    let explore_text = "workflow: ../workflows/approval.yaml\nargument: {order: 7}\nservices:\n  - match: {url: \"https://x/*\"}\n    respond: {status: [200, 503], after: [0.1, 2]}\n    callback: {url: \"${request.url}\", times: [1, 2]}\nexplore:\n  seeds: 10\n  senders:\n    - {endpoint: 0, method: POST, body: [{approved: true}], count: [0, 2], at: [0, 10], retry: {max_attempts: 3, initial_delay: 1, multiplier: 2, max_delay: 10}}\n  faults: {loss: 0.1, latency: [0.001, 1], restarts: [0, 1]}\n  always: [\"${true}\"]\n  sometimes:\n    - p:\n        params: [run]\n        steps: [{r: {return: true}}]\n";
    let reads_scenario = |text: &str| wfsim_harness::scenario::parse(text).is_ok();
    let reads_explore =
        |text: &str| wfsim_explore::plan::Plan::parse(&dir.join("x.yaml"), text).is_ok();
    let cases: [Case; 2] = [
        (
            scenario_text,
            &scenario,
            &reads_scenario,
            &[
                ("seed: 1", "sed: 1"),
                ("project: acme", "projet: acme"),
                ("method: POST, headers", "methd: POST, headers"),
                ("expect: 200", "expcet: 200"),
                (
                    "description: d\n    workflow",
                    "descripton: d\n    workflow",
                ),
                ("match: {method: GET", "macth: {method: GET"),
                ("{method: GET, url", "{methd: GET, url"),
                ("respond: [", "respnd: ["),
                ("{status: 503", "{stauts: 503"),
                ("times: 2", "tmes: 2"),
                ("  state: SUCCEEDED", "  stat: SUCCEEDED"),
                ("severity: INFO", "severty: INFO"),
                ("answered_at: 1", "answerd_at: 1"),
                ("routine: main", "rutine: main"),
                ("type: ASSIGN", "type: ASIGN"),
                ("{params: [run], steps", "{parms: [run], steps"),
                ("covers:", "cover:"),
            ],
        ),
        (
            explore_text,
            &explore,
            &reads_explore,
            &[
                ("argument:", "argumnt:"),
                ("seeds: 10", "sedes: 10"),
                ("count: [0, 2]", "cout: [0, 2]"),
                ("max_attempts: 3", "max_atempts: 3"),
                ("loss: 0.1", "los: 0.1"),
                ("  always:", "  alwyas:"),
                ("        params: [run]", "        parms: [run]"),
                ("{status: [200, 503]", "{stat: [200, 503]"),
                ("explore:", "explor:"),
            ],
        ),
    ];
    for (text, v, reads, misspellings) in cases {
        let doc = as_json("x.yaml", text).unwrap();
        assert!(reads(text), "the reader takes the base file");
        assert_eq!(errors(v, &doc), Vec::<String>::new(), "the schema takes it");
        for (good, bad) in misspellings {
            assert!(text.contains(good), "{good}");
            let text = text.replacen(good, bad, 1);
            let doc = as_json("x.yaml", &text).unwrap();
            assert!(!reads(&text), "the reader refuses {bad}");
            assert!(!v.is_valid(&doc), "the schema refuses {bad}");
        }
    }
}
