//! The YAML shapes of a profile (serde, `deny_unknown_fields`), built from the checked
//! values in `values.rs`. Cross-field checks of one mapping are `Check` impls.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::values::{
    BehaviourKey, BehaviourRef, Check, Checked, Count, Dur, NonEmpty, NonNegative, PhaseName, PosDur,
    Positive, Probability, RawArrival, RawBatchSize, check_identifier,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProfile {
    pub name: Option<String>,
    #[serde(default)]
    pub description: String,
    pub pause_between_phases: Option<Dur>,
    #[serde(default)]
    pub lockstep_start: bool,
    #[serde(default)]
    pub fail_on_request_errors: bool,
    #[serde(default)]
    pub thresholds: RawThresholds,
    #[serde(default)]
    pub behaviours: BTreeMap<BehaviourKey, RawBehaviour>,
    pub phases: Option<NonEmpty<Checked<RawPhase>>>,
    pub capacity: Option<Checked<RawCapacity>>,
    /// Extra request headers; values may hold `${VAR}`.
    pub headers: Option<Checked<RawHeaders>>,
    pub request_timeout: Option<PosDur>,
    pub connect_timeout: Option<PosDur>,
    pub configure_target: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub(crate) struct RawHeaders(pub BTreeMap<String, String>);

impl Check for RawHeaders {
    fn check(&self) -> Result<(), String> {
        for (name, value) in &self.0 {
            super::headers::check_name(name).map_err(|e| format!("headers: {e}"))?;
            super::headers::expand_env(value).map_err(|e| format!("headers: {name}: {e}"))?;
        }
        Ok(())
    }
}

impl Check for RawProfile {
    fn check(&self) -> Result<(), String> {
        if self.phases.is_none() && self.capacity.is_none() {
            return Err("no `phases:` (and no `capacity:` search); add a list of phases".into());
        }
        Ok(())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawThresholds {
    pub p95_ms: Option<Positive>,
    pub p99_ms: Option<Positive>,
    pub error_rate: Option<Probability>,
    pub min_rps: Option<Positive>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBehaviour {
    pub wait: Option<RawWait>,
    pub tasks: NonEmpty<Checked<RawTask>>,
}

/// `wait:` — `cascade`, or a one-entry mapping such as `{constant_pacing: 1s}`.
#[derive(Debug)]
pub(crate) enum RawWait {
    Constant(Dur),
    Between(Checked<RawBetween>),
    ConstantPacing(PosDur),
    /// Tasks per second per user.
    ConstantThroughput(Positive),
    Cascade,
}

const WAIT_KINDS: &str = "constant, between, constant_pacing, constant_throughput, cascade";

impl<'de> Deserialize<'de> for RawWait {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawWait;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "a wait strategy: `cascade` or one of {{constant: 1s}}, {{between: {{min: 1s, max: 3s}}}}, {{constant_pacing: 1s}}, {{constant_throughput: 2}}"
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawWait, E> {
                match v {
                    "cascade" => Ok(RawWait::Cascade),
                    other => Err(E::custom(format!(
                        "wait `{other}` needs a value, e.g. {{{other}: 1s}}; strategies: {WAIT_KINDS}"
                    ))),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawWait, A::Error> {
                let Some(kind) = map.next_key::<String>()? else {
                    return Err(de::Error::custom(format!("empty wait; use one of {WAIT_KINDS}")));
                };
                let wait = match kind.as_str() {
                    "constant" => RawWait::Constant(map.next_value()?),
                    "between" => RawWait::Between(map.next_value()?),
                    "constant_pacing" => RawWait::ConstantPacing(map.next_value()?),
                    "constant_throughput" => RawWait::ConstantThroughput(map.next_value()?),
                    "cascade" => {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        RawWait::Cascade
                    }
                    other => {
                        return Err(de::Error::custom(format!(
                            "unknown wait strategy `{other}`, expected one of {WAIT_KINDS}"
                        )));
                    }
                };
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "a wait has exactly one strategy; remove `{extra}` or `{kind}`"
                    )));
                }
                Ok(wait)
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBetween {
    pub min: Dur,
    pub max: Dur,
}

impl Check for RawBetween {
    fn check(&self) -> Result<(), String> {
        if self.min.0 > self.max.0 {
            return Err("`min` is longer than `max`; swap them".into());
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RawKind {
    Webhook,
    Duplicate,
    Batch,
    Health,
    Status,
    HealthAndStatus,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTask {
    pub kind: RawKind,
    pub weight: Option<Count>,
    pub name: Option<String>,
    pub size: Option<RawBatchSize>,
}

impl Check for RawTask {
    fn check(&self) -> Result<(), String> {
        match (self.kind, self.size.is_some()) {
            (RawKind::Batch, false) => Err("a batch task needs `size:` (e.g. 5, 5..20 or cascade)".into()),
            (RawKind::Batch, true) | (_, false) => Ok(()),
            (_, true) => Err("`size:` applies only to `kind: batch`; remove it".into()),
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RawRepoSize {
    Small,
    Medium,
    Large,
    Mixed,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RawJitter {
    None,
    Uniform,
    Exponential,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RawFailureMode {
    #[serde(rename = "error_500")]
    Error500,
    #[serde(rename = "throttle_429")]
    Throttle429,
    #[serde(rename = "rate_limit_403")]
    RateLimit403,
    #[serde(rename = "unavailable_503")]
    Unavailable503,
    Hang,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    pub latency_ms: Option<NonNegative>,
    pub per_resource_ms: Option<NonNegative>,
    pub jitter: Option<RawJitter>,
    pub jitter_ms: Option<NonNegative>,
    pub failure_rate: Option<Probability>,
    pub failure_mode: Option<RawFailureMode>,
    pub max_concurrent: Option<u32>,
    pub workers: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPhase {
    pub name: PhaseName,
    pub suite: Option<String>,
    #[serde(default)]
    pub description: String,
    pub behaviour: BehaviourRef,
    pub users: Option<Count>,
    pub spawn_rate: Option<Positive>,
    pub arrival_rate: Option<RawArrival>,
    pub max_in_flight: Option<Count>,
    pub duration: PosDur,
    pub repo_size: Option<RawRepoSize>,
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub thresholds: RawThresholds,
    pub request_timeout: Option<PosDur>,
    pub connect_timeout: Option<PosDur>,
}

impl Check for RawPhase {
    fn check(&self) -> Result<(), String> {
        let name = &self.name.0;
        if let Some(suite) = &self.suite {
            check_identifier("suite", suite)?;
        }
        match (self.users.is_some(), self.arrival_rate.is_some()) {
            (true, true) => Err(format!(
                "phase `{name}` sets both `users` (closed model) and `arrival_rate` (open model); keep one"
            )),
            (false, false) => Err(format!(
                "phase `{name}` needs `users:` (with `spawn_rate:`) or `arrival_rate:` (with `max_in_flight:`)"
            )),
            (true, false) if self.max_in_flight.is_some() => Err(format!(
                "phase `{name}`: `max_in_flight` applies only to `arrival_rate` phases; remove it"
            )),
            (false, true) if self.spawn_rate.is_some() => {
                Err(format!("phase `{name}`: `spawn_rate` applies only to `users` phases; remove it"))
            }
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCapacity {
    pub behaviour: BehaviourRef,
    pub start_rps: Positive,
    pub step_rps: Positive,
    pub max_rps: Positive,
    pub step_duration: PosDur,
    pub refine_steps: Option<u32>,
    pub max_in_flight: Option<Count>,
    pub p99_limit_ms: Positive,
    pub max_error_rate: Probability,
    pub repo_size: Option<RawRepoSize>,
    #[serde(default)]
    pub server: RawServer,
}

impl Check for RawCapacity {
    fn check(&self) -> Result<(), String> {
        if self.start_rps.0 > self.max_rps.0 {
            return Err(format!(
                "`start_rps` ({}) is above `max_rps` ({}); raise max_rps or lower start_rps",
                self.start_rps.0, self.max_rps.0
            ));
        }
        if self.refine_steps.is_some_and(|r| r > 20) {
            return Err(
                "`refine_steps` above 20 halves the step below any useful resolution; use 0–20".into()
            );
        }
        Ok(())
    }
}
