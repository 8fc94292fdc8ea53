//! `--state-dir DIR`: the input log on disk, so that `kill -9` loses nothing that was
//! answered. Every input (see `State::record_inputs`) is appended before its answer goes
//! out and made durable with one `fdatasync` for every request waiting at that moment
//! (group commit); a restart replays the checkpoint and the log after it into a fresh
//! state, which becomes the old one.
//!
//! The directory (format [`FORMAT`]):
//! - `meta.json`: the format, the seed and the real time at server time zero.
//! - `checkpoint` (once one was written): a JSON header line `{"format", "log",
//!   "records"}`, then records: the input log compacted to what the state holds
//!   (`api/checkpoint.rs`), so disk and restart time follow what `--keep-ended` keeps,
//!   not history.
//! - the log its header names (`inputs.log` before the first checkpoint, `inputs.N.log`
//!   after the Nth): records, each a JSON line `{"at", "method", "path", "query",
//!   "headers", "body_len"}`, the body's bytes, and `\n`. A record cut short by a crash was
//!   never answered: it is dropped when the log is opened.
//!
//! A checkpoint is written when the log holds `--checkpoint-after` records or half as many
//! as the checkpoint, whichever is more (so rewriting it costs O(1) a record), or 64 MiB.
//! Atomically: a new empty log, `checkpoint.tmp` written and fsynced, renamed over
//! `checkpoint`, the directory fsynced, then the old log removed. A crash before the
//! rename leaves the old checkpoint and its log; after it, the new one, whose log is the
//! new (empty) one. Logs and a `checkpoint.tmp` that no checkpoint names are removed on
//! open.
//!
//! Older formats are read as they are and upgraded by rewriting `meta.json`; a newer
//! format is refused. Format 1 is wfsim before checkpoints (no `format` in `meta.json`,
//! `inputs.log`). Format 2 served one project and location: its records of inputs that
//! are not requests (a deploy from a file, `--execute`) name no parent, and are read as
//! the default parent's (`--project`, `--location`: restart with the same ones); format 3
//! records name it, since workflows live in any parent.
//!
//! Storage can be made to fail ([`StateDir::inject`]): a full disk, a failing fsync. Tests
//! use it to see that a failure is never taken for success.

use std::cell::{Cell, RefCell};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};
use tokio::sync::Notify;
use wfsim_engine::SimTime;

use crate::message::ApiRequest;

/// The format this wfsim writes, and the newest it reads.
pub const FORMAT: u64 = 3;

/// `--checkpoint-after`'s default: log records before a checkpoint is considered. Small,
/// so that half the checkpoint decides as soon as a few hundred executions are held: the
/// directory then stays within 1.5× the checkpoint.
pub const CHECKPOINT_AFTER_DEFAULT: u64 = 1_000;

/// A log this large is checkpointed whatever its count of records.
const CHECKPOINT_LOG_BYTES: u64 = 64 << 20;

/// What a state directory was started with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    pub seed: u64,
    /// Real time at server time zero, Unix nanoseconds.
    pub wall_start_unix_nanos: i128,
}

/// A failure the storage can be made to suffer ([`StateDir::inject`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Every write fails as on a full disk.
    Write,
    /// Every fsync fails, as after an I/O error.
    Sync,
}

/// An open state directory.
#[derive(Debug)]
pub struct StateDir {
    dir: PathBuf,
    log: RefCell<File>,
    /// The log's file name, and the checkpoints written so far (its number).
    log_name: RefCell<String>,
    generation: Cell<u64>,
    /// Records appended, and made durable.
    appended: Cell<u64>,
    synced: Cell<u64>,
    syncing: Cell<bool>,
    synced_now: Notify,
    /// The log since the checkpoint, and the checkpoint, in records (the log in bytes too).
    log_records: Cell<u64>,
    log_bytes: Cell<u64>,
    checkpoint_records: Cell<u64>,
    checkpoint_after: Cell<u64>,
    fault: Cell<Option<Fault>>,
    /// `fdatasync`s started: group commit shares one among the requests waiting.
    syncs: Cell<u64>,
}

