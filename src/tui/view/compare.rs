//! The Results screen's compare view: run B against run A as `terrafix-tui compare`
//! reports it — per phase and metric the change, its 95 % interval and the verdict.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, Widget, Wrap};

use super::widgets::framed;
use crate::metrics::compare::{Comparison, Interval, Metric, Verdict};
use crate::tui::format;
use crate::tui::state::{CompareState, ResultEntry};
use crate::tui::theme::Theme;

fn compared_value(metric: Metric, v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if metric == Metric::Rps => format::real(v),
        Some(v) => format::ms(v),
    }
}

fn signed_percent(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:+.1}%"))
}

fn interval_text(i: Option<Interval>) -> String {
    i.map_or("-".into(), |i| format!("[{:+.1}, {:+.1}]%", i.low, i.high))
}

/// The verdict in a word or two, styled: the table column is narrow.
fn verdict_cell(t: Theme, v: Verdict) -> Span<'static> {
    match v {
        Verdict::Slower => Span::styled("slower", t.bad()),
        Verdict::Faster => Span::styled("faster", t.ok()),
        Verdict::NoDetectableDifference => Span::styled("no diff", t.dim()),
        Verdict::NotEnoughData => Span::styled("too short", t.warn()),
        Verdict::NotComparable => Span::styled("not valid", t.warn()),
    }
}

pub fn render(
    t: Theme,
    (a, b): (&ResultEntry, &ResultEntry),
    state: Option<&CompareState>,
    area: Rect,
    buf: &mut Buffer,
) {
    let block = framed(t, "Compare: B against A, 95 % intervals (Esc back)", true);
    let [legend, table] = Layout::vertical([Constraint::Length(3), Constraint::Min(0)]).areas(area);
    Paragraph::new(vec![
        Line::from(vec![Span::styled("A ", t.title()), Span::raw(a.run_id.clone())]),
        Line::from(vec![Span::styled("B ", t.title()), Span::raw(b.run_id.clone())]),
        Line::from(Span::styled(
            "change = (B − A) / A; no diff: the interval contains 0 (bootstrap over seconds)",
            t.dim(),
        )),
    ])
    .wrap(Wrap { trim: true })
    .render(legend, buf);
    let comparison = match state.filter(|s| s.is_for(&a.run_id, &b.run_id)) {
        Some(CompareState::Done { result: Ok(c), .. }) => c.as_ref(),
        Some(CompareState::Done { result: Err(reason), .. }) => {
            Paragraph::new(format!("✗ {reason}")).wrap(Wrap { trim: true }).block(block).render(table, buf);
            return;
        }
        Some(CompareState::Computing { .. }) | None => {
            Paragraph::new("computing intervals from both runs' per-second histograms…")
                .block(block)
                .render(table, buf);
            return;
        }
    };
    let inner = block.inner(table);
    block.render(table, buf);
    render_table(t, comparison, inner, buf);
}

/// One row per phase and metric, then the phases' notes (why a phase has no intervals).
fn render_table(t: Theme, comparison: &Comparison, inner: Rect, buf: &mut Buffer) {
    let notes: Vec<Line> = comparison
        .phases
        .iter()
        .filter_map(|p| Some(Line::styled(format!("{}: {}", p.name, p.note.as_deref()?), t.warn())))
        .collect();
    let [table, below] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(notes.len() as u16 * 2)]).areas(inner);
    Paragraph::new(notes).wrap(Wrap { trim: true }).render(below, buf);
    // Narrow terminals drop the A and B values; the change, interval and verdict stay.
    let wide = inner.width >= 84;
    let name_width = comparison.phases.iter().map(|p| p.name.chars().count()).max().unwrap_or(5);
    let mut rows: Vec<Row> = Vec::new();
    for p in &comparison.phases {
        for (i, m) in p.metrics.iter().enumerate() {
            let name = if i == 0 { p.name.clone() } else { String::new() };
            let mut cells = vec![Span::raw(name), Span::raw(m.metric.label())];
            if wide {
                cells.push(Span::raw(compared_value(m.metric, m.a.value)));
                cells.push(Span::raw(compared_value(m.metric, m.b.value)));
            }
            cells.push(Span::raw(signed_percent(m.change_pct)));
            cells.push(Span::raw(interval_text(m.change_interval_pct)));
            cells.push(verdict_cell(t, m.verdict));
            rows.push(Row::new(cells));
        }
    }
    let name = Constraint::Length(name_width.clamp(5, if wide { 24 } else { 12 }) as u16);
    let (mut widths, mut header) = (vec![name, Constraint::Length(5)], vec!["phase", ""]);
    if wide {
        widths.extend([Constraint::Length(9), Constraint::Length(9)]);
        header.extend(["A", "B"]);
    }
    widths.extend([Constraint::Length(7), Constraint::Length(15), Constraint::Length(9)]);
    header.extend(["change", "95 % interval", "verdict"]);
    let header = Row::new(header).style(t.header());
    Widget::render(Table::new(rows, widths).header(header), table, buf);
}
