//! ratatui screens and widgets: state, key → action → command, and pure rendering.
//! No I/O and no spawning here; `app::tui` performs commands.
