//! Runs one input in this process, as a host of the engine would: load, execute, render.
//! Anything that goes wrong inside the engine shows as a panic, an abort, a hang or an
//! allocation over budget; the worker and its parent turn those into failures.

use std::hint::black_box;
use std::rc::Rc;

use wfsim_engine::callbacks::{Auth, http_status};
use wfsim_engine::defn::tree;
use wfsim_engine::error::{self, Raised};
use wfsim_engine::http::{HttpOutcome, HttpResponse};
use wfsim_engine::interp::{Execution, ExecutionConfig};
use wfsim_engine::stdlib::{self, Effects, LogPayload, table};
use wfsim_engine::value::show;
use wfsim_engine::{CallbackRequest, ExecutionState, IdGen, Value, WallClock, defn};
use wfsim_harness::report;
use wfsim_harness::runner::{self, RequestRecord, Run};
use wfsim_harness::scenario;

use crate::input::{Definition, Input, Probe, StdlibCall};
use crate::recipe::Recipe;

/// Event-loop turns of one execution without a scenario; the execution's own limits (steps,
/// one year of simulated time) end it long before on every workflow seen so far.
const TURNS_MAX: usize = 200_000;
/// Requests sent to one execution without a scenario.
const REQUESTS_MAX: usize = 48;

/// What running an input showed, when it did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ran {
    /// A definition the engine accepted, or a call that returned.
    Accepted,
    /// A definition or a call the engine refused with an error, as it should.
    Refused,
}

/// Runs `input`. Failures are panics (caught by the worker) or the process dying.
pub fn run(input: &Input) -> Result<Ran, String> {
    match input {
        Input::Definition(d) => run_definition(d),
        Input::Stdlib(c) => run_call(c),
        Input::Probe(p) => {
            probe(*p);
            Ok(Ran::Accepted)
        }
    }
}

fn run_definition(d: &Definition) -> Result<Ran, String> {
    let argument = d.argument.as_ref().map(Recipe::build).transpose()?;
    // A host that reads bytes replaces what is not UTF-8, as `String::from_utf8_lossy` does.
    let text = String::from_utf8_lossy(&d.text);
    // The YAML and JSON fast path must read what it reads as saphyr does.
    let syntax = tree::Syntax::of_path(&d.file);
    let (fast, slow) = (
        tree::parse(&text, syntax),
        tree::parse_with_saphyr(&text, syntax),
    );
    if format!("{fast:?}") != format!("{slow:?}") {
        panic!("the fast path read\n{text}\nas {fast:?}\nbut saphyr as {slow:?}");
    }
    let workflow = match defn::load(&d.file, &text) {
        Ok(w) => Rc::new(w),
        Err(errors) => {
            black_box(errors.iter().map(ToString::to_string).collect::<Vec<_>>());
            return Ok(Ran::Refused);
        }
    };
    let scenario =
        d.scenario
            .as_ref()
            .and_then(|s| match scenario::parse(&String::from_utf8_lossy(s)) {
                Ok(s) => Some(s),
                Err(e) => {
                    black_box(e.message);
                    None
                }
            });
    let (run, failures) = match scenario {
        Some(s) => {
            let mut config = s.run_config();
            if argument.is_some() {
                config.argument = argument;
            }
            let run =
                runner::run_with_services(workflow, "fuzz", &config, &s.requests, &s.services);
            let failures = scenario::check(&s, &run);
            (run, failures)
        }
        None => (drive(workflow, argument), Vec::new()),
    };
    render(&run, &failures);
    Ok(Ran::Accepted)
}

