//! Run screen: run events and snapshots into state; skip, abort, pause the view; live
//! steering (users or arrival rate by a step or typed, extending the phase, resetting the
//! live statistics).

use std::path::PathBuf;

use super::{flash, flash_error, notice};
use crate::engine::Steer;
use crate::experiment::Event;
use crate::experiment::PlanLoad;
use crate::metrics::Snapshot;
use crate::tui::action::{Action, Command};
use crate::tui::edit::{Caret, EditOutcome, edit_text};
use crate::tui::env_state::EnvTarget;
use crate::tui::format;
use crate::tui::run_state::{
    ChangeMarker, ChartsState, PauseInfo, RECENT_CAP, SteerField, SteerInput, SteerTarget,
};
use crate::tui::state::{AppState, Overlay, RunPhase, push_bounded};

/// Closes the steering input line, if open.
pub(super) fn back(state: &mut AppState) -> Option<Option<Command>> {
    state.run.steer_input.take().map(|_| None)
}

pub(super) fn key(state: &mut AppState, action: Action) -> Option<Command> {
    if state.run.steer_input.is_some() {
        return typing(state, action);
    }
    match action {
        Action::SteerUp => step_load(state, 1.0),
        Action::SteerDown => step_load(state, -1.0),
        Action::SteerType => {
            let target = steerable(state)?;
            let now = current_aim(state, target);
            state.run.steer_input = Some(SteerInput {
                field: SteerField::Load,
                text: format::real(now),
                caret: Caret::prefilled(),
                error: None,
            });
            None
        }
        Action::ExtendPhase => {
            steerable(state)?;
            state.run.steer_input = Some(SteerInput {
                field: SteerField::Extend,
                text: "30s".into(),
                caret: Caret::prefilled(),
                error: None,
            });
            None
        }
        Action::ResetStats => {
            if !state.run.is_active() {
                return flash_error(state, "no run is active: nothing to reset");
            }
            let at = state.run.snapshot.as_ref().map_or(0.0, |s| s.run_elapsed_s);
            state.run.resets.push(at);
            push_bounded(
                &mut state.run.messages,
                "live statistics reset (files keep everything)".into(),
                RECENT_CAP,
            );
            flash(state, "live statistics reset from now on; the files keep everything");
            Some(Command::ResetStats)
        }
        Action::SkipPhase => match state.run.phase {
            RunPhase::Running => {
                let what = match (&state.run.pause, &state.run.snapshot) {
                    (Some(pause), _) => format!("skipping the pause before {}", pause.next_phase),
                    (None, Some(snap)) => format!("skipping the rest of {}", snap.phase_name),
                    (None, None) => "skipping the current phase".to_string(),
                };
                flash(state, what);
                Some(Command::SkipPhase)
            }
            _ => flash_error(state, "no phase is running"),
        },
        Action::AbortRun => {
            if matches!(state.run.phase, RunPhase::Starting | RunPhase::Running) {
                state.overlay = Some(Overlay::ConfirmAbort);
                None
            } else {
                flash_error(state, "no run to abort")
            }
        }
        Action::ToggleLatencyScale => {
            state.run.latency_log = !state.run.latency_log;
            let text = if state.run.latency_log {
                "latency axis: log (L again: linear, unless a phase spans more than 100×)"
            } else {
                "latency axis: linear (log only while a phase spans more than 100×)"
            };
            flash(state, text)
        }
        Action::TogglePauseView => {
            let run = &mut state.run;
            if run.frozen.take().is_none() {
                run.frozen = Some((run.series.len(), run.snapshot.clone()));
                flash(state, "view paused — the run goes on; p resumes")
            } else {
                flash(state, "view resumed")
            }
        }
        _ => None,
    }
}

/// The running phase's aim, or a message saying why nothing can be steered now.
fn steerable(state: &mut AppState) -> Option<SteerTarget> {
    let reason = match (&state.run.phase, &state.run.pause, state.run.steer_target) {
        (RunPhase::Running, None, Some(target)) => return Some(target),
        (RunPhase::Running, Some(_), _) => "between phases: steering applies to a running phase",
        (RunPhase::Running, None, None) => "this phase cannot be steered (a capacity search step)",
        _ => "no phase is running",
    };
    flash_error(state, reason);
    None
}

