//! The shared corpus, run from outside the project (`../shared/corpus`).

use wfsim_conformance::corpus;

#[test]
fn corpus_cases_agree() {
    let dir = corpus::default_dir();
    let outcomes = corpus::run_all(&dir).unwrap_or_else(|e| panic!("{e}; set WFSIM_CORPUS"));
    assert!(
        outcomes.len() >= 100,
        "only {} cases found in {}",
        outcomes.len(),
        dir.display()
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
