//! One phase inside a run: apply its server settings, reset the server's counters, drive
//! the engine, read the server's `/status`, write the phase's files, build its summary.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::control::{ControlClient, TargetSettings, server_view};
use super::faults::{self, FaultTools};
use super::results::{
    dedup_report, failure_stats, judge, latency_stats, phase_config, phase_files, request_stats, rfc3339,
    seed_summary, write_phase_csvs,
};
use super::sink::PhaseSink;
use super::{Event, RunControl};
use crate::cluster::{PhaseCall, PhaseGenerators};
use crate::engine::aggregate::Totals;
use crate::engine::http::ConnectStats;
use crate::engine::http::HttpClient;
use crate::engine::{PhaseEnd, PhaseResult, PhaseSpec, run_phase_steered};
use crate::metrics::hlog::HlogWriter;
use crate::metrics::summary::{
    FaultReport, PhaseFiles, PhaseStatus, PhaseSummary, SettingsApplied, SettingsHeld, Validity, WorkerReport,
};
use crate::metrics::{ServerCounters, Snapshot};
use crate::profile::Phase;
use crate::report::files::HistoryWriter;

/// Everything the phases of one run share.
pub struct RunContext {
    pub dir: PathBuf,
    pub client: HttpClient,
    pub control_client: ControlClient,
    /// The server's own settings at run start and the keys it knows (see `control`).
    pub target_settings: TargetSettings,
    /// False with `--no-configure`: neither `/configure` nor `/stats/reset` is sent.
    pub configure_target: bool,
    /// What the status poller saw happen to the target (stopped answering, came back),
    /// taken by the phase that was running.
    pub target_events: Arc<Mutex<Vec<String>>>,
    pub events: mpsc::Sender<Event>,
    pub snapshots: watch::Sender<Snapshot>,
    /// The run-wide Prometheus series, when kept.
    pub series: Option<watch::Sender<crate::prometheus::LiveSeries>>,
    pub server_counters: Arc<Mutex<Option<ServerCounters>>>,
    pub control: RunControl,
    pub run_start_unix_s: f64,
    pub seed: u64,
    pub lockstep_start: bool,
    pub phase_count: usize,
    /// The Docker environment, when it is the target (service faults act on it).
    pub docker: Option<super::docker_target::DockerHandle>,
    /// When a phase counts as generator-bound.
    pub validity: crate::profile::ValidityLimits,
    /// When a phase counts as recovered after a fault.
    pub recovery: crate::profile::RecoveryLimits,
    /// `--distributed N`: the generators on Swarm that run each phase instead of this process.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// The running phase's settings, for the status poller to send again after a restart.
    pub held: Arc<Mutex<Option<ActiveSettings>>>,
}

/// The settings the running phase sent, and the stretches in which the target ran without
/// them (it restarted with its own defaults). The status poller sends them again when it sees
/// the target come back and records the stretch; the phase reads the share at its end.
#[derive(Clone, Debug)]
pub struct ActiveSettings {
    pub settings: serde_json::Map<String, Value>,
    pub started_unix_s: f64,
    /// (from, to) in Unix seconds; `to` is `None` when sending them again failed.
    pub lapses: Vec<(f64, Option<f64>)>,
}

impl ActiveSettings {
    /// The share of `[start, end]` (Unix s) in which the settings held.
    pub fn held_share(&self, start: f64, end: f64) -> f64 {
        let span = end - start;
        if span <= 0.0 {
            return 1.0;
        }
        let lost: f64 = self
            .lapses
            .iter()
            .map(|&(from, to)| (to.unwrap_or(end).min(end) - from.max(start)).max(0.0))
            .sum();
        (1.0 - lost / span).clamp(0.0, 1.0)
    }
}

/// A finished phase: its summary plus what the run-level verdict and capacity search need.
pub struct PhaseOutcome {
    pub summary: PhaseSummary,
    pub all: Totals,
    pub seconds: f64,
    /// Requests still in flight after the drain grace, sent but never counted.
    pub abandoned: u64,
}

