//! The reports in a real browser: Debian's chromium, driven over WebDriver by chromedriver.
//! A fixture's report is opened from disk; the test reads what the browser shows (the
//! lanes, the late approval's 404 mark beside the timeout), checks that the page fetched
//! nothing and logged no console error, and leaves a screenshot under
//! `target/ui-screens/` for a person to look at after CI.
//!
//! Skipped, saying why, where chromedriver is not installed (`.ci/run` installs it).

#[path = "support/driver.rs"]
mod driver;

use std::path::{Path, PathBuf};
use std::rc::Rc;

use driver::{BrowserLog, browser, driver, js};
use serde_json::{Value as Json, json};
use wfsim_harness::runner;
use wfsim_harness::scenario;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Writes the report of a fixture scenario under `target/ui-screens/`; its path.
fn report(scenario_file: &str, out: &str) -> PathBuf {
    let path = root().join(scenario_file);
    let text = std::fs::read_to_string(&path).unwrap();
    let s = scenario::parse_file(scenario_file, &text).unwrap();
    let workflow_path = path.parent().unwrap().join(&s.workflow);
    let source = std::fs::read_to_string(&workflow_path).unwrap();
    let workflow = wfsim_engine::defn::load(&s.workflow, &source).unwrap();
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
    let page = wfsim_render::html::run_page(
        &run,
        wfsim_render::html::RunPage {
            file: &s.workflow,
            source: &source,
            seed: s.seed,
            failures: &[],
            workflow: None,
        },
    );
    let dir = root().join("target/ui-screens");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(out);
    std::fs::write(&file, page).unwrap();
    file
}

