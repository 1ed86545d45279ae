//! Writes run folders the way the engine does (summary JSON, Locust CSVs, hlog,
//! resources.csv), and plain Locust CSV folders, for the report tests and benchmark.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use terrafix_tui::metrics::LatencyHistogram;
use terrafix_tui::metrics::hlog::HlogWriter;
use terrafix_tui::metrics::summary::*;

pub const START_UNIX_S: i64 = 1_765_000_000;
pub const PAUSE_S: i64 = 10;

const STATS_HEADER: &str = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%";
const HISTORY_HEADER: &str = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size";
const QUANTILES: [f64; 11] = [0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0];

const SEED_PHASES: [(&str, &str); 12] = [
    ("throughput", "throughput_baseline"),
    ("throughput", "throughput_medium"),
    ("throughput", "throughput_high"),
    ("throughput", "throughput_max"),
    ("resilience", "resilience_steady"),
    ("resilience", "resilience_burst"),
    ("resilience", "resilience_cascade"),
    ("resilience", "resilience_failures"),
    ("scalability", "scalability_small"),
    ("scalability", "scalability_medium"),
    ("scalability", "scalability_large"),
    ("scalability", "scalability_mixed"),
];

#[derive(Clone, Copy)]
pub struct Fixture {
    pub phases: usize,
    pub seconds_per_phase: i64,
    pub failures: bool,
    pub server: bool,
    pub resources: bool,
    /// Write the summary JSON and hlog (our run) or only Locust CSVs (old harness).
    pub ours: bool,
}

impl Default for Fixture {
    fn default() -> Self {
        Self { phases: 12, seconds_per_phase: 30, failures: true, server: true, resources: true, ours: true }
    }
}

fn phase_names(i: usize) -> (String, String) {
    match SEED_PHASES.get(i) {
        Some((s, n)) => (s.to_string(), n.to_string()),
        None => ("extra".into(), format!("extra_{i}")),
    }
}

/// Standard normal from two uniforms (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn rfc(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn pct_cells(h: &LatencyHistogram) -> String {
    QUANTILES
        .iter()
        .map(|q| if h.is_empty() { "N/A".into() } else { format!("{:.0}", h.quantile_ms(*q)) })
        .collect::<Vec<_>>()
        .join(",")
}

