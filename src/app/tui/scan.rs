//! Reading the results root for the Results screen: one entry per run folder, newest first.

use std::path::Path;

use crate::metrics::summary::{RunSummary, SUMMARY_FILE};
use crate::tui::state::ResultEntry;

/// Run folders under `root` (missing root = none yet), newest first by their timestamped name.
pub fn runs(root: &Path) -> Result<Vec<ResultEntry>, String> {
    let read = match std::fs::read_dir(root) {
        Ok(read) => read,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot list {}: {e}", root.display())),
    };
    let mut entries: Vec<ResultEntry> = read
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| entry(&e.path()))
        .collect();
    entries.sort_by(|a, b| b.run_id.cmp(&a.run_id));
    Ok(entries)
}

fn entry(dir: &Path) -> ResultEntry {
    let run_id = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let summary_path = dir.join(SUMMARY_FILE);
    let summary = if summary_path.exists() {
        RunSummary::load(&summary_path).map_err(|e| e.to_string())
    } else {
        Err(format!("no {SUMMARY_FILE} in {} (the run may still be going, or it crashed)", dir.display()))
    };
    let html = Some(dir.join("experiment_summary.html")).filter(|p| p.exists());
    let mut charts: Vec<_> = std::fs::read_dir(dir.join("charts"))
        .map(|read| {
            read.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "png"))
                .collect()
        })
        .unwrap_or_default();
    charts.sort();
    let findings = summary.as_ref().map(crate::analysis::findings).unwrap_or_default();
    ResultEntry { run_id, dir: dir.to_path_buf(), summary, html, charts, findings }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder written by an older build (schema 1) is still listed with its summary.
    #[test]
    fn schema_1_runs_are_listed() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let entries = runs(&root).expect("fixtures folder lists");
        let v1 = entries.iter().find(|e| e.run_id == "schema1-run").expect("schema1-run listed");
        let summary = v1.summary.as_ref().expect("schema 1 summary loads");
        assert_eq!(summary.experiments.len(), 3);
    }
}
