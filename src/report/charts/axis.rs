//! Axes with ticks we choose ourselves (1-2-5 steps, decades on log scales, clock times),
//! the one chart type every cartesian chart uses, and phase shading on time axes.
//! Log scales are drawn by plotting log10 of the value on a linear axis.

use std::ops::Range;

use plotters::chart::DualCoordChartContext;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;

use super::{Area, Canvas, ChartError, Drawn, font};
use crate::report::data::PhaseData;
use crate::report::style::{self, GRID, Sizes};

/// A linear f64 coordinate whose ticks are exactly the ones we chose.
#[derive(Clone, Debug)]
pub struct Coord {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for Coord {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let f = (value - self.lo) / (self.hi - self.lo);
        let px = f64::from(limit.0) + f * f64::from(limit.1 - limit.0);
        // Far-off values (clipped later anyway) must not overflow i32.
        px.clamp(-1.0e6, 1.0e6).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.max_num_points() == 0 { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}
pub type Plot<'a, 'b> = ChartContext<'a, Canvas<'b>, Cartesian2d<Coord, Coord>>;
/// A chart with a second y axis on the right (users, p99) over the same x.
pub type DualPlot<'a, 'b> =
    DualCoordChartContext<'a, Canvas<'b>, Cartesian2d<Coord, Coord>, Cartesian2d<Coord, Coord>>;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Number,
    Time,
}

/// One axis: its range (in plot space: log10 of values on a log axis) and tick positions.
#[derive(Clone, Debug)]
pub struct ValueAxis {
    pub log: bool,
    pub lo: f64,
    pub hi: f64,
    ticks: Vec<f64>,
    kind: Kind,
}

impl ValueAxis {
    /// Linear from `lo` to `hi` with about `target` ticks on a 1-2-2.5-5 step.
    pub fn linear(lo: f64, hi: f64, target: usize) -> Self {
        let (lo, hi) = widen(lo, hi);
        let step = nice_step((hi - lo) / target.max(1) as f64);
        let mut ticks = Vec::new();
        let mut t = (lo / step).ceil() * step;
        while t <= hi + step * 1e-9 {
            ticks.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
            t += step;
        }
        Self { log: false, lo, hi, ticks, kind: Kind::Number }
    }

    /// Logarithmic between two positive values, ticks on 1-2-5 of each decade.
    pub fn log(lo: f64, hi: f64) -> Self {
        let lo = lo.max(1e-3);
        let hi = hi.max(lo * 1.5);
        let (l, h) = (lo.log10(), hi.log10());
        let mut ticks = Vec::new();
        let mut multipliers: &[f64] = &[1.0, 2.0, 5.0];
        if h - l > 6.0 {
            multipliers = &[1.0];
        } else if h - l < 1.0 {
            multipliers = &[1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
        }
        for decade in (l.floor() as i32)..=(h.ceil() as i32) {
            for m in multipliers {
                let v = (m * 10f64.powi(decade)).log10();
                if v >= l - 1e-9 && v <= h + 1e-9 {
                    ticks.push(v);
                }
            }
        }
        Self { log: true, lo: l, hi: h, ticks, kind: Kind::Number }
    }

    /// Latency-like values from zero up: log when they spread over more than `ratio`.
    pub fn auto(min_positive: f64, max: f64, ratio: f64) -> Self {
        if min_positive > 0.0 && max / min_positive > ratio {
            Self::log(min_positive / 1.3, max * 1.6)
        } else {
            Self::linear(0.0, max.max(1e-3) * 1.12, 8)
        }
    }

    /// Seconds from `lo` to `hi`, labelled as clock times (m:ss).
    pub fn time(lo: f64, hi: f64) -> Self {
        let (lo, hi) = widen(lo, hi);
        const STEPS: [f64; 16] =
            [1., 2., 5., 10., 15., 30., 60., 120., 300., 600., 900., 1800., 3600., 7200., 14400., 28800.];
        let raw = (hi - lo) / 10.0;
        let step = STEPS.iter().copied().find(|s| *s >= raw).unwrap_or(86400.0);
        let mut ticks = Vec::new();
        let mut t = (lo / step).ceil() * step;
        while t <= hi {
            ticks.push(t);
            t += step;
        }
        Self { log: false, lo, hi, ticks, kind: Kind::Time }
    }

    /// One slot per category at 0, 1, …, n-1 (bar groups), with half a slot of room each side.
    pub fn slots(n: usize) -> Self {
        let ticks = (0..n).map(|i| i as f64).collect();
        Self { log: false, lo: -0.5, hi: n.max(1) as f64 - 0.5, ticks, kind: Kind::Number }
    }

    /// Maps a value to plot space.
    pub fn map(&self, v: f64) -> f64 {
        if self.log { v.max(10f64.powf(self.lo)).log10() } else { v }
    }

    pub fn coord(&self) -> Coord {
        Coord { lo: self.lo, hi: self.hi, ticks: self.ticks.clone() }
    }

    pub fn label(&self, t: &f64) -> String {
        match self.kind {
            Kind::Time => clock(*t),
            Kind::Number if self.log => number(10f64.powf(*t)),
            Kind::Number => number(*t),
        }
    }

    /// Appended to an axis description: tells the reader the scale is logarithmic.
    pub fn scale_note(&self) -> &'static str {
        if self.log { ", log scale" } else { "" }
    }
}

fn widen(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo { (lo, hi) } else { (lo, lo + 1.0) }
}

fn nice_step(raw: f64) -> f64 {
    let raw = if raw > 0.0 && raw.is_finite() { raw } else { 1.0 };
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude)
}

