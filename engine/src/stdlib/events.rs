//! `events.*`: callback endpoints (SPEC §1). `events.await_callback` blocks: the
//! interpreter implements it.

use super::{Args, Effects, type_error};
use crate::error::Raised;
use crate::value::Value;

/// CB-1: the method is checked by the host, which owns the endpoints.
pub(super) fn create_callback_endpoint(
    a: &mut Args,
    host: &mut dyn Effects,
) -> Result<Value, Raised> {
    let method = match a.optional() {
        None => crate::request::Method::DEFAULT.as_str().to_owned(),
        Some(Value::Str(s)) => s.to_string(),
        Some(other) => {
            return Err(type_error(format!(
                "events.create_callback_endpoint: http_callback_method must be a string, got {}",
                other.a_type()
            )));
        }
    };
    host.create_callback_endpoint(&method)
}
