//! Run screen: status, phase gauge with time left, headline figures and server counters, the
//! two charts, the per-name table (per-phase summary once finished) and recent errors/events.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Widget, Wrap};

use super::run_charts;
use super::widgets::{clip, framed, pairs};
use crate::metrics::Snapshot;
use crate::metrics::summary::{PhaseStatus, RunStatus};
use crate::tui::format;
use crate::tui::run_state::{SteerField, SteerInput, SteerTarget};
use crate::tui::state::{AppState, ChartsState, RunPhase, RunState};
use crate::tui::theme::{Role, Theme};

pub fn render(state: &AppState, area: Rect, buf: &mut Buffer) {
    let run = &state.run;
    let t = state.theme;
    if run.phase == RunPhase::Idle {
        let lines = vec![
            Line::raw(""),
            Line::raw("No run yet."),
            Line::from(vec![
                Span::raw("Choose a profile on "),
                Span::styled("1", t.key()),
                Span::raw(" Profiles and press "),
                Span::styled("Enter", t.key()),
                Span::raw(". Earlier runs are on "),
                Span::styled("4", t.key()),
                Span::raw(" Results."),
            ]),
        ];
        Paragraph::new(lines).block(framed(t, "Run", false)).render(area, buf);
        return;
    }
    let (shown, snapshot) = run.shown();
    // A live generator-bound verdict takes a line of its own under the figures.
    let bound_line =
        snapshot.is_some_and(|s| !s.generator_bound.is_empty()) && run.phase == RunPhase::Running;
    let figure_lines = if area.width < 120 { 3 } else { 2 } + u16::from(bound_line);
    let [status, gauge, figures, charts, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(figure_lines),
        Constraint::Percentage(45),
        Constraint::Min(5),
    ])
    .areas(area);
    render_status(state, status, buf);
    match &run.steer_input {
        Some(input) => render_steer_input(t, run, input, gauge, buf),
        None => render_gauge(t, run, snapshot, gauge, buf),
    }
    render_figures(t, run, snapshot, figures, buf);
    let [left, right] = Layout::horizontal([Constraint::Percentage(50); 2]).areas(charts);
    let s = &run.series;
    let steered: Vec<f64> = run.changes.iter().map(|c| c.run_s).chain(run.resets.iter().copied()).collect();
    let now = snapshot.map_or(0.0, |s| s.run_elapsed_s);
    let faults: Vec<(f64, f64)> = run.faults.iter().map(|(a, b, _)| (*a, b.unwrap_or(now))).collect();
    let marks = run_charts::Marks { steered: &steered, faults: &faults };
    run_charts::throughput(t, &s.rps[..shown], &s.fps[..shown], marks, left, buf);
    let latencies =
        run_charts::Latencies { p50: &s.p50[..shown], p95: &s.p95[..shown], p99: &s.p99[..shown] };
    let scale = run_charts::LatencyScale {
        // The shown phase's own points decide the axis: a phase keeps one scale.
        phase_start_s: snapshot.map_or(0.0, |s| s.run_elapsed_s - s.phase_elapsed_s),
        log_asked: run.latency_log,
    };
    run_charts::latency_scaled(t, latencies, scale, marks, right, buf);
    // Small terminals give the table all the room and show only the latest error under it.
    let (table_area, events_area) = if area.width >= 110 {
        let [a, b] =
            Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(bottom);
        (a, Some(b))
    } else if area.height >= 30 {
        let [a, b] = Layout::vertical([Constraint::Min(3), Constraint::Length(4)]).areas(bottom);
        (a, Some(b))
    } else {
        (bottom, None)
    };
    let latest = match events_area {
        None => run.errors.back().map(|e| Line::styled(format!(" latest error: {} ", clip(e, 60)), t.warn())),
        Some(_) => None,
    };
    if run.phase == RunPhase::Finished && !run.finished_phases.is_empty() {
        render_phase_table(t, run, table_area, buf);
    } else {
        render_name_table(t, snapshot, latest, table_area, buf);
    }
    if let Some(events_area) = events_area {
        render_events(t, run, events_area, buf);
    }
}

