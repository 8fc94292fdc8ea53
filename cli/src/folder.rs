//! The workflows `wfsim serve` deploys from files and folders, and the watcher that keeps
//! them deployed as they are saved: a changed file is a new revision (executions already
//! running keep theirs), a file that fails the deploy checks is reported at its
//! `file:line:column` while the last good revision keeps serving, a removed file deletes
//! its workflow. Each change goes through the state as an input (`deploy`, `undeploy`), so
//! a `--state-dir` restart replays it.
//!
//! Files are polled, not watched through the operating system's notifications: a folder of
//! workflows is a few dozen small files, reading them twice a second costs nothing, and
//! polling behaves alike on every system and file system (network mounts, containers'
//! bind mounts, editors that save by rename).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use wfsim_engine::defn::tree::{self, Syntax};
use wfsim_server::Shared;
use wfsim_server::api::{WORKFLOW_ID_RULE, is_workflow_id};

/// One workflow source found on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Source {
    /// The workflow id: the file's name without its extension.
    pub(crate) name: String,
    /// The path as given or found, for positions in errors.
    pub(crate) file: String,
    pub(crate) text: String,
}

/// What a scan of the paths found: sources by workflow id, and what could not be taken
/// (unreadable files, ids GCP refuses, two files for one id), one line each.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub(crate) sources: BTreeMap<String, Source>,
    pub(crate) problems: Vec<String>,
}

/// Whether a file in a folder is a workflow by its name: YAML or JSON, not hidden.
fn looks_like_workflow_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    !name.starts_with('.')
        && matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        )
}

/// A scenario, explore, services or triggers file (a map with `workflow:`, `explore:`,
/// `services:` or `triggers:` at the top) beside the workflows is not one of them. A file that does not parse is
/// taken as a workflow, so that its error is reported.
fn is_companion_file(file: &str, text: &str) -> bool {
    match tree::parse(text, Syntax::of_path(file)) {
        Ok(root) => root.as_map().is_some_and(|entries| {
            entries.iter().any(|(k, _, _)| {
                matches!(k.as_str(), "workflow" | "explore" | "services" | "triggers")
            })
        }),
        Err(_) => false,
    }
}

/// The triggers of each folder's `triggers.yaml` (HT-13), read once at start: a map whose
/// `triggers` is a list of what `--trigger` takes, `pubsub:projects/P/topics/T=WORKFLOW`.
pub(crate) fn triggers(paths: &[PathBuf]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for dir in paths.iter().filter(|p| p.is_dir()) {
        let path = dir.join("triggers.yaml");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let file = path.display().to_string();
        let root = tree::parse(&text, Syntax::Yaml)
            .map_err(|e| format!("{file}:{}: {}", e.pos, e.message))?;
        let list = root
            .as_map()
            .and_then(|m| m.iter().find(|(k, _, _)| k == "triggers"))
            .and_then(|(_, _, v)| v.as_seq())
            .ok_or_else(|| {
                format!("{file}: must be a map whose 'triggers' is a list of pubsub:projects/P/topics/T=WORKFLOW")
            })?;
        for item in list {
            let t = item.as_str().ok_or_else(|| {
                format!(
                    "{file}:{}: a trigger is a string pubsub:projects/P/topics/T=WORKFLOW, not a {}",
                    item.pos,
                    item.describe()
                )
            })?;
            out.push(t.to_owned());
        }
    }
    Ok(out)
}

/// Reads the paths: a file is a workflow whatever it holds; a folder gives its YAML and
/// JSON files (not its subfolders, nor hidden files, nor scenario, explore and services
/// files). Sorted by workflow id, so that what is deployed first never depends on the
/// order a directory lists its entries in.
pub(crate) fn scan(paths: &[PathBuf]) -> Scan {
    let mut scan = Scan::default();
    for path in paths {
        if path.is_dir() {
            let entries = match std::fs::read_dir(path) {
                Ok(entries) => entries,
                Err(e) => {
                    scan.problems
                        .push(format!("{}: cannot read the folder: {e}", path.display()));
                    continue;
                }
            };
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && looks_like_workflow_file(p))
                .collect();
            files.sort();
            for file in files {
                take(&mut scan, &file, true);
            }
        } else {
            take(&mut scan, path, false);
        }
    }
    scan
}