/// What opening a state directory found.
#[derive(Debug)]
pub struct Opened {
    pub dir: StateDir,
    /// `None` for a new directory.
    pub meta: Option<Meta>,
    /// The checkpoint's records, then the log's.
    pub inputs: Vec<(SimTime, ApiRequest)>,
    /// How many of `inputs` came from the checkpoint.
    pub from_checkpoint: usize,
    /// The format the directory had, when it was older and has been upgraded.
    pub upgraded_from: Option<u64>,
}

fn io_error(path: &Path, what: &str, e: impl std::fmt::Display) -> String {
    format!("{}: {what}: {e}", path.display())
}

/// `path`'s bytes; `None` if there is no such file. Any other failure (permissions, an
/// I/O error, a directory in its place) is an error: a state that cannot be read must
/// stop the start, never pass for an empty one.
fn read_if_any(path: &Path) -> Result<Option<Vec<u8>>, String> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(
            path,
            "cannot read (the state dir is kept as it is; fix or move it)",
            e,
        )),
    }
}

/// Writes `bytes` to `dir/name` atomically: a temporary file written and fsynced, renamed
/// over `name`, the directory fsynced.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(name))?;
    File::open(dir)?.sync_all()
}

impl StateDir {
    /// Opens (creating if need be) `dir`, reading its meta, its checkpoint and its log.
    pub fn open(dir: &Path) -> Result<Opened, String> {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, "cannot create", e))?;
        let meta_path = dir.join("meta.json");
        let (meta, format) = match read_if_any(&meta_path)? {
            Some(bytes) => {
                let (meta, format) =
                    read_meta(&bytes).map_err(|e| io_error(&meta_path, "not a wfsim state", e))?;
                (Some(meta), format)
            }
            None => (None, FORMAT),
        };
        if format > FORMAT {
            return Err(format!(
                "{}: state format {format}, written by a newer wfsim (this one reads formats 1 to {FORMAT}): serve it with that wfsim, or give another --state-dir",
                dir.display()
            ));
        }
        let cp_path = dir.join("checkpoint");
        let (log_name, generation, checkpointed) = match read_if_any(&cp_path)? {
            None => ("inputs.log".to_owned(), 0, Vec::new()),
            Some(bytes) => read_checkpoint(&bytes).map_err(|e| {
                io_error(
                    &cp_path,
                    "damaged (the state dir is kept as it is; fix or move it)",
                    e,
                )
            })?,
        };
        let log_path = dir.join(&log_name);
        let bytes = read_if_any(&log_path)?.unwrap_or_default();
        let (inputs, complete) = read_records(&bytes);
        remove_strays(dir, &log_name)?;
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| io_error(&log_path, "cannot open", e))?;
        // A record cut short by a crash was never answered: drop it, so appends follow the
        // last whole one.
        log.set_len(complete as u64)
            .map_err(|e| io_error(&log_path, "cannot truncate a cut record", e))?;
        let from_checkpoint = checkpointed.len();
        let opened = Opened {
            dir: StateDir {
                dir: dir.to_owned(),
                log: RefCell::new(log),
                log_name: RefCell::new(log_name),
                generation: Cell::new(generation),
                appended: Cell::new(0),
                synced: Cell::new(0),
                syncing: Cell::new(false),
                synced_now: Notify::new(),
                log_records: Cell::new(inputs.len() as u64),
                log_bytes: Cell::new(complete as u64),
                checkpoint_records: Cell::new(from_checkpoint as u64),
                checkpoint_after: Cell::new(CHECKPOINT_AFTER_DEFAULT),
                fault: Cell::new(None),
                syncs: Cell::new(0),
            },
            meta,
            inputs: [checkpointed, inputs].concat(),
            from_checkpoint,
            upgraded_from: (meta.is_some() && format < FORMAT).then_some(format),
        };
        if let (Some(m), Some(_)) = (meta, opened.upgraded_from) {
            opened.dir.write_meta(m)?;
        }
        Ok(opened)
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// `--checkpoint-after N`: log records before a checkpoint is considered (at least 1).
    pub fn set_checkpoint_after(&self, n: u64) {
        self.checkpoint_after.set(n.max(1));
    }

    /// From now on every write (or every fsync) fails, as `fault` says; `None` heals.
    pub fn inject(&self, fault: Option<Fault>) {
        self.fault.set(fault);
    }

    /// `fdatasync`s of the log started so far.
    pub fn syncs(&self) -> u64 {
        self.syncs.get()
    }

    fn check(&self, fault: Fault) -> io::Result<()> {
        match self.fault.get() {
            Some(f) if f == fault => Err(injected(f)),
            _ => Ok(()),
        }
    }

    /// Writes `meta.json` (a new directory, or an upgraded one), atomically.
    pub fn write_meta(&self, meta: Meta) -> Result<(), String> {
        let text = json!({
            "format": FORMAT,
            "seed": meta.seed.to_string(),
            "wall_start_unix_nanos": meta.wall_start_unix_nanos.to_string(),
        })
        .to_string();
        self.check(Fault::Write)
            .and_then(|()| write_atomically(&self.dir, "meta.json", text.as_bytes()))
            .map_err(|e| io_error(&self.dir.join("meta.json"), "cannot write", e))
    }

    /// Appends one input; durable after the next [`StateDir::sync`].
    pub fn append(&self, at: SimTime, req: &ApiRequest) -> io::Result<()> {
        self.check(Fault::Write)?;
        let record = record(at, req);
        self.log.borrow_mut().write_all(&record)?;
        self.appended.set(self.appended.get() + 1);
        self.log_records.set(self.log_records.get() + 1);
        self.log_bytes
            .set(self.log_bytes.get() + record.len() as u64);
        Ok(())
    }

    /// Whether the log has grown enough for a checkpoint (see the module's comment).
    pub fn wants_checkpoint(&self) -> bool {
        let records = self.log_records.get();
        records
            >= self
                .checkpoint_after
                .get()
                .max(self.checkpoint_records.get() / 2)
            || self.log_bytes.get() >= CHECKPOINT_LOG_BYTES
    }

    /// Writes `inputs` (`State::checkpoint`: everything appended so far, compacted) as the
    /// checkpoint, atomically, and starts a new, empty log: what was appended is durable
    /// once this returns. On an error the old checkpoint and log stand.
    pub fn checkpoint(&self, inputs: &[(SimTime, ApiRequest)]) -> io::Result<()> {
        self.check(Fault::Write)?;
        let generation = self.generation.get() + 1;
        let log_name = format!("inputs.{generation}.log");
        let log_path = self.dir.join(&log_name);
        let log = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&log_path)?;
        let mut text = json!({"format": FORMAT, "log": log_name, "records": inputs.len()})
            .to_string()
            .into_bytes();
        text.push(b'\n');
        for (at, req) in inputs {
            text.extend_from_slice(&record(*at, req));
        }
        self.check(Fault::Sync)?;
        write_atomically(&self.dir, "checkpoint", &text)?;
        let old = self.log_name.replace(log_name);
        *self.log.borrow_mut() = log;
        self.generation.set(generation);
        self.log_records.set(0);
        self.log_bytes.set(0);
        self.checkpoint_records.set(inputs.len() as u64);
        self.synced.set(self.appended.get());
        self.synced_now.notify_waiters();
        // Named by no checkpoint now; a crash before this line leaves it for the next open.
        match std::fs::remove_file(self.dir.join(old)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
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
            self.syncs.set(self.syncs.get() + 1);
            let upto = self.appended.get();
            let file = self.log.borrow().try_clone();
            let result = match file {
                Ok(file) => sync_data(file, self.fault.get()).await,
                Err(e) => Err(e),
            };
            self.syncing.set(false);
            self.synced_now.notify_waiters();
            result?;
            // A checkpoint meanwhile may have made more durable.
            self.synced.set(self.synced.get().max(upto));
        }
        Ok(())
    }
}

