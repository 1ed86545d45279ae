//! The new-run form's keys: move, cycle choices, type, run (Enter) and write (`w`).

use super::{flash, flash_error};
use crate::profile::Load;
use crate::tui::action::{Action, Command, QuickStart};
use crate::tui::edit::{Caret, EditOutcome, edit_text};
use crate::tui::quick_form::{BehaviourChoice, QuickForm};
use crate::tui::state::{
    AppState, CONFIRM_RUNS_LONGER_THAN, Overlay, PendingStart, ProfileItem, RunPhase, RunState, Screen,
};

/// `n`: opens the form, offering the built-in behaviours and those of the loaded profiles.
pub(super) fn open(state: &mut AppState) -> Option<Command> {
    let mut extra = Vec::new();
    for item in &state.profiles.items {
        let ProfileItem { profile: Ok(profile), source, name } = item else { continue };
        // Shipped profiles load by name; the others by their file's path.
        let defined_in = if source == "shipped" { name.clone() } else { source.clone() };
        for phase in &profile.phases {
            let name = &phase.behaviour.name;
            if !extra.iter().any(|b: &BehaviourChoice| &b.name == name) {
                extra.push(BehaviourChoice { name: name.clone(), defined_in: Some(defined_in.clone()) });
            }
        }
    }
    let settings = &state.profiles.settings;
    let mut form = QuickForm::new(extra, settings.target, &settings.url);
    // Start from the selected profile's first phase, so `n` on a profile tweaks it.
    if let Some(ProfileItem { profile: Ok(profile), .. }) = state.profiles.current()
        && let Some(phase) = profile.phases.first()
    {
        if let Some(i) = form.behaviours.iter().position(|b| b.name == phase.behaviour.name) {
            form.behaviour = i;
        }
        match phase.load {
            Load::Closed { users, spawn_rate_per_s } => {
                form.users = users.to_string();
                form.spawn_rate = crate::tui::format::real(spawn_rate_per_s);
            }
            Load::Open { rate_from_per_s, max_in_flight, .. } => {
                form.open = true;
                form.arrival_rate = crate::tui::format::real(rate_from_per_s);
                form.max_in_flight = max_in_flight.to_string();
            }
        }
    }
    state.profiles.quick = Some(form);
    None
}

/// Numbers, durations and a URL: 200 characters is beyond any of them.
const QUICK_FIELD_CHARS: usize = 200;

pub(super) fn key(state: &mut AppState, action: Action) -> Option<Command> {
    let form = state.profiles.quick.as_mut()?;
    let rows = form.fields().len();
    match action {
        // A field reached anew starts selected: the first printable key replaces its value.
        Action::Up => {
            form.cursor = (form.cursor + rows - 1) % rows;
            form.caret = Caret::prefilled();
        }
        Action::Down => {
            form.cursor = (form.cursor + 1) % rows;
            form.caret = Caret::prefilled();
        }
        Action::FocusPrev | Action::FocusNext | Action::Toggle if form.current().is_choice() => {
            form.cycle(!matches!(action, Action::FocusPrev));
            form.errors.clear();
        }
        Action::Type(_)
        | Action::Backspace
        | Action::DeleteForward
        | Action::ClearField
        | Action::DeleteWord
        | Action::CursorLeft
        | Action::CursorRight
        | Action::CursorHome
        | Action::CursorEnd => {
            let mut caret = form.caret;
            let Some(text) = form.typed_mut() else {
                if matches!(action, Action::Type(c) if !c.is_control()) {
                    return flash_error(state, "this row is a choice: ←→ or space change it");
                }
                return None;
            };
            // A new character answers the field's error; erasing alone does not.
            let outcome = edit_text(text, &mut caret, &action, QUICK_FIELD_CHARS);
            form.caret = caret;
            if outcome == EditOutcome::Typed {
                let field = form.current();
                form.errors.retain(|(f, _)| *f != field);
            }
        }
        Action::Enter => return start(state),
        Action::WriteProfile => {
            return match form.check() {
                Ok(choice) => {
                    form.errors.clear();
                    flash(state, "writing the profile…");
                    Some(Command::WriteQuickProfile(Box::new(choice)))
                }
                Err(errors) => refuse(state, errors),
            };
        }
        _ => {}
    }
    None
}

fn refuse(
    state: &mut AppState,
    errors: Vec<(crate::tui::quick_form::QuickField, String)>,
) -> Option<Command> {
    let n = errors.len();
    if let Some(form) = state.profiles.quick.as_mut() {
        form.errors = errors;
    }
    flash_error(state, format!("{n} field{} to fix (shown in red)", if n == 1 { "" } else { "s" }))
}

fn start(state: &mut AppState) -> Option<Command> {
    if state.run.is_active() {
        return flash_error(state, "a run is already going: watch it on tab 3, or abort it there with x");
    }
    let form = state.profiles.quick.as_ref()?;
    let choice = match form.check() {
        Ok(choice) => choice,
        Err(errors) => return refuse(state, errors),
    };
    // The URL's credentials go as Authorization (`choice.target` no longer holds them).
    let url_credentials = (form.target == crate::tui::state::TargetChoice::Url)
        .then(|| crate::experiment::Target::parse_with_auth(form.url.trim()).ok())
        .flatten()
        .and_then(|(_, credentials)| credentials);
    let seed = match super::profiles::seed_of(&state.profiles.settings.seed) {
        Ok(seed) => seed,
        Err(problem) => return flash_error(state, format!("{problem} (run settings)")),
    };
    // The quick run's profile is built later, off the UI loop: the defaults stand for it.
    let mut options = match super::profiles::target_options(&state.profiles.settings, &Default::default()) {
        Ok(options) => options,
        Err(problem) => return flash_error(state, format!("{problem} (run settings)")),
    };
    options.add_url_credentials(url_credentials);
    // One phase, no pause: its duration is the whole plan.
    let planned = choice.quick.duration;
    let name = format!("adhoc:{}", choice.quick.behaviour);
    let start = Box::new(QuickStart {
        choice,
        seed,
        output_root: state.output_root.clone(),
        options: Box::new(options),
    });
    if planned > CONFIRM_RUNS_LONGER_THAN {
        // The form stays open behind the question, so `n` (no) goes back to it.
        state.profiles.pending_start = Some(PendingStart::Quick(start));
        state.overlay =
            Some(Overlay::ConfirmStart { name, planned: crate::profile::format_duration(planned) });
        return None;
    }
    launch(state, start)
}

/// Starts the form's run now (after its confirmation, for a long one).
pub(super) fn launch(state: &mut AppState, start: Box<QuickStart>) -> Option<Command> {
    if state.run.is_active() {
        return flash_error(state, "a run is already going: watch it on tab 3, or abort it there with x");
    }
    state.profiles.quick = None;
    state.run = RunState {
        phase: RunPhase::Starting,
        profile: format!("adhoc:{}", start.choice.quick.behaviour),
        target: start.choice.target.label(),
        // The axis asked for with `L` stays for the next run.
        latency_log: state.run.latency_log,
        ..RunState::default()
    };
    state.screen = Screen::Run;
    state.flash = None;
    Some(Command::StartQuickRun(start))
}

/// The form was written (or not): say where, and list it with the others.
pub(super) fn written(state: &mut AppState, result: Result<std::path::PathBuf, String>) -> Option<Command> {
    match result {
        Ok(path) => {
            flash(
                state,
                format!("written {}: it is in the list now (`profiles validate` reads it)", path.display()),
            );
            state.profiles.loading = true;
            Some(Command::LoadProfiles)
        }
        Err(reason) => flash_error(state, reason),
    }
}
