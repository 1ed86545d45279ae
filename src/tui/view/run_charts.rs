//! The Run screen's two charts: requests/s (total, failed) and latency p50/p95/p99 over the run,
//! in the one palette (p50 blue, p95 orange, p99 purple, throughput green, failures red,
//! steering changes cyan, faults pink). Axes snap to round maxima. The latency axis keeps one
//! scale through a phase: linear, unless log was asked for (`L`) or the phase's own values
//! span more than two decades — a spread that only grows as the phase goes on, so the axis
//! changes at most once in a phase and never back.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph, Widget};

use super::widgets::framed;
use crate::tui::format;
use crate::tui::run_state::Point;
use crate::tui::theme::{Role, Theme};

/// Above this max/min spread within a phase (two decades) the latency chart uses a log₁₀ axis.
pub const LOG_SPREAD: f64 = 100.0;

/// One line of a chart: its name, its points, and what it stands for (its colour).
struct Trace<'a> {
    name: &'static str,
    points: &'a [Point],
    role: Role,
}

fn marker_char(marker: Marker) -> &'static str {
    match marker {
        Marker::Dot => "•",
        Marker::Block => "█",
        _ => "⣿",
    }
}

/// Title with a legend in it (so no legend box covers the data).
fn legend_title(t: Theme, title: &str, lines: &[Trace<'_>], suffix: &str) -> Line<'static> {
    let mut spans = vec![Span::styled(format!(" {title} "), t.title())];
    for (i, line) in lines.iter().enumerate() {
        spans.push(Span::styled(format!("{} {} ", marker_char(t.marker(i)), line.name), t.role(line.role)));
    }
    if !suffix.is_empty() {
        spans.push(Span::styled(format!("{suffix} "), t.dim()));
    }
    Line::from(spans)
}

fn x_axis(t: Theme, points: &[Point]) -> (Axis<'static>, f64) {
    let end = points.last().map_or(0.0, |p| p.0).max(10.0);
    let start = points.first().map_or(0.0, |p| p.0).min(end);
    let labels = vec![
        Span::styled(format::clock(start), t.dim()),
        Span::styled(format::clock((start + end) / 2.0), t.dim()),
        Span::styled(format::clock(end), t.dim()),
    ];
    (Axis::default().bounds([start, end]).labels(labels), end)
}

/// What is marked on the charts: steering changes and resets (run times), and fault
/// windows (start, end) shaded by a line along the bottom with edges.
#[derive(Clone, Copy, Debug)]
pub struct Marks<'a> {
    pub steered: &'a [f64],
    pub faults: &'a [(f64, f64)],
}

/// A chart's lines, y axis (with its bounds) and its marks.
struct Plot<'a> {
    title: Line<'static>,
    lines: &'a [Trace<'a>],
    y: Axis<'static>,
    y_bounds: [f64; 2],
    marks: Marks<'a>,
}

fn draw(t: Theme, plot: Plot<'_>, area: Rect, buf: &mut Buffer) {
    let Plot { title, lines, y, y_bounds, marks } = plot;
    let Some(first) = lines.first() else { return };
    if first.points.is_empty() {
        Paragraph::new("waiting for the first second of data…")
            .block(framed(t, "", false).title(title))
            .render(area, buf);
        return;
    }
    let (x, _) = x_axis(t, first.points);
    let start = first.points.first().map_or(0.0, |p| p.0);
    // A steering change or statistics reset: a vertical line at its run time.
    let mark_lines: Vec<[Point; 2]> = marks
        .steered
        .iter()
        .filter(|&&m| m >= start)
        .map(|&m| [(m, y_bounds[0]), (m, y_bounds[1])])
        .collect();
    // A fault window: its edges, and a band along the top between them.
    let top = y_bounds[1] - (y_bounds[1] - y_bounds[0]) * 0.02;
    let fault_lines: Vec<[Point; 2]> = marks
        .faults
        .iter()
        .filter(|(_, b)| *b >= start)
        .flat_map(|&(a, b)| {
            let a = a.max(start);
            [[(a, y_bounds[0]), (a, y_bounds[1])], [(b, y_bounds[0]), (b, y_bounds[1])], [(a, top), (b, top)]]
        })
        .collect();
    let mut datasets: Vec<Dataset<'_>> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            Dataset::default()
                .name(line.name)
                .marker(t.marker(i))
                .graph_type(GraphType::Line)
                .style(t.role(line.role))
                .data(line.points)
        })
        .collect();
    datasets.extend(mark_lines.iter().map(|points| {
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.role(Role::Change))
            .data(points)
    }));
    datasets.extend(fault_lines.iter().map(|points| {
        Dataset::default()
            .marker(Marker::Braille)
            .graph_type(GraphType::Line)
            .style(t.role(Role::Fault))
            .data(points)
    }));
    Chart::new(datasets)
        .block(framed(t, "", false).title(title))
        .x_axis(x)
        .y_axis(y)
        .hidden_legend_constraints((Constraint::Length(0), Constraint::Length(0)))
        .render(area, buf);
}

