//! The nine PNG charts of a run, and `compare.png` of two. Each chart is a function from `RunData` to a drawing area; this
//! file holds what they share (frame, legend column, axes, phase shading, "nothing to
//! show" panels) and the PNG encoding. plotters types stay inside `report::charts`.

mod axis;
pub mod compare;
mod distribution;
mod heatmap;
mod outcomes;
mod percentiles;
mod resources;
mod server;
mod timeline;

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::{PhaseData, RunData};
use super::style::{self, FONT, MUTED, Sizes};

pub type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// A drawing failure inside plotters, as text (plotters' error types are generic).
#[derive(Debug)]
pub struct ChartError(pub String);

impl<T: std::fmt::Display> From<T> for ChartError {
    fn from(e: T) -> Self {
        Self(e.to_string())
    }
}

pub type Drawn = Result<(), ChartError>;

/// One chart file and the function that draws it.
pub struct ChartSpec {
    pub file: &'static str,
    pub title: &'static str,
    pub draw: fn(&Area<'_>, &RunData, &Sizes) -> Drawn,
}

pub const CHARTS: [ChartSpec; 9] = [
    ChartSpec { file: "throughput_timeline.png", title: "Throughput over time", draw: timeline::throughput },
    ChartSpec { file: "latency_over_time.png", title: "Latency over time", draw: timeline::latency },
    ChartSpec {
        file: "latency_percentiles.png",
        title: "Latency percentiles per phase",
        draw: percentiles::grouped_bars,
    },
    ChartSpec {
        file: "latency_distribution.png",
        title: "Latency distribution per phase",
        draw: distribution::draw,
    },
    ChartSpec {
        file: "throughput_vs_latency.png",
        title: "Throughput against latency",
        draw: percentiles::knee,
    },
    ChartSpec { file: "success_failure.png", title: "Successes and failures", draw: outcomes::draw },
    ChartSpec { file: "latency_heatmap.png", title: "Latency heatmap", draw: heatmap::draw },
    ChartSpec { file: "server_view.png", title: "Client against server", draw: server::draw },
    ChartSpec { file: "resources.png", title: "Target resources", draw: resources::draw },
];

/// Draws one chart into an RGB buffer and writes it as PNG.
pub fn render_png(spec: &ChartSpec, run: &RunData, path: &Path, width: u32, height: u32) -> Drawn {
    draw_png(path, width, height, |root, sizes| (spec.draw)(root, run, sizes))
}

/// Draws with `draw` on a white `width`×`height` canvas and writes it as PNG.
pub fn draw_png(
    path: &Path,
    width: u32,
    height: u32,
    draw: impl FnOnce(&Area<'_>, &Sizes) -> Drawn,
) -> Drawn {
    let mut buffer = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root, &Sizes::for_height(height))?;
        root.present()?;
    }
    let file = std::fs::File::create(path).map_err(|e| ChartError(format!("{}: {e}", path.display())))?;
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        std::io::BufWriter::new(file),
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Sub,
    );
    image::ImageEncoder::write_image(encoder, &buffer, width, height, image::ColorType::Rgb8)
        .map_err(|e| ChartError(format!("{}: {e}", path.display())))
}

pub fn font(size: f64) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

pub fn bold(size: f64) -> TextStyle<'static> {
    (FONT, size).into_font().style(FontStyle::Bold).color(&BLACK)
}

/// Title on top, a legend column on the right; returns (plot area, legend area).
pub fn frame<'a>(
    root: &Area<'a>,
    title: &str,
    subtitle: &str,
    sizes: &Sizes,
) -> Result<(Area<'a>, Area<'a>), ChartError> {
    let (w, _) = root.dim_in_pixel();
    let title_style = bold(sizes.title);
    root.draw_text(title, &title_style, (20, 12))?;
    let top = (sizes.title * 1.6) as i32;
    if !subtitle.is_empty() {
        root.draw_text(subtitle, &font(sizes.legend).color(&MUTED), (20, top))?;
    }
    let body = root.margin(top as u32 + (sizes.legend * 1.4) as u32, 10, 10, 10);
    let legend_width = (w as f64 * 0.19) as u32;
    let (plot, legend) = body.split_horizontally(w - 20 - legend_width);
    Ok((plot, legend))
}

#[derive(Clone, Copy)]
pub enum Mark {
    Box,
    Line,
    Dashed,
    Circle,
    Triangle,
    /// A bold sub-heading row, no marker.
    Heading,
    /// Text only.
    Plain,
}

