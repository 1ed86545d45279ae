//! Validated profile types. Everything here is already checked: durations are
//! `Duration`, counts are non-zero, rates are positive, probabilities are in [0, 1].

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A suite of phases, ready to run.
#[derive(Clone, Debug)]
pub struct Profile {
    /// The profile's `name:` (the built-in's name for a built-in); names the run folder.
    pub name: String,
    /// The profile's `description:`; empty when it has none.
    pub description: String,
    /// Where it came from (`builtin:throughput` or a file path), for messages.
    pub source: String,
    /// Idle time between one phase's end and the next one's start (none before the first).
    pub pause_between_phases: Duration,
    /// Locust's behaviour: every user's pacing starts on the same tick. Off by default
    /// (each user starts at a random offset within its first interval).
    pub lockstep_start: bool,
    /// What failed requests do to the verdict (besides thresholds): by default a phase whose
    /// every request failed fails the run.
    pub fail_on_request_errors: RequestErrorPolicy,
    /// When true, a generator-bound phase makes `run` exit 1.
    pub fail_on_invalid: bool,
    /// When a phase's figures are the generator's limits rather than the target's.
    pub validity: ValidityLimits,
    /// When a phase counts as recovered after a fault.
    pub recovery: RecoveryLimits,
    /// The phases in the order they run (after `--phases` filtering).
    pub phases: Vec<Phase>,
    /// Thresholds over the whole run.
    pub thresholds: Thresholds,
    /// Present in capacity profiles: the engine searches the arrival rate.
    pub capacity: Option<CapacitySearch>,
    /// How to talk to the target (headers, timeouts, whether to configure it).
    pub target: TargetSettings,
}

/// What failed requests do to the run's verdict, beside thresholds (`fail_on_request_errors`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RequestErrorPolicy {
    /// Unset: a phase in which every request failed fails the run (a dead or refusing target
    /// must not end in PASS just because no threshold was written).
    #[default]
    EveryRequestFailed,
    /// `fail_on_request_errors: true`: any failed request fails the run.
    AnyFailure,
    /// `fail_on_request_errors: false`: failed requests alone never fail the run.
    Never,
}

impl RequestErrorPolicy {
    /// Reads the profile's `fail_on_request_errors:` (`None` when the key is absent).
    pub fn from_setting(setting: Option<bool>) -> RequestErrorPolicy {
        match setting {
            None => RequestErrorPolicy::EveryRequestFailed,
            Some(true) => RequestErrorPolicy::AnyFailure,
            Some(false) => RequestErrorPolicy::Never,
        }
    }

    /// For listings: `when every request of a phase failed`, `on any failure`, `no`.
    pub fn describe(self) -> &'static str {
        match self {
            RequestErrorPolicy::EveryRequestFailed => "when every request of a phase failed",
            RequestErrorPolicy::AnyFailure => "on any failure",
            RequestErrorPolicy::Never => "no (fail_on_request_errors: false)",
        }
    }
}

/// A phase has recovered from a fault at the first second after it from which every second
/// for `hold` has at least `success_rate` successes and a p99 within `p99_factor` × the p99
/// before the fault.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecoveryLimits {
    /// Share of requests (0–1) a second needs to succeed to count as healthy.
    pub success_rate: f64,
    /// How far above the pre-fault p99 a healthy second's p99 may be (a factor, 1.5 = 50 % above).
    pub p99_factor: f64,
    /// How long the healthy stretch must last before the phase counts as recovered.
    pub hold: Duration,
}

impl Default for RecoveryLimits {
    fn default() -> Self {
        RecoveryLimits { success_rate: 0.99, p99_factor: 1.5, hold: Duration::from_secs(5) }
    }
}

/// A phase is `generator-bound` when any of these is exceeded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValidityLimits {
    /// The generator's CPU ÷ (wall time × cores).
    pub max_generator_cpu: f64,
    /// Paced closed-model phases: p99 schedule lag ÷ the pacing interval.
    pub max_lag_share: f64,
    /// Open-model phases: p99 schedule lag, ms.
    pub max_open_lag_ms: f64,
    /// The worst stall of the generator's event loop, ms.
    pub max_stall_ms: f64,
}

impl Default for ValidityLimits {
    fn default() -> Self {
        ValidityLimits {
            max_generator_cpu: 0.9,
            max_lag_share: 0.5,
            max_open_lag_ms: 20.0,
            max_stall_ms: 200.0,
        }
    }
}

