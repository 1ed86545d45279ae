//! The aggregator's side of recording: merges the shards' one-second windows into the
//! phase's cumulative figures, and turns each window into a snapshot and history rows.

#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::recorder::{METHODS, NameKey, Window};
use crate::metrics::{FailureKind, LOCUST_QUANTILES, LatencyHistogram, NameRow};

/// Cumulative figures of one request name (or of all of them).
#[derive(Clone, Debug, Default)]
pub struct Totals {
    /// Latencies (µs, service time from the send).
    pub latency: LatencyHistogram,
    /// Requests completed, failures included.
    pub requests: u64,
    /// Of `requests`, how many failed.
    pub failures: u64,
    /// Answer body bytes received.
    pub content_bytes: u64,
}

impl Totals {
    fn add(&mut self, latency: &LatencyHistogram, requests: u64, failures: u64, content_bytes: u64) {
        self.latency.merge(latency);
        self.requests += requests;
        self.failures += failures;
        self.content_bytes += content_bytes;
    }

    /// Adds another name's (or worker's) figures: histogram addition, exact.
    pub fn merge(&mut self, other: &Totals) {
        self.add(&other.latency, other.requests, other.failures, other.content_bytes);
    }

    /// Mean answer body size in bytes; 0 when no request completed.
    pub fn avg_content_bytes(&self) -> f64 {
        if self.requests == 0 { 0.0 } else { self.content_bytes as f64 / self.requests as f64 }
    }
}

/// Failures of one kind for one name over the phase.
#[derive(Clone, Debug)]
pub struct FailureTotals {
    /// How many so far.
    pub count: u64,
    /// The first one's message.
    pub first_message: String,
    /// Each distinct message with its count (bounded).
    pub messages: super::recorder::Messages,
    /// When the first one was recorded.
    pub first_seen: SystemTime,
    /// When the last one was recorded.
    pub last_seen: SystemTime,
}

/// One window (about a second), merged over shards.
#[derive(Debug, Default)]
pub struct Tick {
    /// Per `(method, name)`: the window's figures.
    pub names: BTreeMap<NameKey, Totals>,
    /// Every name together.
    pub all: Totals,
    /// One line per (name, kind) that failed this second, for "recent errors".
    pub error_samples: Vec<String>,
    /// Retry outcomes of logical requests that finished in the window.
    pub retry: super::recorder::RetryCounts,
}

/// Everything a phase has measured so far.
#[derive(Debug, Default)]
pub struct PhaseTotals {
    /// Per `(method, name)`: the phase's figures so far.
    pub names: BTreeMap<NameKey, Totals>,
    /// Every name together.
    pub all: Totals,
    /// Failures by (name, kind) so far.
    pub failures: BTreeMap<(NameKey, FailureKind), FailureTotals>,
    /// Payloads sent that were known resends of earlier ones.
    pub duplicates_sent: u64,
    /// Open model: arrivals not sent because `max_in_flight` were busy.
    pub dropped: u64,
    /// Items of `/batch` posts the answers reported as failed (not in `failures`).
    pub batch_items_failed: u64,
    /// Failure payloads answered or unanswered (exactly-once accounting).
    pub delivery: super::recorder::Delivery,
    /// Retry outcomes of logical requests so far.
    pub retry: super::recorder::RetryCounts,
    /// Schedule lag over the phase (µs histogram).
    pub lag: LatencyHistogram,
    /// Paced closed-model phases: response time from the planned start (µs), beside the
    /// service time from the send that `all` holds.
    pub response: LatencyHistogram,
    /// Answered `/webhook` and `/batch` posts over all names.
    pub by_endpoint: super::recorder::EndpointLatency,
}

impl PhaseTotals {
    /// Folds the shards' windows in, returning the merged window.
    pub fn absorb(&mut self, windows: Vec<Window>) -> Tick {
        let mut tick = Tick::default();
        for window in windows {
            self.duplicates_sent += window.duplicates_sent;
            self.dropped += window.dropped;
            self.batch_items_failed += window.batch_items_failed;
            self.delivery.merge(&window.delivery);
            tick.retry.merge(&window.retry);
            if !window.lag.is_empty() {
                self.lag.merge(&window.lag);
            }
            if !window.response.is_empty() {
                self.response.merge(&window.response);
            }
            self.by_endpoint.merge(&window.by_endpoint);
            for (method_index, map) in window.names.into_iter().enumerate() {
                for (name, w) in map {
                    let key: NameKey = (METHODS[method_index], name);
                    tick.names.entry(key).or_default().add(
                        &w.latency,
                        w.requests,
                        w.failures,
                        w.content_bytes,
                    );
                }
            }
            for ((key, kind), f) in window.failures {
                tick.error_samples.push(format!(
                    "{} × {} on {} {}: {}",
                    f.count,
                    kind.label(),
                    key.0,
                    key.1,
                    f.first_message
                ));
                self.failures
                    .entry((key, kind))
                    .and_modify(|t| {
                        t.count += f.count;
                        t.last_seen = t.last_seen.max(f.last_seen);
                        t.messages.merge(&f.messages);
                    })
                    .or_insert(FailureTotals {
                        count: f.count,
                        first_message: f.first_message,
                        messages: f.messages,
                        first_seen: f.first_seen,
                        last_seen: f.last_seen,
                    });
            }
        }
        let mut all = Totals::default();
        for t in tick.names.values() {
            all.add(&t.latency, t.requests, t.failures, t.content_bytes);
        }
        tick.all = all;
        self.absorb_tick(&tick);
        self.retry.merge(&tick.retry);
        tick
    }

