//! The load generator's HTTP client: each worker owns its connections and drives them in
//! its own task (no pool, no second task per connection, one wake-up per response), over
//! plain TCP or TLS (`engine::tls`). HTTP/1.1 is our own `h1` (the request written from
//! one buffer, the answer parsed with httparse: no dispatch channel per request); with
//! `--http2` an https connection whose server picks `h2` in ALPN is driven through hyper's
//! `client::conn::http2`. reqwest is kept for control calls; hyper types stay in this
//! folder: `wire` holds the stream type and `drive`, `dial` DNS, TCP and TLS, `framing`
//! what an HTTP/1.1 answer's head says about its body.

#![deny(missing_docs)]

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2;
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio_util::either::Either;
use url::Url;

mod dial;
mod framing;
pub(crate) mod h1;
mod wire;

use dial::{Resolved, connect_tcp, open_stream};
use framing::parse_retry_after;
use h1::{Answer, Broken, H1};
use wire::{ConnectionEnded, H2, Stream, describe, drive, negotiated_h2};

use super::tls::{ClientTls, explain_handshake_error, server_name};
use crate::metrics::{FailureKind, LatencyHistogram};
use crate::workload::{Method, PlannedRequest};

/// How the client connects and how long it waits.
#[derive(Clone)]
pub struct ClientOptions {
    /// From sending a request to its whole answer.
    pub request_timeout: Duration,
    /// TCP connect plus TLS handshake.
    pub connect_timeout: Duration,
    /// Required for https URLs.
    pub tls: Option<ClientTls>,
    /// Sent with every request (after Host and Content-Type).
    pub headers: Vec<(String, String)>,
    /// Local addresses to connect from, taken in turn (empty: the kernel's choice). One
    /// address holds one connection per local port to a given target (about 28,000 with
    /// Linux's default port range); several hold that many each.
    pub source_addrs: Vec<std::net::IpAddr>,
}

/// Header values may be secrets: `Debug` shows their names only.
impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ClientOptions { request_timeout, connect_timeout, tls, headers, source_addrs } = self;
        f.debug_struct("ClientOptions")
            .field("request_timeout", request_timeout)
            .field("connect_timeout", connect_timeout)
            .field("tls", tls)
            .field("headers", &crate::profile::debug_header_names(headers.iter().map(|(n, _)| n)))
            .field("source_addrs", source_addrs)
            .finish()
    }
}

impl ClientOptions {
    /// Options with this request timeout, a connect timeout of at most 5 s, public roots and no extra headers.
    pub fn with_timeout(request_timeout: Duration) -> ClientOptions {
        ClientOptions {
            request_timeout,
            connect_timeout: request_timeout.min(Duration::from_secs(5)),
            tls: None,
            headers: Vec::new(),
            source_addrs: Vec::new(),
        }
    }
}

/// Connections opened and how long each took (TCP connect + TLS handshake).
#[derive(Clone, Debug, Default)]
pub struct ConnectStats {
    /// Connections opened successfully.
    pub connects: u64,
    /// Connection attempts that failed (refused, timed out, TLS rejected).
    pub failed: u64,
    /// Time to connect, TLS handshake included (µs resolution).
    pub time: LatencyHistogram,
}

/// What one request came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// 2xx, with the body size in bytes and, for `/batch`, how many items the answer
    /// reports as failed (a batch is answered 200 even when some of its items failed).
    /// `duplicate`: the answer to a resent `/webhook` said the failure was already claimed
    /// (TerraFix's dedup), so no new work was done for it (always false for first sends).
    Ok {
        /// Answer body size in bytes.
        content_bytes: u64,
        /// `/batch` items the answer reports as failed; 0 for other requests.
        failed_items: u64,
        /// The answer said the failure was already claimed (a resend's dedup hit).
        duplicate: bool,
    },
    /// Counted as a failure; `message` is a short human description; `retry_after` is
    /// the server's `Retry-After` (in seconds) when it sent one.
    Failed {
        /// Why it counts as failed.
        kind: FailureKind,
        /// A short description, as the failures CSV shows it.
        message: String,
        /// Answer body bytes received (0 without an answer).
        content_bytes: u64,
        /// The server's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
}