impl RunContext {
    async fn send(&self, event: Event) {
        // The receiver only goes away when the UI quit; the run still finishes and writes results.
        let _ = self.events.send(event).await;
    }

    async fn warn(&self, message: String) {
        tracing::warn!("{message}");
        self.send(Event::Warning(message)).await;
    }

    /// The settings sent before a phase: the run's baseline with the phase's own on top.
    fn settings_for(&self, phase: &Phase) -> serde_json::Map<String, Value> {
        let mut merged = self.target_settings.original.clone();
        if let Value::Object(own) = phase.server.to_json() {
            merged.extend(own);
        }
        merged
    }

    /// Sends the phase's settings (only what the target knows) and resets its counters;
    /// returns each setting of the phase that did not reach the target, with the reason,
    /// notes on what else went wrong, and the settings the target took (to hold them).
    async fn prepare_target(
        &self,
        phase: &Phase,
    ) -> (Vec<String>, Vec<String>, Option<serde_json::Map<String, Value>>) {
        let own = match phase.server.to_json() {
            Value::Object(own) => own,
            _ => serde_json::Map::new(),
        };
        let mut not_applied = Vec::new();
        let mut notes = Vec::new();
        if !self.configure_target {
            not_applied.extend(
                own.iter()
                    .map(|(k, v)| format!("{k}={v}: not applied (the run does not configure the target)")),
            );
            return (not_applied, notes, None);
        }
        let (accepted, refused) = self.target_settings.split(&self.settings_for(phase));
        // Only the phase's own settings: a refused key of the start settings is not its doing.
        not_applied.extend(refused.iter().filter(|r| own.contains_key(&r.key)).map(ToString::to_string));
        let mut sent = None;
        if !accepted.is_empty() {
            match self.control_client.configure(&Value::Object(accepted.clone())).await {
                Ok(_) => sent = Some(accepted),
                Err(e) => {
                    self.warn(format!("phase {}: server settings not applied: {e}", phase.name)).await;
                    not_applied.extend(own.iter().map(|(k, v)| format!("{k}={v}: not applied ({e})")));
                }
            }
        }
        if let Err(e) = self.control_client.reset_stats().await {
            self.warn(format!("phase {}: server counters not reset: {e}", phase.name)).await;
            notes.push(format!("server counters not reset ({e}): the server view counts earlier phases too"));
        }
        (not_applied, notes, sent)
    }

    /// Whether the phase's settings held, and for what share of the phase's run.
    fn settings_report(&self, phase: &Phase, result: &PhaseResult) -> SettingsReport {
        let start = crate::sys::clock::unix_s(result.started_at);
        let end = start + result.ran_for.as_secs_f64();
        let active = self.held.lock().ok().and_then(|mut slot| slot.take());
        match active {
            Some(active) => {
                let share = active.held_share(start, end);
                let state =
                    if active.lapses.is_empty() { SettingsApplied::Full } else { SettingsApplied::Partial };
                (Some(state), Some(SettingsHeld { settings: Value::Object(active.settings), share }))
            }
            // Settings of its own were sent and refused: they never held.
            None if self.configure_target
                && !phase.server.to_json().as_object().is_none_or(|o| o.is_empty()) =>
            {
                (Some(SettingsApplied::NotApplied), None)
            }
            None => (None, None),
        }
    }

