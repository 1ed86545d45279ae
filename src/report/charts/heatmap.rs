//! Latency heatmap: time (x) × log latency bucket (y), coloured by how many requests
//! fell in each cell. Drawn from the per-second histograms; without them, approximated
//! from Locust's per-second percentile columns, and the image says so.

use plotters::prelude::*;

use super::axis::{self, ValueAxis};
use super::{Area, Drawn, bold, font, frame, no_data, truncate};
use crate::report::data::{PhaseData, RunData};
use crate::report::locust::PERCENTILE_COLUMNS;
use crate::report::style::{self, Sizes, heat_colour};

const ROWS_PER_DECADE: f64 = 10.0;
/// At most this many time columns; longer runs put several seconds in a column.
const MAX_COLUMNS: f64 = 600.0;

/// Counts per (time column, latency row).
struct Grid {
    seconds_per_column: f64,
    first_row: i64,
    rows: usize,
    cells: Vec<Vec<f64>>,
}

impl Grid {
    fn new(run_length_s: f64, lo_ms: f64, hi_ms: f64) -> Self {
        let seconds_per_column = (run_length_s / MAX_COLUMNS).ceil().max(1.0);
        let columns = (run_length_s / seconds_per_column).ceil() as usize + 1;
        let first_row = (lo_ms.max(0.001).log10() * ROWS_PER_DECADE).floor() as i64;
        let last_row = (hi_ms.max(0.001).log10() * ROWS_PER_DECADE).floor() as i64;
        let rows = (last_row - first_row + 1).max(1) as usize;
        Self { seconds_per_column, first_row, rows, cells: vec![vec![0.0; rows]; columns] }
    }

    fn add(&mut self, t_s: f64, ms: f64, n: f64) {
        let column = ((t_s.max(0.0) / self.seconds_per_column) as usize).min(self.cells.len() - 1);
        let row = ((ms.max(0.001).log10() * ROWS_PER_DECADE).floor() as i64 - self.first_row)
            .clamp(0, self.rows as i64 - 1);
        self.cells[column][row as usize] += n;
    }
}

fn bounds(run: &RunData) -> Option<(f64, f64)> {
    let mut lo = f64::INFINITY;
    let mut hi = 0.0_f64;
    for p in &run.phases {
        if let Some(h) = p.merged.as_ref().filter(|h| !h.is_empty()) {
            lo = lo.min(h.min_ms());
            hi = hi.max(h.max_ms());
        } else {
            for second in &p.history_percentiles {
                for v in
                    second.percentiles_ms.iter().flatten().chain(second.min_ms.iter()).filter(|v| **v > 0.0)
                {
                    lo = lo.min(*v);
                    hi = hi.max(*v);
                }
            }
        }
    }
    (hi > 0.0 && lo.is_finite()).then_some((lo.max(0.001), hi.max(lo * 1.5)))
}

/// Spreads one second's requests over the latency range its percentile columns describe.
fn add_from_percentiles(grid: &mut Grid, t_s: f64, count: f64, pcts: &[Option<f64>; 11], min: Option<f64>) {
    let Some(p50) = pcts[0] else { return };
    let floor = min.filter(|m| *m > 0.0 && *m <= p50).unwrap_or(p50 / 2.0).max(0.001);
    let mut knots = vec![(0.0, floor)];
    for (i, (_, q)) in PERCENTILE_COLUMNS.iter().enumerate() {
        if let Some(v) = pcts[i] {
            knots.push((*q, v.max(0.001)));
        }
    }
    const STEPS: usize = 8;
    for pair in knots.windows(2) {
        let ((q0, v0), (q1, v1)) = (pair[0], pair[1]);
        let mass = (q1 - q0).max(0.0) * count;
        for k in 0..STEPS {
            let f = (k as f64 + 0.5) / STEPS as f64;
            let ms = 10f64.powf(v0.log10() + (v1.max(v0).log10() - v0.log10()) * f);
            grid.add(t_s, ms, mass / STEPS as f64);
        }
    }
}

fn fill(grid: &mut Grid, phases: &[PhaseData]) {
    for p in phases {
        if p.intervals.is_empty() {
            for s in &p.history_percentiles {
                add_from_percentiles(grid, s.t_s, s.requests.max(0.0), &s.percentiles_ms, s.min_ms);
            }
        } else {
            for interval in &p.intervals {
                for (ms, n) in interval.histogram.recorded_values_ms() {
                    grid.add(interval.offset_s, ms, n as f64);
                }
            }
        }
    }
}

