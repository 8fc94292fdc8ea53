//! `retry.*` and RT-1's built-in predicates: which errors a retry policy retries.

use super::{Args, Effects};
use crate::error::{Raised, Tag, has_tag};
use crate::value::Value;

/// Every error but a `ResourceLimitError`, which would only happen again: no built-in
/// predicate retries it.
pub(super) fn always(a: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    Ok(Value::Bool(!is_resource_limit(&a.required("e")?)))
}

pub(super) fn never(_: &mut Args, _: &mut dyn Effects) -> Result<Value, Raised> {
    Ok(Value::Bool(false))
}

/// RT-1: retries `ConnectionError`, `ConnectionFailedError`, `TimeoutError`, and `HttpError`
/// with code 429, 502, 503 or 504 (the non-idempotent variant: 429 and 503, and
/// `ConnectionFailedError`).
pub fn default_retry_predicate(e: &Value, non_idempotent: bool) -> bool {
    // The tags read in one pass: the predicate asks of every error a retry sees.
    let (mut connection, mut connection_failed, mut timeout, mut http) =
        (false, false, false, false);
    if let Some(Value::List(tags)) = e.get("tags") {
        for t in tags.iter() {
            let Value::Str(t) = t else { continue };
            match &**t {
                t if t == Tag::ResourceLimitError.as_str() => return false,
                "ConnectionError" => connection = true,
                "ConnectionFailedError" => connection_failed = true,
                "TimeoutError" => timeout = true,
                "HttpError" => http = true,
                _ => {}
            }
        }
    }
    let code = || match e.get("code") {
        Some(Value::Int(c)) => Some(*c),
        _ => None,
    };
    if non_idempotent {
        connection_failed || (http && matches!(code(), Some(429 | 503)))
    } else {
        connection
            || connection_failed
            || timeout
            || (http && matches!(code(), Some(429 | 502 | 503 | 504)))
    }
}

/// RT-1: `retry.default_backoff`, the one statement of it. The delays are integers and the
/// multiplier a double, as `${retry.default_backoff}` gives them to a workflow; the
/// interpreter's `BackoffPolicy::DEFAULT` (and so `${http.default_retry}`'s back-off) is made
/// from it.
pub(crate) const DEFAULT_BACKOFF: DefaultBackoff = DefaultBackoff {
    initial_delay: 1,
    max_delay: 60,
    multiplier: 1.25,
};

/// A back-off in the workflow's own types: seconds as integers, the multiplier a double.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DefaultBackoff {
    pub(crate) initial_delay: i64,
    pub(crate) max_delay: i64,
    pub(crate) multiplier: f64,
}

fn is_resource_limit(e: &Value) -> bool {
    has_tag(e, Tag::ResourceLimitError.as_str())
}
