//! Self-contained HTML reports: one file, no network, no script, no external asset; the
//! picture inline, and the same facts as text beside it (readable with nothing but a
//! browser, or a screen reader).

use std::collections::BTreeMap;

use maud::{DOCTYPE, Markup, PreEscaped, html};
use wfsim_engine::coverage;
use wfsim_engine::defn::Workflow;
use wfsim_engine::http::Callee;
use wfsim_engine::interp::Outcome;
use wfsim_engine::value::show;
use wfsim_harness::children;
use wfsim_harness::report::{payload_text, stack_text};
use wfsim_harness::runner::Run;

use crate::svg::STYLE;
use crate::{graph, svg, timeline};

/// What a report of one run shows besides the run itself.
#[derive(Clone, Copy, Debug)]
pub struct RunPage<'a> {
    /// The file the workflow was read from, as the user named it.
    pub file: &'a str,
    /// The workflow's source, for the lines an error points at.
    pub source: &'a str,
    pub seed: u64,
    /// The expectations a scenario states that did not hold.
    pub failures: &'a [String],
    /// The workflow run, for coverage as a heat on its source lines.
    pub workflow: Option<&'a Workflow>,
}

/// Each source line with coverage points: how many times the run passed them (the most of
/// any point on the line), and what they are in words.
fn coverage_by_line(workflow: &Workflow, run: &Run) -> BTreeMap<u32, (u64, String)> {
    let passes = run.execution.coverage();
    let mut lines: BTreeMap<u32, (u64, Vec<String>)> = BTreeMap::new();
    for site in coverage::points(workflow) {
        let n = match site.point {
            coverage::Point::Retry(_) => passes
                .retries
                .range((site.cover, 0)..=(site.cover, u32::MAX))
                .map(|(_, c)| *c)
                .sum(),
            _ => passes.points.get(site.cover as usize).copied().unwrap_or(0),
        };
        let line = lines.entry(site.pos.line).or_default();
        line.0 = line.0.max(n);
        line.1.push(format!("{}: {n}", site.label));
    }
    lines
        .into_iter()
        .map(|(l, (n, labels))| (l, (n, labels.join("; "))))
        .collect()
}

/// Each child of `run` (HT-10; `k` from 1) with the line of the parent's call that started
/// it: the one `run` or `create` call of the connector's function naming that workflow (or,
/// for a name computed at run time, the one call of that function), when one could have.
fn child_lines(run: &Run, workflow: Option<&Workflow>) -> Vec<(usize, Option<u32>)> {
    let sites = workflow.map(children::start_sites).unwrap_or_default();
    let calls = run.execution.http_calls();
    run.children
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let func = match c.parent {
                Some((0, id)) => calls
                    .iter()
                    .find(|r| r.id == id)
                    .and_then(|r| match &r.target {
                        Callee::Connector { name, .. } => Some(name.as_str()),
                        Callee::Http(_) => None,
                    }),
                _ => None,
            };
            let line = func.and_then(|f| {
                let one = |v: Vec<&(String, Option<String>, wfsim_engine::defn::Pos)>| match v
                    .as_slice()
                {
                    [only] => Some(only.2.line),
                    _ => None,
                };
                one(sites
                    .iter()
                    .filter(|s| s.0 == f && s.1.as_ref() == Some(&c.workflow))
                    .collect())
                .or_else(|| one(sites.iter().filter(|s| s.0 == f).collect()))
            });
            (i + 1, line)
        })
        .collect()
}

