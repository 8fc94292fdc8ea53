//! A client that behaves like a real sender: HTTP/1 over simulated TCP, one connection per
//! request, retried with exponential back-off on 429 and network errors.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::Value as Json;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// How long one attempt may take before the client gives up on it.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a request got no HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetError(pub String);

/// An answer: status and body (JSON when it parses, else a string).
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Json,
}

/// How a client retries (initial delay, multiplier, cap, attempts).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    pub initial: Duration,
    pub multiplier: f64,
    pub max: Duration,
    pub attempts: u32,
}

impl Backoff {
    pub const DEFAULT: Backoff = Backoff {
        initial: Duration::from_millis(100),
        multiplier: 2.0,
        max: Duration::from_secs(2),
        attempts: 8,
    };

    /// The wait before attempt `n` (1-based, n ≥ 2).
    pub fn delay(&self, n: u32) -> Duration {
        let secs = self.initial.as_secs_f64() * self.multiplier.powi(n.saturating_sub(2) as i32);
        Duration::from_secs_f64(secs.min(self.max.as_secs_f64()))
    }
}

/// One connection a client opened, and the request it carried if it got that far: what
/// the bare world of `cargo xtask bench` (`crate::bare`) sends again, from the same node
/// at the same simulated times, so that the two worlds do the same network work.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    pub node: madsim::task::NodeId,
    /// When the connection was asked for, since the world began (simulated time).
    pub opened: Duration,
    /// When the request left, if the connection opened.
    pub sent: Option<Duration>,
    pub method: String,
    pub path: String,
    pub body_len: usize,
}

thread_local! {
    /// The requests of the run on this thread, while [`record_requests`] keeps them. A
    /// run has a thread of its own (`crate::run::run`), so the thread's list is the run's.
    static REQUESTS: RefCell<Option<Vec<Outgoing>>> = const { RefCell::new(None) };
}

/// Runs `f`, keeping every request the clients of this thread make meanwhile.
pub fn record_requests<T>(f: impl FnOnce() -> T) -> (T, Vec<Outgoing>) {
    REQUESTS.with(|r| *r.borrow_mut() = Some(Vec::new()));
    let out = f();
    let requests = REQUESTS.with(|r| r.borrow_mut().take()).unwrap_or_default();
    (out, requests)
}

fn since_start() -> Duration {
    madsim::time::TimeHandle::current().elapsed()
}

/// An open HTTP/1 connection: a racer opens one early so that its request leaves at an
/// exact instant, with no connection set-up in between.
pub struct Connection {
    server: SocketAddr,
    sender: SendRequest<Full<Bytes>>,
    /// Its entry in [`REQUESTS`], if they are kept.
    record: Option<usize>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Connection {
    pub async fn open(server: SocketAddr) -> Result<Connection, NetError> {
        let record = REQUESTS.with(|r| {
            r.borrow_mut().as_mut().map(|list| {
                list.push(Outgoing {
                    node: madsim::plugin::node(),
                    opened: since_start(),
                    sent: None,
                    method: String::new(),
                    path: String::new(),
                    body_len: 0,
                });
                list.len() - 1
            })
        });
        let stream = TcpStream::connect(server)
            .await
            .map_err(|e| NetError(format!("connect: {e}")))?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| NetError(format!("handshake: {e}")))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Connection {
            server,
            sender,
            record,
        })
    }

    /// One request on this connection.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: impl Into<Bytes>,
        headers: &[(&str, &str)],
    ) -> Result<Answer, NetError> {
        let body: Bytes = body.into();
        if let Some(i) = self.record {
            REQUESTS.with(|r| {
                if let Some(req) = r.borrow_mut().as_mut().and_then(|list| list.get_mut(i)) {
                    req.sent = Some(since_start());
                    req.method = method.to_owned();
                    req.path = path.to_owned();
                    req.body_len = body.len();
                }
            });
        }
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("Host", self.server.to_string());
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Full::new(body))
            .map_err(|e| NetError(format!("request: {e}")))?;
        let res = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| NetError(format!("send: {e}")))?;
        let status = res.status().as_u16();
        let bytes = res
            .into_body()
            .collect()
            .await
            .map_err(|e| NetError(format!("body: {e}")))?
            .to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&bytes).into_owned()));
        Ok(Answer { status, body })
    }
}

/// One request on a new connection, no retry. A request that takes longer than `timeout`
/// is a network error.
pub async fn send(
    server: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: impl Into<Bytes>,
    timeout: Duration,
    headers: &[(&str, &str)],
) -> Result<Answer, NetError> {
    let attempt = async {
        Connection::open(server)
            .await?
            .send(method, path, token, body, headers)
            .await
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(res) => res,
        Err(_) => Err(NetError(format!("no answer within {timeout:?}"))),
    }
}

