//! The one translator from run settings as a person writes them (the `run` flags, the TUI's
//! run settings pane) to the typed parts of a [`RunRequest`](super::RunRequest). Both front
//! ends call these parsers, so the same bad value gets the same reason; the limits are the
//! named constants of [`crate::profile::bounds`]. Imports `profile` only.

use std::num::NonZeroU32;
use std::time::Duration;

use crate::profile::bounds::{MAX_GENERATORS, MAX_REQUEST_TIMEOUT};
use crate::profile::{TimeScale, format_duration, parse_duration};

/// Which run setting a value was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingKey {
    /// Users of every closed-load phase.
    Users,
    /// Users started per second.
    SpawnRate,
    /// Every phase's duration.
    Duration,
    /// The factor on every duration and pause.
    TimeScale,
    /// The request timeout.
    Timeout,
    /// The connect timeout.
    ConnectTimeout,
    /// Swarm generator tasks of a distributed run.
    Generators,
    /// The run's random seed.
    Seed,
}

impl SettingKey {
    /// The setting's name as the TUI labels it.
    pub fn name(self) -> &'static str {
        match self {
            SettingKey::Users => "users",
            SettingKey::SpawnRate => "spawn rate",
            SettingKey::Duration => "duration",
            SettingKey::TimeScale => "time scale",
            SettingKey::Timeout => "timeout",
            SettingKey::ConnectTimeout => "connect timeout",
            SettingKey::Generators => "generators",
            SettingKey::Seed => "seed",
        }
    }

    /// The `run` flag that sets it.
    pub fn flag(self) -> &'static str {
        match self {
            SettingKey::Users => "--users",
            SettingKey::SpawnRate => "--spawn-rate",
            SettingKey::Duration => "--duration",
            SettingKey::TimeScale => "--time-scale",
            SettingKey::Timeout => "--timeout",
            SettingKey::ConnectTimeout => "--connect-timeout",
            SettingKey::Generators => "--distributed",
            SettingKey::Seed => "--seed",
        }
    }
}

/// A run setting refused: which one, the value as written, and what to write instead.
/// Shown as `name "value": reason` in the TUI and `--flag "value": reason` by `run`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} {}", key.name(), self.detail())]
pub struct SettingError {
    /// The setting.
    pub key: SettingKey,
    /// The value as written (trimmed).
    pub value: String,
    /// What is allowed, with an example.
    pub reason: String,
}

impl SettingError {
    fn new(key: SettingKey, value: &str, reason: impl Into<String>) -> SettingError {
        SettingError { key, value: value.trim().to_string(), reason: reason.into() }
    }

    /// The value and the reason: the same words whichever front end shows them.
    pub fn detail(&self) -> String {
        format!("{:?}: {}", self.value, self.reason)
    }

    /// As `run` says it: the flag, then [`detail`](Self::detail).
    pub fn for_flag(&self) -> String {
        format!("{} {}", self.key.flag(), self.detail())
    }
}

/// `None` for an empty text (the profile's own value), the parsed value otherwise.
pub fn optional<T>(
    text: &str,
    parse: impl FnOnce(&str) -> Result<T, SettingError>,
) -> Result<Option<T>, SettingError> {
    if text.trim().is_empty() { Ok(None) } else { parse(text).map(Some) }
}

/// Users of a closed-load phase: a whole number of at least one.
pub fn users(text: &str) -> Result<NonZeroU32, SettingError> {
    text.trim().parse::<NonZeroU32>().map_err(|_| {
        SettingError::new(
            SettingKey::Users,
            text,
            "write a whole number ≥ 1 (a phase needs at least one user)",
        )
    })
}

/// Users started per second: a number above zero.
pub fn spawn_rate(text: &str) -> Result<f64, SettingError> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(SettingError::new(SettingKey::SpawnRate, text, "write users per second above zero, e.g. 5")),
    }
}

