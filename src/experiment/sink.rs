//! What happens on every tick of a phase: history rows appended, the second's histogram
//! appended to the hlog, a snapshot published, a few error samples sent as events.

use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, watch};

use super::Event;
use crate::engine::aggregate::{PhaseTotals, Totals, locust_percentiles};
use crate::engine::{TickReport, TickSink};
use crate::metrics::hlog::HlogWriter;
use crate::metrics::{ServerCounters, Snapshot};
use crate::report::files::{HistoryRow, HistoryWriter};

/// Error samples per tick sent as events (the rest are counted, not shown).
const ERROR_SAMPLES_PER_TICK: usize = 3;

pub struct PhaseSink {
    pub history: Option<HistoryWriter>,
    pub hlog: Option<HlogWriter>,
    pub snapshots: watch::Sender<Snapshot>,
    pub events: mpsc::Sender<Event>,
    /// Latest server counters, filled by the status poller.
    pub server: Arc<Mutex<Option<ServerCounters>>>,
    pub phase_index: usize,
    pub phase_count: usize,
    pub phase_name: String,
    pub phase_planned_s: f64,
    pub run_start_unix_s: f64,
    /// The first failed write of the history CSV or the hlog: warned once, not every
    /// second, and kept for the phase's notes (a warning alone can be lost in a full queue).
    pub write_failure: Option<String>,
    /// Successful requests and covered time of full ticks (the capacity search's achieved rate).
    pub steady_ok: u64,
    pub steady_s: f64,
    /// What the live snapshot counts from (the phase's start, or the last reset).
    pub view: LiveView,
    /// Each second's requests, failures and p99, for the recovery after a fault.
    pub seconds: Vec<super::faults::Second>,
    /// The validity verdict on the figures so far, set once the generator probe runs.
    pub live_check: Option<super::validity::LiveCheck>,
    /// The run-wide Prometheus series, when `/metrics` or remote write is on.
    pub live: Option<super::live_feed::LiveFeed>,
}

/// The live view's own totals once its statistics were reset during the phase.
pub struct LiveView {
    reset: super::steering::ViewReset,
    seen: u64,
    since_reset: Option<PhaseTotals>,
}

impl LiveView {
    pub fn new(reset: super::steering::ViewReset) -> LiveView {
        let seen = reset.generation();
        LiveView { reset, seen, since_reset: None }
    }

    /// Folds the tick in; the totals the snapshot shows.
    fn totals<'a>(&'a mut self, report: &'a TickReport<'_>) -> &'a PhaseTotals {
        let generation = self.reset.generation();
        if generation != self.seen {
            self.seen = generation;
            self.since_reset = Some(PhaseTotals::default());
        }
        match &mut self.since_reset {
            Some(view) => {
                view.absorb_tick(report.tick);
                view
            }
            None => report.totals,
        }
    }
}

impl PhaseSink {
    fn warn_once(&mut self, message: String) {
        if self.write_failure.is_none() {
            // A full queue drops only the live warning: the message is kept for the phase's notes.
            let _ = self.events.try_send(Event::Warning(message.clone()));
            self.write_failure = Some(message);
        }
    }

    fn history_rows(&self, report: &TickReport<'_>, timestamp: i64) -> Vec<HistoryRow> {
        // The last window after a phase stops can be a few milliseconds long: rates over it would
        // spike (2 requests in 50 ms is not 40 req/s), so they are taken over at least one tick.
        let window_s = rate_window_s(report);
        let row = |method: &str, name: &str, w: Option<&Totals>, t: &Totals| HistoryRow {
            timestamp_unix_s: timestamp,
            users: Some(report.users),
            method: method.to_string(),
            name: name.to_string(),
            rps: w.map_or(0.0, |w| w.requests as f64 / window_s),
            fps: w.map_or(0.0, |w| w.failures as f64 / window_s),
            percentiles_ms: w
                .filter(|w| !w.latency.is_empty())
                .map_or([None; 11], |w| locust_percentiles(&w.latency).map(Some)),
            total_requests: t.requests,
            total_failures: t.failures,
            total_median_ms: t.latency.quantile_ms(0.5),
            total_avg_ms: t.latency.mean_ms(),
            total_min_ms: Some(t.latency.min_ms()),
            total_max_ms: t.latency.max_ms(),
            total_avg_content_bytes: t.avg_content_bytes(),
        };
        let mut rows: Vec<HistoryRow> = report
            .totals
            .names
            .iter()
            .map(|(key, t)| row(key.0, &key.1, report.tick.names.get(key), t))
            .collect();
        rows.push(row("", "Aggregated", Some(&report.tick.all), &report.totals.all));
        rows
    }

    /// The limits breached so far; the first breach of the phase is also said once as a
    /// warning, so the headless output and the Run screen's events show when it happened.
    fn live_verdict(&mut self, report: &TickReport<'_>) -> Vec<String> {
        let Some(check) = self.live_check.as_mut() else { return Vec::new() };
        if report.is_final {
            // The last partial window adds nothing the phase's own verdict will not judge.
            return check.reasons().to_vec();
        }
        let (reasons, first) = check.check(report.totals, report.phase_elapsed);
        if first {
            // A full event queue means the consumer is busy: the snapshot carries the reasons too.
            let _ = self.events.try_send(Event::Warning(super::validity::live_warning(
                &self.phase_name,
                report.phase_elapsed.as_secs_f64(),
                reasons,
            )));
        }
        reasons.to_vec()
    }
}