    pub async fn run_phase(&self, index: usize, phase: &Phase) -> PhaseOutcome {
        let files = phase_files(phase);
        let (settings_not_applied, mut notes) = self.open_phase(phase).await;
        let client = self.client.with_timeouts(phase.timeouts.request, phase.timeouts.connect);
        // Connects before the phase belong to no phase: taken only to empty the counters.
        let _ = client.take_connect_stats();
        self.take_target_events();
        self.send(Event::PhaseStarted { index, name: phase.name.clone(), planned: phase.duration }).await;

        let mut sink = self.sink_for(index, phase, &files).await;
        let phase_stop = self.control.cancel.child_token();
        let skip_watch = self.watch_skip(&phase_stop);
        let fault_task = self.start_faults(index, phase, &phase_stop);
        let probe = crate::sys::probe::GeneratorProbe::start(phase_stop.clone());
        // A distributed phase's generators are the workers: this process's CPU says nothing of them.
        let live_probe = self.cluster.is_none().then(|| probe.live());
        sink.live_check = Some(super::validity::LiveCheck::new(phase, self.validity, live_probe));
        let (result, generators) = self.drive(index, phase, &files, &client, &phase_stop, &mut sink).await;
        notes.extend(sink.write_failure.take().map(|e| format!("results file incomplete: {e}")));
        phase_stop.cancel();
        let used = generator_use(probe.finish().await, generators.as_ref(), &result);
        let (workers, worker_connects) = match generators {
            Some(g) => self.take_generators(g, &files, &mut notes).await,
            None => (Vec::new(), None),
        };
        let mut validity = super::validity::judge(phase, &used, &result.totals.lag, &self.validity);
        validity.live_bound_s = sink.live_check.as_ref().and_then(|c| c.bound_window());
        if !validity.is_valid() {
            self.warn(format!("phase {}: generator-bound — {}", phase.name, validity.reasons.join("; ")))
                .await;
        }
        // The watcher ends with phase_stop; one that panicked lost only the skip, not results.
        let _ = skip_watch.await;
        let mut fault_reports = match fault_task {
            Some(task) => task.await.unwrap_or_default(),
            None => Vec::new(),
        };
        faults::judge_recovery(&mut fault_reports, &sink.seconds, self.recovery);
        let status_doc = self.status_doc(&mut notes).await;
        let settings = self.settings_report(phase, &result);
        notes.extend(self.take_target_events());
        let facts = PhaseFacts {
            status_doc,
            settings,
            notes,
            connects: worker_connects.unwrap_or_else(|| client.take_connect_stats()),
            settings_not_applied,
            validity,
            fault_reports,
            workers,
        };
        self.close_phase(index, phase, files, result, facts, &sink.seconds).await
    }

    /// Creates the phase's folder, sends its settings and holds them for the status poller;
    /// returns the settings that did not reach the target and notes on what else went wrong.
    async fn open_phase(&self, phase: &Phase) -> (Vec<String>, Vec<String>) {
        let suite_dir = self.dir.join(super::results::suite_dir(phase));
        if let Err(e) = std::fs::create_dir_all(&suite_dir) {
            self.warn(format!("cannot create {}: {e}", suite_dir.display())).await;
        }
        let (settings_not_applied, notes, sent) = self.prepare_target(phase).await;
        if let Ok(mut slot) = self.held.lock() {
            *slot = sent.map(|settings| ActiveSettings {
                settings,
                started_unix_s: crate::sys::clock::unix_now_s(),
                lapses: Vec::new(),
            });
        }
        for reason in &settings_not_applied {
            self.warn(format!("phase {}: {reason}", phase.name)).await;
        }
        (settings_not_applied, notes)
    }

