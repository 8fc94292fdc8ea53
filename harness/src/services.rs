//! Scripted services (SPEC §8, HT-7): the outside world of a scenario, deterministic. Each
//! service matches outbound calls, answers them in order, and may call the workflow back.
//!
//! ```yaml
//! services:
//!   - match: {method: POST, url: "https://notify.example.com/*"}   # glob on the full URL
//!     respond: {status: 200, body: {ok: true}, after: 0.2}         # after: latency, seconds
//!     callback:                     # then the service calls the workflow back
//!       url: ${request.body.callback_url}   # expression over the matched request
//!       after: 3600                 # seconds after the service answered
//!       method: POST                # optional: the endpoint's own method
//!       body: {approved: true}
//!       headers: {X-Id: "1"}        # optional
//!       times: 1                    # >1 sends duplicates, each `after` apart
//!   - match: {method: GET, url: "https://api.example.com/items/*"}
//!     respond:                      # a list is answered in order; the last one repeats
//!       - {status: 503}
//!       - {error: ConnectionError}
//!       - {status: 200, headers: {Content-Type: application/json}, body: [1, 2]}
//!   - match: {call: googleapis.pubsub.v1.projects.topics.publish}
//!     respond: {body: {messageIds: ["1"]}}
//! ```
//!
//! The first service whose `match` fits a call answers it; a service with `workflow: NAME`
//! fits only that workflow's calls. `method` is optional (any
//! method) and compared without case; `url` is a glob over the full URL, query included
//! (`*` any run of characters, `?` one). Defaults: `after: 0`, `status: 200`, no body. A
//! map, list, number or boolean body is sent as JSON with `Content-Type: application/json`,
//! a string as UTF-8 with `Content-Type: text/plain; charset=utf-8`, unless `headers` give
//! a content type; the same for callbacks.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use crate::doc::{DocError, err, map, string};
use wfsim_engine::defn::tree::{Node, Pos};
use wfsim_engine::error::Raised;
use wfsim_engine::expr::{self, Context, Expr};
use wfsim_engine::http::{CallId, Callee, HttpCall, HttpOutcome, HttpResponse, glob_match};
use wfsim_engine::time::SimTime;
use wfsim_engine::value::Value;

/// One scripted service.
#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    /// Where it is written, for messages.
    pub pos: Pos,
    pub matcher: Matcher,
    /// Answered in order; the last one repeats. Never empty.
    pub respond: Vec<Respond>,
    pub callback: Option<ServiceCallback>,
    /// `workflow: NAME`: it answers only that workflow's executions (a `--services` file
    /// shared by every workflow `wfsim serve` serves); every workflow's when absent.
    pub workflow: Option<String>,
}

/// The services that answer workflow `name`'s executions, in their order: all of them
/// (the same list, shared) unless some are scoped to a workflow.
pub fn for_workflow(services: &Rc<[Service]>, name: &str) -> Rc<[Service]> {
    if services.iter().all(|s| s.workflow.is_none()) {
        return Rc::clone(services);
    }
    services
        .iter()
        .filter(|s| s.workflow.as_deref().is_none_or(|w| w == name))
        .cloned()
        .collect()
}

/// What calls a service answers.
#[derive(Clone, Debug, PartialEq)]
pub enum Matcher {
    Http { method: Option<String>, url: String },
    Connector(String),
}

impl Matcher {
    pub fn matches(&self, target: &Callee) -> bool {
        match (self, target) {
            (Matcher::Http { method, url }, Callee::Http(r)) => {
                method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(&r.method))
                    && glob_match(url, &r.url)
            }
            (Matcher::Connector(name), Callee::Connector { name: n, .. }) => name == n,
            _ => false,
        }
    }
}

/// One answer: after `after`, this outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Respond {
    pub after: Duration,
    pub outcome: HttpOutcome,
}

/// A call back to the workflow, sent after the service answered.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceCallback {
    pub url: UrlSpec,
    pub after: Duration,
    /// `None`: the endpoint's own method.
    pub method: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub times: u32,
}

