//! The standard library's table: every function, its parameters, and what runs it.
//!
//! Deploy-time checks read this table (`symbol 'x' not found`, blocking calls inside
//! expressions); call steps use the parameter names to order named `args`; [`super::call`]
//! dispatches through it. Each entry holds its implementation, so a name cannot exist
//! without one, nor an implementation without a name.

use super::{
    Args, Effects, base64, builtins, cannot_call_here, events, hash, http, json, list, map, math,
    retry, sys, text, time, uuid,
};
use crate::error::Raised;
use crate::value::Value;

/// A standard-library function.
#[derive(Clone, Copy, Debug)]
pub struct Func {
    pub name: &'static str,
    /// Parameter names in positional order; a trailing `?` marks an optional one.
    pub params: &'static [&'static str],
    pub(crate) imp: Imp,
}

/// What runs a function.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Imp {
    /// This library, at once.
    Direct(fn(&mut Args, &mut dyn Effects) -> Result<Value, Raised>),
    /// The interpreter: the function waits on the simulated clock or the outside world.
    Blocking(Blocking),
}

/// The functions that suspend their thread. The interpreter matches on this, so a new one
/// cannot be added to the table without its implementation there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Blocking {
    /// `events.await_callback` (CB-3 … CB-7).
    AwaitCallback,
    /// `sys.sleep`.
    Sleep,
    /// `sys.sleep_until`.
    SleepUntil,
    /// `http.get`, `http.post`, … (HT-1): the method, `None` for `http.request`'s argument.
    Http(Option<&'static str>),
}

const fn f(
    name: &'static str,
    params: &'static [&'static str],
    run: fn(&mut Args, &mut dyn Effects) -> Result<Value, Raised>,
) -> Func {
    Func {
        name,
        params,
        imp: Imp::Direct(run),
    }
}

