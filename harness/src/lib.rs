//! The harness around the engine: what drives an execution from a script and judges it.
//!
//! The engine (`wfsim-engine`) runs a workflow under virtual time and knows nothing of
//! files of requests; this crate reads them and drives it: the scenario format and its
//! expectations ([`scenario`]), the scripted services that answer outbound calls and call
//! back ([`services`]), the driver of an execution through a script ([`runner`]), the
//! report of a run ([`report`]) and properties over it ([`property`]). [`doc`] is the kit
//! every one of these formats reads positioned YAML or JSON with.
//!
//! Layering: `doc` ← `property`, `services`, `children` ← `runner` ← `report` ← `scenario`; nothing here
//! is imported by the engine.

pub mod children;
pub mod doc;
pub mod property;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod services;
