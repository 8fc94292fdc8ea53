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

/// Generated cases (workflow, schedule, latency, clogged links) against the contract's
/// invariants, with the coverage the sweep must reach.
#[test]
fn generated_cases_keep_the_contract() {
    use wfsim_sim::case::{self, Case, Coverage};
    let mut total = Coverage::default();
    // WFSIM_SIM_SEED=S replays one seed (and prints what it did).
    let only: Option<u64> = std::env::var("WFSIM_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok());
    let seeds: Vec<u64> = match only {
        Some(s) => vec![s],
        None => (0..150).collect(),
    };
    for seed in seeds {
        let c = Case::from_seed(seed);
        let out = case::run(&c).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{c:#?}"));
        let (violations, cov) = case::check(&c, &out);
        if only.is_some() {
            println!("{c:#?}\nworkflow:\n{}\n{out:#?}", c.workflow());
        }
        assert!(
            violations.is_empty(),
            "seed {seed}: {violations:#?}\n{c:#?}\nworkflow:\n{}\n{out:#?}\nreplay: \
             WFSIM_SIM_SEED={seed} RUSTFLAGS='--cfg madsim' CARGO_TARGET_DIR=target/sim \
             cargo test -p wfsim-sim --test sim generated_cases -- --nocapture",
            c.workflow()
        );
        total.add(&cov);
    }
    println!("{total:#?}");
    if only.is_some() {
        return;
    }
    for (what, n) in total.rows() {
        assert!(n > 0, "never happened in 150 seeds: {what}");
    }
}

#[test]
fn a_generated_case_replays_exactly() {
    use wfsim_sim::case::{self, Case};
    for seed in [5, 11, 23] {
        let c = Case::from_seed(seed);
        assert_eq!(case::run(&c), case::run(&c), "seed {seed}");
    }
}
