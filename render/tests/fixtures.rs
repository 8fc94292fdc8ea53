//! The pictures of fixture runs show what happened: the lanes, and each request's verdict
//! at its exact instant (the late approval's 404 after the timeout; the guide's eleventh and
//! twelfth requests of ten waiters: stored, then 429).

use std::path::Path;
use std::rc::Rc;

use wfsim_harness::runner::{self, Run};
use wfsim_harness::scenario;
use wfsim_render::timeline::{LaneOf, MarkKind, Timeline, of_run};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Runs a fixture scenario as `wfsim run` does.
fn run(scenario_file: &str) -> (Run, String) {
    let path = root().join(scenario_file);
    let text = std::fs::read_to_string(&path).unwrap();
    let s = scenario::parse_file(scenario_file, &text).unwrap();
    let workflow_path = path.parent().unwrap().join(&s.workflow);
    let source = std::fs::read_to_string(&workflow_path).unwrap();
    let file = workflow_path.display().to_string();
    let workflow = wfsim_engine::defn::load(&file, &source).unwrap();
    let name = workflow_path
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let run = runner::run_with_services(
        Rc::new(workflow),
        &name,
        &s.run_config(),
        &s.requests,
        &s.services,
    );
    (run, source)
}

fn marks(t: &Timeline, lane: LaneOf) -> Vec<(String, MarkKind)> {
    let lane = t.lane(lane).expect("the lane");
    t.marks
        .iter()
        .filter(|m| m.lane == lane)
        .map(|m| (m.at.to_string(), m.kind))
        .collect()
}

#[test]
fn the_late_approval_is_a_404_after_the_timeout_on_the_endpoints_lane() {
    let (run, _) = run("fixtures/scenarios/approval_no_catch_late.yaml");
    let t = of_run(&run);
    let labels: Vec<&str> = t.lanes.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["main", "endpoint 0 POST"]);
    assert_eq!(
        marks(&t, LaneOf::Endpoint(0)),
        [
            ("0s".to_owned(), MarkKind::EndpointCreated),
            ("3600s".to_owned(), MarkKind::TimedOut),
            ("3600.001s".to_owned(), MarkKind::NotFound),
        ]
    );
    let svg = wfsim_render::svg::draw(&t);
    // Both instants are labelled, exactly, and the two marks are apart.
    assert!(
        svg.contains(">3600s</text>") && svg.contains(">3600.001s</text>"),
        "{svg}"
    );
}

#[test]
fn ten_waiters_take_ten_the_eleventh_is_stored_the_twelfth_refused() {
    let (run, _) = run("fixtures/scenarios/parallel_ten.yaml");
    let t = of_run(&run);
    assert_eq!(t.lanes.len(), 12, "main, ten branches, one endpoint");
    let kinds: Vec<MarkKind> = marks(&t, LaneOf::Endpoint(0))
        .into_iter()
        .map(|(_, k)| k)
        .filter(|k| *k != MarkKind::EndpointCreated)
        .collect();
    let mut expected = vec![MarkKind::Taken; 10];
    expected.extend([MarkKind::Stored, MarkKind::SlotFull]);
    assert_eq!(kinds, expected);
    let waiting = t
        .spans
        .iter()
        .filter(|s| s.kind == wfsim_render::timeline::SpanKind::Waiting)
        .count();
    assert_eq!(waiting, 10, "each branch's await waits until 1s");
    let holding = t
        .spans
        .iter()
        .find(|s| s.kind == wfsim_render::timeline::SpanKind::Holding)
        .expect("the eleventh request held in the slot");
    assert_eq!(holding.to, None, "never taken");
}

