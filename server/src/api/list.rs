//! `executions.list`'s fields for `filter` and `orderBy` (the grammar is `filter.rs`'s):
//! the ones the API documents, and `labels.KEY`.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use wfsim_engine::time::parse_rfc3339;

use super::filter::{self, Fields, Op, compare};

/// What the query reads of one execution.
pub(crate) struct Row<'a> {
    pub id: &'a str,
    pub state: &'static str,
    /// Unix nanoseconds.
    pub start: i128,
    pub end: Option<i128>,
    /// Nanoseconds, once ended.
    pub duration: Option<u64>,
    pub revision: &'a str,
    pub labels: &'a BTreeMap<String, String>,
    /// Order of creation: the last tie-break, newest first.
    pub index: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    ExecutionId,
    State,
    StartTime,
    EndTime,
    Duration,
    WorkflowRevisionId,
}

impl Field {
    fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "executionID" | "executionId" | "name" => Field::ExecutionId,
            "state" => Field::State,
            "startTime" => Field::StartTime,
            "endTime" => Field::EndTime,
            "duration" => Field::Duration,
            "workflowRevisionID" | "workflowRevisionId" => Field::WorkflowRevisionId,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Target {
    Field(Field),
    Label(String),
}

/// A comparison's right side, read once for the field it is compared with.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Text(String),
    Time(i128),
    Nanos(u64),
}

/// One comparison of an executions' `filter`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Cmp {
    target: Target,
    op: Op,
    value: Value,
}

impl Fields for Cmp {
    type Field = Target;
    type Row<'a> = Row<'a>;
    const NAMES: &'static str =
        "executionID, state, startTime, endTime, duration, workflowRevisionID and labels.KEY";

    fn field(name: &str) -> Option<Target> {
        match name.strip_prefix("labels.") {
            Some(key) if !key.is_empty() => Some(Target::Label(key.to_owned())),
            _ => Field::parse(name).map(Target::Field),
        }
    }

    fn comparison(target: Target, op: Op, raw: String) -> Result<Cmp, String> {
        let value = match &target {
            Target::Field(Field::StartTime | Field::EndTime) => {
                Value::Time(parse_rfc3339(&raw).ok_or_else(|| {
                    format!("'{raw}' is not a time like \"2024-01-01T00:00:00Z\"")
                })?)
            }
            Target::Field(Field::Duration) => Value::Nanos(parse_duration(&raw)?),
            _ => Value::Text(raw),
        };
        Ok(Cmp { target, op, value })
    }

    fn holds(&self, row: &Row<'_>) -> bool {
        let Cmp { target, op, value } = self;
        match (target, value) {
            (Target::Label(key), Value::Text(v)) => match row.labels.get(key) {
                None => false,
                Some(_) if *op == Op::Has && v == "*" => true,
                Some(actual) => compare(actual.as_str(), *op, v.as_str()),
            },
            (Target::Field(f), Value::Text(v)) => {
                let actual = match f {
                    Field::ExecutionId => row.id,
                    Field::State => row.state,
                    _ => row.revision,
                };
                compare(actual, *op, v.as_str())
            }
            (Target::Field(Field::StartTime), Value::Time(t)) => compare(&row.start, *op, t),
            (Target::Field(_), Value::Time(t)) => row.end.is_some_and(|end| compare(&end, *op, t)),
            (_, Value::Nanos(n)) => row.duration.is_some_and(|d| compare(&d, *op, n)),
            (Target::Label(_), Value::Time(_)) => false,
        }
    }
}

/// `"10s"`, `"1.5s"` or `"10"` into nanoseconds.
fn parse_duration(raw: &str) -> Result<u64, String> {
    let secs: f64 = raw
        .strip_suffix('s')
        .unwrap_or(raw)
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s >= 0.0)
        .ok_or_else(|| format!("'{raw}' is not a duration like \"10s\""))?;
    Ok((secs * 1e9).round() as u64)
}

/// A parsed executions' `filter`.
pub(crate) type Filter = filter::Filter<Cmp>;

/// A parsed `orderBy`: fields, each ascending unless `desc`; default: newest first.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Order(Vec<(Field, bool)>);

impl Order {
    pub(crate) fn parse(text: &str) -> Result<Order, String> {
        let names = "executionID, startTime, endTime, duration, state and workflowRevisionID";
        let mut keys = filter::order_keys(text, Field::parse, names)?;
        if keys.is_empty() {
            keys.push((Field::StartTime, true));
        }
        Ok(Order(keys))
    }

