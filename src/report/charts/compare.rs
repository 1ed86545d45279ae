//! `compare.png`: each shared phase's p99 in run A beside run B, each with its own 95 %
//! bootstrap interval as a whisker, and B's change with its verdict above the pair.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::{self, Plot, ValueAxis};
use super::{Area, Drawn, LegendItem, Mark, font, frame, legend, no_data};
use crate::metrics::compare::{Comparison, Metric, MetricChange, Verdict};
use crate::report::compare::{interval, percent};
use crate::report::style::{FAILURE, MUTED, P50, P95, SUCCESS, Sizes};

const COLOUR_A: RGBColor = P50;
const COLOUR_B: RGBColor = P95;

fn verdict_colour(v: Verdict) -> RGBColor {
    match v {
        Verdict::Slower => FAILURE,
        Verdict::Faster => SUCCESS,
        Verdict::NoDetectableDifference | Verdict::NotEnoughData | Verdict::NotComparable => MUTED,
    }
}

pub fn draw(root: &Area<'_>, c: &Comparison, sizes: &Sizes) -> Drawn {
    // Run ids do not fit the legend column; the subtitle has the width. Two runs made the
    // same second (into different folders) share an id, so then their folders name them.
    let (name_a, name_b) = if c.run_a.run_id == c.run_b.run_id {
        (&c.run_a.dir, &c.run_b.dir)
    } else {
        (&c.run_a.run_id, &c.run_b.run_id)
    };
    let subtitle = format!(
        "A = {}, B = {}; marker: p99, whisker: its 95 % bootstrap interval over seconds",
        tail(name_a, 45),
        tail(name_b, 45)
    );
    let (plot_area, legend_area) = frame(root, "p99 per phase: run A beside run B", &subtitle, sizes)?;
    let rows: Vec<(&str, &MetricChange)> =
        c.phases.iter().filter_map(|p| Some((p.name.as_str(), p.metric(Metric::P99)?))).collect();
    let highs = rows
        .iter()
        .flat_map(|(_, m)| [m.a, m.b].into_iter().filter_map(|e| e.interval.map(|i| i.high).or(e.value)));
    let max = highs.fold(0.0, f64::max);
    if max <= 0.0 {
        return no_data(
            &plot_area,
            "No p99 to draw",
            "Neither run has a response in the phases they share.",
            sizes,
        );
    }
    let lows = rows
        .iter()
        .flat_map(|(_, m)| [m.a, m.b].into_iter().filter_map(|e| e.interval.map(|i| i.low).or(e.value)));
    let min_positive = lows.filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
    let x = ValueAxis::slots(rows.len());
    // Room above the highest whisker for the change labels.
    let y = ValueAxis::auto(min_positive, max * 1.15, 30.0);
    let per_slot_px = f64::from(plot_area.dim_in_pixel().0) / rows.len().max(1) as f64;
    let x_fmt = |v: &f64| {
        let i = v.round();
        match rows.get(i as usize).filter(|_| i >= 0.0 && (v - i).abs() < 1e-6) {
            Some((name, _)) if name.chars().count() as f64 * sizes.tick * 0.6 <= per_slot_px => {
                name.to_string()
            }
            Some(_) => format!("{}", i as usize + 1),
            None => String::new(),
        }
    };
    let y_desc = format!("p99 response time (ms{})", y.scale_note());
    let mut plot = axis::build(&plot_area, &x, &y, "phase", &y_desc, &x_fmt, sizes)?;
    for (i, (_, m)) in rows.iter().enumerate() {
        draw_pair(&mut plot, i as f64, m, &y, sizes)?;
    }
    legend(&legend_area, "Runs", &legend_items(&rows), sizes)
}

