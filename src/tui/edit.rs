//! The one way a text field takes keys: filters, setting fields, the export folder, the
//! steering line and the new-run form all type, erase, move and finish through
//! [`edit_text`], so every field refuses control characters, stops at a length, and treats
//! a prefilled value the same way: it starts *selected*, so the first printable key
//! replaces it rather than appending to it (typing `8` over a prefilled `5` gives `8`, not
//! `58`). Plain data; no I/O.

use super::action::Action;

/// Filters and short fields (numbers, durations, URLs, names): far beyond any real value,
/// yet a key held down cannot grow the text (and every redraw of it) without end.
pub const SHORT_FIELD_CHARS: usize = 200;

/// File paths and header lists: a path may be deep, and one bearer token alone can run to
/// a few thousand characters.
pub const LONG_FIELD_CHARS: usize = 4096;

/// Where the cursor of a field stands, and whether its whole text is selected.
///
/// The cursor is counted in characters *from the end* of the text, so the default (0)
/// stands after the last character whatever the text is; a field whose text changes
/// under it (a reload, a reset) never holds a cursor past its end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caret {
    /// Characters between the cursor and the end of the text.
    pub back: usize,
    /// The whole text is selected: a printable key replaces it, Backspace/Delete clear it.
    pub selected: bool,
}

impl Caret {
    /// A prefilled value: selected, with the cursor at its end.
    pub fn prefilled() -> Self {
        Caret { back: 0, selected: true }
    }

    /// The cursor as a character index from the start of `text`.
    pub fn index(&self, text: &str) -> usize {
        text.chars().count().saturating_sub(self.back)
    }
}

/// What a key did to the text being edited. The caller decides what Enter and other keys
/// mean for its field; the text itself only ever changes here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditOutcome {
    /// A character was added (or replaced the selection).
    Typed,
    /// Text was removed: Backspace, Delete, Ctrl-U, Ctrl-W (even when nothing was left).
    Erased,
    /// The cursor moved (or the selection was dropped); the text is unchanged.
    Moved,
    /// A character the field does not take: a control character, or the field is full.
    Refused,
    /// Enter: the caller accepts (or checks) the text.
    Enter,
    /// Any other key; the text is untouched.
    Other,
}

/// Byte offset of character `index` in `text` (its length when past the end).
fn byte_at(text: &str, index: usize) -> usize {
    text.char_indices().nth(index).map_or(text.len(), |(b, _)| b)
}

