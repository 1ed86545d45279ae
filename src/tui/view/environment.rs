//! Environment screen: Docker availability in one line, target health, the services table,
//! the live server-settings form with the server's last answer, and a log pane.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, StatefulWidget, Table, TableState, Widget, Wrap};

use super::widgets::{clip, framed};
use crate::docker::{Health, ServiceState};
use crate::experiment::target::redacted_text;
use crate::tui::env_state::{DockerAvail, EnvFocus, EnvTarget, ServerField};
use crate::tui::format;
use crate::tui::state::AppState;

pub fn render(state: &AppState, area: Rect, buf: &mut Buffer) {
    let env = &state.env;
    let [head, main] = Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(area);
    render_head(state, head, buf);
    let (main, logs) = match &env.logs {
        Some(_) => {
            let [a, b] =
                Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(main);
            (a, Some(b))
        }
        None => (main, None),
    };
    let form_width = if main.width >= 120 { 44 } else { 34 };
    let [services, form] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(form_width)]).areas(main);
    render_services(state, services, buf);
    render_form(state, form, buf);
    if let (Some(area), Some(pane)) = (logs, &env.logs) {
        let room = area.height.saturating_sub(2) as usize;
        let lines: Vec<Line<'_>> =
            pane.lines.iter().rev().take(room).rev().map(|l| Line::raw(l.clone())).collect();
        let title = format!(
            "Logs: {}{} (Esc closes)",
            pane.service,
            if pane.following { " · following" } else { "" }
        );
        Paragraph::new(lines).block(framed(state.theme, &title, false)).render(area, buf);
    }
}

fn render_head(state: &AppState, area: Rect, buf: &mut Buffer) {
    let t = state.theme;
    let env = &state.env;
    let docker = match &env.docker {
        DockerAvail::Unknown => Span::styled("Docker: not checked yet (R)", t.dim()),
        DockerAvail::Connecting => Span::styled(format!("Docker: {} connecting…", state.spinner()), t.warn()),
        DockerAvail::Available => Span::styled("Docker: connected", t.ok()),
        DockerAvail::Unavailable(reason) => Span::styled(
            clip(
                &format!("Docker unavailable: {reason} — embedded and URL targets still work"),
                area.width as usize,
            ),
            t.warn(),
        ),
    };
    let mut first = vec![docker];
    if let Some(busy) = &env.busy {
        first.push(Span::styled(format!("  {} {busy}", state.spinner()), t.warn()));
    } else if let Some(result) = &env.last_result {
        first.push(match result {
            Ok(text) => Span::styled(format!("  ✓ {text}"), t.ok()),
            Err(text) => Span::styled(format!("  ✗ {text}"), t.bad()),
        });
    }
    let health = match &env.health {
        None => Span::styled("not checked", t.dim()),
        Some(Ok(answer)) => Span::styled(format!("✓ {answer}"), t.ok()),
        Some(Err(reason)) => Span::styled(format!("✗ {reason}"), t.bad()),
    };
    let mut second = vec![Span::styled("Target ", t.dim())];
    second.extend(target_spans(t, env));
    if env.should_probe() {
        second.extend([Span::styled("health ", t.dim()), health]);
    }
    second.push(Span::styled(
        format!("  LocalStack {} (L)", if env.with_localstack { "on" } else { "off" }),
        t.dim(),
    ));
    let second = Line::from(second);
    Paragraph::new(vec![Line::from(first), second]).render(area, buf);
}

/// What the chosen target is, in words; only a target that can answer gets a health check.
fn target_spans(t: crate::tui::theme::Theme, env: &crate::tui::env_state::EnvState) -> Vec<Span<'static>> {
    let url = redacted_text(&env.form.url);
    match env.target {
        EnvTarget::Url if env.form.url.is_empty() => vec![Span::styled("URL (none typed yet) ", t.title())],
        EnvTarget::Url => vec![Span::styled(format!("URL {url} "), t.title())],
        EnvTarget::Docker if !env.docker_up() => vec![
            Span::styled(format!("docker API {url} "), t.title()),
            Span::styled("— not up (u brings it up) ", t.dim()),
        ],
        EnvTarget::Docker => vec![Span::styled(format!("docker API {url} "), t.title())],
        EnvTarget::Embedded { running: true } => {
            vec![Span::styled(format!("embedded (this run's) {url} "), t.title())]
        }
        // Nothing to check: the embedded mock lives and dies with its run.
        EnvTarget::Embedded { running: false } => vec![
            Span::styled("embedded ", t.title()),
            Span::styled("— exists only during a run (a target URL typed here is checked) ", t.dim()),
        ],
    }
}

