//! Step coverage: which steps and branches of a workflow an execution reached.
//!
//! Each step, switch case, `except` block and `retry` of a definition has an index (its
//! `cover`, handed out when the definition is built); the interpreter counts the passes of
//! each in a vector ([`crate::interp::Execution::coverage`]: one add per step), and retries
//! by attempt. [`points`] lists every point of a workflow with its position, so a host can
//! say which none reached (`wfsim explore`); [`by_position`] names the counts by position.

use std::collections::BTreeMap;

use crate::defn::{Action, Block, Part, Pos, Step, Workflow};

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

/// What the interpreter counted: passes per point index, and retries by (index, attempt).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Passes {
    pub points: Vec<u64>,
    pub retries: BTreeMap<(u32, u32), u64>,
}

/// `passes` by position, for the points of `sites` (from [`points`] of the same workflow)
/// passed at least once.
pub fn by_position(sites: &[Site], passes: &Passes) -> Counts {
    let mut out = Counts::new();
    for s in sites {
        match s.point {
            Point::Retry(_) => {
                for (&(_, n), &count) in passes.retries.range((s.cover, 0)..=(s.cover, u32::MAX)) {
                    out.insert((s.pos, Point::Retry(n)), count);
                }
            }
            point => {
                if let Some(&count) = passes.points.get(s.cover as usize).filter(|&&c| c > 0) {
                    out.insert((s.pos, point), count);
                }
            }
        }
    }
    out
}

/// One point of a workflow, as [`points`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    pub pos: Pos,
    pub point: Point,
    /// Its index in [`Passes::points`] (for a retry, in [`Passes::retries`]).
    pub cover: u32,
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

/// The step of `steps` (or of a block nested in them, parallel branches included) whose
/// coverage point is `cover`: how an index the interpreter keeps per step becomes a name.
pub fn step_at(steps: &Block, cover: u32) -> Option<&Step> {
    steps.iter().find_map(|s| {
        if s.cover == cover {
            Some(s)
        } else {
            s.action
                .blocks()
                .into_iter()
                .find_map(|b| step_at(b, cover))
        }
    })
}

fn block(sub: &str, steps: &Block, out: &mut Vec<Site>) {
    for step in steps.iter() {
        out.push(Site {
            pos: step.pos,
            point: Point::Step,
            cover: step.cover,
            subworkflow: sub.to_owned(),
            label: label(Point::Step, &step.name),
        });
        action(sub, &step.name, &step.action, out);
    }
}

fn action(sub: &str, step: &str, a: &Action, out: &mut Vec<Site>) {
    let mut cases = 0;
    for part in a.parts() {
        match part {
            Part::Case(case) => {
                cases += 1;
                out.push(Site {
                    pos: case.pos,
                    point: Point::Case,
                    cover: case.cover,
                    subworkflow: sub.to_owned(),
                    label: format!("case {cases} of step '{step}'"),
                });
                action(sub, step, &case.action, out);
            }
            Part::Body(t) => {
                action(sub, step, &t.body, out);
                if t.retry.is_some() {
                    out.push(Site {
                        pos: t.retry_pos,
                        point: Point::Retry(1),
                        cover: t.retry_cover,
                        subworkflow: sub.to_owned(),
                        label: label(Point::Retry(1), step),
                    });
                }
            }
            Part::Except(e) => {
                out.push(Site {
                    pos: e.pos,
                    point: Point::Except,
                    cover: e.cover,
                    subworkflow: sub.to_owned(),
                    label: label(Point::Except, step),
                });
                block(sub, &e.steps, out);
            }
            Part::Steps(b) => block(sub, b, out),
            Part::Loop(f) => block(sub, &f.steps, out),
            Part::Parallel(p) => {
                for (b, _) in p.threads() {
                    block(sub, b, out);
                }
            }
        }
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
