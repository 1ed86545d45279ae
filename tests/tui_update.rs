//! Key → action → state updates, and the command each returns, without a terminal.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod tui_support;

use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use terrafix_tui::engine::Steer;
use terrafix_tui::experiment::{Event, PhasePlan, PlanLoad, Target};
use terrafix_tui::metrics::summary::PhaseChange;
use terrafix_tui::profile::QuickLoad;
use terrafix_tui::tui::env_state::{DockerAvail, EnvTarget};
use terrafix_tui::tui::export_state::ExportFormat;
use terrafix_tui::tui::quick_form::QuickField;
use terrafix_tui::tui::run_state::SteerTarget;
use terrafix_tui::tui::state::{
    BundleJob, ChartsState, CompareState, ExportJob, Overlay, ProfilesFocus, ResultsView, RunPhase,
};
use terrafix_tui::tui::{Action, AppState, Command, DockerOp, Screen, handle_key, update};
use tui_support::*;

/// Presses a key: maps it with `handle_key`, applies it, returns the command.
fn press(state: &mut AppState, code: KeyCode) -> Option<Command> {
    let action = handle_key(state, KeyEvent::new(code, KeyModifiers::NONE))?;
    update(state, action)
}

fn type_text(state: &mut AppState, text: &str) {
    for c in text.chars() {
        press(state, KeyCode::Char(c));
    }
}

#[test]
fn number_keys_and_tab_switch_screens_and_load_what_they_show() {
    let mut state = app();
    let command = press(&mut state, KeyCode::Char('2'));
    assert_eq!(state.screen, Screen::Environment);
    let Some(Command::Batch(commands)) = command else { panic!("expected connect, got {command:?}") };
    assert!(matches!(commands[0], Command::Docker(DockerOp::Connect)));
    // The default target is embedded: it exists only during a run, so nothing is asked.
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert!(press(&mut state, KeyCode::Tab).is_none());
    assert_eq!(state.screen, Screen::Run);
    assert!(matches!(press(&mut state, KeyCode::Tab), Some(Command::LoadResults)));
    assert!(state.results.loading);
    press(&mut state, KeyCode::Tab);
    assert_eq!(state.screen, Screen::Profiles);
    press(&mut state, KeyCode::BackTab);
    assert_eq!(state.screen, Screen::Results);
}

#[test]
fn filter_narrows_the_list_and_escape_clears_it() {
    let mut state = app();
    press(&mut state, KeyCode::Char('/'));
    type_text(&mut state, "thr");
    assert_eq!(state.profiles.current().map(|p| p.name.as_str()), Some("throughput"));
    // While typing, `q` is a letter, not quit.
    assert!(press(&mut state, KeyCode::Char('q')).is_none());
    assert_eq!(state.profiles.filter.text, "thrq");
    press(&mut state, KeyCode::Backspace);
    press(&mut state, KeyCode::Enter);
    assert!(!state.profiles.filter.editing);
    assert_eq!(state.profiles.visible().len(), 1);
    press(&mut state, KeyCode::Char('/'));
    press(&mut state, KeyCode::Esc);
    assert_eq!(state.profiles.visible().len(), 3);
}

/// One seed policy with `run`: random unless a seed is set, and the run's request (so its
/// summary) carries the seed either way.
#[test]
fn the_seed_is_random_unless_set_as_for_the_cli() {
    let start = |seed: &str| {
        let mut state = app();
        state.profiles.settings.seed = seed.into();
        match press(&mut state, KeyCode::Enter) {
            Some(Command::StartRun { request, .. }) => request.seed,
            other => panic!("no run started with seed {seed:?}: {other:?}"),
        }
    };
    assert_eq!(start("7"), 7);
    let randoms: std::collections::HashSet<u64> = (0..4).map(|_| start("random")).collect();
    assert!(randoms.len() > 1, "a new seed each run: {randoms:?}");
    let mut state = app();
    state.profiles.settings.seed = "x".into();
    assert!(press(&mut state, KeyCode::Enter).is_none(), "a seed that is no number is refused");
}

#[test]
fn enter_on_a_profile_starts_a_run_with_the_settings() {
    let mut state = app();
    let Some(Command::StartRun { request, .. }) = press(&mut state, KeyCode::Enter) else {
        panic!("no run started")
    };
    assert_eq!(request.profile.name, "smoke");
    assert_eq!(request.target, Target::Embedded);
    assert_eq!(state.profiles.settings.seed, "random", "as `run` without --seed");
    assert_eq!(request.time_scale, 1.0);
    assert_eq!(request.output_root, PathBuf::from("experiment_results"));
    assert_eq!(state.screen, Screen::Run);
    assert_eq!(state.run.phase, RunPhase::Starting);
    // A second run while one is active is refused.
    press(&mut state, KeyCode::Char('1'));
    assert!(press(&mut state, KeyCode::Char('r')).is_none());
    assert!(state.flash.as_ref().is_some_and(|f| f.is_error));
}

#[test]
fn settings_are_edited_checked_and_used() {
    let mut state = app();
    press(&mut state, KeyCode::Char('l'));
    press(&mut state, KeyCode::Char('l'));
    assert_eq!(state.profiles.focus, ProfilesFocus::Settings);
    // Target cycles embedded → docker → URL.
    press(&mut state, KeyCode::Enter);
    press(&mut state, KeyCode::Enter);
    // Users is the fourth field.
    for _ in 0..3 {
        press(&mut state, KeyCode::Char('j'));
    }
    press(&mut state, KeyCode::Enter);
    type_text(&mut state, "abc");
    press(&mut state, KeyCode::Enter);
    assert!(state.profiles.edit.is_some(), "a bad value keeps the editor open");
    assert!(state.flash.as_ref().is_some_and(|f| f.is_error && f.text.contains("users")));
    for _ in 0..3 {
        press(&mut state, KeyCode::Backspace);
    }
    type_text(&mut state, "7");
    press(&mut state, KeyCode::Enter);
    assert_eq!(state.profiles.settings.users, "7");
    let Some(Command::StartRun { request, .. }) = press(&mut state, KeyCode::Char('r')) else {
        panic!("no run")
    };
    assert_eq!(request.target, Target::parse("http://127.0.0.1:8081").unwrap());
}

#[test]
fn the_metrics_setting_takes_a_loopback_address_and_goes_with_the_run() {
    let mut state = app();
    press(&mut state, KeyCode::Char('l'));
    press(&mut state, KeyCode::Char('l'));
    // Metrics is the last field.
    for _ in 0..20 {
        press(&mut state, KeyCode::Char('j'));
    }
    let Some(Command::StartRun { metrics, .. }) = press(&mut state, KeyCode::Char('r')) else {
        panic!("no run")
    };
    assert_eq!(metrics, None, "empty: no /metrics");
    let mut state = app();
    press(&mut state, KeyCode::Char('l'));
    press(&mut state, KeyCode::Char('l'));
    for _ in 0..20 {
        press(&mut state, KeyCode::Char('j'));
    }
    press(&mut state, KeyCode::Enter);
    type_text(&mut state, "0.0.0.0:9464");
    press(&mut state, KeyCode::Enter);
    assert!(state.profiles.edit.is_some(), "a public address keeps the editor open");
    let refused = state.flash.clone().expect("a reason");
    assert!(refused.is_error && refused.text.contains("loopback only"), "{refused:?}");
    press(&mut state, KeyCode::Esc);
    press(&mut state, KeyCode::Enter);
    type_text(&mut state, "localhost");
    press(&mut state, KeyCode::Enter);
    assert!(state.flash.as_ref().is_some_and(|f| f.is_error && f.text.contains("127.0.0.1:9464")));
    press(&mut state, KeyCode::Esc);
    press(&mut state, KeyCode::Enter);
    type_text(&mut state, "127.0.0.1:0");
    press(&mut state, KeyCode::Enter);
    assert_eq!(state.profiles.settings.metrics, "127.0.0.1:0");
    let Some(Command::StartRun { metrics, .. }) = press(&mut state, KeyCode::Char('r')) else {
        panic!("no run")
    };
    assert_eq!(metrics, Some("127.0.0.1:0".parse().unwrap()));
}

