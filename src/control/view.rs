//! What the control API knows of the run: kept up to date from the run's events (the app
//! hands each one to [`Hub::publish`]) and the latest snapshot, and shared with every
//! stream subscriber through a broadcast.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{broadcast, watch};

use super::wire::{
    API_VERSION, LastSecond, LoadNow, PhaseNow, PhaseVerdict, RunState, RunStatus, Totals, VerdictSoFar,
    WireEvent, WirePlan,
};
use crate::experiment::{Event, PhasePlan, PlanLoad};
use crate::metrics::Snapshot;
use crate::metrics::summary::PhaseSummary;

/// Events kept for a slow stream reader; one that falls further behind skips ahead.
const EVENT_BACKLOG: usize = 256;

/// The run as the API reports it, between two events.
#[derive(Clone, Debug, Default)]
pub struct RunView {
    pub run_id: Option<String>,
    pub dir: String,
    pub target_url: String,
    pub plans: Vec<PhasePlan>,
    pub state: RunState,
    pub current: Option<usize>,
    /// The load asked for last in the current phase: users, or an arrival rate.
    pub aim: Option<PlanLoad>,
    pub finished: Vec<PhaseVerdict>,
    finished_requests: u64,
    finished_failures: u64,
    finished_indexes: Vec<usize>,
    /// The run's own verdict (`passed` of its summary), once it has finished.
    final_passed: Option<bool>,
    /// The `run_finished` event, for a stream reader who joins while the API lingers.
    final_event: Option<WireEvent>,
}

impl RunView {
    fn apply(&mut self, event: &Event) {
        match event {
            Event::RunStarted { run_id, dir, target_url, phases } => {
                self.run_id = Some(run_id.clone());
                self.dir = dir.display().to_string();
                self.target_url = target_url.clone();
                self.plans = phases.clone();
            }
            Event::PhaseStarted { index, .. } => {
                self.current = Some(*index);
                self.aim = self.plans.get(*index).map(|p| p.load);
                self.set_state(RunState::Running);
            }
            Event::Pause { .. } => self.set_state(RunState::Pause),
            Event::PhaseFinished { index, summary } => self.finish_phase(*index, summary),
            Event::PhaseChanged { index, change, planned } => {
                if let Some(plan) = self.plans.get_mut(*index) {
                    plan.planned = *planned;
                }
                if let Some(users) = change.users {
                    self.aim = Some(PlanLoad::Users { users, spawn_rate: 0.0 });
                }
                if let Some(rate) = change.arrival_rate {
                    self.aim = Some(PlanLoad::Rate { from: rate, to: rate });
                }
            }
            Event::RunFinished { summary, .. } => {
                self.state = RunState::Finished;
                self.final_passed = Some(summary.passed);
                self.final_event = Some(WireEvent::of(event));
            }
            _ => {}
        }
    }

    /// A stopping run stays stopping until it has finished.
    fn set_state(&mut self, state: RunState) {
        if self.state != RunState::Stopping && self.state != RunState::Finished {
            self.state = state;
        }
    }

    fn finish_phase(&mut self, index: usize, summary: &PhaseSummary) {
        self.finished_requests += summary.summary.total_requests;
        self.finished_failures += summary.summary.failure_count;
        self.finished_indexes.push(index);
        self.finished.push(PhaseVerdict {
            name: summary.name.clone(),
            thresholds_passed: summary.thresholds.iter().all(|t| t.passed),
            validity: summary.validity.as_ref().map(|v| v.verdict.clone()),
        });
    }

    /// The model of the phase running now, if one runs.
    pub fn running_model(&self) -> Option<PlanLoad> {
        if self.state != RunState::Running {
            return None;
        }
        self.current.and_then(|i| self.plans.get(i)).map(|p| p.load)
    }

    pub fn status(&self, snapshot: &Snapshot) -> RunStatus {
        let live = self.current.filter(|i| *i == snapshot.phase_index && !self.finished_indexes.contains(i));
        let (live_requests, live_failures) =
            if live.is_some() { (snapshot.total_requests, snapshot.total_failures) } else { (0, 0) };
        let phase = self.current.and_then(|index| {
            let plan = self.plans.get(index)?;
            let model = match plan.load {
                PlanLoad::Users { .. } => "users",
                PlanLoad::Rate { .. } => "arrival_rate",
            };
            let elapsed_s = if snapshot.phase_index == index { snapshot.phase_elapsed_s } else { 0.0 };
            Some(PhaseNow {
                index,
                name: plan.name.clone(),
                model: model.into(),
                elapsed_s,
                planned_s: plan.planned.as_secs_f64(),
            })
        });
        let arrival_rate = match (self.aim, &phase) {
            // A ramp: where it is now, by the share of the phase gone.
            (Some(PlanLoad::Rate { from, to }), Some(now)) if now.planned_s > 0.0 => {
                Some(from + (to - from) * (now.elapsed_s / now.planned_s).clamp(0.0, 1.0))
            }
            (Some(PlanLoad::Rate { from, .. }), _) => Some(from),
            _ => None,
        };
        // Once the run is over, its own verdict (failure policy, validity) is the answer.
        let passing = self.final_passed.unwrap_or_else(|| self.finished.iter().all(|p| p.thresholds_passed));
        RunStatus {
            api_version: API_VERSION,
            run_id: self.run_id.clone(),
            state: self.state,
            phase,
            phase_count: self.plans.len(),
            run_elapsed_s: snapshot.run_elapsed_s,
            run_planned_s: self.plans.iter().map(|p| p.planned.as_secs_f64()).sum(),
            load: LoadNow { users: snapshot.users, arrival_rate, in_flight: snapshot.in_flight },
            totals: Totals {
                requests: self.finished_requests + live_requests,
                failures: self.finished_failures + live_failures,
            },
            last_second: LastSecond {
                requests_per_s: snapshot.rps,
                failures_per_s: snapshot.fps,
                p50_ms: snapshot.p50_ms,
                p95_ms: snapshot.p95_ms,
                p99_ms: snapshot.p99_ms,
            },
            verdict: VerdictSoFar {
                passing,
                generator_bound: if live.is_some() { snapshot.generator_bound.clone() } else { Vec::new() },
                phases: self.finished.clone(),
            },
        }
    }

