//! `--state-dir DIR`: the input log on disk, so that `kill -9` loses nothing that was
//! answered. Every input (see `State::record_inputs`) is appended before its answer goes
//! out and made durable with one `fdatasync` for every request waiting at that moment
//! (group commit); a restart replays the log into a fresh state, which becomes the old one.
//!
//! `DIR/meta.json` holds what the log means nothing without: the seed and the real time at
//! server time zero. `DIR/inputs.log` holds records, each a JSON line
//! `{"at", "method", "path", "query", "headers", "body_len"}`, the body's bytes, and `\n`.
//! A record cut short by a crash was never answered: it is dropped when the log is opened.

use std::cell::{Cell, RefCell};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};
use tokio::sync::Notify;
use wfsim_engine::SimTime;

use crate::message::ApiRequest;

/// What a state directory was started with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    pub seed: u64,
    /// Real time at server time zero, Unix nanoseconds.
    pub wall_start_unix_nanos: i128,
}

/// An open state directory.
#[derive(Debug)]
pub struct StateDir {
    dir: PathBuf,
    log: RefCell<File>,
    /// Records appended, and made durable.
    appended: Cell<u64>,
    synced: Cell<u64>,
    syncing: Cell<bool>,
    synced_now: Notify,
}

/// What opening a state directory found.
#[derive(Debug)]
pub struct Opened {
    pub dir: StateDir,
    /// `None` for a new directory.
    pub meta: Option<Meta>,
    pub inputs: Vec<(SimTime, ApiRequest)>,
}

fn io_error(path: &Path, what: &str, e: impl std::fmt::Display) -> String {
    format!("{}: {what}: {e}", path.display())
}

impl StateDir {
    /// Opens (creating if need be) `dir`, reading its meta and its log.
    pub fn open(dir: &Path) -> Result<Opened, String> {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, "cannot create", e))?;
        let meta_path = dir.join("meta.json");
        let meta = match std::fs::read(&meta_path) {
            Ok(bytes) => {
                Some(read_meta(&bytes).map_err(|e| io_error(&meta_path, "not a wfsim state", e))?)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_error(&meta_path, "cannot read", e)),
        };
        let log_path = dir.join("inputs.log");
        let bytes = match std::fs::read(&log_path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_error(&log_path, "cannot read", e)),
        };
        let (inputs, complete) = read_records(&bytes);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| io_error(&log_path, "cannot open", e))?;
        // A record cut short by a crash was never answered: drop it, so appends follow the
        // last whole one.
        log.set_len(complete as u64)
            .map_err(|e| io_error(&log_path, "cannot truncate a cut record", e))?;
        Ok(Opened {
            dir: StateDir {
                dir: dir.to_owned(),
                log: RefCell::new(log),
                appended: Cell::new(0),
                synced: Cell::new(0),
                syncing: Cell::new(false),
                synced_now: Notify::new(),
            },
            meta,
            inputs,
        })
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes `meta.json` (a new directory), durably.
    pub fn write_meta(&self, meta: Meta) -> Result<(), String> {
        let path = self.dir.join("meta.json");
        let text = json!({
            "seed": meta.seed.to_string(),
            "wall_start_unix_nanos": meta.wall_start_unix_nanos.to_string(),
        })
        .to_string();
        let write = || -> io::Result<()> {
            let mut f = File::create(&path)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(|e| io_error(&path, "cannot write", e))
    }

    /// Appends one input; durable after the next [`StateDir::sync`].
    pub fn append(&self, at: SimTime, req: &ApiRequest) -> io::Result<()> {
        let header = json!({
            "at": at.as_nanos(),
            "method": req.method,
            "path": req.path,
            "query": req.query,
            "headers": req.headers,
            "body_len": req.body.len(),
        });
        let mut record = header.to_string().into_bytes();
        record.push(b'\n');
        record.extend_from_slice(&req.body);
        record.push(b'\n');
        self.log.borrow_mut().write_all(&record)?;
        self.appended.set(self.appended.get() + 1);
        Ok(())
    }

    /// Returns once every input appended so far is on disk. Requests that wait at the same
    /// time share one `fdatasync`: the first starts it, the others wait for it (or the next).
    pub async fn sync(&self) -> io::Result<()> {
        let target = self.appended.get();
        let mut yielded = false;
        while self.synced.get() < target {
            if self.syncing.get() {
                self.synced_now.notified().await;
                continue;
            }
            if !yielded {
                // One turn of the scheduler first: requests that have arrived meanwhile are
                // appended and ride on this sync instead of waiting for the next one.
                yielded = true;
                yield_now().await;
                continue;
            }
            self.syncing.set(true);
            let upto = self.appended.get();
            let file = self.log.borrow().try_clone();
            let result = match file {
                Ok(file) => sync_data(file).await,
                Err(e) => Err(e),
            };
            self.syncing.set(false);
            self.synced_now.notify_waiters();
            result?;
            self.synced.set(upto);
        }
        Ok(())
    }
}

