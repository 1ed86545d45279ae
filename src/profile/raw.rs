//! The YAML shapes of a profile (serde, `deny_unknown_fields`), built from the checked
//! values in `values.rs`. Cross-field checks of one mapping are `Check` impls.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::values::{
    BehaviourKey, BehaviourRef, Check, Checked, Count, Dur, Millis, NonEmpty, PhaseName, PosDur, Positive,
    Probability, ProfileName, RawArrival, RawBatchSize, Slots, SuiteName,
};

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = super::schema::profile_rules)]
pub(crate) struct RawProfile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<ProfileName>,
    #[serde(default)]
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pause_between_phases: Option<Dur>,
    #[serde(default)]
    pub lockstep_start: bool,
    /// `true`: any failed request fails the run; `false`: none does; unset: a phase whose
    /// every request failed does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_on_request_errors: Option<bool>,
    /// A generator-bound phase fails the run.
    #[serde(default)]
    pub fail_on_invalid: bool,
    /// When a phase's numbers count as the generator's rather than the target's.
    #[serde(default, skip_serializing_if = "unset")]
    pub validity: RawValidity,
    /// When a phase counts as recovered after a fault.
    #[serde(default, skip_serializing_if = "unset")]
    pub recovery: RawRecovery,
    #[serde(default, skip_serializing_if = "unset")]
    pub thresholds: RawThresholds,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub behaviours: BTreeMap<BehaviourKey, RawBehaviour>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phases: Option<NonEmpty<Checked<RawPhase>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Checked<RawCapacity>>,
    /// Extra request headers; values may hold `${VAR}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<Checked<RawHeaders>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<PosDur>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<PosDur>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configure_target: Option<bool>,
}

/// A section left at its default (every entry unset) is not written: it would read back
/// the same, and a written profile stays as short as one typed by hand. Flags and texts
/// with a default are written even when default: schemars leaves a field's `default` out of
/// the JSON Schema when the field would skip it, and the schema must not change.
fn unset<T: Serialize>(section: &T) -> bool {
    serde_yaml::to_value(section).is_ok_and(|v| v.as_mapping().is_some_and(serde_yaml::Mapping::is_empty))
}

/// `recovery:` limits of a profile; each optional.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Recovery")]
pub(crate) struct RawRecovery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_rate: Option<Probability>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_factor: Option<Positive>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold: Option<PosDur>,
}

/// `validity:` limits of a profile; each optional.
#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Validity")]
pub(crate) struct RawValidity {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_generator_cpu: Option<Probability>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_lag_share: Option<Positive>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_open_lag_ms: Option<Positive>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_stall_ms: Option<Positive>,
}

#[derive(Deserialize, Serialize)]
#[serde(transparent)]
pub(crate) struct RawHeaders(pub BTreeMap<String, String>);

/// Header values may be secrets: `Debug` shows their names only.
impl std::fmt::Debug for RawHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RawHeaders").field(&super::headers::debug_names(self.0.keys())).finish()
    }
}

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