fn current_aim(state: &AppState, target: SteerTarget) -> f64 {
    let (elapsed, planned) =
        state.run.snapshot.as_ref().map_or((0.0, 1.0), |s| (s.phase_elapsed_s, s.phase_planned_s));
    target.now(elapsed, planned)
}

/// `+` / `-`: ±10 % of the current aim, at least one user or one request per second.
fn step_load(state: &mut AppState, sign: f64) -> Option<Command> {
    let target = steerable(state)?;
    let now = current_aim(state, target);
    let step = (now * 0.1).round().max(1.0);
    match target {
        SteerTarget::Users(n) => {
            let next = (f64::from(n) + sign * step).max(1.0) as u32;
            if next == n {
                return flash_error(state, "a phase needs at least one user");
            }
            ask(state, Steer::Users(next), format!("users {next} (was {n})"))
        }
        SteerTarget::Rate { .. } => {
            let next = now + sign * step;
            if next < 1.0 {
                return flash_error(
                    state,
                    "the arrival rate is at its lowest step (1 req/s); type a lower one with u",
                );
            }
            let next = next.round();
            ask(
                state,
                Steer::ArrivalRate(next),
                format!("arrival rate {next} req/s (was {} req/s)", format::real(now)),
            )
        }
    }
}

/// Echoes the value with its unit and what it replaces ("users 8 (was 5)") in the status
/// line and the events, before the change is asked for, so a mistyped value is seen.
fn ask(state: &mut AppState, steer: Steer, what: String) -> Option<Command> {
    push_bounded(&mut state.run.messages, format!("asking for {what}"), RECENT_CAP);
    flash(state, format!("asking for {what}"));
    Some(Command::Steer(steer))
}

/// A user count, a rate or a duration: 16 characters hold any of them with room to spare.
const STEER_INPUT_CHARS: usize = 16;

/// Keys while the steering input line is open.
fn typing(state: &mut AppState, action: Action) -> Option<Command> {
    let input = state.run.steer_input.as_mut()?;
    match edit_text(&mut input.text, &mut input.caret, &action, STEER_INPUT_CHARS) {
        // The error shown was about the text before this edit; a refused key changed nothing.
        EditOutcome::Typed | EditOutcome::Erased => {
            input.error = None;
            None
        }
        EditOutcome::Moved | EditOutcome::Refused | EditOutcome::Other => None,
        EditOutcome::Enter => {
            let field = input.field;
            let text = input.text.trim().to_string();
            let was = match (field, state.run.steer_target) {
                (SteerField::Load, Some(target)) => Some(current_aim(state, target)),
                _ => None,
            };
            let remaining =
                state.run.snapshot.as_ref().map(|s| (s.phase_planned_s - s.phase_elapsed_s).max(0.0));
            let parsed = parse_input(field, &text, state.run.steer_target, was, remaining);
            match parsed {
                Ok((steer, what)) => {
                    state.run.steer_input = None;
                    ask(state, steer, what)
                }
                Err(reason) => {
                    if let Some(input) = state.run.steer_input.as_mut() {
                        input.error = Some(reason);
                    }
                    None
                }
            }
        }
    }
}