/// Runs an execution without a script: each endpoint gets a request as soon as it exists
/// (it waits in the slot), every waiting await gets one, and one goes to an endpoint that
/// does not exist; the requests cycle through the shapes of [`request`].
fn drive(workflow: Rc<defn::Workflow>, argument: Option<Value>) -> Run {
    let mut ex = Execution::start(
        workflow,
        ExecutionConfig {
            argument,
            ..ExecutionConfig::new(runner::execution_name("fuzz", 0))
        },
    );
    let mut records = Vec::new();
    let mut fed = 0; // endpoints that got their first request
    for _ in 0..TURNS_MAX {
        if ex.state() != ExecutionState::Active {
            break;
        }
        if records.len() < REQUESTS_MAX {
            let target = ex.with_callbacks(|cbs| {
                let eps = cbs.endpoints();
                let i = if eps.len() > fed {
                    Some(fed)
                } else {
                    eps.iter().position(|e| e.waiters().len() > 0)
                }?;
                let e = &eps[i];
                Some((
                    i,
                    e.callback_id().to_owned(),
                    e.method().as_str().to_owned(),
                ))
            });
            if let Some((i, id, method)) = target {
                fed = fed.max(i + 1);
                let id = if records.len() == 3 {
                    "no-such-callback".to_owned()
                } else {
                    id
                };
                send(&mut ex, &mut records, i as u32, &id, &method);
                continue;
            }
        }
        // Outbound calls (HT-4) get each kind of answer in turn, at once.
        let mut answered = false;
        while let Some(call) = ex.poll_http_call() {
            let now = ex.now();
            ex.answer_http(now, call.id, http_answer(call.id.0));
            answered = true;
        }
        if answered {
            let now = ex.now();
            ex.handle_timeout(now);
            continue;
        }
        match ex.poll_timeout() {
            Some(t) => {
                if ex.settle(t).is_err() {
                    break;
                }
            }
            None => break,
        }
    }
    Run {
        execution: ex,
        requests: records,
        budget_exhausted: false,
        unmatched: Vec::new(),
        service_errors: Vec::new(),
        children: Vec::new(),
    }
}

