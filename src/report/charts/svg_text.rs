//! Text in SVG charts drawn with the compiled-in font's own glyph outlines, so an SVG looks
//! the same in every viewer whatever fonts it has. Each glyph used is defined once
//! (`<defs>`, in font units) and placed with `<use>`; the words stay in the file as
//! invisible `<text>` of the same width, so they can still be searched and selected.
//!
//! plotters' SVG backend writes text itself and has no way to add other markup, so the
//! canvas hands it a numbered placeholder and [`SvgText::finish`] swaps each
//! placeholder's `<text>` element for the glyph group, keeping the drawing order.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, OutlineCurve, ScaleFont};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{BackendTextStyle, FontStyle, FontTransform};

use crate::report::style;

/// Opens and closes a placeholder; private-use code points no label contains.
const OPEN: char = '\u{E000}';
const CLOSE: char = '\u{E001}';

fn face(bold: bool) -> Option<&'static FontRef<'static>> {
    static REGULAR: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    static BOLD: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    let (cell, bytes) = if bold { (&BOLD, style::FONT_BOLD) } else { (&REGULAR, style::FONT_REGULAR) };
    cell.get_or_init(|| FontRef::try_from_slice(bytes).ok()).as_ref()
}

/// The glyphs and text groups of one SVG document.
#[derive(Debug, Default)]
pub struct SvgText {
    /// Element ids start with this, so several charts can share one HTML page.
    prefix: String,
    /// id → path data in font units (y up).
    glyphs: BTreeMap<String, String>,
    groups: Vec<String>,
}

impl SvgText {
    pub fn new(prefix: &str) -> Self {
        Self { prefix: prefix.to_string(), ..Self::default() }
    }

    /// Lays out `text` as plotters would at `pos` and returns the placeholder to give
    /// the SVG backend in its place; `None` when the font cannot be read (the backend
    /// then writes the text as plain `<text>`).
    pub fn placeholder<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: (i32, i32),
    ) -> Option<String> {
        let bold = matches!(style.style(), FontStyle::Bold);
        let font = face(bold)?;
        let size = style.size();
        let scaled = font.as_scaled(size as f32);
        // The same layout plotters uses for the bitmap: advances plus kerning, a box
        // size/1.24 high with the baseline at half the size.
        let mut pen = 0.0_f32;
        let mut placed: Vec<(GlyphId, f32)> = Vec::new();
        let mut previous: Option<GlyphId> = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = previous {
                pen += scaled.kern(p, id);
            }
            placed.push((id, pen));
            pen += scaled.h_advance(id);
            previous = Some(id);
        }
        let width = pen as i32;
        let height = (size / 1.24) as i32;
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let baseline = f64::from(dy) + size / 2.0;
        let rotate = match style.transform() {
            FontTransform::Rotate90 => 90,
            FontTransform::Rotate180 => 180,
            FontTransform::Rotate270 => 270,
            _ => 0,
        };
        let colour = style.color();
        let (r, g, b) = colour.rgb;
        let mut group = format!(
            "<g fill=\"#{r:02X}{g:02X}{b:02X}\" fill-opacity=\"{}\" transform=\"translate({} {}) rotate({rotate})\">",
            colour.alpha, pos.0, pos.1
        );
        let (sx, sy) = (scaled.h_scale_factor(), scaled.v_scale_factor());
        for (id, x) in placed {
            let Some(key) = self.glyph(font, id, bold) else { continue };
            put!(
                group,
                "<use href=\"#{key}\" transform=\"matrix({sx:.5} 0 0 {:.5} {:.2} {baseline:.2})\"/>",
                -sy,
                f64::from(dx) + f64::from(x)
            );
        }
        putln!(
            group,
            "<text x=\"{dx}\" y=\"{baseline:.2}\" font-size=\"{:.2}\" font-family=\"DejaVu Sans, sans-serif\" textLength=\"{}\" lengthAdjust=\"spacingAndGlyphs\" fill-opacity=\"0\">{}</text></g>",
            size / 1.24,
            width.max(1),
            escape(text)
        );
        self.groups.push(group);
        Some(format!("{OPEN}{}{CLOSE}", self.groups.len() - 1))
    }

    /// The id of a glyph's definition, adding it on first use; `None` for glyphs
    /// without an outline (spaces).
    fn glyph(&mut self, font: &FontRef<'static>, id: GlyphId, bold: bool) -> Option<String> {
        let key = format!("{}-{}{}", self.prefix, if bold { 'b' } else { 'r' }, id.0);
        if self.glyphs.contains_key(&key) {
            return Some(key);
        }
        let outline = font.outline(id)?;
        let mut d = String::new();
        let mut last: Option<(f32, f32)> = None;
        let p = |pt: ab_glyph::Point| format!("{} {}", round(pt.x), round(pt.y));
        for curve in &outline.curves {
            let (start, rest) = match curve {
                OutlineCurve::Line(a, b) => (*a, format!("L{}", p(*b))),
                OutlineCurve::Quad(a, c, b) => (*a, format!("Q{} {}", p(*c), p(*b))),
                OutlineCurve::Cubic(a, c1, c2, b) => (*a, format!("C{} {} {}", p(*c1), p(*c2), p(*b))),
            };
            if last != Some((start.x, start.y)) {
                if last.is_some() {
                    d.push('Z');
                }
                put!(d, "M{}", p(start));
            }
            d.push_str(&rest);
            last = Some(match curve {
                OutlineCurve::Line(_, b) | OutlineCurve::Quad(_, _, b) | OutlineCurve::Cubic(_, _, _, b) => {
                    (b.x, b.y)
                }
            });
        }
        if d.is_empty() {
            return None;
        }
        d.push('Z');
        self.glyphs.insert(key.clone(), d);
        Some(key)
    }

    /// Swaps each placeholder's `<text>` element for its glyph group and puts the glyph
    /// definitions right after the opening `<svg>` tag.
    pub fn finish(&self, svg: &str) -> String {
        let mut out = String::with_capacity(svg.len() + self.groups.iter().map(String::len).sum::<usize>());
        let mut rest = svg;
        while let Some(open) = rest.find(OPEN) {
            let (Some(start), Some(close)) = (rest[..open].rfind("<text"), rest[open..].find("</text>"))
            else {
                break;
            };
            let end = open + close + "</text>".len();
            let end = if rest[end..].starts_with('\n') { end + 1 } else { end };
            let index: Option<usize> =
                rest[open + OPEN.len_utf8()..].split(CLOSE).next().and_then(|n| n.parse().ok());
            out.push_str(&rest[..start]);
            if let Some(group) = index.and_then(|i| self.groups.get(i)) {
                out.push_str(group);
            }
            rest = &rest[end..];
        }
        out.push_str(rest);
        if let Some(tag_end) = out.find(">\n") {
            let mut defs = String::from("<defs>");
            for (id, d) in &self.glyphs {
                put!(defs, "<path id=\"{id}\" d=\"{d}\"/>");
            }
            defs.push_str("</defs>\n");
            out.insert_str(tag_end + 2, &defs);
        }
        out
    }
}

fn round(v: f32) -> String {
    let r = v.round();
    if (v - r).abs() < 0.01 { format!("{}", r as i64) } else { format!("{v:.1}") }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
