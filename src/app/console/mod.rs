//! The headless console of `run`: one owner of the terminal for the progress line, the
//! events and the end summary, so an event never lands on the progress line and nothing
//! is said twice. A terminal gets the progress line cut to its width and redrawn in place
//! (`\r` + clear to the end of the line), events on their own lines above it; anything
//! else (a pipe, a file, CI) gets plain lines, at most one progress line a second.
//! Warnings and errors go to stderr, everything else to stdout. Imports `experiment`'s
//! events and `metrics`' snapshot and summary types only.

mod events;
mod summary;
mod text;

use std::collections::HashSet;
use std::io::Write;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use crate::experiment::Event;
use crate::metrics::Snapshot;
use crate::metrics::summary::RunSummary;

pub use summary::verdict_line;
pub use text::terminal_width;

/// How much `run` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    /// The final verdict line only (warnings and errors still go to stderr).
    Quiet,
    /// Progress, events, the end table and a short summary.
    Normal,
    /// Also the details: validity, like for like, connects, generators, notes.
    Verbose,
}

/// Where the console writes and how: a terminal (of `width` columns, `None` to ask the
/// terminal each time) or plain lines.
#[derive(Clone, Copy, Debug)]
pub struct Mode {
    pub terminal: bool,
    pub width: Option<usize>,
    pub verbosity: Verbosity,
}

impl Mode {
    /// The real stdout: a terminal or not, its width from `COLUMNS`, then the terminal.
    pub fn detect(verbosity: Verbosity) -> Mode {
        use std::io::IsTerminal;
        Mode { terminal: std::io::stdout().is_terminal(), width: None, verbosity }
    }
}

/// Progress lines closer together than this are not printed to a pipe (a phase change
/// can publish two snapshots within a second).
const PLAIN_PROGRESS_EVERY: Duration = Duration::from_millis(950);

/// The first request errors are shown; the failures CSVs have every one.
const REQUEST_ERRORS_SHOWN: usize = 5;

pub struct Console<O: Write, E: Write> {
    out: O,
    err: E,
    mode: Mode,
    /// The progress line as last drawn on a terminal (cut to the width), if one is up.
    progress: Option<String>,
    last_plain_progress: Option<Instant>,
    /// Every message printed so far, so the end summary does not repeat one.
    printed: HashSet<String>,
    request_errors_shown: usize,
}

impl Console<std::io::Stdout, std::io::Stderr> {
    pub fn stdio(mode: Mode) -> Self {
        Console::new(std::io::stdout(), std::io::stderr(), mode)
    }
}

impl<O: Write, E: Write> Console<O, E> {
    pub fn new(out: O, err: E, mode: Mode) -> Self {
        Console {
            out,
            err,
            mode,
            progress: None,
            last_plain_progress: None,
            printed: HashSet::new(),
            request_errors_shown: 0,
        }
    }

    fn width(&self) -> usize {
        self.mode.width.unwrap_or_else(terminal_width)
    }

    fn quiet(&self) -> bool {
        self.mode.verbosity == Verbosity::Quiet
    }

    /// A line on stdout, above the progress line (not with `--quiet`).
    pub fn line(&mut self, text: &str) {
        if self.quiet() {
            return;
        }
        self.printed.insert(text.trim().to_string());
        self.clear_progress();
        let lines = if self.mode.terminal { text::wrap(text, self.width()) } else { vec![text.to_string()] };
        for line in lines {
            // A closed stdout must not stop the run: its results are written to files.
            let _ = writeln!(self.out, "{line}");
        }
        self.redraw_progress();
    }

    /// A warning or error on stderr, in every mode.
    pub fn warn(&mut self, text: &str) {
        self.printed.insert(text.trim().to_string());
        self.clear_progress();
        // As for stdout: nothing measured depends on stderr being open.
        let _ = writeln!(self.err, "{text}");
        let _ = self.err.flush();
        self.redraw_progress();
    }