#[test]
fn a_profile_with_errors_or_no_phases_chosen_does_not_run() {
    let mut state = app();
    press(&mut state, KeyCode::Char('l'));
    press(&mut state, KeyCode::Char('a'));
    assert!(state.profiles.phase_enabled.iter().all(|on| !on));
    assert!(press(&mut state, KeyCode::Enter).is_none());
    assert!(state.flash.as_ref().is_some_and(|f| f.text.contains("no phase")));
    press(&mut state, KeyCode::Char('h'));
    press(&mut state, KeyCode::Char('G'));
    assert_eq!(state.profiles.current().map(|p| p.name.as_str()), Some("broken"));
    assert!(press(&mut state, KeyCode::Enter).is_none());
    assert!(state.flash.as_ref().is_some_and(|f| f.text.contains("has errors")));
}

fn running() -> AppState {
    let mut state = app();
    press(&mut state, KeyCode::Enter);
    update(
        &mut state,
        Action::RunEvent(Box::new(Event::RunStarted {
            run_id: "r1".into(),
            dir: PathBuf::from("experiment_results/r1"),
            target_url: "http://127.0.0.1:40000/".into(),
            phases: vec![],
        })),
    );
    update(&mut state, Action::Snapshot(Box::new(snapshot(30.0))));
    state
}

#[test]
fn run_keys_skip_abort_and_pause_the_view() {
    let mut state = running();
    assert_eq!(state.run.phase, RunPhase::Running);
    assert_eq!(state.env.form.url, "http://127.0.0.1:40000", "the live settings follow the run's target");
    assert!(matches!(press(&mut state, KeyCode::Char('s')), Some(Command::SkipPhase)));
    assert!(press(&mut state, KeyCode::Char('x')).is_none());
    assert_eq!(state.overlay, Some(Overlay::ConfirmAbort));
    assert!(press(&mut state, KeyCode::Char('n')).is_none());
    assert_eq!(state.overlay, None);
    press(&mut state, KeyCode::Char('x'));
    assert!(matches!(press(&mut state, KeyCode::Char('y')), Some(Command::AbortRun)));
    assert_eq!(state.run.phase, RunPhase::Stopping);

    press(&mut state, KeyCode::Char('p'));
    update(&mut state, Action::Snapshot(Box::new(snapshot(31.0))));
    let (points, shown) = state.run.shown();
    assert_eq!((points, shown.map(|s| s.run_elapsed_s)), (1, Some(30.0)), "a paused view keeps its data");
    press(&mut state, KeyCode::Char('p'));
    assert_eq!(state.run.shown().0, 2);
}

#[test]
fn quitting_during_a_run_asks_then_aborts_and_waits_for_results() {
    let mut state = running();
    assert!(press(&mut state, KeyCode::Char('q')).is_none());
    assert_eq!(state.overlay, Some(Overlay::ConfirmQuit));
    assert!(matches!(press(&mut state, KeyCode::Enter), Some(Command::AbortRun)));
    assert!(state.quitting);
    let command = update(&mut state, Action::RunEnded(Ok(PathBuf::from("experiment_results/r1"))));
    assert!(matches!(command, Some(Command::Quit)));
}

#[test]
fn q_quits_at_once_when_idle_and_ctrl_c_always() {
    let mut state = app();
    assert!(matches!(press(&mut state, KeyCode::Char('q')), Some(Command::Quit)));
    let mut state = running();
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    let first = handle_key(&state, ctrl_c).and_then(|a| update(&mut state, a));
    assert!(matches!(first, Some(Command::AbortRun)));
    let second = handle_key(&state, ctrl_c).and_then(|a| update(&mut state, a));
    assert!(matches!(second, Some(Command::Quit)));
}

#[test]
fn a_finished_run_renders_charts_then_reloads_results() {
    let mut state = running();
    let dir = PathBuf::from("experiment_results/r1");
    let finished = Event::RunFinished { summary: Box::new(run_summary("r1", 40.0, true)), dir: dir.clone() };
    let command = update(&mut state, Action::RunEvent(Box::new(finished)));
    assert!(matches!(command, Some(Command::RenderCharts(d)) if d == dir));
    assert_eq!(state.run.charts, ChartsState::Rendering { dir: dir.clone() });
    assert!(update(&mut state, Action::RunEnded(Ok(dir.clone()))).is_none(), "charts are already rendering");
    let done = ChartsState::Done {
        dir: dir.clone(),
        charts: vec![dir.join("charts/a.png")],
        html: vec![],
        warnings: vec![],
    };
    assert!(matches!(update(&mut state, Action::ChartsRendered(done.clone())), Some(Command::LoadResults)));
    assert_eq!(state.run.charts, done);
}

/// `attach`: the Run screen of a run started elsewhere.
fn attached() -> AppState {
    let mut state = running();
    state.attached = true;
    state
}

const STREAM_OVER: &str = "the run's control API closed the event stream (the run is over)";

#[test]
fn an_attached_run_that_finishes_says_its_verdict_in_normal_style_until_esc() {
    let mut state = attached();
    let dir = PathBuf::from("experiment_results/r1");
    let finished = Event::RunFinished { summary: Box::new(run_summary("r1", 40.0, true)), dir };
    update(&mut state, Action::RunEvent(Box::new(finished)));
    update(&mut state, Action::StreamEnded(STREAM_OVER.into()));
    assert_eq!(state.run.phase, RunPhase::Finished);
    let flash = state.flash.clone().expect("a notice of the end");
    assert_eq!(flash.text, "run finished: passed (detached)");
    assert!(!flash.is_error, "a normal end is not an error");
    // It stays: ticks and other keys (the help opened and closed) leave it; Esc takes it away.
    for _ in 0..200 {
        update(&mut state, Action::Tick);
    }
    press(&mut state, KeyCode::Char('?'));
    press(&mut state, KeyCode::Char('q'));
    assert_eq!(state.overlay, None);
    assert_eq!(state.flash.as_ref().map(|f| f.text.as_str()), Some("run finished: passed (detached)"));
    press(&mut state, KeyCode::Esc);
    assert_eq!(state.flash, None);

    let mut failing = attached();
    let dir = PathBuf::from("experiment_results/r2");
    let finished = Event::RunFinished { summary: Box::new(run_summary("r2", 40.0, false)), dir };
    update(&mut failing, Action::RunEvent(Box::new(finished)));
    update(&mut failing, Action::StreamEnded(STREAM_OVER.into()));
    assert_eq!(
        failing.flash.map(|f| (f.text, f.is_error)),
        Some(("run finished: failed (detached)".into(), false))
    );
}

#[test]
fn an_attached_stream_lost_before_the_end_is_an_error() {
    let mut state = attached();
    update(&mut state, Action::StreamEnded("connection reset by peer".into()));
    assert_eq!(state.run.phase, RunPhase::Failed("connection reset by peer".into()));
    let flash = state.flash.clone().expect("an error line");
    assert!(flash.is_error && flash.text.contains("connection reset"), "{flash:?}");
}

