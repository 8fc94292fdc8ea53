//! `map.*`.

use std::collections::BTreeMap;

use super::{Args, Effects, map_of, str_of};
use crate::error::Raised;
use crate::value::Value;

pub(super) fn get(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let map = a.required("map")?;
    let keys = match a.required("keys")? {
        Value::List(ks) => ks.to_vec(),
        k => vec![k],
    };
    let mut cur = map;
    for k in keys {
        let key = str_of(a.name(), &k)?;
        cur = match cur.get(&key) {
            Some(v) => v.clone(),
            None => return Ok(Value::Null),
        };
    }
    Ok(cur)
}

pub(super) fn delete(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    let mut m = map_of(a.name(), a.required("map")?)?;
    let key = str_of(a.name(), &a.required("key")?)?;
    m.remove(&key);
    Ok(Value::from_btree(m))
}

pub(super) fn merge(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    merge_args(a, false)
}

pub(super) fn merge_nested(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    merge_args(a, true)
}

fn merge_args(a: &mut Args, nested: bool) -> Result<Value, Raised> {
    let first = map_of(a.name(), a.required("first")?)?;
    let second = map_of(a.name(), a.required("second")?)?;
    Ok(Value::from_btree(merge_maps(first, second, nested)))
}

/// `b` over `a`; with `nested`, maps under the same key merge in turn.
fn merge_maps(
    mut a: BTreeMap<String, Value>,
    b: BTreeMap<String, Value>,
    nested: bool,
) -> BTreeMap<String, Value> {
    for (k, v) in b {
        let merged = match (a.remove(&k), v) {
            (Some(Value::Map(x)), Value::Map(y)) if nested => {
                Value::from_btree(merge_maps((**x).clone(), (**y).clone(), true))
            }
            (_, v) => v,
        };
        a.insert(k, merged);
    }
    a
}
