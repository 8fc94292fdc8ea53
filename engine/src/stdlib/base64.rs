//! `base64.*`: bytes to text and back.

use ::base64::Engine as _;

use super::{Args, Effects, bytes_of, str_of, value_error};
use crate::error::Raised;
use crate::value::Value;

pub(super) fn encode(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let data = bytes_of(a.name(), a.required("data")?)?;
    Ok(Value::str(
        ::base64::engine::general_purpose::STANDARD.encode(data),
    ))
}

pub(super) fn decode(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let text = str_of(a.name(), &a.required("data")?)?;
    // Padding is optional on input.
    ::base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(text.trim_end_matches('='))
        .map(|b| Value::Bytes(b.into()))
        .map_err(|e| value_error(format!("base64.decode: {e}")))
}