/// One attempt: when it left, when it ended, and how.
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    pub sent: Instant,
    pub done: Instant,
    pub result: Result<u16, NetError>,
    /// The answer's body, if there was an answer.
    pub body: Option<Json>,
}

/// Every attempt of one logical request, in order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attempts {
    pub list: Vec<Attempt>,
}

impl Attempts {
    /// The final answer: the last status, if any attempt got one.
    pub fn last_status(&self) -> Option<u16> {
        self.list
            .iter()
            .rev()
            .find_map(|a| a.result.as_ref().ok().copied())
    }
}

/// Sends until a final answer (anything but 429), retrying 429 and network errors.
pub async fn send_retrying(
    server: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
    backoff: Backoff,
) -> (Attempts, Option<Answer>) {
    send_retrying_with(server, method, path, token, body, backoff, &[]).await
}

/// [`send_retrying`] with extra headers.
pub async fn send_retrying_with(
    server: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
    backoff: Backoff,
    headers: &[(&str, &str)],
) -> (Attempts, Option<Answer>) {
    let body = Bytes::copy_from_slice(body);
    send_retrying_shared(server, method, path, token, body, backoff, headers).await
}

/// [`send_retrying_with`] a body every attempt shares, not copies (a body over 512 KiB is
/// sent by many seeds).
pub async fn send_retrying_shared(
    server: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Bytes,
    backoff: Backoff,
    headers: &[(&str, &str)],
) -> (Attempts, Option<Answer>) {
    let mut attempts = Attempts::default();
    for n in 1..=backoff.attempts {
        if n > 1 {
            tokio::time::sleep(backoff.delay(n)).await;
        }
        let sent = Instant::now();
        let res = send(
            server,
            method,
            path,
            token,
            body.clone(),
            ATTEMPT_TIMEOUT,
            headers,
        )
        .await;
        let result = res.as_ref().map(|a| a.status).map_err(NetError::clone);
        attempts.list.push(Attempt {
            sent,
            done: Instant::now(),
            result,
            body: res.as_ref().ok().map(|a| a.body.clone()),
        });
        match res {
            Ok(answer) if answer.status == 429 => {}
            Ok(answer) => return (attempts, Some(answer)),
            Err(_) => {}
        }
    }
    (attempts, None)
}

/// GETs execution `path` every `poll` until it is not ACTIVE (at most `polls` times) and
/// returns its last JSON (`null` if no GET was answered).
pub async fn wait_for_end(
    server: SocketAddr,
    path: &str,
    token: Option<&str>,
    backoff: Backoff,
    poll: Duration,
    polls: u32,
) -> Json {
    let mut state = Json::Null;
    for _ in 0..polls {
        let (_, got) = send_retrying(server, "GET", path, token, b"", backoff).await;
        state = got.map_or(Json::Null, |g| g.body);
        if state["state"] != "ACTIVE" {
            break;
        }
        tokio::time::sleep(poll).await;
    }
    state
}

/// An execution a client started, and the path of its (first) callback endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Started {
    /// The status of the `POST …/executions`.
    pub status: u16,
    /// `/v1/projects/…/executions/<id>`
    pub execution: String,
    /// `/v1/projects/…/callbacks/<id>`
    pub callback: String,
    /// The endpoint's `waiters`, as the callbacks list said.
    pub waiters: Json,
}

/// Starts an execution of `workflow` (project `p`, location `l`) and finds its callback
/// endpoint in the callbacks list, retrying both calls with `backoff`.
pub async fn start_execution(
    server: SocketAddr,
    workflow: &str,
    token: Option<&str>,
    backoff: Backoff,
) -> Result<Started, String> {
    let base = format!("/v1/projects/p/locations/l/workflows/{workflow}/executions");
    let (_, created) = send_retrying(server, "POST", &base, token, b"", backoff).await;
    let created = created.ok_or("could not start the execution")?;
    let execution = format!("/v1/{}", created.body["name"].as_str().ok_or("no name")?);
    let callbacks = format!("{execution}/callbacks");
    let (_, list) = send_retrying(server, "GET", &callbacks, token, b"", backoff).await;
    let list = list.ok_or("could not list callbacks")?;
    let first = &list.body["callbacks"][0];
    let callback = format!("/v1/{}", first["name"].as_str().ok_or("no callback")?);
    Ok(Started {
        status: created.status,
        execution,
        callback,
        waiters: first["waiters"].clone(),
    })
}
