//! The standard library of SPEC §6, one file per module (`text.rs` for `text.*`;
//! `builtins.rs` for the functions without a module, like `len` and `int`).
//!
//! [`table`] lists every function beside its implementation, so a name cannot exist without
//! one. Blocking functions (`events.await_callback`, `sys.sleep`, `sys.sleep_until`) need the
//! scheduler: the table marks them, and the interpreter implements them. Everything here
//! takes positional arguments ([`Args`]), a missing optional one as `None`, and reaches the
//! execution only through [`Effects`].

mod base64;
mod builtins;
mod events;
mod hash;
mod http;
mod json;
mod list;
mod map;
mod math;
mod retry;
mod sys;
pub mod table;
mod text;
mod time;
mod uuid;

use std::collections::BTreeMap;

use crate::error::{Raised, Tag, builtin};
use crate::value::Value;

pub(crate) use retry::DEFAULT_BACKOFF;
pub use retry::default_retry_predicate;
pub use sys::env_name_error;

/// What a library function may ask of the execution it runs in.
pub trait Effects {
    /// The simulated wall clock, nanoseconds since the Unix epoch.
    fn now_unix_nanos(&self) -> i128;
    /// The next UUID of the execution's seeded stream.
    fn uuid(&mut self) -> String;
    /// An environment variable: GCP's built-in `GOOGLE_CLOUD_*` ones and the user's.
    fn env(&self, name: &str) -> Option<String>;
    /// EX-4: one log entry.
    fn log(&mut self, severity: String, payload: LogPayload);
    /// CB-1: a new endpoint; returns `{url: ...}`.
    fn create_callback_endpoint(&mut self, method: &str) -> Result<Value, Raised>;
}

/// What `sys.log` recorded: `text` or `data` (EX-4).
#[derive(Clone, Debug, PartialEq)]
pub enum LogPayload {
    Text(String),
    Data(Value),
}

/// Calls `name` with positional `args`. The name and the count of arguments were checked
/// against [`table`] by the caller.
pub fn call(name: &str, args: Vec<Option<Value>>, host: &mut dyn Effects) -> Result<Value, Raised> {
    match table::lookup(name) {
        Some(f) => f.call(args, host),
        None => Err(cannot_call_here(name)),
    }
}

/// A name with no implementation here: not in the table, or a blocking function (which only
/// a `call` step may use).
fn cannot_call_here(name: &str) -> Raised {
    builtin(Tag::SystemError, format!("{name} cannot be called here"))
}

/// A call's positional arguments, in the order of the table's parameters, each taken once.
#[derive(Debug)]
pub(crate) struct Args {
    /// The function's name as the table spells it, for messages.
    name: &'static str,
    values: std::vec::IntoIter<Option<Value>>,
}

impl Args {
    fn new(name: &'static str, values: Vec<Option<Value>>) -> Args {
        Args {
            name,
            values: values.into_iter(),
        }
    }

    fn name(&self) -> &'static str {
        self.name
    }

    /// The next argument, which the function needs: a `TypeError` names it when it is
    /// missing.
    fn required(&mut self, what: &str) -> Result<Value, Raised> {
        self.values
            .next()
            .flatten()
            .ok_or_else(|| type_error(format!("{}: missing argument '{what}'", self.name)))
    }

    /// The next argument, if it was given.
    fn optional(&mut self) -> Option<Value> {
        self.values.next().flatten()
    }
}

/// Whether `x`, a whole number, is an int64: -2⁶³ ≤ x < 2⁶³ (both exact as doubles).
fn fits_i64(x: f64) -> bool {
    (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x)
}

fn type_error(msg: impl Into<String>) -> Raised {
    builtin(Tag::TypeError, msg)
}

fn value_error(msg: impl Into<String>) -> Raised {
    builtin(Tag::ValueError, msg)
}

fn str_of(func: &str, v: &Value) -> Result<String, Raised> {
    match v {
        Value::Str(s) => Ok(s.to_string()),
        other => Err(type_error(format!(
            "{func}: needs a string, got {}",
            other.a_type()
        ))),
    }
}

fn int_of(func: &str, v: &Value) -> Result<i64, Raised> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(type_error(format!(
            "{func}: needs an integer, got {}",
            other.a_type()
        ))),
    }
}

fn bytes_of(func: &str, v: Value) -> Result<Vec<u8>, Raised> {
    match v {
        Value::Bytes(b) => Ok(b.to_vec()),
        Value::Str(s) => Ok(s.as_bytes().to_vec()),
        other => Err(type_error(format!(
            "{func}: needs bytes, got {}",
            other.a_type()
        ))),
    }
}

