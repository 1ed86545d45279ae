//! Control calls to the target (reqwest): health, `/configure`, `/stats/reset`, `/status`.
//! Kept apart from the load path, which uses hyper directly. Other TerraFix APIs are met
//! where they are: `GET /stats/reset` when `POST` is refused, and only the `/configure`
//! keys the target knows.
//!
//! Every answer read here goes through [`fetch`]: the head is bounded by hyper's read
//! buffer (about 400 KiB), the body by [`MAX_ANSWER_BYTES`], the whole call by a timeout,
//! and a cancelled run gives the calls still to come [`GRACE_AFTER_CANCEL`] in all. A target
//! that misbehaves costs us a failed call, never our memory or the run.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::metrics::ServerCounters;
use crate::metrics::status::ServerStatus;
use crate::metrics::summary::ServerView;

/// `/configure` keys this tool sends (see `profile::ServerSettings`).
pub const SETTINGS_KEYS: [&str; 8] = [
    "latency_ms",
    "per_resource_ms",
    "jitter",
    "jitter_ms",
    "failure_rate",
    "failure_mode",
    "max_concurrent",
    "workers",
];

/// The keys the seed harness's Python mock accepts on `/configure`.
pub const SEED_SETTINGS_KEYS: [&str; 2] = ["latency_ms", "failure_rate"];

/// The most bytes of a control answer's body we read. The mock's `/status` is a few KiB;
/// a longer answer is cut off and the call fails with [`CallError::TooLarge`].
pub const MAX_ANSWER_BYTES: usize = 1 << 20;

/// Once the run is cancelled, the control calls still running or yet to come get this long
/// in all: a healthy target answers the phase's last `/status` well within it, a silent
/// one cannot hold a stopping run.
pub const GRACE_AFTER_CANCEL: Duration = Duration::from_millis(750);

const RESET_POST: u8 = 0;
const RESET_GET: u8 = 1;
const RESET_NONE: u8 = 2;

/// Why a control call has no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No answer: the reason in words (refused, timeout, certificate, a head too large).
    #[error("{0}")]
    NoAnswer(String),
    /// The body went past `MAX_ANSWER_BYTES` (1 MiB); reading stopped there.
    #[error("the target's {what} answer exceeded {}", limit_text(*.limit))]
    TooLarge {
        /// The call (`/status`, `POST /configure`, …).
        what: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The run was cancelled and the grace after it ran out before the call (named) answered.
    #[error("the run was stopped before the target answered {0}")]
    Cancelled(String),
}

