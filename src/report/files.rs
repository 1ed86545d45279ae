//! Writers for what a run leaves on disk while it goes: Locust-compatible CSVs, the summary
//! JSON, resource samples. Whole files are written atomically (temp file + rename);
//! histories are appended a second at a time, so a crash leaves every finished second.
//! The row types of the Locust CSVs live here; `locust` reads files back into them.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::metrics::ResourceSample;
use crate::metrics::summary::RunSummary;

/// Locust 2.x `_stats.csv` header, byte for byte.
pub const STATS_HEADER: &str = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%";
/// Locust 2.x `_stats_history.csv` header, byte for byte.
pub const HISTORY_HEADER: &str = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size";
/// Locust 2.x `_failures.csv` header, byte for byte.
pub const FAILURES_HEADER: &str = "Method,Name,Error,Occurrences";
/// Locust 2.x `_exceptions.csv` header, byte for byte.
pub const EXCEPTIONS_HEADER: &str = "Count,Message,Traceback,Nodes";
/// The header of `resources.csv` (our own file: seconds since the epoch, service, % of one core, bytes).
pub const RESOURCES_HEADER: &str = "timestamp_unix_s,service,cpu_percent,memory_bytes";

/// A run file that could not be written; the message names the file and what to check.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source} (check the folder exists and is writable, and the disk is not full)")]
pub struct WriteError {
    /// The file being written.
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: std::io::Error,
}

fn werr(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError { path: path.to_path_buf(), source }
}

/// Writes `contents` to `path` through a temp file in the same folder and a rename: a
/// file the run (or the report) owns and regenerates, never a device or a link in its place.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), WriteError> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    crate::fsio::write_atomic(path, contents, crate::fsio::WritePolicy::Regenerate { root: folder })
        .map_err(|e| WriteError { path: path.to_path_buf(), source: e.into_io() })
}

/// Writes `experiment_summary.json` (pretty-printed, schema 2) atomically.
pub fn write_summary(path: &Path, summary: &RunSummary) -> Result<(), WriteError> {
    let json = serde_json::to_vec_pretty(summary)
        .map_err(|e| WriteError { path: path.to_path_buf(), source: std::io::Error::other(e) })?;
    write_atomic(path, &json)
}

/// Quotes a CSV field when it needs it (RFC 4180, as Python's csv module does).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// Locust prints response times rounded to whole milliseconds in percentile columns.
fn ms_int(v: f64) -> String {
    format!("{}", v.round() as i64)
}

/// Python's float repr is what Locust writes; Rust's shortest round-trip form matches it
/// for ordinary values (and always has a decimal point, like Python).
fn py_float(v: f64) -> String {
    if v.is_finite() && v == v.trunc() && v.abs() < 1e16 { format!("{v:.1}") } else { format!("{v}") }
}

/// One row of `_stats.csv`. `method` is empty for the Aggregated row.
#[derive(Clone, Debug, Default)]
pub struct StatsRow {
    /// `GET` or `POST` (the `Type` column); empty for the `Aggregated` row.
    pub method: String,
    /// The task's request name (e.g. `/webhook [throughput]`), or `Aggregated`.
    pub name: String,
    /// Requests completed, failures included (`Request Count`).
    pub requests: u64,
    /// Of those, how many failed (`Failure Count`).
    pub failures: u64,
    /// Median latency (ms), written rounded to whole ms.
    pub median_ms: f64,
    /// Mean latency (ms).
    pub avg_ms: f64,
    /// Fastest request (ms).
    pub min_ms: f64,
    /// Slowest request (ms).
    pub max_ms: f64,
    /// Mean answer body size in bytes.
    pub avg_content_bytes: f64,
    /// Requests per second over the phase.
    pub rps: f64,
    /// Failures per second over the phase.
    pub fps: f64,
    /// The 50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99 and 100 % points (ms); `None` where
    /// the file says N/A (or an older Locust lacks the column). All are written as N/A when
    /// `requests` is 0.
    pub percentiles_ms: [Option<f64>; 11],
}

/// A percentile cell: whole milliseconds, or N/A when unknown.
fn ms_or_na(v: Option<f64>) -> String {
    v.map_or_else(|| "N/A".to_string(), ms_int)
}

