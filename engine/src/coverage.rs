//! Step coverage: which steps and branches of a workflow an execution reached.
//!
//! The interpreter counts each [`Point`] it passes ([`crate::interp::Execution::coverage`]);
//! [`points`] lists every point a workflow has, so a host can say which none reached
//! (`wfsim explore`). A point is known by where it was written.

use std::collections::BTreeMap;

use crate::defn::{Action, Block, Parallel, Pos, Work, Workflow};

/// A place the interpreter can pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Point {
    /// A step began.
    Step,
    /// A switch condition held: its case ran.
    Case,
    /// An `except` block ran.
    Except,
    /// Retry number `n` (1, 2, …) of a `try` began (RT-2).
    Retry(u32),
}

/// How many times each point was passed, by position.
pub type Counts = BTreeMap<(Pos, Point), u64>;

/// One point of a workflow, as [`points`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    pub pos: Pos,
    pub point: Point,
    /// The subworkflow it is in.
    pub subworkflow: String,
    /// What it is, in words: `step 'ask'`, `case 2 of step 'route'`, `except of step
    /// 'wait'`, `retry 1 of step 'call'`.
    pub label: String,
}

/// Every point of `workflow`, in the order written (by position); retries as their first
/// attempt (`Retry(1)`: the step was retried at all).
pub fn points(workflow: &Workflow) -> Vec<Site> {
    let mut out = Vec::new();
    let mut subs: Vec<_> = vec![("main", &workflow.main)];
    subs.extend(workflow.subworkflows.iter().map(|(n, s)| (n.as_str(), s)));
    for (name, sub) in subs {
        block(name, &sub.steps, &mut out);
    }
    out.sort_by_key(|a| (a.pos, a.point));
    out
}

/// The words for a point reached but not listed by [`points`] (a later retry attempt).
pub fn label(point: Point, step: &str) -> String {
    match point {
        Point::Step => format!("step '{step}'"),
        Point::Case => format!("a case of step '{step}'"),
        Point::Except => format!("except of step '{step}'"),
        Point::Retry(n) => format!("retry {n} of step '{step}'"),
    }
}

fn block(sub: &str, steps: &Block, out: &mut Vec<Site>) {
    for step in steps.iter() {
        out.push(Site {
            pos: step.pos,
            point: Point::Step,
            subworkflow: sub.to_owned(),
            label: label(Point::Step, &step.name),
        });
        action(sub, &step.name, &step.action, out);
    }
}

fn action(sub: &str, step: &str, a: &Action, out: &mut Vec<Site>) {
    match a {
        Action::Nothing
        | Action::Assign(_)
        | Action::Call(_)
        | Action::Return(_)
        | Action::Raise(_) => {}
        Action::Switch(cases) => {
            for (i, case) in cases.iter().enumerate() {
                out.push(Site {
                    pos: case.pos,
                    point: Point::Case,
                    subworkflow: sub.to_owned(),
                    label: format!("case {} of step '{step}'", i + 1),
                });
                action(sub, step, &case.action, out);
            }
        }
        Action::Try(t) => {
            action(sub, step, &t.body, out);
            if t.retry.is_some() {
                out.push(Site {
                    pos: t.retry_pos,
                    point: Point::Retry(1),
                    subworkflow: sub.to_owned(),
                    label: label(Point::Retry(1), step),
                });
            }
            if let Some(e) = &t.except {
                out.push(Site {
                    pos: e.pos,
                    point: Point::Except,
                    subworkflow: sub.to_owned(),
                    label: label(Point::Except, step),
                });
                block(sub, &e.steps, out);
            }
        }
        Action::For(f) => block(sub, &f.steps, out),
        Action::Parallel(p) => parallel(sub, p, out),
        Action::Steps(b) => block(sub, b, out),
    }
}

fn parallel(sub: &str, p: &Parallel, out: &mut Vec<Site>) {
    match &p.work {
        Work::Branches(branches) => {
            for (_, _, b) in branches {
                block(sub, b, out);
            }
        }
        Work::For(f) => block(sub, &f.steps, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_steps_cases_excepts_and_retries_in_written_order() {
        let src = "main:\n  steps:\n    - route:\n        switch:\n          - condition: ${true}\n            next: t\n          - condition: ${false}\n            next: t\n    - t:\n        try:\n          call: sys.log\n          args: {text: x}\n        retry:\n          predicate: ${retry.always}\n          max_retries: 1\n          backoff: {initial_delay: 1, max_delay: 2, multiplier: 2}\n        except:\n          as: e\n          steps:\n            - inner:\n                return: 1\n";
        let wf = crate::defn::load("w.yaml", src).unwrap();
        let labels: Vec<_> = points(&wf)
            .iter()
            .map(|s| format!("{}:{} {}", s.pos.line, s.pos.col, s.label))
            .collect();
        assert_eq!(
            labels,
            [
                "3:7 step 'route'",
                "5:13 case 1 of step 'route'",
                "7:13 case 2 of step 'route'",
                "9:7 step 't'",
                "14:11 retry 1 of step 't'",
                "18:11 except of step 't'",
                "20:15 step 'inner'",
            ]
        );
    }
}
