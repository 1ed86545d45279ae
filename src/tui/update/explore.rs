//! The run detail (Enter on a run on the Results screen): open it, take what `app` read,
//! move between phases, scroll, and hand `e` / `c` to the Results screen's own handling.

use super::{PAGE, flash_error};
use crate::tui::action::{Action, Command};
use crate::tui::detail_state::{DetailLoad, Explorer, RunDetail};
use crate::tui::state::AppState;

/// Enter on the list: opens the selected run's detail and asks `app` to read its folder.
pub(super) fn open(state: &mut AppState) -> Option<Command> {
    let Some(entry) = state.results.current() else { return flash_error(state, "no run selected") };
    let (run_id, dir) = (entry.run_id.clone(), entry.dir.clone());
    state.results.view = crate::tui::state::ResultsView::Detail;
    state.results.explorer = Some(Explorer::opening(run_id.clone()));
    Some(Command::LoadRunDetail { run_id, dir })
}

/// What `app` read; kept only if that run's detail is still the one open.
pub(super) fn loaded(
    state: &mut AppState,
    run_id: String,
    result: Result<Box<RunDetail>, String>,
) -> Option<Command> {
    if let Some(explorer) = state.results.explorer.as_mut().filter(|e| e.run_id == run_id) {
        explorer.load = match result {
            Ok(detail) => DetailLoad::Loaded(detail),
            Err(reason) => DetailLoad::Failed(reason),
        };
        explorer.phase = explorer.phase.min(explorer.phase_count().saturating_sub(1));
    }
    None
}

/// Keys while the detail is open. `e` and `c` are the Results screen's (the list's
/// selection is the run shown); `c` closes the detail, since comparing needs the list.
pub(super) fn key(state: &mut AppState, action: Action) -> Option<Command> {
    let explorer = state.results.explorer.as_mut()?;
    let phases = explorer.phase_count();
    let last_line = explorer.detail().map_or(0, |d| max_scroll(d, explorer.phase));
    match action {
        Action::FocusPrev => turn(explorer, explorer.phase.saturating_sub(1)),
        Action::FocusNext => turn(explorer, (explorer.phase + 1).min(phases.saturating_sub(1))),
        Action::Up => explorer.scroll = explorer.scroll.saturating_sub(1),
        Action::Down => explorer.scroll = explorer.scroll.saturating_add(1).min(last_line),
        Action::PageUp => explorer.scroll = explorer.scroll.saturating_sub(PAGE as u16),
        Action::PageDown => explorer.scroll = explorer.scroll.saturating_add(PAGE as u16).min(last_line),
        Action::Top => explorer.scroll = 0,
        Action::Bottom => explorer.scroll = last_line,
        Action::Export => return super::export::open(state),
        Action::MarkCompare => {
            state.results.explorer = None;
            return super::results::mark_compare(state);
        }
        Action::OpenHtml => return super::results::open_html(state),
        _ => {}
    }
    None
}

fn turn(explorer: &mut Explorer, phase: usize) {
    if phase != explorer.phase {
        explorer.phase = phase;
        explorer.scroll = 0;
    }
}

/// The last line the text can be scrolled to: where its last page starts at the
/// narrowest supported size (80×24: the most lines, the fewest rows). A taller or wider
/// terminal stops at its own last page when drawn.
fn max_scroll(detail: &RunDetail, phase: usize) -> u16 {
    let lines = crate::tui::view::detail_line_count(detail, phase, NARROWEST_TEXT_WIDTH);
    u16::try_from(lines.saturating_sub(SMALLEST_TEXT_ROWS)).unwrap_or(u16::MAX)
}

/// The detail text's width and rows at 80×24 (inside its frame, under the charts).
const NARROWEST_TEXT_WIDTH: u16 = 78;
const SMALLEST_TEXT_ROWS: usize = 11;
