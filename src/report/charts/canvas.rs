//! One drawing backend type for every chart: an RGB buffer (PNG) or an SVG document.
//! The charts draw on `Canvas` and never learn which one it is, so the nine chart
//! functions stay plain functions instead of growing a backend type parameter each.

use std::cell::RefCell;
use std::rc::Rc;

use plotters::prelude::{BitMapBackend, DrawingBackend, SVGBackend};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind};

use super::svg_text::SvgText;

/// What went wrong inside either backend, as text (their error types differ).
#[derive(Debug)]
pub struct CanvasError(String);

impl std::fmt::Display for CanvasError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CanvasError {}

pub enum Canvas<'a> {
    Bitmap(BitMapBackend<'a>),
    /// The SVG backend, and where its text goes as glyph outlines (shared with the caller,
    /// which finishes the document once plotters is done with it); `None` keeps text as
    /// plain `<text>` for the viewer's fonts.
    Svg(SVGBackend<'a>, Option<Rc<RefCell<SvgText>>>),
}

fn lift<E: std::error::Error + Send + Sync>(e: DrawingErrorKind<E>) -> DrawingErrorKind<CanvasError> {
    match e {
        DrawingErrorKind::DrawingError(e) => DrawingErrorKind::DrawingError(CanvasError(e.to_string())),
        DrawingErrorKind::FontError(e) => DrawingErrorKind::FontError(e),
    }
}

/// Calls the same method on whichever backend this is, lifting its error.
macro_rules! each {
    ($self:ident, $b:ident => $call:expr) => {
        match $self {
            Canvas::Bitmap($b) => $call.map_err(lift),
            Canvas::Svg($b, _) => $call.map_err(lift),
        }
    };
}

type Drawn = Result<(), DrawingErrorKind<CanvasError>>;

impl DrawingBackend for Canvas<'_> {
    type ErrorType = CanvasError;

    fn get_size(&self) -> (u32, u32) {
        match self {
            Canvas::Bitmap(b) => b.get_size(),
            Canvas::Svg(b, _) => b.get_size(),
        }
    }

    fn ensure_prepared(&mut self) -> Drawn {
        each!(self, b => b.ensure_prepared())
    }

    fn present(&mut self) -> Drawn {
        each!(self, b => b.present())
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Drawn {
        each!(self, b => b.draw_pixel(point, color))
    }

    fn draw_line<S: BackendStyle>(&mut self, from: BackendCoord, to: BackendCoord, style: &S) -> Drawn {
        each!(self, b => b.draw_line(from, to, style))
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Drawn {
        each!(self, b => b.draw_rect(upper_left, bottom_right, style, fill))
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Drawn {
        each!(self, b => b.draw_path(path, style))
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Drawn {
        each!(self, b => b.draw_circle(center, radius, style, fill))
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Drawn {
        each!(self, b => b.fill_polygon(vert, style))
    }

    fn draw_text<S: BackendTextStyle>(&mut self, text: &str, style: &S, pos: BackendCoord) -> Drawn {
        match self {
            Canvas::Bitmap(b) => b.draw_text(text, style, pos).map_err(lift),
            Canvas::Svg(b, None) => b.draw_text(text, style, pos).map_err(lift),
            Canvas::Svg(b, Some(glyphs)) => {
                if style.color().alpha == 0.0 {
                    return Ok(());
                }
                let placeholder = glyphs.borrow_mut().placeholder(text, style, pos);
                b.draw_text(placeholder.as_deref().unwrap_or(text), style, pos).map_err(lift)
            }
        }
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<CanvasError>> {
        each!(self, b => b.estimate_text_size(text, style))
    }

    fn blit_bitmap(&mut self, pos: BackendCoord, size: (u32, u32), src: &[u8]) -> Drawn {
        each!(self, b => b.blit_bitmap(pos, size, src))
    }
}
