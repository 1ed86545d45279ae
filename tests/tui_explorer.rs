//! The Results screen's run detail (Enter on a run): key → action → state, the command
//! that reads the run folder, and snapshots of the detail and of the list with findings
//! at 80×24 and 160×48 on TestBackend, from fixture state.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod tui_support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use terrafix_tui::tui::detail_state::DetailLoad;
use terrafix_tui::tui::state::ResultsView;
use terrafix_tui::tui::{Action, AppState, Command, Screen, handle_key, update};
use tui_support::*;

fn press(state: &mut AppState, code: KeyCode) -> Option<Command> {
    let action = handle_key(state, KeyEvent::new(code, KeyModifiers::NONE))?;
    update(state, action)
}

fn draw(state: &AppState, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal.draw(|frame| frame.render_widget(state, frame.area())).expect("drawn");
    terminal.backend().to_string()
}

/// The Results screen with the fixture runs listed (the failing smoke run selected).
fn results() -> AppState {
    let mut state = app();
    update(&mut state, Action::Show(Screen::Results));
    update(&mut state, Action::ResultsLoaded(Ok(result_entries())));
    state
}

/// The detail of the selected run open and loaded.
fn opened() -> AppState {
    let mut state = results();
    press(&mut state, KeyCode::Enter);
    update(
        &mut state,
        Action::RunDetailLoaded {
            run_id: "20250102-100000-smoke".into(),
            result: Ok(Box::new(run_detail())),
        },
    );
    state
}

fn phase(state: &AppState) -> usize {
    state.results.explorer.as_ref().map(|e| e.phase).expect("detail open")
}

#[test]
fn enter_opens_the_selected_runs_detail_and_asks_for_its_folder() {
    let mut state = results();
    let command = press(&mut state, KeyCode::Enter);
    let Some(Command::LoadRunDetail { run_id, dir }) = command else {
        panic!("expected LoadRunDetail, got {command:?}")
    };
    assert_eq!(run_id, "20250102-100000-smoke");
    assert!(dir.ends_with("20250102-100000-smoke"));
    let explorer = state.results.explorer.as_ref().expect("detail open");
    assert!(matches!(explorer.load, DetailLoad::Loading));
    assert!(draw(&state, 80, 24).contains("reading 20250102-100000-smoke"));
}

#[test]
fn a_detail_that_arrives_for_another_run_is_not_shown() {
    let mut state = results();
    press(&mut state, KeyCode::Enter);
    update(
        &mut state,
        Action::RunDetailLoaded { run_id: "other".into(), result: Ok(Box::new(run_detail())) },
    );
    assert!(matches!(state.results.explorer.as_ref().map(|e| &e.load), Some(DetailLoad::Loading)));
}

#[test]
fn a_broken_run_folder_shows_why_and_esc_goes_back() {
    let mut state = results();
    press(&mut state, KeyCode::Enter);
    let reason =
        "experiment_results/x has no experiment_summary.json: the run is still going, or it was killed";
    update(
        &mut state,
        Action::RunDetailLoaded { run_id: "20250102-100000-smoke".into(), result: Err(reason.into()) },
    );
    let screen = draw(&state, 80, 24);
    assert!(screen.contains("cannot show 20250102-100000-smoke"), "{screen}");
    assert!(screen.contains("no experiment_summary.json"), "{screen}");
    press(&mut state, KeyCode::Esc);
    assert!(state.results.explorer.is_none());
}

#[test]
fn left_and_right_move_between_phases_and_stop_at_the_ends() {
    let mut state = opened();
    assert_eq!(phase(&state), 0);
    press(&mut state, KeyCode::Left);
    assert_eq!(phase(&state), 0);
    press(&mut state, KeyCode::Right);
    assert_eq!(phase(&state), 1);
    press(&mut state, KeyCode::Char('l'));
    assert_eq!(phase(&state), 1, "two phases: the second is the last");
    press(&mut state, KeyCode::Char('h'));
    assert_eq!(phase(&state), 0);
}

