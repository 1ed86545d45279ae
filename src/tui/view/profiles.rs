//! Profiles screen: the list (with filter), the chosen profile's phases with include marks,
//! the selected phase's details, and the run settings form.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, List, ListItem, ListState, Paragraph, Row, StatefulWidget, Table, TableState, Widget, Wrap,
};

use super::widgets::{clip, framed, pair};
use crate::profile::{FailureMode, Load, Phase, Profile, ServerSettings, Thresholds};
use crate::tui::format;
use crate::tui::state::{AppState, ProfileItem, ProfilesFocus, RunField, TargetChoice};
use crate::tui::theme::Theme;

pub fn render(state: &AppState, area: Rect, buf: &mut Buffer) {
    let list_width = (area.width / 4).clamp(22, 34);
    let [left, right] = Layout::horizontal([Constraint::Length(list_width), Constraint::Min(0)]).areas(area);
    render_list(state, left, buf);
    let [detail, settings] = Layout::vertical([Constraint::Min(0), Constraint::Length(8)]).areas(right);
    match state.profiles.current() {
        Some(ProfileItem { profile: Ok(profile), .. }) => render_profile(state, profile, detail, buf),
        Some(ProfileItem { profile: Err(error), name, source }) => {
            let t = state.theme;
            let lines = vec![
                Line::from(Span::styled(format!("✗ {name} cannot be used"), t.bad())),
                Line::from(Span::styled(format!("source: {source}"), t.dim())),
                Line::raw(""),
                Line::raw(error.clone()),
                Line::raw(""),
                Line::from(Span::styled(
                    "Fix the file, then restart or check it with `terrafix-tui profiles validate`.",
                    t.dim(),
                )),
            ];
            Paragraph::new(lines)
                .block(framed(t, name, false))
                .wrap(Wrap { trim: false })
                .render(detail, buf);
        }
        None => {
            let text = if state.profiles.loading {
                format!("{} loading profiles…", state.spinner())
            } else if state.profiles.items.is_empty() {
                "No profiles found: shipped profiles, ./profiles and --profiles DIR are all empty.".into()
            } else {
                "No profile matches the filter (Esc clears it).".into()
            };
            Paragraph::new(text).block(framed(state.theme, "Profile", false)).render(detail, buf);
        }
    }
    render_settings(state, settings, buf);
}

fn render_list(state: &AppState, area: Rect, buf: &mut Buffer) {
    let t = state.theme;
    let p = &state.profiles;
    let title = if p.filter.editing || !p.filter.text.is_empty() {
        format!("Profiles /{}{}", p.filter.text, if p.filter.editing { "▏" } else { "" })
    } else {
        format!("Profiles ({})", p.items.len())
    };
    let items: Vec<ListItem> = p
        .visible()
        .into_iter()
        .map(|i| {
            let item = &p.items[i];
            match &item.profile {
                Ok(profile) => {
                    // A capacity search has no fixed phases: its steps are what it runs.
                    let size = match &profile.capacity {
                        Some(c) => {
                            let coarse = ((c.max_rps - c.start_rps) / c.step_rps).floor().max(0.0) as u64 + 1;
                            format!("≤{} steps", coarse + u64::from(c.refine_steps))
                        }
                        None => format!("{}ph", profile.phases.len()),
                    };
                    let mut spans = vec![Span::raw(format!("{} ", item.name)), Span::styled(size, t.dim())];
                    // A file of a shipped profile's name shadows it (and is what runs).
                    if item.source != "shipped"
                        && crate::profile::shipped_names().contains(&item.name.as_str())
                    {
                        spans.push(Span::styled(" local", t.warn()));
                    }
                    ListItem::new(Line::from(spans))
                }
                Err(_) => {
                    ListItem::new(Line::from(vec![Span::styled("✗ ", t.bad()), Span::raw(item.name.clone())]))
                }
            }
        })
        .collect();
    let list = List::new(items)
        .block(framed(t, &title, p.focus == ProfilesFocus::List))
        .highlight_style(t.selected())
        .highlight_symbol("▶ ");
    let mut list_state = ListState::default().with_selected(Some(p.selected));
    StatefulWidget::render(list, area, buf, &mut list_state);
}

fn render_profile(state: &AppState, profile: &Profile, area: Rect, buf: &mut Buffer) {
    let t = state.theme;
    let [header, phases, detail] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(4), Constraint::Length(5)]).areas(area);
    profile_header(t, profile, header.width).render(header, buf);
    render_phase_table(state, profile, phases, buf);
    if let Some(phase) = profile.phases.get(state.profiles.phase_cursor) {
        render_phase_detail(t, phase, detail, buf);
    }
}

