//! Workflow values: what expressions compute and what `events.await_callback` returns.

use std::collections::BTreeMap;
use std::rc::Rc;

/// A workflow value. Bytes stand apart from strings (CB-8): a body that is not text stays
/// bytes and cannot be JSON-encoded.
///
/// Maps are ordered by key, so every rendering of a value (traces, JSON output, snapshots)
/// is the same on every run.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Double(f64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    List(Rc<Vec<Value>>),
    Map(Rc<BTreeMap<String, Value>>),
}

impl Value {
    pub fn str(s: impl Into<Rc<str>>) -> Value {
        Value::Str(s.into())
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items))
    }

    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(Rc::new(
            entries.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        ))
    }

    /// The name of the type, as error messages say it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Double(_) => "double",
            Value::Str(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Map(_) => "map",
        }
    }

    /// The field `key` of a map, `None` for a missing key or a non-map.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(m) => m.get(key),
            _ => None,
        }
    }

    /// A JSON document as a workflow value: integers that fit in int64 stay integers,
    /// every other number becomes a double.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::str(s.as_str()),
            serde_json::Value::Array(items) => {
                Value::list(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(fields) => {
                Value::map(fields.iter().map(|(k, v)| (k.clone(), Value::from_json(v))))
            }
        }
    }
}

impl Value {
    /// The value as JSON. Bytes have no JSON form (CB-8): `Err` names where they were met.
    pub fn to_json(&self) -> Result<serde_json::Value, &'static str> {
        Ok(match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Double(d) => serde_json::Number::from_f64(*d)
                .map(serde_json::Value::Number)
                .ok_or("a double that is not finite")?,
            Value::Str(s) => serde_json::Value::String(s.to_string()),
            Value::Bytes(_) => return Err("bytes"),
            Value::List(items) => serde_json::Value::Array(
                items.iter().map(Value::to_json).collect::<Result<_, _>>()?,
            ),
            Value::Map(m) => serde_json::Value::Object(
                m.iter()
                    .map(|(k, v)| Ok((k.clone(), v.to_json()?)))
                    .collect::<Result<_, &'static str>>()?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers_keep_int_and_double_apart() {
        let json: serde_json::Value =
            serde_json::from_str(r#"{"i": 3, "d": 3.0, "big": 18446744073709551615, "s": "x"}"#)
                .unwrap();
        let v = Value::from_json(&json);
        assert_eq!(v.get("i"), Some(&Value::Int(3)));
        assert_eq!(v.get("d"), Some(&Value::Double(3.0)));
        assert_eq!(v.get("big"), Some(&Value::Double(18446744073709551615.0)));
        assert_eq!(v.get("s"), Some(&Value::str("x")));
        assert_eq!(v.get("missing"), None);
        assert_eq!(Value::Null.get("i"), None);
        assert_eq!(Value::from_json(&v.to_json().unwrap()), v);
        assert_eq!(Value::Bytes(b"x"[..].into()).to_json(), Err("bytes"));
    }
}
