//! What a seed draws: a small workflow (awaits in sequence or in parallel branches on one
//! endpoint, timeouts, busy pauses, a retry policy) and a schedule (callbacks, a cancel,
//! network latency and loss, a clogged server, a partition, a server restart, a request
//! timed to reach an await's deadline). [`Case::schedule`] prints it for a failure report.

use std::fmt::Write as _;

use wfsim_engine::IdGen;

use crate::fault::{Fault, FaultKind, Window};

/// A workflow retry policy around each await (RT-1); the predicate is `${retry.always}`,
/// and an await only raises `TimeoutError`. The delays are integers or doubles as drawn: a
/// double is written with its fraction (`1.5`), an integer without (`2`), so both number
/// types reach the engine's back-off parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Retry {
    pub max_retries: u32,
    pub initial_s: f64,
    pub multiplier: f64,
    pub max_s: f64,
}

impl Retry {
    /// RT-2: the delay before retry `k` (1-based), in nanoseconds.
    pub fn delay_ns(&self, k: u32) -> u64 {
        let secs = (self.initial_s * self.multiplier.powi(k as i32 - 1)).min(self.max_s);
        (secs * 1e9).round() as u64
    }
}

/// A number as YAML writes it: `2` for a whole number (an integer to the engine), `1.5`
/// or `2.0` otherwise; `as_double` writes a whole number as a double.
fn yaml_number(x: f64, as_double: bool) -> String {
    if x.fract() == 0.0 && !as_double {
        format!("{}", x as i64)
    } else {
        format!("{x:?}")
    }
}

/// How a callback can be wrong besides its URL: each meets one step of SPEC §3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misfit {
    /// No bearer token (step 2: 401).
    NoToken,
    /// A token without `workflows.callbacks.send` (step 2: 403).
    NoPermission,
    /// PUT to a POST endpoint (step 3: 405).
    WrongMethod,
    /// A body of 512 KiB and one byte (step 4: 413).
    TooBig,
}

impl Misfit {
    pub const ALL: [Misfit; 4] = [
        Misfit::NoToken,
        Misfit::NoPermission,
        Misfit::WrongMethod,
        Misfit::TooBig,
    ];

    fn describe(self) -> &'static str {
        match self {
            Misfit::NoToken => "without a token",
            Misfit::NoPermission => "with a token lacking the permission",
            Misfit::WrongMethod => "with PUT, not POST",
            Misfit::TooBig => "with a body over 512 KiB",
        }
    }
}

/// What a seed draws. Printed with every failure.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub seed: u64,
    /// Logical awaits on the one endpoint, one after another (or, with `branches`, one per
    /// branch). With `retry`, each may await several times.
    pub awaits: u32,
    /// Parallel branches awaiting the same endpoint (0: none, the awaits run in sequence).
    pub branches: u32,
    pub timeout_s: u32,
    /// Seconds the workflow is busy (sleeping) after each await: requests then meet a full
    /// slot.
    pub pause_s: u32,
    pub retry: Option<Retry>,
    /// Logical callbacks: when each is first sent (ms after the endpoint is known).
    pub sends_ms: Vec<u64>,
    /// This send goes to a mistyped endpoint URL (SPEC §3 step 1: 404).
    pub stray: Option<usize>,
    /// This send is wrong in another way (steps 2 to 4).
    pub misfit: Option<(usize, Misfit)>,
    /// One-way latency, drawn per packet from `lo..=hi` ms (`lo == hi`: exactly that).
    pub latency_ms: (u64, u64),
    /// Probability that a packet is lost (TCP sends it again, later; a lost connect fails).
    pub loss: f64,
    /// Clogs, partitions, restarts: at most one of each kind, in [`FaultKind::ALL`] order.
    pub faults: Vec<Fault>,
    /// The client cancels the execution this long after the callbacks start (EX-3).
    pub cancel_ms: Option<u64>,
    /// A racer sends one request timed to reach the server exactly at each of the first
    /// this-many blocked awaits' deadlines (needs an exact latency and no loss).
    pub races: u32,
    /// A second execution of the workflow runs beside the first, and every callback is sent
    /// to its endpoint too: executions must not see each other's requests or timers.
    pub neighbour: bool,
}

