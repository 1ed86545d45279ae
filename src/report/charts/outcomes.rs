//! Successes and failures per phase: all requests stacked (successes + failures by kind),
//! and the failures alone split by kind (HTTP status, connection, timeout, dropped).

use std::collections::BTreeSet;

use plotters::prelude::*;

use super::axis::{self, ValueAxis};
use super::{Area, Drawn, LegendItem, Mark, frame, legend, no_data, phase_tick};
use crate::report::data::RunData;
use crate::report::plain::failures_by_kind;
use crate::report::style::{SUCCESS, Sizes, failure_kind_colour};

pub fn draw(root: &Area<'_>, run: &RunData, sizes: &Sizes) -> Drawn {
    let (plot_area, legend_area) = frame(
        root,
        "Successes and failures",
        "left: every request of each phase; right: the failures alone, by kind",
        sizes,
    )?;
    let phases = &run.summary.experiments;
    let by_kind: Vec<Vec<(String, u64)>> = phases.iter().map(failures_by_kind).collect();
    let kinds: BTreeSet<String> = by_kind.iter().flatten().map(|(k, _)| k.clone()).collect();
    let kinds: Vec<String> = kinds.into_iter().collect();
    let (w, _) = plot_area.dim_in_pixel();
    let (left, right) = plot_area.split_horizontally(w / 2);
    let width_px = f64::from(w / 2);
    let x = ValueAxis::slots(phases.len());
    let x_fmt = |v: &f64| phase_tick(&run.phases, *v, width_px, sizes.tick);

    let max_total = phases.iter().map(|p| p.summary.total_requests).max().unwrap_or(0);
    if max_total == 0 {
        no_data(&left, "No requests", "No phase sent a request.", sizes)?;
    } else {
        let y = ValueAxis::linear(0.0, max_total as f64 * 1.1, 8);
        let mut plot = axis::build(&left, &x, &y, "phase", "requests (count)", &x_fmt, sizes)?;
        for (i, p) in phases.iter().enumerate() {
            let successes = p.summary.total_requests.saturating_sub(p.summary.failure_count) as f64;
            let (x0, x1) = (i as f64 - 0.35, i as f64 + 0.35);
            plot.draw_series(std::iter::once(Rectangle::new(
                [(x0, 0.0), (x1, successes)],
                SUCCESS.filled(),
            )))?;
            let mut base = successes;
            for (kind, n) in &by_kind[i] {
                let top = base + *n as f64;
                plot.draw_series(std::iter::once(Rectangle::new(
                    [(x0, base), (x1, top)],
                    failure_kind_colour(kind).filled(),
                )))?;
                base = top;
            }
        }
    }

    let max_failures = by_kind.iter().map(|k| k.iter().map(|(_, n)| n).sum::<u64>()).max().unwrap_or(0);
    if max_failures == 0 {
        no_data(&right, "No failures", "Every request of every phase succeeded.", sizes)?;
    } else {
        let y = ValueAxis::linear(0.0, max_failures as f64 * 1.1, 8);
        let mut plot = axis::build(&right, &x, &y, "phase", "failures (count)", &x_fmt, sizes)?;
        for (i, kinds_of_phase) in by_kind.iter().enumerate() {
            let (x0, x1) = (i as f64 - 0.35, i as f64 + 0.35);
            let mut base = 0.0;
            for kind in &kinds {
                let n = kinds_of_phase.iter().find(|(k, _)| k == kind).map_or(0, |(_, n)| *n) as f64;
                if n > 0.0 {
                    plot.draw_series(std::iter::once(Rectangle::new(
                        [(x0, base), (x1, base + n)],
                        failure_kind_colour(kind).filled(),
                    )))?;
                    base += n;
                }
            }
        }
    }
    let mut items = vec![LegendItem::new("success", SUCCESS, Mark::Box)];
    items.extend(kinds.iter().map(|k| LegendItem::new(k.clone(), failure_kind_colour(k), Mark::Box)));
    items.push(LegendItem::new("Phases", BLACK, Mark::Heading));
    items.extend(
        run.phases.iter().map(|p| LegendItem::new(format!("{} {}", p.index + 1, p.name), BLACK, Mark::Plain)),
    );
    legend(&legend_area, "Outcome", &items, sizes)
}
