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
    /// The median latency line or column.
    P50,
    /// The 95th percentile latency.
    P95,
    /// The 99th percentile latency.
    P99,
    /// Requests per second.
    Throughput,
    /// Failures: the palette's only red.
    Failure,
    /// A steering change (users or rate changed mid-phase).
    Change,
    /// An injected fault (the server told to be slow or to fail).
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

/// The styles every screen draws with; copied freely (one flag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    /// False when colour is off (`NO_COLOR` or not a terminal): styles keep only modifiers.
    pub color: bool,
}

impl Theme {
    /// A theme with colour on or off.
    pub const fn new(color: bool) -> Self {
        Self { color }
    }

    fn fg(self, color: Color) -> Style {
        if self.color { Style::new().fg(color) } else { Style::new() }
    }

    /// Screen and pane titles: bold cyan.
    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    /// Text to notice that is not a title (values being edited or chosen): cyan.
    pub fn accent(self) -> Style {
        self.fg(Color::Cyan)
    }
    /// The selected row of a list: reversed, which reads on any background.
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
    /// The border of the pane that takes the arrow keys: bold cyan.
    pub fn focused_border(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    /// The border of the other panes: the terminal's default.
    pub fn border(self) -> Style {
        Style::new()
    }
    /// Success (Docker connected, a healthy target, a passed check): green.
    pub fn ok(self) -> Style {
        self.fg(Color::Green)
    }
    /// Failures, failed thresholds and verdicts: the palette's one red.
    pub fn bad(self) -> Style {
        self.role(Role::Failure).add_modifier(Modifier::BOLD)
    }
    /// Warnings and work in progress (connecting, busy): yellow.
    pub fn warn(self) -> Style {
        self.fg(Color::Yellow)
    }
    /// Secondary text (hints, units, empty values): dim.
    pub fn dim(self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }
    /// Key names in hints and the help overlay, and buttons: bold magenta.
    pub fn key(self) -> Style {
        self.fg(Color::Magenta).add_modifier(Modifier::BOLD)
    }
    /// Table headers: bold and underlined.
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
