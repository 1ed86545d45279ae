//! The seed harness's `comparison.png`, for one run: per phase, the success rate (left) and
//! the p99 response time with its value written on each bar (right). A phase with its own
//! threshold (`error_rate`, `p99_ms`) is judged by it and its limit is drawn over its bar;
//! a phase without one is judged against the seed's 95 % success reference, labelled so.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{self, Plot, ValueAxis};
use super::{Area, Drawn, LegendItem, Mark, frame, legend, no_data, phase_tick};
use crate::metrics::summary::{PhaseSummary, SUCCESS_RATE_TARGET_PERCENT, format_success_rate};
use crate::report::data::RunData;
use crate::report::style::{FAILURE, MUTED, P99, SUCCESS, Sizes};

/// Bars that miss their limit are drawn in the failure red, so a miss shows without reading numbers.
const BELOW_TARGET: RGBColor = FAILURE;
/// The seed's 95 % reference: grey, thinner than a phase's own limit.
const TARGET_LINE: RGBColor = MUTED;
/// A phase's own limit, drawn over its bar: dark teal, which reads on green, red and purple bars
/// and is no series colour.
const OWN_LIMIT: RGBColor = RGBColor(0, 90, 90);

/// The phase's own threshold on `metric`, if it has one: (limit, passed).
fn own_limit(phase: &PhaseSummary, metric: &str) -> Option<(f64, bool)> {
    phase.thresholds.iter().find(|t| t.metric == metric).map(|t| (t.limit, t.passed))
}

/// A short dashed limit line across one phase's slot.
fn limit_mark(
    i: usize,
    value: f64,
    sizes: &Sizes,
) -> DashedLineSeries<std::array::IntoIter<(f64, f64), 2>, i32> {
    DashedLineSeries::new(
        [(i as f64 - 0.45, value), (i as f64 + 0.45, value)],
        sizes.px(8),
        sizes.px(5),
        OWN_LIMIT.stroke_width(sizes.stroke(3)),
    )
}
/// One colour for every p99 bar, the palette's p99 purple: phase colours would repeat the
/// green and red that mean "met" and "missed" in the left panel.
const P99_BAR: RGBColor = P99;

pub fn draw(root: &Area<'_>, run: &RunData, sizes: &Sizes) -> Drawn {
    let (plot_area, legend_area) = frame(
        root,
        "Phase comparison",
        "left: success rate per phase against its own error-rate limit, or the seed's 95 % reference; right: p99 per phase against its own limit",
        sizes,
    )?;
    let (w, _) = plot_area.dim_in_pixel();
    let (left, right) = plot_area.split_horizontally(w / 2);
    let panels =
        Panels { run, x: ValueAxis::slots(run.summary.experiments.len()), width_px: f64::from(w / 2), sizes };
    panels.success_rates(&left)?;
    panels.p99s(&right)?;
    legend(&legend_area, "Comparison", &legend_items(run), sizes)
}

/// What both panels share: one slot per phase on the x axis, half the plot wide.
struct Panels<'r> {
    run: &'r RunData,
    x: ValueAxis,
    width_px: f64,
    sizes: &'r Sizes,
}