fn render_status(state: &AppState, area: Rect, buf: &mut Buffer) {
    let t = state.theme;
    let run = &state.run;
    let (badge, style) = match &run.phase {
        RunPhase::Starting => (format!("{} starting", state.spinner()), t.warn()),
        RunPhase::Running => (format!("{} running", state.spinner()), t.ok()),
        RunPhase::Stopping => (format!("{} stopping, writing partial results", state.spinner()), t.warn()),
        RunPhase::Finished => match &run.summary {
            Some(s) if s.status == RunStatus::Aborted => (format!("■ {}", aborted_after(run)), t.warn()),
            Some(s) if s.passed => ("✓ finished, passed".to_string(), t.ok()),
            Some(s) if s.status == RunStatus::Completed => {
                ("✗ finished, thresholds failed".to_string(), t.bad())
            }
            Some(s) => (format!("✗ finished ({:?})", s.status).to_lowercase(), t.bad()),
            None => ("finished".to_string(), t.ok()),
        },
        RunPhase::Failed(reason) => (format!("✗ failed: {reason}"), t.bad()),
        RunPhase::Idle => (String::new(), t.dim()),
    };
    // (span, how soon it goes when the line is too long: 0 never, higher first).
    let mut parts: Vec<(Span<'_>, u8)> = vec![
        (Span::styled(format!("{badge} "), style), 0),
        (Span::styled(format!("{} → {} ", run.profile, run.target), t.title()), 2),
    ];
    // The answer of a capacity run is what it was run for: it comes first.
    match run.summary.as_ref().and_then(|s| s.capacity.as_ref()) {
        Some(capacity) => {
            let answer = match capacity.max_sustainable_rps {
                Some(rps) => format!("capacity: {} req/s sustained ", format::real(rps)),
                None => "capacity: no step passed ".to_string(),
            };
            parts.push((Span::styled(answer, t.accent().patch(t.title())), 0));
            if !capacity.confidence.is_empty() {
                parts.push((Span::styled(format!("({}) ", capacity.confidence), t.dim()), 3));
            }
        }
        None => {
            if let Some(url) = &run.target_url {
                parts.push((Span::styled(format!("{url} "), t.dim()), 5));
            }
        }
    }
    if run.frozen.is_some() {
        parts.push((Span::styled(" ⏸ view paused (p) ", t.warn().patch(t.selected())), 0));
    }
    let charts = match &run.charts {
        ChartsState::NotStarted => String::new(),
        ChartsState::Rendering { .. } => format!(" · {} rendering charts…", state.spinner()),
        ChartsState::Done { dir, charts, .. } => {
            format!(" · {} charts in {}", charts.len(), dir.join("charts").display())
        }
        ChartsState::Failed { error, .. } => format!(" · charts failed: {error}"),
    };
    parts.push((Span::styled(charts, t.accent()), 4));
    Paragraph::new(fit_parts(parts, area.width as usize)).render(area, buf);
}