    /// Ends the phase early when the user skips it; the task ends with the phase's token.
    fn watch_skip(&self, phase_stop: &CancellationToken) -> tokio::task::JoinHandle<()> {
        let (mut skip, stop) = (self.control.skip.begin(), phase_stop.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = skip.skipped() => stop.cancel(),
                _ = stop.cancelled() => {}
            }
        })
    }

    /// Starts the phase's faults, when it has any.
    fn start_faults(
        &self,
        index: usize,
        phase: &Phase,
        phase_stop: &CancellationToken,
    ) -> Option<tokio::task::JoinHandle<Vec<crate::metrics::summary::FaultReport>>> {
        (!phase.faults.is_empty()).then(|| {
            let tools = FaultTools {
                control: self.control_client.clone(),
                target_settings: self.target_settings.clone(),
                configure_target: self.configure_target,
                phase_settings: self.settings_for(phase),
                docker: self.docker.clone(),
                events: self.events.clone(),
                phase_index: index,
            };
            let start = tokio::time::Instant::now();
            tokio::spawn(faults::run(phase.faults.clone(), start, tools, phase_stop.clone()))
        })
    }

    /// Runs the phase here, or on the generators of a distributed run.
    async fn drive(
        &self,
        index: usize,
        phase: &Phase,
        files: &PhaseFiles,
        client: &HttpClient,
        phase_stop: &CancellationToken,
        sink: &mut PhaseSink,
    ) -> (PhaseResult, Option<PhaseGenerators>) {
        let spec = PhaseSpec { phase: phase.clone(), seed: self.seed, lockstep_start: self.lockstep_start };
        let steer = Some(self.control.steer.subscribe());
        match &self.cluster {
            Some(cluster) => {
                let hlog = self.dir.join(&files.hlog);
                let call = PhaseCall {
                    index,
                    spec: &spec,
                    stop: phase_stop,
                    hlog_base: &hlog,
                    run_start_unix_s: self.run_start_unix_s,
                };
                let d = cluster.run_phase(call, sink, steer).await;
                (d.result, Some(d.generators))
            }
            None => (run_phase_steered(&spec, client, phase_stop, sink, steer).await, None),
        }
    }

    /// The generators' worker table and connects; their losses become warnings and notes.
    async fn take_generators(
        &self,
        generators: PhaseGenerators,
        files: &PhaseFiles,
        notes: &mut Vec<String>,
    ) -> (Vec<WorkerReport>, Option<ConnectStats>) {
        for text in generators.lost {
            self.warn(text.clone()).await;
            notes.push(text);
        }
        let mut workers = generators.workers;
        for w in &mut workers {
            w.hlog = crate::cluster::worker_hlog_path(std::path::Path::new(&files.hlog), w.worker)
                .to_string_lossy()
                .into_owned();
        }
        (workers, Some(generators.connects))
    }

    /// The target's `/status` at the phase's end; a note says so when it did not answer.
    async fn status_doc(&self, notes: &mut Vec<String>) -> Option<Value> {
        match self.control_client.status_answer().await {
            Ok(doc) => Some(doc),
            Err(why) => {
                notes.push(format!("{why}; server view unavailable for this phase"));
                None
            }
        }
    }

    /// Writes the phase's CSV files, warns of abandoned requests, builds and announces
    /// the summary.
    async fn close_phase(
        &self,
        index: usize,
        phase: &Phase,
        files: PhaseFiles,
        result: PhaseResult,
        facts: PhaseFacts,
        sink_seconds: &[super::faults::Second],
    ) -> PhaseOutcome {
        let seconds = result.ran_for.as_secs_f64();
        if let Err(e) = write_phase_csvs(&self.dir, &files, &result.totals, seconds) {
            self.warn(e.to_string()).await;
        }
        if result.abandoned > 0 {
            self.warn(format!(
                "phase {}: {} requests were still running after the drain grace and were not counted",
                phase.name, result.abandoned
            ))
            .await;
        }
        let status = match result.end {
            PhaseEnd::Completed => PhaseStatus::Completed,
            PhaseEnd::Stopped if self.control.cancel.is_cancelled() => PhaseStatus::Aborted,
            PhaseEnd::Stopped => PhaseStatus::Skipped,
        };
        let offset_s = (crate::sys::clock::unix_s(result.started_at) - self.run_start_unix_s).max(0.0);
        let summary = summarize(phase, status, offset_s, files, &result, facts, sink_seconds);
        self.send(Event::PhaseFinished { index, summary: Box::new(summary.clone()) }).await;
        PhaseOutcome { summary, all: result.totals.all, seconds, abandoned: result.abandoned }
    }

    fn take_target_events(&self) -> Vec<String> {
        self.target_events.lock().map(|mut e| std::mem::take(&mut *e)).unwrap_or_default()
    }

    async fn sink_for(&self, index: usize, phase: &Phase, files: &PhaseFiles) -> PhaseSink {
        let history = match HistoryWriter::create(&self.dir.join(&files.history_csv)) {
            Ok(h) => Some(h),
            Err(e) => {
                self.warn(e.to_string()).await;
                None
            }
        };
        let comment = format!("terrafix-tui {} phase {}", env!("CARGO_PKG_VERSION"), phase.name);
        let hlog = match HlogWriter::create(&self.dir.join(&files.hlog), self.run_start_unix_s, &comment) {
            Ok(h) => Some(h),
            Err(e) => {
                self.warn(e.to_string()).await;
                None
            }
        };
        PhaseSink {
            history,
            hlog,
            snapshots: self.snapshots.clone(),
            events: self.events.clone(),
            server: self.server_counters.clone(),
            phase_index: index,
            phase_count: self.phase_count,
            phase_name: phase.name.clone(),
            phase_planned_s: phase.duration.as_secs_f64(),
            run_start_unix_s: self.run_start_unix_s,
            write_failure: None,
            steady_ok: 0,
            steady_s: 0.0,
            view: super::sink::LiveView::new(self.control.view_reset.clone()),
            seconds: Vec::new(),
            live_check: None,
            live: self.series.clone().map(|series| {
                super::live_feed::LiveFeed::new(
                    series,
                    super::PlanLoad::of(&phase.load),
                    phase.duration.as_secs_f64(),
                )
            }),
        }
    }
}

