//! Reading one run folder for the Results screen's detail view, off the UI loop: the
//! summary, each phase's history CSV (throughput, failures, windowed percentiles) and its
//! `.hlog` (exact percentiles per interval, read one interval at a time so a long phase
//! never holds its histograms), then the findings as the reports draw them.
//! Every file is read through the capped readers; what cannot be read becomes a note.

use std::path::Path;

use crate::analysis::{self, SecondPoint};
use crate::metrics::hlog::visit_hlog;
use crate::metrics::summary::{PhaseSummary, RunSummary, SUMMARY_FILE};
use crate::report::files::HistoryRow;
use crate::report::locust::{self, PERCENTILE_COLUMNS};
use crate::tui::detail_state::{PhaseTimeline, RunDetail};

/// The detail of the run in `dir`, or why it cannot be shown (what is missing and what to do).
pub fn load(dir: &Path) -> Result<Box<RunDetail>, String> {
    let summary_path = dir.join(SUMMARY_FILE);
    if !summary_path.is_file() {
        return Err(format!(
            "{} has no {SUMMARY_FILE}: the run is still going, or it was killed before it wrote one. \
             Its CSVs can still be charted with `terrafix-tui charts {}`.",
            dir.display(),
            dir.display()
        ));
    }
    let summary = RunSummary::load(&summary_path).map_err(|e| e.to_string())?;
    let mut warnings = Vec::new();
    let run_start = chrono::DateTime::parse_from_rfc3339(&summary.started_at)
        .ok()
        .map(|t| t.timestamp_millis() as f64 / 1000.0);
    let mut timelines = Vec::with_capacity(summary.experiments.len());
    let mut seconds = Vec::with_capacity(summary.experiments.len());
    for phase in &summary.experiments {
        let rows = history(dir, phase, &mut warnings);
        let origin =
            run_start.map(|s| s + phase.offset_s).or(rows.first().map(|r| r.timestamp_unix_s as f64));
        let mut line = from_history(&rows, origin.unwrap_or(0.0));
        if let Some((p50, p95, p99, rps)) = from_hlog(dir, phase, &mut warnings) {
            (line.p50, line.p95, line.p99) = (p50, p95, p99);
            line.percentiles_from = "hlog";
            // Without a history the histograms still say how many requests each second had.
            if line.rps.is_empty() {
                line.rps = rps;
            }
        }
        seconds.push(second_points(&rows, origin.unwrap_or(0.0)));
        timelines.push(line);
    }
    let findings = analysis::analyse(&summary, &seconds);
    Ok(Box::new(RunDetail { summary, timelines, findings, warnings }))
}

fn phase_file(phase: &PhaseSummary, listed: &str, suffix: &str) -> String {
    match (listed.is_empty(), phase.suite.is_empty()) {
        (false, _) => listed.to_string(),
        (true, true) => format!("{}{suffix}", phase.name),
        (true, false) => format!("{}/{}{suffix}", phase.suite, phase.name),
    }
}

fn history(dir: &Path, phase: &PhaseSummary, warnings: &mut Vec<String>) -> Vec<HistoryRow> {
    let listed = phase_file(phase, &phase.files.history_csv, "_stats_history.csv");
    match crate::fsio::resolve_in_run(dir, &listed) {
        Ok(path) if path.is_file() => locust::read_history(&path, warnings).unwrap_or_default(),
        Ok(path) => {
            warnings.push(format!(
                "{}: missing; no throughput over time for phase {}",
                path.display(),
                phase.name
            ));
            Vec::new()
        }
        Err(refused) => {
            warnings.push(refused.to_string());
            Vec::new()
        }
    }
}

/// Throughput, failures and the history's windowed percentiles, seconds from the phase start.
fn from_history(rows: &[HistoryRow], origin: f64) -> PhaseTimeline {
    let column = |q: f64| PERCENTILE_COLUMNS.iter().position(|(_, pq)| (*pq - q).abs() < 1e-9);
    let series = |q: f64| -> Vec<(f64, f64)> {
        let Some(i) = column(q) else { return Vec::new() };
        rows.iter().filter_map(|r| Some((r.timestamp_unix_s as f64 - origin, r.percentiles_ms[i]?))).collect()
    };
    PhaseTimeline {
        rps: rows.iter().map(|r| (r.timestamp_unix_s as f64 - origin, r.rps)).collect(),
        failed_rps: rows.iter().map(|r| (r.timestamp_unix_s as f64 - origin, r.fps)).collect(),
        p50: series(0.50),
        p95: series(0.95),
        p99: series(0.99),
        percentiles_from: if rows.is_empty() { "" } else { "history" },
    }
}

/// p50, p95, p99 and the requests per second of each interval.
type Percentiles = (Vec<(f64, f64)>, Vec<(f64, f64)>, Vec<(f64, f64)>, Vec<(f64, f64)>);

