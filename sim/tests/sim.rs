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