/// Whether a phase's settings were applied, and what held for how long.
type SettingsReport = (Option<SettingsApplied>, Option<SettingsHeld>);

/// What a phase gathered by its end besides the engine's result, for its summary.
struct PhaseFacts {
    status_doc: Option<Value>,
    settings: SettingsReport,
    notes: Vec<String>,
    connects: ConnectStats,
    settings_not_applied: Vec<String>,
    validity: Validity,
    fault_reports: Vec<FaultReport>,
    workers: Vec<WorkerReport>,
}

/// What the generator used: this process's probe, or the generators' figures when the phase
/// ran distributed (they are the workers: judge their figures, not this coordinator's).
fn generator_use(
    probe: (f64, f64, usize, f64),
    generators: Option<&PhaseGenerators>,
    result: &PhaseResult,
) -> super::validity::GeneratorUse {
    let (cpu_s, cpu_share, cores, worst_stall_ms) = match generators {
        Some(g) => (g.cpu_s, g.cpu_share, g.cores, g.worst_stall_ms),
        None => probe,
    };
    let (local_errors, local_cause) = super::validity::local_errors(&failure_stats(&result.totals));
    super::validity::GeneratorUse {
        cpu_s,
        cpu_share,
        cores,
        worst_stall_ms,
        dropped: result.totals.dropped,
        local_errors,
        local_cause,
    }
}

