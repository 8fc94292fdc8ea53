//! Outbound calls (SPEC §8, HT-1 … HT-8): what `http.*` and connector steps send, what the
//! host answers, and what the workflow sees of the answer.
//!
//! Sans I/O, like the callbacks: the interpreter suspends the calling thread and queues an
//! [`HttpCall`]; the host takes it with `Execution::poll_http_call`, does whatever it does
//! (a scripted service, a real client) and answers with `Execution::answer_http(now, id,
//! outcome)`. An unanswered call fails with `TimeoutError` at exactly `at + timeout`, a
//! timer of the execution's own (`poll_timeout` reports it); a later answer is ignored.

use std::fmt;
use std::time::Duration;

use crate::error::{Raised, Tag, builtin};
use crate::request::decode_body;
use crate::time::SimTime;
use crate::value::Value;

/// HT-1: `timeout` of `http.*` when not given.
pub const HTTP_TIMEOUT_DEFAULT: Duration = Duration::from_secs(300);
/// HT-1: the largest `timeout` GCP accepts for `http.*`.
pub const HTTP_TIMEOUT_MAX: Duration = Duration::from_secs(1800);
/// HT-6: a connector call's timeout when its `connector_params` give none (GCP: 30 min).
pub const CONNECTOR_TIMEOUT_DEFAULT: Duration = Duration::from_secs(1800);

/// An outbound call of one execution, numbered from 0 in the order calls are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId(pub u64);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call {}", self.0)
    }
}

/// An HTTP request as sent: the full URL (the `query` argument already in it), headers in
/// the order set, and the body as bytes (HT-2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboundRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl OutboundRequest {
    /// The first value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::request::header(&self.headers, name)
    }

    /// The request as a workflow value `{method, url, headers, query, body}`: headers and
    /// query as CB-7 shows them, the body decoded as CB-8 decodes a callback's.
    pub fn to_value(&self) -> Value {
        let query = self.url.split_once('?').map_or("", |(_, q)| q);
        let as_callback = crate::request::CallbackRequest {
            method: self.method.clone(),
            path: String::new(),
            headers: self.headers.clone(),
            query: query.to_owned(),
            body: self.body.clone(),
        };
        match as_callback.to_value() {
            Value::Map(m) => {
                let mut m = (*m).clone();
                m.insert("url".to_owned(), Value::str(self.url.as_str()));
                Value::Map(std::rc::Rc::new(m))
            }
            other => other,
        }
    }
}

/// What a call is addressed to.
#[derive(Clone, Debug, PartialEq)]
pub enum Callee {
    /// `http.get`, `http.post`, … `http.request`.
    Http(OutboundRequest),
    /// A connector step (HT-6): `call: googleapis.…` with its `args` as one map.
    Connector { name: String, args: Value },
}

impl Callee {
    /// `POST https://…` or the connector's name: how reports and errors name the call.
    pub fn describe(&self) -> String {
        match self {
            Callee::Http(r) => format!("{} {}", r.method, r.url),
            Callee::Connector { name, .. } => name.clone(),
        }
    }

    /// What a scripted service's `callback.url` expression sees as `request`.
    pub fn to_value(&self) -> Value {
        match self {
            Callee::Http(r) => r.to_value(),
            Callee::Connector { name, args } => Value::map([
                ("args", args.clone()),
                ("body", args.get("body").cloned().unwrap_or(Value::Null)),
                ("call", Value::str(name.as_str())),
            ]),
        }
    }
}

/// A call the host must answer (or let time out).
#[derive(Clone, Debug, PartialEq)]
pub struct HttpCall {
    pub id: CallId,
    /// When it was sent.
    pub at: SimTime,
    /// The engine fails the call with `TimeoutError` at `at + timeout`.
    pub timeout: Duration,
    pub target: Callee,
    /// The `auth` argument as given: recorded, not enforced (HT-1).
    pub auth: Option<Value>,
}