#[cfg(not(madsim))]
use tokio::task::yield_now;

/// The simulated world's scheduler is its own; a sync there need not wait for a turn.
#[cfg(madsim)]
async fn yield_now() {}

/// `fdatasync` off the server's thread, which keeps answering meanwhile.
#[cfg(not(madsim))]
async fn sync_data(file: File) -> io::Result<()> {
    tokio::task::spawn_blocking(move || file.sync_data())
        .await
        .map_err(io::Error::other)?
}

/// The simulated world keeps its own log (`Options::on_input`); should a state directory be
/// used there, the sync blocks the (simulated) thread.
#[cfg(madsim)]
async fn sync_data(file: File) -> io::Result<()> {
    file.sync_data()
}

fn read_meta(bytes: &[u8]) -> Result<Meta, String> {
    let j: Json = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let field = |name: &str| {
        j[name]
            .as_str()
            .ok_or_else(|| format!("'{name}' is missing"))
    };
    Ok(Meta {
        seed: field("seed")?.parse().map_err(|e| format!("seed: {e}"))?,
        wall_start_unix_nanos: field("wall_start_unix_nanos")?
            .parse()
            .map_err(|e| format!("wall_start_unix_nanos: {e}"))?,
    })
}

/// The whole records of a log, and the length they take: a cut last record is left out.
fn read_records(bytes: &[u8]) -> (Vec<(SimTime, ApiRequest)>, usize) {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some((record, next)) = read_record(bytes, at) {
        out.push(record);
        at = next;
    }
    (out, at)
}

fn read_record(bytes: &[u8], from: usize) -> Option<((SimTime, ApiRequest), usize)> {
    let rest = bytes.get(from..)?;
    let line_end = rest.iter().position(|&b| b == b'\n')?;
    let h: Json = serde_json::from_slice(&rest[..line_end]).ok()?;
    let body_len = usize::try_from(h["body_len"].as_u64()?).ok()?;
    let body_start = line_end + 1;
    let body = rest.get(body_start..body_start + body_len)?.to_vec();
    if rest.get(body_start + body_len) != Some(&b'\n') {
        return None;
    }
    let text = |k: &str| h[k].as_str().map(str::to_owned);
    let headers = h["headers"]
        .as_array()?
        .iter()
        .map(|pair| Some((pair[0].as_str()?.to_owned(), pair[1].as_str()?.to_owned())))
        .collect::<Option<Vec<_>>>()?;
    let req = ApiRequest {
        method: text("method")?,
        path: text("path")?,
        query: text("query")?,
        headers,
        body,
    };
    Some((
        (SimTime::from_nanos(h["at"].as_u64()?), req),
        from + body_start + body_len + 1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: &[u8]) -> ApiRequest {
        ApiRequest {
            method: "POST".into(),
            path: "/v1/x".into(),
            query: "a=1".into(),
            headers: vec![("X-Request-Id".into(), "r\n1".into())],
            body: body.to_vec(),
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../target/tmp")
            .join(name);
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn records_come_back_and_a_cut_one_is_dropped() {
        let dir = scratch("durable-records");
        let opened = StateDir::open(&dir).unwrap();
        assert_eq!(opened.meta, None);
        assert!(opened.inputs.is_empty());
        let meta = Meta {
            seed: u64::MAX,
            wall_start_unix_nanos: -5,
        };
        opened.dir.write_meta(meta).unwrap();
        opened
            .dir
            .append(SimTime::from_secs(1), &req(b"one\n\0two"))
            .unwrap();
        opened.dir.append(SimTime::from_secs(2), &req(b"")).unwrap();
        drop(opened);
        // A crash in the middle of a third record.
        let log = dir.join("inputs.log");
        let mut bytes = std::fs::read(&log).unwrap();
        let whole = bytes.len();
        bytes.extend_from_slice(br#"{"at": 3, "method": "POST", "path": "/v1/x", "query": "", "headers": [], "body_len": 10}"#);
        bytes.extend_from_slice(b"\nabc");
        std::fs::write(&log, &bytes).unwrap();

        let opened = StateDir::open(&dir).unwrap();
        assert_eq!(opened.meta, Some(meta));
        assert_eq!(
            opened.inputs,
            vec![
                (SimTime::from_secs(1), req(b"one\n\0two")),
                (SimTime::from_secs(2), req(b""))
            ]
        );
        assert_eq!(std::fs::metadata(&log).unwrap().len(), whole as u64);
    }

    #[test]
    fn a_directory_that_is_not_a_state_says_so() {
        let dir = scratch("durable-bad-meta");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("meta.json"), "{}").unwrap();
        let e = StateDir::open(&dir).unwrap_err();
        assert!(
            e.contains("not a wfsim state") && e.contains("'seed' is missing"),
            "{e}"
        );
    }
}
