//! State of the Run screen: the run's plan and progress, the per-second series behind the
//! charts (bounded), recent errors, and the background chart rendering at the end.

use std::collections::VecDeque;
use std::path::PathBuf;

use crate::experiment::PhasePlan;
use crate::metrics::Snapshot;
use crate::metrics::summary::{PhaseChange, PhaseSummary, RunSummary};

/// (seconds since the run started, value).
pub type Point = (f64, f64);

/// Points kept per series; past this every other point is dropped (a 1 h run at 1/s fits).
pub const SERIES_CAP: usize = 4_000;
/// Recent errors and environment messages kept.
pub const RECENT_CAP: usize = 100;

/// The per-second series behind the Run screen's charts: one point per snapshot, x in seconds since the run started. At most [`SERIES_CAP`] points each; past that every other point is dropped, so a long run keeps its whole shape at a coarser step.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// Requests per second.
    pub rps: Vec<Point>,
    /// Failed requests per second.
    pub fps: Vec<Point>,
    /// Median latency (ms) of the last second.
    pub p50: Vec<Point>,
    /// 95th percentile latency (ms) of the last second.
    pub p95: Vec<Point>,
    /// 99th percentile latency (ms) of the last second.
    pub p99: Vec<Point>,
}

impl Series {
    /// Points held (the same in every series).
    pub fn len(&self) -> usize {
        self.rps.len()
    }

    /// True before the first snapshot of the run.
    pub fn is_empty(&self) -> bool {
        self.rps.is_empty()
    }

    /// Adds one second; a snapshot for the same instant replaces the previous point.
    pub fn push(&mut self, snap: &Snapshot) {
        let t = snap.run_elapsed_s;
        if self.rps.last().is_some_and(|&(last, _)| last >= t) {
            for list in self.lists_mut() {
                list.pop();
            }
        }
        self.rps.push((t, snap.rps));
        self.fps.push((t, snap.fps));
        self.p50.push((t, snap.p50_ms));
        self.p95.push((t, snap.p95_ms));
        self.p99.push((t, snap.p99_ms));
        if self.rps.len() > SERIES_CAP {
            for list in self.lists_mut() {
                let kept: Vec<Point> = list.iter().step_by(2).copied().collect();
                *list = kept;
            }
        }
    }

    fn lists_mut(&mut self) -> [&mut Vec<Point>; 5] {
        [&mut self.rps, &mut self.fps, &mut self.p50, &mut self.p95, &mut self.p99]
    }
}

/// Where the run shown on the Run screen is in its life.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum RunPhase {
    /// No run yet in this session.
    #[default]
    Idle,
    /// Asked for; the environment is being prepared.
    Starting,
    /// Phases are being run (or paused between).
    Running,
    /// Abort asked; waiting for the partial results to be written.
    Stopping,
    /// The run ended and wrote its results (whether or not every phase ran).
    Finished,
    /// The run could not start or stopped on an error: the message.
    Failed(String),
}

/// Chart rendering after a run or on export.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum ChartsState {
    /// No rendering asked for yet.
    #[default]
    NotStarted,
    /// Charts and reports of this run folder are being drawn.
    Rendering {
        /// The run folder being rendered.
        dir: PathBuf,
    },
    /// Rendering ended; what it could not draw is in `warnings`.
    Done {
        /// The run folder rendered.
        dir: PathBuf,
        /// The PNG (or SVG) files written.
        charts: Vec<PathBuf>,
        /// The HTML reports written.
        html: Vec<PathBuf>,
        /// Charts skipped and why (a phase without data, say).
        warnings: Vec<String>,
    },
    /// Rendering failed as a whole.
    Failed {
        /// The run folder it was for.
        dir: PathBuf,
        /// Why it failed.
        error: String,
    },
}

/// A pause between phases, as announced.
#[derive(Clone, Debug, PartialEq)]
pub struct PauseInfo {
    /// Name of the phase that starts after the pause.
    pub next_phase: String,
    /// Length of the pause in seconds (after the time scale).
    pub duration_s: f64,
    /// Run time when the pause started (from the latest snapshot).
    pub since_run_s: f64,
}

/// State of the Run screen: the active run (or the last one), its plan, live data and what the user is typing. Bounded: series by [`SERIES_CAP`], message lists by [`RECENT_CAP`].
#[derive(Clone, Debug, Default)]
pub struct RunState {
    /// Where the run is in its life.
    pub phase: RunPhase,
    /// Name of the profile being run (`adhoc:<behaviour>` for a quick run).
    pub profile: String,
    /// Where the load goes, as shown in the header (`embedded`, `docker`, a URL).
    pub target: String,
    /// The run folder's name, once the run has created it.
    pub run_id: Option<String>,
    /// The run folder, once created.
    pub dir: Option<PathBuf>,
    /// The base URL being loaded, once the run has announced it.
    pub target_url: Option<String>,
    /// The phases as planned (after overrides and the time scale), in run order.
    pub plan: Vec<PhasePlan>,
    /// 0-based index of the phase running now (from `PhaseStarted`).
    pub current_phase: Option<usize>,
    /// The pause between two phases, while one is on.
    pub pause: Option<PauseInfo>,
    /// The aggregator's latest snapshot.
    pub snapshot: Option<Snapshot>,
    /// The per-second series of the whole run.
    pub series: Series,
    /// View frozen by the pause key: series length and snapshot at that moment.
    pub frozen: Option<(usize, Option<Snapshot>)>,
    /// Summaries of the phases that have ended, in order.
    pub finished_phases: Vec<PhaseSummary>,
    /// Recent error lines, oldest dropped first (at most [`RECENT_CAP`]).
    pub errors: VecDeque<String>,
    /// Failures grouped by phase, kind and message (the errors pane); at most
    /// [`RECENT_CAP`] groups, the least recently seen dropped first.
    pub error_groups: Vec<ErrorGroup>,
    /// Recent messages of the run and its environment (warnings, progress), at most [`RECENT_CAP`].
    pub messages: VecDeque<String>,
    /// Latest CPU % and memory of the target, by service.
    pub resources: Vec<(String, f64, u64)>,
    /// The run's summary once it has ended.
    pub summary: Option<Box<RunSummary>>,
    /// The rendering of the run's charts and reports after it ended.
    pub charts: ChartsState,
    /// Steering changes applied during the run, with their run time: markers on the charts.
    pub changes: Vec<ChangeMarker>,
    /// What the running phase aims at now (its plan, then each applied change).
    pub steer_target: Option<SteerTarget>,
    /// A number (users, rate) or time (extension) being typed on the Run screen.
    pub steer_input: Option<SteerInput>,
    /// Run times at which the live statistics were reset (`r`).
    pub resets: Vec<f64>,
    /// Fault windows as (run time of the start, of the end once over, what it does).
    pub faults: Vec<(f64, Option<f64>, String)>,
    /// The latency chart's log axis was asked for (`L`); otherwise it is linear unless the
    /// shown phase spans more than two decades.
    pub latency_log: bool,
}