/// `headers:`, `request_timeout:`, `connect_timeout:` and `configure_target:` of a profile.
/// Command-line flags override them.
#[derive(Clone, PartialEq)]
pub struct TargetSettings {
    /// (name, value) with `${VAR}` already read from the environment.
    pub headers: Vec<(String, String)>,
    /// Per-request limit before a request fails as `timeout`; `None`: the client's default.
    pub request_timeout: Option<Duration>,
    /// Limit on opening a connection (TLS included); `None`: the client's default.
    pub connect_timeout: Option<Duration>,
    /// False: neither `/configure` nor `/stats/reset` is sent.
    pub configure_target: bool,
}

/// Header values may be secrets: `Debug` shows their names only.
impl std::fmt::Debug for TargetSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let TargetSettings { headers, request_timeout, connect_timeout, configure_target } = self;
        f.debug_struct("TargetSettings")
            .field("headers", &super::debug_header_names(headers.iter().map(|(n, _)| n)))
            .field("request_timeout", request_timeout)
            .field("connect_timeout", connect_timeout)
            .field("configure_target", configure_target)
            .finish()
    }
}

impl Default for TargetSettings {
    fn default() -> Self {
        TargetSettings {
            headers: Vec::new(),
            request_timeout: None,
            connect_timeout: None,
            configure_target: true,
        }
    }
}

/// A phase's own timeouts (over the run's).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq)]
pub struct PhaseTimeouts {
    /// This phase's request timeout; `None`: the run's.
    pub request: Option<Duration>,
    /// This phase's connect timeout; `None`: the run's.
    pub connect: Option<Duration>,
}

/// One phase of a profile: a load shape held for a duration against one behaviour.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Phase {
    /// e.g. `throughput_baseline`.
    pub name: String,
    /// Results folder, e.g. `throughput`.
    pub suite: String,
    /// The phase's `description:`; empty when it has none.
    pub description: String,
    /// What each user or arrival sends, and how it waits (shared between phases that use it).
    pub behaviour: Arc<Behaviour>,
    /// Closed (users) or open (arrival rate) load.
    pub load: Load,
    /// How long the phase sends load (after `--time-scale`).
    pub duration: Duration,
    /// Fixed for every request of the phase, or mixed.
    pub repo_size: RepoSizeChoice,
    /// Sent with `POST /configure` before the phase starts.
    pub server: ServerSettings,
    /// Limits the phase's figures are judged against (all `None`: none).
    pub thresholds: Thresholds,
    /// Timeouts that override the run's for this phase.
    pub timeouts: PhaseTimeouts,
    /// Fault windows on the phase's clock, in start order.
    pub faults: Vec<Fault>,
}

/// How a phase generates load.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum Load {
    /// Closed model: a fixed population of users, each looping task → wait.
    Closed {
        /// Users running once the ramp is over.
        users: NonZeroU32,
        /// Users started per second until `users` run.
        spawn_rate_per_s: f64,
    },
    /// Open model: arrivals on a schedule, independent of how fast the target answers.
    Open {
        /// Arrivals per second at the phase's start.
        rate_from_per_s: f64,
        /// Arrivals per second at its end (equal to `rate_from_per_s` for a flat rate).
        rate_to_per_s: f64,
        /// Most requests unanswered at once; arrivals past it are dropped.
        max_in_flight: NonZeroU32,
    },
}

/// A user class: how it waits and which tasks it picks (weighted).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Behaviour {
    /// The behaviour's name, as written in the summary's `config.behaviour`.
    pub name: String,
    /// The pause between one task's end and the user's next task (closed model).
    pub wait: WaitStrategy,
    /// The tasks a user picks from, by weight (at least one).
    pub tasks: Vec<Task>,
    /// Client retries of a failed request (none when unset).
    pub retry: Option<RetryPolicy>,
}

/// How a behaviour retries, like a real sender: up to `max_attempts` in all, on the listed
/// outcomes, after an exponential backoff with full jitter (or the server's `Retry-After`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: NonZeroU32,
    /// HTTP statuses that are retried (see [`RetryPolicy::DEFAULT_STATUSES`]).
    pub on_status: Vec<u16>,
    /// Whether a request that timed out is retried.
    pub on_timeout: bool,
    /// Whether a connection failure (refused, reset) is retried.
    pub on_connection: bool,
    /// Attempt n waits uniformly in [0, min(cap, base · 2^(n−1))].
    pub base: Duration,
    /// The longest backoff before one attempt, whatever the attempt number.
    pub cap: Duration,
}

