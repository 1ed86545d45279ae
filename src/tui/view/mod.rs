//! Rendering: a pure function of [`AppState`] (`impl Widget for &AppState`). The frame is a tab
//! bar, the current screen, a footer with hints or the latest message, and any overlay.

mod compare;
mod detail;
mod detail_text;
mod environment;
mod export;
mod profiles;
mod quick;
mod results;
mod run;
mod run_charts;
mod text_fit;
mod widgets;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget, Wrap};

use super::keys::{export_dialog_help, help_lines};
use super::state::{AppState, Overlay, Screen};
use widgets::{centered, framed};

pub use detail_text::line_count as detail_line_count;

impl Widget for &AppState {
    fn render(self, area: Rect, buf: &mut Buffer) {
        // A message gets a line of its own above the key hints, which always stay.
        let footer_height = if self.flash.is_some() { 2 } else { 1 };
        let [tabs, body, footer] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0), Constraint::Length(footer_height)])
                .areas(area);
        render_tabs(self, tabs, buf);
        match self.screen {
            Screen::Profiles => profiles::render(self, body, buf),
            Screen::Environment => environment::render(self, body, buf),
            Screen::Run => run::render(self, body, buf),
            Screen::Results => results::render(self, body, buf),
        }
        if let (Screen::Results, Some(dialog)) = (self.screen, &self.results.dialog) {
            export::render(self.theme, dialog, self.spinner(), body, buf);
        }
        if let (Screen::Profiles, Some(form)) = (self.screen, &self.profiles.quick) {
            quick::render(self.theme, form, body, buf);
        }
        render_footer(self, footer, buf);
        match &self.overlay {
            Some(Overlay::Help) => render_help(self, area, buf),
            Some(Overlay::ConfirmQuit) => render_confirm(
                self,
                "Quit?",
                if self.run.is_active() {
                    "A run is active. Quit aborts it; its partial results are written first."
                } else {
                    "Docker work is in flight. Quit cancels it and removes what it started first."
                },
                area,
                buf,
            ),
            Some(Overlay::ConfirmAbort) => render_confirm(
                self,
                "Abort the run?",
                "In-flight requests finish, then the partial results are written (status: aborted).",
                area,
                buf,
            ),
            Some(Overlay::ConfirmStart { name, planned }) => render_confirm(
                self,
                "Start a long run?",
                &format!("{name} is planned to take {planned}. Start it now?"),
                area,
                buf,
            ),
            None => {}
        }
    }
}

fn render_tabs(state: &AppState, area: Rect, buf: &mut Buffer) {
    let t = state.theme;
    let mut spans = vec![Span::styled(" terrafix ", t.title())];
    for screen in Screen::ALL {
        let label = format!(" {} {} ", screen.index() + 1, screen.title());
        let style = if screen == state.screen { t.selected().patch(t.title()) } else { t.dim() };
        spans.push(Span::styled(label, style));
    }
    let run_badge = match (&state.run.phase, state.run.is_active()) {
        (_, true) => format!(" {} run: {} ", state.spinner(), state.run.profile),
        (super::state::RunPhase::Finished, _)
            if state
                .run
                .summary
                .as_ref()
                .is_some_and(|s| s.status == crate::metrics::summary::RunStatus::Aborted) =>
        {
            format!(" ■ {} aborted ", state.run.profile)
        }
        (super::state::RunPhase::Finished, _) => format!(" ✓ {} finished ", state.run.profile),
        (super::state::RunPhase::Failed(_), _) => format!(" ✗ {} failed ", state.run.profile),
        _ => String::new(),
    };
    spans.push(Span::styled(run_badge, t.warn()));
    Line::from(spans).render(area, buf);
}

fn render_footer(state: &AppState, area: Rect, buf: &mut Buffer) {
    let t = state.theme;
    let message = match &state.flash {
        Some(flash) if flash.is_error => {
            Some(Line::from(Span::styled(format!(" ✗ {}  (Esc dismisses)", flash.text), t.bad())))
        }
        Some(flash) => Some(Line::from(Span::styled(format!(" {}", flash.text), t.accent()))),
        None => None,
    };
    let area = match message {
        Some(line) if area.height >= 2 => {
            let [message_area, hints_area] =
                Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
            line.render(message_area, buf);
            hints_area
        }
        _ => area,
    };
    let hints: &[(&str, &str)] = match state.screen {
        Screen::Profiles => &[("Enter", "run"), ("/", "filter"), ("←→", "panes"), ("space", "phase")],
        Screen::Environment => &[("u/d", "up/down"), ("f", "logs"), ("a", "apply"), ("R", "refresh")],
        Screen::Run => &[("s", "skip phase"), ("x", "abort"), ("p", "pause view")],
        Screen::Results if state.results.explorer.is_some() => {
            &[("←→", "phase"), ("↑↓", "scroll"), ("e", "export"), ("c", "compare"), ("Esc", "back")]
        }
        Screen::Results => &[("Enter", "detail"), ("e", "export"), ("c", "compare"), ("p", "paths")],
    };
    let leave = if state.attached { ("q", "detach") } else { ("q", "quit") };
    let mut spans = vec![Span::raw(" ")];
    for (key, what) in hints.iter().chain(&[("?", "help"), leave]) {
        spans.push(Span::styled(*key, t.key()));
        spans.push(Span::styled(format!(" {what}  "), t.dim()));
    }
    Line::from(spans).render(area, buf);
}

/// The help overlay's width in columns (it fits the smallest supported terminal, 80).
const HELP_WIDTH: u16 = 66;

fn render_help(state: &AppState, area: Rect, buf: &mut Buffer) {
    let t = state.theme;
    let keys = if state.screen == Screen::Results && state.results.dialog.is_some() {
        export_dialog_help()
    } else if state.screen == Screen::Results && state.results.explorer.is_some() {
        super::keys::explorer_help()
    } else if state.screen == Screen::Profiles && state.profiles.quick.is_some() {
        super::keys::QUICK_FORM_HELP.to_vec()
    } else {
        help_lines(state.screen, state.attached)
    };
    let lines: Vec<Line<'_>> = keys
        .into_iter()
        .map(|(keys, what)| Line::from(vec![Span::styled(format!("{keys:>11}  "), t.key()), Span::raw(what)]))
        .collect();
    // A line longer than the popup wraps: count the rows it takes, so the last keys (q,
    // Ctrl-C) are not cut off.
    let inner = HELP_WIDTH.saturating_sub(2).min(area.width.saturating_sub(2)).max(1) as usize;
    let rows: usize = lines.iter().map(|line| line.width().div_ceil(inner).max(1)).sum();
    let height = u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(3);
    let popup = centered(area, HELP_WIDTH, height);
    Clear.render(popup, buf);
    let title = format!(" Keys: {} — any key closes ", state.screen.title());
    let block = framed(t, &title, true);
    Paragraph::new(lines).block(block).wrap(Wrap { trim: false }).render(popup, buf);
}

fn render_confirm(state: &AppState, title: &str, text: &str, area: Rect, buf: &mut Buffer) {
    let t = state.theme;
    let popup = centered(area, 56, 6);
    Clear.render(popup, buf);
    let lines = vec![
        Line::raw(text),
        Line::raw(""),
        Line::from(vec![
            Span::styled("y", t.key()),
            Span::raw(" / Enter: yes    "),
            Span::styled("n", t.key()),
            Span::raw(" / Esc: no"),
        ]),
    ];
    Paragraph::new(lines).block(framed(t, title, true)).wrap(Wrap { trim: true }).render(popup, buf);
}
