//! The Run screen's two charts: requests/s (total, failed) and latency p50/p95/p99 over the run.
//! Axes snap to round maxima; latency switches to a log axis when the lines spread widely, so
//! labels stay readable as values grow.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph, Widget};

use super::widgets::framed;
use crate::tui::format;
use crate::tui::run_state::Point;
use crate::tui::theme::Theme;

/// Above this max/min spread the latency chart uses a log₁₀ axis.
const LOG_SPREAD: f64 = 20.0;

/// One line of a chart: its name, its points, its index for colour and marker.
struct Trace<'a> {
    name: &'static str,
    points: &'a [Point],
}

fn marker_char(marker: Marker) -> &'static str {
    match marker {
        Marker::Dot => "•",
        Marker::Block => "█",
        _ => "⣿",
    }
}

/// Title with a legend in it (so no legend box covers the data).
fn legend_title(t: Theme, title: &str, lines: &[Trace], suffix: &str) -> Line<'static> {
    let mut spans = vec![Span::styled(format!(" {title} "), t.title())];
    for (i, line) in lines.iter().enumerate() {
        spans.push(Span::styled(format!("{} {} ", marker_char(t.marker(i)), line.name), t.series(i)));
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

fn draw(t: Theme, title: Line<'static>, lines: &[Trace], y: Axis<'static>, area: Rect, buf: &mut Buffer) {
    let Some(first) = lines.first() else { return };
    if first.points.is_empty() {
        Paragraph::new("waiting for the first second of data…")
            .block(framed(t, "", false).title(title))
            .render(area, buf);
        return;
    }
    let (x, _) = x_axis(t, first.points);
    let datasets: Vec<Dataset> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            Dataset::default()
                .name(line.name)
                .marker(t.marker(i))
                .graph_type(GraphType::Line)
                .style(t.series(i))
                .data(line.points)
        })
        .collect();
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

pub fn throughput(t: Theme, rps: &[Point], fps: &[Point], area: Rect, buf: &mut Buffer) {
    let top = format::nice_ceiling(max_of(&[rps, fps]), 10.0);
    let labels = [0.0, top / 2.0, top].map(|v| Span::styled(format::real(v), t.dim())).to_vec();
    let y = Axis::default().bounds([0.0, top]).labels(labels);
    let lines = [Trace { name: "total", points: rps }, Trace { name: "failed", points: fps }];
    draw(t, legend_title(t, "req/s", &lines, ""), &lines, y, area, buf);
}

pub fn latency(t: Theme, p50: &[Point], p95: &[Point], p99: &[Point], area: Rect, buf: &mut Buffer) {
    let top = max_of(&[p50, p95, p99]);
    let low = [p50, p95, p99]
        .iter()
        .flat_map(|l| l.iter())
        .map(|p| p.1)
        .filter(|v| *v > 0.0 && v.is_finite())
        .fold(f64::INFINITY, f64::min);
    if low.is_finite() && top / low > LOG_SPREAD {
        let lo = low.log10().floor();
        let hi = top.log10().ceil().max(lo + 1.0);
        let log = |l: &[Point]| -> Vec<Point> {
            l.iter().map(|&(x, v)| (x, if v > 0.0 { v.log10() } else { lo })).collect()
        };
        let (a, b, c) = (log(p50), log(p95), log(p99));
        let labels =
            [lo, (lo + hi) / 2.0, hi].map(|e| Span::styled(format::ms(10f64.powf(e)), t.dim())).to_vec();
        let y = Axis::default().bounds([lo, hi]).labels(labels);
        let lines = [
            Trace { name: "p50", points: &a },
            Trace { name: "p95", points: &b },
            Trace { name: "p99", points: &c },
        ];
        draw(t, legend_title(t, "latency", &lines, "log"), &lines, y, area, buf);
    } else {
        let top = format::nice_ceiling(top, 1.0);
        let labels = [0.0, top / 2.0, top].map(|v| Span::styled(format::ms(v), t.dim())).to_vec();
        let y = Axis::default().bounds([0.0, top]).labels(labels);
        let lines = [
            Trace { name: "p50", points: p50 },
            Trace { name: "p95", points: p95 },
            Trace { name: "p99", points: p99 },
        ];
        draw(t, legend_title(t, "latency", &lines, ""), &lines, y, area, buf);
    }
}
