//! Readers for Locust 2.x CSVs (`_stats.csv`, `_stats_history.csv`, `_failures.csv`) and
//! our `resources.csv`, into the row types `files` writes them from. Columns are found by
//! header name; a bad row becomes a warning naming the file and line, and the rest of the
//! file is still read. Columns no report needs are read leniently (a bad cell reads as 0).

use std::collections::HashMap;
use std::path::Path;

use super::files::{FailureRow, HistoryRow, StatsRow};
use crate::metrics::ResourceSample;

/// Locust's percentile columns, in order, with the quantile each stands for.
pub const PERCENTILE_COLUMNS: [(&str, f64); 11] = [
    ("50%", 0.50),
    ("66%", 0.66),
    ("75%", 0.75),
    ("80%", 0.80),
    ("90%", 0.90),
    ("95%", 0.95),
    ("98%", 0.98),
    ("99%", 0.99),
    ("99.9%", 0.999),
    ("99.99%", 0.9999),
    ("100%", 1.0),
];

/// A CSV opened with its header indexed by column name.
struct Table {
    shown: String,
    columns: HashMap<String, usize>,
    reader: csv::Reader<std::io::Take<std::fs::File>>,
}

impl Table {
    fn open(path: &Path, required: &[&str], warnings: &mut Vec<String>) -> Option<Self> {
        let shown = path.display().to_string();
        // Streamed, and never past the cap: a huge or endless file is refused by its size.
        let file = match crate::fsio::open_capped(path, crate::fsio::CSV_CAP, "the CSV") {
            Ok(file) => file,
            Err(e) => {
                warnings.push(format!("{shown}: not read: {}", e.reason()));
                return None;
            }
        };
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
        let headers = match reader.headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                warnings.push(format!("{shown}:1: cannot read the header: {e}"));
                return None;
            }
        };
        let columns: HashMap<String, usize> =
            headers.iter().enumerate().map(|(i, h)| (h.trim().to_string(), i)).collect();
        let missing: Vec<&str> = required.iter().copied().filter(|c| !columns.contains_key(*c)).collect();
        if !missing.is_empty() {
            warnings.push(format!(
                "{shown}:1: header lacks column(s) {}; expected a Locust 2.x header",
                missing.join(", ")
            ));
            return None;
        }
        Some(Self { shown, columns, reader })
    }

    /// Calls `row` for every record; a record it rejects becomes a warning `file:line: why`.
    fn for_each(
        mut self,
        warnings: &mut Vec<String>,
        mut row: impl FnMut(&Fields<'_>) -> Result<(), String>,
    ) {
        for record in self.reader.records() {
            match record {
                Ok(record) => {
                    let line = record.position().map_or(0, |p| p.line());
                    let fields = Fields { record: &record, columns: &self.columns };
                    if let Err(why) = row(&fields) {
                        warnings.push(format!("{}:{line}: {why}; row skipped", self.shown));
                    }
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    warnings.push(format!("{}:{line}: unreadable row: {e}", self.shown));
                }
            }
        }
    }
}

struct Fields<'a> {
    record: &'a csv::StringRecord,
    columns: &'a HashMap<String, usize>,
}

impl Fields<'_> {
    fn text(&self, column: &str) -> Result<&str, String> {
        let index = self.columns.get(column).ok_or_else(|| format!("no column `{column}`"))?;
        self.record.get(*index).map(str::trim).ok_or_else(|| format!("row is too short for `{column}`"))
    }

    /// `None` for an empty cell or `N/A`.
    fn opt_f64(&self, column: &str) -> Result<Option<f64>, String> {
        let text = self.text(column)?;
        if text.is_empty() || text == "N/A" {
            return Ok(None);
        }
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or_else(|| format!("column `{column}`: `{text}` is not a number"))
    }

    fn f64_or_zero(&self, column: &str) -> Result<f64, String> {
        Ok(self.opt_f64(column)?.unwrap_or(0.0))
    }

    /// A number from a column no report depends on: 0 when absent, empty or unreadable.
    fn lenient(&self, column: &str) -> f64 {
        self.f64_or_zero(column).unwrap_or(0.0)
    }

    fn u64(&self, column: &str) -> Result<u64, String> {
        let v = self.f64_or_zero(column)?;
        if v < 0.0 {
            return Err(format!("column `{column}`: {v} is negative"));
        }
        Ok(v.round() as u64)
    }

    fn percentiles(&self) -> Result<[Option<f64>; 11], String> {
        let mut out = [None; 11];
        for (slot, (column, _)) in out.iter_mut().zip(PERCENTILE_COLUMNS) {
            // Older Locust versions lack some percentile columns: those stay unknown.
            if self.columns.contains_key(column) {
                *slot = self.opt_f64(column)?;
            }
        }
        Ok(out)
    }
}