#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Thresholds")]
pub(crate) struct RawThresholds {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<Positive>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<Positive>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<Probability>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_rps: Option<Positive>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Behaviour")]
pub(crate) struct RawBehaviour {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait: Option<RawWait>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<Checked<RawRetry>>,
    pub tasks: NonEmpty<Checked<RawTask>>,
}

/// `retry:` of a behaviour: `{ max_attempts: 3, on: [500, 503, 429, timeout, connection],
/// backoff: { base: 100ms, cap: 2s } }`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Retry")]
pub(crate) struct RawRetry {
    pub max_attempts: Count,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on: Option<Vec<RawRetryOn>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff: Option<RawBackoff>,
}

/// An outcome that is retried: an HTTP status, `timeout` or `connection`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub(crate) enum RawRetryOn {
    Status(u16),
    Word(String),
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Backoff")]
pub(crate) struct RawBackoff {
    pub base: PosDur,
    pub cap: PosDur,
}

impl Check for RawRetry {
    fn check(&self) -> Result<(), String> {
        for on in self.on.iter().flatten() {
            match on {
                RawRetryOn::Status(code) if !(100..=599).contains(code) => {
                    return Err(format!("retry.on: {code} is not an HTTP status (100 to 599)"));
                }
                RawRetryOn::Word(w) if w != "timeout" && w != "connection" => {
                    return Err(format!(
                        "retry.on: `{w}` is not an outcome; write HTTP statuses (429, 503, …), `timeout` or `connection`"
                    ));
                }
                _ => {}
            }
        }
        if let Some(b) = &self.backoff
            && b.cap.0 < b.base.0
        {
            return Err(format!(
                "retry.backoff: cap {} is below base {}; the cap bounds the growing delay, so make it ≥ base",
                super::format_duration(b.cap.0),
                super::format_duration(b.base.0)
            ));
        }
        Ok(())
    }
}

/// One entry of a phase's `faults:`: `{ at: 30s, for: 60s, server: {...} }` or
/// `{ at: 100s, for: 20s, service: redis, action: kill }`.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = super::schema::fault_rules)]
#[schemars(rename = "Fault")]
pub(crate) struct RawFault {
    pub at: Dur,
    #[serde(rename = "for")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub for_: Option<PosDur>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<Dur>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<RawServer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default)]
    pub optional: bool,
}

/// Services a fault may act on, and the actions.
pub(crate) const FAULT_SERVICES: [&str; 2] = ["redis", "terrafix-api"];
pub(crate) const FAULT_ACTIONS: [&str; 4] = ["stop", "kill", "pause", "restart"];

impl RawFault {
    /// Where the window ends, from the phase's start.
    pub fn end(&self) -> std::time::Duration {
        match (&self.for_, &self.until) {
            (Some(d), _) => self.at.0 + d.0,
            (None, Some(u)) => u.0,
            (None, None) => self.at.0,
        }
    }
}

impl Check for RawFault {
    fn check(&self) -> Result<(), String> {
        match (&self.for_, &self.until) {
            (Some(_), Some(_)) => {
                return Err("a fault has `for:` (a length) or `until:` (an end), not both".into());
            }
            (None, None) => {
                return Err("a fault needs `for: 20s` (its length) or `until: 50s` (its end)".into());
            }
            (None, Some(u)) if u.0 <= self.at.0 => {
                return Err(format!(
                    "fault until {} is not after its start at {}",
                    super::format_duration(u.0),
                    super::format_duration(self.at.0)
                ));
            }
            _ => {}
        }
        match (&self.server, &self.service, &self.action) {
            (Some(_), None, None) => Ok(()),
            (None, Some(service), Some(action)) => {
                if !FAULT_SERVICES.contains(&service.as_str()) {
                    return Err(format!(
                        "fault service `{service}`: write one of {}",
                        FAULT_SERVICES.join(", ")
                    ));
                }
                if !FAULT_ACTIONS.contains(&action.as_str()) {
                    return Err(format!(
                        "fault action `{action}`: write one of {} (each is undone at the window's end)",
                        FAULT_ACTIONS.join(", ")
                    ));
                }
                Ok(())
            }
            (None, Some(_), None) => {
                Err("a service fault needs `action:` (stop, kill, pause or restart)".into())
            }
            (None, None, Some(_)) => {
                Err("a fault with `action:` needs `service:` (redis or terrafix-api)".into())
            }
            (None, None, None) => {
                Err("a fault needs `server: {…}` settings or `service:` and `action:`".into())
            }
            (Some(_), _, _) => {
                Err("a fault is either `server:` settings or a `service:` action; split it in two".into())
            }
        }
    }
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
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

/// Written as read: `cascade`, or the one-entry mapping of the strategy.
impl Serialize for RawWait {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        fn one<S: Serializer, T: Serialize>(serializer: S, kind: &str, value: &T) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = serializer.serialize_map(Some(1))?;
            map.serialize_entry(kind, value)?;
            map.end()
        }
        match self {
            RawWait::Constant(d) => one(serializer, "constant", d),
            RawWait::Between(b) => one(serializer, "between", b),
            RawWait::ConstantPacing(d) => one(serializer, "constant_pacing", d),
            RawWait::ConstantThroughput(t) => one(serializer, "constant_throughput", t),
            RawWait::Cascade => serializer.serialize_str("cascade"),
        }
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Between")]
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "TaskKind")]
pub(crate) enum RawKind {
    Webhook,
    Duplicate,
    Batch,
    Health,
    Status,
    HealthAndStatus,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = super::schema::task_rules)]
