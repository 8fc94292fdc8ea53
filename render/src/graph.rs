//! A workflow as a graph, drawn as the Cloud console draws it: its steps as boxes top to
//! bottom, nested steps (switch cases, `try` bodies and `except`s, loops, parallel branches)
//! indented under the step that holds them, and edges for `next`, the cases, `except`,
//! `retry` and the branches. A run's coverage marks which steps and edges it passed.

use std::fmt::Write;

use wfsim_engine::coverage::Passes;
use wfsim_engine::defn::{Action, Block, Next, Part, Pos, Step, Work, Workflow};

/// What an edge stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    /// To the next step in order.
    Next,
    /// A `next:` to a named step, or to the end.
    Jump,
    /// Into what a step holds: a case, a body, an except, a loop's or a branch's steps.
    Into,
    /// A `try` retried.
    Retry,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The step's name; `end` for where a subworkflow returns.
    pub name: String,
    /// What it does: `assign`, `call events.await_callback`, `switch`, …
    pub kind: String,
    pub depth: usize,
    pub pos: Pos,
    /// How many times the run began it; `None` where no run is drawn (or for `end`).
    pub passes: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
    pub label: String,
    /// Whether the run took it, where that is known (a case's or an except's own count).
    pub taken: Option<bool>,
}

/// One subworkflow's graph.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Graph {
    pub name: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

fn kind(a: &Action) -> String {
    match a {
        Action::Nothing => "next".into(),
        Action::Assign(_) => "assign".into(),
        Action::Call(c) => format!("call {}", c.func),
        Action::Switch(_) => "switch".into(),
        Action::Return(_) => "return".into(),
        Action::Raise(_) => "raise".into(),
        Action::Try(_) => "try".into(),
        Action::For(_) => "for".into(),
        Action::Parallel(_) => "parallel".into(),
        Action::Steps(_) => "steps".into(),
    }
}

struct Builder<'a> {
    g: Graph,
    passes: Option<&'a Passes>,
    /// Edges to `end`, made once the end node exists.
    to_end: Vec<(usize, String)>,
}

