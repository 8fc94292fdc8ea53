//! `json.*`: workflow values to JSON text and back. Bytes have no JSON form (CB-8).

use super::{Args, Effects, type_error, value_error};
use crate::error::Raised;
use crate::value::Value;

pub(super) fn decode(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let data = a.required("data")?;
    let text: Vec<u8> = match &data {
        Value::Str(s) => s.as_bytes().to_vec(),
        Value::Bytes(b) => b.to_vec(),
        other => {
            return Err(type_error(format!(
                "json.decode: needs a string or bytes, got {}",
                other.a_type()
            )));
        }
    };
    serde_json::from_slice::<serde_json::Value>(&text)
        .map(|j| Value::from_json(&j))
        .map_err(|e| value_error(format!("json.decode: {e}")))
}

pub(super) fn encode(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    Ok(Value::Bytes(encode_text(a)?.into_bytes().into()))
}

pub(super) fn encode_to_string(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    Ok(Value::str(encode_text(a)?))
}

/// The JSON text of `data`, indented when `indent` asks for it.
fn encode_text(a: &mut Args) -> Result<String, Raised> {
    let name = a.name();
    let data = a.required("data")?;
    let json = data
        .to_json()
        .map_err(|what| type_error(format!("{name}: {what} cannot be encoded as JSON")))?;
    let indent = a.optional();
    match indent {
        Some(Value::Int(_) | Value::Bool(true) | Value::Str(_) | Value::Map(_)) => {
            serde_json::to_string_pretty(&json)
        }
        _ => serde_json::to_string(&json),
    }
    .map_err(|e| value_error(e.to_string()))
}