impl Case {
    pub fn from_seed(seed: u64) -> Case {
        let mut rng = IdGen::with_stream(seed, IdGen::STREAM_SIM_CASES);
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
        let races = if pick(4) == 0 { 1 + pick(2) as u32 } else { 0 };
        let latency_max = 2 + pick(300);
        let latency_ms = if races > 0 {
            (latency_max, latency_max)
        } else {
            (1, latency_max)
        };
        let loss = if races == 0 && pick(4) == 0 {
            (1 + pick(15)) as f64 / 100.0
        } else {
            0.0
        };
        let around_a_send = |pick: &mut dyn FnMut(u64) -> u64, len_ms: u64| {
            let send = sends_ms[pick(sends_ms.len() as u64) as usize];
            // Just after a request has reached the server, so its answer is in flight.
            let from_ms = send + 1 + pick(latency_max);
            Window {
                from_ms,
                to_ms: from_ms + len_ms,
            }
        };
        let mut faults = Vec::new();
        for kind in FaultKind::ALL {
            if let Some(len) = kind.draw(&mut pick) {
                let window = around_a_send(&mut pick, len);
                faults.push(Fault { kind, window });
            }
        }
        let mut retry = (pick(3) == 0).then(|| Retry {
            max_retries: 1 + pick(3) as u32,
            initial_s: (1 + pick(5)) as f64,
            multiplier: [1.0, 1.5, 2.0][pick(3) as usize],
            max_s: (2 + pick(9)) as f64,
        });
        let cancel_ms = (pick(6) == 0).then(|| pick(40_000));
        let stray = (pick(5) == 0).then(|| pick(sends_ms.len() as u64) as usize);
        let timeout_s = 5 + pick(20) as u32;
        let pause_s = pick(4) as u32;
        // New draws go last, so that a seed keeps the case it had.
        let neighbour = pick(3) == 0;
        let misfit = (pick(4) == 0).then(|| {
            (
                pick(sends_ms.len() as u64) as usize,
                Misfit::ALL[pick(4) as usize],
            )
        });
        // Half the policies have fractional delays (doubles, RT-2).
        if let Some(r) = retry.as_mut() {
            if pick(2) == 0 {
                r.initial_s -= 0.5;
                r.max_s += 0.25;
            }
        }
        Case {
            seed,
            awaits,
            branches,
            timeout_s,
            pause_s,
            retry,
            sends_ms,
            stray,
            misfit,
            latency_ms,
            loss,
            faults,
            cancel_ms,
            races,
            neighbour,
        }
    }

    /// The window of its fault of this kind, if it has one.
    pub fn fault(&self, kind: FaultKind) -> Option<Window> {
        self.faults
            .iter()
            .find(|f| f.kind == kind)
            .map(|f| f.window)
    }

