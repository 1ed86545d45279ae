//! Key → action. Which keys mean what on each screen lives here and in [`help_lines`], which
//! the help overlay and the README show, so the two cannot drift apart.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::Action;
use super::state::{AppState, Overlay, Screen};

/// What a key means in the current state; `None` when it means nothing here.
pub fn handle_key(state: &AppState, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Some(Action::ForceQuit);
    }
    if let Some(overlay) = &state.overlay {
        return overlay_key(overlay, key.code);
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        // Ctrl-U / Ctrl-W edit a field; no other Ctrl key means anything, and none of them
        // is ever the plain letter (Ctrl-U typed a literal `u` once).
        return match key.code {
            KeyCode::Char('u') if state.is_typing() => Some(Action::ClearField),
            KeyCode::Char('w') if state.is_typing() => Some(Action::DeleteWord),
            _ => None,
        };
    }
    if let (Screen::Profiles, Some(form)) = (state.screen, &state.profiles.quick) {
        return quick_form_key(form, key.code);
    }
    if state.is_typing() {
        return typing_key(key.code);
    }
    if state.screen == Screen::Results && state.results.dialog.is_some() {
        return export_dialog_key(key.code);
    }
    if state.screen == Screen::Results && state.results.explorer.is_some() {
        return explorer_key(key.code);
    }
    global_key(key.code).or_else(|| screen_key(state.screen, key.code))
}

/// The new-run form's keys, for the help overlay.
pub const QUICK_FORM_HELP: [(&str, &str); 7] = [
    ("↑↓ Tab", "move among the fields"),
    ("← → space", "change a choice (behaviour, model, repo size, target)"),
    ("type", "replace the focused number, time or URL (its value starts selected)"),
    ("← → Home End", "in a text field: move the cursor; Ctrl-U clears, Ctrl-W deletes a word"),
    ("Enter", "run it (problems are shown beside their fields)"),
    ("w", "write it as a profile YAML into ./profiles (loads back identically)"),
    ("Esc / q", "close the form (q and w type into the URL field)"),
];

/// The new-run form: characters type into its text fields, `w` writes and `q` closes
/// (except in the URL field, where they are text).
fn quick_form_key(form: &super::quick_form::QuickForm, code: KeyCode) -> Option<Action> {
    let in_url = form.current() == super::quick_form::QuickField::Url;
    let typed = !form.current().is_choice();
    Some(match code {
        KeyCode::Up | KeyCode::BackTab => Action::Up,
        KeyCode::Down | KeyCode::Tab => Action::Down,
        KeyCode::Left if typed => Action::CursorLeft,
        KeyCode::Right if typed => Action::CursorRight,
        KeyCode::Home => Action::CursorHome,
        KeyCode::End => Action::CursorEnd,
        KeyCode::Delete => Action::DeleteForward,
        KeyCode::Left => Action::FocusPrev,
        KeyCode::Right => Action::FocusNext,
        KeyCode::Enter => Action::Enter,
        KeyCode::Esc => Action::Dismiss,
        KeyCode::Backspace => Action::Backspace,
        KeyCode::Char('w') if !in_url => Action::WriteProfile,
        KeyCode::Char('q') if !in_url => Action::Dismiss,
        KeyCode::Char('?') if !in_url => Action::Help,
        KeyCode::Char(' ') => Action::Toggle,
        KeyCode::Char(c) => Action::Type(c),
        _ => return None,
    })
}

/// The export dialog's keys, as (key, action, help): one table for both.
const EXPORT_DIALOG_KEYS: [(KeyCode, Action, &str); 12] = [
    (KeyCode::Up, Action::Up, "↑↓ j k: move among the rows"),
    (KeyCode::Char('k'), Action::Up, ""),
    (KeyCode::Down, Action::Down, ""),
    (KeyCode::Char('j'), Action::Down, ""),
    (KeyCode::Left, Action::FocusPrev, "← → h l: change format or size"),
    (KeyCode::Char('h'), Action::FocusPrev, ""),
    (KeyCode::Right, Action::FocusNext, ""),
    (KeyCode::Char('l'), Action::FocusNext, ""),
    (KeyCode::Char(' '), Action::Toggle, "space: tick a chart or phase"),
    (KeyCode::Char('a'), Action::ToggleAll, "a: all charts / phases or none"),
    (KeyCode::Enter, Action::Enter, "Enter: edit the folder; on Export: start"),
    (KeyCode::Esc, Action::Dismiss, "Esc / q: close (when not exporting)"),
];

fn export_dialog_key(code: KeyCode) -> Option<Action> {
    match code {
        KeyCode::Char('q') => Some(Action::Dismiss),
        KeyCode::Char('?') => Some(Action::Help),
        KeyCode::Tab => Some(Action::Down),
        KeyCode::BackTab => Some(Action::Up),
        code => EXPORT_DIALOG_KEYS.iter().find(|(k, ..)| *k == code).map(|(_, action, _)| action.clone()),
    }
}

