//! `terrafix-tui serve`: the mock TerraFix API until SIGINT/SIGTERM.

use std::process::ExitCode;

use crate::cli::ServeArgs;

pub async fn main(args: ServeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("serve on {}:{} is not built yet (issue 2)", args.bind, args.port)
}
