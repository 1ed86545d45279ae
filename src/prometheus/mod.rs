//! A run's live figures for Prometheus: the run-wide series ([`LiveSeries`], fed once a
//! second by the phase sink), the text exposition format that `/metrics` serves, the
//! remote-write encoding (protobuf written by hand, snappy block format) and the pusher.
//! Imports `metrics` only; axum, reqwest and snap stay inside this module.

#![deny(missing_docs)]

mod remote_write;
mod series;
mod serve;
mod text;

pub use remote_write::{PushError, Pusher, encode_write_request};
pub use series::{BUCKET_BOUNDS_S, Family, FamilyKind, Gauges, LiveSeries};
pub use serve::serve;
pub use text::render;
