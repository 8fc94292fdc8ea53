//! The spec model: SPEC §3 (the slot rule, CB-5 … CB-12) in the plainest terms.
//!
//! Written apart from `wfsim-engine` and sharing no code with it: times are nanoseconds in a
//! `u64`, methods are strings, requests and awaits are the numbers the checker gave them.
//! It favours being obviously right over being fast: lists are searched, nothing is
//! indexed.

/// A request, named by the number the checker gave it.
pub type RequestNo = u64;
/// An await, named by the number the checker gave it.
pub type AwaitNo = u64;

/// The seven methods of CB-1.
pub const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];

/// SPEC §3 step 4: 512 KiB.
pub const BODY_LIMIT: usize = 512 * 1024;

/// What a request carries that the slot rule looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    pub no: RequestNo,
    /// `None`: an endpoint this execution never created.
    pub endpoint: Option<usize>,
    pub method: &'a str,
    pub body_len: usize,
    /// SPEC §3 step 2, as the host judged the token.
    pub token: Token,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    Good,
    Bad,
    WithoutPermission,
}

/// The answer to a request: the status and, for 200, who got it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// 200: the first waiter took it (step 5).
    TakenBy(AwaitNo),
    /// 200: it waits in the slot (step 6).
    Stored,
    /// Anything else: 404, 401, 403, 405, 413, 429.
    Refused(u16),
}

impl Answer {
    pub fn status(self) -> u16 {
        match self {
            Answer::TakenBy(_) | Answer::Stored => 200,
            Answer::Refused(status) => status,
        }
    }
}

/// How an await began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AwaitStart {
    /// CB-5: the slot held this request; the await took it.
    Took(RequestNo),
    /// CB-6: the await waits until this deadline (nanoseconds).
    Waits { deadline: u64 },
    /// The execution is over or the endpoint does not exist: nothing happens.
    Impossible,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Endpoint {
    pub method: String,
    /// The one buffer slot.
    pub slot: Option<RequestNo>,
    /// Blocked awaits in the order they started, each with its deadline.
    pub waiters: Vec<(AwaitNo, u64)>,
    pub accepted: u64,
    pub taken: u64,
    pub dropped: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Model {
    pub now: u64,
    pub ended: bool,
    pub endpoints: Vec<Endpoint>,
    /// Requests received, with the time each arrived: what a taker sees.
    pub arrival: Vec<(RequestNo, u64)>,
}

/// What ending the execution let go (CB-11).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ending {
    /// (endpoint, request) for each request still in a slot.
    pub dropped: Vec<(usize, RequestNo)>,
    /// Awaits still waiting, in the order they started.
    pub abandoned: Vec<AwaitNo>,
}

impl Model {
    /// CB-1: a new endpoint, or `None` after the end.
    pub fn create(&mut self, method: &str) -> Option<usize> {
        if self.ended {
            return None;
        }
        self.endpoints.push(Endpoint {
            method: method.to_string(),
            ..Endpoint::default()
        });
        Some(self.endpoints.len() - 1)
    }

    /// CB-4: a negative timeout is a `ValueError`; the await does not start.
    pub fn timeout_is_valid(seconds: f64) -> bool {
        seconds >= 0.0
    }

    /// CB-5, CB-6.
    pub fn start_await(&mut self, no: AwaitNo, endpoint: usize, timeout_ns: u64) -> AwaitStart {
        if self.ended || endpoint >= self.endpoints.len() {
            return AwaitStart::Impossible;
        }
        let ep = &mut self.endpoints[endpoint];
        if let Some(request) = ep.slot.take() {
            ep.taken += 1;
            return AwaitStart::Took(request);
        }
        let deadline = self.now.saturating_add(timeout_ns);
        ep.waiters.push((no, deadline));
        AwaitStart::Waits { deadline }
    }

    /// SPEC §3 steps 1–7, read straight down.
    pub fn request(&mut self, r: Request) -> Answer {
        // 1.
        if self.ended {
            return Answer::Refused(404);
        }
        let Some(i) = r.endpoint.filter(|&i| i < self.endpoints.len()) else {
            return Answer::Refused(404);
        };
        // 2.
        if r.token == Token::Bad {
            return Answer::Refused(401);
        }
        if r.token == Token::WithoutPermission {
            return Answer::Refused(403);
        }
        let ep = &mut self.endpoints[i];
        // 3.
        if r.method != ep.method {
            return Answer::Refused(405);
        }
        // 4.
        if r.body_len > BODY_LIMIT {
            return Answer::Refused(413);
        }
        // 5.
        if !ep.waiters.is_empty() {
            let (first, _) = ep.waiters.remove(0);
            ep.accepted += 1;
            ep.taken += 1;
            self.arrival.push((r.no, self.now));
            return Answer::TakenBy(first);
        }
        // 6.
        if ep.slot.is_none() {
            ep.slot = Some(r.no);
            ep.accepted += 1;
            self.arrival.push((r.no, self.now));
            return Answer::Stored;
        }
        // 7.
        Answer::Refused(429)
    }

