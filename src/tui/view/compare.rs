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
    let notes: Vec<Line<'_>> = comparison
        .phases
        .iter()
        .filter_map(|p| Some(Line::styled(format!("{}: {}", p.name, p.note.as_deref()?), t.warn())))
        .collect();
    let [table, below] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(notes.len() as u16 * 2)]).areas(inner);
    Paragraph::new(notes).wrap(Wrap { trim: true }).render(below, buf);
    let layout = CompareLayout::fit(comparison, inner.width);
    if !layout.name_column {
        return render_by_phase(t, comparison, &layout, table, buf);
    }
    let mut rows: Vec<Row<'_>> = Vec::new();
    for p in &comparison.phases {
        for (i, m) in p.metrics.iter().enumerate() {
            let name = if i == 0 { p.name.clone() } else { String::new() };
            let mut cells = vec![Span::raw(name)];
            cells.extend(metric_cells(m, &layout).into_iter().map(Span::raw));
            cells.push(verdict_cell(t, m.verdict));
            rows.push(Row::new(cells));
        }
    }
    let (widths, header) = layout.columns();
    let header = Row::new(header).style(t.header());
    Widget::render(Table::new(rows, widths).header(header), table, buf);
}

/// A metric's cells from its label to its interval (when shown); the verdict is styled apart.
fn metric_cells(m: &crate::metrics::compare::MetricChange, layout: &CompareLayout) -> Vec<String> {
    let mut cells = vec![
        m.metric.label().to_string(),
        compared_value(m.metric, m.a.value),
        compared_value(m.metric, m.b.value),
        signed_percent(m.change_pct),
    ];
    if layout.interval {
        cells.push(interval_text(m.change_interval_pct));
    }
    cells
}

/// Narrow terminals: each phase's name on a line of its own (never cut to a column), its
/// metrics under it in fixed columns.
fn render_by_phase(t: Theme, comparison: &Comparison, layout: &CompareLayout, area: Rect, buf: &mut Buffer) {
    let (_, header) = layout.columns();
    let widths = layout.widths_after_name();
    let pad = |cells: &[&str]| -> String {
        cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$} ", w = usize::from(*w))).collect()
    };
    let mut lines = vec![Line::styled(pad(&header), t.header())];
    for p in &comparison.phases {
        lines.push(Line::styled(super::widgets::clip(&p.name, area.width as usize), t.title()));
        for m in &p.metrics {
            let cells = metric_cells(m, layout);
            let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
            lines.push(Line::from(vec![Span::raw(pad(&cells)), verdict_cell(t, m.verdict)]));
        }
    }
    Paragraph::new(lines).render(area, buf);
}

/// Which columns fit: whole columns are dropped as the terminal narrows, never cut. First
/// the phase name moves to a row of its own, then the 95 % interval goes (the verdict says
/// what it showed); the A and B values always stay.
struct CompareLayout {
    /// The phase name's column width, when it has a column.
    name_width: u16,
    name_column: bool,
    interval: bool,
}

/// Widths of metric, A, B, change, interval and verdict.
const METRIC_W: u16 = 5;
const VALUE_W: u16 = 9;
const CHANGE_W: u16 = 7;
const INTERVAL_W: u16 = 15;
const VERDICT_W: u16 = 9;

impl CompareLayout {
    fn fit(comparison: &Comparison, width: u16) -> CompareLayout {
        let longest = comparison.phases.iter().map(|p| p.name.chars().count()).max().unwrap_or(5);
        let name_width = longest.clamp(5, 24) as u16;
        // Columns plus one space between each two.
        let with_interval = METRIC_W + 2 * VALUE_W + CHANGE_W + INTERVAL_W + VERDICT_W + 5;
        let name_fits = usize::from(name_width) >= longest && name_width + 1 + with_interval <= width;
        CompareLayout { name_width, name_column: name_fits, interval: name_fits || with_interval <= width }
    }

    /// Widths of the columns after the phase name, the verdict last.
    fn widths_after_name(&self) -> Vec<u16> {
        let mut widths = vec![METRIC_W, VALUE_W, VALUE_W, CHANGE_W];
        if self.interval {
            widths.push(INTERVAL_W);
        }
        widths.push(VERDICT_W);
        widths
    }

    /// Column widths and headings; the phase name's column only when it has one.
    fn columns(&self) -> (Vec<Constraint>, Vec<&'static str>) {
        let (mut widths, mut header) = (Vec::new(), Vec::new());
        if self.name_column {
            widths.push(Constraint::Length(self.name_width));
            header.push("phase");
        }
        widths.extend([
            Constraint::Length(METRIC_W),
            Constraint::Length(VALUE_W),
            Constraint::Length(VALUE_W),
            Constraint::Length(CHANGE_W),
        ]);
        header.extend(["", "A", "B", "change"]);
        if self.interval {
            widths.push(Constraint::Length(INTERVAL_W));
            header.push("95 % interval");
        }
        widths.push(Constraint::Length(VERDICT_W));
        header.push("verdict");
        (widths, header)
    }
}
