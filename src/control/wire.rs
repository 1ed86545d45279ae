//! The control API's JSON: request bodies, the `GET /v1/run` answer, and the run's events
//! as the server-sent stream carries them (and the attach client turns back into ours).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::experiment::{Event, PhasePlan, PlanLoad};
use crate::metrics::summary::{PhaseChange, PhaseSummary, RunSummary};
use crate::metrics::{ResourceSample, Snapshot};

/// The version in the paths (`/v1/…`) and in every status answer.
pub const API_VERSION: u32 = 1;

/// `PATCH /v1/run`: exactly one of the two.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadChange {
    /// New user count for a closed-model phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<u32>,
    /// New arrival rate (per second) for an open-model phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_rate: Option<f64>,
}

/// `POST /v1/run/extend`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extend {
    /// How much longer the running phase lasts, in seconds: above 0, at most 86 400 (a day).
    pub seconds: f64,
}

/// Every refusal: what went wrong and how to do it right.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    /// The refusal in words, with what to send instead.
    pub error: String,
}

/// The answer to a steering, skip or abort call: what was asked, in words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Accepted {
    /// What the run will do, e.g. `users → 50`.
    pub accepted: String,
}

/// Where the run is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// The target is being brought up; no phase yet.
    #[default]
    Starting,
    /// A phase is running.
    Running,
    /// Between two phases.
    Pause,
    /// Asked to stop; the results are being written.
    Stopping,
    /// The run ended and wrote its results.
    Finished,
}

/// `GET /v1/run`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunStatus {
    /// [`API_VERSION`]: bumped when a field changes meaning or goes away.
    pub api_version: u32,
    /// The run folder's name, once the run has created it.
    pub run_id: Option<String>,
    /// Where the run is.
    pub state: RunState,
    /// The phase running now (or last), with its model.
    pub phase: Option<PhaseNow>,
    /// Phases in the plan.
    pub phase_count: usize,
    /// Seconds since the run started.
    pub run_elapsed_s: f64,
    /// The run's planned length, extensions included (pauses not counted).
    pub run_planned_s: f64,
    /// The load being applied now.
    pub load: LoadNow,
    /// Requests and failures over the run so far.
    pub totals: Totals,
    /// The latest per-second figures.
    pub last_second: LastSecond,
    /// The thresholds and validity so far.
    pub verdict: VerdictSoFar,
}

/// The phase running now (or last) in a status answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseNow {
    /// 0-based position in the plan.
    pub index: usize,
    /// The phase's name from the profile.
    pub name: String,
    /// `users` (closed model, steer with `users`) or `arrival_rate` (open model).
    pub model: String,
    /// Seconds since the phase started.
    pub elapsed_s: f64,
    /// The phase's planned length in seconds, extensions included.
    pub planned_s: f64,
}

/// The load in a status answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadNow {
    /// Virtual users running now (closed model), from the latest snapshot.
    pub users: u32,
    /// The arrival rate asked for last (open model); absent in a closed-model phase.
    pub arrival_rate: Option<f64>,
    /// Requests sent and not yet answered.
    pub in_flight: u64,
}

/// Requests and failures over the run so far (finished phases and the running one).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Requests sent over the run so far.
    pub requests: u64,
    /// Of those, how many failed.
    pub failures: u64,
}

/// The latest one-second window.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LastSecond {
    /// Requests per second.
    pub requests_per_s: f64,
    /// Failed requests per second.
    pub failures_per_s: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 95th percentile latency, milliseconds.
    pub p95_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
}

/// How the run is doing against its thresholds and validity limits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VerdictSoFar {
    /// False once a finished phase failed a threshold or was not valid.
    pub passing: bool,
    /// The running phase's validity limits breached so far, in words.
    pub generator_bound: Vec<String>,
    /// One line per finished phase, in order.
    pub phases: Vec<PhaseVerdict>,
}

/// A finished phase's outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseVerdict {
    /// The phase's name.
    pub name: String,
    /// True when every threshold of the phase passed.
    pub thresholds_passed: bool,
    /// `valid`, `generator_bound`, … (absent when the phase was not judged).
    pub validity: Option<String>,
}

