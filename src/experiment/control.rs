//! Control calls to the target (reqwest): health, `/configure`, `/stats/reset`, `/status`.
//! Kept apart from the load path, which uses hyper directly. Other TerraFix APIs are met
//! where they are: `GET /stats/reset` when `POST` is refused, and only the `/configure`
//! keys the target knows.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use serde_json::Value;
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

const RESET_POST: u8 = 0;
const RESET_GET: u8 = 1;
const RESET_NONE: u8 = 2;

#[derive(Clone)]
pub struct ControlClient {
    http: reqwest::Client,
    base: Url,
    /// How `/stats/reset` is reached on this target (learnt on first use).
    reset_method: Arc<AtomicU8>,
}

impl ControlClient {
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
        Self { http, base, reset_method: Arc::new(AtomicU8::new(RESET_POST)) }
    }

    /// One GET of exactly `url` within `timeout`, trusting what `tls` trusts (the compiled-in
    /// roots: a scratch image has no platform store). Ok when it answers 2xx; otherwise the
    /// reason in a line. This is `terrafix-tui health`, the images' HEALTHCHECK.
    pub async fn probe(
        url: &Url,
        timeout: Duration,
        tls: &crate::engine::tls::ClientTls,
    ) -> Result<(), String> {
        crate::engine::tls::install_provider();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .tls_backend_preconfigured(tls.rustls_config())
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        match client.get(url.clone()).send().await {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(format!("{url} answered {}", response.status())),
            Err(e) if e.is_timeout() => Err(format!("{url}: no answer within {} s", timeout.as_secs_f64())),
            Err(e) => Err(format!("{url}: {e}")),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), path)
    }

    /// Waits until `GET /health` answers 2xx, up to `timeout`.
    pub async fn wait_healthy(&self, timeout: Duration) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let last = match self.http.get(self.url("/health")).send().await {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) => format!("HTTP {}", r.status()),
                Err(e) => e.to_string(),
            };
            if tokio::time::Instant::now() >= deadline {
                return Err(format!(
                    "{} did not answer GET /health within {:.0} s (last: {last})",
                    self.base,
                    timeout.as_secs_f64()
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// One `GET /health` for a person watching: the answer in a line, or why there is none.
    pub async fn health_line(&self) -> Result<String, String> {
        let url = self.url("/health");
        let r = self
            .http
            .get(&url)
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .map_err(|e| format!("no answer from {url}: {e}"))?;
        let status = r.status();
        let text = one_line(&r.text().await.unwrap_or_default());
        if status.is_success() { Ok(text) } else { Err(format!("{status}: {text}")) }
    }

    /// `POST /configure` for a person: the server's answer in a line, or its complaint.
    pub async fn configure_line(&self, settings: &Value) -> Result<String, String> {
        let url = self.url("/configure");
        let r = self.http.post(&url).json(settings).send().await.map_err(|e| {
            format!("cannot reach {url}: {e} — is the target running? (the embedded target exists only during a run)")
        })?;
        let status = r.status();
        let text = one_line(&r.text().await.unwrap_or_default());
        if status.is_success() { Ok(text) } else { Err(format!("{url} answered {status}: {text}")) }
    }

    pub async fn status(&self) -> Option<Value> {
        let r = self.http.get(self.url("/status")).send().await.ok()?;
        if !r.status().is_success() {
            return None;
        }
        r.json::<Value>().await.ok()
    }

    /// POSTs settings to `/configure`; returns the server's answer or its complaint.
    pub async fn configure(&self, settings: &Value) -> Result<Value, String> {
        let r = self
            .http
            .post(self.url("/configure"))
            .json(settings)
            .send()
            .await
            .map_err(|e| format!("POST /configure failed: {e}"))?;
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        if status.is_success() {
            Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
        } else {
            Err(format!("POST /configure answered HTTP {}: {}", status.as_u16(), body.trim()))
        }
    }

    /// Resets the server's counters: `POST /stats/reset`, or `GET` where `POST` is not
    /// allowed (the seed's Python mock). Remembers what worked.
    pub async fn reset_stats(&self) -> Result<(), String> {
        let method = self.reset_method.load(Ordering::Relaxed);
        if method == RESET_NONE {
            return Err(
                "the target has no /stats/reset (neither POST nor GET): counters are cumulative".into()
            );
        }
        let url = self.url("/stats/reset");
        let send = |get: bool| {
            let request = if get { self.http.get(&url) } else { self.http.post(&url) };
            async move { request.send().await }
        };
        let r = send(method == RESET_GET).await.map_err(|e| format!("/stats/reset failed: {e}"))?;
        if r.status().is_success() {
            return Ok(());
        }
        let refused = matches!(r.status().as_u16(), 404 | 405);
        if method == RESET_POST && refused {
            let r = send(true).await.map_err(|e| format!("GET /stats/reset failed: {e}"))?;
            if r.status().is_success() {
                self.reset_method.store(RESET_GET, Ordering::Relaxed);
                return Ok(());
            }
            if matches!(r.status().as_u16(), 404 | 405) {
                self.reset_method.store(RESET_NONE, Ordering::Relaxed);
            }
            return Err(format!("/stats/reset answered HTTP {} to POST and GET", r.status().as_u16()));
        }
        Err(format!("/stats/reset answered HTTP {}", r.status()))
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

    /// Splits `settings` into what the target accepts and a reason for each key it does not.
    pub fn split(
        &self,
        settings: &serde_json::Map<String, Value>,
    ) -> (serde_json::Map<String, Value>, Vec<String>) {
        let mut accepted = serde_json::Map::new();
        let mut refused = Vec::new();
        for (key, value) in settings {
            if self.known_keys.iter().any(|k| k == key) {
                accepted.insert(key.clone(), value.clone());
            } else {
                refused.push(format!("{key}={value}: the target does not know this setting"));
            }
        }
        (accepted, refused)
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
