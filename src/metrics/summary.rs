//! The `experiment_summary.json` schema. It keeps the seed harness's keys
//! (`name`, `status`, `config`, `summary{total_requests, failure_count, median/avg/p95/p99_response_ms,
//! requests_per_sec}`) and adds the server's view, dedup, thresholds and failures by kind.
//! Versioned by `schema_version`; readers refuse versions they do not know. In memory the
//! phases are one list; on disk (schema 2, see `wire`) they are grouped by suite the way the
//! seed's readers expect. Schema 1 (a flat list) still loads.

use serde::{Deserialize, Serialize};

mod wire;

/// The version this build writes.
pub const SUMMARY_SCHEMA_VERSION: u32 = 2;
/// Versions this build reads.
pub const SUMMARY_SCHEMA_READABLE: [u32; 2] = [1, 2];
/// The summary's file name, written at the top of each run folder.
pub const SUMMARY_FILE: &str = "experiment_summary.json";
/// Per-second CPU/memory samples of the target, when the run had them.
pub const RESOURCES_FILE: &str = "resources.csv";

/// How the run as a whole ended (`status` in the summary).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Written at the start and after each phase; a folder left in this state belongs to a
    /// run that is still going or was killed before it could finish.
    Running,
    /// Every phase ran to its end (a phase may still have failed its thresholds; see `passed`).
    Completed,
    /// Stopped by the user (Ctrl-C, abort key); everything measured so far is kept.
    Aborted,
    /// The run could not go on (the target vanished before the first phase, say).
    Failed,
}

/// How one phase ended (`experiments[].status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseStatus {
    /// The phase ran for its whole planned duration.
    Completed,
    /// Cut short by the skip key; its figures cover the time it ran.
    Skipped,
    /// Stopped with the run (Ctrl-C, abort key); its figures cover the time it ran.
    Aborted,
}

/// `Serialize`/`Deserialize` are written by hand in `wire` (the derive below only generates
/// the flat form, `RunSummary::serialize`/`RunSummary::deserialize`, that `wire` reshapes).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct RunSummary {
    /// The summary format; see [`SUMMARY_SCHEMA_VERSION`] and [`SUMMARY_SCHEMA_READABLE`].
    pub schema_version: u32,
    /// The program that wrote the file: `terrafix-tui` (or `locust` for a seed-harness run read in).
    pub tool: String,
    /// The writer's crate version (`CARGO_PKG_VERSION`).
    pub tool_version: String,
    /// The run folder's name: `YYYYMMDD-HHMMSS-<profile>` in UTC, with `-N` added when taken.
    pub run_id: String,
    /// The profile's `name`.
    pub profile: String,
    /// The profile's `description` (empty when it has none).
    pub description: String,
    /// `embedded`, `docker`, or the URL.
    pub target: String,
    /// The base URL requests were sent to (the embedded mock's loopback address when embedded).
    pub target_url: String,
    /// The seed of every random choice (payloads, think times, arrivals): the same seed replays the same load.
    pub seed: u64,
    /// The factor already applied to the profile's durations (`--time-scale`; 1 when unscaled).
    pub time_scale: f64,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// RFC 3339, UTC; empty while the run is `running`.
    pub finished_at: String,
    /// How the run ended; `running` while it is still being written.
    pub status: RunStatus,
    /// True when every threshold passed and the profile's failure policy holds.
    pub passed: bool,
    /// The phases in the order they ran (grouped by suite on disk).
    pub experiments: Vec<PhaseSummary>,
    /// Thresholds declared for the whole run.
    pub thresholds: Vec<ThresholdResult>,
    /// The capacity search's answer; absent for profiles without a `capacity:` section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<CapacityReport>,
    /// Things worth knowing that are not numbers: a container that died, a target that went away.
    #[serde(default)]
    pub notes: Vec<String>,
    /// How the target was reached: TLS trust, extra header names (values never), timeouts.
    #[serde(default)]
    pub connection: ConnectionInfo,
    /// Whether the target's settings were put back as they were found at the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<RestoreReport>,
    /// A distributed run: its generators and the ones it lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distributed: Option<DistributedReport>,
    /// Why the run did not pass, beside failed thresholds: `every request of phase X failed`,
    /// a setting our own mock refused. `run` prints the first as its last line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fail_reasons: Vec<String>,
}

/// How a distributed run's load was generated.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DistributedReport {
    /// Generators asked for (Swarm tasks of one service).
    pub workers: u32,
    /// The Swarm service that ran the generators.
    pub service: String,
    /// The container image the generators ran.
    pub image: String,
    /// How the generators reached Redis and the target: `overlay` or `host`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub network: String,
    /// Each lost worker in words: which, when, what it had sent, why.
    pub lost: Vec<String>,
    /// Leftovers of an earlier run found by label and removed before this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leftovers_removed: Vec<String>,
}

