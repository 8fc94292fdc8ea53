//! `wfsim-fuzz`: a fuzzer for the engine that runs on the stable toolchain.
//!
//! Inputs are workflow definitions (the fixtures and the corpus, mutated; workflows written
//! from templates) and calls of every standard-library function with generated arguments
//! ([`values`], [`mutate`], [`synth`]). Each runs in a worker process ([`worker`]) under a
//! time and memory budget, so that a panic, an abort, a hang or a budget overrun is seen
//! as a failure by the parent ([`supervisor`]).
//!
//! Everything is drawn from seeded streams ([`rand`]): inputs repeat from their seed.

pub mod budget;
pub mod exec;
pub mod input;
pub mod mutate;
pub mod rand;
pub mod recipe;
pub mod supervisor;
pub mod synth;
pub mod values;
pub mod worker;
