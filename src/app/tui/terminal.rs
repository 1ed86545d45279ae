//! Putting the terminal into raw mode + alternate screen and always taking it back out:
//! on return, on error, on a panic of the UI thread (the hook), and on SIGTERM (the loop).

use std::io::{self, Stdout};
use std::thread::{self, ThreadId};

use crossterm::execute;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Raw mode, alternate screen, hidden cursor. Restores what it changed if a later step fails.
pub fn enter() -> io::Result<Term> {
    enable_raw_mode()?;
    let setup = execute!(io::stdout(), EnterAlternateScreen, crossterm::cursor::Hide)
        .and_then(|()| Terminal::new(CrosstermBackend::new(io::stdout())));
    if setup.is_err() {
        restore();
    }
    setup
}

/// Leaves the alternate screen, shows the cursor, turns raw mode off. Safe to call twice.
pub fn restore() {
    // Each step is best effort: a failure of one must not stop the others.
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, crossterm::cursor::Show);
}

/// A panic on the UI thread restores the terminal before the message is printed. A panic in a
/// background task is logged instead (printing would garble the screen); its task reports the
/// failure through the UI.
pub fn install_panic_hook() {
    let ui_thread: ThreadId = thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if thread::current().id() == ui_thread {
            restore();
            previous(info);
        } else {
            tracing::error!("a background task panicked: {info}");
        }
    }));
}
