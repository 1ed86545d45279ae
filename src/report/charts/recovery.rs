//! `recovery.png`: the phases with faults or retries, second by second — success rate and
//! p99 on top with the fault windows shaded and each recovery point marked, the retries'
//! amplification (attempts per logical request) below.

use plotters::prelude::*;

use super::axis::{self, DualPlot, ValueAxis};
use super::{Area, ChartError, Drawn, LegendItem, Mark, frame, legend, no_data, phase_legend};
use crate::metrics::summary::ResilienceReport;
use crate::report::data::{PhaseData, RunData};
use crate::report::style::{self, P99, SUCCESS, Sizes};

/// Phases this chart is about: those whose summary has a resilience report.
fn resilient(run: &RunData) -> Vec<(&PhaseData, &ResilienceReport)> {
    run.phases
        .iter()
        .filter_map(|p| {
            let s = run.summary.experiments.iter().find(|s| s.name == p.name)?;
            Some((p, s.resilience.as_ref()?))
        })
        .collect()
}

/// Only runs with a phase that had fault windows or a retry policy get `recovery.png`.
pub fn applies(run: &RunData) -> bool {
    !resilient(run).is_empty()
}

/// (t, p99 ms) per second: from the histograms when there are some.
fn p99_points(p: &PhaseData) -> Vec<(f64, f64)> {
    if !p.intervals.is_empty() {
        return p
            .intervals
            .iter()
            .filter(|i| !i.histogram.is_empty())
            .map(|i| (i.offset_s + i.length_s, i.histogram.quantile_ms(0.99)))
            .collect();
    }
    p.seconds.iter().filter_map(|s| Some((s.t_s, s.p99_ms?))).collect()
}

pub fn draw(root: &Area<'_>, run: &RunData, sizes: &Sizes) -> Drawn {
    let (plot_area, legend_area) = frame(
        root,
        "Recovery",
        "success rate and p99 per second, fault windows shaded, recovery points marked; retry amplification below",
        sizes,
    )?;
    let phases = resilient(run);
    if phases.is_empty() {
        return no_data(
            &plot_area,
            "No faults or retries",
            "No phase of this run had fault windows or a retry policy, so there is no recovery to draw.",
            sizes,
        );
    }
    let lo = phases.iter().map(|(p, _)| p.offset_s).fold(f64::INFINITY, f64::min);
    let hi = phases.iter().map(|(p, _)| p.offset_s + p.duration_s).fold(0.0, f64::max);
    let x = ValueAxis::time(lo.max(0.0), hi.max(lo + 1.0));
    let h = plot_area.dim_in_pixel().1;
    let (top, bottom) = plot_area.split_vertically((f64::from(h) * 0.68) as u32);
    let upper = draw_recovery(&top, run, &phases, &x, sizes)?;
    draw_amplification(&bottom, run, &phases, &x, upper.stroke, sizes)?;
    legend(&legend_area, "Series and phases", &legend_items(run, &upper), sizes)
}

/// What the top panel drew that the bottom panel and the legend need.
struct Upper {
    /// The line width both panels use.
    stroke: u32,
    /// Whether any fault window was shaded.
    faulted: bool,
    /// Whether any recovery point was marked.
    marked: bool,
}

/// Top: success rate (left, %) and p99 (right, ms), phases and fault windows shaded.
fn draw_recovery(
    top: &Area<'_>,
    run: &RunData,
    phases: &[(&PhaseData, &ResilienceReport)],
    x: &ValueAxis,
    sizes: &Sizes,
) -> Result<Upper, ChartError> {
    let x_fmt = |v: &f64| x.label(v);
    let p99: Vec<Vec<(f64, f64)>> = phases.iter().map(|(p, _)| p99_points(p)).collect();
    let max_p99 = p99.iter().flatten().map(|p| p.1).fold(0.0, f64::max).max(1.0);
    let rate_axis = ValueAxis::linear(0.0, 105.0, 7);
    let p99_axis = ValueAxis::linear(0.0, max_p99 * 1.15, 7);
    let chart = axis::chart(top, x, &rate_axis, sizes, true)?;
    let width_px = chart.plotting_area().dim_in_pixel().0;
    let mut plot = chart.set_secondary_coord(x.coord(), p99_axis.coord());
    axis::mesh(&mut plot, &rate_axis, "", "successful requests (%)", &x_fmt, sizes)?;
    let p99_fmt = |v: &f64| p99_axis.label(v);
    plot.configure_secondary_axes()
        .y_desc("p99 (ms)")
        .axis_desc_style(super::font(sizes.label))
        .label_style(super::font(sizes.tick))
        .y_label_formatter(&p99_fmt)
        .draw()?;
    axis::shade_phases(&mut plot, &run.phases, x, &rate_axis, sizes)?;
    let faulted = axis::shade_faults(&mut plot, run, &rate_axis, sizes)?;
    let stroke = axis::line_width(phases.iter().map(|(p, _)| p.seconds.len()).sum(), width_px, sizes);
    let marked = draw_recovery_lines(&mut plot, phases, &p99, stroke, sizes)?;
    Ok(Upper { stroke, faulted, marked })
}

