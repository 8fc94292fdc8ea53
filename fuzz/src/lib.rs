//! `wfsim-fuzz`: a fuzzer for the engine that runs on the stable toolchain.
//!
//! Each input (a workflow definition, or a call of a standard-library function) runs in a
//! worker process ([`worker`]) under a time and memory budget, so that a panic, an abort,
//! a hang or a budget overrun is seen as a failure by the parent ([`supervisor`]).

pub mod budget;
pub mod exec;
pub mod input;
pub mod rand;
pub mod recipe;
pub mod supervisor;
pub mod worker;