/// A phase as planned, on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WirePlan {
    /// The phase's name.
    pub name: String,
    /// The suite it belongs to (the profile's grouping).
    pub suite: String,
    /// Its planned length in seconds (after the time scale).
    pub planned_s: f64,
    /// Users of a closed-model phase; absent for the open model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<u32>,
    /// Users started per second (closed model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spawn_rate: Option<f64>,
    /// Arrival rate at the phase's start, per second (open model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_from: Option<f64>,
    /// Arrival rate at the phase's end, per second (open model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_to: Option<f64>,
}

impl WirePlan {
    /// A plan as the wire carries it.
    pub fn of(plan: &PhasePlan) -> WirePlan {
        let mut wire = WirePlan {
            name: plan.name.clone(),
            suite: plan.suite.clone(),
            planned_s: plan.planned.as_secs_f64(),
            users: None,
            spawn_rate: None,
            rate_from: None,
            rate_to: None,
        };
        match plan.load {
            PlanLoad::Users { users, spawn_rate } => {
                wire.users = Some(users);
                wire.spawn_rate = Some(spawn_rate);
            }
            PlanLoad::Rate { from, to } => {
                wire.rate_from = Some(from);
                wire.rate_to = Some(to);
            }
        }
        wire
    }

    /// Back into a plan; a missing spawn rate is 1/s and a missing end rate equals the start.
    pub fn plan(&self) -> PhasePlan {
        let load = match (self.users, self.rate_from, self.rate_to) {
            (Some(users), ..) => PlanLoad::Users { users, spawn_rate: self.spawn_rate.unwrap_or(1.0) },
            (None, from, to) => {
                let from = from.unwrap_or(0.0);
                PlanLoad::Rate { from, to: to.unwrap_or(from) }
            }
        };
        PhasePlan { name: self.name.clone(), suite: self.suite.clone(), planned: secs(self.planned_s), load }
    }
}

/// A run event on the stream; the SSE event name is the tag.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WireEvent {
    /// The run began: its folder and target are known.
    RunStarted {
        /// The run folder's name.
        run_id: String,
        /// The run folder, as a path on the machine that runs it.
        dir: String,
        /// The base URL being loaded.
        target_url: String,
        /// The phases as planned, in run order.
        phases: Vec<WirePlan>,
    },
    /// A step of bringing the target up (Docker, configure), in words.
    Environment {
        /// The step, in words.
        message: String,
    },
    /// A phase began.
    PhaseStarted {
        /// 0-based position in the plan.
        index: usize,
        /// The phase's name.
        name: String,
        /// Its planned length in seconds.
        planned_s: f64,
    },
    /// A pause between two phases began.
    Pause {
        /// The phase that follows the pause.
        next_phase: String,
        /// The pause's length in seconds.
        duration_s: f64,
    },
    /// A phase ended with its summary.
    PhaseFinished {
        /// 0-based position in the plan.
        index: usize,
        /// What the phase measured.
        summary: Box<PhaseSummary>,
    },
    /// Steering changed the running phase (users, rate or length).
    PhaseChanged {
        /// 0-based position in the plan.
        index: usize,
        /// What changed.
        change: PhaseChange,
        /// The phase's planned length in seconds after the change.
        planned_s: f64,
    },
    /// A fault window of the phase began.
    FaultStarted {
        /// 0-based position of the phase in the plan.
        index: usize,
        /// What the fault does, in words.
        description: String,
        /// Run time in seconds when it began.
        at_s: f64,
    },
    /// A fault window of the phase ended.
    FaultEnded {
        /// 0-based position of the phase in the plan.
        index: usize,
        /// What the fault did, in words.
        description: String,
        /// Run time in seconds when it ended.
        at_s: f64,
    },
    /// Failed requests, grouped (`3 × HTTP 500 on POST /webhook: …`).
    RequestError {
        /// The failure sample, with its count.
        message: String,
    },
    /// A CPU and memory sample of a target service.
    Resource {
        /// The sample.
        sample: ResourceSample,
    },
    /// Something that makes the results less trustworthy, in words.
    Warning {
        /// The warning.
        message: String,
    },
    /// The run ended and wrote its results.
    RunFinished {
        /// The run's summary.
        summary: Box<RunSummary>,
        /// The run folder, as a path on the machine that runs it.
        dir: String,
    },
    /// The latest per-second metrics (sent apart from the events, once per tick).
    Snapshot {
        /// The metrics.
        snapshot: Box<Snapshot>,
    },
}