pub fn read_stats(path: &Path, warnings: &mut Vec<String>) -> Option<Vec<StatsRow>> {
    let required = ["Type", "Name", "Request Count", "Failure Count", "Requests/s", "50%", "100%"];
    let table = Table::open(path, &required, warnings)?;
    let mut rows = Vec::new();
    table.for_each(warnings, |f| {
        rows.push(StatsRow {
            method: f.text("Type")?.to_string(),
            name: f.text("Name")?.to_string(),
            requests: f.u64("Request Count")?,
            failures: f.u64("Failure Count")?,
            median_ms: f.lenient("Median Response Time"),
            avg_ms: f.lenient("Average Response Time"),
            min_ms: f.lenient("Min Response Time"),
            max_ms: f.lenient("Max Response Time"),
            avg_content_bytes: f.lenient("Average Content Size"),
            rps: f.f64_or_zero("Requests/s")?,
            fps: f.lenient("Failures/s"),
            percentiles_ms: f.percentiles()?,
        });
        Ok(())
    });
    Some(rows)
}

/// The `Aggregated` rows of a history file, in file order.
pub fn read_history(path: &Path, warnings: &mut Vec<String>) -> Option<Vec<HistoryRow>> {
    let required =
        ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s", "50%", "95%", "99%"];
    let table = Table::open(path, &required, warnings)?;
    let mut rows = Vec::new();
    table.for_each(warnings, |f| {
        let name = f.text("Name")?;
        if name != "Aggregated" {
            return Ok(());
        }
        let ts = f.text("Timestamp")?;
        let timestamp_unix_s = ts
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("column `Timestamp`: `{ts}` is not a unix time in seconds"))?;
        rows.push(HistoryRow {
            timestamp_unix_s: timestamp_unix_s as i64,
            users: f.opt_f64("User Count")?.map(|u| u.max(0.0) as u32),
            method: f.text("Type").unwrap_or_default().to_string(),
            name: name.to_string(),
            rps: f.f64_or_zero("Requests/s")?,
            fps: f.f64_or_zero("Failures/s")?,
            percentiles_ms: f.percentiles()?,
            total_requests: f.u64("Total Request Count").unwrap_or(0),
            total_failures: f.u64("Total Failure Count").unwrap_or(0),
            total_median_ms: f.lenient("Total Median Response Time"),
            total_avg_ms: f.lenient("Total Average Response Time"),
            total_min_ms: f.opt_f64("Total Min Response Time").unwrap_or(None),
            total_max_ms: f.lenient("Total Max Response Time"),
            total_avg_content_bytes: f.lenient("Total Average Content Size"),
        });
        Ok(())
    });
    Some(rows)
}

pub fn read_failures(path: &Path, warnings: &mut Vec<String>) -> Vec<FailureRow> {
    let Some(table) = Table::open(path, &["Method", "Name", "Error", "Occurrences"], warnings) else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    table.for_each(warnings, |f| {
        rows.push(FailureRow {
            method: f.text("Method")?.to_string(),
            name: f.text("Name")?.to_string(),
            error: f.text("Error")?.to_string(),
            occurrences: f.u64("Occurrences")?,
        });
        Ok(())
    });
    rows
}

pub fn read_resources(path: &Path, warnings: &mut Vec<String>) -> Vec<ResourceSample> {
    let required = ["timestamp_unix_s", "service", "cpu_percent", "memory_bytes"];
    let Some(table) = Table::open(path, &required, warnings) else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    table.for_each(warnings, |f| {
        let timestamp_unix_s = f.opt_f64("timestamp_unix_s")?.ok_or("column `timestamp_unix_s` is empty")?;
        rows.push(ResourceSample {
            timestamp_unix_s,
            service: f.text("service")?.to_string(),
            cpu_percent: f.f64_or_zero("cpu_percent")?,
            memory_bytes: f.u64("memory_bytes")?,
        });
        Ok(())
    });
    rows
}

