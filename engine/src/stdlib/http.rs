//! `http.*`: so far the default retry predicates of RT-1 (the policies
//! `${http.default_retry}` that use them are read at deploy time).

use super::retry;
use super::{Args, Effects};
use crate::error::Raised;
use crate::value::Value;

pub(super) fn default_retry_predicate(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let e = a.required("e")?;
    Ok(Value::Bool(retry::default_retry_predicate(&e, false)))
}

pub(super) fn default_retry_predicate_non_idempotent(
    a: &mut Args,
    _: &mut dyn Effects,
) -> Result<Value, Raised> {
    let e = a.required("e")?;
    Ok(Value::Bool(retry::default_retry_predicate(&e, true)))
}
