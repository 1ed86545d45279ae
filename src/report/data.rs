//! What the charts draw, read from a run folder: per-phase per-second series (from
//! `_stats_history.csv`), per-second histograms (from `.hlog`), totals from the summary,
//! and resource samples. Everything unreadable becomes a warning; the rest still loads.

use std::path::{Path, PathBuf};

use crate::metrics::LatencyHistogram;
use crate::metrics::hlog::{HlogInterval, read_hlog};
use crate::metrics::summary::{PhaseSummary, RESOURCES_FILE, RunSummary, SUMMARY_FILE};

use super::ReportError;
use super::files::HistoryRow;
use super::locust::{self, PERCENTILE_COLUMNS};
use super::plain;

/// One second of a phase, `t_s` seconds after the run started.
#[derive(Clone, Debug, Default)]
pub struct Second {
    pub t_s: f64,
    pub users: Option<u32>,
    pub rps: f64,
    pub fps: f64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// One phase as the charts see it. Totals live in `RunData::summary.experiments[index]`.
#[derive(Clone, Debug, Default)]
pub struct PhaseData {
    pub index: usize,
    pub name: String,
    pub offset_s: f64,
    pub duration_s: f64,
    /// From the history CSV (rps, failures/s, users, windowed percentiles).
    pub seconds: Vec<Second>,
    /// From the `.hlog`, `offset_s` from the run start; empty without one.
    pub intervals: Vec<HlogInterval>,
    /// All intervals merged; `None` without an `.hlog`.
    pub merged: Option<LatencyHistogram>,
    /// (quantile, ms) known for the whole phase, for the percentile spectrum.
    pub spectrum: Vec<(f64, f64)>,
    /// Per-second percentile rows of a plain Locust history, for the approximate heatmap.
    pub history_percentiles: Vec<PercentileSecond>,
    /// The phase's verdict was `generator-bound` (its label says so on the charts).
    pub generator_bound: bool,
}

/// One second of a Locust history: how many requests, and its percentile columns.
#[derive(Clone, Debug, Default)]
pub struct PercentileSecond {
    pub t_s: f64,
    pub requests: f64,
    pub percentiles_ms: [Option<f64>; 11],
    pub min_ms: Option<f64>,
}

/// A resource sample placed on the run's time axis.
#[derive(Clone, Debug)]
pub struct ResourcePoint {
    pub t_s: f64,
    pub service: String,
    pub cpu_percent: f64,
    pub memory_bytes: u64,
}

#[derive(Clone, Debug)]
pub struct RunData {
    /// Read from `experiment_summary.json`, or put together from plain Locust CSVs.
    pub summary: RunSummary,
    /// True when the summary was put together from CSVs (no JSON in the folder).
    pub from_plain_csv: bool,
    pub phases: Vec<PhaseData>,
    pub resources: Vec<ResourcePoint>,
}

impl RunData {
    pub fn has_histograms(&self) -> bool {
        self.phases.iter().any(|p| !p.intervals.is_empty())
    }

