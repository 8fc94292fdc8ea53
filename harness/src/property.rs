//! Properties of a finished run (SPEC §9, EXP-2), as a scenario's `expect: {holds: [...]}`
//! and `wfsim explore`'s `always:`/`sometimes:` write them, in one of two forms:
//!
//! - an expression `${...}` over `state`, `result`, `error`, `logs`, `requests`,
//!   `requests_accepted_never_taken`, `http_calls` and `ended_at`;
//! - a routine: a one-key map `name: {params: [run], steps: [...]}`, a subworkflow that
//!   receives the run (those same fields, as a map) and returns a boolean. It is what a
//!   property over every request or call needs (a `for` loop), written as the workflows it
//!   judges are. It runs on the engine, under the engine's limits, and may not wait, call
//!   out or create endpoints: the run it reads is over.
//!
//! The fields are the run's `--json` report ([`crate::report::to_json`]) as workflow
//! values: `requests` each `{at, endpoint, service, method, status, taken_at}`, `logs` each
//! `{at, severity, text | data}`, times in seconds since the start. The standard library's
//! pure functions may be called; what needs an execution (`sys.log`, endpoints) may not.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::doc::DocError;
use crate::runner::Run;
use wfsim_engine::defn::tree::{Node, NodeKind, Pos};
use wfsim_engine::defn::{Action, Block, Workflow};
use wfsim_engine::error::{Raised, Tag, builtin};
use wfsim_engine::expr::{self, Context, Expr};
use wfsim_engine::interp::Outcome;
use wfsim_engine::stdlib::{Effects, LogPayload};
use wfsim_engine::value::Value;

/// A property as written.
#[derive(Clone, Debug)]
pub struct Property {
    /// The text as written, `${...}` included; a routine's name.
    pub source: String,
    pub form: Form,
    pub pos: Pos,
}

/// The two forms of a property.
#[derive(Clone, Debug)]
pub enum Form {
    Expr(Expr),
    /// The routine built as a workflow whose `main` it is, and the map as written (a
    /// reproducer writes it out again).
    Routine(Rc<Workflow>, Node),
}

impl PartialEq for Property {
    /// The same text at the same place: a routine is its written map.
    fn eq(&self, other: &Property) -> bool {
        self.as_written() == other.as_written()
    }
}

impl Property {
    /// What identifies a property as written: its text (a routine's name), its place, and a
    /// routine's map.
    fn as_written(&self) -> (&str, Pos, Option<&Node>) {
        let routine = match &self.form {
            Form::Expr(_) => None,
            Form::Routine(_, node) => Some(node),
        };
        (&self.source, self.pos, routine)
    }

    /// The property as one YAML flow item of a `holds:` list: the expression quoted, a
    /// routine as its JSON (JSON is YAML).
    pub fn yaml_item(&self) -> String {
        match &self.form {
            Form::Expr(_) => serde_json::Value::String(self.source.clone()).to_string(),
            Form::Routine(_, node) => node
                .to_value()
                .to_json()
                .map_or_else(|_| String::new(), |j| j.to_string()),
        }
    }
}

/// The variables a property sees.
pub type Vars = BTreeMap<&'static str, Value>;

/// The names a property may read.
pub const NAMES: [&str; 9] = [
    "state",
    "result",
    "error",
    "logs",
    "requests",
    "requests_accepted_never_taken",
    "http_calls",
    "ended_at",
    "children",
];

/// A property from a `${...}` string or a routine at `n`, or what is wrong with it.
pub fn parse(n: &Node) -> Result<Property, DocError> {
    if let NodeKind::Map(entries) = &n.kind {
        return routine(n, entries);
    }
    parse_at(n).map_err(|message| DocError::new(n.pos, message))
}

