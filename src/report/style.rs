//! Look shared by every chart: the compiled-in font, the 16-colour phase palette, the
//! heatmap colour map and text sizes. Only plotters' colour/font types are used here.

use std::sync::OnceLock;

use plotters::style::{FontStyle, RGBColor};

/// The family every chart asks for; registered with the DejaVu Sans bytes from `assets/`.
pub const FONT: &str = "sans-serif";

pub(crate) static FONT_REGULAR: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
pub(crate) static FONT_BOLD: &[u8] = include_bytes!("../../assets/DejaVuSans-Bold.ttf");

/// Registers the compiled-in font with plotters once per process, so charts never look
/// for system fonts (there may be none).
pub fn ensure_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT, FontStyle::Normal, FONT_REGULAR)
                .map_err(|_| "assets/DejaVuSans.ttf is not a valid TrueType font".to_string())?;
            plotters::style::register_font(FONT, FontStyle::Bold, FONT_BOLD)
                .map_err(|_| "assets/DejaVuSans-Bold.ttf is not a valid TrueType font".to_string())
        })
        .clone()
}

/// Sixteen colours a reader can tell apart, none of them red (red means failure); phase `i`
/// gets `PHASE_COLOURS[i % 16]`.
const PHASE_COLOURS: [RGBColor; 16] = [
    RGBColor(31, 119, 180),  // blue
    RGBColor(255, 127, 14),  // orange
    RGBColor(44, 160, 44),   // green
    RGBColor(139, 0, 139),   // dark magenta (not red: red means failure)
    RGBColor(148, 103, 189), // purple
    RGBColor(140, 86, 75),   // brown
    RGBColor(227, 119, 194), // pink
    RGBColor(127, 127, 127), // grey
    RGBColor(188, 189, 34),  // olive
    RGBColor(23, 190, 207),  // cyan
    RGBColor(57, 59, 121),   // indigo
    RGBColor(231, 186, 82),  // gold
    RGBColor(99, 121, 57),   // moss
    RGBColor(0, 128, 128),   // teal
    RGBColor(123, 65, 115),  // plum
    RGBColor(30, 30, 30),    // near-black
];

pub fn phase_colour(index: usize) -> RGBColor {
    PHASE_COLOURS[index % PHASE_COLOURS.len()]
}

/// Colours for series that are not phases (percentile lines, outcome kinds), taken from
/// the one palette the TUI and the HTML report share.
const fn rgb(c: crate::palette::Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}
pub const P50: RGBColor = rgb(crate::palette::P50);
pub const P95: RGBColor = rgb(crate::palette::P95);
pub const P99: RGBColor = rgb(crate::palette::P99);
pub const SUCCESS: RGBColor = rgb(crate::palette::THROUGHPUT);
pub const CLIENT: RGBColor = rgb(crate::palette::P50);
pub const USERS: RGBColor = rgb(crate::palette::USERS);
pub const GRID: RGBColor = RGBColor(225, 225, 225);
pub const MUTED: RGBColor = rgb(crate::palette::MUTED);
/// Failures: the only red.
pub const FAILURE: RGBColor = rgb(crate::palette::FAILURE);
/// Fault windows shaded on time charts.
pub const FAULT: RGBColor = rgb(crate::palette::FAULT);
/// Live steering changes marked on time charts.
pub const STEER: RGBColor = rgb(crate::palette::CHANGE);

/// Percentile bars p50, p75, p90, p95, p99, p99.9: light to dark.
pub const PERCENTILE_COLOURS: [RGBColor; 6] = [
    RGBColor(158, 202, 225),
    RGBColor(107, 174, 214),
    RGBColor(66, 146, 198),
    RGBColor(33, 113, 181),
    RGBColor(8, 69, 148),
    RGBColor(8, 48, 107),
];

/// Failure kinds, in the order of `failure_kind_colour`'s matches.
pub fn failure_kind_colour(kind: &str) -> RGBColor {
    match kind {
        "connection" => RGBColor(148, 103, 189),
        "timeout" => RGBColor(255, 127, 14),
        "dropped" => RGBColor(127, 127, 127),
        "other" => RGBColor(140, 86, 75),
        k if k.starts_with("HTTP 5") => RGBColor(214, 39, 40),
        k if k.starts_with("HTTP 4") => RGBColor(231, 186, 82),
        _ => RGBColor(23, 190, 207),
    }
}

/// Viridis-like colour map for `t` in [0, 1] (dark purple → yellow), readable in grey too.
pub fn heat_colour(t: f64) -> RGBColor {
    const STOPS: [(f64, (f64, f64, f64)); 5] = [
        (0.0, (68.0, 1.0, 84.0)),
        (0.25, (59.0, 82.0, 139.0)),
        (0.5, (33.0, 145.0, 140.0)),
        (0.75, (94.0, 201.0, 98.0)),
        (1.0, (253.0, 231.0, 37.0)),
    ];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    for pair in STOPS.windows(2) {
        let ((t0, c0), (t1, c1)) = (pair[0], pair[1]);
        if t <= t1 {
            let f = (t - t0) / (t1 - t0);
            let mix = |a: f64, b: f64| (a + (b - a) * f).round() as u8;
            return RGBColor(mix(c0.0, c1.0), mix(c0.1, c1.1), mix(c0.2, c1.2));
        }
    }
    RGBColor(253, 231, 37)
}

/// Text sizes in pixels, scaled with the image height so small renders stay legible.
/// `scale` sizes lines and markers the same way.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub title: f64,
    pub label: f64,
    pub tick: f64,
    pub legend: f64,
    /// The same factor for line widths and marker sizes: 1.0 at 1000 px high.
    pub scale: f64,
}

impl Sizes {
    pub fn for_height(height: u32) -> Self {
        // Proportional from 1000 px up; below that text shrinks more slowly than the
        // image, so an 800x500 export still has 12 px legend text.
        let h = f64::from(height) / 1000.0;
        let k = if h >= 1.0 { h.min(3.0) } else { (0.35 + 0.65 * h).max(0.4) };
        Self { title: 34.0 * k, label: 22.0 * k, tick: 18.0 * k, legend: 18.0 * k, scale: k }
    }

    /// A line `base_px` wide at 1000 px high, at this size (never thinner than 1 px).
    pub fn stroke(&self, base_px: u32) -> u32 {
        (f64::from(base_px) * self.scale).round().max(1.0) as u32
    }

    /// A length (marker radius, legend swatch) `base_px` at 1000 px high, at this size.
    pub fn px(&self, base_px: i32) -> i32 {
        (f64::from(base_px) * self.scale).round() as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_phase_colours_are_distinct() {
        for i in 0..16 {
            for j in (i + 1)..16 {
                let (a, b) = (phase_colour(i), phase_colour(j));
                let d = (i32::from(a.0) - i32::from(b.0)).abs()
                    + (i32::from(a.1) - i32::from(b.1)).abs()
                    + (i32::from(a.2) - i32::from(b.2)).abs();
                assert!(d > 60, "phase colours {i} and {j} are too close: {a:?} {b:?}");
            }
        }
    }

    #[test]
    fn no_phase_colour_is_red() {
        for i in 0..16 {
            let c = phase_colour(i);
            assert!(!(c.0 > 180 && c.1 < 90 && c.2 < 90), "phase colour {i} is red: {c:?}");
        }
    }

    #[test]
    fn font_registers() {
        assert_eq!(ensure_font(), Ok(()));
    }
}
