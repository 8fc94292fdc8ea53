//! The explore file: a scenario (the run format, `services:` included) with an `explore:`
//! section (EXP-1). Read into a [`Plan`]; every error names `file:line:column`.
//!
//! ```yaml
//! workflow: approval.yaml
//! argument: {order: 7}
//! services: [...]                 # any `after`, `status` or `times` may be [lo, hi]
//! explore:
//!   seeds: 1000                   # default; --seeds overrides
//!   senders:                      # callbacks from outside, drawn per seed
//!     - endpoint: 0               # endpoints in creation order, as in scenarios
//!       method: POST              # default: the endpoint's method
//!       body: [{approved: true}, {approved: false}]   # one drawn per logical request
//!       count: [0, 3]             # logical requests per seed (default 1)
//!       at: [0, 90000]            # seconds after the start
//!       retry: {max_attempts: 5, initial_delay: 1, multiplier: 2, max_delay: 60}
//!   faults: {loss: 0.05, latency: [0.001, 2], restarts: [0, 1]}   # restarts: --system only
//!   always:                       # must hold after every seed
//!     - ${state == "SUCCEEDED" or "TimeoutError" in error.tags}
//!     - all_taken:                # or a routine over the run (EXP-2): loops say "every"
//!         params: [run]
//!         steps:
//!           - done:
//!               return: ${len(run.requests_accepted_never_taken) == 0}
//!   sometimes:                    # must hold after at least one seed
//!     - ${state == "SUCCEEDED" and result.approved}
//! ```
//!
//! A body that is not a list is the one body of every request; a list holds the choices
//! (write `[[1, 2]]` for the one body `[1, 2]`). Bodies are sent as JSON (a string as
//! text), with their content type.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use wfsim_engine::Value;
use wfsim_engine::defn::tree::{Node, NodeKind, Pos, Syntax};
use wfsim_engine::defn::{self, Workflow};
use wfsim_engine::time::duration_from_secs;
use wfsim_harness::doc;
use wfsim_harness::property::{self, Property};
use wfsim_harness::runner::ScriptedRequest;
use wfsim_harness::scenario::{self, Scenario};
use wfsim_harness::services::{self, Service};

use crate::fault::FaultKind;
pub use crate::fault::Faults;
pub use crate::read::Invalid;
use crate::read::{At, number, pair, seconds_pair, whole_pair};

/// Seeds run when neither the file nor the command line says.
pub const SEEDS_DEFAULT: u64 = 1000;

/// A read explore file.
#[derive(Debug)]
pub struct Plan {
    /// The explore file, as given.
    pub file: PathBuf,
    /// The workflow file, resolved against the explore file's directory.
    pub workflow_path: PathBuf,
    pub workflow: Rc<Workflow>,
    /// The child workflows it may start (HT-10).
    pub children: wfsim_harness::children::Library,
    /// Its steps and branches (coverage points), in the order written.
    pub sites: Vec<wfsim_engine::coverage::Site>,
    /// Argument, start time, env, fixed requests, cancel: as a scenario says them.
    pub base: Scenario,
    pub stubs: Stubs,
    pub seeds: u64,
    pub senders: Vec<Sender>,
    pub faults: Faults,
    pub always: Vec<Property>,
    pub sometimes: Vec<Property>,
    /// The run's fields the properties read (`property::read_by`), found once.
    reads: Vec<&'static str>,
    /// Per sender, per body, the request it sends (its time aside), made once.
    requests: Vec<Vec<ScriptedRequest>>,
}

/// The scripted services, with the numbers drawn per seed.
#[derive(Debug, Default)]
pub struct Stubs {
    /// `services:` as written (`None`: there are none).
    pub node: Option<Node>,
    /// The `[lo, hi]` numbers in it, in the order written.
    pub ranges: Vec<StubRange>,
    /// The services when there are no ranges: parsed once.
    pub fixed: Vec<Service>,
    /// `node` with the last seed's numbers written in: each seed overwrites every range,
    /// so the rest need not be copied again.
    work: RefCell<Option<Node>>,
}