#[test]
fn the_report_is_one_file_that_fetches_nothing() {
    let (run, source) = run("fixtures/scenarios/approval_no_catch_late.yaml");
    let workflow = wfsim_engine::defn::load("approval_no_catch.yaml", &source).unwrap();
    let page = wfsim_render::html::run_page(
        &run,
        wfsim_render::html::RunPage {
            file: "approval_no_catch.yaml",
            source: &source,
            seed: 0,
            failures: &[],
            workflow: Some(&workflow),
        },
    );
    assert!(page.starts_with("<!DOCTYPE html>"));
    // Coverage as a heat: the await's line was passed once; the step after it never.
    let line = run_line(&run);
    assert!(
        page.contains(&format!(r##"<tr id="L{line}" class="fail"><td class="ln">{line}</td><td class="cov hit" title="step 'wait': 1">1×</td>"##)),
        "{page}"
    );
    assert!(
        page.contains(r#"<td class="cov miss""#),
        "a step never reached"
    );
    for outside in ["<script", "<link", "src=", "@import"] {
        assert!(!page.contains(outside), "{outside} in the page");
    }
    // `url(…)` only for the page's own fragments (the graph's arrowheads).
    for (i, _) in page.match_indices("url(") {
        assert!(page[i + 4..].starts_with('#'), "{}", &page[i..i + 40]);
    }
    // The failing step's line is marked, and the error links to it.
    let line = run_line(&run);
    assert!(
        page.contains(&format!(r##"<tr id="L{line}" class="fail">"##)),
        "{page}"
    );
    assert!(page.contains(&format!(r##"href="#L{line}""##)));
    assert!(page.contains("TimeoutError"));
}

fn run_line(run: &Run) -> u32 {
    match run.execution.outcome() {
        Some(wfsim_engine::interp::Outcome::Failed(f)) => f.stack[0].pos.line,
        other => panic!("a failed run, not {other:?}"),
    }
}

#[test]
fn the_graph_of_the_late_approval_shows_the_step_it_never_reached() {
    let (run, source) = run("fixtures/scenarios/approval_no_catch_late.yaml");
    let workflow = wfsim_engine::defn::load("approval_no_catch.yaml", &source).unwrap();
    let passes = run.execution.coverage();
    let graphs = wfsim_render::graph::of_workflow(&workflow, Some(&passes));
    assert_eq!(graphs.len(), 1);
    let g = &graphs[0];
    let nodes: Vec<(&str, Option<u64>)> = g
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n.passes))
        .collect();
    assert_eq!(
        nodes,
        [
            ("create", Some(1)),
            ("announce", Some(1)),
            ("wait", Some(1)),
            ("done", Some(0)),
            ("end", None)
        ]
    );
    use wfsim_render::graph::EdgeKind::{Jump, Next};
    let edges: Vec<(usize, usize, wfsim_render::graph::EdgeKind)> =
        g.edges.iter().map(|e| (e.from, e.to, e.kind)).collect();
    assert_eq!(
        edges,
        [(0, 1, Next), (1, 2, Next), (2, 3, Next), (3, 4, Jump)]
    );
    let svg = wfsim_render::graph::draw(g);
    assert_eq!(svg.matches(r#"class="node passed""#).count(), 3);
    assert_eq!(svg.matches(r#"class="node missed""#).count(), 1);
}

#[test]
fn the_graph_nests_cases_loops_branches_and_excepts() {
    let (run, source) = run("fixtures/scenarios/language_tour.yaml");
    let workflow = wfsim_engine::defn::load("language_tour.yaml", &source).unwrap();
    let passes = run.execution.coverage();
    let graphs = wfsim_render::graph::of_workflow(&workflow, Some(&passes));
    let names: Vec<&str> = graphs.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["main", "greeting"]);
    let into: Vec<&str> = graphs[0]
        .edges
        .iter()
        .filter(|e| e.kind == wfsim_render::graph::EdgeKind::Into)
        .map(|e| e.label.as_str())
        .collect();
    assert_eq!(into, ["for n", "parallel for s", "try", "except", "steps"]);
    let except = graphs[0]
        .edges
        .iter()
        .find(|e| e.label == "except")
        .unwrap();
    assert_eq!(except.taken, Some(true), "the tour's raise is caught");
}

/// HT-10 on the run page: a child is a section of its own, with its own lanes on the run's
/// clock and the request sent to it; the parent's lanes hold only the parent's requests;
/// the parent's call line links to the child, and the child to that line.
#[test]
fn a_childs_timeline_is_its_own_and_linked_from_the_parents_call() {
    let file = "fixtures/suite/batch_approved.yaml";
    let path = root().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let s = scenario::parse_file(file, &text).unwrap();
    let workflow_path = scenario::tidy_path(&path.parent().unwrap().join(&s.workflow));
    let source = std::fs::read_to_string(&workflow_path).unwrap();
    let workflow =
        Rc::new(wfsim_engine::defn::load(&workflow_path.display().to_string(), &source).unwrap());
    let library = s.children(&path, &workflow, &workflow_path).unwrap();
    let run = runner::run_with_children(
        Rc::clone(&workflow),
        "batch",
        &s.run_config(),
        &s.requests,
        &s.services,
        &library,
    );
    // The parent's endpoint lane has the 404 at 61 s, not the child's 200 at 60 s.
    let parent = of_run(&run);
    assert_eq!(
        marks(&parent, LaneOf::Endpoint(0)),
        vec![("61s".to_owned(), MarkKind::NotFound)]
    );
    let child = wfsim_render::timeline::of_child(&run, 1).expect("child 1");
    let lanes: Vec<&str> = child.lanes.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(lanes, ["main", "endpoint 0 POST"]);
    let on_endpoint = marks(&child, LaneOf::Endpoint(0));
    assert!(
        on_endpoint.contains(&("60s".to_owned(), MarkKind::Taken)),
        "{on_endpoint:?}"
    );
    assert!(wfsim_render::timeline::of_child(&run, 2).is_none());
    let page = wfsim_render::html::run_page(
        &run,
        wfsim_render::html::RunPage {
            file: &workflow_path.display().to_string(),
            source: &source,
            seed: 0,
            failures: &[],
            workflow: Some(&workflow),
        },
    );
    assert!(
        page.contains("<section class=\"child\" id=\"child-1\">"),
        "{page}"
    );
    // Line 9 is the `call: …executions.run` of batch.yaml.
    assert!(
        page.contains("the call at <a href=\"#L9\">line 9</a>"),
        "{page}"
    );
    let line9 = &page[page.find("<tr id=\"L9\"").expect("line 9")..];
    let line9 = &line9[..line9.find("</tr>").unwrap()];
    assert!(line9.contains("href=\"#child-1\""), "{line9}");
    // Two timelines: the parent's and the child's.
    assert_eq!(
        page.matches("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\"")
            .count(),
        2
    );
}

/// The README's picture (`docs/parallel_ten.svg`) is what `wfsim run
/// fixtures/scenarios/parallel_ten.yaml --svg docs/parallel_ten.svg` draws today: the guide's
/// ten waiters, the eleventh request stored and the twelfth refused (CB-12, CB-9).
#[test]
fn cb_12_the_readmes_picture_is_the_tools_own() {
    let (run, _) = run("fixtures/scenarios/parallel_ten.yaml");
    let drawn = wfsim_render::svg::standalone(&of_run(&run));
    let kept = std::fs::read_to_string(root().join("docs/parallel_ten.svg")).unwrap_or_default();
    assert!(
        drawn == kept,
        "docs/parallel_ten.svg is not what the tool draws now: run `cargo run -q -p wfsim-cli -- \
         run fixtures/scenarios/parallel_ten.yaml --svg docs/parallel_ten.svg` and commit it"
    );
    // The picture shows the contract: ten taken, one stored, one refused, on the endpoint.
    for (class, count) in [("mark taken", 10), ("mark stored", 1), ("mark full", 1)] {
        assert_eq!(
            drawn.matches(&format!("class=\"{class}\"")).count(),
            count,
            "{class}"
        );
    }
}
