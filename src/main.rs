//! Entry point: parse the command line, hand over to `app`, turn errors into exit codes.

use std::process::ExitCode;

use clap::Parser;
use terrafix_tui::{app, cli::Cli};

/// mimalloc instead of glibc malloc: the server and the generator allocate small buffers per
/// request, and glibc's free lists showed up at ~7 % of the mock server's CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Before parsing: clap reads the environment, which `.env` and the seed's names fill in.
    let warnings = app::environment::prepare();
    let cli = Cli::parse();
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    match app::main(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", app::error_text(&err));
            if app::is_usage_error(&err) { ExitCode::from(2) } else { ExitCode::from(1) }
        }
    }
}
