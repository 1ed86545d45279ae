//! `terrafix-tui export RUN_DIR [--out FILE]`: one shareable `.tar.gz` per run. A run
//! written with `--no-charts` gets its charts and reports drawn first, so the bundle
//! always has them. The TUI's `b` calls [`bundle_run`] too.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cli::ExportArgs;
use crate::report::{self, CHARTS_REPORT_FILE, RenderOptions, ReportError};

use super::UsageError;

pub async fn main(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let out = args.out.clone().unwrap_or_else(|| report::default_bundle_path(&args.run_dir, Path::new(".")));
    let run_dir = args.run_dir.clone();
    let packed = tokio::task::spawn_blocking(move || bundle_run(&run_dir, &out)).await?;
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

/// Blocking: draws missing charts, then packs the run folder into `out`.
pub fn bundle_run(run_dir: &Path, out: &Path) -> Result<Bundled, ReportError> {
    let mut bundled = Bundled::default();
    if run_dir.is_dir() && !run_dir.join(CHARTS_REPORT_FILE).exists() {
        let outcome = report::render_all(run_dir, &RenderOptions::default())?;
        bundled.rendered_charts = true;
        bundled.warnings = outcome.warnings;
    }
    bundled.path = report::bundle(run_dir, out)?;
    Ok(bundled)
}