    pub(crate) fn cmp(&self, a: &Row<'_>, b: &Row<'_>) -> Ordering {
        for &(field, desc) in &self.0 {
            let o = match field {
                Field::ExecutionId => a.id.cmp(b.id),
                Field::State => a.state.cmp(b.state),
                Field::StartTime => a.start.cmp(&b.start),
                Field::EndTime => a.end.cmp(&b.end),
                Field::Duration => a.duration.cmp(&b.duration),
                Field::WorkflowRevisionId => a.revision.cmp(b.revision),
            };
            let o = if desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        b.index.cmp(&a.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(
        id: &'a str,
        state: &'static str,
        start: i128,
        labels: &'a BTreeMap<String, String>,
    ) -> Row<'a> {
        Row {
            id,
            state,
            start,
            end: (state != "ACTIVE").then_some(start + 10_000_000_000),
            duration: (state != "ACTIVE").then_some(10_000_000_000),
            revision: "000001-abc",
            labels,
            index: 0,
        }
    }

    #[test]
    fn filters_read_as_aip_160() {
        let none = BTreeMap::new();
        let prod = BTreeMap::from([("env".to_owned(), "prod".to_owned())]);
        let a = row("a", "SUCCEEDED", 1_704_067_200_000_000_000, &prod);
        let b = row("b", "ACTIVE", 1_704_067_260_000_000_000, &none);
        let check = |f: &str, expect: [bool; 2]| {
            let filter = Filter::parse(f).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert_eq!([filter.matches(&a), filter.matches(&b)], expect, "{f}");
        };
        check(r#"state="SUCCEEDED""#, [true, false]);
        check("state!=SUCCEEDED", [false, true]);
        check(r#"startTime>"2024-01-01T00:00:30Z""#, [false, true]);
        check(r#"endTime<="2024-01-01T00:00:10Z""#, [true, false]);
        check(r#"duration>="10s""#, [true, false]);
        // A duration is read to the nanosecond, with or without its `s`.
        check(r#"duration>"10s""#, [false, false]);
        check(r#"duration>"9.999999999s""#, [true, false]);
        check("duration<=10", [true, false]);
        check("duration<10", [false, false]);
        check(r#"duration<="5s""#, [false, false]);
        check("labels.env=prod", [true, false]);
        check("labels.env:*", [true, false]);
        // `:` with a value other than `*` compares the value.
        check("labels.env:prod", [true, false]);
        check("labels.env:dev", [false, false]);
        check("state=ACTIVE OR labels.env=prod", [true, true]);
        check("NOT state=ACTIVE", [true, false]);
        check("-state=ACTIVE", [true, false]);
        check("state=ACTIVE AND executionID=b", [false, true]);
        check("state=ACTIVE AND executionID=a", [false, false]);
        check("state=ACTIVE executionID=a", [false, false]);
        check(
            "(state=ACTIVE OR state=FAILED) executionID=b",
            [false, true],
        );
        check(r#"workflowRevisionID="000001-abc""#, [true, true]);
        check(r#"startTime<"2024-01-01T00:00:30Z""#, [true, false]);
        check(r#"startTime<"2024-01-01T00:00:00Z""#, [false, false]);
        // A '-' after a comparison starts the value; anywhere else it is NOT.
        let negative = BTreeMap::from([("n".to_owned(), "-1".to_owned())]);
        let d = row("d", "SUCCEEDED", 0, &negative);
        assert!(Filter::parse("labels.n=-1").unwrap().matches(&d));
        assert!(!Filter::parse("-labels.n=-1").unwrap().matches(&d));
        // In a quoted value a backslash takes the next character as it is, a quote too.
        let quoted = BTreeMap::from([("say".to_owned(), r#"a "b""#.to_owned())]);
        let c = row("c", "SUCCEEDED", 0, &quoted);
        assert!(
            Filter::parse(r#"labels.say="a \"b\"""#)
                .unwrap()
                .matches(&c)
        );
    }

    #[test]
    fn bad_filters_say_why() {
        for (f, why) in [
            ("stepName=x", "cannot be filtered on"),
            ("labels.=x", "cannot be filtered on"),
            ("state!ACTIVE", "unexpected '!'"),
            ("state", "needs a comparison"),
            ("state=", "compared with nothing"),
            ("(state=A", "not closed"),
            (r#"startTime>"yesterday""#, "not a time"),
            (r#"duration>"soon""#, "not a duration"),
            (r#"duration>"-1s""#, "not a duration"),
            (r#"state="A"#, "not closed"),
            (r#"state="A\"#, "not closed"),
            ("state=A)", "after a whole filter"),
        ] {
            let e = Filter::parse(f).unwrap_err();
            assert!(e.contains(why), "{f}: {e}");
        }
    }

    #[test]
    fn order_defaults_to_newest_first() {
        let none = BTreeMap::new();
        let mut a = row("a", "SUCCEEDED", 1, &none);
        let mut b = row("b", "ACTIVE", 2, &none);
        a.index = 0;
        b.index = 1;
        let newest = Order::parse("").unwrap();
        assert_eq!(newest.cmp(&a, &b), Ordering::Greater);
        let by_id = Order::parse("executionID").unwrap();
        assert_eq!(by_id.cmp(&a, &b), Ordering::Less);
        let by_state = Order::parse("state desc, startTime").unwrap();
        assert_eq!(by_state.cmp(&a, &b), Ordering::Less);
        assert!(Order::parse("stepName").is_err());
        assert!(Order::parse("startTime sideways").is_err());
    }
}
