//! The callback request record, and how a workflow sees it (CB-7, CB-8).

use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use crate::time::{SimTime, WallClock};
use crate::value::{Map, Value};

/// CB-1: the methods an endpoint can be created for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Options,
    Patch,
}

impl Method {
    pub const ALL: [Method; 7] = [
        Method::Get,
        Method::Head,
        Method::Post,
        Method::Put,
        Method::Delete,
        Method::Options,
        Method::Patch,
    ];

    /// CB-1: the default when `http_callback_method` is not given.
    pub const DEFAULT: Method = Method::Post;

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Patch => "PATCH",
        }
    }

    /// The method named exactly (upper case) by `name`, as CB-1 lists them.
    pub fn parse(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An HTTP request sent to a callback endpoint, as the host received it.
///
/// The method is any string the client sent, not only the seven of CB-1: a `TRACE` must
/// reach the slot rule to be answered 405.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallbackRequest {
    pub method: String,
    /// The request path, without scheme, host or query: `/v1/projects/…/callbacks/<id>`.
    pub path: String,
    /// Header fields in the order received, names as sent.
    pub headers: Vec<(String, String)>,
    /// The raw query string, without the `?`.
    pub query: String,
    pub body: Vec<u8>,
}

/// The first value of header `name` among `headers`, compared case-insensitively (header
/// names are, RFC 9110 §5.1).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl CallbackRequest {
    /// The first value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// CB-7: the `http_request` map a workflow sees.
    pub fn to_value(&self) -> Value {
        fields([
            ("body", decode_body(self.header("Content-Type"), &self.body)),
            ("headers", headers_value(&self.headers)),
            ("method", method_value(&self.method)),
            ("query", query_value(&self.query)),
            ("url", Value::str(self.path.as_str())),
        ])
    }
}

/// A request accepted by an endpoint, with the instant it arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub request: CallbackRequest,
    pub at: SimTime,
}

impl Received {
    /// CB-7: what `events.await_callback` returns for this request.
    pub fn to_value(&self, clock: WallClock) -> Value {
        fields([
            ("http_request", self.request.to_value()),
            ("received_time", Value::Str(clock.go_time_text(self.at))),
            (
                "type",
                shared(|s| Value::Str(s.http.clone()), || Value::str("HTTP")),
            ),
        ])
    }
}

/// The parts of a callback's value (CB-7) that are the same in most: shared, not allocated
/// and freed anew for every callback. Values are immutable (a change copies), so sharing
/// cannot be seen.
struct Shared {
    http: Rc<str>,
    methods: [Rc<str>; 7],
    no_query: Rc<Map>,
}

thread_local! {
    static SHARED: Shared = Shared {
        http: Rc::from("HTTP"),
        methods: Method::ALL.map(|m| Rc::from(m.as_str())),
        no_query: Rc::new(Map::default()),
    };
}

/// The shared value `pick` chooses, or `fresh` once the thread's copy is gone (a value
/// built while the thread exits).
fn shared(pick: impl FnOnce(&Shared) -> Value, fresh: impl FnOnce() -> Value) -> Value {
    SHARED.try_with(pick).unwrap_or_else(|_| fresh())
}

/// The request's method as a string value, shared when it is one of CB-1's.
fn method_value(method: &str) -> Value {
    match Method::ALL.iter().position(|m| m.as_str() == method) {
        Some(i) => shared(|s| Value::Str(s.methods[i].clone()), || Value::str(method)),
        None => Value::str(method),
    }
}

/// A map value of a few fixed fields, named in order: every awaited callback builds three
/// (CB-7), in bulk rather than by a search and an insertion per key.
fn fields<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::sorted_map(entries.map(|(k, v)| (k.to_owned(), v)))
}

