//! From positioned values to a [`Workflow`]; the deploy-time checks of SPEC §6 are in
//! `checks`, run as the builder reads and once each routine is built.
//!
//! Errors are collected, not stopped at: a person fixing a definition sees every problem
//! the checks can find, each at its `file:line:column`.
//!
//! One piece (about 650 lines and its tests) because every step kind is read here: the kinds
//! and their keys in `action`, and a reader each, so a new kind is one place in this file.
//! Values and assignment targets (`value`), retry policies (`retry`), the checks and the
//! "did you mean" (`hint`) are modules of their own.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::tree::{Node, NodeKind, Pos};
use super::*;

mod checks;
mod hint;
mod retry;
mod value;
use hint::did_you_mean;
pub use retry::PREDICATES;

pub use crate::limits::{ASSIGNMENTS_MAX, BRANCHES_MAX, CONDITIONS_MAX, EXPRESSION_CHARS_MAX};

/// The step kinds, each a key of a step's body.
const KINDS: [&str; 9] = [
    "assign", "call", "switch", "return", "raise", "try", "for", "parallel", "steps",
];
/// The keys that go with an action, for "did you mean".
const STEP_KEYS: [&str; 6] = ["next", "args", "result", "retry", "except", "condition"];

struct Builder {
    file: Rc<str>,
    errors: Vec<DefnError>,
    /// Subworkflow names, known before any step is built.
    subworkflows: BTreeSet<String>,
    /// Coverage points handed out so far.
    points: u32,
}

pub fn build(file: Rc<str>, root: &Node) -> Result<Workflow, Vec<DefnError>> {
    let mut b = Builder {
        file: file.clone(),
        errors: Vec::new(),
        subworkflows: BTreeSet::new(),
        points: 0,
    };
    let mut subs: Vec<(String, Pos, &Node)> = Vec::new();
    match &root.kind {
        NodeKind::Seq(_) => subs.push(("main".into(), root.pos, root)),
        NodeKind::Map(entries) => {
            for (name, pos, body) in entries {
                subs.push((name.clone(), *pos, body));
            }
            if !entries.iter().any(|(k, _, _)| k == "main") {
                b.err(root.pos, "a workflow map needs a 'main' subworkflow");
            }
        }
        NodeKind::Scalar(_) => b.err(
            root.pos,
            "a workflow is a list of steps or a map with 'main'",
        ),
    }
    b.subworkflows = subs.iter().map(|(n, _, _)| n.clone()).collect();
    let mut main = None;
    let mut subworkflows = BTreeMap::new();
    for (name, pos, body) in subs {
        // A bare list of steps is `main` with no parameters.
        let is_bare_list = matches!(root.kind, NodeKind::Seq(_));
        let sub = if is_bare_list {
            Some(Subworkflow {
                name: name.clone(),
                pos,
                params: Vec::new(),
                steps: b.block(body),
            })
        } else {
            b.subworkflow(&name, pos, body)
        };
        let Some(sub) = sub else { continue };
        b.check_jumps(&sub.steps, &mut Vec::new());
        b.check_loop_exits(&sub.steps, false);
        b.check_shared(&sub);
        if name == "main" {
            if sub.params.len() > 1 {
                b.err(
                    pos,
                    "'main' takes at most one parameter (the execution argument)",
                );
            }
            main = Some(Rc::new(sub));
        } else {
            subworkflows.insert(name, Rc::new(sub));
        }
    }
    if let Some(m) = &main {
        b.check_calls(&m.steps, &subworkflows);
    }
    for sub in subworkflows.values() {
        b.check_calls(&sub.steps, &subworkflows);
    }
    match main {
        Some(main) if b.errors.is_empty() => Ok(Workflow {
            file,
            main,
            subworkflows,
            points: b.points,
        }),
        _ => {
            b.errors.sort_by_key(|e| e.pos);
            Err(b.errors)
        }
    }
}

impl Builder {
    /// A new coverage point.
    fn point(&mut self) -> u32 {
        self.points += 1;
        self.points - 1
    }

    fn err(&mut self, pos: Pos, message: impl Into<String>) {
        self.errors.push(DefnError {
            file: self.file.clone(),
            pos,
            message: message.into(),
        });
    }

