//! The mock API's `GET /status` answer as one type: the mock writes it, the run reads it.
//! Every figure is optional on the reading side because other targets (the seed's Python
//! mock, a deployed TerraFix) send fewer of them; the mock fills every one. Renaming a
//! field renames it on both sides, so a key can no longer silently read as 0.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The whole `GET /status` answer of a target.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerStatus {
    /// The target's own state word (`running` for the mock); empty when absent.
    #[serde(default)]
    pub status: String,
    /// True when the target says it runs in mock mode (the mock always does); false when absent.
    #[serde(default)]
    pub mock_mode: bool,
    /// `memory` or `redis`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_store: Option<String>,
    /// What is left of a one-shot stall; present on targets that take `stall_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_remaining_ms: Option<u64>,
    /// The target's counters (all `None` when it sends no `stats`).
    #[serde(default)]
    pub stats: ServerStats,
    /// The target's current settings, by `/configure` key (the keys it takes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Map<String, Value>>,
}

/// The counters under `stats` in a `/status` answer, since the target's last `/stats/reset`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServerStats {
    /// Failures handled: each `/webhook` post and each `/batch` item.
    pub total_requests: Option<u64>,
    /// Failures handled successfully.
    pub successful_requests: Option<u64>,
    /// Failures answered with an error (injected ones included).
    pub failed_requests: Option<u64>,
    /// `successful_requests` ÷ `total_requests`, in percent.
    pub success_rate_percent: Option<f64>,
    /// Seconds since the target started.
    pub uptime_seconds: Option<f64>,
    /// The target's own average rate since it started or was reset.
    pub requests_per_second: Option<f64>,
    /// Per failure (batch items included).
    pub latency_ms: LatencySummary,
    /// Payloads the dedup store had seen before (dropped as duplicates).
    pub dedup_hits: Option<u64>,
    /// Payloads the dedup store saw for the first time.
    pub dedup_misses: Option<u64>,
    /// Dedup store operations that failed (the target then processes the payload anyway).
    pub dedup_errors: Option<u64>,
    /// Injected failures by mode name (`error_500`, …).
    pub injected_failures: BTreeMap<String, u64>,
    /// Sum of `injected_failures` over every mode.
    pub injected_failures_total: Option<u64>,
    /// Refused by backpressure (429).
    pub rejected: Option<u64>,
    /// Requests being handled at the moment of the answer.
    pub in_flight: Option<u64>,
    /// Items received in `/batch` posts (each also counted in `total_requests`).
    pub batch_items: Option<u64>,
    /// `/batch` posts received.
    pub batch_requests: Option<u64>,
    /// Per whole `/batch` post.
    pub batch_latency_ms: LatencySummary,
}

/// Milliseconds; absent figures stay `None`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LatencySummary {
    /// Mean (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avg: Option<f64>,
    /// Fastest (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Slowest (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Median (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    /// 95th percentile (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p95: Option<f64>,
    /// 99th percentile (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99: Option<f64>,
}

impl ServerStatus {
    /// Reads a `/status` document; what does not fit the type (a foreign target's own
    /// shape) reads as absent rather than failing the run.
    pub fn from_value(doc: &Value) -> ServerStatus {
        serde_json::from_value(doc.clone()).unwrap_or_else(|_| {
            // One malformed field must not hide the rest: read the stats alone.
            let stats =
                doc.get("stats").and_then(|s| serde_json::from_value(s.clone()).ok()).unwrap_or_default();
            ServerStatus {
                stats,
                config: doc.get("config").and_then(Value::as_object).cloned(),
                ..Default::default()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_foreign_target_reads_as_absent_figures_and_a_malformed_field_hides_nothing_else() {
        // The seed's Python mock: fewer keys, no config.
        let doc = serde_json::json!({"status": "running", "stats": {"total_requests": 12, "latency_ms": {"p99": 4.5}}});
        let s = ServerStatus::from_value(&doc);
        assert_eq!(s.stats.total_requests, Some(12));
        assert_eq!(s.stats.latency_ms.p99, Some(4.5));
        assert_eq!(s.stats.dedup_hits, None);
        assert!(s.config.is_none());
        let doc =
            serde_json::json!({"status": 3, "stats": {"total_requests": 7}, "config": {"latency_ms": 5}});
        let s = ServerStatus::from_value(&doc);
        assert_eq!(s.stats.total_requests, Some(7));
        assert!(s.config.is_some());
    }
}
