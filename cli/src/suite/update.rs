//! `wfsim test --update`: for a scenario whose expectations failed or that states none,
//! what happened is written into its `expect:` (state, result or error tags, when it ended
//! if it says, and each request's status), as the users' counterpart of `cargo insta
//! review`. The text is edited at the positions the reader gave, never re-serialized, so
//! comments, order and layout stay; the diff is printed first, and the file is run again
//! to show it now holds.

use std::path::Path;

use serde_json::Value as Json;
use wfsim_engine::ExecutionState;
use wfsim_engine::defn::Pos;
use wfsim_engine::error::tags;
use wfsim_engine::interp::Outcome as ExecOutcome;
use wfsim_harness::report;
use wfsim_harness::scenario;

use crate::Invalid;
use crate::suite::outcome::Outcome;
use crate::suite::run::{Ran, scenario_outcome, scenario_run};

/// A replacement of the bytes `start..end` of the text.
type Edit = (usize, usize, String);

/// JSON as one line of YAML flow: `{"a": 1, "b": [true, null]}`.
fn flow(j: &Json) -> String {
    match j {
        Json::Array(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        Json::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", Json::from(k.as_str()), flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// Nanoseconds as YAML seconds: `3600`, `0.5`.
fn secs(nanos: u64) -> String {
    let (whole, frac) = (nanos / 1_000_000_000, nanos % 1_000_000_000);
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{}", format!("{frac:09}").trim_end_matches('0'))
    }
}

/// The text's lines with their byte offsets, to turn positions into offsets.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { text, starts }
    }

    /// The text of line `n` (1-based), without its newline.
    fn line(&self, n: u32) -> &'a str {
        let i = n as usize - 1;
        let start = self.starts.get(i).copied().unwrap_or(self.text.len());
        let end = self.starts.get(i + 1).map_or(self.text.len(), |e| e - 1);
        &self.text[start.min(end)..end]
    }

    fn count(&self) -> u32 {
        self.starts.len() as u32
    }

    /// The byte offset of `pos` (column counted in characters from 1).
    fn offset(&self, pos: Pos) -> usize {
        let start = self
            .starts
            .get(pos.line as usize - 1)
            .copied()
            .unwrap_or(self.text.len());
        let line = self.line(pos.line);
        start
            + line
                .char_indices()
                .nth(pos.col as usize - 1)
                .map_or(line.len(), |(i, _)| i)
    }

    /// The byte offset just past line `n`'s text (before its newline).
    fn line_end(&self, n: u32) -> usize {
        self.offset(Pos { line: n, col: 1 }) + self.line(n).len()
    }

    /// The last line of the block that line `n` opens: the following lines that are
    /// blank or indented more than `indent` columns.
    fn block_end(&self, n: u32, indent: usize) -> u32 {
        let mut last = n;
        for m in n + 1..=self.count() {
            let l = self.line(m);
            let trimmed = l.trim_start();
            if trimmed.is_empty() {
                continue;
            }
            if l.len() - trimmed.len() <= indent {
                break;
            }
            last = m;
        }
        last
    }

    /// Where the value written at `pos` ends: a bracketed or quoted value at its closing
    /// character; a plain one at the end of the line, a comment, or (in flow) `,`, `}`, `]`.
    fn value_end(&self, pos: Pos) -> usize {
        let start = self.offset(pos);
        let rest = &self.text[start..];
        let mut depth = 0i32;
        let mut quote: Option<char> = None;
        let first = rest.chars().next().unwrap_or('\n');
        for (i, c) in rest.char_indices() {
            if let Some(q) = quote {
                if c == q && !(q == '"' && rest[..i].ends_with('\\')) {
                    quote = None;
                    if depth == 0 {
                        return start + i + 1;
                    }
                }
                continue;
            }
            match c {
                '"' | '\'' => quote = Some(c),
                '{' | '[' => depth += 1,
                '}' | ']' if depth > 0 => {
                    depth -= 1;
                    if depth == 0 {
                        return start + i + 1;
                    }
                }
                '}' | ']' | ',' if depth == 0 => return start + rest[..i].trim_end().len(),
                '\n' if depth == 0 => return start + rest[..i].trim_end().len(),
                '#' if depth == 0 && i > 0 && rest[..i].ends_with(' ') && first != '{' => {
                    return start + rest[..i].trim_end().len();
                }
                _ => {}
            }
        }
        start + rest.trim_end().len()
    }
}

/// The edit that makes the value of the key at `key` (value at `value`) be `new`.
fn set_value(lines: &Lines, key: Pos, value: Pos, new: &str) -> Edit {
    if value.line > key.line {
        // A block value: everything after the key's colon to the block's end.
        let key_line = lines.line(key.line);
        let colon = lines.offset(key)
            + key_line[(lines.offset(key)
                - lines.offset(Pos {
                    line: key.line,
                    col: 1,
                }))..]
                .find(':')
                .unwrap_or(0)
            + 1;
        let indent = key.col as usize - 1;
        let end = lines.line_end(lines.block_end(key.line, indent));
        (colon, end, format!(" {new}"))
    } else {
        (lines.offset(value), lines.value_end(value), new.to_owned())
    }
}

