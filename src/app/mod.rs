//! Composition root: the one place that builds the runtime, spawns long-lived tasks and
//! wires channels. One file per command; each reads top to bottom as that command's wiring.

mod charts;
mod compare;
mod env;
mod profiles;
mod run;
mod serve;
mod tui;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// A mistake in what the user asked for (bad profile, bad flag value): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub fn is_usage_error(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.is::<UsageError>() || e.is::<crate::profile::ProfileError>())
}

pub fn main(cli: Cli) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        None => tui::main(&runtime, cli.profiles),
        Some(command) => {
            // A headless run embeds the mock: its per-request logging would drown the progress lines.
            let default_filter = match command {
                Command::Run(_) => "warn",
                _ => "info,hyper=warn,bollard=warn",
            };
            init_stderr_logging(default_filter);
            runtime.block_on(async move {
                match command {
                    Command::Run(args) => run::main(args, cli.profiles).await,
                    Command::Serve(args) => serve::main(args).await,
                    Command::Env(args) => env::main(args).await,
                    Command::Charts(args) => charts::main(args).await,
                    Command::Compare(args) => compare::main(args).await,
                    Command::Profiles(args) => profiles::main(args, cli.profiles),
                }
            })
        }
    }
}

/// Headless commands log to stderr; `RUST_LOG` overrides the default level.
fn init_stderr_logging(default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