    fn subworkflow(&mut self, name: &str, pos: Pos, body: &Node) -> Option<Subworkflow> {
        let Some(entries) = body.as_map() else {
            self.err(
                body.pos,
                format!("subworkflow '{name}' must be a map with 'steps'"),
            );
            return None;
        };
        let mut params = Vec::new();
        let mut steps = None;
        for (key, kpos, value) in entries {
            match key.as_str() {
                "params" => params = self.params(value),
                "steps" => steps = Some(self.block(value)),
                other => {
                    let hint = did_you_mean(other, ["params", "steps"]);
                    self.err(
                        *kpos,
                        format!("unknown key '{other}' in subworkflow '{name}'{hint}"),
                    );
                }
            }
        }
        let Some(steps) = steps else {
            self.err(pos, format!("subworkflow '{name}' has no 'steps'"));
            return None;
        };
        Some(Subworkflow {
            name: name.to_owned(),
            pos,
            params,
            steps,
        })
    }

    fn params(&mut self, node: &Node) -> Vec<Param> {
        let Some(items) = node.as_seq() else {
            self.err(node.pos, "'params' must be a list");
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            match &item.kind {
                NodeKind::Scalar(Value::Str(name)) => out.push(Param {
                    name: name.to_string(),
                    default: None,
                }),
                NodeKind::Map(entries) if entries.len() == 1 => out.push(Param {
                    name: entries[0].0.clone(),
                    default: Some(entries[0].2.to_value()),
                }),
                _ => self.err(
                    item.pos,
                    "a parameter is a name or a single `name: default`",
                ),
            }
        }
        out
    }

    fn block(&mut self, node: &Node) -> Block {
        let Some(items) = node.as_seq() else {
            self.err(
                node.pos,
                format!(
                    "'steps' must be a list, not {}",
                    crate::value::with_article(node.describe())
                ),
            );
            return Rc::new(Vec::new());
        };
        let mut steps = Vec::new();
        let mut names = BTreeSet::new();
        for item in items {
            match item.as_map() {
                Some([(name, pos, body)]) => {
                    if !names.insert(name.clone()) {
                        self.err(*pos, format!("duplicate step name '{name}'"));
                    }
                    if let Some(step) = self.step(name, *pos, body) {
                        steps.push(step);
                    }
                }
                Some([(name, _, body), rest @ ..])
                    if matches!(body.kind, NodeKind::Scalar(Value::Null))
                        && rest.iter().any(|(k, _, _)| {
                            KINDS.contains(&k.as_str()) || STEP_KEYS.contains(&k.as_str())
                        }) =>
                {
                    self.err(
                        item.pos,
                        format!(
                            "a step is a map with exactly one key, its name: '{name}' has nothing under it and '{}' is beside it; indent the step's body under '{name}:'",
                            rest[0].0
                        ),
                    );
                }
                _ => self.err(item.pos, "a step is a map with exactly one key, its name"),
            }
        }
        Rc::new(steps)
    }

    fn step(&mut self, name: &str, pos: Pos, body: &Node) -> Option<Step> {
        let Some(entries) = body.as_map() else {
            self.err(body.pos, format!("step '{name}' must be a map"));
            return None;
        };
        let cover = self.point();
        let (action, next) = self.action(entries, body.pos, &format!("step '{name}'"))?;
        Some(Step {
            name: name.to_owned(),
            pos,
            cover,
            action,
            next,
        })
    }

