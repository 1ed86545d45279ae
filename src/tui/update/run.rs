//! Run screen: run events and snapshots into state; skip, abort, pause the view.

use std::path::PathBuf;

use super::{flash, flash_error};
use crate::experiment::Event;
use crate::metrics::Snapshot;
use crate::tui::action::{Action, Command};
use crate::tui::run_state::{ChangeMarker, ChartsState, PauseInfo, RECENT_CAP};
use crate::tui::state::{AppState, Overlay, RunPhase, push_bounded};

pub(super) fn key(state: &mut AppState, action: Action) -> Option<Command> {
    match action {
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
            state.env.form.url = target_url.trim_end_matches('/').to_string();
            run.target_url = Some(target_url);
            run.plan = phases;
        }
        Event::Environment(message) => push_bounded(&mut run.messages, message, RECENT_CAP),
        Event::PhaseStarted { index, name, planned } => {
            run.current_phase = Some(index);
            run.pause = None;
            let line =
                format!("phase {}: {name} ({})", index + 1, crate::tui::format::secs(planned.as_secs_f64()));
            push_bounded(&mut run.messages, line, RECENT_CAP);
        }
        Event::Pause { next_phase, duration } => {
            let since_run_s = run.snapshot.as_ref().map_or(0.0, |s| s.run_elapsed_s);
            run.pause = Some(PauseInfo { next_phase, duration_s: duration.as_secs_f64(), since_run_s });
        }
        Event::PhaseFinished { summary, .. } => run.finished_phases.push(*summary),
        Event::PhaseChanged { change, planned, index } => {
            // The phase's start on the run's clock, from the latest snapshot of that phase.
            let phase_start_s = run
                .snapshot
                .as_ref()
                .filter(|s| s.phase_index == index)
                .map_or(0.0, |s| s.run_elapsed_s - s.phase_elapsed_s);
            if let Some(plan) = run.plan.get_mut(index) {
                plan.planned = planned;
            }
            push_bounded(&mut run.messages, format!("changed: {}", change.describe()), RECENT_CAP);
            run.changes.push(ChangeMarker { run_s: phase_start_s + change.at_s, change });
        }
        Event::RequestError(message) => push_bounded(&mut run.errors, message, RECENT_CAP),
        Event::Resource(sample) => {
            let entry = (sample.service.clone(), sample.cpu_percent, sample.memory_bytes);
            match run.resources.iter_mut().find(|(name, ..)| *name == sample.service) {
                Some(slot) => *slot = entry,
                None => run.resources.push(entry),
            }
        }
        Event::Warning(message) => {
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

/// `experiment::run` returned. Quits now if the user was waiting to leave.
pub(super) fn ended(state: &mut AppState, result: Result<PathBuf, String>) -> Option<Command> {
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