/// The phase's summary from its result and what it gathered.
fn summarize(
    phase: &Phase,
    status: PhaseStatus,
    offset_s: f64,
    files: PhaseFiles,
    result: &PhaseResult,
    facts: PhaseFacts,
    sink_seconds: &[super::faults::Second],
) -> PhaseSummary {
    let seconds = result.ran_for.as_secs_f64();
    let all = &result.totals.all;
    let server = facts.status_doc.as_ref().map(server_view);
    let (settings_applied, settings_held) = facts.settings;
    let mut thresholds = judge(&phase.name, &phase.thresholds, all, seconds);
    for r in &mut thresholds {
        r.untrustworthy = !facts.validity.is_valid();
    }
    PhaseSummary {
        name: phase.name.clone(),
        suite: phase.suite.clone(),
        status,
        config: phase_config(phase),
        summary: seed_summary(all, seconds),
        latency_ms: latency_stats(&all.latency),
        failures_per_sec: if seconds > 0.0 { all.failures as f64 / seconds } else { 0.0 },
        dropped: result.totals.dropped,
        batch_items_failed: result.totals.batch_items_failed,
        offset_s,
        duration_s: seconds,
        started_at: rfc3339(result.started_at),
        finished_at: rfc3339(result.started_at + result.ran_for),
        requests: request_stats(&result.totals, seconds),
        failures: failure_stats(&result.totals),
        dedup: dedup_report(result, server.as_ref()),
        server,
        thresholds,
        files,
        connections: connect_report(&facts.connects),
        settings_not_applied: facts.settings_not_applied,
        settings_applied,
        settings_held,
        notes: facts.notes,
        changes: result.changes.clone(),
        resilience: resilience_report(phase, &result.totals.retry, facts.fault_reports, sink_seconds),
        validity: Some(facts.validity),
        workers: facts.workers,
        response_time_ms: response_time(phase, result),
        like_for_like: super::results::like_for_like(&result.totals.by_endpoint, facts.status_doc.as_ref()),
    }
}

fn connect_report(connects: &ConnectStats) -> crate::metrics::summary::ConnectReport {
    crate::metrics::summary::ConnectReport {
        connects: connects.connects,
        failed: connects.failed,
        p50_ms: connects.time.quantile_ms(0.5),
        p99_ms: connects.time.quantile_ms(0.99),
        max_ms: connects.time.max_ms(),
    }
}

/// Response time (from the actual send) when a closed phase paces its users.
fn response_time(phase: &Phase, result: &PhaseResult) -> Option<crate::metrics::summary::LatencyStats> {
    (matches!(phase.load, crate::profile::Load::Closed { .. })
        && phase.behaviour.wait.pacing_interval().is_some()
        && !result.totals.response.is_empty())
    .then(|| latency_stats(&result.totals.response))
}

/// Retries and faults of a phase, when it had either.
fn resilience_report(
    phase: &Phase,
    retry: &crate::engine::recorder::RetryCounts,
    faults: Vec<crate::metrics::summary::FaultReport>,
    seconds: &[super::faults::Second],
) -> Option<crate::metrics::summary::ResilienceReport> {
    if phase.behaviour.retry.is_none() && faults.is_empty() {
        return None;
    }
    let logical = retry.logical;
    // Attempts per logical request: its mean, and the amplification the retries add.
    let per_request = if logical > 0 { retry.attempts as f64 / logical as f64 } else { 0.0 };
    Some(crate::metrics::summary::ResilienceReport {
        logical_requests: logical,
        attempts: retry.attempts,
        failed_first: retry.failed_first,
        recovered_by_retry: retry.recovered,
        retries_answered_duplicate: retry.swallowed,
        retry_success_rate: (retry.failed_first > 0)
            .then(|| retry.recovered as f64 / retry.failed_first as f64),
        attempts_mean: per_request,
        attempts_p99: retry.attempts_quantile(0.99),
        amplification: per_request,
        amplification_over_time: seconds
            .iter()
            .filter(|s| s.logical > 0)
            .map(|s| [s.end_s, s.attempts as f64 / s.logical as f64])
            .collect(),
        faults,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_held_share_leaves_out_each_lapse_inside_the_phase() {
        let mut active =
            ActiveSettings { settings: serde_json::Map::new(), started_unix_s: 100.0, lapses: Vec::new() };
        assert_eq!(active.held_share(100.0, 110.0), 1.0);
        active.lapses.push((102.0, Some(104.0)));
        assert!((active.held_share(100.0, 110.0) - 0.8).abs() < 1e-9);
        // A lapse never closed (sending again failed) runs to the phase's end.
        active.lapses.push((108.0, None));
        assert!((active.held_share(100.0, 110.0) - 0.6).abs() < 1e-9);
    }
}
