//! Control calls to the target (reqwest): health, `/configure`, `/stats/reset`, `/status`.
//! Kept apart from the load path, which uses hyper directly.

use std::time::Duration;

use serde_json::Value;
use url::Url;

use crate::metrics::ServerCounters;
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

#[derive(Clone)]
pub struct ControlClient {
    http: reqwest::Client,
    base: Url,
}

impl ControlClient {
    pub fn new(base: Url) -> Self {
        crate::engine::tls::install_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self { http, base }
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

    pub async fn reset_stats(&self) -> Result<(), String> {
        let r = self
            .http
            .post(self.url("/stats/reset"))
            .send()
            .await
            .map_err(|e| format!("POST /stats/reset failed: {e}"))?;
        if r.status().is_success() {
            Ok(())
        } else {
            Err(format!("POST /stats/reset answered HTTP {}", r.status()))
        }
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

fn u(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

fn f(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

/// Reads the server's view of a phase from its `/status` document.
pub fn server_view(status: &Value) -> ServerView {
    let stats = status.get("stats").cloned().unwrap_or(Value::Null);
    let latency = stats.get("latency_ms").cloned().unwrap_or(Value::Null);
    let injected = stats
        .get("injected_failures")
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_u64().map(|n| (k.clone(), n))).collect())
        .unwrap_or_default();
    ServerView {
        total_requests: u(&stats, "total_requests"),
        successful_requests: u(&stats, "successful_requests"),
        failed_requests: u(&stats, "failed_requests"),
        p50_ms: f(&latency, "p50"),
        p95_ms: f(&latency, "p95"),
        p99_ms: f(&latency, "p99"),
        avg_ms: f(&latency, "avg"),
        rejected: u(&stats, "rejected"),
        injected_failures: injected,
        raw: status.clone(),
    }
}

/// The counters the live views show, from a `/status` document.
pub fn server_counters(status: &Value) -> ServerCounters {
    let stats = status.get("stats").cloned().unwrap_or(Value::Null);
    ServerCounters {
        total_requests: u(&stats, "total_requests").unwrap_or(0),
        dedup_hits: u(&stats, "dedup_hits").unwrap_or(0),
        dedup_misses: u(&stats, "dedup_misses").unwrap_or(0),
        dedup_errors: u(&stats, "dedup_errors").unwrap_or(0),
        injected_failures: u(&stats, "injected_failures_total").unwrap_or(0),
        rejected: u(&stats, "rejected").unwrap_or(0),
        in_flight: u(&stats, "in_flight").unwrap_or(0),
    }
}
