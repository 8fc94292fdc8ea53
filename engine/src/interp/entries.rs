//! Step entries: the execution's history as the Executions API's `stepEntries` give it
//! (SPEC EX-8). One small `Copy` record per step begun, and per sub-entry of a step (a loop's
//! iteration, a switch's condition, a `try`'s attempts and `except`, a parallel step's
//! branches), kept only when the host asks for them ([`ExecutionConfig::step_entries`]):
//! an execution nobody inspects pays one comparison per step. Names, step types and the
//! navigation's children are found only when read ([`Entries::resolve`]), from the `cover`
//! index each record keeps, as `Shared::positions` does. With
//! [`ExecutionConfig::step_variables`] (GCP's DETAILED history) each entry also keeps the
//! variables in scope as of its last update ([`Variables`]), within a byte budget.
//!
//! [`ExecutionConfig::step_entries`]: super::ExecutionConfig::step_entries
//! [`ExecutionConfig::step_variables`]: super::ExecutionConfig::step_variables

use std::collections::BTreeMap;

use super::frame::Frame;
use super::thread::ThreadId;
use crate::defn::{Action, Block, Step, Work, Workflow};
use crate::limits::VALUE_BYTES_MAX;
use crate::time::SimTime;
use crate::value::Value;

/// Entries kept per execution; later steps are not recorded, and
/// [`Entries::dropped`] counts them (SPEC EX-8, **decision**).
pub const STEP_ENTRIES_MAX: usize = 100_000;

/// Bytes of variable data kept per execution (DETAILED history), counted as SPEC §7 counts
/// a value's size, names included: 64 MiB, 128 executions' worth of GCP's 512 KB of
/// variables. A snapshot that does not fit in what is left is not kept (SPEC EX-8,
/// **decision**): each snapshot shares its values with the execution's, but holds on to
/// the ones the workflow has since replaced, so without a budget a loop that rewrites a
/// large value would keep every version.
pub const STEP_VARIABLES_BYTES_MAX: usize = 128 * VALUE_BYTES_MAX;

/// "No entry": the parent of a top-level step of `main`, and every step's entry while
/// nothing is recorded.
pub(super) const NO_ENTRY: u32 = u32::MAX;

/// GCP's `StepType` (the discovery document's order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StepType {
    Unspecified,
    Assign,
    StdLibCall,
    ConnectorCall,
    SubworkflowCall,
    Call,
    Switch,
    Condition,
    For,
    ForIteration,
    ParallelFor,
    ParallelBranch,
    ParallelBranchEntry,
    TryRetryExcept,
    Try,
    Retry,
    Except,
    Return,
    Raise,
    Goto,
}

impl StepType {
    pub const ALL: [StepType; 20] = [
        StepType::Unspecified,
        StepType::Assign,
        StepType::StdLibCall,
        StepType::ConnectorCall,
        StepType::SubworkflowCall,
        StepType::Call,
        StepType::Switch,
        StepType::Condition,
        StepType::For,
        StepType::ForIteration,
        StepType::ParallelFor,
        StepType::ParallelBranch,
        StepType::ParallelBranchEntry,
        StepType::TryRetryExcept,
        StepType::Try,
        StepType::Retry,
        StepType::Except,
        StepType::Return,
        StepType::Raise,
        StepType::Goto,
    ];

    /// The enum's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            StepType::Unspecified => "STEP_TYPE_UNSPECIFIED",
            StepType::Assign => "STEP_ASSIGN",
            StepType::StdLibCall => "STEP_STD_LIB_CALL",
            StepType::ConnectorCall => "STEP_CONNECTOR_CALL",
            StepType::SubworkflowCall => "STEP_SUBWORKFLOW_CALL",
            StepType::Call => "STEP_CALL",
            StepType::Switch => "STEP_SWITCH",
            StepType::Condition => "STEP_CONDITION",
            StepType::For => "STEP_FOR",
            StepType::ForIteration => "STEP_FOR_ITERATION",
            StepType::ParallelFor => "STEP_PARALLEL_FOR",
            StepType::ParallelBranch => "STEP_PARALLEL_BRANCH",
            StepType::ParallelBranchEntry => "STEP_PARALLEL_BRANCH_ENTRY",
            StepType::TryRetryExcept => "STEP_TRY_RETRY_EXCEPT",
            StepType::Try => "STEP_TRY",
            StepType::Retry => "STEP_RETRY",
            StepType::Except => "STEP_EXCEPT",
            StepType::Return => "STEP_RETURN",
            StepType::Raise => "STEP_RAISE",
            StepType::Goto => "STEP_GOTO",
        }
    }
}

/// GCP's step entry `State`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryState {
    InProgress,
    Succeeded,
    Failed,
    Cancelled,
}