/// Where and how to send; shared by every worker of a run, cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Target>,
}

struct Target {
    /// The URL's host and port, resolved (asynchronously) at the first connect and again
    /// when connecting to every known address fails: a service behind a load balancer
    /// changes addresses.
    host_name: String,
    port: u16,
    addrs: Mutex<Resolved>,
    /// Why the client cannot work at all (TLS setup), reported on every request.
    setup_error: Option<String>,
    host: HeaderValue,
    /// Base path without a trailing slash ("" for most targets).
    base_path: String,
    /// The HTTP/2 request URIs of the paths the workload sends, parsed once.
    uris: Arc<[KnownUri]>,
    timeout: Duration,
    connect_timeout: Duration,
    /// `Some` for https targets: the connector and the name to send (SNI).
    tls: Option<(tokio_rustls::TlsConnector, rustls::pki_types::ServerName<'static>)>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Local addresses to connect from, in turn (empty: the kernel's choice).
    source_addrs: Arc<[std::net::IpAddr]>,
    /// Idle connections of the open model's short-lived senders.
    idle: Mutex<Vec<Connection>>,
    /// Connects are rare on keep-alive connections: one lock per connect is cheap.
    connect_stats: Mutex<ConnectStats>,
}

impl HttpClient {
    /// A client for `base_url` with this request timeout and default options (see [`ClientOptions::with_timeout`]).
    pub fn new(base_url: &Url, timeout: Duration) -> Self {
        Self::with_options(base_url, &ClientOptions::with_timeout(timeout))
    }

    /// A client for `base_url`. An https URL without `options.tls` gets the public roots;
    /// headers that are not valid HTTP are refused earlier (`profile`), and skipped here.
    pub fn with_options(base_url: &Url, options: &ClientOptions) -> Self {
        let host = base_url.host_str().unwrap_or("127.0.0.1").to_string();
        let port = base_url.port_or_known_default().unwrap_or(80);
        let authority = match base_url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let host_header =
            HeaderValue::from_str(&authority).unwrap_or_else(|_| HeaderValue::from_static("localhost"));
        let mut setup_error = None;
        let tls = if base_url.scheme() == "https" {
            let tls = match &options.tls {
                Some(t) => Ok(t.clone()),
                None => ClientTls::new(Default::default(), false).map_err(|e| e.to_string()),
            };
            match tls.and_then(|t| Ok((t.connector(), server_name(&host)?))) {
                Ok(pair) => Some(pair),
                Err(e) => {
                    setup_error = Some(e);
                    None
                }
            }
        } else {
            None
        };
        let headers = options
            .headers
            .iter()
            .filter_map(|(n, v)| Some((HeaderName::try_from(n).ok()?, HeaderValue::try_from(v).ok()?)))
            .collect();
        Self {
            inner: Arc::new(Target {
                host_name: host.clone(),
                port,
                addrs: Mutex::new(Resolved::default()),
                setup_error,
                host: host_header,
                uris: known_uris(&authority, base_url.path().trim_end_matches('/')),
                base_path: base_url.path().trim_end_matches('/').to_string(),
                timeout: options.request_timeout,
                connect_timeout: options.connect_timeout,
                tls,
                headers,
                source_addrs: options.source_addrs.clone().into(),
                idle: Mutex::new(Vec::new()),
                connect_stats: Mutex::new(ConnectStats::default()),
            }),
        }
    }