/// Why a call of [`ControlClient`] failed, in the words a person reading the run's notes needs.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// `GET /health` did not answer 2xx before the wait ran out.
    #[error("{base} did not answer GET /health within {within_s:.0} s (last: {last})")]
    NotHealthy {
        /// The target.
        base: Url,
        /// How long it was given, in seconds.
        within_s: f64,
        /// The last status or error seen.
        last: String,
    },
    /// The run was cancelled while the health wait went on.
    #[error("the run was stopped while waiting for GET /health")]
    StoppedWaiting,
    /// One `GET /health` for a person got no answer.
    #[error("no answer from {url}: {source}")]
    HealthUnanswered {
        /// The `/health` URL.
        url: String,
        /// Why.
        #[source]
        source: CallError,
    },
    /// One `GET /health` for a person got an error status.
    #[error("{status}: {text}")]
    HealthRefused {
        /// The status as HTTP words it (`503 Service Unavailable`).
        status: String,
        /// The answer's body in a line.
        text: String,
    },
    /// `POST /configure` for a person got no answer.
    #[error(
        "cannot reach {url}: {source} — is the target running? (the embedded target exists only during a run)"
    )]
    ConfigureUnreachable {
        /// The `/configure` URL.
        url: String,
        /// Why.
        #[source]
        source: CallError,
    },
    /// `POST /configure` for a person got an error status.
    #[error("{url} answered {status}: {text}")]
    ConfigureRefusedLine {
        /// The `/configure` URL.
        url: String,
        /// The status as HTTP words it.
        status: String,
        /// The answer's body in a line.
        text: String,
    },
    /// `GET /status` got no answer (refused, timed out).
    #[error("the target did not answer GET /status ({0})")]
    StatusUnanswered(String),
    /// `GET /status` failed otherwise (too large, cancelled).
    #[error("{0}")]
    StatusCall(#[source] CallError),
    /// `GET /status` answered an error status.
    #[error("GET /status answered HTTP {0}")]
    StatusRefused(u16),
    /// `GET /status` answered something that is not JSON.
    #[error("the target's /status answer is not JSON ({0})")]
    StatusNotJson(#[source] serde_json::Error),
    /// `POST /configure` got no answer.
    #[error("POST /configure failed: {0}")]
    ConfigureFailed(#[source] CallError),
    /// `POST /configure` answered an error status: the target refused the settings.
    #[error("POST /configure answered HTTP {status}: {text}")]
    ConfigureRefused {
        /// The status code.
        status: u16,
        /// The answer's body in a line.
        text: String,
    },
    /// The target has neither `POST` nor `GET /stats/reset`.
    #[error("the target has no /stats/reset (neither POST nor GET): counters are cumulative")]
    NoReset,
    /// `/stats/reset` got no answer (`get` when the `GET` fallback was the call).
    #[error("{}/stats/reset failed: {source}", if *get { "GET " } else { "" })]
    ResetFailed {
        /// Whether this was the `GET` retry after `POST` was refused.
        get: bool,
        /// Why.
        #[source]
        source: CallError,
    },
    /// `/stats/reset` refused both methods.
    #[error("/stats/reset answered HTTP {0} to POST and GET")]
    ResetRefusedBoth(u16),
    /// `/stats/reset` answered an error status.
    #[error("/stats/reset answered HTTP {0}")]
    ResetRefused(String),
    /// The health probe's HTTP client could not be built (its TLS settings).
    #[error("cannot build an HTTP client: {0}")]
    ProbeClient(String),
    /// The health probe's URL answered an error status.
    #[error("{url} answered {status}")]
    ProbeRefused {
        /// The probed URL.
        url: Url,
        /// The status as HTTP words it.
        status: String,
    },
    /// The health probe's URL did not answer within the timeout.
    #[error("{url}: no answer within {timeout_s} s")]
    ProbeTimeout {
        /// The probed URL.
        url: Url,
        /// The timeout, in seconds.
        timeout_s: f64,
    },
    /// The health probe's URL could not be reached (refused, certificate, reset).
    #[error("{url}: {why}")]
    ProbeUnanswered {
        /// The probed URL.
        url: Url,
        /// Why, in words.
        why: String,
    },
}

fn limit_text(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// A control answer: its status and its body, whole and at most `MAX_ANSWER_BYTES`.
struct Answer {
    status: reqwest::StatusCode,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The run's stop signal as the control calls see it.
#[derive(Clone, Default)]
struct Stop {
    token: Option<CancellationToken>,
    /// When the grace after cancellation ends, fixed by the first call that sees it.
    grace_ends: Arc<OnceLock<tokio::time::Instant>>,
}

impl Stop {
    /// Resolves once the run is cancelled and the grace after it is over.
    async fn grace_over(&self) {
        match &self.token {
            None => std::future::pending().await,
            Some(token) => {
                token.cancelled().await;
                let ends = *self.grace_ends.get_or_init(|| tokio::time::Instant::now() + GRACE_AFTER_CANCEL);
                tokio::time::sleep_until(ends).await;
            }
        }
    }

    /// Resolves as soon as the run is cancelled.
    async fn cancelled(&self) {
        match &self.token {
            None => std::future::pending().await,
            Some(token) => token.cancelled().await,
        }
    }
}

/// Sends `request` and reads its head; the body is left unread. `host` names the target
/// in errors.
async fn send(request: reqwest::RequestBuilder, host: &str) -> Result<reqwest::Response, CallError> {
    request.send().await.map_err(|e| CallError::NoAnswer(explain_request_error(&e, host)))
}

/// Reads `response`'s body, stopping at `limit` bytes: what a target sends past it is
/// never buffered (the connection is dropped with the response).
async fn read_capped(
    mut response: reqwest::Response,
    what: &str,
    limit: usize,
    host: &str,
) -> Result<Vec<u8>, CallError> {
    let too_large = || CallError::TooLarge { what: what.to_string(), limit };
    if response.content_length().is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        CallError::NoAnswer(format!("reading the answer to {what}: {}", explain_request_error(&e, host)))
    })? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The one bounded reader of answers outside the load path: send, read at most
/// `MAX_ANSWER_BYTES`, and give up when the run is cancelled (after the grace).
async fn fetch(
    request: reqwest::RequestBuilder,
    what: &str,
    host: &str,
    stop: &Stop,
) -> Result<Answer, CallError> {
    let call = async {
        let response = send(request, host).await?;
        let status = response.status();
        let body = read_capped(response, what, MAX_ANSWER_BYTES, host).await?;
        Ok::<Answer, CallError>(Answer { status, body })
    };
    tokio::select! {
        answer = call => answer,
        () = stop.grace_over() => Err(CallError::Cancelled(what.to_string())),
    }
}

/// What went wrong with a request, in words: the certificate problem, a refused
/// connection, a timeout, or the innermost cause (reqwest's own text, "error sending
/// request", says none of these).
pub fn explain_request_error(err: &reqwest::Error, host: &str) -> String {
    if err.is_timeout() {
        return format!("no answer from {host} in time");
    }
    let mut innermost: Option<&(dyn std::error::Error + 'static)> = None;
    let mut cause = std::error::Error::source(err);
    while let Some(e) = cause {
        if let Some(words) = crate::engine::tls::explain_tls_cause(e, host) {
            return words;
        }
        if let Some(kind) = io_kind(e) {
            use std::io::ErrorKind;
            match kind {
                ErrorKind::ConnectionRefused => {
                    return format!("connection refused by {host}; is the target running on that port?");
                }
                ErrorKind::TimedOut => return format!("no answer from {host} in time"),
                ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::UnexpectedEof => {
                    return format!("{host} closed the connection before answering ({e})");
                }
                _ => {}
            }
        }
        innermost = Some(e);
        cause = e.source();
    }
    match innermost {
        Some(e) => format!("{host}: {e}"),
        None => format!("{host}: {err}"),
    }
}

/// The kind of the innermost I/O error `e` carries: an I/O error's `source()` skips the
/// error it wraps, and connectors wrap I/O errors in others.
fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let io = e.downcast_ref::<std::io::Error>()?;
    match io.get_ref() {
        Some(inner) => io_kind(inner).or(Some(io.kind())),
        None => Some(io.kind()),
    }
}

/// `host:port` of a URL, for messages.
fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => url.to_string(),
    }
}

/// Talks to the target outside the load: `/configure`, `/stats/reset`, `/status`, `/health`; cheap to clone.
#[derive(Clone)]
pub struct ControlClient {
    http: reqwest::Client,
    base: Url,
    /// How `/stats/reset` is reached on this target (learnt on first use).
    reset_method: Arc<AtomicU8>,
    stop: Stop,
}

impl ControlClient {
    /// A client for `base` with the default TLS trust and no extra headers.
    pub fn new(base: Url) -> Self {
        Self::with_options(base, None, &[])
    }

    /// A control client that trusts what the load path trusts and sends the same headers.
    pub fn with_options(
        base: Url,
        tls: Option<&crate::engine::tls::ClientTls>,
        headers: &[(String, String)],
    ) -> Self {
        crate::engine::tls::install_provider();
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in headers {
            if let (Ok(n), Ok(v)) = (
                reqwest::header::HeaderName::try_from(name.as_str()),
                reqwest::header::HeaderValue::try_from(value.as_str()),
            ) {
                map.insert(n, v);
            }
        }
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(5)).default_headers(map);
        if let Some(tls) = tls {
            builder = builder.tls_backend_preconfigured(tls.rustls_config());
        }
        let http = builder.build().unwrap_or_else(|e| {
            tracing::warn!("control client with the run's TLS settings failed ({e}); using defaults");
            reqwest::Client::new()
        });
        Self { http, base, reset_method: Arc::new(AtomicU8::new(RESET_POST)), stop: Stop::default() }
    }

    /// The same client, whose calls end when `cancel` fires: the health wait at once, the
    /// other calls after `GRACE_AFTER_CANCEL` in all.
    pub fn stopped_by(mut self, cancel: CancellationToken) -> Self {
        self.stop = Stop { token: Some(cancel), grace_ends: Arc::default() };
        self
    }

    /// One GET of exactly `url` within `timeout`, trusting what `tls` trusts (the compiled-in
    /// roots: a scratch image has no platform store). Ok when it answers 2xx; otherwise the
    /// reason in a line. This is `terrafix-tui health`, the images' HEALTHCHECK. Only the
    /// head is read (bounded by hyper); the body is dropped unread. `auth` goes as the
    /// `Authorization` header (the URL's own credentials, taken out of it).
    pub async fn probe(
        url: &Url,
        auth: Option<&crate::profile::Secret>,
        timeout: Duration,
        tls: &crate::engine::tls::ClientTls,
    ) -> Result<(), ControlError> {
        crate::engine::tls::install_provider();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .tls_backend_preconfigured(tls.rustls_config())
            .build()
            .map_err(|e| ControlError::ProbeClient(e.to_string()))?;
        let mut request = client.get(url.clone());
        if let Some(auth) = auth {
            request = request.header(reqwest::header::AUTHORIZATION, auth.expose());
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => {
                Err(ControlError::ProbeRefused { url: url.clone(), status: response.status().to_string() })
            }
            Err(e) if e.is_timeout() => {
                Err(ControlError::ProbeTimeout { url: url.clone(), timeout_s: timeout.as_secs_f64() })
            }
            Err(e) => Err(ControlError::ProbeUnanswered {
                url: url.clone(),
                why: explain_request_error(&e, &host_of(url)),
            }),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), path)
    }

    fn host(&self) -> String {
        host_of(&self.base)
    }

    async fn fetch(&self, request: reqwest::RequestBuilder, what: &str) -> Result<Answer, CallError> {
        fetch(request, what, &self.host(), &self.stop).await
    }

    /// Waits until `GET /health` answers 2xx, up to `timeout`; a cancelled run ends the
    /// wait at once (Err, and the caller knows why).
    pub async fn wait_healthy(&self, timeout: Duration) -> Result<(), ControlError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let wait = async {
            loop {
                let last = match self.fetch(self.http.get(self.url("/health")), "GET /health").await {
                    Ok(a) if a.status.is_success() => return Ok(()),
                    Ok(a) => format!("HTTP {}", a.status),
                    Err(e) => e.to_string(),
                };
                if tokio::time::Instant::now() >= deadline {
                    return Err(ControlError::NotHealthy {
                        base: self.base.clone(),
                        within_s: timeout.as_secs_f64(),
                        last,
                    });
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        };
        tokio::select! {
            waited = wait => waited,
            () = self.stop.cancelled() => Err(ControlError::StoppedWaiting),
        }
    }

    /// One `GET /health` for a person watching: the answer in a line, or why there is none.
    pub async fn health_line(&self) -> Result<String, ControlError> {
        let url = self.url("/health");
        let a = match self.fetch(self.http.get(&url).timeout(Duration::from_secs(3)), "GET /health").await {
            Ok(a) => a,
            Err(source) => return Err(ControlError::HealthUnanswered { url, source }),
        };
        let text = one_line(&a.text());
        if a.status.is_success() {
            Ok(text)
        } else {
            Err(ControlError::HealthRefused { status: a.status.to_string(), text })
        }
    }

    /// `POST /configure` for a person: the server's answer in a line, or its complaint.
    pub async fn configure_line(&self, settings: &Value) -> Result<String, ControlError> {
        let url = self.url("/configure");
        let a = match self.fetch(self.http.post(&url).json(settings), "POST /configure").await {
            Ok(a) => a,
            Err(source) => return Err(ControlError::ConfigureUnreachable { url, source }),
        };
        let text = one_line(&a.text());
        if a.status.is_success() {
            Ok(text)
        } else {
            Err(ControlError::ConfigureRefusedLine { url, status: a.status.to_string(), text })
        }
    }

    /// `GET /status` as a document, or why there is none in a sentence (the answer was
    /// too large, not JSON, an error status, or did not come).
    pub async fn status_answer(&self) -> Result<Value, ControlError> {
        let a = self.fetch(self.http.get(self.url("/status")), "/status").await.map_err(|e| match e {
            CallError::NoAnswer(why) => ControlError::StatusUnanswered(why),
            other => ControlError::StatusCall(other),
        })?;
        if !a.status.is_success() {
            return Err(ControlError::StatusRefused(a.status.as_u16()));
        }
        serde_json::from_slice(&a.body).map_err(ControlError::StatusNotJson)
    }

    /// `GET /status` as a document, or `None` when there is none (see [`Self::status_answer`]).
    pub async fn status(&self) -> Option<Value> {
        self.status_answer().await.ok()
    }

    /// POSTs settings to `/configure`; returns the server's answer or its complaint.
    pub async fn configure(&self, settings: &Value) -> Result<Value, ControlError> {
        let a = self
            .fetch(self.http.post(self.url("/configure")).json(settings), "POST /configure")
            .await
            .map_err(ControlError::ConfigureFailed)?;
        if a.status.is_success() {
            Ok(serde_json::from_slice(&a.body).unwrap_or(Value::Null))
        } else {
            Err(ControlError::ConfigureRefused { status: a.status.as_u16(), text: one_line(&a.text()) })
        }
    }

    /// Resets the server's counters: `POST /stats/reset`, or `GET` where `POST` is not
    /// allowed (the seed's Python mock). Remembers what worked.
    pub async fn reset_stats(&self) -> Result<(), ControlError> {
        let method = self.reset_method.load(Ordering::Relaxed);
        if method == RESET_NONE {
            return Err(ControlError::NoReset);
        }
        let url = self.url("/stats/reset");
        let send = |get: bool| {
            let request = if get { self.http.get(&url) } else { self.http.post(&url) };
            self.fetch(request, "/stats/reset")
        };
        let r = send(method == RESET_GET)
            .await
            .map_err(|source| ControlError::ResetFailed { get: false, source })?;
        if r.status.is_success() {
            return Ok(());
        }
        let refused = matches!(r.status.as_u16(), 404 | 405);
        if method == RESET_POST && refused {
            let r = send(true).await.map_err(|source| ControlError::ResetFailed { get: true, source })?;
            if r.status.is_success() {
                self.reset_method.store(RESET_GET, Ordering::Relaxed);
                return Ok(());
            }
            if matches!(r.status.as_u16(), 404 | 405) {
                self.reset_method.store(RESET_NONE, Ordering::Relaxed);
            }
            return Err(ControlError::ResetRefusedBoth(r.status.as_u16()));
        }
        Err(ControlError::ResetRefused(r.status.to_string()))
    }

    /// What the target runs with now, as far as it tells: `/status` → `config`.
    pub async fn settings(&self) -> Option<serde_json::Map<String, Value>> {
        self.status().await?.get("config")?.as_object().cloned()
    }
}

