//! Pure measurement data: latency histograms, per-second snapshots, phase and run
//! summaries (the `experiment_summary.json` schema), the hlog format, and the statistics
//! of comparing two runs.
//! A leaf: imports nothing from the rest of the crate.

#![deny(missing_docs)]

pub mod compare;
mod histogram;
pub mod hlog;
mod snapshot;
pub mod status;
pub mod summary;

pub use histogram::{LOCUST_QUANTILES, LatencyHistogram};
pub use snapshot::{FailureKind, NameRow, ResourceSample, ServerCounters, Snapshot};
