//! The pages, as HTML: server-rendered with maud, styled by the reports' sheet plus a few
//! rules of their own, readable with JavaScript off (every action is a plain form; a live
//! page has a Refresh link), and the parts that change marked `data-live` for `app.js` to
//! replace while an execution runs.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use wfsim_engine::interp::Outcome;
use wfsim_engine::value::show;
use wfsim_engine::{ExecutionState, SimTime};
use wfsim_harness::report::{payload_text, stack_text};
use wfsim_render::{html as report, svg, timeline};
use wfsim_server::{ClockMode, ExecutionView, View, WorkflowView};

/// The states an execution can be listed by, in the filter's order.
pub const STATES: [&str; 4] = ["ACTIVE", "SUCCEEDED", "FAILED", "CANCELLED"];

/// Executions listed at most: the page is polled every second, and `--keep-ended` holds
/// 10,000 by default; the API's `executions.list` pages through them all.
pub const LISTED_MAX: usize = 200;

/// Rules the report sheet lacks: navigation, forms, focus rings.
const UI_STYLE: &str = "
nav { display: flex; gap: 1.2rem; align-items: baseline; border-bottom: 1px solid var(--line); padding-bottom: .5rem; margin-bottom: 1rem; }
nav a { color: var(--stored); font-weight: 600; } nav a[aria-current] { color: var(--fg); text-decoration: none; }
nav .clock { margin-left: auto; color: var(--muted); }
a { color: var(--stored); } a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible { outline: 3px solid #0550ae; outline-offset: 2px; }
form.action { border: 1px solid var(--line); border-radius: .4rem; padding: .6rem .8rem; margin: .5rem 0; max-width: 46rem; }
form.action label { display: block; margin: .3rem 0 .1rem; font-weight: 600; }
form.action textarea, form.action input[type=text], form.action select { font: 14px ui-monospace, monospace; width: 100%; box-sizing: border-box; color: var(--fg); background: var(--bg); border: 1px solid var(--muted); padding: .25rem; }
form.inline { display: inline; } button { font: inherit; padding: .2rem .8rem; border: 1px solid var(--fg); border-radius: .3rem; background: var(--band); color: var(--fg); cursor: pointer; margin-top: .4rem; }
.flash { border-left: 4px solid var(--stored); padding: .2rem .8rem; background: var(--band); }
.flash.refused { border-color: var(--gone); }
.errors { border-left: 4px solid var(--gone); padding-left: .8rem; } .errors code { white-space: pre-wrap; }
";

/// A whole page: `live` marks it for `app.js` to poll, `done` says there is nothing more
/// to wait for.
fn layout(title: &str, at: Nav, view: &View<'_>, body: Markup, live: Option<bool>) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // Nothing from elsewhere: the page, its script and the forms are this server's.
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; form-action 'self'; img-src 'self'; base-uri 'none'";
                title { (title) " — wfsim" }
                style { (PreEscaped(svg::STYLE)) (PreEscaped(UI_STYLE)) }
                @if live.is_some() { script src="/ui/app.js" defer {} }
            }
            body data-done=[live.map(|done| done.to_string())] {
                nav aria-label="wfsim" {
                    strong { "wfsim" }
                    a href="/ui/executions" aria-current=[(at == Nav::Executions).then_some("page")] { "Executions" }
                    a href="/ui/workflows" aria-current=[(at == Nav::Workflows).then_some("page")] { "Workflows" }
                    span class="clock" id="clock" data-live { (clock_text(view)) }
                }
                main { (body) }
            }
        }
    }
    .into_string()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Nav {
    Executions,
    Workflows,
    None,
}

fn clock_text(view: &View<'_>) -> String {
    let mode = view.clock_mode();
    let next = view
        .next_deadline()
        .map_or(String::new(), |d| format!(", next deadline at {d}"));
    format!("{} clock at {}{next}", mode.as_str(), view.now())
}