/// `rows` then `aggregated` (last, as Locust does).
pub fn write_stats_csv(path: &Path, rows: &[StatsRow], aggregated: &StatsRow) -> Result<(), WriteError> {
    let mut out = String::with_capacity(256 * (rows.len() + 2));
    out.push_str(STATS_HEADER);
    out.push('\n');
    for row in rows.iter().chain(std::iter::once(aggregated)) {
        let pct: Vec<String> =
            row.percentiles_ms.iter().map(|v| ms_or_na(v.filter(|_| row.requests > 0))).collect();
        // Writing into a String cannot fail.
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            csv_field(&row.method),
            csv_field(&row.name),
            row.requests,
            row.failures,
            ms_int(row.median_ms),
            py_float(row.avg_ms),
            py_float(row.min_ms),
            py_float(row.max_ms),
            py_float(row.avg_content_bytes),
            py_float(row.rps),
            py_float(row.fps),
            pct.join(",")
        );
    }
    write_atomic(path, out.as_bytes())
}

/// One row of `_stats_history.csv`: this second's rates and percentiles, cumulative totals.
#[derive(Clone, Debug, Default)]
pub struct HistoryRow {
    /// The end of the second, whole seconds since the Unix epoch.
    pub timestamp_unix_s: i64,
    /// Closed model: users running; 0 for an open phase. `None` where the file says N/A.
    pub users: Option<u32>,
    /// `GET` or `POST` (the `Type` column); empty for the `Aggregated` row.
    pub method: String,
    /// The task's request name (e.g. `/webhook [throughput]`), or `Aggregated`.
    pub name: String,
    /// Requests completed in this second.
    pub rps: f64,
    /// Failures in this second.
    pub fps: f64,
    /// The second's percentiles (ms); `None` (written as N/A) when the second had no
    /// requests for this name, or an older Locust lacks the column.
    pub percentiles_ms: [Option<f64>; 11],
    /// Requests so far in the phase.
    pub total_requests: u64,
    /// Failures so far in the phase.
    pub total_failures: u64,
    /// Median over the phase so far (ms); written as N/A before the first request.
    pub total_median_ms: f64,
    /// Mean over the phase so far (ms).
    pub total_avg_ms: f64,
    /// Fastest so far (ms); `None` where the file says N/A or has no such column.
    pub total_min_ms: Option<f64>,
    /// Slowest so far (ms).
    pub total_max_ms: f64,
    /// Mean answer body size so far, in bytes.
    pub total_avg_content_bytes: f64,
}

/// Appends history rows as the phase goes.
pub struct HistoryWriter {
    path: PathBuf,
    file: File,
    line: String,
}

impl HistoryWriter {
    /// Creates (truncating) the history file and writes its header.
    pub fn create(path: &Path) -> Result<Self, WriteError> {
        let mut file = File::create(path).map_err(werr(path))?;
        file.write_all(format!("{HISTORY_HEADER}\n").as_bytes()).map_err(werr(path))?;
        Ok(Self { path: path.to_path_buf(), file, line: String::new() })
    }

    /// Writes one second's rows in a single `write` so a crash never leaves half a second.
    pub fn append(&mut self, rows: &[HistoryRow]) -> Result<(), WriteError> {
        self.line.clear();
        for row in rows {
            let pct = row.percentiles_ms.iter().map(|v| ms_or_na(*v)).collect::<Vec<_>>().join(",");
            let totals_known = row.total_requests > 0;
            let na_or = |v: String| if totals_known { v } else { "N/A".to_string() };
            // Writing into a String cannot fail.
            let _ = writeln!(
                self.line,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                row.timestamp_unix_s,
                row.users.map_or_else(|| "N/A".to_string(), |u| u.to_string()),
                csv_field(&row.method),
                csv_field(&row.name),
                py_float(row.rps),
                py_float(row.fps),
                pct,
                row.total_requests,
                row.total_failures,
                na_or(ms_int(row.total_median_ms)),
                py_float(row.total_avg_ms),
                row.total_min_ms.map_or_else(|| "N/A".to_string(), py_float),
                py_float(row.total_max_ms),
                py_float(row.total_avg_content_bytes),
            );
        }
        self.file.write_all(self.line.as_bytes()).map_err(werr(&self.path))
    }
}

/// One row of `_failures.csv`.
#[derive(Clone, Debug)]
pub struct FailureRow {
    /// `GET` or `POST`.
    pub method: String,
    /// The task's request name (e.g. `/webhook [throughput]`).
    pub name: String,
    /// The failure as Locust words it (kind and message).
    pub error: String,
    /// How many times it happened.
    pub occurrences: u64,
}

/// Writes `_failures.csv` atomically, one row per (name, error).
pub fn write_failures_csv(path: &Path, rows: &[FailureRow]) -> Result<(), WriteError> {
    let mut out = format!("{FAILURES_HEADER}\n");
    for r in rows {
        // Writing into a String cannot fail.
        let _ = writeln!(
            out,
            "{},{},{},{}",
            csv_field(&r.method),
            csv_field(&r.name),
            csv_field(&r.error),
            r.occurrences
        );
    }
    write_atomic(path, out.as_bytes())
}