    /// Adds a window already merged (the live view's totals since a reset).
    pub fn absorb_tick(&mut self, tick: &Tick) {
        for (key, t) in &tick.names {
            self.names.entry(key.clone()).or_default().add(
                &t.latency,
                t.requests,
                t.failures,
                t.content_bytes,
            );
        }
        self.all.add(&tick.all.latency, tick.all.requests, tick.all.failures, tick.all.content_bytes);
    }

    /// Per-name rows for a snapshot: cumulative counts and percentiles, this second's rates.
    pub fn name_rows(&self, tick: &Tick, window_s: f64) -> Vec<NameRow> {
        let window_s = window_s.max(1e-3);
        self.names
            .iter()
            .map(|(key, t)| {
                let (rps, fps) = tick
                    .names
                    .get(key)
                    .map(|w| (w.requests as f64 / window_s, w.failures as f64 / window_s))
                    .unwrap_or((0.0, 0.0));
                NameRow {
                    method: key.0.to_string(),
                    name: key.1.clone(),
                    requests: t.requests,
                    failures: t.failures,
                    rps,
                    fps,
                    p50_ms: t.latency.quantile_ms(0.50),
                    p95_ms: t.latency.quantile_ms(0.95),
                    p99_ms: t.latency.quantile_ms(0.99),
                    avg_ms: t.latency.mean_ms(),
                    max_ms: t.latency.max_ms(),
                }
            })
            .collect()
    }
}

/// Locust's percentile columns for a histogram, in ms.
pub fn locust_percentiles(h: &LatencyHistogram) -> [f64; 11] {
    LOCUST_QUANTILES.map(|q| h.quantile_ms(q))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::engine::recorder::{FailureWindow, MAX_MESSAGES, Messages, NameWindow};

    fn shard(latencies_ms: &[u64], failures: &[&str]) -> Window {
        let mut w = Window::default();
        let mut name = NameWindow::default();
        for ms in latencies_ms {
            name.latency.record(Duration::from_millis(*ms));
            name.requests += 1;
        }
        name.failures = failures.len() as u64;
        w.names[1].insert("/webhook".to_string(), name);
        let now = SystemTime::now();
        let mut messages = Messages::default();
        for m in failures {
            messages.add(m, 1);
        }
        if let Some(first) = failures.first() {
            w.failures.insert(
                (("POST", "/webhook".to_string()), FailureKind::Connection),
                FailureWindow {
                    count: failures.len() as u64,
                    first_message: first.to_string(),
                    messages,
                    first_seen: now,
                    last_seen: now,
                },
            );
        }
        w.dropped = 1;
        w
    }

    #[test]
    fn absorb_merges_shards_exactly_and_keeps_distinct_messages() {
        let mut totals = PhaseTotals::default();
        let tick = totals.absorb(vec![
            shard(&[10, 20, 30], &["connection refused", "connection refused"]),
            shard(&[40, 50], &["connection reset by peer"]),
        ]);
        assert_eq!(tick.all.requests, 5);
        assert_eq!(totals.all.requests, 5);
        assert_eq!(totals.all.failures, 3);
        assert_eq!(totals.dropped, 2);
        assert_eq!(totals.all.latency.count(), 5);
        assert!((totals.all.latency.quantile_ms(1.0) - 50.0).abs() < 0.5);
        let f = totals.failures.values().next().unwrap();
        assert_eq!(f.count, 3);
        assert_eq!(
            f.messages.distinct,
            vec![("connection refused".to_string(), 2), ("connection reset by peer".to_string(), 1)]
        );
        // A second tick adds to the same rows.
        totals.absorb(vec![shard(&[60], &["connection refused"])]);
        assert_eq!(totals.all.requests, 6);
        assert_eq!(totals.failures.values().next().unwrap().messages.distinct[0].1, 3);
    }

    #[test]
    fn messages_are_bounded() {
        let mut m = Messages::default();
        for i in 0..(MAX_MESSAGES + 5) {
            m.add(&format!("m{i}"), 2);
        }
        assert_eq!(m.distinct.len(), MAX_MESSAGES);
        assert_eq!(m.others, 10);
    }
}