/// The export dialog's keys as help lines (from the same table the keys come from).
pub fn export_dialog_help() -> Vec<(&'static str, &'static str)> {
    EXPORT_DIALOG_KEYS
        .iter()
        .filter(|(.., help)| !help.is_empty())
        .filter_map(|(.., help)| help.split_once(": "))
        .collect()
}

/// The run detail's keys, as (key, action, help): one table for both.
const EXPLORER_KEYS: [(KeyCode, Action, &str); 17] = [
    (KeyCode::Left, Action::FocusPrev, "← → h l: previous / next phase"),
    (KeyCode::Char('h'), Action::FocusPrev, ""),
    (KeyCode::Right, Action::FocusNext, ""),
    (KeyCode::Char('l'), Action::FocusNext, ""),
    (KeyCode::Up, Action::Up, "↑↓ j k: scroll the detail"),
    (KeyCode::Char('k'), Action::Up, ""),
    (KeyCode::Down, Action::Down, ""),
    (KeyCode::Char('j'), Action::Down, ""),
    (KeyCode::PageUp, Action::PageUp, "PgUp PgDn: scroll a page"),
    (KeyCode::PageDown, Action::PageDown, ""),
    (KeyCode::Char('g'), Action::Top, "g G: top / end of the detail"),
    (KeyCode::Char('G'), Action::Bottom, ""),
    (KeyCode::Char('e'), Action::Export, "e: export dialog for this run"),
    (KeyCode::Char('c'), Action::MarkCompare, "c: compare (marks this run; c on another compares)"),
    (KeyCode::Char('o'), Action::OpenHtml, "o: open its experiment_summary.html"),
    (KeyCode::Esc, Action::Dismiss, "Esc / q: back to the list of runs"),
    (KeyCode::Char('q'), Action::Back, ""),
];

/// The detail's own keys first; the screen switches and `?` as everywhere.
fn explorer_key(code: KeyCode) -> Option<Action> {
    EXPLORER_KEYS.iter().find(|(k, ..)| *k == code).map(|(_, action, _)| action.clone()).or_else(|| {
        global_key(code)
            .filter(|a| matches!(a, Action::Show(_) | Action::NextScreen | Action::PrevScreen | Action::Help))
    })
}

/// The run detail's keys as help lines (from the same table the keys come from).
pub fn explorer_help() -> Vec<(&'static str, &'static str)> {
    EXPLORER_KEYS
        .iter()
        .filter(|(.., help)| !help.is_empty())
        .filter_map(|(.., help)| help.split_once(": "))
        .collect()
}

fn overlay_key(overlay: &Overlay, code: KeyCode) -> Option<Action> {
    match overlay {
        Overlay::Help => Some(Action::Dismiss),
        Overlay::ConfirmQuit | Overlay::ConfirmAbort | Overlay::ConfirmStart { .. } => match code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => Some(Action::Confirm),
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Char('q') | KeyCode::Esc => {
                Some(Action::Dismiss)
            }
            _ => None,
        },
    }
}

fn typing_key(code: KeyCode) -> Option<Action> {
    match code {
        KeyCode::Esc => Some(Action::Dismiss),
        KeyCode::Enter => Some(Action::Enter),
        KeyCode::Backspace => Some(Action::Backspace),
        KeyCode::Delete => Some(Action::DeleteForward),
        KeyCode::Left => Some(Action::CursorLeft),
        KeyCode::Right => Some(Action::CursorRight),
        KeyCode::Home => Some(Action::CursorHome),
        KeyCode::End => Some(Action::CursorEnd),
        KeyCode::Up => Some(Action::Up),
        KeyCode::Down => Some(Action::Down),
        KeyCode::Char(c) => Some(Action::Type(c)),
        _ => None,
    }
}

fn global_key(code: KeyCode) -> Option<Action> {
    let action = match code {
        KeyCode::Char(c @ '1'..='4') => Action::Show(Screen::ALL[(c as usize) - ('1' as usize)]),
        KeyCode::Tab => Action::NextScreen,
        KeyCode::BackTab => Action::PrevScreen,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('q') => Action::Back,
        KeyCode::Esc => Action::Dismiss,
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Home | KeyCode::Char('g') => Action::Top,
        KeyCode::End | KeyCode::Char('G') => Action::Bottom,
        KeyCode::Left | KeyCode::Char('h') => Action::FocusPrev,
        KeyCode::Right | KeyCode::Char('l') => Action::FocusNext,
        KeyCode::Enter => Action::Enter,
        _ => return None,
    };
    Some(action)
}