/// A number of a stub drawn per seed.
#[derive(Clone, Debug)]
pub struct StubRange {
    /// Where in `services:` it is: indexes of sequence items and map entries.
    pub path: Vec<usize>,
    pub pos: Pos,
    /// `after` (seconds, to the millisecond), or `status`/`times` (whole numbers).
    pub key: String,
    pub lo: f64,
    pub hi: f64,
}

impl StubRange {
    pub fn integral(&self) -> bool {
        self.key != "after"
    }
}

impl Stubs {
    /// The services with `values` (one per range) in place of the ranges.
    pub fn with(&self, values: &[f64]) -> Result<Vec<Service>, String> {
        let Some(node) = &self.node else {
            return Ok(Vec::new());
        };
        if self.ranges.is_empty() {
            return Ok(self.fixed.clone());
        }
        let mut work = self.work.borrow_mut();
        let node = work.get_or_insert_with(|| node.clone());
        self.write(node, values);
        services::parse(node).map_err(|e| e.to_string())
    }

    /// `services:` with `values` written in, as a value (for a reproducer).
    pub fn value_with(&self, values: &[f64]) -> Value {
        match &self.node {
            None => Value::Null,
            Some(node) => self.substituted(node, values).to_value(),
        }
    }

    fn substituted(&self, node: &Node, values: &[f64]) -> Node {
        let mut node = node.clone();
        self.write(&mut node, values);
        node
    }

    /// Writes `values` in place of the ranges of `node` (`services:` or a copy of it).
    fn write(&self, node: &mut Node, values: &[f64]) {
        for (r, v) in self.ranges.iter().zip(values) {
            let value = if r.integral() {
                Value::Int(*v as i64)
            } else {
                Value::Double(*v)
            };
            if let Some(slot) = at_path(node, &r.path) {
                slot.kind = NodeKind::Scalar(value);
            }
        }
    }
}

fn at_path<'a>(node: &'a mut Node, path: &[usize]) -> Option<&'a mut Node> {
    let Some((&first, rest)) = path.split_first() else {
        return Some(node);
    };
    let child = match &mut node.kind {
        NodeKind::Seq(items) => items.get_mut(first)?,
        NodeKind::Map(entries) => &mut entries.get_mut(first)?.2,
        NodeKind::Scalar(_) => return None,
    };
    at_path(child, rest)
}

/// Callbacks from outside, drawn per seed.
#[derive(Clone, Debug)]
pub struct Sender {
    pub pos: Pos,
    pub endpoint: u32,
    /// The execution whose endpoint it calls: `None` the workflow's own, else a child
    /// (HT-10).
    pub execution: Option<wfsim_harness::runner::ExecutionSel>,
    pub method: Option<String>,
    /// The choices, each as a value (for the report) and as sent.
    pub bodies: Vec<Body>,
    /// Logical requests per seed, both ends included.
    pub count: (u64, u64),
    /// When each is first sent, both ends included, nanoseconds since the start.
    pub at: (u64, u64),
    pub retry: RetryPolicy,
}

impl Sender {
    /// Per body, the request it sends, at time 0.
    fn requests(&self) -> Vec<ScriptedRequest> {
        self.bodies
            .iter()
            .map(|body| ScriptedRequest {
                at: wfsim_engine::SimTime::ZERO,
                endpoint: self.endpoint,
                method: self.method.clone(),
                headers: body.headers.clone(),
                query: String::new(),
                body: body.bytes.clone(),
                execution: self.execution.clone(),
            })
            .collect()
    }
}

#[derive(Clone, Debug)]
pub struct Body {
    pub value: Value,
    pub headers: Vec<(String, String)>,
    pub bytes: Vec<u8>,
}

/// A sender's retries (EXP-3): on 429, 5xx and a lost answer, up to `max_attempts` sends
/// in all, the k-th retry `min(initial_delay × multiplier^(k-1), max_delay)` after the
/// attempt before it arrived.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub initial_delay: f64,
    pub multiplier: f64,
    pub max_delay: f64,
}