impl EntryState {
    pub const ALL: [EntryState; 4] = [
        EntryState::InProgress,
        EntryState::Succeeded,
        EntryState::Failed,
        EntryState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryState::InProgress => "STATE_IN_PROGRESS",
            EntryState::Succeeded => "STATE_SUCCEEDED",
            EntryState::Failed => "STATE_FAILED",
            EntryState::Cancelled => "STATE_CANCELLED",
        }
    }

    /// The enum's number in the API (`STATE_UNSPECIFIED` is 0).
    pub fn number(self) -> u32 {
        self as u32 + 1
    }
}

/// GCP's `StepEntryMetadata.ProgressType`: what an entry counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressType {
    For,
    Switch,
    Retry,
    ParallelFor,
    ParallelBranch,
}

impl ProgressType {
    pub fn as_str(self) -> &'static str {
        match self {
            ProgressType::For => "PROGRESS_TYPE_FOR",
            ProgressType::Switch => "PROGRESS_TYPE_SWITCH",
            ProgressType::Retry => "PROGRESS_TYPE_RETRY",
            ProgressType::ParallelFor => "PROGRESS_TYPE_PARALLEL_FOR",
            ProgressType::ParallelBranch => "PROGRESS_TYPE_PARALLEL_BRANCH",
        }
    }

    /// The enum's number in the API (`PROGRESS_TYPE_UNSPECIFIED` is 0).
    pub fn number(self) -> u32 {
        self as u32 + 1
    }
}

/// What a record stands for: a step (its type read from the step when asked) or one of
/// the sub-entries a step makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Step,
    /// Iteration `progress` of a `for`.
    ForIteration,
    /// Case `progress` of a switch held.
    Condition,
    /// A `try`'s first attempt.
    Try,
    /// Retry number `progress`.
    Retry,
    Except,
    /// Branch `progress` of a parallel step.
    Branch,
    /// Iteration `progress` of a parallel `for`.
    ParallelIteration,
}

/// One entry as recorded: small and `Copy`, so that recording is a push.
#[derive(Clone, Copy, Debug)]
struct Rec {
    /// The step's coverage point (a sub-entry's: the step it belongs to).
    cover: u32,
    kind: Kind,
    state: EntryState,
    /// 1, 2, … for a sub-entry that counts (see [`Kind`]); 0 otherwise.
    progress: u32,
    /// How many iterations a loop has, for its iterations' entries.
    expected: u32,
    thread: ThreadId,
    parent: u32,
    previous: u32,
    next: u32,
    /// The last entry begun with this one as its parent.
    last_child: u32,
    created: SimTime,
    updated: SimTime,
}

/// An execution's recorded entries.
#[derive(Debug, Default)]
pub(super) struct Entries {
    recs: Vec<Rec>,
    /// The last top-level entry of `main` (whose parent is [`NO_ENTRY`]).
    last_root: u32,
    /// The errors that failed entries, by entry index.
    exceptions: BTreeMap<u32, Value>,
    /// Entries not recorded for the cap ([`STEP_ENTRIES_MAX`]).
    pub(super) dropped: u64,
    /// Each entry's variables, when the history is DETAILED.
    variables: Option<Variables>,
}

/// The variables each entry saw (EX-8's `variableData`): taken when it begins and again
/// when it ends, so an entry in progress shows what its step started with and one that
/// ended what it left; an entry stopped (a branch, a cancel) keeps its first.
#[derive(Debug, Default)]
struct Variables {
    /// By entry index.
    kept: Vec<Snapshot>,
    /// What the kept snapshots count, within [`STEP_VARIABLES_BYTES_MAX`].
    bytes: usize,
}

#[derive(Debug, Default)]
enum Snapshot {
    #[default]
    None,
    /// The variables by name, and the bytes they count.
    Kept(Box<[(String, Value)]>, usize),
    /// The last snapshot did not fit in the budget.
    Dropped,
}

impl Variables {
    /// Entry `id`'s variables are now those `frame` can read: they replace the entry's
    /// last snapshot, or, past the budget, leave the entry without one.
    fn take(&mut self, id: u32, frame: &Frame) {
        let i = id as usize;
        if self.kept.len() <= i {
            self.kept.resize_with(i + 1, Snapshot::default);
        }
        if let Snapshot::Kept(_, size) = std::mem::take(&mut self.kept[i]) {
            self.bytes -= size;
        }
        let vars = frame.visible();
        let size: usize = vars.iter().map(|(k, v)| k.len() + v.bytes()).sum();
        self.kept[i] = if self.bytes + size <= STEP_VARIABLES_BYTES_MAX {
            self.bytes += size;
            Snapshot::Kept(vars.into_iter().collect(), size)
        } else {
            Snapshot::Dropped
        };
    }
}