pub struct LegendItem {
    pub label: String,
    pub colour: RGBColor,
    pub mark: Mark,
}

impl LegendItem {
    pub fn new(label: impl Into<String>, colour: RGBColor, mark: Mark) -> Self {
        Self { label: label.into(), colour, mark }
    }
}

/// Draws a legend as a column of rows in its own area, so it never covers data.
pub fn legend(area: &Area<'_>, heading: &str, items: &[LegendItem], sizes: &Sizes) -> Drawn {
    let (w, h) = area.dim_in_pixel();
    let row = (sizes.legend * 1.5) as i32;
    let mut y = 6;
    if !heading.is_empty() {
        area.draw_text(heading, &bold(sizes.legend), (12, y))?;
        y += row;
    }
    let max_chars = ((w as f64 - 60.0) / (sizes.legend * 0.58)).max(4.0) as usize;
    for item in items {
        if y + row > h as i32 {
            area.draw_text("…", &font(sizes.legend), (12, y))?;
            break;
        }
        let mid = y + row / 2 - 2;
        let c = item.colour;
        match item.mark {
            Mark::Box => area.draw(&Rectangle::new([(12, mid - 7), (34, mid + 7)], c.filled()))?,
            Mark::Line => area.draw(&PathElement::new(vec![(10, mid), (36, mid)], c.stroke_width(3)))?,
            Mark::Dashed => {
                for x in [10, 20, 30] {
                    area.draw(&PathElement::new(vec![(x, mid), (x + 6, mid)], c.stroke_width(3)))?;
                }
            }
            Mark::Circle => area.draw(&Circle::new((23, mid), 6, c.filled()))?,
            Mark::Triangle => area.draw(&TriangleMarker::new((23, mid), 8, c.filled()))?,
            Mark::Heading => {
                area.draw_text(&item.label, &bold(sizes.legend), (12, y + 2))?;
                y += row;
                continue;
            }
            Mark::Plain => {}
        }
        let text = truncate(&item.label, max_chars);
        area.draw_text(&text, &font(sizes.legend), (44, y + 2))?;
        y += row;
    }
    Ok(())
}

pub fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(max_chars.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A panel with nothing to draw says why, in the image, instead of staying empty.
pub fn no_data(area: &Area<'_>, heading: &str, why: &str, sizes: &Sizes) -> Drawn {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Rectangle::new(
        [(4, 4), (w as i32 - 4, h as i32 - 4)],
        ShapeStyle::from(&RGBColor(200, 200, 200)).stroke_width(2),
    ))?;
    let mid = Pos::new(HPos::Center, VPos::Center);
    let centre = |size: f64| font(size).pos(mid);
    if !heading.is_empty() {
        area.draw_text(
            heading,
            &bold(sizes.label).pos(mid),
            (w as i32 / 2, h as i32 / 2 - (sizes.label * 1.5) as i32),
        )?;
    }
    let max_chars = ((w as f64 - 40.0) / (sizes.label * 0.55)).max(10.0) as usize;
    for (i, line) in wrap(why, max_chars).iter().enumerate() {
        let y = h as i32 / 2 + (i as f64 * sizes.label * 1.3) as i32;
        area.draw_text(line, &centre(sizes.label).color(&MUTED), (w as i32 / 2, y))?;
    }
    Ok(())
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let last = lines.last_mut().map(|l| l.chars().count()).unwrap_or(0);
        if last > 0 && last + 1 + word.chars().count() > width {
            lines.push(String::new());
        }
        if let Some(line) = lines.last_mut() {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// The phases as legend rows, numbered as on the time charts.
pub fn phase_legend(phases: &[PhaseData]) -> Vec<LegendItem> {
    phases
        .iter()
        .map(|p| {
            LegendItem::new(format!("{} {}", p.index + 1, p.name), style::phase_colour(p.index), Mark::Box)
        })
        .collect()
}

/// Phase name under a bar group: the name if it fits, else its number.
pub fn phase_tick(phases: &[PhaseData], slot: f64, width_px: f64, tick: f64) -> String {
    let index = slot.round();
    if index < 0.0 || (slot - index).abs() > 1e-6 {
        return String::new();
    }
    let Some(p) = phases.get(index as usize) else { return String::new() };
    let per_group = width_px / phases.len().max(1) as f64;
    let fits = (per_group / (tick * 0.6)) as usize;
    if p.name.chars().count() <= fits { p.name.clone() } else { format!("{}", p.index + 1) }
}
