//! `terrafix-tui charts DIR`: re-render PNGs and HTML from what is on disk.

use std::process::ExitCode;

use crate::cli::ChartsArgs;

pub async fn main(args: ChartsArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("charts for {} are not built yet (issue 4)", args.results_dir.display())
}
