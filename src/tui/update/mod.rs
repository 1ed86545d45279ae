//! `update(&mut state, action) -> Option<Command>`: the only place state changes. Screen-
//! specific handling lives in one file per screen; this file routes and does what is global.

mod env;
mod explore;
mod export;
mod profiles;
mod quick;
mod results;
mod run;

use super::action::{Action, Command, DockerOp};
use super::env_state::DockerAvail;
use super::state::{AppState, ChartsState, Flash, Overlay, Screen};

/// Ticks between Docker status polls while the Environment screen is shown (100 ms each).
const POLL_TICKS: u32 = 20;

/// Applies one action to the state and returns the work it asks of `app`, if any. Pure: no I/O, no clock; the same state and action give the same result.
pub fn update(state: &mut AppState, action: Action) -> Option<Command> {
    // The next key takes a message away (an error stays until Esc dismisses it).
    if !action.is_news() && state.flash.as_ref().is_some_and(|f| !f.is_error && !f.stays) {
        state.flash = None;
    }
    match action {
        Action::Tick => tick(state),
        Action::ForceQuit => force_quit(state),
        Action::Help => {
            state.overlay = Some(Overlay::Help);
            None
        }
        Action::Show(screen) => show(state, screen),
        Action::NextScreen => show(state, state.screen.next()),
        Action::PrevScreen => show(state, state.screen.prev()),
        Action::Back => back(state),
        Action::Dismiss => dismiss(state),
        Action::Confirm => confirm(state),
        Action::ProfilesLoaded(items) => profiles::loaded(state, items),
        Action::RunEvent(event) => run::event(state, *event),
        Action::Snapshot(snapshot) => run::snapshot(state, *snapshot),
        Action::RunEnded(result) => run::ended(state, result),
        Action::ChartsRendered(outcome) => charts_rendered(state, outcome),
        Action::ResultsLoaded(result) => results::loaded(state, result),
        Action::ExportWritten(path) => export::written(state, path),
        Action::ExportFinished(result) => export::finished(state, result),
        Action::BundleFinished { run_id, result } => export::bundled(state, run_id, result),
        Action::CompareDone { left, right, result } => results::compared(state, left, right, result),
        Action::RunDetailLoaded { run_id, result } => explore::loaded(state, run_id, result),
        Action::DockerConnected(_)
        | Action::DockerStatus(_)
        | Action::DockerDone(_)
        | Action::DockerProgress(_)
        | Action::LogLine(_)
        | Action::LogsEnded(_)
        | Action::ConfigureReply(_)
        | Action::HealthReply(_)
        | Action::EnvApiUp(_) => env::news(state, action),
        Action::OpenFailed(reason) => flash_error(state, reason),
        Action::StreamEnded(why) => run::stream_ended(state, why),
        Action::ProfileWritten(result) => quick::written(state, result),
        other => match state.screen {
            Screen::Profiles => profiles::key(state, other),
            Screen::Environment => env::key(state, other),
            Screen::Run => run::key(state, other),
            Screen::Results => results::key(state, other),
        },
    }
}

pub(super) fn flash(state: &mut AppState, text: impl Into<String>) -> Option<Command> {
    state.flash = Some(Flash { text: text.into(), is_error: false, stays: false, age_ticks: 0 });
    None
}

pub(super) fn flash_error(state: &mut AppState, text: impl Into<String>) -> Option<Command> {
    state.flash = Some(Flash { text: text.into(), is_error: true, stays: false, age_ticks: 0 });
    None
}

/// A message in normal style that stays until Esc dismisses it (or another replaces it).
pub(super) fn notice(state: &mut AppState, text: impl Into<String>) -> Option<Command> {
    state.flash = Some(Flash { text: text.into(), is_error: false, stays: true, age_ticks: 0 });
    None
}

/// Moves a list cursor by `delta`, clamped to the list.
pub(super) fn step(index: &mut usize, len: usize, delta: isize) {
    if len == 0 {
        *index = 0;
        return;
    }
    let target = (*index as isize + delta).clamp(0, len as isize - 1);
    *index = target as usize;
}

/// Rows a page key moves.
pub(super) const PAGE: isize = 10;