/// An HTTP response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// How the host answers a call (HT-3).
#[derive(Clone, Debug, PartialEq)]
pub enum HttpOutcome {
    Response(HttpResponse),
    /// No connection was ever made: `ConnectionFailedError`.
    ConnectionFailed(String),
    /// The connection broke before the response was whole: `ConnectionError`.
    ConnectionError(String),
    /// A connector the host carries out itself rather than over HTTP (a child execution,
    /// HT-10): the value the call returns, or the error it raises, as they are.
    Returned(Result<Value, Raised>),
}

/// What became of a call, for reports: one per call, in call order.
#[derive(Clone, Debug, PartialEq)]
pub struct CallRecord {
    pub id: CallId,
    pub at: SimTime,
    pub target: Callee,
    pub timeout: Duration,
    /// When the answer came; `None` when none did in time.
    pub answered_at: Option<SimTime>,
    /// The response's status, when there was one.
    pub status: Option<u16>,
    /// The error tag the call raised, if it raised one (`HttpError`, `TimeoutError`, …).
    pub error: Option<String>,
    /// That error's message.
    pub message: Option<String>,
}

/// The tags an outbound call can raise besides the library's own (HT-3).
pub const HTTP_ERROR: &str = "HttpError";
pub const CONNECTION_ERROR: &str = "ConnectionError";
pub const CONNECTION_FAILED_ERROR: &str = "ConnectionFailedError";

/// An error map `{message, tags: [tag]}` with a tag outside [`Tag`].
pub fn error_with_tag(tag: &str, message: impl Into<String>) -> Raised {
    Value::map([
        ("message", Value::str(message.into())),
        ("tags", Value::list(vec![Value::str(tag)])),
    ])
}

/// HT-3: what a workflow sees of an answer. `Ok` is the value of the call (`{code,
/// headers, body}`, or for a connector the body alone); `Err` the error it raises.
pub fn outcome_value(target: &Callee, outcome: &HttpOutcome) -> Result<Value, Raised> {
    // Only an error names the call.
    let what = || target.describe();
    match outcome {
        HttpOutcome::Returned(done) => done.clone(),
        HttpOutcome::ConnectionFailed(reason) => Err(error_with_tag(
            CONNECTION_FAILED_ERROR,
            format!("{}: connection failed: {reason}", what()),
        )),
        HttpOutcome::ConnectionError(reason) => Err(error_with_tag(
            CONNECTION_ERROR,
            format!("{}: connection broken: {reason}", what()),
        )),
        HttpOutcome::Response(r) => {
            let content_type = r
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("Content-Type"))
                .map(|(_, v)| v.as_str());
            let body = decode_body(content_type, &r.body);
            let headers = crate::request::headers_value(&r.headers);
            if r.status >= 400 {
                return Err(Value::map([
                    ("body", body),
                    ("code", Value::Int(i64::from(r.status))),
                    ("headers", headers),
                    (
                        "message",
                        Value::str(format!(
                            "HTTP server responded with error code {} ({})",
                            r.status,
                            what()
                        )),
                    ),
                    ("tags", Value::list(vec![Value::str(HTTP_ERROR)])),
                ]));
            }
            Ok(match target {
                Callee::Http(_) => Value::map([
                    ("body", body),
                    ("code", Value::Int(i64::from(r.status))),
                    ("headers", headers),
                ]),
                Callee::Connector { .. } => body,
            })
        }
    }
}

/// HT-3: `TimeoutError` of a call unanswered after `timeout`.
pub fn timeout_error(target: &Callee, timeout: Duration) -> Raised {
    builtin(
        Tag::TimeoutError,
        format!(
            "{}: no answer within the timeout of {}",
            target.describe(),
            crate::time::secs_text(timeout)
        ),
    )
}

fn type_error(msg: impl Into<String>) -> Raised {
    builtin(Tag::TypeError, msg)
}

