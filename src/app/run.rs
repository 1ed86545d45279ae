//! `terrafix-tui run`: a headless experiment with a progress line and a final table.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::RunArgs;

pub async fn main(args: RunArgs, _profiles_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    anyhow::bail!("run {} is not built yet (issue 3)", args.profile)
}
