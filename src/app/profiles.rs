//! `terrafix-tui profiles list|show|validate`.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::ProfilesArgs;

pub fn main(args: ProfilesArgs, _profiles_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    anyhow::bail!("profiles {:?} is not built yet (issue 3)", args.action)
}
