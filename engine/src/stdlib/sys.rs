//! `sys.*` that runs at once: the environment, the log (EX-4), the clock. `sys.sleep` and
//! `sys.sleep_until` block: the interpreter implements them.

use super::{Args, Effects, LogPayload, str_of, type_error};
use crate::error::Raised;
use crate::value::Value;

/// `sys.get_env(name, default)`: GCP's built-in `GOOGLE_CLOUD_*` variables and the
/// user-defined ones; `default` (a string), or null, for a variable that is not set.
pub(super) fn get_env(a: &mut Args, host: &mut dyn Effects) -> Result<Value, Raised> {
    let var = str_of(a.name(), &a.required("name")?)?;
    let fallback = match a.optional() {
        None => Value::Null,
        Some(Value::Str(s)) => Value::Str(s),
        Some(other) => {
            return Err(type_error(format!(
                "sys.get_env: default must be a string, got {}",
                other.a_type()
            )));
        }
    };
    Ok(host.env(&var).map(Value::str).unwrap_or(fallback))
}

/// Why `name` cannot be a user-defined environment variable, if it cannot: GCP reserves the
/// empty name and the prefixes `GOOGLE_` and `WORKFLOWS_` (its built-in variables).
pub fn env_name_error(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("an environment variable needs a name".to_owned());
    }
    ["GOOGLE_", "WORKFLOWS_"]
        .into_iter()
        .find(|p| name.starts_with(p))
        .map(|prefix| {
            format!(
                "'{name}': names starting with {prefix} are reserved for the built-in variables"
            )
        })
}

/// EX-4: exactly one of `text`, `data`, `json`; `timestamp` is accepted and ignored.
pub(super) fn log(a: &mut Args, host: &mut dyn Effects) -> Result<Value, Raised> {
    let data = a.optional();
    let severity = a.optional();
    let text = a.optional();
    let json = a.optional();
    let severity = match severity {
        None => "DEFAULT".to_owned(),
        Some(Value::Str(s)) => s.to_string(),
        Some(other) => {
            return Err(type_error(format!(
                "sys.log: severity must be a string, got {}",
                other.a_type()
            )));
        }
    };
    let payload = match (data, text, json) {
        (None, Some(Value::Str(t)), None) => LogPayload::Text(t.to_string()),
        (None, Some(other), None) => {
            return Err(type_error(format!(
                "sys.log: text must be a string, got {}",
                other.a_type()
            )));
        }
        (Some(d), None, None) | (None, None, Some(d)) => LogPayload::Data(d),
        _ => return Err(type_error("sys.log: give exactly one of text, data, json")),
    };
    host.log(severity, payload);
    Ok(Value::Null)
}

/// Seconds since the Unix epoch on the simulated wall clock.
pub(super) fn now(_: &mut Args, host: &mut dyn Effects) -> Result<Value, Raised> {
    Ok(Value::Double(host.now_unix_nanos() as f64 / 1e9))
}