fn value_error(msg: impl Into<String>) -> Raised {
    builtin(Tag::ValueError, msg)
}

/// A header or query value as text: strings as they are, numbers and booleans written out.
fn scalar_text(func: &str, what: &str, v: &Value) -> Result<String, Raised> {
    match v {
        Value::Str(s) => Ok(s.to_string()),
        Value::Int(i) => Ok(i.to_string()),
        Value::Double(d) => Ok(d.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(type_error(format!(
            "{func}: {what} must be a string, a number or a boolean, got {}",
            other.a_type()
        ))),
    }
}

/// HT-1: the method of `http.request`, upper-cased; any token is allowed.
pub fn method_arg(func: &str, v: Option<&Value>) -> Result<String, Raised> {
    match v {
        Some(Value::Str(s))
            if !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)) =>
        {
            Ok(s.to_ascii_uppercase())
        }
        Some(Value::Str(s)) => Err(value_error(format!("{func}: '{s}' is not an HTTP method"))),
        Some(other) => Err(type_error(format!(
            "{func}: method must be a string, got {}",
            other.a_type()
        ))),
        None => Err(type_error(format!("{func} needs argument 'method'"))),
    }
}

/// HT-1: `timeout` in seconds, a number in (0, 1800]; `default` when not given.
pub fn timeout_arg(
    func: &str,
    v: Option<&Value>,
    default: Duration,
    max: Duration,
) -> Result<Duration, Raised> {
    let secs = match v {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::Int(i)) => *i as f64,
        Some(Value::Double(d)) => *d,
        Some(other) => {
            return Err(type_error(format!(
                "{func}: timeout must be a number of seconds, got {}",
                other.a_type()
            )));
        }
    };
    let d = crate::time::duration_from_workflow_secs(secs)
        .map_err(|e| value_error(format!("{func}: timeout: {e}")))?;
    if d.is_zero() || d > max {
        return Err(value_error(format!(
            "{func}: timeout must be more than 0 and at most {} seconds, got {secs}",
            max.as_secs()
        )));
    }
    Ok(d)
}

/// HT-2: the request an `http.*` call sends, from its arguments.
///
/// - `url`: a string with a scheme (`http://` or `https://`); `query` (a map of names to
///   scalars or lists of scalars) is appended to it, form-encoded, in key order.
/// - `headers`: a map of names to scalars.
/// - `body`: absent or `null`, nothing; bytes, sent as they are; otherwise by the
///   `Content-Type` header: none or a JSON type, the value as JSON (and `Content-Type:
///   application/json` added when there was none); `application/x-www-form-urlencoded`, a
///   map form-encoded or a string as it is; any other type, a string as UTF-8 (another
///   value is a `TypeError`).
pub fn build_request(
    func: &str,
    method: String,
    url: Option<&Value>,
    headers: Option<&Value>,
    query: Option<&Value>,
    body: Option<&Value>,
) -> Result<OutboundRequest, Raised> {
    let mut url = match url {
        Some(Value::Str(s)) => s.to_string(),
        Some(other) => {
            return Err(type_error(format!(
                "{func}: url must be a string, got {}",
                other.a_type()
            )));
        }
        None => return Err(type_error(format!("{func} needs argument 'url'"))),
    };
    let scheme_ok = ["http://", "https://"].iter().any(|s| {
        url.get(..s.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(s))
            && url.len() > s.len()
    });
    if !scheme_ok {
        return Err(value_error(format!(
            "{func}: url '{url}' is not an http:// or https:// URL"
        )));
    }
    let mut header_list = Vec::new();
    match headers {
        None | Some(Value::Null) => {}
        Some(Value::Map(m)) => {
            for (k, v) in m.iter() {
                header_list.push((k.clone(), scalar_text(func, "a header value", v)?));
            }
        }
        Some(other) => {
            return Err(type_error(format!(
                "{func}: headers must be a map, got {}",
                other.a_type()
            )));
        }
    }
    match query {
        None | Some(Value::Null) => {}
        Some(Value::Map(m)) => {
            let mut enc = form_urlencoded::Serializer::new(String::new());
            for (k, v) in m.iter() {
                match v {
                    Value::List(items) => {
                        for i in items.iter() {
                            enc.append_pair(k, &scalar_text(func, "a query value", i)?);
                        }
                    }
                    v => {
                        enc.append_pair(k, &scalar_text(func, "a query value", v)?);
                    }
                }
            }
            let q = enc.finish();
            if !q.is_empty() {
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str(&q);
            }
        }
        Some(other) => {
            return Err(type_error(format!(
                "{func}: query must be a map, got {}",
                other.a_type()
            )));
        }
    }
    let body = encode_body(func, body, &mut header_list)?;
    Ok(OutboundRequest {
        method,
        url,
        headers: header_list,
        body,
    })
}