fn max_of(lines: &[&[Point]]) -> f64 {
    lines.iter().flat_map(|l| l.iter()).map(|p| p.1).filter(|v| v.is_finite()).fold(0.0, f64::max)
}

/// The legend's note of the marks, when there are any.
fn marks_note(marks: Marks<'_>, extra: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if !extra.is_empty() {
        parts.push(extra);
    }
    if !marks.steered.is_empty() {
        parts.push("│ change");
    }
    if !marks.faults.is_empty() {
        parts.push("▕▏fault");
    }
    parts.join(" ")
}

pub fn throughput(t: Theme, rps: &[Point], fps: &[Point], marks: Marks<'_>, area: Rect, buf: &mut Buffer) {
    let top = format::nice_ceiling(max_of(&[rps, fps]), 10.0);
    let labels = [0.0, top / 2.0, top].map(|v| Span::styled(format::real(v), t.dim())).to_vec();
    let y = Axis::default().bounds([0.0, top]).labels(labels);
    let lines = [
        Trace { name: "total", points: rps, role: Role::Throughput },
        Trace { name: "failed", points: fps, role: Role::Failure },
    ];
    let title = legend_title(t, "req/s", &lines, &marks_note(marks, ""));
    draw(t, Plot { title, lines: &lines, y, y_bounds: [0.0, top], marks }, area, buf);
}

/// The p50, p95 and p99 series of the run.
pub struct Latencies<'a> {
    pub p50: &'a [Point],
    pub p95: &'a [Point],
    pub p99: &'a [Point],
}

/// What decides the latency axis.
#[derive(Clone, Copy, Debug)]
pub struct LatencyScale {
    /// Run time the shown phase started at: its points alone decide the scale.
    pub phase_start_s: f64,
    /// Log was asked for with `L`.
    pub log_asked: bool,
}

/// Smallest positive and largest value of the points at or after `from_s`.
fn range_since(lines: &[&[Point]], from_s: f64) -> Option<(f64, f64)> {
    let values = || {
        lines
            .iter()
            .flat_map(|l| l.iter())
            .filter(move |p| p.0 >= from_s)
            .map(|p| p.1)
            .filter(|v| v.is_finite())
    };
    let low = values().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
    let top = values().fold(0.0, f64::max);
    low.is_finite().then_some((low, top))
}

/// Whether the latency axis is logarithmic: asked for, or the phase's values so far span
/// more than [`LOG_SPREAD`]. The spread from a fixed start only grows, so once log, a phase
/// stays log.
pub fn latency_is_log(series: &Latencies<'_>, scale: LatencyScale) -> bool {
    scale.log_asked
        || range_since(&[series.p50, series.p95, series.p99], scale.phase_start_s)
            .is_some_and(|(low, top)| top / low > LOG_SPREAD)
}

/// The latency chart of one phase's series (all of it decides the scale; log not asked),
/// for charts of a finished phase; the live view, which spans phases, uses `latency_scaled`.
#[allow(dead_code)]
pub fn latency(t: Theme, series: Latencies<'_>, marks: Marks<'_>, area: Rect, buf: &mut Buffer) {
    let scale = LatencyScale { phase_start_s: f64::NEG_INFINITY, log_asked: false };
    latency_scaled(t, series, scale, marks, area, buf);
}

