//! Every limit the engine enforces, in one place: its value, its unit, and where it comes
//! from. SPEC.md §7 tables them.
//!
//! "GCP" marks a limit Google publishes on the Workflows quotas and limits page
//! (cloud.google.com/workflows/quotas); "decision" marks one wfsim sets where Google states
//! none, so that no input can exhaust the process. Over a limit, a definition is refused at
//! deploy time with a position; a running execution raises `ResourceLimitError`, which the
//! built-in retry predicates never retry ([`crate::stdlib::default_retry_predicate`]).

use crate::error::{Raised, Tag, builtin};
use crate::value::Value;

/// Bytes of a workflow definition's source. GCP ("source code size", 128 KB).
pub const SOURCE_BYTES_MAX: usize = 128 * 1024;
/// Nesting of a definition's YAML or JSON (lists and maps inside one another). Decision:
/// GCP states none; real definitions nest a few dozen levels at most.
pub const DEFINITION_DEPTH_MAX: usize = 128;
/// Assignments in one `assign` step. GCP.
pub const ASSIGNMENTS_MAX: usize = 50;
/// Conditions in one `switch`. GCP.
pub const CONDITIONS_MAX: usize = 50;
/// Branches of one `parallel` step. GCP.
pub const BRANCHES_MAX: usize = 10;
/// Characters in one expression. GCP.
pub const EXPRESSION_CHARS_MAX: usize = 400;

/// Steps one execution may run. GCP (100,000 steps per execution).
pub const STEPS_MAX: u64 = 100_000;
/// Nested subworkflow calls. GCP (call stack depth 20); over it, `RecursionError`.
pub const CALL_DEPTH_MAX: u32 = 20;
/// EX-5: simulated seconds one execution may run. GCP (one year).
pub const EXECUTION_SECS_MAX: u64 = 31_536_000;

/// Bytes of one value kept by an execution: a variable, an argument, a result, a log entry,
/// the result of a standard-library call, an iteration's list, as [`Value::bytes`] counts
/// them. GCP's "data size" is 512 KB for the variables, arguments and events of an
/// execution together; wfsim checks each value on its own (decision), which needs no
/// bookkeeping across frames and still bounds what an execution can hold per step.
pub const VALUE_BYTES_MAX: usize = 512 * 1024;
/// How deep one value may nest ([`Value::depth`]). Decision: GCP states none; 128 is what
/// JSON decoders accept by default (serde_json's recursion limit), so every value can be
/// written as JSON and read back.
pub const VALUE_DEPTH_MAX: u32 = 128;
/// SPEC §3 step 4: bytes of a callback request's body; over it, 413. Decision, from GCP's
/// 512 KB data size.
pub const CALLBACK_BODY_BYTES_MAX: usize = 512 * 1024;
/// How far one `range` may span (last value less first): `[a, a + 100,000]` yields 100,001
/// values. Decision: each value needs a step, so a longer range could never finish within
/// [`STEPS_MAX`], and would only fill memory.
pub const RANGE_SPAN_MAX: u64 = STEPS_MAX;
/// Bytes of an execution's `argument` (its JSON text) at `executions.create`; over it, 400
/// INVALID_ARGUMENT. GCP: the Executions API's `Execution.argument` ("The size limit is
/// 32KB").
pub const ARGUMENT_BYTES_MAX: usize = 32 * 1024;
/// Bytes of text `text.find_all_regex` and `text.replace_all_regex` may examine in one
/// call, over all their scans (decision: with leftmost-longest matching, a regex like
/// `a|a.*z` scans to the end of the text from every match; 32 times the largest string).
pub const REGEX_SCAN_BYTES_MAX: usize = 32 * VALUE_BYTES_MAX;

/// Bytes one execution may build with string `+`, over all its sums (decision). A
/// string cannot grow in place (`Value::Str` is a shared `Rc<str>`), so `s: ${s + "x"}`
/// in a loop copies `s` at every step: quadratic, 51 GB within the step limit at the
/// value limit. 1 GiB is 2,048 values' worth: room to build a 512 KiB string in 1,024
/// appends, about a tenth of a second of copying.
pub const CONCAT_BYTES_MAX: u64 = 2048 * VALUE_BYTES_MAX as u64;

/// `Ok(v)` when `v` is within [`VALUE_BYTES_MAX`] and [`VALUE_DEPTH_MAX`], else the
/// `ResourceLimitError` to raise, naming `what` (e.g. "variable 'x'"). Constant time.
pub fn check_value(what: &dyn std::fmt::Display, v: Value) -> Result<Value, Raised> {
    check_bytes(what, v.bytes())?;
    if v.depth() > VALUE_DEPTH_MAX {
        return Err(builtin(
            Tag::ResourceLimitError,
            format!(
                "{what} would nest {} levels deep; a value may nest at most {VALUE_DEPTH_MAX}",
                v.depth()
            ),
        ));
    }
    Ok(v)
}

/// `Ok` when a value of `bytes` ([`Value::bytes`]) is within [`VALUE_BYTES_MAX`]: for a
/// value about to be built, so that what no variable could hold is never allocated.
pub fn check_bytes(what: &dyn std::fmt::Display, bytes: usize) -> Result<(), Raised> {
    if bytes > VALUE_BYTES_MAX {
        return Err(builtin(
            Tag::ResourceLimitError,
            format!(
                "{what} would hold {bytes} bytes; a value may hold at most {VALUE_BYTES_MAX} (512 KiB)"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::tags;

    #[test]
    fn values_over_a_limit_raise_resource_limit_error() {
        let at_limit = Value::str("x".repeat(VALUE_BYTES_MAX - crate::value::SCALAR_BYTES));
        assert!(check_value(&"x", at_limit).is_ok());
        let over = Value::str("x".repeat(VALUE_BYTES_MAX));
        let e = check_value(&"variable 'x'", over).unwrap_err();
        assert_eq!(tags(&e), ["ResourceLimitError"]);
        let mut deep = Value::Null;
        for _ in 1..VALUE_DEPTH_MAX {
            deep = Value::list(vec![deep]);
        }
        assert_eq!(deep.depth(), VALUE_DEPTH_MAX);
        let deep = check_value(&"x", deep).unwrap();
        let e = check_value(&"the result", Value::list(vec![deep])).unwrap_err();
        assert!(
            crate::error::message(&e).unwrap().contains("129 levels"),
            "{e:?}"
        );
    }
}