/// The expectations to write: `(key, value)` in the order a reader expects them.
fn observed(ran: &Ran) -> Vec<(&'static str, String)> {
    let ex = &ran.run.execution;
    let mut out = vec![("state", ex.state().as_str().to_owned())];
    match ex.outcome() {
        Some(ExecOutcome::Succeeded(_)) => {
            let result = report::field_json(&ran.run, "result").unwrap_or(Json::Null);
            out.push(("result", flow(&result)));
        }
        Some(ExecOutcome::Failed(f)) => {
            out.push(("error_tags", flow(&Json::from(tags(f)))));
        }
        _ => {}
    }
    if ran.scenario.expect.ended_at.is_some() || ex.state() != ExecutionState::Active {
        if let Some(at) = ex.ended_at() {
            out.push(("ended_at", secs(at.as_nanos())));
        }
    }
    out
}

/// The edits that write what `ran` observed into its text.
fn edits(ran: &Ran, lines: &Lines) -> Vec<Edit> {
    let layout = &ran.scenario.layout;
    let mut out = Vec::new();
    let want = observed(ran);
    match layout.expect {
        None => {
            let mut block = String::new();
            if !ran.text.is_empty() && !ran.text.ends_with('\n') {
                block.push('\n');
            }
            block.push_str("expect:\n");
            for (k, v) in &want {
                if *k == "ended_at" && ran.scenario.expect.ended_at.is_none() {
                    continue;
                }
                block.push_str(&format!("  {k}: {v}\n"));
            }
            out.push((ran.text.len(), ran.text.len(), block));
        }
        Some((key, value)) => {
            let in_flow = lines.text[lines.offset(value)..].starts_with('{');
            let indent = layout
                .expect_keys
                .first()
                .map_or(key.col as usize + 1, |(_, kp, _)| kp.col as usize - 1);
            let stated = |k: &str| layout.expect_keys.iter().find(|(name, _, _)| name == k);
            for (k, v) in &want {
                match stated(k) {
                    Some((_, kp, vp)) => out.push(set_value(lines, *kp, *vp, v)),
                    // `ended_at` only when the scenario already says when.
                    None if *k == "ended_at" => {}
                    None if in_flow => {
                        let at = lines.offset(value) + 1;
                        out.push((at, at, format!("{k}: {v}, ")));
                    }
                    None => {
                        let at = lines.line_end(key.line);
                        out.push((at, at, format!("\n{}{k}: {v}", " ".repeat(indent))));
                    }
                }
            }
            // A state now stated makes a stale `result` or `error_tags` wrong: say so by
            // leaving them to fail, rather than deleting what someone wrote.
        }
    }
    for (i, got) in scenario::scripted_records(&ran.scenario, &ran.run) {
        let Some(r) = layout.requests.get(i) else {
            continue;
        };
        let status = got.status.to_string();
        match r.expect {
            Some((kp, vp)) => out.push(set_value(lines, kp, vp, &status)),
            None if lines.text[lines.offset(r.item)..].starts_with('{') => {
                let close = lines.value_end(r.item) - 1;
                out.push((close, close, format!(", expect: {status}")));
            }
            None => {
                let indent = r.first_key.col as usize - 1;
                let last = lines.block_end(r.first_key.line, indent - 1);
                let last = (r.first_key.line..=last)
                    .rev()
                    .find(|&m| !lines.line(m).trim().is_empty())
                    .unwrap_or(r.first_key.line);
                let at = lines.line_end(last);
                out.push((at, at, format!("\n{}expect: {status}", " ".repeat(indent))));
            }
        }
    }
    out
}

/// A unified diff of `old` to `new`, named `path`.
fn diff(path: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(path, &format!("{path} (updated)"))
        .to_string()
}

/// Runs the scenario at `path`; when an expectation failed or none is stated, writes what
/// happened into it and runs it again. The outcome, and the diff written.
pub(crate) fn run_and_update(path: &Path) -> (Outcome, Option<String>) {
    match update(path) {
        Ok(x) => x,
        Err(Invalid(why)) => (Outcome::Invalid(why), None),
    }
}

fn update(path: &Path) -> Result<(Outcome, Option<String>), Invalid> {
    let (ran, workflow, coverage) = scenario_run(path)?;
    let before = scenario_outcome(path, &ran, workflow, coverage);
    if ran.scenario.layout.expect.is_some() && before.failures.is_empty() {
        return Ok((Outcome::Scenario(before), None));
    }
    let name = path.display().to_string();
    if name.ends_with(".json") {
        // A JSON scenario has no comments or layout to keep, but its own style: left to
        // its author, and said so when it fails.
        let note = (!before.failures.is_empty()).then(|| {
            format!(
                "{name}: not updated: --update edits YAML scenarios; update a JSON one by hand\n"
            )
        });
        return Ok((Outcome::Scenario(before), note));
    }
    let lines = Lines::new(&ran.text);
    let mut edits: Vec<(usize, Edit)> = edits(&ran, &lines).into_iter().enumerate().collect();
    // From the end back, so earlier offsets stay true; two insertions at one place keep
    // their order.
    edits.sort_by_key(|(i, e)| std::cmp::Reverse((e.0, e.1, *i)));
    let mut text = ran.text.clone();
    for (_, (start, end, new)) in edits {
        text.replace_range(start..end, &new);
    }
    if let Err(e) = scenario::parse_file(&name, &text) {
        return Err(Invalid(format!(
            "{name}: --update would leave it unreadable ({e}); nothing written. Please report it, with the file"
        )));
    }
    std::fs::write(path, &text).map_err(|e| Invalid(format!("{name}: cannot write: {e}")))?;
    let d = diff(&name, &ran.text, &text);
    let (ran, workflow, coverage) = scenario_run(path)?;
    Ok((
        Outcome::Scenario(scenario_outcome(path, &ran, workflow, coverage)),
        Some(d),
    ))
}
