//! The render budget of issue #27: the UI's page of an execution with 1,000 callback
//! requests (its timeline, requests, step entries, source) rendered, timed as the median of
//! 20 renders. Printed, never asserted (`cargo xtask bench` runs it; the target is under
//! 200 ms); the page's content is tested in `tests/pages.rs`.

#[path = "../tests/support/sample.rs"]
mod sample;

use std::time::Instant;

use wfsim_engine::SimTime;
use wfsim_server::{Pages, UiAnswer, View};

const ROUNDS: usize = 20;

fn median_ms(mut f: impl FnMut() -> usize) -> (f64, usize) {
    let mut bytes = 0;
    let mut times: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            // The bench measures wall time on purpose: it is what a person waits for.
            #[allow(clippy::disallowed_methods)]
            let t = Instant::now();
            bytes = f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[ROUNDS / 2], bytes)
}

fn main() {
    if std::env::args().all(|a| a != "--bench") {
        // `cargo test --benches` runs this with no argument: nothing to measure there.
        return;
    }
    println!("wfsim UI pages (release build, no socket): median of {ROUNDS} renders");
    let ui = wfsim_ui::Ui::new(None, 0);
    let (state, name, id) = sample::awaited(1000);
    let req = sample::request("GET", &sample::page_path(name, &id), "");
    let (ms, bytes) =
        median_ms(
            || match ui.answer(&View::new(&state, SimTime::from_secs(2)), &req) {
                UiAnswer::Page(res) => res.body.len(),
                UiAnswer::Call(_) => unreachable!("a GET"),
            },
        );
    println!(
        "  execution page, 1,000 requests: {ms:.2} ms ({} KiB)",
        bytes / 1024
    );
    let (state, name, id) = sample::ten_waiters(100);
    let req = sample::request("GET", &sample::page_path(name, &id), "");
    let (ms, bytes) =
        median_ms(
            || match ui.answer(&View::new(&state, SimTime::from_secs(2)), &req) {
                UiAnswer::Page(res) => res.body.len(),
                UiAnswer::Call(_) => unreachable!("a GET"),
            },
        );
    println!(
        "  execution page, 10 waiters, 3 endpoints, 100 requests: {ms:.2} ms ({} KiB)",
        bytes / 1024
    );
    let state = sample::many(1000);
    let req = sample::request("GET", "/ui/executions", "");
    let (ms, bytes) =
        median_ms(
            || match ui.answer(&View::new(&state, SimTime::from_secs(2)), &req) {
                UiAnswer::Page(res) => res.body.len(),
                UiAnswer::Call(_) => unreachable!("a GET"),
            },
        );
    println!(
        "  executions page, 1,000 executions (the newest 200 listed): {ms:.2} ms ({} KiB)",
        bytes / 1024
    );
}