impl TickSink for PhaseSink {
    fn on_change(&mut self, change: &crate::metrics::summary::PhaseChange, planned: std::time::Duration) {
        self.phase_planned_s = planned.as_secs_f64();
        if let Some(live) = self.live.as_mut() {
            live.on_change(change);
        }
        // A full queue means the consumer is busy; the change is kept in the summary anyway.
        let _ = self.events.try_send(Event::PhaseChanged {
            index: self.phase_index,
            change: change.clone(),
            planned,
        });
    }

    fn on_refused(&mut self, reason: &crate::engine::SteerRefused) {
        // The TUI and the control API check a request against the phase's model before
        // sending it, so this is a backstop; a full queue drops only its echo.
        let _ = self.events.try_send(Event::Warning(format!("{}: {reason}", self.phase_name)));
    }

    fn on_tick(&mut self, report: &TickReport<'_>) {
        let now_s = crate::sys::clock::unix_s(report.at);
        let window_s = report.window.as_secs_f64();
        if !report.is_final {
            self.steady_ok += report.tick.all.requests - report.tick.all.failures;
            self.steady_s += window_s;
        }
        // A final window of a few milliseconds holds nothing worth a history row.
        let worth_a_row = !report.is_final || report.tick.all.requests > 0 || window_s >= 0.5;
        if worth_a_row {
            let rows = self.history_rows(report, now_s as i64);
            if let Some(Err(e)) = self.history.as_mut().map(|h| h.append(&rows)) {
                self.warn_once(e.to_string());
            }
            let offset =
                std::time::Duration::from_secs_f64((now_s - window_s - self.run_start_unix_s).max(0.0));
            if let Some(Err(e)) =
                self.hlog.as_mut().map(|h| h.append(offset, report.window, &report.tick.all.latency))
            {
                self.warn_once(e.to_string());
            }
        }
        for sample in report.tick.error_samples.iter().take(ERROR_SAMPLES_PER_TICK) {
            // A full event queue means the consumer is busy; dropping a sample loses nothing counted.
            let _ = self.events.try_send(Event::RequestError(sample.clone()));
        }
        if !worth_a_row {
            return;
        }
        let generator_bound = self.live_verdict(report);
        self.seconds.push(super::faults::Second {
            end_s: report.phase_elapsed.as_secs_f64(),
            length_s: window_s,
            requests: report.tick.all.requests,
            failures: report.tick.all.failures,
            p99_ms: report.tick.all.latency.quantile_ms(0.99),
            logical: report.tick.retry.logical,
            attempts: report.tick.retry.attempts,
        });
        let rate_s = rate_window_s(report);
        let window_rate = |n: u64| n as f64 / rate_s;
        let all = &report.tick.all;
        if let Some(live) = self.live.as_mut() {
            let cpu = self.live_check.as_ref().and_then(|c| c.cpu_share());
            let second = super::live_feed::SecondFigures {
                phase: &self.phase_name,
                achieved_rate: window_rate(all.requests),
                generator_cpu_ratio: cpu,
            };
            live.on_tick(report, &second);
        }
        let server = self.server.lock().map(|s| s.clone()).unwrap_or(None);
        let view = self.view.totals(report);
        let (total_requests, total_failures, rows) =
            (view.all.requests, view.all.failures, view.name_rows(report.tick, rate_s));
        self.snapshots.send_replace(Snapshot {
            timestamp_unix_s: now_s,
            run_elapsed_s: now_s - self.run_start_unix_s,
            phase_index: self.phase_index,
            phase_count: self.phase_count,
            phase_name: self.phase_name.clone(),
            phase_elapsed_s: report.phase_elapsed.as_secs_f64(),
            phase_planned_s: self.phase_planned_s,
            users: report.users,
            in_flight: report.in_flight,
            rps: window_rate(all.requests),
            fps: window_rate(all.failures),
            p50_ms: all.latency.quantile_ms(0.50),
            p95_ms: all.latency.quantile_ms(0.95),
            p99_ms: all.latency.quantile_ms(0.99),
            total_requests,
            total_failures,
            dropped: report.totals.dropped,
            duplicates_sent: report.totals.duplicates_sent,
            rows,
            server,
            generator_bound,
        });
    }
}

/// Seconds to divide a window's counts by: its length, but at least one tick for the final
/// partial window.
fn rate_window_s(report: &TickReport<'_>) -> f64 {
    let window_s = report.window.as_secs_f64().max(1e-3);
    if report.is_final { window_s.max(crate::engine::phase::TICK_INTERVAL.as_secs_f64()) } else { window_s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_is_kept_for_the_notes_when_its_warning_is_lost() {
        // The receiver is dropped at once: every warning event is lost.
        let (events, _) = mpsc::channel(1);
        let mut sink = PhaseSink {
            history: None,
            hlog: None,
            snapshots: watch::channel(Snapshot::default()).0,
            events,
            server: Arc::default(),
            phase_index: 0,
            phase_count: 1,
            phase_name: "steady".into(),
            phase_planned_s: 1.0,
            run_start_unix_s: 0.0,
            write_failure: None,
            steady_ok: 0,
            steady_s: 0.0,
            view: LiveView::new(super::super::steering::ViewReset::default()),
            seconds: Vec::new(),
            live_check: None,
            live: None,
        };
        sink.warn_once("cannot write history.csv: disk full".into());
        sink.warn_once("cannot write phase.hlog: disk full".into());
        assert_eq!(sink.write_failure.as_deref(), Some("cannot write history.csv: disk full"));
    }
}