impl WaitStrategy {
    /// The plan between iteration starts of a paced user (`constant_pacing`,
    /// `constant_throughput`); `None` for waits that have no plan to be late against.
    pub fn pacing_interval(&self) -> Option<Duration> {
        match *self {
            WaitStrategy::ConstantPacing(d) => Some(d),
            WaitStrategy::ConstantThroughput(per_s) => Some(Duration::from_secs_f64(1.0 / per_s)),
            _ => None,
        }
    }
}

impl RetryPolicy {
    /// The seed's sender: 3 attempts on 429, 500, 502, 503, 504, timeouts and connection errors.
    pub const DEFAULT_STATUSES: [u16; 5] = [429, 500, 502, 503, 504];
}

/// A fault inside a phase: a window on the phase's clock and what happens in it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Fault {
    /// From the phase's start.
    pub at: Duration,
    /// How long the window lasts.
    pub duration: Duration,
    /// What the fault does in its window.
    pub kind: FaultKind,
}

/// What a fault window does.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// These `/configure` settings for the window, the phase's own again after it.
    Server(ServerSettings),
    /// A Docker action on one of our services, undone at the window's end.
    Service {
        /// The Docker Compose service it acts on (`terrafix-api`, `redis`, …).
        service: String,
        /// What is done to the service.
        action: ServiceAction,
        /// On a target that cannot do it: skipped with a note (else refused before the run).
        optional: bool,
    },
}

impl Fault {
    /// When the window ends, from the phase's start.
    pub fn end(&self) -> Duration {
        self.at + self.duration
    }

    /// `server failure_rate=0.5 failure_mode=throttle_429` or `kill redis`.
    pub fn describe(&self) -> String {
        match &self.kind {
            FaultKind::Server(s) => {
                let json = s.to_json();
                let parts: Vec<String> = json
                    .as_object()
                    .map(|m| {
                        m.iter().map(|(k, v)| format!("{k}={}", v.to_string().trim_matches('"'))).collect()
                    })
                    .unwrap_or_default();
                format!("server {}", parts.join(" "))
            }
            FaultKind::Service { service, action, .. } => format!("{} {service}", action.as_str()),
        }
    }
}

/// What a service fault does at its start (and undoes at its end).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceAction {
    /// Stop, then start at the end.
    Stop,
    /// Kill (SIGKILL), then start at the end.
    Kill,
    /// Pause (freeze), then unpause at the end.
    Pause,
    /// Restart at the start; the window is how long the service may take to come back.
    Restart,
}

impl ServiceAction {
    /// Reads `stop`, `kill`, `pause` or `restart`; `None` for anything else.
    pub fn parse(text: &str) -> Option<ServiceAction> {
        Some(match text {
            "stop" => ServiceAction::Stop,
            "kill" => ServiceAction::Kill,
            "pause" => ServiceAction::Pause,
            "restart" => ServiceAction::Restart,
            _ => return None,
        })
    }

    /// The action's name as profiles write it.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceAction::Stop => "stop",
            ServiceAction::Kill => "kill",
            ServiceAction::Pause => "pause",
            ServiceAction::Restart => "restart",
        }
    }
}

/// One kind of request a behaviour sends, with its share of the picks.
#[derive(Serialize, Deserialize, Clone, PartialEq)]
pub struct Task {
    /// Relative weight among the behaviour's tasks (2 is picked twice as often as 1).
    pub weight: NonZeroU32,
    /// What the request is.
    pub kind: RequestKind,
    /// Request name as it appears in CSVs; `{n}` is replaced with the batch size.
    pub name: String,
    /// This task's own request headers, sent over the run's (values never written out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
}

/// Header values may be secrets: `Debug` shows their names only.
impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Task { weight, kind, name, headers } = self;
        f.debug_struct("Task")
            .field("weight", weight)
            .field("kind", kind)
            .field("name", name)
            .field("headers", &super::debug_header_names(headers.iter().map(|(n, _)| n)))
            .finish()
    }
}