/// Seconds from the wire as a `Duration`: negative, NaN or huge values become 0 or a day.
pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(if s.is_finite() { s.clamp(0.0, 86_400.0 * 365.0) } else { 0.0 })
}

impl WireEvent {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            WireEvent::RunStarted { .. } => "run_started",
            WireEvent::Environment { .. } => "environment",
            WireEvent::PhaseStarted { .. } => "phase_started",
            WireEvent::Pause { .. } => "pause",
            WireEvent::PhaseFinished { .. } => "phase_finished",
            WireEvent::PhaseChanged { .. } => "phase_changed",
            WireEvent::FaultStarted { .. } => "fault_started",
            WireEvent::FaultEnded { .. } => "fault_ended",
            WireEvent::RequestError { .. } => "request_error",
            WireEvent::Resource { .. } => "resource",
            WireEvent::Warning { .. } => "warning",
            WireEvent::RunFinished { .. } => "run_finished",
            WireEvent::Snapshot { .. } => "snapshot",
        }
    }

    /// An event as the wire carries it (paths as text, durations in seconds).
    pub fn of(event: &Event) -> WireEvent {
        match event.clone() {
            Event::RunStarted { run_id, dir, target_url, phases } => WireEvent::RunStarted {
                run_id,
                dir: dir.display().to_string(),
                target_url,
                phases: phases.iter().map(WirePlan::of).collect(),
            },
            Event::Environment(message) => WireEvent::Environment { message },
            Event::PhaseStarted { index, name, planned } => {
                WireEvent::PhaseStarted { index, name, planned_s: planned.as_secs_f64() }
            }
            Event::Pause { next_phase, duration } => {
                WireEvent::Pause { next_phase, duration_s: duration.as_secs_f64() }
            }
            Event::PhaseFinished { index, summary } => WireEvent::PhaseFinished { index, summary },
            Event::PhaseChanged { index, change, planned } => {
                WireEvent::PhaseChanged { index, change, planned_s: planned.as_secs_f64() }
            }
            Event::FaultStarted { index, description, at_s } => {
                WireEvent::FaultStarted { index, description, at_s }
            }
            Event::FaultEnded { index, description, at_s } => {
                WireEvent::FaultEnded { index, description, at_s }
            }
            Event::RequestError(message) => WireEvent::RequestError { message },
            Event::Resource(sample) => WireEvent::Resource { sample },
            Event::Warning(message) => WireEvent::Warning { message },
            Event::RunFinished { summary, dir } => {
                WireEvent::RunFinished { summary, dir: dir.display().to_string() }
            }
        }
    }

    /// Back into a run event (`Err` holds a snapshot, which travels apart from events).
    pub fn into_event(self) -> Result<Event, Box<Snapshot>> {
        Ok(match self {
            WireEvent::RunStarted { run_id, dir, target_url, phases } => Event::RunStarted {
                run_id,
                dir: PathBuf::from(dir),
                target_url,
                phases: phases.iter().map(WirePlan::plan).collect(),
            },
            WireEvent::Environment { message } => Event::Environment(message),
            WireEvent::PhaseStarted { index, name, planned_s } => {
                Event::PhaseStarted { index, name, planned: secs(planned_s) }
            }
            WireEvent::Pause { next_phase, duration_s } => {
                Event::Pause { next_phase, duration: secs(duration_s) }
            }
            WireEvent::PhaseFinished { index, summary } => Event::PhaseFinished { index, summary },
            WireEvent::PhaseChanged { index, change, planned_s } => {
                Event::PhaseChanged { index, change, planned: secs(planned_s) }
            }
            WireEvent::FaultStarted { index, description, at_s } => {
                Event::FaultStarted { index, description, at_s }
            }
            WireEvent::FaultEnded { index, description, at_s } => {
                Event::FaultEnded { index, description, at_s }
            }
            WireEvent::RequestError { message } => Event::RequestError(message),
            WireEvent::Resource { sample } => Event::Resource(sample),
            WireEvent::Warning { message } => Event::Warning(message),
            WireEvent::RunFinished { summary, dir } => {
                Event::RunFinished { summary, dir: PathBuf::from(dir) }
            }
            WireEvent::Snapshot { snapshot } => return Err(snapshot),
        })
    }
}
