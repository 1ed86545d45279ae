//! The Results screen's run detail (Enter on a run): what `app` read from the run folder,
//! shaped for drawing, and where the user is in it (phase, scroll). Plain data, no I/O.

use crate::analysis::Finding;
use crate::metrics::summary::RunSummary;

use super::run_state::Point;

/// One phase over time, in seconds from the phase's start: throughput and percentiles.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PhaseTimeline {
    /// Requests per second, per interval.
    pub rps: Vec<Point>,
    /// Failed requests per second, per interval.
    pub failed_rps: Vec<Point>,
    /// Median latency (ms), per interval.
    pub p50: Vec<Point>,
    /// 95th percentile latency (ms), per interval.
    pub p95: Vec<Point>,
    /// 99th percentile latency (ms), per interval.
    pub p99: Vec<Point>,
    /// Where the percentiles came from: `hlog` (exact, per interval), `history` (the
    /// history CSV's windowed columns) or empty when neither file could be read.
    pub percentiles_from: &'static str,
}

/// A run folder read for the detail view.
#[derive(Clone, Debug)]
pub struct RunDetail {
    /// The run's `experiment_summary.json`.
    pub summary: RunSummary,
    /// One per phase of the summary, in its order.
    pub timelines: Vec<PhaseTimeline>,
    /// The run's findings, with the per-second histories (as the HTML and Markdown reports).
    pub findings: Vec<Finding>,
    /// What could not be read (a missing history, a damaged hlog): shown, never fatal.
    pub warnings: Vec<String>,
}

/// The detail of one run: being read, read, or why it cannot be shown.
#[derive(Clone, Debug)]
pub enum DetailLoad {
    /// `app` is reading the folder.
    Loading,
    /// Read; what is missing is listed in its `warnings`.
    Loaded(Box<RunDetail>),
    /// The run cannot be shown (no summary, unreadable folder): why.
    Failed(String),
}

/// The open detail view: which run, its data, the phase shown and the scroll of its text.
#[derive(Clone, Debug)]
pub struct Explorer {
    /// The run folder's name.
    pub run_id: String,
    /// Its data, once read.
    pub load: DetailLoad,
    /// Index into the summary's phases.
    pub phase: usize,
    /// First line of the detail text shown (lines under the charts).
    pub scroll: u16,
}

impl Explorer {
    /// The view of `run_id` while its folder is read: first phase, top of the text.
    pub fn opening(run_id: String) -> Self {
        Self { run_id, load: DetailLoad::Loading, phase: 0, scroll: 0 }
    }

    /// The run's data once read; `None` while loading or when it failed.
    pub fn detail(&self) -> Option<&RunDetail> {
        match &self.load {
            DetailLoad::Loaded(detail) => Some(detail),
            DetailLoad::Loading | DetailLoad::Failed(_) => None,
        }
    }

    /// Phases in the run's summary; 0 until it is read.
    pub fn phase_count(&self) -> usize {
        self.detail().map_or(0, |d| d.summary.experiments.len())
    }
}