/// One generator's share of a phase of a distributed run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerReport {
    /// 1-based (Swarm's task slot); files and tags call it `worker-K`.
    pub worker: u32,
    /// Swarm's task id of the attempt that ran the phase.
    pub task: String,
    /// Which attempt of this worker it was (1 unless Swarm restarted it).
    pub attempt: u32,
    /// Requests this worker completed in the phase (answered or failed).
    pub requests: u64,
    /// Of `requests`, how many failed.
    pub failures: u64,
    /// `requests` ÷ the phase's duration.
    pub requests_per_s: f64,
    /// The worker's own 99th percentile latency (ms, service time from the send).
    pub p99_ms: f64,
    /// Its CPU seconds and share of its machine's cores.
    pub cpu_s: f64,
    /// `cpu_s` ÷ (phase wall time × the worker machine's cores), in percent.
    pub cpu_percent: f64,
    /// How late the worker's arrivals or paced iterations started against their plan, p99 (ms).
    pub schedule_lag_p99_ms: f64,
    /// Its own interval log (`Tag=worker-K`), relative to the run folder.
    #[serde(default)]
    pub hlog: String,
    /// Set when the worker was lost during the phase: when and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost: Option<String>,
    /// The Swarm node its task ran on (absent when the manager could not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<WorkerNode>,
}

impl WorkerReport {
    /// `worker-2 on node-b (node 9d2cb98dpe11): 1234 requests, 205.7 req/s, p99 12.3 ms, …`.
    pub fn row(&self) -> String {
        let attempt = if self.attempt > 1 { format!(" (attempt {})", self.attempt) } else { String::new() };
        let lost = self.lost.as_ref().map_or(String::new(), |_| " — LOST".to_string());
        let node = self.node.as_ref().map_or(String::new(), |n| {
            format!(" on {} (node {})", n.hostname, n.id.chars().take(12).collect::<String>())
        });
        format!(
            "worker-{}{attempt}{node}: {} requests, {:.1} req/s, p99 {:.1} ms, CPU {:.0} %, schedule lag p99 {:.1} ms{lost}",
            self.worker,
            self.requests,
            self.requests_per_s,
            self.p99_ms,
            self.cpu_percent,
            self.schedule_lag_p99_ms
        )
    }
}

/// A Swarm node as a worker report names it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerNode {
    /// The node's hostname as Swarm reports it (`docker node ls`).
    pub hostname: String,
    /// Swarm's node id.
    pub id: String,
}

/// How the run talked to its target.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionInfo {
    /// `http`, `https (verified)`, `https (CA from FILE)` or `https (INSECURE: certificate not checked)`.
    pub tls: String,
    /// True with `--insecure`: the numbers came from a server whose identity was not checked.
    pub insecure: bool,
    /// Extra headers as `Name: ***`.
    pub headers: Vec<String>,
    /// How long one request may take before it counts as a `timeout` failure, in seconds.
    pub request_timeout_s: f64,
    /// How long opening a connection (with its TLS handshake) may take, in seconds.
    pub connect_timeout_s: f64,
    /// False with `--no-configure`: neither `/configure` nor `/stats/reset` was sent.
    pub configure_target: bool,
    /// `HTTP/1.1`, or `HTTP/2` when `--http2` was offered and the server took it; empty in
    /// summaries written before it was recorded (left out, so they round-trip unchanged).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub protocol: String,
}

/// Putting the target's settings back after the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RestoreReport {
    /// True when the target answered with exactly the settings it had at the start.
    pub restored: bool,
    /// The settings found at the start (the keys this tool may change).
    pub original: serde_json::Value,
    /// What the target said it has after the restore (or after the run, if restoring failed).
    pub left_at: serde_json::Value,
    /// The outcome in words, as `run` prints it.
    pub message: String,
}

/// Connections opened during a phase and how long connect (+ TLS handshake) took.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectReport {
    /// Connections opened (successful connects).
    pub connects: u64,
    /// Connection attempts that failed (refused, timed out, TLS handshake rejected).
    pub failed: u64,
    /// Median time to connect, TLS handshake included (ms); 0 when nothing connected.
    pub p50_ms: f64,
    /// 99th percentile time to connect (ms); 0 when nothing connected.
    pub p99_ms: f64,
    /// Slowest connect (ms); 0 when nothing connected.
    pub max_ms: f64,
}