#[test]
fn results_export_open_and_compare() {
    let mut state = app();
    press(&mut state, KeyCode::Char('4'));
    update(&mut state, Action::ResultsLoaded(Ok(result_entries())));
    assert!(
        matches!(press(&mut state, KeyCode::Char('o')), Some(Command::OpenHtml(p)) if p.ends_with("experiment_summary.html"))
    );
    assert!(matches!(press(&mut state, KeyCode::Char('r')), Some(Command::RenderCharts(_))));
    assert!(press(&mut state, KeyCode::Char('r')).is_none(), "one re-render at a time");
    press(&mut state, KeyCode::Char('c'));
    press(&mut state, KeyCode::Char('j'));
    assert!(press(&mut state, KeyCode::Char('o')).is_none(), "the older run has no HTML yet");
    assert!(state.flash.as_ref().is_some_and(|f| f.is_error && f.text.contains("press r")));
    let (left, right) = ("20250102-100000-smoke".to_string(), "20250101-090000-smoke".to_string());
    assert!(matches!(
        press(&mut state, KeyCode::Char('c')),
        Some(Command::Compare { left: l, right: r, right_dir, .. })
            if l == left && r == right && right_dir.ends_with("20250101-090000-smoke")
    ));
    assert_eq!(state.results.view, ResultsView::Compare { left: left.clone(), right: right.clone() });
    assert!(matches!(state.results.comparison, Some(CompareState::Computing { .. })));
    // An answer for another pair (an earlier request) is not shown.
    let stale = Action::CompareDone { left: right.clone(), right: left.clone(), result: Err("old".into()) };
    update(&mut state, stale);
    assert!(matches!(state.results.comparison, Some(CompareState::Computing { .. })));
    let done = Action::CompareDone { left, right, result: Err("no phase in common".into()) };
    update(&mut state, done);
    assert!(
        matches!(&state.results.comparison, Some(CompareState::Done { result: Err(e), .. }) if e.contains("common"))
    );
    press(&mut state, KeyCode::Esc);
    assert_eq!(state.results.view, ResultsView::Detail);
    press(&mut state, KeyCode::Char('p'));
    assert_eq!(state.results.view, ResultsView::Paths);
    assert!(press(&mut state, KeyCode::Char('q')).is_none(), "q closes the paths view first");
    assert!(matches!(press(&mut state, KeyCode::Char('q')), Some(Command::Quit)));
}

#[test]
fn environment_without_docker_refuses_docker_keys_but_applies_settings() {
    let mut state = app();
    press(&mut state, KeyCode::Char('2'));
    update(&mut state, Action::DockerConnected(Err("no docker socket".into())));
    assert!(matches!(state.env.docker, DockerAvail::Unavailable(_)));
    assert!(press(&mut state, KeyCode::Char('u')).is_none());
    assert!(state.flash.as_ref().is_some_and(|f| f.text.contains("no docker socket")));

    press(&mut state, KeyCode::Char('l'));
    // Nothing to configure until a target URL is typed (the default target is embedded).
    press(&mut state, KeyCode::Char('k'));
    press(&mut state, KeyCode::Enter);
    type_text(&mut state, "http://127.0.0.1:8081");
    press(&mut state, KeyCode::Enter);
    press(&mut state, KeyCode::Char('j'));
    press(&mut state, KeyCode::Char('j'));
    press(&mut state, KeyCode::Enter);
    type_text(&mut state, "2");
    press(&mut state, KeyCode::Enter);
    assert!(press(&mut state, KeyCode::Char('a')).is_none(), "failure rate 2 is out of range");
    assert!(state.env.form.last_reply.as_ref().is_some_and(|r| r.is_err()));
    press(&mut state, KeyCode::Enter);
    press(&mut state, KeyCode::Backspace);
    type_text(&mut state, "0.25");
    press(&mut state, KeyCode::Enter);
    press(&mut state, KeyCode::Char('j'));
    press(&mut state, KeyCode::Char(' '));
    let Some(Command::Configure { base_url, body }) = press(&mut state, KeyCode::Char('a')) else {
        panic!("no /configure")
    };
    assert_eq!(base_url, "http://127.0.0.1:8081");
    assert_eq!(body, serde_json::json!({"failure_rate": 0.25, "failure_mode": "throttle_429"}));
    assert!(state.env.form.sending);
}

#[test]
fn docker_status_is_polled_while_the_environment_is_shown() {
    let mut state = app();
    press(&mut state, KeyCode::Char('2'));
    assert!(matches!(
        update(&mut state, Action::DockerConnected(Ok(()))),
        Some(Command::Docker(DockerOp::Status))
    ));
    let polls = (0..40).filter_map(|_| update(&mut state, Action::Tick)).count();
    assert_eq!(polls, 2, "one poll every 20 ticks of 100 ms");
    press(&mut state, KeyCode::Char('1'));
    assert_eq!((0..40).filter_map(|_| update(&mut state, Action::Tick)).count(), 0);
}

#[test]
fn a_finished_docker_operation_refreshes_services_and_target_health() {
    let mut state = app();
    press(&mut state, KeyCode::Char('2'));
    update(&mut state, Action::DockerConnected(Ok(())));
    // `u` reports the API's URL before it is done.
    update(&mut state, Action::EnvApiUp("http://127.0.0.1:8081/".into()));
    let command =
        update(&mut state, Action::DockerDone(Ok("environment up; API at http://127.0.0.1:8081/".into())));
    let Some(Command::Batch(commands)) = command else { panic!("expected status + health, got {command:?}") };
    assert!(matches!(commands[0], Command::Docker(DockerOp::Status)));
    assert!(matches!(&commands[1], Command::CheckHealth(url) if url == "http://127.0.0.1:8081"));
    assert!(state.env.last_result.as_ref().is_some_and(|r| r.is_ok()));
}

#[test]
fn the_environment_follows_the_target_the_user_chose() {
    let health_of = |command: Option<Command>| -> Option<String> {
        match command? {
            Command::CheckHealth(url) => Some(url),
            Command::Batch(list) => list.into_iter().find_map(|c| match c {
                Command::CheckHealth(url) => Some(url),
                _ => None,
            }),
            _ => None,
        }
    };
    // A run on the embedded target: followed while it runs, named as such after it.
    let mut state = running();
    assert_eq!(state.env.target, EnvTarget::Embedded { running: true });
    assert_eq!(state.env.form.url, "http://127.0.0.1:40000");
    update(&mut state, Action::RunEnded(Ok(PathBuf::from("experiment_results/r1"))));
    assert_eq!(state.env.target, EnvTarget::Embedded { running: false });
    assert_eq!(health_of(press(&mut state, KeyCode::Char('2'))), None, "nothing to ask once the run is over");
    update(&mut state, Action::HealthReply(Err("no answer".into())));
    assert_eq!(state.env.health, None, "a late reply from the ended target is not shown");
    let screen = draw_text(&state, 140, 30);
    assert!(screen.contains("Target embedded — exists only during a run"), "{screen}");
    let target_line = screen.lines().find(|l| l.contains("Target ")).unwrap_or_default();
    assert!(!target_line.contains("health"), "no health for a target that is gone: {target_line}");
    assert!(!screen.contains("no answer"), "{screen}");

    // `u` brought the Docker environment up: its API is the target now, checked at once.
    let command = update(&mut state, Action::EnvApiUp("http://127.0.0.1:18081/".into()));
    assert_eq!(health_of(command).as_deref(), Some("http://127.0.0.1:18081"));
    assert_eq!(state.env.target, EnvTarget::Docker);
    assert!(draw_text(&state, 140, 30).contains("Target docker API http://127.0.0.1:18081"));

    // A URL typed in the form is followed from Enter on.
    state.env.focus = terrafix_tui::tui::env_state::EnvFocus::Settings;
    state.env.form.cursor = 0;
    press(&mut state, KeyCode::Enter);
    for _ in 0..40 {
        press(&mut state, KeyCode::Backspace);
    }
    type_text(&mut state, "https://127.0.0.1:9443");
    let command = press(&mut state, KeyCode::Enter);
    assert_eq!(health_of(command).as_deref(), Some("https://127.0.0.1:9443"));
    assert_eq!(state.env.target, EnvTarget::Url);
}

