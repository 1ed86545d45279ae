//! Feeds the run-wide Prometheus series from each tick of a phase: successes and latencies
//! of the window, failures by kind (the phase's totals less what was already counted), and
//! the gauges of the latest second. One `send_modify` per tick; nothing per request.

use std::collections::BTreeMap;

use tokio::sync::watch;

use super::PlanLoad;
use crate::engine::TickReport;
use crate::engine::recorder::NameKey;
use crate::metrics::FailureKind;
use crate::prometheus::{Gauges, LiveSeries};

pub struct LiveFeed {
    series: watch::Sender<LiveSeries>,
    /// Failures by (name, kind) already added, from the phase's cumulative totals.
    failures_seen: BTreeMap<(NameKey, FailureKind), u64>,
    load: PlanLoad,
    /// The phase's length as planned: a ramp runs over it, extensions hold its final rate.
    ramp_s: f64,
    /// A constant rate steering set, replacing the planned schedule.
    steered_rate: Option<f64>,
}

/// What the sink knows of the second besides the tick itself.
pub struct SecondFigures<'a> {
    pub phase: &'a str,
    pub achieved_rate: f64,
    pub generator_cpu_ratio: Option<f64>,
}

impl LiveFeed {
    pub fn new(series: watch::Sender<LiveSeries>, load: PlanLoad, planned_s: f64) -> LiveFeed {
        LiveFeed { series, failures_seen: BTreeMap::new(), load, ramp_s: planned_s, steered_rate: None }
    }

    pub fn on_change(&mut self, change: &crate::metrics::summary::PhaseChange) {
        if let Some(rate) = change.arrival_rate {
            self.steered_rate = Some(rate);
        }
    }

    fn target_rate(&self, elapsed_s: f64) -> Option<f64> {
        match self.load {
            PlanLoad::Users { .. } => None,
            PlanLoad::Rate { from, to } => Some(self.steered_rate.unwrap_or_else(|| {
                let share = if self.ramp_s > 0.0 { (elapsed_s / self.ramp_s).clamp(0.0, 1.0) } else { 1.0 };
                from + (to - from) * share
            })),
        }
    }

    pub fn on_tick(&mut self, report: &TickReport<'_>, second: &SecondFigures<'_>) {
        let mut new_failures = Vec::new();
        for ((key, kind), totals) in &report.totals.failures {
            let seen = self.failures_seen.entry((key.clone(), *kind)).or_default();
            // A distributed run's totals can step back when a worker is lost: count nothing then.
            if totals.count > *seen {
                new_failures.push((key, *kind, totals.count - *seen));
                *seen = totals.count;
            }
        }
        let gauges = Gauges {
            users: report.users,
            in_flight: report.in_flight,
            target_arrival_rate: self.target_rate(report.phase_elapsed.as_secs_f64()),
            achieved_rate: second.achieved_rate,
            schedule_lag_p99_s: (!report.totals.lag.is_empty())
                .then(|| report.totals.lag.quantile_ms(0.99) / 1000.0),
            generator_cpu_ratio: second.generator_cpu_ratio,
        };
        self.series.send_modify(|series| {
            for ((method, name), t) in &report.tick.names {
                series.add_window(method, name, t.requests.saturating_sub(t.failures), &t.latency);
            }
            for ((method, name), kind, count) in &new_failures {
                series.add_failures(method, name, kind, *count);
            }
            series.set_gauges(second.phase, gauges);
        });
    }
}
