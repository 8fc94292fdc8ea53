//! `stepEntries.list` and `stepEntries.get` (EX-8): an execution's history as the
//! Executions API's REST resource gives it (the published protos have no such methods, so
//! REST only). The engine keeps the entries; here they are filtered (AIP-160 over the
//! fields the discovery document names), ordered (AIP-132), paged and rendered.

use std::cmp::Ordering;

use serde_json::{Value as Json, json};
use wfsim_engine::interp::{StepEntry, StepType};
use wfsim_engine::time::parse_rfc3339;
use wfsim_harness::report;

use super::State;
use super::list::{Op, Token, compare, tokens};
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

const FIELDS: &str = "entryId, createTime, updateTime, routine, step, stepType, parent and state";

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

#[derive(Clone, Debug, PartialEq)]
enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp(Field, Op, Value),
}

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

    fn matches(&self, x: &Expr) -> bool {
        match x {
            Expr::And(all) => all.iter().all(|x| self.matches(x)),
            Expr::Or(any) => any.iter().any(|x| self.matches(x)),
            Expr::Not(x) => !self.matches(x),
            Expr::Cmp(f, op, v) => match (f, v) {
                (Field::EntryId, Value::Number(n)) => compare(&self.entry.id, *op, n),
                (Field::Parent, Value::Number(n)) => {
                    self.entry.parent.is_some_and(|p| compare(&p, *op, n))
                }
                (Field::CreateTime, Value::Time(t)) => compare(&self.created, *op, t),
                (_, Value::Time(t)) => compare(&self.updated, *op, t),
                (f, Value::Text(t)) => compare(self.text(*f), *op, t.as_str()),
                (_, Value::Number(_)) => false,
            },
        }
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w == k)
    }

    /// AIP-160: factors joined by AND (or side by side); a factor is terms joined by OR.
    fn expression(&mut self) -> Result<Expr, String> {
        let mut all = vec![self.factor()?];
        loop {
            if self.keyword("AND") {
                self.at += 1;
            } else if !matches!(
                self.peek(),
                Some(Token::Word(_) | Token::Text(_) | Token::Open | Token::Minus)
            ) || self.keyword("OR")
            {
                break;
            }
            all.push(self.factor()?);
        }
        Ok(one_or(all, Expr::And))
    }

    fn factor(&mut self) -> Result<Expr, String> {
        let mut any = vec![self.term()?];
        while self.keyword("OR") {
            self.at += 1;
            any.push(self.term()?);
        }
        Ok(one_or(any, Expr::Or))
    }

    fn term(&mut self) -> Result<Expr, String> {
        if self.keyword("NOT") || self.peek() == Some(&Token::Minus) {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.simple()?)));
        }
        self.simple()
    }

    fn simple(&mut self) -> Result<Expr, String> {
        let token = self.peek().cloned();
        self.at += 1;
        match token {
            Some(Token::Open) => {
                let x = self.expression()?;
                if self.peek() != Some(&Token::Close) {
                    return Err("a '(' is not closed".into());
                }
                self.at += 1;
                Ok(x)
            }
            Some(Token::Word(name)) => {
                let field = Field::parse(&name).ok_or_else(|| {
                    format!("'{name}' cannot be filtered on; the fields are {FIELDS}")
                })?;
                let Some(Token::Op(op)) = self.peek().cloned() else {
                    return Err(format!("'{name}' needs a comparison, like {name}=\"…\""));
                };
                self.at += 1;
                let raw = match self.peek().cloned() {
                    Some(Token::Word(w) | Token::Text(w)) => w,
                    _ => return Err(format!("'{name}' is compared with nothing")),
                };
                self.at += 1;
                Ok(Expr::Cmp(field, op, value(field, &raw)?))
            }
            Some(t) => Err(format!("unexpected {t:?}").replace("Token::", "")),
            None => Err("the filter ends too soon".into()),
        }
    }
}

fn one_or(mut xs: Vec<Expr>, many: fn(Vec<Expr>) -> Expr) -> Expr {
    if xs.len() == 1 {
        xs.remove(0)
    } else {
        many(xs)
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

fn parse_filter(text: &str) -> Result<Expr, String> {
    let mut p = Parser {
        tokens: tokens(text)?,
        at: 0,
    };
    let x = p.expression()?;
    match p.peek() {
        None => Ok(x),
        Some(t) => Err(format!("unexpected {t:?} after a whole filter").replace("Token::", "")),
    }
}

/// `orderBy`: fields, each ascending unless `desc`; entry id breaks ties (and is the
/// default order).
fn parse_order(text: &str) -> Result<Vec<(Field, bool)>, String> {
    let mut keys = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut words = part.split_whitespace();
        let name = words.next().unwrap_or_default();
        let field = Field::parse(name)
            .filter(|f| *f != Field::Parent)
            .ok_or_else(|| {
                format!(
                    "'{name}' cannot be ordered by; the fields are entryId, createTime, \
                     updateTime, routine, step, stepType and state"
                )
            })?;
        let desc = match words.next() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => return Err(format!("'{other}' is not asc or desc")),
        };
        if let Some(extra) = words.next() {
            return Err(format!("unexpected '{extra}' in orderBy"));
        }
        keys.push((field, desc));
    }
    Ok(keys)
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
/// is DETAILED, as GCP gives it.
fn render(name: &str, e: &Exec, entry: &StepEntry, enums: Enums) -> Json {
    let mut out = serde_json::Map::new();
    out.insert(
        "name".into(),
        json!(format!("{name}/stepEntries/{}", entry.id)),
    );
    let Json::Object(body) = report::step_entry_json(entry, e.execution.clock()) else {
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
        detailed(query)?;
        let filter = query
            .get("filter")
            .filter(|f| !f.trim().is_empty())
            .map(parse_filter)
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
            .filter(|r| filter.as_ref().is_none_or(|f| r.matches(f)))
            .collect();
        rows.sort_by(|a, b| order(&keys, a, b));
        let name = wire::execution_name(e);
        let start = offset.saturating_add(skip);
        let page: Vec<Json> = rows
            .iter()
            .skip(start)
            .take(size)
            .map(|r| render(&name, e, r.entry, query.enums))
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
        detailed(query)?;
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
            &render(&name, e, found, query.enums),
        ))
    }
}

#[cfg(test)]
mod tests {
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
            let e = parse_filter(f).unwrap_err();
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
            parse_filter("state=SUCCEEDED stepType:ASSIGN").unwrap(),
            Expr::And(vec![
                Expr::Cmp(Field::State, Op::Eq, Value::Text("STATE_SUCCEEDED".into())),
                Expr::Cmp(Field::StepType, Op::Has, Value::Text("STEP_ASSIGN".into())),
            ])
        );
        assert_eq!(
            value(Field::CreateTime, "2024-01-01").unwrap(),
            Value::Time(1_704_067_200_000_000_000)
        );
    }
}
