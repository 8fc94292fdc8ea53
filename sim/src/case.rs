//! Generated system-level cases: a small workflow and a client schedule drawn from a seed,
//! run on the simulated world, and checked against the contract's invariants from the
//! server's journal (the order in which requests reached it) and the workflow's result.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use madsim::runtime::{Handle, Runtime};
use serde_json::Value as Json;
use wfsim_engine::IdGen;
use wfsim_server::{Delivery, Hooks, Observed, serve_observed};

use crate::client::{self, Backoff};
use crate::world::{SERVER, SERVER_IP, WALL_START_UNIX_NANOS, server_state};

/// API calls outlast any clog a case draws.
const PATIENT: Backoff = Backoff {
    attempts: 40,
    ..Backoff::DEFAULT
};

/// What a seed draws. Printed with every failure.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub seed: u64,
    /// Awaits on the one endpoint, one after another (or, with `branches`, one per branch).
    pub awaits: u32,
    /// Parallel branches awaiting the same endpoint (0: none, the awaits run in sequence).
    pub branches: u32,
    pub timeout_s: u32,
    /// Seconds the workflow is busy (sleeping) after each await: requests then meet a full
    /// slot.
    pub pause_s: u32,
    /// Logical callbacks: when each is first sent (ms after the endpoint is known).
    pub sends_ms: Vec<u64>,
    pub latency_ms: (u64, u64),
    /// The server's links are clogged in this window (ms after start): answers are delayed
    /// past the client's patience, so it sends again.
    pub clog_ms: Option<(u64, u64)>,
    /// The client cancels the execution this long after the callbacks start (EX-3).
    pub cancel_ms: Option<u64>,
}

impl Case {
    pub fn from_seed(seed: u64) -> Case {
        let mut rng = IdGen::with_stream(seed, 0x5E);
        let mut pick = |n: u64| rng.next_u64() % n;
        let branches = if pick(3) == 0 { 2 + pick(3) as u32 } else { 0 };
        let awaits = if branches > 0 {
            branches
        } else {
            1 + pick(4) as u32
        };
        let n_sends = 1 + pick(6);
        let mut sends_ms: Vec<u64> = (0..n_sends)
            .map(|_| if pick(3) == 0 { 0 } else { pick(30_000) })
            .collect();
        sends_ms.sort_unstable();
        let latency_max = 2 + pick(300);
        // Clog the server just after a send has reached it, so its answer is held back past
        // the client's patience: the client sends again.
        let clog_ms = (pick(2) == 0).then(|| {
            let send = sends_ms[pick(sends_ms.len() as u64) as usize];
            let start = send + 1 + pick(latency_max);
            (start, start + 6_000 + pick(6_000))
        });
        let cancel_ms = (pick(6) == 0).then(|| pick(40_000));
        Case {
            seed,
            cancel_ms,
            awaits,
            branches,
            timeout_s: 5 + pick(20) as u32,
            pause_s: pick(4) as u32,
            sends_ms,
            latency_ms: (1, latency_max),
            clog_ms,
        }
    }

    /// The workflow: one endpoint, awaits that record the `X-Request-Id` they got (or
    /// `timeout`), returned as a list.
    pub fn workflow(&self) -> String {
        let await_steps = |indent: &str| {
            format!(
                "{i}- wait:\n{i}    try:\n{i}      call: events.await_callback\n{i}      args:\n{i}        callback: ${{cb}}\n{i}        timeout: {t}\n{i}      result: req\n{i}    except:\n{i}      as: e\n{i}      steps:\n{i}        - timed_out:\n{i}            assign:\n{i}              - got: ${{list.concat(got, [\"timeout\"])}}\n{i}            next: continue\n{i}- keep:\n{i}    assign:\n{i}      - got: ${{list.concat(got, [req.http_request.headers[\"X-Request-Id\"]])}}\n{i}- busy:\n{i}    call: sys.sleep\n{i}    args:\n{i}      seconds: {p}\n",
                i = indent,
                t = self.timeout_s,
                p = self.pause_s
            )
        };
        let head = "- create:\n    call: events.create_callback_endpoint\n    result: cb\n- init:\n    assign:\n      - got: []\n";
        if self.branches > 0 {
            format!(
                "{head}- fan:\n    parallel:\n      shared: [got]\n      for:\n        value: b\n        range: [1, {}]\n        steps:\n          - once:\n              for:\n                value: i\n                range: [1, 1]\n                steps:\n{}- done:\n    return: ${{got}}\n",
                self.branches,
                await_steps("                  ")
            )
        } else {
            format!(
                "{head}- loop:\n    for:\n      value: i\n      range: [1, {}]\n      steps:\n{}- done:\n    return: ${{got}}\n",
                self.awaits,
                await_steps("        ")
            )
        }
    }
}