pub fn draw(root: &Area<'_>, run: &RunData, sizes: &Sizes) -> Drawn {
    let subtitle = if run.has_histograms() {
        "requests per time column and latency bucket, from the per-second histograms (.hlog)"
    } else {
        "APPROXIMATE: no .hlog histograms here, so each second is spread over its Locust percentile columns"
    };
    let (plot_area, legend_area) = frame(root, "Latency heatmap", subtitle, sizes)?;
    let Some((lo, hi)) = bounds(run) else {
        return no_data(
            &plot_area,
            "No latency data",
            "No phase has per-second histograms or per-second percentiles with responses in them.",
            sizes,
        );
    };
    let mut grid = Grid::new(run.run_length_s(), lo, hi);
    fill(&mut grid, &run.phases);
    let max_count = grid.cells.iter().flatten().copied().fold(0.0, f64::max);
    if max_count <= 0.0 {
        return no_data(&plot_area, "No latency data", "Every second of every phase was empty.", sizes);
    }
    let row_lo = grid.first_row as f64 / ROWS_PER_DECADE;
    let row_hi = (grid.first_row + grid.rows as i64) as f64 / ROWS_PER_DECADE;
    let x = ValueAxis::time(0.0, run.run_length_s());
    let mut y = ValueAxis::log(10f64.powf(row_lo), 10f64.powf(row_hi));
    y.hi += (y.hi - y.lo) * 0.06; // room for the phase labels above the cells
    let x_fmt = |v: &f64| x.label(v);
    let mut plot = axis::build(
        &plot_area,
        &x,
        &y,
        "time since run start (m:ss)",
        "response time (ms, log scale)",
        &x_fmt,
        sizes,
    )?;
    let scale = (max_count + 1.0).ln();
    let step = grid.seconds_per_column;
    plot.draw_series(grid.cells.iter().enumerate().flat_map(|(c, column)| {
        column.iter().enumerate().filter(|(_, n)| **n > 0.0).map(move |(r, n)| {
            let y0 = (grid.first_row + r as i64) as f64 / ROWS_PER_DECADE;
            let colour = heat_colour((n + 1.0).ln() / scale);
            Rectangle::new(
                [(c as f64 * step, y0), ((c + 1) as f64 * step, y0 + 1.0 / ROWS_PER_DECADE)],
                colour.filled(),
            )
        })
    }))?;
    for p in &run.phases {
        let colour = style::phase_colour(p.index);
        plot.draw_series(std::iter::once(PathElement::new(
            vec![(p.offset_s, y.lo), (p.offset_s, y.hi)],
            colour.stroke_width(sizes.stroke(2)),
        )))?;
        plot.draw_series(std::iter::once(Text::new(
            format!("{}", p.index + 1),
            (p.offset_s + step, y.hi - (y.hi - y.lo) * 0.01),
            font(sizes.tick).color(&colour),
        )))?;
    }
    colour_bar(&legend_area, run, max_count, step, sizes)
}

/// Gradient with count labels, then the numbered phases.
fn colour_bar(area: &Area<'_>, run: &RunData, max_count: f64, step: f64, sizes: &Sizes) -> Drawn {
    let heading = if step > 1.0 {
        format!("requests per cell ({step:.0} s)")
    } else {
        "requests per cell (1 s)".into()
    };
    area.draw_text(&heading, &bold(sizes.legend), (12, 6))?;
    let (top, height) = ((sizes.legend * 2.2) as i32, (sizes.legend * 12.0) as i32);
    for k in 0..height {
        let t = 1.0 - k as f64 / height as f64;
        area.draw(&Rectangle::new([(14, top + k), (40, top + k + 1)], heat_colour(t).filled()))?;
    }
    let scale = (max_count + 1.0).ln();
    let mut previous = String::new();
    for t in [1.0, 0.75, 0.5, 0.25, 0.0] {
        let count = axis::number(((t * scale).exp() - 1.0).max(1.0).round());
        if count == previous {
            continue; // small maxima give repeated labels; show each once
        }
        let y = top + ((1.0 - t) * height as f64) as i32 - (sizes.legend * 0.5) as i32;
        area.draw_text(&count, &font(sizes.legend), (48, y))?;
        previous = count;
    }
    let mut y = top + height + (sizes.legend * 1.5) as i32;
    area.draw_text("Phases", &bold(sizes.legend), (12, y))?;
    let (w, h) = area.dim_in_pixel();
    let max_chars = ((w as f64 - 30.0) / (sizes.legend * 0.58)) as usize;
    for p in &run.phases {
        y += (sizes.legend * 1.4) as i32;
        if y + (sizes.legend * 1.4) as i32 > h as i32 {
            break;
        }
        let text = truncate(&format!("{} {}", p.index + 1, p.name), max_chars);
        area.draw_text(&text, &font(sizes.legend).color(&style::phase_colour(p.index)), (12, y))?;
    }
    Ok(())
}