/// One phase of a run (`experiments[]` in memory; grouped under its `suite` on disk).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseSummary {
    /// Seed name, e.g. `throughput_baseline`.
    pub name: String,
    /// Folder under the run directory, e.g. `throughput`.
    pub suite: String,
    /// How the phase ended.
    pub status: PhaseStatus,
    /// What the phase was asked to do.
    pub config: PhaseConfig,
    /// The seed harness's figures for the phase, under its key names.
    pub summary: SeedSummary,
    /// Latency of the phase's requests in ms, service time from the send.
    pub latency_ms: LatencyStats,
    /// Failed requests per second of the phase (`failure_count` ÷ `duration_s`; 0 for an empty phase).
    pub failures_per_sec: f64,
    /// Open model: arrivals not sent because `max_in_flight` were busy.
    pub dropped: u64,
    /// Items of `/batch` posts that the answers reported as failed. A batch is answered
    /// HTTP 200 with per-item results, so these are not in `failure_count`.
    #[serde(default)]
    pub batch_items_failed: u64,
    /// Seconds from the run's start to this phase's start (for timelines).
    pub offset_s: f64,
    /// How long the phase ran, in seconds (shorter than planned when skipped or aborted).
    pub duration_s: f64,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// RFC 3339, UTC.
    pub finished_at: String,
    /// Totals per request name (the rows of `<suite>/<name>_stats.csv`).
    pub requests: Vec<RequestStats>,
    /// Failures grouped by request name and kind (the rows of `<suite>/<name>_failures.csv`).
    pub failures: Vec<FailureStat>,
    /// Dedup (exactly-once) counters of the generator and, when reported, of the server.
    pub dedup: DedupReport,
    /// What the target's `/status` said at the end of the phase; `None` when it has no such endpoint.
    pub server: Option<ServerView>,
    /// Thresholds declared for this phase, each with its verdict.
    pub thresholds: Vec<ThresholdResult>,
    /// Where the phase's CSVs and interval log were written.
    pub files: PhaseFiles,
    /// Connects (and TLS handshakes) during the phase, apart from request latency.
    #[serde(default)]
    pub connections: ConnectReport,
    /// Server settings of the phase that did not reach the target, each with the reason.
    #[serde(default)]
    pub settings_not_applied: Vec<String>,
    /// Whether the phase's settings held on the target throughout (`full`), only for part of
    /// it (`partial`: the target restarted and ran its own defaults until they were sent
    /// again), or never (`not_applied`); absent when none were sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings_applied: Option<SettingsApplied>,
    /// Which settings were sent and the share of the phase they held for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings_held: Option<SettingsHeld>,
    /// What happened to the target during the phase (it stopped answering, came back).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Live steering applied while the phase ran, in order (empty when nobody steered it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<PhaseChange>,
    /// Client retries and fault windows (absent when the phase had neither).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resilience: Option<ResilienceReport>,
    /// Whether the figures are the target's (`valid`) or the generator's own limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validity: Option<Validity>,
    /// A distributed run's generators, one row each (empty for a single-node run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workers: Vec<WorkerReport>,
    /// Paced closed-model phases (`constant_pacing`, `constant_throughput`): the response
    /// time from each request's planned start, corrected for the requests a slow answer held
    /// back (wrk2's corrected figure), beside `latency_ms`, the service time from the send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_time_ms: Option<LatencyStats>,
    /// Like for like: the client's answered `/webhook` posts beside the server's per-failure
    /// latency, its `/batch` posts beside the server's per-batch latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub like_for_like: Option<LikeForLike>,
}

/// How long a phase's server settings held on the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingsApplied {
    /// The settings held for the whole phase.
    Full,
    /// The target lost the settings for part of the phase (it restarted) and got them again.
    Partial,
    /// The target never took the settings.
    NotApplied,
}

/// The settings sent for a phase and the share of it (0–1) they held for.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SettingsHeld {
    /// The settings as sent with `POST /configure` (a JSON object).
    pub settings: serde_json::Value,
    /// Share of the phase's duration (0–1) for which the target held them.
    pub share: f64,
}

/// Single posts and batches, each beside the server figure of the same kind (ms).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LikeForLike {
    /// Single `/webhook` posts the client got an answer to.
    pub webhook_posts: u64,
    /// Client median latency of those posts (ms).
    pub client_webhook_p50_ms: f64,
    /// Client 99th percentile latency of those posts (ms).
    pub client_webhook_p99_ms: f64,
    /// The server's `latency_ms`: per failure (batch items included).
    pub server_per_failure_p50_ms: Option<f64>,
    /// The server's per-failure p99 (ms); `None` when its `/status` does not report it.
    pub server_per_failure_p99_ms: Option<f64>,
    /// `/batch` posts the client got an answer to (0 when the phase sent no batches).
    pub batch_posts: u64,
    /// Client median latency of those posts (ms).
    pub client_batch_p50_ms: f64,
    /// Client 99th percentile latency of those posts (ms).
    pub client_batch_p99_ms: f64,
    /// The server's `batch_latency_ms`: per whole `/batch` post.
    pub server_batch_p50_ms: Option<f64>,
    /// The server's per-batch p99 (ms); `None` when its `/status` does not report it.
    pub server_batch_p99_ms: Option<f64>,
}

/// A phase's validity verdict and what the generator measured about itself.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Validity {
    /// `valid` or `generator-bound`.
    pub verdict: String,
    /// Each limit breached, in words.
    pub reasons: Vec<String>,
    /// CPU of the generator (the process less the embedded target's threads).
    pub generator_cpu_s: f64,
    /// ÷ (wall time × cores).
    pub generator_cpu_share: f64,
    /// Cores the generator could use (the divisor of `generator_cpu_share`).
    pub cores: usize,
    /// How late arrivals (open model) or paced iterations started against their plan.
    pub schedule_lag_ms: Option<LagStats>,
    /// The longest the generator's event loop was late waking a 10 ms timer.
    pub worst_stall_ms: f64,
    /// From when to when (s into the phase) the live check, on the figures so far, found the
    /// phase generator-bound; absent when it never did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_bound_s: Option<(f64, f64)>,
}

