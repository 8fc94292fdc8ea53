//! Shards of one exploration and their merge (`--shard K/N`, `wfsim merge`): a shard's
//! report carries, under `partial`, everything of its [`Report`] that the text, the JSON and
//! the lcov are made from, so that the merge of every shard is the report one machine would
//! have made, byte for byte. A shard judges what it can alone (an `always`, the contract, a
//! seed that could not run); a `sometimes` is judged only over the whole.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value as Json, json};
use wfsim_conformance::rules::Rule;
use wfsim_engine::coverage::Point;
use wfsim_engine::defn::Pos;

use crate::cover::ChildCover;
use crate::fault::FaultKind;
use crate::report::{CoverRow, PropertyReport, Report, Reproducer};

/// FNV-1a over `parts`, each followed by a zero byte: what says two shards ran the same
/// files. Not cryptographic: it guards against mistakes, not against an adversary.
pub fn digest<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.iter().chain([0u8].iter()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn point_text(p: Point) -> String {
    match p {
        Point::Step => "step".to_owned(),
        Point::Case => "case".to_owned(),
        Point::Except => "except".to_owned(),
        Point::Retry(n) => format!("retry {n}"),
    }
}

fn point_from(text: &str) -> Option<Point> {
    Some(match text {
        "step" => Point::Step,
        "case" => Point::Case,
        "except" => Point::Except,
        _ => Point::Retry(text.strip_prefix("retry ")?.parse().ok()?),
    })
}

/// A coverage row as JSON, with the kind of its point: the shard format's and
/// `wfsim test`'s.
pub fn cover_row_json(r: &CoverRow) -> Json {
    json!({
        "line": r.pos.line,
        "column": r.pos.col,
        "point": point_text(r.point),
        "subworkflow": r.subworkflow,
        "what": r.label,
        "seeds": r.seeds,
    })
}

/// The row [`cover_row_json`] wrote.
pub fn cover_row_from(j: &Json) -> Result<CoverRow, String> {
    Ok(CoverRow {
        pos: Pos {
            line: u32_of(j, "line")?,
            col: u32_of(j, "column")?,
        },
        point: point_from(str_of(j, "point")?).ok_or("an unknown coverage point")?,
        subworkflow: str_of(j, "subworkflow")?.to_owned(),
        label: str_of(j, "what")?.to_owned(),
        seeds: u64_of(j, "seeds")?,
    })
}

/// Child workflows' coverage (HT-10) as the shard format and `wfsim test` write it.
pub fn children_json(children: &[ChildCover]) -> Json {
    children
        .iter()
        .map(|c| {
            json!({
                "workflow": c.workflow,
                "coverage": c.coverage.iter().map(cover_row_json).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// What [`children_json`] wrote (`null`: none).
pub fn children_from(j: &Json) -> Result<Vec<ChildCover>, String> {
    let Some(list) = j.as_array() else {
        return match j {
            Json::Null => Ok(Vec::new()),
            _ => Err("'children' is a list".to_owned()),
        };
    };
    list.iter()
        .map(|c| {
            Ok(ChildCover {
                workflow: str_of(c, "workflow")?.to_owned(),
                coverage: c["coverage"]
                    .as_array()
                    .ok_or("a child's 'coverage' is missing")?
                    .iter()
                    .map(cover_row_from)
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

fn str_of<'a>(j: &'a Json, key: &str) -> Result<&'a str, String> {
    j[key].as_str().ok_or_else(|| format!("'{key}' is missing"))
}

fn u64_of(j: &Json, key: &str) -> Result<u64, String> {
    j[key].as_u64().ok_or_else(|| format!("'{key}' is missing"))
}

fn u32_of(j: &Json, key: &str) -> Result<u32, String> {
    u32::try_from(u64_of(j, key)?).map_err(|_| format!("'{key}' is out of range"))
}

fn opt_u64(j: &Json, key: &str) -> Option<u64> {
    j[key].as_u64()
}

fn opt_str(j: &Json, key: &str) -> Option<String> {
    j[key].as_str().map(str::to_owned)
}

impl Report {
    /// What a shard's JSON carries beside the report, from which [`Report::from_partial`]
    /// rebuilds the report whole.
    pub fn partial_json(&self) -> Json {
        json!({
            "version": env!("CARGO_PKG_VERSION"),
            "inputs": self.inputs,
            "seeds_total": self.seeds_total,
            "file": self.file,
            "workflow": self.workflow,
            "driver": self.driver,
            "first_seed": self.first_seed,
            "seeds_run": self.seeds_run,
            "shard": self.shard.map(|(k, n)| json!([k, n])),
            "properties": self.properties.iter().map(|p| json!({
                "kind": p.kind,
                "expr": p.expr,
                "line": p.line,
                "seeds_checked": p.seeds_checked,
                "seeds_true": p.seeds_true,
                "first_failure": p.first_failure,
                "first_true": p.first_true,
                "why": p.why,
                "reproducer": p.reproducer.as_ref().map(crate::report::Reproducer::to_json),
            })).collect::<Vec<_>>(),
            "contract_checks": self.contract_checks.iter().map(|(r, n)| json!([r.id(), n])).collect::<Vec<_>>(),
            "contract_violations": self.contract_violations.iter().map(|(s, r, w)| json!([s, r.id(), w])).collect::<Vec<_>>(),
            "errors": self.errors.iter().map(|(s, w)| json!([s, w])).collect::<Vec<_>>(),
            "coverage": self.coverage.iter().map(cover_row_json).collect::<Vec<_>>(),
            "children": children_json(&self.children),
            "faults_ignored": self.faults_ignored,
            "restarts_applied": self.restarts_applied,
        })
    }

    /// The report a shard's `partial` object describes (see [`Report::partial_json`]).
    pub fn from_partial(j: &Json) -> Result<Report, String> {
        let driver = match str_of(j, "driver")? {
            "engine" => "engine",
            "system" => "system",
            other => return Err(format!("an unknown driver '{other}'")),
        };
        let shard = match &j["shard"] {
            Json::Null => None,
            s => Some((
                s[0].as_u64().ok_or("'shard' is [k, n]")?,
                s[1].as_u64().ok_or("'shard' is [k, n]")?,
            )),
        };
        let mut properties = Vec::new();
        for p in j["properties"]
            .as_array()
            .ok_or("'properties' is missing")?
        {
            properties.push(PropertyReport {
                kind: match str_of(p, "kind")? {
                    "always" => "always",
                    "sometimes" => "sometimes",
                    other => return Err(format!("an unknown property kind '{other}'")),
                },
                expr: str_of(p, "expr")?.to_owned(),
                line: u32_of(p, "line")?,
                seeds_checked: u64_of(p, "seeds_checked")?,
                seeds_true: u64_of(p, "seeds_true")?,
                first_failure: opt_u64(p, "first_failure"),
                first_true: opt_u64(p, "first_true"),
                why: opt_str(p, "why"),
                reproducer: match &p["reproducer"] {
                    Json::Null => None,
                    r => Some(Reproducer {
                        scenario: PathBuf::from(str_of(r, "scenario")?),
                        script: PathBuf::from(str_of(r, "script")?),
                        shrink_runs: u32_of(r, "shrink_runs")?,
                        timeline: r["timeline"]
                            .as_array()
                            .ok_or("'timeline' is missing")?
                            .iter()
                            .map(|l| l.as_str().unwrap_or_default().to_owned())
                            .collect(),
                        why: str_of(r, "why")?.to_owned(),
                    }),
                },
            });
        }
        let rule = |v: &Json| {
            v.as_str()
                .and_then(Rule::from_id)
                .ok_or_else(|| format!("an unknown rule {v}"))
        };
        let list = |key: &str| -> Result<&Vec<Json>, String> {
            j[key]
                .as_array()
                .ok_or_else(|| format!("'{key}' is missing"))
        };
        let mut contract_checks = BTreeMap::new();
        for c in list("contract_checks")? {
            contract_checks.insert(rule(&c[0])?, c[1].as_u64().unwrap_or(0));
        }
        let mut contract_violations = Vec::new();
        for c in list("contract_violations")? {
            let seed = c[0].as_u64().ok_or("a violation's seed")?;
            contract_violations.push((
                seed,
                rule(&c[1])?,
                c[2].as_str().unwrap_or_default().to_owned(),
            ));
        }
        let mut errors = Vec::new();
        for e in list("errors")? {
            let seed = e[0].as_u64().ok_or("an error's seed")?;
            errors.push((seed, e[1].as_str().unwrap_or_default().to_owned()));
        }
        let coverage = list("coverage")?
            .iter()
            .map(cover_row_from)
            .collect::<Result<_, _>>()?;
        let children = children_from(&j["children"])?;
        let mut faults_ignored = Vec::new();
        for f in list("faults_ignored")? {
            let key = FaultKind::ALL
                .into_iter()
                .map(FaultKind::key)
                .find(|k| Some(*k) == f.as_str())
                .ok_or_else(|| format!("an unknown fault {f}"))?;
            faults_ignored.push(key);
        }
        Ok(Report {
            file: str_of(j, "file")?.to_owned(),
            workflow: str_of(j, "workflow")?.to_owned(),
            first_seed: u64_of(j, "first_seed")?,
            seeds_run: u64_of(j, "seeds_run")?,
            shard,
            properties,
            contract_checks,
            contract_violations,
            errors,
            coverage,
            children,
            driver,
            faults_ignored,
            restarts_applied: u64_of(j, "restarts_applied")?,
            inputs: str_of(j, "inputs")?.to_owned(),
            seeds_total: u64_of(j, "seeds_total")?,
        })
    }
}

/// One shard's report, and the wfsim version that made it: its `partial` object read back.
#[derive(Clone, Debug)]
pub struct Part {
    pub report: Report,
    pub version: String,
}

impl Part {
    /// A shard's `partial` object.
    pub fn read(partial: &Json) -> Result<Part, String> {
        Ok(Part {
            report: Report::from_partial(partial)?,
            version: str_of(partial, "version")?.to_owned(),
        })
    }
}

/// The shards `k/n` for every k from 1 to n, once each, of one `n`: `Err` names what is
/// missing, doubled or mixed. `shards` are (k, n) in the order given.
pub fn check_complete(shards: &[(u64, u64)]) -> Result<(), String> {
    let Some(&(_, n)) = shards.first() else {
        return Err("no shard reports".to_owned());
    };
    if let Some((k, m)) = shards.iter().find(|&&(_, m)| m != n) {
        return Err(format!(
            "shard {k}/{m} is of a {m}-way split, the first is of a {n}-way one"
        ));
    }
    let mut seen = BTreeMap::new();
    for &(k, _) in shards {
        *seen.entry(k).or_insert(0u32) += 1;
    }
    if let Some((k, _)) = seen.iter().find(|&(_, &c)| c > 1) {
        return Err(format!("shard {k}/{n} is given more than once"));
    }
    let missing: Vec<String> = (1..=n)
        .filter(|k| !seen.contains_key(k))
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!("shards missing: {}", missing.join(", ")));
    }
    Ok(())
}

/// The report of the whole exploration from every shard's: seeds, counts and coverage
/// summed; each property's first failure, first truth, `why` and reproducer from the shard
/// whose seed comes first (seeds run in order from `first_seed`, so "first" is the least
/// offset from it, as one machine would have met them).
pub fn merge(parts: &[Part]) -> Result<Report, String> {
    let first = parts.first().ok_or("no shard reports")?;
    let shards: Vec<(u64, u64)> = parts
        .iter()
        .map(|p| {
            p.report
                .shard
                .ok_or_else(|| format!("the report of {} is not a shard's", p.report.file))
        })
        .collect::<Result<_, _>>()?;
    for p in parts {
        let (a, b) = (&first.report, &p.report);
        if p.version != first.version {
            return Err(format!(
                "shards of different wfsim versions ({} and {})",
                first.version, p.version
            ));
        }
        if a.file != b.file || b.inputs != a.inputs || a.workflow != b.workflow {
            return Err(format!(
                "shards of different files: {} ({}) and {} ({})",
                a.file, a.inputs, b.file, b.inputs
            ));
        }
        if a.first_seed != b.first_seed
            || b.seeds_total != a.seeds_total
            || a.driver != b.driver
            || a.properties.len() != b.properties.len()
        {
            return Err(format!(
                "shards of {} run with different options (seeds, first seed or driver)",
                a.file
            ));
        }
    }
    check_complete(&shards).map_err(|e| format!("{}: {e}", first.report.file))?;
    let start = first.report.first_seed;
    let order = |seed: u64| seed.wrapping_sub(start);
    let mut whole = first.report.clone();
    whole.shard = None;
    whole.seeds_run = parts.iter().map(|p| p.report.seeds_run).sum();
    whole.restarts_applied = parts.iter().map(|p| p.report.restarts_applied).sum();
    for (i, prop) in whole.properties.iter_mut().enumerate() {
        let all = parts.iter().map(|p| &p.report.properties[i]);
        prop.seeds_checked = all.clone().map(|q| q.seeds_checked).sum();
        prop.seeds_true = all.clone().map(|q| q.seeds_true).sum();
        prop.first_true = all
            .clone()
            .filter_map(|q| q.first_true)
            .min_by_key(|&s| order(s));
        let failing = all
            .filter(|q| q.first_failure.is_some())
            .min_by_key(|q| q.first_failure.map(order));
        prop.first_failure = failing.and_then(|q| q.first_failure);
        prop.why = failing.and_then(|q| q.why.clone());
        prop.reproducer = failing.and_then(|q| q.reproducer.clone());
    }
    whole.contract_checks = BTreeMap::new();
    for p in parts {
        for (r, n) in &p.report.contract_checks {
            *whole.contract_checks.entry(*r).or_insert(0) += n;
        }
    }
    whole.contract_violations = parts
        .iter()
        .flat_map(|p| p.report.contract_violations.iter().cloned())
        .collect();
    whole.contract_violations.sort_by_key(|v| order(v.0));
    whole.errors = parts
        .iter()
        .flat_map(|p| p.report.errors.iter().cloned())
        .collect();
    whole.errors.sort_by_key(|e| order(e.0));
    let mut rows: BTreeMap<(Pos, Point), CoverRow> = BTreeMap::new();
    for p in parts {
        for r in &p.report.coverage {
            rows.entry((r.pos, r.point))
                .and_modify(|w| w.seeds += r.seeds)
                .or_insert_with(|| r.clone());
        }
    }
    whole.coverage = rows.into_values().collect();
    whole.children = crate::cover::merge_children(parts.iter().flat_map(|p| &p.report.children));
    if whole.seeds_run != whole.seeds_total {
        return Err(format!(
            "{}: the shards ran {} seeds of {}",
            whole.file, whole.seeds_run, whole.seeds_total
        ));
    }
    Ok(whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_must_make_one_whole() {
        assert_eq!(check_complete(&[(2, 3), (1, 3), (3, 3)]), Ok(()));
        assert_eq!(
            check_complete(&[(1, 3), (3, 3)]),
            Err("shards missing: 2/3".to_owned())
        );
        assert_eq!(
            check_complete(&[(1, 2), (1, 2), (2, 2)]),
            Err("shard 1/2 is given more than once".to_owned())
        );
        assert!(
            check_complete(&[(1, 2), (2, 3)])
                .unwrap_err()
                .contains("3-way split")
        );
        assert!(check_complete(&[]).is_err());
    }

    /// The digest tells files apart, and where one ends and the next begins.
    #[test]
    fn the_digest_separates_parts() {
        let d = |parts: &[&str]| digest(parts.iter().map(|p| p.as_bytes()));
        assert_eq!(d(&["a", "b"]), d(&["a", "b"]));
        assert_ne!(d(&["a", "b"]), d(&["ab", ""]));
        assert_ne!(d(&["a", "b"]), d(&["a", "c"]));
        assert_eq!(d(&[]).len(), 16);
    }

    /// Every point kind survives the shard format.
    #[test]
    fn coverage_rows_round_trip() {
        for point in [Point::Step, Point::Case, Point::Except, Point::Retry(3)] {
            let row = CoverRow {
                pos: Pos { line: 4, col: 7 },
                point,
                subworkflow: "main".to_owned(),
                label: "step 'x'".to_owned(),
                seeds: 9,
            };
            assert_eq!(cover_row_from(&cover_row_json(&row)), Ok(row));
        }
    }
}