    pub fn run_length_s(&self) -> f64 {
        self.phases.iter().map(|p| p.offset_s + p.duration_s).fold(0.0, f64::max).max(1.0)
    }
}

impl RunData {
    /// Keeps only the named phases (in run order), renumbered from 1 and moved so the
    /// first kept phase starts at 0 s; resource samples outside the kept span go too.
    pub fn keep_phases(&mut self, names: &[String]) {
        if names.is_empty() {
            return;
        }
        let keep: Vec<bool> = self
            .phases
            .iter()
            .map(|p| {
                let suite = self.summary.experiments.get(p.index).map_or("", |e| e.suite.as_str());
                names.iter().any(|n| *n == p.name || *n == format!("{suite}/{}", p.name))
            })
            .collect();
        let mut flags = keep.iter();
        self.summary.experiments.retain(|_| flags.next().copied().unwrap_or(false));
        let mut flags = keep.iter();
        self.phases.retain(|_| flags.next().copied().unwrap_or(false));
        let start = self.phases.iter().map(|p| p.offset_s).fold(f64::INFINITY, f64::min);
        let start = if start.is_finite() { start } else { 0.0 };
        let end = self.phases.iter().map(|p| p.offset_s + p.duration_s).fold(0.0, f64::max);
        for (index, phase) in self.phases.iter_mut().enumerate() {
            phase.index = index;
            phase.offset_s -= start;
            phase.seconds.iter_mut().for_each(|s| s.t_s -= start);
            phase.intervals.iter_mut().for_each(|i| i.offset_s -= start);
            phase.history_percentiles.iter_mut().for_each(|s| s.t_s -= start);
        }
        let spans: Vec<(f64, f64)> =
            self.phases.iter().map(|p| (p.offset_s, p.offset_s + p.duration_s)).collect();
        self.resources.retain(|r| r.t_s >= start && r.t_s <= end);
        self.resources.iter_mut().for_each(|r| r.t_s -= start);
        // Samples in the pause between two kept phases that were not adjacent say nothing
        // about either; drop those too.
        self.resources.retain(|r| spans.iter().any(|(a, b)| r.t_s >= *a - 1.0 && r.t_s <= *b + 1.0));
    }

    /// True when `name` is a phase of this run, by name or as `suite/name`.
    pub fn has_phase(&self, name: &str) -> bool {
        self.phases.iter().any(|p| {
            let suite = self.summary.experiments.get(p.index).map_or("", |e| e.suite.as_str());
            p.name == name || format!("{suite}/{}", p.name) == name
        })
    }