impl Panels<'_> {
    /// A panel's chart: the phases along x, `y` up, labelled `y_desc`.
    fn build<'a, 'b>(
        &self,
        area: &'a Area<'b>,
        y: &ValueAxis,
        y_desc: &str,
    ) -> Result<Plot<'a, 'b>, super::ChartError> {
        let x_fmt = |v: &f64| phase_tick(&self.run.phases, *v, self.width_px, self.sizes.tick);
        axis::build(area, &self.x, y, "phase", y_desc, &x_fmt, self.sizes)
    }

    /// One phase's bar in slot `i`, up to `value`.
    fn bar(&self, plot: &mut Plot<'_, '_>, i: usize, value: f64, colour: RGBColor) -> Drawn {
        plot.draw_series(std::iter::once(Rectangle::new(
            [(i as f64 - 0.35, 0.0), (i as f64 + 0.35, value)],
            colour.filled(),
        )))?;
        Ok(())
    }

    /// `text` centred just above the top of slot `i`'s bar.
    fn value_label(&self, plot: &mut Plot<'_, '_>, i: usize, value: f64, text: String) -> Drawn {
        let lift = (self.sizes.tick * 0.3) as i32;
        let style = super::font(self.sizes.tick).color(&BLACK).pos(Pos::new(HPos::Center, VPos::Bottom));
        plot.draw_series(std::iter::once(
            EmptyElement::at((i as f64, value)) + Text::new(text, (0, -lift), style),
        ))?;
        Ok(())
    }

    /// Left: each phase's success rate, judged by its own `error_rate` or the seed's 95 %.
    fn success_rates(&self, area: &Area<'_>) -> Drawn {
        let (phases, sizes) = (&self.run.summary.experiments, self.sizes);
        let rates: Vec<Option<f64>> = phases.iter().map(|p| p.success_rate_percent()).collect();
        if rates.iter().all(Option::is_none) {
            return no_data(
                area,
                "No requests",
                "No phase sent a request, so there is no success rate.",
                sizes,
            );
        }
        // Room above 100 % for the value labels.
        let y = ValueAxis::linear(0.0, 112.0, 8);
        let mut plot = self.build(area, &y, "success rate (%)")?;
        for (i, rate) in rates.iter().enumerate() {
            let Some(rate) = *rate else { continue };
            let own = own_limit(&phases[i], "error_rate");
            let met = match own {
                Some((_, passed)) => passed,
                None => rate >= SUCCESS_RATE_TARGET_PERCENT,
            };
            self.bar(&mut plot, i, rate, if met { SUCCESS } else { BELOW_TARGET })?;
            if let Some((max_error_rate, _)) = own {
                plot.draw_series(limit_mark(i, (1.0 - max_error_rate).clamp(0.0, 1.0) * 100.0, sizes))?;
            }
            self.value_label(&mut plot, i, rate, format_success_rate(Some(rate)))?;
        }
        let target = SUCCESS_RATE_TARGET_PERCENT;
        plot.draw_series(DashedLineSeries::new(
            [(self.x.lo, target), (self.x.hi, target)],
            sizes.px(10),
            sizes.px(6),
            TARGET_LINE.stroke_width(sizes.stroke(2)),
        ))?;
        Ok(())
    }

    /// Right: each phase's p99, red where it missed its own `p99_ms`.
    fn p99s(&self, area: &Area<'_>) -> Drawn {
        let (phases, sizes) = (&self.run.summary.experiments, self.sizes);
        let p99: Vec<Option<f64>> = phases
            .iter()
            .map(|p| (p.summary.total_requests > 0 && p.latency_ms.p99 > 0.0).then_some(p.latency_ms.p99))
            .collect();
        let max = p99.iter().flatten().copied().fold(0.0, f64::max);
        if max <= 0.0 {
            return no_data(area, "No latencies", "No phase recorded a response, so there is no p99.", sizes);
        }
        // Linear so bar heights compare; the labels carry the exact values.
        // The scale holds the phases' own p99 limits too, so every limit line is on the chart.
        let limits: Vec<Option<(f64, bool)>> = phases.iter().map(|p| own_limit(p, "p99_ms")).collect();
        let top = limits.iter().flatten().map(|(l, _)| *l).fold(max, f64::max);
        let y = ValueAxis::linear(0.0, top * 1.15, 8);
        let mut plot = self.build(area, &y, "p99 response time (ms)")?;
        for (i, v) in p99.iter().enumerate() {
            let Some(v) = *v else { continue };
            let colour = match limits[i] {
                Some((_, false)) => BELOW_TARGET,
                _ => P99_BAR,
            };
            self.bar(&mut plot, i, v, colour)?;
            if let Some((limit, _)) = limits[i] {
                plot.draw_series(limit_mark(i, limit, sizes))?;
            }
            self.value_label(&mut plot, i, v, format!("{} ms", axis::number(v)))?;
        }
        Ok(())
    }
}

/// The marks' meanings, then the phases by number.
fn legend_items(run: &RunData) -> Vec<LegendItem> {
    let mut items = vec![
        LegendItem::new("limit met", SUCCESS, Mark::Box),
        LegendItem::new("limit missed", BELOW_TARGET, Mark::Box),
        LegendItem::new("seed's 95 % reference", TARGET_LINE, Mark::Dashed),
        LegendItem::new("a phase's own limit", OWN_LIMIT, Mark::Dashed),
        LegendItem::new("p99 (ms)", P99_BAR, Mark::Box),
        LegendItem::new("Phases", BLACK, Mark::Heading),
    ];
    items.extend(
        run.phases.iter().map(|p| LegendItem::new(format!("{} {}", p.index + 1, p.name), BLACK, Mark::Plain)),
    );
    items
}
