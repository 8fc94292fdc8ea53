//! Workflow definitions: YAML or JSON text → a checked [`Workflow`], or errors that name
//! `file:line:column` (SPEC §6, deploy-time checks).
//!
//! Stages: [`tree`] reads the text into positioned values; [`build`] turns them into steps
//! and runs the deploy-time checks.

mod block_yaml;
#[cfg(test)]
mod block_yaml_tests;
pub mod build;
mod node;
pub mod tree;

use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use crate::expr::Expr;
pub use crate::pos::Pos;
use crate::value::Value;
pub use tree::Syntax;

/// A deployable workflow: `main` and its subworkflows. Cloning shares the built steps
/// (they are never changed once built), so a host can deploy one build again without
/// parsing the text again.
#[derive(Clone, Debug)]
pub struct Workflow {
    /// The file name errors are reported against.
    pub file: Rc<str>,
    pub main: Rc<Subworkflow>,
    pub subworkflows: BTreeMap<String, Rc<Subworkflow>>,
    /// How many coverage points it has: each step, case, `except` and `retry` has a `cover`
    /// index below this (`crate::coverage`).
    pub points: u32,
}

impl Workflow {
    pub fn subworkflow(&self, name: &str) -> Option<&Rc<Subworkflow>> {
        if name == "main" {
            Some(&self.main)
        } else {
            self.subworkflows.get(name)
        }
    }
}

#[derive(Debug)]
pub struct Subworkflow {
    pub name: String,
    pub pos: Pos,
    pub params: Vec<Param>,
    pub steps: Block,
}

/// A parameter; without a default it must be given.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: String,
    pub default: Option<Value>,
}

/// A list of steps run in order.
pub type Block = Rc<Vec<Step>>;

#[derive(Debug)]
pub struct Step {
    pub name: String,
    pub pos: Pos,
    /// Its coverage point.
    pub cover: u32,
    pub action: Action,
    pub next: Option<Next>,
}

/// Where control goes after a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// A step name, and where the `next` naming it was written.
    Step(String, Pos),
    /// `next: end`: the subworkflow returns `null`.
    End,
    /// `next: break`, and where it was written.
    Break(Pos),
    /// `next: continue`, and where it was written.
    Continue(Pos),
}

#[derive(Debug)]
pub enum Action {
    /// A step with only `next`.
    Nothing,
    Assign(Vec<(Place, Tmpl)>),
    Call(Call),
    Switch(Vec<Case>),
    Return(Tmpl),
    Raise(Tmpl),
    Try(Box<Try>),
    For(Box<For>),
    Parallel(Box<Parallel>),
    Steps(Block),
}

#[derive(Debug)]
pub struct Call {
    /// A subworkflow or a standard-library function, e.g. `events.await_callback`.
    pub func: String,
    pub pos: Pos,
    pub args: Vec<(String, Tmpl)>,
    pub result: Option<String>,
}

#[derive(Debug)]
pub struct Case {
    pub pos: Pos,
    /// Its coverage point.
    pub cover: u32,
    pub condition: Tmpl,
    pub action: Action,
    pub next: Option<Next>,
}

#[derive(Debug)]
pub struct Try {
    /// A call or nested steps.
    pub body: Action,
    pub retry: Option<Retry>,
    /// Where `retry` was written, and the coverage point of its retries.
    pub retry_pos: Pos,
    pub retry_cover: u32,
    pub except: Option<Except>,
}

/// RT-1: a retry policy.
#[derive(Debug)]
pub enum Retry {
    /// `retry: ${http.default_retry}` and friends: a policy computed by an expression.
    Expr(Tmpl),
    Policy {
        predicate: Predicate,
        max_retries: Tmpl,
        backoff: Option<Backoff>,
    },
}

#[derive(Debug)]
pub enum Predicate {
    /// A subworkflow taking the error, returning a boolean.
    Subworkflow(String),
    /// `retry.always`, `retry.never`, `http.default_retry_predicate`, …
    Builtin(String),
}

#[derive(Debug)]
pub struct Backoff {
    pub initial_delay: Tmpl,
    pub max_delay: Tmpl,
    pub multiplier: Tmpl,
}

#[derive(Debug)]
pub struct Except {
    pub var: Option<String>,
    pub steps: Block,
    /// Where the `except` map was written, and its coverage point.
    pub pos: Pos,
    pub cover: u32,
}

#[derive(Debug)]
pub struct For {
    pub value: String,
    pub index: Option<String>,
    pub source: ForSource,
    pub steps: Block,
}

#[derive(Debug)]
pub enum ForSource {
    /// `in: [...]` or a map (its keys).
    In(Tmpl),
    /// `range: [from, to]`, both ends inclusive.
    Range(Tmpl, Tmpl),
    /// `range: ${[1, args.n]}`: an expression giving `[from, to]`, evaluated when the loop
    /// starts.
    RangeOf(Tmpl),
}

#[derive(Debug)]
pub struct Parallel {
    pub shared: Vec<String>,
    pub concurrency_limit: Option<Tmpl>,
    pub continue_all: bool,
    pub work: Work,
}

#[derive(Debug)]
pub enum Work {
    Branches(Vec<(String, Pos, Block)>),
    For(For),
}

