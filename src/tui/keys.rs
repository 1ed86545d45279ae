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

/// One row of a screen's key table: the screen, the keys that act (none: a line of help for
/// keys the global table handles, such as moving), the action, the keys as the help shows
/// them, and what they do. The handler, the help overlay and the test that holds
/// docs/tui.md to it all read this one table.
type KeyRow = (Screen, &'static [char], Option<Action>, &'static str, &'static str);

/// Every screen's own keys, in the order the help overlay lists them.
const SCREEN_KEYS: &[KeyRow] = &[
    (Screen::Profiles, &[], None, "↑↓ j k", "move in the focused pane"),
    (Screen::Profiles, &[], None, "← → h l", "focus list / phases / run settings"),
    (
        Screen::Profiles,
        &['/'],
        Some(Action::StartFilter),
        "/",
        "filter profiles by name (Enter keeps, Esc clears)",
    ),
    (
        Screen::Profiles,
        &[' '],
        Some(Action::Toggle),
        "space",
        "phases: include/exclude; settings: cycle target",
    ),
    (Screen::Profiles, &['a'], Some(Action::ToggleAll), "a", "include all phases / none"),
    (Screen::Profiles, &[], None, "Enter", "list, phases: run; settings: edit the field"),
    (
        Screen::Profiles,
        &['r'],
        Some(Action::RunSelected),
        "r",
        "run the selected profile with these settings",
    ),
    (
        Screen::Profiles,
        &['n'],
        Some(Action::NewRun),
        "n",
        "new run: one phase of a behaviour, no YAML (a form)",
    ),
    (Screen::Profiles, &['R'], Some(Action::Refresh), "R", "reload the profiles folder"),
    (Screen::Environment, &[], None, "↑↓ j k", "move among services or settings"),
    (Screen::Environment, &[], None, "← → h l", "focus services / server settings"),
    (Screen::Environment, &['u'], Some(Action::EnvUp), "u / d", "environment up / down (Docker)"),
    (Screen::Environment, &['d'], Some(Action::EnvDown), "", ""),
    (
        Screen::Environment,
        &['L'],
        Some(Action::ToggleLocalStack),
        "L",
        "LocalStack on / off for u and docker runs",
    ),
    (
        Screen::Environment,
        &['s'],
        Some(Action::ServiceStart),
        "s / x / r",
        "start / stop / restart the selected service",
    ),
    (Screen::Environment, &['x'], Some(Action::ServiceStop), "", ""),
    (Screen::Environment, &['r'], Some(Action::ServiceRestart), "", ""),
    (
        Screen::Environment,
        &['f'],
        Some(Action::FollowLogs),
        "f",
        "follow the selected service's logs (Esc closes)",
    ),
    (
        Screen::Environment,
        &[' '],
        Some(Action::Toggle),
        "Enter",
        "edit a setting (space cycles failure mode)",
    ),
    (
        Screen::Environment,
        &['a'],
        Some(Action::ApplySettings),
        "a",
        "apply the settings with POST /configure",
    ),
    (Screen::Environment, &['R'], Some(Action::Refresh), "R", "refresh status and target health"),
    (Screen::Run, &['s'], Some(Action::SkipPhase), "s", "skip the rest of the current phase (or pause)"),
    (Screen::Run, &['x'], Some(Action::AbortRun), "x", "abort the run (partial results are written)"),
    (
        Screen::Run,
        &['p', ' '],
        Some(Action::TogglePauseView),
        "p / space",
        "pause / resume the view (the run goes on)",
    ),
    (
        Screen::Run,
        &['+', '='],
        Some(Action::SteerUp),
        "+ / -",
        "more / fewer users (open model: arrival rate), ±10 %",
    ),
    (Screen::Run, &['-'], Some(Action::SteerDown), "", ""),
    (
        Screen::Run,
        &['u'],
        Some(Action::SteerType),
        "u",
        "type the user count (or arrival rate), Enter sets it",
    ),
    (Screen::Run, &['e'], Some(Action::ExtendPhase), "e", "extend the current phase (type a time, e.g. 30s)"),
    (Screen::Run, &['r'], Some(Action::ResetStats), "r", "reset the live statistics (files keep everything)"),
    (
        Screen::Run,
        &['L'],
        Some(Action::ToggleLatencyScale),
        "L",
        "log latency axis on / off (auto: a phase spanning 100×)",
    ),
    (Screen::Results, &[], None, "↑↓ j k", "choose a run (newest first)"),
    (Screen::Results, &[], None, "Enter", "open the run's detail: charts, endpoints, failures, findings"),
    (Screen::Results, &['/'], Some(Action::StartFilter), "/", "filter runs by name"),
    (
        Screen::Results,
        &['e'],
        Some(Action::Export),
        "e",
        "export dialog: format, size, charts, phases, folder",
    ),
    (Screen::Results, &['b'], Some(Action::Bundle), "b", "bundle the run as exports/<run-id>.tar.gz"),
    (Screen::Results, &['r'], Some(Action::Rerender), "r", "re-render the run's own charts and HTML"),
    (
        Screen::Results,
        &['o'],
        Some(Action::OpenHtml),
        "o",
        "open experiment_summary.html with the system opener",
    ),
    (Screen::Results, &['p'], Some(Action::ShowPaths), "p", "show the output paths"),
    (
        Screen::Results,
        &['c'],
        Some(Action::MarkCompare),
        "c",
        "mark for comparison; c on another run compares",
    ),
    (Screen::Results, &['R'], Some(Action::Refresh), "R", "reload the results folder"),
];

fn screen_key(screen: Screen, code: KeyCode) -> Option<Action> {
    let KeyCode::Char(c) = code else { return None };
    SCREEN_KEYS
        .iter()
        .find(|(s, keys, ..)| *s == screen && keys.contains(&c))
        .and_then(|(_, _, a, ..)| a.clone())
}

/// The keys of a screen as (keys, meaning), for the help overlay and docs/tui.md. Attached
/// to a run started elsewhere, `q` and Ctrl-C detach rather than quit.
pub fn help_lines(screen: Screen, attached: bool) -> Vec<(&'static str, &'static str)> {
    let mut lines: Vec<(&str, &str)> = SCREEN_KEYS
        .iter()
        .filter(|(s, .., label, _)| *s == screen && !label.is_empty())
        .map(|(.., label, meaning)| (*label, *meaning))
        .collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/tui.md's key table names every key a screen acts on, from the same table the
    /// handler and the help overlay read: a key added here and not there fails.
    #[test]
    fn docs_tui_names_every_screen_key() {
        let doc = include_str!("../../docs/tui.md");
        for (number, screen) in Screen::ALL.iter().enumerate() {
            let prefix = format!("| {} ", number + 1);
            let row = doc
                .lines()
                .find(|l| l.starts_with(&prefix))
                .unwrap_or_else(|| panic!("docs/tui.md has no key table row starting {prefix:?}"));
            for (s, keys, action, ..) in SCREEN_KEYS {
                let (Some(_), Some(first)) = (action, keys.first()) else { continue };
                if s != screen {
                    continue;
                }
                let shown = if *first == ' ' { "`space`".to_string() } else { format!("`{first}`") };
                assert!(row.contains(&shown), "docs/tui.md's {screen:?} row does not name {shown}");
            }
        }
    }

    #[test]
    fn every_acting_key_reaches_its_action_and_the_help_lists_it() {
        for (screen, keys, action, ..) in SCREEN_KEYS {
            let Some(action) = action else { continue };
            for c in *keys {
                let got = format!("{:?}", screen_key(*screen, KeyCode::Char(*c)));
                assert_eq!(got, format!("{:?}", Some(action)), "{screen:?} {c:?}");
            }
        }
        for screen in Screen::ALL {
            assert!(help_lines(screen, false).len() > 5, "{screen:?} has almost no help");
        }
    }
}
