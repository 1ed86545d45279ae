//! Pure measurement data: latency histograms, per-second snapshots, phase and run
//! summaries (the `experiment_summary.json` schema) and the hlog format.
//! A leaf: imports nothing from the rest of the crate.

mod histogram;
pub mod hlog;
mod snapshot;
pub mod summary;

pub use histogram::{LOCUST_QUANTILES, LatencyHistogram};
pub use snapshot::{FailureKind, NameRow, ResourceSample, ServerCounters, Snapshot};