    /// Time moves to `to`. Every await whose deadline is before `to` times out (CB-6),
    /// earliest first, ties in the order the awaits started. Deadlines equal to `to` wait:
    /// a request arriving at `to` is still taken (SPEC: requests before timers).
    pub fn advance(&mut self, to: u64) -> Vec<(AwaitNo, u64)> {
        assert!(to >= self.now);
        let mut timed_out = Vec::new();
        for ep in &mut self.endpoints {
            for &(no, deadline) in &ep.waiters {
                if deadline < to {
                    timed_out.push((no, deadline));
                }
            }
            ep.waiters.retain(|&(_, deadline)| deadline >= to);
        }
        timed_out.sort_by_key(|&(no, deadline)| (deadline, no));
        self.now = to;
        timed_out
    }

    /// Every deadline equal to `now` passes too (the end of an instant).
    pub fn close_instant(&mut self) -> Vec<(AwaitNo, u64)> {
        let timed_out = self.advance(self.now.saturating_add(1));
        self.now -= 1;
        timed_out
    }

    /// CB-11: the end. Slots are emptied, waiters forgotten, and every later request is 404.
    pub fn end(&mut self) -> Option<Ending> {
        if self.ended {
            return None;
        }
        self.ended = true;
        let mut ending = Ending::default();
        for (i, ep) in self.endpoints.iter_mut().enumerate() {
            if let Some(request) = ep.slot.take() {
                ep.dropped += 1;
                ending.dropped.push((i, request));
            }
            ending
                .abandoned
                .extend(ep.waiters.drain(..).map(|(no, _)| no));
        }
        ending.abandoned.sort();
        Some(ending)
    }

    /// When request `no` arrived.
    pub fn arrived_at(&self, no: RequestNo) -> Option<u64> {
        self.arrival
            .iter()
            .find(|&&(n, _)| n == no)
            .map(|&(_, at)| at)
    }

    /// CB-10, in the model's own terms.
    pub fn conserves(&self) -> bool {
        self.endpoints
            .iter()
            .all(|ep| ep.accepted == ep.taken + ep.dropped + u64::from(ep.slot.is_some()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(no: RequestNo, endpoint: usize, method: &str) -> Request<'_> {
        Request {
            no,
            endpoint: Some(endpoint),
            method,
            body_len: 0,
            token: Token::Good,
        }
    }

    /// SPEC §3, the worked example, in the model.
    #[test]
    fn worked_example() {
        let s = 1_000_000_000;
        let mut m = Model::default();
        assert_eq!(m.create("POST"), Some(0));
        m.advance(s);
        assert_eq!(m.request(req(0, 0, "POST")), Answer::Stored);
        m.advance(2 * s);
        assert_eq!(m.request(req(1, 0, "POST")), Answer::Refused(429));
        m.advance(3 * s);
        assert_eq!(m.start_await(0, 0, 60 * s), AwaitStart::Took(0));
        m.advance(4 * s);
        assert_eq!(m.request(req(2, 0, "POST")), Answer::Stored);
        m.advance(5 * s);
        let ending = m.end().unwrap();
        assert_eq!(ending.dropped, vec![(0, 2)]);
        m.advance(6 * s);
        assert_eq!(m.request(req(3, 0, "POST")), Answer::Refused(404));
        assert!(m.conserves());
    }

    #[test]
    fn cb_12_waiters_in_await_order_and_timeouts_at_deadline() {
        let mut m = Model::default();
        m.create("GET");
        assert_eq!(m.start_await(0, 0, 10), AwaitStart::Waits { deadline: 10 });
        assert_eq!(m.start_await(1, 0, 5), AwaitStart::Waits { deadline: 5 });
        assert_eq!(m.start_await(2, 0, 5), AwaitStart::Waits { deadline: 5 });
        assert_eq!(m.advance(5), vec![]);
        assert_eq!(m.request(req(0, 0, "GET")), Answer::TakenBy(0));
        assert_eq!(m.close_instant(), vec![(1, 5), (2, 5)]);
        assert_eq!(m.now, 5);
        assert_eq!(m.request(req(1, 0, "POST")), Answer::Refused(405));
    }
}
