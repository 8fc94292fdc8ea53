//! Pictures of what happened. A run becomes a [`timeline::Timeline`] (lanes, marks, spans:
//! data a test can read), drawn as SVG by [`svg::draw`] and put in a self-contained HTML
//! report by [`html::run_page`] (`wfsim run FILE --html OUT`), beside the workflow's graph
//! ([`graph::of_workflow`], [`graph::draw`]) with the run's coverage on it. A test suite's
//! page ([`suite::suite_page`], `wfsim test --html OUT`) holds every file's report.

pub mod graph;
pub mod html;
pub mod suite;
pub mod svg;
pub mod timeline;
