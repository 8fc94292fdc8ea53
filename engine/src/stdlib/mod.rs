//! The standard library of SPEC §6: the functions that do not block.
//!
//! Blocking ones (`events.await_callback`, `sys.sleep`, `sys.sleep_until`) need the
//! scheduler and live in the interpreter. Everything here takes positional arguments, a
//! missing optional one as `None`, and reaches the execution only through [`Host`].

pub mod table;

use std::collections::BTreeMap;

use base64::Engine as _;

use crate::error::{Raised, Tag, builtin, tags};
use crate::value::Value;

/// What a library function may ask of the execution it runs in.
pub trait Host {
    /// The simulated wall clock, nanoseconds since the Unix epoch.
    fn now_unix_nanos(&self) -> i128;
    /// The next UUID of the execution's seeded stream.
    fn uuid(&mut self) -> String;
    /// `GOOGLE_CLOUD_*` variables.
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

fn type_error(msg: impl Into<String>) -> Raised {
    builtin(Tag::TypeError, msg)
}

fn value_error(msg: impl Into<String>) -> Raised {
    builtin(Tag::ValueError, msg)
}

/// Calls `name` with positional `args`. The name and the count of arguments were checked
/// against [`table`] by the caller.
pub fn call(name: &str, args: Vec<Option<Value>>, host: &mut dyn Host) -> Result<Value, Raised> {
    let mut args = args.into_iter();
    let mut arg = |what: &str| -> Result<Value, Raised> {
        args.next()
            .flatten()
            .ok_or_else(|| type_error(format!("{name}: missing argument '{what}'")))
    };
    match name {
        "base64.encode" => {
            let data = bytes_of(name, arg("data")?)?;
            Ok(Value::str(
                base64::engine::general_purpose::STANDARD.encode(data),
            ))
        }
        "base64.decode" => {
            let text = str_of(name, &arg("data")?)?;
            // Padding is optional on input.
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(text.trim_end_matches('='))
                .map(|b| Value::Bytes(b.into()))
                .map_err(|e| value_error(format!("base64.decode: {e}")))
        }
        "bool" => match arg("value")? {
            Value::Bool(b) => Ok(Value::Bool(b)),
            Value::Str(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::Str(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            Value::Str(s) => Err(value_error(format!("bool: cannot convert '{s}'"))),
            other => Err(type_error(format!(
                "bool: cannot convert a {}",
                other.type_name()
            ))),
        },
        "default" => {
            let value = arg("value").ok();
            let fallback = arg("default_value")?;
            Ok(match value {
                Some(v) if v != Value::Null => v,
                _ => fallback,
            })
        }
        "double" => match arg("value")? {
            Value::Int(i) => Ok(Value::Double(i as f64)),
            Value::Double(d) => Ok(Value::Double(d)),
            Value::Str(s) => s
                .trim()
                .parse::<f64>()
                .map(Value::Double)
                .map_err(|_| value_error(format!("double: cannot convert '{s}'"))),
            other => Err(type_error(format!(
                "double: cannot convert a {}",
                other.type_name()
            ))),
        },
        "int" => match arg("value")? {
            Value::Int(i) => Ok(Value::Int(i)),
            Value::Double(d) if fits_i64(d.trunc()) => Ok(Value::Int(d.trunc() as i64)),
            Value::Double(d) => Err(value_error(format!("int: {d} is out of range"))),
            Value::Str(s) => s
                .trim()
                .parse::<i64>()
                .map(Value::Int)
                .map_err(|_| value_error(format!("int: cannot convert '{s}'"))),
            other => Err(type_error(format!(
                "int: cannot convert a {}",
                other.type_name()
            ))),
        },
        "string" => match arg("value")? {
            Value::Str(s) => Ok(Value::Str(s)),
            Value::Int(i) => Ok(Value::str(i.to_string())),
            Value::Double(d) => Ok(Value::str(d.to_string())),
            Value::Bool(b) => Ok(Value::str(b.to_string())),
            Value::Null => Ok(Value::str("null")),
            other => Err(type_error(format!(
                "string: cannot convert a {}",
                other.type_name()
            ))),
        },
        "json.decode" => {
            let data = arg("data")?;
            let text: Vec<u8> = match &data {
                Value::Str(s) => s.as_bytes().to_vec(),
                Value::Bytes(b) => b.to_vec(),
                other => {
                    return Err(type_error(format!(
                        "json.decode: needs a string or bytes, got {}",
                        other.type_name()
                    )));
                }
            };
            serde_json::from_slice::<serde_json::Value>(&text)
                .map(|j| Value::from_json(&j))
                .map_err(|e| value_error(format!("json.decode: {e}")))
        }
        "json.encode" | "json.encode_to_string" => {
            let data = arg("data")?;
            let json = data
                .to_json()
                .map_err(|what| type_error(format!("{name}: {what} cannot be encoded as JSON")))?;
            let indent = args.next().flatten();
            let text = match indent {
                Some(Value::Int(_) | Value::Bool(true) | Value::Str(_) | Value::Map(_)) => {
                    serde_json::to_string_pretty(&json)
                }
                _ => serde_json::to_string(&json),
            }
            .map_err(|e| value_error(e.to_string()))?;
            Ok(if name == "json.encode" {
                Value::Bytes(text.into_bytes().into())
            } else {
                Value::str(text)
            })
        }
        "keys" => match arg("map")? {
            Value::Map(m) => Ok(Value::list(
                m.keys().map(|k| Value::str(k.as_str())).collect(),
            )),
            other => Err(type_error(format!(
                "keys: needs a map, got {}",
                other.type_name()
            ))),
        },
        "len" => match arg("value")? {
            Value::Str(s) => Ok(Value::Int(s.chars().count() as i64)),
            Value::Bytes(b) => Ok(Value::Int(b.len() as i64)),
            Value::List(l) => Ok(Value::Int(l.len() as i64)),
            Value::Map(m) => Ok(Value::Int(m.len() as i64)),
            other => Err(type_error(format!(
                "len: a {} has no length",
                other.type_name()
            ))),
        },
        "list.concat" | "list.prepend" => {
            let mut items = list_of(name, arg("objs")?)?;
            let val = arg("val")?;
            if name == "list.prepend" {
                items.insert(0, val);
            } else if let Value::List(more) = val {
                // A list is joined, not nested: list.concat([1], [2]) is [1, 2].
                items.extend(more.iter().cloned());
            } else {
                items.push(val);
            }
            Ok(Value::list(items))
        }
        "map.get" => {
            let map = arg("map")?;
            let keys = match arg("keys")? {
                Value::List(ks) => ks.to_vec(),
                k => vec![k],
            };
            let mut cur = map;
            for k in keys {
                let key = str_of(name, &k)?;
                cur = match cur.get(&key) {
                    Some(v) => v.clone(),
                    None => return Ok(Value::Null),
                };
            }
            Ok(cur)
        }
        "map.delete" => {
            let mut m = map_of(name, arg("map")?)?;
            let key = str_of(name, &arg("key")?)?;
            m.remove(&key);
            Ok(Value::from_btree(m))
        }
        "map.merge" | "map.merge_nested" => {
            let first = map_of(name, arg("first")?)?;
            let second = map_of(name, arg("second")?)?;
            Ok(Value::from_btree(merge(
                first,
                second,
                name == "map.merge_nested",
            )))
        }
        "math.abs" => match arg("x")? {
            Value::Int(i) => i
                .checked_abs()
                .map(Value::Int)
                .ok_or_else(|| value_error("math.abs: overflow")),
            Value::Double(d) => Ok(Value::Double(d.abs())),
            other => Err(type_error(format!(
                "math.abs: needs a number, got {}",
                other.type_name()
            ))),
        },
        "math.floor" => match arg("x")? {
            Value::Int(i) => Ok(Value::Int(i)),
            Value::Double(d) if fits_i64(d.floor()) => Ok(Value::Int(d.floor() as i64)),
            Value::Double(d) => Err(value_error(format!("math.floor: {d} is out of range"))),
            other => Err(type_error(format!(
                "math.floor: needs a number, got {}",
                other.type_name()
            ))),
        },
        "math.max" | "math.min" => {
            let (x, y) = (arg("x")?, arg("y")?);
            let ord = crate::expr::eval::compare(&x, &y)
                .filter(|_| matches!(x, Value::Int(_) | Value::Double(_)))
                .ok_or_else(|| type_error(format!("{name}: needs two numbers")))?;
            let x_wins = (ord == std::cmp::Ordering::Greater) == (name == "math.max");
            Ok(if x_wins || ord == std::cmp::Ordering::Equal {
                x
            } else {
                y
            })
        }
        // A ResourceLimitError would only happen again: no built-in predicate retries it.
        "retry.always" => Ok(Value::Bool(!is_resource_limit(&arg("e")?))),
        "retry.never" => Ok(Value::Bool(false)),
        "http.default_retry_predicate" | "http.default_retry_predicate_non_idempotent" => {
            let e = arg("e")?;
            Ok(Value::Bool(default_retry_predicate(
                &e,
                name.ends_with("non_idempotent"),
            )))
        }
        "sys.get_env" => {
            let var = str_of(name, &arg("name")?)?;
            let fallback = args.next().flatten();
            Ok(host
                .env(&var)
                .map(Value::str)
                .or(fallback)
                .unwrap_or(Value::Null))
        }
        "sys.log" => {
            let data = args.next().flatten();
            let severity = args.next().flatten();
            let text = args.next().flatten();
            let json = args.next().flatten();
            let severity = match severity {
                None => "DEFAULT".to_owned(),
                Some(Value::Str(s)) => s.to_string(),
                Some(other) => {
                    return Err(type_error(format!(
                        "sys.log: severity must be a string, got {}",
                        other.type_name()
                    )));
                }
            };
            let payload = match (data, text, json) {
                (None, Some(Value::Str(t)), None) => LogPayload::Text(t.to_string()),
                (None, Some(other), None) => {
                    return Err(type_error(format!(
                        "sys.log: text must be a string, got {}",
                        other.type_name()
                    )));
                }
                (Some(d), None, None) | (None, None, Some(d)) => LogPayload::Data(d),
                _ => return Err(type_error("sys.log: give exactly one of text, data, json")),
            };
            host.log(severity, payload);
            Ok(Value::Null)
        }
        "sys.now" => Ok(Value::Double(host.now_unix_nanos() as f64 / 1e9)),
        "text.decode" => match arg("data")? {
            Value::Bytes(b) => String::from_utf8(b.to_vec())
                .map(Value::str)
                .map_err(|_| value_error("text.decode: the bytes are not valid UTF-8")),
            other => Err(type_error(format!(
                "text.decode: needs bytes, got {}",
                other.type_name()
            ))),
        },
        "text.encode" => {
            let s = str_of(name, &arg("text")?)?;
            Ok(Value::Bytes(s.into_bytes().into()))
        }
        "text.find_all" => {
            let source = str_of(name, &arg("source")?)?;
            let sub = str_of(name, &arg("substr")?)?;
            if sub.is_empty() {
                return Err(value_error("text.find_all: substr must not be empty"));
            }
            // One pass: the character index of each match counts on from the last one, and
            // the list stops growing as soon as it is over the value limit.
            let mut found = crate::value::List::default();
            let (mut chars, mut last) = (0, 0);
            for (i, m) in source.match_indices(sub.as_str()) {
                chars += source[last..i].chars().count();
                last = i;
                found.push(Value::map([
                    ("index", Value::Int(chars as i64)),
                    ("match", Value::str(m)),
                ]));
                if found.bytes() > crate::limits::VALUE_BYTES_MAX {
                    return Err(builtin(
                        Tag::ResourceLimitError,
                        format!(
                            "text.find_all: the matches would hold over {} bytes (512 KiB)",
                            crate::limits::VALUE_BYTES_MAX
                        ),
                    ));
                }
            }
            Ok(Value::List(std::rc::Rc::new(found)))
        }
        "text.match_regex" => {
            let source = str_of(name, &arg("source")?)?;
            let pattern = str_of(name, &arg("regex")?)?;
            let re = regex::Regex::new(&pattern)
                .map_err(|e| value_error(format!("text.match_regex: invalid regex: {e}")))?;
            Ok(Value::Bool(re.is_match(&source)))
        }
        "text.replace_all" => {
            let source = str_of(name, &arg("source")?)?;
            let sub = str_of(name, &arg("substr")?)?;
            let repl = str_of(name, &arg("replacement")?)?;
            if sub.is_empty() {
                return Ok(Value::str(source));
            }
            // The result's length is known before it is built: refuse one no variable could hold.
            let n = source.matches(sub.as_str()).count();
            let len = (source.len() - n * sub.len()).saturating_add(n.saturating_mul(repl.len()));
            if crate::value::SCALAR_BYTES.saturating_add(len) > crate::limits::VALUE_BYTES_MAX {
                return Err(builtin(
                    Tag::ResourceLimitError,
                    format!(
                        "text.replace_all: the result would hold {len} bytes; a value may hold at most {} (512 KiB)",
                        crate::limits::VALUE_BYTES_MAX
                    ),
                ));
            }
            Ok(Value::str(source.replace(&sub, &repl)))
        }
        "text.split" => {
            let source = str_of(name, &arg("source")?)?;
            let sep = str_of(name, &arg("separator")?)?;
            let parts: Vec<Value> = if sep.is_empty() {
                source.chars().map(|c| Value::str(c.to_string())).collect()
            } else {
                source.split(sep.as_str()).map(Value::str).collect()
            };
            Ok(Value::list(parts))
        }
        "text.substring" => {
            let source = str_of(name, &arg("source")?)?;
            let (start, end) = (int_of(name, &arg("start")?)?, int_of(name, &arg("end")?)?);
            let n = source.chars().count() as i64;
            let (s, e) = (start.clamp(0, n), end.clamp(0, n));
            Ok(Value::str(if s >= e {
                String::new()
            } else {
                source
                    .chars()
                    .skip(s as usize)
                    .take((e - s) as usize)
                    .collect()
            }))
        }
        "text.to_lower" => Ok(Value::str(str_of(name, &arg("source")?)?.to_lowercase())),
        "text.to_upper" => Ok(Value::str(str_of(name, &arg("source")?)?.to_uppercase())),
        "text.url_encode" => {
            let s = str_of(name, &arg("source")?)?;
            const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
                .remove(b'-')
                .remove(b'_')
                .remove(b'.')
                .remove(b'~');
            Ok(Value::str(
                percent_encoding::utf8_percent_encode(&s, SET).to_string(),
            ))
        }
        "time.format" => {
            let secs = match arg("seconds")? {
                Value::Int(i) => i as f64,
                Value::Double(d) => d,
                other => {
                    return Err(type_error(format!(
                        "time.format: needs seconds, got {}",
                        other.type_name()
                    )));
                }
            };
            Ok(Value::str(crate::time::format_rfc3339(
                (secs * 1e9).round() as i128,
            )))
        }
        "time.parse" => {
            let s = str_of(name, &arg("value")?)?;
            crate::time::parse_rfc3339(&s)
                .map(|n| Value::Double(n as f64 / 1e9))
                .ok_or_else(|| value_error(format!("time.parse: '{s}' is not an RFC 3339 time")))
        }
        "uuid.generate" => Ok(Value::str(host.uuid())),
        "events.create_callback_endpoint" => {
            let method = match args.next().flatten() {
                None => crate::request::Method::DEFAULT.as_str().to_owned(),
                Some(Value::Str(s)) => s.to_string(),
                Some(other) => {
                    return Err(type_error(format!(
                        "events.create_callback_endpoint: http_callback_method must be a string, got {}",
                        other.type_name()
                    )));
                }
            };
            host.create_callback_endpoint(&method)
        }
        other => Err(builtin(
            Tag::SystemError,
            format!("{other} cannot be called here"),
        )),
    }
}

/// RT-1: retries `ConnectionError`, `ConnectionFailedError`, `TimeoutError`, and `HttpError`
/// with code 429, 502, 503 or 504 (the non-idempotent variant: 429 and 503, and
/// `ConnectionFailedError`).
pub fn default_retry_predicate(e: &Value, non_idempotent: bool) -> bool {
    if is_resource_limit(e) {
        return false;
    }
    let tags = tags(e);
    let has = |t: &str| tags.iter().any(|x| x == t);
    let code = match e.get("code") {
        Some(Value::Int(c)) => Some(*c),
        _ => None,
    };
    if non_idempotent {
        has("ConnectionFailedError") || (has("HttpError") && matches!(code, Some(429 | 503)))
    } else {
        has("ConnectionError")
            || has("ConnectionFailedError")
            || has("TimeoutError")
            || (has("HttpError") && matches!(code, Some(429 | 502 | 503 | 504)))
    }
}

/// Whether `x`, a whole number, is an int64: -2⁶³ ≤ x < 2⁶³ (both exact as doubles).
fn fits_i64(x: f64) -> bool {
    (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x)
}

fn is_resource_limit(e: &Value) -> bool {
    tags(e)
        .iter()
        .any(|t| t == Tag::ResourceLimitError.as_str())
}

fn merge(
    mut a: BTreeMap<String, Value>,
    b: BTreeMap<String, Value>,
    nested: bool,
) -> BTreeMap<String, Value> {
    for (k, v) in b {
        let merged = match (a.remove(&k), v) {
            (Some(Value::Map(x)), Value::Map(y)) if nested => {
                Value::from_btree(merge((**x).clone(), (**y).clone(), true))
            }
            (_, v) => v,
        };
        a.insert(k, merged);
    }
    a
}

fn str_of(func: &str, v: &Value) -> Result<String, Raised> {
    match v {
        Value::Str(s) => Ok(s.to_string()),
        other => Err(type_error(format!(
            "{func}: needs a string, got {}",
            other.type_name()
        ))),
    }
}

fn int_of(func: &str, v: &Value) -> Result<i64, Raised> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(type_error(format!(
            "{func}: needs an integer, got {}",
            other.type_name()
        ))),
    }
}

fn bytes_of(func: &str, v: Value) -> Result<Vec<u8>, Raised> {
    match v {
        Value::Bytes(b) => Ok(b.to_vec()),
        Value::Str(s) => Ok(s.as_bytes().to_vec()),
        other => Err(type_error(format!(
            "{func}: needs bytes, got {}",
            other.type_name()
        ))),
    }
}

fn list_of(func: &str, v: Value) -> Result<Vec<Value>, Raised> {
    match v {
        Value::List(l) => Ok(l.to_vec()),
        other => Err(type_error(format!(
            "{func}: needs a list, got {}",
            other.type_name()
        ))),
    }
}

fn map_of(func: &str, v: Value) -> Result<BTreeMap<String, Value>, Raised> {
    match v {
        Value::Map(m) => Ok((**m).clone()),
        other => Err(type_error(format!(
            "{func}: needs a map, got {}",
            other.type_name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct TestHost {
        logs: Vec<(String, LogPayload)>,
    }

    impl Host for TestHost {
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
