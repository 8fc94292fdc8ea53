//! RT-2: generated retry policies (integer and double parameters, zero, negatives) against
//! the back-off formula, as in `cargo xtask conformance`, with other seeds.

#[test]
fn rt_2_generated_policies_follow_the_formula() {
    for seed in [1, 2] {
        if let Err(why) = wfsim_conformance::backoff::run(256, seed) {
            panic!("seed {seed}: {why}");
        }
    }
}