fn take(scan: &mut Scan, path: &Path, in_folder: bool) {
    let file = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        // A file removed between the listing and the read is simply gone.
        Err(e) if in_folder && e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            scan.problems.push(format!("{file}: cannot read: {e}"));
            return;
        }
    };
    if in_folder && is_companion_file(&file, &text) {
        return;
    }
    let name = path
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    if !is_workflow_id(&name) {
        scan.problems.push(format!(
            "{file}: '{name}' is not a workflow id ({WORKFLOW_ID_RULE}): rename the file"
        ));
        return;
    }
    if let Some(first) = scan.sources.get(&name) {
        scan.problems.push(format!(
            "{file}: workflow '{name}' is already deployed from {}: rename one of them",
            first.file
        ));
        return;
    }
    scan.sources
        .insert(name.clone(), Source { name, file, text });
}

/// Deploys one source at server time `now`: a line saying what happened (a new revision,
/// or the file's errors and the revision that keeps serving), and whether it deployed.
pub(crate) fn deploy(
    state: &mut wfsim_server::State,
    now: wfsim_engine::SimTime,
    s: &Source,
) -> (String, bool) {
    let before = state.current_revision(&s.name);
    match state.deploy_source(now, &s.name, &s.file, &s.text) {
        Ok(revision) if before.as_ref() == Some(&revision) => (
            format!("workflow {}: {} unchanged ({revision})", s.name, s.file),
            true,
        ),
        Ok(revision) => (
            format!("workflow {}: revision {revision} from {}", s.name, s.file),
            true,
        ),
        Err(errors) => {
            let mut lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            lines.push(match before {
                Some(r) => format!(
                    "workflow {}: not deployed; revision {r} keeps serving",
                    s.name
                ),
                None => format!("workflow {}: not deployed", s.name),
            });
            (lines.join("\n"), false)
        }
    }
}

/// Polls `paths` every `every` for as long as the server runs, deploying what changed and
/// deleting what is gone; each change is a line for `say` (the operator's log).
pub(crate) fn watch(
    shared: &Shared,
    paths: Vec<PathBuf>,
    every: Duration,
    mut seen: Scan,
    say: std::rc::Rc<dyn Fn(String)>,
) {
    let shared = shared.clone();
    tokio::task::spawn_local(async move {
        loop {
            tokio::time::sleep(every).await;
            let now_scan = scan(&paths);
            // Problems are said once, when they first appear, not at every poll.
            for p in &now_scan.problems {
                if !seen.problems.contains(p) {
                    say(format!("ERROR    {p}"));
                }
            }
            let mut changed = false;
            for (name, source) in &now_scan.sources {
                if seen.sources.get(name) == Some(source) {
                    continue;
                }
                let now = shared.now();
                let (line, _) = deploy(&mut shared.state.borrow_mut(), now, source);
                say(line);
                changed = true;
            }
            for name in seen.sources.keys() {
                if now_scan.sources.contains_key(name) {
                    continue;
                }
                let now = shared.now();
                if shared.state.borrow_mut().undeploy_source(now, name) {
                    say(format!("workflow {name}: deleted (its file is gone)"));
                    changed = true;
                }
            }
            if changed {
                shared.flush();
                if let Err(e) = shared.make_durable().await {
                    say(format!("ERROR    {e}"));
                }
                shared.changed.notify_one();
            }
            seen = now_scan;
        }
    });
}

