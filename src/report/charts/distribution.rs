//! Each phase's latency distribution: share of requests per log-spaced latency bucket
//! (from its histograms), and its percentile spectrum (latency against 90 %, 99 %, …).

use plotters::prelude::*;

use super::axis::{self, ValueAxis};
use super::{Area, Drawn, frame, legend, no_data, phase_legend};
use crate::report::data::RunData;
use crate::report::style::{self, Sizes};

/// Buckets per decade of latency in the distribution panel.
const BUCKETS_PER_DECADE: f64 = 20.0;

pub fn draw(root: &Area<'_>, run: &RunData, sizes: &Sizes) -> Drawn {
    let (plot_area, legend_area) = frame(
        root,
        "Latency distribution per phase",
        "left: share of requests per latency bucket; right: percentile spectrum",
        sizes,
    )?;
    let (w, _) = plot_area.dim_in_pixel();
    let (left, right) = plot_area.split_horizontally(w / 2);
    density(&left, run, sizes)?;
    spectrum(&right, run, sizes)?;
    legend(&legend_area, "Phases", &phase_legend(&run.phases), sizes)
}

fn density(area: &Area<'_>, run: &RunData, sizes: &Sizes) -> Drawn {
    let merged: Vec<(usize, &crate::metrics::LatencyHistogram)> = run
        .phases
        .iter()
        .filter_map(|p| p.merged.as_ref().filter(|h| !h.is_empty()).map(|h| (p.index, h)))
        .collect();
    if merged.is_empty() {
        return no_data(
            area,
            "Histogram not available",
            "This chart needs per-second histograms (<suite>/<phase>.hlog), which this folder does not have; the percentile spectrum on the right is drawn from the CSV percentiles.",
            sizes,
        );
    }
    let lo = merged.iter().map(|(_, h)| h.min_ms()).fold(f64::INFINITY, f64::min).max(0.001);
    let hi = merged.iter().map(|(_, h)| h.max_ms()).fold(0.0, f64::max).max(lo * 2.0);
    let (first, last) =
        ((lo.log10() * BUCKETS_PER_DECADE).floor() as i64, (hi.log10() * BUCKETS_PER_DECADE).ceil() as i64);
    let bins = (last - first + 1).max(1) as usize;
    let mut curves = Vec::new();
    let mut top = 0.0_f64;
    for (index, h) in &merged {
        let mut counts = vec![0u64; bins];
        for (ms, n) in h.recorded_values_ms() {
            let b = ((ms.max(0.001).log10() * BUCKETS_PER_DECADE).floor() as i64 - first)
                .clamp(0, bins as i64 - 1);
            counts[b as usize] += n;
        }
        let total = h.count().max(1) as f64;
        let curve: Vec<(f64, f64)> = counts
            .iter()
            .enumerate()
            .map(|(b, n)| (((first + b as i64) as f64 + 0.5) / BUCKETS_PER_DECADE, 100.0 * *n as f64 / total))
            .collect();
        top = curve.iter().map(|p| p.1).fold(top, f64::max);
        curves.push((*index, curve));
    }
    let x = ValueAxis::log(
        10f64.powf(first as f64 / BUCKETS_PER_DECADE),
        10f64.powf((last + 1) as f64 / BUCKETS_PER_DECADE),
    );
    let y = ValueAxis::linear(0.0, top.max(1.0) * 1.1, 6);
    let x_fmt = |v: &f64| x.label(v);
    let mut plot = axis::build(
        area,
        &x,
        &y,
        "response time (ms, log scale)",
        "share of the phase's requests (%)",
        &x_fmt,
        sizes,
    )?;
    for (index, curve) in curves {
        let colour = style::phase_colour(index);
        plot.draw_series(AreaSeries::new(curve.iter().copied(), 0.0, colour.mix(0.08)))?;
        plot.draw_series(LineSeries::new(curve, colour.stroke_width(sizes.stroke(2))))?;
    }
    Ok(())
}

fn spectrum(area: &Area<'_>, run: &RunData, sizes: &Sizes) -> Drawn {
    let nines = |q: f64| -(1.0 - q).max(1e-6).log10();
    let curves: Vec<(usize, Vec<(f64, f64)>)> = run
        .phases
        .iter()
        .filter(|p| !p.spectrum.is_empty())
        .map(|p| {
            (p.index, p.spectrum.iter().filter(|(q, _)| *q < 1.0).map(|(q, ms)| (nines(*q), *ms)).collect())
        })
        .collect();
    let max_ms = curves.iter().flat_map(|c| &c.1).map(|p| p.1).fold(0.0, f64::max);
    if curves.is_empty() || max_ms <= 0.0 {
        return no_data(area, "No percentiles", "No phase recorded a response.", sizes);
    }
    let min_ms =
        curves.iter().flat_map(|c| &c.1).map(|p| p.1).filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
    let top_nines = curves.iter().flat_map(|c| &c.1).map(|p| p.0).fold(2.0, f64::max);
    let top_nines = (top_nines - 1e-6).ceil();
    let x = ValueAxis::linear(0.0, top_nines, top_nines as usize);
    let y = ValueAxis::auto(min_ms, max_ms, 20.0);
    let x_fmt = |v: &f64| percent_of_nines(*v);
    let y_desc = format!("response time (ms{})", y.scale_note());
    let mut plot = axis::build(area, &x, &y, "percentile (log of 1 − q)", &y_desc, &x_fmt, sizes)?;
    for (index, curve) in curves {
        let colour = style::phase_colour(index);
        let mapped: Vec<(f64, f64)> = curve.iter().map(|(n, ms)| (*n, y.map(*ms))).collect();
        plot.draw_series(LineSeries::new(mapped.clone(), colour.stroke_width(sizes.stroke(2))))?;
        if mapped.len() <= 12 {
            plot.draw_series(mapped.iter().map(|p| Circle::new(*p, sizes.px(4), colour.filled())))?;
        }
    }
    Ok(())
}

/// 0 → "0%", 1 → "90%", 2 → "99%", 3 → "99.9%".
fn percent_of_nines(v: f64) -> String {
    let p = 100.0 * (1.0 - 10f64.powf(-v));
    let decimals = (v.round() as i64 - 2).max(0) as usize;
    format!("{p:.decimals$}%")
}

#[cfg(test)]
mod tests {
    #[test]
    fn nines_labels() {
        assert_eq!(super::percent_of_nines(0.0), "0%");
        assert_eq!(super::percent_of_nines(2.0), "99%");
        assert_eq!(super::percent_of_nines(4.0), "99.99%");
    }
}
