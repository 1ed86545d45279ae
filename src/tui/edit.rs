//! The one way a text field takes keys: filters, setting fields, the export folder, the
//! steering line and the new-run form all type, erase and finish through [`edit_text`], so
//! every field refuses control characters and stops at a length. Plain data; no I/O.

use super::action::Action;

/// Filters and short fields (numbers, durations, URLs, names): far beyond any real value,
/// yet a key held down cannot grow the text (and every redraw of it) without end.
pub const SHORT_FIELD_CHARS: usize = 200;

/// File paths and header lists: a path may be deep, and one bearer token alone can run to
/// a few thousand characters.
pub const LONG_FIELD_CHARS: usize = 4096;

/// What a key did to the text being edited. The caller decides what Enter and other keys
/// mean for its field; the text itself only ever changes here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditOutcome {
    /// A character was added.
    Typed,
    /// Backspace: the last character was removed (nothing, if the text was empty).
    Erased,
    /// A character the field does not take: a control character, or the field is full.
    Refused,
    /// Enter: the caller accepts (or checks) the text.
    Enter,
    /// Any other key; the text is untouched.
    Other,
}

/// Applies `action` to `text`, keeping it to at most `max_chars` characters (not bytes, so
/// a limit means the same for `é` as for `e`).
pub fn edit_text(text: &mut String, action: &Action, max_chars: usize) -> EditOutcome {
    match action {
        // Control characters (a pasted tab or newline) would break the one-line layouts.
        Action::Type(c) if c.is_control() => EditOutcome::Refused,
        Action::Type(_) if text.chars().count() >= max_chars => EditOutcome::Refused,
        Action::Type(c) => {
            text.push(*c);
            EditOutcome::Typed
        }
        Action::Backspace => {
            text.pop();
            EditOutcome::Erased
        }
        Action::Enter => EditOutcome::Enter,
        _ => EditOutcome::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(start: &str, keys: &[Action], max_chars: usize) -> (String, Vec<EditOutcome>) {
        let mut text = start.to_string();
        let outcomes = keys.iter().map(|k| edit_text(&mut text, k, max_chars)).collect();
        (text, outcomes)
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