/// What an action holds directly, each part with how its steps are entered: the one place
/// that knows the shape of every step kind. The walks over a definition (the deploy-time
/// checks, coverage, finding a step by its point) descend through [`Action::parts`], so a new
/// step kind is added here, in the builder and in the interpreter, and every walk sees its
/// steps.
#[derive(Clone, Copy, Debug)]
pub enum Part<'a> {
    /// A switch case: its action runs in the step's own scope when its condition holds.
    Case(&'a Case),
    /// A `try`'s body, run in the step's own scope, retried by its `retry`.
    Body(&'a Try),
    /// Nested `steps`, run in the step's own scope.
    Steps(&'a Block),
    /// An `except` block, run with the error caught in its variable.
    Except(&'a Except),
    /// A `for` loop's body: its loop variables, and what it defines, end with it.
    Loop(&'a For),
    /// A parallel step's branches or iterations ([`Parallel::threads`]), each a thread that
    /// writes its parent's variables only through `shared`.
    Parallel(&'a Parallel),
}

impl Action {
    /// The parts this action holds, in the order written (no match arm is a wildcard, so a
    /// new kind cannot be skipped silently).
    pub fn parts(&self) -> Vec<Part<'_>> {
        match self {
            Action::Nothing
            | Action::Assign(_)
            | Action::Call(_)
            | Action::Return(_)
            | Action::Raise(_) => Vec::new(),
            Action::Switch(cases) => cases.iter().map(Part::Case).collect(),
            Action::Try(t) => {
                let mut parts = vec![Part::Body(t)];
                parts.extend(t.except.as_ref().map(Part::Except));
                parts
            }
            Action::For(f) => vec![Part::Loop(f)],
            Action::Parallel(p) => vec![Part::Parallel(p)],
            Action::Steps(b) => vec![Part::Steps(b)],
        }
    }

    /// The blocks nested in this action, through switch cases and `try` bodies, in the order
    /// written; not their own nested blocks, and not subworkflows it calls.
    pub fn blocks(&self) -> Vec<&Block> {
        let mut out = Vec::new();
        for part in self.parts() {
            match part {
                Part::Case(c) => out.extend(c.action.blocks()),
                Part::Body(t) => out.extend(t.body.blocks()),
                Part::Steps(b) => out.push(b),
                Part::Except(e) => out.push(&e.steps),
                Part::Loop(f) => out.push(&f.steps),
                Part::Parallel(p) => out.extend(p.threads().into_iter().map(|(b, _)| b)),
            }
        }
        out
    }

    /// The variables this action itself assigns (`assign` targets, a call's `result`), not
    /// those of its parts.
    pub fn assigns(&self) -> Vec<&String> {
        match self {
            Action::Assign(items) => items.iter().map(|(t, _)| &t.root).collect(),
            Action::Call(c) => c.result.iter().collect(),
            Action::Nothing
            | Action::Switch(_)
            | Action::Return(_)
            | Action::Raise(_)
            | Action::Try(_)
            | Action::For(_)
            | Action::Parallel(_)
            | Action::Steps(_) => Vec::new(),
        }
    }
}

impl Step {
    /// Every `next` of this step: its own, then its switch cases'.
    pub fn nexts(&self) -> Vec<&Next> {
        let mut out: Vec<&Next> = self.next.iter().collect();
        if let Action::Switch(cases) = &self.action {
            out.extend(cases.iter().filter_map(|c| c.next.as_ref()));
        }
        out
    }
}

impl Parallel {
    /// The block each branch or iteration runs, with the loop that binds its variables (for
    /// a parallel `for`).
    pub fn threads(&self) -> Vec<(&Block, Option<&For>)> {
        match &self.work {
            Work::Branches(bs) => bs.iter().map(|(_, _, b)| (b, None)).collect(),
            Work::For(f) => vec![(&f.steps, Some(f))],
        }
    }
}

/// An assignment target: `a`, `a.b`, `a["k"]`, `a[0]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    pub root: String,
    pub path: Vec<Accessor>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Accessor {
    Field(String),
    Index(Expr),
}

/// A value as written, with `${...}` strings parsed.
#[derive(Clone, Debug, PartialEq)]
pub enum Tmpl {
    Lit(Value),
    Expr(Rc<Expr>, Pos),
    List(Vec<Tmpl>),
    Map(Vec<(MapKey, Tmpl)>),
}

/// A key of a map as written: text, or (EX-9) a key wholly `${...}`, evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum MapKey {
    Lit(String),
    Expr(Rc<Expr>, Pos),
}

impl Tmpl {
    /// The value of a literal; `None` for anything evaluated at run time.
    pub fn into_lit(self) -> Option<Value> {
        match self {
            Tmpl::Lit(v) => Some(v),
            _ => None,
        }
    }
}

/// A definition error at a place in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefnError {
    pub file: Rc<str>,
    pub pos: Pos,
    pub message: String,
}

impl fmt::Display for DefnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.pos, self.message)
    }
}

impl std::error::Error for DefnError {}

/// Reads and checks a definition. `file` names it in errors; its extension picks JSON or
/// YAML.
pub fn load(file: &str, text: &str) -> Result<Workflow, Vec<DefnError>> {
    let file: Rc<str> = file.into();
    if text.len() > crate::limits::SOURCE_BYTES_MAX {
        return Err(vec![DefnError {
            file,
            pos: Pos { line: 1, col: 1 },
            message: format!(
                "the definition is {} bytes; a workflow's source may hold at most {} (128 KiB)",
                text.len(),
                crate::limits::SOURCE_BYTES_MAX
            ),
        }]);
    }
    let root = tree::parse(text, Syntax::of_path(&file)).map_err(|e| {
        vec![DefnError {
            file: file.clone(),
            pos: e.pos,
            message: e.message,
        }]
    })?;
    build::build(file, &root)
}