/// Where the UI shows execution `e`.
pub fn execution_url(e: &ExecutionView<'_>) -> String {
    format!(
        "/ui/{}/workflows/{}/executions/{}",
        e.parent(),
        e.workflow(),
        e.id()
    )
}

/// Where the UI shows a workflow.
pub fn workflow_url(w: &WorkflowView<'_>) -> String {
    format!("/ui/{}/workflows/{}", w.parent, w.name)
}

fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

fn state_badge(state: ExecutionState) -> Markup {
    let s = state.as_str();
    html! { span class={"state " (s.to_lowercase())} data-state=(s) { (s) } }
}

/// A message in a page of its own (a refusal, an error the API answered), with the way on.
pub fn message(view: &View<'_>, title: &str, text: &str, back: Option<&str>) -> String {
    let body = html! {
        h1 { (title) }
        p class="flash refused" { (text) }
        @if let Some(b) = back { p { a href=(b) { "Back" } } }
    };
    layout(title, Nav::None, view, body, None)
}

/// The 401 page: how to open the UI (UI-1).
pub fn locked() -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "wfsim UI: open the link" } style { (PreEscaped(svg::STYLE)) } }
            body {
                h1 { "This UI needs its link" }
                p { "The server keeps its API's auth for its UI too. Open the link that " code { "wfsim serve" }
                    " printed when it started (the line " code { "ui: http://…/ui/login?key=…" } "): it opens the UI in this browser." }
                p { "Or start the server with " code { "--no-auth" } " (loopback only) to open the UI to whoever reaches the port." }
            }
        }
    }
    .into_string()
}

/// The executions, newest first, filtered by state; updating live.
pub fn executions(view: &View<'_>, state: Option<&str>) -> String {
    let mut all = view.executions();
    all.reverse();
    let shown: Vec<_> = all
        .iter()
        .filter(|e| state.is_none_or(|s| e.state().as_str() == s))
        .collect();
    let body = html! {
        h1 { "Executions" }
        form method="get" action="/ui/executions" {
            label for="state" { "State " }
            select id="state" name="state" {
                option value="" selected[state.is_none()] { "any" }
                @for s in STATES { option value=(s) selected[state == Some(s)] { (s) } }
            }
            " " button type="submit" { "Filter" }
            " " a href="" { "Refresh" }
        }
        div id="list" data-live {
            p class="meta" {
                (shown.len()) " of " (all.len()) " executions"
                @if shown.len() > LISTED_MAX { "; the newest " (LISTED_MAX) " shown" }
            }
            @if !shown.is_empty() {
                table {
                    thead { tr { th { "started" } th { "workflow" } th { "execution" } th { "state" } th { "ended" } } }
                    tbody {
                        @for e in shown.iter().take(LISTED_MAX) {
                            tr {
                                td class="num" { (view.wall(e.started_at())) }
                                td { (e.workflow()) }
                                td { a href=(execution_url(e)) { code { (e.id()) } } }
                                td { (state_badge(e.state())) }
                                td class="num" { (e.ended_at().map_or(String::new(), |t| view.wall(t))) }
                            }
                        }
                    }
                }
            }
        }
    };
    layout("Executions", Nav::Executions, view, body, Some(false))
}

/// The form that starts an execution of `w` with an argument.
fn start_form(w: &WorkflowView<'_>, csrf: &str) -> Markup {
    let id = format!("arg-{}-{}", w.parent.project, w.name);
    html! {
        form class="action" method="post" action={(workflow_url(w)) "/executions"} {
            (csrf_field(csrf))
            label for=(id) { "Argument (JSON, optional)" }
            textarea id=(id) name="argument" rows="2" placeholder="{\"key\": \"value\"}" {}
            button type="submit" { "Start an execution of " (w.name) }
        }
    }
}