fn tick(state: &mut AppState) -> Option<Command> {
    if let Some(flash) = state.flash.as_mut().filter(|f| !f.is_error && !f.stays) {
        flash.age_ticks += 1;
        if flash.age_ticks >= super::state::FLASH_TICKS {
            state.flash = None;
        }
    }
    if state.is_busy() {
        state.spinner_frame = state.spinner_frame.wrapping_add(1);
    }
    let env = &mut state.env;
    if state.screen == Screen::Environment && env.docker == DockerAvail::Available && env.busy.is_none() {
        env.ticks_since_poll += 1;
        if env.ticks_since_poll >= POLL_TICKS {
            env.ticks_since_poll = 0;
            return Some(Command::Docker(DockerOp::Status));
        }
    }
    None
}

fn show(state: &mut AppState, screen: Screen) -> Option<Command> {
    state.screen = screen;
    match screen {
        Screen::Environment => env::entered(state),
        Screen::Results => {
            state.results.loading = true;
            Some(Command::LoadResults)
        }
        Screen::Profiles | Screen::Run => None,
    }
}

/// Asks to leave: at once when idle, after a confirmation while a run is active.
fn request_quit(state: &mut AppState) -> Option<Command> {
    if state.run.is_active() || state.env.busy.is_some() {
        state.overlay = Some(Overlay::ConfirmQuit);
        None
    } else {
        state.quitting = true;
        Some(Command::Quit)
    }
}

fn force_quit(state: &mut AppState) -> Option<Command> {
    if state.run.is_active() && !state.quitting {
        state.quitting = true;
        state.overlay = None;
        state.run.phase = super::state::RunPhase::Stopping;
        flash(state, "stopping the run and writing its partial results… (Ctrl-C again quits at once)");
        Some(Command::AbortRun)
    } else {
        state.quitting = true;
        Some(Command::Quit)
    }
}

/// `q`: close the innermost open thing on this screen, or quit.
fn back(state: &mut AppState) -> Option<Command> {
    if state.overlay.take().is_some() {
        return None;
    }
    let closed = match state.screen {
        Screen::Profiles => profiles::back(state),
        Screen::Environment => env::back(state),
        Screen::Results => results::back(state),
        Screen::Run => run::back(state),
    };
    match closed {
        Some(command) => command,
        None => request_quit(state),
    }
}

/// Esc: like `q`, but never quits; with nothing open it dismisses an error message.
fn dismiss(state: &mut AppState) -> Option<Command> {
    if state.overlay.take().is_some() {
        return None;
    }
    let closed = match state.screen {
        Screen::Profiles => profiles::back(state),
        Screen::Environment => env::back(state),
        Screen::Results => results::back(state),
        Screen::Run => run::back(state),
    };
    match closed {
        Some(command) => command,
        None => {
            state.flash = None;
            None
        }
    }
}

fn confirm(state: &mut AppState) -> Option<Command> {
    match state.overlay.take() {
        Some(Overlay::ConfirmQuit) => {
            state.quitting = true;
            if state.run.is_active() {
                state.run.phase = super::state::RunPhase::Stopping;
                flash(state, "stopping the run and writing its partial results, then quitting…");
                Some(Command::AbortRun)
            } else {
                Some(Command::Quit)
            }
        }
        Some(Overlay::ConfirmStart { .. }) => match state.profiles.pending_start.take()? {
            super::state::PendingStart::Profile(request) => profiles::launch(state, request),
            super::state::PendingStart::Quick(start) => quick::launch(state, start),
        },
        Some(Overlay::ConfirmAbort) if state.run.is_active() => {
            state.run.phase = super::state::RunPhase::Stopping;
            flash(state, "aborting: in-flight requests finish, then the partial results are written");
            Some(Command::AbortRun)
        }
        _ => None,
    }
}

fn charts_rendered(state: &mut AppState, outcome: ChartsState) -> Option<Command> {
    let dir = match &outcome {
        ChartsState::Done { dir, .. } | ChartsState::Failed { dir, .. } => dir.clone(),
        ChartsState::NotStarted | ChartsState::Rendering { .. } => return None,
    };
    match &outcome {
        ChartsState::Done { charts, .. } => {
            flash(state, format!("{} charts written to {}", charts.len(), dir.join("charts").display()))
        }
        ChartsState::Failed { error, .. } => {
            flash_error(state, format!("charts for {}: {error}", dir.display()))
        }
        _ => None,
    };
    if matches!(&state.run.charts, ChartsState::Rendering { dir: d } if *d == dir) {
        state.run.charts = outcome.clone();
    }
    if let Some((_, export)) = &mut state.results.export
        && matches!(export, ChartsState::Rendering { dir: d } if *d == dir)
    {
        *export = outcome;
    }
    state.results.loading = true;
    Some(Command::LoadResults)
}
