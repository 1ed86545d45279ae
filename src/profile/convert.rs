//! Turns a parsed `RawProfile` into a validated `Profile`: resolves behaviour names to
//! shared `Behaviour`s, fills defaults and names requests. Everything checkable was
//! checked during the parse, so nothing here fails.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use super::builtin::builtin_behaviours;
use super::raw::{
    RawBehaviour, RawCapacity, RawFault, RawKind, RawPhase, RawProfile, RawRepoSize, RawRetry, RawRetryOn,
    RawServer, RawTask, RawThresholds, RawWait,
};
use super::types::{
    BatchSize, Behaviour, CapacitySearch, Fault, FaultKind, Load, Phase, PhaseTimeouts, Profile, RepoSize,
    RepoSizeChoice, RequestKind, RetryPolicy, ServerSettings, ServiceAction, TargetSettings, Task,
    Thresholds, WaitStrategy,
};
use super::types::{RecoveryLimits, RequestErrorPolicy, ValidityLimits};
use super::values::RawBatchSize;

/// Without `max_in_flight`, an open-model phase allows this many requests at once.
pub const DEFAULT_MAX_IN_FLIGHT: u32 = 1000;
/// The seed harness paused this long between phases.
pub const DEFAULT_PAUSE: Duration = Duration::from_secs(10);
/// The seed's default (`TERRAFIX_REPO_SIZE` unset).
const DEFAULT_REPO_SIZE: RepoSizeChoice = RepoSizeChoice::Fixed(RepoSize::Medium);
/// The seed's variable for the repository size of phases that do not name one.
pub const REPO_SIZE_VAR: &str = "TERRAFIX_REPO_SIZE";

/// `TERRAFIX_REPO_SIZE` when set (`small`, `medium`, `large`, `mixed`, any case); `Ok(None)` when
/// unset or empty, `Err` naming the variable and the allowed values when it is something else.
pub fn repo_size_from_env() -> Result<Option<RepoSizeChoice>, String> {
    let Some(value) = std::env::var_os(REPO_SIZE_VAR) else { return Ok(None) };
    let text = value.to_string_lossy();
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    RepoSizeChoice::parse(text).map(Some).ok_or_else(|| {
        format!("{REPO_SIZE_VAR}={text}: expected small, medium, large or mixed (or unset it for medium)")
    })
}

/// The repository size of a phase without `repo_size:`; `parse_str` has already refused a bad
/// `TERRAFIX_REPO_SIZE`, so falling back to medium here only covers a variable changed since.
fn default_repo_size() -> RepoSizeChoice {
    repo_size_from_env().ok().flatten().unwrap_or(DEFAULT_REPO_SIZE)
}

pub(crate) fn to_profile(raw: RawProfile, default_name: &str, source: &str) -> Profile {
    let name = raw.name.map_or_else(|| default_name.to_string(), |n| n.0);
    let mut behaviours: HashMap<String, Arc<Behaviour>> =
        builtin_behaviours().into_iter().map(|b| (b.name.clone(), b)).collect();
    for (key, rb) in raw.behaviours {
        let behaviour = Arc::new(to_behaviour(&key.0, rb));
        behaviours.insert(key.0, behaviour);
    }
    // The parse refused unknown names, so the lookup cannot miss; fall back to an
    // empty-named lookup failure would be a bug, hence the built-in as a safe default.
    let resolve =
        |name: &str| behaviours.get(name).cloned().unwrap_or_else(|| Arc::new(fallback_behaviour(name)));
    let phases = raw
        .phases
        .map(|list| list.0.into_iter().map(|p| to_phase(p.0, &name, &resolve)).collect())
        .unwrap_or_default();
    Profile {
        description: raw.description,
        source: source.to_string(),
        pause_between_phases: raw.pause_between_phases.map_or(DEFAULT_PAUSE, |d| d.0),
        lockstep_start: raw.lockstep_start,
        fail_on_request_errors: RequestErrorPolicy::from_setting(raw.fail_on_request_errors),
        fail_on_invalid: raw.fail_on_invalid,
        recovery: {
            let d = RecoveryLimits::default();
            let r = &raw.recovery;
            RecoveryLimits {
                success_rate: r.success_rate.map_or(d.success_rate, |x| x.0),
                p99_factor: r.p99_factor.map_or(d.p99_factor, |x| x.0),
                hold: r.hold.as_ref().map_or(d.hold, |x| x.0),
            }
        },
        validity: {
            let d = ValidityLimits::default();
            let v = &raw.validity;
            ValidityLimits {
                max_generator_cpu: v.max_generator_cpu.map_or(d.max_generator_cpu, |x| x.0),
                max_lag_share: v.max_lag_share.map_or(d.max_lag_share, |x| x.0),
                max_open_lag_ms: v.max_open_lag_ms.map_or(d.max_open_lag_ms, |x| x.0),
                max_stall_ms: v.max_stall_ms.map_or(d.max_stall_ms, |x| x.0),
            }
        },
        phases,
        thresholds: to_thresholds(&raw.thresholds),
        capacity: raw.capacity.map(|c| to_capacity(c.0, &resolve)),
        target: TargetSettings {
            // Checked at parse time; a variable unset since then reads as empty.
            headers: raw.headers.map(|h| expand_headers(h.0)).unwrap_or_default(),
            request_timeout: raw.request_timeout.map(|d| d.0),
            connect_timeout: raw.connect_timeout.map(|d| d.0),
            configure_target: raw.configure_target.unwrap_or(true),
        },
        name,
    }
}