impl Validity {
    /// True when the verdict is `valid` (the figures are the target's).
    pub fn is_valid(&self) -> bool {
        self.verdict == "valid"
    }

    /// When the verdict on the whole phase contradicts the live warning (`generator-bound so
    /// far`), the words that say which one holds: `final: valid over the whole phase (the
    /// first 2.0 s were generator-bound)`.
    pub fn final_word(&self) -> Option<String> {
        let (from, to) = self.live_bound_s.filter(|_| self.is_valid())?;
        // A breach found at the first judged tick means the phase began generator-bound.
        Some(if from <= 1.0 {
            format!("final: valid over the whole phase (the first {to:.1} s were generator-bound)")
        } else {
            format!(
                "final: valid over the whole phase (it was generator-bound from {from:.1} s to {to:.1} s)"
            )
        })
    }
}

/// Percentiles of schedule lag: how late planned sends started (ms).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LagStats {
    /// Median lag (ms).
    pub p50_ms: f64,
    /// 99th percentile lag (ms).
    pub p99_ms: f64,
    /// Largest lag seen (ms).
    pub max_ms: f64,
}

impl PhaseSummary {
    /// The exactly-once line (when the server reports its dedup counters), then one line per
    /// generator of a distributed run:
    /// `worker-2: 1234 requests, 205.7 req/s, p99 12.3 ms, CPU 3 %, schedule lag p99 0.4 ms`.
    pub fn detail_lines(&self) -> Vec<String> {
        let both = self.response_time_ms.as_ref().map(|r| {
            format!(
                "response time from the planned start (corrected for coordinated omission): p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms; service time from the send (the CSVs'): p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                r.p50, r.p95, r.p99, r.max, self.latency_ms.p50, self.latency_ms.p95, self.latency_ms.p99, self.latency_ms.max
            )
        });
        let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
        let like = self.like_for_like.as_ref().map(|l| {
            let mut line = format!(
                "like for like: {} /webhook posts p50 {:.1} / p99 {:.1} ms vs the server's per failure p50 {} / p99 {} ms",
                l.webhook_posts,
                l.client_webhook_p50_ms,
                l.client_webhook_p99_ms,
                ms(l.server_per_failure_p50_ms),
                ms(l.server_per_failure_p99_ms)
            );
            if l.batch_posts > 0 {
                line.push_str(&format!(
                    "; {} /batch posts p50 {:.1} / p99 {:.1} ms vs the server's per batch p50 {} / p99 {} ms",
                    l.batch_posts,
                    l.client_batch_p50_ms,
                    l.client_batch_p99_ms,
                    ms(l.server_batch_p50_ms),
                    ms(l.server_batch_p99_ms)
                ));
            }
            line
        });
        both.into_iter().chain(like).chain(self.dedup.exactly_once_line()).chain(self.worker_rows()).collect()
    }

    fn worker_rows(&self) -> Vec<String> {
        self.workers.iter().map(WorkerReport::row).collect()
    }

    /// `valid (generator CPU 12 % of 2 cores, schedule lag p99 0.4 ms)` or
    /// `GENERATOR-BOUND: … — its thresholds are untrustworthy`.
    pub fn validity_line(&self) -> Option<String> {
        let v = self.validity.as_ref()?;
        let lag = v
            .schedule_lag_ms
            .as_ref()
            .map_or(String::new(), |l| format!(", schedule lag p99 {:.1} ms", l.p99_ms));
        Some(if v.is_valid() {
            let live = v.final_word().map_or(String::new(), |w| format!("; {w}"));
            format!(
                "valid (generator CPU {:.0} % of {} cores{lag}, worst stall {:.0} ms){live}",
                v.generator_cpu_share * 100.0,
                v.cores,
                v.worst_stall_ms
            )
        } else {
            let untrusted =
                if self.thresholds.is_empty() { "" } else { " — its thresholds are untrustworthy" };
            format!("GENERATOR-BOUND: {}{untrusted}", v.reasons.join("; "))
        })
    }