/// HT-2's body rule, shared with scripted services' answers and callbacks (HT-7): adds
/// `Content-Type: application/json` when a value is sent as JSON without a content type.
pub fn encode_body(
    func: &str,
    body: Option<&Value>,
    headers: &mut Vec<(String, String)>,
) -> Result<Vec<u8>, Raised> {
    let body = match body {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(b) => b,
    };
    if let Value::Bytes(b) = body {
        return Ok(b.to_vec());
    }
    let content_type = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Content-Type"))
        .map(|(_, v)| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let as_json = |headers: &mut Vec<(String, String)>, add: bool| {
        // Room for a small body without regrowing.
        let mut bytes = Vec::with_capacity(256);
        if !write_json(body, &mut bytes) {
            // `to_json` says what has no JSON form, as it finds it.
            let what = body.to_json().err().unwrap_or("a value");
            return Err(type_error(format!(
                "{func}: the body contains {what}, which has no JSON form"
            )));
        }
        if add {
            headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
        }
        Ok(bytes)
    };
    match content_type.as_deref() {
        None => as_json(headers, true),
        Some(ct) if ct == "application/json" || ct.ends_with("+json") => as_json(headers, false),
        Some("application/x-www-form-urlencoded") => match body {
            Value::Map(m) => {
                let mut enc = form_urlencoded::Serializer::new(String::new());
                for (k, v) in m.iter() {
                    enc.append_pair(k, &scalar_text(func, "a form value", v)?);
                }
                Ok(enc.finish().into_bytes())
            }
            Value::Str(s) => Ok(s.as_bytes().to_vec()),
            other => Err(type_error(format!(
                "{func}: a form body must be a map or a string, got {}",
                other.a_type()
            ))),
        },
        Some(ct) => match body {
            Value::Str(s) => Ok(s.as_bytes().to_vec()),
            other => Err(type_error(format!(
                "{func}: a {ct} body must be a string or bytes, got {}",
                other.a_type()
            ))),
        },
    }
}

/// Appends `v` as compact JSON to `out`, byte for byte what `v.to_json()?.to_string()`
/// writes (scalars are written by `serde_json` itself), without building the JSON value,
/// whose maps hash every key. `false` when `v` has no JSON form (bytes, a double that is
/// not finite); `out` is then partly written.
pub fn write_json(v: &Value, out: &mut Vec<u8>) -> bool {
    const IN_MEMORY: &str = "a scalar is written to memory";
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => serde_json::to_writer(&mut *out, i).expect(IN_MEMORY),
        Value::Double(d) if d.is_finite() => serde_json::to_writer(&mut *out, d).expect(IN_MEMORY),
        Value::Double(_) | Value::Bytes(_) => return false,
        Value::Str(s) => write_json_str(s, out),
        Value::List(items) => {
            out.push(b'[');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                if !write_json(item, out) {
                    return false;
                }
            }
            out.push(b']');
        }
        Value::Map(m) => {
            out.push(b'{');
            for (k, (key, item)) in m.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                write_json_str(key, out);
                out.push(b':');
                if !write_json(item, out) {
                    return false;
                }
            }
            out.push(b'}');
        }
    }
    true
}