/// The children of a run, a section each: how it started (linked to the parent's call),
/// its outcome, its timeline on the run's clock, its logs.
fn children_section(run: &Run, lines: &[(usize, Option<u32>)], ids: &str) -> Markup {
    html! {
        section id={(ids) "children"} {
            h2 { "Child executions" }
            p class="meta" { "Workflows this run started through the Workflow Executions connector, each an execution of its own; times on the run's clock." }
            @for (k, line) in lines {
                @let c = &run.children[*k - 1];
                @let ex = &c.execution;
                @let state = ex.state().as_str();
                @let outcome = match ex.outcome() {
                    Some(Outcome::Succeeded(v)) => format!("result: {}", show(v)),
                    Some(Outcome::Failed(f)) => format!("error: {}", show(f)),
                    _ => String::new(),
                };
                section class="child" id={(ids) "child-" (k)} {
                    h3 { "Child " (k) ": " (c.workflow) " " span class={"state " (state.to_lowercase())} { (state) } }
                    p class="meta" {
                        "started at " (c.started_at) " by "
                        @match c.parent {
                            Some((0, _)) | None => "this run",
                            Some((p, _)) => { a href={"#" (ids) "child-" (p)} { "child " (p) } },
                        }
                        @if let Some(l) = line { ", the call at " a href={"#" (ids) "L" (l)} { "line " (l) } }
                        @if let Some(end) = ex.ended_at() {
                            " · ended at " (wfsim_engine::time::SimTime::from_nanos(end.as_nanos() + c.started_at.as_nanos()))
                        }
                    }
                    @if let Some(arg) = &c.argument { p { "argument: " code { (show(arg)) } } }
                    p class="outcome" { (outcome) }
                    @if let Some(t) = timeline::of_child(run, *k) {
                        div class="scroll" { (PreEscaped(svg::draw(&t))) }
                        details {
                            summary { "Every event, in order (" (t.marks.len() + t.spans.len()) ")" }
                            (events_table(&t))
                        }
                    }
                }
            }
        }
    }
}

pub(crate) fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // Nothing may be fetched: what the page needs is in it.
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

/// A run's report: its outcome, its timeline, the source with the failing step marked,
/// its requests and its logs.
pub fn run_page(run: &Run, p: RunPage<'_>) -> String {
    let title = format!("{} — {} — wfsim", p.file, run.execution.state().as_str());
    page(&title, run_body(run, p, ""))
}

/// [`run_page`]'s content without the page around it, for a page of several reports
/// ([`suite_page`]): its ids and links start with `ids`.
pub fn run_section(run: &Run, p: RunPage<'_>, ids: &str) -> String {
    run_body(run, p, ids).into_string()
}