/// A line of parts that fits `width`: whole parts are left out, the most dispensable
/// first, rather than the last one being cut mid-word.
fn fit_parts(mut parts: Vec<(Span<'static>, u8)>, width: usize) -> Line<'static> {
    let total = |parts: &[(Span<'_>, u8)]| parts.iter().map(|(s, _)| s.width()).sum::<usize>();
    while total(&parts) > width {
        let Some(drop) = parts.iter().enumerate().filter(|(_, (_, p))| *p > 0).max_by_key(|(_, (_, p))| *p)
        else {
            break;
        };
        let at = drop.0;
        parts.remove(at);
    }
    Line::from(parts.into_iter().map(|(span, _)| span).collect::<Vec<_>>())
}

/// The input line of `u` / `e`: what is being set, the text typed, and why it was refused.
fn render_steer_input(t: Theme, run: &RunState, input: &SteerInput, area: Rect, buf: &mut Buffer) {
    let label = match (input.field, run.steer_target) {
        (SteerField::Extend, _) => "extend the phase by",
        (SteerField::Load, Some(SteerTarget::Rate { .. })) => "set arrival rate (req/s)",
        (SteerField::Load, _) => "set users",
    };
    let mut spans = vec![Span::styled(format!("{label}: "), t.title())];
    spans.extend(super::widgets::field_spans(&input.text, input.caret, t.accent(), 16));
    spans.push(Span::styled("  Enter sets · Esc cancels · Ctrl-U clears", t.dim()));
    if let Some(error) = &input.error {
        spans.push(Span::styled(format!("  ✗ {error}"), t.bad()));
    }
    Line::from(spans).render(area, buf);
}

/// "aborted after 2 of 3 phases": phases that ran to their end (or were skipped) of those planned.
fn aborted_after(run: &RunState) -> String {
    let done = run.finished_phases.iter().filter(|p| p.status != PhaseStatus::Aborted).count();
    let planned = run.plan.len().max(run.finished_phases.len());
    format!("aborted after {done} of {planned} phase{}", if planned == 1 { "" } else { "s" })
}

fn render_gauge(t: Theme, run: &RunState, snap: Option<&Snapshot>, area: Rect, buf: &mut Buffer) {
    let n = run.plan.len().max(snap.map_or(0, |s| s.phase_count));
    let (label, ratio) = match (&run.pause, snap, run.current_phase) {
        _ if run.phase == RunPhase::Finished => {
            let total = format::secs(snap.map_or(0.0, |s| s.run_elapsed_s));
            let aborted = run.summary.as_ref().is_some_and(|s| s.status == RunStatus::Aborted);
            // The phases that ran: a capacity search plans 13 steps and may stop after 4.
            let ran = if run.finished_phases.is_empty() { n } else { run.finished_phases.len() };
            match aborted {
                true => (format!("{} in {total}", aborted_after(run)), 1.0),
                false => (format!("all {ran} phase{} done in {total}", if ran == 1 { "" } else { "s" }), 1.0),
            }
        }
        (Some(pause), s, _) => {
            let waited = s.map_or(0.0, |s| s.run_elapsed_s) - pause.since_run_s;
            let left = (pause.duration_s - waited).max(0.0);
            (
                format!("pause before {} · {} left", pause.next_phase, format::secs(left)),
                waited / pause.duration_s.max(1e-9),
            )
        }
        (None, Some(s), current) => {
            let k = current.unwrap_or(s.phase_index) + 1;
            // Until the new phase's first snapshot, the latest one is still the last phase's:
            // show the new phase (from the plan) at its start rather than the old one's name.
            let (name, elapsed, planned) =
                match current.filter(|&i| i != s.phase_index).and_then(|i| run.plan.get(i)) {
                    Some(p) => (p.name.as_str(), 0.0, p.planned.as_secs_f64()),
                    None => (s.phase_name.as_str(), s.phase_elapsed_s, s.phase_planned_s),
                };
            let left = (planned - elapsed).max(0.0);
            let later: f64 = run.plan.iter().skip(k).map(|p| p.planned.as_secs_f64()).sum();
            let run_left =
                if k < n { format!(" · run ~{} left", format::secs(left + later)) } else { String::new() };
            let badge = if s.generator_bound.is_empty() || name != s.phase_name { "" } else { "⚠ " };
            (
                format!(
                    "{badge}phase {k}/{n} {name} · {}/{} · {} left{run_left}",
                    format::secs(elapsed),
                    format::secs(planned),
                    format::secs(left)
                ),
                elapsed / planned.max(1e-9),
            )
        }
        (None, None, _) => match run.phase {
            RunPhase::Finished => ("all phases done".to_string(), 1.0),
            _ => (run.messages.back().cloned().unwrap_or_else(|| "preparing the target…".into()), 0.0),
        },
    };
    let ratio = ratio.clamp(0.0, 1.0);
    let label = clip(&label, (area.width as usize).saturating_sub(12).max(10));
    let bar_width = (area.width as usize).saturating_sub(label.chars().count() + 1);
    let filled = (ratio * bar_width as f64).round() as usize;
    let bar = format!("{}{}", "█".repeat(filled), "░".repeat(bar_width - filled.min(bar_width)));
    Line::from(vec![Span::styled(format!("{label} "), t.title()), Span::styled(bar, t.accent())])
        .render(area, buf);
}

/// Users now, and the steered aim while the population is still moving towards it.
fn users_figure(run: &RunState, s: &Snapshot) -> String {
    match run.steer_target {
        Some(SteerTarget::Users(aim)) if aim != s.users => format!("{} → {aim}", s.users),
        Some(SteerTarget::Rate { from, to })
            if run.changes.iter().any(|c| c.change.arrival_rate.is_some()) =>
        {
            format!("{} · rate {}/s", s.users, format::real(from.max(to)))
        }
        _ => s.users.to_string(),
    }
}

fn render_figures(t: Theme, run: &RunState, snap: Option<&Snapshot>, area: Rect, buf: &mut Buffer) {
    let Some(s) = snap else {
        Paragraph::new(Line::styled("no measurements yet", t.dim())).render(area, buf);
        return;
    };
    let first = pairs(
        t,
        &[
            ("users", users_figure(run, s)),
            ("req/s", format::real(s.rps)),
            ("fail/s", format::real(s.fps)),
            ("p50", format::ms(s.p50_ms)),
            ("p95", format::ms(s.p95_ms)),
            ("p99", format::ms(s.p99_ms)),
            ("requests", format::count(s.total_requests)),
            ("failed", format::count(s.total_failures)),
            ("in flight", s.in_flight.to_string()),
        ],
    );
    let mut second: Vec<(&str, String)> = Vec::new();
    match &s.server {
        Some(server) => {
            second.push(("server: dedup hits", format::count(server.dedup_hits)));
            second.push(("injected failures", format::count(server.injected_failures)));
            second.push(("rejected", format::count(server.rejected)));
        }
        None => second.push(("server:", "no counters (target has no /status)".into())),
    }
    if s.dropped > 0 {
        second.push(("dropped", format::count(s.dropped)));
    }
    second.push(("dups sent", format::count(s.duplicates_sent)));
    for (service, cpu, mem) in &run.resources {
        second.push((service.as_str(), format!("{cpu:.0}% {}", format::bytes(*mem))));
    }
    // A live generator-bound verdict keeps the last line for itself, however the figures wrap.
    let bound = run.phase == RunPhase::Running && !s.generator_bound.is_empty();
    let [figures, warning] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(u16::from(bound))]).areas(area);
    Paragraph::new(vec![first, pairs(t, &second)]).wrap(Wrap { trim: true }).render(figures, buf);
    if bound {
        Line::styled(format!("⚠ generator-bound so far: {}", s.generator_bound.join("; ")), t.warn())
            .render(warning, buf);
    }
}

fn render_name_table(
    t: Theme,
    snap: Option<&Snapshot>,
    latest: Option<Line<'static>>,
    area: Rect,
    buf: &mut Buffer,
) {
    let rows: Vec<Row<'_>> = snap
        .map(|s| s.rows.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|r| {
            Row::new(vec![
                Cell::from(format!("{} {}", r.method, r.name)),
                Cell::from(format::count(r.requests)),
                failures_cell(t, r.failures),
                Cell::from(format::real(r.rps)),
                Cell::from(format::ms(r.p50_ms)),
                Cell::from(format::ms(r.p95_ms)),
                Cell::from(format::ms(r.p99_ms)),
            ])
        })
        .collect();
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(7),
    ];
    let header = Row::new(vec![
        Cell::from("name"),
        Cell::from("reqs"),
        Cell::from("fails"),
        Cell::from("req/s"),
        Cell::from(Span::styled("p50", t.role(Role::P50))),
        Cell::from(Span::styled("p95", t.role(Role::P95))),
        Cell::from(Span::styled("p99", t.role(Role::P99))),
    ])
    .style(t.header());
    let mut block = framed(t, "Requests by name (this phase)", false);
    if let Some(latest) = latest {
        block = block.title_bottom(latest);
    }
    Table::new(rows, widths).header(header).block(block).render(area, buf);
}

/// A failure count: in the failure red when there are any.
fn failures_cell(t: Theme, failures: u64) -> Cell<'static> {
    let text = format::count(failures);
    if failures > 0 { Cell::from(Span::styled(text, t.bad())) } else { Cell::from(text) }
}

