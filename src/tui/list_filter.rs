//! The filter over a list of names (profiles, result runs): the text typed, whether it is
//! still being typed, which rows it keeps, and what keys do while it is typed. Plain data;
//! it imports only `action` and `edit`.

use super::action::Action;
use super::edit::{EditOutcome, SHORT_FIELD_CHARS, edit_text};

/// A case-insensitive substring filter. The list owns its rows and its selection (an index
/// into the rows the filter keeps); the filter is handed both when it needs them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// The text typed (case is ignored when matching); empty keeps every row.
    pub text: String,
    /// True while keys type into the filter rather than move around the screen.
    pub editing: bool,
    /// The cursor in `text` (a filter is never prefilled: typing goes on from its end).
    pub caret: super::edit::Caret,
}

impl ListFilter {
    /// Whether the filter keeps a row with this name.
    pub fn matches(&self, name: &str) -> bool {
        name.to_lowercase().contains(&self.text.to_lowercase())
    }

    /// Positions of the names the filter keeps, in list order.
    pub fn visible<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Vec<usize> {
        names.into_iter().enumerate().filter(|(_, name)| self.matches(name)).map(|(i, _)| i).collect()
    }

    /// Esc or `q` while typing: drops the filter and goes back to the top of the full list.
    /// False when the filter was not being typed, so the key can close something else.
    pub fn cancel(&mut self, selected: &mut usize) -> bool {
        if !self.editing {
            return false;
        }
        self.editing = false;
        self.text.clear();
        *selected = 0;
        true
    }

    /// A key while the filter is typed: characters and Backspace edit it, Enter keeps it and
    /// stops typing, Up and Down move `selected` among the rows still shown. Afterwards
    /// `selected` points at a shown row (or 0 when none is), since a longer filter may
    /// have hidden the one it pointed at. False for any other key, which changes nothing.
    pub fn key<'a>(
        &mut self,
        action: &Action,
        names: impl IntoIterator<Item = &'a str>,
        selected: &mut usize,
    ) -> bool {
        match edit_text(&mut self.text, &mut self.caret, action, SHORT_FIELD_CHARS) {
            EditOutcome::Typed | EditOutcome::Erased | EditOutcome::Moved | EditOutcome::Refused => {}
            EditOutcome::Enter => self.editing = false,
            EditOutcome::Other => match action {
                Action::Up => *selected = selected.saturating_sub(1),
                Action::Down => *selected = selected.saturating_add(1),
                _ => return false,
            },
        }
        let shown = self.visible(names).len();
        *selected = (*selected).min(shown.saturating_sub(1));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 4] = ["smoke", "Throughput", "soak", "THRESHOLDS"];

    fn typing(text: &str) -> ListFilter {
        ListFilter { text: text.into(), editing: true, ..Default::default() }
    }

    #[test]
    fn matching_ignores_case_on_both_sides() {
        assert_eq!(typing("thr").visible(NAMES), [1, 3]);
        assert_eq!(typing("THR").visible(NAMES), [1, 3]);
        assert!(typing("oUgH").matches("Throughput"));
        assert!(!typing("smoke").matches("soak"));
    }

    #[test]
    fn an_empty_filter_keeps_every_row() {
        assert_eq!(ListFilter::default().visible(NAMES), [0, 1, 2, 3]);
    }

    #[test]
    fn the_selection_is_clamped_when_the_filter_narrows() {
        let mut filter = typing("");
        let mut selected = 3;
        assert!(filter.key(&Action::Type('t'), NAMES, &mut selected));
        // "t" keeps Throughput and THRESHOLDS: the fourth row is gone, the last shown is chosen.
        assert_eq!(selected, 1);
        assert!(filter.key(&Action::Type('x'), NAMES, &mut selected));
        assert_eq!(filter.visible(NAMES), Vec::<usize>::new());
        assert_eq!(selected, 0);
    }

    #[test]
    fn up_and_down_stay_within_the_rows_shown() {
        let mut filter = typing("s");
        let mut selected = 0;
        for _ in 0..5 {
            filter.key(&Action::Down, NAMES, &mut selected);
        }
        // "s" keeps smoke, soak and THRESHOLDS.
        assert_eq!(selected, 2);
        for _ in 0..5 {
            filter.key(&Action::Up, NAMES, &mut selected);
        }
        assert_eq!(selected, 0);
    }

    #[test]
    fn enter_keeps_the_text_and_stops_typing() {
        let mut filter = typing("so");
        let mut selected = 0;
        assert!(filter.key(&Action::Enter, NAMES, &mut selected));
        assert!(!filter.editing);
        assert_eq!(filter.text, "so");
    }

    #[test]
    fn typing_uses_the_edit_rules() {
        let mut filter = typing("");
        let mut selected = 0;
        for key in [Action::Type('s'), Action::Type('\t'), Action::Type('o'), Action::Backspace] {
            assert!(filter.key(&key, NAMES, &mut selected));
        }
        assert_eq!(filter.text, "s");
        for _ in 0..SHORT_FIELD_CHARS + 10 {
            filter.key(&Action::Type('a'), NAMES, &mut selected);
        }
        assert_eq!(filter.text.chars().count(), SHORT_FIELD_CHARS);
    }

    #[test]
    fn other_keys_are_left_to_the_screen() {
        let mut filter = typing("so");
        let mut selected = 1;
        assert!(!filter.key(&Action::Toggle, NAMES, &mut selected));
        assert_eq!((filter.text.as_str(), filter.editing, selected), ("so", true, 1));
    }

    #[test]
    fn cancel_clears_the_filter_and_returns_to_the_top() {
        let mut filter = typing("so");
        let mut selected = 1;
        assert!(filter.cancel(&mut selected));
        assert_eq!((filter.text.as_str(), filter.editing, selected), ("", false, 0));
        // Not typing: nothing to cancel, so the caller closes something else.
        let mut kept = ListFilter { text: "so".into(), editing: false, ..Default::default() };
        assert!(!kept.cancel(&mut selected));
        assert_eq!(kept.text, "so");
    }
}
