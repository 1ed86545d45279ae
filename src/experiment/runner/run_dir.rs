//! The run's folder: its unique name, when the run began, and the summary written into it
//! (each phase rewrites it, so a killed run still leaves a readable one).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::Utc;

use crate::experiment::RunError;
use crate::metrics::summary::{RunSummary, SUMMARY_FILE};
use crate::report::files::{WriteError, write_summary};
use crate::sys::clock::unix_now_s;

/// A folder name for the run: `<UTC yyyymmdd-HHMMSS>-<profile>`, made unique if taken.
fn create_run_dir(root: &Path, profile: &str) -> Result<(String, PathBuf), RunError> {
    let clean: String = profile
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    let base = format!("{}-{}", Utc::now().format("%Y%m%d-%H%M%S"), clean);
    std::fs::create_dir_all(root)
        .map_err(|source| RunError::OutputFolder { path: root.to_path_buf(), source })?;
    for n in 1..1000 {
        let id = if n == 1 { base.clone() } else { format!("{base}-{n}") };
        let dir = root.join(&id);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok((id, dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(RunError::OutputFolder { path: dir, source }),
        }
    }
    Err(RunError::Other(format!("could not find a free run folder name under {}", root.display())))
}

/// A run's name and folder, and when it began: the summary's start, and the zero that
/// phase offsets and status notes count from.
pub(super) struct RunStart {
    pub(super) run_id: String,
    pub(super) dir: PathBuf,
    pub(super) started_at: SystemTime,
    pub(super) unix_s: f64,
}

impl RunStart {
    pub(super) fn now(output_root: &Path, profile: &str) -> Result<RunStart, RunError> {
        let started_at = SystemTime::now();
        let unix_s = unix_now_s();
        let (run_id, dir) = create_run_dir(output_root, profile)?;
        Ok(RunStart { run_id, dir, started_at, unix_s })
    }

    /// Nothing was measured: an empty run folder would only clutter the results list.
    pub(super) fn remove_empty_folder(&self) {
        // The run fails with its own error; an empty folder left behind holds nothing to lose.
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Writes the summary (serialise, write, fsync, rename) on the blocking pool: an fsync on a
/// busy disk must not hold up one of the runtime's worker threads.
pub(super) async fn save_summary(dir: &std::path::Path, summary: &RunSummary) -> Result<(), WriteError> {
    let path = dir.join(SUMMARY_FILE);
    let (target, copy) = (path.clone(), summary.clone());
    match tokio::task::spawn_blocking(move || write_summary(&target, &copy)).await {
        Ok(result) => result,
        Err(e) => Err(WriteError { path, source: std::io::Error::other(e) }),
    }
}
