//! A folder of plain Locust CSVs (the old harness's results): finds `*_stats.csv` in the
//! folder and its sub-folders (sub-folder = suite, file prefix = phase) and puts together
//! a `RunSummary` from them, so charts and HTML work the same as for our own runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::metrics::summary::{
    DedupReport, FailureStat, LatencyStats, PhaseConfig, PhaseFiles, PhaseStatus, PhaseSummary, RequestStats,
    RunStatus, RunSummary, SUMMARY_SCHEMA_VERSION, SeedSummary,
};

use super::data::PhaseExtra;
use super::files::StatsRow;
use super::locust::{self, PERCENTILE_COLUMNS};

pub struct Scan {
    pub summary: RunSummary,
    pub phase_extras: Vec<PhaseExtra>,
}

struct Found {
    suite: String,
    name: String,
    stats: PathBuf,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
}

pub fn scan(dir: &Path, warnings: &mut Vec<String>) -> Scan {
    let mut found = Vec::new();
    collect(dir, "", &mut found, warnings);
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut subdirs: Vec<PathBuf> =
            entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect();
        subdirs.sort();
        for sub in subdirs {
            let suite = sub.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if suite != "charts" {
                collect(&sub, &suite, &mut found, warnings);
            }
        }
    }
    // Chronological when the histories say when; otherwise by suite and name.
    found.sort_by(|a, b| {
        (a.first_ts.unwrap_or(i64::MAX), &a.suite, &a.name).cmp(&(
            b.first_ts.unwrap_or(i64::MAX),
            &b.suite,
            &b.name,
        ))
    });
    let run_start = found.iter().filter_map(|f| f.first_ts).min();
    let run_end = found.iter().filter_map(|f| f.last_ts).max();
    let mut experiments = Vec::new();
    let mut phase_extras = Vec::new();
    let mut next_offset = 0.0;
    for f in &found {
        let Some(rows) = locust::read_stats(&f.stats, warnings) else { continue };
        let (offset_s, duration_s) = match (run_start, f.first_ts, f.last_ts) {
            (Some(start), Some(first), Some(last)) => ((first - start) as f64, (last - first + 1) as f64),
            _ => (next_offset, 0.0),
        };
        next_offset = offset_s + duration_s;
        let (phase, extra) = phase_from(dir, f, &rows, offset_s, duration_s, warnings);
        experiments.push(phase);
        phase_extras.push(extra);
    }
    let rfc = |ts: Option<i64>| {
        ts.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    let run_id = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let summary = RunSummary {
        schema_version: SUMMARY_SCHEMA_VERSION,
        tool: "locust".into(),
        tool_version: String::new(),
        run_id,
        profile: "(plain Locust CSVs)".into(),
        description: format!("Re-rendered from the Locust CSVs in {}", dir.display()),
        target: "unknown".into(),
        target_url: String::new(),
        seed: 0,
        time_scale: 1.0,
        started_at: rfc(run_start),
        finished_at: rfc(run_end.map(|t| t + 1)),
        status: RunStatus::Completed,
        passed: true,
        experiments,
        thresholds: Vec::new(),
        capacity: None,
        notes: vec![
            "No experiment_summary.json: no server view, dedup or thresholds; \
             distributions come from Locust's percentile columns (no .hlog histograms)."
                .into(),
        ],
        connection: Default::default(),
        restore: None,
        distributed: None,
        fail_reasons: Vec::new(),
    };
    Scan { summary, phase_extras }
}

fn collect(folder: &Path, suite: &str, found: &mut Vec<Found>, warnings: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("_stats.csv"))
        .collect();
    names.sort();
    for file in names {
        let name = file.trim_end_matches("_stats.csv").to_string();
        let history = folder.join(format!("{name}_stats_history.csv"));
        // Only the time span is needed here; the history's own warnings come when it is charted.
        let rows = locust::read_history(&history, &mut Vec::new()).unwrap_or_default();
        if !history.exists() {
            warnings.push(format!("{}: missing; phase {name} has no timeline", history.display()));
        }
        found.push(Found {
            suite: suite.to_string(),
            name,
            stats: folder.join(&file),
            first_ts: rows.iter().map(|r| r.timestamp_unix_s).min(),
            last_ts: rows.iter().map(|r| r.timestamp_unix_s).max(),
        });
    }
}

fn relative(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir).unwrap_or(path).to_string_lossy().into_owned()
}

/// One phase's summary from its Locust CSVs: the `Aggregated` row gives its figures, the
/// other rows its per-request table, and `_failures.csv` (when there) its failures.
fn phase_from(
    dir: &Path,
    f: &Found,
    rows: &[StatsRow],
    offset_s: f64,
    duration_s: f64,
    warnings: &mut Vec<String>,
) -> (PhaseSummary, PhaseExtra) {
    let aggregated = rows.iter().find(|r| r.name == "Aggregated").cloned().unwrap_or_default();
    let folder = f.stats.parent().unwrap_or(dir);
    let failures_path = folder.join(format!("{}_failures.csv", f.name));
    let failures = failures_from(&failures_path, warnings);
    let fps = if duration_s > 0.0 { aggregated.failures as f64 / duration_s } else { 0.0 };
    let phase = PhaseSummary {
        name: f.name.clone(),
        suite: f.suite.clone(),
        status: PhaseStatus::Completed,
        config: PhaseConfig { duration_s, server_settings: serde_json::json!({}), ..Default::default() },
        summary: seed_summary(&aggregated),
        latency_ms: latency_stats(&aggregated),
        failures_per_sec: fps,
        dropped: 0,
        batch_items_failed: 0,
        offset_s,
        duration_s,
        started_at: String::new(),
        finished_at: String::new(),
        requests: request_stats(rows),
        failures,
        dedup: DedupReport::default(),
        server: None,
        changes: Vec::new(),
        resilience: None,
        validity: None,
        workers: Vec::new(),
        response_time_ms: None,
        like_for_like: None,
        thresholds: Vec::new(),
        files: phase_files(dir, folder, f, &failures_path),
        connections: Default::default(),
        settings_not_applied: Vec::new(),
        settings_applied: None,
        settings_held: None,
        notes: Vec::new(),
    };
    (phase, PhaseExtra { spectrum: spectrum(&aggregated) })
}

