//! Real clients are the judges of live mode: Google's Python client libraries, unmodified
//! (`clients/python/`, pinned in its requirements.txt), drive `wfsim serve` — deploy through
//! the Workflows API over REST, run, list and cancel through the Executions API over gRPC,
//! deliver a callback, move the clock 12 hours; deploy and run in another project than
//! a folder's, the Executions client on the gRPC-only port; and the discovery-based client
//! (google-api-python-client) reads step entries, which only REST serves.
//!
//! The libraries are installed on first use into `target/clients-venv` (python3's venv and
//! pip, from PyPI); a later run reuses them while requirements.txt is unchanged.

use std::path::PathBuf;
use std::process::Command;

mod common;
use common::{Server, root};

/// `target/clients-venv` with the pinned libraries in it; its python. Once per process:
/// the tests run on threads, and two installs into one venv would break each other.
fn venv_python() -> PathBuf {
    static VENV: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    VENV.get_or_init(install_venv).clone()
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

/// Issue #25's done-when: Google's Python clients deploy to and run in project `acme-prod`
/// while a folder's workflow runs in the default project, in one `wfsim serve`; the
/// Executions client on the gRPC-only port (`--grpc-port`).
#[test]
fn googles_python_clients_run_in_any_project_beside_a_folders_default_one() {
    let python = venv_python();
    let folder = std::env::temp_dir().join(format!("wfsim-parents-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).expect("a temporary folder");
    let script = std::fs::read_to_string(root().join("clients/python/parents.py")).expect("script");
    // The folder's workflow is the script's own WHERE, so both report where they ran alike.
    let source = script
        .split("WHERE = \"\"\"")
        .nth(1)
        .and_then(|rest| rest.split("\"\"\"").next())
        .expect("WHERE in parents.py");
    std::fs::write(folder.join("local.yaml"), source).expect("write local.yaml");
    let folder_arg = folder.display().to_string();
    let server = Server::start(&[
        "--token",
        "t0k",
        "--seed",
        "1",
        "--grpc-port",
        "0",
        &folder_arg,
    ]);
    let line = server.line("gRPC only also on ");
    let grpc = line
        .strip_prefix("gRPC only also on ")
        .and_then(|rest| rest.split(' ').next())
        .expect("the gRPC port's address");
    assert_ne!(format!("http://{grpc}"), server.base, "a port of its own");
    let out = Command::new(&python)
        .arg(root().join("clients/python/parents.py"))
        .args([&server.base, grpc, "t0k"])
        .output()
        .expect("python runs");
    server.kill();
    let _ = std::fs::remove_dir_all(&folder);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.ends_with("ALL OK\n"),
        "parents.py failed:\n{stdout}\n{}",
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