/// Polls the services file at `path` every `every` (`wfsim serve --services FILE`): a save
/// that reads is the services of executions started from then on (running ones keep
/// theirs), recorded as an input; one that does not is said once, at its
/// `file:line:column`, and the services in use stay. Checked once at the start too: a
/// restart on a state dir replays the services it had, and the file may have changed since.
pub(crate) fn watch_services(
    shared: &Shared,
    path: PathBuf,
    every: Duration,
    say: std::rc::Rc<dyn Fn(String)>,
) {
    let shared = shared.clone();
    let file = path.display().to_string();
    tokio::task::spawn_local(async move {
        let mut refused: Option<String> = None;
        loop {
            // A file being saved may be missing for a moment: the next poll reads it.
            if let Ok(text) = std::fs::read_to_string(&path) {
                let now = shared.now();
                let result = shared.state.borrow_mut().reload_services(now, &file, &text);
                match result {
                    Ok(true) => {
                        refused = None;
                        say(format!(
                            "services: {file} read again; executions started from now on use it"
                        ));
                        shared.flush();
                        if let Err(e) = shared.make_durable().await {
                            say(format!("ERROR    {e}"));
                        }
                        shared.changed.notify_one();
                    }
                    Ok(false) => refused = None,
                    Err(e) if refused.as_ref() != Some(&e) => {
                        say(format!(
                            "ERROR    {e}\nservices: {file} not read; the services in use stay"
                        ));
                        refused = Some(e);
                    }
                    Err(_) => {}
                }
            }
            tokio::time::sleep(every).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(files: &[(&str, &str)]) -> PathBuf {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wfsim-folder-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn a_folder_gives_its_workflows_and_skips_the_rest() {
        let dir = folder(&[
            ("b.yaml", "main:\n  steps:\n    - r:\n        return: 1\n"),
            ("a.json", "{\"main\": {\"steps\": []}}"),
            ("scenario.yaml", "workflow: b.yaml\nrequests: []\n"),
            ("services.yaml", "services: []\n"),
            (".hidden.yaml", "main: {}\n"),
            ("notes.txt", "x"),
            ("sub/c.yaml", "main: {}\n"),
            ("9lives.yaml", "main: {}\n"),
            ("broken.yaml", "main: [\n"),
        ]);
        let scan = scan(std::slice::from_ref(&dir));
        let names: Vec<&String> = scan.sources.keys().collect();
        assert_eq!(names, ["a", "b", "broken"], "{:?}", scan.problems);
        assert_eq!(scan.problems.len(), 1, "{:?}", scan.problems);
        assert!(scan.problems[0].contains("'9lives' is not a workflow id"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn two_files_for_one_workflow_are_refused_by_name() {
        let dir = folder(&[("flow.yaml", "main: {}\n"), ("flow.json", "{}")]);
        let scan = scan(std::slice::from_ref(&dir));
        assert_eq!(scan.sources.len(), 1);
        assert!(
            scan.problems[0].contains("flow.yaml: workflow 'flow' is already deployed from")
                && scan.problems[0].contains("flow.json"),
            "{:?}",
            scan.problems
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_named_file_is_a_workflow_whatever_it_holds() {
        let dir = folder(&[("scenario.yaml", "workflow: x.yaml\n")]);
        let scan = scan(&[dir.join("scenario.yaml")]);
        assert_eq!(scan.sources.keys().collect::<Vec<_>>(), ["scenario"]);
        let missing = super::scan(&[dir.join("nope.yaml")]);
        assert!(missing.problems[0].contains("nope.yaml: cannot read"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_folders_triggers_file_is_read_and_not_deployed() {
        let dir = folder(&[
            ("flow.yaml", "- r:\n    return: 1\n"),
            (
                "triggers.yaml",
                "triggers:\n  - pubsub:projects/p/topics/t=flow\n  - pubsub:projects/p/topics/u=flow\n",
            ),
        ]);
        let found = scan(std::slice::from_ref(&dir));
        assert_eq!(found.sources.keys().collect::<Vec<_>>(), ["flow"]);
        assert!(found.problems.is_empty(), "{:?}", found.problems);
        assert_eq!(
            triggers(std::slice::from_ref(&dir)).unwrap(),
            [
                "pubsub:projects/p/topics/t=flow",
                "pubsub:projects/p/topics/u=flow"
            ]
        );
        let none = folder(&[("flow.yaml", "- r:\n    return: 1\n")]);
        assert!(triggers(&[none]).unwrap().is_empty());
        let bad = folder(&[("triggers.yaml", "triggers:\n  - {a: 1}\n")]);
        let e = triggers(&[bad]).unwrap_err();
        assert!(
            e.contains("triggers.yaml:2:5: a trigger is a string"),
            "{e}"
        );
        let bad = folder(&[("triggers.yaml", "triggers: 1\n")]);
        let e = triggers(&[bad]).unwrap_err();
        assert!(
            e.contains("must be a map whose 'triggers' is a list"),
            "{e}"
        );
    }
}