    /// The one line `--quiet` keeps.
    pub fn verdict(&mut self, text: &str) {
        self.clear_progress();
        self.progress = None;
        let lines = if self.mode.terminal { text::wrap(text, self.width()) } else { vec![text.to_string()] };
        // A closed stdout loses the line, not the verdict: the exit code and the summary carry it.
        let _ = writeln!(self.out, "{}", lines.join("\n"));
        let _ = self.out.flush();
    }

    pub fn progress(&mut self, line: String) {
        if self.quiet() {
            return;
        }
        if self.mode.terminal {
            let cut = text::cut(&line, self.width().saturating_sub(1));
            // Progress is redrawn every second and nothing measured depends on stdout being open.
            let _ = write!(self.out, "\r{cut}\x1b[K");
            let _ = self.out.flush();
            self.progress = Some(cut);
        } else if self.last_plain_progress.is_none_or(|t| t.elapsed() >= PLAIN_PROGRESS_EVERY) {
            self.last_plain_progress = Some(Instant::now());
            // As above: the next progress line replaces this one; the results are in files.
            let _ = writeln!(self.out, "{line}");
        }
    }

    /// Takes the progress line down for good (the run is over).
    pub fn end_progress(&mut self) {
        self.clear_progress();
        self.progress = None;
    }

    fn clear_progress(&mut self) {
        if self.progress.is_some() {
            // Only terminal cosmetics: a closed stdout has no progress line left to clear.
            let _ = write!(self.out, "\r\x1b[K");
            let _ = self.out.flush();
        }
    }

    fn redraw_progress(&mut self) {
        if let Some(line) = &self.progress {
            // Only terminal cosmetics: the line is drawn again on the next tick.
            let _ = write!(self.out, "\r{line}\x1b[K");
        }
        // As above: a failed flush loses screen output, never results.
        let _ = self.out.flush();
    }

    pub fn event(&mut self, event: &Event) {
        match events::describe(event) {
            events::Said::Line(text) => self.line(&text),
            events::Said::Lines(lines) => lines.iter().for_each(|l| self.line(l)),
            events::Said::Warning(text) => self.warn(&text),
            events::Said::RequestError(text) => {
                if self.request_errors_shown < REQUEST_ERRORS_SHOWN {
                    self.line(&format!("  ! {text}"));
                } else if self.request_errors_shown == REQUEST_ERRORS_SHOWN {
                    self.line("  ! (more errors: see the failures CSVs and the end summary)");
                }
                self.request_errors_shown += 1;
            }
            events::Said::Nothing => {}
        }
    }

    /// The end table, the short summary (and with `--verbose` the details), then the
    /// verdict as the last line.
    pub fn summary(&mut self, run: &RunSummary, dir: &std::path::Path) {
        self.end_progress();
        let view =
            summary::View { run, width: self.width(), verbose: self.mode.verbosity == Verbosity::Verbose };
        for line in summary::lines(&view, &self.printed) {
            self.line(&line);
        }
        self.line(&format!("results: {}", dir.display()));
    }
}

/// Prints events and progress until the run drops both senders. Events first, so a
/// phase's end is never drawn after the next phase's progress.
pub async fn follow<O: Write, E: Write>(
    console: &mut Console<O, E>,
    mut events: mpsc::Receiver<Event>,
    mut snapshots: watch::Receiver<Snapshot>,
) {
    let (mut events_open, mut snapshots_open) = (true, true);
    while events_open || snapshots_open {
        tokio::select! {
            biased;
            event = events.recv(), if events_open => match event {
                Some(event) => console.event(&event),
                None => events_open = false,
            },
            changed = snapshots.changed(), if snapshots_open => match changed {
                Ok(()) => {
                    let line = events::progress_line(&snapshots.borrow_and_update());
                    console.progress(line);
                }
                Err(_) => snapshots_open = false,
            },
        }
    }
    console.end_progress();
}

#[cfg(test)]
mod tests;