/// Up to three significant digits, no trailing zeros (the findings' numbers); from 100,000
/// on, thousands as `k`.
pub fn number(v: f64) -> String {
    if v.abs() >= 100_000.0 {
        return format!("{:.0}k", v / 1000.0);
    }
    crate::analysis::trim_number(v)
}

pub fn clock(seconds: f64) -> String {
    let s = seconds.round().max(0.0) as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Builds a cartesian chart with our axes, grid and labelled axes.
pub fn build<'a, 'b>(
    area: &'a Area<'b>,
    x: &ValueAxis,
    y: &ValueAxis,
    x_desc: &str,
    y_desc: &str,
    x_fmt: &dyn Fn(&f64) -> String,
    sizes: &Sizes,
) -> Result<Plot<'a, 'b>, ChartError> {
    let mut chart = chart(area, x, y, sizes, false)?;
    mesh(&mut chart, y, x_desc, y_desc, x_fmt, sizes)?;
    Ok(chart)
}

/// The chart without its mesh; `right_axis` leaves room for a secondary axis, whose
/// context must exist before [`mesh`] runs (else the primary labels fill both sides).
pub fn chart<'a, 'b>(
    area: &'a Area<'b>,
    x: &ValueAxis,
    y: &ValueAxis,
    sizes: &Sizes,
    right_axis: bool,
) -> Result<Plot<'a, 'b>, ChartError> {
    let right = if right_axis { (sizes.tick * 3.0 + sizes.label * 1.6) as u32 } else { 0 };
    Ok(ChartBuilder::on(area)
        .margin_right(12)
        .margin_top(8)
        .right_y_label_area_size(right)
        .x_label_area_size((sizes.tick * 2.0 + sizes.label * 1.6) as u32)
        .y_label_area_size((sizes.tick * 4.0 + sizes.label * 1.6) as u32)
        .build_cartesian_2d(x.coord(), y.coord())?)
}

/// Grid at our ticks, tick labels through our formatters, axis descriptions.
pub fn mesh(
    chart: &mut Plot<'_, '_>,
    y: &ValueAxis,
    x_desc: &str,
    y_desc: &str,
    x_fmt: &dyn Fn(&f64) -> String,
    sizes: &Sizes,
) -> Drawn {
    let y_fmt = |v: &f64| y.label(v);
    chart
        .configure_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(BLACK.stroke_width(sizes.stroke(1)))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style(font(sizes.label))
        .label_style(font(sizes.tick))
        .x_label_formatter(x_fmt)
        .y_label_formatter(&y_fmt)
        .draw()?;
    Ok(())
}

/// Tints each phase's span, draws its boundaries, and labels it (name if it fits, else number).
/// Fault windows (from the summary's resilience reports) as red bands with a label; returns
/// whether there were any, for the legend.
pub fn shade_faults(
    plot: &mut Plot<'_, '_>,
    run: &crate::report::data::RunData,
    y: &ValueAxis,
    sizes: &Sizes,
) -> Result<bool, Box<dyn std::error::Error + 'static>> {
    let mut any = false;
    for p in &run.phases {
        let Some(summary) = run.summary.experiments.iter().find(|s| s.name == p.name) else { continue };
        let Some(resilience) = &summary.resilience else { continue };
        for f in &resilience.faults {
            let (Some(a), Some(b)) = (f.started_s, f.ended_s) else { continue };
            any = true;
            let (x0, x1) = (p.offset_s + a, p.offset_s + b.max(a + 0.05));
            plot.draw_series(std::iter::once(Rectangle::new(
                [(x0, y.lo), (x1, y.hi)],
                style::FAULT.mix(0.13).filled(),
            )))?;
            let label_y = y.lo + (y.hi - y.lo) * 0.93;
            let label = match f.recovery_s {
                Some(r) => format!(" {} · recovered {r:.1} s", f.description),
                None => format!(" {} · no recovery", f.description),
            };
            plot.draw_series(std::iter::once(Text::new(
                label,
                (x0, label_y),
                font(sizes.tick).color(&style::FAULT),
            )))?;
        }
    }
    Ok(any)
}

