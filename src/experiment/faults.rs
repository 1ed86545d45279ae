//! Fault windows inside a phase, on the phase's clock: server settings applied with
//! `/configure` at the window's start and the phase's own put back at its end, or a Docker
//! action on one of our services undone at its end. Each window's actual start and end are
//! events and go into the phase's summary with the time the phase took to recover.

use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Event;
use super::control::{ControlClient, ControlError, TargetSettings};
use super::docker_target::DockerHandle;
use crate::metrics::summary::FaultReport;
use crate::profile::{Fault, FaultKind, ServiceAction};

/// What the fault windows of one phase act through.
#[derive(Clone)]
pub struct FaultTools {
    pub control: ControlClient,
    pub target_settings: TargetSettings,
    /// False with `--no-configure`: server faults are not applied (and say so).
    pub configure_target: bool,
    /// The phase's settings as sent before it (what a server fault's end puts back).
    pub phase_settings: serde_json::Map<String, Value>,
    pub docker: Option<DockerHandle>,
    pub events: mpsc::Sender<Event>,
    pub phase_index: usize,
}

/// Runs every window of `faults` from `start` (the phase's start) until each is over or
/// `stop` ends the phase (a window still open is then closed at once). Windows of
/// different kinds may overlap; each runs on its own.
pub async fn run(
    faults: Vec<Fault>,
    start: Instant,
    tools: FaultTools,
    stop: CancellationToken,
) -> Vec<FaultReport> {
    let windows = faults.into_iter().map(|fault| window(fault, start, &tools, &stop));
    futures::future::join_all(windows).await
}

async fn window(fault: Fault, start: Instant, tools: &FaultTools, stop: &CancellationToken) -> FaultReport {
    let mut report = FaultReport {
        description: fault.describe(),
        planned_at_s: fault.at.as_secs_f64(),
        planned_end_s: fault.end().as_secs_f64(),
        ..FaultReport::default()
    };
    tokio::select! {
        _ = tokio::time::sleep_until(start + fault.at) => {}
        _ = stop.cancelled() => {
            report.notes.push("not applied: the phase ended before the window began".into());
            return report;
        }
    }
    if let Err(reason) = begin(&fault.kind, tools).await {
        let optional = matches!(fault.kind, FaultKind::Service { optional: true, .. });
        report.notes.push(if optional {
            format!("skipped (optional): {reason}")
        } else {
            format!("not applied: {reason}")
        });
        // The reason is in the fault's report; a full queue drops only the live warning.
        let _ = tools.events.try_send(Event::Warning(format!("fault {}: {reason}", report.description)));
        return report;
    }
    let began = start.elapsed().as_secs_f64();
    report.started_s = Some(began);
    // The report records `started_s`; a full queue drops only the live marker.
    let _ = tools.events.try_send(Event::FaultStarted {
        index: tools.phase_index,
        description: report.description.clone(),
        at_s: began,
    });
    tokio::select! {
        _ = tokio::time::sleep_until(start + fault.end()) => {}
        _ = stop.cancelled() => report.notes.push("ended early: the phase stopped inside the window".into()),
    }
    if let Err(reason) = end(&fault.kind, tools).await {
        report.notes.push(format!("could not be undone: {reason}"));
        // The reason is in the fault's report; a full queue drops only the live warning.
        let _ = tools
            .events
            .try_send(Event::Warning(format!("fault {} not undone: {reason}", report.description)));
    }
    let ended = start.elapsed().as_secs_f64();
    report.ended_s = Some(ended);
    // The report records `ended_s`; a full queue drops only the live marker.
    let _ = tools.events.try_send(Event::FaultEnded {
        index: tools.phase_index,
        description: report.description.clone(),
        at_s: ended,
    });
    report
}