fn injected(f: Fault) -> io::Error {
    match f {
        Fault::Write => io::Error::new(
            io::ErrorKind::StorageFull,
            "no space left on device (injected)",
        ),
        Fault::Sync => io::Error::other("fsync failed (injected)"),
    }
}

/// One record: the header line, the body, `\n`.
fn record(at: SimTime, req: &ApiRequest) -> Vec<u8> {
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
    record
}

/// Removes the logs no checkpoint names and a `checkpoint.tmp`: what a crash in the middle
/// of a checkpoint leaves.
fn remove_strays(dir: &Path, log_name: &str) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, "cannot list", e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, "cannot list", e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let stray_log = name.starts_with("inputs.") && name.ends_with(".log") && name != log_name;
        if stray_log || name == "checkpoint.tmp" || name == "meta.json.tmp" {
            std::fs::remove_file(entry.path())
                .map_err(|e| io_error(&entry.path(), "cannot remove a stray file", e))?;
        }
    }
    Ok(())
}

/// A checkpoint's log name, number and records.
#[allow(clippy::type_complexity)]
fn read_checkpoint(bytes: &[u8]) -> Result<(String, u64, Vec<(SimTime, ApiRequest)>), String> {
    let line_end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or("no header line")?;
    let h: Json = serde_json::from_slice(&bytes[..line_end]).map_err(|e| e.to_string())?;
    let format = h["format"].as_u64().ok_or("'format' is missing")?;
    if format > FORMAT {
        return Err(format!(
            "format {format}, written by a newer wfsim (this one reads up to {FORMAT})"
        ));
    }
    let log = h["log"].as_str().ok_or("'log' is missing")?;
    let generation = log
        .strip_prefix("inputs.")
        .and_then(|r| r.strip_suffix(".log"))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("'log' is '{log}', not inputs.N.log"))?;
    let expected = h["records"].as_u64().ok_or("'records' is missing")?;
    let (inputs, complete) = read_records(&bytes[line_end + 1..]);
    if inputs.len() as u64 != expected || line_end + 1 + complete != bytes.len() {
        return Err(format!(
            "{} whole records of {expected}, then {} bytes that are none",
            inputs.len(),
            bytes.len() - line_end - 1 - complete
        ));
    }
    Ok((log.to_owned(), generation, inputs))
}