    /// The workflow: one endpoint, awaits that record the `X-Request-Id` they got (or
    /// `timeout`), returned as a list.
    pub fn workflow(&self) -> String {
        let await_steps = |indent: &str| {
            let retry = self.retry.map_or(String::new(), |r| {
                format!(
                    "{i}    retry:\n{i}      predicate: ${{retry.always}}\n{i}      max_retries: {}\n{i}      backoff:\n{i}        initial_delay: {}\n{i}        max_delay: {}\n{i}        multiplier: {}\n",
                    r.max_retries,
                    yaml_number(r.initial_s, false),
                    yaml_number(r.max_s, false),
                    yaml_number(r.multiplier, false),
                    i = indent
                )
            });
            format!(
                "{i}- wait:\n{i}    try:\n{i}      call: events.await_callback\n{i}      args:\n{i}        callback: ${{cb}}\n{i}        timeout: {t}\n{i}      result: req\n{retry}{i}    except:\n{i}      as: e\n{i}      steps:\n{i}        - expected:\n{i}            switch:\n{i}              - condition: ${{not (\"TimeoutError\" in e.tags)}}\n{i}                next: unexpected\n{i}        - timed_out:\n{i}            assign:\n{i}              - got: ${{list.concat(got, [\"timeout\"])}}\n{i}            next: continue\n{i}        - unexpected:\n{i}            raise: ${{e}}\n{i}- keep:\n{i}    assign:\n{i}      - got: ${{list.concat(got, [req.http_request.headers[\"X-Request-Id\"]])}}\n{i}- busy:\n{i}    call: sys.sleep\n{i}    args:\n{i}      seconds: {p}\n",
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

    /// The case as a person reads it: the workflow's shape, the network, and the schedule in
    /// time order.
    pub fn schedule(&self) -> String {
        let mut out = String::new();
        let shape = if self.branches > 0 {
            format!("{} parallel branches each awaiting", self.branches)
        } else {
            format!("{} awaits in sequence", self.awaits)
        };
        let _ = write!(
            out,
            "seed {}: {shape} one endpoint, timeout {} s, busy {} s after each",
            self.seed, self.timeout_s, self.pause_s
        );
        if let Some(r) = self.retry {
            let _ = write!(
                out,
                "; retry ×{} back-off {} s ×{} ≤ {} s",
                r.max_retries, r.initial_s, r.multiplier, r.max_s
            );
        }
        if self.neighbour {
            out.push_str("; a neighbour execution e1 gets the well-formed callbacks too (n…)");
        }
        let _ = writeln!(
            out,
            "\nnetwork: latency {}–{} ms, loss {:.0}%",
            self.latency_ms.0,
            self.latency_ms.1,
            self.loss * 100.0
        );
        let mut events: Vec<(u64, String)> = self
            .sends_ms
            .iter()
            .enumerate()
            .map(|(i, at)| {
                let mut how = String::new();
                if self.stray == Some(i) {
                    how.push_str(" to a mistyped endpoint");
                }
                if let Some((_, m)) = self.misfit.filter(|(j, _)| *j == i) {
                    how.push(' ');
                    how.push_str(m.describe());
                }
                (*at, format!("client-1 sends r{i}{how} (retrying)"))
            })
            .collect();
        for Fault { kind, window: w } in &self.faults {
            let what = kind.describe();
            events.push((w.from_ms, format!("{what} for {} ms", w.to_ms - w.from_ms)));
        }
        if let Some(at) = self.cancel_ms {
            events.push((at, "client-2 cancels e0, the case's execution".into()));
        }
        events.sort();
        for (at, what) in events {
            let _ = writeln!(out, "  +{at:>6} ms  {what}");
        }
        if self.races > 0 {
            let _ = writeln!(
                out,
                "  racer: a request reaching the server exactly at each of the first {} blocked awaits' deadlines",
                self.races
            );
        }
        out
    }
}

/// A part of a case that shrinking can take away. Written `send2`, `clog`, … on the
/// command line (`cargo xtask sim --seed S --without clog,send2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The logical callback at this index (later ones move down).
    Send(usize),
    Stray,
    Fault(FaultKind),
    Cancel,
    Races,
    Loss,
    Retry,
    Pause,
    Neighbour,
    Misfit,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Part::Send(i) => write!(f, "send{i}"),
            Part::Stray => f.write_str("stray"),
            Part::Fault(kind) => f.write_str(kind.name()),
            Part::Cancel => f.write_str("cancel"),
            Part::Races => f.write_str("races"),
            Part::Loss => f.write_str("loss"),
            Part::Retry => f.write_str("retry"),
            Part::Pause => f.write_str("pause"),
            Part::Neighbour => f.write_str("neighbour"),
            Part::Misfit => f.write_str("misfit"),
        }
    }
}

impl std::str::FromStr for Part {
    type Err = String;
    fn from_str(s: &str) -> Result<Part, String> {
        if let Some(kind) = FaultKind::ALL.into_iter().find(|k| k.name() == s) {
            return Ok(Part::Fault(kind));
        }
        Ok(match s {
            "stray" => Part::Stray,
            "cancel" => Part::Cancel,
            "races" => Part::Races,
            "loss" => Part::Loss,
            "retry" => Part::Retry,
            "pause" => Part::Pause,
            "neighbour" => Part::Neighbour,
            "misfit" => Part::Misfit,
            _ => match s.strip_prefix("send").map(str::parse) {
                Some(Ok(i)) => Part::Send(i),
                _ => {
                    let faults: Vec<&str> = FaultKind::ALL.iter().map(|k| k.name()).collect();
                    return Err(format!(
                        "'{s}' is not a part of a case: sendN, stray, {}, cancel, races, loss, retry, pause, neighbour, misfit",
                        faults.join(", ")
                    ));
                }
            },
        })
    }
}