/// The workflows: each with its revisions and a start form, and the folder's files that
/// failed to deploy, at `file:line:column`.
pub fn workflows(view: &View<'_>, csrf: &str) -> String {
    let all = view.workflows();
    let errors = view.deploy_errors();
    let body = html! {
        h1 { "Workflows" }
        @if !errors.is_empty() {
            section class="errors" {
                h2 { "Files that failed to deploy" }
                @for (name, lines) in errors {
                    h3 { (name) }
                    ul { @for l in lines { li { code { (l) } } } }
                }
                p class="meta" { "The last good revision of each keeps serving; a save that fixes the file deploys it." }
            }
        }
        @if all.is_empty() { p { "None deployed." } }
        @for w in &all {
            section {
                h2 { a href=(workflow_url(w)) { (w.name) } " " span class="meta" { (w.parent) } }
                (revisions_table(view, w, None))
                (start_form(w, csrf))
            }
        }
    };
    layout("Workflows", Nav::Workflows, view, body, None)
}

fn revisions_table(view: &View<'_>, w: &WorkflowView<'_>, current: Option<&str>) -> Markup {
    html! {
        table {
            thead { tr { th { "revision" } th { "file" } th { "deployed" } } }
            tbody {
                @for r in w.revisions.iter().rev() {
                    tr {
                        td {
                            a href={(workflow_url(w)) "?revision=" (r.id)} aria-current=[(current == Some(r.id)).then_some("true")] { code { (r.id) } }
                        }
                        td { (r.file) }
                        td class="num" { (view.wall(r.created_at)) }
                    }
                }
            }
        }
    }
}

/// One workflow: its revisions, one revision's source with line numbers, the start form.
pub fn workflow(
    view: &View<'_>,
    w: &WorkflowView<'_>,
    revision: Option<&str>,
    csrf: &str,
) -> String {
    let shown = revision
        .and_then(|id| w.revisions.iter().find(|r| r.id == id))
        .or(w.revisions.last());
    let errors = view.deploy_errors().get(w.name);
    let body = html! {
        h1 { (w.name) " " span class="meta" { (w.parent) } }
        @if let Some(lines) = errors {
            section class="errors" {
                h2 { "Its file failed to deploy" }
                ul { @for l in lines { li { code { (l) } } } }
                p class="meta" { "The last good revision keeps serving." }
            }
        }
        (start_form(w, csrf))
        h2 { "Revisions" }
        (revisions_table(view, w, shown.map(|r| r.id)))
        @if let Some(r) = shown {
            h2 { "Source of " code { (r.id) } " (" (r.file) ")" }
            @match r.source {
                Some(text) => (source_table(text, &[])),
                None => p { "Deployed without source text." },
            }
        }
    };
    layout(w.name, Nav::Workflows, view, body, None)
}

/// The source with line numbers, each line's row `#L<n>`; `failing` lines marked, the
/// first as where the error was raised.
fn source_table(text: &str, failing: &[u32]) -> Markup {
    html! {
        table class="source" {
            tbody {
                @for (i, line) in text.lines().enumerate() {
                    @let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
                    tr id={"L" (n)} class=[failing.first().filter(|&&f| f == n).map(|_| "fail").or_else(|| failing.contains(&n).then_some("caller"))] {
                        td class="ln" { (n) }
                        td { code { (line) } }
                    }
                }
            }
        }
    }
}

/// What a form's POST left to say on the execution's page (`?sent=STATUS`, …).
#[derive(Clone, Debug, Default)]
pub struct Flash {
    pub text: String,
    pub refused: bool,
}