fn screen_key(screen: Screen, code: KeyCode) -> Option<Action> {
    let KeyCode::Char(c) = code else { return None };
    let action = match (screen, c) {
        (Screen::Profiles, '/') | (Screen::Results, '/') => Action::StartFilter,
        (Screen::Profiles, ' ') => Action::Toggle,
        (Screen::Profiles, 'a') => Action::ToggleAll,
        (Screen::Profiles, 'r') => Action::RunSelected,
        (Screen::Profiles, 'n') => Action::NewRun,
        (Screen::Environment, 'u') => Action::EnvUp,
        (Screen::Environment, 'L') => Action::ToggleLocalStack,
        (Screen::Environment, 'd') => Action::EnvDown,
        (Screen::Environment, 's') => Action::ServiceStart,
        (Screen::Environment, 'x') => Action::ServiceStop,
        (Screen::Environment, 'r') => Action::ServiceRestart,
        (Screen::Environment, 'f') => Action::FollowLogs,
        (Screen::Environment, 'a') => Action::ApplySettings,
        (Screen::Environment, ' ') => Action::Toggle,
        (Screen::Environment, 'R') | (Screen::Results, 'R') | (Screen::Profiles, 'R') => Action::Refresh,
        (Screen::Run, 's') => Action::SkipPhase,
        (Screen::Run, 'x') => Action::AbortRun,
        (Screen::Run, 'p') | (Screen::Run, ' ') => Action::TogglePauseView,
        (Screen::Run, '+') | (Screen::Run, '=') => Action::SteerUp,
        (Screen::Run, '-') => Action::SteerDown,
        (Screen::Run, 'u') => Action::SteerType,
        (Screen::Run, 'e') => Action::ExtendPhase,
        (Screen::Run, 'r') => Action::ResetStats,
        (Screen::Run, 'L') => Action::ToggleLatencyScale,
        (Screen::Results, 'e') => Action::Export,
        (Screen::Results, 'b') => Action::Bundle,
        (Screen::Results, 'r') => Action::Rerender,
        (Screen::Results, 'o') => Action::OpenHtml,
        (Screen::Results, 'p') => Action::ShowPaths,
        (Screen::Results, 'c') => Action::MarkCompare,
        _ => return None,
    };
    Some(action)
}

/// The keys of a screen as (keys, meaning), for the help overlay and the README. Attached
/// to a run started elsewhere, `q` and Ctrl-C detach rather than quit.
pub fn help_lines(screen: Screen, attached: bool) -> Vec<(&'static str, &'static str)> {
    let mut lines: Vec<(&str, &str)> = match screen {
        Screen::Profiles => vec![
            ("↑↓ j k", "move in the focused pane"),
            ("← → h l", "focus list / phases / run settings"),
            ("/", "filter profiles by name (Enter keeps, Esc clears)"),
            ("space", "phases: include/exclude; settings: cycle target"),
            ("a", "include all phases / none"),
            ("Enter", "list, phases: run; settings: edit the field"),
            ("r", "run the selected profile with these settings"),
            ("n", "new run: one phase of a behaviour, no YAML (a form)"),
            ("R", "reload the profiles folder"),
        ],
        Screen::Environment => vec![
            ("↑↓ j k", "move among services or settings"),
            ("← → h l", "focus services / server settings"),
            ("u / d", "environment up / down (Docker)"),
            ("L", "LocalStack on / off for u and docker runs"),
            ("s / x / r", "start / stop / restart the selected service"),
            ("f", "follow the selected service's logs (Esc closes)"),
            ("Enter", "edit a setting (space cycles failure mode)"),
            ("a", "apply the settings with POST /configure"),
            ("R", "refresh status and target health"),
        ],
        Screen::Run => vec![
            ("s", "skip the rest of the current phase (or pause)"),
            ("x", "abort the run (partial results are written)"),
            ("p / space", "pause / resume the view (the run goes on)"),
            ("+ / -", "more / fewer users (open model: arrival rate), ±10 %"),
            ("u", "type the user count (or arrival rate), Enter sets it"),
            ("e", "extend the current phase (type a time, e.g. 30s)"),
            ("r", "reset the live statistics (files keep everything)"),
            ("L", "log latency axis on / off (auto: a phase spanning 100×)"),
        ],
        Screen::Results => vec![
            ("↑↓ j k", "choose a run (newest first)"),
            ("Enter", "open the run's detail: charts, endpoints, failures, findings"),
            ("/", "filter runs by name"),
            ("e", "export dialog: format, size, charts, phases, folder"),
            ("b", "bundle the run as exports/<run-id>.tar.gz"),
            ("r", "re-render the run's own charts and HTML"),
            ("o", "open experiment_summary.html with the system opener"),
            ("p", "show the output paths"),
            ("c", "mark for comparison; c on another run compares"),
            ("R", "reload the results folder"),
        ],
    };
    lines.extend([("1-4 / Tab", "switch screen"), ("?", "this help")]);
    if attached {
        lines.extend([
            ("q", "back; detach (the run goes on; x aborts it)"),
            ("Ctrl-C", "detach now (the run goes on)"),
        ]);
    } else {
        lines.extend([
            ("q", "back; quit (asks while a run is active)"),
            ("Ctrl-C", "quit now (a run is aborted, results kept)"),
        ]);
    }
    lines
}
