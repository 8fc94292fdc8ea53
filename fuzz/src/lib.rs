//! `wfsim-fuzz`: a fuzzer for the engine that runs on the stable toolchain.
//!
//! Inputs are workflow definitions (the fixtures and the corpus, mutated; workflows written
//! from templates) and calls of every standard-library function with generated arguments.
//! Each runs in a worker process ([`worker`]) under a time and memory budget; a panic, an
//! abort, a hang or a budget overrun is a failure, minimised and saved as a reproducer
//! under `fixtures/fuzz-regressions/` ([`regress`]), which every later run, and the
//! workspace's tests, replay first.
//!
//! Everything is drawn from seeded streams ([`rand`]): a run repeats from its seed; wall
//! time only bounds the run and each input.

pub mod budget;
pub mod campaign;
pub mod exec;
pub mod input;
pub mod mutate;
pub mod rand;
pub mod recipe;
pub mod regress;
pub mod supervisor;
pub mod synth;
pub mod values;
pub mod worker;
