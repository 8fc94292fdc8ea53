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
    vars: RefCell<BTreeMap<String, Value>>,
    /// The parent frame of a parallel branch, and the names shared with it.
    parent: Option<(Rc<Frame>, BTreeSet<String>)>,
}

impl Frame {
    pub fn new(vars: BTreeMap<String, Value>) -> Rc<Frame> {
        Rc::new(Frame {
            vars: RefCell::new(vars),
            parent: None,
        })
    }

    /// A branch's frame: every variable of `parent` copied, `shared` ones linked.
    pub fn branch(parent: &Rc<Frame>, shared: &[String]) -> Rc<Frame> {
        let shared: BTreeSet<String> = shared.iter().cloned().collect();
        let vars = parent
            .visible()
            .into_iter()
            .filter(|(k, _)| !shared.contains(k))
            .collect();
        Rc::new(Frame {
            vars: RefCell::new(vars),
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
            None => self.vars.borrow().get(name).cloned(),
        }
    }

    pub fn set(&self, name: &str, value: Value) {
        match self.shared_parent(name) {
            Some(p) => p.set(name, value),
            // The name is copied only for a new variable: most sets overwrite one.
            None => {
                let mut vars = self.vars.borrow_mut();
                match vars.get_mut(name) {
                    Some(slot) => *slot = value,
                    None => {
                        vars.insert(name.to_owned(), value);
                    }
                }
            }
        }
    }

    /// Every variable this frame can read, shared ones at their current value.
    fn visible(&self) -> BTreeMap<String, Value> {
        let mut all = self.vars.borrow().clone();
        if let Some((p, names)) = &self.parent {
            for n in names {
                if let Some(v) = p.get(n) {
                    all.insert(n.clone(), v);
                }
            }
        }
        all
    }

    /// The names of this frame's own variables.
    pub fn local_names(&self) -> BTreeSet<String> {
        self.vars.borrow().keys().cloned().collect()
    }

    /// Forgets every own variable not in `keep`: the end of a `for` loop's scope.
    pub fn retain(&self, keep: &BTreeSet<String>) {
        self.vars.borrow_mut().retain(|k, _| keep.contains(k));
    }
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
        let keep = parent.local_names();
        parent.set("tmp", Value::Null);
        parent.retain(&keep);
        assert_eq!(parent.get("tmp"), None);
    }
}