    /// The same target with other timeouts (a phase's own), with its own connections.
    pub fn with_timeouts(&self, request: Option<Duration>, connect: Option<Duration>) -> HttpClient {
        if request.is_none() && connect.is_none() {
            return self.clone();
        }
        let t = &self.inner;
        HttpClient {
            inner: Arc::new(Target {
                host_name: t.host_name.clone(),
                port: t.port,
                addrs: Mutex::new(t.addrs.lock().map(|r| r.clone()).unwrap_or_default()),
                setup_error: t.setup_error.clone(),
                host: t.host.clone(),
                base_path: t.base_path.clone(),
                uris: t.uris.clone(),
                timeout: request.unwrap_or(t.timeout),
                connect_timeout: connect.unwrap_or(t.connect_timeout),
                tls: t.tls.clone(),
                headers: t.headers.clone(),
                source_addrs: t.source_addrs.clone(),
                idle: Mutex::new(Vec::new()),
                connect_stats: Mutex::new(ConnectStats::default()),
            }),
        }
    }

    /// For an https target: one TLS handshake, so a certificate problem is reported before
    /// any load. A target that cannot be reached at all is not an error here (the run counts
    /// its connection errors, as for http). Answers the protocol the server chose in ALPN
    /// (`HTTP/2` or `HTTP/1.1`), when the handshake happened.
    pub async fn check_tls(&self) -> Result<Option<&'static str>, String> {
        let target = &self.inner;
        let Some((connector, name)) = &target.tls else { return Ok(None) };
        if let Some(e) = &target.setup_error {
            return Err(e.clone());
        }
        let Ok(Ok(tcp)) = tokio::time::timeout(target.connect_timeout, connect_tcp(target)).await else {
            return Ok(None);
        };
        let host = target.host.to_str().unwrap_or("the target");
        match tokio::time::timeout(target.connect_timeout, connector.connect(name.clone(), tcp)).await {
            Ok(Ok(tls)) => {
                let stream: Stream = Either::Right(Box::new(tls));
                Ok(Some(if negotiated_h2(&stream) { "HTTP/2" } else { "HTTP/1.1" }))
            }
            Ok(Err(e)) => Err(explain_handshake_error(&e, host)),
            Err(_) => Ok(None),
        }
    }

    /// The connects since the last call (a phase takes them at its start and end).
    pub fn take_connect_stats(&self) -> ConnectStats {
        self.inner.connect_stats.lock().map(|mut s| std::mem::take(&mut *s)).unwrap_or_default()
    }

    fn note_connect(&self, took: Option<Duration>) {
        if let Ok(mut s) = self.inner.connect_stats.lock() {
            match took {
                Some(d) => {
                    s.connects += 1;
                    s.time.record(d);
                }
                None => s.failed += 1,
            }
        }
    }

    /// The per-request timeout.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The connect (and TLS handshake) timeout.
    pub fn connect_timeout(&self) -> Duration {
        self.inner.connect_timeout
    }

    /// A worker's own connection (opened on first use, reopened after errors).
    pub fn connection(&self) -> Connection {
        Connection { client: self.clone(), live: None }
    }

    /// An idle connection from the shared stash, or a new one (open model).
    pub fn checkout(&self) -> Connection {
        let stashed = self.inner.idle.lock().ok().and_then(|mut idle| idle.pop());
        stashed.unwrap_or_else(|| self.connection())
    }

    /// Opens up to `n` connections at once (all given up after `within`) and stashes them for
    /// [`HttpClient::checkout`], so the open model's first arrivals find one ready instead of
    /// each opening its own: a burst of connects as the schedule starts makes the arrivals
    /// behind them late, and those open more connections still. Returns how many opened;
    /// a failed connect is counted in the connect stats like any other.
    pub async fn warm(&self, n: usize, within: Duration) -> usize {
        let opening = (0..n).map(|_| async {
            let mut connection = self.connection();
            connection.connect().await.is_ok().then_some(connection)
        });
        let opened =
            tokio::time::timeout(within, futures::future::join_all(opening)).await.unwrap_or_default();
        let opened: Vec<Connection> = opened.into_iter().flatten().collect();
        let count = opened.len();
        if let Ok(mut idle) = self.inner.idle.lock() {
            idle.extend(opened);
        }
        count
    }

    /// Gives a connection back to the stash for the next sender.
    pub fn checkin(&self, mut connection: Connection) {
        connection.idle();
        if connection.live.is_some()
            && let Ok(mut idle) = self.inner.idle.lock()
        {
            idle.push(connection);
        }
    }
}

