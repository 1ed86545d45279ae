//! `terrafix-tui charts DIR`: re-render PNGs and HTML from what is on disk, for a run
//! folder of ours or a folder of plain Locust CSVs; with `--out`, export the chosen
//! charts, phases, format and size into that folder. A folder that is not one of our runs
//! gets its reports in `terrafix-charts/` inside it (or `--output`), never over its own files. Prints what it wrote; warnings to stderr.

use std::process::ExitCode;

use crate::cli::{ChartFormatArg, ChartsArgs};
use crate::report::{self, ChartFormat, ChartRequest, RenderOptions, RenderOutcome, ReportError};

use super::UsageError;

pub async fn main(args: ChartsArgs) -> anyhow::Result<ExitCode> {
    let outcome = match args.out.clone() {
        Some(out_dir) => {
            let (width, height) = report::parse_size(&args.size).map_err(usage)?;
            let request = ChartRequest {
                out_dir,
                format: match args.format {
                    ChartFormatArg::Png => ChartFormat::Png,
                    ChartFormatArg::Svg => ChartFormat::Svg,
                },
                width,
                height,
                only: args.only.iter().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect(),
                phases: args.phases.clone(),
            };
            let dir = args.results_dir.clone();
            // Drawing is CPU-bound; keep it off the async workers.
            tokio::task::spawn_blocking(move || report::export_charts(&dir, &request, &|_| {})).await?
        }
        None => {
            let dir = args.results_dir.clone();
            let output = args.output.clone();
            tokio::task::spawn_blocking(move || {
                report::render_into(&dir, output.as_deref(), &RenderOptions::default())
            })
            .await?
        }
    };
    let outcome = outcome.map_err(usage_or_other)?;
    report_outcome(&outcome, &args);
    Ok(ExitCode::SUCCESS)
}

fn usage(e: ReportError) -> anyhow::Error {
    UsageError(e.to_string()).into()
}

/// Bad names, sizes and folders are the caller's to fix (exit 2); the rest is ours.
fn usage_or_other(e: ReportError) -> anyhow::Error {
    if e.is_usage() { usage(e) } else { e.into() }
}

fn report_outcome(outcome: &RenderOutcome, args: &ChartsArgs) {
    for warning in &outcome.warnings {
        eprintln!("warning: {warning}");
    }
    for path in outcome.charts.iter().chain(&outcome.html).chain(&outcome.markdown) {
        println!("{}", path.display());
    }
    if outcome.foreign && args.output.is_none() {
        eprintln!(
            "{} is not a terrafix-tui run: its own files are left as they are, the charts and reports go into {}",
            args.results_dir.display(),
            outcome.out_dir.display()
        );
    }
    let place = args.out.as_ref().unwrap_or(&outcome.out_dir);
    println!(
        "{} charts and {} reports written in {}{}",
        outcome.charts.len(),
        outcome.html.len(),
        place.display(),
        if outcome.warnings.is_empty() {
            String::new()
        } else {
            format!(" ({} warnings above)", outcome.warnings.len())
        }
    );
}
