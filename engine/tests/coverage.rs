//! Step coverage: the interpreter counts the points a run passes (`wfsim_engine::coverage`),
//! named by position.

use wfsim_engine::coverage::{by_position, points};

/// The interpreter counts what ran: the switch's first case (twice, in a loop), every
/// retry attempt, the except block; the second case never.
#[test]
fn an_execution_counts_the_points_it_passes() {
    let src = "main:\n  steps:\n    - loop:\n        for:\n          value: i\n          range: [1, 2]\n          steps:\n            - route:\n                switch:\n                  - condition: ${i > 0}\n                    next: continue\n                  - condition: ${false}\n                    next: continue\n    - t:\n        try:\n          raise: boom\n        retry:\n          predicate: ${retry.always}\n          max_retries: 2\n          backoff: {initial_delay: 1, max_delay: 2, multiplier: 2}\n        except:\n          as: e\n          steps:\n            - inner:\n                return: 1\n";
    let wf = std::rc::Rc::new(wfsim_engine::defn::load("w.yaml", src).unwrap());
    let sites = points(&wf);
    let run = wfsim_harness::runner::run(
        std::rc::Rc::clone(&wf),
        "w",
        &wfsim_harness::runner::RunConfig::default(),
        &[],
    );
    let got: Vec<String> = by_position(&sites, &run.execution.coverage())
        .iter()
        .map(|((pos, point), n)| format!("{}:{} {point:?} {n}", pos.line, pos.col))
        .collect();
    assert_eq!(
        got,
        [
            "3:7 Step 1",
            "8:15 Step 2",
            "10:21 Case 2",
            "14:7 Step 1",
            "18:11 Retry(1) 1",
            "18:11 Retry(2) 1",
            "22:11 Except 1",
            "24:15 Step 1",
        ]
    );
}