    /// The action and `next` of a step or a switch case.
    fn action(
        &mut self,
        entries: &[(String, Pos, Node)],
        pos: Pos,
        what: &str,
    ) -> Option<(Action, Option<Next>)> {
        let get = |k: &str| entries.iter().find(|(key, _, _)| key == k);
        let mut next = None;
        if let Some((_, _, n)) = get("next") {
            next = self.next(n);
        }
        let kinds: Vec<&str> = KINDS.iter().copied().filter(|k| get(k).is_some()).collect();
        let allowed: &[&str] = match kinds.as_slice() {
            [] => &["next"],
            ["call"] => &["call", "args", "result", "next"],
            ["try"] => &["try", "retry", "except", "next"],
            ["switch"] => &["switch", "next"],
            ["for"] => &["for", "next"],
            ["parallel"] => &["parallel", "next"],
            [k] => match *k {
                "assign" => &["assign", "next"],
                "steps" => &["steps", "next"],
                "return" => &["return"],
                "raise" => &["raise"],
                _ => &[],
            },
            many => {
                self.err(
                    pos,
                    format!(
                        "{what} has several actions ({}); a step does one thing",
                        many.join(", ")
                    ),
                );
                return None;
            }
        };
        let kind = kinds.first().copied().unwrap_or("");
        for (key, kpos, _) in entries {
            let is_condition = what.starts_with("switch") && key == "condition";
            if !(allowed.contains(&key.as_str()) || is_condition) {
                let with = if kind.is_empty() {
                    String::new()
                } else {
                    format!(" with '{kind}'")
                };
                let hint = did_you_mean(key, KINDS.into_iter().chain(STEP_KEYS));
                self.err(
                    *kpos,
                    format!("unexpected key '{key}' in {what}{with}{hint}"),
                );
            }
        }
        let node = |k: &str| get(k).map(|(_, p, n)| (*p, n));
        let action = match kind {
            "" => Action::Nothing,
            "assign" => {
                let (_, n) = node("assign")?;
                Action::Assign(self.assign(n))
            }
            "call" => {
                let (p, n) = node("call")?;
                Action::Call(self.call(
                    p,
                    n,
                    get("args").map(|e| &e.2),
                    get("result").map(|e| &e.2),
                )?)
            }
            "switch" => {
                let (_, n) = node("switch")?;
                Action::Switch(self.switch(n))
            }
            "return" => Action::Return(self.tmpl(node("return")?.1)),
            "raise" => Action::Raise(self.tmpl(node("raise")?.1)),
            "try" => Action::Try(Box::new(self.try_(
                node("try")?.1,
                get("retry").map(|e| &e.2),
                get("except").map(|e| &e.2),
            )?)),
            "for" => Action::For(Box::new(self.for_(node("for")?.1)?)),
            "parallel" => Action::Parallel(Box::new(self.parallel(node("parallel")?.1)?)),
            "steps" => Action::Steps(self.block(node("steps")?.1)),
            _ => return None,
        };
        Some((action, next))
    }

    fn next(&mut self, n: &Node) -> Option<Next> {
        match n.as_str() {
            Some("end") => Some(Next::End),
            Some("break") => Some(Next::Break(n.pos)),
            Some("continue") => Some(Next::Continue(n.pos)),
            Some(name) if !name.starts_with("${") => Some(Next::Step(name.to_owned(), n.pos)),
            _ => {
                self.err(n.pos, "'next' names a step, or is end, break or continue");
                None
            }
        }
    }

    fn assign(&mut self, n: &Node) -> Vec<(Place, Tmpl)> {
        let Some(items) = n.as_seq() else {
            self.err(n.pos, "'assign' is a list of `name: value` entries");
            return Vec::new();
        };
        if items.len() > ASSIGNMENTS_MAX {
            self.err(
                n.pos,
                format!(
                    "{} assignments in one step; the limit is {ASSIGNMENTS_MAX}",
                    items.len()
                ),
            );
        }
        let mut out = Vec::new();
        for item in items {
            match item.as_map() {
                Some([(target, pos, value)]) => {
                    if let Some(t) = self.target(target, *pos) {
                        out.push((t, self.tmpl(value)));
                    }
                }
                _ => self.err(item.pos, "each assignment is a single `name: value`"),
            }
        }
        out
    }

    fn call(
        &mut self,
        pos: Pos,
        n: &Node,
        args: Option<&Node>,
        result: Option<&Node>,
    ) -> Option<Call> {
        let Some(func) = n.as_str() else {
            self.err(
                n.pos,
                "'call' names a subworkflow or a standard-library function",
            );
            return None;
        };
        let mut arg_list = Vec::new();
        if let Some(args) = args {
            match args.as_map() {
                Some(entries) => {
                    for (k, _, v) in entries {
                        arg_list.push((k.clone(), self.tmpl(v)));
                    }
                }
                None => self.err(args.pos, "'args' must be a map of argument names to values"),
            }
        }
        self.check_callee(func, &arg_list, n.pos);
        let result = match result {
            None => None,
            Some(r) => match r.as_str() {
                Some(name) => Some(name.to_owned()),
                None => {
                    self.err(r.pos, "'result' names a variable");
                    None
                }
            },
        };
        Some(Call {
            func: func.to_owned(),
            pos,
            args: arg_list,
            result,
        })
    }

