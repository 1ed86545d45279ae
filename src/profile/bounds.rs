//! The bounds of the server settings a profile, a flag or `/configure` may set. One
//! definition: profile parsing, the command-line overrides and the mock's `/configure` all
//! call these checks, so a value the tool accepts before a run is one its own mock takes.
//! Each check returns the value or, as `Err`, what is allowed (for the caller's message).
//! The run-wide limits (timeouts, generators) are here too, read by `experiment::settings`.

/// Upper bound of every millisecond setting (latency, per-resource time, jitter, a stall):
/// ten minutes, far past any client timeout.
pub const MAX_SETTING_MS: f64 = 600_000.0;
/// Upper bound of `workers` and `max_concurrent`.
pub const MAX_SLOTS: u64 = 1_000_000;
/// Upper bound of the dedup TTL: 30 days.
pub const MAX_DEDUP_TTL_S: u64 = 30 * 24 * 3600;

/// The longest request or connect timeout a run may set (`--timeout`, the TUI's timeout).
pub const MAX_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);
/// The most generator tasks one distributed run asks Swarm for (`--distributed`, the TUI's
/// generators): each is a Swarm task with its own connections.
pub const MAX_GENERATORS: u32 = 256;

/// `latency_ms`, `per_resource_ms`, `jitter_ms`, `stall_ms`.
pub fn check_millis(ms: f64) -> Result<f64, String> {
    if ms.is_finite() && (0.0..=MAX_SETTING_MS).contains(&ms) {
        Ok(ms)
    } else {
        Err(format!("a number of milliseconds in [0, {MAX_SETTING_MS}]"))
    }
}

/// `failure_rate`: a share.
pub fn check_ratio(share: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&share) { Ok(share) } else { Err("a number in [0, 1]".into()) }
}

/// `workers`, `max_concurrent` (0 = off).
pub fn check_slots(n: u64) -> Result<u64, String> {
    if n <= MAX_SLOTS { Ok(n) } else { Err(format!("a whole number in [0, {MAX_SLOTS}]")) }
}

/// `dedup_ttl_s`.
pub fn check_dedup_ttl_s(seconds: u64) -> Result<u64, String> {
    if (1..=MAX_DEDUP_TTL_S).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(format!("a whole number in [1, {MAX_DEDUP_TTL_S}]"))
    }
}

/// A number as a person wrote it, near enough: `1e300`, not three hundred digits.
pub fn shown(v: f64) -> String {
    if v.is_finite() && v.abs() >= 1e9 { format!("{v:e}") } else { v.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounds_are_inclusive_and_refuse_what_is_not_a_number() {
        assert_eq!(check_millis(0.0), Ok(0.0));
        assert_eq!(check_millis(MAX_SETTING_MS), Ok(MAX_SETTING_MS));
        for bad in [-1.0, MAX_SETTING_MS + 1.0, 1e300, f64::NAN, f64::INFINITY] {
            assert_eq!(check_millis(bad), Err("a number of milliseconds in [0, 600000]".into()), "{bad}");
        }
        assert!(check_ratio(1.0).is_ok() && check_ratio(1.01).is_err() && check_ratio(f64::NAN).is_err());
        assert!(check_slots(MAX_SLOTS).is_ok() && check_slots(MAX_SLOTS + 1).is_err());
        assert!(check_dedup_ttl_s(0).is_err() && check_dedup_ttl_s(MAX_DEDUP_TTL_S).is_ok());
    }
}
