//! `list.*`. Both share the structure of `objs` (a persistent vector): the cost is
//! logarithmic in its length, not a copy (issue #11).

use std::rc::Rc;

use super::{Args, Effects, type_error};
use crate::error::Raised;
use crate::value::{List, Value};

/// `objs`, which must be a list.
fn objs(a: &mut Args) -> Result<Rc<List>, Raised> {
    match a.required("objs")? {
        Value::List(l) => Ok(l),
        other => Err(type_error(format!(
            "{}: needs a list, got {}",
            a.name(),
            other.a_type()
        ))),
    }
}

pub(super) fn concat(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let mut items = objs(a)?;
    let val = a.required("val")?;
    let list = Rc::make_mut(&mut items);
    if let Value::List(more) = val {
        // A list is joined, not nested: list.concat([1], [2]) is [1, 2].
        list.append(&more);
    } else {
        list.push(val);
    }
    Ok(Value::List(items))
}

pub(super) fn prepend(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let mut items = objs(a)?;
    let val = a.required("val")?;
    Rc::make_mut(&mut items).push_front(val);
    Ok(Value::List(items))
}
