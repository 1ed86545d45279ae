//! `terrafix-tui charts DIR`: re-render PNGs and HTML from what is on disk, for a run
//! folder of ours or a folder of plain Locust CSVs. Prints what it wrote; warnings to stderr.

use std::process::ExitCode;

use crate::cli::ChartsArgs;
use crate::report::{self, RenderOptions, ReportError};

use super::UsageError;

pub async fn main(args: ChartsArgs) -> anyhow::Result<ExitCode> {
    let dir = args.results_dir.clone();
    // Drawing is CPU-bound; keep it off the async workers.
    let rendered =
        tokio::task::spawn_blocking(move || report::render_all(&dir, &RenderOptions::default())).await?;
    let outcome = match rendered {
        Ok(outcome) => outcome,
        Err(e @ (ReportError::NotAFolder { .. } | ReportError::NothingToRender { .. })) => {
            return Err(UsageError(e.to_string()).into());
        }
        Err(e) => return Err(e.into()),
    };
    for warning in &outcome.warnings {
        eprintln!("warning: {warning}");
    }
    for path in outcome.charts.iter().chain(&outcome.html) {
        println!("{}", path.display());
    }
    println!(
        "{} charts and {} reports written in {}{}",
        outcome.charts.len(),
        outcome.html.len(),
        args.results_dir.display(),
        if outcome.warnings.is_empty() {
            String::new()
        } else {
            format!(" ({} warnings above)", outcome.warnings.len())
        }
    );
    Ok(ExitCode::SUCCESS)
}
