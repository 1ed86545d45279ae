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
    // The settings' rows, their help line and the frame.
    let settings_height = SETTINGS_ROWS + 3;
    let [detail, settings] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(settings_height)]).areas(right);
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
    let title = super::widgets::filter_title(t, "Profiles", p.items.len(), &p.filter);
    let items: Vec<ListItem<'_>> = p
        .visible()
        .into_iter()
        .map(|i| {
            let item = &p.items[i];
            match &item.profile {
                Ok(profile) => {
                    // A capacity search has no fixed phases: its steps are what it runs.
                    let size = match &profile.capacity {
                        Some(c) => format!("≤{} steps", coarse_steps(c) + u64::from(c.refine_steps)),
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
        .block(framed(t, "", p.focus == ProfilesFocus::List).title(title))
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
    if let (true, Some(search)) = (profile.phases.is_empty(), &profile.capacity) {
        // A capacity search has no phases of its own: its steps are what it runs.
        return capacity_steps(t, search).render(phases.union(detail), buf);
    }
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

/// Coarse steps of a capacity search: from its start rate to its maximum by its step.
fn coarse_steps(c: &crate::profile::CapacitySearch) -> u64 {
    ((c.max_rps - c.start_rps) / c.step_rps).floor().max(0.0) as u64 + 1
}

/// What a capacity search will run: its rates, how long each, what makes a step pass.
fn capacity_steps(t: Theme, c: &crate::profile::CapacitySearch) -> Paragraph<'static> {
    let coarse = coarse_steps(c);
    let rates: Vec<String> = (0..coarse).map(|i| format::real(c.start_rps + c.step_rps * i as f64)).collect();
    let shown = match rates.as_slice() {
        [first, second, .., last] if rates.len() > 4 => format!("{first}, {second}, … {last}"),
        all => all.join(", "),
    };
    let step = format::secs(c.step_duration.as_secs_f64());
    let lines = vec![
        Line::from(pair(t, "steps", format!("{coarse} at {shown} req/s, {step} each"))),
        Line::from(pair(
            t,
            "then",
            format!("up to {} refining steps between the last pass and the first fail", c.refine_steps),
        )),
        Line::from(pair(
            t,
            "a step passes",
            format!(
                "p99 ≤ {} and errors ≤ {}",
                format::ms(c.p99_limit_ms),
                format::percent(c.max_error_rate)
            ),
        )),
        Line::from(pair(t, "stops", "at the first step that fails (or the maximum)".to_string())),
        Line::from(pair(t, "behaviour", c.behaviour.name.clone())),
        Line::from(pair(t, "max in flight", c.max_in_flight.to_string())),
        Line::from(pair(t, "server", server_label(&c.server))),
    ];
    Paragraph::new(lines)
        .block(framed(t, &format!("Capacity search: ≤{} steps", coarse + u64::from(c.refine_steps)), false))
        .wrap(Wrap { trim: true })
}

/// The phases with their include marks; the cursor's row stands out more while the table
/// has the focus.
fn render_phase_table(state: &AppState, profile: &Profile, area: Rect, buf: &mut Buffer) {
    let t = state.theme;
    let p = &state.profiles;
    let focused = p.focus == ProfilesFocus::Phases;
    let columns = PhaseColumns::fit(profile, area.width.saturating_sub(2));
    let (widths, names) = columns.widths();
    let table = Table::new(phase_rows(profile, &p.phase_enabled, columns), widths)
        .header(Row::new(names).style(t.header()))
        .block(phases_block(t, profile, &p.phase_enabled, focused, area.height))
        .row_highlight_style(if focused { t.selected() } else { t.dim() });
    let mut table_state = TableState::default().with_selected(Some(p.phase_cursor));
    StatefulWidget::render(table, area, buf, &mut table_state);
}

/// Which of the optional columns fit whole beside the full phase names: narrow terminals
/// drop the behaviour, then the server settings (the detail pane below shows both).
#[derive(Clone, Copy, Debug)]
struct PhaseColumns {
    name: u16,
    behaviour: Option<u16>,
    server: Option<u16>,
}

/// Widths of the include mark, the load and the time.
const MARK_W: u16 = 3;
const LOAD_W: u16 = 13;
const TIME_W: u16 = 6;

impl PhaseColumns {
    fn fit(profile: &Profile, width: u16) -> PhaseColumns {
        let longest = |texts: &mut dyn Iterator<Item = String>| {
            texts.map(|t| t.chars().count()).max().unwrap_or(0).max(5) as u16
        };
        let name = longest(&mut profile.phases.iter().map(|p| p.name.clone()));
        let behaviour = longest(&mut profile.phases.iter().map(|p| p.behaviour.name.clone()));
        let server = longest(&mut profile.phases.iter().map(|p| server_label(&p.server)));
        // The fixed columns, the phase name and a space between each two columns.
        let base = MARK_W + name + LOAD_W + TIME_W + 3;
        let fits = |extra: u16| base + extra <= width;
        match (fits(behaviour + server + 2), fits(server + 1)) {
            (true, _) => PhaseColumns { name, behaviour: Some(behaviour), server: Some(server) },
            (false, true) => PhaseColumns { name, behaviour: None, server: Some(server) },
            (false, false) => PhaseColumns { name, behaviour: None, server: None },
        }
    }

    fn widths(self) -> (Vec<Constraint>, Vec<&'static str>) {
        // The last column takes the room left over, so the columns stay together on the left.
        let name = if self.server.is_some() { Constraint::Length(self.name) } else { Constraint::Fill(1) };
        let mut widths = vec![Constraint::Length(MARK_W), name];
        let mut names = vec!["", "phase"];
        if let Some(w) = self.behaviour {
            widths.push(Constraint::Length(w));
            names.push("behaviour");
        }
        widths.extend([Constraint::Length(LOAD_W), Constraint::Length(TIME_W)]);
        names.extend(["load", "time"]);
        if let Some(w) = self.server {
            widths.push(Constraint::Min(w));
            names.push("server");
        }
        (widths, names)
    }
}

/// One row per phase: include mark, name, behaviour, load, time and server (those that fit).
fn phase_rows(profile: &Profile, phase_enabled: &[bool], columns: PhaseColumns) -> Vec<Row<'static>> {
    profile
        .phases
        .iter()
        .enumerate()
        .map(|(i, phase)| {
            let mark = if phase_enabled.get(i).copied().unwrap_or(true) { "[x]" } else { "[ ]" };
            let mut cells = vec![mark.to_string(), phase.name.clone()];
            if columns.behaviour.is_some() {
                cells.push(phase.behaviour.name.clone());
            }
            cells.extend([load_label(&phase.load), format::secs(phase.duration.as_secs_f64())]);
            if columns.server.is_some() {
                cells.push(server_label(&phase.server));
            }
            Row::new(cells)
        })
        .collect()
}

/// The phase table's frame: how many phases are included, the keys that change that, and
/// the capacity search when the profile has one.
fn phases_block(
    t: Theme,
    profile: &Profile,
    phase_enabled: &[bool],
    focused: bool,
    height: u16,
) -> Block<'static> {
    let enabled = phase_enabled.iter().filter(|on| **on).count();
    let title = format!("Phases {enabled}/{} (space toggles, a all)", profile.phases.len());
    let block = framed(t, &title, focused);
    // Borders and the heading take three rows; more phases than fit scroll with the cursor.
    let room = usize::from(height.saturating_sub(3));
    if profile.phases.len() > room {
        let hint = format!(" {room} of {} shown · ↑↓ scroll ", profile.phases.len());
        return block.title_bottom(Span::styled(hint, t.warn()));
    }
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

/// Rows of the settings pane: two fields a row, then the focused field's help line.
const SETTINGS_ROWS: u16 = RunField::ALL.len().div_ceil(2) as u16;

fn render_settings(state: &AppState, area: Rect, buf: &mut Buffer) {
    let t = state.theme;
    let p = &state.profiles;
    let focused = p.focus == ProfilesFocus::Settings;
    let block = framed(t, "Run settings (Enter edits; default = the profile's)", focused);
    let inner = block.inner(area);
    block.render(area, buf);
    let [fields_area, help_area] =
        Layout::vertical([Constraint::Length(SETTINGS_ROWS), Constraint::Length(1)]).areas(inner);
    let rows = Layout::vertical([Constraint::Length(1); SETTINGS_ROWS as usize]).split(fields_area);
    for (row, fields) in RunField::ALL.chunks(2).enumerate() {
        let Some(&row_area) = rows.get(row) else { break };
        let cols =
            Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).split(row_area);
        for (col, field) in fields.iter().enumerate() {
            setting_line(state, *field, cols[col].width).render(cols[col], buf);
        }
    }
    let help = if focused {
        Span::styled(clip(p.current_field().help(), help_area.width as usize), t.accent())
    } else {
        Span::styled(
            clip("→ moves here; each field is explained on this line", help_area.width as usize),
            t.dim(),
        )
    };
    Line::from(help).render(help_area, buf);
}

/// `label: value` of one run setting, or its edit field while it is typed.
fn setting_line(state: &AppState, field: RunField, width: u16) -> Line<'static> {
    let t = state.theme;
    let p = &state.profiles;
    let chosen = p.focus == ProfilesFocus::Settings && p.current_field() == field;
    let editing = p.edit.as_ref().filter(|_| chosen);
    let text = p.settings.text(field);
    let unused_url = field == RunField::Url && p.settings.target != TargetChoice::Url;
    let value = if unused_url {
        // The URL is kept for when target is URL again; it says nothing about this run.
        format!("not used: {}", p.settings.target.label())
    } else if text.is_empty() && field == RunField::Metrics {
        // Nothing is served unless an address is given: not a profile default.
        "off".to_string()
    } else if text.is_empty() {
        "default".to_string()
    } else if field == RunField::Url {
        crate::experiment::target::redacted_text(text)
    } else {
        text.to_string()
    };
    let value_style = if chosen {
        t.selected()
    } else if unused_url {
        t.dim()
    } else {
        t.accent()
    };
    let mut spans = vec![Span::styled(format!("{:>10}: ", field.label()), t.dim())];
    match editing {
        Some(edit) => {
            // A password typed into the URL shows as `•`, even while it is typed.
            let shown = if field == RunField::Url {
                super::widgets::mask_url_secret(&edit.text)
            } else {
                edit.text.clone()
            };
            spans.extend(super::widgets::field_spans(
                &shown,
                edit.caret,
                t.accent(),
                usize::from(width.saturating_sub(13)),
            ))
        }
        None => spans.push(Span::styled(clip(&value, usize::from(width.saturating_sub(12))), value_style)),
    }
    Line::from(spans)
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
