//! One translator for the run settings: a bad value typed in the TUI's run settings and the
//! same value given to `run` as a flag are refused with the same words, and the TUI refuses a
//! bad stored value when the run starts instead of skipping it.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod tui_support;

use std::process::Command as Process;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use terrafix_tui::experiment::settings::{self, SettingError, SettingKey};
use terrafix_tui::tui::state::{ProfilesFocus, RunField};
use terrafix_tui::tui::{AppState, Command, handle_key, update};
use tui_support::app;

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");

fn press(state: &mut AppState, code: KeyCode) -> Option<Command> {
    let action = handle_key(state, KeyEvent::new(code, KeyModifiers::NONE))?;
    update(state, action)
}

/// Types `value` into `field` of the run settings pane; the flash it leaves.
fn tui_message(field: RunField, value: &str) -> String {
    let mut state = app();
    state.profiles.focus = ProfilesFocus::Settings;
    state.profiles.field_cursor = RunField::ALL.iter().position(|f| *f == field).expect("a run field");
    press(&mut state, KeyCode::Enter);
    for c in value.chars() {
        press(&mut state, KeyCode::Char(c));
    }
    press(&mut state, KeyCode::Enter);
    let flash = state.flash.expect("a refused value leaves a message");
    assert!(flash.is_error, "{field:?} {value:?}: {}", flash.text);
    flash.text
}

/// `run smoke FLAG=value --dry-run`: its exit code and standard error.
fn cli_message(flag: &str, value: &str) -> (Option<i32>, String) {
    let out = tempfile::tempdir().expect("a temporary folder");
    let o = Process::new(BIN)
        .args(["run", "smoke", "--dry-run", "--no-charts", &format!("{flag}={value}")])
        .arg("--output")
        .arg(out.path())
        .output()
        .expect("the binary runs");
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn a_bad_value_gets_the_same_message_from_the_cli_and_the_tui() {
    type Check = fn(&str) -> Result<(), SettingError>;
    let table: [(RunField, &str, Check); 12] = [
        (RunField::Users, "0", |t| settings::users(t).map(|_| ())),
        (RunField::TimeScale, "1e20", |t| settings::time_scale(t).map(|_| ())),
        (RunField::TimeScale, "0", |t| settings::time_scale(t).map(|_| ())),
        (RunField::SpawnRate, "0", |t| settings::spawn_rate(t).map(|_| ())),
        (RunField::SpawnRate, "-1", |t| settings::spawn_rate(t).map(|_| ())),
        (RunField::Duration, "soon", |t| settings::duration(t).map(|_| ())),
        (RunField::Duration, "0s", |t| settings::duration(t).map(|_| ())),
        (RunField::Timeout, "0s", |t| settings::timeout(SettingKey::Timeout, t).map(|_| ())),
        (RunField::Timeout, "forever", |t| settings::timeout(SettingKey::Timeout, t).map(|_| ())),
        (RunField::Timeout, "2h", |t| settings::timeout(SettingKey::Timeout, t).map(|_| ())),
        (RunField::Generators, "0", |t| settings::generators(t).map(|_| ())),
        (RunField::Generators, "300", |t| settings::generators(t).map(|_| ())),
    ];
    for (field, value, check) in table {
        let expected = check(value).expect_err("a value the table calls bad");
        let tui = tui_message(field, value);
        assert_eq!(tui, expected.to_string(), "TUI, {field:?} {value:?}");
        let (code, stderr) = cli_message(expected.key.flag(), value);
        assert_eq!(code, Some(2), "{} {value:?}: {stderr}", expected.key.flag());
        assert!(stderr.contains(&expected.for_flag()), "CLI, {field:?} {value:?}: {stderr}");
        // The same words after the setting's name (TUI) or flag (CLI).
        let tui_words = tui.strip_prefix(expected.key.name()).map(str::trim_start);
        assert_eq!(tui_words, Some(expected.detail().as_str()), "{field:?} {value:?}");
        assert_eq!(stderr.matches(&expected.detail()).count(), 1, "said once: {stderr}");
    }
}

#[test]
fn a_bad_stored_setting_stops_the_tui_run_instead_of_being_skipped() {
    for (field, value) in
        [(RunField::Timeout, "forever"), (RunField::Generators, "0"), (RunField::Users, "x")]
    {
        let mut state = app();
        match field {
            RunField::Timeout => state.profiles.settings.timeout = value.into(),
            RunField::Generators => state.profiles.settings.generators = value.into(),
            _ => state.profiles.settings.users = value.into(),
        }
        let command = press(&mut state, KeyCode::Char('r'));
        assert!(command.is_none(), "{field:?} {value:?}: no run starts, got {command:?}");
        let flash = state.flash.as_ref().map(|f| f.text.as_str()).unwrap_or_default();
        assert!(flash.contains(&format!("{value:?}")), "{field:?}: {flash}");
    }
}
