//! Styles for every screen. Text uses the 8 basic ANSI colours plus bold/dim/reverse, never a
//! fixed foreground like white or black, so it reads on dark and light terminals. What a run
//! measured (p50/p95/p99, throughput, failures, steering changes, faults) is drawn in the one
//! palette of [`crate::palette`], as the PNG charts and the HTML report are, so a colour means
//! the same thing everywhere and failures are the only red. With colour off (`NO_COLOR`)
//! meaning is carried by modifiers, symbols (✓ ✗ ▶) and chart markers.

use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;

use crate::palette::{self, Rgb};

/// What a drawn value stands for; each role has one colour of [`crate::palette`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    P50,
    P95,
    P99,
    Throughput,
    Failure,
    Change,
    Fault,
}

impl Role {
    fn rgb(self) -> Rgb {
        match self {
            Role::P50 => palette::P50,
            Role::P95 => palette::P95,
            Role::P99 => palette::P99,
            Role::Throughput => palette::THROUGHPUT,
            Role::Failure => palette::FAILURE,
            Role::Change => palette::CHANGE,
            Role::Fault => palette::FAULT,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub const fn new(color: bool) -> Self {
        Self { color }
    }

    fn fg(self, color: Color) -> Style {
        if self.color { Style::new().fg(color) } else { Style::new() }
    }

    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn accent(self) -> Style {
        self.fg(Color::Cyan)
    }
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    pub fn focused_border(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    pub fn border(self) -> Style {
        Style::new()
    }
    pub fn ok(self) -> Style {
        self.fg(Color::Green)
    }
    /// Failures, failed thresholds and verdicts: the palette's one red.
    pub fn bad(self) -> Style {
        self.role(Role::Failure).add_modifier(Modifier::BOLD)
    }
    pub fn warn(self) -> Style {
        self.fg(Color::Yellow)
    }
    pub fn dim(self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }
    pub fn key(self) -> Style {
        self.fg(Color::Magenta).add_modifier(Modifier::BOLD)
    }
    pub fn header(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    /// The palette's colour of what a value stands for (a chart line, a table column).
    pub fn role(self, role: Role) -> Style {
        let (r, g, b) = role.rgb();
        self.fg(Color::Rgb(r, g, b))
    }

    /// Without colour, lines are told apart by their marker.
    pub fn marker(self, index: usize) -> Marker {
        if self.color { Marker::Braille } else { [Marker::Braille, Marker::Dot, Marker::Block][index % 3] }
    }
}
