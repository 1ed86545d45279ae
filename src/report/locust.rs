//! Readers for Locust 2.x CSVs (`_stats.csv`, `_stats_history.csv`, `_failures.csv`) and
//! our `resources.csv`. Columns are found by header name; a bad row becomes a warning
//! naming the file and line, and the rest of the file is still read.

use std::collections::HashMap;
use std::path::Path;

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

/// One row of `_stats.csv`.
#[derive(Clone, Debug, Default)]
pub struct StatsRow {
    pub kind: String,
    pub name: String,
    pub requests: u64,
    pub failures: u64,
    pub median_ms: f64,
    pub avg_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub rps: f64,
    /// `None` where Locust wrote `N/A`.
    pub percentiles_ms: [Option<f64>; 11],
}

/// One `Aggregated` row of `_stats_history.csv` (the per-name rows are not charted).
#[derive(Clone, Debug, Default)]
pub struct HistoryRow {
    pub timestamp_unix_s: i64,
    pub users: Option<u32>,
    pub rps: f64,
    pub fps: f64,
    pub percentiles_ms: [Option<f64>; 11],
    pub total_min_ms: Option<f64>,
}

/// One row of `_failures.csv`.
#[derive(Clone, Debug)]
pub struct FailureRow {
    pub method: String,
    pub name: String,
    pub error: String,
    pub occurrences: u64,
}

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
            kind: f.text("Type")?.to_string(),
            name: f.text("Name")?.to_string(),
            requests: f.u64("Request Count")?,
            failures: f.u64("Failure Count")?,
            median_ms: f.f64_or_zero("Median Response Time").unwrap_or(0.0),
            avg_ms: f.f64_or_zero("Average Response Time").unwrap_or(0.0),
            min_ms: f.f64_or_zero("Min Response Time").unwrap_or(0.0),
            max_ms: f.f64_or_zero("Max Response Time").unwrap_or(0.0),
            rps: f.f64_or_zero("Requests/s")?,
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
        if f.text("Name")? != "Aggregated" {
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
            rps: f.f64_or_zero("Requests/s")?,
            fps: f.f64_or_zero("Failures/s")?,
            percentiles_ms: f.percentiles()?,
            total_min_ms: f.opt_f64("Total Min Response Time").unwrap_or(None),
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
