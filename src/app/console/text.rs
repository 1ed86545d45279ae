//! Terminal width, and text cut or wrapped to it by display width (a `✔` is one column,
//! a CJK character two).

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Used when neither `COLUMNS` nor the terminal says.
const DEFAULT_WIDTH: usize = 80;
/// Narrower than this is not a terminal anyone reads a table on; wider is a bogus value.
const WIDTH_BOUNDS: std::ops::RangeInclusive<usize> = 20..=1000;

/// `COLUMNS` when it holds a sensible number, else the terminal on stdout, else 80.
pub fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|w| WIDTH_BOUNDS.contains(w))
        .or_else(stdout_columns)
        .unwrap_or(DEFAULT_WIDTH)
}

/// The columns of the terminal on stdout (TIOCGWINSZ); `None` for a pipe or a file.
fn stdout_columns() -> Option<usize> {
    let mut size = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCGWINSZ fills the one `winsize` we pass, which lives across the call; on
    // a descriptor that is not a terminal it fails and writes nothing.
    let answered = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    Some(usize::from(size.ws_col)).filter(|w| answered && WIDTH_BOUNDS.contains(w))
}

/// `text` in at most `width` columns; a cut ends in `…`.
pub fn cut(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    if width > 0 {
        out.push('…');
    }
    out
}

/// `text` in lines of fewer than `width` columns (the last column is left free, so no
/// terminal wraps on its own), broken at spaces where it can; continuation lines are
/// indented four columns past the first line's indent.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let limit = width.saturating_sub(1).max(10);
    if text.width() <= limit {
        return vec![text.to_string()];
    }
    let body = text.trim_start_matches(' ');
    let first_indent = (text.len() - body.len()).min(limit / 2);
    // At most half a line, so a cut always moves on.
    let indent = " ".repeat((first_indent + 4).min(limit / 2));
    let mut lines = Vec::new();
    let mut line = " ".repeat(first_indent);
    let mut line_has_words = false;
    for word in body.split(' ') {
        let candidate = if line_has_words { format!("{line} {word}") } else { format!("{line}{word}") };
        if candidate.width() <= limit || !line_has_words {
            line = candidate;
        } else {
            lines.push(std::mem::take(&mut line));
            line = format!("{indent}{word}");
        }
        line_has_words = true;
        // A word longer than a line: cut it into line-sized pieces.
        while line.width() > limit {
            let head = cut_exact(&line, limit);
            let rest = line[head.len()..].to_string();
            lines.push(head);
            line = format!("{indent}{rest}");
        }
    }
    if !line.trim().is_empty() {
        lines.push(line);
    }
    lines
}

/// The longest prefix of `text` within `width` columns (at least one character).
fn cut_exact(text: &str, width: usize) -> String {
    let mut used = 0;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        let w = c.width().unwrap_or(0);
        if used + w > width && end > 0 {
            break;
        }
        used += w;
        end = i + c.len_utf8();
    }
    text[..end].to_string()
}
