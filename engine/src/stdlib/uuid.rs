//! `uuid.*`: ids from the execution's seeded stream, so a run repeats (CB-2's decision).

use super::{Args, Effects};
use crate::error::Raised;
use crate::value::Value;

pub(super) fn generate(_: &mut Args, host: &mut dyn Effects) -> Result<Value, Raised> {
    Ok(Value::str(host.uuid()))
}