/// p50/p95/p99 of each hlog interval (seconds from the phase start); `None` without a log.
fn from_hlog(dir: &Path, phase: &PhaseSummary, warnings: &mut Vec<String>) -> Option<Percentiles> {
    let listed = phase_file(phase, &phase.files.hlog, ".hlog");
    let path = match crate::fsio::resolve_in_run(dir, &listed) {
        Ok(path) if path.is_file() => path,
        Ok(_) => return None,
        Err(refused) => {
            warnings.push(refused.to_string());
            return None;
        }
    };
    let mut out: Percentiles = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let visited = visit_hlog(&path, |interval| {
        if interval.histogram.count() == 0 {
            return;
        }
        let t = interval.offset_s - phase.offset_s;
        out.0.push((t, interval.histogram.quantile_ms(0.50)));
        out.1.push((t, interval.histogram.quantile_ms(0.95)));
        out.2.push((t, interval.histogram.quantile_ms(0.99)));
        out.3.push((t, interval.histogram.count() as f64 / interval.length_s.max(1e-3)));
    });
    match visited {
        Ok(()) if !out.0.is_empty() => Some(out),
        Ok(()) => None,
        Err(e) => {
            warnings.push(format!("{e}; latency over time comes from the history CSV"));
            None
        }
    }
}

/// The history as the findings read it (the reports' own per-second figures).
fn second_points(rows: &[HistoryRow], origin: f64) -> Vec<SecondPoint> {
    let p50 = PERCENTILE_COLUMNS.iter().position(|(_, q)| (*q - 0.50).abs() < 1e-9);
    rows.iter()
        .map(|r| SecondPoint {
            t_s: r.timestamp_unix_s as f64 - origin,
            users: r.users,
            rps: r.rps,
            fps: r.fps,
            p50_ms: p50.and_then(|i| r.percentiles_ms[i]),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema1-run")
    }

    /// A run written by the engine: every phase gets throughput and exact percentiles
    /// from its hlog, in seconds from the phase's own start.
    #[test]
    fn a_run_folder_gives_each_phase_its_timeline_from_the_history_and_hlog() {
        let detail = load(&fixture()).expect("the fixture run loads");
        assert_eq!(detail.timelines.len(), detail.summary.experiments.len());
        for (line, phase) in detail.timelines.iter().zip(&detail.summary.experiments) {
            assert!(!line.rps.is_empty(), "{}: no throughput", phase.name);
            assert_eq!(line.percentiles_from, "hlog", "{}", phase.name);
            let first = line.rps.first().map_or(f64::NAN, |p| p.0);
            assert!(
                (-2.0..5.0).contains(&first),
                "{}: starts at {first} s, not near the phase start",
                phase.name
            );
            assert!(line.p99.iter().zip(&line.p50).all(|(a, b)| a.1 >= b.1), "p99 under p50");
        }
        assert!(detail.warnings.is_empty(), "{:?}", detail.warnings);
    }

    #[test]
    fn a_folder_without_a_summary_says_why_and_what_to_do() {
        let dir = tempfile::tempdir().expect("temp dir");
        let reason = load(dir.path()).expect_err("no summary: an error");
        assert!(reason.contains("no experiment_summary.json"), "{reason}");
        assert!(reason.contains("terrafix-tui charts"), "{reason}");
    }

    /// A partial folder: a damaged hlog and a missing history become notes; the rest shows.
    #[test]
    fn damaged_and_missing_phase_files_become_warnings_not_errors() {
        let dir = tempfile::tempdir().expect("temp dir");
        let run = dir.path().join("run");
        std::fs::create_dir_all(run.join("smoke")).expect("folders");
        for entry in std::fs::read_dir(fixture().join("smoke")).expect("fixture") {
            let path = entry.expect("entry").path();
            let name = path.file_name().expect("a file name").to_owned();
            std::fs::copy(&path, run.join("smoke").join(name)).expect("copied");
        }
        std::fs::copy(fixture().join(SUMMARY_FILE), run.join(SUMMARY_FILE)).expect("summary");
        std::fs::write(run.join("smoke/smoke_mix.hlog"), b"#[StartTime: nonsense]\n\"garbage\",1,2,3\n")
            .expect("damaged");
        std::fs::remove_file(run.join("smoke/smoke_open_stats_history.csv")).expect("removed");
        let detail = load(&run).expect("a partial folder still loads");
        assert!(
            detail.warnings.iter().any(|w| w.contains("smoke_open_stats_history.csv")),
            "{:?}",
            detail.warnings
        );
        assert!(
            detail.timelines.iter().any(|l| l.percentiles_from == "history"),
            "the damaged hlog falls back"
        );
    }
}