/// CB-8: how a workflow sees a request body.
///
/// - empty: `null`;
/// - a JSON media type (`application/json`, `*/*+json`): the parsed value; if it does not
///   parse, a string when UTF-8, bytes otherwise;
/// - `text/*`: a string when UTF-8, bytes otherwise;
/// - anything else, or no content type: bytes.
pub fn decode_body(content_type: Option<&str>, body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    // Compared without case, not lowered into a new string: a body with a content type
    // comes with every callback a client sends JSON to.
    let media_type = content_type
        .map_or("", |ct| ct.split(';').next().unwrap_or(""))
        .trim()
        .as_bytes();
    let ends_with = |suffix: &[u8]| {
        media_type.len() >= suffix.len()
            && media_type[media_type.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
    };
    let is_json = media_type.eq_ignore_ascii_case(b"application/json") || ends_with(b"+json");
    let is_text = media_type
        .get(..5)
        .is_some_and(|head| head.eq_ignore_ascii_case(b"text/"));
    if is_json {
        if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
            return Value::from_json(&json);
        }
    }
    if is_json || is_text {
        if let Ok(text) = std::str::from_utf8(body) {
            return Value::str(text);
        }
    }
    Value::Bytes(body.into())
}

/// CB-7: header names in canonical form, repeated headers joined with `", "` in the order
/// received (a callback's request, and an outbound call's response, HT-3).
pub(crate) fn headers_value(headers: &[(String, String)]) -> Value {
    // Into a map that keeps its measure as it grows, no second pass over the tree. A
    // repeated header (rare) replaces the first value, then the values joined replace it.
    let mut map = Map::default();
    for (name, value) in headers {
        if let Some(Value::Str(first)) =
            map.insert(canonical_header_name(name), Value::str(value.as_str()))
        {
            map.insert(
                canonical_header_name(name),
                Value::str(format!("{first}, {value}")),
            );
        }
    }
    Value::Map(Rc::new(map))
}

/// CB-7: query parameters as `{name: [value, …]}`, values in the order given.
fn query_value(query: &str) -> Value {
    if query.is_empty() {
        return shared(
            |s| Value::Map(s.no_query.clone()),
            || Value::from_btree(BTreeMap::new()),
        );
    }
    let mut params: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        params
            .entry(name.into_owned())
            .or_default()
            .push(Value::str(value.as_ref()));
    }
    Value::map(params.into_iter().map(|(k, v)| (k, Value::list(v))))
}

/// Go's `textproto.CanonicalMIMEHeaderKey`: `x-request-id` → `X-Request-Id`. A name with a
/// byte that is not an HTTP token character is returned unchanged, as Go does.
///
/// Checked by table, then cased into a byte vector of known length: every header of every
/// awaited callback comes here (CB-7), and a `String` pushed char by char costs thrice.
pub fn canonical_header_name(name: &str) -> String {
    if let Some(known) = well_known_header(name) {
        return known.to_owned();
    }
    if !name.bytes().all(is_token) {
        return name.to_owned();
    }
    let mut upper = true;
    let out: Vec<u8> = name
        .bytes()
        .map(|b| {
            let c = if upper {
                b.to_ascii_uppercase()
            } else {
                b.to_ascii_lowercase()
            };
            upper = b == b'-';
            c
        })
        .collect();
    // Tokens are ASCII: never an error.
    String::from_utf8(out).unwrap_or_else(|_| name.to_owned())
}

/// The canonical form of a header most requests carry, named as hyper hands names over (in
/// lower case): copied whole, not cased byte by byte.
fn well_known_header(name: &str) -> Option<&'static str> {
    Some(match name {
        "host" => "Host",
        "accept" => "Accept",
        "user-agent" => "User-Agent",
        "content-type" => "Content-Type",
        "content-length" => "Content-Length",
        "authorization" => "Authorization",
        "accept-encoding" => "Accept-Encoding",
        _ => return None,
    })
}

/// An HTTP token character (RFC 9110 §5.6.2), by table.
fn is_token(b: u8) -> bool {
    TOKEN[usize::from(b)]
}

