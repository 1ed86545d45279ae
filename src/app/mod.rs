//! Composition root: the one place that builds the runtime, spawns long-lived tasks and
//! wires channels. One file per command; each reads top to bottom as that command's wiring.

#![deny(missing_docs)]

mod attach;
mod charts;
mod compare;
mod console;
mod control;
mod env;
pub mod environment;
mod export;
mod health;
mod live_metrics;
mod profiles;
mod report;
mod run;
mod serve;
mod shell;
mod signals;
mod tui;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// A mistake in what the user asked for (bad profile, bad flag value): exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Whether an error is the user's to fix (exit code 2) rather than a failure of the run
/// or the environment (exit code 1): anywhere in its chain, a [`UsageError`], a profile
/// error, or a run refused for its output folder, TLS files, fault or distributed settings.
pub fn is_usage_error(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.is::<UsageError>()
            || e.is::<crate::profile::ProfileError>()
            || matches!(
                e.downcast_ref(),
                Some(
                    crate::experiment::RunError::OutputFolder { .. }
                        | crate::experiment::RunError::Tls(_)
                        | crate::experiment::RunError::Faults(_)
                        | crate::experiment::RunError::Distributed(_)
                )
            )
    })
}

/// `terrafix-tui worker`: exit 0 when the coordinator ended the run, 1 on a setup failure.
async fn worker(args: crate::cli::WorkerArgs) -> anyhow::Result<ExitCode> {
    let who = crate::cluster::worker::WorkerIdentity {
        redis_url: args.redis_url,
        run_id: args.run_id,
        slot: args.slot,
        task_id: args.task_id,
    };
    match crate::cluster::worker::run(who).await {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(message) => {
            eprintln!("worker: {message}");
            Ok(ExitCode::from(1))
        }
    }
}

/// The error and its causes in one line, each cause once: many of our errors already
/// quote their source in their own message (so it reads right on its own, in the TUI or a
/// log), and printing the chain as well would say the OS error twice.
pub fn error_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// Runs what the command line asks for on a new multi-threaded runtime: the TUI without a
/// subcommand, otherwise the subcommand. Returns the process's exit code; an `Err` is
/// printed by the binary (exit 2 when [`is_usage_error`] says so, else 1).
pub fn main(cli: Cli) -> anyhow::Result<ExitCode> {
    crate::engine::tls::install_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        None => tui::main(&runtime, cli.profiles),
        Some(Command::Attach(args)) => attach::main(&runtime, args),
        Some(command) => {
            // A headless run embeds the mock: its per-request logging would drown the progress lines.
            let default_filter = match command {
                Command::Run(_) => "warn",
                // A health check prints one line on failure, nothing else.
                Command::Health(_) => "error",
                // Their stdout is a script or a page; nothing else belongs on the terminal.
                Command::Completions(_) | Command::Man(_) => "error",
                _ => "info,hyper=warn,bollard=warn",
            };
            init_stderr_logging(default_filter);
            runtime.block_on(async move {
                match command {
                    Command::Run(args) => run::main(args, cli.profiles).await,
                    Command::Serve(args) => serve::main(args).await,
                    Command::Env(args) => env::main(args).await,
                    Command::Health(args) => health::main(args).await,
                    Command::Charts(args) => charts::main(args).await,
                    Command::Export(args) => export::main(args).await,
                    Command::Compare(args) => compare::main(args).await,
                    Command::Report(args) => report::main(args).await,
                    Command::Worker(args) => worker(args).await,
                    // Taken by the arm above: attach runs the terminal UI outside this block.
                    Command::Attach(_) => Err(anyhow::anyhow!("attach runs outside the headless commands")),
                    Command::Profiles(args) => profiles::main(args, cli.profiles),
                    Command::Completions(args) => shell::completions(args),
                    Command::Man(args) => shell::man(args),
                }
            })
        }
    }
}

/// Headless commands log to stderr; `RUST_LOG` (or the seed's `LOG_LEVEL`) overrides the default level.
fn init_stderr_logging(default_filter: &str) {
    let filter = environment::log_filter(default_filter);
    // Fails only when a subscriber is already set (tests calling twice): logs go there then.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