/// One keep-alive connection, driven by whoever sends on it.
pub struct Connection {
    client: HttpClient,
    live: Option<Live>,
}

/// A live connection: HTTP/1.1 through our own `h1`, HTTP/2 (`--http2`) through hyper.
enum Live {
    H1(Box<H1>),
    H2 { sender: http2::SendRequest<Full<Bytes>>, conn: Pin<Box<H2>> },
}

fn failed(kind: FailureKind, message: String) -> Outcome {
    Outcome::Failed { kind, message, content_bytes: 0, retry_after: None }
}

/// A whole answer, whichever protocol carried it.
struct Reply {
    status: u16,
    retry_after: Option<Duration>,
    /// The server closes the connection after this answer.
    closing: bool,
    content_bytes: u64,
    failed_items: u64,
    duplicate: bool,
}

impl Connection {
    /// Sends one request and reads the whole response. A timeout or a broken connection
    /// drops the connection, so a late answer can never be taken for the next request's.
    pub async fn send(&mut self, request: &PlannedRequest) -> Outcome {
        self.send_as(request, false).await
    }

    /// [`Connection::send`] for a retry's resend: a `/webhook` answer is also read for
    /// `"duplicate": true` (the target had already claimed the failure), which only a
    /// resend needs, so first sends skip the scan.
    pub async fn resend(&mut self, request: &PlannedRequest) -> Outcome {
        self.send_as(request, true).await
    }

    /// The connection is about to wait (a user's think time, the open model's stash): gives
    /// back what large answers grew its buffers to. Not done after every answer: a run whose
    /// answers are all larger than the initial buffer would grow and shrink it each time.
    pub fn idle(&mut self) {
        if let Some(Live::H1(h1)) = &mut self.live {
            h1.settle();
        }
    }

    async fn send_as(&mut self, request: &PlannedRequest, resend: bool) -> Outcome {
        let timeout = self.client.inner.timeout;
        match tokio::time::timeout(timeout, self.send_inner(request, resend)).await {
            Ok(outcome) => {
                if matches!(
                    &outcome,
                    Outcome::Failed {
                        kind: FailureKind::Connection | FailureKind::Other | FailureKind::HeadTooLarge,
                        ..
                    }
                ) {
                    self.live = None;
                }
                outcome
            }
            Err(_) => {
                self.live = None;
                failed(FailureKind::Timeout, format!("no response within {:.1} s", timeout.as_secs_f64()))
            }
        }
    }

    async fn connect(&mut self) -> Result<&mut Live, String> {
        if let Some(Live::H2 { sender, .. }) = &self.live
            && sender.is_closed()
        {
            self.live = None;
        }
        if self.live.is_none() {
            let target = &self.client.inner;
            if let Some(e) = &target.setup_error {
                return Err(e.clone());
            }
            let started = std::time::Instant::now();
            let stream = match tokio::time::timeout(target.connect_timeout, open_stream(target)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    self.client.note_connect(None);
                    return Err(e);
                }
                Err(_) => {
                    self.client.note_connect(None);
                    return Err(format!(
                        "connect{} timed out after {:.1} s",
                        if target.tls.is_some() { " and TLS handshake" } else { "" },
                        target.connect_timeout.as_secs_f64()
                    ));
                }
            };
            self.client.note_connect(Some(started.elapsed()));
            let live = if negotiated_h2(&stream) {
                let (sender, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                    .await
                    .map_err(|e| describe(&e))?;
                Live::H2 { sender, conn: Box::pin(conn) }
            } else {
                Live::H1(Box::new(H1::new(stream)))
            };
            self.live = Some(live);
        }
        self.live.as_mut().ok_or_else(|| "connection vanished".to_string())
    }