fn draw_text(state: &AppState, width: u16, height: u16) -> String {
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| frame.render_widget(state, frame.area())).unwrap();
    terminal.backend().to_string()
}

/// The Results screen with the sample runs loaded and the newest one selected.
fn results_screen() -> AppState {
    let mut state = app();
    press(&mut state, KeyCode::Char('4'));
    update(&mut state, Action::ResultsLoaded(Ok(result_entries())));
    state
}

#[test]
fn results_filter_keeps_the_selection_on_a_shown_run_and_escape_clears_it() {
    let mut state = results_screen();
    press(&mut state, KeyCode::Char('G'));
    assert_eq!(state.results.current().map(|e| e.run_id.as_str()), Some("20241231-235959-broken"));
    press(&mut state, KeyCode::Char('/'));
    // A pasted tab is not part of any run id: the filter refuses it.
    type_text(&mut state, "SMO\tke");
    assert_eq!(state.results.filter.text, "SMOke");
    // The broken run is hidden, so the selection moves to the last run still shown.
    assert_eq!(state.results.visible(), [0, 1]);
    assert_eq!(state.results.selected, 1);
    press_n(&mut state, KeyCode::Down, 3);
    assert_eq!(state.results.selected, 1);
    press(&mut state, KeyCode::Up);
    assert_eq!(state.results.current().map(|e| e.run_id.as_str()), Some("20250102-100000-smoke"));
    press(&mut state, KeyCode::Esc);
    assert!(!state.results.filter.editing);
    assert_eq!((state.results.filter.text.as_str(), state.results.selected), ("", 0));
    assert_eq!(state.results.visible().len(), 3);
}

fn press_n(state: &mut AppState, code: KeyCode, times: usize) {
    for _ in 0..times {
        press(state, code);
    }
}

#[test]
fn export_dialog_keys_choose_format_size_charts_phases_and_folder() {
    let mut state = results_screen();
    assert!(press(&mut state, KeyCode::Char('e')).is_none(), "opening the dialog does no I/O");
    let dialog = state.results.dialog.as_ref().expect("e opens the export dialog");
    assert_eq!(dialog.folder, "./exports/20250102-100000-smoke/");
    assert_eq!(dialog.charts.len(), 11);
    assert_eq!(
        dialog.phases.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["smoke_health", "smoke_webhook"]
    );
    assert!(dialog.charts.iter().chain(&dialog.phases).all(|(_, on)| *on), "everything ticked at first");

    // Format row: → switches to SVG. Size row: → goes 1600×1000 → 2400×1500.
    press(&mut state, KeyCode::Right);
    press(&mut state, KeyCode::Char('j'));
    press(&mut state, KeyCode::Right);
    // First chart row: `a` clears all charts, space ticks throughput_timeline back.
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Char('a'));
    press(&mut state, KeyCode::Char(' '));
    // Down past the eleven charts to the second phase, and untick it.
    press_n(&mut state, KeyCode::Down, 12);
    press(&mut state, KeyCode::Char(' '));
    // The folder row: Enter edits, keys type (not switch screens), Enter ends.
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Enter);
    // The folder starts selected; End keeps it and moves to its end.
    press(&mut state, KeyCode::End);
    press_n(&mut state, KeyCode::Backspace, "20250102-100000-smoke/".len());
    for c in "slides/4".chars() {
        press(&mut state, KeyCode::Char(c));
    }
    press(&mut state, KeyCode::Enter);
    assert_eq!(state.screen, Screen::Results, "typing 4 in the folder does not switch tabs");
    press(&mut state, KeyCode::Down);
    let command = press(&mut state, KeyCode::Enter);
    let Some(Command::ExportCharts(request)) = command else {
        panic!("Export starts a job, got {command:?}")
    };
    assert_eq!(request.run_dir, PathBuf::from("experiment_results/20250102-100000-smoke"));
    assert_eq!(request.out_dir, PathBuf::from("./exports/slides/4"));
    assert_eq!(request.format, ExportFormat::Svg);
    assert_eq!((request.width, request.height), (2400, 1500));
    assert_eq!(request.only, ["throughput_timeline"]);
    assert_eq!(request.phases, ["smoke_health"]);
    assert!(state.is_busy(), "the spinner runs while exporting");
    assert!(press(&mut state, KeyCode::Enter).is_none(), "one export at a time");
    assert!(press(&mut state, KeyCode::Esc).is_none());
    assert!(state.results.dialog.is_some(), "Esc does not close the dialog while it exports");

    let written = PathBuf::from("./exports/slides/4/throughput_timeline.svg");
    update(&mut state, Action::ExportWritten(written.clone()));
    let dialog = state.results.dialog.as_ref().unwrap();
    assert_eq!(dialog.job, Some(ExportJob::Running { written: vec![written.clone()], total: 1 }));
    update(&mut state, Action::ExportFinished(Ok((vec![written.clone()], vec![]))));
    let dialog = state.results.dialog.as_ref().unwrap();
    assert_eq!(dialog.job, Some(ExportJob::Done { written: vec![written], warnings: vec![] }));
    assert!(!state.is_busy());

    // Closing and reopening (on another run) keeps the choices for the session.
    press(&mut state, KeyCode::Esc);
    assert!(state.results.dialog.is_none());
    press(&mut state, KeyCode::Char('j'));
    press(&mut state, KeyCode::Char('e'));
    let again = state.results.dialog.as_ref().unwrap();
    assert_eq!(again.run_id, "20250101-090000-smoke");
    assert_eq!((again.format, again.size()), (ExportFormat::Svg, (2400, 1500)));
    assert_eq!(again.folder, "./exports/slides/4", "a typed folder is remembered");
    assert_eq!(again.charts.iter().filter(|(_, on)| *on).count(), 1);
    assert!(!again.phases[1].1 && again.phases[0].1);
}

#[test]
fn export_dialog_refuses_an_empty_choice_and_q_closes_it() {
    let mut state = results_screen();
    press(&mut state, KeyCode::Char('e'));
    press_n(&mut state, KeyCode::Down, 2);
    press(&mut state, KeyCode::Char('a'));
    press_n(&mut state, KeyCode::Down, 40);
    assert!(press(&mut state, KeyCode::Enter).is_none(), "no chart ticked: nothing to export");
    assert!(state.flash.as_ref().is_some_and(|f| f.is_error && f.text.contains("at least one chart")));
    assert!(state.results.dialog.as_ref().unwrap().job.is_none());
    assert!(press(&mut state, KeyCode::Char('q')).is_none(), "q closes the dialog, it does not quit");
    assert!(state.results.dialog.is_none());
    assert!(!state.quitting);
}

#[test]
fn bundle_key_packs_the_run_and_reports_the_file() {
    let mut state = results_screen();
    let command = press(&mut state, KeyCode::Char('b'));
    let Some(Command::Bundle { run_id, run_dir, out }) = command else {
        panic!("b bundles, got {command:?}")
    };
    assert_eq!(run_id, "20250102-100000-smoke");
    assert_eq!(run_dir, PathBuf::from("experiment_results/20250102-100000-smoke"));
    assert_eq!(out, PathBuf::from("./exports/20250102-100000-smoke.tar.gz"));
    assert!(press(&mut state, KeyCode::Char('b')).is_none(), "one bundle at a time");
    let reply =
        update(&mut state, Action::BundleFinished { run_id: run_id.clone(), result: Ok(out.clone()) });
    assert!(matches!(reply, Some(Command::LoadResults)), "the run may have gained charts");
    assert_eq!(state.results.bundle, Some((run_id, BundleJob::Done(out))));
    assert!(
        state.flash.as_ref().is_some_and(|f| !f.is_error && f.text.contains("20250102-100000-smoke.tar.gz"))
    );
    update(
        &mut state,
        Action::BundleFinished { run_id: "20250102-100000-smoke".into(), result: Err("disk full".into()) },
    );
    assert!(state.flash.as_ref().is_some_and(|f| f.is_error && f.text.contains("disk full")));
}

