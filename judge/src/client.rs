//! The target over HTTP/1.1: one connection per request (hyper's client at the connection
//! level), every exchange kept in order so that a failed check can show the requests that
//! led to it.

use std::cell::RefCell;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value as Json;
use tokio::net::TcpStream;

/// Where the target is and how to speak to it.
#[derive(Debug)]
pub struct Target {
    /// `host:port`.
    authority: String,
    token: Option<String>,
    pub project: String,
    pub location: String,
    /// Every exchange since the last [`Target::take_log`]: one line each.
    log: RefCell<Vec<String>>,
    /// The judge's own label for the instant of the next exchanges (`t=3s`), if any.
    at: RefCell<Option<String>>,
}

/// A response: status and body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON (`null` if it is not JSON).
    pub fn json(&self) -> Json {
        serde_json::from_slice(&self.body).unwrap_or(Json::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Target {
    /// `url` is `http://host:port` (a trailing `/` is fine).
    pub fn new(
        url: &str,
        token: Option<String>,
        project: String,
        location: String,
    ) -> Result<Target, String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            if url.starts_with("https://") {
                format!("--target {url}: https is not supported yet (this client speaks plain HTTP/1.1); use http://")
            } else {
                format!("--target {url}: expected http://HOST:PORT")
            }
        })?;
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            return Err(format!(
                "--target {url}: expected http://HOST:PORT, without a path"
            ));
        }
        Ok(Target {
            authority: authority.to_owned(),
            token,
            project,
            location,
            log: RefCell::new(Vec::new()),
            at: RefCell::new(None),
        })
    }

    /// `/v1/projects/P/locations/L`.
    pub fn parent(&self) -> String {
        format!("/v1/projects/{}/locations/{}", self.project, self.location)
    }

    /// Labels the exchanges that follow with an instant of the scenario (`None`: none).
    pub fn set_instant(&self, at: Option<String>) {
        *self.at.borrow_mut() = at;
    }

    /// The exchanges since the last call, one line each.
    pub fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.borrow_mut())
    }

    /// A request with the target's token, if it has one.
    pub async fn send(&self, method: &str, path: &str, body: Vec<u8>) -> Result<Response, String> {
        let json = !body.is_empty();
        let headers: Vec<(String, String)> = if json {
            vec![("Content-Type".into(), "application/json".into())]
        } else {
            Vec::new()
        };
        self.send_with(method, path, &headers, body).await
    }

    /// A request with these headers (and the token).
    pub async fn send_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<Response, String> {
        let body_len = body.len();
        let res = self.exchange(method, path, headers, body).await;
        let at = self
            .at
            .borrow()
            .clone()
            .map_or(String::new(), |a| format!("{a:>10}  "));
        // The project and location are the same on every line: said once, in the header.
        let prefix = format!("{}/", self.parent());
        let path = path
            .strip_prefix(&prefix)
            .map_or_else(|| path.to_owned(), |p| format!(".../{p}"));
        let line = match &res {
            Ok(r) => format!(
                "{at}{method} {path}{} -> {} {}",
                if body_len > 0 {
                    format!(" ({body_len} bytes)")
                } else {
                    String::new()
                },
                r.status,
                short(&r.text())
            ),
            Err(e) => format!("{at}{method} {path} -> no answer: {e}"),
        };
        self.log.borrow_mut().push(line);
        res
    }

    async fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<Response, String> {
        let stream = TcpStream::connect(&self.authority)
            .await
            .map_err(|e| format!("cannot connect to {}: {e}", self.authority))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake with {}: {e}", self.authority))?;
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("Host", &self.authority);
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("cannot make the request {method} {path}: {e}"))?;
        let res = sender
            .send_request(req)
            .await
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let status = res.status().as_u16();
        let body = res
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{method} {path}: reading the body: {e}"))?
            .to_bytes()
            .to_vec();
        driver.abort();
        Ok(Response { status, body })
    }
}

/// A body cut to one short line for the transcript.
fn short(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 120 {
        let cut: String = one_line.chars().take(117).collect();
        format!("{cut}...")
    } else {
        one_line
    }
}