/// Applies `action` to `text` at `caret`, keeping it to at most `max_chars` characters
/// (not bytes, so a limit means the same for `é` as for `e`).
pub fn edit_text(text: &mut String, caret: &mut Caret, action: &Action, max_chars: usize) -> EditOutcome {
    let len = text.chars().count();
    caret.back = caret.back.min(len);
    let at = len - caret.back;
    let selected = std::mem::take(&mut caret.selected);
    match action {
        // Control characters (a pasted tab or newline) would break the one-line layouts.
        Action::Type(c) if c.is_control() => {
            caret.selected = selected;
            EditOutcome::Refused
        }
        Action::Type(_) if selected => {
            text.clear();
            caret.back = 0;
            edit_text(text, caret, action, max_chars)
        }
        Action::Type(_) if len >= max_chars => EditOutcome::Refused,
        Action::Type(c) => {
            text.insert(byte_at(text, at), *c);
            EditOutcome::Typed
        }
        Action::Backspace | Action::DeleteForward | Action::ClearField if selected => {
            text.clear();
            caret.back = 0;
            EditOutcome::Erased
        }
        Action::Backspace => {
            if at > 0 {
                text.remove(byte_at(text, at - 1));
            }
            EditOutcome::Erased
        }
        Action::DeleteForward => {
            if caret.back > 0 {
                text.remove(byte_at(text, at));
                caret.back -= 1;
            }
            EditOutcome::Erased
        }
        // Ctrl-U: like a shell, everything before the cursor goes.
        Action::ClearField => {
            text.replace_range(..byte_at(text, at), "");
            EditOutcome::Erased
        }
        // Ctrl-W: the spaces before the cursor, then the word before them.
        Action::DeleteWord => {
            let before: Vec<char> = text.chars().take(at).collect();
            let mut start = at;
            while start > 0 && before[start - 1].is_whitespace() {
                start -= 1;
            }
            while start > 0 && !before[start - 1].is_whitespace() {
                start -= 1;
            }
            text.replace_range(byte_at(text, start)..byte_at(text, at), "");
            EditOutcome::Erased
        }
        Action::CursorLeft => {
            caret.back = (caret.back + 1).min(len);
            EditOutcome::Moved
        }
        Action::CursorRight => {
            caret.back = caret.back.saturating_sub(1);
            EditOutcome::Moved
        }
        Action::CursorHome => {
            caret.back = len;
            EditOutcome::Moved
        }
        Action::CursorEnd => {
            caret.back = 0;
            EditOutcome::Moved
        }
        Action::Enter => {
            caret.selected = selected;
            EditOutcome::Enter
        }
        _ => {
            caret.selected = selected;
            EditOutcome::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed_at(
        start: &str,
        mut caret: Caret,
        keys: &[Action],
        max_chars: usize,
    ) -> (String, Caret, Vec<EditOutcome>) {
        let mut text = start.to_string();
        let outcomes = keys.iter().map(|k| edit_text(&mut text, &mut caret, k, max_chars)).collect();
        (text, caret, outcomes)
    }

    fn typed(start: &str, keys: &[Action], max_chars: usize) -> (String, Vec<EditOutcome>) {
        let (text, _, outcomes) = typed_at(start, Caret::default(), keys, max_chars);
        (text, outcomes)
    }

    #[test]
    fn a_printable_key_replaces_a_prefilled_value() {
        let (text, caret, _) = typed_at("5", Caret::prefilled(), &[Action::Type('8')], 16);
        assert_eq!(text, "8");
        assert!(!caret.selected);
        let (text, ..) = typed_at("1m", Caret::prefilled(), &[Action::Type('8'), Action::Type('s')], 16);
        assert_eq!(text, "8s");
    }

    #[test]
    fn moving_drops_the_selection_and_then_keys_insert_at_the_cursor() {
        let keys = [Action::CursorLeft, Action::Type('0')];
        let (text, ..) = typed_at("1m", Caret::prefilled(), &keys, 16);
        assert_eq!(text, "10m");
        let keys = [Action::CursorHome, Action::Type('2'), Action::CursorEnd, Action::Type('s')];
        let (text, ..) = typed_at("1m", Caret::prefilled(), &keys, 16);
        assert_eq!(text, "21ms");
        let (text, ..) = typed_at("1m", Caret::prefilled(), &[Action::CursorEnd, Action::Type('8')], 16);
        assert_eq!(text, "1m8");
    }

    #[test]
    fn ctrl_u_clears_before_the_cursor_and_ctrl_w_deletes_a_word() {
        let (text, ..) = typed_at("120", Caret::prefilled(), &[Action::ClearField], 16);
        assert_eq!(text, "");
        let (text, ..) = typed_at("abc def", Caret { back: 3, selected: false }, &[Action::ClearField], 16);
        assert_eq!(text, "def");
        let (text, ..) = typed_at("a bc  ", Caret::default(), &[Action::DeleteWord], 16);
        assert_eq!(text, "a ");
        let (text, ..) = typed_at("ab cd", Caret { back: 1, selected: false }, &[Action::DeleteWord], 16);
        assert_eq!(text, "ab d");
    }

    #[test]
    fn backspace_and_delete_work_at_the_cursor() {
        let mid = Caret { back: 1, selected: false };
        let (text, ..) = typed_at("abc", mid, &[Action::Backspace], 16);
        assert_eq!(text, "ac");
        let (text, caret, _) = typed_at("abc", mid, &[Action::DeleteForward, Action::DeleteForward], 16);
        assert_eq!((text.as_str(), caret.back), ("ab", 0));
        let (text, ..) = typed_at("abc", Caret::prefilled(), &[Action::Backspace], 16);
        assert_eq!(text, "");
    }

    #[test]
    fn the_cursor_stays_inside_the_text() {
        let keys = [Action::CursorLeft, Action::CursorLeft, Action::CursorLeft, Action::Type('x')];
        let (text, ..) = typed_at("é", Caret::default(), &keys, 16);
        assert_eq!(text, "xé");
        let (text, ..) =
            typed_at("ab", Caret { back: 9, selected: false }, &[Action::CursorRight, Action::Type('x')], 16);
        assert_eq!(text, "axb");
    }

    #[test]
    fn characters_are_added_up_to_the_limit_in_characters() {
        let keys = [Action::Type('é'), Action::Type('b'), Action::Type('c')];
        let (text, outcomes) = typed("", &keys, 2);
        assert_eq!(text, "éb");
        assert_eq!(outcomes, [EditOutcome::Typed, EditOutcome::Typed, EditOutcome::Refused]);
    }

    #[test]
    fn a_full_field_still_erases_and_then_takes_a_character_again() {
        let keys = [Action::Type('x'), Action::Backspace, Action::Type('y')];
        let (text, outcomes) = typed("ab", &keys, 2);
        assert_eq!(text, "ay");
        assert_eq!(outcomes, [EditOutcome::Refused, EditOutcome::Erased, EditOutcome::Typed]);
    }

    #[test]
    fn control_characters_are_refused() {
        let keys = [Action::Type('\t'), Action::Type('\n'), Action::Type('\u{7f}'), Action::Type('\u{1b}')];
        let (text, outcomes) = typed("a", &keys, 200);
        assert_eq!(text, "a");
        assert!(outcomes.iter().all(|o| *o == EditOutcome::Refused), "{outcomes:?}");
    }

    #[test]
    fn backspace_on_empty_text_leaves_it_empty() {
        let (text, outcomes) = typed("", &[Action::Backspace, Action::Backspace], 200);
        assert_eq!(text, "");
        assert_eq!(outcomes, [EditOutcome::Erased, EditOutcome::Erased]);
    }

    #[test]
    fn backspace_removes_one_character_not_one_byte() {
        let (text, _) = typed("añ", &[Action::Backspace], 200);
        assert_eq!(text, "a");
    }

    #[test]
    fn enter_and_other_keys_are_reported_and_leave_the_text_alone() {
        let (text, outcomes) = typed("30s", &[Action::Enter, Action::Up, Action::Toggle], 200);
        assert_eq!(text, "30s");
        assert_eq!(outcomes, [EditOutcome::Enter, EditOutcome::Other, EditOutcome::Other]);
    }
}
