//! Deploy-time checks (SPEC §6), apart from reading the text into steps: names that
//! calls and expressions use exist (checked as the builder reads them), and, over each built
//! routine, jumps that land, loop exits inside a loop, subworkflow calls that fit their
//! parameters, parallel branches writing only shared parent variables; and the "did you
//! mean" that misspelt keys and names get. Each walks nested steps through
//! [`Action::parts`].

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::Builder;
use super::hint::did_you_mean;
use crate::defn::{Action, Block, Next, Parallel, Part, Pos, Step, Subworkflow, Tmpl};
use crate::expr::Expr;
use crate::stdlib::table;

impl Builder {
    /// "did you mean" over the library's functions and this workflow's subworkflows.
    fn name_hint(&self, name: &str) -> String {
        let library = table::FUNCTIONS.iter().map(|f| f.name);
        did_you_mean(
            name,
            library.chain(self.subworkflows.iter().map(String::as_str)),
        )
    }

    /// A call step's function exists: a subworkflow, a connector, or a library function
    /// given only arguments it takes.
    pub(super) fn check_callee(&mut self, func: &str, args: &[(String, Tmpl)], pos: Pos) {
        if self.subworkflows.contains(func) {
            // Its parameters are checked once every subworkflow is built: see `check_calls`.
        } else if table::is_connector(func) {
            // HT-6: a connector takes whatever arguments its API method takes.
        } else if let Some(f) = table::lookup(func) {
            let names: Vec<&str> = f.param_list().map(|(p, _)| p).collect();
            for (k, _) in args {
                if !names.contains(&k.as_str()) {
                    let hint = did_you_mean(k, names.iter().copied());
                    self.err(
                        pos,
                        format!(
                            "{func} has no argument '{k}' (it takes: {}){hint}",
                            names.join(", ")
                        ),
                    );
                }
            }
        } else {
            let hint = self.name_hint(func);
            self.err(
                pos,
                format!(
                    "symbol '{func}' not found: not a subworkflow or a standard-library function{hint}"
                ),
            );
        }
    }

    /// Every function an expression calls exists, and none of them blocks.
    pub(super) fn check_expr(&mut self, e: &Expr, pos: Pos) {
        let mut calls = Vec::new();
        e.calls(&mut calls);
        for name in calls {
            match table::lookup(&name) {
                Some(f) if f.blocking() => self.err(
                    pos,
                    format!("{name} blocks, so it cannot be called inside an expression; use a call step"),
                ),
                Some(_) => {}
                None if self.subworkflows.contains(&name) => self.err(
                    pos,
                    format!("subworkflow '{name}' cannot be called inside an expression; use a call step"),
                ),
                None => {
                    let hint = self.name_hint(&name);
                    self.err(pos, format!("symbol '{name}' not found{hint}"));
                }
            }
        }
    }

    /// Every call of a subworkflow names only its parameters and gives every one that has
    /// no default.
    pub(super) fn check_calls(&mut self, block: &Block, subs: &BTreeMap<String, Rc<Subworkflow>>) {
        for step in block.iter() {
            if let Action::Call(call) = &step.action {
                if let Some(sub) = subs.get(&call.func) {
                    for (arg, _) in &call.args {
                        if !sub.params.iter().any(|p| &p.name == arg) {
                            let names: Vec<&str> =
                                sub.params.iter().map(|p| p.name.as_str()).collect();
                            let hint = did_you_mean(arg, names.iter().copied());
                            self.err(
                                call.pos,
                                format!(
                                    "subworkflow '{}' has no parameter '{arg}' (it takes: {}){hint}",
                                    sub.name,
                                    names.join(", ")
                                ),
                            );
                        }
                    }
                    for p in sub.params.iter().filter(|p| p.default.is_none()) {
                        if !call.args.iter().any(|(a, _)| a == &p.name) {
                            self.err(
                                call.pos,
                                format!("subworkflow '{}' needs argument '{}'", sub.name, p.name),
                            );
                        }
                    }
                }
            }
            for inner in step.action.blocks() {
                self.check_calls(inner, subs);
            }
        }
    }