/// A callback URL: a string, or `${…}` over `request`.
#[derive(Clone, Debug, PartialEq)]
pub enum UrlSpec {
    Literal(String),
    Expr { source: String, expr: Expr },
}

impl UrlSpec {
    /// The URL for the call `request` (HT-7: `request` is `{method, url, headers, query,
    /// body}`, the body decoded as CB-8; for a connector `{call, args, body}`). `Err` says
    /// why there is none.
    pub fn resolve(&self, request: &Value) -> Result<String, String> {
        match self {
            UrlSpec::Literal(s) => Ok(s.clone()),
            UrlSpec::Expr { source, expr } => {
                let mut cx = RequestCx { request };
                match expr::eval(expr, &mut cx) {
                    Ok(Value::Str(s)) => Ok(s.to_string()),
                    Ok(other) => Err(format!(
                        "callback url {source} is {}, not a string",
                        other.a_type()
                    )),
                    Err(e) => Err(format!(
                        "callback url {source}: {}",
                        wfsim_engine::error::message(&e)
                            .unwrap_or_else(|| wfsim_engine::value::show(&e))
                    )),
                }
            }
        }
    }
}

/// What a callback URL expression sees: `request`, and no functions.
struct RequestCx<'a> {
    request: &'a Value,
}

impl Context for RequestCx<'_> {
    fn var(&self, name: &str) -> Option<Value> {
        (name == "request").then(|| self.request.clone())
    }
    fn call(&mut self, name: &str, _: Vec<Value>) -> Result<Value, Raised> {
        Err(wfsim_engine::error::builtin(
            wfsim_engine::error::Tag::SystemError,
            format!("{name}: a service's expression reads 'request' and calls no function"),
        ))
    }
}

fn seconds(n: &Node, what: &str) -> Result<Duration, DocError> {
    crate::doc::seconds(n, what, "a number of seconds")
}

fn headers(n: &Node) -> Result<Vec<(String, String)>, DocError> {
    let mut out = Vec::new();
    for (name, _, value) in map(n, "headers")? {
        let text = match value.to_value() {
            Value::Str(s) => s.to_string(),
            Value::Int(i) => i.to_string(),
            _ => return err(value.pos, "a header value is a string"),
        };
        out.push((name.clone(), text));
    }
    Ok(out)
}

/// HT-7: a body as sent: JSON for structured values, UTF-8 text for a string, each with its
/// content type unless `headers` name one.
pub fn body_bytes(body: &Value, headers: &mut Vec<(String, String)>) -> Result<Vec<u8>, String> {
    let has_type = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("Content-Type"));
    let (bytes, content_type) = match body {
        Value::Null => return Ok(Vec::new()),
        Value::Str(s) => (s.as_bytes().to_vec(), "text/plain; charset=utf-8"),
        Value::Bytes(b) => (b.to_vec(), "application/octet-stream"),
        other => (
            other
                .to_json()
                .map_err(|what| format!("a body with {what} has no JSON form"))?
                .to_string()
                .into_bytes(),
            "application/json",
        ),
    };
    if !has_type {
        headers.push(("Content-Type".to_owned(), content_type.to_owned()));
    }
    Ok(bytes)
}

/// A services file (`wfsim serve --services FILE`): `services: [...]`, or the list itself;
/// its errors at `file:line:column`.
pub fn read_file(file: &str, text: &str) -> Result<Vec<Service>, String> {
    let in_file = |e: DocError| e.in_file(file).to_string();
    let root =
        crate::doc::read(text, wfsim_engine::defn::tree::Syntax::of_path(file)).map_err(in_file)?;
    let list = match root.as_map() {
        Some(entries) => match entries.iter().find(|(k, _, _)| k == "services") {
            Some((_, _, node)) => node,
            None => {
                return Err(format!(
                    "{file}:1:1: a services file holds `services: [...]` (or the list itself)"
                ));
            }
        },
        None => &root,
    };
    parse(list).map_err(in_file)
}