    /// Connects if needed and checks the connection can take a request. A kept-alive
    /// connection the server closed meanwhile (an idle timeout) is replaced once: nothing
    /// was sent on it, so this is not a failure of the request.
    async fn ready(&mut self) -> Result<&mut Live, String> {
        for attempt in 0..2 {
            let reused = self.live.is_some();
            let live = self.connect().await.map_err(|e| format!("cannot connect: {e}"))?;
            let problem = match live {
                Live::H1(h1) if reused => h1.idle_check().await.err(),
                Live::H1(_) => None,
                Live::H2 { sender, conn } => match drive(conn, sender.ready()).await {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(describe(&e)),
                    Err(ConnectionEnded(m)) => Some(m),
                },
            };
            match problem {
                None => return self.live.as_mut().ok_or_else(|| "connection vanished".to_string()),
                Some(m) if reused && attempt == 0 => {
                    tracing::debug!("kept-alive connection closed before use ({m}); reconnecting");
                    self.live = None;
                }
                Some(m) => return Err(format!("connection failed: {m}")),
            }
        }
        Err("connection failed twice".into())
    }

    async fn send_inner(&mut self, request: &PlannedRequest, resend: bool) -> Outcome {
        let target = self.client.inner.clone();
        let live = match self.ready().await {
            Ok(live) => live,
            Err(e) => return failed(FailureKind::Connection, e),
        };
        let reply = match live {
            Live::H1(h1) => send_h1(h1, &target, request, resend).await,
            Live::H2 { sender, conn } => send_h2(sender, conn, &target, request, resend).await,
        };
        let reply = match reply {
            Ok(reply) => reply,
            Err(outcome) => return outcome,
        };
        if reply.closing {
            self.live = None;
        }
        if (200..300).contains(&reply.status) {
            let Reply { content_bytes, failed_items, duplicate, .. } = reply;
            Outcome::Ok { content_bytes, failed_items, duplicate }
        } else {
            let reason = hyper::StatusCode::from_u16(reply.status).ok().and_then(|s| s.canonical_reason());
            Outcome::Failed {
                kind: FailureKind::Http(reply.status),
                message: format!("HTTP {} {}", reply.status, reason.unwrap_or("")),
                content_bytes: reply.content_bytes,
                retry_after: reply.retry_after,
            }
        }
    }
}

/// What the client reads from a body: the failed items of a `/batch` answer, and for a
/// resent `/webhook` whether the target had already claimed it.
fn scan_body(request: &PlannedRequest, resend: bool, status: u16, body: &[u8], len: u64) -> (u64, bool) {
    if request.path == "/batch" {
        (crate::workload::answer::batch_failed_items(body), false)
    } else if resend && request.path == "/webhook" && (200..300).contains(&status) {
        // Only a body kept whole is scanned (an answer that long is not the dedup's).
        (0, len < h1::KEPT_BODY as u64 && crate::workload::answer::says_duplicate(body))
    } else {
        (0, false)
    }
}