    /// Every `next: name` targets a step of its own block or of an enclosing one.
    pub(super) fn check_jumps<'a>(&mut self, block: &'a Block, scopes: &mut Vec<&'a Block>) {
        scopes.push(block);
        for step in block.iter() {
            for n in step.nexts() {
                if let Next::Step(target, pos) = n {
                    let found = scopes.iter().any(|b| b.iter().any(|s| &s.name == target));
                    if !found {
                        let visible = scopes
                            .iter()
                            .flat_map(|b| b.iter().map(|s| s.name.as_str()));
                        let hint = did_you_mean(target, visible);
                        self.err(
                            *pos,
                            format!(
                                "'next: {target}' names no step of this block or an enclosing one{hint}"
                            ),
                        );
                    }
                }
            }
            for inner in step.action.blocks() {
                self.check_jumps(inner, scopes);
            }
        }
        scopes.pop();
    }

    /// `next: break` and `next: continue` only inside a `for` loop of the same routine and
    /// the same parallel branch: a parallel step's branches and iterations cannot leave it
    /// by a loop exit.
    pub(super) fn check_loop_exits(&mut self, block: &Block, in_loop: bool) {
        for step in block.iter() {
            for n in step.nexts() {
                let (word, pos) = match n {
                    Next::Break(pos) => ("break", *pos),
                    Next::Continue(pos) => ("continue", *pos),
                    _ => continue,
                };
                if !in_loop {
                    self.err(
                        pos,
                        format!(
                            "'next: {word}' is outside a for loop (a parallel branch or iteration cannot {word} a loop around it)"
                        ),
                    );
                }
            }
            for part in step.action.parts() {
                // Only a loop or parallel step of this step's own action changes `in_loop`:
                // a switch case's or a try body's blocks are taken as they are nested.
                let (blocks, in_loop) = match part {
                    Part::Loop(f) => (vec![&f.steps], true),
                    Part::Parallel(p) => (p.threads().into_iter().map(|(b, _)| b).collect(), false),
                    Part::Case(c) => (c.action.blocks(), in_loop),
                    Part::Body(t) => (t.body.blocks(), in_loop),
                    Part::Steps(b) => (vec![b], in_loop),
                    Part::Except(e) => (vec![&e.steps], in_loop),
                };
                for inner in blocks {
                    self.check_loop_exits(inner, in_loop);
                }
            }
        }
    }

    /// A parallel branch (or iteration) may assign a variable defined before its parallel
    /// step only if the step lists it in `shared`; GCP refuses the definition otherwise
    /// ("deployment error, defined in the parent scope but not marked shared"). Defined
    /// before: a parameter of the routine, or a variable assigned (by `assign`, a call's
    /// `result`, an `except`'s `as`, a loop's `value` and `index`) by a step written earlier
    /// in the routine, in a scope that encloses the parallel step.
    pub(super) fn check_shared(&mut self, sub: &Subworkflow) {
        let mut defined: BTreeSet<String> = sub.params.iter().map(|p| p.name.clone()).collect();
        self.shared_in_block(&sub.steps, &mut defined);
    }

    fn shared_in_block(&mut self, block: &Block, defined: &mut BTreeSet<String>) {
        for step in block.iter() {
            self.shared_in_action(step, &step.action, defined);
        }
    }

    fn shared_in_action(&mut self, step: &Step, action: &Action, defined: &mut BTreeSet<String>) {
        defined.extend(action.assigns().into_iter().cloned());
        for part in action.parts() {
            match part {
                Part::Case(c) => self.shared_in_action(step, &c.action, defined),
                Part::Body(t) => self.shared_in_action(step, &t.body, defined),
                Part::Steps(b) => self.shared_in_block(b, defined),
                Part::Except(e) => {
                    defined.extend(e.var.iter().cloned());
                    self.shared_in_block(&e.steps, defined);
                }
                Part::Loop(f) => {
                    // What a loop defines ends with it.
                    let mut inner = defined.clone();
                    inner.insert(f.value.clone());
                    inner.extend(f.index.iter().cloned());
                    self.shared_in_block(&f.steps, &mut inner);
                }
                Part::Parallel(p) => self.check_parallel(step, p, defined),
            }
        }
    }

    fn check_parallel(&mut self, step: &Step, p: &Parallel, defined: &BTreeSet<String>) {
        for (block, lp) in p.threads() {
            let locals: Vec<&String> =
                lp.map_or_else(Vec::new, |f| f.index.iter().chain([&f.value]).collect());
            let mut writes = Vec::new();
            assignments(block, &mut writes);
            let mut reported = BTreeSet::new();
            for (name, at, pos) in writes {
                if defined.contains(name)
                    && !p.shared.iter().any(|s| s == name)
                    && !locals.contains(&name)
                    && reported.insert(name)
                {
                    self.err(
                        pos,
                        format!(
                            "step '{at}' assigns '{name}', a variable defined before parallel step '{}' that its 'shared' does not list; add it to 'shared' to write it from a branch",
                            step.name
                        ),
                    );
                }
            }
            // Nested parallel steps see the branch's scope: the parent's, and its own.
            let mut inner = defined.clone();
            inner.extend(locals.into_iter().cloned());
            self.shared_in_block(block, &mut inner);
        }
    }
}

