//! Live mode's client for outbound calls no scripted service answers (HT-9): the real
//! network, `http://` and `https://` (rustls, trusting the system's roots and any
//! `--ca-cert`), one HTTP/1.1 connection per call, at the connection level of hyper like the
//! server (so it runs on tokio and under madsim alike; madsim's network has no TLS).

use crate::connectors::Emulators;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use wfsim_engine::http::{Callee, HttpCall, HttpOutcome, HttpResponse, OutboundRequest};

/// The most of a response body a call takes: GCP's limit on an HTTP response (2 MB).
pub const RESPONSE_BYTES_MAX: usize = 2 * 1024 * 1024;

/// What `https://` calls trust. The default trusts nothing, so `https://` fails with a
/// message saying so (simulations, which never call out); `wfsim serve` builds it with
/// [`Tls::trusting`].
#[derive(Clone, Default)]
pub struct Tls {
    #[cfg(not(madsim))]
    config: Option<std::sync::Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

#[cfg(not(madsim))]
impl Tls {
    /// The system's root certificates, and every certificate of the PEM files `ca_certs`
    /// (path, contents): a local CA's, for a service on localhost. Also returns what could
    /// not be loaded from the system's store, for a warning (a machine may have none).
    pub fn trusting(ca_certs: &[(String, Vec<u8>)]) -> Result<(Tls, Vec<String>), String> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        let mut warnings: Vec<String> = native.errors.iter().map(ToString::to_string).collect();
        let (_, ignored) = roots.add_parsable_certificates(native.certs);
        if ignored > 0 {
            warnings.push(format!(
                "{ignored} system root certificates could not be parsed"
            ));
        }
        for (path, pem) in ca_certs {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("{path}: not a PEM certificate file: {e}"))?;
            if certs.is_empty() {
                return Err(format!("{path}: holds no PEM certificate"));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| format!("{path}: cannot trust this certificate: {e}"))?;
            }
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok((
            Tls {
                config: Some(std::sync::Arc::new(config)),
            },
            warnings,
        ))
    }
}

/// Sends `call` and returns its outcome; `None` when no answer came within its timeout
/// (real time), in which case the engine raises `TimeoutError` on its own clock.
pub async fn send(call: &HttpCall, tls: &Tls, emulators: &Emulators) -> Option<HttpOutcome> {
    let exchange = exchange(call, tls, emulators);
    tokio::time::timeout(call.timeout, exchange).await.ok()
}

async fn exchange(call: &HttpCall, tls: &Tls, emulators: &Emulators) -> HttpOutcome {
    match &call.target {
        Callee::Http(r) => fetch(r, tls).await,
        Callee::Connector { name, args } => match emulators.request(name, args) {
            Some(Ok(request)) => fetch(&request, tls).await,
            Some(Err(answer)) => answer,
            None => HttpOutcome::ConnectionFailed(format!(
                "{name} is a Google API: wfsim serve calls one only on an emulator ({}); answer \
                 it with --services (a service with match: {{call: {name}}})",
                crate::connectors::EMULATOR_VARIABLES
                    .map(|(_, v)| v)
                    .join(", ")
            )),
        },
    }
}

/// One request to its URL's host: `http://` or `https://`.
pub(crate) async fn fetch(request: &OutboundRequest, tls: &Tls) -> HttpOutcome {
    let uri: hyper::Uri = match request.url.parse() {
        Ok(u) => u,
        Err(e) => {
            return HttpOutcome::ConnectionFailed(format!("'{}' is not a URL: {e}", request.url));
        }
    };
    let secure = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => {
            return HttpOutcome::ConnectionFailed(format!(
                "wfsim serve reaches http:// and https:// URLs, not '{}'; answer it with --services",
                request.url
            ));
        }
    };
    let Some(host) = uri.host() else {
        return HttpOutcome::ConnectionFailed(format!("'{}' names no host", request.url));
    };
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let stream = match TcpStream::connect((host, port)).await {
        Ok(s) => s,
        Err(e) => {
            return HttpOutcome::ConnectionFailed(format!("cannot connect to {host}:{port}: {e}"));
        }
    };
    if secure {
        match tls_connect(tls, host, stream).await {
            Ok(stream) => over(stream, request, &uri, host).await,
            Err(outcome) => outcome,
        }
    } else {
        over(stream, request, &uri, host).await
    }
}

/// The TLS handshake with `host` (its certificate checked against [`Tls`]'s roots): a
/// failure is the engine's ConnectionFailedError, as a refused connection is.
#[cfg(not(madsim))]
async fn tls_connect(
    tls: &Tls,
    host: &str,
    stream: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, HttpOutcome> {
    let Some(config) = &tls.config else {
        return Err(HttpOutcome::ConnectionFailed(format!(
            "https://{host}: this server was started without TLS roots"
        )));
    };
    // `[::1]` in a URL is the IP address `::1` to TLS.
    let name = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let server_name = rustls_pki_types::ServerName::try_from(name)
        .map_err(|e| HttpOutcome::ConnectionFailed(format!("https://{host}: {e}")))?;
    tokio_rustls::TlsConnector::from(std::sync::Arc::clone(config))
        .connect(server_name, stream)
        .await
        .map_err(|e| HttpOutcome::ConnectionFailed(format!("https://{host}: TLS: {e}")))
}

#[cfg(madsim)]
async fn tls_connect(_: &Tls, host: &str, _: TcpStream) -> Result<TcpStream, HttpOutcome> {
    Err(HttpOutcome::ConnectionFailed(format!(
        "https://{host}: a simulated network has no TLS"
    )))
}

/// One HTTP/1.1 exchange over a connected (and, for `https://`, secured) stream.
async fn over<S>(stream: S, request: &OutboundRequest, uri: &hyper::Uri, host: &str) -> HttpOutcome
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
{
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
