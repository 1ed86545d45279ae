//! ratatui screens and widgets: state, key → action → command, and pure rendering.
//! No I/O and no spawning here; `app::tui` performs commands. Reads data types only:
//! `metrics`, `profile`, `experiment`, `analysis` (findings), `palette`, and the few value
//! types it names in commands (`engine::Steer`, `engine::tls::TlsTrust`, `docker`'s
//! `UpOptions`, `ServiceState` and `Health`, `report::chart_names`).

#![deny(missing_docs)]

pub mod action;
pub mod detail_state;
pub mod edit;
pub mod env_state;
pub mod export_state;
pub mod format;
pub mod keys;
pub mod list_filter;
pub mod quick_form;
pub mod run_state;
pub mod state;
pub mod theme;
pub mod update;
mod view;

pub use action::{Action, Command, DockerOp};
pub use keys::handle_key;
pub use state::{AppState, Screen};
pub use theme::Theme;
pub use update::update;