/// Parses `services:` (HT-7), every error at its `line:column`.
pub fn parse(n: &Node) -> Result<Vec<Service>, DocError> {
    let Some(items) = n.as_seq() else {
        return err(n.pos, "'services' is a list of services");
    };
    items.iter().map(service).collect()
}

fn service(n: &Node) -> Result<Service, DocError> {
    let (mut matcher, mut respond, mut callback, mut workflow) = (None, None, None, None);
    for (key, kpos, v) in map(n, "service")? {
        match key.as_str() {
            "workflow" => workflow = Some(string(v, key)?),
            "match" => matcher = Some(matcher_of(v)?),
            "respond" => {
                respond = Some(match v.as_seq() {
                    Some([]) => return err(v.pos, "'respond' needs at least one answer"),
                    Some(items) => items.iter().map(answer).collect::<Result<_, _>>()?,
                    None => vec![answer(v)?],
                })
            }
            "callback" => callback = Some(callback_of(v)?),
            "description" => {
                string(v, key)?;
            }
            other => {
                return err(
                    *kpos,
                    format!(
                        "unknown key '{other}' in a service (it takes match, respond, callback, workflow)"
                    ),
                );
            }
        }
    }
    let Some(matcher) = matcher else {
        return err(
            n.pos,
            "a service needs 'match: {method, url}' or 'match: {call}'",
        );
    };
    Ok(Service {
        pos: n.pos,
        matcher,
        respond: respond.unwrap_or_else(|| {
            vec![Respond {
                after: Duration::ZERO,
                outcome: HttpOutcome::Response(HttpResponse {
                    status: 200,
                    ..HttpResponse::default()
                }),
            }]
        }),
        callback,
        workflow,
    })
}

fn matcher_of(n: &Node) -> Result<Matcher, DocError> {
    let (mut method, mut url, mut call) = (None, None, None);
    for (key, kpos, v) in map(n, "match")? {
        match key.as_str() {
            "method" => method = Some(string(v, key)?),
            "url" => url = Some(string(v, key)?),
            "call" => {
                let name = string(v, key)?;
                if !wfsim_engine::stdlib::table::is_connector(&name) {
                    return err(
                        v.pos,
                        format!(
                            "'call' names a connector like googleapis.pubsub.v1.projects.topics.publish, not '{name}'"
                        ),
                    );
                }
                call = Some(name)
            }
            other => {
                return err(
                    *kpos,
                    format!("unknown key '{other}' in 'match' (it takes method and url, or call)"),
                );
            }
        }
    }
    match (method, url, call) {
        (None, None, Some(c)) => Ok(Matcher::Connector(c)),
        (method, Some(url), None) => Ok(Matcher::Http { method, url }),
        (_, _, Some(_)) => err(n.pos, "'match' has 'call' or 'method'/'url', not both"),
        (_, None, None) => err(n.pos, "'match' needs 'url' (a glob) or 'call'"),
    }
}

fn answer(n: &Node) -> Result<Respond, DocError> {
    let (mut after, mut status, mut hdrs, mut body, mut error) =
        (Duration::ZERO, None, Vec::new(), Value::Null, None);
    let mut status_pos = n.pos;
    for (key, kpos, v) in map(n, "respond")? {
        match key.as_str() {
            "after" => after = seconds(v, key)?,
            "status" => {
                status_pos = v.pos;
                status = Some(match v.to_value() {
                    Value::Int(code) if (100..600).contains(&code) => code as u16,
                    _ => return err(v.pos, "'status' is an HTTP status such as 200"),
                })
            }
            "headers" => hdrs = headers(v)?,
            "body" => body = v.to_value(),
            "error" => {
                error = Some(match v.as_str() {
                    Some("ConnectionError") => HttpOutcome::ConnectionError(
                        "the scripted service broke the connection".to_owned(),
                    ),
                    Some("ConnectionFailedError") => HttpOutcome::ConnectionFailed(
                        "the scripted service refused the connection".to_owned(),
                    ),
                    _ => {
                        return err(v.pos, "'error' is ConnectionError or ConnectionFailedError");
                    }
                })
            }
            other => {
                return err(
                    *kpos,
                    format!(
                        "unknown key '{other}' in an answer (it takes status, headers, body, after, error)"
                    ),
                );
            }
        }
    }
    let outcome = match error {
        Some(e) => {
            if status.is_some() {
                return err(status_pos, "an answer has 'error' or 'status', not both");
            }
            e
        }
        None => {
            let body = body_bytes(&body, &mut hdrs).map_err(|m| DocError::new(n.pos, m))?;
            HttpOutcome::Response(HttpResponse {
                status: status.unwrap_or(200),
                headers: hdrs,
                body,
            })
        }
    };
    Ok(Respond { after, outcome })
}