/// A phase duration: `30s`, `5m`, `1h30m`, or whole seconds; above zero.
pub fn duration(text: &str) -> Result<Duration, SettingError> {
    let trimmed = text.trim();
    let parsed = match trimmed.parse::<u64>() {
        Ok(seconds) => Ok(Duration::from_secs(seconds)),
        Err(_) => parse_duration(trimmed),
    };
    match parsed {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(SettingError::new(
            SettingKey::Duration,
            text,
            "a phase needs a duration above zero (examples: 30s, 5m, 1h30m)",
        )),
        Err(e) => {
            Err(SettingError::new(SettingKey::Duration, text, format!("{e} (examples: 30s, 5m, 1h30m)")))
        }
    }
}

/// The time scale: a factor from [`TimeScale::MIN`] to [`TimeScale::MAX`].
pub fn time_scale(text: &str) -> Result<TimeScale, SettingError> {
    text.trim().parse::<f64>().ok().and_then(|f| TimeScale::new(f).ok()).ok_or_else(|| {
        SettingError::new(
            SettingKey::TimeScale,
            text,
            format!(
                "write a number from {} to {} (0.1 runs ten times faster)",
                TimeScale::MIN,
                TimeScale::MAX
            ),
        )
    })
}

/// A request or connect timeout: from 1 ms to [`MAX_REQUEST_TIMEOUT`].
pub fn timeout(key: SettingKey, text: &str) -> Result<Duration, SettingError> {
    parse_duration(text.trim()).ok().filter(|d| !d.is_zero() && *d <= MAX_REQUEST_TIMEOUT).ok_or_else(|| {
        SettingError::new(
            key,
            text,
            format!("write a duration from 1ms to {}, e.g. 30s", format_duration(MAX_REQUEST_TIMEOUT)),
        )
    })
}

/// Generator tasks of a distributed run: 1 to [`MAX_GENERATORS`].
pub fn generators(text: &str) -> Result<NonZeroU32, SettingError> {
    text.trim().parse::<NonZeroU32>().ok().filter(|n| n.get() <= MAX_GENERATORS).ok_or_else(|| {
        SettingError::new(
            SettingKey::Generators,
            text,
            format!(
                "write 1 to {MAX_GENERATORS} Swarm worker tasks, each with its own connections \
                 (none: this process generates the load)"
            ),
        )
    })
}

/// The seed: a whole number, or `random` (or nothing) for a new one each run.
pub fn seed(text: &str) -> Result<u64, SettingError> {
    match text.trim() {
        "" | "random" => Ok(super::random_seed()),
        t => t
            .parse()
            .map_err(|_| SettingError::new(SettingKey::Seed, text, "write a whole number, or random")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_setting_takes_its_range_and_says_why_not() {
        assert_eq!(users(" 3 ").map(NonZeroU32::get), Ok(3));
        assert_eq!(
            users("0").unwrap_err().to_string(),
            "users \"0\": write a whole number ≥ 1 (a phase needs at least one user)"
        );
        assert_eq!(duration("90").ok(), Some(Duration::from_secs(90)));
        assert!(duration("0s").is_err() && duration("soon").is_err());
        assert_eq!(timeout(SettingKey::Timeout, "1h").ok(), Some(MAX_REQUEST_TIMEOUT));
        assert_eq!(
            timeout(SettingKey::Timeout, "61m").unwrap_err().for_flag(),
            "--timeout \"61m\": write a duration from 1ms to 1h, e.g. 30s"
        );
        assert!(generators("256").is_ok() && generators("257").is_err() && generators("0").is_err());
        assert!(spawn_rate("NaN").is_err() && spawn_rate("0").is_err() && spawn_rate("0.5").is_ok());
        assert!(time_scale("1e20").is_err() && time_scale("0.1").is_ok());
        assert_eq!(seed("42"), Ok(42));
        assert_eq!(optional("  ", users), Ok(None));
    }
}