/// `_exceptions.csv`: the generator raises no exceptions of its own (errors are failures),
/// so this holds the header only, as Locust writes it for a clean run.
pub fn write_exceptions_csv(path: &Path) -> Result<(), WriteError> {
    write_atomic(path, format!("{EXCEPTIONS_HEADER}\n").as_bytes())
}

/// Appends CPU/memory samples of the target to `resources.csv`.
pub struct ResourcesWriter {
    path: PathBuf,
    file: File,
}

impl ResourcesWriter {
    /// Opens `resources.csv` for appending, writing the header when the file is new.
    pub fn open(path: &Path) -> Result<Self, WriteError> {
        let exists = path.exists();
        let mut file = OpenOptions::new().create(true).append(true).open(path).map_err(werr(path))?;
        if !exists {
            file.write_all(format!("{RESOURCES_HEADER}\n").as_bytes()).map_err(werr(path))?;
        }
        Ok(Self { path: path.to_path_buf(), file })
    }

    /// Appends one sample as a line (CPU to two decimals, time to the millisecond).
    pub fn append(&mut self, s: &ResourceSample) -> Result<(), WriteError> {
        let line = format!(
            "{:.3},{},{:.2},{}\n",
            s.timestamp_unix_s,
            csv_field(&s.service),
            s.cpu_percent,
            s.memory_bytes
        );
        self.file.write_all(line.as_bytes()).map_err(werr(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_formatting() {
        assert_eq!(py_float(3.0), "3.0");
        assert_eq!(py_float(0.5), "0.5");
        assert_eq!(py_float(52.25), "52.25");
    }

    /// The bytes of each Locust CSV for rows with and without requests, pinned.
    #[test]
    fn locust_csv_bytes_are_pinned() {
        let dir = tempfile::tempdir().unwrap();
        let pct = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.4, 10.5, 11.0].map(Some);
        let busy = StatsRow {
            method: "POST".into(),
            name: "/batch[3] [a,b]".into(),
            requests: 40,
            failures: 2,
            median_ms: 5.2,
            avg_ms: 5.25,
            min_ms: 1.0,
            max_ms: 11.0,
            avg_content_bytes: 42.0,
            rps: 4.0,
            fps: 0.2,
            percentiles_ms: pct,
        };
        let idle = StatsRow {
            name: "Aggregated".into(),
            method: String::new(),
            percentiles_ms: pct,
            ..Default::default()
        };
        let stats = dir.path().join("x_stats.csv");
        write_stats_csv(&stats, &[busy], &idle).unwrap();
        assert_eq!(
            std::fs::read_to_string(&stats).unwrap(),
            format!(
                "{STATS_HEADER}\nPOST,\"/batch[3] [a,b]\",40,2,5,5.25,1.0,11.0,42.0,4.0,0.2,1,2,3,4,5,6,7,8,9,11,11\n\
                 ,Aggregated,0,0,0,0.0,0.0,0.0,0.0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\n"
            )
        );

        let second = HistoryRow {
            timestamp_unix_s: 100,
            users: Some(3),
            method: "POST".into(),
            name: "/webhook".into(),
            rps: 4.0,
            fps: 0.5,
            percentiles_ms: pct,
            total_requests: 40,
            total_failures: 2,
            total_median_ms: 5.2,
            total_avg_ms: 5.25,
            total_min_ms: Some(1.0),
            total_max_ms: 11.0,
            total_avg_content_bytes: 42.0,
        };
        let quiet = HistoryRow {
            timestamp_unix_s: 101,
            users: Some(0),
            name: "Aggregated".into(),
            total_min_ms: Some(0.0),
            ..Default::default()
        };
        let history = dir.path().join("x_stats_history.csv");
        let mut writer = HistoryWriter::create(&history).unwrap();
        writer.append(&[second, quiet]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&history).unwrap(),
            format!(
                "{HISTORY_HEADER}\n100,3,POST,/webhook,4.0,0.5,1,2,3,4,5,6,7,8,9,11,11,40,2,5,5.25,1.0,11.0,42.0\n\
                 101,0,,Aggregated,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0,N/A,0.0,0.0,0.0,0.0\n"
            )
        );

        let failures = dir.path().join("x_failures.csv");
        let failure = FailureRow {
            method: "POST".into(),
            name: "/a".into(),
            error: "say \"no\"".into(),
            occurrences: 3,
        };
        write_failures_csv(&failures, &[failure]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&failures).unwrap(),
            format!("{FAILURES_HEADER}\nPOST,/a,\"say \"\"no\"\"\",3\n")
        );
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("/batch[5] [burst]"), "/batch[5] [burst]");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