/// The request's bytes, written in one go: request line, Host, the run's headers (those a
/// task replaces left out), the task's own, Content-Type and Content-Length for a body.
fn write_request(out: &mut Vec<u8>, target: &Target, request: &PlannedRequest) {
    out.clear();
    out.extend_from_slice(if request.method == Method::Post { b"POST " } else { b"GET " });
    out.extend_from_slice(target.base_path.as_bytes());
    out.extend_from_slice(request.path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend_from_slice(target.host.as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut header = |name: &[u8], value: &[u8]| {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    };
    // A task's own headers replace the run's of the same name.
    let own: Vec<(HeaderName, HeaderValue)> = own_headers(request).collect();
    let mut content_type = false;
    for (name, value) in target.headers.iter().filter(|(n, _)| !own.iter().any(|(o, _)| o == n)).chain(&own) {
        content_type |= name == CONTENT_TYPE;
        header(name.as_str().as_bytes(), value.as_bytes());
    }
    if request.method == Method::Post {
        if !content_type {
            header(b"content-type", b"application/json");
        }
        let len = request.body.as_ref().map_or(0, |b| b.len());
        header(b"content-length", len.to_string().as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    if let Some(body) = &request.body {
        out.extend_from_slice(body);
    }
}

/// A task's own headers as HTTP types (checked when the profile was read; one that is not
/// valid HTTP is skipped, never written).
fn own_headers(request: &PlannedRequest) -> impl Iterator<Item = (HeaderName, HeaderValue)> + '_ {
    request.headers.iter().flat_map(|h| h.iter()).filter_map(|(n, v)| {
        Some((HeaderName::from_bytes(n.as_bytes()).ok()?, HeaderValue::from_str(v).ok()?))
    })
}

async fn send_h1(
    h1: &mut H1,
    target: &Target,
    request: &PlannedRequest,
    resend: bool,
) -> Result<Reply, Outcome> {
    write_request(&mut h1.write, target, request);
    match h1.exchange().await {
        Ok(Answer { status, retry_after, closing, body_len }) => {
            let (failed_items, duplicate) = scan_body(request, resend, status, h1.body(), body_len);
            Ok(Reply { status, retry_after, closing, content_bytes: body_len, failed_items, duplicate })
        }
        Err(Broken::Head(m)) => Err(failed(FailureKind::Connection, format!("connection failed: {m}"))),
        Err(Broken::HeadTooLarge(m)) => Err(failed(FailureKind::HeadTooLarge, m)),
        Err(Broken::Body(m)) => Err(failed(FailureKind::Connection, format!("response body cut short: {m}"))),
    }
}

async fn send_h2(
    sender: &mut http2::SendRequest<Full<Bytes>>,
    conn: &mut Pin<Box<H2>>,
    target: &Target,
    request: &PlannedRequest,
    resend: bool,
) -> Result<Reply, Outcome> {
    let uri = target
        .uri(request.path)
        .map_err(|e| failed(FailureKind::Other, format!("cannot build request: {e}")))?;
    // Built in place rather than through `Request::builder`, which re-checks every part.
    let mut http_request = hyper::Request::new(Full::new(request.body.clone().unwrap_or_default()));
    *http_request.uri_mut() = uri;
    if request.method == Method::Post {
        *http_request.method_mut() = hyper::Method::POST;
    }
    // HTTP/2 carries the authority as a pseudo-header, taken from the absolute URI.
    let headers = http_request.headers_mut();
    for (name, value) in &target.headers {
        headers.append(name.clone(), value.clone());
    }
    for (name, value) in own_headers(request) {
        headers.insert(name, value);
    }
    if request.method == Method::Post && !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    let cut = |m: String| failed(FailureKind::Connection, m);
    let response = match drive(conn, sender.send_request(http_request)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return Err(cut(format!("connection failed: {}", describe(&e)))),
        Err(ConnectionEnded(m)) => return Err(cut(format!("connection failed: {m}"))),
    };
    let status = response.status().as_u16();
    let retry_after =
        response.headers().get(hyper::header::RETRY_AFTER).and_then(|v| parse_retry_after(v.as_bytes()));
    let body = match drive(conn, response.into_body().collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) => return Err(cut(format!("response body cut short: {}", describe(&e)))),
        Err(ConnectionEnded(m)) => return Err(cut(format!("response body cut short: {m}"))),
    };
    let len = body.len() as u64;
    let (failed_items, duplicate) = scan_body(request, resend, status, &body, len);
    Ok(Reply { status, retry_after, closing: false, content_bytes: len, failed_items, duplicate })
}

/// The paths the workload sends (`PlannedRequest::path`), whose HTTP/2 URIs are parsed once.
const KNOWN_PATHS: [&str; 4] = ["/webhook", "/batch", "/health", "/status"];

/// A workload path with its HTTP/2 URI (absolute form), `None` where the text does not
/// parse (the request then reports why).
type KnownUri = (&'static str, Option<hyper::Uri>);

/// The HTTP/2 request URI for `path`: absolute, as HTTP/2 carries scheme and authority as
/// pseudo-headers. (HTTP/1.1's origin form is written by `write_request`.)
fn request_uri(authority: &str, base_path: &str, path: &str) -> Result<hyper::Uri, String> {
    hyper::Uri::try_from(format!("https://{authority}{base_path}{path}")).map_err(|e| e.to_string())
}

fn known_uris(authority: &str, base_path: &str) -> Arc<[KnownUri]> {
    KNOWN_PATHS.iter().map(|&path| (path, request_uri(authority, base_path, path).ok())).collect()
}

impl Target {
    /// The HTTP/2 request URI for `path`, parsed once for the workload's own paths.
    fn uri(&self, path: &'static str) -> Result<hyper::Uri, String> {
        match self.uris.iter().find(|(known, _)| *known == path).and_then(|(_, uri)| uri.clone()) {
            Some(uri) => Ok(uri),
            None => request_uri(self.host.to_str().unwrap_or("localhost"), &self.base_path, path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_written_whole_with_the_task_headers_replacing_the_runs() {
        let options = ClientOptions {
            headers: vec![
                ("X-Run".into(), "run".into()),
                ("Authorization".into(), "Bearer run".into()),
                ("Content-Type".into(), "application/vnd.run+json".into()),
            ],
            ..ClientOptions::with_timeout(Duration::from_secs(1))
        };
        let client = HttpClient::with_options(&Url::parse("http://127.0.0.1:8081/api/").unwrap(), &options);
        let own: crate::workload::TaskHeaders = Arc::from(vec![
            ("authorization".to_string(), "Bearer task".to_string()),
            ("X-Bad".to_string(), "a\r\nX-Injected: 1".to_string()),
        ]);
        let request = PlannedRequest {
            method: Method::Post,
            path: "/webhook",
            name: "/webhook".into(),
            body: Some(Bytes::from_static(b"{\"a\":1}")),
            duplicates: 0,
            payloads: 1,
            headers: Some(own),
        };
        let mut out = Vec::new();
        write_request(&mut out, &client.inner, &request);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "POST /api/webhook HTTP/1.1\r\nhost: 127.0.0.1:8081\r\nx-run: run\r\n\
             content-type: application/vnd.run+json\r\nauthorization: Bearer task\r\n\
             content-length: 7\r\n\r\n{\"a\":1}"
        );
        let get =
            PlannedRequest { method: Method::Get, path: "/health", body: None, headers: None, ..request };
        let mut out = Vec::new();
        write_request(&mut out, &client.inner, &get);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("GET /api/health HTTP/1.1\r\nhost: 127.0.0.1:8081\r\n"), "{text}");
        assert!(!text.contains("content-length") && text.ends_with("\r\n\r\n"), "{text}");
    }

    #[tokio::test]
    async fn a_busy_connection_keeps_its_grown_buffer_until_it_goes_idle() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            for _ in 0..3 {
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = socket.read(&mut buf).await.unwrap();
                    assert!(n > 0, "the client closed early");
                    head.extend_from_slice(&buf[..n]);
                }
                socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 3000\r\n\r\n").await.unwrap();
                socket.write_all(&[b'x'; 3000]).await.unwrap();
            }
        });
        let client =
            HttpClient::new(&Url::parse(&format!("http://{addr}/")).unwrap(), Duration::from_secs(5));
        let mut connection = client.connection();
        let get = PlannedRequest {
            method: Method::Get,
            path: "/health",
            name: "/health".into(),
            body: None,
            duplicates: 0,
            payloads: 1,
            headers: None,
        };
        let capacity = |c: &Connection| match &c.live {
            Some(Live::H1(h1)) => h1.read_capacity(),
            _ => 0,
        };
        assert!(matches!(connection.send(&get).await, Outcome::Ok { content_bytes: 3000, .. }));
        let grown = capacity(&connection);
        assert!(grown > 1024, "a 3000-byte answer grows the 1 KiB buffer: {grown}");
        assert!(matches!(connection.send(&get).await, Outcome::Ok { content_bytes: 3000, .. }));
        let busy = capacity(&connection);
        assert!(busy >= grown, "a busy connection is not shrunk between answers: {grown} then {busy}");
        connection.idle();
        assert_eq!(capacity(&connection), 1024, "an idle one gives the growth back");
        assert!(matches!(connection.send(&get).await, Outcome::Ok { content_bytes: 3000, .. }));
        server.await.unwrap();
    }
}