/// Appends `s` as a JSON string. serde_json escapes only `"`, `\\` and control characters;
/// a string with none (a URL, most text) is copied whole rather than byte by byte.
fn write_json_str(s: &str, out: &mut Vec<u8>) {
    if needs_escape(s.as_bytes()) {
        serde_json::to_writer(out, s).expect("a string is written to memory");
        return;
    }
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

/// Whether `s` has a byte JSON escapes: a control character, `"` or `\\`. Without an
/// early exit per byte, so the compiler checks a chunk at a time.
fn needs_escape(s: &[u8]) -> bool {
    let escaped = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    s.chunks(16)
        .any(|c| c.iter().fold(false, |e, &b| e | escaped(b)))
}

/// HT-7: `*` matches any run of characters (`/` included), `?` any one character; the
/// rest matches itself. The whole text must match.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    // ASCII (every URL a service matches, in practice) is matched byte by byte, with no
    // copy; other text by characters, so `?` is one character, not one byte.
    if pattern.is_ascii() && text.is_ascii() {
        return glob(pattern.as_bytes(), text.as_bytes(), b'*', b'?');
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob(&p, &t, '*', '?')
}

/// [`glob_match`] over units of text: `star` matches any run of them, `any` any one.
fn glob<T: Copy + PartialEq>(p: &[T], t: &[T], star_unit: T, any: T) -> bool {
    // Greedy with one backtrack point: linear in practice, never exponential.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == any || p[pi] == t[ti]) && p[pi] != star_unit {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == star_unit {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == star_unit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::tags;

    fn s(x: &str) -> Value {
        Value::str(x)
    }

    #[test]
    fn ht_7_glob() {
        assert!(glob_match(
            "https://a.example/*",
            "https://a.example/x/y?z=1"
        ));
        assert!(glob_match("https://a.example/*", "https://a.example/"));
        assert!(!glob_match("https://a.example/*", "https://b.example/x"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("*/items/*/x", "https://h/items/1/2/x"));
        assert!(!glob_match("*/items/*/x", "https://h/items/1/2/y"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
        // Beyond ASCII, `?` is one character, not one byte.
        assert!(glob_match("https://é.example/?", "https://é.example/ü"));
        assert!(glob_match("a?c", "aéc"));
        assert!(!glob_match("a??c", "aéc"));
        assert!(glob_match("*ü", "https://h/ü"));
    }

    /// Every byte that JSON escapes is found wherever it is in a word; no other is.
    #[test]
    fn ht_2_json_escapes_are_found_at_every_place() {
        for len in 0..20 {
            for at in 0..len {
                for b in 0u8..=255 {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = b;
                    let want = b < 0x20 || b == b'"' || b == b'\\';
                    assert_eq!(needs_escape(&bytes), want, "{b:#x} at {at} of {len}");
                }
            }
        }
    }

    /// A JSON body is written as `to_json` then `to_string` would write it, byte for byte;
    /// what has no JSON form is refused with the same words.
    #[test]
    fn ht_2_json_bodies_are_serde_json_s_text() {
        let m = |entries: Vec<(&str, Value)>| Value::map(entries);
        let values = [
            Value::Null,
            Value::Bool(false),
            Value::Int(i64::MIN),
            Value::Int(7),
            Value::Double(0.1),
            Value::Double(-0.0),
            Value::Double(1e21),
            Value::Double(3.0),
            Value::Double(f64::MAX),
            s("quote \" backslash \\ newline \n tab \t nul \u{0} del \u{7f} é 😀 \u{2028}"),
            s("https://h.example/a?b=c&d=é 😀 \u{7f} \u{2028}"),
            s("12345678\"2345678\\234567\u{1f}\u{80}é\u{1}"),
            s("ééééééééé\u{1f}"),
            s("abcdefghijklmnop\\"),
            // Two bytes to escape in one 16-byte chunk (`needs_escape` folds each chunk).
            s("a\"\"b"),
            s("\\\n"),
            Value::list(vec![]),
            m(vec![]),
            m(vec![
                ("b", Value::list(vec![Value::Int(1), s("x"), Value::Null])),
                ("a", m(vec![("k\"ey", Value::Double(2.5))])),
                ("", Value::Bool(true)),
            ]),
        ];
        for v in values {
            let mut out = Vec::new();
            assert!(write_json(&v, &mut out), "{v:?}");
            let want = v.to_json().unwrap().to_string();
            assert_eq!(String::from_utf8(out).unwrap(), want);
            if v != Value::Null {
                // A null body is no body.
                let body = encode_body("http.post", Some(&v), &mut Vec::new()).unwrap();
                assert_eq!(body, want.into_bytes());
            }
        }
        let no_form = |v: Value| {
            let e = encode_body("http.post", Some(&v), &mut Vec::new()).unwrap_err();
            crate::error::message(&e).unwrap()
        };
        let bytes = Value::Bytes(b"x"[..].into());
        let nan = Value::Double(f64::NAN);
        assert_eq!(
            no_form(Value::list(vec![nan.clone(), bytes.clone()])),
            "http.post: the body contains a double that is not finite, which has no JSON form"
        );
        assert_eq!(
            no_form(m(vec![("a", bytes), ("b", nan.clone())])),
            "http.post: the body contains bytes, which has no JSON form"
        );
        // A double that is not finite alone, where nothing after it would say so.
        for d in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(!write_json(&Value::Double(d), &mut Vec::new()));
            assert_eq!(
                no_form(Value::list(vec![Value::Int(1), Value::Double(d)])),
                "http.post: the body contains a double that is not finite, which has no JSON form"
            );
        }
    }

    /// HT-1: a URL is `http://` or `https://` (either case) with something after it; a
    /// timeout is more than 0 and at most the limit, the limit itself allowed.
    #[test]
    fn ht_1_url_scheme_and_timeout_bounds() {
        let url = |u: &str| build_request("http.get", "GET".into(), Some(&s(u)), None, None, None);
        assert!(url("HTTPS://h.example").is_ok());
        assert!(url("http://h").is_ok());
        for bad in [
            "http://",
            "https://",
            "ftp://h.example/long/path",
            "h.example",
        ] {
            assert_eq!(tags(&url(bad).unwrap_err()), ["ValueError"], "{bad}");
        }
        let max = Duration::from_secs(1800);
        let timeout = |v: Value| timeout_arg("http.get", Some(&v), Duration::from_secs(300), max);
        assert_eq!(timeout(Value::Int(1800)), Ok(max));
        assert_eq!(timeout(Value::Double(0.5)), Ok(Duration::from_millis(500)));
        for bad in [Value::Int(1801), Value::Double(1800.001), Value::Int(0)] {
            assert_eq!(tags(&timeout(bad).unwrap_err()), ["ValueError"]);
        }
    }

    /// HT-2: a body with a JSON content type given (`application/json`, any `+json`) is
    /// sent as JSON, and the header is not added twice.
    #[test]
    fn ht_2_a_given_json_content_type_sends_json() {
        let body = Value::map([("k", Value::Int(1))]);
        for ct in ["application/json", "application/problem+json"] {
            let mut headers = vec![("Content-Type".to_owned(), ct.to_owned())];
            let bytes = encode_body("http.post", Some(&body), &mut headers).unwrap();
            assert_eq!(bytes, br#"{"k":1}"#, "{ct}");
            assert_eq!(headers.len(), 1, "{ct}: {headers:?}");
        }
        let mut headers = vec![("Content-Type".to_owned(), "text/plain".to_owned())];
        let err = encode_body("http.post", Some(&body), &mut headers).unwrap_err();
        assert_eq!(tags(&err), ["TypeError"], "a map is no text");
    }

    #[test]
    fn ht_2_request_from_arguments() {
        let q = Value::map([
            ("b", Value::list(vec![s("1"), Value::Int(2)])),
            ("a", s("x y")),
        ]);
        let body = Value::map([("k", Value::Int(1))]);
        let r = build_request(
            "http.post",
            "POST".into(),
            Some(&s("https://h.example/p?z=0")),
            Some(&Value::map([("X-Id", Value::Int(7))])),
            Some(&q),
            Some(&body),
        )
        .unwrap();
        assert_eq!(r.url, "https://h.example/p?z=0&a=x+y&b=1&b=2");
        assert_eq!(
            r.headers,
            vec![
                ("X-Id".to_owned(), "7".to_owned()),
                ("Content-Type".to_owned(), "application/json".to_owned())
            ]
        );
        assert_eq!(r.body, br#"{"k":1}"#);
        let v = r.to_value();
        assert_eq!(v.get("body"), Some(&body));
        assert_eq!(
            v.get("query").and_then(|q| q.get("b")),
            Some(&Value::list(vec![s("1"), s("2")]))
        );
        let bad = build_request(
            "http.get",
            "GET".into(),
            Some(&s("ftp://x")),
            None,
            None,
            None,
        );
        assert_eq!(tags(&bad.unwrap_err()), ["ValueError"]);
        let text = build_request(
            "http.post",
            "POST".into(),
            Some(&s("http://h")),
            Some(&Value::map([("content-type", s("text/plain"))])),
            None,
            Some(&Value::Int(1)),
        );
        assert_eq!(tags(&text.unwrap_err()), ["TypeError"]);
    }

    #[test]
    fn ht_3_answers() {
        let t = Callee::Http(OutboundRequest {
            method: "GET".into(),
            url: "https://h/".into(),
            ..Default::default()
        });
        let resp = |status, ct: &str, body: &[u8]| {
            HttpOutcome::Response(HttpResponse {
                status,
                headers: vec![("content-type".into(), ct.into())],
                body: body.to_vec(),
            })
        };
        let ok = outcome_value(&t, &resp(200, "application/json; charset=utf-8", b"[1]")).unwrap();
        assert_eq!(ok.get("body"), Some(&Value::list(vec![Value::Int(1)])));
        assert_eq!(
            ok.get("headers").and_then(|h| h.get("Content-Type")),
            Some(&s("application/json; charset=utf-8"))
        );
        let text = outcome_value(&t, &resp(201, "text/plain", b"hi")).unwrap();
        assert_eq!(text.get("body"), Some(&s("hi")));
        assert_eq!(text.get("code"), Some(&Value::Int(201)));
        let bytes = outcome_value(&t, &resp(200, "image/png", b"\x89P")).unwrap();
        assert!(matches!(bytes.get("body"), Some(Value::Bytes(_))));
        let e = outcome_value(&t, &resp(404, "text/plain", b"no")).unwrap_err();
        assert_eq!(tags(&e), ["HttpError"]);
        assert_eq!(e.get("code"), Some(&Value::Int(404)));
        assert_eq!(e.get("body"), Some(&s("no")));
        let e = outcome_value(&t, &HttpOutcome::ConnectionError("reset".into())).unwrap_err();
        assert_eq!(tags(&e), ["ConnectionError"]);
        let e = outcome_value(&t, &HttpOutcome::ConnectionFailed("refused".into())).unwrap_err();
        assert_eq!(tags(&e), ["ConnectionFailedError"]);
        let v = outcome_value(&t, &HttpOutcome::Returned(Ok(s("done")))).unwrap();
        assert_eq!(v, s("done"));
        let raised = error_with_tag("OperationError", "failed");
        let e = outcome_value(&t, &HttpOutcome::Returned(Err(raised.clone()))).unwrap_err();
        assert_eq!(e, raised);
    }
}
