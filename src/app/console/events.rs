//! What the console says for each run event, and the progress line of a snapshot: pure.

use std::time::Duration;

use crate::experiment::Event;
use crate::metrics::Snapshot;
use crate::metrics::summary::PhaseStatus;

/// An event in words, and where it goes.
pub enum Said {
    Line(String),
    Lines(Vec<String>),
    /// stderr, in every mode.
    Warning(String),
    /// A sample of the failing requests: the console shows the first few.
    RequestError(String),
    Nothing,
}

pub fn describe(event: &Event) -> Said {
    match event {
        Event::RunStarted { run_id, dir, target_url, phases } => {
            let total: Duration = phases.iter().map(|p| p.planned).sum();
            Said::Lines(vec![
                format!(
                    "run {run_id}: {} phase(s), {} of load against {target_url}",
                    phases.len(),
                    fmt_duration(total)
                ),
                format!("  writing to {}", dir.display()),
            ])
        }
        Event::Environment(m) => Said::Line(format!("  {m}")),
        Event::PhaseStarted { index, name, planned } => {
            Said::Line(format!("▶ phase {} {name} ({})", index + 1, fmt_duration(*planned)))
        }
        Event::Pause { next_phase, duration } => {
            Said::Line(format!("  pause {} before {next_phase}", fmt_duration(*duration)))
        }
        Event::PhaseFinished { summary, .. } => {
            let s = &summary.summary;
            // An aborted or skipped phase is not marked done: its figures cover the time it ran.
            let mark = match summary.status {
                PhaseStatus::Completed => "✔",
                PhaseStatus::Skipped => "» skipped",
                PhaseStatus::Aborted => "✗ aborted",
            };
            let mut lines = vec![format!(
                "{mark} {}: {} requests, {} failures, {:.1} req/s, p50 {:.1} ms, p99 {:.1} ms{}",
                summary.name,
                s.total_requests,
                s.failure_count,
                s.requests_per_sec,
                summary.latency_ms.p50,
                summary.latency_ms.p99,
                batch_note(summary.batch_items_failed)
            )];
            // Right under the phase's line: the live `so far` warning no longer holds.
            if let Some(word) = summary.validity.as_ref().and_then(|v| v.final_word()) {
                lines.push(format!("  phase {}: {word}", summary.name));
            }
            Said::Lines(lines)
        }
        Event::RequestError(m) => Said::RequestError(m.clone()),
        Event::Warning(m) => Said::Warning(format!("warning: {m}")),
        Event::FaultStarted { description, at_s, .. } => {
            Said::Line(format!("  fault at {at_s:.1} s: {description}"))
        }
        Event::FaultEnded { description, at_s, .. } => {
            Said::Line(format!("  fault over at {at_s:.1} s: {description}"))
        }
        Event::PhaseChanged { change, .. } => {
            Said::Line(format!("  changed at {:.1} s: {}", change.at_s, change.describe()))
        }
        Event::Resource(_) | Event::RunFinished { .. } => Said::Nothing,
    }
}

/// `[1/3 smoke_mix 00:04/00:06] users 5 | 28.0 req/s | …`: most telling first, so a
/// narrow terminal cuts the least useful end.
pub fn progress_line(s: &Snapshot) -> String {
    let line = format!(
        "[{}/{} {} {}/{}] users {} | {:.1} req/s | {:.1} fail/s | p50 {:.1} p95 {:.1} p99 {:.1} ms | total {} ({} failed)",
        s.phase_index + 1,
        s.phase_count,
        s.phase_name,
        fmt_seconds(s.phase_elapsed_s),
        fmt_seconds(s.phase_planned_s),
        s.users,
        s.rps,
        s.fps,
        s.p50_ms,
        s.p95_ms,
        s.p99_ms,
        s.total_requests,
        s.total_failures
    );
    match s.generator_bound.first() {
        // The first reason is enough on one line; the warning printed at the breach has them all.
        Some(reason) => format!("{line} | ⚠ generator-bound so far: {reason}"),
        None => line,
    }
}

/// Failed batch items arrive inside HTTP 200 answers: say so beside the failure count.
fn batch_note(items: u64) -> String {
    if items == 0 { String::new() } else { format!(" (+{items} batch items failed inside 200 answers)") }
}

/// Seconds from a snapshot; a value no clock can give (negative, NaN) reads 00:00.
fn fmt_seconds(s: f64) -> String {
    fmt_duration(Duration::try_from_secs_f64(s).unwrap_or_default())
}

pub fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}
