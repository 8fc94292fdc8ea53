//! `wfsim serve` as a child process, for the tests that drive it from outside.

// Each test file uses what it needs of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A running `wfsim serve`; killed (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// `wfsim serve --port 0 ARGS`. Its output is drained on a thread, so the server never
    /// waits on a full pipe.
    /// Its stderr (the API event lines) is dropped: tests that read it use
    /// [`Server::start_with`].
    pub fn start(args: &[&str]) -> Server {
        Server::start_with(args, Stdio::null())
    }

    /// [`Server::start`], its stderr going to `stderr`.
    pub fn start_with(args: &[&str], stderr: Stdio) -> Server {
        Server::start_env(args, &[], stderr)
    }

    /// [`Server::start_with`], with `env` set in its environment (and a port of `args`'
    /// own, if they give one).
    pub fn start_env(args: &[&str], env: &[(&str, &str)], stderr: Stdio) -> Server {
        let port: &[&str] = if args.contains(&"--port") {
            &[]
        } else {
            &["--port", "0"]
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_wfsim"))
            .arg("serve")
            .args(port)
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("wfsim serve starts");
        let mut out = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = out.next().expect("a first line").expect("text");
        let base = first
            .strip_prefix("wfsim serving on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .to_owned();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in out.map_while(Result::ok) {
                sink.lock().expect("lines").push(line);
            }
        });
        Server { child, base, lines }
    }

    /// The first line printed so far that starts with `prefix`, waiting up to 10 s for it.
    pub fn line(&self, prefix: &str) -> String {
        for _ in 0..1000 {
            let found = self
                .lines
                .lock()
                .expect("lines")
                .iter()
                .find(|l| l.starts_with(prefix))
                .cloned();
            if let Some(l) = found {
                return l;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "no line starts with {prefix:?}: {:?}",
            self.lines.lock().expect("lines")
        );
    }

    /// Every line printed so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines").clone()
    }

    /// `kill -9`: nothing gets to run on the way out.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request over a fresh connection (`Connection: close`): status and body.
pub fn http(base: &str, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let authority = base.strip_prefix("http://").expect("an http base");
    let mut stream = std::net::TcpStream::connect(authority).expect("connect");
    // A server that stopped answering fails the test instead of hanging it.
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a read timeout");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {response}"));
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}