    /// Retries and fault windows of a phase in words, one line each (none without either).
    pub fn resilience_lines(&self) -> Vec<String> {
        let Some(r) = &self.resilience else { return Vec::new() };
        let mut lines = Vec::new();
        if r.logical_requests > 0 {
            let success = r.retry_success_rate.map_or("-".to_string(), |s| format!("{:.1} %", s * 100.0));
            lines.push(format!(
            "retries: {} requests took {} attempts (×{:.2}, p99 {}); {} failed first, {} got through on a retry \
             (retry success rate {success})",
            r.logical_requests, r.attempts, r.amplification, r.attempts_p99, r.failed_first, r.recovered_by_retry
        ));
            if r.retries_answered_duplicate > 0 {
                lines.push(format!(
                "{} retries were answered \"duplicate\": the target claimed those failures before failing them, \
                 so their work was dropped (no PR) — it should release the claim when processing fails",
                r.retries_answered_duplicate
            ));
            }
        }
        for f in &r.faults {
            let window = match (f.started_s, f.ended_s) {
                (Some(a), Some(b)) => format!("{a:.1}–{b:.1} s"),
                _ => format!("planned {:.1}–{:.1} s", f.planned_at_s, f.planned_end_s),
            };
            // A fault that never began says why in its notes alone.
            let mut line = if f.started_s.is_none() && !f.notes.is_empty() {
                format!("fault {window} {}", f.description)
            } else {
                format!("fault {window} {}: {}", f.description, f.recovery_text())
            };
            for note in &f.notes {
                line.push_str(&format!("; {note}"));
            }
            lines.push(line);
        }
        lines
    }
}

/// What retries and faults did in a phase: the seed's "retry success rates, recovery time".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResilienceReport {
    /// Logical requests under the retry policy (each one or more attempts).
    pub logical_requests: u64,
    /// Attempts sent for them, first tries and retries together.
    pub attempts: u64,
    /// Logical requests whose first attempt failed.
    pub failed_first: u64,
    /// Of those, how many a later attempt got through (and the work was done).
    pub recovered_by_retry: u64,
    /// Of those, how many a later attempt was answered "duplicate" for: the target had
    /// claimed the failure before failing it, so the resend was accepted and dropped and no
    /// PR was ever made (exactly-once became at-most-once).
    #[serde(default)]
    pub retries_answered_duplicate: u64,
    /// recovered ÷ failed first; absent when no first attempt failed (or no retries).
    pub retry_success_rate: Option<f64>,
    /// Mean attempts per logical request (1.0 when nothing was retried).
    pub attempts_mean: f64,
    /// 99th percentile of attempts per logical request.
    pub attempts_p99: u32,
    /// Attempts ÷ logical requests: how much load the retries added.
    pub amplification: f64,
    /// The same, second by second: `[end of the second from the phase's start, attempts ÷
    /// logical requests that finished in it]` (seconds without a finished one are left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amplification_over_time: Vec<[f64; 2]>,
    /// The phase's fault windows, in plan order (empty when it had none).
    pub faults: Vec<FaultReport>,
}

/// One fault window: planned and actual times (seconds from the phase's start) and how
/// long the phase took to recover after it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultReport {
    /// `server failure_rate=0.5 failure_mode=throttle_429`, `kill redis`.
    pub description: String,
    /// When the fault was planned to start, seconds from the phase's start.
    pub planned_at_s: f64,
    /// When the fault was planned to end, seconds from the phase's start.
    pub planned_end_s: f64,
    /// When it was applied and undone; absent when it was not (see `notes`).
    pub started_s: Option<f64>,
    /// When it was undone (seconds from the phase's start); absent when it never started or was not undone.
    pub ended_s: Option<f64>,
    /// The p99 of the seconds before the fault, which recovery is measured against.
    pub baseline_p99_ms: Option<f64>,
    /// From the fault's end to the first second of a healthy stretch; absent when the
    /// phase ended before it recovered.
    pub recovery_s: Option<f64>,
    /// True when a healthy stretch followed the fault before the phase ended.
    pub recovered: bool,
    /// Why a fault was not applied or not undone, or what it did besides (a container that did not come back).
    #[serde(default)]
    pub notes: Vec<String>,
}

impl FaultReport {
    /// `recovered in 1.2 s`, `did not recover before the phase ended`, `not applied`.
    pub fn recovery_text(&self) -> String {
        match (self.started_s, self.recovery_s) {
            (None, _) => "not applied".into(),
            (Some(_), Some(s)) => format!("recovered in {s:.1} s"),
            (Some(_), None) => "did not recover before the phase ended".into(),
        }
    }
}

/// One steering change applied during a phase: exactly one of the value fields is set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseChange {
    /// Seconds from the phase's start.
    pub at_s: f64,
    /// Closed model: the new target user count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<u32>,
    /// Open model: the new arrival rate, requests per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_rate: Option<f64>,
    /// The phase was lengthened by this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_by_s: Option<f64>,
    /// Who asked for it: the TUI's keys, the control API, or a TUI attached through it.
    /// Absent in summaries written before the source was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ChangeSource>,
}

/// Where a steering change came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeSource {
    /// The TUI that started the run (or a test calling the steering channel directly).
    #[default]
    Tui,
    /// A plain client of the control API (`run --control`).
    Api,
    /// `terrafix-tui attach`: a TUI steering through the control API.
    Attach,
}

impl ChangeSource {
    /// The name written in `changes[].source` and shown as "(via api)".
    pub fn label(self) -> &'static str {
        match self {
            ChangeSource::Tui => "tui",
            ChangeSource::Api => "api",
            ChangeSource::Attach => "attach",
        }
    }
}

