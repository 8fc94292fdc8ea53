//! `stepEntries.list` and `stepEntries.get` (EX-8): an execution's history as the
//! Executions API's REST resource gives it (the published protos have no such methods, so
//! REST only). The engine keeps the entries; here they are filtered (AIP-160 over the
//! fields the discovery document names: `filter.rs` has the grammar), ordered (AIP-132),
//! paged and rendered.

use std::cmp::Ordering;

use serde_json::{Value as Json, json};
use wfsim_engine::interp::{StepEntry, StepType};
use wfsim_engine::time::parse_rfc3339;
use wfsim_harness::report;

use super::State;
use super::filter::{self, Fields, Filter, Op, compare};
use super::query::{Query, page_token};
use crate::host::Exec;
use crate::message::ApiResponse;
use crate::parent::Parent;
use crate::wire::{self, Enums};

/// What a step entry's `filter` and `orderBy` can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    EntryId,
    CreateTime,
    UpdateTime,
    Routine,
    Step,
    StepType,
    Parent,
    State,
}

impl Field {
    fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "entryId" | "entry_id" => Field::EntryId,
            "createTime" | "create_time" => Field::CreateTime,
            "updateTime" | "update_time" => Field::UpdateTime,
            "routine" | "routineName" => Field::Routine,
            "step" | "stepName" => Field::Step,
            "stepType" | "step_type" => Field::StepType,
            "parent" => Field::Parent,
            "state" => Field::State,
            _ => return None,
        })
    }
}

/// A comparison's right side, read for its field.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Number(u64),
    Time(i128),
    Text(String),
}

/// One comparison of a step entries' `filter`.
#[derive(Clone, Debug, PartialEq)]
struct Cmp(Field, Op, Value);

/// What a filter compares of one entry.
struct Row<'a> {
    entry: &'a StepEntry,
    /// Unix nanoseconds.
    created: i128,
    updated: i128,
}

impl Row<'_> {
    fn text(&self, f: Field) -> &str {
        let e = self.entry;
        match f {
            Field::Routine => &e.routine,
            Field::Step => &e.step,
            Field::StepType => e.step_type.as_str(),
            _ => e.state.as_str(),
        }
    }
}

impl Fields for Cmp {
    type Field = Field;
    type Row<'a> = Row<'a>;
    const NAMES: &'static str =
        "entryId, createTime, updateTime, routine, step, stepType, parent and state";

    fn field(name: &str) -> Option<Field> {
        Field::parse(name)
    }

    fn comparison(field: Field, op: Op, raw: String) -> Result<Cmp, String> {
        Ok(Cmp(field, op, value(field, &raw)?))
    }

    fn holds(&self, row: &Row<'_>) -> bool {
        let Cmp(f, op, v) = self;
        match (f, v) {
            (Field::EntryId, Value::Number(n)) => compare(&row.entry.id, *op, n),
            (Field::Parent, Value::Number(n)) => {
                row.entry.parent.is_some_and(|p| compare(&p, *op, n))
            }
            (Field::CreateTime, Value::Time(t)) => compare(&row.created, *op, t),
            (_, Value::Time(t)) => compare(&row.updated, *op, t),
            (f, Value::Text(t)) => compare(row.text(*f), *op, t.as_str()),
            (_, Value::Number(_)) => false,
        }
    }
}

/// `raw` read as `field` compares it: ids are numbers, times RFC 3339 (or a date, its
/// midnight UTC), a state or step type by its name with or without its prefix.
fn value(field: Field, raw: &str) -> Result<Value, String> {
    Ok(match field {
        Field::EntryId | Field::Parent => Value::Number(
            raw.parse()
                .map_err(|_| format!("'{raw}' is not an entry id (1, 2, …)"))?,
        ),
        Field::CreateTime | Field::UpdateTime => {
            let full = if raw.len() == 10 {
                format!("{raw}T00:00:00Z")
            } else {
                raw.to_owned()
            };
            Value::Time(parse_rfc3339(&full).ok_or_else(|| {
                format!("'{raw}' is not a time like \"2024-01-01T00:00:00Z\" or \"2024-01-01\"")
            })?)
        }
        Field::State => Value::Text(prefixed("STATE_", raw)),
        Field::StepType => Value::Text(prefixed("STEP_", raw)),
        Field::Routine | Field::Step => Value::Text(raw.to_owned()),
    })
}