/// Each phase's success rate and p99 lines, and a dashed mark where it recovered after
/// each fault; returns whether any recovery was marked.
fn draw_recovery_lines(
    plot: &mut DualPlot<'_, '_>,
    phases: &[(&PhaseData, &ResilienceReport)],
    p99: &[Vec<(f64, f64)>],
    stroke: u32,
    sizes: &Sizes,
) -> Result<bool, ChartError> {
    let mut marked = false;
    for ((p, r), p99_line) in phases.iter().zip(p99) {
        let rate: Vec<(f64, f64)> = p
            .seconds
            .iter()
            .filter(|s| s.rps > 0.0)
            .map(|s| (s.t_s, (100.0 * (s.rps - s.fps) / s.rps).clamp(0.0, 100.0)))
            .collect();
        plot.draw_series(LineSeries::new(rate, SUCCESS.stroke_width(stroke)))?;
        plot.draw_secondary_series(LineSeries::new(p99_line.iter().copied(), P99.stroke_width(stroke)))?;
        for f in &r.faults {
            let (Some(end), Some(rec)) = (f.ended_s, f.recovery_s) else { continue };
            marked = true;
            let at = p.offset_s + end + rec;
            plot.draw_series(DashedLineSeries::new(
                [(at, 0.0), (at, 100.0)],
                sizes.stroke(6),
                sizes.stroke(4),
                style::SUCCESS.stroke_width(sizes.stroke(2)),
            ))?;
            plot.draw_series(std::iter::once(Circle::new((at, 99.0), sizes.stroke(5), SUCCESS.filled())))?;
        }
    }
    Ok(marked)
}

/// Bottom: attempts per logical request, second by second, on the top panel's time axis.
fn draw_amplification(
    bottom: &Area<'_>,
    run: &RunData,
    phases: &[(&PhaseData, &ResilienceReport)],
    x: &ValueAxis,
    stroke: u32,
    sizes: &Sizes,
) -> Drawn {
    let x_fmt = |v: &f64| x.label(v);
    let amp: Vec<Vec<(f64, f64)>> = phases
        .iter()
        .map(|(p, r)| r.amplification_over_time.iter().map(|[t, a]| (p.offset_s + t, *a)).collect())
        .collect();
    let max_amp = amp.iter().flatten().map(|p| p.1).fold(1.0, f64::max);
    let amp_axis = ValueAxis::linear(0.0, max_amp * 1.2, 4);
    // The same right margin as the panel above, so both share one time axis.
    let mut lower = axis::chart(bottom, x, &amp_axis, sizes, true)?;
    axis::mesh(&mut lower, &amp_axis, "time since run start (m:ss)", "attempts / request", &x_fmt, sizes)?;
    axis::shade_phases(&mut lower, &run.phases, x, &amp_axis, sizes)?;
    for line in &amp {
        lower.draw_series(LineSeries::new(line.iter().copied(), style::STEER.stroke_width(stroke)))?;
    }
    if amp.iter().all(Vec::is_empty) {
        lower.draw_series(std::iter::once(Text::new(
            " no retry policy in these phases: every request is one attempt",
            (x.lo, max_amp),
            super::font(sizes.tick).color(&style::MUTED),
        )))?;
    }
    Ok(())
}

/// The series, the fault and recovery marks when drawn, then the phases.
fn legend_items(run: &RunData, upper: &Upper) -> Vec<LegendItem> {
    let mut items = vec![
        LegendItem::new("success rate (%)", SUCCESS, Mark::Line),
        LegendItem::new("p99 (right axis)", P99, Mark::Line),
        LegendItem::new("attempts per request", style::STEER, Mark::Line),
    ];
    if upper.faulted {
        items.push(LegendItem::new("fault window", style::FAULT, Mark::Box));
    }
    if upper.marked {
        items.push(LegendItem::new("recovered", SUCCESS, Mark::Dashed));
    }
    items.extend(phase_legend(&run.phases));
    items
}
