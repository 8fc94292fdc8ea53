//! A second language's official clients judge live mode: Google's Node.js client libraries,
//! unmodified (`clients/node/`, pinned in its package.json and package-lock.json), drive
//! `wfsim serve` once over gRPC and once over REST — deploy and revise through the Workflows
//! API (@google-cloud/workflows 4.4.0), run, list in pages and cancel through the Executions
//! API (5.x), deliver a callback, move the clock 12 hours, delete.
//!
//! The libraries are installed on first use into `target/clients-node` with `npm ci` (from the
//! npm registry); a later run reuses them while package.json and package-lock.json are
//! unchanged. Without `node` or `npm` on PATH the test says so and passes.

use std::path::PathBuf;
use std::process::Command;

mod common;
use common::{Server, root};

fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `target/clients-node` with the pinned libraries in its node_modules and the walkthrough
/// beside them (node finds a script's packages from the script's own folder).
fn installed() -> PathBuf {
    let src = root().join("clients/node");
    let dir = root().join("target/clients-node");
    let files = ["package.json", "package-lock.json"];
    let wanted: String = files
        .iter()
        .map(|f| std::fs::read_to_string(src.join(f)).unwrap_or_else(|e| panic!("{f}: {e}")))
        .collect();
    let marker = dir.join("installed-pins.txt");
    if std::fs::read_to_string(&marker).ok().as_deref() != Some(wanted.as_str()) {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create target/clients-node");
        for f in files {
            std::fs::copy(src.join(f), dir.join(f)).unwrap_or_else(|e| panic!("copy {f}: {e}"));
        }
        let out = Command::new("npm")
            .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .output()
            .expect("npm runs");
        assert!(
            out.status.success(),
            "npm ci in target/clients-node (from the npm registry) failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&marker, wanted).expect("write the marker");
    }
    std::fs::copy(src.join("walkthrough.js"), dir.join("walkthrough.js")).expect("copy the script");
    dir
}

#[test]
fn googles_node_clients_round_trip_over_grpc_and_rest_against_wfsim() {
    if !runs("node") || !runs("npm") {
        eprintln!("skipped: this test needs node and npm on PATH (Google's Node.js clients)");
        return;
    }
    let dir = installed();
    let server = Server::start(&["--clock", "manual", "--token", "t0k", "--seed", "1"]);
    let out = Command::new("node")
        .arg(dir.join("walkthrough.js"))
        .args([&server.base, "t0k"])
        .output()
        .expect("node runs");
    server.kill();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.ends_with("ALL OK\n"),
        "the Node walkthrough failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
