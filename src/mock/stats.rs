//! Server-side statistics: atomic counters and one latency histogram (bounded memory),
//! rendered as `/status` (the shared `metrics::status` type) and Prometheus text.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use serde_json::Value;

use super::config::FailureMode;
use crate::metrics::LatencyHistogram;
use crate::metrics::status::{LatencySummary, ServerStats};

/// Upper edges (seconds) of the Prometheus histogram's buckets.
const BUCKETS_S: [f64; 16] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Default)]
pub struct Counters {
    /// Failures handled: each `/webhook` post and each `/batch` item.
    pub total: AtomicU64,
    pub successful: AtomicU64,
    pub failed: AtomicU64,
    pub dedup_hits: AtomicU64,
    pub dedup_misses: AtomicU64,
    pub dedup_errors: AtomicU64,
    pub injected: [AtomicU64; 5],
    /// Refused by backpressure (429).
    pub rejected: AtomicU64,
    pub batch_items: AtomicU64,
    /// `/batch` posts accepted (their items are in `batch_items` and `total`).
    pub batch_requests: AtomicU64,
}

pub struct Stats {
    pub counters: Counters,
    /// Failures past dedup and not answered yet (not reset: it is a gauge).
    pub in_flight: AtomicU64,
    started: Instant,
    window: Mutex<Window>,
}

struct Window {
    since: Instant,
    latency: LatencyHistogram,
    /// Whole `/batch` posts, from the body read to the answer (all items).
    batch_latency: LatencyHistogram,
}

impl Stats {
    pub fn new() -> Self {
        Self {
            counters: Counters::default(),
            in_flight: AtomicU64::new(0),
            started: Instant::now(),
            window: Mutex::new(Window {
                since: Instant::now(),
                latency: LatencyHistogram::new(),
                batch_latency: LatencyHistogram::new(),
            }),
        }
    }

    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    /// Records the processing time of one answered failure.
    pub fn record(&self, took: Duration) {
        // A poisoned lock only means a panic while recording; the histogram is still usable.
        self.window.lock().unwrap_or_else(|p| p.into_inner()).latency.record(took);
    }

    /// Records the processing time of one whole `/batch` post.
    pub fn record_batch(&self, took: Duration) {
        self.window.lock().unwrap_or_else(|p| p.into_inner()).batch_latency.record(took);
    }

    pub fn reset(&self) {
        let c = &self.counters;
        for counter in [
            &c.total,
            &c.successful,
            &c.failed,
            &c.dedup_hits,
            &c.dedup_misses,
            &c.dedup_errors,
            &c.rejected,
            &c.batch_items,
            &c.batch_requests,
        ]
        .into_iter()
        .chain(c.injected.iter())
        {
            counter.store(0, Relaxed);
        }
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        window.since = Instant::now();
        window.latency.reset();
        window.batch_latency.reset();
    }

    fn latency_copy(&self) -> (LatencyHistogram, LatencyHistogram, Duration) {
        let window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        (window.latency.clone(), window.batch_latency.clone(), window.since.elapsed())
    }

    /// The `stats` object of `/status`, as the one type the run reads back.
    pub fn to_status(&self) -> ServerStats {
        let c = &self.counters;
        let (latency, batch_latency, window) = self.latency_copy();
        let total = c.total.load(Relaxed);
        let successful = c.successful.load(Relaxed);
        let mut injected = BTreeMap::new();
        let mut injected_total = 0;
        for mode in FailureMode::ALL {
            let n = c.injected[mode.index()].load(Relaxed);
            injected_total += n;
            if n > 0 {
                injected.insert(mode.as_str().to_string(), n);
            }
        }
        let rate = if total == 0 { 100.0 } else { successful as f64 * 100.0 / total as f64 };
        let summary = |h: &LatencyHistogram, with_min: bool| LatencySummary {
            avg: Some(round2(h.mean_ms())),
            min: with_min.then(|| round2(h.min_ms())),
            max: Some(round2(h.max_ms())),
            p50: Some(round2(h.quantile_ms(0.50))),
            p95: Some(round2(h.quantile_ms(0.95))),
            p99: Some(round2(h.quantile_ms(0.99))),
        };
        ServerStats {
            total_requests: Some(total),
            successful_requests: Some(successful),
            failed_requests: Some(c.failed.load(Relaxed)),
            success_rate_percent: Some(round2(rate)),
            uptime_seconds: Some(round2(self.started.elapsed().as_secs_f64())),
            requests_per_second: Some(round2(total as f64 / window.as_secs_f64().max(1e-3))),
            latency_ms: summary(&latency, true),
            dedup_hits: Some(c.dedup_hits.load(Relaxed)),
            dedup_misses: Some(c.dedup_misses.load(Relaxed)),
            dedup_errors: Some(c.dedup_errors.load(Relaxed)),
            injected_failures: injected,
            injected_failures_total: Some(injected_total),
            rejected: Some(c.rejected.load(Relaxed)),
            in_flight: Some(self.in_flight.load(Relaxed)),
            batch_items: Some(c.batch_items.load(Relaxed)),
            batch_requests: Some(c.batch_requests.load(Relaxed)),
            // Per whole `/batch` post (`latency_ms` is per failure, batch items included):
            // the figure a client's `/batch` latency compares with.
            batch_latency_ms: summary(&batch_latency, false),
        }
    }

