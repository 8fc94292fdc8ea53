//! Hostile input against a real server on a real port (issue #23, item 4): HTTP/2 abuse
//! spoken in raw frames (rapid resets, floods of SETTINGS and PINGs, 10,000 streams, a
//! 1 MiB header list), bodies (deep JSON, invalid UTF-8, a Content-Length that lies) and
//! paths (encoded slashes and dots, invalid UTF-8, 64 KiB). Each case: a clear error or
//! status (the reason in the body where HTTP lets one be sent), and afterwards a
//! well-behaved client on another connection is served and nothing accepted is lost.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::Value as Json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::LocalSet;
use wfsim_engine::defn;
use wfsim_server::{
    Config, H2_ERROR_RESETS_MAX, H2_HEADER_LIST_BYTES_MAX, H2_STREAMS_MAX, Options, State,
    serve_observed,
};

struct Live {
    addr: SocketAddr,
    token: String,
    _stop: oneshot::Sender<()>,
}

/// A server with `create_await` deployed; `header_timeout` short, so a body that never
/// comes is answered within the test.
async fn start() -> Live {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut state = State::new(
        Config::new("p", "l", format!("http://{addr}")),
        1_704_067_200_000_000_000,
    );
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/workflows/create_await.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    state.deploy(
        "create_await",
        defn::load("create_await.yaml", &text).unwrap(),
    );
    let token = state.master_token().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let options = Options {
        header_timeout: Duration::from_millis(500),
        ..Options::logs(Rc::new(|_| {}))
    };
    tokio::task::spawn_local(serve_observed(
        listener,
        Rc::new(RefCell::new(state)),
        tokio::time::Instant::now(),
        options,
        async {
            let _ = stopped.await;
        },
    ));
    Live {
        addr,
        token,
        _stop: stop,
    }
}

fn run_local(f: impl std::future::Future<Output = ()>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    LocalSet::new().block_on(&rt, f);
}

const EXECUTIONS: &str = "/v1/projects/p/locations/l/workflows/create_await/executions";

/// One HTTP/1.1 request over a fresh connection with hyper's client: status and body.
async fn call(live: &Live, method: &str, path: &str, body: Vec<u8>) -> (u16, Json) {
    call_typed(live, method, path, "application/json", body).await
}

/// [`call`] with the body's Content-Type.
async fn call_typed(
    live: &Live,
    method: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Json) {
    let stream = TcpStream::connect(live.addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::task::spawn_local(conn);
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("Host", live.addr.to_string())
        .header("Authorization", format!("Bearer {}", live.token))
        .header("Content-Type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    let status = res.status().as_u16();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or(Json::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, json)
}

/// The well-behaved client: lists the executions (200) and returns how many there are.
async fn served(live: &Live) -> usize {
    let (status, list) = call(live, "GET", EXECUTIONS, vec![]).await;
    assert_eq!(status, 200, "a well-behaved client is served: {list}");
    list["executions"].as_array().map_or(0, Vec::len)
}

/// Starts an execution: its resource name.
async fn create(live: &Live) -> String {
    let (status, e) = call(live, "POST", EXECUTIONS, b"{}".to_vec()).await;
    assert_eq!(status, 200, "{e}");
    e["name"].as_str().unwrap().to_owned()
}

/// The error message of an API error body, which every 4xx must carry.
fn reason(status: u16, body: &Json) -> String {
    assert!((400..500).contains(&status), "{status}: {body}");
    let m = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!m.is_empty(), "{status} says why: {body}");
    m.to_owned()
}

/// Bytes written on a raw connection and everything read back until the server closes it
/// (or `patience` passes without a byte).
async fn raw_exchange(live: &Live, request: &[u8], half_close: bool) -> Vec<u8> {
    let mut s = TcpStream::connect(live.addr).await.unwrap();
    let _ = s.write_all(request).await;
    if half_close {
        let _ = s.shutdown().await;
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => out.extend_from_slice(&buf[..n]),
            _ => return out,
        }
    }
}

// ---- HTTP/2 in raw frames (RFC 9113) ----

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0;
const HEADERS: u8 = 1;
const RST_STREAM: u8 = 3;
const SETTINGS: u8 = 4;
const PING: u8 = 6;
const GOAWAY: u8 = 7;
const CONTINUATION: u8 = 9;
const END_STREAM: u8 = 1;
const END_HEADERS: u8 = 4;
const ACK: u8 = 1;
const REFUSED_STREAM: u32 = 7;
const CANCEL: u32 = 8;
const ENHANCE_YOUR_CALM: u32 = 11;

