//! Checkpoints: the input log compacted to what the state still holds, so that a restart
//! replays what is kept, not everything that ever happened (`--state-dir`, `durable.rs`).
//!
//! Executions are hand-polled futures and cannot be written out; their inputs can. A
//! checkpoint is an input log of its own that a fresh state replays into exactly the state
//! a replay of the whole log gives:
//! - every input that is not an execution's (deploys, the clock, tokens, `--keep-ended`),
//!   kept whole and in order: they are few, and ids of other streams follow from them;
//! - every input of each execution still held (its start and all that reached it since),
//!   dropped once it is evicted;
//! - before each start, a `resume` record: the start counter (the execution's key and its
//!   seed's part) and the position of the execution ids' stream, which the skipped starts
//!   of evicted executions would otherwise shift;
//! - at the end, a `resume` record for the next start and an `evicted` record: the names of
//!   the last evicted executions (a GET of one says why it is 404) and their count.
//!
//! Executions do not read one another (until a child workflow starts: then nothing more is
//! dropped, see [`State::checkpoint`]), so the held ones do the same with the others'
//! inputs left out; and none of them is evicted on the way (one is evicted only when more
//! than N newer ones have ended, and those would be held too), so the `evicted` record is
//! the whole story. Requests that reach no held execution (a callback to an evicted one, a
//! path that matches no route) change nothing and are not kept. Timers fire at their own
//! instants whatever input comes next, so dropping an input does not move them.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use wfsim_engine::SimTime;

use super::State;
use super::replay::INTERNAL;
use crate::message::ApiRequest;

/// The inputs kept for the next checkpoint, each with its place in the log.
#[derive(Default)]
pub(crate) struct Kept {
    /// The next input's place.
    seq: u64,
    global: BTreeMap<u64, (SimTime, ApiRequest)>,
    /// By execution key; an execution's start carries where the start counter and the ids
    /// stream stood before it.
    by_exec: BTreeMap<usize, Vec<Entry>>,
    /// The time of the last input kept.
    last_at: SimTime,
    /// Set while a replay applies an internal record, which it has kept already.
    quiet: bool,
}

struct Entry {
    seq: u64,
    at: SimTime,
    req: ApiRequest,
    start: Option<(usize, u128)>,
}

/// Whose an input is.
enum Owner {
    Global,
    Exec(usize),
    /// A start (perhaps refused): the next key, the ids stream's position.
    Start(usize, u128),
    /// Changes nothing held.
    Nothing,
}

impl State {
    /// Keeps, from now on (a replay included), what [`State::checkpoint`] needs.
    pub fn keep_for_checkpoints(&mut self) {
        self.kept.get_or_insert_with(Kept::default);
    }

    /// Whether `req` is an input (kept in the input log), not a read.
    pub fn is_input(&self, req: &ApiRequest) -> bool {
        // A GET to a callback endpoint is a callback request, no read.
        req.method != "GET" || super::routes::is_callback_path(&req.path)
    }

    /// Files input `req` of time `at` under its owner, before it is handled.
    pub(super) fn track(&mut self, at: SimTime, req: &ApiRequest) {
        if self.kept.as_ref().is_none_or(|k| k.quiet) {
            return;
        }
        let owner = match req.path.strip_prefix(INTERNAL) {
            Some(what) => self.internal_owner(what, req),
            None => self.request_owner(req),
        };
        let Some(kept) = self.kept.as_mut() else {
            return;
        };
        let seq = kept.seq;
        let (key, start) = match owner {
            Owner::Nothing => return,
            Owner::Global => {
                kept.seq += 1;
                kept.last_at = at;
                kept.global.insert(seq, (at, req.clone()));
                return;
            }
            Owner::Exec(i) => (i, None),
            Owner::Start(i, ids) => (i, Some((i, ids))),
        };
        kept.seq += 1;
        kept.last_at = at;
        kept.by_exec.entry(key).or_default().push(Entry {
            seq,
            at,
            req: req.clone(),
            start,
        });
    }

    /// Runs `apply` with tracking off: a replay keeps an internal record itself.
    pub(super) fn quietly(&mut self, apply: impl FnOnce(&mut Self)) {
        if let Some(k) = self.kept.as_mut() {
            k.quiet = true;
        }
        apply(self);
        if let Some(k) = self.kept.as_mut() {
            k.quiet = false;
        }
    }

    fn request_owner(&self, req: &ApiRequest) -> Owner {
        let Ok((route, vars)) = self.parse_route(&req.path) else {
            return Owner::Nothing;
        };
        let var = |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        match (var("workflow"), var("execution")) {
            (Some(w), Some(e)) => self.host.find(w, e).map_or(Owner::Nothing, Owner::Exec),
            // A start (perhaps refused); the method needs no check: any but POST (a GET
            // is no input) is answered 405 and changes nothing, so it may go anywhere.
            (Some(_), None) if route.path.ends_with("/executions") => {
                let (i, ids) = self.host.start_position();
                Owner::Start(i, ids)
            }
            // An event starts an execution (or, taken before, nothing).
            (None, None) if route.path == super::events::EVENTS => {
                let (i, ids) = self.host.start_position();
                Owner::Start(i, ids)
            }
            _ => Owner::Global,
        }
    }