fn render_phase_table(t: Theme, run: &RunState, area: Rect, buf: &mut Buffer) {
    let aborted = run.summary.as_ref().is_some_and(|s| s.status == RunStatus::Aborted);
    // After an abort, the planned phases that never started are listed as such.
    let never_ran: Vec<Row<'_>> = if aborted {
        run.plan
            .iter()
            .skip(run.finished_phases.len())
            .map(|p| {
                Row::new(vec![
                    p.name.clone(),
                    "not run".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    "–".into(),
                ])
                .style(t.dim())
            })
            .collect()
    } else {
        Vec::new()
    };
    let rows: Vec<Row<'_>> = run
        .finished_phases
        .iter()
        .map(|p| {
            let passed = p.thresholds.iter().all(|th| th.passed);
            let status = match p.status {
                PhaseStatus::Completed => "done",
                PhaseStatus::Skipped => "skipped",
                PhaseStatus::Aborted => "aborted",
            };
            // A generator-bound phase's figures are the generator's: badge it, and its ✓ is "?".
            let bound = p.validity.as_ref().is_some_and(|v| !v.is_valid());
            let name = if bound { format!("⚠ {} (generator-bound)", p.name) } else { p.name.clone() };
            let verdict = match (bound, passed) {
                // Cut short by the abort: its figures are partial, it did not pass anything.
                _ if p.status == PhaseStatus::Aborted => "–",
                (true, _) => "?",
                (false, true) => "✓",
                (false, false) => "✗",
            };
            Row::new(vec![
                name,
                status.to_string(),
                format::count(p.summary.total_requests),
                format::count(p.summary.failure_count),
                format::real(p.summary.requests_per_sec),
                format::ms(p.summary.p95_response_ms),
                format::ms(p.summary.p99_response_ms),
                verdict.to_string(),
            ])
            .style(if bound || p.status == PhaseStatus::Aborted {
                t.warn()
            } else if passed {
                ratatui::style::Style::new()
            } else {
                t.bad()
            })
        })
        .collect();
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(2),
    ];
    let header = Row::new(vec![
        Cell::from("phase"),
        Cell::from("status"),
        Cell::from("reqs"),
        Cell::from("fails"),
        Cell::from("req/s"),
        Cell::from(Span::styled("p95", t.role(Role::P95))),
        Cell::from(Span::styled("p99", t.role(Role::P99))),
        Cell::from(""),
    ])
    .style(t.header());
    let rows = rows.into_iter().chain(never_ran);
    Table::new(rows, widths).header(header).block(framed(t, "Phases", false)).render(area, buf);
}