fn parse_at(n: &Node) -> Result<Property, String> {
    let Some(s) = n.as_str() else {
        return Err(format!(
            "a property is an expression `${{...}}` or a routine `name: {{params: [run], steps: [...]}}`, not {}",
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
        if let Some(why) = refused(&c) {
            return Err(why);
        }
    }
    Ok(Property {
        source: s.to_owned(),
        form: Form::Expr(e),
        pos: n.pos,
    })
}

/// Why a property may not call `func`, if it may not.
fn refused(func: &str) -> Option<String> {
    let pure = wfsim_engine::stdlib::table::lookup(func).is_some_and(|f| !f.blocking());
    (!pure || NEEDS_EXECUTION.contains(&func)).then(|| format!(
        "'{func}' cannot be called in a property (it reads the finished run; the library's functions that need no execution may be)"
    ))
}

/// A routine `name: {params: [run], steps: [...]}`: built as the `main` of a workflow of
/// its own, so the definition's checks and errors are the workflows' own, at their places
/// in the file.
fn routine(n: &Node, entries: &[(String, Pos, Node)]) -> Result<Property, DocError> {
    let [(name, kpos, body)] = entries else {
        return Err(DocError::new(
            n.pos,
            format!(
                "a property routine is a map with one key, its name (`name: {{params: [run], steps: [...]}}`), not {} keys",
                entries.len()
            ),
        ));
    };
    let params = body
        .as_map()
        .and_then(|m| m.iter().find(|(k, _, _)| k == "params"))
        .and_then(|(_, _, p)| p.as_seq());
    if params.is_none_or(|p| p.len() != 1) {
        return Err(DocError::new(
            body.pos,
            format!("property '{name}' takes one parameter, the run: `params: [run]`"),
        ));
    }
    let root = Node {
        pos: n.pos,
        kind: NodeKind::Map(vec![("main".to_owned(), *kpos, body.clone())]),
    };
    let wf = wfsim_engine::defn::build::build(Rc::from(""), &root).map_err(|errors| {
        let first = &errors[0];
        DocError::new(first.pos, format!("property '{name}': {}", first.message))
    })?;
    if let Some((pos, why)) = refused_call(&wf.main.steps) {
        return Err(DocError::new(pos, why));
    }
    Ok(Property {
        source: name.clone(),
        form: Form::Routine(Rc::new(wf), n.clone()),
        pos: *kpos,
    })
}

/// The first `call:` in `steps` a property may not make (a library function that waits or
/// needs the execution, or a connector), with where it is written.
fn refused_call(steps: &Block) -> Option<(Pos, String)> {
    steps.iter().find_map(|step| {
        direct_calls(&step.action)
            .into_iter()
            .find_map(|c| refused(&c.func).map(|why| (c.pos, why)))
            .or_else(|| step.action.blocks().into_iter().find_map(refused_call))
    })
}

/// The calls `action` makes itself: a `call:`, a switch case's, a `try` body's.
fn direct_calls(action: &Action) -> Vec<&wfsim_engine::defn::Call> {
    match action {
        Action::Call(c) => vec![c],
        Action::Switch(cases) => cases.iter().flat_map(|c| direct_calls(&c.action)).collect(),
        Action::Try(t) => direct_calls(&t.body),
        _ => Vec::new(),
    }
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

/// The variables of `run` that `props` read ([`Expr::vars`]; a routine reads them all): an
/// exploration judges every seed with its few properties, and the report's fields they do
/// not read cost more to make than the properties to evaluate. A property reads variables
/// only by name, so it sees the same values as with [`vars`].
pub fn vars_read_by<'a>(run: &Run, props: impl IntoIterator<Item = &'a Property>) -> Vars {
    named(run, &read_by(props))
}

/// The names of [`NAMES`] that `props` read, in that order: all of them when a routine
/// is among them. An exploration finds them once, not every seed.
pub fn read_by<'a>(props: impl IntoIterator<Item = &'a Property>) -> Vec<&'static str> {
    let mut read = Vec::new();
    for p in props {
        match &p.form {
            Form::Expr(e) => e.vars(&mut read),
            Form::Routine(..) => return NAMES.to_vec(),
        }
    }
    NAMES.into_iter().filter(|n| read.contains(n)).collect()
}

