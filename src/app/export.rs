//! `terrafix-tui export RUN_DIR [--out FILE]`: one shareable `.tar.gz` per run. A run
//! written with `--no-charts` gets its charts and reports drawn first, so the bundle
//! always has them. The TUI's `b` calls [`bundle_run`] too, and its export dialog
//! [`charts_for_tui`].

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::ExportArgs;
use crate::fsio::WritePolicy;
use crate::report::{self, CHARTS_REPORT_FILE, ChartFormat, ChartRequest, RenderOptions, ReportError};
use crate::tui::export_state::{ExportFormat, ExportRequest};

use super::UsageError;

pub async fn main(args: ExportArgs) -> anyhow::Result<ExitCode> {
    // No --out, or --out naming a folder: <run-id>.tar.gz in it.
    let out = match &args.out {
        None => report::default_bundle_path(&args.run_dir, Path::new(".")),
        Some(out) if out.is_dir() || out.as_os_str().to_string_lossy().ends_with('/') => {
            report::default_bundle_path(&args.run_dir, out)
        }
        Some(out) => out.clone(),
    };
    let run_dir = args.run_dir.clone();
    // An existing file is replaced only with --force, and never a run's own file or a device.
    let force = args.force;
    let packed = tokio::task::spawn_blocking(move || {
        bundle_run_with(&run_dir, &out, WritePolicy::UserNamed { force, ours: None })
    })
    .await?;
    match packed {
        Ok(bundle) => {
            for warning in &bundle.warnings {
                eprintln!("warning: {warning}");
            }
            if bundle.rendered_charts {
                println!("drew the missing charts and reports in {} first", args.run_dir.display());
            }
            println!("{}", bundle.path.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.is_usage() => Err(UsageError(e.to_string()).into()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Clone, Debug, Default)]
pub struct Bundled {
    pub path: PathBuf,
    /// True when the run had no charts report and they were drawn before packing.
    pub rendered_charts: bool,
    pub warnings: Vec<String>,
}

/// Blocking: draws missing charts, then packs the run folder into `out`. The TUI's `b`:
/// it may re-pack over an earlier bundle of its own (a gzip file), nothing else.
pub fn bundle_run(run_dir: &Path, out: &Path) -> Result<Bundled, ReportError> {
    bundle_run_with(run_dir, out, WritePolicy::UserNamed { force: false, ours: Some(report::GZIP_MAGIC) })
}

/// [`bundle_run`] with the rule for an existing file at `out`.
pub fn bundle_run_with(run_dir: &Path, out: &Path, policy: WritePolicy<'_>) -> Result<Bundled, ReportError> {
    // Before any chart is drawn: a refused --out should cost nothing.
    crate::fsio::check_destination(out, policy)?;
    let mut bundled = Bundled::default();
    if run_dir.is_dir() && !run_dir.join(CHARTS_REPORT_FILE).exists() {
        let outcome = report::render_all(run_dir, &RenderOptions::default())?;
        bundled.rendered_charts = true;
        bundled.warnings = outcome.warnings;
    }
    bundled.path = report::bundle(run_dir, out, policy)?;
    Ok(bundled)
}

/// The TUI's export dialog, done: its request mapped to the report's, each file written
/// reported through `on_written`. Blocking. Returns (files written, warnings).
pub fn charts_for_tui(
    request: &ExportRequest,
    on_written: &(dyn Fn(&Path) + Sync),
) -> Result<(Vec<PathBuf>, Vec<String>), String> {
    let chart_request = ChartRequest {
        out_dir: request.out_dir.clone(),
        format: match request.format {
            ExportFormat::Png => ChartFormat::Png,
            ExportFormat::Svg => ChartFormat::Svg,
        },
        width: request.width,
        height: request.height,
        only: request.only.clone(),
        phases: request.phases.clone(),
    };
    report::export_charts(&request.run_dir, &chart_request, on_written)
        .map(|outcome| (outcome.charts, outcome.warnings))
        .map_err(|e| e.to_string())
}
