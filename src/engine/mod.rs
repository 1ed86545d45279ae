//! Load generation: virtual users (closed model) and arrival schedules (open model),
//! the HTTP client, and recording into per-worker shards merged once per tick.
//! Imports `profile`, `workload` and `metrics`; knows nothing of files or UIs.

#![deny(missing_docs)]

pub mod aggregate;
mod closed;
pub mod http;
mod open;
pub mod phase;
pub mod recorder;
pub mod steer;
pub mod tls;

pub use phase::{PhaseEnd, PhaseResult, PhaseSpec, TickReport, TickSink, run_phase, run_phase_steered};
pub use steer::{Steer, SteerReceiver, SteerRefused, SteerRequest};