impl Entries {
    /// No entries yet; `variables`: each will keep its variables (DETAILED history).
    pub(super) fn new(variables: bool) -> Entries {
        Entries {
            last_root: NO_ENTRY,
            variables: variables.then(Variables::default),
            ..Entries::default()
        }
    }

    /// Whether entries keep their variables.
    pub(super) fn keeps_variables(&self) -> bool {
        self.variables.is_some()
    }

    /// Entry `id`'s variables by name (`None`: the history is not DETAILED, or the
    /// budget left them out).
    pub(super) fn variables(&self, id: u32) -> Option<&[(String, Value)]> {
        match self.variables.as_ref()?.kept.get(id as usize)? {
            Snapshot::Kept(vars, _) => Some(vars),
            _ => None,
        }
    }

    /// Entries whose variables [`STEP_VARIABLES_BYTES_MAX`] left out.
    pub(super) fn variables_dropped(&self) -> u64 {
        self.variables.as_ref().map_or(0, |v| {
            v.kept
                .iter()
                .filter(|s| matches!(s, Snapshot::Dropped))
                .count() as u64
        })
    }

    /// Begins an entry under `parent` at `now`, in `frame`; its index, or [`NO_ENTRY`]
    /// past the cap.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn begin(
        &mut self,
        now: SimTime,
        thread: ThreadId,
        parent: u32,
        cover: u32,
        kind: Kind,
        progress: u32,
        expected: u32,
        frame: &Frame,
    ) -> u32 {
        if self.recs.len() >= STEP_ENTRIES_MAX {
            self.dropped += 1;
            return NO_ENTRY;
        }
        let id = self.recs.len() as u32;
        let previous = match self.recs.get_mut(parent as usize) {
            Some(p) => std::mem::replace(&mut p.last_child, id),
            None => std::mem::replace(&mut self.last_root, id),
        };
        if let Some(prev) = self.recs.get_mut(previous as usize) {
            prev.next = id;
        }
        self.recs.push(Rec {
            cover,
            kind,
            state: EntryState::InProgress,
            progress,
            expected,
            thread,
            parent,
            previous,
            next: NO_ENTRY,
            last_child: NO_ENTRY,
            created: now,
            updated: now,
        });
        if let Some(v) = &mut self.variables {
            v.take(id, frame);
        }
        id
    }

    /// Entry `id` ended at `now`, in `frame`: succeeded, or failed with `error`.
    pub(super) fn finish(&mut self, id: u32, now: SimTime, error: Option<&Value>, frame: &Frame) {
        if (id as usize) >= self.recs.len() {
            return;
        }
        if let Some(v) = &mut self.variables {
            v.take(id, frame);
        }
        let r = &mut self.recs[id as usize];
        r.updated = now;
        r.state = match error {
            None => EntryState::Succeeded,
            Some(e) => {
                self.exceptions.insert(id, e.clone());
                EntryState::Failed
            }
        };
    }

    /// The entries still in progress whose thread `stopped` says is gone end `state` at
    /// `now` (branches stopped, or the execution ended under them).
    pub(super) fn stop(
        &mut self,
        now: SimTime,
        state: EntryState,
        stopped: impl Fn(ThreadId) -> bool,
    ) {
        for r in &mut self.recs {
            if r.state == EntryState::InProgress && stopped(r.thread) {
                r.state = state;
                r.updated = now;
            }
        }
    }

    /// The step of entry `id`: its own, or the one it is a sub-entry of.
    pub(super) fn cover_of(&self, id: u32) -> u32 {
        self.recs.get(id as usize).map_or(u32::MAX, |r| r.cover)
    }

    pub(super) fn len(&self) -> usize {
        self.recs.len()
    }

    /// Every entry with its names, type and navigation, from `workflow`'s steps.
    pub(super) fn resolve(&self, workflow: &Workflow) -> Vec<StepEntry> {
        let steps = steps_by_cover(workflow);
        let mut children: Vec<Vec<u64>> = vec![Vec::new(); self.recs.len()];
        for (i, r) in self.recs.iter().enumerate() {
            if let Some(c) = children.get_mut(r.parent as usize) {
                c.push(i as u64 + 1);
            }
        }
        let id = |i: u32| (i != NO_ENTRY).then_some(u64::from(i) + 1);
        self.recs
            .iter()
            .zip(children)
            .enumerate()
            .map(|(i, (r, children))| {
                let (step, routine) = steps
                    .get(r.cover as usize)
                    .copied()
                    .flatten()
                    .map_or((None, ""), |(s, routine)| (Some(s), routine));
                let (step_type, name, progress) = describe(r, step, workflow);
                StepEntry {
                    id: i as u64 + 1,
                    step: name,
                    routine: routine.to_owned(),
                    step_type,
                    state: r.state,
                    created: r.created,
                    updated: r.updated,
                    parent: id(r.parent),
                    children,
                    next: id(r.next),
                    previous: id(r.previous),
                    progress,
                    expected_iteration: (r.expected > 0).then_some(r.expected),
                    thread: (r.thread != ThreadId(0)).then_some(r.thread.0),
                    exception: self.exceptions.get(&(i as u32)).cloned(),
                }
            })
            .collect()
    }
}