#[test]
fn export_dialog_help_comes_from_its_key_table() {
    let mut state = results_screen();
    press(&mut state, KeyCode::Char('e'));
    assert!(matches!(
        handle_key(&state, KeyEvent::new(KeyCode::Char(' '), KeyModifiers::NONE)),
        Some(Action::Toggle)
    ));
    assert!(
        handle_key(&state, KeyEvent::new(KeyCode::Char('1'), KeyModifiers::NONE)).is_none(),
        "no tab switch"
    );
    let help = terrafix_tui::tui::keys::export_dialog_help();
    assert!(help.iter().any(|(k, what)| *k == "space" && what.contains("tick")), "{help:?}");
    assert!(help.iter().any(|(k, _)| k.starts_with("Enter")), "{help:?}");
}

#[test]
fn l_toggles_localstack_for_env_up() {
    let mut state = app();
    press(&mut state, KeyCode::Char('2'));
    update(&mut state, Action::DockerConnected(Ok(())));
    assert!(!state.env.with_localstack, "off by default: mock mode needs none");
    assert!(matches!(
        press(&mut state, KeyCode::Char('u')),
        Some(Command::Docker(DockerOp::Up { with_localstack: false }))
    ));
    update(&mut state, Action::DockerDone(Ok("up".into())));
    assert!(press(&mut state, KeyCode::Char('L')).is_none(), "toggling does no I/O");
    assert!(state.env.with_localstack);
    assert!(
        state.env.last_result.as_ref().is_some_and(|r| r.as_ref().is_ok_and(|t| t.contains("LocalStack on")))
    );
    assert!(matches!(
        press(&mut state, KeyCode::Char('u')),
        Some(Command::Docker(DockerOp::Up { with_localstack: true }))
    ));
}

/// A run whose second phase (closed, 5 users; or open, 10→40 req/s over 30 s) is running.
fn steering(load: PlanLoad) -> AppState {
    let mut state = app();
    press(&mut state, KeyCode::Enter);
    let plan = |name: &str| PhasePlan {
        name: name.into(),
        suite: "smoke".into(),
        planned: Duration::from_secs(30),
        load,
    };
    update(
        &mut state,
        Action::RunEvent(Box::new(Event::RunStarted {
            run_id: "r1".into(),
            dir: PathBuf::from("experiment_results/r1"),
            target_url: "http://127.0.0.1:40000/".into(),
            phases: vec![plan("first"), plan("smoke_webhook")],
        })),
    );
    update(
        &mut state,
        Action::RunEvent(Box::new(Event::PhaseStarted {
            index: 1,
            name: "smoke_webhook".into(),
            planned: Duration::from_secs(30),
        })),
    );
    update(&mut state, Action::Snapshot(Box::new(snapshot(30.0))));
    state
}

#[test]
fn plus_minus_and_a_typed_number_steer_the_users() {
    let mut state = steering(PlanLoad::Users { users: 5, spawn_rate: 5.0 });
    assert!(matches!(press(&mut state, KeyCode::Char('+')), Some(Command::Steer(Steer::Users(6)))));
    // The aim moves when the engine says the change was applied, not on the key press.
    let applied = |users| Event::PhaseChanged {
        index: 1,
        change: PhaseChange { at_s: 5.0, users: Some(users), ..Default::default() },
        planned: Duration::from_secs(30),
    };
    update(&mut state, Action::RunEvent(Box::new(applied(30))));
    assert_eq!(state.run.steer_target, Some(SteerTarget::Users(30)));
    assert_eq!(state.run.changes.len(), 1, "a marker for the charts");
    assert!((state.run.changes[0].run_s - 30.0).abs() < 1e-9, "phase start (25 s) + 5 s");
    assert!(matches!(press(&mut state, KeyCode::Char('-')), Some(Command::Steer(Steer::Users(27)))));
    assert!(matches!(press(&mut state, KeyCode::Char('=')), Some(Command::Steer(Steer::Users(33)))));

    assert!(press(&mut state, KeyCode::Char('u')).is_none(), "u opens the input line");
    assert!(state.is_typing());
    press(&mut state, KeyCode::Backspace);
    press(&mut state, KeyCode::Backspace);
    type_text(&mut state, "0");
    assert!(press(&mut state, KeyCode::Enter).is_none(), "0 users is refused");
    let input = state.run.steer_input.as_ref().expect("still open");
    assert!(input.error.as_deref().is_some_and(|e| e.contains("at least one user")), "{input:?}");
    press(&mut state, KeyCode::Backspace);
    type_text(&mut state, "12");
    assert!(matches!(press(&mut state, KeyCode::Enter), Some(Command::Steer(Steer::Users(12)))));
    assert!(state.run.steer_input.is_none());

    // 1 user is the floor: `-` then says so instead of asking for 0.
    update(&mut state, Action::RunEvent(Box::new(applied(1))));
    assert!(press(&mut state, KeyCode::Char('-')).is_none());
    assert!(state.flash.as_ref().is_some_and(|f| f.is_error && f.text.contains("at least one user")));
}

#[test]
fn in_an_open_phase_the_keys_change_the_arrival_rate() {
    let mut state = steering(PlanLoad::Rate { from: 10.0, to: 40.0 });
    // 5 s into a 30 s ramp from 10 to 40: the aim is 15 req/s, a step is 2 (10 %, rounded).
    let Some(Command::Steer(Steer::ArrivalRate(r))) = press(&mut state, KeyCode::Char('+')) else {
        panic!("expected a rate")
    };
    assert_eq!(r, 17.0);
    press(&mut state, KeyCode::Char('u'));
    for _ in 0..8 {
        press(&mut state, KeyCode::Backspace);
    }
    type_text(&mut state, "abc");
    press(&mut state, KeyCode::Enter);
    assert!(state.run.steer_input.as_ref().and_then(|i| i.error.as_ref()).is_some());
    press(&mut state, KeyCode::Esc);
    assert!(state.run.steer_input.is_none(), "Esc closes the input line");
    assert_eq!(state.screen, Screen::Run);
}

#[test]
fn e_extends_the_phase_and_r_resets_the_live_statistics() {
    let mut state = steering(PlanLoad::Users { users: 5, spawn_rate: 5.0 });
    press(&mut state, KeyCode::Char('e'));
    assert_eq!(state.run.steer_input.as_ref().map(|i| i.text.as_str()), Some("30s"), "a default to accept");
    press(&mut state, KeyCode::Backspace);
    press(&mut state, KeyCode::Backspace);
    press(&mut state, KeyCode::Backspace);
    type_text(&mut state, "2m");
    let command = press(&mut state, KeyCode::Enter);
    assert!(
        matches!(command, Some(Command::Steer(Steer::Extend(d))) if d == Duration::from_secs(120)),
        "{command:?}"
    );
    assert!(matches!(press(&mut state, KeyCode::Char('r')), Some(Command::ResetStats)));
    assert_eq!(state.run.resets, vec![30.0], "a mark where the statistics restart");

    // Between phases nothing can be steered, and the screen says why.
    update(
        &mut state,
        Action::RunEvent(Box::new(Event::Pause {
            next_phase: "next".into(),
            duration: Duration::from_secs(5),
        })),
    );
    assert!(press(&mut state, KeyCode::Char('+')).is_none());
    assert!(state.flash.as_ref().is_some_and(|f| f.is_error && f.text.contains("between phases")));
}