/// Why a fault could not be applied or undone; the text goes into the fault's report.
#[derive(Debug, thiserror::Error)]
enum FaultError {
    /// A service fault on a target that is not the Docker environment.
    #[error("the target is not the Docker environment")]
    NotDocker,
    /// The Docker Engine refused the stop, kill, pause, restart or start.
    #[error("{0}")]
    Docker(#[from] crate::docker::DockerError),
    /// A server fault on a run that leaves the target's settings alone.
    #[error("the run does not configure the target (--no-configure)")]
    NoConfigure,
    /// The target does not know one of the fault's settings.
    #[error("the target does not take these settings: {0}")]
    Refused(String),
    /// `POST /configure` failed.
    #[error("{0}")]
    Configure(#[from] ControlError),
}

async fn begin(kind: &FaultKind, tools: &FaultTools) -> Result<(), FaultError> {
    match kind {
        FaultKind::Server(settings) => {
            let mut merged = tools.phase_settings.clone();
            if let Value::Object(own) = settings.to_json() {
                merged.extend(own);
            }
            configure(tools, merged).await
        }
        FaultKind::Service { service, action, .. } => {
            let docker = tools.docker.as_ref().ok_or(FaultError::NotDocker)?;
            let done = match action {
                ServiceAction::Stop => docker.stop_service(service).await,
                ServiceAction::Kill => docker.kill_service(service).await,
                ServiceAction::Pause => docker.pause_service(service).await,
                ServiceAction::Restart => docker.restart_service(service).await,
            };
            Ok(done?)
        }
    }
}

async fn end(kind: &FaultKind, tools: &FaultTools) -> Result<(), FaultError> {
    match kind {
        FaultKind::Server(_) => configure(tools, tools.phase_settings.clone()).await,
        FaultKind::Service { service, action, .. } => {
            let docker = tools.docker.as_ref().ok_or(FaultError::NotDocker)?;
            let done = match action {
                ServiceAction::Stop | ServiceAction::Kill | ServiceAction::Restart => {
                    docker.start_service(service).await
                }
                ServiceAction::Pause => docker.unpause_service(service).await,
            };
            Ok(done?)
        }
    }
}

async fn configure(tools: &FaultTools, settings: serde_json::Map<String, Value>) -> Result<(), FaultError> {
    if !tools.configure_target {
        return Err(FaultError::NoConfigure);
    }
    let (accepted, refused) = tools.target_settings.split(&settings);
    if let Some(first) = refused.first() {
        return Err(FaultError::Refused(first.to_string()));
    }
    tools.control.configure(&Value::Object(accepted)).await?;
    Ok(())
}

/// One second of a phase as the recovery check sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Second {
    /// When the second ended, from the phase's start.
    pub end_s: f64,
    pub length_s: f64,
    pub requests: u64,
    pub failures: u64,
    pub p99_ms: f64,
    /// Logical requests under a retry policy that finished in this second, and their attempts.
    pub logical: u64,
    pub attempts: u64,
}

pub use crate::profile::RecoveryLimits;

/// Fills in the baseline p99 and the time to recover of each applied fault from the
/// phase's seconds: the first second starting at or after the fault's end from which
/// every second for `hold` is healthy (success rate and p99 within the limits).
pub fn judge_recovery(reports: &mut [FaultReport], seconds: &[Second], limits: RecoveryLimits) {
    for report in reports.iter_mut() {
        let (Some(started), Some(ended)) = (report.started_s, report.ended_s) else { continue };
        let mut before: Vec<f64> =
            seconds.iter().filter(|s| s.end_s <= started && s.requests > 0).map(|s| s.p99_ms).collect();
        before.sort_by(f64::total_cmp);
        let baseline = before.get(before.len() / 2).copied();
        report.baseline_p99_ms = baseline;
        let healthy = |s: &Second| {
            if s.requests == 0 {
                return true;
            }
            let ok = (s.requests - s.failures.min(s.requests)) as f64 / s.requests as f64;
            ok >= limits.success_rate && baseline.is_none_or(|b| s.p99_ms <= b * limits.p99_factor)
        };
        let hold_s = limits.hold.as_secs_f64();
        let after: Vec<&Second> = seconds.iter().filter(|s| s.end_s - s.length_s >= ended - 1e-3).collect();
        for (i, first) in after.iter().enumerate() {
            let from = first.end_s - first.length_s;
            let mut covered = 0.0;
            let mut broken = false;
            for s in &after[i..] {
                if !healthy(s) {
                    broken = true;
                    break;
                }
                covered = s.end_s - from;
                if covered >= hold_s - 1e-3 {
                    break;
                }
            }
            if !broken && covered >= hold_s - 1e-3 {
                report.recovery_s = Some((from - ended).max(0.0));
                report.recovered = true;
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn second(end_s: f64, requests: u64, failures: u64, p99_ms: f64) -> Second {
        Second { end_s, length_s: 1.0, requests, failures, p99_ms, logical: 0, attempts: 0 }
    }

    fn fault(started: f64, ended: f64) -> FaultReport {
        FaultReport { started_s: Some(started), ended_s: Some(ended), ..FaultReport::default() }
    }

    #[test]
    fn recovery_is_the_first_healthy_stretch_after_the_window() {
        // 20 s: healthy, failing from 5 to 10, two slow seconds, then healthy.
        let seconds: Vec<Second> = (1..=20)
            .map(|t| match t {
                6..=10 => second(f64::from(t), 100, 100, 5.0),
                11 | 12 => second(f64::from(t), 100, 0, 40.0),
                _ => second(f64::from(t), 100, 0, 10.0),
            })
            .collect();
        let mut reports = [fault(5.0, 10.0)];
        judge_recovery(&mut reports, &seconds, RecoveryLimits::default());
        assert_eq!(reports[0].baseline_p99_ms, Some(10.0));
        assert_eq!(reports[0].recovery_s, Some(2.0), "p99 40 ms > 1.5 × 10 ms for two seconds");
        assert!(reports[0].recovered);
    }

    #[test]
    fn a_phase_that_ends_too_soon_did_not_recover() {
        let seconds: Vec<Second> =
            (1..=12).map(|t| second(f64::from(t), 10, u64::from(t <= 10), 1.0)).collect();
        let mut reports = [fault(2.0, 10.0)];
        judge_recovery(&mut reports, &seconds, RecoveryLimits::default());
        assert_eq!(reports[0].recovery_s, None, "only two healthy seconds after the end");
        assert!(!reports[0].recovered);
        assert_eq!(reports[0].recovery_text(), "did not recover before the phase ended");
    }
}
