//! Snapshot tests: every screen drawn on ratatui's TestBackend from fixture state, at 80×24
//! (the smallest supported size) and 160×48, including error states.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod tui_support;

use std::path::PathBuf;
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use terrafix_tui::docker::{Health, ServiceState};
use terrafix_tui::experiment::{Event, PhasePlan, PlanLoad};
use terrafix_tui::tui::env_state::{DockerAvail, LogPane, ServiceRow};
use terrafix_tui::tui::state::{ChartsState, Overlay, ResultsView};
use terrafix_tui::tui::{Action, AppState, Screen, update};
use tui_support::*;

fn draw(state: &AppState, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| frame.render_widget(state, frame.area())).unwrap();
    terminal.backend().to_string()
}

fn apply(state: &mut AppState, actions: impl IntoIterator<Item = Action>) {
    for action in actions {
        update(state, action);
    }
}

fn live_run() -> AppState {
    let mut state = app();
    apply(&mut state, [Action::Enter]);
    assert_eq!(state.screen, Screen::Run);
    let plan = |name: &str, s: u64| PhasePlan {
        name: name.into(),
        suite: "smoke".into(),
        planned: Duration::from_secs(s),
        load: PlanLoad::Users { users: 5, spawn_rate: 5.0 },
    };
    let started = Event::RunStarted {
        run_id: "20250102-100000-smoke".into(),
        dir: PathBuf::from("experiment_results/20250102-100000-smoke"),
        target_url: "http://127.0.0.1:40000/".into(),
        phases: vec![plan("smoke_health", 20), plan("smoke_webhook", 30)],
    };
    apply(&mut state, [Action::RunEvent(Box::new(started))]);
    apply(
        &mut state,
        [
            Action::RunEvent(Box::new(Event::Environment("embedded target on 127.0.0.1:40000".into()))),
            Action::RunEvent(Box::new(Event::PhaseStarted {
                index: 1,
                name: "smoke_webhook".into(),
                planned: Duration::from_secs(30),
            })),
        ],
    );
    for t in 1..=40 {
        apply(&mut state, [Action::Snapshot(Box::new(snapshot(t as f64)))]);
    }
    apply(
        &mut state,
        [Action::RunEvent(Box::new(Event::RequestError("HTTP 500 on /webhook [smoke_webhook]".into())))],
    );
    state
}

#[test]
fn profiles_small_terminal() {
    let mut state = app();
    apply(&mut state, [Action::FocusNext, Action::Down, Action::Toggle]);
    insta::assert_snapshot!(draw(&state, 80, 24));
}

#[test]
fn profiles_large_terminal_with_filter_and_editing() {
    let mut state = app();
    apply(&mut state, [Action::StartFilter, Action::Type('t'), Action::Type('h')]);
    insta::assert_snapshot!("profiles_filter", draw(&state, 160, 48));
    apply(
        &mut state,
        [
            Action::Enter,
            Action::FocusPrev,
            Action::Down,
            Action::Down,
            Action::Down,
            Action::Enter,
            Action::Type('9'),
        ],
    );
    insta::assert_snapshot!("profiles_editing", draw(&state, 160, 48));
}

#[test]
fn profiles_with_errors_shows_the_error() {
    let mut state = app();
    apply(&mut state, [Action::Down, Action::Down]);
    insta::assert_snapshot!(draw(&state, 80, 24));
}

#[test]
fn profiles_help_overlay() {
    let mut state = app();
    apply(&mut state, [Action::Help]);
    insta::assert_snapshot!(draw(&state, 80, 24));
}

#[test]
fn attached_help_and_footer_say_q_detaches() {
    let mut state = live_run();
    state.attached = true;
    let footer = draw(&state, 80, 24);
    assert!(footer.contains("q detach"), "{footer}");
    apply(&mut state, [Action::Help]);
    // Large enough for every line of the help without wrapping.
    let help = draw(&state, 160, 48);
    assert!(help.contains("back; detach (the run goes on"), "{help}");
    assert!(help.contains("detach now"), "{help}");
    assert!(!help.contains("quit"), "attached, nothing here quits: {help}");

    let mut local = live_run();
    apply(&mut local, [Action::Help]);
    let help = draw(&local, 160, 48);
    assert!(help.contains("back; quit") && !help.contains("detach"), "{help}");
}

#[test]
fn environment_without_docker() {
    let mut state = app();
    apply(
        &mut state,
        [
            Action::Show(Screen::Environment),
            Action::DockerConnected(Err(
                "cannot connect to /var/run/docker.sock: permission denied; add yourself to the docker group"
                    .into(),
            )),
            Action::HealthReply(
                Err("no answer from http://127.0.0.1:8081/health: connection refused".into()),
            ),
        ],
    );
    insta::assert_snapshot!(draw(&state, 80, 24));
}

