//! After the last phase: the wind-down (generators' report, samplers stopped, notes
//! gathered, the target's settings put back), the run's status and verdict with the reasons
//! that fail it, and the final summary written.

use std::path::PathBuf;
use std::time::SystemTime;

use super::background::Background;
use super::run_dir::save_summary;
use crate::cluster::Cluster;
use crate::engine::aggregate::Totals;
use crate::experiment::phase_run::{PhaseOutcome, RunContext};
use crate::experiment::results::{judge, rfc3339};
use crate::experiment::{Event, RunControl, RunError, Target};
use crate::metrics::summary::{PhaseStatus, RunStatus, RunSummary};

/// After the last phase: the generators' report, the samplers stopped, every phase's notes
/// gathered at run level, and the target's settings put back.
pub(super) async fn wind_down(
    ctx: &RunContext,
    cluster: Option<&Cluster>,
    background: Background,
    summary: &mut RunSummary,
) {
    if let Some(cluster) = cluster {
        for problem in cluster.finish().await {
            // The problem goes into the notes below; the send fails only when the UI quit.
            let _ = ctx.events.send(Event::Warning(problem.clone())).await;
            summary.notes.push(problem);
        }
        summary.distributed = Some(cluster.report());
    }
    background.stop().await;
    for phase in &summary.experiments {
        summary.notes.extend(phase.notes.iter().map(|n| format!("phase {}: {n}", phase.name)));
    }
    if ctx.configure_target && !summary.experiments.is_empty() {
        let report = crate::experiment::restore::restore_target(ctx).await;
        // A failed restore goes into the notes and the summary's `restore`; the send fails
        // only when the UI quit.
        let _ = ctx.events.send(Event::Environment(report.message.clone())).await;
        if !report.restored {
            summary.notes.push(report.message.clone());
        }
        summary.restore = Some(report);
    }
}

/// The finished summary on disk (failing that fails the run), its HTML page beside it, and
/// the news to the UI.
pub(super) async fn write_final_summary(
    summary: RunSummary,
    dir: PathBuf,
    events: &tokio::sync::mpsc::Sender<Event>,
) -> Result<(RunSummary, PathBuf), RunError> {
    save_summary(&dir, &summary)
        .await
        .map_err(|e| RunError::Output { path: e.path.clone(), source: e.source })?;
    crate::experiment::write_html_summary(&dir, &summary);
    // Fails only when the UI quit; the caller gets the summary and folder anyway.
    let _ = events.send(Event::RunFinished { summary: Box::new(summary.clone()), dir: dir.clone() }).await;
    Ok((summary, dir))
}

/// Status, run-level thresholds and the verdict.
pub(super) fn finish(
    summary: &mut RunSummary,
    outcomes: &[PhaseOutcome],
    profile: &crate::profile::Profile,
    control: &RunControl,
) {
    summary.finished_at = rfc3339(SystemTime::now());
    summary.status = if control.cancel.is_cancelled()
        || summary.experiments.iter().any(|p| p.status == PhaseStatus::Aborted)
    {
        RunStatus::Aborted
    } else {
        RunStatus::Completed
    };
    let mut all = Totals::default();
    let mut seconds = 0.0;
    for o in outcomes {
        all.latency.merge(&o.all.latency);
        all.requests += o.all.requests;
        all.failures += o.all.failures;
        seconds += o.seconds;
    }
    summary.thresholds = judge("run", &profile.thresholds, &all, seconds);
    let thresholds_pass = summary
        .thresholds
        .iter()
        .chain(summary.experiments.iter().flat_map(|p| p.thresholds.iter()))
        .all(|t| t.passed);
    summary.fail_reasons.extend(request_error_failures(summary, profile.fail_on_request_errors, &all));
    let valid_ok = !profile.fail_on_invalid
        || summary.experiments.iter().all(|p| p.validity.as_ref().is_none_or(|v| v.is_valid()));
    summary.passed = summary.status == RunStatus::Completed
        && thresholds_pass
        && summary.fail_reasons.is_empty()
        && valid_ok;
}

/// A phase setting our own mock (the embedded or Docker target) did not take fails the run:
/// the tool and its mock share the bounds, so a refusal there is a fault, and the phase ran
/// with other settings than the summary's. A foreign target may know fewer settings: its
/// refusals stay the warnings and notes the phase already carries.
/// `phases`: each phase's name and its settings that did not reach the target.
pub(super) fn refused_by_our_mock<'a>(
    phases: impl Iterator<Item = (&'a str, &'a [String])>,
    target: &Target,
    configured: bool,
) -> Vec<String> {
    if matches!(target, Target::Url(_)) || !configured {
        return Vec::new();
    }
    phases
        .filter(|(_, refused)| !refused.is_empty())
        .map(|(name, refused)| {
            format!(
                "phase {name}: the {} mock refused the phase's settings ({}), so the phase ran with others",
                target.label(),
                refused.join("; ")
            )
        })
        .collect()
}

/// Why the run's failed requests fail it, under the profile's `fail_on_request_errors`: by
/// default each phase whose every request failed (a run against a dead or refusing target is
/// no PASS, thresholds or not); with `true` any failure; with `false` nothing.
fn request_error_failures(
    summary: &RunSummary,
    policy: crate::profile::RequestErrorPolicy,
    all: &Totals,
) -> Vec<String> {
    use crate::profile::RequestErrorPolicy;
    if policy == RequestErrorPolicy::Never {
        return Vec::new();
    }
    let mut reasons: Vec<String> = summary
        .experiments
        .iter()
        .filter(|p| p.summary.total_requests > 0 && p.summary.failure_count >= p.summary.total_requests)
        .map(|p| {
            format!(
                "every request of phase {} failed ({} of {}); set fail_on_request_errors: false in the \
                 profile if that was the point",
                p.name, p.summary.failure_count, p.summary.total_requests
            )
        })
        .collect();
    if policy == RequestErrorPolicy::AnyFailure && all.failures > 0 && reasons.is_empty() {
        reasons.push(format!(
            "{} of {} requests failed (fail_on_request_errors: true)",
            all.failures, all.requests
        ));
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_our_mock_refused_fails_the_run_and_a_foreign_targets_does_not() {
        let refused = vec!["latency_ms=1e300: not applied (POST /configure answered HTTP 400)".to_string()];
        let phases = || [("fast", refused.as_slice()), ("calm", &[][..])].into_iter();
        let ours = refused_by_our_mock(phases(), &Target::Embedded, true);
        assert_eq!(ours.len(), 1, "{ours:?}");
        assert!(ours[0].starts_with("phase fast: the embedded mock refused") && ours[0].contains("HTTP 400"));
        assert_eq!(refused_by_our_mock(phases(), &Target::Docker, true).len(), 1);
        let foreign = Target::Url(url::Url::parse("http://127.0.0.1:9/").unwrap());
        assert!(refused_by_our_mock(phases(), &foreign, true).is_empty(), "a foreign target: a warning only");
        assert!(
            refused_by_our_mock(phases(), &Target::Embedded, false).is_empty(),
            "--no-configure sends none"
        );
    }
}
