//! Values as written: `${...}` strings parsed into expressions (each checked as it is read),
//! and assignment targets.

use std::rc::Rc;

use super::Builder;
use super::EXPRESSION_CHARS_MAX;
use crate::defn::tree::{Node, NodeKind};
use crate::defn::{Accessor, Place, Pos, Tmpl};
use crate::expr::{self, Expr};
use crate::value::Value;

impl Builder {
    pub(super) fn target(&mut self, text: &str, pos: Pos) -> Option<Place> {
        let chars = text.chars().count();
        if chars > EXPRESSION_CHARS_MAX {
            self.err(
                pos,
                format!("an assignment target of {chars} characters; the limit is {EXPRESSION_CHARS_MAX}"),
            );
            return None;
        }
        let parsed = match expr::parse(text) {
            Ok(e) => e,
            Err(e) => {
                self.err(
                    pos,
                    format!("invalid assignment target '{text}': {}", e.message),
                );
                return None;
            }
        };
        let mut path = Vec::new();
        let mut e = &parsed;
        loop {
            match e {
                Expr::Var(root) => {
                    path.reverse();
                    self.check_expr(&parsed, pos);
                    return Some(Place {
                        root: root.clone(),
                        path,
                    });
                }
                Expr::Field(base, f) => {
                    path.push(Accessor::Field(f.clone()));
                    e = base;
                }
                Expr::Index(base, i) => {
                    path.push(Accessor::Index((**i).clone()));
                    e = base;
                }
                _ => {
                    self.err(
                        pos,
                        format!("'{text}' is not something a value can be assigned to"),
                    );
                    return None;
                }
            }
        }
    }

    /// A value as written; strings that are wholly `${...}` become expressions.
    pub(super) fn tmpl(&mut self, n: &Node) -> Tmpl {
        match &n.kind {
            NodeKind::Scalar(Value::Str(s)) if s.starts_with("${") && s.ends_with('}') => {
                let inner = &s[2..s.len() - 1];
                let chars = inner.chars().count();
                if chars > EXPRESSION_CHARS_MAX {
                    // Not parsed: the parser recurses once per nesting level, and the limit
                    // is what bounds the nesting.
                    self.err(n.pos, format!("an expression of {chars} characters; the limit is {EXPRESSION_CHARS_MAX}"));
                    return Tmpl::Lit(Value::Null);
                }
                match expr::parse(inner) {
                    Ok(e) => {
                        self.check_expr(&e, n.pos);
                        Tmpl::Expr(Rc::new(e), n.pos)
                    }
                    Err(e) => {
                        self.err(
                            n.pos,
                            format!(
                                "invalid expression '{s}': {} (at offset {})",
                                e.message,
                                e.offset + 2
                            ),
                        );
                        Tmpl::Lit(Value::Null)
                    }
                }
            }
            NodeKind::Scalar(v) => Tmpl::Lit(v.clone()),
            NodeKind::Seq(items) => {
                let parts: Vec<Tmpl> = items.iter().map(|i| self.tmpl(i)).collect();
                // A literal is built from its parts' literals: converting the node again would
                // walk its whole subtree once per level (quadratic in the nesting).
                if parts.iter().all(|p| matches!(p, Tmpl::Lit(_))) {
                    Tmpl::Lit(Value::list(
                        parts.into_iter().filter_map(Tmpl::into_lit).collect(),
                    ))
                } else {
                    Tmpl::List(parts)
                }
            }
            NodeKind::Map(entries) => {
                let parts: Vec<(String, Tmpl)> = entries
                    .iter()
                    .map(|(k, _, v)| (k.clone(), self.tmpl(v)))
                    .collect();
                if parts.iter().all(|(_, p)| matches!(p, Tmpl::Lit(_))) {
                    Tmpl::Lit(Value::map(
                        parts
                            .into_iter()
                            .filter_map(|(k, p)| Some((k, p.into_lit()?))),
                    ))
                } else {
                    Tmpl::Map(parts)
                }
            }
        }
    }
}
