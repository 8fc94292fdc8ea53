//! The conformance side of wfsim: the spec model of SPEC §3 and the checks of
//! `wfsim-engine` against it.
//!
//! - [`model`]: the slot rule, plainly; it does not depend on the engine.
//! - [`check`]: runs ops on the engine and the model in lockstep and compares them.
//! - [`property`]: proptest-generated sequences, shrunk on failure, replayable by seed.
//! - [`exhaustive`]: every sequence up to a length over a small alphabet.
//! - [`rules`]: the rule catalogue: every row of the report, which parts check it.
//! - [`report`]: the per-rule table of `cargo xtask conformance`.
//! - [`system`]: the system-level sweep's summary (from `wfsim-sim`), as the report reads it.

pub mod backoff;
pub mod check;
pub mod corpus;
pub mod exhaustive;
pub mod fixtures;
pub mod model;
pub mod ops;
pub mod property;
pub mod render;
pub mod report;
pub mod rules;
pub mod suite;
pub mod system;
pub mod text;
