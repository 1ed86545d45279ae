//! Time charts: throughput (requests/s, failures/s, users) and per-second latency
//! percentiles over the whole run, each phase tinted and labelled.

use plotters::prelude::*;

use super::axis::{self, DualPlot, ValueAxis};
use super::{Area, ChartError, Drawn, LegendItem, Mark, frame, legend, no_data, phase_legend};
use crate::report::data::{PhaseData, RunData};
use crate::report::style::{self, FAILURE, P50, P95, P99, Sizes, USERS};

pub fn throughput(root: &Area<'_>, run: &RunData, sizes: &Sizes) -> Drawn {
    let (plot_area, legend_area) = frame(
        root,
        "Throughput over time",
        "requests and failures completed per second; users on the right axis",
        sizes,
    )?;
    let has_seconds = run.phases.iter().any(|p| !p.seconds.is_empty());
    if !has_seconds {
        return no_data(
            &plot_area,
            "No per-second data",
            "None of the phases has a readable _stats_history.csv or .hlog, so there is no timeline to draw.",
            sizes,
        );
    }
    let max_rps = run.phases.iter().flat_map(|p| &p.seconds).map(|s| s.rps.max(s.fps)).fold(0.0, f64::max);
    let max_users = run.phases.iter().flat_map(|p| &p.seconds).filter_map(|s| s.users).max().unwrap_or(0);
    let x = ValueAxis::time(0.0, run.run_length_s());
    let y = ValueAxis::linear(0.0, max_rps.max(1.0) * 1.15, 8);
    let users_axis = ValueAxis::linear(0.0, f64::from(max_users.max(1)) * 1.15, 8);
    let x_fmt = |v: &f64| x.label(v);
    let chart = axis::chart(&plot_area, &x, &y, sizes, max_users > 0)?;
    let width_px = chart.plotting_area().dim_in_pixel().0;
    let mut plot = chart.set_secondary_coord(x.coord(), users_axis.coord());
    axis::mesh(&mut plot, &y, "time since run start (m:ss)", "requests per second (req/s)", &x_fmt, sizes)?;
    let users_fmt = |v: &f64| users_axis.label(v);
    if max_users > 0 {
        plot.configure_secondary_axes()
            .y_desc("users (virtual users)")
            .axis_desc_style(super::font(sizes.label))
            .label_style(super::font(sizes.tick))
            .y_label_formatter(&users_fmt)
            .draw()?;
    }
    axis::shade_phases(&mut plot, &run.phases, &x, &y, sizes)?;
    let faulted = axis::shade_faults(&mut plot, run, &y, sizes)?;
    let with_users = max_users > 0;
    draw_throughput_lines(&mut plot, run, with_users, width_px, sizes)?;
    let steered = draw_changes(&mut plot, run, max_rps.max(1.0) * 1.15, sizes)?;
    let items = throughput_legend(run, Shown { with_users, steered, faulted });
    legend(&legend_area, "Series and phases", &items, sizes)
}

/// Per phase: its users (dashed, right axis) when counted, requests/s and failures/s.
fn draw_throughput_lines(
    plot: &mut DualPlot<'_, '_>,
    run: &RunData,
    with_users: bool,
    width_px: u32,
    sizes: &Sizes,
) -> Drawn {
    for p in &run.phases {
        if with_users {
            let users: Vec<(f64, f64)> =
                p.seconds.iter().filter_map(|s| s.users.map(|u| (s.t_s, f64::from(u)))).collect();
            plot.draw_secondary_series(DashedLineSeries::new(
                users,
                sizes.stroke(8),
                sizes.stroke(5),
                USERS.stroke_width(sizes.stroke(2)),
            ))?;
        }
        let stroke = axis::line_width(run.phases.iter().map(|p| p.seconds.len()).sum(), width_px, sizes);
        let rps: Vec<(f64, f64)> = p.seconds.iter().map(|s| (s.t_s, s.rps)).collect();
        plot.draw_series(LineSeries::new(rps, style::CLIENT.stroke_width(stroke)))?;
        let fps: Vec<(f64, f64)> = p.seconds.iter().map(|s| (s.t_s, s.fps)).collect();
        plot.draw_series(LineSeries::new(fps, FAILURE.stroke_width(stroke)))?;
    }
    Ok(())
}

