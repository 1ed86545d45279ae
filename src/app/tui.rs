//! The terminal UI's wiring: terminal setup/restore, the event loop, performing commands.

use std::path::PathBuf;
use std::process::ExitCode;

pub fn main(_runtime: &tokio::runtime::Runtime, _profiles_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    println!("The terminal UI is not built yet (issue 6). Try `terrafix-tui --help`.");
    Ok(ExitCode::SUCCESS)
}
