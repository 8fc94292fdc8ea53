//! The parent's side of a worker: sends inputs, waits for answers within a time budget,
//! and turns a worker's death into a failure (stack overflow, memory budget, crash). A
//! dead or hung worker is replaced before the next input.

use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::exec::Ran;
use crate::input::Input;

/// How an input failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailureKind {
    Panic,
    StackOverflow,
    /// Over the worker's live-memory budget (or out of memory).
    Memory,
    /// No answer within the time budget.
    Hang,
    /// The worker died some other way (a signal, an abort).
    Crash,
}

impl FailureKind {
    pub const ALL: [FailureKind; 5] = [
        FailureKind::Panic,
        FailureKind::StackOverflow,
        FailureKind::Memory,
        FailureKind::Hang,
        FailureKind::Crash,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FailureKind::Panic => "panic",
            FailureKind::StackOverflow => "stack-overflow",
            FailureKind::Memory => "memory-budget",
            FailureKind::Hang => "time-budget",
            FailureKind::Crash => "crash",
        }
    }

    pub fn parse(name: &str) -> Option<FailureKind> {
        FailureKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A failure and what is known of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    /// Where a panic happened, `file:line:column`.
    pub location: Option<String>,
    /// One line: the panic message, the runtime's last words, the budget passed.
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(at) => write!(f, "{} at {at}: {}", self.kind.name(), self.detail),
            None => write!(f, "{}: {}", self.kind.name(), self.detail),
        }
    }
}

/// What became of one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass(Ran),
    Fail(Failure),
    /// The worker could not read or build the input: a fuzzer bug or a damaged file.
    Invalid(String),
}

/// A worker process, started on first use and after each death.
#[derive(Debug)]
pub struct Worker {
    exe: PathBuf,
    running: Option<Running>,
    /// Workers started so far.
    pub starts: u64,
}

#[derive(Debug)]
struct Running {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<String>,
    stderr: Arc<Mutex<Vec<u8>>>,
    stderr_reader: Option<JoinHandle<()>>,
}

/// The end of a worker's stderr kept for diagnosis.
const STDERR_KEPT: usize = 16 << 10;

impl Worker {
    /// Workers will be `exe worker`.
    pub fn new(exe: &Path) -> Worker {
        Worker {
            exe: exe.to_path_buf(),
            running: None,
            starts: 0,
        }
    }

