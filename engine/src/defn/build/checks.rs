//! Deploy-time checks over built steps (SPEC §6): loop exits outside a loop, parallel
//! branches writing a parent variable they do not share; and the "did you mean" that
//! misspelt keys and names get.

use std::collections::BTreeSet;

use super::Builder;
use crate::defn::{Action, Block, Next, Parallel, Pos, Step, Subworkflow, Work};

impl Builder {
    /// `next: break` and `next: continue` only inside a `for` loop of the same routine and
    /// the same parallel branch: a parallel step's branches and iterations cannot leave it
    /// by a loop exit.
    pub(super) fn check_loop_exits(&mut self, block: &Block, in_loop: bool) {
        for step in block.iter() {
            let mut nexts: Vec<&Next> = step.next.iter().collect();
            if let Action::Switch(cases) = &step.action {
                nexts.extend(cases.iter().filter_map(|c| c.next.as_ref()));
            }
            for n in nexts {
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
            match &step.action {
                Action::For(f) => self.check_loop_exits(&f.steps, true),
                Action::Parallel(p) => match &p.work {
                    Work::Branches(bs) => {
                        for (_, _, b) in bs {
                            self.check_loop_exits(b, false);
                        }
                    }
                    Work::For(f) => self.check_loop_exits(&f.steps, false),
                },
                other => {
                    for inner in super::blocks_of(other) {
                        self.check_loop_exits(inner, in_loop);
                    }
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
        match action {
            Action::Assign(items) => {
                defined.extend(items.iter().map(|(t, _)| t.root.clone()));
            }
            Action::Call(c) => defined.extend(c.result.iter().cloned()),
            Action::Switch(cases) => {
                for c in cases {
                    self.shared_in_action(step, &c.action, defined);
                }
            }
            Action::Steps(b) => self.shared_in_block(b, defined),
            Action::Try(t) => {
                self.shared_in_action(step, &t.body, defined);
                if let Some(e) = &t.except {
                    defined.extend(e.var.iter().cloned());
                    self.shared_in_block(&e.steps, defined);
                }
            }
            Action::For(f) => {
                // What a loop defines ends with it.
                let mut inner = defined.clone();
                inner.insert(f.value.clone());
                inner.extend(f.index.iter().cloned());
                self.shared_in_block(&f.steps, &mut inner);
            }
            Action::Parallel(p) => self.check_parallel(step, p, defined),
            Action::Nothing | Action::Return(_) | Action::Raise(_) => {}
        }
    }

    fn check_parallel(&mut self, step: &Step, p: &Parallel, defined: &BTreeSet<String>) {
        let branches: Vec<(&Block, Vec<&String>)> = match &p.work {
            Work::Branches(bs) => bs.iter().map(|(_, _, b)| (b, Vec::new())).collect(),
            Work::For(f) => vec![(&f.steps, f.index.iter().chain([&f.value]).collect())],
        };
        for (block, locals) in branches {
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
    match action {
        Action::Assign(items) => out.extend(items.iter().map(|(t, _)| here(&t.root))),
        Action::Call(c) => out.extend(c.result.iter().map(here)),
        Action::Switch(cases) => {
            for c in cases {
                action_assignments(step, &c.action, out);
            }
        }
        Action::Try(t) => {
            action_assignments(step, &t.body, out);
            // An `except`'s `as` binds the caught error for its steps; a branch may
            // catch into a name its parent also used.
            if let Some(e) = &t.except {
                assignments(&e.steps, out);
            }
        }
        Action::Steps(b) => assignments(b, out),
        Action::For(f) => assignments(&f.steps, out),
        Action::Parallel(p) => match &p.work {
            Work::Branches(bs) => {
                for (_, _, b) in bs {
                    assignments(b, out);
                }
            }
            Work::For(f) => assignments(&f.steps, out),
        },
        Action::Nothing | Action::Return(_) | Action::Raise(_) => {}
    }
}

/// `; did you mean 'x'?` when one of `known` is a likely misspelling of `name`: the
/// nearest by edit distance (a transposition counts one), within 2 edits and less than
/// half the name; ties go to the first in `known`. Empty otherwise.
pub(super) fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let len = name.chars().count();
    let mut best: Option<(usize, &str)> = None;
    for k in known {
        if k == name {
            continue;
        }
        let d = distance(name, k);
        if d <= 2 && 2 * d < len && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, k));
        }
    }
    best.map_or_else(String::new, |(_, k)| format!("; did you mean '{k}'?"))
}

/// The optimal-string-alignment distance: insertions, deletions, substitutions and
/// transpositions of neighbours, each one edit.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn edit_distances() {
        assert_eq!(distance("asign", "assign"), 1);
        assert_eq!(distance("text.to_uper", "text.to_upper"), 1);
        assert_eq!(distance("nxet", "next"), 1, "a transposition is one edit");
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggestions_are_near_and_not_for_short_names() {
        let keys = ["assign", "call", "next", "steps", "switch"];
        assert_eq!(did_you_mean("asign", keys), "; did you mean 'assign'?");
        assert_eq!(did_you_mean("swich", keys), "; did you mean 'switch'?");
        assert_eq!(did_you_mean("bogus", keys), "");
        assert_eq!(
            did_you_mean("x", keys),
            "",
            "one letter is no word to correct"
        );
        assert_eq!(
            did_you_mean("assign", keys),
            "",
            "an exact name is not a misspelling"
        );
    }
}
