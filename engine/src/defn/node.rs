//! A definition's tree: each value with the position it was written at. Its own module so
//! that both readers of text, saphyr's ([`super::tree`]) and the fast path
//! ([`super::block_yaml`]), build it without importing each other.

use crate::pos::Pos;
use crate::value::Value;

/// A node of the definition, where it starts, and what it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub kind: NodeKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    Scalar(Value),
    Seq(Vec<Node>),
    /// Keys in the order written, each with its own position.
    Map(Vec<(String, Pos, Node)>),
}

impl Node {
    pub fn as_map(&self) -> Option<&[(String, Pos, Node)]> {
        match &self.kind {
            NodeKind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// What kind of node this is, for error messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar(v) => v.type_name(),
            NodeKind::Seq(_) => "list",
            NodeKind::Map(_) => "map",
        }
    }

    /// The plain value, with every expression string left as a string.
    pub fn to_value(&self) -> Value {
        match &self.kind {
            NodeKind::Scalar(v) => v.clone(),
            NodeKind::Seq(items) => Value::list(items.iter().map(Node::to_value).collect()),
            NodeKind::Map(entries) => {
                Value::map(entries.iter().map(|(k, _, v)| (k.clone(), v.to_value())))
            }
        }
    }
}

/// Whether two of a map's keys are the same key as saphyr's loader compares them.
pub(super) fn has_duplicate(entries: &[(String, Pos, Node)], kinds: &[u8]) -> bool {
    let mut keys: Vec<(u8, &str)> = kinds
        .iter()
        .zip(entries)
        .map(|(&kind, (k, _, _))| (kind, k.as_str()))
        .collect();
    keys.sort_unstable();
    keys.windows(2).any(|w| w[0] == w[1])
}
