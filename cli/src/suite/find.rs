//! Which files `wfsim test` runs: under each path, every YAML or JSON map with a `workflow:`
//! key (a scenario; an explore file when it has `explore:` too), skipping `target/`,
//! `explore-failures/` (reproducers, which fail by design), hidden folders, and what
//! `.gitignore` or `.wfsimignore` ignore (the same syntax; files meant to fail are kept out
//! of a whole-folder run this way). A file named on the command line is always taken.

use std::path::{Path, PathBuf};

use wfsim_engine::defn::tree::{self, Syntax};

/// What a found file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Scenario,
    Explore,
}

/// A file to run, or one that looks like a scenario but cannot be read as one.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub path: PathBuf,
    /// `Err`: why it is invalid (it does not parse, or it was named and is no scenario).
    pub kind: Result<Kind, String>,
    /// The workflow it names, resolved against its folder: shards compare its contents too.
    pub workflow: Option<PathBuf>,
}

fn is_candidate(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
}

/// What the file at `path` is: `None` when it is not a scenario (a workflow, or other
/// data), so a folder's walk leaves it out.
fn classify(path: &Path) -> Option<Found> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return Some(Found {
                path: path.to_path_buf(),
                kind: Err(format!("{}: cannot read: {e}", path.display())),
                workflow: None,
            });
        }
    };
    let name = path.display().to_string();
    match tree::parse(&text, Syntax::of_path(&name)) {
        Ok(root) => {
            let m = root.as_map()?;
            let has = |k: &str| m.iter().any(|(key, _, _)| key == k);
            if !has("workflow") || has("main") {
                return None;
            }
            let kind = if has("explore") {
                Kind::Explore
            } else {
                Kind::Scenario
            };
            let workflow = m
                .iter()
                .find(|(k, _, _)| k == "workflow")
                .and_then(|(_, _, v)| v.as_str())
                .map(|w| path.parent().unwrap_or(Path::new(".")).join(w));
            Some(Found {
                path: path.to_path_buf(),
                kind: Ok(kind),
                workflow,
            })
        }
        // Text that does not parse is a scenario's only if it says so on a line of its own.
        Err(e) if text.lines().any(|l| l.starts_with("workflow:")) => Some(Found {
            path: path.to_path_buf(),
            kind: Err(format!("{name}:{}: {}", e.pos, e.message)),
            workflow: None,
        }),
        Err(_) => None,
    }
}

/// Every scenario and explore file under `paths`, sorted by path, each once.
pub(crate) fn find(paths: &[PathBuf]) -> Result<Vec<Found>, String> {
    let mut out: Vec<Found> = Vec::new();
    for root in paths {
        if root.is_file() {
            out.push(classify(root).unwrap_or_else(|| Found {
                path: root.clone(),
                kind: Err(format!(
                    "{}: not a scenario or explore file (a YAML or JSON map with a `workflow:` key)",
                    root.display()
                )),
                workflow: None,
            }));
            continue;
        }
        if !root.is_dir() {
            return Err(format!("{}: no such file or folder", root.display()));
        }
        let walk = ignore::WalkBuilder::new(root)
            .hidden(true)
            .git_ignore(true)
            .git_global(false)
            .git_exclude(false)
            .require_git(false)
            .add_custom_ignore_filename(".wfsimignore")
            .filter_entry(|e| {
                let dir = e.file_type().is_some_and(|t| t.is_dir());
                !(dir && (e.file_name() == "target" || e.file_name() == wfsim_explore::repro::DIR))
            })
            .build();
        for entry in walk {
            let entry = entry.map_err(|e| format!("{}: {e}", root.display()))?;
            // `./a/b.yaml` as `a/b.yaml`: how the report names it.
            let path = entry.path().strip_prefix(".").unwrap_or(entry.path());
            if entry.file_type().is_some_and(|t| t.is_file()) && is_candidate(path) {
                out.extend(classify(path));
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path);
    Ok(out)
}