/// A record's type, step name and progress.
fn describe(
    r: &Rec,
    step: Option<&Step>,
    workflow: &Workflow,
) -> (StepType, String, Option<(ProgressType, u32)>) {
    let name = step.map_or_else(String::new, |s| s.name.clone());
    let counted = |t| Some((t, r.progress));
    match r.kind {
        Kind::Step => (
            step.map_or(StepType::Unspecified, |s| step_type(s, workflow)),
            name,
            None,
        ),
        Kind::ForIteration => (StepType::ForIteration, name, counted(ProgressType::For)),
        Kind::Condition => (StepType::Condition, name, counted(ProgressType::Switch)),
        Kind::Try => (StepType::Try, name, None),
        Kind::Retry => (StepType::Retry, name, counted(ProgressType::Retry)),
        Kind::Except => (StepType::Except, name, None),
        Kind::ParallelIteration => (
            StepType::ForIteration,
            name,
            counted(ProgressType::ParallelFor),
        ),
        Kind::Branch => {
            // A branch's entry is named after the branch, as the definition names it.
            let branch = step.and_then(|s| match &s.action {
                Action::Parallel(p) => match &p.work {
                    Work::Branches(bs) => bs.get(r.progress.checked_sub(1)? as usize),
                    Work::For(_) => None,
                },
                _ => None,
            });
            (
                StepType::ParallelBranchEntry,
                branch.map_or(name, |(b, _, _)| b.clone()),
                counted(ProgressType::ParallelBranch),
            )
        }
    }
}

/// What kind of step `step` is, in the API's words.
fn step_type(step: &Step, workflow: &Workflow) -> StepType {
    match &step.action {
        Action::Nothing => StepType::Goto,
        Action::Assign(_) => StepType::Assign,
        Action::Call(c) if workflow.subworkflow(&c.func).is_some() => StepType::SubworkflowCall,
        Action::Call(c) if crate::stdlib::table::is_connector(&c.func) => StepType::ConnectorCall,
        Action::Call(_) => StepType::StdLibCall,
        Action::Switch(_) => StepType::Switch,
        Action::Return(_) => StepType::Return,
        Action::Raise(_) => StepType::Raise,
        Action::Try(_) => StepType::TryRetryExcept,
        Action::For(_) => StepType::For,
        Action::Parallel(p) => match p.work {
            Work::Branches(_) => StepType::ParallelBranch,
            Work::For(_) => StepType::ParallelFor,
        },
        // Nested `steps`: a block GCP's enum has no name for.
        Action::Steps(_) => StepType::Unspecified,
    }
}

/// Each coverage point's step and routine, by `cover` index (a case, `except` or `retry`
/// point has none): the names of a whole history found in one walk of the definition.
fn steps_by_cover(workflow: &Workflow) -> Vec<Option<(&Step, &str)>> {
    let mut out = vec![None; workflow.points as usize];
    let mut subs = vec![&workflow.main];
    subs.extend(workflow.subworkflows.values());
    for sub in subs {
        walk(&sub.steps, &sub.name, &mut out);
    }
    out
}

fn walk<'a>(block: &'a Block, routine: &'a str, out: &mut Vec<Option<(&'a Step, &'a str)>>) {
    for step in block.iter() {
        if let Some(slot) = out.get_mut(step.cover as usize) {
            *slot = Some((step, routine));
        }
        for b in step.action.blocks() {
            walk(b, routine, out);
        }
    }
}

/// One step entry, resolved: what the API and the reports show.
#[derive(Clone, Debug, PartialEq)]
pub struct StepEntry {
    /// 1, 2, … in the order entries began (GCP's `entryId`).
    pub id: u64,
    pub step: String,
    pub routine: String,
    pub step_type: StepType,
    pub state: EntryState,
    pub created: SimTime,
    /// When it ended, or `created` while in progress.
    pub updated: SimTime,
    /// The entry it runs inside: the call step of a subworkflow's steps, the loop
    /// iteration, branch, attempt or case of a block's steps.
    pub parent: Option<u64>,
    pub children: Vec<u64>,
    /// The entries begun before and after it under the same parent.
    pub next: Option<u64>,
    pub previous: Option<u64>,
    /// What it counts, and its number (1, 2, …).
    pub progress: Option<(ProgressType, u32)>,
    /// A loop's iteration count, on each iteration's entry.
    pub expected_iteration: Option<u32>,
    /// The parallel branch's thread it ran in; `None` for main's.
    pub thread: Option<u64>,
    /// The error that failed it.
    pub exception: Option<Value>,
}
