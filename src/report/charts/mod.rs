//! The ten charts of a run, and `compare.png` of two. Each chart is a function from `RunData` to a drawing area; this
//! file holds what they share (frame, legend column, axes, phase shading, "nothing to
//! show" panels) and the PNG/SVG encoding. plotters types stay inside `report::charts`.

mod axis;
mod canvas;
pub mod compare;
mod comparison;
mod distribution;
mod heatmap;
mod outcomes;
mod percentiles;
mod recovery;
mod resources;
mod server;
mod svg_text;
mod timeline;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::{PhaseData, RunData};
use super::style::{self, FONT, MUTED, Sizes};

use std::cell::RefCell;
use std::rc::Rc;

use canvas::Canvas;
use svg_text::SvgText;

pub type Area<'a> = DrawingArea<Canvas<'a>, Shift>;

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
    /// Whether the run has anything for this chart to show; a chart that does not apply is
    /// not drawn at all (no placeholder image in the run folder or the report).
    pub applies: fn(&RunData) -> bool,
}

/// For the charts every run has something to show in.
fn always(_: &RunData) -> bool {
    true
}

impl ChartSpec {
    /// The chart's name on the command line: its file name without `.png`.
    pub fn name(&self) -> &'static str {
        self.file.strip_suffix(".png").unwrap_or(self.file)
    }

    /// This chart has something to show for `run`.
    pub fn applies_to(&self, run: &RunData) -> bool {
        (self.applies)(run)
    }
}

pub const CHARTS: [ChartSpec; 11] = [
    ChartSpec {
        file: "throughput_timeline.png",
        title: "Throughput over time",
        draw: timeline::throughput,
        applies: always,
    },
    ChartSpec {
        file: "latency_over_time.png",
        title: "Latency over time",
        draw: timeline::latency,
        applies: always,
    },
    ChartSpec {
        file: "latency_percentiles.png",
        title: "Latency percentiles per phase",
        draw: percentiles::grouped_bars,
        applies: always,
    },
    ChartSpec {
        file: "latency_distribution.png",
        title: "Latency distribution per phase",
        draw: distribution::draw,
        applies: always,
    },
    ChartSpec {
        file: "throughput_vs_latency.png",
        title: "Throughput against latency",
        draw: percentiles::knee,
        applies: always,
    },
    ChartSpec {
        file: "success_failure.png",
        title: "Successes and failures",
        draw: outcomes::draw,
        applies: always,
    },
    ChartSpec { file: "latency_heatmap.png", title: "Latency heatmap", draw: heatmap::draw, applies: always },
    ChartSpec {
        file: "server_view.png",
        title: "Client against server",
        draw: server::draw,
        applies: always,
    },
    ChartSpec { file: "resources.png", title: "Target resources", draw: resources::draw, applies: always },
    ChartSpec { file: "comparison.png", title: "Phase comparison", draw: comparison::draw, applies: always },
    ChartSpec {
        file: "recovery.png",
        title: "Recovery after faults",
        draw: recovery::draw,
        applies: recovery::applies,
    },
];

/// How a chart is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// PNG, zlib at its best compression with adaptive filtering (charts are mostly flat
    /// colour, so this is several times smaller than the fast setting).
    Png,
    /// A standalone SVG file: text drawn with the compiled-in font's outlines (`svg_text`),
    /// so it looks the same in every viewer.
    Svg,
    /// An SVG to place inside our HTML reports: text stays `<text>` and asks for DejaVu
    /// Sans first, like the page's CSS (several times smaller than outlines).
    SvgInPage,
}

/// Asks for the font the text was laid out with before any other sans-serif.
const SVG_FONT_STYLE: &str = "<style>text{font-family:'DejaVu Sans',Verdana,sans-serif}</style>\n";