/// What the typed text asks for, or why it cannot be done.
/// `was` is the aim before the change and `remaining_s` what is left of the phase, for the
/// echo ("users 8 (was 5)", "extend by 30s (1m12s left)").
fn parse_input(
    field: SteerField,
    text: &str,
    target: Option<SteerTarget>,
    was: Option<f64>,
    remaining_s: Option<f64>,
) -> Result<(Steer, String), String> {
    match (field, target) {
        (SteerField::Extend, _) => {
            let d = crate::profile::parse_duration(text)?;
            if d.is_zero() {
                return Err("extend by more than zero, e.g. 30s".into());
            }
            let left = remaining_s.map(|s| format!(" ({} left)", format::secs(s))).unwrap_or_default();
            Ok((Steer::Extend(d), format!("extend by {}{left}", crate::profile::format_duration(d))))
        }
        (SteerField::Load, Some(SteerTarget::Users(_))) => match text.parse::<u32>() {
            Ok(0) => Err("a phase needs at least one user".into()),
            Ok(n) => {
                let was = was.map(|w| format!(" (was {})", format::real(w))).unwrap_or_default();
                Ok((Steer::Users(n), format!("users {n}{was}")))
            }
            Err(_) => Err(format!("{text:?} is not a whole number of users")),
        },
        (SteerField::Load, Some(SteerTarget::Rate { .. })) => match text.parse::<f64>() {
            Ok(r) if r.is_finite() && r > 0.0 => {
                let was = was.map(|w| format!(" (was {} req/s)", format::real(w))).unwrap_or_default();
                Ok((Steer::ArrivalRate(r), format!("arrival rate {r} req/s{was}")))
            }
            _ => Err(format!("{text:?}: write requests per second above zero, e.g. 150")),
        },
        (SteerField::Load, None) => Err("no phase is running".into()),
    }
}

/// Phase `index`'s start on the run's clock, from the latest snapshot of that phase.
fn phase_start_s(run: &crate::tui::run_state::RunState, index: usize) -> f64 {
    run.snapshot
        .as_ref()
        .filter(|s| s.phase_index == index)
        .map_or(0.0, |s| s.run_elapsed_s - s.phase_elapsed_s)
}

pub(super) fn snapshot(state: &mut AppState, snapshot: Snapshot) -> Option<Command> {
    let run = &mut state.run;
    run.series.push(&snapshot);
    run.snapshot = Some(snapshot);
    None
}