    pub fn phase_names(&self) -> Vec<String> {
        self.phases.iter().map(|p| p.name.clone()).collect()
    }
}

/// Reads a run folder of ours, or (without a readable summary) a folder of Locust CSVs.
pub fn load(dir: &Path, warnings: &mut Vec<String>) -> Result<RunData, ReportError> {
    if !dir.is_dir() {
        return Err(ReportError::NotAFolder { path: dir.to_path_buf() });
    }
    let summary_path = dir.join(SUMMARY_FILE);
    let loaded = if summary_path.exists() {
        match RunSummary::load(&summary_path) {
            Ok(summary) => Some(summary),
            // No schema_version at all: the seed harness's own summary, not a damaged one of ours.
            Err(crate::metrics::summary::SummaryError::Version { found: 0, .. }) => {
                warnings.push(format!(
                    "{} was not written by terrafix-tui (no schema_version); charting the CSVs in the folder instead",
                    summary_path.display()
                ));
                None
            }
            Err(e) => {
                warnings.push(format!("{e}; charting the CSVs in the folder instead"));
                None
            }
        }
    } else {
        None
    };
    let (summary, from_plain_csv, mut extra) = match loaded {
        Some(summary) => (summary, false, Vec::new()),
        None => {
            let found = plain::scan(dir, warnings);
            if found.summary.experiments.is_empty() {
                return Err(ReportError::NothingToRender { dir: dir.to_path_buf() });
            }
            (found.summary, true, found.phase_extras)
        }
    };
    let run_start = run_start_unix_s(&summary);
    let mut phases = Vec::with_capacity(summary.experiments.len());
    for (index, phase) in summary.experiments.iter().enumerate() {
        let extra = extra.get_mut(index).map(std::mem::take).unwrap_or_default();
        phases.push(load_phase(dir, index, phase, run_start, extra, warnings));
    }
    let resources = load_resources(dir, run_start, warnings);
    Ok(RunData { summary, from_plain_csv, phases, resources })
}

/// What a plain-CSV scan knows beyond the summary: the phase's stats percentiles.
#[derive(Clone, Debug, Default)]
pub struct PhaseExtra {
    pub spectrum: Vec<(f64, f64)>,
}

fn run_start_unix_s(summary: &RunSummary) -> Option<f64> {
    chrono::DateTime::parse_from_rfc3339(&summary.started_at)
        .ok()
        .map(|t| t.timestamp_millis() as f64 / 1000.0)
}

/// A phase's file inside the run folder: the path the summary lists, or the default one;
/// either must stay inside `dir` (see [`crate::fsio::resolve_in_run`]), else the refusal
/// as a warning that names it.
pub(super) fn resolve(dir: &Path, listed: &str, default: String) -> Result<PathBuf, String> {
    let listed = if listed.is_empty() { default.as_str() } else { listed };
    crate::fsio::resolve_in_run(dir, listed).map_err(|e| e.to_string())
}

pub(super) fn phase_file(phase: &PhaseSummary, suffix: &str) -> String {
    if phase.suite.is_empty() {
        format!("{}{suffix}", phase.name)
    } else {
        format!("{}/{}{suffix}", phase.suite, phase.name)
    }
}

/// The phase's `_stats_history.csv` rows; none, with a warning, when it is missing or refused.
fn history_rows(dir: &Path, phase: &PhaseSummary, warnings: &mut Vec<String>) -> Vec<HistoryRow> {
    match resolve(dir, &phase.files.history_csv, phase_file(phase, "_stats_history.csv")) {
        Ok(path) if path.exists() => locust::read_history(&path, warnings).unwrap_or_default(),
        Ok(path) => {
            warnings.push(format!(
                "{}: missing; throughput and users over time are not drawn for phase {}",
                path.display(),
                phase.name
            ));
            Vec::new()
        }
        Err(refused) => {
            warnings.push(refused);
            Vec::new()
        }
    }
}

/// The phase's `.hlog` intervals; none when it has no file (a warning when unreadable or refused).
fn phase_intervals(dir: &Path, phase: &PhaseSummary, warnings: &mut Vec<String>) -> Vec<HlogInterval> {
    match resolve(dir, &phase.files.hlog, phase_file(phase, ".hlog")) {
        Ok(path) if path.exists() => read_hlog(&path).unwrap_or_else(|e| {
            warnings.push(e.to_string());
            Vec::new()
        }),
        Ok(_) => Vec::new(),
        Err(refused) => {
            warnings.push(refused);
            Vec::new()
        }
    }
}

/// Requests per second from the histograms, for a phase without a history CSV.
fn seconds_from_intervals(intervals: &[HlogInterval]) -> Vec<Second> {
    intervals
        .iter()
        .map(|i| Second {
            t_s: i.offset_s,
            // Over at least a second, as the history rows are; `settle_last_window` scales.
            rps: i.histogram.count() as f64 / i.length_s.max(1.0),
            ..Second::default()
        })
        .collect()
}

fn load_phase(
    dir: &Path,
    index: usize,
    phase: &PhaseSummary,
    run_start: Option<f64>,
    extra: PhaseExtra,
    warnings: &mut Vec<String>,
) -> PhaseData {
    let rows = history_rows(dir, phase, warnings);
    // Without a parseable start time, place the first history row at the phase's offset.
    let first_ts = rows.first().map(|r| r.timestamp_unix_s as f64);
    let origin = run_start.or(first_ts.map(|t| t - phase.offset_s)).unwrap_or(0.0);
    let seconds: Vec<Second> = rows.iter().map(|r| second_of(r, origin)).collect();
    let history_percentiles = rows
        .iter()
        .map(|r| PercentileSecond {
            t_s: r.timestamp_unix_s as f64 - origin,
            requests: r.rps,
            percentiles_ms: r.percentiles_ms,
            min_ms: r.total_min_ms,
        })
        .collect();

    let intervals = phase_intervals(dir, phase, warnings);
    let merged = (!intervals.is_empty()).then(|| {
        let mut all = LatencyHistogram::new();
        intervals.iter().for_each(|i| all.merge(&i.histogram));
        all
    });
    // No history CSV but histograms: the timeline can still show requests per second.
    let mut seconds = if seconds.is_empty() { seconds_from_intervals(&intervals) } else { seconds };
    settle_last_window(&mut seconds, &intervals);
    carry_users_into_last_row(&mut seconds);
    let spectrum = match &merged {
        Some(h) => spectrum_of(h),
        None if !extra.spectrum.is_empty() => extra.spectrum,
        None => spectrum_of_summary(phase),
    };
    PhaseData {
        index,
        name: phase.name.clone(),
        offset_s: phase.offset_s,
        duration_s: phase.duration_s,
        seconds,
        intervals,
        merged,
        spectrum,
        history_percentiles,
        generator_bound: phase.validity.as_ref().is_some_and(|v| !v.is_valid()),
    }
}

/// The shortest last window whose rate is drawn (scaled to its width); a shorter one is left out.
const SHORTEST_RATE_WINDOW_S: f64 = 0.5;

/// A phase's last history row covers the part of a second between the last tick and the
/// phase's end, but its rates were taken over a whole second (see `experiment::sink`), so
/// drawn as written it makes a false drop at every phase end. The `.hlog` holds each
/// window's real width, row for row: a last window of at least half a second gets its rates
/// scaled to that width; a shorter one holds too few requests for a rate and is left out.
/// Without a matching `.hlog` the width is unknown and the rows stay as written.
fn settle_last_window(seconds: &mut Vec<Second>, intervals: &[HlogInterval]) {
    if seconds.len() != intervals.len() {
        return;
    }
    let Some(width_s) = intervals.last().map(|i| i.length_s) else { return };
    if width_s >= 1.0 || !width_s.is_finite() {
        return;
    }
    if width_s < SHORTEST_RATE_WINDOW_S {
        seconds.pop();
    } else if let Some(last) = seconds.last_mut() {
        last.rps /= width_s;
        last.fps /= width_s;
    }
}

/// The last history row is written after the phase's users have stopped, so it says 0
/// users beside the requests they sent in that window; it keeps the previous row's users.
fn carry_users_into_last_row(seconds: &mut [Second]) {
    let [.., before, last] = seconds else { return };
    if last.users == Some(0) && last.rps > 0.0 && before.users.is_some_and(|u| u > 0) {
        last.users = before.users;
    }
}

fn second_of(row: &HistoryRow, origin: f64) -> Second {
    let pct = |q: f64| {
        PERCENTILE_COLUMNS
            .iter()
            .position(|(_, pq)| (*pq - q).abs() < 1e-9)
            .and_then(|i| row.percentiles_ms[i])
    };
    Second {
        t_s: row.timestamp_unix_s as f64 - origin,
        users: row.users,
        rps: row.rps,
        fps: row.fps,
        p50_ms: pct(0.50),
        p95_ms: pct(0.95),
        p99_ms: pct(0.99),
    }
}

/// Quantiles from 0 to 99.999 %, dense in the tail, for the percentile spectrum.
fn spectrum_of(h: &LatencyHistogram) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut nines = 0.0_f64;
    while nines <= 5.0 {
        let q = 1.0 - 10f64.powf(-nines);
        out.push((q, h.quantile_ms(q)));
        nines += 0.05;
    }
    out.push((1.0, h.max_ms()));
    out
}