/// One execution: its state, actions, outcome, timeline, endpoints, requests, step
/// entries, logs and source; the parts that change updating live while it runs.
pub fn execution(
    view: &View<'_>,
    e: &ExecutionView<'_>,
    csrf: &str,
    flash: Option<&Flash>,
) -> String {
    let ex = e.execution();
    let state = e.state();
    let url = execution_url(e);
    let requests = e.requests();
    let t = timeline::of_execution(ex, &requests.iter().collect::<Vec<_>>());
    let (outcome, stack) = match (e.internal_error(), ex.outcome()) {
        (Some(m), _) => (format!("error: InternalError: {m}"), Vec::new()),
        (None, Some(Outcome::Succeeded(v))) => (format!("result: {}", show(v)), Vec::new()),
        (None, Some(Outcome::Failed(f))) => (format!("error: {}", show(f)), f.stack.clone()),
        _ => (String::new(), Vec::new()),
    };
    let failing: Vec<u32> = stack.iter().map(|s| s.pos.line).collect();
    let endpoints: Vec<(usize, String, String, usize, bool)> = ex.with_callbacks(|c| {
        c.endpoints()
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    i,
                    p.method().as_str().to_owned(),
                    p.url().to_owned(),
                    p.waiters().len(),
                    p.buffered().is_some(),
                )
            })
            .collect()
    });
    let active = state == ExecutionState::Active;
    let started = e.started_at();
    let entries = ex.step_entries();
    let logs = ex.logs();
    let clock_form = view.clock_mode() != ClockMode::Real;
    let body = html! {
        header {
            h1 { (e.workflow()) " " span id="state" data-live { (state_badge(state)) } }
            p class="meta" {
                "execution " code { (e.id()) } " · revision " code { (e.revision_id()) } " · " (e.parent())
                " · started " (view.wall(started))
                @if let Some(a) = e.argument() { " · argument " code { (a) } }
                " · " a href=(url) { "Refresh" }
            }
        }
        section id="outcome" data-live {
            @if !outcome.is_empty() {
                h2 { "Outcome" }
                p class="outcome" { (outcome) }
                @if !stack.is_empty() {
                    p {
                        "raised " (stack_text(&stack, Some(e.file()))) " — "
                        @for (i, s) in stack.iter().enumerate() {
                            @if i > 0 { ", " }
                            a class="err-line" href={"#L" (s.pos.line)} { (e.file()) ":" (s.pos) }
                        }
                    }
                }
            }
        }
        section id="at-timeline" {
            h2 { "Timeline" }
            @if let Some(f) = flash {
                p class={"flash" @if f.refused { " refused" }} role="status" id="flash" { (f.text) }
            }
            p class="meta" { "Times on the execution's own clock (0s is its start). Hover a mark for what happened; every event is listed as text below it." }
            (report::legend())
            div id="timeline" data-live {
                div class="scroll" { (PreEscaped(svg::draw(&t))) }
                details {
                    summary { "Every event, in order (" (t.marks.len() + t.spans.len()) ")" }
                    (report::events_table(&t))
                }
            }
        }
        section {
            h2 { "Actions" }
            div id="actions" data-live {
                @if active {
                    @if !endpoints.is_empty() {
                        form class="action" method="post" action={(url) "/callback"} id="send" {
                            (csrf_field(csrf))
                            label for="endpoint" { "Send a callback to endpoint" }
                            select id="endpoint" name="endpoint" {
                                @for (i, method, u, waiters, _) in &endpoints {
                                    option value=(i) { (i) " " (method) " (" (waiters) " waiting) " (u) }
                                }
                            }
                            label for="method" { "Method (empty: the endpoint's own)" }
                            input type="text" id="method" name="method" value="";
                            label for="headers" { "Headers (one “Name: value” a line)" }
                            textarea id="headers" name="headers" rows="2" { "Content-Type: application/json" }
                            label for="body" { "Body" }
                            textarea id="body" name="body" rows="3" { "{}" }
                            button type="submit" { "Send" }
                        }
                    } @else {
                        p class="meta" { "No callback endpoint yet." }
                    }
                    form class="inline" method="post" action={(url) "/cancel"} {
                        (csrf_field(csrf))
                        button type="submit" { "Cancel the execution" }
                    }
                } @else {
                    p class="meta" { "It has ended: nothing to send or cancel." }
                }
            }
            @if clock_form {
                form class="action" method="post" action="/ui/clock" id="advance" {
                    (csrf_field(csrf))
                    input type="hidden" name="back" value=(url);
                    label for="seconds" { "Advance the " (view.clock_mode().as_str()) " clock by seconds" }
                    input type="text" id="seconds" name="seconds" value="1" inputmode="decimal";
                    button type="submit" name="to" value="by" { "Advance" }
                    " "
                    button type="submit" name="to" value="next" { "To the next deadline" }
                }
            }
        }
        section id="endpoints" data-live {
            h2 { "Callback endpoints" }
            @if !active && !endpoints.is_empty() {
                p class="meta" { "Closed with the execution: a request to any of them is answered 404." }
            }
            @if endpoints.is_empty() { p { "None held." } } @else {
                table {
                    thead { tr { th { "#" } th { "method" } th { "URL" } th { "waiting awaits" } th { "slot" } } }
                    tbody {
                        @for (i, method, u, waiters, held) in &endpoints {
                            tr class="endpoint" {
                                td { (i) } td { (method) } td { code { (u) } }
                                td class="num waiters" { (waiters) }
                                td { (if *held { "holds a request" } else { "empty" }) }
                            }
                        }
                    }
                }
            }
        }
        section id="requests" data-live {
            h2 { "Callback requests" }
            @if requests.is_empty() { p { "None." } } @else {
                table {
                    thead { tr { th { "at" } th { "method" } th { "endpoint" } th { "status" } th { "what happened" } } }
                    tbody {
                        @for r in &requests {
                            tr {
                                td class="num" { (r.at) }
                                td { (r.method) }
                                td { (r.endpoint.map_or("none".to_owned(), |e| e.to_string())) }
                                td class="num status" { (r.status) }
                                td { (match (r.status, r.taken_at) {
                                    (200, Some(t)) if t == r.at => "taken by a waiting await".to_owned(),
                                    (200, Some(t)) => format!("stored, taken at {t}"),
                                    (200, None) => "stored".to_owned(),
                                    _ => r.message.clone().unwrap_or_default(),
                                }) }
                            }
                        }
                    }
                }
            }
        }
        section id="entries" data-live {
            h2 { "Step entries" }
            @if entries.is_empty() { p { "None." } } @else {
                table {
                    thead { tr { th { "#" } th { "step" } th { "routine" } th { "type" } th { "state" } th { "began" } th { "ended" } } }
                    tbody {
                        @for s in &entries {
                            tr {
                                td class="num" { (s.id) } td { (s.step) } td { (s.routine) }
                                td { (s.step_type.as_str()) } td { (s.state.as_str()) }
                                td class="num" { (s.created) } td class="num" { (s.updated) }
                            }
                        }
                    }
                }
            }
        }
        section id="logs" data-live {
            h2 { "Logs" }
            @if logs.is_empty() { p { "None." } } @else {
                table {
                    thead { tr { th { "at" } th { "severity" } th { "payload" } } }
                    tbody {
                        @for l in &logs {
                            tr { td class="num" { (l.at) } td { (l.severity) } td { code { (payload_text(&l.payload)) } } }
                        }
                    }
                }
            }
        }
        section {
            h2 { "Source: " (e.file()) }
            div id="source" data-live {
                @match e.source() {
                    Some(text) => (source_table(text, &failing)),
                    None => p { "Its revision's source is not held (deployed without text, or deleted since)." },
                }
            }
        }
    };
    let title = format!("{} {} {}", e.workflow(), e.id(), state.as_str());
    layout(&title, Nav::Executions, view, body, Some(!active))
}

/// A duration as the clock form's seconds: nanoseconds exact.
pub fn seconds_text(d: SimTime) -> String {
    let ns = d.as_nanos();
    format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000)
}