const TOKEN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric()
            || matches!(
                b as u8,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)], query: &str, body: &[u8]) -> CallbackRequest {
        CallbackRequest {
            method: "POST".into(),
            path: "/v1/x/callbacks/a_b".into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            query: query.into(),
            body: body.to_vec(),
        }
    }

    #[test]
    fn cb_1_methods() {
        for m in Method::ALL {
            assert_eq!(Method::parse(m.as_str()), Some(m));
        }
        assert_eq!(Method::parse("get"), None);
        assert_eq!(Method::parse("TRACE"), None);
        assert_eq!(Method::DEFAULT, Method::Post);
    }

    #[test]
    fn cb_8_body_decoding() {
        let json = Some("application/json; charset=utf-8");
        assert_eq!(decode_body(json, b""), Value::Null);
        assert_eq!(decode_body(None, b""), Value::Null);
        assert_eq!(
            decode_body(json, br#"{"a": [1, 2.5]}"#),
            Value::map([("a", Value::list(vec![Value::Int(1), Value::Double(2.5)]))])
        );
        assert_eq!(
            decode_body(Some("application/vnd.api+json"), b"7"),
            Value::Int(7)
        );
        assert_eq!(
            decode_body(Some("Application/JSON"), b"true"),
            Value::Bool(true)
        );
        assert_eq!(decode_body(json, b"{oops"), Value::str("{oops"));
        assert_eq!(
            decode_body(json, b"\xff{"),
            Value::Bytes(b"\xff{"[..].into())
        );
        assert_eq!(decode_body(Some("text/plain"), b"hi"), Value::str("hi"));
        assert_eq!(
            decode_body(Some("text/plain"), b"\xff"),
            Value::Bytes(b"\xff"[..].into())
        );
        assert_eq!(
            decode_body(Some("application/octet-stream"), b"hi"),
            Value::Bytes(b"hi"[..].into())
        );
        assert_eq!(decode_body(None, b"hi"), Value::Bytes(b"hi"[..].into()));
        assert_eq!(
            decode_body(Some("application/jsonx"), b"1"),
            Value::Bytes(b"1"[..].into())
        );
    }

    /// CB-8: the media type compared without case equals it lowered first, over content
    /// types in every case, with parameters, spaces and non-ASCII bytes.
    #[test]
    fn cb_8_media_type_ignores_case_as_lowering_does() {
        let expected = |ct: Option<&str>| {
            let media_type = ct
                .map(|ct| {
                    ct.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase()
                })
                .unwrap_or_default();
            if media_type == "application/json" || media_type.ends_with("+json") {
                Value::Int(1)
            } else if media_type.starts_with("text/") {
                Value::str("1")
            } else {
                Value::Bytes(b"1"[..].into())
            }
        };
        let bases = [
            "application/json",
            "application/vnd.api+json",
            "text/plain",
            "text/",
            "text",
            "json",
            "+json",
            "+jso",
            "application/jsonx",
            "texté/plain",
            "é+json",
            "",
        ];
        for base in bases {
            for cased in [base.to_owned(), base.to_ascii_uppercase()] {
                for ct in [
                    cased.clone(),
                    format!(" {cased} "),
                    format!("{cased}; charset=utf-8"),
                    format!("\t{cased};+json"),
                ] {
                    assert_eq!(decode_body(Some(&ct), b"1"), expected(Some(&ct)), "{ct:?}");
                }
            }
        }
        assert_eq!(decode_body(None, b"1"), expected(None));
    }

    #[test]
    fn cb_7_canonical_headers() {
        assert_eq!(canonical_header_name("x-request-id"), "X-Request-Id");
        assert_eq!(canonical_header_name("CONTENT-TYPE"), "Content-Type");
        assert_eq!(canonical_header_name("accept"), "Accept");
        assert_eq!(canonical_header_name("bad header"), "bad header");
    }

    /// CB-7: the well-known names and the byte table case names exactly as Go's
    /// `CanonicalMIMEHeaderKey` does, written the plain way: over the well-known names in
    /// mixed case and seeded names from an alphabet with dashes, digits, spaces and non-ASCII.
    #[test]
    fn cb_7_canonical_header_fast_paths_match_go() {
        fn reference(name: &str) -> String {
            let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
            if !name.chars().all(token) {
                return name.to_owned();
            }
            let mut out = String::new();
            let mut upper = true;
            for c in name.chars() {
                out.push(if upper {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                });
                upper = c == '-';
            }
            out
        }
        for b in 0..=255u8 {
            let token = char::from(b).is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            assert_eq!(is_token(b), token, "{b}");
        }
        let known = [
            "host",
            "accept",
            "user-agent",
            "content-type",
            "content-length",
            "authorization",
            "accept-encoding",
        ];
        for name in known {
            assert!(well_known_header(name).is_some(), "{name}");
            for variant in [name.to_owned(), name.to_ascii_uppercase(), reference(name)] {
                assert_eq!(canonical_header_name(&variant), reference(&variant));
            }
        }
        let alphabet: Vec<char> = "aZz-09 -x_é~-".chars().collect();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            // xorshift64
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 9) as usize;
            let name: String = (0..len)
                .map(|i| alphabet[(seed >> (8 + 4 * i)) as usize % alphabet.len()])
                .collect();
            assert_eq!(canonical_header_name(&name), reference(&name), "{name:?}");
        }
    }

    /// CB-7: repeated headers joined in the order received, however many, and the map
    /// measured as one built at once.
    #[test]
    fn cb_7_repeated_headers_join_in_order() {
        let headers: Vec<(String, String)> = [("a", "1"), ("B", "2"), ("A", "3"), ("a", "4")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let got = headers_value(&headers);
        let want = Value::map([("A", Value::str("1, 3, 4")), ("B", Value::str("2"))]);
        assert_eq!(got, want);
        assert_eq!((got.bytes(), got.depth()), (want.bytes(), want.depth()));
        assert_eq!(
            headers_value(&[]),
            Value::map(Vec::<(String, Value)>::new())
        );
    }

    #[test]
    fn cb_7_http_request_value() {
        let req = request(
            &[
                ("x-tag", "a"),
                ("Content-Type", "application/json"),
                ("X-TAG", "b"),
            ],
            "a=1&a=2&b=x+y%21",
            br#"{"foo": "bar"}"#,
        );
        let received = Received {
            request: req,
            at: SimTime::from_secs(5),
        };
        let v = received.to_value(WallClock::DEFAULT);
        assert_eq!(v.get("type"), Some(&Value::str("HTTP")));
        assert_eq!(
            v.get("received_time"),
            Some(&Value::str(
                "2024-01-01 00:00:05.000000000 +0000 UTC m=+5.000000000"
            ))
        );
        let http = v.get("http_request").unwrap();
        assert_eq!(http.get("method"), Some(&Value::str("POST")));
        assert_eq!(http.get("url"), Some(&Value::str("/v1/x/callbacks/a_b")));
        assert_eq!(
            http.get("body"),
            Some(&Value::map([("foo", Value::str("bar"))]))
        );
        assert_eq!(
            http.get("headers"),
            Some(&Value::map([
                ("Content-Type", Value::str("application/json")),
                ("X-Tag", Value::str("a, b")),
            ]))
        );
        assert_eq!(
            http.get("query"),
            Some(&Value::map([
                ("a", Value::list(vec![Value::str("1"), Value::str("2")])),
                ("b", Value::list(vec![Value::str("x y!")])),
            ]))
        );
    }

    /// CB-7: the shared parts equal what building them anew gives, measures included.
    #[test]
    fn cb_7_shared_parts_are_the_plain_values() {
        for m in Method::ALL {
            assert_eq!(method_value(m.as_str()), Value::str(m.as_str()));
        }
        for other in ["TRACE", "post", ""] {
            assert_eq!(method_value(other), Value::str(other));
        }
        let empty = Value::map(Vec::<(String, Value)>::new());
        let no_query = query_value("");
        assert_eq!(no_query, empty);
        assert_eq!(
            (no_query.bytes(), no_query.depth()),
            (empty.bytes(), empty.depth())
        );
        let v = Received {
            request: request(&[], "", b""),
            at: SimTime::ZERO,
        }
        .to_value(WallClock::DEFAULT);
        assert_eq!(v.get("type"), Some(&Value::str("HTTP")));
    }

    #[test]
    fn header_lookup_ignores_case() {
        let req = request(&[("content-type", "text/plain")], "", b"");
        assert_eq!(req.header("Content-Type"), Some("text/plain"));
        assert_eq!(req.header("Accept"), None);
    }
}
