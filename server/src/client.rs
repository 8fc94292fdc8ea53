//! Live mode's client for outbound calls no scripted service answers (HT-9): the real
//! network, plain `http://`, one HTTP/1.1 connection per call, at the connection level of
//! hyper like the server (so it runs on tokio and under madsim alike).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use wfsim_engine::http::{Callee, HttpCall, HttpOutcome, HttpResponse};

/// The most of a response body a call takes: GCP's limit on an HTTP response (2 MB).
pub const RESPONSE_BYTES_MAX: usize = 2 * 1024 * 1024;

/// Sends `call` and returns its outcome; `None` when no answer came within its timeout
/// (real time), in which case the engine raises `TimeoutError` on its own clock.
pub async fn send(call: &HttpCall) -> Option<HttpOutcome> {
    let exchange = exchange(call);
    tokio::time::timeout(call.timeout, exchange).await.ok()
}

async fn exchange(call: &HttpCall) -> HttpOutcome {
    let request = match &call.target {
        Callee::Http(r) => r,
        Callee::Connector { name, .. } => {
            return HttpOutcome::ConnectionFailed(format!(
                "{name} is a Google API: wfsim serve does not call it; answer it with --services \
                 (a service with match: {{call: {name}}})"
            ));
        }
    };
    let uri: hyper::Uri = match request.url.parse() {
        Ok(u) => u,
        Err(e) => {
            return HttpOutcome::ConnectionFailed(format!("'{}' is not a URL: {e}", request.url));
        }
    };
    if uri.scheme_str() != Some("http") {
        return HttpOutcome::ConnectionFailed(format!(
            "wfsim serve reaches http:// URLs only, not '{}'; answer it with --services",
            request.url
        ));
    }
    let Some(host) = uri.host() else {
        return HttpOutcome::ConnectionFailed(format!("'{}' names no host", request.url));
    };
    let port = uri.port_u16().unwrap_or(80);
    let stream = match TcpStream::connect((host, port)).await {
        Ok(s) => s,
        Err(e) => {
            return HttpOutcome::ConnectionFailed(format!("cannot connect to {host}:{port}: {e}"));
        }
    };
    let broken =
        |e: &dyn std::fmt::Display| HttpOutcome::ConnectionError(format!("{}: {e}", request.url));
    let (mut sender, conn) = match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
    {
        Ok(pair) => pair,
        Err(e) => return broken(&e),
    };
    tokio::task::spawn_local(conn);
    let mut builder = Request::builder()
        .method(request.method.as_str())
        .uri(uri.path_and_query().map_or("/", |p| p.as_str()));
    let authority = uri.authority().map_or(host, |a| a.as_str());
    if request.header("host").is_none() {
        builder = builder.header("Host", authority);
    }
    for (k, v) in &request.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let req = match builder.body(Full::new(Bytes::from(request.body.clone()))) {
        Ok(r) => r,
        Err(e) => {
            return HttpOutcome::ConnectionFailed(format!("cannot send to {}: {e}", request.url));
        }
    };
    let res = match sender.send_request(req).await {
        Ok(r) => r,
        Err(e) => return broken(&e),
    };
    let status = res.status().as_u16();
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    let mut incoming = res.into_body();
    while let Some(frame) = incoming.frame().await {
        match frame {
            Ok(f) => {
                if let Ok(data) = f.into_data() {
                    body.extend_from_slice(&data);
                    if body.len() > RESPONSE_BYTES_MAX {
                        return HttpOutcome::ConnectionError(format!(
                            "{}: the response is over {RESPONSE_BYTES_MAX} bytes (2 MiB)",
                            request.url
                        ));
                    }
                }
            }
            Err(e) => return broken(&e),
        }
    }
    HttpOutcome::Response(HttpResponse {
        status,
        headers,
        body,
    })
}