/// The profile's name and description (clipped to `width`), then its source, pause and
/// run-level limits.
fn profile_header(t: Theme, profile: &Profile, width: u16) -> Paragraph<'static> {
    let mut second = pair(t, "source", profile.source.clone());
    second.extend(pair(t, "pause", format::secs(profile.pause_between_phases.as_secs_f64())));
    if !profile.thresholds.is_empty() {
        second.extend(pair(t, "run limits", thresholds_label(&profile.thresholds)));
    }
    Paragraph::new(vec![
        Line::from(vec![
            Span::styled(format!(" {} ", profile.name), t.title()),
            Span::raw(clip(
                &profile.description,
                width.saturating_sub(profile.name.len() as u16 + 3) as usize,
            )),
        ]),
        Line::from(second),
    ])
}

/// The phases with their include marks; the cursor's row stands out more while the table
/// has the focus.
fn render_phase_table(state: &AppState, profile: &Profile, area: Rect, buf: &mut Buffer) {
    let t = state.theme;
    let p = &state.profiles;
    let focused = p.focus == ProfilesFocus::Phases;
    let wide = area.width >= 90;
    let (widths, names) = phase_columns(wide);
    let table = Table::new(phase_rows(profile, &p.phase_enabled, wide), widths)
        .header(Row::new(names).style(t.header()))
        .block(phases_block(t, profile, &p.phase_enabled, focused))
        .row_highlight_style(if focused { t.selected() } else { t.dim() });
    let mut table_state = TableState::default().with_selected(Some(p.phase_cursor));
    StatefulWidget::render(table, area, buf, &mut table_state);
}

/// One row per phase: include mark, name, behaviour (wide only), load, time and server.
fn phase_rows(profile: &Profile, phase_enabled: &[bool], wide: bool) -> Vec<Row<'static>> {
    profile
        .phases
        .iter()
        .enumerate()
        .map(|(i, phase)| {
            let mark = if phase_enabled.get(i).copied().unwrap_or(true) { "[x]" } else { "[ ]" };
            let mut cells = vec![mark.to_string(), phase.name.clone()];
            if wide {
                cells.push(phase.behaviour.name.clone());
            }
            cells.extend([
                load_label(&phase.load),
                format::secs(phase.duration.as_secs_f64()),
                server_label(&phase.server),
            ]);
            Row::new(cells)
        })
        .collect()
}

/// The phase table's column widths and headings. Narrow terminals leave the behaviour to
/// the detail pane below.
fn phase_columns(wide: bool) -> (Vec<Constraint>, Vec<&'static str>) {
    if wide {
        (
            vec![
                Constraint::Length(3),
                Constraint::Fill(3),
                Constraint::Fill(2),
                Constraint::Length(13),
                Constraint::Length(6),
                Constraint::Fill(3),
            ],
            vec!["", "phase", "behaviour", "load", "time", "server"],
        )
    } else {
        (
            vec![
                Constraint::Length(3),
                Constraint::Fill(3),
                Constraint::Length(13),
                Constraint::Length(6),
                Constraint::Fill(2),
            ],
            vec!["", "phase", "load", "time", "server"],
        )
    }
}

/// The phase table's frame: how many phases are included, the keys that change that, and
/// the capacity search when the profile has one.
fn phases_block(t: Theme, profile: &Profile, phase_enabled: &[bool], focused: bool) -> Block<'static> {
    let enabled = phase_enabled.iter().filter(|on| **on).count();
    let title = format!("Phases {enabled}/{} (space toggles, a all)", profile.phases.len());
    let block = framed(t, &title, focused);
    match &profile.capacity {
        Some(capacity) => block.title_bottom(format!(
            " capacity search {}→{} rps, step {} ",
            format::real(capacity.start_rps),
            format::real(capacity.max_rps),
            format::real(capacity.step_rps)
        )),
        None => block,
    }
}

