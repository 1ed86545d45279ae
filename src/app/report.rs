//! `terrafix-tui report RUN` ((re)writes experiment_report.md and experiment_summary.html
//! from a run folder), and the CI outputs of `run`: `--junit FILE`, `--summary-md FILE`
//! and the append to `$GITHUB_STEP_SUMMARY`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::UsageError;
use crate::cli::ReportArgs;
use crate::metrics::summary::RunSummary;
use crate::report::{self, ReportError};

/// The variable GitHub Actions sets to the file a step's summary is appended to.
pub const STEP_SUMMARY_VAR: &str = "GITHUB_STEP_SUMMARY";

pub async fn main(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let dir = args.run_dir.clone();
    let written = tokio::task::spawn_blocking(move || report::write_reports(&dir)).await?;
    let (files, warnings) = written.map_err(|e: ReportError| -> anyhow::Error {
        if e.is_usage() { UsageError(e.to_string()).into() } else { e.into() }
    })?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    for f in &files {
        println!("{}", f.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// A file named on the command line must be one we may write: not a folder, a symlink or a
/// device, in a folder that exists. Checked before the run, so a typo costs no run.
pub fn check_output_file(flag: &str, path: &Path) -> Result<(), UsageError> {
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && !meta.file_type().is_file()
    {
        return Err(UsageError(format!(
            "{flag} {}: not a regular file (a folder, link or device); name a file to write",
            path.display()
        )));
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(UsageError(format!(
            "{flag} {}: the folder {} does not exist; create it or name a file in an existing folder",
            path.display(),
            parent.display()
        )));
    }
    Ok(())
}

/// `run`'s flags checked before anything is sent.
pub fn check_ci_flags(junit: Option<&Path>, summary_md: Option<&Path>) -> Result<(), UsageError> {
    if let Some(p) = junit {
        check_output_file("--junit", p)?;
    }
    if let Some(p) = summary_md {
        check_output_file("--summary-md", p)?;
    }
    Ok(())
}

/// Writes the JUnit XML and the Markdown head after a run; each failure is printed and
/// the rest still written (the run's own results are already on disk).
pub fn write_ci_outputs(
    junit: Option<&Path>,
    summary_md: Option<&Path>,
    summary: &RunSummary,
    run_dir: &Path,
) {
    if let Some(path) = junit
        && let Err(e) = report::files::write_atomic(path, report::junit::render(summary).as_bytes())
    {
        eprintln!("--junit: {e}");
    }
    let step_summary =
        std::env::var_os(STEP_SUMMARY_VAR).map(PathBuf::from).filter(|p| !p.as_os_str().is_empty());
    if summary_md.is_none() && step_summary.is_none() {
        return;
    }
    // The findings read the per-second histories on disk when they are there.
    let findings =
        report::findings_of(run_dir).map(|(_, f)| f).unwrap_or_else(|_| crate::analysis::findings(summary));
    let head = report::markdown::head(summary, &findings, report::markdown::STEP_SUMMARY_LIMIT / 2);
    if let Some(path) = summary_md
        && let Err(e) = report::files::write_atomic(path, head.as_bytes())
    {
        eprintln!("--summary-md: {e}");
    }
    if let Some(path) = step_summary.filter(|p| Some(p.as_path()) != summary_md)
        && let Err(e) = append_step_summary(&path, &head)
    {
        eprintln!("${STEP_SUMMARY_VAR} ({}): {e}", path.display());
    }
}

/// Appends to the file GitHub named, only when it is a regular file (or not there yet).
fn append_step_summary(path: &Path, head: &str) -> std::io::Result<()> {
    if let Ok(meta) = std::fs::symlink_metadata(path)
        && !meta.file_type().is_file()
    {
        return Err(std::io::Error::other("not a regular file; nothing appended"));
    }
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(head.as_bytes())?;
    f.write_all(b"\n")
}