/// Only reachable if the parse let an unknown behaviour through: a behaviour that
/// sends plain webhooks once a second, named after what was asked for.
fn fallback_behaviour(name: &str) -> Behaviour {
    Behaviour {
        name: name.to_string(),
        wait: WaitStrategy::ConstantPacing(Duration::from_secs(1)),
        tasks: vec![Task {
            weight: NonZeroU32::MIN,
            kind: RequestKind::Webhook,
            name: format!("/webhook [{name}]"),
            headers: Vec::new(),
        }],
        retry: None,
    }
}

fn to_behaviour(name: &str, raw: RawBehaviour) -> Behaviour {
    let wait = match raw.wait {
        None => WaitStrategy::Constant(Duration::ZERO),
        Some(RawWait::Constant(d)) => WaitStrategy::Constant(d.0),
        Some(RawWait::Between(b)) => WaitStrategy::Between(b.0.min.0, b.0.max.0),
        Some(RawWait::ConstantPacing(d)) => WaitStrategy::ConstantPacing(d.0),
        Some(RawWait::ConstantThroughput(r)) => WaitStrategy::ConstantThroughput(r.0),
        Some(RawWait::Cascade) => WaitStrategy::Cascade,
    };
    let tasks = raw.tasks.0.into_iter().map(|t| to_task(name, t.0)).collect();
    let retry = raw.retry.map(|r| to_retry(r.0));
    Behaviour { name: name.to_string(), wait, tasks, retry }
}

fn to_retry(raw: RawRetry) -> RetryPolicy {
    let mut policy = RetryPolicy {
        max_attempts: raw.max_attempts.0,
        on_status: Vec::new(),
        on_timeout: false,
        on_connection: false,
        base: raw.backoff.as_ref().map_or(Duration::from_millis(100), |b| b.base.0),
        cap: raw.backoff.as_ref().map_or(Duration::from_secs(2), |b| b.cap.0),
    };
    match raw.on {
        None => {
            policy.on_status = RetryPolicy::DEFAULT_STATUSES.to_vec();
            policy.on_timeout = true;
            policy.on_connection = true;
        }
        Some(list) => {
            for on in list {
                match on {
                    RawRetryOn::Status(code) => policy.on_status.push(code),
                    RawRetryOn::Word(w) if w == "timeout" => policy.on_timeout = true,
                    RawRetryOn::Word(_) => policy.on_connection = true,
                }
            }
        }
    }
    policy
}

fn to_fault(raw: RawFault) -> Fault {
    let end = raw.end();
    let kind = match (raw.server, raw.service, raw.action) {
        (Some(server), _, _) => FaultKind::Server(to_server(&server)),
        (None, Some(service), Some(action)) => FaultKind::Service {
            service,
            action: ServiceAction::parse(&action).unwrap_or(ServiceAction::Restart),
            optional: raw.optional,
        },
        // The parse requires one of the two shapes.
        _ => FaultKind::Server(ServerSettings::default()),
    };
    Fault { at: raw.at.0, duration: end.saturating_sub(raw.at.0), kind }
}

fn to_task(behaviour: &str, raw: RawTask) -> Task {
    let kind = match raw.kind {
        RawKind::Webhook => RequestKind::Webhook,
        RawKind::Duplicate => RequestKind::Duplicate,
        RawKind::Health => RequestKind::Health,
        RawKind::Status => RequestKind::Status,
        RawKind::HealthAndStatus => RequestKind::HealthAndStatus,
        RawKind::Batch => RequestKind::Batch(match raw.size {
            Some(RawBatchSize::Fixed(n)) => BatchSize::Fixed(n),
            Some(RawBatchSize::Range(a, b)) => BatchSize::Range(a, b),
            Some(RawBatchSize::Cascade) => BatchSize::Cascade,
            // The parse requires `size` on batch tasks.
            None => BatchSize::Fixed(1),
        }),
    };
    let name = raw.name.unwrap_or_else(|| default_task_name(behaviour, &kind));
    let headers = raw.headers.map(expand_headers).unwrap_or_default();
    Task { weight: raw.weight.map_or(NonZeroU32::MIN, |w| w.0), kind, name, headers }
}

/// `headers:` with each `${VAR}` read; checked at parse time (a variable unset since then
/// reads as empty).
fn expand_headers(raw: super::raw::RawHeaders) -> Vec<(String, String)> {
    raw.0.into_iter().map(|(n, v)| (n, super::headers::expand_env(&v).unwrap_or_default())).collect()
}

