//! CPU % and memory of the target (each container or the embedded server) over the run.

use std::collections::BTreeMap;

use plotters::prelude::*;

use super::axis::{self, ValueAxis};
use super::{Area, Drawn, LegendItem, Mark, frame, legend, no_data, phase_legend};
use crate::report::data::RunData;
use crate::report::style::Sizes;

const MIB: f64 = 1024.0 * 1024.0;

pub fn draw(root: &Area<'_>, run: &RunData, sizes: &Sizes) -> Drawn {
    let (plot_area, legend_area) = frame(
        root,
        "Target resources",
        "CPU and memory of each target service, sampled every second (resources.csv)",
        sizes,
    )?;
    if run.resources.is_empty() {
        no_data(
            &plot_area,
            "No resource samples",
            "This run has no resources.csv: it was run without Docker container stats or process sampling, or comes from plain Locust CSVs.",
            sizes,
        )?;
        return legend(&legend_area, "Phases", &phase_legend(&run.phases), sizes);
    }
    let mut services: BTreeMap<&str, Vec<(f64, f64, f64)>> = BTreeMap::new();
    for s in &run.resources {
        services.entry(s.service.as_str()).or_default().push((
            s.t_s,
            s.cpu_percent,
            s.memory_bytes as f64 / MIB,
        ));
    }
    let end = run.resources.iter().map(|s| s.t_s).fold(run.run_length_s(), f64::max);
    let x = ValueAxis::time(0.0, end);
    let x_fmt = |v: &f64| x.label(v);
    let panels = plot_area.split_evenly((2, 1));
    let max_cpu = run.resources.iter().map(|s| s.cpu_percent).fold(0.0, f64::max).max(1.0);
    let max_mem = run.resources.iter().map(|s| s.memory_bytes as f64 / MIB).fold(0.0, f64::max).max(1.0);
    for (panel, (y_desc, max, pick, x_desc)) in panels.iter().zip([
        ("CPU (% of one core)", max_cpu, 1usize, ""),
        ("memory (MiB)", max_mem, 2, "time since run start (m:ss)"),
    ]) {
        let y = ValueAxis::linear(0.0, max * 1.15, 5);
        let mut plot = axis::build(panel, &x, &y, x_desc, y_desc, &x_fmt, sizes)?;
        axis::shade_phases(&mut plot, &run.phases, &x, &y, sizes)?;
        for (k, samples) in services.values().enumerate() {
            let colour = service_colour(k);
            let stroke = axis::line_width(samples.len(), plot.plotting_area().dim_in_pixel().0, sizes);
            let line = samples.iter().map(|s| (s.0, if pick == 1 { s.1 } else { s.2 }));
            plot.draw_series(LineSeries::new(line, colour.stroke_width(stroke)))?;
        }
    }
    let mut items: Vec<LegendItem> = services
        .keys()
        .enumerate()
        .map(|(k, name)| LegendItem::new(*name, service_colour(k), Mark::Line))
        .collect();
    items.extend(phase_legend(&run.phases));
    legend(&legend_area, "Services and phases", &items, sizes)
}

/// Services are few (api, redis, localstack): dark colours that stand out on phase tints,
/// none of them red (red means failure).
fn service_colour(k: usize) -> RGBColor {
    [RGBColor(20, 20, 20), RGBColor(140, 86, 75), RGBColor(31, 119, 180), RGBColor(44, 160, 44)][k % 4]
}