impl RetryPolicy {
    pub const NONE: RetryPolicy = RetryPolicy {
        max_attempts: 1,
        initial_delay: 1.0,
        multiplier: 2.0,
        max_delay: 60.0,
    };

    /// The wait before retry `k` (1, 2, …).
    pub fn delay(&self, k: u32) -> std::time::Duration {
        let secs = (self.initial_delay * self.multiplier.powi(k as i32 - 1)).min(self.max_delay);
        duration_from_secs(secs).unwrap_or(std::time::Duration::from_secs(1))
    }
}

impl Plan {
    /// The run's fields the properties read: the only ones each seed makes.
    pub fn reads(&self) -> &[&'static str] {
        &self.reads
    }

    /// What sender `sender` sends with body `body`, at time 0: each send is a copy, or
    /// this itself where the runner takes a reference.
    pub fn request(&self, sender: usize, body: usize) -> &ScriptedRequest {
        &self.requests[sender][body]
    }

    /// Reads the explore file at `path`.
    pub fn load(path: &Path) -> Result<Plan, Invalid> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Invalid(format!("{name}: cannot read it: {e}")))?;
        Plan::parse(path, &text)
    }

    /// The explore file `path` holding `text`; its workflow is read from disk.
    pub fn parse(path: &Path, text: &str) -> Result<Plan, Invalid> {
        let name = path.display().to_string();
        let at = At::new(&name);
        let root = match doc::read(text, Syntax::of_path(&name)) {
            Ok(root) => root,
            Err(e) => return at.doc(e),
        };
        let base = scenario::parse_tree(&root, &["explore", "services"]).or_else(|e| at.doc(e))?;
        let entries = root.as_map().unwrap_or_default();
        let find = |key: &str| entries.iter().find(|(k, _, _)| k == key);
        let Some((_, _, explore)) = find("explore") else {
            return at.err(
                root.pos,
                "an explore file needs an 'explore:' section (senders, always, sometimes); without one it is a scenario: `wfsim run` it",
            );
        };
        if !base.expect_status.iter().all(Option::is_none)
            || base.expect != scenario::Expect::default()
        {
            let (_, kpos, _) = find("expect")
                .or_else(|| find("requests"))
                .expect("present");
            return at.err(
                *kpos,
                "an explore file states what must hold in 'explore: {always, sometimes}', not in 'expect'",
            );
        }
        let stubs = match find("services") {
            None => Stubs::default(),
            Some((_, _, n)) => stubs(&at, n)?,
        };
        let workflow_path =
            scenario::tidy_path(&path.parent().unwrap_or(Path::new(".")).join(&base.workflow));
        let workflow_name = workflow_path.display().to_string();
        let workflow_text = std::fs::read_to_string(&workflow_path).or_else(|e| {
            at.err(
                base.workflow_pos,
                format!("cannot read the workflow {workflow_name}: {e}"),
            )
        })?;
        let workflow = defn::load(&workflow_name, &workflow_text).map_err(|errs| {
            Invalid(
                errs.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        })?;
        let children = base
            .children(path, &workflow, &workflow_path)
            .map_err(Invalid)?;
        let mut plan = Plan {
            file: path.to_owned(),
            children,
            workflow_path,
            sites: wfsim_engine::coverage::points(&workflow),
            workflow: Rc::new(workflow),
            base,
            stubs,
            seeds: SEEDS_DEFAULT,
            senders: Vec::new(),
            faults: Faults::default(),
            always: Vec::new(),
            sometimes: Vec::new(),
            reads: Vec::new(),
            requests: Vec::new(),
        };
        explore_section(&at, explore, &mut plan)?;
        plan.reads = property::read_by(plan.always.iter().chain(&plan.sometimes));
        plan.requests = plan.senders.iter().map(Sender::requests).collect();
        Ok(plan)
    }
}

