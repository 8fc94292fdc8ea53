//! Real clients are the judges of live mode: Google's Python client libraries, unmodified
//! (`clients/python/`, pinned in its requirements.txt), drive `wfsim serve` — deploy through
//! the Workflows API over REST, run, list and cancel through the Executions API over gRPC,
//! deliver a callback, move the clock 12 hours; and the discovery-based client
//! (google-api-python-client) reads step entries, which only REST serves.
//!
//! The libraries are installed on first use into `target/clients-venv` (python3's venv and
//! pip, from PyPI); a later run reuses them while requirements.txt is unchanged.

use std::path::PathBuf;
use std::process::Command;

mod common;
use common::{Server, root};

/// `target/clients-venv` with the pinned libraries in it; its python. Installed once per
/// test process: the tests run on threads, and two installs would remove each other's.
fn venv_python() -> PathBuf {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(install_venv).clone()
}

fn install_venv() -> PathBuf {
    let requirements = root().join("clients/python/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("requirements.txt");
    let venv = root().join("target/clients-venv");
    let marker = venv.join("installed-requirements.txt");
    let python = venv.join("bin/python");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(wanted.as_str()) {
        return python;
    }
    let run = |cmd: &mut Command, what: &str| {
        let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            out.status.success(),
            "{what} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let _ = std::fs::remove_dir_all(&venv);
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        "python3 -m venv target/clients-venv (this test needs python3 with venv)",
    );
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements),
        "pip install -r clients/python/requirements.txt (from PyPI)",
    );
    std::fs::write(&marker, wanted).expect("write the marker");
    python
}

#[test]
fn googles_python_clients_deploy_run_and_list_against_wfsim() {
    let python = venv_python();
    let server = Server::start(&["--clock", "manual", "--token", "t0k", "--seed", "1"]);
    let out = Command::new(&python)
        .arg(root().join("clients/python/walkthrough.py"))
        .args([&server.base, "t0k"])
        .output()
        .expect("python runs");
    server.kill();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.ends_with("ALL OK\n"),
        "the walkthrough failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue 25: step entries (REST only) listed, paged, filtered and got by Google's
/// discovery-based client with the discovery documents it ships.
#[test]
fn googles_discovery_based_client_lists_and_gets_step_entries() {
    let python = venv_python();
    let server = Server::start(&["--token", "t0k", "--seed", "1"]);
    let out = Command::new(&python)
        .arg(root().join("clients/python/step_entries.py"))
        .args([&server.base, "t0k"])
        .output()
        .expect("python runs");
    server.kill();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.ends_with("ALL OK\n"),
        "the step entries script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