#[test]
fn the_new_run_form_checks_its_fields_runs_and_writes() {
    let mut state = app();
    assert!(press(&mut state, KeyCode::Char('n')).is_none());
    assert!(state.profiles.quick.is_some(), "n opens the form");
    // The first profile's first phase is the starting point; its behaviour is offered.
    let form = state.profiles.quick.as_ref().unwrap();
    assert!(form.behaviours.iter().any(|b| b.name == "throughput" && b.defined_in.is_none()));
    // behaviour → model → users: clear users and type a bad value, and a bad duration.
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Down);
    assert_eq!(state.profiles.quick.as_ref().unwrap().current(), QuickField::Users);
    for _ in 0..6 {
        press(&mut state, KeyCode::Backspace);
    }
    type_text(&mut state, "0");
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Down);
    assert_eq!(state.profiles.quick.as_ref().unwrap().current(), QuickField::Duration);
    type_text(&mut state, "x");
    assert!(press(&mut state, KeyCode::Enter).is_none(), "a form with problems does not run");
    let form = state.profiles.quick.as_ref().unwrap();
    assert!(
        form.error(QuickField::Users).is_some() && form.error(QuickField::Duration).is_some(),
        "{:?}",
        form.errors
    );
    assert!(state.flash.as_ref().is_some_and(|f| f.is_error && f.text.contains("2 fields")));
    assert!(press(&mut state, KeyCode::Char('w')).is_none(), "nor is it written");

    // The typed x replaced the prefilled duration: erase it and type a valid one.
    press(&mut state, KeyCode::Backspace);
    type_text(&mut state, "1m");
    for _ in 0..3 {
        press(&mut state, KeyCode::Up);
    }
    assert_eq!(state.profiles.quick.as_ref().unwrap().current(), QuickField::Model);
    press(&mut state, KeyCode::Char(' '));
    let form = state.profiles.quick.as_ref().unwrap();
    assert!(
        form.open && form.fields().contains(&QuickField::ArrivalRate),
        "space switches to the open model"
    );
    let Some(Command::WriteQuickProfile(choice)) = press(&mut state, KeyCode::Char('w')) else {
        panic!("w writes a valid form")
    };
    assert!(matches!(choice.quick.load, QuickLoad::Open { .. }));
    let Some(Command::StartQuickRun(_)) = press(&mut state, KeyCode::Enter) else { panic!("Enter runs it") };
    assert_eq!(state.profiles.settings.seed, "random");
    assert_eq!(state.screen, Screen::Run);
    assert_eq!(state.run.phase, RunPhase::Starting);
    assert!(state.profiles.quick.is_none(), "the form closes when its run starts");
}

#[test]
fn escape_closes_the_form_and_q_types_into_the_url() {
    let mut state = app();
    press(&mut state, KeyCode::Char('n'));
    press(&mut state, KeyCode::Esc);
    assert!(state.profiles.quick.is_none());
    press(&mut state, KeyCode::Char('n'));
    let form = state.profiles.quick.as_mut().unwrap();
    form.target = terrafix_tui::tui::state::TargetChoice::Url;
    form.cursor = form.fields().len() - 1;
    type_text(&mut state, "/qw");
    let form = state.profiles.quick.as_ref().unwrap();
    assert!(form.url.ends_with("/qw"), "{}", form.url);
    assert!(press(&mut state, KeyCode::Char('q')).is_none());
    assert!(state.profiles.quick.is_some(), "q in the URL is text, not close");
}

#[test]
fn quitting_while_docker_work_is_in_flight_asks_first_then_quits() {
    let mut state = app();
    state.env.busy = Some("env up".into());
    assert!(press(&mut state, KeyCode::Char('q')).is_none(), "q asks first while Docker work runs");
    assert_eq!(state.overlay, Some(Overlay::ConfirmQuit));
    assert!(press(&mut state, KeyCode::Char('n')).is_none());
    assert_eq!(state.overlay, None);
    press(&mut state, KeyCode::Char('q'));
    // The worker then cancels the Docker work and waits for its cleanup before exiting.
    assert!(matches!(press(&mut state, KeyCode::Char('y')), Some(Command::Quit)));
    assert!(state.quitting);
}

#[test]
fn the_run_settings_carry_timeout_trust_configure_and_generators_into_the_run() {
    let mut state = app();
    // Settings pane: target, URL, time scale, users, spawn rate, duration, seed, timeout, CA, insecure, configure.
    press(&mut state, KeyCode::Right);
    press(&mut state, KeyCode::Right);
    assert_eq!(state.profiles.focus, ProfilesFocus::Settings);
    for _ in 0..7 {
        press(&mut state, KeyCode::Down);
    }
    press(&mut state, KeyCode::Enter);
    type_text(&mut state, "5x");
    press(&mut state, KeyCode::Enter);
    assert!(
        state.flash.as_ref().is_some_and(|f| f.is_error && f.text.contains("timeout")),
        "a bad timeout is refused"
    );
    for _ in 0..2 {
        press(&mut state, KeyCode::Backspace);
    }
    type_text(&mut state, "45s");
    press(&mut state, KeyCode::Enter);
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Enter); // insecure: yes
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Char(' ')); // configure: no
    assert!(state.profiles.settings.insecure && !state.profiles.settings.configure);
    // generators: a bad count is refused with the range, 3 is a distributed run of 3 tasks.
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Enter);
    type_text(&mut state, "0");
    press(&mut state, KeyCode::Enter);
    assert!(
        state.flash.as_ref().is_some_and(|f| f.is_error && f.text.contains("1 to 256")),
        "zero generators are refused: {:?}",
        state.flash
    );
    press(&mut state, KeyCode::Backspace);
    type_text(&mut state, "3");
    press(&mut state, KeyCode::Enter);
    assert_eq!(state.profiles.settings.generators, "3");
    // headers: a header without a colon is refused; a good one is shown by name only.
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Enter);
    type_text(&mut state, "nocolon");
    press(&mut state, KeyCode::Enter);
    assert!(
        state.flash.as_ref().is_some_and(|f| f.is_error && f.text.contains("headers")),
        "{:?}",
        state.flash
    );
    for _ in 0.."nocolon".len() {
        press(&mut state, KeyCode::Backspace);
    }
    type_text(&mut state, "X-Api-Key: s3cret; X-Team: sre");
    press(&mut state, KeyCode::Enter);
    assert_eq!(
        state.profiles.settings.text(terrafix_tui::tui::state::RunField::Headers),
        "X-Api-Key: ***; X-Team: ***"
    );
    // Editing again starts empty: the value is never put back on the screen.
    press(&mut state, KeyCode::Enter);
    assert_eq!(state.profiles.edit.as_ref().map(|e| e.text.as_str()), Some(""));
    press(&mut state, KeyCode::Esc);
    state.profiles.edit = None;
    press(&mut state, KeyCode::Left);
    press(&mut state, KeyCode::Left);
    let Some(Command::StartRun { request, .. }) = press(&mut state, KeyCode::Char('r')) else {
        panic!("r runs")
    };
    assert_eq!(request.target_options.request_timeout, Duration::from_secs(45));
    assert_eq!(request.target_options.tls, terrafix_tui::engine::tls::TlsTrust::Insecure);
    assert!(!request.target_options.configure_target);
    assert_eq!(request.distributed.map(|n| n.get()), Some(3));
    let headers = &request.target_options.headers;
    assert!(headers.contains(&("X-Api-Key".to_string(), "s3cret".to_string())), "{headers:?}");
    assert!(headers.contains(&("X-Team".to_string(), "sre".to_string())), "{headers:?}");
}

/// Presses a key with Ctrl held.
fn press_ctrl(state: &mut AppState, c: char) -> Option<Command> {
    let action = handle_key(state, KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))?;
    update(state, action)
}

fn steer_text(state: &AppState) -> &str {
    state.run.steer_input.as_ref().map_or("", |i| i.text.as_str())
}