    fn internal_owner(&self, what: &str, req: &ApiRequest) -> Owner {
        match what {
            "start" => {
                let (i, ids) = self.host.start_position();
                Owner::Start(i, ids)
            }
            "answer" => {
                let q = params(req);
                let param = |k: &str| q.get(k).map_or("", String::as_str);
                self.host
                    .find(param("workflow"), param("execution"))
                    .map_or(Owner::Nothing, Owner::Exec)
            }
            // Written by each checkpoint afresh.
            "resume" | "evicted" | "events" => Owner::Nothing,
            _ => Owner::Global,
        }
    }

    /// The input log compacted to what is held (see the module's comment): replayed into a
    /// fresh state of the same seed, it gives this state. Forgets the evicted executions'
    /// inputs. `None` unless [`State::keep_for_checkpoints`] was called on the fresh state.
    pub fn checkpoint(&mut self) -> Option<Vec<(SimTime, ApiRequest)>> {
        self.kept.as_ref()?;
        self.forget_old_events();
        let events = self.evicted_events();
        let kept = self.kept.as_mut()?;
        let host = &self.host;
        // Children (HT-10) break "executions do not read one another": a child starts from
        // its parent's inputs, on the start counter as the inputs before left it. Once one
        // has started, nothing is dropped any more: every start after it replays, and the
        // ones before are pinned by their `resume` records (not done: compacting families).
        if !host.has_children() {
            kept.by_exec.retain(|&i, _| host.holds(i));
        }
        let mut all: BTreeMap<u64, Vec<(SimTime, ApiRequest)>> = kept
            .global
            .iter()
            .map(|(&seq, input)| (seq, vec![input.clone()]))
            .collect();
        for e in kept.by_exec.values().flatten() {
            let mut v = Vec::with_capacity(2);
            if let Some((i, ids)) = e.start {
                v.push((e.at, resume(i, ids)));
            }
            v.push((e.at, e.req.clone()));
            all.insert(e.seq, v);
        }
        let mut out: Vec<_> = all.into_values().flatten().collect();
        let (i, ids) = host.start_position();
        out.push((kept.last_at, resume(i, ids)));
        let (names, count) = host.evicted_names();
        let names: Vec<[String; 2]> = names.into_iter().map(|(w, e)| [w, e]).collect();
        out.push((
            kept.last_at,
            internal(
                "evicted",
                format!("count={count}"),
                serde_json::to_vec(&names).unwrap_or_default(),
            ),
        ));
        if !events.is_empty() {
            out.push((
                kept.last_at,
                internal(
                    "events",
                    String::new(),
                    serde_json::to_vec(&events).unwrap_or_default(),
                ),
            ));
        }
        Some(out)
    }

    /// Applies a `resume`, `evicted` or `events` record of a checkpoint; `false` for
    /// another.
    pub(super) fn apply_checkpoint_record(&mut self, what: &str, req: &ApiRequest) -> bool {
        let q = params(req);
        let num = |k: &str| q.get(k).and_then(|v| v.parse::<u128>().ok());
        match what {
            "resume" => {
                if let (Some(i), Some(ids)) = (num("started"), num("ids")) {
                    self.host
                        .set_start_position(usize::try_from(i).unwrap_or(usize::MAX), ids);
                }
            }
            "evicted" => {
                let names: Vec<(String, String)> = match serde_json::from_slice::<Json>(&req.body) {
                    Ok(Json::Array(a)) => a
                        .iter()
                        .filter_map(|p| {
                            Some((p[0].as_str()?.to_owned(), p[1].as_str()?.to_owned()))
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                let count = num("count").map_or(0, |c| u64::try_from(c).unwrap_or(u64::MAX));
                self.host.set_evicted_names(names, count);
            }
            "events" => {
                let events: Vec<[String; 4]> =
                    serde_json::from_slice(&req.body).unwrap_or_default();
                self.remember_events(events);
            }
            _ => return false,
        }
        true
    }
}

fn params(req: &ApiRequest) -> BTreeMap<String, String> {
    form_urlencoded::parse(req.query.as_bytes())
        .into_owned()
        .collect()
}

fn internal(what: &str, query: String, body: Vec<u8>) -> ApiRequest {
    ApiRequest {
        method: "POST".into(),
        path: format!("{INTERNAL}{what}"),
        query,
        headers: Vec::new(),
        body,
    }
}

fn resume(started: usize, ids: u128) -> ApiRequest {
    internal("resume", format!("started={started}&ids={ids}"), Vec::new())
}