/// The `n`th answer to an outbound call: JSON, text, bytes, an error status, no body, or
/// a failed or broken connection.
fn http_answer(n: u64) -> HttpOutcome {
    let response = |status: u16, content_type: &str, body: &[u8]| {
        HttpOutcome::Response(HttpResponse {
            status,
            headers: vec![("Content-Type".to_owned(), content_type.to_owned())],
            body: body.to_vec(),
        })
    };
    match n % 7 {
        0 => response(200, "application/json", br#"{"a": [1, 2.5, null]}"#),
        1 => response(200, "text/plain; charset=utf-8", b"text"),
        2 => response(200, "application/octet-stream", b"\xff\x00"),
        3 => response(503, "application/json", b"{not json"),
        4 => response(204, "", b""),
        5 => HttpOutcome::ConnectionFailed("refused".to_owned()),
        _ => HttpOutcome::ConnectionError("reset".to_owned()),
    }
}

fn send(
    ex: &mut Execution,
    records: &mut Vec<RequestRecord>,
    endpoint: u32,
    id: &str,
    method: &str,
) {
    let now = ex.now();
    let path = ex.with_callbacks(|cbs| format!("{}/callbacks/{id}", cbs.name().path()));
    let request = request(records.len(), method, path);
    let method = request.method.clone();
    let trace_pos = ex.trace_len();
    let auth = match records.len() % 11 {
        5 => Auth::Unauthenticated,
        9 => Auth::PermissionDenied,
        _ => Auth::Granted,
    };
    let delivery = ex.deliver(now, id, auth, request);
    records.push(RequestRecord {
        at: now,
        execution: 0,
        endpoint: Some(endpoint),
        service: None,
        method,
        status: http_status(&delivery),
        message: delivery.as_ref().err().map(ToString::to_string),
        taken_at: None,
        trace_pos,
    });
    ex.handle_timeout(now);
}

/// The `n`th request of a run: bodies JSON, text, not UTF-8, empty, deep; odd queries and
/// headers; now and then another method than the endpoint's.
fn request(n: usize, method: &str, path: String) -> CallbackRequest {
    let json = ("Content-Type".to_owned(), "application/json".to_owned());
    let text = (
        "content-type".to_owned(),
        "text/plain; charset=utf-8".to_owned(),
    );
    let (headers, body): (Vec<(String, String)>, Vec<u8>) = match n % 8 {
        0 => (
            vec![json],
            br#"{"a": 1, "b": [true, null, 2.5e308], "c": "\u00e9"}"#.to_vec(),
        ),
        1 => (vec![], Vec::new()),
        2 => (vec![text], "h\u{e9}llo \u{1f600}".as_bytes().to_vec()),
        3 => (vec![json], b"\xff\xfe{not json".to_vec()),
        4 => (
            vec![json],
            format!("{}1{}", "[".repeat(300), "]".repeat(300)).into_bytes(),
        ),
        5 => (
            vec![
                ("X-\u{e9}".to_owned(), "v\u{0}".to_owned()),
                ("x-a".to_owned(), "1".to_owned()),
            ],
            b"\x00\x01binary".to_vec(),
        ),
        6 => (vec![json], b"18446744073709551616".to_vec()),
        _ => (vec![json], br#""just a string""#.to_vec()),
    };
    let query = match n % 5 {
        0 => "",
        1 => "a=1&a=2&b",
        2 => "%zz=%ff&=&&x=%E2%82%AC",
        3 => "k=v;w=z#frag",
        _ => "\u{e9}=\u{1f600}",
    };
    let method = match n % 7 {
        6 => "PATCH".to_owned(),
        4 => method.to_lowercase(),
        _ => method.to_owned(),
    };
    CallbackRequest {
        method,
        path,
        headers,
        query: query.to_owned(),
        body,
    }
}

/// What `wfsim run` prints of a run, JSON and timeline.
fn render(run: &Run, failures: &[String]) {
    black_box(report::to_json(run, failures).to_string());
    black_box(report::timeline(run));
}

/// Calls a library function as an expression would. Blocking functions need the scheduler,
/// and creating an endpoint the execution's callbacks: those are called from a workflow
/// whose argument is the list of arguments.
fn run_call(c: &StdlibCall) -> Result<Ran, String> {
    let func = table::lookup(&c.function).ok_or_else(|| format!("no function '{}'", c.function))?;
    // What the deploy-time checks guarantee every caller: no more arguments than
    // parameters, the required ones given.
    let required = func.param_list().filter(|(_, req)| *req).count();
    if c.args.len() > func.params.len()
        || (0..required).any(|i| c.args.get(i).is_none_or(Option::is_none))
    {
        return Err(format!(
            "{} takes {:?}: a deployed workflow could not call it so",
            c.function, func.params
        ));
    }
    if needs_workflow(func) {
        return run_definition(&call_in_workflow(c)?);
    }
    let args = c
        .args
        .iter()
        .map(|a| a.as_ref().map(Recipe::build).transpose())
        .collect::<Result<Vec<_>, _>>()?;
    let mut host = FuzzEffects::default();
    let result = stdlib::call(&c.function, args, &mut host);
    let ran = match &result {
        Ok(v) => {
            black_box(show(v));
            Ran::Accepted
        }
        Err(e) => {
            render_error(e);
            Ran::Refused
        }
    };
    for (_, payload) in &host.logs {
        black_box(wfsim_harness::report::payload_text(payload));
    }
    Ok(ran)
}

fn render_error(e: &Raised) {
    black_box((error::tags(e), error::message(e), show(e)));
}

fn needs_workflow(func: &table::Func) -> bool {
    func.blocking() || func.name == "events.create_callback_endpoint"
}

/// A workflow that calls `c.function` with `args[i]` as its arguments, after creating an
/// endpoint `cb` (an absent or `null` callback argument means `cb`).
pub fn call_in_workflow(c: &StdlibCall) -> Result<Definition, String> {
    let func = table::lookup(&c.function).ok_or_else(|| format!("no function '{}'", c.function))?;
    let mut args = String::new();
    for (i, (name, _)) in func.param_list().enumerate() {
        let given = c.args.get(i).is_some_and(Option::is_some);
        if name == "callback" {
            args.push_str(&format!(
                "          callback: ${{default(args[{i}], cb)}}\n"
            ));
        } else if given {
            args.push_str(&format!("          {name}: ${{args[{i}]}}\n"));
        }
    }
    let args = if args.is_empty() {
        String::new()
    } else {
        format!("        args:\n{args}")
    };
    let text = format!(
        "main:\n  params: [args]\n  steps:\n    - endpoint:\n        call: events.create_callback_endpoint\n        result: cb\n    - it:\n        call: {}\n{args}        result: r\n    - done:\n        return: ${{r}}\n",
        c.function
    );
    let padded: Vec<Recipe> = (0..c.args.len().max(func.params.len()))
        .map(|i| c.args.get(i).cloned().flatten().unwrap_or(Recipe::Null))
        .collect();
    Ok(Definition {
        file: "blocking.yaml".into(),
        text: text.into_bytes(),
        scenario: None,
        argument: Some(Recipe::List(padded)),
    })
}

/// The execution a library call sees: a fixed clock, seeded UUIDs, logs kept.
#[derive(Debug)]
struct FuzzEffects {
    uuids: IdGen,
    logs: Vec<(String, LogPayload)>,
}

impl Default for FuzzEffects {
    fn default() -> FuzzEffects {
        FuzzEffects {
            uuids: IdGen::with_stream(0, IdGen::STREAM_UUIDS),
            logs: Vec::new(),
        }
    }
}

impl Effects for FuzzEffects {
    fn now_unix_nanos(&self) -> i128 {
        WallClock::DEFAULT.unix_nanos_at(wfsim_engine::SimTime::ZERO)
    }
    fn uuid(&mut self) -> String {
        self.uuids.uuid()
    }
    fn env(&self, name: &str) -> Option<String> {
        (name == "GOOGLE_CLOUD_PROJECT_ID").then(|| "wfsim".into())
    }
    fn log(&mut self, severity: String, payload: LogPayload) {
        self.logs.push((severity, payload));
    }
    fn create_callback_endpoint(&mut self, method: &str) -> Result<Value, Raised> {
        Ok(Value::map([(
            "url",
            Value::str(format!("https://example/callbacks/{method}")),
        )]))
    }
}

/// Fails in the way named, for the tests of the parent's verdicts.
fn probe(p: Probe) {
    match p {
        Probe::Panic => panic!("probe: a panic on purpose"),
        Probe::StackOverflow => {
            black_box(recurse(black_box(u64::MAX)));
        }
        Probe::Memory => {
            let mut keep: Vec<Vec<u8>> = Vec::new();
            loop {
                keep.push(vec![0u8; 64 << 20]);
                black_box(&keep);
            }
        }
        Probe::Hang => loop {
            std::thread::sleep(std::time::Duration::from_millis(10));
        },
    }
}

/// Recursion the optimiser cannot turn into a loop: each frame keeps a buffer alive.
fn recurse(n: u64) -> u64 {
    let buf = black_box([n; 64]);
    if n == 0 {
        0
    } else {
        recurse(n - 1).wrapping_add(buf[3])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixture_runs_and_a_broken_one_is_refused() {
        let text = "main:\n  steps:\n    - cb:\n        call: events.create_callback_endpoint\n        result: e\n    - w:\n        call: events.await_callback\n        args:\n          callback: ${e}\n          timeout: 10\n        result: r\n    - done:\n        return: ${r.http_request.body}\n";
        let def = |text: &str| {
            Input::Definition(Definition {
                file: "t.yaml".into(),
                text: text.as_bytes().to_vec(),
                scenario: None,
                argument: None,
            })
        };
        assert_eq!(run(&def(text)), Ok(Ran::Accepted));
        assert_eq!(run(&def("main: [")), Ok(Ran::Refused));
    }

    #[test]
    fn library_calls_return_or_refuse() {
        let call = |f: &str, args: Vec<Option<Recipe>>| {
            run(&Input::Stdlib(StdlibCall {
                function: f.into(),
                args,
            }))
        };
        assert_eq!(
            call("len", vec![Some(Recipe::str("abc"))]),
            Ok(Ran::Accepted)
        );
        assert_eq!(call("int", vec![Some(Recipe::str("x"))]), Ok(Ran::Refused));
        assert_eq!(
            call("sys.sleep", vec![Some(Recipe::Int(5))]),
            Ok(Ran::Accepted)
        );
        assert_eq!(
            call(
                "events.await_callback",
                vec![Some(Recipe::Null), Some(Recipe::Int(1))]
            ),
            Ok(Ran::Accepted)
        );
        assert!(call("nope", vec![]).unwrap_err().contains("no function"));
        assert!(call("len", vec![]).unwrap_err().contains("could not call"));
        assert!(
            call("len", vec![Some(Recipe::Null), None])
                .unwrap_err()
                .contains("could not call")
        );
        assert_eq!(
            call(
                "events.create_callback_endpoint",
                vec![Some(Recipe::str("BOGUS"))]
            ),
            Ok(Ran::Accepted)
        );
    }

    #[test]
    fn some_calls_become_workflows_that_load() {
        let called: Vec<&str> = table::FUNCTIONS
            .iter()
            .filter(|f| needs_workflow(f))
            .map(|f| f.name)
            .collect();
        assert_eq!(
            called,
            [
                "events.await_callback",
                "events.create_callback_endpoint",
                "http.delete",
                "http.get",
                "http.patch",
                "http.post",
                "http.put",
                "http.request",
                "sys.sleep",
                "sys.sleep_until"
            ]
        );
        for f in table::FUNCTIONS.iter().filter(|f| needs_workflow(f)) {
            let c = StdlibCall {
                function: f.name.into(),
                args: vec![Some(Recipe::Int(1)), None],
            };
            let d = call_in_workflow(&c).unwrap();
            let text = String::from_utf8(d.text).unwrap();
            defn::load("blocking.yaml", &text).unwrap_or_else(|e| panic!("{text}\n{e:?}"));
        }
    }

    #[test]
    fn requests_vary() {
        let methods: Vec<String> = (0..8)
            .map(|n| request(n, "GET", String::new()).method)
            .collect();
        assert!(methods.contains(&"PATCH".to_owned()) && methods.contains(&"get".to_owned()));
        let bodies: std::collections::BTreeSet<Vec<u8>> = (0..8)
            .map(|n| request(n, "GET", String::new()).body)
            .collect();
        assert_eq!(bodies.len(), 8);
    }
}