impl Case {
    /// The parts this case has, biggest first: what a shrinker tries to take away.
    pub fn parts(&self) -> Vec<Part> {
        let mut parts = Vec::new();
        let mut has = |yes: bool, p: Part| {
            if yes {
                parts.push(p);
            }
        };
        has(self.neighbour, Part::Neighbour);
        let mut faults: Vec<FaultKind> = self.faults.iter().map(|f| f.kind).collect();
        faults.sort_by_key(|k| std::cmp::Reverse(k.size()));
        for kind in faults {
            has(true, Part::Fault(kind));
        }
        has(self.cancel_ms.is_some(), Part::Cancel);
        has(self.races > 0, Part::Races);
        has(self.loss > 0.0, Part::Loss);
        has(self.retry.is_some(), Part::Retry);
        has(self.stray.is_some(), Part::Stray);
        has(self.misfit.is_some(), Part::Misfit);
        has(self.pause_s > 0, Part::Pause);
        parts.extend((0..self.sends_ms.len()).rev().map(Part::Send));
        parts
    }

    /// This case without `part`; `None` if it has no such part (or it is the last send).
    pub fn without(&self, part: Part) -> Option<Case> {
        let mut c = self.clone();
        match part {
            Part::Send(i) => {
                if i >= c.sends_ms.len() || c.sends_ms.len() == 1 {
                    return None;
                }
                c.sends_ms.remove(i);
                let moved = |s: usize| match s.cmp(&i) {
                    std::cmp::Ordering::Less => Some(s),
                    std::cmp::Ordering::Equal => None,
                    std::cmp::Ordering::Greater => Some(s - 1),
                };
                c.stray = c.stray.and_then(moved);
                c.misfit = c.misfit.and_then(|(s, m)| moved(s).map(|s| (s, m)));
            }
            Part::Stray => c.stray = None,
            Part::Fault(kind) => c.faults.retain(|f| f.kind != kind),
            Part::Cancel => c.cancel_ms = None,
            Part::Races => c.races = 0,
            Part::Loss => c.loss = 0.0,
            Part::Retry => c.retry = None,
            Part::Pause => c.pause_s = 0,
            Part::Neighbour => c.neighbour = false,
            Part::Misfit => c.misfit = None,
        }
        (c != *self).then_some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rt_2_delays() {
        let r = Retry {
            max_retries: 5,
            initial_s: 1.0,
            multiplier: 10.0,
            max_s: 2.0,
        };
        assert_eq!(r.delay_ns(1), 1_000_000_000);
        assert_eq!(r.delay_ns(2), 2_000_000_000);
        assert_eq!(r.delay_ns(5), 2_000_000_000);
        let half = Retry {
            initial_s: 0.5,
            multiplier: 1.5,
            max_s: 2.25,
            ..r
        };
        assert_eq!(half.delay_ns(2), 750_000_000);
        assert_eq!(half.delay_ns(9), 2_250_000_000);
        assert_eq!(yaml_number(2.0, false), "2");
        assert_eq!(yaml_number(2.0, true), "2.0");
        assert_eq!(yaml_number(0.5, false), "0.5");
    }

    #[test]
    fn parts_come_off_one_by_one_and_print_as_they_parse() {
        let c = (0..100)
            .map(Case::from_seed)
            .find(|c| {
                c.sends_ms.len() >= 3 && c.stray.is_some() && c.fault(FaultKind::Clog).is_some()
            })
            .expect("some seed has sends, a stray and a clog");
        for part in c.parts() {
            assert_eq!(part.to_string().parse::<Part>(), Ok(part));
            let smaller = c.without(part).expect("a part it has");
            assert!(smaller.parts().len() < c.parts().len(), "{part}");
        }
        let stray = c.stray.unwrap();
        let moved = c.without(Part::Send(0)).unwrap();
        assert_eq!(moved.stray, stray.checked_sub(1));
        let clog = Part::Fault(FaultKind::Clog);
        assert_eq!(c.without(clog).unwrap().without(clog), None);
        assert!("send".parse::<Part>().is_err());
    }

    #[test]
    fn every_drawn_workflow_loads() {
        for seed in 0..200 {
            let c = Case::from_seed(seed);
            wfsim_engine::defn::load("case.yaml", &c.workflow())
                .unwrap_or_else(|e| panic!("seed {seed}: {e:?}\n{}", c.workflow()));
        }
        let doubles = (0..200)
            .filter_map(|seed| Case::from_seed(seed).retry)
            .filter(|r| r.initial_s.fract() != 0.0)
            .count();
        assert!(doubles > 0, "some seeds draw fractional back-off delays");
    }
}
