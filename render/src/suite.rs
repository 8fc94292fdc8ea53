//! `wfsim test --html OUT`: the suite as one self-contained page: the summary (each file's
//! verdict, wall time and first failure at `file:line`), then every file's own report, the
//! run page of a scenario and the explore page of an explore file, each at an anchor the
//! summary links to.
//!
//! **Decision:** one file, not a folder of pages. A CI artifact viewer serves or downloads
//! a file at a time: one file is one link that opens as it is (no archive to unpack, no
//! piece to lose), and links inside it are fragments, which work wherever the file is
//! served; links between files break where each artifact gets a URL of its own (signed
//! per-file URLs). The reports' ids are prefixed per file (`f3-L12`), so one page holds
//! them all.

use maud::{Markup, PreEscaped, html};

use crate::html::page;

/// One file of the suite, its report already rendered (by [`crate::html::run_section`],
/// [`crate::html::explore_section`] or [`invalid_section`], with the ids [`ids`] gives).
#[derive(Clone, Debug)]
pub struct SuiteFile {
    pub path: String,
    /// `ok`, `FAILED` or `INVALID`.
    pub verdict: &'static str,
    /// `scenario`, `explore, 20 seeds` or `invalid`.
    pub what: String,
    /// The first failure, `file:line: what`.
    pub failure: Option<String>,
    /// Wall time taken: shown as such, the page's one part that is not a function of the
    /// files (in `<span class="wall">`, which a comparison leaves out).
    pub wall_millis: Option<u64>,
    pub report: String,
}

/// The prefix of the ids of file `i`'s report; its article's id is `f{i}`.
pub fn ids(i: usize) -> String {
    format!("f{i}-")
}

/// The report of a file that could not run: why, at `file:line:column`.
pub fn invalid_section(why: &str) -> String {
    html! {
        section class="failures" {
            h2 { "Invalid" }
            p class="invalid" { (why) }
        }
    }
    .into_string()
}

fn wall(millis: Option<u64>) -> Markup {
    html! {
        @if let Some(ms) = millis {
            span class="wall" title="wall time taken, not part of the outcome" { (ms) " ms" }
        }
    }
}

/// The page: `title`, the summary of `files`, then each file's report.
pub fn suite_page(title: &str, files: &[SuiteFile], wall_millis: Option<u64>) -> String {
    let count = |v: &str| files.iter().filter(|f| f.verdict == v).count();
    let (passed, failed, invalid) = (count("ok"), count("FAILED"), count("INVALID"));
    let all_passed = failed + invalid == 0;
    let body = html! {
        header id="top" {
            h1 {
                (title) " "
                span class={"state " (if all_passed { "succeeded" } else { "failed" })} {
                    (if all_passed { "PASSED" } else { "FAILED" })
                }
            }
            p class="meta" {
                (files.len()) " files: " (passed) " passed, " (failed) " failed, " (invalid) " invalid"
                @if wall_millis.is_some() { " · " (wall(wall_millis)) " wall time" }
            }
        }
        section {
            h2 { "Files" }
            table class="suite" {
                thead { tr { th { "file" } th { "verdict" } th { "what" } th { "wall time" } th { "first failure" } } }
                tbody {
                    @for (i, f) in files.iter().enumerate() {
                        tr class=(if f.verdict == "ok" { "held" } else { "broken" }) {
                            td { a class="report" href={"#f" (i)} { (f.path) } }
                            td { (f.verdict) }
                            td { (f.what) }
                            td class="num" { (wall(f.wall_millis)) }
                            td { @if let Some(x) = &f.failure { code { (x) } } }
                        }
                    }
                }
            }
        }
        @for (i, f) in files.iter().enumerate() {
            article class="file" id={"f" (i)} {
                h2 { (f.path) " — " (f.verdict) " " a href="#top" { "back to the summary" } }
                (PreEscaped(&f.report))
            }
        }
    };
    page(&format!("{title} — wfsim test"), body)
}
