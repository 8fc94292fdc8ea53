//! The progress bar of `wfsim explore` on a terminal (indicatif), on stderr only: when
//! stderr is not a terminal nothing is drawn, and stdout (the report) never changes.

use std::io::IsTerminal;
use std::sync::OnceLock;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What the bar is labelled with (`engine level`, `system level`), set by [`on_terminal`].
static LABEL: OnceLock<&'static str> = OnceLock::new();
/// One bar per process, made at the first report, when the number of seeds is known:
/// [`crate::Options::progress`] is a plain `fn`, called from every worker thread.
static BAR: OnceLock<ProgressBar> = OnceLock::new();

fn tick(done: u64, total: u64) {
    let bar = BAR.get_or_init(|| {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("  {prefix} [{bar:30}] {pos}/{len} seeds, {eta} left")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(LABEL.get().copied().unwrap_or("explore"));
        bar
    });
    bar.set_position(done);
}

/// The progress callback for [`crate::Options::progress`] when stderr is a terminal,
/// drawing a bar labelled `what`; `None` otherwise.
pub fn on_terminal(what: &'static str) -> Option<fn(u64, u64)> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let _ = LABEL.set(what);
    Some(tick)
}

/// Clears the bar, if one was drawn, before the report is printed.
pub fn clear() {
    if let Some(bar) = BAR.get() {
        bar.finish_and_clear();
    }
}
