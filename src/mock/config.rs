//! `MockConfig` (the server's knobs) and the validated `/configure` patch that changes them.
//! Pure data and validation: imports serde/serde_json and the one `FailureMode` / `Jitter`
//! of `profile` (the same enums a profile's server settings and the TUI use).

use std::time::Duration;

use serde_json::{Value, json};

pub use crate::profile::{FailureMode, Jitter};

// The bounds are `profile::bounds`: the same checks refuse a profile or a flag before a run.
use crate::profile::bounds;

/// The server's settings. `Default` is the seed's mock: 50 ms, no failures, in-memory
/// dedup, no backpressure, unlimited workers.
#[derive(Clone, Debug, PartialEq)]
pub struct MockConfig {
    /// Base simulated processing time per failure.
    pub latency_ms: f64,
    /// Added per Terraform resource of the failure's repository (small 5–15, medium
    /// 50–100, large 300–500 resources): 0.5 ms makes a large repository ~200 ms slower.
    /// 0 by default, so `latency_ms` is the whole simulated time (the seed's meaning of
    /// `MOCK_LATENCY_MS`); profiles that study repository size set it.
    pub per_resource_ms: f64,
    /// How the processing time varies around its base.
    pub jitter: Jitter,
    /// Scale of the jitter (ms): the range of a uniform draw, the mean of an exponential one.
    pub jitter_ms: f64,
    /// Share of failures answered with an injected error, in [0, 1].
    pub failure_rate: f64,
    /// What an injected failure looks like.
    pub failure_mode: FailureMode,
    /// Backpressure: failures in processing before new ones get 429 (0 = off).
    pub max_concurrent: u32,
    /// Processing slots; failures past it queue (0 = unlimited). 1 reproduces the seed.
    pub workers: u32,
    /// `/batch` processes its items concurrently instead of one after another.
    pub batch_parallel: bool,
    /// How long a claimed failure hash counts as a duplicate.
    pub dedup_ttl_s: u64,
    /// Dedup in Redis at this URL instead of memory.
    pub redis_url: Option<String>,
    /// Most hashes the in-memory store keeps (oldest go first past it): bounds memory.
    pub memory_dedup_capacity: usize,
    /// How long shutdown waits for in-flight requests before dropping them.
    pub drain_timeout: Duration,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            latency_ms: 50.0,
            per_resource_ms: 0.0,
            jitter: Jitter::None,
            jitter_ms: 0.0,
            failure_rate: 0.0,
            failure_mode: FailureMode::Error500,
            max_concurrent: 0,
            workers: 0,
            batch_parallel: false,
            dedup_ttl_s: 3600,
            redis_url: None,
            memory_dedup_capacity: 1_000_000,
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// A `/configure` request that cannot be applied; nothing was changed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// The body is JSON but not an object; the text names what it is (`an array`, …).
    #[error("body must be a JSON object of settings, got {0}")]
    NotAnObject(&'static str),
    /// A key that is not a setting; the text is the key.
    #[error("unknown setting `{0}`; known settings: {KNOWN}")]
    UnknownKey(String),
    /// A known key with a value out of range or of the wrong type.
    #[error("invalid `{field}`: {problem}; allowed: {allowed}")]
    Invalid {
        /// The key.
        field: &'static str,
        /// What is wrong with the value.
        problem: String,
        /// What it may be.
        allowed: String,
    },
}

const KNOWN: &str = "latency_ms, per_resource_ms, jitter, jitter_ms, failure_rate, failure_mode, \
                     max_concurrent, workers, batch_parallel, dedup_ttl_s, stall_ms";

/// What a valid `/configure` body asks for: the new settings and an optional one-shot stall.
#[derive(Debug, Clone, PartialEq)]
pub struct Reconfigure {
    pub config: MockConfig,
    pub stall: Option<Duration>,
}

impl MockConfig {
    /// Checks the settings a caller built by hand (the same rules as `/configure`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut patch = self.to_json();
        if let Value::Object(map) = &mut patch {
            map.remove("jitter");
            map.remove("failure_mode");
        }
        self.apply(&patch).map(|_| ())
    }

