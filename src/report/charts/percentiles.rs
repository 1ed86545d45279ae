//! Per-phase summaries of latency: grouped percentile bars, and achieved throughput
//! against p50/p99 (where the system saturates, latency climbs while rps stalls).

use plotters::prelude::*;

use super::axis::{self, ValueAxis};
use super::{Area, Drawn, LegendItem, Mark, frame, legend, no_data, phase_legend, phase_tick};
use crate::report::data::RunData;
use crate::report::style::{self, P50, P99, PERCENTILE_COLOURS, Sizes};

const LABELS: [&str; 6] = ["p50", "p75", "p90", "p95", "p99", "p99.9"];

pub fn grouped_bars(root: &Area<'_>, run: &RunData, sizes: &Sizes) -> Drawn {
    let (plot_area, legend_area) = frame(
        root,
        "Latency percentiles per phase",
        "whole-phase percentiles of every response (bars left to right: p50 … p99.9)",
        sizes,
    )?;
    let values: Vec<[f64; 6]> = run
        .summary
        .experiments
        .iter()
        .map(|p| {
            let l = &p.latency_ms;
            [l.p50, l.p75, l.p90, l.p95, l.p99, l.p99_9]
        })
        .collect();
    let max = values.iter().flatten().copied().fold(0.0, f64::max);
    let min_positive = values.iter().flatten().copied().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
    if max <= 0.0 {
        return no_data(
            &plot_area,
            "No latencies",
            "No phase recorded a response, so there are no percentiles to compare.",
            sizes,
        );
    }
    let x = ValueAxis::slots(values.len());
    let y = ValueAxis::auto(min_positive, max, 30.0);
    let width_px = f64::from(plot_area.dim_in_pixel().0);
    let x_fmt = |v: &f64| phase_tick(&run.phases, *v, width_px, sizes.tick);
    let y_desc = format!("response time (ms{})", y.scale_note());
    let mut plot = axis::build(&plot_area, &x, &y, "phase", &y_desc, &x_fmt, sizes)?;
    let bar = 0.8 / 6.0;
    let strip = (y.hi - y.lo) * 0.012;
    for (i, group) in values.iter().enumerate() {
        let left = i as f64 - 0.4;
        plot.draw_series(std::iter::once(Rectangle::new(
            [(left, y.lo), (left + 0.8, y.lo + strip)],
            style::phase_colour(i).filled(),
        )))?;
        for (k, v) in group.iter().enumerate() {
            if *v <= 0.0 {
                continue;
            }
            let x0 = left + k as f64 * bar;
            let top = y.map(*v);
            plot.draw_series(std::iter::once(Rectangle::new(
                [(x0 + bar * 0.08, y.lo + strip), (x0 + bar * 0.92, top.max(y.lo + strip))],
                PERCENTILE_COLOURS[k].filled(),
            )))?;
        }
    }
    let mut items: Vec<LegendItem> =
        LABELS.iter().zip(PERCENTILE_COLOURS).map(|(l, c)| LegendItem::new(*l, c, Mark::Box)).collect();
    items.extend(phase_legend(&run.phases));
    legend(&legend_area, "Percentiles and phases", &items, sizes)
}

pub fn knee(root: &Area<'_>, run: &RunData, sizes: &Sizes) -> Drawn {
    let (plot_area, legend_area) = frame(
        root,
        "Throughput against latency",
        "each phase's achieved rate against its p50 and p99, joined per suite: the knee is where latency climbs and rps stops",
        sizes,
    )?;
    let points: Vec<(usize, f64, f64, f64)> = run
        .summary
        .experiments
        .iter()
        .enumerate()
        .filter(|(_, p)| p.summary.total_requests > 0)
        .map(|(i, p)| (i, p.summary.requests_per_sec, p.latency_ms.p50, p.latency_ms.p99))
        .collect();
    if points.is_empty() {
        return no_data(
            &plot_area,
            "No completed requests",
            "No phase completed a request, so there is no rate or latency to plot.",
            sizes,
        );
    }
    let max_rps = points.iter().map(|p| p.1).fold(0.0, f64::max);
    let max_ms = points.iter().map(|p| p.3.max(p.2)).fold(0.0, f64::max);
    let min_ms = points.iter().map(|p| p.2).filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
    let x = ValueAxis::linear(0.0, max_rps.max(0.1) * 1.12, 8);
    let y = ValueAxis::auto(min_ms, max_ms.max(0.001), 20.0);
    let x_fmt = |v: &f64| x.label(v);
    let y_desc = format!("response time (ms{})", y.scale_note());
    let mut plot = axis::build(&plot_area, &x, &y, "achieved throughput (req/s)", &y_desc, &x_fmt, sizes)?;
    // One curve per suite, in order of achieved rate: joining phases of different suites
    // (throughput then resilience, say) would draw a knee that is not there.
    let mut suites: Vec<&str> = Vec::new();
    for (i, ..) in &points {
        let suite = run.summary.experiments[*i].suite.as_str();
        if !suites.contains(&suite) {
            suites.push(suite);
        }
    }
    for suite in suites {
        let mut sorted: Vec<_> =
            points.iter().filter(|p| run.summary.experiments[p.0].suite == suite).copied().collect();
        sorted.sort_by(|a, b| a.1.total_cmp(&b.1));
        plot.draw_series(LineSeries::new(
            sorted.iter().map(|p| (p.1, y.map(p.2))),
            P50.mix(0.5).stroke_width(sizes.stroke(2)),
        ))?;
        plot.draw_series(LineSeries::new(
            sorted.iter().map(|p| (p.1, y.map(p.3))),
            P99.mix(0.5).stroke_width(sizes.stroke(2)),
        ))?;
    }
    let r = (sizes.tick * 0.45) as i32;
    for (i, rps, p50, p99) in &points {
        let c = style::phase_colour(*i);
        plot.draw_series(std::iter::once(Circle::new((*rps, y.map(*p50)), r, c.filled())))?;
        plot.draw_series(std::iter::once(TriangleMarker::new((*rps, y.map(*p99)), r + 3, c.filled())))?;
        let label = format!("{}", i + 1);
        plot.draw_series(std::iter::once(
            EmptyElement::at((*rps, y.map(*p99)))
                + Text::new(label, (r + 4, -(r + 8)), super::font(sizes.tick).color(&c)),
        ))?;
    }
    let mut items = vec![
        LegendItem::new("p50 (circle)", P50, Mark::Circle),
        LegendItem::new("p99 (triangle)", P99, Mark::Triangle),
    ];
    items.extend(phase_legend(&run.phases));
    legend(&legend_area, "Markers and phases", &items, sizes)
}