#[test]
fn a_typed_key_replaces_the_prefilled_user_count_and_is_echoed_with_the_old_one() {
    let mut state = steering(PlanLoad::Users { users: 5, spawn_rate: 5.0 });
    press(&mut state, KeyCode::Char('u'));
    assert_eq!(steer_text(&state), "5", "the current aim is offered");
    type_text(&mut state, "8");
    assert_eq!(steer_text(&state), "8", "the prefilled 5 was selected: 8 replaces it, never 58");
    let command = press(&mut state, KeyCode::Enter);
    assert!(matches!(command, Some(Command::Steer(Steer::Users(8)))), "{command:?}");
    let flash = state.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(flash.contains("users 8 (was 5)"), "{flash}");
    assert!(state.run.messages.iter().any(|m| m.contains("users 8 (was 5)")), "echoed in the events too");
}

#[test]
fn ctrl_u_clears_ctrl_w_deletes_a_word_and_arrows_move_the_cursor_in_the_user_prompt() {
    let mut state = steering(PlanLoad::Users { users: 5, spawn_rate: 5.0 });
    press(&mut state, KeyCode::Char('u'));
    assert!(press_ctrl(&mut state, 'u').is_none());
    assert_eq!(steer_text(&state), "", "Ctrl-U clears rather than typing a u");
    type_text(&mut state, "12");
    press(&mut state, KeyCode::Left);
    type_text(&mut state, "0");
    assert_eq!(steer_text(&state), "102", "← moved the cursor: 0 goes in the middle");
    press(&mut state, KeyCode::Home);
    type_text(&mut state, "3");
    press(&mut state, KeyCode::End);
    type_text(&mut state, "4");
    assert_eq!(steer_text(&state), "31024");
    press(&mut state, KeyCode::Left);
    press(&mut state, KeyCode::Delete);
    assert_eq!(steer_text(&state), "3102", "Delete takes the character under the cursor");
    type_text(&mut state, " 9");
    press_ctrl(&mut state, 'w');
    assert_eq!(steer_text(&state), "3102 ", "Ctrl-W deletes the word before the cursor");
    press_ctrl(&mut state, 'w');
    assert_eq!(steer_text(&state), "");
    type_text(&mut state, "7");
    assert!(matches!(press(&mut state, KeyCode::Enter), Some(Command::Steer(Steer::Users(7)))));
    // Outside a prompt a Ctrl key is not its letter: Ctrl-U does not open the prompt.
    assert!(press_ctrl(&mut state, 'u').is_none());
    assert!(state.run.steer_input.is_none());
}

#[test]
fn a_typed_duration_replaces_the_prefilled_one_in_the_new_run_form() {
    let mut state = app();
    press(&mut state, KeyCode::Char('n'));
    let to_duration = |state: &mut AppState| {
        while state.profiles.quick.as_ref().is_some_and(|f| f.current() != QuickField::Duration) {
            press(state, KeyCode::Down);
        }
    };
    to_duration(&mut state);
    let form = state.profiles.quick.as_mut().unwrap();
    form.duration = "1m".into();
    type_text(&mut state, "8s");
    assert_eq!(state.profiles.quick.as_ref().unwrap().duration, "8s", "never 1m8s");

    // Moving the cursor keeps the value and inserts where it stands.
    press(&mut state, KeyCode::Left);
    type_text(&mut state, "0");
    assert_eq!(state.profiles.quick.as_ref().unwrap().duration, "80s");
    press_ctrl(&mut state, 'w');
    assert_eq!(state.profiles.quick.as_ref().unwrap().duration, "s");
    press(&mut state, KeyCode::Home);
    type_text(&mut state, "9");
    assert_eq!(state.profiles.quick.as_ref().unwrap().duration, "9s");
    press_ctrl(&mut state, 'u');
    assert_eq!(state.profiles.quick.as_ref().unwrap().duration, "s", "Ctrl-U clears before the cursor");
    press(&mut state, KeyCode::End);
    press_ctrl(&mut state, 'u');
    assert_eq!(state.profiles.quick.as_ref().unwrap().duration, "");

    // Leaving the field and coming back selects it again.
    type_text(&mut state, "2m");
    press(&mut state, KeyCode::Up);
    press(&mut state, KeyCode::Down);
    type_text(&mut state, "5s");
    assert_eq!(state.profiles.quick.as_ref().unwrap().duration, "5s");
}

#[test]
fn a_message_goes_with_the_next_key_or_after_a_few_seconds_and_an_error_stays_until_esc() {
    let mut state = steering(PlanLoad::Users { users: 5, spawn_rate: 5.0 });
    press(&mut state, KeyCode::Char('r'));
    assert!(state.flash.as_ref().is_some_and(|f| !f.is_error), "r says what it did");
    update(&mut state, Action::Snapshot(Box::new(snapshot(31.0))));
    assert!(state.flash.is_some(), "news leaves the message");
    press(&mut state, KeyCode::Char('p'));
    press(&mut state, KeyCode::Char('j'));
    assert!(state.flash.is_none(), "the next key takes the message away");

    press(&mut state, KeyCode::Char('r'));
    for _ in 0..terrafix_tui::tui::state::FLASH_TICKS - 1 {
        update(&mut state, Action::Tick);
    }
    assert!(state.flash.is_some(), "still there just before its time");
    update(&mut state, Action::Tick);
    assert!(state.flash.is_none(), "gone after a few seconds");

    // An error stays through ticks and keys until Esc dismisses it.
    update(
        &mut state,
        Action::RunEvent(Box::new(Event::Pause { next_phase: "n".into(), duration: Duration::from_secs(5) })),
    );
    press(&mut state, KeyCode::Char('+'));
    assert!(state.flash.as_ref().is_some_and(|f| f.is_error), "between phases: an error");
    for _ in 0..100 {
        update(&mut state, Action::Tick);
    }
    press(&mut state, KeyCode::Char('j'));
    assert!(state.flash.as_ref().is_some_and(|f| f.is_error), "an error stays");
    press(&mut state, KeyCode::Esc);
    assert!(state.flash.is_none(), "Esc dismisses it");
}

#[test]
fn a_run_planned_longer_than_five_minutes_asks_first_with_its_planned_total() {
    let mut state = app();
    // smoke's two phases at 10 minutes each: 20 minutes and a pause.
    state.profiles.settings.duration = "10m".into();
    assert!(press(&mut state, KeyCode::Enter).is_none(), "nothing starts yet");
    let Some(Overlay::ConfirmStart { name, planned }) = state.overlay.clone() else {
        panic!("a long run asks first: {:?}", state.overlay)
    };
    assert_eq!(name, "smoke");
    assert!(planned.starts_with("20m"), "{planned}");
    assert!(draw_text(&state, 100, 30).contains(&format!("smoke is planned to take {planned}")));
    assert!(press(&mut state, KeyCode::Char('n')).is_none());
    assert_eq!(
        (state.overlay.clone(), state.screen, state.run.phase.clone()),
        (None, Screen::Profiles, RunPhase::Idle)
    );
    press(&mut state, KeyCode::Enter);
    let command = press(&mut state, KeyCode::Char('y'));
    assert!(
        matches!(&command, Some(Command::StartRun { request: r, .. }) if r.profile.name == "smoke"),
        "{command:?}"
    );
    assert_eq!((state.screen, state.run.phase.clone()), (Screen::Run, RunPhase::Starting));

    // A short run starts at once.
    let mut state = app();
    assert!(matches!(press(&mut state, KeyCode::Enter), Some(Command::StartRun { .. })));
    assert_eq!(state.overlay, None);
}