fn callback_of(n: &Node) -> Result<ServiceCallback, DocError> {
    let (mut url, mut after, mut method, mut hdrs, mut body, mut times) =
        (None, Duration::ZERO, None, Vec::new(), Value::Null, 1u32);
    for (key, kpos, v) in map(n, "callback")? {
        match key.as_str() {
            "url" => {
                let text = string(v, key)?;
                url = Some(
                    match text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) {
                        Some(src)
                            if src.chars().count() > wfsim_engine::limits::EXPRESSION_CHARS_MAX =>
                        {
                            return err(
                                v.pos,
                                format!(
                                    "callback url: an expression may hold at most {} characters",
                                    wfsim_engine::limits::EXPRESSION_CHARS_MAX
                                ),
                            );
                        }
                        Some(src) => {
                            let expr = expr::parse(src).map_err(|e| {
                                DocError::new(v.pos, format!("callback url {text}: {}", e.message))
                            })?;
                            UrlSpec::Expr { source: text, expr }
                        }
                        None => UrlSpec::Literal(text),
                    },
                )
            }
            "after" => after = seconds(v, key)?,
            "method" => method = Some(string(v, key)?.to_ascii_uppercase()),
            "headers" => hdrs = headers(v)?,
            "body" => body = v.to_value(),
            "times" => {
                times = match v.to_value() {
                    Value::Int(i) if (1..=1000).contains(&i) => i as u32,
                    _ => return err(v.pos, "'times' is a count from 1 to 1000"),
                }
            }
            other => {
                return err(
                    *kpos,
                    format!(
                        "unknown key '{other}' in 'callback' (it takes url, after, method, headers, body, times)"
                    ),
                );
            }
        }
    }
    let Some(url) = url else {
        return err(
            n.pos,
            "a callback needs 'url', e.g. ${request.body.callback_url}",
        );
    };
    let body = body_bytes(&body, &mut hdrs).map_err(|m| DocError::new(n.pos, m))?;
    Ok(ServiceCallback {
        url,
        after,
        method,
        headers: hdrs,
        body,
        times,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wfsim_engine::defn::tree::{self, Syntax};
    use wfsim_engine::http::OutboundRequest;

    fn services(text: &str) -> Result<Vec<Service>, DocError> {
        parse(&tree::parse(text, Syntax::Yaml).unwrap())
    }

    #[test]
    fn a_service_scoped_to_a_workflow_answers_only_its_calls() {
        let all: Rc<[Service]> = services(
            "- match: {url: \"https://a/*\"}\n  workflow: billing\n- match: {url: \"https://b/*\"}\n- match: {url: \"https://c/*\"}\n  workflow: orders\n",
        )
        .unwrap()
        .into();
        let urls = |name: &str| -> Vec<String> {
            for_workflow(&all, name)
                .iter()
                .map(|s| match &s.matcher {
                    Matcher::Http { url, .. } => url.clone(),
                    Matcher::Connector(c) => c.clone(),
                })
                .collect()
        };
        assert_eq!(urls("billing"), ["https://a/*", "https://b/*"]);
        assert_eq!(urls("orders"), ["https://b/*", "https://c/*"]);
        assert_eq!(urls("other"), ["https://b/*"]);
        let unscoped: Rc<[Service]> = services("- match: {url: \"https://b/*\"}\n")
            .unwrap()
            .into();
        assert!(
            Rc::ptr_eq(&for_workflow(&unscoped, "x"), &unscoped),
            "shared, not copied"
        );
        let e = services("- match: {url: x}\n  workflow: [a]\n").unwrap_err();
        assert_eq!(e.pos.line, 2, "{e}");
    }

    #[test]
    fn ht_7_the_documented_format() {
        let s = services(
            "- match: {method: POST, url: \"https://n.example/*\"}\n  respond: {status: 201, body: {ok: true}, after: 0.2}\n  callback:\n    url: ${request.body.callback_url}\n    after: 3600\n    body: {approved: true}\n    times: 2\n- match: {url: \"https://a.example/*\"}\n  respond:\n    - {status: 503}\n    - {error: ConnectionError}\n- match: {call: googleapis.pubsub.v1.projects.topics.publish}\n",
        )
        .unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].respond[0].after, Duration::from_millis(200));
        let HttpOutcome::Response(r) = &s[0].respond[0].outcome else {
            panic!("a response");
        };
        assert_eq!(r.status, 201);
        assert_eq!(r.body, br#"{"ok":true}"#);
        assert_eq!(
            r.headers,
            vec![("Content-Type".to_owned(), "application/json".to_owned())]
        );
        let cb = s[0].callback.as_ref().unwrap();
        assert_eq!((cb.after, cb.times), (Duration::from_secs(3600), 2));
        let req = OutboundRequest {
            method: "POST".into(),
            url: "https://n.example/x".into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: br#"{"callback_url": "https://cb/1"}"#.to_vec(),
        };
        assert_eq!(
            cb.url.resolve(&Callee::Http(req.clone()).to_value()),
            Ok("https://cb/1".to_owned())
        );
        assert!(s[0].matcher.matches(&Callee::Http(req.clone())));
        let get = OutboundRequest {
            method: "GET".into(),
            ..req
        };
        assert!(!s[0].matcher.matches(&Callee::Http(get)));
        assert_eq!(
            s[1].respond[1].outcome,
            HttpOutcome::ConnectionError("the scripted service broke the connection".into())
        );
        assert_eq!(s[2].respond.len(), 1);
    }

    #[test]
    fn ht_7_errors_name_line_and_column() {
        let e = services("- match: {url: x}\n  respond: {status: 99}\n").unwrap_err();
        assert_eq!((e.pos.line, e.pos.col), (2, 21));
        let e = services("- respond: {}\n").unwrap_err();
        assert!(e.message.contains("needs 'match"), "{e:?}");
        let e = services("- match: {url: x}\n  callback: {after: 1}\n").unwrap_err();
        assert!(e.message.contains("needs 'url'"), "{e:?}");
        let e = services("- match: {url: x}\n  callback: {url: \"${1 +}\"}\n").unwrap_err();
        assert_eq!(e.pos.line, 2);
        let long = format!(
            "- match: {{url: x}}\n  callback: {{url: \"${{{}1}}\"}}\n",
            "(".repeat(500)
        );
        assert!(services(&long).unwrap_err().message.contains("at most 400"));
        let e = services("- match: {call: http.get}\n").unwrap_err();
        assert!(e.message.contains("connector"), "{e:?}");
        let e = services("- match: {url: x}\n  respond: {error: Boom}\n").unwrap_err();
        assert!(e.message.contains("ConnectionError"), "{e:?}");
    }

    #[test]
    fn a_services_file_is_the_list_or_a_map_holding_it() {
        let list = "- match: {url: x}\n  respond: {status: 201}\n";
        assert_eq!(read_file("s.yaml", list).unwrap().len(), 1);
        let held = format!(
            "services:\n{}",
            list.replace("- ", "  - ").replace("\n  r", "\n    r")
        );
        assert_eq!(read_file("s.yaml", &held).unwrap().len(), 1);
        assert_eq!(
            read_file("s.yaml", "stubs: []\n").unwrap_err(),
            "s.yaml:1:1: a services file holds `services: [...]` (or the list itself)"
        );
        let e = read_file("s.yaml", "services:\n  - respond: {}\n").unwrap_err();
        assert!(
            e.starts_with("s.yaml:2:5: ") && e.contains("needs 'match"),
            "{e}"
        );
        let e = read_file("s.json", "[{\"match\": ").unwrap_err();
        assert!(e.starts_with("s.json:1:"), "{e}");
    }
}

