//! The server under madsim: the guide's walk-through on simulated nodes, and determinism.
#![cfg(madsim)]

use wfsim_sim::world::{WorldConfig, guide_walk_through};

#[test]
fn guide_walk_through_on_simulated_nodes() {
    for seed in 0..20 {
        let config = WorldConfig::slow_network(seed);
        let trace =
            guide_walk_through(&config).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{config:?}"));
        assert_eq!(trace.len(), 5, "seed {seed}: {trace:#?}");
    }
}

#[test]
fn a_seed_replays_exactly() {
    for seed in [1, 7, 42] {
        let config = WorldConfig::slow_network(seed);
        let first = guide_walk_through(&config).unwrap();
        let second = guide_walk_through(&config).unwrap();
        assert_eq!(first, second, "seed {seed} ran two different ways");
    }
    let a = guide_walk_through(&WorldConfig::slow_network(3)).unwrap();
    let b = guide_walk_through(&WorldConfig::slow_network(4)).unwrap();
    assert_ne!(
        a, b,
        "different seeds, different latencies, different traces"
    );
}

/// Generated cases (workflow, schedule, faults) replayed through the spec model, with the
/// coverage the sweep must reach. The sweep (`cargo xtask conformance`) runs 1,000 seeds;
/// this runs the first 200.
#[test]
fn generated_cases_keep_the_contract() {
    use wfsim_sim::case::Case;
    use wfsim_sim::{oracle, run, sweep};
    // WFSIM_SIM_SEED=S replays one seed (and prints what it did).
    let only: Option<u64> = std::env::var("WFSIM_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok());
    let seeds: Vec<u64> = match only {
        Some(s) => vec![s],
        None => (0..200).collect(),
    };
    let mut total = oracle::Coverage::default();
    for seed in seeds {
        let c = Case::from_seed(seed);
        let out = run::run(&c).unwrap_or_else(|e| panic!("{}{e}", c.schedule()));
        let verdict = oracle::check(&c, &out);
        if only.is_some() {
            println!("{}{}", c.schedule(), sweep::timeline(&out));
        }
        assert!(
            verdict.violations.is_empty(),
            "{:#?}\n{}replay: cargo xtask sim --seed {seed}",
            verdict.violations,
            c.schedule(),
        );
        total.add(&verdict.coverage);
    }
    if only.is_some() {
        return;
    }
    for (what, n, required) in total.rows() {
        assert!(n > 0 || !required, "never happened in 200 seeds: {what}");
    }
}

#[test]
fn a_generated_case_replays_exactly() {
    use wfsim_sim::case::Case;
    use wfsim_sim::run;
    for seed in [5, 11, 23] {
        let c = Case::from_seed(seed);
        assert_eq!(run::run(&c), run::run(&c), "seed {seed}");
    }
}

/// The oracle is not blind: a journal with one answer changed fails it, naming the rule.
#[test]
fn a_doctored_journal_fails_the_oracle() {
    use wfsim_conformance::rules::Rule;
    use wfsim_server::Observed;
    use wfsim_sim::case::Case;
    use wfsim_sim::{oracle, run};
    let (c, mut out) = (0..50)
        .map(Case::from_seed)
        .find_map(|c| {
            let out = run::run(&c).ok()?;
            let has_429 = out
                .journal
                .iter()
                .any(|o| matches!(o, Observed::Callback(d) if d.status == 429));
            has_429.then_some((c, out))
        })
        .expect("some seed of the first 50 meets a full slot");
    assert!(oracle::check(&c, &out).violations.is_empty());
    for o in &mut out.journal {
        if let Observed::Callback(d) = o {
            if d.status == 429 {
                d.status = 200;
                break;
            }
        }
    }
    let rules: Vec<Rule> = oracle::check(&c, &out)
        .violations
        .iter()
        .map(|v| v.rule)
        .collect();
    assert!(rules.contains(&Rule::Slot7), "{rules:?}");
}

/// The sweep hands each seed's outcome over in seed order whatever the number of jobs, and
/// takes no seed after the one it was told to stop at: its output cannot depend on `--jobs`.
#[test]
fn the_sweep_keeps_seed_order_on_any_number_of_jobs() {
    use wfsim_sim::sweep;
    let seen = |jobs| {
        let mut seen = Vec::new();
        sweep::judge_in_order(12, jobs, |c, judged| {
            seen.push((c.seed, judged.map(|(out, _)| sweep::digest(&out)).ok()));
            c.seed < 9
        });
        seen
    };
    let one = seen(1);
    let seeds: Vec<u64> = one.iter().map(|(s, _)| *s).collect();
    assert_eq!(seeds, (0..10).collect::<Vec<u64>>());
    assert!(one.iter().all(|(_, d)| d.is_some()), "{one:?}");
    assert_eq!(seen(3), one);
}

/// The bench's yardstick does the world's network work: a run's recorded requests, sent
/// again through the bare world, are all answered when the network loses nothing, and
/// every request the world's clients sent was recorded.
#[test]
fn the_bare_world_answers_what_a_run_sent() {
    use wfsim_sim::case::Case;
    use wfsim_sim::{bare, run};
    let mut checked = 0;
    for c in (0..40)
        .map(Case::from_seed)
        .filter(|c| c.loss == 0.0)
        .take(5)
    {
        let (out, requests) = run::run_recording(&c).unwrap();
        // Every callback attempt asked for a connection; every answered one was sent.
        let attempts = out.sends.iter().flat_map(|(_, a)| a);
        let answered = attempts.clone().filter(|a| a.result.is_ok()).count();
        let sent = requests.iter().filter(|r| r.sent.is_some()).count();
        assert!(requests.len() >= attempts.count(), "seed {}", c.seed);
        assert!(
            sent >= answered,
            "seed {}: {sent} sent, {answered} answered",
            c.seed
        );
        assert_eq!(bare::run_here(&c, requests), sent, "seed {}", c.seed);
        checked += 1;
    }
    assert_eq!(checked, 5);
}