/// Sorts a Locust error message into our failure kinds (`HTTP 500`, `timeout`, …).
pub fn classify_error(error: &str) -> String {
    let lower = error.to_ascii_lowercase();
    if lower.contains("timeout") || lower.contains("timed out") {
        return "timeout".into();
    }
    if lower.contains("connection") || lower.contains("refused") || lower.contains("reset by peer") {
        return "connection".into();
    }
    let digits: Vec<&str> = error
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| w.len() == 3 && (w.starts_with('4') || w.starts_with('5')))
        .collect();
    match digits.first() {
        Some(code) => format!("HTTP {code}"),
        None => "other".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_locust_errors() {
        assert_eq!(classify_error("HTTPError('500 Server Error: x for url: /webhook')"), "HTTP 500");
        assert_eq!(classify_error("ConnectionRefusedError(111)"), "connection");
        assert_eq!(classify_error("ReadTimeout(...)"), "timeout");
        assert_eq!(classify_error("CatchResponseError('bad json')"), "other");
    }

    #[test]
    fn rows_written_by_files_read_back_as_the_same_rows() {
        use crate::report::files::{HistoryWriter, write_failures_csv, write_stats_csv};
        let dir = tempfile::tempdir().unwrap();
        let pct = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0].map(Some);
        let row = StatsRow {
            method: "POST".into(),
            name: "/webhook [x]".into(),
            requests: 40,
            failures: 2,
            median_ms: 5.0,
            avg_ms: 5.5,
            min_ms: 1.0,
            max_ms: 11.0,
            avg_content_bytes: 42.0,
            rps: 4.0,
            fps: 0.2,
            percentiles_ms: pct,
        };
        let aggregated = StatsRow { method: String::new(), name: "Aggregated".into(), ..row.clone() };
        let stats = dir.path().join("x_stats.csv");
        write_stats_csv(&stats, std::slice::from_ref(&row), &aggregated).unwrap();
        let mut warnings = Vec::new();
        let read = read_stats(&stats, &mut warnings).unwrap();
        assert_eq!(format!("{:?}", read), format!("{:?}", [row, aggregated]), "{warnings:?}");

        let history_row = HistoryRow {
            timestamp_unix_s: 100,
            users: Some(3),
            name: "Aggregated".into(),
            rps: 4.0,
            fps: 0.5,
            percentiles_ms: pct,
            total_requests: 40,
            total_failures: 2,
            total_median_ms: 5.0,
            total_avg_ms: 5.5,
            total_min_ms: Some(1.0),
            total_max_ms: 11.0,
            total_avg_content_bytes: 42.0,
            ..HistoryRow::default()
        };
        let quiet = HistoryRow { timestamp_unix_s: 101, percentiles_ms: [None; 11], ..history_row.clone() };
        let history = dir.path().join("x_stats_history.csv");
        let mut writer = HistoryWriter::create(&history).unwrap();
        writer.append(&[history_row.clone(), quiet.clone()]).unwrap();
        let read = read_history(&history, &mut warnings).unwrap();
        assert_eq!(format!("{:?}", read), format!("{:?}", [history_row, quiet]), "{warnings:?}");

        let failure = FailureRow {
            method: "POST".into(),
            name: "/b, c".into(),
            error: "HTTP 500".into(),
            occurrences: 2,
        };
        let failures = dir.path().join("x_failures.csv");
        write_failures_csv(&failures, std::slice::from_ref(&failure)).unwrap();
        let read = read_failures(&failures, &mut warnings);
        assert_eq!(format!("{:?}", read), format!("{:?}", [failure]));
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn bad_number_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x_stats_history.csv");
        std::fs::write(
            &path,
            "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,95%,99%\n\
             100,1,,Aggregated,2,0,5,6,7\n\
             101,1,,Aggregated,zwei,0,5,6,7\n\
             102,1,,Aggregated,3,0,N/A,N/A,N/A\n",
        )
        .unwrap();
        let mut warnings = Vec::new();
        let rows = read_history(&path, &mut warnings).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].percentiles_ms[0], None);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("x_stats_history.csv:3"), "{}", warnings[0]);
        assert!(warnings[0].contains("zwei"));
    }
}