/// What a run produced: the journal, what the workflow returned, and the clients' view.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub journal: Vec<Delivery>,
    pub state: String,
    pub result: Vec<String>,
    /// Per logical callback: the statuses of its attempts (0 = no answer).
    pub attempts: Vec<Vec<u16>>,
    pub ended_at_ms: Option<u64>,
    /// The cancel found an await waiting (from the callbacks list just before it).
    pub cancelled_while_waiting: bool,
}

/// A contract rule broken by a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub rule: &'static str,
    pub detail: String,
}

/// Things the sweep must see happen at least once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    pub slot_full_429: u64,
    pub not_found_after_end: u64,
    pub duplicate_after_lost_answer: u64,
    pub timeouts: u64,
    pub parallel_waiters: u64,
    pub buffered_then_taken: u64,
    pub cancelled_while_waiting: u64,
}

impl Coverage {
    pub fn add(&mut self, o: &Coverage) {
        self.slot_full_429 += o.slot_full_429;
        self.not_found_after_end += o.not_found_after_end;
        self.duplicate_after_lost_answer += o.duplicate_after_lost_answer;
        self.timeouts += o.timeouts;
        self.parallel_waiters += o.parallel_waiters;
        self.buffered_then_taken += o.buffered_then_taken;
        self.cancelled_while_waiting += o.cancelled_while_waiting;
    }