    fn switch(&mut self, n: &Node) -> Vec<Case> {
        let Some(items) = n.as_seq() else {
            self.err(n.pos, "'switch' is a list of conditions");
            return Vec::new();
        };
        if items.len() > CONDITIONS_MAX {
            self.err(
                n.pos,
                format!(
                    "{} conditions in one switch; the limit is {CONDITIONS_MAX}",
                    items.len()
                ),
            );
        }
        let mut cases = Vec::new();
        for item in items {
            let Some(entries) = item.as_map() else {
                self.err(item.pos, "a switch case is a map with 'condition'");
                continue;
            };
            let Some((_, _, cond)) = entries.iter().find(|(k, _, _)| k == "condition") else {
                self.err(item.pos, "a switch case needs a 'condition'");
                continue;
            };
            let condition = self.tmpl(cond);
            let cover = self.point();
            if let Some((action, next)) = self.action(entries, item.pos, "switch case") {
                cases.push(Case {
                    pos: item.pos,
                    cover,
                    condition,
                    action,
                    next,
                });
            }
        }
        cases
    }

    fn try_(&mut self, body: &Node, retry: Option<&Node>, except: Option<&Node>) -> Option<Try> {
        let Some(entries) = body.as_map() else {
            self.err(body.pos, "'try' holds a call or 'steps'");
            return None;
        };
        let (action, next) = self.action(entries, body.pos, "try")?;
        if next.is_some() {
            self.err(body.pos, "'next' belongs on the step, not inside 'try'");
        }
        let retry_pos = retry.map_or(body.pos, |r| r.pos);
        let retry_cover = self.point();
        // Written but invalid, a 'retry' or 'except' has its own error: not this one too.
        if retry.is_none() && except.is_none() {
            self.err(body.pos, "'try' needs 'except' or 'retry'");
        }
        let retry = retry.and_then(|r| self.retry(r));
        let except = except.and_then(|e| self.except(e));
        Some(Try {
            body: action,
            retry,
            retry_pos,
            retry_cover,
            except,
        })
    }

    fn except(&mut self, n: &Node) -> Option<Except> {
        let Some(entries) = n.as_map() else {
            self.err(n.pos, "'except' is a map with 'as' and 'steps'");
            return None;
        };
        let mut var = None;
        let mut steps = None;
        for (k, p, v) in entries {
            match k.as_str() {
                "as" => match v.as_str() {
                    Some(name) => var = Some(name.to_owned()),
                    None => self.err(v.pos, "'as' names a variable"),
                },
                "steps" => steps = Some(self.block(v)),
                other => {
                    let hint = did_you_mean(other, ["as", "steps"]);
                    self.err(*p, format!("unknown key '{other}' in 'except'{hint}"));
                }
            }
        }
        match steps {
            Some(steps) => Some(Except {
                var,
                steps,
                pos: n.pos,
                cover: self.point(),
            }),
            None => {
                self.err(n.pos, "'except' needs 'steps'");
                None
            }
        }
    }

    fn for_(&mut self, n: &Node) -> Option<For> {
        let Some(entries) = n.as_map() else {
            self.err(n.pos, "'for' is a map with value, in or range, and steps");
            return None;
        };
        let mut value = None;
        let mut index = None;
        let mut source = None;
        let mut steps = None;
        for (k, p, v) in entries {
            match k.as_str() {
                "value" | "index" => match v.as_str() {
                    Some(name) if k == "value" => value = Some(name.to_owned()),
                    Some(name) => index = Some(name.to_owned()),
                    None => self.err(v.pos, format!("'{k}' names a variable")),
                },
                "in" => source = Some(ForSource::In(self.tmpl(v))),
                "range" => match (v.as_seq(), self.tmpl(v)) {
                    (Some([a, b]), _) => {
                        source = Some(ForSource::Range(self.tmpl(a), self.tmpl(b)))
                    }
                    (None, t @ Tmpl::Expr(..)) => source = Some(ForSource::RangeOf(t)),
                    _ => self.err(
                        v.pos,
                        "'range' is a list of two numbers, [from, to], or an expression giving one",
                    ),
                },
                "steps" => steps = Some(self.block(v)),
                other => {
                    let hint = did_you_mean(other, ["value", "index", "in", "range", "steps"]);
                    self.err(*p, format!("unknown key '{other}' in 'for'{hint}"));
                }
            }
        }
        if value.is_none() {
            self.err(n.pos, "'for' needs 'value'");
        }
        if source.is_none() {
            self.err(n.pos, "'for' needs 'in' or 'range'");
        }
        if steps.is_none() {
            self.err(n.pos, "'for' needs 'steps'");
        }
        Some(For {
            value: value?,
            index,
            source: source?,
            steps: steps?,
        })
    }