    fn start(&mut self) -> Result<&mut Running, String> {
        if self.running.is_none() {
            let mut child = Command::new(&self.exe)
                .arg("worker")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", self.exe.display()))?;
            let stdin = child.stdin.take().ok_or("no stdin")?;
            let stdout = child.stdout.take().ok_or("no stdout")?;
            let mut err_pipe = child.stderr.take().ok_or("no stderr")?;
            let (tx, replies) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            let stderr = Arc::new(Mutex::new(Vec::new()));
            let sink = Arc::clone(&stderr);
            let stderr_reader = std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err_pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut kept) = sink.lock() {
                        kept.extend_from_slice(&buf[..n]);
                        let excess = kept.len().saturating_sub(STDERR_KEPT);
                        kept.drain(..excess);
                    }
                }
            });
            self.starts += 1;
            self.running = Some(Running {
                child,
                stdin,
                replies,
                stderr,
                stderr_reader: Some(stderr_reader),
            });
        }
        Ok(self.running.as_mut().expect("started above"))
    }

    /// Runs `input`, waiting at most `budget` for the answer.
    pub fn run(&mut self, input: &Input, budget: Duration) -> Result<Verdict, String> {
        let bytes = input.encode();
        let len = u32::try_from(bytes.len()).map_err(|_| "the input is over 4 GiB")?;
        let running = self.start()?;
        if let Ok(mut kept) = running.stderr.lock() {
            kept.clear();
        }
        let sent = running
            .stdin
            .write_all(&len.to_le_bytes())
            .and_then(|()| running.stdin.write_all(&bytes))
            .and_then(|()| running.stdin.flush());
        let reply = match sent {
            Ok(()) => running.replies.recv_timeout(budget),
            // The worker is gone; its stdout will say so.
            Err(_) => Err(RecvTimeoutError::Disconnected),
        };
        match reply {
            Ok(line) => Ok(parse_reply(&line)),
            Err(RecvTimeoutError::Timeout) => {
                let mut running = self.running.take().expect("running");
                let _ = running.child.kill();
                let _ = running.child.wait();
                Ok(Verdict::Fail(Failure {
                    kind: FailureKind::Hang,
                    location: None,
                    detail: format!("no answer within {} ms", budget.as_millis()),
                }))
            }
            Err(RecvTimeoutError::Disconnected) => {
                let running = self.running.take().expect("running");
                Ok(Verdict::Fail(death(running)))
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(mut running) = self.running.take() {
            let _ = running.child.kill();
            let _ = running.child.wait();
        }
    }
}

fn parse_reply(line: &str) -> Verdict {
    match line.split_once(' ') {
        Some(("ok", "accepted")) => Verdict::Pass(Ran::Accepted),
        Some(("ok", "refused")) => Verdict::Pass(Ran::Refused),
        Some(("panic", rest)) => {
            let (location, message) = rest.split_once('\t').unwrap_or(("unknown", rest));
            Verdict::Fail(Failure {
                kind: FailureKind::Panic,
                location: Some(location.to_owned()),
                detail: message.to_owned(),
            })
        }
        Some(("invalid", why)) => Verdict::Invalid(why.to_owned()),
        _ => Verdict::Invalid(format!("the worker answered '{line}'")),
    }
}

/// Why a worker died, from its exit status and the end of its stderr.
fn death(mut running: Running) -> Failure {
    drop(running.stdin);
    let status = running.child.wait();
    if let Some(reader) = running.stderr_reader.take() {
        let _ = reader.join();
    }
    let stderr = running
        .stderr
        .lock()
        .map(|k| String::from_utf8_lossy(&k).into_owned())
        .unwrap_or_default();
    let line_with = |needle: &str| {
        stderr
            .lines()
            .find(|l| l.contains(needle))
            .map(str::to_owned)
    };
    if let Some(line) = line_with("has overflowed its stack") {
        return Failure {
            kind: FailureKind::StackOverflow,
            location: None,
            detail: line,
        };
    }
    if let Some(line) = line_with("memory allocation of") {
        return Failure {
            kind: FailureKind::Memory,
            location: None,
            detail: format!(
                "{line} (budget {} MiB of live heap)",
                crate::worker::MEMORY_BUDGET >> 20
            ),
        };
    }
    let status = status.map_or_else(|e| format!("unknown status: {e}"), |s| s.to_string());
    let last: Vec<&str> = stderr.lines().rev().take(3).collect();
    Failure {
        kind: FailureKind::Crash,
        location: None,
        detail: format!(
            "the worker died ({status}){}",
            if last.is_empty() {
                String::new()
            } else {
                format!(
                    ": {}",
                    last.into_iter().rev().collect::<Vec<_>>().join(" | ")
                )
            }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_read() {
        assert_eq!(parse_reply("ok accepted"), Verdict::Pass(Ran::Accepted));
        assert_eq!(parse_reply("ok refused"), Verdict::Pass(Ran::Refused));
        assert_eq!(
            parse_reply("panic a.rs:1:2\tboom: x"),
            Verdict::Fail(Failure {
                kind: FailureKind::Panic,
                location: Some("a.rs:1:2".into()),
                detail: "boom: x".into(),
            })
        );
        assert!(matches!(parse_reply("what"), Verdict::Invalid(_)));
        for k in FailureKind::ALL {
            assert_eq!(FailureKind::parse(k.name()), Some(k));
        }
    }
}
