//! A shrunk failing schedule written down (EXP-5): a plain scenario with fixed request
//! times, bodies and stub numbers and `expect: {state, holds: [the property]}`, which
//! `wfsim run` replays and fails (exit 1); and a shell script beside it that sends the same
//! requests with curl to `wfsim serve --clock manual`, moving the clock between them.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use serde_json::json;
use wfsim_engine::SimTime;
use wfsim_engine::time::format_rfc3339;
use wfsim_harness::property::Property;
use wfsim_harness::runner::{ExecutionSel, ScriptedRequest};

use crate::plan::Plan;
use crate::schedule::{Executed, Schedule};

/// Where reproducers go, under the current directory.
pub const DIR: &str = "explore-failures";

/// Seconds, as short as exact: `5`, `0.25`, `90000.001`.
pub fn secs(t: SimTime) -> String {
    let n = t.as_nanos();
    let whole = n / 1_000_000_000;
    let frac = n % 1_000_000_000;
    if frac == 0 {
        return whole.to_string();
    }
    let f = format!("{frac:09}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

/// `to` relative to the directory `from` (both made absolute against the current
/// directory), with `/` between parts.
pub fn relative(from: &Path, to: &Path) -> String {
    let abs = |p: &Path| -> Vec<String> {
        let p = if p.is_absolute() {
            p.to_owned()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        let mut parts: Vec<String> = Vec::new();
        for c in p.components() {
            match c {
                Component::ParentDir => {
                    parts.pop();
                }
                Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
                Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            }
        }
        parts
    };
    let (a, b) = (abs(from), abs(to));
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out: Vec<String> = vec!["..".to_owned(); a.len() - common];
    out.extend(b[common..].iter().cloned());
    out.join("/")
}

/// The requests of the schedule as they arrived: the file's fixed ones, then every send in
/// the order it arrived, so that `wfsim run`, which takes the requests of one instant in
/// the order written, sees ties fall as they fell (at engine level that is the runner's own
/// order; at system level, the server's).
pub fn script(plan: &Plan, s: &Schedule, executed: &Executed) -> Vec<ScriptedRequest> {
    let mut out = plan.base.requests.clone();
    for x in &executed.sent {
        let r = &s.requests[x.logical];
        let sender = &plan.senders[r.sender];
        let body = &sender.bodies[r.body];
        out.push(ScriptedRequest {
            at: x.arrived_at,
            endpoint: sender.endpoint,
            method: sender.method.clone(),
            headers: body.headers.clone(),
            query: String::new(),
            body: body.bytes.clone(),
            execution: sender.execution.clone(),
        });
    }
    out
}

fn q(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// The reproducer scenario's text, for a file in `dir`.
pub fn scenario_text(
    plan: &Plan,
    s: &Schedule,
    executed: &Executed,
    property: (&str, &Property),
    dir: &Path,
    driver: &str,
) -> String {
    let mut t = String::new();
    let system = if driver == "system" { " --system" } else { "" };
    let _ = writeln!(
        t,
        "# Written by `wfsim explore {}{system}`: seed {} broke the {} property below; this is",
        plan.file.display(),
        s.seed,
        property.0
    );
    t.push_str("# its shrunk schedule. `wfsim run` on this file replays it and exits 1.\n");
    if driver == "system" {
        t.push_str("# The requests are as they reached the server on the simulated network.\n");
    }
    for (killed, back) in &executed.restarts {
        let _ = writeln!(
            t,
            "# The server was killed at {} s and back at {} s: a restart replays its input\n# log, so no execution changes, and `wfsim run` has no server to restart.",
            secs(*killed),
            secs(*back)
        );
    }
    let _ = writeln!(t, "workflow: {}", q(&relative(dir, &plan.workflow_path)));
    // The children the explore file names, resolved from it to the reproducer's folder.
    if !plan.base.workflows.is_empty() {
        let base = plan.file.parent().unwrap_or(Path::new("."));
        let named: Vec<String> = plan
            .base
            .workflows
            .iter()
            .map(|(n, (f, _))| {
                let file = wfsim_harness::scenario::tidy_path(&base.join(f));
                format!("{}: {}", q(n), q(&relative(dir, &file)))
            })
            .collect();
        let _ = writeln!(t, "workflows: {{{}}}", named.join(", "));
    }
    let _ = writeln!(t, "seed: {}", s.seed);
    if let Some(a) = &plan.base.argument {
        let _ = writeln!(t, "argument: {}", a.to_json().unwrap_or(json!(null)));
    }
    if plan.base.start_time != wfsim_engine::WallClock::DEFAULT {
        let _ = writeln!(
            t,
            "start_time: {}",
            q(&format_rfc3339(
                plan.base.start_time.unix_nanos_at(SimTime::ZERO)
            ))
        );
    }
    if !plan.base.env.is_empty() {
        let env: serde_json::Map<_, _> = plan
            .base
            .env
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        let _ = writeln!(t, "env: {}", serde_json::Value::Object(env));
    }
    if let Some(c) = plan.base.cancel_at {
        let _ = writeln!(t, "cancel_at: {}", secs(c));
    }
    if let Some(p) = &plan.base.project {
        let _ = writeln!(t, "project: {}", q(p));
    }
    if let Some(l) = &plan.base.location {
        let _ = writeln!(t, "location: {}", q(l));
    }
    let services = plan.stubs.value_with(&s.stubs);
    if let Ok(j) = services.to_json() {
        if !j.is_null() {
            let _ = writeln!(t, "services: {j}");
        }
    }
    let requests = script(plan, s, executed);
    if requests.is_empty() {
        t.push_str("requests: []\n");
    } else {
        t.push_str("requests:\n");
    }
    for r in &requests {
        let _ = write!(t, "  - {{at: {}, endpoint: {}", secs(r.at), r.endpoint);
        match &r.execution {
            None => {}
            Some(ExecutionSel::Index(k)) => {
                let _ = write!(t, ", execution: {k}");
            }
            Some(ExecutionSel::Name(n)) => {
                let _ = write!(t, ", execution: {}", q(n));
            }
        }
        if let Some(m) = &r.method {
            let _ = write!(t, ", method: {}", q(m));
        }
        if !r.headers.is_empty() {
            let h: Vec<String> = r
                .headers
                .iter()
                .map(|(k, v)| format!("{}: {}", q(k), q(v)))
                .collect();
            let _ = write!(t, ", headers: {{{}}}", h.join(", "));
        }
        if !r.query.is_empty() {
            let _ = write!(t, ", query: {}", q(&r.query));
        }
        if !r.body.is_empty() {
            let _ = write!(t, ", body: {}", q(&String::from_utf8_lossy(&r.body)));
        }
        t.push_str("}\n");
    }
    t.push_str("expect:\n");
    let _ = writeln!(t, "  state: {}", executed.run.execution.state().as_str());
    let _ = writeln!(t, "  holds: [{}]", property.1.yaml_item());
    t
}

/// The services the schedule's stub numbers fixed, as a file `wfsim serve --services`
/// reads (`services: [...]`); `None` when the plan has none.
pub fn services_text(plan: &Plan, s: &Schedule) -> Option<String> {
    let j = plan.stubs.value_with(&s.stubs).to_json().ok()?;
    (!j.is_null()).then(|| {
        format!(
            "# The services of {}, with the stub numbers of seed {} fixed: `wfsim serve --services` reads it.\nservices: {j}\n",
            plan.file.display(),
            s.seed
        )
    })
}

/// Where the services of the reproducer `scenario_file` are written: beside it.
pub fn services_file(scenario_file: &Path) -> PathBuf {
    scenario_file.with_extension("services.yaml")
}

/// The curl script's text: the same requests against `wfsim serve --clock manual`, which
/// it starts itself (the workflow, and the services beside the scenario when the plan has
/// any) unless `BASE` names a server already running.
pub fn curl_text(plan: &Plan, s: &Schedule, executed: &Executed, scenario_file: &Path) -> String {
    let dir = scenario_file.parent().unwrap_or(Path::new("."));
    let workflow = relative(dir, &plan.workflow_path);
    let name = plan
        .workflow_path
        .file_stem()
        .map_or("workflow".into(), |n| n.to_string_lossy().into_owned());
    let services = services_text(plan, s).map(|_| {
        services_file(scenario_file)
            .file_name()
            .map_or(String::new(), |f| f.to_string_lossy().into_owned())
    });
    let mut serve = format!(
        "\"$WFSIM\" serve \"$HERE\"/{} --clock manual --no-auth --port 0 --watch-ms 0",
        sh_quote(&workflow)
    );
    if let Some(f) = &services {
        let _ = write!(serve, " --services \"$HERE\"/{}", sh_quote(f));
    }
    let project = plan.base.project.as_deref().unwrap_or("wfsim");
    let location = plan.base.location.as_deref().unwrap_or("us-central1");
    if plan.base.project.is_some() {
        let _ = write!(serve, " --project {project}");
    }
    if plan.base.location.is_some() {
        let _ = write!(serve, " --location {location}");
    }
    let mut t = String::new();
    t.push_str("#!/bin/sh\n");
    let _ = writeln!(
        t,
        "# Replays {} against a live wfsim on a manual clock, which it starts:",
        scenario_file.display()
    );
    let _ = writeln!(t, "#   {serve}");
    t.push_str("# (WFSIM names the binary, default `wfsim`; BASE=http://host:port uses a server\n# already running instead). Needs curl and python3.\n");
    t.push_str("# Endpoints are numbered in the order they appear in the execution's callbacks list,\n# looked up after each clock move, as `wfsim run` numbers them in creation order.\n");
    if services.is_some() {
        t.push_str("# The workflow's outbound calls are answered by the scenario's services, written\n# beside it with their stub numbers fixed.\n");
    }
    t.push_str("set -eu\nHERE=$(cd \"$(dirname \"$0\")\" && pwd)\nWFSIM=${WFSIM:-wfsim}\n");
    let _ = writeln!(
        t,
        "if [ -z \"${{BASE:-}}\" ]; then\n  LOG=$(mktemp)\n  {serve} > \"$LOG\" 2>&1 &\n  SERVER=$!\n  trap 'kill $SERVER 2>/dev/null || true; rm -f \"$LOG\"' EXIT\n  BASE=\"\"\n  n=0\n  while [ -z \"$BASE\" ]; do\n    if [ $n -gt 300 ] || ! kill -0 $SERVER 2>/dev/null; then\n      echo \"wfsim serve did not start:\" >&2; cat \"$LOG\" >&2; exit 1\n    fi\n    n=$((n + 1))\n    sleep 0.1\n    BASE=$(sed -n 's/^wfsim serving on //p' \"$LOG\")\n  done\nfi"
    );
    let _ = writeln!(
        t,
        "WORKFLOW=\"$BASE/v1/projects/{project}/locations/{location}/workflows/{name}\""
    );
    // HT-10: the child workflows, deployed over the API under the names the parent calls
    // them by (a scenario may map a name to a file of another name), before it starts.
    let children = child_files(plan, executed);
    if !children.is_empty() {
        let _ = writeln!(
            t,
            "PARENT=\"$BASE/v1/projects/{project}/locations/{location}\"\nCHILDSEEN=$(mktemp)\necho '{{}}' > \"$CHILDSEEN\""
        );
        t.push_str(CHILDREN_SH);
        for (name, file) in &children {
            let _ = writeln!(
                t,
                "deploy {} \"$HERE\"/{}",
                sh_quote(name),
                sh_quote(&relative(dir, file))
            );
        }
    }
    let arg = plan
        .base
        .argument
        .as_ref()
        .and_then(|a| a.to_json().ok())
        .map(|a| json!({"argument": a.to_string()}))
        .unwrap_or(json!({}));
    let _ = writeln!(
        t,
        "EXECUTION=$(curl -sf -X POST -H 'Content-Type: application/json' -d {} \"$WORKFLOW/executions\" \\\n  | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"name\"])')",
        sh_quote(&arg.to_string())
    );
    t.push_str("echo \"execution: $BASE/v1/$EXECUTION\"\nSEEN=\"\"\n");
    t.push_str("# Adds the callbacks not seen before to SEEN, in the order listed.\nlook() {\n  SEEN=$(curl -sf \"$BASE/v1/$EXECUTION/callbacks\" | SEEN=\"$SEEN\" python3 -c '\nimport json, os, sys\nseen = os.environ[\"SEEN\"].split()\nfor c in json.load(sys.stdin).get(\"callbacks\", []):\n    if c[\"name\"] not in seen:\n        seen.append(c[\"name\"])\nprint(\" \".join(seen))')\n}\n");
    let look_children = if children.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = children.iter().map(|(n, _)| sh_quote(n)).collect();
        format!("  children look {}\n", names.join(" "))
    };
    let _ = write!(
        t,
        "advance() {{\n  curl -sf -X POST -d \"{{\\\"seconds\\\": $1}}\" \"$BASE/v1/wfsim/clock:advance\" > /dev/null\n  look\n{look_children}}}\n"
    );
    t.push_str("endpoint() {\n  i=0\n  for c in $SEEN; do\n    if [ \"$i\" = \"$1\" ]; then echo \"$BASE/v1/$c\"; return; fi\n    i=$((i + 1))\n  done\n  echo \"$BASE/v1/$EXECUTION/callbacks/not-created\"\n}\nlook\n");
    let requests = script(plan, s, executed);
    let mut order: Vec<usize> = (0..requests.len()).collect();
    order.sort_by_key(|&i| (requests[i].at, i));
    let mut now = SimTime::ZERO;
    for i in order {
        let r = &requests[i];
        if r.at > now {
            let _ = writeln!(t, "advance {}", secs_between(now, r.at));
            now = r.at;
        }
        // HT-10: a child's endpoint, found over the API as the run found it: the `rank`-th
        // execution (oldest first) of its workflow, its `endpoint`-th callback.
        let to = match &r.execution {
            None | Some(ExecutionSel::Index(0)) => format!("\"$(endpoint {})\"", r.endpoint),
            Some(sel) => match child_rank(executed, sel) {
                Some((name, rank)) => format!(
                    "\"$(children endpoint {} {rank} {})\"",
                    sh_quote(&name),
                    r.endpoint
                ),
                None => {
                    let _ = writeln!(
                        t,
                        "# t={}: a request to endpoint {} of a child that the run never started (404 there)",
                        secs(r.at),
                        r.endpoint
                    );
                    "\"$BASE/v1/projects/{project}/locations/{location}/workflows/none/executions/none/callbacks/none\"".to_owned()
                }
            },
        };
        let method = r.method.clone().unwrap_or_else(|| "POST".to_owned());
        let mut cmd = format!(
            "curl -s -o /dev/null -w \"t={} endpoint {}: %{{http_code}}\\n\" -X {method}",
            secs(r.at),
            r.endpoint
        );
        for (k, v) in &r.headers {
            let _ = write!(cmd, " -H {}", sh_quote(&format!("{k}: {v}")));
        }
        if !r.body.is_empty() {
            let _ = write!(cmd, " -d {}", sh_quote(&String::from_utf8_lossy(&r.body)));
        }
        let _ = writeln!(t, "{cmd} {to}");
    }
    if let Some(end) = executed.run.execution.ended_at() {
        if end > now {
            let _ = writeln!(t, "advance {}", secs_between(now, end));
        }
    }
    let _ = writeln!(
        t,
        "curl -s \"$BASE/v1/$EXECUTION\" | python3 -c 'import json,sys; e=json.load(sys.stdin); print(\"state:\", e[\"state\"]); print(e.get(\"result\") or e.get(\"error\", {{}}).get(\"payload\", \"\"))'\n# wfsim run said: state {}",
        executed.run.execution.state().as_str()
    );
    if !children.is_empty() {
        t.push_str("rm -f \"$CHILDSEEN\"\n");
    }
    t
}

/// The script's shell functions for child executions: `deploy NAME FILE` (the Workflows
/// API's create), and `children look NAME…` / `children endpoint NAME RANK K`, which keep
/// each child's callbacks in the order first seen (in `$CHILDSEEN`), as `look` does the
/// parent's, and print the URL of endpoint K of the RANK-th execution of NAME.
const CHILDREN_SH: &str = r#"deploy() {
  python3 -c 'import json,sys; print(json.dumps({"sourceContents": open(sys.argv[1]).read()}))' "$2" \
    | curl -sf -X POST -H 'Content-Type: application/json' -d @- "$PARENT/workflows?workflowId=$1" > /dev/null
}
children() {
  python3 -c '
import json, sys, urllib.request
state, base, parent, mode, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
def get(url):
    try:
        with urllib.request.urlopen(url) as r:
            return json.load(r)
    except Exception:
        return {}
seen = json.load(open(state))
def oldest_first(name):
    return [e["name"] for e in reversed(get(parent + "/workflows/" + name + "/executions?pageSize=1000").get("executions", []))]
def look(e):
    names = seen.setdefault(e, [])
    for c in get(base + "/v1/" + e + "/callbacks").get("callbacks", []):
        if c["name"] not in names:
            names.append(c["name"])
if mode == "look":
    for name in args:
        for e in oldest_first(name):
            look(e)
else:
    name, rank, k = args[0], int(args[1]), int(args[2])
    ex = oldest_first(name)
    if rank < len(ex):
        look(ex[rank])
        cbs = seen[ex[rank]]
        print(base + "/v1/" + (cbs[k] if k < len(cbs) else ex[rank] + "/callbacks/not-created"))
    else:
        print(parent + "/workflows/" + name + "/executions/not-started/callbacks/not-created")
json.dump(seen, open(state, "w"))
' "$CHILDSEEN" "$BASE" "$PARENT" "$@"
}
"#;

/// The child workflows a replay deploys, by the name the parent calls each: those the
/// explore file's library loaded ahead and those the run started; each with its file.
fn child_files(plan: &Plan, executed: &Executed) -> Vec<(String, PathBuf)> {
    let mut names: std::collections::BTreeSet<&str> =
        plan.children.workflows.keys().map(String::as_str).collect();
    names.extend(executed.run.children.iter().map(|c| c.workflow.as_str()));
    names
        .into_iter()
        .filter_map(|n| {
            let w = plan.children.get(n).ok()?;
            Some((n.to_owned(), PathBuf::from(&*w.file)))
        })
        .collect()
}

/// The workflow of the child `sel` names, and how many children of that workflow started
/// before it: what the script finds it by. `None`: the run started no such child.
fn child_rank(executed: &Executed, sel: &ExecutionSel) -> Option<(String, usize)> {
    let children = &executed.run.children;
    let k = match sel {
        ExecutionSel::Index(k) => k.checked_sub(1)?,
        ExecutionSel::Name(n) => children.iter().position(|c| &c.workflow == n)?,
    };
    let name = &children.get(k)?.workflow;
    let rank = children[..k].iter().filter(|c| &c.workflow == name).count();
    Some((name.clone(), rank))
}

fn secs_between(a: SimTime, b: SimTime) -> String {
    secs(SimTime::from_nanos(b.as_nanos() - a.as_nanos()))
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Writes the scenario, its services (when it has any, [`services_file`]) and the script
/// under `dir`; returns the scenario's and the script's paths.
pub fn write(
    dir: &Path,
    stem: &str,
    scenario: &str,
    services: Option<String>,
    curl: impl FnOnce(&Path) -> String,
) -> std::io::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let yaml = dir.join(format!("{stem}.yaml"));
    let sh = dir.join(format!("{stem}.sh"));
    std::fs::write(&yaml, scenario)?;
    if let Some(services) = services {
        std::fs::write(services_file(&yaml), services)?;
    }
    std::fs::write(&sh, curl(&yaml))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&sh, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok((yaml, sh))
}

/// A body for a timeline: compact JSON, or nothing.
pub fn secs_body(v: &wfsim_engine::Value) -> String {
    match v {
        wfsim_engine::Value::Null => "(no body)".to_owned(),
        other => wfsim_engine::value::show(other),
    }
}