impl PhaseChange {
    /// In words: `users → 20`, `rate → 150 req/s`, `extended by 30 s (via api)`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(n) = self.users {
            parts.push(format!("users → {n}"));
        }
        if let Some(r) = self.arrival_rate {
            parts.push(format!("rate → {r} req/s"));
        }
        if let Some(s) = self.extended_by_s {
            parts.push(format!("extended by {s} s"));
        }
        let text = parts.join(", ");
        // The TUI's own keys are the usual source; the others are named.
        match self.source {
            Some(source @ (ChangeSource::Api | ChangeSource::Attach)) => {
                format!("{text} (via {})", source.label())
            }
            _ => text,
        }
    }
}

/// What the phase was asked to do.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseConfig {
    /// The profile's behaviour name (`webhook_storm`, `mixed`, …): what each user or arrival sends.
    pub behaviour: String,
    /// `closed` (users) or `open` (arrival rate).
    pub model: String,
    /// Closed model: the number of users; `None` for an open phase.
    pub users: Option<u32>,
    /// Closed model: users started per second until `users` are running; `None` for an open phase.
    pub spawn_rate: Option<f64>,
    /// Open model: arrivals per second at the phase's start; `None` for a closed phase.
    pub arrival_rate_from: Option<f64>,
    /// Open model: arrivals per second at its end (equal to `arrival_rate_from` for a flat rate).
    pub arrival_rate_to: Option<f64>,
    /// Open model: the most requests in flight at once; arrivals beyond it are `dropped`.
    pub max_in_flight: Option<u32>,
    /// Planned duration in seconds, after `time_scale`.
    pub duration_s: f64,
    /// The repository size the payloads describe (`small`, `medium`, `large`, `mixed`); `None` when not recorded (a Locust folder read in).
    pub repo_size: Option<String>,
    /// The settings sent with `POST /configure` before the phase (JSON object, possibly empty).
    pub server_settings: serde_json::Value,
}

/// The seed harness's summary keys, unchanged.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SeedSummary {
    /// Requests completed in the phase, failures included.
    pub total_requests: u64,
    /// Of `total_requests`, how many failed (HTTP error, connection, timeout, …).
    pub failure_count: u64,
    /// Median latency (ms).
    pub median_response_ms: f64,
    /// Mean latency (ms).
    pub avg_response_ms: f64,
    /// 95th percentile latency (ms).
    pub p95_response_ms: f64,
    /// 99th percentile latency (ms).
    pub p99_response_ms: f64,
    /// `total_requests` ÷ the phase's duration.
    pub requests_per_sec: f64,
}

/// Latency percentiles in milliseconds (from the phase's HDR histogram; all 0 for an empty phase).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyStats {
    /// Fastest request (ms).
    pub min: f64,
    /// Mean (ms).
    pub mean: f64,
    /// Median (ms).
    pub p50: f64,
    /// 75th percentile (ms).
    pub p75: f64,
    /// 90th percentile (ms).
    pub p90: f64,
    /// 95th percentile (ms).
    pub p95: f64,
    /// 99th percentile (ms).
    pub p99: f64,
    /// 99.9th percentile (ms).
    pub p99_9: f64,
    /// Slowest request (ms).
    pub max: f64,
}

/// One request name's totals for the phase (the rows of `_stats.csv`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestStats {
    /// HTTP method, `GET` or `POST`.
    pub method: String,
    /// The task's request name (e.g. `/webhook [throughput]`), the `Name` column of the CSV.
    pub name: String,
    /// Requests sent under this name, failures included.
    pub requests: u64,
    /// Of `requests`, how many failed.
    pub failures: u64,
    /// Median latency (ms).
    pub median_ms: f64,
    /// Mean latency (ms).
    pub avg_ms: f64,
    /// 95th percentile latency (ms).
    pub p95_ms: f64,
    /// 99th percentile latency (ms).
    pub p99_ms: f64,
    /// Slowest request (ms).
    pub max_ms: f64,
    /// `requests` ÷ the phase's duration.
    pub rps: f64,
}

/// Failures of one kind for one request name, with when they were first and last seen.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FailureStat {
    /// HTTP method, `GET` or `POST`.
    pub method: String,
    /// The task's request name (e.g. `/webhook [throughput]`).
    pub name: String,
    /// `FailureKind::label()`: `HTTP 500`, `connection`, `timeout`, `dropped`, `other`, `head too large`.
    pub kind: String,
    /// A representative message (first seen).
    pub error: String,
    /// How many failures of this name and kind.
    pub count: u64,
    /// RFC 3339, UTC: when the first one was recorded.
    pub first_seen: String,
    /// RFC 3339, UTC: when the last one was recorded.
    pub last_seen: String,
    /// Each distinct message with its count (bounded; `other_messages` counts the rest).
    #[serde(default)]
    pub messages: Vec<MessageCount>,
    /// Failures whose message did not fit in the bounded `messages` list.
    #[serde(default)]
    pub other_messages: u64,
}

/// One distinct failure message and how often it was seen.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageCount {
    /// The message text, as the client or server gave it.
    pub message: String,
    /// How many failures carried it.
    pub count: u64,
}