#[cfg(not(madsim))]
use tokio::task::yield_now;

/// The simulated world's scheduler is its own; a sync there need not wait for a turn.
#[cfg(madsim)]
async fn yield_now() {}

/// `fdatasync`, off the server's thread, which keeps answering meanwhile; unless storage
/// was made to fail. One function for both builds, so that a test of the normal build
/// judges all of it.
async fn sync_data(file: File, fault: Option<Fault>) -> io::Result<()> {
    if let Some(Fault::Sync) = fault {
        return Err(injected(Fault::Sync));
    }
    // The simulated world keeps its own log (`Options::on_input`); should a state
    // directory be used there, the sync blocks the (simulated) thread.
    #[cfg(madsim)]
    return file.sync_data();
    #[cfg(not(madsim))]
    tokio::task::spawn_blocking(move || file.sync_data())
        .await
        .map_err(io::Error::other)?
}

/// The meta and its format (1 when it names none: wfsim before checkpoints).
fn read_meta(bytes: &[u8]) -> Result<(Meta, u64), String> {
    let j: Json = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let format = match &j["format"] {
        Json::Null => 1,
        f => f.as_u64().ok_or("'format' is not a number")?,
    };
    let field = |name: &str| {
        j[name]
            .as_str()
            .ok_or_else(|| format!("'{name}' is missing"))
    };
    let meta = Meta {
        seed: field("seed")?.parse().map_err(|e| format!("seed: {e}"))?,
        wall_start_unix_nanos: field("wall_start_unix_nanos")?
            .parse()
            .map_err(|e| format!("wall_start_unix_nanos: {e}"))?,
    };
    Ok((meta, format))
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
        assert_eq!(opened.upgraded_from, None, "a new directory is no old one");
        assert_eq!(opened.dir.path(), dir);
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

    fn meta() -> Meta {
        Meta {
            seed: 3,
            wall_start_unix_nanos: 9,
        }
    }

    /// A directory with `meta.json`, and `n` records appended to its log.
    fn started(name: &str, n: u64) -> (PathBuf, Opened) {
        let dir = scratch(name);
        let opened = StateDir::open(&dir).unwrap();
        opened.dir.write_meta(meta()).unwrap();
        for k in 0..n {
            opened
                .dir
                .append(SimTime::from_secs(k), &req(k.to_string().as_bytes()))
                .unwrap();
        }
        (dir, opened)
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_checkpoint_replaces_the_log_and_comes_back_before_the_records_after_it() {
        let (dir, opened) = started("durable-checkpoint", 3);
        let cp = vec![(SimTime::from_secs(2), req(b"compacted"))];
        opened.dir.checkpoint(&cp).unwrap();
        assert_eq!(files(&dir), ["checkpoint", "inputs.1.log", "meta.json"]);
        opened
            .dir
            .append(SimTime::from_secs(3), &req(b"after"))
            .unwrap();
        opened.dir.checkpoint(&cp).unwrap();
        opened
            .dir
            .append(SimTime::from_secs(4), &req(b"last"))
            .unwrap();
        drop(opened);
        assert_eq!(files(&dir), ["checkpoint", "inputs.2.log", "meta.json"]);
        let again = StateDir::open(&dir).unwrap();
        assert_eq!(again.meta, Some(meta()));
        assert_eq!(again.upgraded_from, None);
        assert_eq!(again.from_checkpoint, 1);
        assert_eq!(
            again.inputs,
            vec![
                (SimTime::from_secs(2), req(b"compacted")),
                (SimTime::from_secs(4), req(b"last"))
            ]
        );
    }

    /// A crash between a checkpoint's steps: before the rename, the old checkpoint and its
    /// log stand (the new log and the temporary file are strays); after it, the new ones.
    #[test]
    fn what_a_crash_in_a_checkpoint_leaves_is_cleared_on_open() {
        let (dir, opened) = started("durable-strays", 2);
        drop(opened);
        std::fs::write(dir.join("inputs.1.log"), b"").unwrap();
        std::fs::write(dir.join("checkpoint.tmp"), b"{\"format\": 2, \"log").unwrap();
        std::fs::write(dir.join("meta.json.tmp"), b"{").unwrap();
        let again = StateDir::open(&dir).unwrap();
        assert_eq!(again.inputs.len(), 2, "the old log stands");
        assert_eq!(files(&dir), ["inputs.log", "meta.json"]);
        // After the rename, before the old log's removal.
        again.dir.checkpoint(&[(SimTime::ZERO, req(b"c"))]).unwrap();
        std::fs::write(dir.join("inputs.log"), b"stale").unwrap();
        drop(again);
        let third = StateDir::open(&dir).unwrap();
        assert_eq!(third.inputs, vec![(SimTime::ZERO, req(b"c"))]);
        assert_eq!(files(&dir), ["checkpoint", "inputs.1.log", "meta.json"]);
    }

    #[test]
    fn a_checkpoint_cut_short_or_naming_no_log_is_refused_not_taken_for_less() {
        let (dir, opened) = started("durable-cut-checkpoint", 0);
        opened
            .dir
            .checkpoint(&[(SimTime::ZERO, req(b"a")), (SimTime::ZERO, req(b"b"))])
            .unwrap();
        drop(opened);
        let path = dir.join("checkpoint");
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let e = StateDir::open(&dir).unwrap_err();
        let rest = record(SimTime::ZERO, &req(b"b")).len() - 3;
        assert!(
            e.contains(&format!(
                "damaged (the state dir is kept as it is; fix or move it): 1 whole records of 2, then {rest} bytes that are none"
            )),
            "{e}"
        );
        // Whole records, but fewer than the header says.
        let header_end = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
        let one = record(SimTime::ZERO, &req(b"a")).len();
        std::fs::write(&path, &bytes[..header_end + one]).unwrap();
        let e = StateDir::open(&dir).unwrap_err();
        assert!(e.contains("1 whole records of 2, then 0 bytes"), "{e}");
        let newer =
            String::from_utf8(bytes.clone())
                .unwrap()
                .replacen("\"format\":3", "\"format\":4", 1);
        assert_ne!(newer.as_bytes(), &bytes[..]);
        std::fs::write(&path, newer).unwrap();
        let e = StateDir::open(&dir).unwrap_err();
        assert!(e.contains("format 4, written by a newer wfsim"), "{e}");
        std::fs::write(&path, b"{\"format\": 3, \"log\": \"x\", \"records\": 0}\n").unwrap();
        let e = StateDir::open(&dir).unwrap_err();
        assert!(e.contains("not inputs.N.log"), "{e}");
    }

    /// wfsim before checkpoints wrote format 1: `meta.json` without a format, the whole
    /// log in `inputs.log`. It is read as it is, and its meta rewritten.
    #[test]
    fn a_format_1_directory_is_upgraded() {
        let dir = scratch("durable-format-1");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("meta.json"),
            r#"{"seed": "3", "wall_start_unix_nanos": "9"}"#,
        )
        .unwrap();
        std::fs::write(
            dir.join("inputs.log"),
            record(SimTime::from_secs(1), &req(b"old")),
        )
        .unwrap();
        let opened = StateDir::open(&dir).unwrap();
        assert_eq!(opened.upgraded_from, Some(1));
        assert_eq!(opened.meta, Some(meta()));
        assert_eq!(opened.inputs, vec![(SimTime::from_secs(1), req(b"old"))]);
        drop(opened);
        let again = StateDir::open(&dir).unwrap();
        assert_eq!(again.upgraded_from, None, "upgraded once");
        assert_eq!(again.inputs.len(), 1);
    }

    /// Format 2 served one parent: its directory, checkpoint and log are read as they
    /// are (`tests/durable.rs` replays one), and its meta rewritten.
    #[test]
    fn a_format_2_directory_is_upgraded() {
        let dir = scratch("durable-format-2");
        std::fs::create_dir_all(&dir).unwrap();
        let old = r#"{"format": 2, "seed": "3", "wall_start_unix_nanos": "9"}"#;
        std::fs::write(dir.join("meta.json"), old).unwrap();
        std::fs::write(
            dir.join("checkpoint"),
            [
                b"{\"format\": 2, \"log\": \"inputs.1.log\", \"records\": 1}\n".to_vec(),
                record(SimTime::ZERO, &req(b"kept")),
            ]
            .concat(),
        )
        .unwrap();
        std::fs::write(
            dir.join("inputs.1.log"),
            record(SimTime::from_secs(1), &req(b"old")),
        )
        .unwrap();
        let opened = StateDir::open(&dir).unwrap();
        assert_eq!(opened.upgraded_from, Some(2));
        assert_eq!(opened.meta, Some(meta()));
        assert_eq!(
            opened.inputs,
            vec![
                (SimTime::ZERO, req(b"kept")),
                (SimTime::from_secs(1), req(b"old"))
            ]
        );
        drop(opened);
        let again = StateDir::open(&dir).unwrap();
        assert_eq!(again.upgraded_from, None, "upgraded once");
        let meta_now = std::fs::read_to_string(dir.join("meta.json")).unwrap();
        assert!(meta_now.contains("\"format\":3"), "{meta_now}");
    }

    #[test]
    fn a_directory_of_a_newer_format_is_refused_with_what_to_do() {
        let dir = scratch("durable-format-4");
        std::fs::create_dir_all(&dir).unwrap();
        let newer = r#"{"format": 4, "seed": "3", "wall_start_unix_nanos": "9"}"#;
        std::fs::write(dir.join("meta.json"), newer).unwrap();
        let e = StateDir::open(&dir).unwrap_err();
        assert!(
            e.contains("state format 4") && e.contains("another --state-dir"),
            "{e}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("meta.json")).unwrap(),
            newer,
            "left as it was"
        );
    }

    /// A state file that exists but cannot be read (here a directory in its place, which
    /// even root cannot read as a file) stops the start: never taken for no state.
    #[test]
    fn an_unreadable_state_file_stops_the_start() {
        for file in ["meta.json", "checkpoint", "inputs.log"] {
            let (dir, opened) = started(&format!("durable-unreadable-{file}"), 1);
            drop(opened);
            let path = dir.join(file);
            let _ = std::fs::remove_file(&path);
            std::fs::create_dir(&path).unwrap();
            let e = StateDir::open(&dir).unwrap_err();
            assert!(e.contains(file) && e.contains("cannot read"), "{file}: {e}");
        }
    }

    #[test]
    fn an_injected_write_fault_fails_appends_checkpoints_and_meta() {
        let (dir, opened) = started("durable-write-fault", 1);
        opened.dir.inject(Some(Fault::Write));
        let e = opened.dir.append(SimTime::ZERO, &req(b"x")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        assert!(opened.dir.checkpoint(&[]).is_err());
        assert!(
            opened
                .dir
                .write_meta(meta())
                .unwrap_err()
                .contains("no space left")
        );
        opened.dir.inject(None);
        opened.dir.append(SimTime::ZERO, &req(b"y")).unwrap();
        drop(opened);
        let again = StateDir::open(&dir).unwrap();
        assert_eq!(again.inputs.len(), 2, "the refused append wrote nothing");
    }

    #[test]
    fn an_injected_fsync_fault_fails_the_sync() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (_dir, opened) = started("durable-sync-fault", 1);
        runtime.block_on(opened.dir.sync()).unwrap();
        opened.dir.append(SimTime::ZERO, &req(b"x")).unwrap();
        opened.dir.inject(Some(Fault::Sync));
        let e = runtime.block_on(opened.dir.sync()).unwrap_err();
        assert!(e.to_string().contains("fsync failed"), "{e}");
        assert!(opened.dir.checkpoint(&[]).is_err());
        opened.dir.inject(None);
        runtime.block_on(opened.dir.sync()).unwrap();
    }

    /// Group commit: requests that wait at once share one `fdatasync`, the second one's
    /// append riding on the first one's sync.
    #[test]
    fn inputs_appended_while_a_sync_waits_share_it() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (_dir, opened) = started("durable-group-commit", 0);
        let d = &opened.dir;
        assert_eq!(d.syncs(), 0, "none yet");
        d.append(SimTime::ZERO, &req(b"a")).unwrap();
        let second = async {
            d.append(SimTime::ZERO, &req(b"b")).unwrap();
            d.sync().await
        };
        let (one, two) = runtime.block_on(async { tokio::join!(d.sync(), second) });
        one.unwrap();
        two.unwrap();
        assert_eq!(d.syncs(), 1, "one fdatasync for both");
        runtime.block_on(d.sync()).unwrap();
        assert_eq!(d.syncs(), 1, "nothing new: no sync");
        d.append(SimTime::ZERO, &req(b"c")).unwrap();
        runtime.block_on(d.sync()).unwrap();
        assert_eq!(d.syncs(), 2, "a later append: a sync of its own");
    }

    #[test]
    fn a_checkpoint_is_wanted_after_n_records_or_half_the_checkpoint() {
        let (_dir, opened) = started("durable-threshold", 0);
        let d = &opened.dir;
        d.set_checkpoint_after(3);
        for k in 0..3 {
            assert!(!d.wants_checkpoint(), "{k}");
            d.append(SimTime::ZERO, &req(b"")).unwrap();
        }
        assert!(d.wants_checkpoint());
        let big = vec![(SimTime::ZERO, req(b"")); 10];
        d.checkpoint(&big).unwrap();
        for k in 0..5 {
            assert!(!d.wants_checkpoint(), "{k}");
            d.append(SimTime::ZERO, &req(b"")).unwrap();
        }
        assert!(d.wants_checkpoint(), "half of 10");
        // The log's size in bytes is counted, and decides at 64 MiB.
        let log = d.dir.join(d.log_name.borrow().as_str());
        assert_eq!(d.log_bytes.get(), std::fs::metadata(&log).unwrap().len());
        d.checkpoint(&big).unwrap();
        d.log_bytes.set(CHECKPOINT_LOG_BYTES - 1);
        assert!(!d.wants_checkpoint());
        d.log_bytes.set(CHECKPOINT_LOG_BYTES);
        assert!(d.wants_checkpoint());
        // An old log already gone (removed by hand) is no error.
        let current = d.dir.join(d.log_name.borrow().as_str());
        std::fs::remove_file(current).unwrap();
        d.checkpoint(&big).unwrap();
        // One that cannot be removed (a directory in its place) is: the storage misbehaves.
        let current = d.dir.join(d.log_name.borrow().as_str());
        std::fs::remove_file(&current).unwrap();
        std::fs::create_dir_all(current.join("x")).unwrap();
        let e = d.checkpoint(&big).unwrap_err();
        assert_ne!(e.kind(), io::ErrorKind::NotFound, "{e}");
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
