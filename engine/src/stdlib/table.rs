//! The standard library's names: what exists, its parameters, and whether it blocks.
//!
//! Deploy-time checks read this table (`symbol 'x' not found`, blocking calls inside
//! expressions); call steps use the parameter names to order named `args`.

/// A standard-library function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Func {
    pub name: &'static str,
    /// Parameter names in positional order; a trailing `?` marks an optional one.
    pub params: &'static [&'static str],
    /// Blocking functions wait on the simulated clock or the outside world; they may only
    /// be used in `call` steps, never inside an expression.
    pub blocking: bool,
}

const fn f(name: &'static str, params: &'static [&'static str]) -> Func {
    Func {
        name,
        params,
        blocking: false,
    }
}

const fn blocking(name: &'static str, params: &'static [&'static str]) -> Func {
    Func {
        name,
        params,
        blocking: true,
    }
}

/// Every function of SPEC §6, sorted by name.
pub const FUNCTIONS: &[Func] = &[
    f("base64.decode", &["data", "padding?"]),
    f("base64.encode", &["data", "padding?"]),
    f("bool", &["value"]),
    f("default", &["value", "default_value"]),
    f("double", &["value"]),
    f("events.await_callback", &["callback", "timeout?"]).blocking_fn(),
    f(
        "events.create_callback_endpoint",
        &["http_callback_method?"],
    ),
    f("http.default_retry_predicate", &["e"]),
    f("http.default_retry_predicate_non_idempotent", &["e"]),
    f("int", &["value"]),
    f("json.decode", &["data"]),
    f("json.encode", &["data", "indent?"]),
    f("json.encode_to_string", &["data", "indent?"]),
    f("keys", &["map"]),
    f("len", &["value"]),
    f("list.concat", &["objs", "val"]),
    f("list.prepend", &["objs", "val"]),
    f("map.delete", &["map", "key"]),
    f("map.get", &["map", "keys"]),
    f("map.merge", &["first", "second"]),
    f("map.merge_nested", &["first", "second"]),
    f("math.abs", &["x"]),
    f("math.floor", &["x"]),
    f("math.max", &["x", "y"]),
    f("math.min", &["x", "y"]),
    f("retry.always", &["e"]),
    f("retry.never", &["e"]),
    f("string", &["value"]),
    f("sys.get_env", &["name", "default?"]),
    f(
        "sys.log",
        &["data?", "severity?", "text?", "json?", "timestamp?"],
    ),
    f("sys.now", &[]),
    blocking("sys.sleep", &["seconds"]),
    blocking("sys.sleep_until", &["time"]),
    f("text.decode", &["data", "charset?"]),
    f("text.encode", &["text", "charset?"]),
    f("text.find_all", &["source", "substr"]),
    f("text.match_regex", &["source", "regex"]),
    f("text.replace_all", &["source", "substr", "replacement"]),
    f("text.split", &["source", "separator"]),
    f("text.substring", &["source", "start", "end"]),
    f("text.to_lower", &["source"]),
    f("text.to_upper", &["source"]),
    f("text.url_encode", &["source"]),
    f("time.format", &["seconds", "timezone?"]),
    f("time.parse", &["value"]),
    f("uuid.generate", &[]),
];

impl Func {
    const fn blocking_fn(self) -> Func {
        Func {
            blocking: true,
            ..self
        }
    }

    /// Parameter names without the optional marker, and whether each is required.
    pub fn param_list(&self) -> impl Iterator<Item = (&'static str, bool)> {
        self.params.iter().map(|p| match p.strip_suffix('?') {
            Some(name) => (name, false),
            None => (*p, true),
        })
    }
}

/// Values (not functions) the library names: retry policies and predicates used as
/// `${http.default_retry}`, `${retry.always}`.
pub const POLICIES: &[&str] = &[
    "http.default_retry",
    "http.default_retry_non_idempotent",
    "retry.default_backoff",
];

pub fn lookup(name: &str) -> Option<&'static Func> {
    FUNCTIONS
        .binary_search_by(|f| f.name.cmp(name))
        .ok()
        .map(|i| &FUNCTIONS[i])
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

    #[test]
    fn table_is_sorted_and_lookup_works() {
        assert!(FUNCTIONS.windows(2).all(|w| w[0].name < w[1].name));
        assert!(lookup("events.await_callback").unwrap().blocking);
        assert!(!lookup("len").unwrap().blocking);
        assert!(lookup("sys.sleep").unwrap().blocking);
        assert_eq!(lookup("sys.nope"), None);
        assert!(is_module("text"));
        assert!(!is_module("len"));
        let params: Vec<_> = lookup("events.await_callback")
            .unwrap()
            .param_list()
            .collect();
        assert_eq!(params, vec![("callback", true), ("timeout", false)]);
    }
}