#[schemars(rename = "Task")]
pub(crate) struct RawTask {
    pub kind: RawKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<Count>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<RawBatchSize>,
    /// This task's own request headers (over the profile's); values may hold `${VAR}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<RawHeaders>,
}

impl Check for RawTask {
    fn check(&self) -> Result<(), String> {
        if let Some(h) = &self.headers {
            h.check()?;
        }
        match (self.kind, self.size.is_some()) {
            (RawKind::Batch, false) => Err("a batch task needs `size:` (e.g. 5, 5..20 or cascade)".into()),
            (RawKind::Batch, true) | (_, false) => Ok(()),
            (_, true) => Err("`size:` applies only to `kind: batch`; remove it".into()),
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "RepoSize")]
pub(crate) enum RawRepoSize {
    Small,
    Medium,
    Large,
    Mixed,
}

#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ServerSettings")]
pub(crate) struct RawServer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_resource_ms: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter: Option<super::types::Jitter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter_ms: Option<Millis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_rate: Option<Probability>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_mode: Option<super::types::FailureMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent: Option<Slots>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<Slots>,
    /// A one-shot stall of every request (ms), e.g. inside a fault window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stall_ms: Option<Millis>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = super::schema::phase_rules)]
#[schemars(rename = "Phase")]
pub(crate) struct RawPhase {
    pub name: PhaseName,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suite: Option<SuiteName>,
    #[serde(default)]
    pub description: String,
    pub behaviour: BehaviourRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<Count>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spawn_rate: Option<Positive>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrival_rate: Option<RawArrival>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<Count>,
    pub duration: PosDur,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo_size: Option<RawRepoSize>,
    #[serde(default, skip_serializing_if = "unset")]
    pub server: RawServer,
    #[serde(default, skip_serializing_if = "unset")]
    pub thresholds: RawThresholds,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<PosDur>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<PosDur>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Checked<RawFault>>,
}

impl RawPhase {
    /// Faults inside the phase, and no two of a kind (server settings; one service) overlapping.
    fn check_faults(&self) -> Result<(), String> {
        let name = &self.name.0;
        let length = self.duration.0;
        for f in &self.faults {
            let f = &f.0;
            if f.end() > length {
                return Err(format!(
                    "phase `{name}`: the fault at {} ends at {}, after the phase's {}; faults happen inside their phase",
                    super::format_duration(f.at.0),
                    super::format_duration(f.end()),
                    super::format_duration(length)
                ));
            }
        }
        for (i, a) in self.faults.iter().enumerate() {
            for b in &self.faults[i + 1..] {
                let (a, b) = (&a.0, &b.0);
                let same_kind = (a.server.is_some() && b.server.is_some())
                    || (a.service.is_some() && a.service == b.service);
                if same_kind && a.at.0 < b.end() && b.at.0 < a.end() {
                    return Err(format!(
                        "phase `{name}`: the faults at {} and {} overlap and act on the same thing; \
                         end the first before the second starts",
                        super::format_duration(a.at.0),
                        super::format_duration(b.at.0)
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Check for RawPhase {
    fn check(&self) -> Result<(), String> {
        let name = &self.name.0;
        self.check_faults()?;
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

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Capacity")]
pub(crate) struct RawCapacity {
    pub behaviour: BehaviourRef,
    pub start_rps: Positive,
    pub step_rps: Positive,
    pub max_rps: Positive,
    pub step_duration: PosDur,
    #[schemars(range(max = 20))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refine_steps: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<Count>,
    pub p99_limit_ms: Positive,
    pub max_error_rate: Probability,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo_size: Option<RawRepoSize>,
    #[serde(default, skip_serializing_if = "unset")]
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