/// Live steering: a dashed line where each change was applied, labelled with what it did,
/// up to just under `top`; returns whether there was any.
fn draw_changes(
    plot: &mut DualPlot<'_, '_>,
    run: &RunData,
    top: f64,
    sizes: &Sizes,
) -> Result<bool, ChartError> {
    let mut steered = false;
    for p in &run.phases {
        let Some(summary) = run.summary.experiments.iter().find(|s| s.name == p.name) else { continue };
        for change in &summary.changes {
            steered = true;
            let at = p.offset_s + change.at_s;
            plot.draw_series(DashedLineSeries::new(
                [(at, 0.0), (at, top * 0.97)],
                sizes.stroke(6),
                sizes.stroke(4),
                style::STEER.stroke_width(sizes.stroke(2)),
            ))?;
            plot.draw_series(std::iter::once(Text::new(
                format!(" {}", change.describe()),
                (at, top * 0.97),
                super::font(sizes.tick).color(&style::STEER),
            )))?;
        }
    }
    Ok(steered)
}

/// Which of the throughput chart's optional marks were drawn.
struct Shown {
    with_users: bool,
    steered: bool,
    faulted: bool,
}

/// The series, the optional marks that were drawn, then the phases.
fn throughput_legend(run: &RunData, shown: Shown) -> Vec<LegendItem> {
    let mut items = vec![
        LegendItem::new("requests/s", style::CLIENT, Mark::Line),
        LegendItem::new("failures/s", FAILURE, Mark::Line),
    ];
    if shown.with_users {
        items.push(LegendItem::new("users (right axis)", USERS, Mark::Dashed));
    }
    if shown.steered {
        items.push(LegendItem::new("live change", style::STEER, Mark::Dashed));
    }
    if shown.faulted {
        items.push(LegendItem::new("fault window", style::FAULT, Mark::Box));
    }
    items.extend(phase_legend(&run.phases));
    items
}

/// (t, p50, p95, p99) per second of a phase: from its histograms when it has them.
fn latency_points(p: &PhaseData) -> Vec<(f64, f64, f64, f64)> {
    if !p.intervals.is_empty() {
        return p
            .intervals
            .iter()
            .filter(|i| !i.histogram.is_empty())
            .map(|i| {
                (
                    i.offset_s,
                    i.histogram.quantile_ms(0.5),
                    i.histogram.quantile_ms(0.95),
                    i.histogram.quantile_ms(0.99),
                )
            })
            .collect();
    }
    p.seconds
        .iter()
        .filter_map(|s| Some((s.t_s, s.p50_ms?, s.p95_ms.or(s.p50_ms)?, s.p99_ms.or(s.p95_ms)?)))
        .collect()
}

pub fn latency(root: &Area<'_>, run: &RunData, sizes: &Sizes) -> Drawn {
    let source = if run.has_histograms() {
        "each second's p50 / p95 / p99 from the per-second histograms (.hlog)"
    } else {
        "from Locust's history percentiles (no .hlog histograms in this folder)"
    };
    let (plot_area, legend_area) = frame(root, "Latency over time", source, sizes)?;
    let points: Vec<Vec<(f64, f64, f64, f64)>> = run.phases.iter().map(latency_points).collect();
    let all = points.iter().flatten();
    let max = all.clone().map(|p| p.3.max(p.2).max(p.1)).fold(0.0, f64::max);
    let min_positive = all.map(|p| p.1).filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
    if max <= 0.0 {
        return no_data(
            &plot_area,
            "No latency samples",
            "No phase recorded a response, so there are no per-second percentiles to draw.",
            sizes,
        );
    }
    let x = ValueAxis::time(0.0, run.run_length_s());
    let y = ValueAxis::auto(min_positive, max, 20.0);
    let x_fmt = |v: &f64| x.label(v);
    let y_desc = format!("response time (ms{})", y.scale_note());
    let mut plot = axis::build(&plot_area, &x, &y, "time since run start (m:ss)", &y_desc, &x_fmt, sizes)?;
    axis::shade_phases(&mut plot, &run.phases, &x, &y, sizes)?;
    let faulted = axis::shade_faults(&mut plot, run, &y, sizes)?;
    let stroke =
        axis::line_width(points.iter().map(Vec::len).sum(), plot.plotting_area().dim_in_pixel().0, sizes);
    for phase_points in &points {
        for (pick, colour) in [(1usize, P50), (2, P95), (3, P99)] {
            let line: Vec<(f64, f64)> = phase_points
                .iter()
                .map(|p| {
                    (
                        p.0,
                        y.map(match pick {
                            1 => p.1,
                            2 => p.2,
                            _ => p.3,
                        }),
                    )
                })
                .collect();
            plot.draw_series(LineSeries::new(line, colour.stroke_width(stroke)))?;
        }
    }
    let mut items = vec![
        LegendItem::new("p50", P50, Mark::Line),
        LegendItem::new("p95", P95, Mark::Line),
        LegendItem::new("p99", P99, Mark::Line),
    ];
    if faulted {
        items.push(LegendItem::new("fault window", style::FAULT, Mark::Box));
    }
    items.extend(phase_legend(&run.phases));
    legend(&legend_area, "Percentiles and phases", &items, sizes)
}