    /// The `stats` object as JSON (the `/stats/reset` answer).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.to_status()).unwrap_or(Value::Null)
    }

    /// Prometheus text exposition (version 0.0.4) of the counters and the latency histogram.
    pub fn to_prometheus(&self) -> String {
        let c = &self.counters;
        let mut out = String::with_capacity(4096);
        let counter = |out: &mut String, name: &str, help: &str, rows: &[(&str, u64)]| {
            // Writing into a String cannot fail (here and below).
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (labels, value) in rows {
                // As above: into a String.
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        counter(
            &mut out,
            "terrafix_mock_requests_total",
            "Failures handled (webhook posts and batch items), by outcome.",
            &[
                ("{outcome=\"success\"}", c.successful.load(Relaxed)),
                ("{outcome=\"failed\"}", c.failed.load(Relaxed)),
            ],
        );
        counter(
            &mut out,
            "terrafix_mock_dedup_total",
            "Dedup claims by result (error = store unreachable, failed open).",
            &[
                ("{result=\"hit\"}", c.dedup_hits.load(Relaxed)),
                ("{result=\"miss\"}", c.dedup_misses.load(Relaxed)),
                ("{result=\"error\"}", c.dedup_errors.load(Relaxed)),
            ],
        );
        let labels: Vec<String> =
            FailureMode::ALL.iter().map(|m| format!("{{mode=\"{}\"}}", m.as_str())).collect();
        let rows: Vec<(&str, u64)> = FailureMode::ALL
            .iter()
            .zip(&labels)
            .map(|(m, l)| (l.as_str(), c.injected[m.index()].load(Relaxed)))
            .collect();
        counter(&mut out, "terrafix_mock_injected_failures_total", "Injected failures by mode.", &rows);
        counter(
            &mut out,
            "terrafix_mock_rejected_total",
            "Failures refused by backpressure (429).",
            &[("", c.rejected.load(Relaxed))],
        );
        counter(
            &mut out,
            "terrafix_mock_batch_items_total",
            "Items received in /batch posts.",
            &[("", c.batch_items.load(Relaxed))],
        );
        // Writing into a String cannot fail.
        let _ = writeln!(
            out,
            "# HELP terrafix_mock_in_flight Failures being processed now.\n# TYPE terrafix_mock_in_flight gauge\nterrafix_mock_in_flight {}",
            self.in_flight.load(Relaxed)
        );
        self.write_histogram(&mut out);
        out
    }

    fn write_histogram(&self, out: &mut String) {
        let (latency, _, _) = self.latency_copy();
        let name = "terrafix_mock_processing_seconds";
        // Writing into a String cannot fail.
        let _ =
            writeln!(out, "# HELP {name} Server-side processing time per failure.\n# TYPE {name} histogram");
        let values = latency.recorded_values_ms();
        let mut cumulative = 0u64;
        let mut next = values.iter().peekable();
        for le in BUCKETS_S {
            while let Some((_, n)) = next.next_if(|(ms, _)| ms / 1000.0 <= le) {
                cumulative += n;
            }
            // Writing into a String cannot fail.
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let count = latency.count();
        // Writing into a String cannot fail (these three lines).
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", latency.mean_ms() * count as f64 / 1000.0);
        let _ = writeln!(out, "{name}_count {count}");
    }
}

impl Default for Stats {
    fn default() -> Self {
        Self::new()
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_end_at_count() {
        let stats = Stats::new();
        for ms in [1, 20, 20, 400, 3000] {
            stats.record(Duration::from_millis(ms));
        }
        let text = stats.to_prometheus();
        assert!(text.contains("terrafix_mock_processing_seconds_bucket{le=\"0.025\"} 3"), "{text}");
        assert!(text.contains("terrafix_mock_processing_seconds_bucket{le=\"+Inf\"} 5"), "{text}");
        assert!(text.contains("terrafix_mock_processing_seconds_count 5"), "{text}");
        assert!(text.contains("# TYPE terrafix_mock_processing_seconds histogram"));
        stats.reset();
        assert_eq!(stats.to_json()["latency_ms"]["max"], 0.0);
    }
}