fn render_phase_detail(t: Theme, phase: &Phase, area: Rect, buf: &mut Buffer) {
    let mut load = pair(t, "behaviour", phase.behaviour.name.clone());
    load.extend(pair(t, "load", load_label(&phase.load)));
    if let Load::Closed { spawn_rate_per_s, .. } = phase.load {
        load.extend(pair(t, "spawn", format!("{}/s", format::real(spawn_rate_per_s))));
    }
    load.extend(pair(t, "repo", phase.repo_size.label().to_string()));
    load.extend(pair(t, "suite", phase.suite.clone()));
    let server = if phase.server.is_empty() { "unchanged".to_string() } else { server_label(&phase.server) };
    let limits =
        if phase.thresholds.is_empty() { "none".to_string() } else { thresholds_label(&phase.thresholds) };
    let lines = vec![
        Line::raw(phase.description.clone()),
        Line::from(load),
        Line::from(pair(t, "server", server)),
        Line::from(pair(t, "limits", limits)),
    ];
    Paragraph::new(lines)
        .block(framed(t, &phase.name, false).borders(ratatui::widgets::Borders::TOP))
        .wrap(Wrap { trim: true })
        .render(area, buf);
}

fn render_settings(state: &AppState, area: Rect, buf: &mut Buffer) {
    let t = state.theme;
    let p = &state.profiles;
    let focused = p.focus == ProfilesFocus::Settings;
    let block = framed(t, "Run settings (Enter edits; default = the profile's)", focused);
    let inner = block.inner(area);
    block.render(area, buf);
    let rows = Layout::vertical([Constraint::Length(1); 6]).split(inner);
    for (row, fields) in RunField::ALL.chunks(2).enumerate() {
        let Some(&row_area) = rows.get(row) else { break };
        let cols =
            Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).split(row_area);
        for (col, field) in fields.iter().enumerate() {
            let chosen = focused && p.current_field() == *field;
            let editing = p.edit.as_ref().filter(|_| chosen);
            let value = {
                let text = p.settings.text(*field);
                if text.is_empty() {
                    "default".to_string()
                } else if *field == RunField::Url && editing.is_none() {
                    // A password typed into the URL shows while it is edited, not after.
                    crate::experiment::target::redacted_text(text)
                } else {
                    text.to_string()
                }
            };
            let muted = *field == RunField::Url && p.settings.target != TargetChoice::Url;
            let value_style = if chosen {
                t.selected()
            } else if muted {
                t.dim()
            } else {
                t.accent()
            };
            let mut spans = vec![Span::styled(format!("{:>10}: ", field.label()), t.dim())];
            match editing {
                Some(edit) => spans.extend(super::widgets::field_spans(
                    &edit.text,
                    edit.caret,
                    t.accent(),
                    usize::from(cols[col].width.saturating_sub(13)),
                )),
                None => spans.push(Span::styled(value, value_style)),
            }
            let line = Line::from(spans);
            line.render(cols[col], buf);
        }
    }
}

pub fn load_label(load: &Load) -> String {
    match load {
        Load::Closed { users, .. } => format!("{users} users"),
        Load::Open { rate_from_per_s, rate_to_per_s, .. } if rate_from_per_s == rate_to_per_s => {
            format!("{} rps", format::real(*rate_from_per_s))
        }
        Load::Open { rate_from_per_s, rate_to_per_s, .. } => {
            format!("{}→{} rps", format::real(*rate_from_per_s), format::real(*rate_to_per_s))
        }
    }
}

fn server_label(s: &ServerSettings) -> String {
    let mut parts = Vec::new();
    if let Some(ms) = s.latency_ms {
        parts.push(format!("{}ms", format::real(ms)));
    }
    if let Some(rate) = s.failure_rate {
        let mode = s.failure_mode.map_or("error_500", FailureMode::as_str);
        parts.push(format!("{} {}", format::percent(rate), mode));
    }
    if let Some(max) = s.max_concurrent.filter(|m| *m > 0) {
        parts.push(format!("max {max}"));
    }
    if let Some(workers) = s.workers.filter(|w| *w > 0) {
        parts.push(format!("{workers} workers"));
    }
    if parts.is_empty() { "-".into() } else { parts.join(" ") }
}

pub fn thresholds_label(th: &Thresholds) -> String {
    let mut parts = Vec::new();
    if let Some(v) = th.p95_ms {
        parts.push(format!("p95≤{}", format::ms(v)));
    }
    if let Some(v) = th.p99_ms {
        parts.push(format!("p99≤{}", format::ms(v)));
    }
    if let Some(v) = th.error_rate {
        parts.push(format!("errors≤{}", format::percent(v)));
    }
    if let Some(v) = th.min_rps {
        parts.push(format!("rps≥{}", format::real(v)));
    }
    parts.join(" ")
}