/// A body without newlines, cut to 160 characters.
fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(160) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

/// What this run knows about the target's settings, found out once at the start.
#[derive(Clone, Debug, Default)]
pub struct TargetSettings {
    /// The settings found at the start, restricted to the keys phases may change.
    pub original: serde_json::Map<String, Value>,
    /// The `/configure` keys the target accepts (from its `/status` config), or the seed's
    /// two when it does not say.
    pub known_keys: Vec<String>,
    /// False when `/status` gave no `config`: the start settings are not known.
    pub reported: bool,
}

impl TargetSettings {
    pub fn from_status(status: Option<&Value>) -> TargetSettings {
        match status.and_then(|s| s.get("config")).and_then(Value::as_object) {
            Some(config) => {
                let mut known_keys: Vec<String> = config.keys().cloned().collect();
                // A one-shot stall is an action, not a setting kept in `config`: a target that
                // reports its remaining stall takes `stall_ms` (and it is never "restored").
                if status.and_then(|s| s.get("stall_remaining_ms")).is_some()
                    && !known_keys.iter().any(|k| k == "stall_ms")
                {
                    known_keys.push("stall_ms".into());
                }
                TargetSettings { original: settings_baseline(status), known_keys, reported: true }
            }
            None => TargetSettings {
                original: serde_json::Map::new(),
                known_keys: SEED_SETTINGS_KEYS.iter().map(|k| k.to_string()).collect(),
                reported: false,
            },
        }
    }