/// Exactly-once accounting of a phase: what the generator sent and what the server counted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DedupReport {
    /// Failures the generator sent that it knew were resends of earlier ones.
    pub duplicates_sent: u64,
    /// The server's own counts, when it reports them.
    pub server_hits: Option<u64>,
    /// The server's dedup misses (first sightings); `None` when it does not report them.
    pub server_misses: Option<u64>,
    /// The server's dedup store errors; `None` when it does not report them.
    pub server_errors: Option<u64>,
    /// Failures sent for the first time that the server answered (each one dedup miss).
    #[serde(default)]
    pub unique_answered: u64,
    /// Resends (duplicates and retries) the server answered (each one dedup hit).
    #[serde(default)]
    pub resends_answered: u64,
    /// Payloads whose attempt got no answer: the server may or may not have claimed them.
    #[serde(default)]
    pub unanswered: u64,
    /// Exactly once: every unique failure one miss and every resend one hit (so no
    /// duplicate PRs); `None` when the server does not report its dedup counters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exactly_once: Option<bool>,
    /// Payloads the server processed while its dedup store was down (it fails open): the
    /// answered payloads that were neither a miss nor a hit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_open: Option<u64>,
}

impl DedupReport {
    /// `exactly once: 812 unique = 812 server misses, 205 resends = 205 hits — no duplicate PRs`,
    /// or what broke it; `None` without the server's counters or without failures sent.
    pub fn exactly_once_line(&self) -> Option<String> {
        let (hits, misses) = (self.server_hits?, self.server_misses?);
        let (unique, resends) = (self.unique_answered, self.resends_answered);
        if unique + resends == 0 {
            return None;
        }
        let uncertain = match (self.unanswered, self.exactly_once) {
            (0, _) => String::new(),
            (n, Some(true)) => format!(" ({n} payloads unanswered at the end had not reached dedup)"),
            (n, _) => format!(" ({n} unanswered payloads may or may not have reached dedup)"),
        };
        let head = format!("{unique} unique vs {misses} server misses, {resends} resends vs {hits} hits");
        Some(match (self.exactly_once, self.fail_open) {
            (Some(true), _) => format!("exactly once: {head} — no duplicate PRs{uncertain}"),
            (_, Some(open)) if open > 0 => format!(
                "NOT exactly once: {head}; {open} processed while dedup was down (fail-open; server dedup_errors {}){uncertain}",
                self.server_errors.unwrap_or(0)
            ),
            _ => format!("NOT exactly once: {head}{uncertain}"),
        })
    }
}

/// The server's side of a phase, from `GET /status`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerView {
    /// Requests the server counted; each field is `None` when `/status` lacks it.
    pub total_requests: Option<u64>,
    /// Requests the server answered with success.
    pub successful_requests: Option<u64>,
    /// Requests the server answered with a failure (injected ones included).
    pub failed_requests: Option<u64>,
    /// The server's median latency (ms).
    pub p50_ms: Option<f64>,
    /// The server's 95th percentile latency (ms).
    pub p95_ms: Option<f64>,
    /// The server's 99th percentile latency (ms).
    pub p99_ms: Option<f64>,
    /// The server's mean latency (ms).
    pub avg_ms: Option<f64>,
    /// Requests the server turned away (throttled or over its limit).
    pub rejected: Option<u64>,
    /// Injected failures by mode, e.g. `{"error_500": 12}`.
    pub injected_failures: std::collections::BTreeMap<String, u64>,
    /// The whole `/status` document as the server sent it.
    pub raw: serde_json::Value,
}

/// A threshold of the profile and whether it held.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThresholdResult {
    /// `run` or the phase name.
    pub scope: String,
    /// `p95_ms`, `p99_ms`, `error_rate` or `min_rps`.
    pub metric: String,
    /// The profile's limit, in the metric's unit (ms, a share 0–1, or requests per second).
    pub limit: f64,
    /// What was measured, in the same unit.
    pub actual: f64,
    /// True when `actual` is within `limit`.
    pub passed: bool,
    /// The phase was generator-bound: this result says more about the generator.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub untrustworthy: bool,
}

/// Paths relative to the run directory.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseFiles {
    /// `<suite>/<name>_stats.csv`: totals per request name.
    pub stats_csv: String,
    /// `<suite>/<name>_stats_history.csv`: one row per second.
    pub history_csv: String,
    /// `<suite>/<name>_failures.csv`: failures by name and kind.
    pub failures_csv: String,
    /// `<suite>/<name>_exceptions.csv`: the seed's header only (this tool raises none).
    pub exceptions_csv: String,
    /// `<suite>/<name>.hlog`: the HdrHistogram interval log; empty when none was written.
    pub hlog: String,
}