#[test]
fn scrolling_stops_at_the_end_and_a_new_phase_starts_at_the_top() {
    let mut state = opened();
    press(&mut state, KeyCode::Right);
    for _ in 0..500 {
        press(&mut state, KeyCode::Down);
    }
    let end = state.results.explorer.as_ref().map(|e| e.scroll).expect("open");
    assert!(end > 10 && end < 200, "scroll stops at the text's end, not at {end}");
    press(&mut state, KeyCode::Up);
    assert_eq!(state.results.explorer.as_ref().map(|e| e.scroll), Some(end - 1), "one Up is one line back");
    press(&mut state, KeyCode::Char('g'));
    assert_eq!(state.results.explorer.as_ref().map(|e| e.scroll), Some(0));
    press(&mut state, KeyCode::Char('G'));
    assert_eq!(state.results.explorer.as_ref().map(|e| e.scroll), Some(end));
    press(&mut state, KeyCode::Left);
    assert_eq!(state.results.explorer.as_ref().map(|e| e.scroll), Some(0));
}

#[test]
fn esc_and_q_close_the_detail_without_quitting() {
    let mut state = opened();
    assert!(press(&mut state, KeyCode::Esc).is_none());
    assert!(state.results.explorer.is_none());
    assert_eq!(state.screen, Screen::Results);
    press(&mut state, KeyCode::Enter);
    let command = press(&mut state, KeyCode::Char('q'));
    assert!(command.is_none(), "q closes the detail, it does not quit: {command:?}");
    assert!(state.results.explorer.is_none());
    assert!(!state.quitting);
}

#[test]
fn e_from_the_detail_opens_the_export_dialog_and_esc_returns_to_the_detail() {
    let mut state = opened();
    press(&mut state, KeyCode::Char('e'));
    assert!(state.results.dialog.is_some(), "export dialog open");
    assert!(state.results.explorer.is_some(), "the detail stays under the dialog");
    press(&mut state, KeyCode::Esc);
    assert!(state.results.dialog.is_none());
    assert!(state.results.explorer.is_some(), "Esc closes only the dialog");
}

#[test]
fn c_from_the_detail_marks_the_run_then_c_on_another_compares() {
    let mut state = opened();
    assert!(press(&mut state, KeyCode::Char('c')).is_none());
    assert_eq!(state.results.compare_mark.as_deref(), Some("20250102-100000-smoke"));
    assert!(state.results.explorer.is_none(), "back on the list to choose the other run");
    press(&mut state, KeyCode::Down);
    press(&mut state, KeyCode::Enter);
    let command = press(&mut state, KeyCode::Char('c'));
    assert!(matches!(command, Some(Command::Compare { .. })), "{command:?}");
    assert!(matches!(state.results.view, ResultsView::Compare { .. }));
    assert!(state.results.explorer.is_none());
}

#[test]
fn the_help_overlay_lists_the_details_own_keys() {
    let mut state = opened();
    press(&mut state, KeyCode::Char('?'));
    let screen = draw(&state, 160, 48);
    assert!(screen.contains("previous / next phase"), "{screen}");
    assert!(screen.contains("export dialog for this run"), "{screen}");
}

#[test]
fn results_run_detail_snapshots() {
    let mut state = opened();
    press(&mut state, KeyCode::Right);
    insta::assert_snapshot!("run_detail_small", draw(&state, 80, 24));
    insta::assert_snapshot!("run_detail_large", draw(&state, 160, 48));
    press(&mut state, KeyCode::PageDown);
    insta::assert_snapshot!("run_detail_small_scrolled", draw(&state, 80, 24));
    press(&mut state, KeyCode::Left);
    insta::assert_snapshot!("run_detail_first_phase_large", draw(&state, 160, 48));
}

#[test]
fn results_list_with_findings_snapshots() {
    let state = results();
    insta::assert_snapshot!("list_with_findings_small", draw(&state, 80, 24));
    insta::assert_snapshot!("list_with_findings_large", draw(&state, 160, 48));
}

#[test]
fn the_detail_draws_at_tiny_and_odd_sizes_without_cutting_columns_to_stubs() {
    let mut state = opened();
    press(&mut state, KeyCode::Right);
    for (w, h) in [(1, 1), (20, 5), (40, 12), (81, 25), (120, 30), (200, 60)] {
        assert!(!draw(&state, w, h).is_empty());
    }
    // At 80 columns the endpoint table keeps whole columns: every header it shows is whole.
    let small = draw(&state, 80, 24);
    for stub in [" er ", " capac", " p9 ", " re "] {
        assert!(!small.contains(stub), "a column cut to a stub ({stub:?}):\n{small}");
    }
}