/// What one task sends to the target.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum RequestKind {
    /// POST /webhook with a new failure.
    Webhook,
    /// POST /webhook resending one of this user's last 100 unique failures
    /// (a new one when it has none yet).
    Duplicate,
    /// POST /batch with `size` new failures.
    Batch(BatchSize),
    /// GET /health.
    Health,
    /// GET /status.
    Status,
    /// GET /health then GET /status (the seed's mixed user).
    HealthAndStatus,
}

/// How many failures a `/batch` post carries.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub enum BatchSize {
    /// Always this many.
    Fixed(u32),
    /// Uniform in [min, max].
    Range(u32, u32),
    /// The seed's cascade: `min(2·f, 50)` with `f = 1 + elapsed / 60 s`.
    Cascade,
}

/// How a closed-model user waits between tasks.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub enum WaitStrategy {
    /// The same pause every time.
    Constant(Duration),
    /// Uniform in [min, max].
    Between(Duration, Duration),
    /// Start a task every interval (waiting less when the task took longer).
    ConstantPacing(Duration),
    /// Tasks per second per user (Locust's `constant_throughput`).
    ConstantThroughput(f64),
    /// The seed's cascade user: `max(0.1, 2/f) + U(0, 0.5)` s, `f = 1 + elapsed / 60 s`.
    Cascade,
}

/// A Terraform repository size; sets the resource count of generated failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepoSize {
    /// 5–15 resources.
    Small,
    /// 50–100 resources.
    Medium,
    /// 300–500 resources.
    Large,
}

impl RepoSize {
    /// Every size, smallest first.
    pub const ALL: [RepoSize; 3] = [RepoSize::Small, RepoSize::Medium, RepoSize::Large];

    /// The name as profiles and the summary write it: `small`, `medium`, `large`.
    pub fn as_str(&self) -> &'static str {
        match self {
            RepoSize::Small => "small",
            RepoSize::Medium => "medium",
            RepoSize::Large => "large",
        }
    }
}

/// The repository size of a phase's failures.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RepoSizeChoice {
    /// Every failure of the phase has this size.
    Fixed(RepoSize),
    /// Each request picks one of the three at random.
    Mixed,
}

impl RepoSizeChoice {
    /// `small`, `medium`, `large` or `mixed`, in any case (`TERRAFIX_REPO_SIZE=Large` as the
    /// seed's users write it).
    pub fn parse(text: &str) -> Option<RepoSizeChoice> {
        match text.trim().to_ascii_lowercase().as_str() {
            "mixed" => Some(RepoSizeChoice::Mixed),
            other => RepoSize::ALL.into_iter().find(|s| s.as_str() == other).map(RepoSizeChoice::Fixed),
        }
    }

    /// `small`, `medium`, `large` or `mixed`.
    pub fn label(&self) -> &'static str {
        match self {
            RepoSizeChoice::Fixed(s) => s.as_str(),
            RepoSizeChoice::Mixed => "mixed",
        }
    }
}

/// How the mock's simulated processing time varies around its base.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// No jitter: the base time exactly.
    None,
    /// Adds a uniform draw from `[0, jitter_ms)`.
    Uniform,
    /// Adds an exponential draw with mean `jitter_ms` (a long tail, like a model API).
    Exponential,
}

impl Jitter {
    /// The accepted names, for error messages.
    pub const NAMES: &'static str = "none, uniform, exponential";

    /// The name as `/configure` and profiles write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Jitter::None => "none",
            Jitter::Uniform => "uniform",
            Jitter::Exponential => "exponential",
        }
    }

    /// Reads `none`, `uniform` or `exponential`; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "none" => Some(Jitter::None),
            "uniform" => Some(Jitter::Uniform),
            "exponential" => Some(Jitter::Exponential),
            _ => None,
        }
    }
}

/// What an injected failure looks like to the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureMode {
    /// 500 internal error.
    #[serde(rename = "error_500")]
    Error500,
    /// 429 with `Retry-After` (Bedrock throttling).
    #[serde(rename = "throttle_429")]
    Throttle429,
    /// 403 with GitHub's rate-limit headers.
    #[serde(rename = "rate_limit_403")]
    RateLimit403,
    /// 503 with `Retry-After`.
    #[serde(rename = "unavailable_503")]
    Unavailable503,
    /// No answer until the client gives up (or the server shuts down).
    Hang,
}

impl FailureMode {
    /// Every mode, in the order of the mock's per-mode counters.
    pub const ALL: [FailureMode; 5] = [
        FailureMode::Error500,
        FailureMode::Throttle429,
        FailureMode::RateLimit403,
        FailureMode::Unavailable503,
        FailureMode::Hang,
    ];
    /// The accepted names, for error messages.
    pub const NAMES: &'static str = "error_500, throttle_429, rate_limit_403, unavailable_503, hang";