const fn blocking(name: &'static str, params: &'static [&'static str], b: Blocking) -> Func {
    Func {
        name,
        params,
        imp: Imp::Blocking(b),
    }
}

/// HT-1: the arguments of `http.post`, `http.put`, `http.patch`, `http.delete`;
/// `http.request` adds `method`, `http.get` has no `body`. `private_service_name` and
/// `ca_certificate` are accepted (strings) and have no effect: the host reaches the URL.
const HTTP_PARAMS: &[&str] = &[
    "url",
    "headers?",
    "query?",
    "body?",
    "timeout?",
    "auth?",
    "private_service_name?",
    "ca_certificate?",
];
const HTTP_GET_PARAMS: &[&str] = &[
    "url",
    "headers?",
    "query?",
    "timeout?",
    "auth?",
    "private_service_name?",
    "ca_certificate?",
];

/// HT-6: a call step naming `googleapis.…` is a connector call, answered by the host.
pub fn is_connector(name: &str) -> bool {
    name.strip_prefix("googleapis.")
        .is_some_and(|rest| rest.split('.').count() >= 3 && rest.split('.').all(|p| !p.is_empty()))
}

/// Every function of SPEC §6, sorted by name.
pub const FUNCTIONS: &[Func] = &[
    f("base64.decode", &["data", "padding?"], base64::decode),
    f("base64.encode", &["data", "padding?"], base64::encode),
    f("bool", &["value"], builtins::bool),
    f("default", &["value", "default_value"], builtins::default),
    f("double", &["value"], builtins::double),
    blocking(
        "events.await_callback",
        &["callback", "timeout?"],
        Blocking::AwaitCallback,
    ),
    f(
        "events.create_callback_endpoint",
        &["http_callback_method?"],
        events::create_callback_endpoint,
    ),
    f("get_type", &["value"], builtins::get_type),
    f(
        "hash.compute_checksum",
        &["data", "algorithm"],
        hash::compute_checksum,
    ),
    f(
        "hash.compute_hmac",
        &["key", "data", "algorithm"],
        hash::compute_hmac,
    ),
    f(
        "http.default_retry_predicate",
        &["e"],
        http::default_retry_predicate,
    ),
    f(
        "http.default_retry_predicate_non_idempotent",
        &["e"],
        http::default_retry_predicate_non_idempotent,
    ),
    blocking("http.delete", HTTP_PARAMS, Blocking::Http(Some("DELETE"))),
    blocking("http.get", HTTP_GET_PARAMS, Blocking::Http(Some("GET"))),
    blocking("http.patch", HTTP_PARAMS, Blocking::Http(Some("PATCH"))),
    blocking("http.post", HTTP_PARAMS, Blocking::Http(Some("POST"))),
    blocking("http.put", HTTP_PARAMS, Blocking::Http(Some("PUT"))),
    blocking(
        "http.request",
        &[
            "url",
            "method",
            "headers?",
            "query?",
            "body?",
            "timeout?",
            "auth?",
            "private_service_name?",
            "ca_certificate?",
        ],
        Blocking::Http(None),
    ),
    f("int", &["value"], builtins::int),
    f("json.decode", &["data"], json::decode),
    f("json.encode", &["data", "indent?"], json::encode),
    f(
        "json.encode_to_string",
        &["data", "indent?"],
        json::encode_to_string,
    ),
    f("keys", &["map"], builtins::keys),
    f("len", &["value"], builtins::len),
    f("list.concat", &["objs", "val"], list::concat),
    f("list.prepend", &["objs", "val"], list::prepend),
    f("map.delete", &["map", "key"], map::delete),
    f("map.get", &["map", "keys"], map::get),
    f("map.merge", &["first", "second"], map::merge),
    f("map.merge_nested", &["first", "second"], map::merge_nested),
    f("math.abs", &["x"], math::abs),
    f("math.floor", &["x"], math::floor),
    f("math.max", &["x", "y"], math::max),
    f("math.min", &["x", "y"], math::min),
    f("retry.always", &["e"], retry::always),
    f("retry.never", &["e"], retry::never),
    f("string", &["value"], builtins::string),
    f("sys.get_env", &["name", "default?"], sys::get_env),
    f(
        "sys.log",
        &["data?", "severity?", "text?", "json?", "timestamp?"],
        sys::log,
    ),
    f("sys.now", &[], sys::now),
    blocking("sys.sleep", &["seconds"], Blocking::Sleep),
    blocking("sys.sleep_until", &["time"], Blocking::SleepUntil),
    f("text.decode", &["data", "charset?"], text::decode),
    f("text.encode", &["text", "charset?"], text::encode),
    f("text.find_all", &["source", "substr"], text::find_all),
    f(
        "text.find_all_regex",
        &["source", "regexp"],
        text::find_all_regex,
    ),
    f("text.match_regex", &["source", "regex"], text::match_regex),
    f(
        "text.replace_all",
        &["source", "substr", "replacement"],
        text::replace_all,
    ),
    f(
        "text.replace_all_regex",
        &["source", "regexp", "repl"],
        text::replace_all_regex,
    ),
    f("text.split", &["source", "separator"], text::split),
    f(
        "text.substring",
        &["source", "start", "end"],
        text::substring,
    ),
    f("text.to_lower", &["source"], text::to_lower),
    f("text.to_upper", &["source"], text::to_upper),
    f("text.url_decode", &["source"], text::url_decode),
    f("text.url_encode", &["source"], text::url_encode),
    f("text.url_encode_plus", &["source"], text::url_encode_plus),
    f("time.format", &["seconds", "timezone?"], time::format),
    f("time.parse", &["value"], time::parse),
    f("uuid.generate", &[], uuid::generate),
];

impl Func {
    /// Blocking functions wait on the simulated clock or the outside world; they may only
    /// be used in `call` steps, never inside an expression.
    pub fn blocking(&self) -> bool {
        matches!(self.imp, Imp::Blocking(_))
    }

    /// Parameter names without the optional marker, and whether each is required.
    pub fn param_list(&self) -> impl Iterator<Item = (&'static str, bool)> {
        self.params.iter().map(|p| match p.strip_suffix('?') {
            Some(name) => (name, false),
            None => (*p, true),
        })
    }

    /// Runs a function of this library with positional `args`; a blocking one cannot run
    /// here.
    pub(crate) fn call(
        &self,
        args: Vec<Option<Value>>,
        host: &mut dyn Effects,
    ) -> Result<Value, Raised> {
        match self.imp {
            Imp::Direct(run) => run(&mut Args::new(self.name, args), host),
            Imp::Blocking(_) => Err(cannot_call_here(self.name)),
        }
    }
}

/// Values (not functions) the library names: retry policies and predicates used as
/// `${http.default_retry}`, `${retry.always}`.
pub const POLICIES: &[&str] = &[
    "http.default_retry",
    "http.default_retry_non_idempotent",
    "retry.default_backoff",
];

/// The function named `name`: searched among those with its first byte only, a
/// comparison or two where the whole table took six (each a `memcmp`), on every call step.
pub fn lookup(name: &str) -> Option<&'static Func> {
    let &first = name.as_bytes().first()?;
    let &(lo, hi) = BY_FIRST_BYTE.get(usize::from(first))?;
    let same_first = &FUNCTIONS[usize::from(lo)..usize::from(hi)];
    same_first
        .binary_search_by(|f| f.name.cmp(name))
        .ok()
        .map(|i| &same_first[i])
}

