//! `wfsim test --update`: written next.

use std::path::Path;

use crate::suite::outcome::Outcome;

pub(crate) fn run_and_update(path: &Path) -> (Outcome, Option<String>) {
    let _ = path;
    (
        Outcome::Invalid("--update is not written yet".to_owned()),
        None,
    )
}