fn render_services(state: &AppState, area: Rect, buf: &mut Buffer) {
    let t = state.theme;
    let env = &state.env;
    let focused = env.focus == EnvFocus::Services;
    let wide = area.width >= 70;
    let block = framed(t, "Services (u up · d down · s/x/r · f logs)", focused);
    if env.services.is_empty() {
        let text = match &env.docker {
            DockerAvail::Available => "No services yet. Press u to build and start the environment.",
            DockerAvail::Unavailable(_) => "Docker is not reachable, so there are no containers to show.",
            _ => "Waiting for Docker…",
        };
        Paragraph::new(Line::styled(text, t.dim())).block(block).wrap(Wrap { trim: true }).render(area, buf);
        return;
    }
    let rows: Vec<Row<'_>> = env
        .services
        .iter()
        .map(|s| {
            let style = match (&s.state, &s.health) {
                (ServiceState::Running, Health::Healthy | Health::NotChecked) => t.ok(),
                (ServiceState::Running, _) => t.warn(),
                // Not created yet is no failure: red is kept for what went wrong.
                (ServiceState::Missing, _) => t.dim(),
                _ => t.bad(),
            };
            let mut cells = vec![s.name.clone(), s.state.to_string(), s.health.to_string()];
            if wide {
                cells.push(s.ports.join(" "));
            }
            cells.extend([
                s.cpu_percent.map_or("-".into(), |c| format!("{c:.1}%")),
                s.memory_bytes.map_or("-".into(), format::bytes),
            ]);
            if wide {
                cells.push(s.uptime_s.map_or("-".into(), |u| format::secs(u as f64)));
            }
            Row::new(cells).style(style)
        })
        .collect();
    // Narrow terminals drop ports and uptime (`terrafix-tui env status` shows them).
    let (widths, names) = if wide {
        (
            vec![
                Constraint::Length(13),
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Fill(1),
                Constraint::Length(6),
                Constraint::Length(9),
                Constraint::Length(7),
            ],
            vec!["service", "state", "health", "ports", "cpu", "memory", "up"],
        )
    } else {
        (
            vec![
                Constraint::Fill(1),
                Constraint::Length(7),
                Constraint::Length(8),
                Constraint::Length(5),
                Constraint::Length(8),
            ],
            vec!["service", "state", "health", "cpu", "memory"],
        )
    };
    let header = Row::new(names).style(t.header());
    let table = Table::new(rows, widths).header(header).block(block).row_highlight_style(t.selected());
    let mut table_state = TableState::default().with_selected(focused.then_some(env.selected));
    StatefulWidget::render(table, area, buf, &mut table_state);
}

fn render_form(state: &AppState, area: Rect, buf: &mut Buffer) {
    let t = state.theme;
    let form = &state.env.form;
    let focused = state.env.focus == EnvFocus::Settings;
    let mut lines: Vec<Line<'_>> = ServerField::ALL
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let chosen = focused && form.cursor == i;
            let mut spans = vec![Span::styled(format!("{:>14} ", field.label()), t.dim())];
            match (&form.edit, chosen) {
                // A password typed into the URL shows as `•`, even while it is typed.
                (Some(edit), true) if *field == ServerField::Url => {
                    spans.extend(super::widgets::field_spans(
                        &super::widgets::mask_url_secret(&edit.text),
                        edit.caret,
                        t.accent(),
                        usize::from(area.width.saturating_sub(18)),
                    ))
                }
                (Some(edit), true) => {
                    spans.extend(super::widgets::field_spans(&edit.text, edit.caret, t.accent(), 60))
                }
                _ if *field == ServerField::Url && form.url.is_empty() => {
                    spans.push(Span::styled("none yet", if chosen { t.selected() } else { t.dim() }))
                }
                _ if form.text(*field).is_empty() => {
                    spans.push(Span::styled("(unchanged)", if chosen { t.selected() } else { t.accent() }))
                }
                // A password in the target URL is shown as `***` (kept as typed for the request);
                // a long URL is cut here (the line above shows it whole), not wrapped.
                _ if *field == ServerField::Url => spans.push(Span::styled(
                    clip(&redacted_text(form.text(*field)), usize::from(area.width.saturating_sub(17))),
                    if chosen { t.selected() } else { t.accent() },
                )),
                _ => spans.push(Span::styled(
                    form.text(*field).to_string(),
                    if chosen { t.selected() } else { t.accent() },
                )),
            }
            Line::from(spans)
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(match (&form.sending, &form.last_reply) {
        (true, _) => Line::styled(format!("{} sending…", state.spinner()), t.warn()),
        (false, None) => Line::styled("a applies with POST /configure", t.dim()),
        (false, Some(Ok(_))) => Line::styled("✓ applied; the server answered:", t.ok()),
        (false, Some(Err(reason))) => Line::styled(format!("✗ {reason}"), t.bad()),
    });
    if let (false, Some(Ok(reply))) = (form.sending, &form.last_reply) {
        lines.push(Line::raw(reply.clone()));
    }
    Paragraph::new(lines)
        .block(framed(t, "Live server settings", focused))
        .wrap(Wrap { trim: false })
        .render(area, buf);
}
