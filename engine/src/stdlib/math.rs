//! `math.*`: int64 and double kept apart, as in expressions (SPEC §6).

use std::cmp::Ordering;

use super::{Args, Effects, type_error, value_error};
use crate::error::Raised;
use crate::value::Value;

pub(super) fn abs(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    match a.required("x")? {
        Value::Int(i) => i
            .checked_abs()
            .map(Value::Int)
            .ok_or_else(|| value_error("math.abs: overflow")),
        Value::Double(d) => Ok(Value::Double(d.abs())),
        other => Err(type_error(format!(
            "math.abs: needs a number, got {}",
            other.a_type()
        ))),
    }
}

pub(super) fn floor(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    match a.required("x")? {
        Value::Int(i) => Ok(Value::Int(i)),
        Value::Double(d) if super::fits_i64(d.floor()) => Ok(Value::Int(d.floor() as i64)),
        Value::Double(d) => Err(value_error(format!("math.floor: {d} is out of range"))),
        other => Err(type_error(format!(
            "math.floor: needs a number, got {}",
            other.a_type()
        ))),
    }
}

pub(super) fn max(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    pick(a, Ordering::Greater)
}

pub(super) fn min(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    pick(a, Ordering::Less)
}

/// `x` if it compares to `y` as `wins` does, or equals it; `y` otherwise.
fn pick(a: &mut Args, wins: Ordering) -> Result<Value, Raised> {
    let (x, y) = (a.required("x")?, a.required("y")?);
    let ord = crate::expr::eval::compare(&x, &y)
        .filter(|_| matches!(x, Value::Int(_) | Value::Double(_)))
        .ok_or_else(|| type_error(format!("{}: needs two numbers", a.name())))?;
    Ok(if ord == wins || ord == Ordering::Equal {
        x
    } else {
        y
    })
}