fn prefixed(prefix: &str, raw: &str) -> String {
    if raw.starts_with(prefix) {
        raw.to_owned()
    } else {
        format!("{prefix}{raw}")
    }
}

/// `orderBy`: fields, each ascending unless `desc`; entry id breaks ties (and is the
/// default order). `parent` filters but does not order.
fn parse_order(text: &str) -> Result<Vec<(Field, bool)>, String> {
    let field = |name: &str| Field::parse(name).filter(|f| *f != Field::Parent);
    let names = "entryId, createTime, updateTime, routine, step, stepType and state";
    filter::order_keys(text, field, names)
}

fn order(keys: &[(Field, bool)], a: &Row<'_>, b: &Row<'_>) -> Ordering {
    for &(field, desc) in keys {
        let o = match field {
            Field::CreateTime => a.created.cmp(&b.created),
            Field::UpdateTime => a.updated.cmp(&b.updated),
            Field::EntryId | Field::Parent => a.entry.id.cmp(&b.entry.id),
            Field::StepType => a.entry.step_type.cmp(&b.entry.step_type),
            Field::State => a.entry.state.cmp(&b.entry.state),
            f => a.text(f).cmp(b.text(f)),
        };
        let o = if desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.entry.id.cmp(&b.entry.id)
}

/// `view`: whether the DETAILED view is asked for.
fn detailed(query: &Query) -> Result<bool, ApiResponse> {
    match query.get("view") {
        None
        | Some("EXECUTION_ENTRY_VIEW_UNSPECIFIED" | "0" | "EXECUTION_ENTRY_VIEW_BASIC" | "1") => {
            Ok(false)
        }
        Some("EXECUTION_ENTRY_VIEW_DETAILED" | "2") => Ok(true),
        Some(other) => Err(invalid(format!(
            "view={other} is not one of EXECUTION_ENTRY_VIEW_BASIC, EXECUTION_ENTRY_VIEW_DETAILED"
        ))),
    }
}

fn invalid(message: String) -> ApiResponse {
    ApiResponse::error(400, "INVALID_ARGUMENT", message)
}

/// One entry as the API renders it: the report's object with its resource name, enums
/// by number when asked; `expectedIteration` only for an execution whose history level
/// is DETAILED, as GCP gives it, and its `variableData` when the `view` is DETAILED too.
fn render(name: &str, e: &Exec, entry: &StepEntry, enums: Enums, detailed: bool) -> Json {
    let mut out = serde_json::Map::new();
    out.insert(
        "name".into(),
        json!(format!("{name}/stepEntries/{}", entry.id)),
    );
    let mut body = report::step_entry_json(entry, e.execution.clock());
    if detailed {
        report::with_variables(&mut body, &e.execution, entry.id);
    }
    let Json::Object(body) = body else {
        unreachable!("an entry is an object")
    };
    out.extend(body);
    if e.execution_history_level != 2 {
        if let Some(Json::Object(meta)) = out.get_mut("stepEntryMetadata") {
            meta.remove("expectedIteration");
        }
    }
    if enums == Enums::Numbers {
        let position = StepType::ALL.iter().position(|t| *t == entry.step_type);
        out.insert("stepType".into(), json!(position.unwrap_or(0)));
        out.insert("state".into(), json!(entry.state.number()));
        if let (Some((progress, _)), Some(Json::Object(meta))) =
            (entry.progress, out.get_mut("stepEntryMetadata"))
        {
            meta.insert("progressType".into(), json!(progress.number()));
        }
    }
    Json::Object(out)
}

impl State {
    /// `stepEntries.list`: the entries `filter` keeps, in `orderBy`'s order (entry id by
    /// default), `skip` of them passed over from the page's start, in pages.
    pub(super) fn step_entries_list(
        &self,
        parent: &Parent,
        workflow: &str,
        id: &str,
        query: &Query,
    ) -> Result<ApiResponse, ApiResponse> {
        query.allow(&["pageSize", "pageToken", "skip", "filter", "orderBy", "view"])?;
        let detailed = detailed(query)?;
        let filter = query
            .get("filter")
            .filter(|f| !f.trim().is_empty())
            .map(Filter::<Cmp>::parse)
            .transpose()
            .map_err(|e| invalid(format!("filter: {e}")))?;
        let keys = parse_order(query.get("orderBy").unwrap_or(""))
            .map_err(|e| invalid(format!("orderBy: {e}")))?;
        let skip = match query.get("skip") {
            None => 0,
            Some(text) => text
                .parse::<usize>()
                .map_err(|_| invalid(format!("skip={text} must be a whole number, 0 or more")))?,
        };
        let (offset, size) = query.page(100, 1000)?;
        let i = self.find(parent, workflow, id)?;
        let e = self.host.exec(i);
        let entries = e.execution.step_entries();
        let nanos = |t| e.execution.clock().unix_nanos_at(t);
        let mut rows: Vec<Row<'_>> = entries
            .iter()
            .map(|entry| Row {
                entry,
                created: nanos(entry.created),
                updated: nanos(entry.updated),
            })
            .filter(|r| filter.as_ref().is_none_or(|f| f.matches(r)))
            .collect();
        rows.sort_by(|a, b| order(&keys, a, b));
        let name = wire::execution_name(e);
        let start = offset.saturating_add(skip);
        let page: Vec<Json> = rows
            .iter()
            .skip(start)
            .take(size)
            .map(|r| render(&name, e, r.entry, query.enums, detailed))
            .collect();
        let mut out = serde_json::Map::new();
        out.insert("stepEntries".into(), Json::Array(page));
        let next = start.saturating_add(size);
        if next < rows.len() {
            out.insert("nextPageToken".into(), json!(page_token(next)));
        }
        out.insert("totalSize".into(), json!(rows.len()));
        Ok(ApiResponse::json(200, &Json::Object(out)))
    }

    /// `stepEntries.get`: entry `entry` (its id) of the execution.
    pub(super) fn step_entry_get(
        &self,
        parent: &Parent,
        workflow: &str,
        id: &str,
        entry: &str,
        query: &Query,
    ) -> Result<ApiResponse, ApiResponse> {
        query.allow(&["view"])?;
        let detailed = detailed(query)?;
        let i = self.find(parent, workflow, id)?;
        let e = self.host.exec(i);
        let n: u64 = entry.parse().map_err(|_| {
            invalid(format!(
                "step entry '{entry}' is not an entry id (a number: 1, 2, …)"
            ))
        })?;
        let entries = e.execution.step_entries();
        let found = n
            .checked_sub(1)
            .and_then(|k| entries.get(usize::try_from(k).ok()?))
            .ok_or_else(|| {
                ApiResponse::error(
                    404,
                    "NOT_FOUND",
                    format!(
                        "execution '{id}' has no step entry {n}; it has {} (ids 1 to {0})",
                        entries.len()
                    ),
                )
            })?;
        let name = wire::execution_name(e);
        Ok(ApiResponse::json(
            200,
            &render(&name, e, found, query.enums, detailed),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::filter::Expr;
    use super::*;

    #[test]
    fn filters_and_orders_say_why_they_are_refused() {
        for (f, why) in [
            ("stepNam=x", "cannot be filtered on"),
            ("entryId>x", "not an entry id"),
            (r#"createTime>"soon""#, "not a time"),
            ("state", "needs a comparison"),
            ("(state=A", "not closed"),
            ("state=A)", "after a whole filter"),
            ("", "ends too soon"),
        ] {
            let e = Filter::<Cmp>::parse(f).unwrap_err();
            assert!(e.contains(why), "{f}: {e}");
        }
        assert!(parse_order("parent").is_err());
        assert!(parse_order("step sideways").is_err());
        assert!(parse_order("step desc extra").is_err());
        assert_eq!(
            parse_order("step desc, entryId").unwrap(),
            [(Field::Step, true), (Field::EntryId, false)]
        );
        assert_eq!(
            Filter::<Cmp>::parse("state=SUCCEEDED stepType:ASSIGN").unwrap(),
            Filter(Expr::And(vec![
                Expr::Cmp(Cmp(
                    Field::State,
                    Op::Eq,
                    Value::Text("STATE_SUCCEEDED".into())
                )),
                Expr::Cmp(Cmp(
                    Field::StepType,
                    Op::Has,
                    Value::Text("STEP_ASSIGN".into())
                )),
            ]))
        );
        assert_eq!(
            value(Field::CreateTime, "2024-01-01").unwrap(),
            Value::Time(1_704_067_200_000_000_000)
        );
    }
}