/// Result of a capacity search (profiles with a `capacity:` section).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CapacityReport {
    /// The p99 latency (ms) a step may not exceed to pass.
    pub p99_limit_ms: f64,
    /// The failure share (0–1) a step may not exceed to pass.
    pub max_error_rate: f64,
    /// Highest arrival rate that met both limits; `None` when even the first step failed.
    pub max_sustainable_rps: Option<f64>,
    /// Lowest failing rate above the answer: the answer lies between the two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_fail_rps: Option<f64>,
    /// The answer's confidence in words: the last pass and the first fail with their figures.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub confidence: String,
    /// Every step tried, in order.
    pub steps: Vec<CapacityStep>,
}

/// One step of a capacity search, judged on the requests sent in it (the ones still in
/// flight at its end were waited for).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CapacityStep {
    /// The step's phase name.
    pub phase: String,
    /// The arrival rate the step asked for (requests per second).
    pub target_rps: f64,
    /// Successful requests among those sent in the step, per second of the step.
    pub achieved_rps: f64,
    /// 99th percentile latency of the step's requests (ms).
    pub p99_ms: f64,
    /// Failed ÷ answered requests (0–1); 1 when nothing was answered.
    pub error_rate: f64,
    /// Sent but not answered: dropped at `max_in_flight` or abandoned after the drain.
    pub dropped: u64,
    /// True when the step met both the p99 and the error-rate limit.
    pub passed: bool,
    /// How long the step sent requests (longer than the profile's step when extended).
    #[serde(default)]
    pub duration_s: f64,
    /// Requests scheduled in the step.
    #[serde(default)]
    pub sent: u64,
    /// Share of `sent` that succeeded.
    #[serde(default)]
    pub success_share: f64,
    /// Latency spread (p99 - min) as a share of the step: the queue that built up.
    #[serde(default)]
    pub backlog_share: f64,
    /// Why a failed step failed; empty when it passed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub failed_because: String,
}

/// Why a summary file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    /// The file could not be read (missing, unreadable, over the size cap).
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file as named.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid JSON or does not match the schema; `line`/`column` are 1-based.
    #[error("{path} is not a valid experiment summary (line {line}, column {column}): {message}")]
    Parse {
        /// The file as named.
        path: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// serde_json's description of the error.
        message: String,
    },
    #[error(
        "{path} has schema_version {found}; this build reads versions 1 and {SUMMARY_SCHEMA_VERSION} — re-run the experiment or use a matching terrafix-tui"
    )]
    /// The file's `schema_version` is not one this build reads.
    Version {
        /// The file as named.
        path: String,
        /// The version the file declares (0 when it has none).
        found: u32,
    },
}

impl PhaseSummary {
    /// Share of the phase's requests that succeeded, in percent (the seed's "success rate");
    /// `None` when the phase sent nothing.
    pub fn success_rate_percent(&self) -> Option<f64> {
        let total = self.summary.total_requests;
        (total > 0).then(|| total.saturating_sub(self.summary.failure_count) as f64 * 100.0 / total as f64)
    }

    /// Whether the success rate is shown as a failure: the phase's own `error_rate` limit was
    /// missed, or, with no such limit, the rate is under the seed's 95 % reference. One rule
    /// for the HTML report and the TUI, so a phase that passed its own limit is never red.
    pub fn success_shown_failed(&self) -> bool {
        match self.thresholds.iter().find(|t| t.metric == "error_rate") {
            Some(own) => !own.passed,
            None => self.success_rate_percent().is_some_and(|r| r < SUCCESS_RATE_TARGET_PERCENT),
        }
    }
}

/// The seed harness's target success rate (its `comparison.png` draws it as a line).
pub const SUCCESS_RATE_TARGET_PERCENT: f64 = 95.0;

/// A success rate as the tables show it: `99.2 %`, `100 %`, or `—` for a phase without requests.
pub fn format_success_rate(rate: Option<f64>) -> String {
    match rate {
        // One decimal, but never round 99.96 up to a misleading 100.0.
        Some(r) if r < 100.0 => format!("{:.1} %", (r * 10.0).floor() / 10.0),
        Some(_) => "100 %".to_string(),
        None => "—".to_string(),
    }
}

impl RunSummary {
    /// Reads and checks a summary file (schema 1 or 2).
    pub fn load(path: &std::path::Path) -> Result<Self, SummaryError> {
        let shown = path.display().to_string();
        let text = crate::fsio::read_capped_string(path, crate::fsio::SUMMARY_CAP, "the summary")
            .map_err(|e| SummaryError::Io { path: shown.clone(), source: e.into_io() })?;
        let parse_error = |e: serde_json::Error| SummaryError::Parse {
            path: shown.clone(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        let value: serde_json::Value = serde_json::from_str(&text).map_err(parse_error)?;
        let found = value.get("schema_version").and_then(|v| v.as_u64()).unwrap_or(0);
        let found = u32::try_from(found).unwrap_or(u32::MAX);
        if !SUMMARY_SCHEMA_READABLE.contains(&found) {
            return Err(SummaryError::Version { path: shown, found });
        }
        // Parsed again from the text, not from `value`: the suites' order lives in the text.
        serde_json::from_str(&text).map_err(parse_error)
    }
}