    /// Splits `settings` into what the target accepts and a refusal for each key it does not.
    pub fn split(
        &self,
        settings: &serde_json::Map<String, Value>,
    ) -> (serde_json::Map<String, Value>, Vec<SettingRefusal>) {
        let mut accepted = serde_json::Map::new();
        let mut refused = Vec::new();
        for (key, value) in settings {
            if self.known_keys.iter().any(|k| k == key) {
                accepted.insert(key.clone(), value.clone());
            } else {
                refused.push(SettingRefusal {
                    key: key.clone(),
                    value: value.clone(),
                    reason: "the target does not know this setting".into(),
                });
            }
        }
        (accepted, refused)
    }
}

/// A server setting the target will not take: which key, the value asked for, and why.
/// Shown as `key=value: reason` in the run's summary and warnings.
#[derive(Clone, Debug, PartialEq)]
pub struct SettingRefusal {
    /// The `/configure` key.
    pub key: String,
    /// The value the phase asked for.
    pub value: Value,
    /// Why it was not sent.
    pub reason: String,
}

impl std::fmt::Display for SettingRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}: {}", self.key, self.value, self.reason)
    }
}

/// The server's own settings at the start of a run, restricted to the keys phases set, so
/// each phase starts from them and a setting of one phase never leaks into the next.
pub fn settings_baseline(status: Option<&Value>) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    if let Some(config) = status.and_then(|s| s.get("config")).and_then(Value::as_object) {
        for key in SETTINGS_KEYS {
            if let Some(v) = config.get(key)
                && !v.is_null()
            {
                out.insert(key.to_string(), v.clone());
            }
        }
    }
    out
}

