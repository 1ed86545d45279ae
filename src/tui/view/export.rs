//! The export dialog over the Results screen: the rows (format, size, charts, phases,
//! folder, Export) with the cursor kept in view, then the job's progress or the paths.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget, Wrap};

use super::widgets::{centered, clip, framed};
use crate::tui::export_state::{ExportDialog, ExportFormat, ExportJob, Row, SIZES};
use crate::tui::theme::Theme;

/// Paths listed under a finished export before "… and N more".
const SHOWN_PATHS: usize = 6;

pub fn render(t: Theme, dialog: &ExportDialog, spinner: char, area: Rect, buf: &mut Buffer) {
    let status = status_lines(t, dialog, spinner, 72);
    // Rows, the two section headings, the hint line, the status and the border.
    let wanted = dialog.rows().len() + 2 + 1 + status.len() + 2;
    let popup = centered(area, 76, (wanted as u16).min(area.height.saturating_sub(2)).max(10));
    Clear.render(popup, buf);
    let title = format!("Export {}", dialog.run_id);
    let block = framed(t, &title, true);
    let inner = block.inner(popup);
    block.render(popup, buf);
    let status_height = (status.len() as u16).min(inner.height / 2);
    let [rows_area, hint_area, status_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(1), Constraint::Length(status_height)])
            .areas(inner);
    let hidden = render_rows(t, dialog, rows_area, buf);
    hint_line(t, hidden, hint_area.width as usize).render(hint_area, buf);
    Paragraph::new(status).wrap(Wrap { trim: false }).render(status_area, buf);
}

/// Rows scrolled out of view: (above, below).
type Hidden = (usize, usize);

/// The keys, after what is scrolled out of view when the dialog is taller than the screen
/// (the folder and the Export button are last, so they are the first to be out of view).
fn hint_line(t: Theme, (above, below): Hidden, width: usize) -> Line<'static> {
    let mut scroll = Vec::new();
    if below > 0 {
        scroll.push(format!("▼ {below} more below"));
    }
    if above > 0 {
        scroll.push(format!("▲ {above} above"));
    }
    let scroll =
        if scroll.is_empty() { String::new() } else { format!("{} (↑↓ scroll) · ", scroll.join(" ")) };
    // Whole key hints only, as many as fit after the scroll note (`?` lists them all).
    let room = width.saturating_sub(scroll.chars().count());
    let mut keys = String::new();
    for hint in ["↑↓ move", "space tick", "Enter edit/start", "Esc close", "←→ change", "a all"] {
        let next = if keys.is_empty() { hint.to_string() } else { format!("{keys} · {hint}") };
        if next.chars().count() > room {
            break;
        }
        keys = next;
    }
    Line::from(vec![Span::styled(scroll, t.warn().patch(t.title())), Span::styled(keys, t.dim())])
}

fn render_rows(t: Theme, dialog: &ExportDialog, area: Rect, buf: &mut Buffer) -> Hidden {
    let width = area.width as usize;
    // (line, is the cursor on it)
    let mut lines: Vec<(Line<'static>, bool)> = Vec::new();
    for (index, row) in dialog.rows().into_iter().enumerate() {
        let here = index == dialog.cursor;
        match row {
            Row::Chart(0) => lines.push((Line::styled("Charts", t.header()), false)),
            Row::Phase(0) => lines.push((Line::styled("Phases", t.header()), false)),
            _ => {}
        }
        lines.push((row_line(t, dialog, row, width), here));
    }
    let at = lines.iter().position(|(_, here)| *here).unwrap_or(0);
    let height = area.height as usize;
    // Scroll only as far as needed to keep the cursor's line in view.
    let first = if at >= height { at + 1 - height } else { 0 };
    let hidden = (first, lines.len().saturating_sub(first + height));
    let shown: Vec<Line<'_>> = lines
        .into_iter()
        .skip(first)
        .take(height)
        .map(|(line, here)| if here { line.patch_style(t.selected()) } else { line })
        .collect();
    Paragraph::new(shown).render(area, buf);
    hidden
}

fn row_line(t: Theme, dialog: &ExportDialog, row: Row, width: usize) -> Line<'static> {
    let tick = |on: bool| if on { "[x] " } else { "[ ] " };
    match row {
        Row::Format => {
            let choice = |f: ExportFormat| {
                if f == dialog.format {
                    Span::styled(format!("[{}]", f.label()), t.accent())
                } else {
                    Span::styled(format!(" {} ", f.label()), t.dim())
                }
            };
            Line::from(vec![Span::raw("Format  "), choice(ExportFormat::Png), choice(ExportFormat::Svg)])
        }
        Row::Size => {
            let (w, h) = dialog.size();
            Line::from(vec![
                Span::raw("Size    "),
                Span::styled(format!("‹ {w}×{h} ›"), t.accent()),
                Span::styled(format!("  {} of {}", dialog.size + 1, SIZES.len()), t.dim()),
            ])
        }
        Row::Chart(i) => {
            let (name, on) = dialog.charts.get(i).cloned().unwrap_or_default();
            Line::raw(format!("  {}{}", tick(on), clip(&name, width.saturating_sub(6))))
        }
        Row::Phase(i) => {
            let (name, on) = dialog.phases.get(i).cloned().unwrap_or_default();
            Line::raw(format!("  {}{}", tick(on), clip(&name, width.saturating_sub(6))))
        }
        Row::Folder => {
            let mut spans = vec![Span::raw("Folder  ")];
            if dialog.editing_folder {
                spans.extend(super::widgets::field_spans(
                    &dialog.folder,
                    dialog.folder_caret,
                    t.accent(),
                    width.saturating_sub(10),
                ));
            } else {
                spans.push(Span::styled(clip(&dialog.folder, width.saturating_sub(10)), t.accent()));
            }
            Line::from(spans)
        }
        Row::Start => Line::styled("[ Export ]", t.key()),
    }
}

fn status_lines(t: Theme, dialog: &ExportDialog, spinner: char, width: usize) -> Vec<Line<'static>> {
    match &dialog.job {
        None => {
            let charts = dialog.charts.iter().filter(|(_, on)| *on).count();
            let phases = dialog.phases.iter().filter(|(_, on)| *on).count();
            vec![Line::styled(
                format!(
                    "{charts} charts · {phases} of {} phases · into {}",
                    dialog.phases.len(),
                    dialog.folder
                ),
                t.dim(),
            )]
        }
        Some(ExportJob::Running { written, total }) => {
            vec![Line::styled(format!("{spinner} exporting… {} of {total} written", written.len()), t.warn())]
        }
        Some(ExportJob::Failed(why)) => vec![Line::styled(format!("✗ {why}"), t.bad())],
        Some(ExportJob::Done { written, warnings }) => {
            let mut lines = vec![Line::styled(
                format!("✓ {} files written ({} warnings)", written.len(), warnings.len()),
                t.ok(),
            )];
            lines.extend(
                written.iter().take(SHOWN_PATHS).map(|p| Line::raw(clip(&p.display().to_string(), width))),
            );
            if written.len() > SHOWN_PATHS {
                lines.push(Line::styled(format!("… and {} more", written.len() - SHOWN_PATHS), t.dim()));
            }
            lines.extend(warnings.iter().take(2).map(|w| Line::styled(clip(w, width), t.warn())));
            lines
        }
    }
}