/// Request names in the seed's style: `/webhook [name]`, `/batch[12] [name]`.
pub fn default_task_name(behaviour: &str, kind: &RequestKind) -> String {
    match kind {
        RequestKind::Webhook => format!("/webhook [{behaviour}]"),
        RequestKind::Duplicate => format!("/webhook [{behaviour}-duplicate]"),
        RequestKind::Batch(_) => format!("/batch[{{n}}] [{behaviour}]"),
        RequestKind::Health => format!("/health [{behaviour}]"),
        RequestKind::Status => format!("/status [{behaviour}]"),
        RequestKind::HealthAndStatus => format!("{{endpoint}} [{behaviour}]"),
    }
}

/// The profile name as the run folder is named: letters, digits, `-` and `_`, the rest `_`.
fn clean_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

fn to_phase(raw: RawPhase, profile_name: &str, resolve: &dyn Fn(&str) -> Arc<Behaviour>) -> Phase {
    let load = match (raw.users, raw.arrival_rate) {
        (Some(users), _) => Load::Closed {
            users: users.0,
            spawn_rate_per_s: raw.spawn_rate.map_or(f64::from(users.0.get()), |r| r.0),
        },
        (None, Some(rate)) => Load::Open {
            rate_from_per_s: rate.from,
            rate_to_per_s: rate.to,
            max_in_flight: raw.max_in_flight.map_or(default_in_flight(), |m| m.0),
        },
        // The parse requires one of the two; a single user is the harmless reading.
        (None, None) => Load::Closed { users: NonZeroU32::MIN, spawn_rate_per_s: 1.0 },
    };
    Phase {
        // A profile name may hold spaces; as the default suite it is a folder name, so cleaned.
        suite: raw.suite.map_or_else(|| crate::fsio::safe_component(&clean_name(profile_name)), |s| s.0),
        description: raw.description,
        behaviour: resolve(&raw.behaviour.0),
        load,
        duration: raw.duration.0,
        repo_size: raw.repo_size.map_or_else(default_repo_size, to_repo_size),
        server: to_server(&raw.server),
        thresholds: to_thresholds(&raw.thresholds),
        faults: {
            let mut faults: Vec<Fault> = raw.faults.into_iter().map(|f| to_fault(f.0)).collect();
            faults.sort_by_key(|f| f.at);
            faults
        },
        timeouts: PhaseTimeouts {
            request: raw.request_timeout.map(|d| d.0),
            connect: raw.connect_timeout.map(|d| d.0),
        },
        name: raw.name.0,
    }
}

fn default_in_flight() -> NonZeroU32 {
    NonZeroU32::new(DEFAULT_MAX_IN_FLIGHT).unwrap_or(NonZeroU32::MAX)
}

fn to_capacity(raw: RawCapacity, resolve: &dyn Fn(&str) -> Arc<Behaviour>) -> CapacitySearch {
    CapacitySearch {
        behaviour: resolve(&raw.behaviour.0),
        start_rps: raw.start_rps.0,
        step_rps: raw.step_rps.0,
        max_rps: raw.max_rps.0,
        step_duration: raw.step_duration.0,
        refine_steps: raw.refine_steps.unwrap_or(3),
        max_in_flight: raw.max_in_flight.map_or(default_in_flight(), |m| m.0),
        p99_limit_ms: raw.p99_limit_ms.0,
        max_error_rate: raw.max_error_rate.0,
        repo_size: raw.repo_size.map_or_else(default_repo_size, to_repo_size),
        server: to_server(&raw.server),
    }
}

fn to_repo_size(raw: RawRepoSize) -> RepoSizeChoice {
    match raw {
        RawRepoSize::Small => RepoSizeChoice::Fixed(RepoSize::Small),
        RawRepoSize::Medium => RepoSizeChoice::Fixed(RepoSize::Medium),
        RawRepoSize::Large => RepoSizeChoice::Fixed(RepoSize::Large),
        RawRepoSize::Mixed => RepoSizeChoice::Mixed,
    }
}

fn to_server(raw: &RawServer) -> ServerSettings {
    ServerSettings {
        latency_ms: raw.latency_ms.map(|v| v.0),
        per_resource_ms: raw.per_resource_ms.map(|v| v.0),
        jitter: raw.jitter,
        jitter_ms: raw.jitter_ms.map(|v| v.0),
        failure_rate: raw.failure_rate.map(|v| v.0),
        failure_mode: raw.failure_mode,
        max_concurrent: raw.max_concurrent.map(|v| v.0),
        workers: raw.workers.map(|v| v.0),
        stall_ms: raw.stall_ms.map(|v| v.0),
    }
}

fn to_thresholds(raw: &RawThresholds) -> Thresholds {
    Thresholds {
        p95_ms: raw.p95_ms.map(|v| v.0),
        p99_ms: raw.p99_ms.map(|v| v.0),
        error_rate: raw.error_rate.map(|v| v.0),
        min_rps: raw.min_rps.map(|v| v.0),
    }
}
