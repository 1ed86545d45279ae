//! Wall-clock helpers.

use std::time::Duration;

/// Seconds since the epoch, now.
pub fn unix_now_s() -> f64 {
    unix_s(std::time::SystemTime::now())
}

/// Seconds since the epoch (0 for a clock set before 1970).
pub fn unix_s(t: std::time::SystemTime) -> f64 {
    t.duration_since(std::time::UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs_f64()
}