pub(super) fn event(state: &mut AppState, event: Event) -> Option<Command> {
    let run = &mut state.run;
    match event {
        Event::RunStarted { run_id, dir, target_url, phases } => {
            run.phase = if run.phase == RunPhase::Stopping { RunPhase::Stopping } else { RunPhase::Running };
            push_bounded(&mut run.messages, format!("run {run_id} → {}", dir.display()), RECENT_CAP);
            run.run_id = Some(run_id);
            run.dir = Some(dir);
            run.plan = phases;
            // The Environment screen follows the run's target while it runs.
            let followed = match run.target.as_str() {
                "embedded" => EnvTarget::Embedded { running: true },
                "docker" => EnvTarget::Docker,
                _ => EnvTarget::Url,
            };
            run.target_url = Some(target_url.clone());
            return super::env::follow(state, followed, Some(&target_url));
        }
        Event::Environment(message) => push_bounded(&mut run.messages, message, RECENT_CAP),
        Event::PhaseStarted { index, name, planned } => {
            run.current_phase = Some(index);
            run.pause = None;
            run.steer_target = run.plan.get(index).map(|p| match p.load {
                PlanLoad::Users { users, .. } => SteerTarget::Users(users),
                PlanLoad::Rate { from, to } => SteerTarget::Rate { from, to },
            });
            let line =
                format!("phase {}: {name} ({})", index + 1, crate::tui::format::secs(planned.as_secs_f64()));
            push_bounded(&mut run.messages, line, RECENT_CAP);
        }
        Event::Pause { next_phase, duration } => {
            let since_run_s = run.snapshot.as_ref().map_or(0.0, |s| s.run_elapsed_s);
            run.pause = Some(PauseInfo { next_phase, duration_s: duration.as_secs_f64(), since_run_s });
        }
        Event::PhaseFinished { summary, .. } => {
            run.finished_phases.push(*summary);
            run.steer_target = None;
            run.steer_input = None;
        }
        Event::PhaseChanged { change, planned, index } => {
            let phase_start_s = phase_start_s(run, index);
            if let Some(plan) = run.plan.get_mut(index) {
                plan.planned = planned;
            }
            if run.current_phase == Some(index) {
                if let Some(users) = change.users {
                    run.steer_target = Some(SteerTarget::Users(users));
                }
                if let Some(rate) = change.arrival_rate {
                    run.steer_target = Some(SteerTarget::Rate { from: rate, to: rate });
                }
            }
            push_bounded(&mut run.messages, format!("changed: {}", change.describe()), RECENT_CAP);
            run.changes.push(ChangeMarker { run_s: phase_start_s + change.at_s, change });
        }
        Event::FaultStarted { index, description, at_s } => {
            let run_s = phase_start_s(run, index) + at_s;
            push_bounded(&mut run.messages, format!("fault: {description}"), RECENT_CAP);
            run.faults.push((run_s, None, description));
        }
        Event::FaultEnded { index, description, at_s } => {
            let run_s = phase_start_s(run, index) + at_s;
            push_bounded(&mut run.messages, format!("fault over: {description}"), RECENT_CAP);
            if let Some(open) = run.faults.iter_mut().rev().find(|f| f.1.is_none() && f.2 == description) {
                open.1 = Some(run_s);
            }
        }
        Event::RequestError(message) => {
            run.count_error(&message);
            push_bounded(&mut run.errors, message, RECENT_CAP);
        }
        Event::Resource(sample) => {
            let entry = (sample.service.clone(), sample.cpu_percent, sample.memory_bytes);
            match run.resources.iter_mut().find(|(name, ..)| *name == sample.service) {
                Some(slot) => *slot = entry,
                None => run.resources.push(entry),
            }
        }
        Event::Warning(message) => {
            run.count_error(&format!("warning: {message}"));
            push_bounded(&mut run.errors, format!("warning: {message}"), RECENT_CAP);
            push_bounded(&mut run.messages, format!("warning: {message}"), RECENT_CAP);
        }
        Event::RunFinished { summary, dir } => {
            run.summary = Some(summary);
            run.phase = RunPhase::Finished;
            run.pause = None;
            run.dir = Some(dir.clone());
            run.charts = ChartsState::Rendering { dir: dir.clone() };
            return Some(Command::RenderCharts(dir));
        }
    }
    None
}

/// `attach`: the run's event stream ended. After `run_finished` that is how a run ends (a
/// notice in normal style, with the verdict); before it, the run was lost from view.
pub(super) fn stream_ended(state: &mut AppState, why: String) -> Option<Command> {
    if state.run.phase == RunPhase::Finished {
        let verdict = match &state.run.summary {
            Some(s) if s.status == crate::metrics::summary::RunStatus::Aborted => "aborted",
            Some(s) if s.passed => "passed",
            Some(_) => "failed",
            None => "over",
        };
        return notice(state, format!("run finished: {verdict} (detached)"));
    }
    if state.run.is_active() {
        state.run.phase = RunPhase::Failed(why.clone());
    }
    flash_error(state, why)
}

/// `experiment::run` returned. Quits now if the user was waiting to leave.
pub(super) fn ended(state: &mut AppState, result: Result<PathBuf, String>) -> Option<Command> {
    if state.env.target == (EnvTarget::Embedded { running: true }) {
        // The embedded mock ended with its run: nothing is left to check.
        state.env.target = EnvTarget::Embedded { running: false };
        state.env.health = None;
    }
    if state.quitting {
        return Some(Command::Quit);
    }
    match result {
        Ok(dir) => {
            if state.run.phase != RunPhase::Finished {
                state.run.phase = RunPhase::Finished;
            }
            state.run.dir = Some(dir.clone());
            if state.run.charts == ChartsState::NotStarted {
                state.run.charts = ChartsState::Rendering { dir: dir.clone() };
                return Some(Command::RenderCharts(dir));
            }
            None
        }
        Err(reason) => {
            state.run.phase = RunPhase::Failed(reason.clone());
            flash_error(state, format!("the run stopped: {reason}"));
            state.results.loading = true;
            Some(Command::LoadResults)
        }
    }
}
