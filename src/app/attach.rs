//! `terrafix-tui attach URL`: the TUI's Run screen on a run started elsewhere with
//! `run --control`. The control API's event stream feeds the screen (the same actions the
//! local TUI gets); the steering keys, skip and abort become API calls; `q` (or Ctrl-C)
//! detaches and leaves the run going.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use tokio::sync::mpsc;

use super::tui::terminal;
use crate::cli::AttachArgs;
use crate::control::AttachClient;
use crate::control::wire::LoadChange;
use crate::engine::Steer;
use crate::profile::Secret;
use crate::tui::run_state::{ChartsState, RunPhase};
use crate::tui::state::Screen;
use crate::tui::{Action, AppState, Command, Theme, handle_key, update};

/// Shortest time between two draws, as in the local TUI.
const FRAME: Duration = Duration::from_millis(100);

pub fn main(runtime: &tokio::runtime::Runtime, args: AttachArgs) -> anyhow::Result<ExitCode> {
    let token = args.token.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(Secret::new);
    let client = match AttachClient::new(&args.url, token) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("terrafix-tui attach: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!(
            "terrafix-tui attach: the Run screen needs a terminal (stdin/stdout are not one); use the API directly, e.g. curl {}v1/run",
            client.base()
        );
        return Ok(ExitCode::from(2));
    }
    // Reachable and the token taken, before the screen is switched.
    if let Err(e) = runtime.block_on(client.status()) {
        eprintln!("terrafix-tui attach: {e}");
        return Ok(ExitCode::from(1));
    }
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut state = AppState::new(Theme::new(color), std::path::PathBuf::from("."));
    state.screen = Screen::Run;
    state.attached = true;
    state.run.phase = RunPhase::Running;
    state.run.profile = format!("attached to {}", client.base());
    state.run.target = client.base().to_string();

    terminal::install_panic_hook();
    let mut term = terminal::enter().context("cannot switch the terminal to full-screen mode")?;
    let outcome = runtime.block_on(event_loop(&mut term, state, client));
    terminal::restore();
    match outcome {
        Ok(text) => {
            eprintln!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(e),
    }
}

/// Reads the event stream into actions until it ends; says why it ended last, on the same
/// channel, so the screen has taken `run_finished` in before it hears of the end.
async fn follow(client: AttachClient, news: mpsc::Sender<Action>) {
    let why = match client.events().await {
        Err(e) => e.to_string(),
        Ok(mut reader) => loop {
            match reader.next().await {
                Ok(Some(event)) => {
                    let action = match event.into_event() {
                        Ok(event) => Action::RunEvent(Box::new(event)),
                        Err(snapshot) => Action::Snapshot(snapshot),
                    };
                    if news.send(action).await.is_err() {
                        return;
                    }
                }
                Ok(None) => {
                    break "the run's control API closed the event stream (the run is over)".to_string();
                }
                Err(e) => break e.to_string(),
            }
        },
    };
    // The screen may be gone already: then nobody needs to know.
    let _ = news.send(Action::StreamEnded(why)).await;
}

/// A key that leaves: `q` with nothing open to close, or Ctrl-C.
fn detaches(state: &AppState, action: &Action) -> bool {
    match action {
        Action::ForceQuit => true,
        Action::Back => state.overlay.is_none() && state.run.steer_input.is_none(),
        _ => false,
    }
}

async fn event_loop(
    term: &mut terminal::Term,
    mut state: AppState,
    client: AttachClient,
) -> anyhow::Result<String> {
    let (news_tx, mut news) = mpsc::channel(256);
    let (replies_tx, mut replies) = mpsc::channel(16);
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(follow(client.clone(), news_tx));
    let mut keys = EventStream::new();
    let mut ticker = tokio::time::interval(FRAME);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_draw: Option<Instant> = None;
    let mut dirty = true;
    let farewell = loop {
        let action = tokio::select! {
            key = keys.next() => match key {
                Some(Ok(TermEvent::Key(key))) => { dirty = true; handle_key(&state, key) }
                Some(Ok(TermEvent::Resize(..))) => { dirty = true; None }
                Some(Ok(_)) => None,
                Some(Err(e)) => break Err(anyhow::Error::new(e).context("reading the terminal")),
                None => break Ok(format!("detached from {}; the run goes on", client.base())),
            },
            Some(action) = news.recv() => { dirty = true; Some(action) }
            Some(reply) = replies.recv() => { dirty = true; Some(reply) }
            _ = ticker.tick() => { dirty |= state.is_busy(); Some(Action::Tick) }
        };
        if let Some(action) = action {
            if detaches(&state, &action) {
                break Ok(format!("detached from {}; the run goes on", client.base()));
            }
            if let Some(command) = update(&mut state, action) {
                perform(&mut state, command, &client, &replies_tx, &mut tasks);
            }
        }
        if dirty && last_draw.is_none_or(|at| at.elapsed() >= FRAME) {
            if let Err(e) = term.draw(|frame| frame.render_widget(&state, frame.area())) {
                break Err(anyhow::Error::new(e).context("drawing the screen"));
            }
            dirty = false;
            last_draw = Some(Instant::now());
        }
    };
    // The stream reader and calls in flight end with the screen; the run is not theirs.
    tasks.abort_all();
    farewell
}

/// Carries out what the Run screen asked: steering, skip and abort go to the API; the
/// rest (charts, files) belongs to the machine that runs the experiment.
fn perform(
    state: &mut AppState,
    command: Command,
    client: &AttachClient,
    replies: &mpsc::Sender<Action>,
    tasks: &mut tokio::task::JoinSet<()>,
) {
    let client = client.clone();
    let replies = replies.clone();
    match command {
        Command::Steer(steer) => {
            tasks.spawn(async move {
                let answer = match steer {
                    Steer::Users(n) => {
                        client.change_load(&LoadChange { users: Some(n), arrival_rate: None }).await
                    }
                    Steer::ArrivalRate(r) => {
                        client.change_load(&LoadChange { users: None, arrival_rate: Some(r) }).await
                    }
                    Steer::Extend(d) => client.extend(d).await,
                };
                report(&replies, answer).await;
            });
        }
        Command::SkipPhase => {
            tasks.spawn(async move { report(&replies, client.skip().await).await });
        }
        Command::AbortRun => {
            tasks.spawn(async move { report(&replies, client.abort().await).await });
        }
        Command::RenderCharts(dir) => {
            state.run.charts = ChartsState::Failed {
                dir,
                error: "charts are rendered on the machine that ran the experiment".into(),
            };
        }
        _ => {}
    }
}

/// A refused call shows as the screen's error line (the flash the TUI uses for failures).
async fn report(replies: &mpsc::Sender<Action>, answer: Result<String, crate::control::ClientError>) {
    if let Err(e) = answer {
        // The screen may be gone already: then nobody needs to know.
        let _ = replies.send(Action::OpenFailed(e.to_string())).await;
    }
}
