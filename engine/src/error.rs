//! Workflow errors: what `raise` throws and `except` catches.
//!
//! A workflow can raise any value (`raise: "boom"`); the built-in errors are maps
//! `{message, tags}` (SPEC §6), made by [`builtin`].

use std::ops::Deref;

use crate::pos::Pos;
use crate::value::Value;

/// The built-in error tags of SPEC §6.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tag {
    TimeoutError,
    KeyError,
    TypeError,
    ValueError,
    IndexError,
    ZeroDivisionError,
    RecursionError,
    ResourceLimitError,
    UnhandledBranchError,
    ParallelNestingError,
    SystemError,
}

impl Tag {
    pub const ALL: [Tag; 11] = [
        Tag::TimeoutError,
        Tag::KeyError,
        Tag::TypeError,
        Tag::ValueError,
        Tag::IndexError,
        Tag::ZeroDivisionError,
        Tag::RecursionError,
        Tag::ResourceLimitError,
        Tag::UnhandledBranchError,
        Tag::ParallelNestingError,
        Tag::SystemError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Tag::TimeoutError => "TimeoutError",
            Tag::KeyError => "KeyError",
            Tag::TypeError => "TypeError",
            Tag::ValueError => "ValueError",
            Tag::IndexError => "IndexError",
            Tag::ZeroDivisionError => "ZeroDivisionError",
            Tag::RecursionError => "RecursionError",
            Tag::ResourceLimitError => "ResourceLimitError",
            Tag::UnhandledBranchError => "UnhandledBranchError",
            Tag::ParallelNestingError => "ParallelNestingError",
            Tag::SystemError => "SystemError",
        }
    }
}

/// A raised value in flight.
pub type Raised = Value;

/// One frame of where an error happened: a step of a routine (`main` or a subworkflow) and
/// where the step is written, like GCP's `stackTrace.elements[]` (`step`, `routine`,
/// `position`). In a routine, the step is the innermost one that was running: a step inside
/// `steps`, a `for` body, a `try` or a parallel branch, not the step that holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackElement {
    pub step: String,
    pub routine: String,
    /// The step's name as written in the definition.
    pub pos: Pos,
}

/// An execution's uncaught error: the raised value whole, and where it was raised,
/// innermost first (SPEC §6, "Where"). Reads as the raised value (`Deref`), so code that
/// only wants the value need not know the stack.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub error: Raised,
    /// Innermost first: the step that raised, then the call step of each caller out to
    /// `main`. Empty for an error no step raised (the one-year limit, EX-5).
    pub stack: Vec<StackElement>,
}

impl Deref for Failure {
    type Target = Raised;
    fn deref(&self) -> &Raised {
        &self.error
    }
}

impl PartialEq<Value> for Failure {
    fn eq(&self, other: &Value) -> bool {
        self.error == *other
    }
}

/// A built-in error: `{message: "...", tags: ["TypeError"]}`.
pub fn builtin(tag: Tag, message: impl Into<String>) -> Raised {
    Value::map([
        ("message", Value::str(message.into())),
        ("tags", tag_list(tag)),
    ])
}

/// `[tag]`, made once per thread and shared: values never change in place, and a
/// retried await makes the same error again and again.
fn tag_list(tag: Tag) -> Value {
    thread_local! {
        static LISTS: [Value; Tag::ALL.len()] =
            Tag::ALL.map(|t| Value::list(vec![Value::str(t.as_str())]));
    }
    LISTS.with(|lists| lists[tag as usize].clone())
}

/// The tags of a raised value, empty for a value that is not an error map.
pub fn tags(raised: &Raised) -> Vec<String> {
    match raised.get("tags") {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|t| match t {
                Value::Str(s) => Some(s.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether `raised` is an error map tagged `tag`: [`tags`] without copying them out (a
/// retry predicate asks it of every error).
pub fn has_tag(raised: &Raised, tag: &str) -> bool {
    match raised.get("tags") {
        Some(Value::List(items)) => items
            .iter()
            .any(|t| matches!(t, Value::Str(s) if **s == *tag)),
        _ => false,
    }
}

/// The message of a raised value: its `message` field, or the value itself when it is a
/// string.
pub fn message(raised: &Raised) -> Option<String> {
    match raised {
        Value::Str(s) => Some(s.to_string()),
        _ => match raised.get("message") {
            Some(Value::Str(s)) => Some(s.to_string()),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tag_has_its_list() {
        for (i, t) in Tag::ALL.into_iter().enumerate() {
            assert_eq!(t as usize, i, "ALL in declaration order");
            assert_eq!(tag_list(t), Value::list(vec![Value::str(t.as_str())]));
        }
    }

    #[test]
    fn builtin_errors_are_maps_with_tags() {
        let e = builtin(Tag::KeyError, "key 'x' not found");
        assert_eq!(tags(&e), vec!["KeyError"]);
        assert!(has_tag(&e, "KeyError") && !has_tag(&e, "TypeError"));
        assert!(!has_tag(&Value::str("KeyError"), "KeyError"));
        assert_eq!(message(&e).as_deref(), Some("key 'x' not found"));
        assert_eq!(message(&Value::str("boom")).as_deref(), Some("boom"));
        assert!(tags(&Value::str("boom")).is_empty());
    }

    /// A failure compares with a value as the raised value does; its stack is beside it.
    #[test]
    fn a_failure_equals_the_value_it_raised() {
        let raised = builtin(Tag::TypeError, "needs a string");
        let failure = Failure {
            error: raised.clone(),
            stack: Vec::new(),
        };
        assert!(failure == raised);
        assert!(failure != builtin(Tag::TypeError, "needs a number"));
        assert!(failure != Value::str("needs a string"));
        assert_eq!(tags(&failure), vec!["TypeError"], "it reads as the value");
    }
}
