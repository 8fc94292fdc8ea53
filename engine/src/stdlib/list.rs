//! `list.*`.

use super::{Args, Host, list_of};
use crate::error::Raised;
use crate::value::Value;

pub(super) fn concat(a: &mut Args, _: &mut dyn Host) -> Result<Value, Raised> {
    let mut items = list_of(a.name(), a.required("objs")?)?;
    let val = a.required("val")?;
    if let Value::List(more) = val {
        // A list is joined, not nested: list.concat([1], [2]) is [1, 2].
        items.extend(more.iter().cloned());
    } else {
        items.push(val);
    }
    Ok(Value::list(items))
}

pub(super) fn prepend(a: &mut Args, _: &mut dyn Host) -> Result<Value, Raised> {
    let mut items = list_of(a.name(), a.required("objs")?)?;
    let val = a.required("val")?;
    items.insert(0, val);
    Ok(Value::list(items))
}