/// A service's call back to the workflow, due at a time (HT-7).
#[derive(Clone, Debug, PartialEq)]
pub struct PendingCallback {
    /// The service that sends it, by index.
    pub service: usize,
    pub url: String,
    /// `None`: the endpoint's own method.
    pub method: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The scripted services' side of one execution (HT-7), sans I/O: which answer each
/// service gives next, and the answers and callbacks due, in time order (ties in the
/// order they were scheduled). `wfsim run`'s runner and live mode's `--services` drive it
/// alike.
#[derive(Clone, Debug)]
pub struct Stubs {
    services: Rc<[Service]>,
    /// How many calls each service has answered: its next answer in `respond`.
    answered: Vec<usize>,
    pub answers: BTreeMap<(SimTime, u64), (CallId, HttpOutcome)>,
    pub callbacks: BTreeMap<(SimTime, u64), PendingCallback>,
    seq: u64,
    /// Calls no service matched, in call order.
    pub unmatched: Vec<CallId>,
    /// Callbacks that could not be made (their URL expression failed), with the reason.
    pub errors: Vec<String>,
}

impl Stubs {
    pub fn new(services: Rc<[Service]>) -> Stubs {
        Stubs {
            answered: vec![0; services.len()],
            services,
            answers: BTreeMap::new(),
            callbacks: BTreeMap::new(),
            seq: 0,
            unmatched: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Schedules `outcome` as the answer to call `id` at `at`.
    pub fn answer_at(&mut self, at: SimTime, id: CallId, outcome: HttpOutcome) {
        let seq = self.next_seq();
        self.answers.insert((at, seq), (id, outcome));
    }

    /// The earliest time something is due.
    pub fn next_due(&self) -> Option<SimTime> {
        let a = self.answers.first_key_value().map(|(k, _)| k.0);
        let c = self.callbacks.first_key_value().map(|(k, _)| k.0);
        a.into_iter().chain(c).min()
    }

    /// HT-7: the first service that matches answers `call` after its latency, then calls
    /// back. `false` when no service matches (recorded in `unmatched`): the caller decides
    /// what that means (`wfsim run`: nothing is there to connect to; live mode: the
    /// network).
    pub fn take_call(&mut self, call: &HttpCall) -> bool {
        let Some(i) = self
            .services
            .iter()
            .position(|s| s.matcher.matches(&call.target))
        else {
            self.unmatched.push(call.id);
            return false;
        };
        let service = &self.services[i];
        let n = self.answered[i];
        self.answered[i] += 1;
        let respond = &service.respond[n.min(service.respond.len() - 1)];
        let answered_at = call.at.saturating_add(respond.after);
        let outcome = respond.outcome.clone();
        let callback = service.callback.clone();
        let line = service.pos.line;
        self.answer_at(answered_at, call.id, outcome);
        let Some(cb) = callback else {
            return true;
        };
        match cb.url.resolve(&call.target.to_value()) {
            Ok(url) => {
                let mut at = answered_at;
                for _ in 0..cb.times {
                    at = at.saturating_add(cb.after);
                    let seq = self.next_seq();
                    self.callbacks.insert(
                        (at, seq),
                        PendingCallback {
                            service: i,
                            url: url.clone(),
                            method: cb.method.clone(),
                            headers: cb.headers.clone(),
                            body: cb.body.clone(),
                        },
                    );
                }
            }
            Err(why) => self.errors.push(format!(
                "service {i} (line {line}) could not call back after {}: {why}",
                call.target.describe()
            )),
        }
        true
    }
}