fn spectrum_of_summary(phase: &PhaseSummary) -> Vec<(f64, f64)> {
    let l = &phase.latency_ms;
    if phase.summary.total_requests == 0 {
        return Vec::new();
    }
    vec![
        (0.0, l.min),
        (0.5, l.p50),
        (0.75, l.p75),
        (0.9, l.p90),
        (0.95, l.p95),
        (0.99, l.p99),
        (0.999, l.p99_9),
        (1.0, l.max),
    ]
}

fn load_resources(dir: &Path, run_start: Option<f64>, warnings: &mut Vec<String>) -> Vec<ResourcePoint> {
    // Its name is fixed, but it may still be a symlink out of the run folder.
    let path = match crate::fsio::resolve_in_run(dir, RESOURCES_FILE) {
        Ok(path) if path.exists() => path,
        Ok(_) => return Vec::new(),
        Err(refused) => {
            warnings.push(refused.to_string());
            return Vec::new();
        }
    };
    let samples = locust::read_resources(&path, warnings);
    let origin = run_start.or(samples.first().map(|s| s.timestamp_unix_s)).unwrap_or(0.0);
    samples
        .into_iter()
        .map(|s| ResourcePoint {
            t_s: s.timestamp_unix_s - origin,
            service: s.service,
            cpu_percent: s.cpu_percent,
            memory_bytes: s.memory_bytes,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seconds(rates: &[f64]) -> Vec<Second> {
        rates
            .iter()
            .enumerate()
            .map(|(i, r)| Second { t_s: i as f64 + 1.0, rps: *r, fps: r / 10.0, ..Second::default() })
            .collect()
    }

    fn windows(lengths: &[f64]) -> Vec<HlogInterval> {
        let mut offset = 0.0;
        lengths
            .iter()
            .map(|l| {
                let i = HlogInterval { offset_s: offset, length_s: *l, histogram: LatencyHistogram::new() };
                offset += l;
                i
            })
            .collect()
    }

    #[test]
    fn a_partial_last_window_is_scaled_to_its_real_width() {
        // 50 req/s throughout; the last window is 0.6 s, written as 30 requests over one second.
        let mut s = seconds(&[50.0, 50.0, 50.0, 30.0]);
        settle_last_window(&mut s, &windows(&[1.0, 1.0, 1.0, 0.6]));
        assert_eq!(s.len(), 4);
        assert!((s[3].rps - 50.0).abs() < 1e-9, "last second drawn at {} req/s", s[3].rps);
        assert!((s[3].fps - 5.0).abs() < 1e-9);
        assert!((s[2].rps - 50.0).abs() < 1e-9, "full seconds are left alone");
    }

    #[test]
    fn a_last_window_under_half_a_second_is_left_out() {
        // The smoke run's shape: one request in the last few milliseconds, written as 1 req/s.
        let mut s = seconds(&[25.0, 25.0, 1.0]);
        settle_last_window(&mut s, &windows(&[1.0, 1.0, 0.02]));
        assert_eq!(s.len(), 2);
        assert!(s.iter().all(|x| (x.rps - 25.0).abs() < 1e-9));
    }

    #[test]
    fn a_last_row_with_requests_but_no_users_keeps_the_users_that_sent_them() {
        // The final report is taken after the users stopped: 0 users beside 60 req/s.
        let mut s = seconds(&[40.0, 60.0, 60.0]);
        s.iter_mut().for_each(|x| x.users = Some(6));
        s[2].users = Some(0);
        carry_users_into_last_row(&mut s);
        assert_eq!(s[2].users, Some(6));
        // A last row without requests keeps its 0; so does a phase that never had users.
        let mut s = seconds(&[40.0, 0.0]);
        s[0].users = Some(6);
        s[1].users = Some(0);
        carry_users_into_last_row(&mut s);
        assert_eq!(s[1].users, Some(0));
        let mut s = seconds(&[40.0, 40.0]);
        s[1].users = Some(0);
        carry_users_into_last_row(&mut s);
        assert_eq!(s[1].users, Some(0));
    }

    #[test]
    fn full_or_unknown_windows_are_kept_as_written() {
        let mut s = seconds(&[20.0, 20.0, 20.0]);
        settle_last_window(&mut s, &windows(&[1.0, 1.0, 1.0]));
        assert_eq!(s.len(), 3);
        // Without an .hlog (or with one that does not match row for row) the width is unknown.
        settle_last_window(&mut s, &[]);
        settle_last_window(&mut s, &windows(&[1.0, 0.3]));
        assert_eq!(s.len(), 3);
        assert!((s[2].rps - 20.0).abs() < 1e-9);
    }
}
