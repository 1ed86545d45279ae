//! The new-run form over the Profiles screen: one row per field, the focused one
//! highlighted, each problem in red beside its field, the keys underneath.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};

use super::widgets::{centered, clip, framed};
use crate::tui::quick_form::QuickForm;
use crate::tui::theme::Theme;

pub fn render(t: Theme, form: &QuickForm, area: Rect, buf: &mut Buffer) {
    let fields = form.fields();
    let height = (fields.len() as u16 + 4).min(area.height);
    let popup = centered(area, 76, height);
    Clear.render(popup, buf);
    let block = framed(t, "New run — one phase of a behaviour, no YAML", true);
    let inner = block.inner(popup);
    block.render(popup, buf);
    let [rows_area, hint_area] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    let width = rows_area.width as usize;
    for (i, field) in fields.iter().enumerate() {
        let Some(row) = rows_area.rows().nth(i) else { break };
        let focused = i == form.cursor.min(fields.len() - 1);
        let mut value = form.text(*field);
        if *field == crate::tui::quick_form::QuickField::Url {
            // A password in the URL never shows: `***` once typed, `•` while it is typed.
            value = if focused {
                super::widgets::mask_url_secret(&value)
            } else {
                crate::experiment::target::redacted_text(&value)
            };
        }
        let value = if field.is_choice() { format!("‹ {value} ›") } else { value };
        let mut spans =
            vec![Span::styled(format!("{:>18}: ", field.label()), if focused { t.title() } else { t.dim() })];
        if focused && !field.is_choice() {
            spans.extend(super::widgets::field_spans(&value, form.caret, t.accent(), 44));
        } else {
            spans.push(Span::styled(clip(&value, 44), if focused { t.selected() } else { t.accent() }));
        }
        if let Some(error) = form.error(*field) {
            let room = width.saturating_sub(20 + value.chars().count().min(44) + 4);
            spans.push(Span::styled(format!("  ✗ {}", clip(error, room.max(8))), t.bad()));
        }
        Line::from(spans).render(row, buf);
    }
    Line::styled("↑↓ move · ←→ choose · type replaces · Ctrl-U clears · Enter run · w YAML", t.dim())
        .render(hint_area, buf);
}
