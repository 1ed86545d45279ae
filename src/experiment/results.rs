//! Turning a phase's measurements into its summary, its Locust CSVs and its threshold
//! verdicts; and the run's overall verdict.

use std::path::Path;
use std::time::SystemTime;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::engine::PhaseResult;
use crate::engine::aggregate::{PhaseTotals, Totals, locust_percentiles};
use crate::metrics::LatencyHistogram;
use crate::metrics::summary::{
    DedupReport, FailureStat, LatencyStats, MessageCount, PhaseConfig, PhaseFiles, RequestStats, SeedSummary,
    ServerView, ThresholdResult,
};
use crate::profile::{Load, Phase, Thresholds};
use crate::report::files::{
    FailureRow, StatsRow, WriteError, write_exceptions_csv, write_failures_csv, write_stats_csv,
};

pub fn rfc3339(t: SystemTime) -> String {
    DateTime::<Utc>::from(t).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The folder (under the run folder) a phase's files go in: its suite, as one safe path
/// component. Profiles refuse suite names like `..`; this is the second line of defence.
pub fn suite_dir(phase: &Phase) -> String {
    crate::fsio::safe_component(&phase.suite)
}

pub fn phase_files(phase: &Phase) -> PhaseFiles {
    let (suite, name) = (suite_dir(phase), crate::fsio::safe_component(&phase.name));
    let p = |suffix: &str| format!("{suite}/{name}{suffix}");
    PhaseFiles {
        stats_csv: p("_stats.csv"),
        history_csv: p("_stats_history.csv"),
        failures_csv: p("_failures.csv"),
        exceptions_csv: p("_exceptions.csv"),
        hlog: p(".hlog"),
    }
}

pub fn phase_config(phase: &Phase) -> PhaseConfig {
    let mut c = PhaseConfig {
        behaviour: phase.behaviour.name.clone(),
        duration_s: phase.duration.as_secs_f64(),
        repo_size: Some(phase.repo_size.label().to_string()),
        server_settings: phase.server.to_json(),
        ..PhaseConfig::default()
    };
    match &phase.load {
        Load::Closed { users, spawn_rate_per_s } => {
            c.model = "closed".into();
            c.users = Some(users.get());
            c.spawn_rate = Some(*spawn_rate_per_s);
        }
        Load::Open { rate_from_per_s, rate_to_per_s, max_in_flight } => {
            c.model = "open".into();
            c.arrival_rate_from = Some(*rate_from_per_s);
            c.arrival_rate_to = Some(*rate_to_per_s);
            c.max_in_flight = Some(max_in_flight.get());
        }
    }
    c
}

pub fn latency_stats(h: &LatencyHistogram) -> LatencyStats {
    LatencyStats {
        min: h.min_ms(),
        mean: h.mean_ms(),
        p50: h.quantile_ms(0.50),
        p75: h.quantile_ms(0.75),
        p90: h.quantile_ms(0.90),
        p95: h.quantile_ms(0.95),
        p99: h.quantile_ms(0.99),
        p99_9: h.quantile_ms(0.999),
        max: h.max_ms(),
    }
}

pub fn seed_summary(all: &Totals, seconds: f64) -> SeedSummary {
    SeedSummary {
        total_requests: all.requests,
        failure_count: all.failures,
        median_response_ms: all.latency.quantile_ms(0.5),
        avg_response_ms: all.latency.mean_ms(),
        p95_response_ms: all.latency.quantile_ms(0.95),
        p99_response_ms: all.latency.quantile_ms(0.99),
        requests_per_sec: if seconds > 0.0 { all.requests as f64 / seconds } else { 0.0 },
    }
}

fn stats_row(method: &str, name: &str, t: &Totals, seconds: f64) -> StatsRow {
    StatsRow {
        method: method.to_string(),
        name: name.to_string(),
        requests: t.requests,
        failures: t.failures,
        median_ms: t.latency.quantile_ms(0.5),
        avg_ms: t.latency.mean_ms(),
        min_ms: t.latency.min_ms(),
        max_ms: t.latency.max_ms(),
        avg_content_bytes: t.avg_content_bytes(),
        rps: t.requests as f64 / seconds,
        fps: t.failures as f64 / seconds,
        percentiles_ms: locust_percentiles(&t.latency).map(Some),
    }
}

/// Writes `_stats.csv`, `_failures.csv` and `_exceptions.csv` for a phase.
pub fn write_phase_csvs(
    run_dir: &Path,
    files: &PhaseFiles,
    totals: &PhaseTotals,
    seconds: f64,
) -> Result<(), WriteError> {
    let seconds = seconds.max(1e-3);
    let rows: Vec<StatsRow> = totals.names.iter().map(|(k, t)| stats_row(k.0, &k.1, t, seconds)).collect();
    write_stats_csv(
        &run_dir.join(&files.stats_csv),
        &rows,
        &stats_row("", "Aggregated", &totals.all, seconds),
    )?;
    // Like Locust: one row per distinct message (the rest summed into one row).
    let failures: Vec<FailureRow> = totals
        .failures
        .iter()
        .flat_map(|((key, kind), f)| {
            let row = |error: String, occurrences: u64| FailureRow {
                method: key.0.to_string(),
                name: key.1.clone(),
                error,
                occurrences,
            };
            let mut rows: Vec<FailureRow> =
                f.messages.distinct.iter().map(|(m, n)| row(m.clone(), *n)).collect();
            if f.messages.others > 0 {
                rows.push(row(format!("{} (other messages)", kind.label()), f.messages.others));
            }
            rows
        })
        .collect();
    write_failures_csv(&run_dir.join(&files.failures_csv), &failures)?;
    write_exceptions_csv(&run_dir.join(&files.exceptions_csv))
}

pub fn request_stats(totals: &PhaseTotals, seconds: f64) -> Vec<RequestStats> {
    let seconds = seconds.max(1e-3);
    totals
        .names
        .iter()
        .map(|((method, name), t)| RequestStats {
            method: method.to_string(),
            name: name.clone(),
            requests: t.requests,
            failures: t.failures,
            median_ms: t.latency.quantile_ms(0.5),
            avg_ms: t.latency.mean_ms(),
            p95_ms: t.latency.quantile_ms(0.95),
            p99_ms: t.latency.quantile_ms(0.99),
            max_ms: t.latency.max_ms(),
            rps: t.requests as f64 / seconds,
        })
        .collect()
}

pub fn failure_stats(totals: &PhaseTotals) -> Vec<FailureStat> {
    totals
        .failures
        .iter()
        .map(|((key, kind), f)| FailureStat {
            method: key.0.to_string(),
            name: key.1.clone(),
            kind: kind.label(),
            error: f.first_message.clone(),
            count: f.count,
            first_seen: rfc3339(f.first_seen),
            last_seen: rfc3339(f.last_seen),
            messages: f
                .messages
                .distinct
                .iter()
                .map(|(message, count)| MessageCount { message: message.clone(), count: *count })
                .collect(),
            other_messages: f.messages.others,
        })
        .collect()
}

pub fn dedup_report(result: &PhaseResult, server: Option<&ServerView>) -> DedupReport {
    let stats =
        server.map(|s| crate::metrics::status::ServerStatus::from_value(&s.raw).stats).unwrap_or_default();
    let d = result.totals.delivery;
    let (hits, misses, errors) = (stats.dedup_hits, stats.dedup_misses, stats.dedup_errors);
    let answered = d.unique_answered + d.resends_answered;
    let (exactly_once, fail_open) = match (hits, misses) {
        (Some(h), Some(m)) if answered > 0 => {
            // Counts that match exactly mean no failure was processed twice, whatever became of
            // the payloads still unanswered at the end: had one reached dedup, the server's
            // counts would exceed ours.
            let holds = m == d.unique_answered && h == d.resends_answered;
            (Some(holds), Some(answered.saturating_sub(h + m)))
        }
        _ => (None, None),
    };
    DedupReport {
        duplicates_sent: result.totals.duplicates_sent,
        server_hits: hits,
        server_misses: misses,
        server_errors: errors,
        unique_answered: d.unique_answered,
        resends_answered: d.resends_answered,
        unanswered: d.unanswered,
        exactly_once,
        fail_open,
    }
}

/// The client's single posts and batches beside the server's figures of the same kind;
/// `None` when the phase sent neither.
pub fn like_for_like(
    by_endpoint: &crate::engine::recorder::EndpointLatency,
    status: Option<&serde_json::Value>,
) -> Option<crate::metrics::summary::LikeForLike> {
    let (webhook, batch) = (&by_endpoint.webhook, &by_endpoint.batch);
    if webhook.is_empty() && batch.is_empty() {
        return None;
    }
    let stats = status.map(|s| crate::metrics::status::ServerStatus::from_value(s).stats).unwrap_or_default();
    let batches_seen = batch.count() > 0;
    Some(crate::metrics::summary::LikeForLike {
        webhook_posts: webhook.count(),
        client_webhook_p50_ms: webhook.quantile_ms(0.5),
        client_webhook_p99_ms: webhook.quantile_ms(0.99),
        server_per_failure_p50_ms: stats.latency_ms.p50,
        server_per_failure_p99_ms: stats.latency_ms.p99,
        batch_posts: batch.count(),
        client_batch_p50_ms: batch.quantile_ms(0.5),
        client_batch_p99_ms: batch.quantile_ms(0.99),
        server_batch_p50_ms: stats.batch_latency_ms.p50.filter(|_| batches_seen),
        server_batch_p99_ms: stats.batch_latency_ms.p99.filter(|_| batches_seen),
    })
}

/// Judges the declared thresholds against a distribution, counts and a duration.
pub fn judge(scope: &str, t: &Thresholds, all: &Totals, seconds: f64) -> Vec<ThresholdResult> {
    let error_rate = if all.requests == 0 { 0.0 } else { all.failures as f64 / all.requests as f64 };
    let rps = if seconds > 0.0 { all.requests as f64 / seconds } else { 0.0 };
    let mut out = Vec::new();
    let mut check = |metric: &str, limit: Option<f64>, actual: f64, higher_is_better: bool| {
        if let Some(limit) = limit {
            let passed = if higher_is_better { actual >= limit } else { actual <= limit };
            out.push(ThresholdResult {
                scope: scope.to_string(),
                metric: metric.to_string(),
                limit,
                actual,
                passed,
                untrustworthy: false,
            });
        }
    };
    check("p95_ms", t.p95_ms, all.latency.quantile_ms(0.95), false);
    check("p99_ms", t.p99_ms, all.latency.quantile_ms(0.99), false);
    check("error_rate", t.error_rate, error_rate, false);
    check("min_rps", t.min_rps, rps, true);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::phase::PhaseEnd;
    use crate::metrics::summary::ServerView;

    fn judged(unique: u64, resends: u64, unanswered: u64, misses: u64, hits: u64) -> DedupReport {
        let mut totals = PhaseTotals::default();
        totals.delivery.unique_answered = unique;
        totals.delivery.resends_answered = resends;
        totals.delivery.unanswered = unanswered;
        let result = PhaseResult {
            totals,
            started_at: std::time::SystemTime::now(),
            ran_for: std::time::Duration::from_secs(1),
            end: PhaseEnd::Completed,
            abandoned: 0,
            changes: Vec::new(),
        };
        let raw =
            serde_json::json!({"stats": {"dedup_misses": misses, "dedup_hits": hits, "dedup_errors": 0}});
        dedup_report(&result, Some(&ServerView { raw, ..ServerView::default() }))
    }

    #[test]
    fn payloads_unanswered_at_the_end_do_not_spoil_counts_that_match() {
        let d = judged(1000, 40, 150, 1000, 40);
        assert_eq!(d.exactly_once, Some(true), "{d:?}");
        let line = d.exactly_once_line().unwrap();
        assert!(
            line.starts_with("exactly once")
                && line.contains("150 payloads unanswered at the end had not reached dedup"),
            "{line}"
        );
        // A surplus on the server's side is a payload processed once too often, or an
        // unanswered one that reached it: not exactly once, and said to be uncertain.
        let d = judged(1000, 40, 150, 1003, 40);
        assert_eq!(d.exactly_once, Some(false), "{d:?}");
        assert!(d.exactly_once_line().unwrap().contains("may or may not have reached dedup"));
        // A resend taken for a new failure is a duplicate PR.
        assert_eq!(judged(1000, 40, 0, 1001, 39).exactly_once, Some(false));
    }
}