impl Builder<'_> {
    fn count(&self, cover: u32) -> Option<u64> {
        self.passes
            .map(|p| p.points.get(cover as usize).copied().unwrap_or(0))
    }

    fn edge(&mut self, from: usize, to: usize, kind: EdgeKind, label: String, taken: Option<bool>) {
        self.g.edges.push(Edge {
            from,
            to,
            kind,
            label,
            taken,
        });
    }

    /// Adds a block's steps at `depth`; the index of its first node.
    fn block(&mut self, steps: &Block, depth: usize) -> Option<usize> {
        let first = self.g.nodes.len();
        let mut at: Vec<usize> = Vec::new();
        for step in steps.iter() {
            at.push(self.step(step, depth));
        }
        // Order and jumps, now that every step of the block has its node.
        for (i, step) in steps.iter().enumerate() {
            let from = at[i];
            match &step.next {
                Some(Next::Step(name, _)) => {
                    if let Some(j) = steps.iter().position(|s| &s.name == name) {
                        self.edge(from, at[j], EdgeKind::Jump, format!("next: {name}"), None);
                    }
                }
                Some(Next::End) => self.to_end.push((from, "next: end".into())),
                Some(Next::Break(_)) | Some(Next::Continue(_)) => {}
                None => match step.action {
                    Action::Return(_) => self.to_end.push((from, "return".into())),
                    Action::Raise(_) => {}
                    _ => {
                        if let Some(&to) = at.get(i + 1) {
                            self.edge(from, to, EdgeKind::Next, String::new(), None);
                        } else if depth == 0 {
                            self.to_end.push((from, String::new()));
                        }
                    }
                },
            }
        }
        (!at.is_empty()).then_some(first)
    }

    fn step(&mut self, step: &Step, depth: usize) -> usize {
        let me = self.g.nodes.len();
        self.g.nodes.push(Node {
            name: step.name.clone(),
            kind: kind(&step.action),
            depth,
            pos: step.pos,
            passes: self.count(step.cover),
        });
        self.parts(me, &step.action, depth);
        me
    }

    /// What `action` (of the step at node `me`) holds, indented under it.
    fn parts(&mut self, me: usize, action: &Action, depth: usize) {
        for part in action.parts() {
            match part {
                Part::Case(c) => {
                    let n = self
                        .g
                        .edges
                        .iter()
                        .filter(|e| e.from == me && e.label.starts_with("case"))
                        .count();
                    let taken = self.count(c.cover).map(|n| n > 0);
                    let label = format!("case {}", n + 1);
                    match (&c.next, c.action.blocks().first()) {
                        (_, Some(b)) => {
                            if let Some(first) = self.block(b, depth + 1) {
                                self.edge(me, first, EdgeKind::Into, label, taken);
                            }
                        }
                        (Some(Next::Step(name, _)), None) => {
                            // Resolved among the nodes made so far, else left as a label.
                            let target = self.g.nodes.iter().rposition(|n| &n.name == name);
                            match target {
                                Some(t) => self.edge(
                                    me,
                                    t,
                                    EdgeKind::Jump,
                                    format!("{label} → {name}"),
                                    taken,
                                ),
                                None => self.pending_case(me, name.clone(), label, taken),
                            }
                        }
                        (Some(Next::End), None) => self.to_end.push((me, format!("{label} → end"))),
                        _ => {}
                    }
                }
                Part::Body(t) => {
                    if let Some(b) = t.body.blocks().first() {
                        if let Some(first) = self.block(b, depth + 1) {
                            self.edge(me, first, EdgeKind::Into, "try".into(), None);
                        }
                    }
                    if t.retry.is_some() {
                        let retried = self.passes.map(|p| {
                            p.retries
                                .range((t.retry_cover, 0)..=(t.retry_cover, u32::MAX))
                                .count()
                                > 0
                        });
                        self.edge(me, me, EdgeKind::Retry, "retry".into(), retried);
                    }
                }
                Part::Except(e) => {
                    let taken = self.count(e.cover).map(|n| n > 0);
                    if let Some(first) = self.block(&e.steps, depth + 1) {
                        self.edge(me, first, EdgeKind::Into, "except".into(), taken);
                    }
                }
                Part::Steps(b) => {
                    if let Some(first) = self.block(b, depth + 1) {
                        self.edge(me, first, EdgeKind::Into, "steps".into(), None);
                    }
                }
                Part::Loop(f) => {
                    if let Some(first) = self.block(&f.steps, depth + 1) {
                        self.edge(me, first, EdgeKind::Into, format!("for {}", f.value), None);
                    }
                }
                Part::Parallel(p) => match &p.work {
                    Work::Branches(branches) => {
                        for (name, _, b) in branches {
                            if let Some(first) = self.block(b, depth + 1) {
                                self.edge(
                                    me,
                                    first,
                                    EdgeKind::Into,
                                    format!("branch {name}"),
                                    None,
                                );
                            }
                        }
                    }
                    Work::For(f) => {
                        if let Some(first) = self.block(&f.steps, depth + 1) {
                            self.edge(
                                me,
                                first,
                                EdgeKind::Into,
                                format!("parallel for {}", f.value),
                                None,
                            );
                        }
                    }
                },
            }
        }
    }

    /// A case jumping to a step drawn later: resolved when the subworkflow is done.
    fn pending_case(&mut self, from: usize, name: String, label: String, taken: Option<bool>) {
        self.g.edges.push(Edge {
            from,
            to: usize::MAX,
            kind: EdgeKind::Jump,
            label: format!("{label} → {name}"),
            taken,
        });
    }
}

/// The graph of each subworkflow of `workflow` (main first), with `passes` (a run's
/// coverage) marking what was passed.
pub fn of_workflow(workflow: &Workflow, passes: Option<&Passes>) -> Vec<Graph> {
    let mut subs = vec![&workflow.main];
    subs.extend(workflow.subworkflows.values());
    subs.into_iter()
        .map(|sub| {
            let mut b = Builder {
                g: Graph {
                    name: sub.name.clone(),
                    ..Graph::default()
                },
                passes,
                to_end: Vec::new(),
            };
            b.block(&sub.steps, 0);
            let end = b.g.nodes.len();
            b.g.nodes.push(Node {
                name: "end".into(),
                kind: String::new(),
                depth: 0,
                pos: sub.pos,
                passes: None,
            });
            for (from, label) in std::mem::take(&mut b.to_end) {
                b.edge(from, end, EdgeKind::Jump, label, None);
            }
            // Cases that named a later step: find it now.
            let names: Vec<String> = b.g.nodes.iter().map(|n| n.name.clone()).collect();
            for e in &mut b.g.edges {
                if e.to == usize::MAX {
                    let target = e.label.rsplit("→ ").next().unwrap_or_default();
                    e.to = names.iter().position(|n| n == target).unwrap_or(end);
                }
            }
            b.g
        })
        .collect()
}

const ROW: f64 = 40.0;
const BOX_H: f64 = 28.0;
const BOX_W: f64 = 250.0;
const INDENT: f64 = 28.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One subworkflow's graph as SVG.
pub fn draw(g: &Graph) -> String {
    draw_anchored(g, "")
}

