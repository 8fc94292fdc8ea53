//! `text.*`: strings by character (not byte) index; regexes in RE2 syntax.

use super::{Args, Host, int_of, str_of, type_error, value_error};
use crate::error::{Raised, Tag, builtin};
use crate::value::Value;

pub(super) fn decode(a: &mut Args, _: &mut dyn Host) -> Result<Value, Raised> {
    match a.required("data")? {
        Value::Bytes(b) => String::from_utf8(b.to_vec())
            .map(Value::str)
            .map_err(|_| value_error("text.decode: the bytes are not valid UTF-8")),
        other => Err(type_error(format!(
            "text.decode: needs bytes, got {}",
            other.type_name()
        ))),
    }
}

pub(super) fn encode(a: &mut Args, _: &mut dyn Host) -> Result<Value, Raised> {
    let s = str_of(a.name(), &a.required("text")?)?;
    Ok(Value::Bytes(s.into_bytes().into()))
}

pub(super) fn find_all(a: &mut Args, _: &mut dyn Host) -> Result<Value, Raised> {
    let source = str_of(a.name(), &a.required("source")?)?;
    let sub = str_of(a.name(), &a.required("substr")?)?;
    if sub.is_empty() {
        return Err(value_error("text.find_all: substr must not be empty"));
    }
    // One pass: the character index of each match counts on from the last one, and
    // the list stops growing as soon as it is over the value limit.
    let mut found = crate::value::List::default();
    let (mut chars, mut last) = (0, 0);
    for (i, m) in source.match_indices(sub.as_str()) {
        chars += source[last..i].chars().count();
        last = i;
        found.push(Value::map([
            ("index", Value::Int(chars as i64)),
            ("match", Value::str(m)),
        ]));
        if found.bytes() > crate::limits::VALUE_BYTES_MAX {
            return Err(builtin(
                Tag::ResourceLimitError,
                format!(
                    "text.find_all: the matches would hold over {} bytes (512 KiB)",
                    crate::limits::VALUE_BYTES_MAX
                ),
            ));
        }
    }
    Ok(Value::List(std::rc::Rc::new(found)))
}

pub(super) fn match_regex(a: &mut Args, _: &mut dyn Host) -> Result<Value, Raised> {
    let source = str_of(a.name(), &a.required("source")?)?;
    let pattern = str_of(a.name(), &a.required("regex")?)?;
    let re = regex::Regex::new(&pattern)
        .map_err(|e| value_error(format!("text.match_regex: invalid regex: {e}")))?;
    Ok(Value::Bool(re.is_match(&source)))
}

pub(super) fn replace_all(a: &mut Args, _: &mut dyn Host) -> Result<Value, Raised> {
    let source = str_of(a.name(), &a.required("source")?)?;
    let sub = str_of(a.name(), &a.required("substr")?)?;
    let repl = str_of(a.name(), &a.required("replacement")?)?;
    if sub.is_empty() {
        return Ok(Value::str(source));
    }
    // The result's length is known before it is built: refuse one no variable could hold.
    let n = source.matches(sub.as_str()).count();
    let len = (source.len() - n * sub.len()).saturating_add(n.saturating_mul(repl.len()));
    if crate::value::SCALAR_BYTES.saturating_add(len) > crate::limits::VALUE_BYTES_MAX {
        return Err(builtin(
            Tag::ResourceLimitError,
            format!(
                "text.replace_all: the result would hold {len} bytes; a value may hold at most {} (512 KiB)",
                crate::limits::VALUE_BYTES_MAX
            ),
        ));
    }
    Ok(Value::str(source.replace(&sub, &repl)))
}

pub(super) fn split(a: &mut Args, _: &mut dyn Host) -> Result<Value, Raised> {
    let source = str_of(a.name(), &a.required("source")?)?;
    let sep = str_of(a.name(), &a.required("separator")?)?;
    let parts: Vec<Value> = if sep.is_empty() {
        source.chars().map(|c| Value::str(c.to_string())).collect()
    } else {
        source.split(sep.as_str()).map(Value::str).collect()
    };
    Ok(Value::list(parts))
}

pub(super) fn substring(a: &mut Args, _: &mut dyn Host) -> Result<Value, Raised> {
    let source = str_of(a.name(), &a.required("source")?)?;
    let (start, end) = (
        int_of(a.name(), &a.required("start")?)?,
        int_of(a.name(), &a.required("end")?)?,
    );
    let n = source.chars().count() as i64;
    let (s, e) = (start.clamp(0, n), end.clamp(0, n));
    Ok(Value::str(if s >= e {
        String::new()
    } else {
        source
            .chars()
            .skip(s as usize)
            .take((e - s) as usize)
            .collect()
    }))
}

pub(super) fn to_lower(a: &mut Args, _: &mut dyn Host) -> Result<Value, Raised> {
    Ok(Value::str(
        str_of(a.name(), &a.required("source")?)?.to_lowercase(),
    ))
}

pub(super) fn to_upper(a: &mut Args, _: &mut dyn Host) -> Result<Value, Raised> {
    Ok(Value::str(
        str_of(a.name(), &a.required("source")?)?.to_uppercase(),
    ))
}

pub(super) fn url_encode(a: &mut Args, _: &mut dyn Host) -> Result<Value, Raised> {
    let s = str_of(a.name(), &a.required("source")?)?;
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    Ok(Value::str(
        percent_encoding::utf8_percent_encode(&s, SET).to_string(),
    ))
}