/// A row's percentile from Locust's percentile columns; 0 where Locust wrote `N/A`.
fn percentile_ms(row: &StatsRow, quantile: f64) -> f64 {
    PERCENTILE_COLUMNS
        .iter()
        .position(|(_, q)| (*q - quantile).abs() < 1e-9)
        .and_then(|i| row.percentiles_ms[i])
        .unwrap_or(0.0)
}

/// The rows of `_failures.csv` as failures of the summary; none when the file is absent.
/// Locust keeps no times or messages per failure, so those stay empty.
fn failures_from(path: &Path, warnings: &mut Vec<String>) -> Vec<FailureStat> {
    if !path.exists() {
        return Vec::new();
    }
    locust::read_failures(path, warnings)
        .into_iter()
        .map(|r| FailureStat {
            kind: locust::classify_error(&r.error),
            method: r.method,
            name: r.name,
            error: r.error,
            count: r.occurrences,
            first_seen: String::new(),
            last_seen: String::new(),
            messages: Vec::new(),
            other_messages: 0,
        })
        .collect()
}

/// The headline figures the seed's summary carries, from the `Aggregated` row.
fn seed_summary(aggregated: &StatsRow) -> SeedSummary {
    SeedSummary {
        total_requests: aggregated.requests,
        failure_count: aggregated.failures,
        median_response_ms: aggregated.median_ms,
        avg_response_ms: aggregated.avg_ms,
        p95_response_ms: percentile_ms(aggregated, 0.95),
        p99_response_ms: percentile_ms(aggregated, 0.99),
        requests_per_sec: aggregated.rps,
    }
}

/// The latency distribution as far as Locust's columns tell it. The maximum is the larger
/// of the max column and the 100 % column, so it never sits below a percentile.
fn latency_stats(aggregated: &StatsRow) -> LatencyStats {
    LatencyStats {
        min: aggregated.min_ms,
        mean: aggregated.avg_ms,
        p50: percentile_ms(aggregated, 0.5),
        p75: percentile_ms(aggregated, 0.75),
        p90: percentile_ms(aggregated, 0.9),
        p95: percentile_ms(aggregated, 0.95),
        p99: percentile_ms(aggregated, 0.99),
        p99_9: percentile_ms(aggregated, 0.999),
        max: aggregated.max_ms.max(percentile_ms(aggregated, 1.0)),
    }
}

/// The per-request table: every row but `Aggregated`, in the file's order.
fn request_stats(rows: &[StatsRow]) -> Vec<RequestStats> {
    rows.iter()
        .filter(|r| r.name != "Aggregated")
        .map(|r| RequestStats {
            method: r.method.clone(),
            name: r.name.clone(),
            requests: r.requests,
            failures: r.failures,
            median_ms: r.median_ms,
            avg_ms: r.avg_ms,
            p95_ms: percentile_ms(r, 0.95),
            p99_ms: percentile_ms(r, 0.99),
            max_ms: r.max_ms,
            rps: r.rps,
        })
        .collect()
}

/// The latency spectrum for the charts: (quantile, ms) from the minimum up through the
/// percentile columns Locust filled; empty for a phase without requests.
fn spectrum(aggregated: &StatsRow) -> Vec<(f64, f64)> {
    if aggregated.requests == 0 {
        return Vec::new();
    }
    let mut spectrum = vec![(0.0, aggregated.min_ms)];
    for (i, (_, q)) in PERCENTILE_COLUMNS.iter().enumerate() {
        if let Some(v) = aggregated.percentiles_ms[i] {
            spectrum.push((*q, v));
        }
    }
    spectrum
}

/// Where the phase's files are, relative to the folder that was read.
fn phase_files(dir: &Path, folder: &Path, f: &Found, failures_path: &Path) -> PhaseFiles {
    PhaseFiles {
        stats_csv: relative(dir, &f.stats),
        history_csv: relative(dir, &folder.join(format!("{}_stats_history.csv", f.name))),
        failures_csv: relative(dir, failures_path),
        exceptions_csv: String::new(),
        hlog: relative(dir, &folder.join(format!("{}.hlog", f.name))),
    }
}

/// Failures of a phase summed by kind, largest first.
pub fn failures_by_kind(phase: &PhaseSummary) -> Vec<(String, u64)> {
    let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
    for f in &phase.failures {
        *by_kind.entry(f.kind.clone()).or_default() += f.count;
    }
    let listed: u64 = by_kind.values().sum();
    if listed < phase.summary.failure_count {
        *by_kind.entry("other".into()).or_default() += phase.summary.failure_count - listed;
    }
    let mut out: Vec<(String, u64)> = by_kind.into_iter().filter(|(_, n)| *n > 0).collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}
