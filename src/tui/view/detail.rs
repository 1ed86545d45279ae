//! The run detail (Enter on a run): the phase's throughput and latency over time, drawn by
//! the live view's braille charts with steering changes and faults on the time axis, and
//! under them the phase's text (see `detail_text`), which scrolls with a visible hint.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::detail_text;
use super::run_charts::{self, Latencies, Marks};
use super::widgets::framed;
use crate::tui::detail_state::{DetailLoad, Explorer, RunDetail};
use crate::tui::state::AppState;
use crate::tui::theme::Theme;

pub fn render(state: &AppState, explorer: &Explorer, area: Rect, buf: &mut Buffer) {
    let t = state.theme;
    match &explorer.load {
        DetailLoad::Loading => Paragraph::new(format!("{} reading {}…", state.spinner(), explorer.run_id))
            .block(framed(t, &explorer.run_id, true))
            .render(area, buf),
        DetailLoad::Failed(reason) => Paragraph::new(vec![
            Line::styled(format!("✗ cannot show {}", explorer.run_id), t.bad()),
            Line::raw(reason.clone()),
            Line::raw(""),
            Line::styled("Esc goes back to the list of runs.", t.dim()),
        ])
        .block(framed(t, &explorer.run_id, true))
        .wrap(Wrap { trim: true })
        .render(area, buf),
        DetailLoad::Loaded(detail) => render_loaded(t, explorer, detail, area, buf),
    }
}

fn render_loaded(t: Theme, explorer: &Explorer, detail: &RunDetail, area: Rect, buf: &mut Buffer) {
    let chart_height = match area.height {
        0..16 => 0,
        16..36 => 8,
        _ => 14,
    };
    let [title, charts, text] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(chart_height), Constraint::Min(0)])
            .areas(area);
    title_line(t, explorer, detail).render(title, buf);
    if chart_height > 0 {
        render_charts(t, detail, explorer.phase, charts, buf);
    }
    render_text(t, explorer, detail, text, buf);
}

/// `◀ phase 2/3 ▶ smoke_webhook (suite smoke) · 20250102-100000-smoke`.
fn title_line(t: Theme, explorer: &Explorer, detail: &RunDetail) -> Line<'static> {
    let count = detail.summary.experiments.len();
    let phase = detail.summary.experiments.get(explorer.phase);
    let name = phase.map_or("(no phases)".to_string(), |p| p.name.clone());
    let suite =
        phase.filter(|p| !p.suite.is_empty()).map(|p| format!(" (suite {})", p.suite)).unwrap_or_default();
    let arrow = |on: bool, s: &'static str| Span::styled(s, if on { t.key() } else { t.dim() });
    Line::from(vec![
        arrow(explorer.phase > 0, " ◀ "),
        Span::styled(format!("phase {}/{count}", (explorer.phase + 1).min(count)), t.title()),
        arrow(explorer.phase + 1 < count, " ▶ "),
        Span::styled(name, t.title()),
        Span::raw(suite),
        Span::styled(format!(" · {}", explorer.run_id), t.dim()),
    ])
}

fn render_charts(t: Theme, detail: &RunDetail, phase: usize, area: Rect, buf: &mut Buffer) {
    let [left, right] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(area);
    let Some(line) = detail.timelines.get(phase).filter(|l| !l.rps.is_empty() || !l.p50.is_empty()) else {
        Paragraph::new("No per-second history for this phase (its _stats_history.csv and .hlog are missing or unreadable; see Notes).")
            .block(framed(t, "over time", false))
            .wrap(Wrap { trim: true })
            .render(area, buf);
        return;
    };
    let summary = detail.summary.experiments.get(phase);
    let steered: Vec<f64> = summary.map(|p| p.changes.iter().map(|c| c.at_s).collect()).unwrap_or_default();
    let faults: Vec<(f64, f64)> = summary
        .and_then(|p| p.resilience.as_ref())
        .map(|r| {
            r.faults
                .iter()
                .filter_map(|f| Some((f.started_s?, f.ended_s.or(f.started_s.map(|_| f.planned_end_s))?)))
                .collect()
        })
        .unwrap_or_default();
    let marks = Marks { steered: &steered, faults: &faults };
    run_charts::throughput(t, &line.rps, &line.failed_rps, marks, left, buf);
    let series = Latencies { p50: &line.p50, p95: &line.p95, p99: &line.p99 };
    run_charts::latency(t, series, marks, right, buf);
    let has_marks = !steered.is_empty() || !faults.is_empty();
    fit_legend(t, THROUGHPUT_LEGEND, has_marks, left, buf);
    fit_legend(t, LATENCY_LEGEND, has_marks, right, buf);
}

/// Characters of the charts' legends before their note of the marks:
/// ` req/s ⣿ total ⣿ failed ` and ` latency ⣿ p50 ⣿ p95 ⣿ p99 `.
const THROUGHPUT_LEGEND: usize = 24;
const LATENCY_LEGEND: usize = 27;
/// The marks' note as the charts write it: `│ change ▕▏fault `.
const MARKS_NOTE: usize = 17;

/// A chart too narrow for its whole legend would cut the note of the marks mid-word
/// (`▕▏fau`): the note goes (the text under the charts names the marks with the same
/// symbols), a `log` before it stays.
fn fit_legend(t: Theme, legend: usize, has_marks: bool, area: Rect, buf: &mut Buffer) {
    let room = usize::from(area.width.saturating_sub(2));
    if !has_marks || area.height == 0 || legend >= room {
        return;
    }
    let start = area.x + 1 + legend as u16;
    let end = area.x + area.width - 1;
    let text: String =
        (start..end).filter_map(|x| buf.cell((x, area.y)).map(|c| c.symbol().to_string())).collect();
    let log = text.starts_with("log");
    let note = if log { 4 } else { 0 } + MARKS_NOTE;
    if legend + note <= room {
        return;
    }
    let kept = if log { 4 } else { 0 };
    for x in start + kept..end {
        if let Some(cell) = buf.cell_mut((x, area.y)) {
            cell.set_symbol("─").set_style(t.border());
        }
    }
}

fn render_text(t: Theme, explorer: &Explorer, detail: &RunDetail, area: Rect, buf: &mut Buffer) {
    let inner_width = area.width.saturating_sub(2);
    let lines = detail_text::lines(t, detail, explorer.phase, inner_width);
    let rows = usize::from(area.height.saturating_sub(2));
    // The last page fills the frame: scrolling stops there.
    let top = usize::from(explorer.scroll).min(lines.len().saturating_sub(rows));
    let below = lines.len().saturating_sub(top + rows);
    let hint = match (top > 0, below > 0) {
        (_, true) => format!(" ↓ {below} more lines · ↑↓ PgDn scroll "),
        (true, false) => " end · ↑ PgUp g scroll back ".to_string(),
        (false, false) => String::new(),
    };
    let mut block = framed(t, "Phase detail", false);
    if !hint.is_empty() {
        block = block.title_bottom(Line::styled(hint, t.key()).right_aligned());
    }
    let shown: Vec<Line<'_>> = lines.into_iter().skip(top).collect();
    Paragraph::new(shown).block(block).render(area, buf);
}
