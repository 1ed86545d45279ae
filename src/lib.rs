//! terrafix-tui: load-testing experiments against TerraFix's webhook API.
//! See ARCHITECTURE.md for the module map; `app` is the only place that wires things together.
// Every public item says what it is; clippy's -D warnings makes a missing doc an error.
#![warn(missing_docs)]
// Tests fail loudly on purpose: an unwrap there is an assertion.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod analysis;
pub mod app;
pub mod cli;
pub mod cluster;
pub mod control;
pub mod docker;
pub mod engine;
pub mod experiment;
pub mod fsio;
#[doc(hidden)]
pub mod fuzzing;
pub mod metrics;
pub mod mock;
pub mod palette;
pub mod profile;
pub mod prometheus;
pub mod report;
pub mod sys;
pub mod tui;
pub mod workload;