/// For each ASCII byte, the range of [`FUNCTIONS`] whose names start with it (empty for
/// none): the table is sorted, so each is one run.
const BY_FIRST_BYTE: [(u8, u8); 128] = by_first_byte();

const fn by_first_byte() -> [(u8, u8); 128] {
    assert!(FUNCTIONS.len() <= u8::MAX as usize);
    let mut out = [(0, 0); 128];
    let mut i = 0;
    while i < FUNCTIONS.len() {
        let b = FUNCTIONS[i].name.as_bytes()[0] as usize;
        if out[b].0 == out[b].1 {
            out[b].0 = i as u8;
        }
        out[b].1 = i as u8 + 1;
        i += 1;
    }
    out
}

/// Is `name` a standard-library module prefix, like `sys` or `text`?
pub fn is_module(name: &str) -> bool {
    FUNCTIONS
        .iter()
        .any(|f| f.name.split_once('.').is_some_and(|(m, _)| m == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lookup by first byte finds what a search of the whole table finds: every
    /// name, each one cut short or lengthened, and names no function has.
    #[test]
    fn lookup_by_first_byte_is_the_whole_tables_search() {
        let whole = |name: &str| {
            FUNCTIONS
                .binary_search_by(|f| f.name.cmp(name))
                .ok()
                .map(|i| &FUNCTIONS[i])
        };
        let mut names: Vec<String> =
            vec!["".into(), "~".into(), "é".into(), "a".into(), "z".into()];
        for f in FUNCTIONS {
            for i in 0..=f.name.len() {
                names.push(f.name[..i].to_owned());
            }
            names.push(format!("{}x", f.name));
            names.push(format!("_{}", f.name));
        }
        for name in &names {
            assert_eq!(
                lookup(name).map(|f| f.name),
                whole(name).map(|f| f.name),
                "{name}"
            );
        }
        assert!(
            FUNCTIONS
                .iter()
                .all(|f| lookup(f.name).is_some_and(|g| g.name == f.name))
        );
    }

    #[test]
    fn table_is_sorted_and_lookup_works() {
        assert!(FUNCTIONS.windows(2).all(|w| w[0].name < w[1].name));
        assert!(lookup("events.await_callback").unwrap().blocking());
        assert!(!lookup("len").unwrap().blocking());
        assert!(lookup("sys.sleep").unwrap().blocking());
        assert!(lookup("sys.nope").is_none());
        assert!(is_module("text"));
        assert!(!is_module("len"));
        let params: Vec<_> = lookup("events.await_callback")
            .unwrap()
            .param_list()
            .collect();
        assert_eq!(params, vec![("callback", true), ("timeout", false)]);
    }
}