/// [`draw`] for a page that holds several reports: every id and link starts with `ids`
/// (the boxes link to `#{ids}L{line}`), so reports on one page do not collide.
pub fn draw_anchored(g: &Graph, ids: &str) -> String {
    let depth = g.nodes.iter().map(|n| n.depth).max().unwrap_or(0) as f64;
    let jumps = g.edges.iter().filter(|e| e.kind == EdgeKind::Jump).count() as f64;
    let width = 20.0 + depth * INDENT + BOX_W + 40.0 + 22.0 * jumps + 160.0;
    let height = 20.0 + ROW * g.nodes.len() as f64;
    let x = |n: &Node| 10.0 + INDENT * n.depth as f64;
    let y = |i: usize| 10.0 + ROW * i as f64;
    let right = 20.0 + depth * INDENT + BOX_W;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="graph" role="img" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}"><desc>Subworkflow {}: its steps top to bottom, nested steps indented; edges for next, cases, except, retry and branches.</desc><defs><marker id="{ids}arrow-{0}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z"/></marker></defs>"#,
        esc(&g.name)
    );
    let marker = format!("url(#{ids}arrow-{})", esc(&g.name));
    let mut jump = 0.0;
    for e in &g.edges {
        let (a, b) = (&g.nodes[e.from], &g.nodes[e.to]);
        let taken = match e.taken {
            Some(true) => " taken",
            Some(false) => " not-taken",
            None => "",
        };
        let path = match e.kind {
            EdgeKind::Next => format!(
                "M{:.1} {:.1}V{:.1}",
                x(a) + 20.0,
                y(e.from) + BOX_H,
                y(e.to)
            ),
            EdgeKind::Into => format!(
                "M{:.1} {:.1}V{:.1}H{:.1}",
                x(a) + 8.0,
                y(e.from) + BOX_H,
                y(e.to) + BOX_H / 2.0,
                x(b)
            ),
            EdgeKind::Retry => format!(
                "M{:.1} {:.1}c24 -14 24 14 0 10",
                x(a) + BOX_W,
                y(e.from) + 9.0
            ),
            EdgeKind::Jump => {
                jump += 1.0;
                let out = right + 14.0 * jump;
                format!(
                    "M{:.1} {:.1}H{out:.1}V{:.1}H{:.1}",
                    x(a) + BOX_W,
                    y(e.from) + BOX_H / 2.0,
                    y(e.to) + BOX_H / 2.0,
                    x(b) + BOX_W
                )
            }
        };
        let _ = write!(
            s,
            r#"<path class="edge {:?}{taken}" d="{path}" marker-end="{marker}"><title>{} → {}{}</title></path>"#,
            e.kind,
            esc(&a.name),
            esc(&b.name),
            if e.label.is_empty() {
                String::new()
            } else {
                format!(": {}", esc(&e.label))
            }
        );
        if !e.label.is_empty() && e.kind != EdgeKind::Next {
            let (lx, ly) = match e.kind {
                EdgeKind::Into => (x(b) - INDENT + 12.0, y(e.to) - 3.0),
                EdgeKind::Retry => (x(a) + BOX_W + 22.0, y(e.from) + 12.0),
                _ => (right + 14.0 * jump + 4.0, y(e.to) + BOX_H / 2.0 - 3.0),
            };
            let _ = write!(
                s,
                r#"<text class="edge-label" x="{lx:.1}" y="{ly:.1}">{}</text>"#,
                esc(&e.label)
            );
        }
    }
    for (i, n) in g.nodes.iter().enumerate() {
        let class = match n.passes {
            Some(0) => "node missed",
            Some(_) => "node passed",
            None if n.name == "end" && n.kind.is_empty() => "node end",
            None => "node",
        };
        let count = n.passes.map_or(String::new(), |c| format!(" · {c}×"));
        let _ = write!(
            s,
            r##"<a href="#{ids}L{}"><g class="{class}" data-step="{}"><rect x="{:.1}" y="{:.1}" width="{BOX_W}" height="{BOX_H}" rx="5"/><text x="{:.1}" y="{:.1}"><tspan class="name">{}</tspan> <tspan class="kind">{}{count}</tspan></text><title>{} ({}, line {}){count}</title></g></a>"##,
            n.pos.line,
            esc(&n.name),
            x(n),
            y(i),
            x(n) + 8.0,
            y(i) + 18.0,
            esc(&n.name),
            esc(&n.kind),
            esc(&n.name),
            esc(&n.kind),
            n.pos.line,
        );
    }
    s.push_str("</svg>");
    s
}