fn run_body(run: &Run, p: RunPage<'_>, ids: &str) -> Markup {
    let ex = &run.execution;
    let t = timeline::of_run(run);
    let state = ex.state().as_str();
    let (outcome, stack) = match ex.outcome() {
        Some(Outcome::Succeeded(v)) => (format!("result: {}", show(v)), Vec::new()),
        Some(Outcome::Failed(f)) => (format!("error: {}", show(f)), f.stack.clone()),
        _ => (String::new(), Vec::new()),
    };
    let failing: Vec<u32> = stack.iter().map(|e| e.pos.line).collect();
    let children = child_lines(run, p.workflow);
    let passes = ex.coverage();
    let covered = p
        .workflow
        .map(|w| coverage_by_line(w, run))
        .unwrap_or_default();
    let body = html! {
        header {
            h1 { (p.file) " " span class={"state " (state.to_lowercase())} { (state) } }
            p class="meta" {
                "seed " (p.seed)
                @if let Some(end) = ex.ended_at() { " · ended at " (end) }
                " · " (run.requests.len()) " requests · " (t.lanes.len()) " lanes"
            }
        }
        @if !p.failures.is_empty() {
            section class="failures" {
                h2 { "Expectations that failed" }
                ul { @for f in p.failures { li { (f) } } }
            }
        }
        section {
            h2 { "Outcome" }
            p class="outcome" { (outcome) }
            @if !stack.is_empty() {
                p {
                    "raised " (stack_text(&stack, Some(p.file)))
                    " — "
                    @for (i, e) in stack.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href={"#" (ids) "L" (e.pos.line)} { "line " (e.pos.line) }
                    }
                }
            }
        }
        section {
            h2 { "Timeline" }
            (legend())
            div class="scroll" { (PreEscaped(svg::draw(&t))) }
            details {
                summary { "Every event, in order (" (t.marks.len() + t.spans.len()) ")" }
                (events_table(&t))
            }
        }
        @if !children.is_empty() { (children_section(run, &children, ids)) }
        @if let Some(w) = p.workflow {
            section {
                h2 { "Graph" }
                p class="meta" { "Steps top to bottom, nested steps indented; green: passed by this run, grey: not. A box links to its line." }
                @for g in graph::of_workflow(w, Some(&passes)) {
                    @if g.name != "main" { h3 { (g.name) } }
                    div class="scroll" { (PreEscaped(graph::draw_anchored(&g, ids))) }
                }
            }
        }
        section {
            h2 { "Requests" }
            @if run.requests.is_empty() { p { "None." } } @else {
                table {
                    thead { tr { th { "at" } th { "method" } th { "endpoint" } th { "status" } th { "what happened" } } }
                    tbody {
                        @for r in &run.requests {
                            tr {
                                td class="num" { (r.at) }
                                td { (r.method) }
                                td {
                                    @if r.execution > 0 { a href={"#" (ids) "child-" (r.execution)} { "child " (r.execution) } ", " }
                                    (r.endpoint.map_or("none".to_owned(), |e| e.to_string()))
                                }
                                td class={"num s" (r.status)} { (r.status) }
                                td { (match (r.status, r.taken_at) {
                                    (200, Some(t)) if t == r.at => "taken by a waiting await".to_owned(),
                                    (200, Some(t)) => format!("stored, taken at {t}"),
                                    (200, None) => "stored, never taken".to_owned(),
                                    _ => r.message.clone().unwrap_or_default(),
                                }) }
                            }
                        }
                    }
                }
            }
        }
        section {
            h2 { "Logs" }
            @if ex.logs().is_empty() { p { "None." } } @else {
                table {
                    thead { tr { th { "at" } th { "severity" } th { "payload" } } }
                    tbody {
                        @for l in ex.logs() {
                            tr { td class="num" { (l.at) } td { (l.severity) } td { code { (payload_text(&l.payload)) } } }
                        }
                    }
                }
            }
        }
        section {
            h2 { "Source" }
            @if !covered.is_empty() {
                p class="meta" { "Beside each line with steps, cases, excepts or retries: how many times this run passed them (0 in red: never)." }
            }
            table class="source" {
                tbody {
                    @for (i, line) in p.source.lines().enumerate() {
                        @let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
                        @let heat = covered.get(&n);
                        tr id={(ids) "L" (n)} class=[failing.first().filter(|&&f| f == n).map(|_| "fail").or_else(|| failing.contains(&n).then_some("caller"))] {
                            td class="ln" { (n) }
                            td class=[heat.map(|(c, _)| if *c > 0 { "cov hit" } else { "cov miss" })] title=[heat.map(|(_, t)| t)] {
                                (heat.map_or(String::new(), |(c, _)| if *c > 0 { format!("{c}×") } else { "0".to_owned() }))
                            }
                            td {
                                code { (line) }
                                @for (k, _) in children.iter().filter(|(_, l)| *l == Some(n)) {
                                    " " a class="child-link" href={"#" (ids) "child-" (k)} { "→ child " (k) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    body
}

fn legend() -> Markup {
    use timeline::MarkKind as K;
    let kinds = [
        (K::Taken, "200 taken"),
        (K::Stored, "200 stored"),
        (K::SlotFull, "429 slot full"),
        (K::NotFound, "404"),
        (K::TimedOut, "timeout"),
        (K::HttpAnswered, "HTTP call"),
        (K::Failed, "end"),
    ];
    html! {
        ul class="legend" {
            @for (k, name) in kinds { li class={"key " (k.class())} { (name) } }
            li class="key span-waiting" { "await waiting" }
            li class="key span-holding" { "slot holding" }
        }
    }
}

fn events_table(t: &timeline::Timeline) -> Markup {
    let mut rows: Vec<(wfsim_engine::time::SimTime, usize, String, String)> = t
        .marks
        .iter()
        .map(|m| (m.at, m.lane, m.kind.class().to_owned(), m.text.clone()))
        .chain(t.spans.iter().map(|s| {
            let to = s.to.map_or("the end".to_owned(), |t| t.to_string());
            (
                s.from,
                s.lane,
                s.kind.class().to_owned(),
                format!("{} (until {to})", s.text),
            )
        }))
        .collect();
    rows.sort_by_key(|r| (r.0, r.1));
    html! {
        table class="events" {
            thead { tr { th { "at" } th { "lane" } th { "what" } } }
            tbody {
                @for (at, lane, class, text) in rows {
                    tr class=(class) { td class="num" { (at) } td { (t.lanes[lane].label) } td { (text) } }
                }
            }
        }
    }
}

/// What an exploration's report shows besides the exploration itself.
#[derive(Clone, Copy, Debug)]
pub struct ExplorePage<'a> {
    /// The workflow's file and source, for the coverage heat.
    pub file: &'a str,
    pub source: &'a str,
    /// The reproducer of each property that has one (by the property's index), run again:
    /// its timeline is the shrunk failing schedule's.
    pub reproducers: &'a [(usize, &'a Run)],
}

/// An exploration's report: each property's verdict, each failing property's shrunk
/// schedule as a timeline, contract violations, and coverage over the source (how many
/// seeds reached each line).
pub fn explore_page(report: &wfsim_explore::report::Report, p: ExplorePage<'_>) -> String {
    let title = format!(
        "{} — {} — wfsim explore",
        report.file,
        if report.passed() { "PASSED" } else { "FAILED" }
    );
    page(&title, explore_body(report, p, ""))
}

/// [`explore_page`]'s content without the page around it (see [`run_section`]).
pub fn explore_section(
    report: &wfsim_explore::report::Report,
    p: ExplorePage<'_>,
    ids: &str,
) -> String {
    explore_body(report, p, ids).into_string()
}

fn explore_body(report: &wfsim_explore::report::Report, p: ExplorePage<'_>, ids: &str) -> Markup {
    let passed = report.passed();
    let mut reached: BTreeMap<u32, (u64, Vec<String>)> = BTreeMap::new();
    for row in &report.coverage {
        let line = reached.entry(row.pos.line).or_default();
        line.0 = line.0.max(row.seeds);
        line.1.push(format!("{}: {} seeds", row.label, row.seeds));
    }
    let body = html! {
        header {
            h1 { (report.file) " " span class={"state " (if passed { "succeeded" } else { "failed" })} { (if passed { "PASSED" } else { "FAILED" }) } }
            p class="meta" {
                (report.driver) " level · " (report.seeds_run) " seeds from seed " (report.first_seed)
                " · workflow " (report.workflow)
            }
        }
        section {
            h2 { "Properties" }
            table {
                thead { tr { th { "kind" } th { "property" } th { "verdict" } } }
                tbody {
                    @for prop in &report.properties {
                        tr class=(if !report.judges(prop) || prop.passed() { "held" } else { "broken" }) {
                            td { (prop.kind) }
                            td { code { (prop.expr) } " " span class="meta" { "line " (prop.line) } }
                            td {
                                (report.verdict(prop))
                                @if let Some(why) = &prop.why { br; span class="meta" { "why: " (why) } }
                            }
                        }
                    }
                }
            }
        }
        @for (i, run) in p.reproducers {
            @let prop = &report.properties[*i];
            @if let Some(r) = &prop.reproducer {
                section class="failures" {
                    h2 { "Shrunk schedule: " code { (prop.expr) } }
                    p { "Seed " (prop.first_failure.unwrap_or_default()) ", shrunk in " (r.shrink_runs) " runs. There: " (r.why) }
                    (legend())
                    div class="scroll" { (PreEscaped(svg::draw(&timeline::of_run(run)))) }
                    details {
                        summary { "The schedule, and how to replay it" }
                        ul { @for line in &r.timeline { li { code { (line) } } } }
                        p { "Replay: " code { "wfsim run " (r.scenario.display()) } }
                    }
                }
            }
        }
        @if !report.contract_violations.is_empty() || !report.errors.is_empty() {
            section class="failures" {
                h2 { "Contract violations and errors" }
                ul {
                    @for (seed, rule, what) in &report.contract_violations { li { "seed " (seed) ": " (rule) ": " (what) } }
                    @for (seed, what) in &report.errors { li { "seed " (seed) ": " (what) } }
                }
            }
        }
        section {
            h2 { "Coverage: " (p.file) }
            p class="meta" { "Beside each line with steps, cases, excepts or retries: how many seeds reached them (0 in red: none)." }
            table class="source" {
                tbody {
                    @for (i, line) in p.source.lines().enumerate() {
                        @let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
                        @let heat = reached.get(&n);
                        tr id={(ids) "L" (n)} {
                            td class="ln" { (n) }
                            td class=[heat.map(|(c, _)| if *c > 0 { "cov hit" } else { "cov miss" })] title=[heat.map(|(_, t)| t.join("; "))] {
                                (heat.map_or(String::new(), |(c, _)| c.to_string()))
                            }
                            td { code { (line) } }
                        }
                    }
                }
            }
        }
        @for c in &report.children {
            section class="child" {
                h2 { "Coverage: " (c.workflow) " (a child workflow)" }
                p class="meta" { "Each step and branch of the child workflow (HT-10): how many seeds reached it in any child execution (0 in red: none)." }
                table {
                    thead { tr { th { "line" } th { "what" } th { "seeds" } } }
                    tbody {
                        @for r in &c.coverage {
                            tr {
                                td class="num" { (r.pos.line) }
                                td { (r.label) }
                                td class={"num cov " (if r.seeds > 0 { "hit" } else { "miss" })} { (r.seeds) }
                            }
                        }
                    }
                }
            }
        }
    };
    body
}
