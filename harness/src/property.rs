//! Properties of a finished run (SPEC §9, EXP-2): workflow expressions over `state`,
//! `result`, `error`, `logs`, `requests`, `http_calls` and `ended_at`, as a scenario's
//! `expect: {holds: [...]}` and `wfsim explore`'s `always:`/`sometimes:` write them.
//!
//! The variables are the run's `--json` report ([`crate::report::to_json`]) as workflow
//! values: `requests` each `{at, endpoint, service, method, status, taken_at}`, `logs` each
//! `{at, severity, text | data}`, times in seconds since the start. The standard library's
//! pure functions may be called; what needs an execution (`sys.log`, endpoints) may not.

use std::collections::BTreeMap;

use crate::doc::DocError;
use crate::runner::Run;
use wfsim_engine::defn::tree::{Node, Pos};
use wfsim_engine::error::{Raised, Tag, builtin};
use wfsim_engine::expr::{self, Context, Expr};
use wfsim_engine::stdlib::{Effects, LogPayload};
use wfsim_engine::value::Value;

/// A property as written.
#[derive(Clone, Debug, PartialEq)]
pub struct Property {
    /// The text as written, `${...}` included.
    pub source: String,
    pub expr: Expr,
    pub pos: Pos,
}

/// The variables a property sees.
pub type Vars = BTreeMap<&'static str, Value>;

/// The names a property may read.
pub const NAMES: [&str; 8] = [
    "state",
    "result",
    "error",
    "logs",
    "requests",
    "http_calls",
    "ended_at",
    "children",
];

/// A property from a `${...}` string at `n`, or what is wrong with it, at `n`.
pub fn parse(n: &Node) -> Result<Property, DocError> {
    parse_at(n).map_err(|message| DocError::new(n.pos, message))
}

fn parse_at(n: &Node) -> Result<Property, String> {
    let Some(s) = n.as_str() else {
        return Err(format!(
            "a property is an expression `${{...}}`, not {}",
            wfsim_engine::value::with_article(n.describe())
        ));
    };
    let Some(inner) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) else {
        return Err(format!(
            "a property is an expression `${{...}}`, not the string '{s}'"
        ));
    };
    let e = expr::parse(inner).map_err(|e| {
        format!(
            "invalid expression '{s}': {} (at offset {})",
            e.message,
            e.offset + 2
        )
    })?;
    let mut calls = Vec::new();
    e.calls(&mut calls);
    for c in calls {
        let pure = wfsim_engine::stdlib::table::lookup(&c).is_some_and(|f| !f.blocking());
        if !pure || NEEDS_EXECUTION.contains(&c.as_str()) {
            return Err(format!(
                "'{c}' cannot be called in a property (it reads the finished run; the library's functions that need no execution may be)"
            ));
        }
    }
    Ok(Property {
        source: s.to_owned(),
        expr: e,
        pos: n.pos,
    })
}

/// Library functions that act on an execution, which a finished run no longer is.
const NEEDS_EXECUTION: [&str; 5] = [
    "sys.log",
    "sys.now",
    "events.create_callback_endpoint",
    "uuid.generate",
    "sys.get_env",
];

/// The variables of `run`.
pub fn vars(run: &Run) -> Vars {
    named(run, &NAMES)
}

/// The variables of `run` that `props` read ([`Expr::vars`]): an exploration judges every
/// seed with its few properties, and the report's fields they do not read cost more to make
/// than the properties to evaluate. A property reads variables only by name, so it sees the
/// same values as with [`vars`].
pub fn vars_read_by<'a>(run: &Run, props: impl IntoIterator<Item = &'a Property>) -> Vars {
    let mut read = Vec::new();
    props.into_iter().for_each(|p| p.expr.vars(&mut read));
    let names: Vec<&str> = NAMES.into_iter().filter(|n| read.contains(n)).collect();
    named(run, &names)
}

fn named(run: &Run, names: &[&'static str]) -> Vars {
    let mut vars = Vars::new();
    for &name in names {
        let v = crate::report::field_json(run, name).map_or(Value::Null, |j| Value::from_json(&j));
        vars.insert(name, v);
    }
    vars
}

/// Whether `p` holds with `vars`: `Err` when it could not be evaluated or is not a
/// boolean, said in a sentence.
pub fn holds(p: &Property, vars: &Vars) -> Result<bool, String> {
    match expr::eval(&p.expr, &mut Cx { vars }) {
        Ok(Value::Bool(b)) => Ok(b),
        Ok(other) => Err(format!("{} is {}, not a boolean", p.source, other.a_type())),
        Err(e) => Err(format!(
            "{} raised {}",
            p.source,
            wfsim_engine::error::message(&e).unwrap_or_else(|| wfsim_engine::value::show(&e))
        )),
    }
}

struct Cx<'a> {
    vars: &'a Vars,
}

impl Context for Cx<'_> {
    fn var(&self, name: &str) -> Option<Value> {
        self.vars.get(name).cloned()
    }
    fn call(&mut self, name: &str, args: Vec<Value>) -> Result<Value, Raised> {
        wfsim_engine::stdlib::call(name, args.into_iter().map(Some).collect(), &mut NoExecution)
    }
}

/// The host of a property's library calls: there is no execution any more.
struct NoExecution;

impl Effects for NoExecution {
    fn now_unix_nanos(&self) -> i128 {
        0
    }
    fn uuid(&mut self) -> String {
        String::new()
    }
    fn env(&self, _: &str) -> Option<String> {
        None
    }
    fn log(&mut self, _: String, _: LogPayload) {}
    fn create_callback_endpoint(&mut self, _: &str) -> Result<Value, Raised> {
        Err(builtin(
            Tag::SystemError,
            "a property cannot create callback endpoints",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wfsim_engine::defn::tree::{Syntax, parse as tree};

    fn prop(src: &str) -> Result<Property, String> {
        let root = tree(&format!("p: '{src}'\n"), Syntax::Yaml).unwrap();
        parse(&root.as_map().unwrap()[0].2).map_err(|e| e.message)
    }

    #[test]
    fn exp_2_properties_read_the_run_and_call_pure_functions() {
        let wf = std::rc::Rc::new(
            wfsim_engine::defn::load(
                "w.yaml",
                "main:\n  steps:\n    - r:\n        return: {approved: true}\n",
            )
            .unwrap(),
        );
        let run = crate::runner::run(wf, "w", &crate::runner::RunConfig::default(), &[]);
        let vars = vars(&run);
        let p = |s| holds(&prop(s).unwrap(), &vars);
        assert_eq!(p("${state == \"SUCCEEDED\" and result.approved}"), Ok(true));
        assert_eq!(p("${len(requests) == 0 and ended_at == 0}"), Ok(true));
        assert_eq!(p("${error == null}"), Ok(true));
        assert!(p("${error.tags}").unwrap_err().contains("raised"));
        assert!(p("${1}").unwrap_err().contains("not a boolean"));
        assert!(
            prop("${sys.log(\"x\")}")
                .unwrap_err()
                .contains("cannot be called")
        );
        assert!(prop("state").unwrap_err().contains("expression"));
        assert!(
            prop("${state ==}")
                .unwrap_err()
                .contains("invalid expression")
        );
    }
}