/// Writes one run folder; returns the summary it wrote (also when `ours` is false).
pub fn write_run(dir: &Path, f: Fixture) -> RunSummary {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut experiments = Vec::new();
    let mut resources = String::from("timestamp_unix_s,service,cpu_percent,memory_bytes\n");
    let mut t0 = START_UNIX_S;
    for i in 0..f.phases {
        let (suite, name) = phase_names(i);
        std::fs::create_dir_all(dir.join(&suite)).unwrap();
        // A knee: rate grows and then stalls while latency climbs.
        let rate = (8.0 * (i as f64 + 1.0)).min(60.0);
        let base_ms = 15.0 * (1.0 + (i as f64 / 3.0).powi(3));
        let users = 5 * (i as u32 + 1);
        let fail_share = if f.failures && i % 4 == 3 { 0.05 } else { 0.0 };
        let mut hlog = f.ours.then(|| {
            HlogWriter::create(&dir.join(format!("{suite}/{name}.hlog")), START_UNIX_S as f64, "fixture")
                .unwrap()
        });
        let mut history = format!("{HISTORY_HEADER}\n");
        let mut total = LatencyHistogram::new();
        let (mut requests, mut failures) = (0u64, 0u64);
        for s in 0..f.seconds_per_phase {
            let ts = t0 + s;
            let n = (rate * (0.85 + 0.3 * rng.random::<f64>())).round() as u64;
            let mut h = LatencyHistogram::new();
            let mut fails = 0;
            for _ in 0..n {
                let ms = (base_ms.ln() + 0.45 * normal(&mut rng)).exp();
                h.record_us((ms * 1000.0) as u64);
                if rng.random::<f64>() < fail_share {
                    fails += 1;
                }
            }
            total.merge(&h);
            requests += n;
            failures += fails;
            if let Some(w) = hlog.as_mut() {
                w.append(Duration::from_secs((ts - START_UNIX_S) as u64), Duration::from_secs(1), &h)
                    .unwrap();
            }
            for (kind, row_name) in [("POST", "/webhook"), ("", "Aggregated")] {
                let _ = writeln!(
                    history,
                    "{ts},{users},{kind},{row_name},{n},{fails},{},{requests},{failures},{:.0},{:.1},{:.0},{:.0},1024",
                    pct_cells(&h),
                    total.quantile_ms(0.5),
                    total.mean_ms(),
                    total.min_ms(),
                    total.max_ms()
                );
            }
            let _ = writeln!(
                resources,
                "{ts},terrafix-api,{:.1},{}",
                10.0 + 5.0 * i as f64 + 3.0 * rng.random::<f64>(),
                60_000_000 + 2_000_000 * i as u64 + s as u64 * 10_000
            );
            let _ = writeln!(
                resources,
                "{ts},redis,{:.1},{}",
                2.0 + rng.random::<f64>(),
                12_000_000 + s as u64 * 1000
            );
        }
        let duration = f.seconds_per_phase as f64;
        let rps = requests as f64 / duration;
        let mut stats = format!("{STATS_HEADER}\n");
        for (kind, row_name) in [("POST", "/webhook"), ("", "Aggregated")] {
            let _ = writeln!(
                stats,
                "{kind},{row_name},{requests},{failures},{:.0},{:.1},{:.0},{:.0},1024,{rps:.2},{:.2},{}",
                total.quantile_ms(0.5),
                total.mean_ms(),
                total.min_ms(),
                total.max_ms(),
                failures as f64 / duration,
                pct_cells(&total)
            );
        }
        std::fs::write(dir.join(format!("{suite}/{name}_stats.csv")), stats).unwrap();
        std::fs::write(dir.join(format!("{suite}/{name}_stats_history.csv")), history).unwrap();
        let failure_stats = if failures > 0 {
            vec![
                FailureStat {
                    method: "POST".into(),
                    name: "/webhook".into(),
                    kind: "HTTP 500".into(),
                    error: "HTTP 500: injected".into(),
                    count: failures - failures / 3,
                    first_seen: rfc(t0 + 1),
                    last_seen: rfc(t0 + f.seconds_per_phase - 1),
                    messages: Vec::new(),
                    other_messages: 0,
                },
                FailureStat {
                    method: "POST".into(),
                    name: "/webhook".into(),
                    kind: "timeout".into(),
                    error: "no response within 30 s".into(),
                    count: failures / 3,
                    first_seen: rfc(t0 + 2),
                    last_seen: rfc(t0 + f.seconds_per_phase - 2),
                    messages: Vec::new(),
                    other_messages: 0,
                },
            ]
        } else {
            Vec::new()
        };
        let mut failures_csv = String::from("Method,Name,Error,Occurrences\n");
        for fs in &failure_stats {
            let _ = writeln!(failures_csv, "{},{},{},{}", fs.method, fs.name, fs.error, fs.count);
        }
        std::fs::write(dir.join(format!("{suite}/{name}_failures.csv")), failures_csv).unwrap();
        let l = |q: f64| total.quantile_ms(q);
        experiments.push(PhaseSummary {
            name: name.clone(),
            suite: suite.clone(),
            status: PhaseStatus::Completed,
            config: PhaseConfig {
                behaviour: suite.clone(),
                model: "closed".into(),
                users: Some(users),
                duration_s: duration,
                server_settings: serde_json::json!({}),
                ..Default::default()
            },
            summary: SeedSummary {
                total_requests: requests,
                failure_count: failures,
                median_response_ms: l(0.5),
                avg_response_ms: total.mean_ms(),
                p95_response_ms: l(0.95),
                p99_response_ms: l(0.99),
                requests_per_sec: rps,
            },
            latency_ms: LatencyStats {
                min: total.min_ms(),
                mean: total.mean_ms(),
                p50: l(0.5),
                p75: l(0.75),
                p90: l(0.9),
                p95: l(0.95),
                p99: l(0.99),
                p99_9: l(0.999),
                max: total.max_ms(),
            },
            failures_per_sec: failures as f64 / duration,
            dropped: 0,
            batch_items_failed: 0,
            offset_s: (t0 - START_UNIX_S) as f64,
            duration_s: duration,
            started_at: rfc(t0),
            finished_at: rfc(t0 + f.seconds_per_phase),
            requests: Vec::new(),
            failures: failure_stats,
            dedup: DedupReport {
                duplicates_sent: requests / 10,
                server_hits: f.server.then_some(requests / 10 - i as u64),
                server_misses: f.server.then_some(requests - requests / 10),
                server_errors: None,
                ..Default::default()
            },
            server: f.server.then(|| ServerView {
                total_requests: Some(requests),
                successful_requests: Some(requests - failures),
                failed_requests: Some(failures),
                p50_ms: Some(l(0.5) * 0.8),
                p95_ms: Some(l(0.95) * 0.8),
                p99_ms: Some(l(0.99) * 0.75),
                avg_ms: Some(total.mean_ms() * 0.8),
                ..Default::default()
            }),
            thresholds: vec![ThresholdResult {
                scope: name.clone(),
                metric: "p99_ms".into(),
                limit: 200.0,
                actual: l(0.99),
                passed: l(0.99) <= 200.0,
                untrustworthy: false,
            }],
            files: PhaseFiles {
                stats_csv: format!("{suite}/{name}_stats.csv"),
                history_csv: format!("{suite}/{name}_stats_history.csv"),
                failures_csv: format!("{suite}/{name}_failures.csv"),
                exceptions_csv: format!("{suite}/{name}_exceptions.csv"),
                hlog: if f.ours { format!("{suite}/{name}.hlog") } else { String::new() },
            },
            connections: Default::default(),
            settings_not_applied: Vec::new(),
            settings_applied: None,
            settings_held: None,
            notes: Vec::new(),
            changes: Vec::new(),
            resilience: (i == 1).then(|| fault_report(f.seconds_per_phase as f64)),
            validity: None,
            workers: Vec::new(),
            response_time_ms: None,
            like_for_like: None,
        });
        t0 += f.seconds_per_phase + PAUSE_S;
    }
    let summary = RunSummary {
        schema_version: SUMMARY_SCHEMA_VERSION,
        tool: "terrafix-tui".into(),
        tool_version: "0.1.0".into(),
        run_id: "20251206-054000-fixture".into(),
        profile: "fixture".into(),
        description: "Report test fixture".into(),
        target: "embedded".into(),
        target_url: "http://127.0.0.1:40000".into(),
        seed: 42,
        time_scale: 1.0,
        started_at: rfc(START_UNIX_S),
        finished_at: rfc(t0),
        status: RunStatus::Completed,
        passed: experiments.iter().all(|p| p.thresholds.iter().all(|t| t.passed)),
        thresholds: Vec::new(),
        capacity: Some(CapacityReport {
            p99_limit_ms: 200.0,
            max_error_rate: 0.01,
            max_sustainable_rps: Some(40.0),
            first_fail_rps: None,
            confidence: String::new(),
            steps: experiments
                .iter()
                .take(4)
                .map(|p| CapacityStep {
                    phase: p.name.clone(),
                    target_rps: p.summary.requests_per_sec,
                    achieved_rps: p.summary.requests_per_sec,
                    p99_ms: p.latency_ms.p99,
                    error_rate: 0.0,
                    dropped: 0,
                    passed: p.latency_ms.p99 <= 200.0,
                    ..Default::default()
                })
                .collect(),
        }),
        notes: Vec::new(),
        connection: Default::default(),
        restore: None,
        distributed: None,
        fail_reasons: Vec::new(),
        experiments,
    };
    if f.ours {
        std::fs::write(dir.join(SUMMARY_FILE), serde_json::to_string_pretty(&summary).unwrap()).unwrap();
        if f.resources {
            std::fs::write(dir.join(RESOURCES_FILE), resources).unwrap();
        }
    }
    summary
}

/// A fault from 30 % to 50 % of the phase, recovered 2 s after its end, with retries that
/// doubled the attempts inside the window.
fn fault_report(phase_s: f64) -> ResilienceReport {
    let (at, end) = (phase_s * 0.3, phase_s * 0.5);
    ResilienceReport {
        logical_requests: 1000,
        attempts: 1200,
        failed_first: 150,
        recovered_by_retry: 120,
        retry_success_rate: Some(0.8),
        attempts_mean: 1.2,
        attempts_p99: 3,
        amplification: 1.2,
        amplification_over_time: (1..=phase_s as usize)
            .map(|t| [t as f64, if (at..=end).contains(&(t as f64)) { 2.0 } else { 1.0 }])
            .collect(),
        faults: vec![FaultReport {
            description: "server failure_rate=0.5 failure_mode=throttle_429".into(),
            planned_at_s: at,
            planned_end_s: end,
            started_s: Some(at),
            ended_s: Some(end),
            baseline_p99_ms: Some(80.0),
            recovery_s: Some(2.0),
            recovered: true,
            notes: Vec::new(),
        }],
        ..Default::default()
    }
}