pub fn shade_phases(
    plot: &mut Plot<'_, '_>,
    phases: &[PhaseData],
    x: &ValueAxis,
    y: &ValueAxis,
    sizes: &Sizes,
) -> Drawn {
    let plot_width_px = f64::from(plot.plotting_area().dim_in_pixel().0);
    let px_per_s = plot_width_px / (x.hi - x.lo).max(1e-9);
    for p in phases {
        let colour = style::phase_colour(p.index);
        let (x0, x1) = (p.offset_s, p.offset_s + p.duration_s.max(0.5));
        plot.draw_series(std::iter::once(Rectangle::new(
            [(x0, y.lo), (x1, y.hi)],
            colour.mix(0.09).filled(),
        )))?;
        plot.draw_series(std::iter::once(PathElement::new(
            vec![(x0, y.lo), (x0, y.hi)],
            colour.mix(0.6).stroke_width(sizes.stroke(1)),
        )))?;
        let fits = ((x1 - x0) * px_per_s / (sizes.tick * 0.62)) as usize;
        let number = format!("{}", p.index + 1);
        let full = if p.generator_bound {
            format!("{} {} (GENERATOR-BOUND)", p.index + 1, p.name)
        } else {
            format!("{} {}", p.index + 1, p.name)
        };
        let text = if full.chars().count() <= fits {
            full
        } else if number.len() <= fits.max(1) {
            number
        } else {
            continue;
        };
        let label_y = y.hi - (y.hi - y.lo) * 0.012;
        plot.draw_series(std::iter::once(Text::new(
            text,
            (x0 + 2.0 / px_per_s, label_y),
            font(sizes.tick).color(&colour),
        )))?;
    }
    Ok(())
}

/// Stroke width for a line of `points` across `width_px`: dense, jagged lines drawn wider
/// than one pixel grow spikes at their joins, so they stay thin.
pub fn line_width(points: usize, width_px: u32, sizes: &Sizes) -> u32 {
    sizes.stroke(if points as f64 > f64::from(width_px) / 4.0 { 1 } else { 2 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axis_ticks_are_decades_and_round_trip() {
        let a = ValueAxis::log(1.0, 1000.0);
        let labels: Vec<String> = a.ticks.iter().map(|t| a.label(t)).collect();
        assert_eq!(labels, ["1", "2", "5", "10", "20", "50", "100", "200", "500", "1000"]);
        assert!((a.map(100.0) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn clock_and_number_formats() {
        assert_eq!(clock(75.0), "1:15");
        assert_eq!(clock(3725.0), "1:02:05");
        assert_eq!(number(2.50), "2.5");
        assert_eq!(number(1234.0), "1234");
        assert_eq!(number(0.125), "0.125");
        assert_eq!(ValueAxis::time(0.0, 3600.0).ticks.len(), 7); // every 10 minutes
    }
}