/// Reads the server's view of a phase from its `/status` document.
pub fn server_view(status: &Value) -> ServerView {
    let stats = ServerStatus::from_value(status).stats;
    ServerView {
        total_requests: stats.total_requests,
        successful_requests: stats.successful_requests,
        failed_requests: stats.failed_requests,
        p50_ms: stats.latency_ms.p50,
        p95_ms: stats.latency_ms.p95,
        p99_ms: stats.latency_ms.p99,
        avg_ms: stats.latency_ms.avg,
        rejected: stats.rejected,
        injected_failures: stats.injected_failures,
        raw: status.clone(),
    }
}

/// The counters the live views show, from a `/status` document.
pub fn server_counters(status: &Value) -> ServerCounters {
    let stats = ServerStatus::from_value(status).stats;
    ServerCounters {
        total_requests: stats.total_requests.unwrap_or(0),
        dedup_hits: stats.dedup_hits.unwrap_or(0),
        dedup_misses: stats.dedup_misses.unwrap_or(0),
        dedup_errors: stats.dedup_errors.unwrap_or(0),
        injected_failures: stats.injected_failures_total.unwrap_or(0),
        rejected: stats.rejected.unwrap_or(0),
        in_flight: stats.in_flight.unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_the_target_does_not_know_is_refused_by_key() {
        let status = serde_json::json!({"config": {"latency_ms": 0}});
        let settings = TargetSettings::from_status(Some(&status));
        let mut asked = serde_json::Map::new();
        asked.insert("latency_ms".into(), Value::from(5));
        asked.insert("stall_ms".into(), Value::from(100));
        let (accepted, refused) = settings.split(&asked);
        assert_eq!(accepted.keys().collect::<Vec<_>>(), ["latency_ms"]);
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].key, "stall_ms");
        assert_eq!(refused[0].to_string(), "stall_ms=100: the target does not know this setting");
    }

    #[test]
    fn a_cut_answer_names_the_call_and_the_limit() {
        let err = CallError::TooLarge { what: "/status".into(), limit: MAX_ANSWER_BYTES };
        assert_eq!(err.to_string(), "the target's /status answer exceeded 1 MiB");
        assert_eq!(limit_text(400 * 1024), "400 KiB");
        assert_eq!(limit_text(1000), "1000 bytes");
    }

    #[tokio::test]
    async fn a_cancelled_run_gives_control_calls_a_grace_then_stops_them() {
        tokio::time::pause();
        let token = CancellationToken::new();
        let stop = Stop { token: Some(token.clone()), grace_ends: Arc::default() };
        let waiting = tokio::spawn({
            let stop = stop.clone();
            async move { stop.grace_over().await }
        });
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(!waiting.is_finished(), "no cancel, no end");
        token.cancel();
        tokio::time::advance(GRACE_AFTER_CANCEL / 2).await;
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "within the grace");
        tokio::time::advance(GRACE_AFTER_CANCEL).await;
        waiting.await.unwrap();
        // A call made later shares the same end: it is already over.
        tokio::time::timeout(Duration::from_millis(1), stop.grace_over()).await.unwrap();
    }
}
