//! The terminal UI's wiring: logging to a file, terminal setup/restore, the event loop
//! (keys, background news, a 100 ms tick, SIGTERM/SIGHUP) and handing commands to `Worker`.
//! Draws at most ~10 times a second, only when something changed.

mod bridges;
mod detail;
mod news;
mod perform;
mod scan;
pub(super) mod terminal;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};

use crate::tui::{Action, AppState, Command, Theme, handle_key, update};
use perform::{Flow, RUN_STOP_GRACE, Worker};

/// Results root, relative to the working directory (as for headless `run`), unless
/// `TERRAFIX_OUTPUT_DIR` says otherwise.
const OUTPUT_ROOT: &str = "experiment_results";
const OUTPUT_ROOT_VAR: &str = "TERRAFIX_OUTPUT_DIR";
const LOG_FILE: &str = "terrafix-tui.log";
/// Shortest time between two draws (~10 frames a second at most).
const FRAME: Duration = Duration::from_millis(100);

pub fn main(runtime: &tokio::runtime::Runtime, profiles_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!(
            "terrafix-tui: the terminal UI needs a terminal (stdin/stdout are not one).\n\
             For a headless run use e.g. `terrafix-tui run smoke`; see `terrafix-tui --help`."
        );
        return Ok(ExitCode::from(2));
    }
    let output_root = std::env::var_os(OUTPUT_ROOT_VAR)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(OUTPUT_ROOT), PathBuf::from);
    let log_path = init_file_logging(&output_root)?;
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let state = AppState::new(Theme::new(color), output_root);

    terminal::install_panic_hook();
    let mut term = terminal::enter().context("cannot switch the terminal to full-screen mode")?;
    let outcome = runtime.block_on(event_loop(&mut term, state, profiles_dir));
    terminal::restore();
    let (worker, result) = match outcome {
        Ok((worker, result)) => (Some(worker), result),
        Err(err) => (None, Err(err)),
    };
    if let Some(worker) = worker {
        runtime.block_on(worker.shutdown());
    }
    if let Err(err) = &result {
        tracing::error!("the terminal UI stopped: {err:#}");
        eprintln!("(log: {})", log_path.display());
    }
    result.map(|()| ExitCode::SUCCESS)
}

/// Appends tracing output to `<results>/terrafix-tui.log`; the screen is never a log.
fn init_file_logging(output_root: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(output_root)
        .with_context(|| format!("cannot create the results folder {}", output_root.display()))?;
    let path = output_root.join(LOG_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot open the log file {}", path.display()))?;
    let filter = super::environment::log_filter("info,hyper=warn,bollard=warn,reqwest=warn");
    // Fails only when a subscriber is already set (tests calling twice): logs go there then.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
    tracing::info!("terminal UI started");
    Ok(path)
}

type LoopOutcome = anyhow::Result<(Worker, anyhow::Result<()>)>;

async fn event_loop(
    term: &mut terminal::Term,
    mut state: AppState,
    profiles_dir: Option<PathBuf>,
) -> LoopOutcome {
    let (tx, mut news) = news::News::channel();
    let mut worker = Worker::new(tx, profiles_dir, state.output_root.clone());
    state.profiles.loading = true;
    worker.perform(Command::LoadProfiles);

    let mut keys = EventStream::new();
    let mut ticker = tokio::time::interval(FRAME);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut sigterm = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut sighup = signal(SignalKind::hangup()).context("cannot watch SIGHUP")?;
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;
    let mut quit_deadline: Option<Instant> = None;

    let result = loop {
        let action = tokio::select! {
            key = keys.next() => match key {
                Some(Ok(TermEvent::Key(key))) => { dirty = true; handle_key(&state, key) }
                Some(Ok(TermEvent::Resize(..))) => { dirty = true; None }
                Some(Ok(_)) => None,
                Some(Err(err)) => break Err(anyhow::Error::new(err).context("reading the terminal")),
                None => break Ok(()),
            },
            Some(action) = news.recv() => { dirty = true; Some(action) }
            _ = ticker.tick() => {
                if let Some(snapshot) = worker.latest_snapshot() {
                    update(&mut state, Action::Snapshot(Box::new(snapshot)));
                    dirty = true;
                }
                dirty |= state.is_busy();
                Some(Action::Tick)
            }
            _ = sigterm.recv() => { tracing::info!("SIGTERM: leaving"); break Ok(()) }
            _ = sighup.recv() => { tracing::info!("SIGHUP: leaving"); break Ok(()) }
        };
        if let Some(action) = action
            && let Some(command) = update(&mut state, action)
        {
            dirty = true;
            if worker.perform(command) == Flow::Quit {
                break Ok(());
            }
        }
        if state.quitting {
            let deadline = *quit_deadline.get_or_insert_with(|| Instant::now() + RUN_STOP_GRACE);
            if Instant::now() >= deadline {
                tracing::warn!("the run did not stop in time; quitting anyway");
                break Ok(());
            }
        }
        if dirty && last_draw.is_none_or(|at| at.elapsed() >= FRAME) {
            if let Err(err) = term.draw(|frame| frame.render_widget(&state, frame.area())) {
                break Err(anyhow::Error::new(err).context("drawing the screen"));
            }
            dirty = false;
            last_draw = Some(Instant::now());
        }
    };
    Ok((worker, result))
}
