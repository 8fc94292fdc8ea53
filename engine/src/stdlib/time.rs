//! `time.*`: seconds since the Unix epoch to RFC 3339 text and back.

use super::{Args, Host, str_of, type_error, value_error};
use crate::error::Raised;
use crate::value::Value;

pub(super) fn format(a: &mut Args, _: &mut dyn Host) -> Result<Value, Raised> {
    let secs = match a.required("seconds")? {
        Value::Int(i) => i as f64,
        Value::Double(d) => d,
        other => {
            return Err(type_error(format!(
                "time.format: needs seconds, got {}",
                other.a_type()
            )));
        }
    };
    Ok(Value::str(crate::time::format_rfc3339(
        (secs * 1e9).round() as i128,
    )))
}

pub(super) fn parse(a: &mut Args, _: &mut dyn Host) -> Result<Value, Raised> {
    let s = str_of(a.name(), &a.required("value")?)?;
    crate::time::parse_rfc3339(&s)
        .map(|n| Value::Double(n as f64 / 1e9))
        .ok_or_else(|| value_error(format!("time.parse: '{s}' is not an RFC 3339 time")))
}