/// A's and B's p99 at slot `x` with their whiskers, and B's change and verdict above them.
fn draw_pair(plot: &mut Plot<'_, '_>, x: f64, m: &MetricChange, y: &ValueAxis, sizes: &Sizes) -> Drawn {
    let cap = 0.05;
    let r = (sizes.tick * 0.4) as i32;
    let mut top = y.lo;
    for (offset, estimate, colour) in [(-0.17, m.a, COLOUR_A), (0.17, m.b, COLOUR_B)] {
        let xc = x + offset;
        if let Some(iv) = estimate.interval {
            let (lo, hi) = (y.map(iv.low), y.map(iv.high));
            top = top.max(hi);
            let stroke = colour.stroke_width(3);
            plot.draw_series(std::iter::once(PathElement::new(vec![(xc, lo), (xc, hi)], stroke)))?;
            for end in [lo, hi] {
                plot.draw_series(std::iter::once(PathElement::new(
                    vec![(xc - cap, end), (xc + cap, end)],
                    stroke,
                )))?;
            }
        }
        if let Some(v) = estimate.value {
            top = top.max(y.map(v));
            plot.draw_series(std::iter::once(Circle::new((xc, y.map(v)), r, colour.filled())))?;
        }
    }
    let anchor = Pos::new(HPos::Center, VPos::Bottom);
    let colour = verdict_colour(m.verdict);
    let above = (y.hi - y.lo) * 0.02;
    let label = format!("{} {}", percent(m.change_pct), m.verdict.label());
    plot.draw_series(std::iter::once(Text::new(
        label,
        (x, top + above * 2.2),
        font(sizes.tick).color(&colour).pos(anchor),
    )))?;
    plot.draw_series(std::iter::once(Text::new(
        interval(m.change_interval_pct),
        (x, top + above * 0.6),
        font(sizes.tick * 0.85).color(&MUTED).pos(anchor),
    )))?;
    Ok(())
}

fn legend_items(rows: &[(&str, &MetricChange)]) -> Vec<LegendItem> {
    let mut items = vec![
        LegendItem::new("A (baseline)", COLOUR_A, Mark::Circle),
        LegendItem::new("B", COLOUR_B, Mark::Circle),
        LegendItem::new("Verdict of B against A", MUTED, Mark::Heading),
    ];
    // "no detectable difference" does not fit the legend column; the labels say it in full.
    for (v, text) in [
        (Verdict::Slower, "slower"),
        (Verdict::Faster, "faster"),
        (Verdict::NoDetectableDifference, "no detectable change"),
    ] {
        items.push(LegendItem::new(text, verdict_colour(v), Mark::Box));
    }
    items.push(LegendItem::new("Phases", MUTED, Mark::Heading));
    items.extend(
        rows.iter()
            .enumerate()
            .map(|(i, (name, _))| LegendItem::new(format!("{} {name}", i + 1), MUTED, Mark::Plain)),
    );
    items
}

/// The last `max_chars` of `text` (a folder's end says most about it), with `…` in front.
fn tail(text: &str, max_chars: usize) -> String {
    let n = text.chars().count();
    if n <= max_chars {
        return text.to_string();
    }
    let kept: String = text.chars().skip(n + 1 - max_chars).collect();
    format!("…{kept}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::LatencyHistogram;
    use crate::metrics::compare::{RunRef, SecondSample, Settings, compare_phase};
    use crate::report::{RenderOptions, render_compare_png};

    fn comparison(seconds: usize) -> Comparison {
        let mut h = LatencyHistogram::new();
        (1..=50).for_each(|ms| h.record_us(ms * 1000));
        let s: Vec<SecondSample> = (0..seconds).map(|_| SecondSample::new(1.0, &h)).collect();
        let settings = Settings { resamples: 50, ..Settings::default() };
        Comparison {
            run_a: RunRef { run_id: "same".into(), dir: "runs/a/same".into() },
            run_b: RunRef { run_id: "same".into(), dir: "runs/b/same".into() },
            method: settings.method(),
            phases: vec![compare_phase("only", "s", &s, &s, &settings)],
            only_in_a: vec![],
            only_in_b: vec![],
            differs: vec![],
        }
    }

    #[test]
    fn draws_with_intervals_without_them_and_with_no_response() {
        let dir = tempfile::tempdir().unwrap();
        let opts = RenderOptions { width: 800, height: 500 };
        for (name, c) in [("full", comparison(10)), ("short", comparison(2)), ("silent", comparison(0))] {
            let path = dir.path().join(format!("{name}.png"));
            render_compare_png(&c, &path, &opts).unwrap();
            assert!(std::fs::metadata(&path).unwrap().len() > 1000, "{name}");
        }
    }

    #[test]
    fn long_names_keep_their_end() {
        assert_eq!(tail("abc", 5), "abc");
        assert_eq!(tail("experiment_results/20250101-000000-smoke", 10), "…000-smoke");
    }
}
