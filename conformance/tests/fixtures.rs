//! Every fixture: scenarios hold their expectations, YAML and JSON twins give identical
//! traces, and each trace is an insta snapshot (review changes with `cargo insta review`).

use wfsim_conformance::fixtures;

#[test]
fn scenarios_hold_their_expectations() {
    let dir = fixtures::dir().join("scenarios");
    let paths = fixtures::files(&dir, "yaml");
    assert!(paths.len() >= 15, "only {} scenarios", paths.len());
    let mut failed = Vec::new();
    for p in &paths {
        match fixtures::run_scenario(p, None) {
            Ok(r) if r.failures.is_empty() => {}
            Ok(r) => failed.push(format!("{}: {}", r.name, r.failures.join("; "))),
            Err(e) => failed.push(e),
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn yaml_and_json_twins_give_identical_traces() {
    let dir = fixtures::dir().join("scenarios");
    let mut compared = 0;
    for p in fixtures::files(&dir, "yaml") {
        let yaml = fixtures::run_scenario(&p, None).unwrap();
        let Some(twin) = fixtures::json_twin(&yaml.workflow_path) else {
            continue;
        };
        let json = fixtures::run_scenario(&p, Some(&twin)).unwrap();
        assert_eq!(
            yaml.spelling_free(),
            json.spelling_free(),
            "{} vs {}",
            p.display(),
            twin.display()
        );
        compared += 1;
    }
    assert!(compared >= 5, "only {compared} twins compared");
    // A twin that no scenario uses is still compared alone.
    for w in fixtures::files(&fixtures::dir().join("workflows"), "yaml") {
        if let Some(twin) = fixtures::json_twin(&w) {
            let a = fixtures::run_workflow(&w).unwrap();
            let b = fixtures::run_workflow(&twin).unwrap();
            let show =
                |r: &wfsim_harness::runner::Run| wfsim_harness::report::timeline(r).join("\n");
            assert_eq!(show(&a), show(&b), "{} vs {}", w.display(), twin.display());
        }
    }
}

#[test]
fn the_guides_verbatim_json_is_refused_at_its_line_and_column() {
    let path = fixtures::dir().join("workflows/basic_callback_guide_verbatim.json");
    let err = fixtures::load_workflow(&path).unwrap_err();
    assert_eq!(
        err,
        "basic_callback_guide_verbatim.json:1:546: invalid JSON: expected `,` or `}`"
    );
}

#[test]
fn scenario_snapshots() {
    insta::glob!("../../fixtures", "scenarios/*.yaml", |path| {
        let run = fixtures::run_scenario(path, None).unwrap();
        let mut settings = insta::Settings::clone_current();
        settings.set_info(&format!("seed {}", run.scenario.seed));
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!(run.snapshot()));
    });
}

#[test]
fn workflow_snapshots() {
    insta::glob!("../../fixtures", "workflows/*.yaml", |path| {
        let run = fixtures::run_workflow(path).unwrap();
        let timeline = fixtures::workflow_snapshot(&run);
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!(timeline));
    });
}
