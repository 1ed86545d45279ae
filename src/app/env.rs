//! `terrafix-tui env up|down|status|logs`: the Docker environment.

use std::process::ExitCode;

use crate::cli::EnvArgs;

pub async fn main(args: EnvArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("env {:?} is not built yet (issue 5)", args.action)
}