/// The latency chart, its axis decided by `scale`.
pub fn latency_scaled(
    t: Theme,
    series: Latencies<'_>,
    scale: LatencyScale,
    marks: Marks<'_>,
    area: Rect,
    buf: &mut Buffer,
) {
    let log_scale = latency_is_log(&series, scale);
    let log_asked = scale.log_asked;
    let Latencies { p50, p95, p99 } = series;
    let all: [&[Point]; 3] = [p50, p95, p99];
    let (low, top) = range_since(&all, f64::NEG_INFINITY).unwrap_or((1.0, max_of(&all)));
    if log_scale {
        let lo = low.log10().floor();
        let hi = top.log10().ceil().max(lo + 1.0);
        let log = |l: &[Point]| -> Vec<Point> {
            l.iter().map(|&(x, v)| (x, if v > 0.0 { v.log10().max(lo) } else { lo })).collect()
        };
        let (a, b, c) = (log(p50), log(p95), log(p99));
        let labels =
            [lo, (lo + hi) / 2.0, hi].map(|e| Span::styled(format::ms(10f64.powf(e)), t.dim())).to_vec();
        let y = Axis::default().bounds([lo, hi]).labels(labels);
        let lines = latency_traces(&a, &b, &c);
        let note = if log_asked { "log (L)" } else { "log" };
        let title = legend_title(t, "latency", &lines, &marks_note(marks, note));
        draw(t, Plot { title, lines: &lines, y, y_bounds: [lo, hi], marks }, area, buf);
    } else {
        let top = format::nice_ceiling(max_of(&all), 1.0);
        let labels = [0.0, top / 2.0, top].map(|v| Span::styled(format::ms(v), t.dim())).to_vec();
        let y = Axis::default().bounds([0.0, top]).labels(labels);
        let lines = latency_traces(p50, p95, p99);
        let title = legend_title(t, "latency", &lines, &marks_note(marks, ""));
        draw(t, Plot { title, lines: &lines, y, y_bounds: [0.0, top], marks }, area, buf);
    }
}

fn latency_traces<'a>(p50: &'a [Point], p95: &'a [Point], p99: &'a [Point]) -> [Trace<'a>; 3] {
    [
        Trace { name: "p50", points: p50, role: Role::P50 },
        Trace { name: "p95", points: p95, role: Role::P95 },
        Trace { name: "p99", points: p99, role: Role::P99 },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[(f64, f64)]) -> Vec<Point> {
        values.to_vec()
    }

    #[test]
    fn log_only_when_asked_or_when_the_phase_spans_two_decades() {
        let calm = series(&[(0.0, 10.0), (1.0, 20.0), (2.0, 900.0)]);
        let lines = Latencies { p50: &calm, p95: &calm, p99: &calm };
        let scale = |start: f64, asked: bool| LatencyScale { phase_start_s: start, log_asked: asked };
        assert!(!latency_is_log(&lines, scale(0.0, false)), "90x is not two decades");
        assert!(latency_is_log(&lines, scale(0.0, true)), "L asks for log");
        let spike = series(&[(0.0, 1.0), (10.0, 10.0), (11.0, 500.0), (12.0, 12.0)]);
        let lines = Latencies { p50: &spike, p95: &spike, p99: &spike };
        // An earlier phase's 1 ms does not count for the phase that started at 10 s.
        assert!(!latency_is_log(&lines, scale(10.0, false)));
        assert!(latency_is_log(&lines, scale(0.0, false)));
        // Once the phase's spread passed 100x, later calm seconds cannot undo it.
        let later = series(&[(10.0, 2.0), (11.0, 500.0), (12.0, 12.0), (13.0, 11.0)]);
        let lines = Latencies { p50: &later, p95: &later, p99: &later };
        assert!(latency_is_log(&lines, scale(10.0, false)));
    }
}
