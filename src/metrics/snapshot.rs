//! What the aggregator publishes once a second, and the small types it is made of.

use serde::{Deserialize, Serialize};

/// Why a request counted as failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "status")]
pub enum FailureKind {
    /// The server answered with a non-2xx status.
    Http(u16),
    /// Could not connect, or the connection broke before a response.
    Connection,
    /// No response within the client timeout.
    Timeout,
    /// Open model only: the request's send time came while `max_in_flight` were busy.
    Dropped,
    /// Anything else (a malformed response, say).
    Other,
    /// The answer's head (status line and headers) was over the client's cap.
    HeadTooLarge,
}

impl FailureKind {
    /// Short label used in CSVs, charts and the TUI: `HTTP 503`, `connection`, ….
    pub fn label(&self) -> String {
        match self {
            FailureKind::Http(code) => format!("HTTP {code}"),
            FailureKind::Connection => "connection".into(),
            FailureKind::Timeout => "timeout".into(),
            FailureKind::Dropped => "dropped".into(),
            FailureKind::Other => "other".into(),
            FailureKind::HeadTooLarge => "head too large".into(),
        }
    }
}

/// One request name's figures in a snapshot. Counts and percentiles are cumulative over
/// the phase; `rps`/`fps` are of the last second.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NameRow {
    pub method: String,
    pub name: String,
    pub requests: u64,
    pub failures: u64,
    pub rps: f64,
    pub fps: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub avg_ms: f64,
    pub max_ms: f64,
}

/// Counters read from the target's `/status` while a phase runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerCounters {
    pub total_requests: u64,
    pub dedup_hits: u64,
    pub dedup_misses: u64,
    pub dedup_errors: u64,
    pub injected_failures: u64,
    pub rejected: u64,
    pub in_flight: u64,
}

/// The latest second of a run, published on a `watch` channel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub timestamp_unix_s: f64,
    /// Seconds since the run started (pauses included).
    pub run_elapsed_s: f64,
    pub phase_index: usize,
    pub phase_count: usize,
    pub phase_name: String,
    pub phase_elapsed_s: f64,
    pub phase_planned_s: f64,
    pub users: u32,
    pub in_flight: u64,
    /// Requests completed in the last second (failures included).
    pub rps: f64,
    pub fps: f64,
    /// Latency percentiles of the last second; 0 when it had no requests.
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Cumulative over the phase.
    pub total_requests: u64,
    pub total_failures: u64,
    pub dropped: u64,
    pub duplicates_sent: u64,
    pub rows: Vec<NameRow>,
    pub server: Option<ServerCounters>,
    /// The validity limits this phase has breached so far, in words; empty while its
    /// figures are the target's (the phase's verdict is judged again at its end).
    #[serde(default)]
    pub generator_bound: Vec<String>,
}

/// CPU and memory of one target process or container at one instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceSample {
    pub timestamp_unix_s: f64,
    /// `embedded`, or the Docker service name (`terrafix-api`, `redis`, …).
    pub service: String,
    pub cpu_percent: f64,
    pub memory_bytes: u64,
}
