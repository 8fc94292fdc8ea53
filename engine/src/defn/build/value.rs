//! Values as written: `${...}` strings parsed into expressions (each checked as it is read),
//! and assignment targets.

use std::rc::Rc;

use super::Builder;
use super::EXPRESSION_CHARS_MAX;
use crate::defn::tree::{Node, NodeKind};
use crate::defn::{Accessor, MapKey, Place, Pos, Tmpl};
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

    /// `s`, wholly `${...}`, parsed and checked; `None` (the error reported) if it is not
    /// an expression.
    fn expression(&mut self, s: &str, pos: Pos) -> Option<Rc<Expr>> {
        let inner = &s[2..s.len() - 1];
        let chars = inner.chars().count();
        if chars > EXPRESSION_CHARS_MAX {
            // Not parsed: the parser recurses once per nesting level, and the limit
            // is what bounds the nesting.
            self.err(
                pos,
                format!("an expression of {chars} characters; the limit is {EXPRESSION_CHARS_MAX}"),
            );
            return None;
        }
        match expr::parse(inner) {
            Ok(e) => {
                self.check_expr(&e, pos);
                Some(Rc::new(e))
            }
            Err(e) => {
                self.err(
                    pos,
                    format!(
                        "invalid expression '{s}': {} (at offset {})",
                        e.message,
                        e.offset + 2
                    ),
                );
                None
            }
        }
    }

    /// A value as written; strings that are wholly `${...}` become expressions, and so do
    /// map keys that are (EX-9).
    pub(super) fn tmpl(&mut self, n: &Node) -> Tmpl {
        match &n.kind {
            NodeKind::Scalar(Value::Str(s)) if is_expression(s) => {
                match self.expression(s, n.pos) {
                    Some(e) => Tmpl::Expr(e, n.pos),
                    None => Tmpl::Lit(Value::Null),
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
                let parts: Vec<(MapKey, Tmpl)> = entries
                    .iter()
                    .map(|(k, kpos, v)| {
                        let key = match is_expression(k) {
                            true => match self.expression(k, *kpos) {
                                Some(e) => MapKey::Expr(e, *kpos),
                                None => MapKey::Lit(k.clone()),
                            },
                            false => MapKey::Lit(k.clone()),
                        };
                        (key, self.tmpl(v))
                    })
                    .collect();
                let literal = |(k, p): &(MapKey, Tmpl)| {
                    matches!(k, MapKey::Lit(_)) && matches!(p, Tmpl::Lit(_))
                };
                if parts.iter().all(literal) {
                    Tmpl::Lit(Value::map(parts.into_iter().filter_map(|(k, p)| match k {
                        MapKey::Lit(k) => Some((k, p.into_lit()?)),
                        MapKey::Expr(..) => None,
                    })))
                } else {
                    Tmpl::Map(parts)
                }
            }
        }
    }
}

/// Whether `s` is wholly one `${...}`.
fn is_expression(s: &str) -> bool {
    s.starts_with("${") && s.ends_with('}')
}