    /// Applies a `/configure` body to a copy of this config. All or nothing.
    pub fn apply(&self, patch: &Value) -> Result<Reconfigure, ConfigError> {
        let map = match patch {
            Value::Object(map) => map,
            other => return Err(ConfigError::NotAnObject(super::payload::json_kind(other))),
        };
        let mut next = self.clone();
        let mut stall = None;
        for (key, value) in map {
            match key.as_str() {
                "latency_ms" => next.latency_ms = millis(value, "latency_ms")?,
                "per_resource_ms" => next.per_resource_ms = millis(value, "per_resource_ms")?,
                "jitter_ms" => next.jitter_ms = millis(value, "jitter_ms")?,
                "stall_ms" => stall = Some(Duration::from_secs_f64(millis(value, "stall_ms")? / 1000.0)),
                "failure_rate" => next.failure_rate = ratio(value, "failure_rate")?,
                "jitter" => {
                    next.jitter = named(value, "jitter", Jitter::NAMES, Jitter::parse)?;
                }
                "failure_mode" => {
                    next.failure_mode = named(value, "failure_mode", FailureMode::NAMES, FailureMode::parse)?;
                }
                "max_concurrent" => {
                    next.max_concurrent = whole(value, "max_concurrent", bounds::check_slots)? as u32
                }
                "workers" => next.workers = whole(value, "workers", bounds::check_slots)? as u32,
                "dedup_ttl_s" => next.dedup_ttl_s = whole(value, "dedup_ttl_s", bounds::check_dedup_ttl_s)?,
                "batch_parallel" => {
                    next.batch_parallel = value.as_bool().ok_or_else(|| ConfigError::Invalid {
                        field: "batch_parallel",
                        problem: format!("expected a boolean, got {value}"),
                        allowed: "true or false".into(),
                    })?;
                }
                other => return Err(ConfigError::UnknownKey(other.to_string())),
            }
        }
        Ok(Reconfigure { config: next, stall })
    }

    /// The settings `/configure` accepts, as `/configure` and `/status` report them.
    pub fn to_json(&self) -> Value {
        json!({
            "latency_ms": self.latency_ms,
            "per_resource_ms": self.per_resource_ms,
            "jitter": self.jitter.as_str(),
            "jitter_ms": self.jitter_ms,
            "failure_rate": self.failure_rate,
            "failure_mode": self.failure_mode.as_str(),
            "max_concurrent": self.max_concurrent,
            "workers": self.workers,
            "batch_parallel": self.batch_parallel,
            "dedup_ttl_s": self.dedup_ttl_s,
        })
    }
}

/// A number checked by one of `bounds`' checks; the check's `Err` says what is allowed.
fn number(
    value: &Value,
    field: &'static str,
    check: fn(f64) -> Result<f64, String>,
    what: &str,
) -> Result<f64, ConfigError> {
    // Any check refuses NaN; it only finds out what is allowed.
    let checked = value.as_f64().map_or_else(|| check(f64::NAN), check);
    checked.map_err(|allowed| ConfigError::Invalid {
        field,
        problem: format!("{value} is out of range or not {what}"),
        allowed,
    })
}

fn millis(value: &Value, field: &'static str) -> Result<f64, ConfigError> {
    number(value, field, bounds::check_millis, "a number")
}

fn ratio(value: &Value, field: &'static str) -> Result<f64, ConfigError> {
    number(value, field, bounds::check_ratio, "a number")
}

fn whole(
    value: &Value,
    field: &'static str,
    check: fn(u64) -> Result<u64, String>,
) -> Result<u64, ConfigError> {
    let checked = match value.as_u64() {
        Some(n) => check(n),
        // u64::MAX is past every bound, so its refusal says what is allowed.
        None => Err(check(u64::MAX).err().unwrap_or_default()),
    };
    checked.map_err(|allowed| ConfigError::Invalid {
        field,
        problem: format!("{value} is out of range or not a whole number"),
        allowed,
    })
}

fn named<T>(
    value: &Value,
    field: &'static str,
    names: &'static str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, ConfigError> {
    value.as_str().and_then(parse).ok_or_else(|| ConfigError::Invalid {
        field,
        problem: format!("{value} is not a known value"),
        allowed: names.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_seeds_and_valid() {
        let c = MockConfig::default();
        assert_eq!(c.latency_ms, 50.0);
        assert_eq!(c.failure_rate, 0.0);
        assert_eq!((c.workers, c.max_concurrent), (0, 0));
        assert!(c.redis_url.is_none());
        c.validate().unwrap();
    }

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let c = MockConfig::default();
        let r = c.apply(&json!({"latency_ms": 5, "failure_mode": "hang", "stall_ms": 100})).unwrap();
        assert_eq!(r.config.latency_ms, 5.0);
        assert_eq!(r.config.failure_mode, FailureMode::Hang);
        assert_eq!(r.config.per_resource_ms, c.per_resource_ms);
        assert_eq!(r.stall, Some(Duration::from_millis(100)));
    }

    #[test]
    fn bad_patches_name_the_problem() {
        let c = MockConfig::default();
        let err = c.apply(&json!({"latency_ms": 1, "latencyms": 5})).unwrap_err();
        assert_eq!(err, ConfigError::UnknownKey("latencyms".into()));
        let err = c.apply(&json!({"failure_rate": 1.5})).unwrap_err().to_string();
        assert!(err.contains("failure_rate") && err.contains("[0, 1]"), "{err}");
        let err = c.apply(&json!({"jitter": "gaussian"})).unwrap_err().to_string();
        assert!(err.contains("jitter") && err.contains("exponential"), "{err}");
        let err = c.apply(&json!({"workers": -1})).unwrap_err().to_string();
        assert!(err.contains("workers"), "{err}");
        let err = c.apply(&json!({"latency_ms": -1})).unwrap_err().to_string();
        assert!(err.contains("latency_ms"), "{err}");
        assert!(matches!(c.apply(&json!([1])), Err(ConfigError::NotAnObject("an array"))));
    }
}
