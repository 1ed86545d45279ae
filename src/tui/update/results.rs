//! Results screen: choose a run, show paths, export (dialog) or bundle a run, re-render
//! its charts, open the HTML, compare two runs.

use super::{PAGE, export as dialog, flash, flash_error, step};
use crate::metrics::compare::Comparison;
use crate::tui::action::{Action, Command};
use crate::tui::state::{AppState, ChartsState, CompareState, ResultEntry, ResultsView};

pub(super) fn loaded(state: &mut AppState, result: Result<Vec<ResultEntry>, String>) -> Option<Command> {
    let r = &mut state.results;
    r.loading = false;
    match result {
        Ok(entries) => {
            r.entries = entries;
            r.load_error = None;
            r.selected = r.selected.min(r.visible().len().saturating_sub(1));
        }
        Err(reason) => r.load_error = Some(reason),
    }
    keep_explored_run_selected(state)
}

/// A reload can put a new run above the one whose detail is open: the selection follows
/// that run (so `e` and `c` act on what is shown); if it is gone, the detail closes.
fn keep_explored_run_selected(state: &mut AppState) -> Option<Command> {
    let r = &mut state.results;
    let run_id = r.explorer.as_ref().map(|e| e.run_id.clone())?;
    match r.visible().iter().position(|&i| r.entries[i].run_id == run_id) {
        Some(at) => {
            r.selected = at;
            None
        }
        None => {
            r.explorer = None;
            flash(state, format!("{run_id} is no longer in the results folder; its detail closed"))
        }
    }
}

/// Keeps a comparison's outcome if it is still the one asked for (a newer one may be on its way).
pub(super) fn compared(
    state: &mut AppState,
    left: String,
    right: String,
    result: Result<Box<Comparison>, String>,
) -> Option<Command> {
    let r = &mut state.results;
    if r.comparison.as_ref().is_some_and(|c| c.is_for(&left, &right)) {
        r.comparison = Some(CompareState::Done { left, right, result });
    }
    None
}

pub(super) fn back(state: &mut AppState) -> Option<Option<Command>> {
    if state.results.dialog.is_some() {
        return dialog::back(state);
    }
    let r = &mut state.results;
    if r.explorer.take().is_some() {
        return Some(None);
    }
    if r.filter.cancel(&mut r.selected) {
        return Some(None);
    }
    if r.view != ResultsView::Detail {
        r.view = ResultsView::Detail;
        return Some(None);
    }
    if r.compare_mark.take().is_some() {
        return Some(None);
    }
    None
}

pub(super) fn key(state: &mut AppState, action: Action) -> Option<Command> {
    if state.results.dialog.is_some() {
        return dialog::key(state, action);
    }
    if state.results.explorer.is_some() {
        return super::explore::key(state, action);
    }
    let r = &mut state.results;
    if r.filter.editing {
        let names = r.entries.iter().map(|entry| entry.run_id.as_str());
        r.filter.key(&action, names, &mut r.selected);
        return None;
    }
    let len = r.visible().len();
    match action {
        Action::Up => step(&mut r.selected, len, -1),
        Action::Down => step(&mut r.selected, len, 1),
        Action::PageUp => step(&mut r.selected, len, -PAGE),
        Action::PageDown => step(&mut r.selected, len, PAGE),
        Action::Top => r.selected = 0,
        Action::Bottom => r.selected = len.saturating_sub(1),
        Action::StartFilter => r.filter.editing = true,
        Action::Enter => return super::explore::open(state),
        Action::ShowPaths => {
            r.view = if r.view == ResultsView::Paths { ResultsView::Detail } else { ResultsView::Paths };
        }
        Action::Refresh => {
            r.loading = true;
            return Some(Command::LoadResults);
        }
        Action::Export => return dialog::open(state),
        Action::Bundle => return dialog::bundle(state),
        Action::Rerender => return rerender(state),
        Action::OpenHtml => return open_html(state),
        Action::MarkCompare => return mark_compare(state),
        _ => {}
    }
    None
}

/// `r`: draws the run's own charts and HTML reports again, in its folder.
fn rerender(state: &mut AppState) -> Option<Command> {
    if matches!(state.results.export, Some((_, ChartsState::Rendering { .. }))) {
        return flash(state, "charts are already rendering; wait for them to finish");
    }
    let Some(entry) = state.results.current() else { return flash_error(state, "no run selected") };
    let (run_id, dir) = (entry.run_id.clone(), entry.dir.clone());
    state.results.export = Some((run_id, ChartsState::Rendering { dir: dir.clone() }));
    Some(Command::RenderCharts(dir))
}

pub(super) fn open_html(state: &mut AppState) -> Option<Command> {
    let Some(entry) = state.results.current() else { return flash_error(state, "no run selected") };
    match &entry.html {
        Some(path) => {
            let path = path.clone();
            flash(state, format!("opening {}", path.display()));
            Some(Command::OpenHtml(path))
        }
        None => {
            let text =
                format!("{} has no experiment_summary.html yet; press r to render it", entry.dir.display());
            flash_error(state, text)
        }
    }
}

pub(super) fn mark_compare(state: &mut AppState) -> Option<Command> {
    let Some(current) = state.results.current().map(|e| e.run_id.clone()) else {
        return flash_error(state, "no run selected");
    };
    let r = &mut state.results;
    match r.compare_mark.take() {
        None => {
            r.compare_mark = Some(current.clone());
            flash(state, format!("marked {current}; choose another run and press c to compare"))
        }
        Some(marked) if marked == current => flash(state, "comparison mark cleared"),
        Some(marked) => {
            let dir_of = |id: &str| r.by_id(id).map(|e| e.dir.clone());
            let (Some(left_dir), Some(right_dir)) = (dir_of(&marked), dir_of(&current)) else {
                return flash_error(state, "one of the runs is gone; press R to reload");
            };
            r.view = ResultsView::Compare { left: marked.clone(), right: current.clone() };
            r.comparison = Some(CompareState::Computing { left: marked.clone(), right: current.clone() });
            Some(Command::Compare { left: marked, left_dir, right: current, right_dir })
        }
    }
}