#[test]
fn without_colour_the_detail_has_no_colour_and_with_it_uses_the_palette() {
    let mut state = opened();
    press(&mut state, KeyCode::Right);
    let cells = |state: &AppState| {
        let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
        terminal.draw(|frame| frame.render_widget(state, frame.area())).expect("drawn");
        terminal.backend().buffer().content().iter().map(|c| c.fg).collect::<Vec<_>>()
    };
    state.theme = terrafix_tui::tui::Theme::new(false);
    assert!(cells(&state).iter().all(|c| *c == ratatui::style::Color::Reset));
    state.theme = terrafix_tui::tui::Theme::new(true);
    let colours = cells(&state);
    let rgb = |c: terrafix_tui::palette::Rgb| ratatui::style::Color::Rgb(c.0, c.1, c.2);
    for (role, c) in [
        ("p50", terrafix_tui::palette::P50),
        ("p95", terrafix_tui::palette::P95),
        ("p99", terrafix_tui::palette::P99),
        ("failures", terrafix_tui::palette::FAILURE),
        ("changes", terrafix_tui::palette::CHANGE),
        ("faults", terrafix_tui::palette::FAULT),
    ] {
        assert!(colours.contains(&rgb(c)), "no cell in the {role} colour");
    }
}

#[test]
fn a_reload_that_adds_a_newer_run_keeps_the_explored_run_selected() {
    let mut state = opened();
    let mut entries = result_entries();
    let mut newer = entries[1].clone();
    newer.run_id = "20250103-080000-smoke".into();
    entries.insert(0, newer);
    update(&mut state, Action::ResultsLoaded(Ok(entries)));
    let current = state.results.current().map(|e| e.run_id.clone());
    assert_eq!(current.as_deref(), Some("20250102-100000-smoke"), "e and c act on the run shown");
    update(&mut state, Action::ResultsLoaded(Ok(result_entries()[1..].to_vec())));
    assert!(state.results.explorer.is_none(), "the shown run is gone: the detail closes");
    assert!(state.flash.as_ref().is_some_and(|f| f.text.contains("no longer")));
}

#[test]
fn a_capacity_run_shows_its_answer_and_steps_at_80_columns() {
    use terrafix_tui::metrics::summary::{CapacityReport, CapacityStep};
    let mut state = results();
    press(&mut state, KeyCode::Enter);
    let mut detail = run_detail();
    let step = |phase: &str, target: f64, achieved: f64, p99: f64, passed: bool| CapacityStep {
        phase: phase.into(),
        target_rps: target,
        achieved_rps: achieved,
        p99_ms: p99,
        error_rate: if passed { 0.0 } else { 0.04 },
        passed,
        ..CapacityStep::default()
    };
    detail.summary.capacity = Some(CapacityReport {
        p99_limit_ms: 250.0,
        max_error_rate: 0.01,
        max_sustainable_rps: Some(120.0),
        first_fail_rps: Some(160.0),
        confidence: "between 120 req/s (p99 180 ms) and 160 req/s (p99 900 ms, 4 % errors)".into(),
        steps: vec![
            step("capacity_80", 80.0, 80.0, 120.0, true),
            step("capacity_120", 120.0, 119.0, 180.0, true),
            step("capacity_160", 160.0, 131.0, 900.0, false),
        ],
    });
    update(
        &mut state,
        Action::RunDetailLoaded { run_id: "20250102-100000-smoke".into(), result: Ok(Box::new(detail)) },
    );
    press(&mut state, KeyCode::Char('G'));
    let screen = draw(&state, 80, 24);
    insta::assert_snapshot!("run_detail_capacity_small", screen);
    assert!(screen.contains("capacity_160"), "step names stay whole: {screen}");
    let large = draw(&state, 160, 48);
    assert!(large.contains("120 req/s sustained (p99 ≤ 250ms, errors ≤ 1.0%)"), "{large}");
}