fn map_of(func: &str, v: Value) -> Result<BTreeMap<String, Value>, Raised> {
    match v {
        Value::Map(m) => Ok((**m).clone()),
        other => Err(type_error(format!(
            "{func}: needs a map, got {}",
            other.a_type()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::tags;

    #[derive(Default)]
    struct TestHost {
        logs: Vec<(String, LogPayload)>,
    }

    impl Effects for TestHost {
        fn now_unix_nanos(&self) -> i128 {
            1_704_067_200_000_000_000
        }
        fn uuid(&mut self) -> String {
            "u".into()
        }
        fn env(&self, name: &str) -> Option<String> {
            (name == "GOOGLE_CLOUD_PROJECT_ID").then(|| "p".into())
        }
        fn log(&mut self, severity: String, payload: LogPayload) {
            self.logs.push((severity, payload));
        }
        fn create_callback_endpoint(&mut self, method: &str) -> Result<Value, Raised> {
            Ok(Value::map([("url", Value::str(method))]))
        }
    }

    fn run(name: &str, args: Vec<Value>) -> Result<Value, Raised> {
        call(
            name,
            args.into_iter().map(Some).collect(),
            &mut TestHost::default(),
        )
    }

    fn s(x: &str) -> Value {
        Value::str(x)
    }

    #[test]
    fn conversions() {
        assert_eq!(run("int", vec![s("42")]), Ok(Value::Int(42)));
        assert_eq!(run("int", vec![Value::Double(3.99)]), Ok(Value::Int(3)));
        assert_eq!(run("double", vec![s("2.5")]), Ok(Value::Double(2.5)));
        assert_eq!(run("string", vec![Value::Int(42)]), Ok(s("42")));
        assert_eq!(run("string", vec![Value::Bool(true)]), Ok(s("true")));
        assert_eq!(run("bool", vec![s("TRUE")]), Ok(Value::Bool(true)));
        assert_eq!(tags(&run("int", vec![s("x")]).unwrap_err()), ["ValueError"]);
        assert_eq!(
            run("default", vec![Value::Null, Value::Int(1)]),
            Ok(Value::Int(1))
        );
        assert_eq!(
            run("default", vec![Value::Int(2), Value::Int(1)]),
            Ok(Value::Int(2))
        );
    }

    #[test]
    fn json_and_bytes() {
        let m = Value::map([("b", Value::Int(1)), ("a", s("x"))]);
        assert_eq!(
            run("json.encode_to_string", vec![m.clone()]),
            Ok(s(r#"{"a":"x","b":1}"#))
        );
        assert_eq!(run("json.decode", vec![s(r#"{"a":"x","b":1}"#)]), Ok(m));
        let bytes = Value::Bytes(b"\xff"[..].into());
        assert_eq!(
            tags(&run("json.encode_to_string", vec![bytes]).unwrap_err()),
            ["TypeError"]
        );
        let enc = run(
            "base64.encode",
            vec![run("text.encode", vec![s("hi")]).unwrap()],
        )
        .unwrap();
        assert_eq!(enc, s("aGk="));
        assert_eq!(
            run(
                "text.decode",
                vec![run("base64.decode", vec![enc]).unwrap()]
            ),
            Ok(s("hi"))
        );
    }

    #[test]
    fn collections_and_text() {
        let l = Value::list(vec![Value::Int(1)]);
        assert_eq!(
            run("list.concat", vec![l.clone(), Value::Int(2)]),
            Ok(Value::list(vec![Value::Int(1), Value::Int(2)]))
        );
        assert_eq!(
            run("list.prepend", vec![l, Value::Int(0)]),
            Ok(Value::list(vec![Value::Int(0), Value::Int(1)]))
        );
        let m = Value::map([("a", Value::map([("b", Value::Int(1))]))]);
        assert_eq!(
            run(
                "map.get",
                vec![m.clone(), Value::list(vec![s("a"), s("b")])]
            ),
            Ok(Value::Int(1))
        );
        assert_eq!(run("map.get", vec![m.clone(), s("zz")]), Ok(Value::Null));
        assert_eq!(run("keys", vec![m]), Ok(Value::list(vec![s("a")])));
        assert_eq!(
            run("text.split", vec![s("a,b"), s(",")]),
            Ok(Value::list(vec![s("a"), s("b")]))
        );
        assert_eq!(
            run(
                "text.substring",
                vec![s("hello"), Value::Int(1), Value::Int(3)]
            ),
            Ok(s("el"))
        );
        assert_eq!(
            run("text.match_regex", vec![s("abc123"), s("^[a-z]+[0-9]+$")]),
            Ok(Value::Bool(true))
        );
        assert_eq!(run("text.url_encode", vec![s("a b/c")]), Ok(s("a%20b%2Fc")));
        assert_eq!(
            run("math.floor", vec![Value::Double(3.7)]),
            Ok(Value::Int(3))
        );
        assert_eq!(
            run("math.max", vec![Value::Int(10), Value::Int(20)]),
            Ok(Value::Int(20))
        );
        assert_eq!(run("len", vec![s("h\u{e9}")]), Ok(Value::Int(2)));
    }

    #[test]
    fn ex_4_sys_log() {
        let mut host = TestHost::default();
        let r = call(
            "sys.log",
            vec![None, Some(s("INFO")), Some(s("hi"))],
            &mut host,
        );
        assert_eq!(r, Ok(Value::Null));
        assert_eq!(
            host.logs,
            vec![("INFO".into(), LogPayload::Text("hi".into()))]
        );
        let r = call("sys.log", vec![Some(Value::Int(1))], &mut host);
        assert_eq!(r, Ok(Value::Null));
        assert_eq!(
            host.logs[1],
            ("DEFAULT".into(), LogPayload::Data(Value::Int(1)))
        );
        let both = call(
            "sys.log",
            vec![Some(Value::Int(1)), None, Some(s("x"))],
            &mut host,
        );
        assert_eq!(tags(&both.unwrap_err()), ["TypeError"]);
        let none = call("sys.log", vec![], &mut host);
        assert_eq!(tags(&none.unwrap_err()), ["TypeError"]);
    }

    #[test]
    fn rt_1_default_retry_predicate() {
        let err = |tag: &str, code: Option<i64>| {
            let mut m = vec![("tags", Value::list(vec![s(tag)]))];
            if let Some(c) = code {
                m.push(("code", Value::Int(c)));
            }
            Value::map(m)
        };
        assert!(default_retry_predicate(&err("TimeoutError", None), false));
        assert!(default_retry_predicate(&err("HttpError", Some(503)), false));
        assert!(!default_retry_predicate(
            &err("HttpError", Some(500)),
            false
        ));
        assert!(!default_retry_predicate(&err("KeyError", None), false));
        assert!(!default_retry_predicate(&err("HttpError", Some(502)), true));
    }
}