/// The phase's failures grouped (count, what, last seen), or the events when it has none.
fn render_events(t: Theme, run: &RunState, area: Rect, buf: &mut Buffer) {
    let room = area.height.saturating_sub(2) as usize;
    let groups = run.phase_errors();
    if groups.is_empty() {
        let lines: Vec<Line<'_>> =
            run.messages.iter().rev().take(room).rev().map(|l| Line::styled(l.clone(), t.dim())).collect();
        Paragraph::new(lines).block(framed(t, "Events", false)).render(area, buf);
        return;
    }
    let total: u64 = groups.iter().map(|g| g.count).sum();
    let kinds = if groups.len() == 1 { "1 kind".to_string() } else { format!("{} kinds", groups.len()) };
    let title = format!("Errors this phase: {} in {kinds}", format::count(total));
    let lines: Vec<Line<'_>> = groups
        .iter()
        .take(room)
        .map(|g| {
            Line::from(vec![
                Span::styled(format!("{:>5} × ", format::count(g.count)), t.bad()),
                // Last seen (run time) before the message, so a long message cannot hide it.
                Span::styled(format!("last {:>5} ", format::secs(g.last_seen_s)), t.dim()),
                Span::styled(g.what.clone(), t.warn()),
            ])
        })
        .collect();
    Paragraph::new(lines).block(framed(t, &title, false)).render(area, buf);
}
