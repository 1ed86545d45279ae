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
use super::locust::{self, PERCENTILE_COLUMNS, StatsRow};

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

fn phase_from(
    dir: &Path,
    f: &Found,
    rows: &[StatsRow],
    offset_s: f64,
    duration_s: f64,
    warnings: &mut Vec<String>,
) -> (PhaseSummary, PhaseExtra) {
    let aggregated = rows.iter().find(|r| r.name == "Aggregated").cloned().unwrap_or_default();
    let pct = |q: f64| {
        PERCENTILE_COLUMNS
            .iter()
            .position(|(_, pq)| (*pq - q).abs() < 1e-9)
            .and_then(|i| aggregated.percentiles_ms[i])
            .unwrap_or(0.0)
    };
    let folder = f.stats.parent().unwrap_or(dir);
    let failures_path = folder.join(format!("{}_failures.csv", f.name));
    let failures: Vec<FailureStat> = if failures_path.exists() {
        locust::read_failures(&failures_path, warnings)
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
    } else {
        Vec::new()
    };
    let mut spectrum: Vec<(f64, f64)> = vec![(0.0, aggregated.min_ms)];
    for (i, (_, q)) in PERCENTILE_COLUMNS.iter().enumerate() {
        if let Some(v) = aggregated.percentiles_ms[i] {
            spectrum.push((*q, v));
        }
    }
    if aggregated.requests == 0 {
        spectrum.clear();
    }
    let fps = if duration_s > 0.0 { aggregated.failures as f64 / duration_s } else { 0.0 };
    let phase = PhaseSummary {
        name: f.name.clone(),
        suite: f.suite.clone(),
        status: PhaseStatus::Completed,
        config: PhaseConfig { duration_s, server_settings: serde_json::json!({}), ..Default::default() },
        summary: SeedSummary {
            total_requests: aggregated.requests,
            failure_count: aggregated.failures,
            median_response_ms: aggregated.median_ms,
            avg_response_ms: aggregated.avg_ms,
            p95_response_ms: pct(0.95),
            p99_response_ms: pct(0.99),
            requests_per_sec: aggregated.rps,
        },
        latency_ms: LatencyStats {
            min: aggregated.min_ms,
            mean: aggregated.avg_ms,
            p50: pct(0.5),
            p75: pct(0.75),
            p90: pct(0.9),
            p95: pct(0.95),
            p99: pct(0.99),
            p99_9: pct(0.999),
            max: aggregated.max_ms.max(pct(1.0)),
        },
        failures_per_sec: fps,
        dropped: 0,
        batch_items_failed: 0,
        offset_s,
        duration_s,
        started_at: String::new(),
        finished_at: String::new(),
        requests: rows
            .iter()
            .filter(|r| r.name != "Aggregated")
            .map(|r| RequestStats {
                method: r.kind.clone(),
                name: r.name.clone(),
                requests: r.requests,
                failures: r.failures,
                median_ms: r.median_ms,
                avg_ms: r.avg_ms,
                p95_ms: r.percentiles_ms[5].unwrap_or(0.0),
                p99_ms: r.percentiles_ms[7].unwrap_or(0.0),
                max_ms: r.max_ms,
                rps: r.rps,
            })
            .collect(),
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
        files: PhaseFiles {
            stats_csv: relative(dir, &f.stats),
            history_csv: relative(dir, &folder.join(format!("{}_stats_history.csv", f.name))),
            failures_csv: relative(dir, &failures_path),
            exceptions_csv: String::new(),
            hlog: relative(dir, &folder.join(format!("{}.hlog", f.name))),
        },
        connections: Default::default(),
        settings_not_applied: Vec::new(),
        notes: Vec::new(),
    };
    (phase, PhaseExtra { spectrum })
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
