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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_rate: Option<f64>,
}

/// `POST /v1/run/extend`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extend {
    pub seconds: f64,
}

/// Every refusal: what went wrong and how to do it right.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
}

/// The answer to a steering, skip or abort call: what was asked, in words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Accepted {
    pub accepted: String,
}

/// Where the run is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// The target is being brought up; no phase yet.
    #[default]
    Starting,
    Running,
    /// Between two phases.
    Pause,
    /// Asked to stop; the results are being written.
    Stopping,
    Finished,
}

/// `GET /v1/run`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunStatus {
    pub api_version: u32,
    pub run_id: Option<String>,
    pub state: RunState,
    /// The phase running now (or last), with its model.
    pub phase: Option<PhaseNow>,
    pub phase_count: usize,
    pub run_elapsed_s: f64,
    /// The run's planned length, extensions included (pauses not counted).
    pub run_planned_s: f64,
    pub load: LoadNow,
    pub totals: Totals,
    pub last_second: LastSecond,
    pub verdict: VerdictSoFar,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseNow {
    pub index: usize,
    pub name: String,
    /// `users` (closed model, steer with `users`) or `arrival_rate` (open model).
    pub model: String,
    pub elapsed_s: f64,
    pub planned_s: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadNow {
    pub users: u32,
    /// The arrival rate asked for last (open model); absent in a closed-model phase.
    pub arrival_rate: Option<f64>,
    pub in_flight: u64,
}

/// Requests and failures over the run so far (finished phases and the running one).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub requests: u64,
    pub failures: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LastSecond {
    pub requests_per_s: f64,
    pub failures_per_s: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VerdictSoFar {
    /// False once a finished phase failed a threshold or was not valid.
    pub passing: bool,
    /// The running phase's validity limits breached so far, in words.
    pub generator_bound: Vec<String>,
    pub phases: Vec<PhaseVerdict>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseVerdict {
    pub name: String,
    pub thresholds_passed: bool,
    /// `valid`, `generator_bound`, … (absent when the phase was not judged).
    pub validity: Option<String>,
}

/// A phase as planned, on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WirePlan {
    pub name: String,
    pub suite: String,
    pub planned_s: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spawn_rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_from: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_to: Option<f64>,
}

impl WirePlan {
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
    RunStarted { run_id: String, dir: String, target_url: String, phases: Vec<WirePlan> },
    Environment { message: String },
    PhaseStarted { index: usize, name: String, planned_s: f64 },
    Pause { next_phase: String, duration_s: f64 },
    PhaseFinished { index: usize, summary: Box<PhaseSummary> },
    PhaseChanged { index: usize, change: PhaseChange, planned_s: f64 },
    FaultStarted { index: usize, description: String, at_s: f64 },
    FaultEnded { index: usize, description: String, at_s: f64 },
    RequestError { message: String },
    Resource { sample: ResourceSample },
    Warning { message: String },
    RunFinished { summary: Box<RunSummary>, dir: String },
    Snapshot { snapshot: Box<Snapshot> },
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
