//! Variable scopes.
//!
//! A subworkflow call gets a fresh frame. A parallel branch gets a copy of its parent's
//! variables, except the `shared` ones, which it reads and writes through to the parent.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use crate::value::Value;

#[derive(Debug, Default)]
pub struct Frame {
    /// Own variables in the order they were made. A frame holds few names, so a scan that
    /// compares lengths first costs less than a tree's ordered comparisons (every step reads
    /// and writes variables); and a loop's variables are the last made, so its scope ends by
    /// truncation ([`Frame::scope`]). Nothing reads this order out: [`Frame::visible`] sorts.
    vars: RefCell<Vec<(Box<str>, Value)>>,
    /// The parent frame of a parallel branch, and the names shared with it.
    parent: Option<(Rc<Frame>, BTreeSet<String>)>,
}

impl Frame {
    pub fn new(vars: BTreeMap<String, Value>) -> Rc<Frame> {
        Rc::new(Frame {
            vars: RefCell::new(own(vars)),
            parent: None,
        })
    }

    /// A branch's frame: every variable of `parent` copied, `shared` ones linked.
    pub fn branch(parent: &Rc<Frame>, shared: &[String]) -> Rc<Frame> {
        let shared: BTreeSet<String> = shared.iter().cloned().collect();
        let vars: BTreeMap<String, Value> = parent
            .visible()
            .into_iter()
            .filter(|(k, _)| !shared.contains(k))
            .collect();
        Rc::new(Frame {
            vars: RefCell::new(own(vars)),
            parent: Some((Rc::clone(parent), shared)),
        })
    }

    fn shared_parent(&self, name: &str) -> Option<&Rc<Frame>> {
        match &self.parent {
            Some((p, names)) if names.contains(name) => Some(p),
            _ => None,
        }
    }

    pub fn get(&self, name: &str) -> Option<Value> {
        match self.shared_parent(name) {
            Some(p) => p.get(name),
            None => {
                let vars = self.vars.borrow();
                find(&vars, name).map(|i| vars[i].1.clone())
            }
        }
    }

    pub fn set(&self, name: &str, value: Value) {
        match self.shared_parent(name) {
            Some(p) => p.set(name, value),
            // The name is copied only for a new variable: most sets overwrite one.
            None => {
                let mut vars = self.vars.borrow_mut();
                match find(&vars, name) {
                    Some(i) => vars[i].1 = value,
                    None => vars.push((name.into(), value)),
                }
            }
        }
    }

    /// Where own variable `name` is kept, for [`Frame::set_at`]; `None` for a name this
    /// frame does not own (missing, or shared with the parent).
    pub fn slot(&self, name: &str) -> Option<Slot> {
        if self.shared_parent(name).is_some() {
            return None;
        }
        find(&self.vars.borrow(), name).map(Slot)
    }

    /// Sets the own variable at `slot`, as [`Frame::set`] would set it by name. A slot
    /// stays the variable's while it exists: variables are only appended, and a scope ends
    /// by truncation to a mark made after it ([`Frame::end_scope`]).
    pub fn set_at(&self, slot: Slot, value: Value) {
        self.vars.borrow_mut()[slot.0].1 = value;
    }

    /// Every variable this frame can read, shared ones at their current value.
    pub(super) fn visible(&self) -> BTreeMap<String, Value> {
        let mut all: BTreeMap<String, Value> = self
            .vars
            .borrow()
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        if let Some((p, names)) = &self.parent {
            for n in names {
                if let Some(v) = p.get(n) {
                    all.insert(n.clone(), v);
                }
            }
        }
        all
    }

    /// Where a scope begins: how many own variables exist before it.
    pub fn scope(&self) -> Scope {
        Scope(self.vars.borrow().len())
    }

    /// Forgets every own variable made since `scope` began: the end of a `for` loop's
    /// scope. Variables are only ever appended, and an inner scope ends before its outer
    /// one, so those made since are exactly the ones past the mark.
    pub fn end_scope(&self, scope: Scope) {
        self.vars.borrow_mut().truncate(scope.0);
    }
}

/// Where an own variable is kept ([`Frame::slot`]).
#[derive(Clone, Copy, Debug)]
pub struct Slot(usize);

/// A mark in a frame's variables ([`Frame::scope`]).
#[derive(Clone, Copy, Debug)]
pub struct Scope(usize);

fn own(vars: BTreeMap<String, Value>) -> Vec<(Box<str>, Value)> {
    vars.into_iter().map(|(k, v)| (k.into(), v)).collect()
}

/// Where variable `name` is among `vars`.
fn find(vars: &[(Box<str>, Value)], name: &str) -> Option<usize> {
    let name = name.as_bytes();
    vars.iter().position(|(k, _)| same(k.as_bytes(), name))
}

/// `a == b`, compared here byte by byte: a variable's name is short, often of one or two
/// letters, and several often have one length, where `==` would call `memcmp` for each
/// (a sixth of an `assign` loop's instructions, issue #22).
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branches_copy_and_share() {
        let parent = Frame::new(BTreeMap::new());
        parent.set("a", Value::Int(1));
        parent.set("total", Value::Int(0));
        let branch = Frame::branch(&parent, &["total".to_owned()]);
        branch.set("a", Value::Int(2));
        branch.set("total", Value::Int(5));
        assert_eq!(parent.get("a"), Some(Value::Int(1)), "not shared: a copy");
        assert_eq!(
            parent.get("total"),
            Some(Value::Int(5)),
            "shared: written through"
        );
        parent.set("total", Value::Int(6));
        assert_eq!(branch.get("total"), Some(Value::Int(6)));
        let scope = parent.scope();
        parent.set("tmp", Value::Null);
        parent.set("a", Value::Int(3));
        parent.end_scope(scope);
        assert_eq!(parent.get("tmp"), None);
        assert_eq!(parent.get("a"), Some(Value::Int(3)), "made before: kept");
        let slot = parent.slot("a").expect("own");
        parent.set_at(slot, Value::Int(4));
        assert_eq!(parent.get("a"), Some(Value::Int(4)));
        assert!(parent.slot("tmp").is_none(), "gone with its scope");
        assert!(branch.slot("total").is_none(), "shared: not the branch's");
    }
}
