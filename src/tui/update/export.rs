//! The export dialog (`e`) and the bundle (`b`) of the Results screen: opening the dialog
//! with the session's last choices, moving and ticking, starting the job, and its news.

use std::path::PathBuf;

use super::{flash, flash_error, step};
use crate::tui::action::{Action, Command};
use crate::tui::edit::{EditOutcome, LONG_FIELD_CHARS, edit_text};
use crate::tui::export_state::{
    BundleJob, ExportDialog, ExportFormat, ExportJob, Row, SIZES, default_bundle,
};
use crate::tui::state::AppState;

/// `e`: opens the dialog for the selected run.
pub(super) fn open(state: &mut AppState) -> Option<Command> {
    let Some(entry) = state.results.current() else { return flash_error(state, "no run selected") };
    let phases: Vec<String> = match &entry.summary {
        Ok(summary) => summary.experiments.iter().map(|p| p.name.clone()).collect(),
        Err(_) => Vec::new(),
    };
    let charts = crate::report::chart_names();
    let dialog =
        ExportDialog::new(&entry.run_id, entry.dir.clone(), &charts, &phases, &state.results.export_choices);
    state.results.dialog = Some(dialog);
    None
}

/// Esc / q inside the dialog: stop editing the folder, else close (not while exporting).
pub(super) fn back(state: &mut AppState) -> Option<Option<Command>> {
    let dialog = state.results.dialog.as_mut()?;
    if dialog.editing_folder {
        dialog.editing_folder = false;
        return Some(None);
    }
    if dialog.is_running() {
        return Some(flash(state, "the export is still running; Esc closes the dialog when it is done"));
    }
    if let Some(dialog) = state.results.dialog.take() {
        state.results.export_choices = dialog.choices();
    }
    Some(None)
}

/// A key's action while the dialog is open.
pub(super) fn key(state: &mut AppState, action: Action) -> Option<Command> {
    let dialog = state.results.dialog.as_mut()?;
    if dialog.editing_folder {
        if edit_text(&mut dialog.folder, &mut dialog.folder_caret, &action, LONG_FIELD_CHARS)
            == EditOutcome::Enter
        {
            dialog.editing_folder = false;
        }
        dialog.folder_edited = true;
        return None;
    }
    let rows = dialog.rows().len();
    match (action, dialog.current()) {
        (Action::Up, _) => step(&mut dialog.cursor, rows, -1),
        (Action::Down, _) => step(&mut dialog.cursor, rows, 1),
        (Action::FocusNext | Action::FocusPrev | Action::Toggle | Action::Enter, Row::Format) => {
            dialog.format = match dialog.format {
                ExportFormat::Png => ExportFormat::Svg,
                ExportFormat::Svg => ExportFormat::Png,
            };
        }
        (Action::FocusPrev, Row::Size) => dialog.size = dialog.size.saturating_sub(1),
        (Action::FocusNext | Action::Toggle | Action::Enter, Row::Size) => {
            dialog.size = (dialog.size + 1) % SIZES.len();
        }
        (Action::Toggle | Action::Enter, Row::Chart(i)) => {
            if let Some((_, on)) = dialog.charts.get_mut(i) {
                *on = !*on;
            }
        }
        (Action::Toggle | Action::Enter, Row::Phase(i)) => {
            if let Some((_, on)) = dialog.phases.get_mut(i) {
                *on = !*on;
            }
        }
        (Action::ToggleAll, Row::Chart(_)) => toggle_all(&mut dialog.charts),
        (Action::ToggleAll, Row::Phase(_)) => toggle_all(&mut dialog.phases),
        (Action::Enter | Action::Toggle, Row::Folder) => {
            dialog.editing_folder = true;
            dialog.folder_caret = crate::tui::edit::Caret::prefilled();
        }
        (Action::Enter | Action::Toggle, Row::Start) => return start(state),
        _ => {}
    }
    None
}

/// All on, unless all are on already: then all off.
fn toggle_all(list: &mut [(String, bool)]) {
    let target = !list.iter().all(|(_, on)| *on);
    list.iter_mut().for_each(|(_, on)| *on = target);
}

fn start(state: &mut AppState) -> Option<Command> {
    let dialog = state.results.dialog.as_mut()?;
    if dialog.is_running() {
        return flash(state, "this export is still running");
    }
    let request = match dialog.request() {
        Ok(request) => request,
        Err(why) => return flash_error(state, why),
    };
    let total = if request.only.is_empty() { dialog.charts.len() } else { request.only.len() };
    dialog.job = Some(ExportJob::Running { written: Vec::new(), total });
    state.results.export_choices = dialog.choices();
    Some(Command::ExportCharts(Box::new(request)))
}

pub(super) fn written(state: &mut AppState, path: PathBuf) -> Option<Command> {
    if let Some(ExportJob::Running { written, .. }) =
        state.results.dialog.as_mut().and_then(|d| d.job.as_mut())
    {
        written.push(path);
    }
    None
}

pub(super) fn finished(
    state: &mut AppState,
    result: Result<(Vec<PathBuf>, Vec<String>), String>,
) -> Option<Command> {
    let text = match &result {
        Ok((written, warnings)) if warnings.is_empty() => Ok(format!("exported {} charts", written.len())),
        Ok((written, warnings)) => {
            Ok(format!("exported {} charts ({} warnings)", written.len(), warnings.len()))
        }
        Err(why) => Err(format!("export failed: {why}")),
    };
    let job = match result {
        Ok((written, warnings)) => ExportJob::Done { written, warnings },
        Err(why) => ExportJob::Failed(why),
    };
    if let Some(dialog) = state.results.dialog.as_mut() {
        dialog.job = Some(job);
    }
    match text {
        Ok(text) => flash(state, text),
        Err(text) => flash_error(state, text),
    }
}

/// `b`: packs the selected run into `./exports/<run-id>.tar.gz`.
pub(super) fn bundle(state: &mut AppState) -> Option<Command> {
    if matches!(state.results.bundle, Some((_, BundleJob::Packing))) {
        return flash(state, "a bundle is already being packed; wait for it to finish");
    }
    let Some(entry) = state.results.current() else { return flash_error(state, "no run selected") };
    let (run_id, run_dir) = (entry.run_id.clone(), entry.dir.clone());
    let out = default_bundle(&run_id);
    state.results.bundle = Some((run_id.clone(), BundleJob::Packing));
    flash(state, format!("packing {run_id} into {}…", out.display()));
    Some(Command::Bundle { run_id, run_dir, out })
}

pub(super) fn bundled(
    state: &mut AppState,
    run_id: String,
    result: Result<PathBuf, String>,
) -> Option<Command> {
    let job = match &result {
        Ok(path) => {
            flash(state, format!("bundle written: {}", path.display()));
            BundleJob::Done(path.clone())
        }
        Err(why) => {
            flash_error(state, format!("bundle of {run_id} failed: {why}"));
            BundleJob::Failed(why.clone())
        }
    };
    state.results.bundle = Some((run_id, job));
    // The run folder may have gained charts (a run without them gets them drawn first).
    state.results.loading = true;
    Some(Command::LoadResults)
}
