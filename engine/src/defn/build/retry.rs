//! Reading a `try` step's `retry` (RT-1): a policy expression, or a map of predicate,
//! retry count and back-off.

use super::Builder;
use super::hint::did_you_mean;
use crate::defn::tree::{Node, NodeKind};
use crate::defn::{Backoff, Predicate, Retry, Tmpl};
use crate::stdlib::{DEFAULT_BACKOFF, table};
use crate::value::Value;

/// The built-in retry predicates (RT-1).
pub const PREDICATES: &[&str] = &[
    "http.default_retry_predicate",
    "http.default_retry_predicate_non_idempotent",
    "retry.always",
    "retry.never",
];

impl Builder {
    pub(super) fn retry(&mut self, n: &Node) -> Option<Retry> {
        if let NodeKind::Scalar(Value::Str(_)) = n.kind {
            let t = self.tmpl(n);
            if let Tmpl::Expr(e, pos) = &t {
                match e.dotted_name() {
                    Some(name) if table::POLICIES.contains(&name.as_str()) => {}
                    _ => self.err(
                        *pos,
                        "'retry' is a map, or a policy such as ${http.default_retry}",
                    ),
                }
            }
            return Some(Retry::Expr(t));
        }
        let Some(entries) = n.as_map() else {
            self.err(
                n.pos,
                "'retry' is a map with predicate, max_retries and backoff",
            );
            return None;
        };
        let get = |k: &str| entries.iter().find(|(key, _, _)| key == k).map(|e| &e.2);
        for (k, p, _) in entries {
            const KEYS: [&str; 3] = ["predicate", "max_retries", "backoff"];
            if !KEYS.contains(&k.as_str()) {
                let hint = did_you_mean(k, KEYS);
                self.err(*p, format!("unknown key '{k}' in 'retry'{hint}"));
            }
        }
        let predicate = match get("predicate") {
            Some(p) => self.predicate(p)?,
            None => Predicate::Builtin("http.default_retry_predicate".into()),
        };
        let max_retries = match get("max_retries") {
            Some(m) => self.tmpl(m),
            None => {
                self.err(n.pos, "'retry' needs 'max_retries'");
                return None;
            }
        };
        let backoff = match get("backoff") {
            None => None,
            Some(b) => match b.as_map() {
                Some(be) => {
                    let bget = |k: &str| be.iter().find(|(key, _, _)| key == k).map(|e| &e.2);
                    let mut part = |k: &str| match bget(k) {
                        Some(v) => Some(self.tmpl(v)),
                        None => {
                            self.err(b.pos, format!("'backoff' needs '{k}'"));
                            None
                        }
                    };
                    Some(Backoff {
                        initial_delay: part("initial_delay")?,
                        max_delay: part("max_delay")?,
                        multiplier: part("multiplier")?,
                    })
                }
                None => {
                    let t = self.tmpl(b);
                    match &t {
                        Tmpl::Expr(e, _)
                            if e.dotted_name().as_deref() == Some("retry.default_backoff") =>
                        {
                            let d = DEFAULT_BACKOFF;
                            Some(Backoff {
                                initial_delay: Tmpl::Lit(Value::Int(d.initial_delay)),
                                max_delay: Tmpl::Lit(Value::Int(d.max_delay)),
                                multiplier: Tmpl::Lit(Value::Double(d.multiplier)),
                            })
                        }
                        _ => {
                            self.err(b.pos, "'backoff' is a map, or ${retry.default_backoff}");
                            None
                        }
                    }
                }
            },
        };
        Some(Retry::Policy {
            predicate,
            max_retries,
            backoff,
        })
    }

    fn predicate(&mut self, n: &Node) -> Option<Predicate> {
        if let Tmpl::Expr(e, pos) = self.tmpl(n) {
            if let Some(name) = e.dotted_name() {
                if self.subworkflows.contains(&name) {
                    return Some(Predicate::Subworkflow(name));
                }
                if PREDICATES.contains(&name.as_str()) {
                    return Some(Predicate::Builtin(name));
                }
                let hint = did_you_mean(
                    &name,
                    self.subworkflows
                        .iter()
                        .map(String::as_str)
                        .chain(PREDICATES.iter().copied()),
                );
                self.err(
                    pos,
                    format!(
                        "symbol '{name}' not found: a predicate is a subworkflow or one of {}{hint}",
                        PREDICATES.join(", ")
                    ),
                );
                return None;
            }
        }
        self.err(
            n.pos,
            "'predicate' is ${subworkflow_name} or a built-in predicate",
        );
        None
    }
}