    /// Each thing the sweep must see, with its count.
    pub fn rows(&self) -> [(&'static str, u64); 7] {
        [
            (
                "request buffered before its await",
                self.buffered_then_taken,
            ),
            ("429: slot full", self.slot_full_429),
            ("404 after the end", self.not_found_after_end),
            (
                "duplicate after a lost answer",
                self.duplicate_after_lost_answer,
            ),
            ("await timed out", self.timeouts),
            ("parallel waiters on one endpoint", self.parallel_waiters),
            ("cancel while awaiting", self.cancelled_while_waiting),
        ]
    }
}

pub fn run(case: &Case) -> Result<Outcome, String> {
    let mut config = madsim::Config::default();
    config.net.send_latency =
        Duration::from_millis(case.latency_ms.0)..Duration::from_millis(case.latency_ms.1);
    let runtime = Runtime::with_seed_and_config(case.seed, config);
    let case = case.clone();
    runtime.block_on(async move {
        let handle = Handle::current();
        let journal: Arc<Mutex<Vec<Delivery>>> = Arc::default();
        let server_journal = Arc::clone(&journal);
        let workflow = case.workflow();
        let seed = case.seed;
        let server = handle
            .create_node()
            .name("server-1")
            .ip(SERVER_IP)
            .init(move || {
                let journal = Arc::clone(&server_journal);
                let workflow = workflow.clone();
                async move {
                    let listener = tokio::net::TcpListener::bind(SERVER).await.expect("bind");
                    let state = server_state(seed, false, "case", &workflow);
                    let quiet: Rc<dyn Fn(String)> = Rc::new(|_| {});
                    let sink: Rc<dyn Fn(Observed)> = Rc::new(move |o| {
                        if let Observed::Callback(d) = o {
                            journal.lock().expect("journal").push(d);
                        }
                    });
                    let hooks = Hooks {
                        on_journal: Some(sink),
                        ..Hooks::logs(quiet)
                    };
                    serve_observed(
                        listener,
                        Rc::new(RefCell::new(state)),
                        tokio::time::Instant::now(),
                        hooks,
                        std::future::pending(),
                    )
                    .await;
                }
            })
            .build();
        let server_id = server.id();
        let clog = case.clog_ms;
        let cancel = case.cancel_ms;
        let client = handle
            .create_node()
            .name("client-1")
            .ip(IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1)))
            .build();
        let sends = case.sends_ms.clone();
        let (state, result, attempts, ended_at_ms, cancelled_while_waiting) = client
            .spawn(async move {
                let started = client::start_execution(SERVER, "case", None, PATIENT).await?;
                let (execution, callback) = (started.execution, started.callback);
                let start = tokio::time::Instant::now();
                if let Some((from, to)) = clog {
                    // The chaos, timed from when the callbacks start.
                    tokio::spawn(async move {
                        tokio::time::sleep_until(start + Duration::from_millis(from)).await;
                        madsim::net::NetSim::current().clog_node(server_id);
                        tokio::time::sleep_until(start + Duration::from_millis(to)).await;
                        madsim::net::NetSim::current().unclog_node(server_id);
                    });
                }
                let cancel_task = cancel.map(|at| {
                    let (execution, callbacks) =
                        (execution.clone(), format!("{execution}/callbacks"));
                    tokio::spawn(async move {
                        tokio::time::sleep_until(start + Duration::from_millis(at)).await;
                        let (_, list) =
                            client::send_retrying(SERVER, "GET", &callbacks, None, b"", PATIENT)
                                .await;
                        let waiting = list.is_some_and(|l| {
                            l.body["callbacks"][0]["waiters"]
                                .as_str()
                                .is_some_and(|w| w != "0")
                        });
                        let (_, res) = client::send_retrying(
                            SERVER,
                            "POST",
                            &format!("{execution}:cancel"),
                            None,
                            b"",
                            PATIENT,
                        )
                        .await;
                        waiting && res.is_some_and(|r| r.status == 200)
                    })
                });
                let mut tasks = Vec::new();
                for (i, at) in sends.into_iter().enumerate() {
                    let callback = callback.clone();
                    tasks.push(tokio::spawn(async move {
                        tokio::time::sleep_until(start + Duration::from_millis(at)).await;
                        let body = format!("{{\"n\": {i}}}");
                        let (attempts, _) = client::send_retrying_with(
                            SERVER,
                            "POST",
                            &callback,
                            None,
                            body.as_bytes(),
                            Backoff::DEFAULT,
                            &[("X-Request-Id", &format!("r{i}"))],
                        )
                        .await;
                        attempts
                            .results
                            .iter()
                            .map(|r| r.as_ref().copied().unwrap_or(0))
                            .collect::<Vec<u16>>()
                    }));
                }
                let mut attempts = Vec::new();
                for t in tasks {
                    attempts.push(t.await.map_err(|e| format!("client task: {e}"))?);
                }
                let cancelled_while_waiting = match cancel_task {
                    Some(t) => t.await.map_err(|e| format!("cancel task: {e}"))?,
                    None => false,
                };
                let mut state = Json::Null;
                for _ in 0..400 {
                    let (_, got) =
                        client::send_retrying(SERVER, "GET", &execution, None, b"", PATIENT).await;
                    state = got.map_or(Json::Null, |g| g.body);
                    if state["state"] != "ACTIVE" {
                        break;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                let result: Vec<String> =
                    serde_json::from_str::<Vec<String>>(state["result"].as_str().unwrap_or("[]"))
                        .unwrap_or_default();
                let ended = state["endTime"]
                    .as_str()
                    .and_then(wfsim_engine::time::parse_rfc3339)
                    // On the server's clock, like the journal's times.
                    .map(|n| ((n - WALL_START_UNIX_NANOS) / 1_000_000) as u64);
                Ok::<_, String>((
                    state["state"].as_str().unwrap_or("?").to_owned(),
                    result,
                    attempts,
                    ended,
                    cancelled_while_waiting,
                ))
            })
            .await
            .map_err(|e| format!("client: {e}"))??;
        let journal = journal.lock().expect("journal").clone();
        Ok(Outcome {
            journal,
            state,
            result,
            attempts,
            ended_at_ms,
            cancelled_while_waiting,
        })
    })
}

/// The contract's invariants over one run, and what the run covered.
pub fn check(case: &Case, out: &Outcome) -> (Vec<Violation>, Coverage) {
    let mut v = Vec::new();
    let mut cov = Coverage::default();
    let mut accepted: BTreeMap<&str, u64> = BTreeMap::new();
    for d in &out.journal {
        let id = d.request_id.as_deref().unwrap_or("?");
        match d.status {
            200 => *accepted.entry(id).or_default() += 1,
            429 => cov.slot_full_429 += 1,
            404 => {}
            other => v.push(Violation {
                rule: "CB-13",
                detail: format!("{id} got {other}, not 200, 404 or 429"),
            }),
        }
        // CB-11: after the end, every request is 404; before it, none is.
        if let Some(end) = out.ended_at_ms {
            let at_ms = d.at.as_nanos() / 1_000_000;
            if at_ms > end && d.status != 404 {
                v.push(Violation {
                    rule: "CB-11",
                    detail: format!(
                        "{id} at {at_ms} ms, after the end at {end} ms, got {}",
                        d.status
                    ),
                });
            }
            if at_ms > end && d.status == 404 {
                cov.not_found_after_end += 1;
            }
        }
        if d.status == 404
            && out
                .ended_at_ms
                .is_none_or(|end| d.at.as_nanos() / 1_000_000 < end)
        {
            v.push(Violation {
                rule: "CB-11",
                detail: format!("{id} got 404 while the execution was ACTIVE"),
            });
        }
    }
    let mut taken: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &out.result {
        if r == "timeout" {
            cov.timeouts += 1;
        } else {
            *taken.entry(r.as_str()).or_default() += 1;
        }
    }
    // CB-10: no request is taken more often than it was accepted, and at most one accepted
    // request (the one in the slot) is never taken.
    for (id, n) in &taken {
        let a = accepted.get(id).copied().unwrap_or(0);
        if *n > a {
            v.push(Violation {
                rule: "CB-10",
                detail: format!("{id} taken {n} times, accepted {a}"),
            });
        }
    }
    let n_accepted: u64 = accepted.values().sum();
    let n_taken: u64 = taken.values().sum();
    // A cancelled execution has no result, so what its awaits took is not visible here.
    if out.state == "SUCCEEDED" && !(n_taken <= n_accepted && n_accepted <= n_taken + 1) {
        v.push(Violation {
            rule: "CB-10",
            detail: format!(
                "{n_accepted} accepted but {n_taken} taken: more than the one slot unaccounted for"
            ),
        });
    }
    if out.state == "SUCCEEDED" && out.result.len() != case.awaits as usize {
        v.push(Violation {
            rule: "CB-6",
            detail: format!(
                "{} awaits ended, {} expected",
                out.result.len(),
                case.awaits
            ),
        });
    }
    let may_cancel = case.cancel_ms.is_some();
    if !(out.state == "SUCCEEDED" || (out.state == "CANCELLED" && may_cancel)) {
        v.push(Violation {
            rule: "EX-1",
            detail: format!("the execution ended {}", out.state),
        });
    }
    if out.state == "CANCELLED" && !out.result.is_empty() {
        v.push(Violation {
            rule: "EX-3",
            detail: "a cancelled execution has a result".into(),
        });
    }
    if out.cancelled_while_waiting && out.state == "CANCELLED" {
        cov.cancelled_while_waiting += 1;
    }
    for d in &out.journal {
        let taken_later = d
            .request_id
            .as_deref()
            .is_some_and(|id| taken.contains_key(id));
        if d.status == 200 && d.buffered && taken_later {
            cov.buffered_then_taken += 1;
        }
    }
    cov.duplicate_after_lost_answer += accepted.values().filter(|&&n| n > 1).count() as u64;
    if case.branches > 0 {
        cov.parallel_waiters += 1;
    }
    (v, cov)
}
