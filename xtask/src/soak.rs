//! `cargo xtask soak [--executions N] [--keep-ended K]`: N executions through a release
//! `wfsim serve --state-dir` with `--keep-ended K`, driven by four clients on keep-alive
//! connections (create, find the callback, call it back with 200). Prints the resident
//! memory and the state dir's size at each 10% of the run, p50 and p99 callback latency,
//! and the time a restart after `kill -9` takes to answer again. Not in CI: minutes long.

// Latency and restart time are real time: what this command measures.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

const WORKFLOW: &str = "- create:\n    call: events.create_callback_endpoint\n    result: cb\n- wait:\n    call: events.await_callback\n    args:\n      callback: ${cb}\n      timeout: 86400\n    result: req\n- done:\n    return: ${req.http_request.body}\n";

const EXECUTIONS: &str = "/v1/projects/wfsim/locations/us-central1/workflows/soak/executions";

const CLIENTS: u64 = 4;

/// A keep-alive HTTP/1.1 connection.
struct Conn {
    stream: BufReader<TcpStream>,
    authority: String,
}

impl Conn {
    fn open(base: &str) -> Result<Conn, String> {
        let authority = base.trim_start_matches("http://").to_owned();
        let stream = TcpStream::connect(&authority).map_err(|e| format!("connect: {e}"))?;
        let _ = stream.set_nodelay(true);
        Ok(Conn {
            stream: BufReader::new(stream),
            authority,
        })
    }

    fn call(&mut self, method: &str, path: &str, body: &str) -> Result<(u16, String), String> {
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.authority,
            body.len()
        );
        let io = |e: std::io::Error| format!("{method} {path}: {e}");
        self.stream
            .get_mut()
            .write_all(req.as_bytes())
            .map_err(io)?;
        let mut status = 0;
        let mut length = 0;
        let mut line = String::new();
        loop {
            line.clear();
            if self.stream.read_line(&mut line).map_err(io)? == 0 {
                return Err(format!("{method} {path}: connection closed"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some(s) = l.strip_prefix("HTTP/1.1 ") {
                status = s.get(..3).and_then(|s| s.parse().ok()).unwrap_or(0);
            } else if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).map_err(io)?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

/// One execution's round: create, find its callback, call it back (timed).
fn round(c: &mut Conn, n: u64) -> Result<Duration, String> {
    let (status, created) = c.call("POST", EXECUTIONS, "{}")?;
    if status != 200 {
        return Err(format!("create: {status} {created}"));
    }
    let j: Json = serde_json::from_str(&created).map_err(|e| e.to_string())?;
    let path = format!("/v1/{}", j["name"].as_str().unwrap_or_default());
    let (_, list) = c.call("GET", &format!("{path}/callbacks"), "")?;
    let j: Json = serde_json::from_str(&list).map_err(|e| e.to_string())?;
    let callback = format!(
        "/v1/{}",
        j["callbacks"][0]["name"].as_str().unwrap_or_default()
    );
    let started = Instant::now();
    let (status, body) = c.call("POST", &callback, &format!("{{\"n\": {n}}}"))?;
    let took = started.elapsed();
    if status != 200 {
        return Err(format!("callback: {status} {body}"));
    }
    Ok(took)
}

fn start(bin: &Path, args: &[String]) -> Result<(Child, String), String> {
    let mut child = Command::new(bin)
        .args(["serve", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let mut out = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
    let first = out
        .next()
        .ok_or("wfsim serve printed nothing")?
        .map_err(|e| e.to_string())?;
    let base = first
        .strip_prefix("wfsim serving on ")
        .ok_or_else(|| format!("unexpected first line: {first}"))?
        .to_owned();
    std::thread::spawn(move || for _ in out.map_while(Result::ok) {});
    Ok((child, base))
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|it| {
            it.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

pub fn run(executions: u64, keep_ended: u64) -> Result<(), String> {
    crate::cargo(
        &["build", "--release", "--locked", "--package", "wfsim-cli"],
        &[],
    )?;
    let root = crate::project_root();
    let bin = root.join("target/release/wfsim");
    let work = root.join("target/soak");
    let dir = work.join("state");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let workflow = work.join("soak.yaml");
    std::fs::write(&workflow, WORKFLOW).map_err(|e| e.to_string())?;
    let args: Vec<String> = [
        workflow.to_string_lossy().as_ref(),
        "--state-dir",
        dir.to_string_lossy().as_ref(),
        "--token",
        "t",
        "--seed",
        "1",
        "--keep-ended",
        &keep_ended.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (mut child, base) = start(&bin, &args)?;
    let pid = child.id();
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(executions as usize)));
    let began = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (base, next, done, latencies) = (
                base.clone(),
                Arc::clone(&next),
                Arc::clone(&done),
                Arc::clone(&latencies),
            );
            std::thread::spawn(move || -> Result<(), String> {
                let mut c = Conn::open(&base)?;
                let mut mine = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= executions {
                        break;
                    }
                    mine.push(round(&mut c, n)?);
                    done.fetch_add(1, Ordering::Relaxed);
                }
                latencies.lock().map_err(|e| e.to_string())?.extend(mine);
                Ok(())
            })
        })
        .collect();
    println!("soak: {executions} executions, --keep-ended {keep_ended}, {CLIENTS} clients");
    println!("| done | executions | resident memory | state dir |");
    println!("|---|---|---|---|");
    let mut tenth = 1;
    while tenth <= 10 {
        let d = done.load(Ordering::Relaxed);
        if d >= executions * tenth / 10 {
            println!(
                "| {}% | {d} | {} | {} |",
                tenth * 10,
                mib(rss_kib(pid) * 1024),
                mib(dir_bytes(&dir))
            );
            tenth += 1;
        } else if clients.iter().all(|c| c.is_finished()) {
            break;
        } else {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    for c in clients {
        c.join().map_err(|_| "a client panicked")??;
    }
    let run_time = began.elapsed();
    let mut l = latencies.lock().map_err(|e| e.to_string())?.clone();
    l.sort();
    let pct = |p: usize| {
        l.get((l.len() * p / 100).min(l.len().saturating_sub(1)))
            .copied()
    };
    println!(
        "run: {:.1} s; callback latency p50 {:?}, p99 {:?}",
        run_time.as_secs_f64(),
        pct(50).unwrap_or_default(),
        pct(99).unwrap_or_default()
    );
    let _ = child.kill();
    let _ = child.wait();
    let size = dir_bytes(&dir);
    let restarting = Instant::now();
    let (mut again, base) = start(&bin, &args)?;
    let (status, _) = Conn::open(&base)?.call("GET", EXECUTIONS, "")?;
    let restart = restarting.elapsed();
    let _ = again.kill();
    let _ = again.wait();
    if status != 200 {
        return Err(format!("the restarted server answered {status}"));
    }
    println!(
        "state dir after kill -9: {}; restart until the first answer: {:.3} s",
        mib(size),
        restart.as_secs_f64()
    );
    Ok(())
}