    fn parallel(&mut self, n: &Node) -> Option<Parallel> {
        let Some(entries) = n.as_map() else {
            self.err(n.pos, "'parallel' is a map with 'branches' or 'for'");
            return None;
        };
        let mut shared = Vec::new();
        let mut limit = None;
        let mut continue_all = false;
        let mut work = None;
        for (k, p, v) in entries {
            match k.as_str() {
                "shared" => match v.as_seq() {
                    Some(items) => {
                        for i in items {
                            match i.as_str() {
                                Some(s) => shared.push(s.to_owned()),
                                None => self.err(i.pos, "'shared' lists variable names"),
                            }
                        }
                    }
                    None => self.err(v.pos, "'shared' is a list of variable names"),
                },
                "concurrency_limit" => limit = Some(self.tmpl(v)),
                "exception_policy" => match v.as_str() {
                    Some("continueAll") => continue_all = true,
                    _ => self.err(v.pos, "'exception_policy' can only be continueAll"),
                },
                "branches" => {
                    let Some(items) = v.as_seq() else {
                        self.err(v.pos, "'branches' is a list of named branches");
                        continue;
                    };
                    if items.len() > BRANCHES_MAX {
                        self.err(
                            v.pos,
                            format!(
                                "{} branches in one parallel step; the limit is {BRANCHES_MAX}",
                                items.len()
                            ),
                        );
                    }
                    let mut branches = Vec::new();
                    for item in items {
                        match item.as_map() {
                            Some([(name, bpos, body)]) => {
                                let steps = match body
                                    .as_map()
                                    .and_then(|m| m.iter().find(|(k, _, _)| k == "steps"))
                                {
                                    Some((_, _, s)) => self.block(s),
                                    None => {
                                        self.err(
                                            body.pos,
                                            format!("branch '{name}' needs 'steps'"),
                                        );
                                        continue;
                                    }
                                };
                                branches.push((name.clone(), *bpos, steps));
                            }
                            _ => self.err(item.pos, "a branch is a map with one key, its name"),
                        }
                    }
                    work = Some(Work::Branches(branches));
                }
                "for" => work = self.for_(v).map(Work::For),
                other => {
                    let keys = [
                        "shared",
                        "concurrency_limit",
                        "exception_policy",
                        "branches",
                        "for",
                    ];
                    let hint = did_you_mean(other, keys);
                    self.err(*p, format!("unknown key '{other}' in 'parallel'{hint}"));
                }
            }
        }
        let Some(work) = work else {
            self.err(n.pos, "'parallel' needs 'branches' or 'for'");
            return None;
        };
        Some(Parallel {
            shared,
            concurrency_limit: limit,
            continue_all,
            work,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::load;

    fn errors(file: &str, text: &str) -> Vec<String> {
        match load(file, text) {
            Ok(_) => Vec::new(),
            Err(es) => es.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn both_forms_load() {
        let list = "- a:\n    assign:\n      - x: 1\n- b:\n    return: ${x}\n";
        let wf = load("w.yaml", list).unwrap();
        assert_eq!(wf.main.steps.len(), 2);
        let map = "main:\n  params: [args]\n  steps:\n    - a:\n        call: sub\n        args:\n          n: 1\n        result: r\nsub:\n  params: [n, {m: 2}]\n  steps:\n    - r:\n        return: ${n + m}\n";
        let wf = load("w.yaml", map).unwrap();
        assert_eq!(wf.subworkflows["sub"].params.len(), 2);
    }

    #[test]
    fn deploy_time_errors_name_their_place() {
        let text = "- a:\n    next: nowhere\n- b:\n    call: sys.nope\n- c:\n    return: ${foo.bar(1)}\n- d:\n    assign:\n      - x: ${sys.sleep(1)}\n- e:\n    return: ${1 +}\n";
        let errs = errors("w.yaml", text);
        assert_eq!(errs.len(), 5, "{errs:#?}");
        assert!(
            errs[0].starts_with("w.yaml:2:11: 'next: nowhere'"),
            "{}",
            errs[0]
        );
        assert!(
            errs[1].starts_with("w.yaml:4:11: symbol 'sys.nope' not found"),
            "{}",
            errs[1]
        );
        assert!(
            errs[2].starts_with("w.yaml:6:13: symbol 'foo.bar' not found"),
            "{}",
            errs[2]
        );
        assert!(errs[3].contains("sys.sleep blocks"), "{}", errs[3]);
        assert!(errs[4].contains("invalid expression"), "{}", errs[4]);
    }

    /// Messages that name the fix (issue #24): a dedented step body, a misspelt retry
    /// predicate, a library name cut short; each once, at its place.
    #[test]
    fn messages_name_the_fix() {
        let errs = errors(
            "w.yaml",
            "main:\n  steps:\n    - s:\n      call: sys.log\n      args:\n        text: hi\n    - t:\n        return: 1\n      next: end\n",
        );
        assert_eq!(
            errs,
            [
                "w.yaml:3:7: a step is a map with exactly one key, its name: 's' has nothing under it and 'call' is beside it; indent the step's body under 's:'",
                "w.yaml:7:7: a step is a map with exactly one key, its name",
            ]
        );
        let errs = errors(
            "w.yaml",
            "main:\n  steps:\n    - s:\n        try:\n          call: sys.now\n        retry:\n          predicate: ${my_predicat}\n          max_retries: 3\nmy_predicate:\n  params: [e]\n  steps:\n    - r:\n        return: true\n",
        );
        assert_eq!(
            errs.len(),
            1,
            "no \"'try' needs 'except' or 'retry'\" beside it: {errs:?}"
        );
        assert!(
            errs[0].starts_with("w.yaml:7:22: symbol 'my_predicat' not found"),
            "{errs:?}"
        );
        assert!(
            errs[0].ends_with("; did you mean 'my_predicate'?"),
            "{errs:?}"
        );
        let errs = errors(
            "w.yaml",
            "- s:\n    try:\n      call: sys.now\n    except: 1\n",
        );
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].contains("'except' is a map"), "{errs:?}");
        let errs = errors(
            "w.yaml",
            "- s:\n    call: events.create_callback\n    result: cb\n",
        );
        assert_eq!(
            errs,
            [
                "w.yaml:2:11: symbol 'events.create_callback' not found: not a subworkflow or a standard-library function; did you mean 'events.create_callback_endpoint'?"
            ]
        );
    }

    #[test]
    fn rt_1_default_backoff_integer_delays_double_multiplier() {
        use crate::defn::{Action, Retry, Tmpl};
        use crate::value::Value;
        let text = "- a:\n    try:\n      call: sys.now\n    retry:\n      predicate: ${retry.always}\n      max_retries: 1\n      backoff: ${retry.default_backoff}\n";
        let wf = load("w.yaml", text).unwrap();
        let Action::Try(t) = &wf.main.steps[0].action else {
            panic!("a try step")
        };
        let Some(Retry::Policy {
            backoff: Some(b), ..
        }) = &t.retry
        else {
            panic!("a retry policy with a back-off")
        };
        assert!(matches!(b.initial_delay, Tmpl::Lit(Value::Int(1))));
        assert!(matches!(b.max_delay, Tmpl::Lit(Value::Int(60))));
        assert!(matches!(b.multiplier, Tmpl::Lit(Value::Double(m)) if m == 1.25));
    }

    #[test]
    fn structural_errors() {
        assert!(errors("w.yaml", "a: 1\n")[0].contains("'main'"));
        assert!(
            errors("w.yaml", "- a:\n    assign:\n      - x: 1\n    return: 1\n")[0]
                .contains("several actions")
        );
        assert!(errors("w.yaml", "- a:\n    bogus: 1\n")[0].contains("unexpected key 'bogus'"));
        assert!(
            errors("w.yaml", "- a:\n    try:\n      call: sys.now\n")[0]
                .contains("'except' or 'retry'")
        );
        assert!(
            errors("w.yaml", "- a:\n    return: 1\n- a:\n    return: 2\n")[0]
                .contains("duplicate step name")
        );
        let call = "main:\n  steps:\n    - a:\n        call: f\n        args: {x: 1}\nf:\n  params: [n]\n  steps:\n    - r:\n        return: 1\n";
        let errs = errors("w.yaml", call);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs.iter().any(|e| e.contains("no parameter 'x'")));
        assert!(errs.iter().any(|e| e.contains("needs argument 'n'")));
    }
}