fn stubs(at: &At, n: &Node) -> Result<Stubs, Invalid> {
    let mut ranges = Vec::new();
    find_ranges(at, n, &mut Vec::new(), &mut ranges)?;
    let mut s = Stubs {
        node: Some(n.clone()),
        ranges,
        fixed: Vec::new(),
        work: RefCell::default(),
    };
    // Both ends of every range must make valid services: the errors are said here, once.
    for pick in [false, true] {
        let values: Vec<f64> = s
            .ranges
            .iter()
            .map(|r| if pick { r.hi } else { r.lo })
            .collect();
        let node = s.substituted(n, &values);
        let parsed = services::parse(&node).or_else(|e| at.doc(e))?;
        if s.ranges.is_empty() {
            s.fixed = parsed;
        }
    }
    Ok(s)
}

const RANGED_KEYS: [&str; 3] = ["after", "status", "times"];

fn find_ranges(
    at: &At,
    n: &Node,
    path: &mut Vec<usize>,
    out: &mut Vec<StubRange>,
) -> Result<(), Invalid> {
    match &n.kind {
        NodeKind::Scalar(_) => {}
        NodeKind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(i);
                find_ranges(at, item, path, out)?;
                path.pop();
            }
        }
        NodeKind::Map(entries) => {
            for (i, (k, _, v)) in entries.iter().enumerate() {
                path.push(i);
                if RANGED_KEYS.contains(&k.as_str()) && v.as_seq().is_some() {
                    let (lo, hi) = pair(at, v, k)?;
                    let integral = k != "after";
                    if integral && (lo.fract() != 0.0 || hi.fract() != 0.0) {
                        return at.err(
                            v.pos,
                            format!("'{k}' is a whole number or [lo, hi] of them"),
                        );
                    }
                    out.push(StubRange {
                        path: path.clone(),
                        pos: v.pos,
                        key: k.clone(),
                        lo,
                        hi,
                    });
                } else if k != "body" && k != "headers" && k != "match" {
                    find_ranges(at, v, path, out)?;
                }
                path.pop();
            }
        }
    }
    Ok(())
}

fn map<'a>(at: &At, n: &'a Node, what: &str) -> Result<&'a [(String, Pos, Node)], Invalid> {
    match n.as_map() {
        Some(m) => Ok(m),
        None => at.err(n.pos, format!("'{what}' is a map")),
    }
}

fn explore_section(at: &At, n: &Node, plan: &mut Plan) -> Result<(), Invalid> {
    for (key, kpos, v) in map(at, n, "explore")? {
        match key.as_str() {
            "seeds" => match v.to_value() {
                Value::Int(i) if i > 0 => plan.seeds = i as u64,
                _ => return at.err(v.pos, "'seeds' is a number of seeds, 1 or more"),
            },
            "senders" => {
                let Some(items) = v.as_seq() else {
                    return at.err(v.pos, "'senders' is a list");
                };
                for item in items {
                    plan.senders.push(sender(at, item)?);
                }
            }
            "faults" => plan.faults = faults(at, v)?,
            "always" | "sometimes" => {
                let Some(items) = v.as_seq() else {
                    return at.err(
                        v.pos,
                        format!(
                            "'{key}' is a list of properties (expressions `${{...}}` or routines)"
                        ),
                    );
                };
                for item in items {
                    let p = property::parse(item).or_else(|e| at.doc(e))?;
                    if key == "always" {
                        plan.always.push(p);
                    } else {
                        plan.sometimes.push(p);
                    }
                }
            }
            other => {
                return at.err(
                    *kpos,
                    format!(
                        "unknown key '{other}' in 'explore' (it takes seeds, senders, faults, always, sometimes)"
                    ),
                );
            }
        }
    }
    if plan.always.is_empty() && plan.sometimes.is_empty() {
        return at.err(
            n.pos,
            "'explore' needs at least one property under 'always' or 'sometimes'",
        );
    }
    Ok(())
}