#[tokio::test(flavor = "current_thread")]
async fn the_late_approvals_report_in_chromium() {
    let Some(driver) = driver() else { return };
    let file = report(
        "fixtures/scenarios/approval_no_catch_late.yaml",
        "report-approval-late.html",
    );
    let c = browser(driver.1).await;
    c.goto(&format!("file://{}", file.display())).await.unwrap();

    let lanes = js(
        &c,
        "return [...document.querySelectorAll('svg .lane')].map(l => l.dataset.lane)",
    )
    .await;
    assert_eq!(lanes, json!(["main", "endpoint 0 POST"]));
    // On the endpoint's lane: the timeout at 3600 s and the 404 at 3600.001 s, apart.
    let marks = js(
        &c,
        "const lane = document.querySelectorAll('svg .lane')[1].getBBox();
         return [...document.querySelectorAll('svg .mark')]
           .map(m => ({at: m.dataset.at, kind: m.classList[1], box: m.getBBox()}))
           .filter(m => m.box.y >= lane.y && m.box.y < lane.y + lane.height)
           .map(m => [m.at, m.kind, Math.round(m.box.x)]);",
    )
    .await;
    let marks = marks.as_array().unwrap();
    let at = |kind: &str| {
        marks
            .iter()
            .find(|m| m[1] == kind)
            .unwrap_or_else(|| panic!("no {kind} mark in {marks:?}"))
            .clone()
    };
    let (timeout, gone) = (at("timeout"), at("gone"));
    assert_eq!(
        (timeout[0].clone(), gone[0].clone()),
        (json!("3600s"), json!("3600.001s"))
    );
    let apart = gone[2].as_f64().unwrap() - timeout[2].as_f64().unwrap();
    assert!(
        apart >= 10.0,
        "the two marks are {apart}px apart: {marks:?}"
    );
    // Both instants are labelled where a person reads them.
    let labels = js(
        &c,
        "return [...document.querySelectorAll('svg .time')].map(t => t.textContent)",
    )
    .await;
    assert_eq!(labels, json!(["0s", "3600s", "3600.001s"]));
    // The error links to its line, which the page marks.
    let failing = js(&c, "return document.querySelector('tr.fail').id").await;
    let link = js(
        &c,
        "return document.querySelector('a[href^=\"#L\"]').getAttribute('href')",
    )
    .await;
    assert_eq!(
        format!("#{}", failing.as_str().unwrap()),
        link.as_str().unwrap()
    );

    // Nothing fetched, nothing logged.
    let fetched = js(&c, "return performance.getEntriesByType('resource').length").await;
    assert_eq!(fetched, json!(0));
    let log = c.issue_cmd(BrowserLog).await.expect("the browser's log");
    let errors: Vec<&Json> = log
        .as_array()
        .map(|l| l.iter().filter(|e| e["level"] == "SEVERE").collect())
        .unwrap_or_default();
    assert!(errors.is_empty(), "console errors: {errors:?}");

    let png = c.screenshot().await.unwrap();
    std::fs::write(file.with_extension("png"), png).unwrap();
    c.close().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn ten_waiters_in_chromium() {
    let Some(driver) = driver() else { return };
    let file = report(
        "fixtures/scenarios/parallel_ten.yaml",
        "report-parallel-ten.html",
    );
    let c = browser(driver.1).await;
    c.goto(&format!("file://{}", file.display())).await.unwrap();
    let lanes = js(&c, "return document.querySelectorAll('svg .lane').length").await;
    assert_eq!(lanes, json!(12), "main, ten branches, the endpoint");
    let verdicts = js(
        &c,
        "return ['taken', 'stored', 'full'].map(k => document.querySelectorAll('svg .mark.' + k).length)",
    )
    .await;
    // Ten requests taken (and ten awaits resumed), one stored, one refused 429.
    assert_eq!(verdicts, json!([10, 1, 1]));
    let png = c.screenshot().await.unwrap();
    std::fs::write(file.with_extension("png"), png).unwrap();
    c.close().await.unwrap();
}

/// A file of `fixtures/suite` as `wfsim test --html` shows it: its summary line and its
/// report (a scenario's run page, an explore file's page), ids prefixed by its index.
fn suite_file(i: usize, file: &str) -> wfsim_render::suite::SuiteFile {
    let path = root().join("fixtures").join(file);
    let ids = wfsim_render::suite::ids(i);
    let text = std::fs::read_to_string(&path).unwrap();
    if text.contains("\nexplore:") {
        let options = wfsim_explore::Options {
            out_dir: root().join("target/ui-screens/explore-failures"),
            ..Default::default()
        };
        let r = wfsim_explore::explore(&path, &options).unwrap();
        let source = std::fs::read_to_string(&r.workflow).unwrap();
        let failure = r
            .properties
            .iter()
            .find(|p| !p.passed())
            .map(|p| format!("{file}:{}: {} {}", p.line, p.kind, p.expr));
        let report = wfsim_render::html::explore_section(
            &r,
            wfsim_render::html::ExplorePage {
                file: &r.workflow,
                source: &source,
                reproducers: &[],
            },
            &ids,
        );
        return wfsim_render::suite::SuiteFile {
            path: file.to_owned(),
            verdict: if r.passed() { "ok" } else { "FAILED" },
            what: format!("explore, {} seeds", r.seeds_run),
            failure,
            wall_millis: None,
            report,
        };
    }
    let s = scenario::parse_file(file, &text).unwrap();
    let workflow_path = scenario::tidy_path(&path.parent().unwrap().join(&s.workflow));
    let source = std::fs::read_to_string(&workflow_path).unwrap();
    let workflow = wfsim_engine::defn::load(&workflow_path.display().to_string(), &source).unwrap();
    let library = s.children(&path, &workflow, &workflow_path).unwrap();
    let name = workflow_path
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let workflow = Rc::new(workflow);
    let run = runner::run_with_children(
        Rc::clone(&workflow),
        &name,
        &s.run_config(),
        &s.requests,
        &s.services,
        &library,
    );
    let failures = scenario::check(&s, &run);
    let report = wfsim_render::html::run_section(
        &run,
        wfsim_render::html::RunPage {
            file: &s.workflow,
            source: &source,
            seed: s.seed,
            failures: &failures,
            workflow: Some(&workflow),
        },
        &ids,
    );
    wfsim_render::suite::SuiteFile {
        path: file.to_owned(),
        verdict: if failures.is_empty() { "ok" } else { "FAILED" },
        what: "scenario".to_owned(),
        failure: failures.first().cloned(),
        wall_millis: Some(3),
        report,
    }
}

/// The suite's page (`wfsim test --html`) on `fixtures/suite`: no console error, nothing
/// fetched, and a failing file's summary line links to its report, which the page then shows.
#[tokio::test(flavor = "current_thread")]
async fn the_suites_page_links_a_failing_file_to_its_report() {
    let Some(driver) = driver() else { return };
    let files: Vec<_> = [
        "suite/batch_approved.yaml",
        "suite/failing/order_always_approved.yaml",
        "suite/failing/order_wrong_result.yaml",
        "suite/order_explore.yaml",
    ]
    .iter()
    .enumerate()
    .map(|(i, f)| suite_file(i, f))
    .collect();
    let page = wfsim_render::suite::suite_page("fixtures/suite", &files, Some(40));
    let dir = root().join("target/ui-screens");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("report-suite.html");
    std::fs::write(&file, page).unwrap();
    let c = browser(driver.1).await;
    c.goto(&format!("file://{}", file.display())).await.unwrap();

    let rows = js(
        &c,
        "return [...document.querySelectorAll('table.suite tbody tr')].map(r => [r.className, r.querySelector('a.report').getAttribute('href')])",
    )
    .await;
    assert_eq!(
        rows,
        json!([
            ["held", "#f0"],
            ["broken", "#f1"],
            ["broken", "#f2"],
            ["held", "#f3"]
        ])
    );
    // Follow the wrong result's link: the page goes to its report, the run page.
    c.find(fantoccini::Locator::Css("a.report[href='#f2']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let target = js(
        &c,
        "const t = document.querySelector(':target'); const r = t.getBoundingClientRect();
         return [t.id, t.querySelector('.failures h2').textContent, Math.round(r.top) < 50,
                 t.querySelectorAll('svg.timeline .lane').length];",
    )
    .await;
    assert_eq!(target, json!(["f2", "Expectations that failed", true, 2]));
    // Each report's source links stay in its own report.
    let own = js(
        &c,
        "return [...document.querySelectorAll('#f2 a[href^=\"#\"]')].every(a => a.getAttribute('href') === '#top' || document.getElementById(a.getAttribute('href').slice(1)).closest('article').id === 'f2')",
    )
    .await;
    assert_eq!(own, json!(true));

    let fetched = js(&c, "return performance.getEntriesByType('resource').length").await;
    assert_eq!(fetched, json!(0));
    let log = c.issue_cmd(BrowserLog).await.expect("the browser's log");
    let errors: Vec<&Json> = log
        .as_array()
        .map(|l| l.iter().filter(|e| e["level"] == "SEVERE").collect())
        .unwrap_or_default();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    let png = c.screenshot().await.unwrap();
    std::fs::write(file.with_extension("png"), png).unwrap();
    c.close().await.unwrap();
}
