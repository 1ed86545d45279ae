//! Small drawing helpers shared by the screens: framed blocks, centred popups, key/value lines.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

use crate::tui::theme::Theme;

/// A bordered block; the focused one gets a heavier, coloured border.
pub fn framed(theme: Theme, title: &str, focused: bool) -> Block<'static> {
    let (style, kind) = if focused {
        (theme.focused_border(), BorderType::Thick)
    } else {
        (theme.border(), BorderType::Plain)
    };
    let block = Block::default().borders(Borders::ALL).border_type(kind).border_style(style);
    if title.trim().is_empty() {
        block
    } else {
        block.title(Span::styled(format!(" {} ", title.trim()), theme.title()))
    }
}

/// A rectangle of at most `width`×`height` in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

/// `label: value` with the label dimmed.
pub fn pair(theme: Theme, label: &str, value: impl Into<String>) -> Vec<Span<'static>> {
    vec![Span::styled(format!("{label} "), theme.dim()), Span::raw(value.into()), Span::raw("  ")]
}

/// A line of several `pair`s.
pub fn pairs(theme: Theme, items: &[(&str, String)]) -> Line<'static> {
    Line::from(items.iter().flat_map(|(l, v)| pair(theme, l, v.clone())).collect::<Vec<_>>())
}

/// ✓ / ✗ with the matching style.
pub fn verdict(theme: Theme, passed: bool) -> Span<'static> {
    if passed { Span::styled("✓", theme.ok()) } else { Span::styled("✗", theme.bad()) }
}

/// Shortens `text` to `width` characters, ending in `…` when cut.
pub fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else if width == 0 {
        String::new()
    } else {
        let mut out: String = text.chars().take(width - 1).collect();
        out.push('…');
        out
    }
}

/// A text field being edited, as spans: a selected (prefilled) value in reversed video with
/// the cursor after it, else the text with the cell under the cursor reversed (a reversed
/// space at the end). At most `max_chars` cells, kept around the cursor.
pub fn field_spans(
    text: &str,
    caret: crate::tui::edit::Caret,
    style: ratatui::style::Style,
    max_chars: usize,
) -> Vec<Span<'static>> {
    use ratatui::style::Modifier;
    let reversed = style.add_modifier(Modifier::REVERSED);
    let chars: Vec<char> = text.chars().collect();
    let at = caret.index(text);
    // The window shown: ends at the cursor's cell when the text is longer than the room.
    let room = max_chars.max(2);
    let end = chars.len().max(at + 1).min(chars.len() + 1);
    let start = end.saturating_sub(room).min(at);
    let slice = |from: usize, to: usize| -> String {
        chars[from.min(chars.len())..to.min(chars.len())].iter().collect()
    };
    if caret.selected && !chars.is_empty() {
        return vec![Span::styled(slice(start, chars.len()), reversed), Span::styled(" ", style)];
    }
    let under = chars.get(at).map_or(" ".to_string(), |c| c.to_string());
    vec![
        Span::styled(slice(start, at), style),
        Span::styled(under, reversed),
        Span::styled(slice(at + 1, chars.len().min(start + room)), style),
    ]
}

/// A list's frame title with its filter: `Profiles /thr` with the filter's cursor drawn as
/// every edited field draws it while it is typed; `Profiles (12)` when there is no filter.
pub fn filter_title(
    theme: Theme,
    label: &str,
    count: usize,
    filter: &crate::tui::list_filter::ListFilter,
) -> Line<'static> {
    if !filter.editing && filter.text.is_empty() {
        return Line::from(Span::styled(format!(" {label} ({count}) "), theme.title()));
    }
    let mut spans = vec![Span::styled(format!(" {label} /"), theme.title())];
    if filter.editing {
        spans.extend(field_spans(&filter.text, filter.caret, theme.title(), 24));
    } else {
        spans.push(Span::styled(format!("{} ", filter.text), theme.title()));
    }
    Line::from(spans)
}

/// A URL as it is typed, with its secret replaced by `•` character for character (so a
/// cursor position in the text is the same in what is shown). Once the `@` ending the
/// userinfo is typed, all of the userinfo is hidden; before it, whatever follows a `:` in
/// the authority is, unless it is all digits (a port), since `user:pass` and `host:port`
/// look alike until the `@` comes.
pub fn mask_url_secret(text: &str) -> String {
    let Some(scheme_end) = text.find("://").map(|i| i + 3) else { return text.to_string() };
    let rest = &text[scheme_end..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    let hidden = match authority.rfind('@') {
        Some(at) => Some(0..at),
        None => authority
            .find(':')
            .filter(|colon| !authority[colon + 1..].chars().all(|c| c.is_ascii_digit()))
            .map(|colon| colon + 1..authority.len()),
    };
    let Some(hidden) = hidden else { return text.to_string() };
    let dots = "•".repeat(authority[hidden.clone()].chars().count());
    format!(
        "{}{}{dots}{}{}",
        &text[..scheme_end],
        &authority[..hidden.start],
        &authority[hidden.end..],
        &rest[authority_len..]
    )
}

#[cfg(test)]
mod tests {
    use super::mask_url_secret;

    #[test]
    fn a_password_never_shows_while_a_url_is_typed() {
        let cases = [
            ("http://127.0.0.1:8081", "http://127.0.0.1:8081"),
            ("http://127.0.0.1:", "http://127.0.0.1:"),
            ("http://bob:s", "http://bob:•"),
            ("http://bob:s3cret", "http://bob:••••••"),
            ("http://bob:s3cret@", "http://••••••••••@"),
            ("https://bob:s3cret@api.example:8443/x?y=1", "https://••••••••••@api.example:8443/x?y=1"),
            ("https://tok@host/", "https://•••@host/"),
            ("http://h/p:q@r", "http://h/p:q@r"),
            ("plain text", "plain text"),
            ("http://é:ü@h", "http://•••@h"),
        ];
        for (typed, shown) in cases {
            assert_eq!(mask_url_secret(typed), shown, "{typed}");
            assert_eq!(mask_url_secret(typed).chars().count(), typed.chars().count());
        }
    }
}
