//! Fitting text into a width: word wrap, clipping at a word, hanging indents, and tables
//! that drop whole columns (least important first) instead of cutting their words.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::tui::theme::Theme;

/// Greedy word wrap; a word longer than the width is split (only then).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(8);
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            lines.push(word.drain(..width).collect());
        }
        let word: String = word.into_iter().collect();
        let needed = if current.is_empty() { 0 } else { current.chars().count() + 1 };
        if needed + word.chars().count() > width && !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// `text` cut at a word boundary to fit `width`, ending in `…` when cut.
pub fn clip_words(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for word in text.split_whitespace() {
        let next = if out.is_empty() {
            word.chars().count()
        } else {
            out.chars().count() + 1 + word.chars().count()
        };
        if next + 1 > width {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        return super::widgets::clip(text, width);
    }
    out.push('…');
    out
}

pub fn wrap_styled(text: &str, width: usize, style: Style) -> Vec<Line<'static>> {
    wrap(text, width).into_iter().map(|l| Line::styled(l, style)).collect()
}

/// `lead` then the text wrapped under it, continuation lines indented by its width.
pub fn hanging(lead: Span<'static>, text: &str, width: usize, style: Style) -> Vec<Line<'static>> {
    let indent = lead.content.chars().count();
    let mut wrapped = wrap(text, width.saturating_sub(indent)).into_iter();
    let first = wrapped.next().unwrap_or_default();
    let mut out = vec![Line::from(vec![lead, Span::styled(first, style)])];
    out.extend(wrapped.map(|l| Line::styled(format!("{}{l}", " ".repeat(indent)), style)));
    out
}

/// A column of a table: its header, its width, and when it goes (lower goes first).
pub struct Col {
    pub title: &'static str,
    pub width: usize,
    pub keep: u8,
}

/// The columns that fit beside a name column of at least `name_min`: whole columns are
/// dropped, least important first. Returns the kept indexes and the name's width.
pub fn fit(cols: &[Col], name_min: usize, width: usize) -> (Vec<usize>, usize) {
    let mut kept: Vec<usize> = (0..cols.len()).collect();
    let used = |kept: &[usize]| kept.iter().map(|&i| cols[i].width + 1).sum::<usize>();
    while name_min + used(&kept) > width && !kept.is_empty() {
        let drop = kept.iter().enumerate().min_by_key(|(_, i)| cols[**i].keep).map(|(at, _)| at);
        if let Some(at) = drop {
            kept.remove(at);
        }
    }
    let name = width.saturating_sub(used(&kept)).max(1);
    (kept, name)
}

/// One table row: the name (clipped with …) then the kept cells, right-aligned.
pub fn row(
    name: &str,
    cells: &[(String, Style)],
    cols: &[Col],
    kept: &[usize],
    name_w: usize,
) -> Line<'static> {
    let mut spans = vec![Span::raw(format!("{:<name_w$}", super::widgets::clip(name, name_w)))];
    for &i in kept {
        let (text, style) = cells.get(i).cloned().unwrap_or_default();
        spans.push(Span::styled(format!(" {:>w$}", text, w = cols[i].width), style));
    }
    Line::from(spans)
}

pub fn header(t: Theme, title: &str, cols: &[Col], kept: &[usize], name_w: usize) -> Line<'static> {
    let mut text = format!("{title:<name_w$}");
    for &i in kept {
        text.push_str(&format!(" {:>w$}", cols[i].title, w = cols[i].width));
    }
    Line::styled(text, t.header())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_lines_fit_and_keep_every_word_whole() {
        let text = "throughput levels off at ~5.1 req/s from 20 users on while p50 grows 0.38 → 18 s";
        for width in [10, 13, 20, 40, 78] {
            let lines = wrap(text, width);
            assert!(lines.iter().all(|l| l.chars().count() <= width), "{width}: {lines:?}");
            assert_eq!(lines.join(" "), text, "no word lost or cut at {width}");
        }
        // Only a word longer than the whole width is split, and nothing is lost.
        assert_eq!(wrap("throughput ok", 8), vec!["throughp", "ut ok"]);
    }

    #[test]
    fn clipping_stops_at_a_word() {
        assert_eq!(clip_words("a few requests wait far longer", 16), "a few requests…");
        assert_eq!(clip_words("short", 16), "short");
    }

    #[test]
    fn narrow_tables_drop_whole_columns_least_important_first() {
        let cols = [
            Col { title: "reqs", width: 7, keep: 9 },
            Col { title: "p50", width: 7, keep: 6 },
            Col { title: "max", width: 7, keep: 3 },
        ];
        assert_eq!(fit(&cols, 16, 80), (vec![0, 1, 2], 56));
        assert_eq!(fit(&cols, 16, 36), (vec![0, 1], 20), "max goes first");
        assert_eq!(fit(&cols, 16, 24), (vec![0], 16), "then p50; reqs stays");
    }
}
