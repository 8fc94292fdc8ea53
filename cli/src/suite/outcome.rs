//! What `wfsim test` found for each file, and the one JSON object it prints: nothing from
//! the wall clock in it (times are the text's only), so two runs, any `--jobs`, and the
//! merge of shards compare byte for byte. A shard's object carries `partial` (what the
//! merge checks and rebuilds from); the whole's has none.

use serde_json::{Value as Json, json};
use wfsim_explore::cover::ChildCover;
use wfsim_explore::report::{CoverRow, Report};
use wfsim_explore::shard::{children_from, children_json, cover_row_from, cover_row_json};

/// One file's outcome.
#[derive(Clone, Debug)]
pub(crate) struct FileOutcome {
    /// The file as found (relative to the current directory when under it).
    pub path: String,
    pub result: Outcome,
    /// Wall time taken, for the text and JUnit only; `None` after a merge.
    pub millis: Option<u64>,
}

#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    /// Why the file cannot run, `file:line:column: what` for each error.
    Invalid(String),
    Scenario(ScenarioOutcome),
    Explore(Box<Report>),
}

#[derive(Clone, Debug)]
pub(crate) struct ScenarioOutcome {
    /// The workflow file, as the scenario resolves it.
    pub workflow: String,
    /// How the execution ended (ACTIVE if it did not).
    pub state: String,
    /// Each broken expectation: where it is written (`file:line:column`) and what broke.
    pub failures: Vec<(String, String)>,
    /// Every point of the workflow with its passes in this run (`seeds` counts passes).
    pub coverage: Vec<CoverRow>,
    /// Each child workflow's points with their passes (HT-10).
    pub children: Vec<ChildCover>,
}

impl FileOutcome {
    pub fn passed(&self) -> bool {
        match &self.result {
            Outcome::Invalid(_) => false,
            Outcome::Scenario(s) => s.failures.is_empty(),
            Outcome::Explore(r) => r.passed(),
        }
    }

    pub fn json(&self) -> Json {
        match &self.result {
            Outcome::Invalid(why) => json!({
                "file": self.path,
                "kind": "invalid",
                "passed": false,
                "error": why,
            }),
            Outcome::Scenario(s) => {
                let mut out = json!({
                    "file": self.path,
                    "kind": "scenario",
                    "passed": self.passed(),
                    "workflow": s.workflow,
                    "state": s.state,
                    "failures": s.failures.iter().map(|(at, what)| json!({"at": at, "what": what})).collect::<Vec<_>>(),
                    "coverage": s.coverage.iter().map(cover_row_json).collect::<Vec<_>>(),
                });
                // HT-10: only for a workflow that may start children.
                if !s.children.is_empty() {
                    out["children"] = children_json(&s.children);
                }
                out
            }
            Outcome::Explore(r) => json!({
                "file": self.path,
                "kind": "explore",
                "passed": self.passed(),
                "report": r.json(),
            }),
        }
    }

    /// The outcome [`FileOutcome::json`] wrote (an explore file from its shard's
    /// `report.partial`, the only form a merge needs it in).
    pub fn from_json(j: &Json) -> Result<FileOutcome, String> {
        let path = j["file"]
            .as_str()
            .ok_or("a file without 'file'")?
            .to_owned();
        let text = |k: &str| {
            j[k].as_str()
                .map(str::to_owned)
                .ok_or(format!("{path}: '{k}' is missing"))
        };
        let result = match j["kind"].as_str() {
            Some("invalid") => Outcome::Invalid(text("error")?),
            Some("scenario") => Outcome::Scenario(ScenarioOutcome {
                workflow: text("workflow")?,
                state: text("state")?,
                failures: j["failures"]
                    .as_array()
                    .ok_or(format!("{path}: 'failures' is missing"))?
                    .iter()
                    .map(|f| {
                        (
                            f["at"].as_str().unwrap_or_default().to_owned(),
                            f["what"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect(),
                coverage: j["coverage"]
                    .as_array()
                    .ok_or(format!("{path}: 'coverage' is missing"))?
                    .iter()
                    .map(cover_row_from)
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("{path}: {e}"))?,
                children: children_from(&j["children"]).map_err(|e| format!("{path}: {e}"))?,
            }),
            Some("explore") => Outcome::Explore(Box::new(
                Report::from_partial(&j["report"]["partial"])
                    .map_err(|e| format!("{path}: not a shard's explore report: {e}"))?,
            )),
            _ => return Err(format!("{path}: an unknown kind of file")),
        };
        Ok(FileOutcome {
            path,
            result,
            millis: None,
        })
    }
}

/// The whole run: every file in path order, and for a shard what the merge needs.
#[derive(Clone, Debug)]
pub(crate) struct Suite {
    pub files: Vec<FileOutcome>,
    /// `(k, n)` for a shard.
    pub shard: Option<(u64, u64)>,
    /// Every file of the whole run (a shard runs some), in path order.
    pub all: Vec<String>,
    /// The digest of the files found and the options that change outcomes.
    pub inputs: String,
    /// Wall time of the whole run, for the text only.
    pub millis: Option<u64>,
}

/// Counts of a suite's files by verdict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub invalid: usize,
}

impl Suite {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for f in &self.files {
            match (&f.result, f.passed()) {
                (Outcome::Invalid(_), _) => c.invalid += 1,
                (_, true) => c.passed += 1,
                (_, false) => c.failed += 1,
            }
        }
        c
    }

    /// 0 every file passed, 1 one failed, 2 one is invalid.
    pub fn exit_code(&self) -> u8 {
        let c = self.counts();
        if c.invalid > 0 {
            2
        } else if c.failed > 0 {
            1
        } else {
            0
        }
    }

    pub fn json(&self) -> Json {
        let c = self.counts();
        let mut out = json!({
            "wfsim": "test",
            "version": env!("CARGO_PKG_VERSION"),
            "shard": self.shard.map(|(k, n)| format!("{k}/{n}")),
            "files": self.files.iter().map(FileOutcome::json).collect::<Vec<_>>(),
            "summary": {
                "files": self.files.len(),
                "passed": c.passed,
                "failed": c.failed,
                "invalid": c.invalid,
            },
            "passed": c.failed == 0 && c.invalid == 0,
        });
        if let Some((k, n)) = self.shard {
            out["partial"] = json!({
                "version": env!("CARGO_PKG_VERSION"),
                "inputs": self.inputs,
                "shard": [k, n],
                "all": self.all,
            });
        }
        out
    }
}
