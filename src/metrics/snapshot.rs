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
    /// HTTP method, `GET` or `POST`.
    pub method: String,
    /// The task's request name (e.g. `/webhook [throughput]`).
    pub name: String,
    /// Requests completed under this name so far in the phase, failures included.
    pub requests: u64,
    /// Of `requests`, how many failed.
    pub failures: u64,
    /// Requests completed in the last second.
    pub rps: f64,
    /// Failures in the last second.
    pub fps: f64,
    /// Median latency over the phase so far (ms).
    pub p50_ms: f64,
    /// 95th percentile latency over the phase so far (ms).
    pub p95_ms: f64,
    /// 99th percentile latency over the phase so far (ms).
    pub p99_ms: f64,
    /// Mean latency over the phase so far (ms).
    pub avg_ms: f64,
    /// Slowest request of the phase so far (ms).
    pub max_ms: f64,
}

/// Counters read from the target's `/status` while a phase runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerCounters {
    /// Requests the server has counted since its last `/stats/reset`.
    pub total_requests: u64,
    /// Dedup hits: payloads the server had seen before (resends it dropped).
    pub dedup_hits: u64,
    /// Dedup misses: payloads the server saw for the first time.
    pub dedup_misses: u64,
    /// Errors of the server's dedup store (it fails open on them).
    pub dedup_errors: u64,
    /// Failures the server injected on purpose (all modes together).
    pub injected_failures: u64,
    /// Requests the server turned away by backpressure (429).
    pub rejected: u64,
    /// Requests the server was handling when `/status` was read.
    pub in_flight: u64,
}

/// The latest second of a run, published on a `watch` channel.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// When the snapshot was taken, seconds since the Unix epoch.
    pub timestamp_unix_s: f64,
    /// Seconds since the run started (pauses included).
    pub run_elapsed_s: f64,
    /// 0-based index of the running phase.
    pub phase_index: usize,
    /// Phases in the run (capacity steps included).
    pub phase_count: usize,
    /// The running phase's name.
    pub phase_name: String,
    /// Seconds since the running phase started.
    pub phase_elapsed_s: f64,
    /// The running phase's planned length in seconds (grows when it is extended).
    pub phase_planned_s: f64,
    /// Closed model: users running now; 0 for an open phase.
    pub users: u32,
    /// Requests sent and not yet answered, at the snapshot's instant.
    pub in_flight: u64,
    /// Requests completed in the last second (failures included).
    pub rps: f64,
    /// Failures completed in the last second.
    pub fps: f64,
    /// Latency percentiles of the last second; 0 when it had no requests.
    pub p50_ms: f64,
    /// 95th percentile of the last second (ms).
    pub p95_ms: f64,
    /// 99th percentile of the last second (ms).
    pub p99_ms: f64,
    /// Cumulative over the phase.
    pub total_requests: u64,
    /// Failed requests so far in the phase.
    pub total_failures: u64,
    /// Open model: arrivals not sent because `max_in_flight` were busy, so far in the phase.
    pub dropped: u64,
    /// Payloads sent that were known resends of earlier ones (duplicates), so far in the phase.
    pub duplicates_sent: u64,
    /// One row per request name, cumulative over the phase.
    pub rows: Vec<NameRow>,
    /// The target's own counters; `None` when it has no `/status` or it did not answer.
    pub server: Option<ServerCounters>,
    /// The validity limits this phase has breached so far, in words; empty while its
    /// figures are the target's (the phase's verdict is judged again at its end).
    #[serde(default)]
    pub generator_bound: Vec<String>,
}

/// CPU and memory of one target process or container at one instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceSample {
    /// When it was sampled, seconds since the Unix epoch.
    pub timestamp_unix_s: f64,
    /// `embedded`, or the Docker service name (`terrafix-api`, `redis`, …).
    pub service: String,
    /// CPU used since the previous sample, in percent of one core (200 = two cores busy, as `docker stats` counts it).
    pub cpu_percent: f64,
    /// Memory in use, in bytes (for a container, usage less inactive page cache, as `docker stats` counts it).
    pub memory_bytes: u64,
}
