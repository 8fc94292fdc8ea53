//! Real clients are the judges of live mode: Google's Python client libraries, unmodified
//! (`clients/python/`, pinned in its requirements.txt), drive `wfsim serve` — deploy through
//! the Workflows API over REST, run, list and cancel through the Executions API over gRPC,
//! deliver a callback, move the clock 12 hours.
//!
//! The libraries are installed on first use into `target/clients-venv` (python3's venv and
//! pip, from PyPI); a later run reuses them while requirements.txt is unchanged.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `target/clients-venv` with the pinned libraries in it; its python.
fn venv_python() -> PathBuf {
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

/// `wfsim serve` on a free port; its base URL. Its output is drained on a thread, so the
/// server never waits on a full pipe.
fn serve(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wfsim"))
        .args(["serve", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("wfsim serve starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a first line").expect("text");
    let base = first
        .strip_prefix("wfsim serving on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_owned();
    std::thread::spawn(move || for _ in lines.by_ref() {});
    (child, base)
}

#[test]
fn googles_python_clients_deploy_run_and_list_against_wfsim() {
    let python = venv_python();
    let (mut server, base) = serve(&["--clock", "manual", "--token", "t0k", "--seed", "1"]);
    let out = Command::new(&python)
        .arg(root().join("clients/python/walkthrough.py"))
        .args([&base, "t0k"])
        .output()
        .expect("python runs");
    let _ = server.kill();
    let _ = server.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.ends_with("ALL OK\n"),
        "the walkthrough failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