/// A started run of 13 planned phases, p0 … p12 (as many as a capacity search plans).
fn planned_run() -> AppState {
    let mut state = app();
    press(&mut state, KeyCode::Enter);
    let plan = |name: &str| PhasePlan {
        name: name.into(),
        suite: "smoke".into(),
        planned: Duration::from_secs(30),
        load: PlanLoad::Users { users: 5, spawn_rate: 5.0 },
    };
    let phases = (0..13).map(|i| plan(&format!("p{i}"))).collect::<Vec<_>>();
    update(
        &mut state,
        Action::RunEvent(Box::new(Event::RunStarted {
            run_id: "r1".into(),
            dir: PathBuf::from("experiment_results/r1"),
            target_url: "http://127.0.0.1:40000/".into(),
            phases,
        })),
    );
    update(&mut state, Action::Snapshot(Box::new(snapshot(30.0))));
    state
}

fn finish_phase(state: &mut AppState, index: usize, status: terrafix_tui::metrics::summary::PhaseStatus) {
    let mut summary = phase_summary(&format!("p{index}"), 10.0, 100.0, true);
    summary.status = status;
    update(state, Action::RunEvent(Box::new(Event::PhaseFinished { index, summary: Box::new(summary) })));
}

#[test]
fn an_abort_asks_first_and_its_summary_says_after_how_many_phases() {
    use terrafix_tui::metrics::summary::{PhaseStatus, RunStatus};
    let mut state = planned_run();
    state.run.plan.truncate(3);
    finish_phase(&mut state, 0, PhaseStatus::Completed);
    finish_phase(&mut state, 1, PhaseStatus::Completed);
    assert!(press(&mut state, KeyCode::Char('x')).is_none());
    assert_eq!(state.overlay, Some(Overlay::ConfirmAbort), "abort asks first");
    assert!(matches!(press(&mut state, KeyCode::Char('y')), Some(Command::AbortRun)));
    finish_phase(&mut state, 2, PhaseStatus::Aborted);
    let mut summary = run_summary("r1", 10.0, false);
    summary.status = RunStatus::Aborted;
    update(
        &mut state,
        Action::RunEvent(Box::new(Event::RunFinished {
            summary: Box::new(summary),
            dir: PathBuf::from("r1"),
        })),
    );
    let screen = draw_text(&state, 160, 48);
    assert!(screen.contains("aborted after 2 of 3 phases"), "{screen}");
    assert!(!screen.contains("all 3 phases done"), "{screen}");
    assert!(!screen.contains("thresholds failed"), "no threshold failed: {screen}");
    assert!(!screen.contains("✓ smoke finished"), "{screen}");
    let p2 = screen.lines().find(|l| l.contains("p2 ")).expect("the aborted phase has a row");
    assert!(p2.contains("aborted") && !p2.contains('✓'), "{p2}");
}

#[test]
fn a_capacity_run_shows_its_answer_and_counts_the_phases_that_ran() {
    use terrafix_tui::metrics::summary::{CapacityReport, PhaseStatus};
    let mut state = planned_run();
    for i in 0..4 {
        finish_phase(&mut state, i, PhaseStatus::Completed);
    }
    let mut summary = run_summary("r1", 10.0, true);
    summary.capacity = Some(CapacityReport {
        p99_limit_ms: 500.0,
        max_error_rate: 0.01,
        max_sustainable_rps: Some(120.0),
        first_fail_rps: Some(140.0),
        confidence: "between 120 and 140 req/s".into(),
        steps: Vec::new(),
    });
    update(
        &mut state,
        Action::RunEvent(Box::new(Event::RunFinished {
            summary: Box::new(summary),
            dir: PathBuf::from("r1"),
        })),
    );
    let screen = draw_text(&state, 160, 48);
    assert!(screen.contains("capacity: 120 req/s sustained"), "{screen}");
    assert!(screen.contains("between 120 and 140 req/s"), "{screen}");
    assert!(screen.contains("all 4 phases done"), "13 planned, 4 ran: {screen}");
    // At 80 columns the answer stays whole; the confidence goes whole, never cut mid-word.
    let status = draw_text(&state, 80, 24).lines().nth(1).unwrap_or_default().to_string();
    assert!(status.contains("capacity: 120 req/s sustained"), "{status}");
    assert!(!status.contains("(between") || status.contains("140 req/s)"), "cut mid-way: {status}");
}

#[test]
fn r_reloads_the_profiles_and_a_shadowing_local_profile_is_marked_local() {
    let mut state = app();
    assert!(matches!(press(&mut state, KeyCode::Char('R')), Some(Command::LoadProfiles)));
    assert!(state.profiles.loading);
    let mut items = profile_items();
    items[0].source = "profiles/smoke.yaml".into();
    update(&mut state, Action::ProfilesLoaded(items));
    let screen = draw_text(&state, 120, 30);
    let smoke_rows: Vec<&str> = screen.lines().filter(|l| l.contains("smoke 2ph")).collect();
    assert_eq!(smoke_rows.len(), 1, "{screen}");
    assert!(smoke_rows[0].contains("smoke 2ph local"), "{screen}");
    assert!(!screen.contains("throughput 2ph local"), "a shipped one is not marked: {screen}");
}

#[test]
fn the_environment_screen_probes_only_a_target_someone_chose() {
    let mut state = app();
    // Default target: embedded, which exists only during a run: nothing to ask.
    let command = update(&mut state, Action::Show(Screen::Environment));
    assert!(!format!("{command:?}").contains("CheckHealth"), "{command:?}");
    assert_eq!(state.env.target, EnvTarget::Embedded { running: false });
    assert!(update(&mut state, Action::ApplySettings).is_none(), "nothing to configure");
    assert!(state.flash.as_ref().is_some_and(|f| f.is_error && f.text.contains("embedded")));
    // Run settings target → docker: not up yet, so still nothing is asked.
    update(&mut state, Action::Show(Screen::Profiles));
    for action in [Action::FocusNext, Action::FocusNext, Action::Toggle] {
        update(&mut state, action);
    }
    let command = update(&mut state, Action::Show(Screen::Environment));
    assert_eq!(state.env.target, EnvTarget::Docker);
    assert!(!format!("{command:?}").contains("CheckHealth"), "{command:?}");
    // → URL: that URL is checked.
    update(&mut state, Action::Show(Screen::Profiles));
    update(&mut state, Action::Toggle);
    let command = update(&mut state, Action::Show(Screen::Environment));
    assert!(format!("{command:?}").contains(r#"CheckHealth("http://127.0.0.1:8081")"#), "{command:?}");
}

#[test]
fn a_long_quick_run_asks_first_showing_its_planned_total() {
    let mut state = app();
    update(&mut state, Action::NewRun);
    let duration = {
        let form = state.profiles.quick.as_ref().unwrap();
        form.fields().iter().position(|f| *f == QuickField::Duration).unwrap()
    };
    for _ in 0..duration {
        update(&mut state, Action::Down);
    }
    type_text(&mut state, "12m");
    assert!(update(&mut state, Action::Enter).is_none(), "a 12 min run started without asking");
    assert_eq!(
        state.overlay,
        Some(Overlay::ConfirmStart { name: "adhoc:health_checker".into(), planned: "12m".into() })
    );
    // No: back to the form, nothing started.
    update(&mut state, Action::Dismiss);
    assert!(state.profiles.quick.is_some() && state.run.phase == RunPhase::Idle);
    // Yes: it starts.
    update(&mut state, Action::Enter);
    let command = update(&mut state, Action::Confirm);
    assert!(matches!(command, Some(Command::StartQuickRun(_))), "{command:?}");
    assert!(state.profiles.quick.is_none());
    assert_eq!(state.screen, Screen::Run);
}

#[test]
fn a_short_quick_run_starts_at_once() {
    let mut state = app();
    update(&mut state, Action::NewRun);
    let command = update(&mut state, Action::Enter);
    assert!(matches!(command, Some(Command::StartQuickRun(_))), "{command:?}");
    assert_eq!(state.overlay, None);
}