/// Draws one chart and returns the encoded file's bytes.
pub fn render(
    spec: &ChartSpec,
    run: &RunData,
    encoding: Encoding,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, ChartError> {
    let sizes = Sizes::for_height(height);
    match encoding {
        Encoding::Png => {
            let mut buffer = vec![255u8; width as usize * height as usize * 3];
            {
                let root = Canvas::Bitmap(BitMapBackend::with_buffer(&mut buffer, (width, height)))
                    .into_drawing_area();
                root.fill(&WHITE)?;
                (spec.draw)(&root, run, &sizes)?;
                root.present()?;
            }
            encode_png(&buffer, width, height)
        }
        Encoding::Svg | Encoding::SvgInPage => {
            let glyphs =
                (encoding == Encoding::Svg).then(|| Rc::new(RefCell::new(SvgText::new(spec.name()))));
            let mut svg = String::with_capacity(256 * 1024);
            {
                let backend = SVGBackend::with_string(&mut svg, (width, height));
                let root = Canvas::Svg(backend, glyphs.clone()).into_drawing_area();
                root.fill(&WHITE)?;
                (spec.draw)(&root, run, &sizes)?;
                root.present()?;
            }
            match glyphs {
                Some(glyphs) => Ok(glyphs.borrow().finish(&svg).into_bytes()),
                None => {
                    // After the opening <svg …> tag, so the rule covers every text element.
                    if let Some(end) = svg.find(">\n") {
                        svg.insert_str(end + 2, SVG_FONT_STYLE);
                    }
                    Ok(svg.into_bytes())
                }
            }
        }
    }
}

/// Draws with `draw` on a white `width`×`height` canvas and writes it to `path` as PNG
/// (charts of more than one run, such as `compare.png`).
/// Draws into a bitmap and returns it PNG-encoded (the caller writes it where it may).
pub fn draw_png(
    width: u32,
    height: u32,
    draw: impl FnOnce(&Area<'_>, &Sizes) -> Drawn,
) -> Result<Vec<u8>, ChartError> {
    let mut buffer = vec![255u8; width as usize * height as usize * 3];
    {
        let root =
            Canvas::Bitmap(BitMapBackend::with_buffer(&mut buffer, (width, height))).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root, &Sizes::for_height(height))?;
        root.present()?;
    }
    encode_png(&buffer, width, height)
}

fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ChartError> {
    let mut out = Vec::with_capacity(rgb.len() / 16);
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::Adaptive,
    );
    image::ImageEncoder::write_image(encoder, rgb, width, height, image::ColorType::Rgb8)?;
    Ok(out)
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
    let max_chars = ((w as f64 - 16.0 - 32.0 * sizes.scale) / (sizes.legend * 0.58)).max(4.0) as usize;
    for item in items {
        if y + row > h as i32 {
            area.draw_text("…", &font(sizes.legend), (12, y))?;
            break;
        }
        let mid = y + row / 2 - 2;
        let c = item.colour;
        let px = |v: i32| sizes.px(v);
        match item.mark {
            Mark::Box => {
                area.draw(&Rectangle::new([(12, mid - px(7)), (12 + px(22), mid + px(7))], c.filled()))?
            }
            Mark::Line => area.draw(&PathElement::new(
                vec![(10, mid), (10 + px(26), mid)],
                c.stroke_width(sizes.stroke(3)),
            ))?,
            Mark::Dashed => {
                for x in [0, 10, 20] {
                    let x0 = 10 + px(x);
                    area.draw(&PathElement::new(
                        vec![(x0, mid), (x0 + px(6), mid)],
                        c.stroke_width(sizes.stroke(3)),
                    ))?;
                }
            }
            Mark::Circle => area.draw(&Circle::new((10 + px(13), mid), sizes.px(6).max(2), c.filled()))?,
            Mark::Triangle => {
                area.draw(&TriangleMarker::new((10 + px(13), mid), sizes.px(8).max(3), c.filled()))?
            }
            Mark::Heading => {
                area.draw_text(&item.label, &bold(sizes.legend), (12, y + 2))?;
                y += row;
                continue;
            }
            Mark::Plain => {}
        }
        let text = truncate(&item.label, max_chars);
        area.draw_text(&text, &font(sizes.legend), (12 + px(32), y + 2))?;
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
        ShapeStyle::from(&RGBColor(200, 200, 200)).stroke_width(sizes.stroke(2)),
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