fn sender(at: &At, n: &Node) -> Result<Sender, Invalid> {
    let mut s = Sender {
        pos: n.pos,
        endpoint: 0,
        execution: None,
        method: None,
        bodies: Vec::new(),
        count: (1, 1),
        at: (0, 0),
        retry: RetryPolicy::NONE,
    };
    let (mut has_endpoint, mut has_at) = (false, false);
    let mut bodies = vec![Value::Null];
    for (key, kpos, v) in map(at, n, "sender")? {
        match key.as_str() {
            "endpoint" => match v.to_value() {
                Value::Int(i) if (0..=i64::from(u32::MAX)).contains(&i) => {
                    s.endpoint = i as u32;
                    has_endpoint = true;
                }
                _ => return at.err(v.pos, "'endpoint' is an index in creation order: 0, 1, …"),
            },
            "execution" => {
                s.execution = Some(scenario::execution_sel(v).or_else(|e| at.doc(e))?);
            }
            "method" => match v.as_str() {
                Some(m) => s.method = Some(m.to_owned()),
                None => return at.err(v.pos, "'method' is a string such as POST"),
            },
            "body" => {
                bodies = match v.to_value() {
                    Value::List(items) if items.is_empty() => {
                        return at.err(v.pos, "'body' lists the choices: give at least one");
                    }
                    Value::List(items) => items.iter().cloned().collect(),
                    other => vec![other],
                }
            }
            "count" => s.count = whole_pair(at, v, key, 1000)?,
            "at" => {
                s.at = seconds_pair(at, v, key)?;
                has_at = true;
            }
            "retry" => s.retry = retry(at, v)?,
            other => {
                return at.err(
                    *kpos,
                    format!(
                        "unknown key '{other}' in a sender (it takes endpoint, execution, method, body, count, at, retry)"
                    ),
                );
            }
        }
    }
    if !has_endpoint || !has_at {
        return at.err(n.pos, "a sender needs 'endpoint' and 'at'");
    }
    for value in bodies {
        let mut headers = Vec::new();
        let bytes = services::body_bytes(&value, &mut headers).or_else(|m| at.err(n.pos, m))?;
        s.bodies.push(Body {
            value,
            headers,
            bytes,
        });
    }
    Ok(s)
}

fn retry(at: &At, n: &Node) -> Result<RetryPolicy, Invalid> {
    let mut r = RetryPolicy {
        max_attempts: 5,
        ..RetryPolicy::NONE
    };
    for (key, kpos, v) in map(at, n, "retry")? {
        let x = number(v);
        match (key.as_str(), x) {
            ("max_attempts", Some(x)) if (1.0..=100.0).contains(&x) && x.fract() == 0.0 => {
                r.max_attempts = x as u32
            }
            ("max_attempts", _) => {
                return at.err(v.pos, "'max_attempts' is a whole number from 1 to 100");
            }
            ("initial_delay", Some(x)) if x > 0.0 => r.initial_delay = x,
            ("multiplier", Some(x)) if x >= 1.0 => r.multiplier = x,
            ("max_delay", Some(x)) if x > 0.0 => r.max_delay = x,
            ("initial_delay" | "max_delay", _) => {
                return at.err(v.pos, format!("'{key}' is a number of seconds above 0"));
            }
            ("multiplier", _) => return at.err(v.pos, "'multiplier' is a number, 1 or more"),
            (other, _) => {
                return at.err(
                    *kpos,
                    format!(
                        "unknown key '{other}' in 'retry' (it takes max_attempts, initial_delay, multiplier, max_delay)"
                    ),
                );
            }
        }
    }
    Ok(r)
}

fn faults(at: &At, n: &Node) -> Result<Faults, Invalid> {
    let mut f = Faults::default();
    for (key, kpos, v) in map(at, n, "faults")? {
        let Some(kind) = FaultKind::of_key(key) else {
            let keys: Vec<&str> = FaultKind::LISTED.iter().map(|k| k.key()).collect();
            return at.err(
                *kpos,
                format!(
                    "unknown key '{key}' in 'faults' (it takes {})",
                    keys.join(", ")
                ),
            );
        };
        kind.read(at, v, &mut f)?;
    }
    Ok(f)
}