/// The running phase's current aim, as live steering changes it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SteerTarget {
    /// Users of a closed-model phase.
    Users(u32),
    /// Arrivals per second; a ramp until the first change (`to` at the phase's end).
    Rate {
        /// Rate at the phase's start (arrivals per second).
        from: f64,
        /// Rate at the phase's planned end (arrivals per second).
        to: f64,
    },
}

impl SteerTarget {
    /// The aim `elapsed` of `planned` seconds into the phase.
    pub fn now(&self, elapsed_s: f64, planned_s: f64) -> f64 {
        match *self {
            SteerTarget::Users(n) => f64::from(n),
            SteerTarget::Rate { from, to } => {
                from + (to - from) * (elapsed_s / planned_s.max(1e-9)).clamp(0.0, 1.0)
            }
        }
    }
}

/// What the Run screen's input line sets on Enter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SteerField {
    /// The user count (closed model) or arrival rate (open model).
    Load,
    /// How much longer the current phase runs.
    Extend,
}

/// The Run screen's input line while `u` or `e` is typing a value.
#[derive(Clone, Debug, PartialEq)]
pub struct SteerInput {
    /// What Enter sets.
    pub field: SteerField,
    /// The text typed: a number for `Load`, a duration (`30s`, `2m`) for `Extend`.
    pub text: String,
    /// Its cursor: the prefilled value starts selected, so `u` `8` sets 8, not 58.
    pub caret: crate::tui::edit::Caret,
    /// Why the last Enter was refused, shown beside the field.
    pub error: Option<String>,
}

/// Identical failures of one phase: "HTTP 500 on POST /webhook: …", how many, last seen.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorGroup {
    /// 0-based phase index (`None` before the first phase started).
    pub phase: Option<usize>,
    /// Kind, endpoint and message: what makes two failures the same.
    pub what: String,
    /// How many such failures were reported (saturating).
    pub count: u64,
    /// Run time (s) of the latest report of it.
    pub last_seen_s: f64,
}

impl RunState {
    /// Counts a failure sample ("3 × HTTP 500 on POST /webhook: boom") into its group.
    pub fn count_error(&mut self, sample: &str) {
        let (count, what) = match sample.split_once(" × ") {
            Some((n, rest)) => match n.trim().parse::<u64>() {
                Ok(n) => (n, rest),
                Err(_) => (1, sample),
            },
            None => (1, sample),
        };
        let now = self.snapshot.as_ref().map_or(0.0, |s| s.run_elapsed_s);
        let phase = self.current_phase;
        match self.error_groups.iter_mut().find(|g| g.phase == phase && g.what == what) {
            Some(group) => {
                group.count = group.count.saturating_add(count);
                group.last_seen_s = now;
            }
            None => {
                if self.error_groups.len() >= RECENT_CAP
                    && let Some(oldest) = self
                        .error_groups
                        .iter()
                        .enumerate()
                        .min_by(|a, b| a.1.last_seen_s.total_cmp(&b.1.last_seen_s))
                        .map(|(i, _)| i)
                {
                    self.error_groups.remove(oldest);
                }
                self.error_groups.push(ErrorGroup { phase, what: what.to_string(), count, last_seen_s: now });
            }
        }
    }

    /// The running (or last) phase's error groups, most recently seen first.
    pub fn phase_errors(&self) -> Vec<&ErrorGroup> {
        let mut groups: Vec<&ErrorGroup> =
            self.error_groups.iter().filter(|g| g.phase == self.current_phase).collect();
        groups.sort_by(|a, b| b.last_seen_s.total_cmp(&a.last_seen_s));
        groups
    }
}

/// A steering change placed on the run's timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeMarker {
    /// Seconds since the run started.
    pub run_s: f64,
    /// What changed (users, rate, duration) and to what.
    pub change: PhaseChange,
}

impl RunState {
    /// True from the moment a run is asked for until it has written its results.
    pub fn is_active(&self) -> bool {
        matches!(self.phase, RunPhase::Starting | RunPhase::Running | RunPhase::Stopping)
    }

    /// What the dashboard shows: live data, or what it was when the view was paused.
    /// Returns how many points of each series to draw and the snapshot to show.
    pub fn shown(&self) -> (usize, Option<&Snapshot>) {
        match &self.frozen {
            Some((len, snap)) => ((*len).min(self.series.len()), snap.as_ref()),
            None => (self.series.len(), self.snapshot.as_ref()),
        }
    }
}