/// The variables `names` of `run` ([`read_by`]'s): a name not in [`NAMES`] is `null`.
pub fn named(run: &Run, names: &[&'static str]) -> Vars {
    let mut vars = Vars::new();
    for &name in names {
        let v = crate::report::field_value(run, name).unwrap_or(Value::Null);
        vars.insert(name, v);
    }
    vars
}

/// Whether `p` holds with `vars`: `Err` when it could not be evaluated or is not a
/// boolean, said in a sentence.
pub fn holds(p: &Property, vars: &Vars) -> Result<bool, String> {
    let got = match &p.form {
        Form::Expr(e) => expr::eval(e, &mut Cx { vars }),
        Form::Routine(wf, _) => return run_routine(p, wf, vars),
    };
    match got {
        Ok(Value::Bool(b)) => Ok(b),
        Ok(other) => Err(format!("{} is {}, not a boolean", p.source, other.a_type())),
        Err(e) => Err(format!("{} raised {}", p.source, error_text(&e))),
    }
}

fn error_text(e: &Value) -> String {
    wfsim_engine::error::message(e).unwrap_or_else(|| wfsim_engine::value::show(e))
}

/// Runs routine `wf` with the run's fields as its argument. It must end at once (no sleep,
/// no await) having made no call and no endpoint: all it may do is read its argument.
fn run_routine(p: &Property, wf: &Rc<Workflow>, vars: &Vars) -> Result<bool, String> {
    let argument = Value::map(vars.iter().map(|(k, v)| (*k, v.clone())));
    let config = crate::runner::RunConfig {
        argument: Some(argument),
        ..Default::default()
    };
    let run = crate::runner::run(wf.clone(), &p.source, &config, &[]);
    let ex = &run.execution;
    let endpoints = ex.with_callbacks(|cbs| cbs.endpoints().len());
    if ex.ended_at() != Some(wfsim_engine::SimTime::ZERO)
        || endpoints > 0
        || !ex.http_calls().is_empty()
    {
        return Err(format!(
            "property '{}' waited, called out or made an endpoint: a property only reads the finished run",
            p.source
        ));
    }
    match ex.outcome() {
        Some(Outcome::Succeeded(Value::Bool(b))) => Ok(*b),
        Some(Outcome::Succeeded(other)) => Err(format!(
            "property '{}' returned {}, not a boolean",
            p.source,
            other.a_type()
        )),
        Some(Outcome::Failed(f)) => {
            let at = f.stack.first().map_or(String::new(), |e| {
                format!(" at step '{}' (line {})", e.step, e.pos)
            });
            Err(format!(
                "property '{}' raised {}{at}",
                p.source,
                error_text(&f.error)
            ))
        }
        _ => Err(format!("property '{}' did not end", p.source)),
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

    fn routine(src: &str) -> Result<Property, String> {
        let root = tree(src, Syntax::Yaml).unwrap();
        parse(&root.as_seq().unwrap()[0]).map_err(|e| format!("{}: {}", e.pos, e.message))
    }

    fn approved_run() -> Run {
        let wf = std::rc::Rc::new(
            wfsim_engine::defn::load(
                "w.yaml",
                "main:\n  steps:\n    - log:\n        call: sys.log\n        args: {text: one}\n    - log2:\n        call: sys.log\n        args: {text: two}\n    - r:\n        return: {approved: true}\n",
            )
            .unwrap(),
        );
        crate::runner::run(wf, "w", &crate::runner::RunConfig::default(), &[])
    }

    /// EXP-2's routine form: a subworkflow given the run, looping over its lists; what it
    /// returns, raises or refuses said with its name and line.
    #[test]
    fn exp_2_a_routine_property_loops_over_the_run() {
        let vars = vars(&approved_run());
        let every_log = |want: &str| {
            format!(
                "- every_log:\n    params: [run]\n    steps:\n      - each:\n          for:\n            value: l\n            in: ${{run.logs}}\n            steps:\n              - check:\n                  switch:\n                    - condition: ${{l.text != \"{want}\" and run.state == \"SUCCEEDED\"}}\n                      return: false\n      - ok:\n          return: ${{len(run.logs) == 2 and run.result.approved}}\n"
            )
        };
        let p = routine(&every_log("one")).unwrap();
        assert_eq!(p.source, "every_log");
        assert_eq!(p.pos.line, 1);
        assert_eq!(holds(&p, &vars), Ok(false));
        let all = routine(
            "- all:\n    params: [run]\n    steps:\n      - ok:\n          return: ${len(run.logs) == 2 and run.result.approved}\n",
        )
        .unwrap();
        assert_eq!(holds(&all, &vars), Ok(true));
        // A property reading nothing by name still gets every field when a routine is among them.
        assert_eq!(vars_read_by(&approved_run(), [&all]).len(), NAMES.len());
        assert_eq!(p, p.clone());
        assert_ne!(p, all);
        let returns = |b: &str| {
            routine(&format!(
                "- p:\n    params: [run]\n    steps:\n      - r:\n          return: {b}\n"
            ))
            .unwrap()
        };
        assert_eq!(returns("true"), returns("true"));
        assert_ne!(
            returns("true"),
            returns("false"),
            "same name and place, other steps"
        );
        assert_eq!(prop("${true}").unwrap(), prop("${true}").unwrap());
        assert!(
            p.yaml_item()
                .starts_with("{\"every_log\":{\"params\":[\"run\"]")
        );
        let not_bool =
            routine("- n:\n    params: [run]\n    steps:\n      - r:\n          return: 1\n")
                .unwrap();
        assert_eq!(
            holds(&not_bool, &vars),
            Err("property 'n' returned an integer, not a boolean".into())
        );
        let raises =
            routine("- r:\n    params: [run]\n    steps:\n      - boom:\n          raise: bad\n")
                .unwrap();
        assert_eq!(
            holds(&raises, &vars),
            Err("property 'r' raised bad at step 'boom' (line 4:9)".into())
        );
        let makes = routine(
            "- m:\n    params: [run]\n    steps:\n      - e:\n          assign:\n            - x: ${events.create_callback_endpoint(\"POST\")}\n      - r:\n          return: true\n",
        )
        .unwrap();
        assert!(
            holds(&makes, &vars)
                .unwrap_err()
                .contains("only reads the finished run"),
            "an endpoint made in an expression is caught when it runs"
        );
    }

    #[test]
    fn exp_2_a_routine_that_waits_or_calls_out_is_refused_where_written() {
        let err = |src: &str| routine(src).unwrap_err();
        for (body, at) in [
            (
                "      - s:\n          call: sys.sleep\n          args: {seconds: 1}\n",
                "5:11",
            ),
            (
                "      - t:\n          try:\n            call: http.get\n            args: {url: \"https://x\"}\n          retry: ${http.default_retry}\n",
                "6:13",
            ),
            (
                "      - w:\n          switch:\n            - condition: true\n              call: events.await_callback\n              args: {callback: {}}\n",
                "7:15",
            ),
            (
                "      - n:\n          steps:\n            - s:\n                call: sys.log\n                args: {text: x}\n",
                "7:17",
            ),
        ] {
            let e = err(&format!("- p:\n    params: [run]\n    steps:\n{body}"));
            assert!(e.starts_with(&format!("{at}: '")), "{e}");
            assert!(e.contains("cannot be called in a property"), "{e}");
        }
        let e = err("- p:\n    steps:\n      - r:\n          return: true\n");
        assert_eq!(
            e,
            "2:5: property 'p' takes one parameter, the run: `params: [run]`"
        );
        let e = err("- p:\n    params: [a, b]\n    steps: []\n");
        assert!(e.contains("takes one parameter"), "{e}");
        let e = err("- p: {params: [run], steps: []}\n  q: {params: [run], steps: []}\n");
        assert!(
            e.starts_with("1:3: a property routine is a map with one key"),
            "{e}"
        );
        assert!(e.contains("not 2 keys"), "{e}");
        let e = err("- p:\n    params: [run]\n    steps:\n      - r:\n          retrun: true\n");
        assert!(e.starts_with("5:11: property 'p': "), "{e}");
    }
}