/// Every variable `block` assigns with `assign` or a call's `result`, nested blocks
/// included, with the step that assigns it (a `for`'s loop variables and an `except`'s `as`
/// are bindings of their own, not assignments).
fn assignments<'a>(block: &'a Block, out: &mut Vec<(&'a String, &'a str, Pos)>) {
    for step in block.iter() {
        action_assignments(step, &step.action, out);
    }
}

fn action_assignments<'a>(
    step: &'a Step,
    action: &'a Action,
    out: &mut Vec<(&'a String, &'a str, Pos)>,
) {
    let here = |name: &'a String| (name, step.name.as_str(), step.pos);
    out.extend(action.assigns().into_iter().map(here));
    for part in action.parts() {
        match part {
            Part::Case(c) => action_assignments(step, &c.action, out),
            Part::Body(t) => action_assignments(step, &t.body, out),
            Part::Steps(b) => assignments(b, out),
            // An `except`'s `as` binds the caught error for its steps; a branch may
            // catch into a name its parent also used.
            Part::Except(e) => assignments(&e.steps, out),
            Part::Loop(f) => assignments(&f.steps, out),
            Part::Parallel(p) => {
                for (b, _) in p.threads() {
                    assignments(b, out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::defn::load;

    fn errors(text: &str) -> Vec<String> {
        match load("w.yaml", text) {
            Ok(_) => Vec::new(),
            Err(es) => es.iter().map(ToString::to_string).collect(),
        }
    }

    /// Google's shared-variables sample, with `extra` added to the first branch's steps.
    fn sample(shared: &str, extra: &str) -> String {
        format!(
            "main:
  params: [args]
  steps:
    - assignStep:
        assign:
          - input: [\"apples\", \"oranges\"]
          - my_result: {{}}
    - parallelStep:
        parallel:
          shared: {shared}
          branches:
            - getStock:
                steps:
                  - assignResult1:
                      assign:
                        - my_result[\"getStock\"]: 1
                        - temp: 1
                        - temp2: foo
{extra}            - orderStock:
                steps:
                  - assignResult2:
                      assign:
                        - my_result[\"orderStock\"]: 2
                        - temp: 2
    - later:
        assign:
          - after: 1
"
        )
    }

    #[test]
    fn a_branch_may_write_only_shared_parent_variables() {
        assert_eq!(errors(&sample("[my_result]", "")), Vec::<String>::new());
        let write_input = "                  - bad:\n                      assign:\n                        - input: 5\n";
        assert_eq!(
            errors(&sample("[my_result]", write_input)),
            [
                "w.yaml:19:21: step 'bad' assigns 'input', a variable defined before parallel step 'parallelStep' that its 'shared' does not list; add it to 'shared' to write it from a branch"
            ]
        );
        assert_eq!(
            errors(&sample("[my_result, input]", write_input)),
            Vec::<String>::new()
        );
        // Unshared my_result: both branches write it, each is told.
        let errs = errors(&sample("[]", ""));
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].starts_with("w.yaml:14:21: step 'assignResult1' assigns 'my_result'"));
        // main's parameter is defined before; a call's result writes; so does a step nested
        // in a loop inside the branch.
        let nested = "                  - loop:\n                      for:\n                        value: v\n                        in: [1]\n                        steps:\n                          - deep:\n                              call: sys.now\n                              result: args\n";
        let errs = errors(&sample("[my_result]", nested));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("step 'deep' assigns 'args'"), "{errs:?}");
        // A variable first assigned after the parallel step is the branch's own.
        let later = "                  - own:\n                      assign:\n                        - after: 0\n";
        assert_eq!(errors(&sample("[my_result]", later)), Vec::<String>::new());
    }

    #[test]
    fn a_parallel_for_may_write_its_own_loop_variable_and_nothing_unshared() {
        let text = "- init:\n    assign:\n      - total: 0\n      - i: 0\n- fan:\n    parallel:\n      for:\n        value: i\n        in: [1, 2]\n        steps:\n          - a:\n              assign:\n                - i: ${i + 1}\n          - b:\n              assign:\n                - total: ${total + i}\n";
        let errs = errors(text);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with("w.yaml:14:13: step 'b' assigns 'total'"),
            "{errs:?}"
        );
    }

    #[test]
    fn loop_exits_outside_a_loop_are_refused_where_written() {
        assert_eq!(
            errors("- a:\n    next: break\n"),
            [
                "w.yaml:2:11: 'next: break' is outside a for loop (a parallel branch or iteration cannot break a loop around it)"
            ]
        );
        let in_switch = "- a:\n    switch:\n      - condition: true\n        next: continue\n";
        assert!(errors(in_switch)[0].starts_with("w.yaml:4:15: 'next: continue' is outside"));
        let in_loop = "- l:\n    for:\n      value: v\n      in: [1, 2]\n      steps:\n        - s:\n            switch:\n              - condition: ${v == 1}\n                next: continue\n        - t:\n            steps:\n              - u:\n                  next: break\n";
        assert_eq!(errors(in_loop), Vec::<String>::new());
        let in_parallel_for = "- p:\n    parallel:\n      for:\n        value: v\n        in: [1]\n        steps:\n          - s:\n              next: break\n";
        assert!(errors(in_parallel_for)[0].starts_with("w.yaml:8:21: 'next: break'"));
        let branch_in_loop = "- l:\n    for:\n      value: v\n      in: [1]\n      steps:\n        - p:\n            parallel:\n              branches:\n                - b:\n                    steps:\n                      - s:\n                          next: continue\n";
        assert_eq!(errors(branch_in_loop).len(), 1);
        let in_subworkflow = "main:\n  steps:\n    - l:\n        for:\n          value: v\n          in: [1]\n          steps:\n            - c:\n                call: sub\nsub:\n  steps:\n    - s:\n        next: break\n";
        assert!(errors(in_subworkflow)[0].starts_with("w.yaml:13:15: 'next: break'"));
    }

    #[test]
    fn misspelt_keys_and_names_get_a_suggestion() {
        assert_eq!(
            errors("- a:\n    asign:\n      - x: 1\n"),
            ["w.yaml:2:5: unexpected key 'asign' in step 'a'; did you mean 'assign'?"]
        );
        assert!(
            errors("- a:\n    call: sys.now\n    reslt: x\n")[0]
                .ends_with("did you mean 'result'?")
        );
        assert_eq!(
            errors("- a:\n    call: text.to_uper\n    args: {source: x}\n"),
            [
                "w.yaml:2:11: symbol 'text.to_uper' not found: not a subworkflow or a standard-library function; did you mean 'text.to_upper'?"
            ]
        );
        assert_eq!(
            errors("- a:\n    return: ${text.to_uper(\"x\")}\n"),
            ["w.yaml:2:13: symbol 'text.to_uper' not found; did you mean 'text.to_upper'?"]
        );
        let sub = "main:\n  steps:\n    - a:\n        call: notifyy\nnotify:\n  stpes:\n    - s:\n        return: 1\n";
        let errs = errors(sub);
        assert!(
            errs.iter().any(|e| e.ends_with("did you mean 'notify'?")),
            "{errs:?}"
        );
        assert!(
            errs.iter().any(|e| e.ends_with("did you mean 'steps'?")),
            "{errs:?}"
        );
        assert!(errors("- a:\n    bogus: 1\n")[0].ends_with("in step 'a'"));
        assert_eq!(
            errors("- first:\n    next: secnod\n- second:\n    return: 1\n"),
            [
                "w.yaml:2:11: 'next: secnod' names no step of this block or an enclosing one; did you mean 'second'?"
            ]
        );
        assert_eq!(
            errors("- a:\n    call: text.to_upper\n    args: {sorce: x}\n"),
            [
                "w.yaml:2:11: text.to_upper has no argument 'sorce' (it takes: source); did you mean 'source'?"
            ]
        );
        let sub = "main:\n  steps:\n    - a:\n        call: greet\n        args: {nmae: x, name: y}\ngreet:\n  params: [name]\n  steps:\n    - r:\n        return: 1\n";
        assert_eq!(
            errors(sub),
            [
                "w.yaml:4:9: subworkflow 'greet' has no parameter 'nmae' (it takes: name); did you mean 'name'?"
            ]
        );
    }
}
