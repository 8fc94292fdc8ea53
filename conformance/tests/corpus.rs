//! The corpus of other emulators' tests (`fixtures/corpus`), run against the engine.

use wfsim_conformance::corpus;

#[test]
fn corpus_cases_agree() {
    let dir = corpus::default_dir();
    let outcomes = corpus::run_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let listed = corpus::listed_cases(&dir).unwrap_or_else(|e| panic!("{e}"));
    let found: Vec<&str> = outcomes.iter().map(|o| o.name.as_str()).collect();
    let mut listed_sorted: Vec<&str> = listed.iter().map(String::as_str).collect();
    listed_sorted.sort_unstable();
    assert_eq!(
        found,
        listed_sorted,
        "the cases in {} are not the ones its SOURCES.md lists",
        dir.display()
    );
    assert!(
        listed.len() >= 139,
        "SOURCES.md lists only {}",
        listed.len()
    );
    let mut failures = Vec::new();
    for o in &outcomes {
        let known = corpus::KNOWN_DIVERGENCES.iter().find(|(n, _)| *n == o.name);
        match (&o.disagreement, known) {
            (Some(why), None) => failures.push(format!("{}: {why}", o.name)),
            (None, Some(_)) => failures.push(format!(
                "{}: agrees now; remove it from KNOWN_DIVERGENCES",
                o.name
            )),
            _ => {}
        }
    }
    let agree = outcomes.iter().filter(|o| o.disagreement.is_none()).count();
    assert!(
        failures.is_empty(),
        "{agree} of {} agree; unexpected:\n{}",
        outcomes.len(),
        failures.join("\n")
    );
}
