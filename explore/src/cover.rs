//! Step coverage of a run, its own workflow's and each child workflow's (HT-10), as the
//! rows a report lists. `wfsim explore` counts the seeds that reached a point and `wfsim
//! test` the passes; both make their rows here, so a point is named the same in both.

use std::collections::{BTreeMap, BTreeSet};

use wfsim_engine::coverage::{self, Counts, Point, Site};
use wfsim_harness::children::Library;
use wfsim_harness::runner::Run;
use wfsim_harness::scenario::tidy_path;

use wfsim_engine::defn::Pos;

/// A point of a workflow and how many seeds (explore) or passes (a scenario) reached it.
#[derive(Clone, Debug, PartialEq)]
pub struct CoverRow {
    pub pos: Pos,
    pub point: Point,
    pub subworkflow: String,
    pub label: String,
    /// Seeds that reached it (passes, in a scenario's coverage).
    pub seeds: u64,
}

/// The coverage of one child workflow, named by its file.
#[derive(Clone, Debug, PartialEq)]
pub struct ChildCover {
    /// The workflow's file, as `SF:` and the JSON name it.
    pub workflow: String,
    pub coverage: Vec<CoverRow>,
}

/// Every point of `sites` with its count in `reached`, then the later retry attempts
/// reached (points of their own once reached, named after their first), by position.
pub fn rows(sites: &[Site], reached: &Counts) -> Vec<CoverRow> {
    let mut rows: Vec<CoverRow> = sites
        .iter()
        .map(|s| CoverRow {
            pos: s.pos,
            point: s.point,
            subworkflow: s.subworkflow.clone(),
            label: s.label.clone(),
            seeds: reached.get(&(s.pos, s.point)).copied().unwrap_or(0),
        })
        .collect();
    for (&(pos, point), &n) in reached {
        if sites.iter().any(|s| s.pos == pos && s.point == point) {
            continue;
        }
        let base = sites
            .iter()
            .find(|s| s.pos == pos && matches!(s.point, Point::Retry(_)));
        let (subworkflow, label) = match (base, point) {
            (Some(b), Point::Retry(k)) => (
                b.subworkflow.clone(),
                b.label.replacen("retry 1", &format!("retry {k}"), 1),
            ),
            _ => (String::new(), format!("{point:?}")),
        };
        rows.push(CoverRow {
            pos,
            point,
            subworkflow,
            label,
            seeds: n,
        });
    }
    rows.sort_by_key(|r| (r.pos, r.point));
    rows
}

/// A workflow's file as reports name it (`a/./b/../c.yaml` → `a/c.yaml`).
pub fn file_name(file: &str) -> String {
    tidy_path(std::path::Path::new(file)).display().to_string()
}

/// The child workflows a report lists, by file, with their points: every child `library`
/// loaded ahead (so one never started shows as unreached) and each of `started` (names of
/// children a run started, a computed name among them).
pub fn child_sites<'a>(
    library: &Library,
    started: impl IntoIterator<Item = &'a str>,
) -> BTreeMap<String, Vec<Site>> {
    let mut out = BTreeMap::new();
    let mut names: BTreeSet<&str> = started.into_iter().collect();
    names.extend(library.workflows.keys().map(String::as_str));
    for name in names {
        if let Ok(w) = library.get(name) {
            out.entry(file_name(&w.file))
                .or_insert_with(|| coverage::points(&w));
        }
    }
    out
}

/// The passes of each child workflow `run` started, by the child's file (children of one
/// workflow summed), with a name it was started by.
pub fn children_passes(run: &Run, library: &Library) -> BTreeMap<String, (String, Counts)> {
    let mut out: BTreeMap<String, (String, Counts)> = BTreeMap::new();
    for c in &run.children {
        let Ok(w) = library.get(&c.workflow) else {
            continue;
        };
        let counts = coverage::by_position(&coverage::points(&w), &c.execution.coverage());
        let (_, sum) = out
            .entry(file_name(&w.file))
            .or_insert_with(|| (c.workflow.clone(), Counts::new()));
        for (k, n) in counts {
            *sum.entry(k).or_insert(0) += n;
        }
    }
    out
}

/// The rows of each child workflow of `sites`, counts from `reached` (by file).
pub fn child_rows(
    sites: &BTreeMap<String, Vec<Site>>,
    reached: &BTreeMap<String, Counts>,
) -> Vec<ChildCover> {
    let empty = Counts::new();
    sites
        .iter()
        .map(|(file, s)| ChildCover {
            workflow: file.clone(),
            coverage: rows(s, reached.get(file).unwrap_or(&empty)),
        })
        .collect()
}

/// `children` of several runs or shards as one: rows of one file and point summed.
pub fn merge_children<'a>(children: impl IntoIterator<Item = &'a ChildCover>) -> Vec<ChildCover> {
    let mut by_file: BTreeMap<&str, BTreeMap<(Pos, Point), CoverRow>> = BTreeMap::new();
    for c in children {
        let rows = by_file.entry(&c.workflow).or_default();
        for r in &c.coverage {
            rows.entry((r.pos, r.point))
                .and_modify(|w| w.seeds += r.seeds)
                .or_insert_with(|| r.clone());
        }
    }
    by_file
        .into_iter()
        .map(|(f, rows)| ChildCover {
            workflow: f.to_owned(),
            coverage: rows.into_values().collect(),
        })
        .collect()
}