    /// True once the run's last event has been published.
    pub fn is_finished(&self) -> bool {
        self.state == RunState::Finished
    }

    /// The events that bring a stream reader who joins now up to date: the run's start,
    /// the phase (or pause) in progress, and `run_finished` when the run is over (a reader
    /// joining after the end gets it and its stream ends, as a live reader's does).
    pub fn catch_up(&self) -> Vec<WireEvent> {
        let Some(run_id) = &self.run_id else { return Vec::new() };
        let mut events = vec![WireEvent::RunStarted {
            run_id: run_id.clone(),
            dir: self.dir.clone(),
            target_url: self.target_url.clone(),
            phases: self.plans.iter().map(WirePlan::of).collect(),
        }];
        if let Some(index) = self.current
            && let Some(plan) = self.plans.get(index)
        {
            events.push(WireEvent::PhaseStarted {
                index,
                name: plan.name.clone(),
                planned_s: plan.planned.as_secs_f64(),
            });
        }
        events.extend(self.final_event.clone());
        events
    }
}

/// The run's view and its event stream, shared by the app (which publishes) and the server.
#[derive(Clone)]
pub struct Hub {
    view: Arc<Mutex<RunView>>,
    events: broadcast::Sender<WireEvent>,
    snapshots: watch::Receiver<Snapshot>,
}

impl Hub {
    /// An empty view (no run yet) that reads snapshots from `snapshots`.
    pub fn new(snapshots: watch::Receiver<Snapshot>) -> Hub {
        let (events, _) = broadcast::channel(EVENT_BACKLOG);
        Hub { view: Arc::default(), events, snapshots }
    }

    /// Takes in one run event: the view follows it and stream readers receive it.
    pub fn publish(&self, event: &Event) {
        // Sent while the view is held, so a reader subscribing now gets the event either in
        // its catch-up or on the stream, never both and never neither.
        self.with_view(|view| {
            view.apply(event);
            // No reader connected is the usual case: nothing is lost, the view has it.
            let _ = self.events.send(WireEvent::of(event));
        });
    }

    /// The run was asked to stop: the status says `stopping` until it has finished.
    pub fn mark_stopping(&self) {
        self.with_view(|view| view.set_state(RunState::Stopping));
    }

    /// Reads or changes the view; a panic elsewhere while it was held leaves it usable.
    pub fn with_view<T>(&self, f: impl FnOnce(&mut RunView) -> T) -> T {
        let mut view = self.view.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut view)
    }

    /// The `GET /v1/run` answer: the view with the latest snapshot.
    pub fn status(&self) -> RunStatus {
        let snapshot = self.snapshots.borrow().clone();
        self.with_view(|view| view.status(&snapshot))
    }

    /// A stream reader's start: the catch-up events, then everything published from now on.
    pub fn subscribe(&self) -> (Vec<WireEvent>, broadcast::Receiver<WireEvent>, watch::Receiver<Snapshot>) {
        // Subscribed while the view is held, so no event falls between catch-up and stream.
        self.with_view(|view| (view.catch_up(), self.events.subscribe(), self.snapshots.clone()))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;

    fn plan(name: &str, load: PlanLoad) -> PhasePlan {
        PhasePlan { name: name.into(), suite: "s".into(), planned: Duration::from_secs(10), load }
    }

    #[test]
    fn a_reader_joining_mid_run_is_caught_up_and_steering_follows_the_phase() {
        let (_tx, rx) = watch::channel(Snapshot::default());
        let hub = Hub::new(rx);
        assert!(hub.subscribe().0.is_empty(), "nothing to catch up before the run starts");
        hub.publish(&Event::RunStarted {
            run_id: "r1".into(),
            dir: PathBuf::from("/tmp/r1"),
            target_url: "http://127.0.0.1:1".into(),
            phases: vec![
                plan("closed", PlanLoad::Users { users: 2, spawn_rate: 1.0 }),
                plan("open", PlanLoad::Rate { from: 5.0, to: 5.0 }),
            ],
        });
        assert_eq!(hub.with_view(|v| v.running_model()), None, "no phase runs yet");
        hub.publish(&Event::PhaseStarted { index: 1, name: "open".into(), planned: Duration::from_secs(10) });
        let (catch_up, mut stream, _) = hub.subscribe();
        let names: Vec<&str> = catch_up.iter().map(WireEvent::name).collect();
        assert_eq!(names, ["run_started", "phase_started"]);
        assert!(stream.try_recv().is_err(), "what the catch-up had is not sent twice");
        assert_eq!(hub.with_view(|v| v.running_model()), Some(PlanLoad::Rate { from: 5.0, to: 5.0 }));
        let status = hub.status();
        assert_eq!(status.state, RunState::Running);
        assert_eq!(status.load.arrival_rate, Some(5.0));
        hub.mark_stopping();
        hub.publish(&Event::Pause { next_phase: "x".into(), duration: Duration::from_secs(1) });
        assert_eq!(hub.status().state, RunState::Stopping, "a stopping run stays stopping");
    }
}
