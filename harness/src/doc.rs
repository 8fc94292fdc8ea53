//! The kit for reading positioned documents (scenarios, their services, explore files,
//! properties): one error type that says where and what, and the readers of typed fields
//! that every format shares, so a message reads the same whichever file it is about.

use std::fmt;
use std::time::Duration;

use wfsim_engine::defn::tree::{self, Node, Syntax};
use wfsim_engine::pos::Pos;
use wfsim_engine::time::duration_from_secs;
use wfsim_engine::value::{Value, with_article};

/// What is wrong with a document, and where: `file:line:column: message` once the reader
/// of the file has named it ([`DocError::in_file`]), `line:column: message` before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocError {
    pub file: Option<String>,
    pub pos: Pos,
    pub message: String,
}

impl DocError {
    pub fn new(pos: Pos, message: impl Into<String>) -> DocError {
        DocError {
            file: None,
            pos,
            message: message.into(),
        }
    }

    /// The same error, in the file `file` (a caller that read the file knows its name).
    pub fn in_file(self, file: impl Into<String>) -> DocError {
        DocError {
            file: Some(file.into()),
            ..self
        }
    }
}

impl fmt::Display for DocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}:")?;
        }
        write!(f, "{}: {}", self.pos, self.message)
    }
}

impl std::error::Error for DocError {}

impl From<tree::SyntaxError> for DocError {
    fn from(e: tree::SyntaxError) -> DocError {
        DocError::new(e.pos, e.message)
    }
}

/// `text` as a tree of positioned values, YAML or JSON by `syntax`.
pub fn read(text: &str, syntax: Syntax) -> Result<Node, DocError> {
    Ok(tree::parse(text, syntax)?)
}

/// An error at `pos`, as a `Result` so a reader can `return err(…)`.
pub fn err<T>(pos: Pos, message: impl Into<String>) -> Result<T, DocError> {
    Err(DocError::new(pos, message))
}

/// The string field `what`.
pub fn string(n: &Node, what: &str) -> Result<String, DocError> {
    match n.as_str() {
        Some(s) => Ok(s.to_owned()),
        None => err(
            n.pos,
            format!(
                "'{what}' must be a string, not {}",
                with_article(n.describe())
            ),
        ),
    }
}

/// The map field `what`, its entries in the order written.
pub fn map<'a>(n: &'a Node, what: &str) -> Result<&'a [(String, Pos, Node)], DocError> {
    match n.as_map() {
        Some(m) => Ok(m),
        None => err(
            n.pos,
            format!("'{what}' must be a map, not {}", with_article(n.describe())),
        ),
    }
}

/// The field `what`, a number of seconds (an integer or a double, not negative) as a
/// duration; `meaning` says what the number is, for the message when it is something else
/// ("a number of seconds", "seconds since the start").
pub fn seconds(n: &Node, what: &str, meaning: &str) -> Result<Duration, DocError> {
    let secs = match n.to_value() {
        Value::Int(i) => i as f64,
        Value::Double(d) => d,
        other => {
            return err(
                n.pos,
                format!("'{what}' is {meaning}, not {}", other.a_type()),
            );
        }
    };
    duration_from_secs(secs).or_else(|e| err(n.pos, format!("'{what}': {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_names_its_file_once_known() {
        let e = DocError::new(Pos { line: 3, col: 7 }, "'at' is seconds");
        assert_eq!(e.to_string(), "3:7: 'at' is seconds");
        assert_eq!(
            e.in_file("s.yaml").to_string(),
            "s.yaml:3:7: 'at' is seconds"
        );
    }

    #[test]
    fn readers_say_what_they_found() {
        let root = read("a: [1]\nb: x\n", Syntax::Yaml).unwrap();
        let m = map(&root, "root").unwrap();
        assert_eq!(string(&m[1].2, "b").unwrap(), "x");
        let e = string(&m[0].2, "a").unwrap_err();
        assert_eq!(e.pos, Pos { line: 1, col: 4 });
        assert!(e.message.starts_with("'a' must be a string, not a"), "{e}");
        assert!(
            map(&m[1].2, "b")
                .unwrap_err()
                .message
                .contains("'b' must be a map")
        );
    }
}
