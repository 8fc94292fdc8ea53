//! The functions without a module: conversions (`int`, `double`, `string`, `bool`),
//! `default`, `get_type`, `len` and `keys`.

use super::{Args, Effects, type_error, value_error};
use crate::error::Raised;
use crate::value::Value;

pub(super) fn bool(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    match a.required("value")? {
        Value::Bool(b) => Ok(Value::Bool(b)),
        Value::Str(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
        Value::Str(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
        Value::Str(s) => Err(value_error(format!("bool: cannot convert '{s}'"))),
        other => Err(type_error(format!(
            "bool: cannot convert {}",
            other.a_type()
        ))),
    }
}

pub(super) fn default(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let value = a.optional();
    let fallback = a.required("default_value")?;
    Ok(match value {
        Some(v) if v != Value::Null => v,
        _ => fallback,
    })
}

pub(super) fn double(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    match a.required("value")? {
        Value::Int(i) => Ok(Value::Double(i as f64)),
        Value::Double(d) => Ok(Value::Double(d)),
        Value::Str(s) => s
            .trim()
            .parse::<f64>()
            .map(Value::Double)
            .map_err(|_| value_error(format!("double: cannot convert '{s}'"))),
        other => Err(type_error(format!(
            "double: cannot convert {}",
            other.a_type()
        ))),
    }
}

/// The type of `value` as its name: the names of SPEC §6 (`integer`, `double`, `string`,
/// `boolean`, `bytes`, `list`, `map`, `null`), the ones every message uses.
pub(super) fn get_type(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    Ok(Value::str(a.required("value")?.type_name()))
}

pub(super) fn int(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    match a.required("value")? {
        Value::Int(i) => Ok(Value::Int(i)),
        Value::Double(d) if super::fits_i64(d.trunc()) => Ok(Value::Int(d.trunc() as i64)),
        Value::Double(d) => Err(value_error(format!("int: {d} is out of range"))),
        Value::Str(s) => s
            .trim()
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| value_error(format!("int: cannot convert '{s}'"))),
        other => Err(type_error(format!(
            "int: cannot convert {}",
            other.a_type()
        ))),
    }
}

pub(super) fn string(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    match a.required("value")? {
        Value::Str(s) => Ok(Value::Str(s)),
        Value::Int(i) => Ok(Value::str(i.to_string())),
        Value::Double(d) => Ok(Value::str(d.to_string())),
        Value::Bool(b) => Ok(Value::str(b.to_string())),
        Value::Null => Ok(Value::str("null")),
        other => Err(type_error(format!(
            "string: cannot convert {}",
            other.a_type()
        ))),
    }
}

pub(super) fn keys(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    match a.required("map")? {
        Value::Map(m) => Ok(Value::list(
            m.keys().map(|k| Value::str(k.as_str())).collect(),
        )),
        other => Err(type_error(format!(
            "keys: needs a map, got {}",
            other.a_type()
        ))),
    }
}

pub(super) fn len(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    match a.required("value")? {
        Value::Str(s) => Ok(Value::Int(s.chars().count() as i64)),
        Value::Bytes(b) => Ok(Value::Int(b.len() as i64)),
        Value::List(l) => Ok(Value::Int(l.len() as i64)),
        Value::Map(m) => Ok(Value::Int(m.len() as i64)),
        other => Err(type_error(format!("len: {} has no length", other.a_type()))),
    }
}