    /// The name as `/configure`, profiles and `/status` write it.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureMode::Error500 => "error_500",
            FailureMode::Throttle429 => "throttle_429",
            FailureMode::RateLimit403 => "rate_limit_403",
            FailureMode::Unavailable503 => "unavailable_503",
            FailureMode::Hang => "hang",
        }
    }

    /// Reads a mode's name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// The mode's position in [`Self::ALL`] (an index into per-mode counters).
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Server settings a phase applies with `POST /configure`. Field names are the mock's
/// `/configure` keys; unset fields are not sent (the server keeps what it has).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerSettings {
    /// Base simulated processing time per failure (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Added per Terraform resource of the failure's repository (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_resource_ms: Option<f64>,
    /// How the processing time varies around its base.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter: Option<Jitter>,
    /// Scale of the jitter (ms): the range of a uniform draw, the mean of an exponential one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter_ms: Option<f64>,
    /// Share of failures answered with an injected error, in [0, 1].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_rate: Option<f64>,
    /// What an injected error looks like.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_mode: Option<FailureMode>,
    /// Backpressure: concurrent work allowed before answering 429 (0 = off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent: Option<u32>,
    /// Concurrent processing slots; requests past it queue (0 = unlimited).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<u32>,
    /// A one-shot stall (ms) of the requests arriving from now on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stall_ms: Option<f64>,
}

impl ServerSettings {
    /// True when no setting is set (nothing would be sent to `/configure`).
    pub fn is_empty(&self) -> bool {
        *self == ServerSettings::default()
    }

    /// The JSON object sent to `/configure`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({}))
    }
}

/// Limits a phase's (or the run's) figures must meet; `None` is not checked.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Thresholds {
    /// Highest allowed 95th percentile latency (ms).
    pub p95_ms: Option<f64>,
    /// Highest allowed 99th percentile latency (ms).
    pub p99_ms: Option<f64>,
    /// Failed / total, in [0, 1].
    pub error_rate: Option<f64>,
    /// Lowest allowed throughput (requests per second).
    pub min_rps: Option<f64>,
}

impl Thresholds {
    /// True when no limit is set.
    pub fn is_empty(&self) -> bool {
        *self == Thresholds::default()
    }
}

/// An open-model search for the highest arrival rate that still meets the limits.
#[derive(Clone, Debug, PartialEq)]
pub struct CapacitySearch {
    /// What each arrival sends.
    pub behaviour: Arc<Behaviour>,
    /// The arrival rate of the first step (requests per second).
    pub start_rps: f64,
    /// First, coarse step added after each passing step.
    pub step_rps: f64,
    /// The search stops there: no step asks for more (requests per second).
    pub max_rps: f64,
    /// How long each step sends load.
    pub step_duration: Duration,
    /// Halvings of the step between the last pass and the first fail.
    pub refine_steps: u32,
    /// At most this many requests unanswered in a step; the rest are dropped (and count against it).
    pub max_in_flight: NonZeroU32,
    /// A step whose p99 (ms) is above this fails.
    pub p99_limit_ms: f64,
    /// A step whose failure share (0–1) is above this fails.
    pub max_error_rate: f64,
    /// The repository size of the failures sent.
    pub repo_size: RepoSizeChoice,
    /// Sent with `POST /configure` before the search.
    pub server: ServerSettings,
}

/// Command-line adjustments applied to a profile before it runs.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// Multiplies every duration and pause.
    pub time_scale: Option<super::TimeScale>,
    /// Replaces users (closed) in every phase.
    pub users: Option<NonZeroU32>,
    /// Replaces every phase's duration (before time scale).
    pub duration: Option<Duration>,
    /// Keep only these phases, in profile order. Unknown names are an error.
    pub phases: Vec<String>,
    /// Replaces the spawn rate of every closed-model phase.
    pub spawn_rate: Option<f64>,
    /// Replaces every phase's repository size.
    pub repo_size: Option<RepoSizeChoice>,
    /// Sets `latency_ms` in every phase's server settings.
    pub server_latency_ms: Option<f64>,
    /// Sets `failure_rate` in every phase's server settings.
    pub server_failure_rate: Option<f64>,
}