#[test]
fn environment_with_services_logs_and_reply() {
    let mut state = app();
    let row = |name: &str, state: &str, health: &str, port: &str| ServiceRow {
        name: name.into(),
        image: format!("{name}:local"),
        state: ServiceState::from_docker(state),
        health: Health::from_docker(health),
        ports: vec![port.into()],
        uptime_s: Some(754),
        cpu_percent: Some(3.25),
        memory_bytes: Some(48 * 1024 * 1024),
    };
    apply(
        &mut state,
        [
            Action::Show(Screen::Environment),
            Action::DockerConnected(Ok(())),
            Action::DockerStatus(Ok(vec![
                row("redis", "running", "healthy", "127.0.0.1:6379->6379/tcp"),
                row("terrafix-api", "running", "starting", "127.0.0.1:8081->8081/tcp"),
            ])),
            // `u` brought the API up: the screen follows and checks it.
            Action::EnvApiUp("http://127.0.0.1:8081/".into()),
            Action::HealthReply(Ok(r#"{"status":"healthy"}"#.into())),
            Action::ConfigureReply(Ok(r#"{"latency_ms":50.0,"failure_rate":0.1}"#.into())),
        ],
    );
    state.env.logs = Some(LogPane {
        service: "redis".into(),
        lines: ["1:M Ready to accept connections tcp", "1:M DB saved on disk"].map(String::from).into(),
        following: true,
    });
    assert_eq!(state.env.docker, DockerAvail::Available);
    insta::assert_snapshot!("environment_services_large", draw(&state, 160, 48));
    insta::assert_snapshot!("environment_services_small", draw(&state, 80, 24));
}

#[test]
fn run_live_dashboard() {
    let state = live_run();
    insta::assert_snapshot!("run_live_small", draw(&state, 80, 24));
    insta::assert_snapshot!("run_live_large", draw(&state, 160, 48));
}

#[test]
fn a_live_generator_bound_verdict_shows_the_second_it_is_breached() {
    let mut state = live_run();
    let calm = draw(&state, 120, 40);
    assert!(!calm.contains("generator-bound"), "a valid phase shows no verdict line:\n{calm}");
    let mut bound = snapshot(41.0);
    bound.generator_bound = vec!["412 arrivals dropped at max_in_flight".into()];
    apply(&mut state, [Action::Snapshot(Box::new(bound))]);
    for (width, height) in [(120, 40), (80, 24)] {
        let screen = draw(&state, width, height);
        assert!(
            screen.contains("⚠ generator-bound so far: 412 arrivals dropped at max_in_flight"),
            "{width}×{height}:\n{screen}"
        );
        assert!(screen.contains("⚠ phase 2/2 smoke_webhook"), "the gauge carries the badge:\n{screen}");
    }
}

#[test]
fn run_paused_view_and_confirm_abort() {
    let mut state = live_run();
    apply(
        &mut state,
        [Action::TogglePauseView, Action::Snapshot(Box::new(snapshot(41.0))), Action::AbortRun],
    );
    assert_eq!(state.overlay, Some(Overlay::ConfirmAbort));
    insta::assert_snapshot!(draw(&state, 80, 24));
}

#[test]
fn run_finished_with_charts() {
    let mut state = live_run();
    let dir = PathBuf::from("experiment_results/20250102-100000-smoke");
    let summary = run_summary("20250102-100000-smoke", 48.0, false);
    for (index, phase) in summary.experiments.iter().enumerate() {
        apply(
            &mut state,
            [Action::RunEvent(Box::new(Event::PhaseFinished { index, summary: Box::new(phase.clone()) }))],
        );
    }
    apply(
        &mut state,
        [Action::RunEvent(Box::new(Event::RunFinished { summary: Box::new(summary), dir: dir.clone() }))],
    );
    apply(
        &mut state,
        [Action::ChartsRendered(ChartsState::Done {
            dir: dir.clone(),
            charts: vec![
                dir.join("charts/throughput_timeline.png"),
                dir.join("charts/latency_over_time.png"),
            ],
            html: vec![dir.join("charts_report.html")],
            warnings: vec![],
        })],
    );
    state.flash = None;
    insta::assert_snapshot!(draw(&state, 160, 48));
}

#[test]
fn run_failed_to_start() {
    let mut state = app();
    apply(
        &mut state,
        [Action::Enter, Action::RunEnded(Err("target http://127.0.0.1:1/ refused the connection".into()))],
    );
    insta::assert_snapshot!(draw(&state, 80, 24));
}

#[test]
fn results_detail_and_paths() {
    let mut state = app();
    apply(&mut state, [Action::Show(Screen::Results), Action::ResultsLoaded(Ok(result_entries()))]);
    insta::assert_snapshot!("results_detail_small", draw(&state, 80, 24));
    insta::assert_snapshot!("results_detail_large", draw(&state, 160, 48));
    apply(&mut state, [Action::ShowPaths]);
    insta::assert_snapshot!("results_paths", draw(&state, 160, 48));
}

#[test]
fn results_compare_and_unreadable_run() {
    let mut state = app();
    apply(
        &mut state,
        [
            Action::Show(Screen::Results),
            Action::ResultsLoaded(Ok(result_entries())),
            Action::MarkCompare,
            Action::Down,
            Action::MarkCompare,
        ],
    );
    assert!(matches!(state.results.view, ResultsView::Compare { .. }));
    insta::assert_snapshot!("results_compare_computing", draw(&state, 160, 48));
    apply(
        &mut state,
        [Action::CompareDone {
            left: "20250102-100000-smoke".into(),
            right: "20250101-090000-smoke".into(),
            result: Ok(Box::new(comparison())),
        }],
    );
    insta::assert_snapshot!("results_compare", draw(&state, 160, 48));
    insta::assert_snapshot!("results_compare_small", draw(&state, 80, 24));
    apply(&mut state, [Action::Dismiss, Action::Down]);
    insta::assert_snapshot!("results_unreadable", draw(&state, 80, 24));
}

#[test]
fn without_colour_no_cell_has_a_colour() {
    let mut state = live_run();
    state.theme = terrafix_tui::tui::Theme::new(false);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|frame| frame.render_widget(&state, frame.area())).unwrap();
    let buffer = terminal.backend().buffer();
    let coloured = buffer
        .content()
        .iter()
        .filter(|c| c.fg != ratatui::style::Color::Reset || c.bg != ratatui::style::Color::Reset)
        .count();
    assert_eq!(coloured, 0, "NO_COLOR: {coloured} cells still carry a colour");
    state.theme = terrafix_tui::tui::Theme::new(true);
    terminal.draw(|frame| frame.render_widget(&state, frame.area())).unwrap();
    let coloured =
        terminal.backend().buffer().content().iter().filter(|c| c.fg != ratatui::style::Color::Reset).count();
    assert!(coloured > 0, "with colour on, something should be coloured");
}

#[test]
fn every_screen_draws_at_tiny_and_odd_sizes() {
    let mut state = live_run();
    for screen in Screen::ALL {
        state.screen = screen;
        for (w, h) in [(20, 5), (80, 24), (81, 25), (1, 1), (200, 60)] {
            let text = draw(&state, w, h);
            assert!(!text.is_empty());
        }
    }
}

#[test]
fn results_export_dialog() {
    let mut state = app();
    apply(
        &mut state,
        [
            Action::Show(Screen::Results),
            Action::ResultsLoaded(Ok(result_entries())),
            Action::Export,
            Action::FocusNext,
            Action::Down,
            Action::FocusPrev,
            Action::Down,
            Action::Down,
            Action::Toggle,
        ],
    );
    insta::assert_snapshot!("results_export_dialog_small", draw(&state, 80, 24));
    insta::assert_snapshot!("results_export_dialog_large", draw(&state, 160, 48));
    let written: Vec<PathBuf> = ["throughput_timeline", "latency_over_time"]
        .iter()
        .map(|n| PathBuf::from(format!("./exports/20250102-100000-smoke/{n}.svg")))
        .collect();
    apply(&mut state, [Action::ExportFinished(Ok((written, vec![])))]);
    insta::assert_snapshot!("results_export_dialog_done", draw(&state, 160, 48));
}

#[test]
fn run_steered_with_a_change_marker_and_the_input_line() {
    let mut state = live_run();
    let change = Event::PhaseChanged {
        index: 1,
        change: terrafix_tui::metrics::summary::PhaseChange {
            at_s: 8.0,
            users: Some(20),
            ..Default::default()
        },
        planned: Duration::from_secs(30),
    };
    apply(&mut state, [Action::RunEvent(Box::new(change)), Action::Snapshot(Box::new(snapshot(41.0)))]);
    insta::assert_snapshot!("run_steered_marker", draw(&state, 160, 48));
    apply(&mut state, [Action::SteerType, Action::Backspace, Action::Type('5')]);
    insta::assert_snapshot!("run_steer_input_small", draw(&state, 80, 24));
}

#[test]
fn profiles_new_run_form_with_a_problem_beside_its_field() {
    let mut state = app();
    apply(&mut state, [Action::NewRun, Action::Down, Action::Down, Action::Backspace, Action::Backspace]);
    apply(&mut state, [Action::Type('0'), Action::Enter]);
    insta::assert_snapshot!("profiles_new_run_form", draw(&state, 100, 30));
    insta::assert_snapshot!("profiles_new_run_form_small", draw(&state, 80, 24));
}

#[test]
fn a_new_phase_is_named_at_once_not_after_its_first_snapshot() {
    let mut state = live_run();
    let third = PhasePlan {
        name: "smoke_third".into(),
        suite: "smoke".into(),
        planned: Duration::from_secs(12),
        load: PlanLoad::Rate { from: 5.0, to: 5.0 },
    };
    state.run.plan.push(third);
    apply(
        &mut state,
        [Action::RunEvent(Box::new(Event::PhaseStarted {
            index: 2,
            name: "smoke_third".into(),
            planned: Duration::from_secs(12),
        }))],
    );
    let screen = draw(&state, 160, 48);
    assert!(screen.contains("phase 3/3 smoke_third · 0s/12s"), "{screen}");
}

/// Issue 27: a message has a line of its own; the key hints stay under it.
#[test]
fn the_footer_keeps_its_key_hints_under_a_message() {
    let mut state = live_run();
    apply(&mut state, [Action::ResetStats]);
    assert!(state.flash.is_some(), "r said what it did");
    let small = draw(&state, 80, 24);
    let large = draw(&state, 160, 48);
    for screen in [&small, &large] {
        let lines: Vec<&str> = screen.lines().collect();
        let n = lines.len();
        assert!(lines[n - 2].contains("live statistics reset"), "{screen}");
        assert!(lines[n - 1].contains("skip phase"), "hints stay:\n{screen}");
    }
    insta::assert_snapshot!("footer_with_a_message_small", small);
    insta::assert_snapshot!("footer_with_a_message_large", large);
}

/// Issue 27: 15 identical failures are one row with a count and the last time seen; a
/// phase without errors shows the events again.
#[test]
fn the_errors_pane_groups_identical_failures_per_phase() {
    let mut state = live_run();
    let error = |text: &str| Action::RunEvent(Box::new(Event::RequestError(text.into())));
    for t in 41..=55 {
        apply(
            &mut state,
            [
                Action::Snapshot(Box::new(snapshot(t as f64))),
                error("1 × HTTP 500 on POST /webhook: internal error (injected)"),
            ],
        );
    }
    apply(&mut state, [error("2 × timeout on POST /webhook: no answer within 10s")]);
    let groups = state.run.phase_errors();
    assert_eq!(groups.len(), 3, "{groups:?}");
    let http500 = groups.iter().find(|g| g.what.starts_with("HTTP 500 on POST")).unwrap();
    assert_eq!((http500.count, http500.last_seen_s), (15, 55.0));
    let screen = draw(&state, 160, 48);
    assert_eq!(screen.matches("HTTP 500 on POST /webhook").count(), 1, "one row:\n{screen}");
    insta::assert_snapshot!("run_errors_grouped", screen);

    // The next phase has none yet: the events have their space back.
    apply(
        &mut state,
        [Action::RunEvent(Box::new(Event::PhaseStarted {
            index: 2,
            name: "later".into(),
            planned: Duration::from_secs(30),
        }))],
    );
    let screen = draw(&state, 160, 48);
    assert!(screen.contains("Events") && !screen.contains("Errors this phase"), "{screen}");
    assert!(screen.contains("phase 3: later"), "{screen}");
}

/// The cells drawn in colour `rgb`, as text in screen order.
fn cells_in(state: &AppState, width: u16, height: u16, rgb: (u8, u8, u8)) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| frame.render_widget(state, frame.area())).unwrap();
    let colour = ratatui::style::Color::Rgb(rgb.0, rgb.1, rgb.2);
    terminal.backend().buffer().content().iter().filter(|c| c.fg == colour).map(|c| c.symbol()).collect()
}

#[test]
fn live_charts_use_the_one_palette_and_only_failures_are_red() {
    use terrafix_tui::palette;
    let mut state = live_run();
    // Failures stop: nothing may be red but the failed line (braille) and its legend.
    for t in 41..=45 {
        let mut snap = snapshot(t as f64);
        snap.fps = 0.0;
        snap.rows.iter_mut().for_each(|r| r.failures = 0);
        apply(&mut state, [Action::Snapshot(Box::new(snap))]);
    }
    state.run.error_groups.clear();
    state.run.changes.push(terrafix_tui::tui::run_state::ChangeMarker {
        run_s: 20.0,
        change: terrafix_tui::metrics::summary::PhaseChange {
            at_s: 20.0,
            users: Some(9),
            ..Default::default()
        },
    });
    let red = cells_in(&state, 160, 48, palette::FAILURE);
    let text: String = red.chars().filter(|c| !c.is_whitespace() && !('⠀'..='⣿').contains(c)).collect();
    assert_eq!(text, "failed", "red beyond the failures' line and legend: {red:?}");
    for (rgb, legend) in [(palette::P50, "p50"), (palette::P95, "p95"), (palette::P99, "p99")] {
        assert!(cells_in(&state, 160, 48, rgb).contains(legend), "{legend} is not in its palette colour");
    }
    assert!(cells_in(&state, 160, 48, palette::THROUGHPUT).contains("total"));
    // The change marker: a vertical line on both charts in the change colour.
    assert!(
        cells_in(&state, 160, 48, palette::CHANGE).chars().filter(|c| ('⠁'..='⣿').contains(c)).count() >= 4
    );
}

#[test]
fn the_latency_axis_keeps_one_scale_through_a_phase() {
    let mut state = live_run();
    let linear = draw(&state, 160, 48);
    assert!(!linear.contains("p99 log"), "the fixture spans less than 100×: linear");
    // `L` asks for log.
    apply(&mut state, [Action::ToggleLatencyScale]);
    assert!(draw(&state, 160, 48).contains("log (L)"));
    apply(&mut state, [Action::ToggleLatencyScale]);
    // A spike to 100× the phase's lowest value turns the phase's axis to log, and it stays
    // log after the spike is gone.
    let mut spike = snapshot(41.0);
    spike.p99_ms = 6_000.0;
    apply(&mut state, [Action::Snapshot(Box::new(spike))]);
    assert!(draw(&state, 160, 48).contains("log"));
    apply(&mut state, [Action::Snapshot(Box::new(snapshot(42.0)))]);
    assert!(draw(&state, 160, 48).contains("log"), "the axis went back to linear mid-phase");
}

#[test]
fn environment_shows_the_chosen_target_and_masks_a_typed_password() {
    let mut state = app();
    // Run settings: target URL (Target → docker → URL), then the screen.
    apply(&mut state, [Action::FocusNext, Action::FocusNext, Action::Toggle, Action::Toggle]);
    apply(&mut state, [Action::Show(Screen::Environment)]);
    insta::assert_snapshot!("environment_url_target_small", draw(&state, 80, 24));
    // Typing a URL with a password in the screen's form: never shown, even while typed.
    apply(&mut state, [Action::FocusNext, Action::Up, Action::Enter]);
    for c in "http://ops:hunter2@127.0.0.1:9".chars() {
        apply(&mut state, [Action::Type(c)]);
    }
    let small = draw(&state, 80, 24);
    let large = draw(&state, 160, 48);
    assert!(!small.contains("hunter2") && !large.contains("hunter2"), "{large}");
    insta::assert_snapshot!("environment_url_typed_large", large);
}

#[test]
fn run_settings_explain_the_focused_field() {
    let mut state = app();
    apply(&mut state, [Action::FocusNext, Action::FocusNext]);
    // generators is the 12th field.
    apply(&mut state, std::iter::repeat_n(Action::Down, 11));
    let small = draw(&state, 80, 24);
    assert!(small.contains("N Swarm tasks send the load; empty: this process does"), "{small}");
    insta::assert_snapshot!("profiles_settings_help_small", small);
    apply(&mut state, [Action::Up]);
    let large = draw(&state, 160, 48);
    assert!(large.contains("/configure + /stats/reset per phase"), "{large}");
    insta::assert_snapshot!("profiles_settings_help_large", large);
}

#[test]
fn a_capacity_profile_shows_its_steps() {
    let mut state = app();
    let capacity = terrafix_tui::profile::load("capacity", None).unwrap();
    let mut items = profile_items();
    items.push(terrafix_tui::tui::state::ProfileItem {
        name: "capacity".into(),
        source: "shipped".into(),
        profile: Ok(capacity),
    });
    apply(&mut state, [Action::ProfilesLoaded(items), Action::Bottom]);
    let small = draw(&state, 80, 24);
    assert!(small.contains("capacity ≤13 steps") && !small.contains("0ph"), "{small}");
    insta::assert_snapshot!("profiles_capacity_small", small);
    insta::assert_snapshot!("profiles_capacity_large", draw(&state, 160, 48));
}