fn frame(out: &mut Vec<u8>, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(&[kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
}

/// HPACK's integer with an `n`-bit prefix, the prefix's other bits `first`.
fn hpack_int(out: &mut Vec<u8>, first: u8, n: u32, mut v: usize) {
    let max = (1usize << n) - 1;
    if v < max {
        out.push(first | v as u8);
        return;
    }
    out.push(first | max as u8);
    v -= max;
    while v >= 128 {
        out.push((v % 128) as u8 | 128);
        v /= 128;
    }
    out.push(v as u8);
}

/// A string literal, not Huffman-coded.
fn hpack_str(out: &mut Vec<u8>, s: &[u8]) {
    hpack_int(out, 0, 7, s.len());
    out.extend_from_slice(s);
}

/// A request's header block: the method, `http`, the path, the authority, the token, and
/// `extra` fields as literals without indexing.
fn request_block(live: &Live, post: bool, path: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = vec![if post { 0x83 } else { 0x82 }, 0x86];
    hpack_int(&mut b, 0, 4, 4); // :path, indexed name, literal value
    hpack_str(&mut b, path.as_bytes());
    hpack_int(&mut b, 0, 4, 1); // :authority
    hpack_str(&mut b, live.addr.to_string().as_bytes());
    let auth = format!("Bearer {}", live.token);
    for (name, value) in [("authorization", auth.as_bytes())]
        .into_iter()
        .chain(extra.iter().copied())
    {
        b.push(0);
        hpack_str(&mut b, name.as_bytes());
        hpack_str(&mut b, value);
    }
    b
}

/// What the server sent on one HTTP/2 connection.
#[derive(Debug, Default)]
struct Seen {
    /// (stream, error code) of each RST_STREAM.
    resets: Vec<(u32, u32)>,
    /// The error code of a GOAWAY.
    goaway: Option<u32>,
    /// (stream, first byte of the header block) of each response HEADERS.
    responses: Vec<(u32, u8)>,
    settings_acks: usize,
    pongs: usize,
    /// The server's own SETTINGS: (identifier, value).
    settings: Vec<(u16, u32)>,
    /// The connection ended (EOF or reset) before the reader stopped.
    closed: bool,
}

/// Reads frames until the server closes the connection, or `quiet` passes without one.
async fn read_frames(mut r: tokio::net::tcp::OwnedReadHalf, quiet: Duration) -> Seen {
    let mut seen = Seen::default();
    let mut head = [0u8; 9];
    loop {
        match tokio::time::timeout(quiet, r.read_exact(&mut head)).await {
            Err(_) => return seen,
            Ok(Err(_)) => {
                seen.closed = true;
                return seen;
            }
            Ok(Ok(_)) => {}
        }
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let (kind, flags) = (head[3], head[4]);
        let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        let mut payload = vec![0u8; len];
        if r.read_exact(&mut payload).await.is_err() {
            seen.closed = true;
            return seen;
        }
        let word = |at: usize| {
            u32::from_be_bytes([
                payload[at],
                payload[at + 1],
                payload[at + 2],
                payload[at + 3],
            ])
        };
        match kind {
            RST_STREAM => seen.resets.push((stream, word(0))),
            GOAWAY => seen.goaway = Some(word(4)),
            HEADERS => seen
                .responses
                .push((stream, payload.first().copied().unwrap_or(0))),
            SETTINGS if flags & ACK != 0 => seen.settings_acks += 1,
            SETTINGS => {
                seen.settings = payload
                    .chunks_exact(6)
                    .map(|s| {
                        (
                            u16::from_be_bytes([s[0], s[1]]),
                            u32::from_be_bytes([s[2], s[3], s[4], s[5]]),
                        )
                    })
                    .collect();
            }
            PING if flags & ACK != 0 => seen.pongs += 1,
            _ => {}
        }
    }
}

/// Opens a raw HTTP/2 connection, writes `frames` after the preface and an empty
/// SETTINGS, and reads what comes back until the server closes it or is quiet for 2 s,
/// while the well-behaved client is served on another connection.
async fn h2_abuse(live: &Live, frames: Vec<u8>) -> Seen {
    let s = TcpStream::connect(live.addr).await.unwrap();
    let (r, mut w) = s.into_split();
    let reader = tokio::task::spawn_local(read_frames(r, Duration::from_secs(2)));
    let writer = tokio::task::spawn_local(async move {
        let mut all = PREFACE.to_vec();
        frame(&mut all, SETTINGS, 0, 0, &[]);
        all.extend_from_slice(&frames);
        // The server may close the connection before it has read everything.
        for chunk in all.chunks(64 * 1024) {
            if w.write_all(chunk).await.is_err() {
                return;
            }
            tokio::task::yield_now().await;
        }
        // Kept open: the server, not the client, must end an abusive connection.
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(w);
    });
    // Served while the abuse goes on.
    served(live).await;
    let seen = reader.await.unwrap();
    writer.abort();
    seen
}

/// HTTP/2 "rapid reset" (CVE-2023-44487): 10,000 streams each opened and at once reset.
/// The server takes no more than `H2_PENDING_RESETS_MAX` of them before it sends GOAWAY
/// with ENHANCE_YOUR_CALM and closes the connection.
#[test]
fn h2_rapid_resets_close_the_connection() {
    run_local(async {
        let live = start().await;
        let block = request_block(&live, false, EXECUTIONS, &[]);
        let mut frames = Vec::new();
        for i in 0..10_000u32 {
            let id = 2 * i + 1;
            frame(&mut frames, HEADERS, END_HEADERS | END_STREAM, id, &block);
            frame(&mut frames, RST_STREAM, 0, id, &CANCEL.to_be_bytes());
        }
        let seen = h2_abuse(&live, frames).await;
        assert_eq!(seen.goaway, Some(ENHANCE_YOUR_CALM), "{seen:?}");
        assert!(seen.closed, "the connection is closed");
        assert!(
            seen.responses.len() < 1000,
            "{} answered",
            seen.responses.len()
        );
        served(&live).await;
    });
}

/// 10,000 streams opened at once, none finished (each a POST whose body never comes): the
/// server advertises its limit, refuses the streams over it, and once it has refused too
/// many, ends the connection.
#[test]
fn h2_ten_thousand_streams_are_refused_past_the_limit() {
    run_local(async {
        let live = start().await;
        let block = request_block(&live, true, EXECUTIONS, &[]);
        let mut frames = Vec::new();
        for i in 0..10_000u32 {
            frame(&mut frames, HEADERS, END_HEADERS, 2 * i + 1, &block);
        }
        let seen = h2_abuse(&live, frames).await;
        assert!(
            seen.settings.contains(&(3, H2_STREAMS_MAX)),
            "SETTINGS_MAX_CONCURRENT_STREAMS advertised: {:?}",
            seen.settings
        );
        let refused = seen.resets.iter().filter(|r| r.1 == REFUSED_STREAM).count();
        assert!(refused > 0, "{seen:?}");
        assert!(refused <= H2_ERROR_RESETS_MAX + 1, "{refused} refused");
        assert_eq!(seen.goaway, Some(ENHANCE_YOUR_CALM), "{:?}", seen.goaway);
        assert!(seen.closed);
        // No stream past the limit was taken: none of them got an answer.
        assert!(
            seen.responses
                .iter()
                .all(|&(id, _)| id < 2 * (H2_STREAMS_MAX + 1)),
            "{:?}",
            seen.responses
        );
        // Nothing was started by the half-sent POSTs.
        assert_eq!(served(&live).await, 0);
    });
}

/// A request whose header list is 1 MiB (a HEADERS frame and 63 CONTINUATIONs): refused
/// without being answered 200, whatever h2 chooses (a reset, a non-200 answer, GOAWAY).
#[test]
fn h2_a_one_mebibyte_header_list_is_refused() {
    run_local(async {
        let live = start().await;
        let pad = vec![b'a'; 8 * 1024];
        let extra: Vec<(&str, &[u8])> = (0..128).map(|_| ("x-pad", pad.as_slice())).collect();
        let block = request_block(&live, false, EXECUTIONS, &extra);
        assert!(block.len() > 1024 * 1024);
        let mut frames = Vec::new();
        let chunks: Vec<&[u8]> = block.chunks(16 * 1024).collect();
        for (k, chunk) in chunks.iter().enumerate() {
            let last = if k + 1 == chunks.len() {
                END_HEADERS
            } else {
                0
            };
            let (kind, flags) = if k == 0 {
                (HEADERS, END_STREAM | last)
            } else {
                (CONTINUATION, last)
            };
            frame(&mut frames, kind, flags, 1, chunk);
        }
        let seen = h2_abuse(&live, frames).await;
        assert!(
            seen.settings.contains(&(6, H2_HEADER_LIST_BYTES_MAX)),
            "SETTINGS_MAX_HEADER_LIST_SIZE advertised: {:?}",
            seen.settings
        );
        // 0x88 is HPACK's `:status: 200`.
        assert!(
            seen.responses.iter().all(|&(_, first)| first != 0x88),
            "{seen:?}"
        );
        assert!(
            !seen.resets.is_empty() || seen.goaway.is_some() || !seen.responses.is_empty(),
            "the request was refused, not left hanging: {seen:?}"
        );
        served(&live).await;
    });
}

/// Floods of SETTINGS and PINGs (100,000 each): h2 acknowledges each before it reads the
/// next frame, so the server holds at most one pending answer per connection and a
/// flooder that does not read is held back by TCP; the flooder is answered no more than it
/// sent, and another connection is served meanwhile.
#[test]
fn h2_floods_of_settings_and_pings_leave_other_connections_served() {
    run_local(async {
        let live = start().await;
        for kind in [SETTINGS, PING] {
            let mut frames = Vec::new();
            for i in 0..100_000u64 {
                let payload = if kind == PING {
                    i.to_be_bytes().to_vec()
                } else {
                    vec![]
                };
                frame(&mut frames, kind, 0, 0, &payload);
            }
            let seen = h2_abuse(&live, frames).await;
            let answers = if kind == PING {
                seen.pongs
            } else {
                seen.settings_acks
            };
            assert!(answers > 0 && answers <= 100_001, "{answers} answers");
            served(&live).await;
        }
    });
}

/// A stream's DATA after the stream is done is a protocol error the server answers with a
/// reset or GOAWAY, not a crash: the next connection is served.
#[test]
fn h2_data_on_a_closed_stream_is_refused() {
    run_local(async {
        let live = start().await;
        let block = request_block(&live, false, EXECUTIONS, &[]);
        let mut frames = Vec::new();
        frame(&mut frames, HEADERS, END_HEADERS | END_STREAM, 1, &block);
        frame(&mut frames, DATA, END_STREAM, 1, b"late");
        let seen = h2_abuse(&live, frames).await;
        assert!(!seen.resets.is_empty() || seen.goaway.is_some(), "{seen:?}");
        served(&live).await;
    });
}

// ---- bodies ----

/// JSON nested 100,000 deep, as an API body and as a callback's body; invalid UTF-8 in a
/// JSON string, likewise. The API refuses each with 400 and the reason; a callback is
/// taken (its body is the workflow's to read: CB-8 makes JSON that does not parse a
/// string, and bytes that are not UTF-8 bytes) and the execution it wakes ends with it.
#[test]
fn hostile_json_bodies_are_refused_with_the_reason() {
    run_local(async {
        let live = start().await;
        let deep = format!(
            "{{\"argument\": {}1{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let bad_utf8 = b"{\"argument\": \"\xff\xfe\"}".to_vec();
        for body in [deep.clone().into_bytes(), bad_utf8.clone()] {
            let (status, err) = call(&live, "POST", EXECUTIONS, body).await;
            let why = reason(status, &err);
            assert_eq!(status, 400, "{why}");
        }
        assert_eq!(served(&live).await, 0, "nothing started");
        // As callback bodies: each answered, and its execution not left hanging.
        for body in [deep.into_bytes(), b"{\"a\": \"\xff\"}".to_vec()] {
            let name = create(&live).await;
            let (_, list) = call(&live, "GET", &format!("/v1/{name}/callbacks"), vec![]).await;
            let cb = format!("/v1/{}", list["callbacks"][0]["name"].as_str().unwrap());
            let (status, answer) = call_typed(&live, "POST", &cb, "application/json", body).await;
            assert_eq!(status, 200, "{answer}");
            let mut state = Json::Null;
            for _ in 0..200 {
                state = call(&live, "GET", &format!("/v1/{name}"), vec![]).await.1;
                if state["state"] != "ACTIVE" {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert_eq!(
                state["state"], "SUCCEEDED",
                "the callback taken: {state:.300}"
            );
        }
        assert_eq!(served(&live).await, 2);
    });
}

/// A Content-Length shorter than the body: the request it announces is taken (and kept),
/// the bytes after it are a malformed next request, refused with 400 and the connection
/// closed (HTTP/1.1 §6.3). Longer than the body: the server waits no longer than its
/// timeout for the rest, and answers 408 with the reason; nothing is started.
#[test]
fn a_content_length_that_lies_loses_nothing_accepted() {
    run_local(async {
        let live = start().await;
        let head = |len: usize| {
            format!(
                "POST {EXECUTIONS} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
                 Content-Type: application/json\r\nContent-Length: {len}\r\n\r\n",
                live.token
            )
        };
        let shorter = format!("{}{{}}garbage that is no request\r\n\r\n", head(2));
        let got = String::from_utf8_lossy(&raw_exchange(&live, shorter.as_bytes(), false).await)
            .into_owned();
        assert!(got.starts_with("HTTP/1.1 200"), "{got}");
        assert!(got.contains("HTTP/1.1 400"), "the rest refused: {got}");
        assert_eq!(served(&live).await, 1, "the announced request was kept");
        // Longer: 100 bytes promised, 2 sent, the connection left open.
        let longer = format!("{}{{}}", head(100));
        let got = String::from_utf8_lossy(&raw_exchange(&live, longer.as_bytes(), false).await)
            .into_owned();
        assert!(got.starts_with("HTTP/1.1 408"), "{got}");
        assert!(got.contains("did not all come within"), "{got}");
        // Longer, and the client half-closes: the body ends early, 400 with the reason.
        let got = String::from_utf8_lossy(&raw_exchange(&live, longer.as_bytes(), true).await)
            .into_owned();
        assert!(
            got.is_empty() || got.starts_with("HTTP/1.1 4"),
            "refused or closed: {got}"
        );
        assert_eq!(served(&live).await, 1, "nothing more was started");
    });
}

// ---- paths ----

/// Ids with percent-encoded slashes and dots, a percent-encoded byte that is not UTF-8, and
/// a 64 KiB path: each a 4xx with the reason, never another resource than the one named.
/// Raw invalid UTF-8 in the request line is refused by HTTP itself (400, connection closed).
#[test]
fn hostile_paths_are_refused_with_the_reason() {
    run_local(async {
        let live = start().await;
        let name = create(&live).await;
        let wf = "/v1/projects/p/locations/l/workflows";
        // Just under what a URI may be (65,534 bytes): the API answers it.
        let long = format!("{wf}/{}/executions", "a".repeat(60 * 1024));
        for path in [
            format!("{wf}/create_await%2Fexecutions"),
            format!("{wf}/..%2Fcreate_await/executions"),
            format!("{wf}/%2E%2E/executions"),
            format!("{wf}/create_await/executions/%2E%2E"),
            format!("/v1/{name}%2Fcallbacks"),
            format!("/v1/{name}/..%2F..%2F"),
            format!("{wf}/%FF%FE/executions"),
            format!("/v1/{name}/callbacks/%FF"),
            long,
        ] {
            for method in ["GET", "POST"] {
                let (status, body) = call(&live, method, &path, b"{}".to_vec()).await;
                reason(status, &body);
            }
        }
        let got = raw_exchange(
            &live,
            b"GET /v1/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
            false,
        )
        .await;
        let got = String::from_utf8_lossy(&got);
        assert!(got.starts_with("HTTP/1.1 400"), "{got}");
        // A 64 KiB path is over what a URI may be: 414, the status that says so.
        let request = format!(
            "GET {wf}/{}/executions HTTP/1.1\r\nHost: x\r\n\r\n",
            "a".repeat(64 * 1024)
        );
        let got = raw_exchange(&live, request.as_bytes(), false).await;
        let got = String::from_utf8_lossy(&got);
        assert!(got.starts_with("HTTP/1.1 414"), "{got:.200}");
        // Only the one execution created above, still there.
        assert_eq!(served(&live).await, 1);
        let (status, e) = call(&live, "GET", &format!("/v1/{name}"), vec![]).await;
        assert_eq!((status, e["state"].as_str()), (200, Some("ACTIVE")), "{e}");
    });
}
