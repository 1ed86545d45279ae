//! The end of a headless run in k6's spirit: a phase table that fits the terminal (whole
//! columns dropped below `WIDE`), the checks ✓/✗, one row per endpoint, and the verdict;
//! the details behind `--verbose`. Pure: summary in, lines out.

use std::collections::{BTreeMap, HashSet};

use super::text::cut;
use crate::metrics::summary::{
    PhaseStatus, PhaseSummary, RunStatus, RunSummary, SettingsApplied, ThresholdResult,
};

/// From this many columns the table has every column (success %, p95, dedup).
pub const WIDE: usize = 120;

pub struct View<'a> {
    pub run: &'a RunSummary,
    pub width: usize,
    pub verbose: bool,
}

/// Everything before the `results:` line and the verdict. `printed`: messages the run has
/// already shown (the target's restore, a note), left out here.
pub fn lines(view: &View<'_>, printed: &HashSet<String>) -> Vec<String> {
    let run = view.run;
    let mut out = vec![String::new()];
    out.extend(table(run, view.width));
    for p in run.experiments.iter().filter(|p| p.batch_items_failed > 0) {
        out.push(format!(
            "{}: {} batch items failed inside HTTP 200 answers (not in `failed`)",
            p.name, p.batch_items_failed
        ));
    }
    out.extend(checks(run));
    out.extend(endpoints(run, view.width));
    out.extend(workers(run));
    out.extend(capacity(run, view.verbose));
    if run.connection.insecure {
        out.push(format!("connection: {}", run.connection.tls));
    }
    let unseen = |m: &String| !printed.contains(m.trim());
    if view.verbose {
        out.extend(details(run).into_iter().filter(|l| unseen(l)));
        let restore = run.restore.iter().map(|r| &r.message).filter(|m| unseen(m));
        out.extend(restore.map(|m| format!("target: {m}")));
        out.extend(run.notes.iter().filter(|n| unseen(n)).map(|n| format!("note: {n}")));
    } else {
        let notes = run.notes.iter().filter(|n| unseen(n)).count();
        if notes > 0 {
            out.push(format!(
                "{notes} note(s) on this run: --verbose shows them (also in experiment_summary.json)"
            ));
        }
    }
    out
}

/// The last line: `PASS: …` or `FAILED: why; why`.
pub fn verdict_line(run: &RunSummary) -> String {
    let requests: u64 = run.experiments.iter().map(|p| p.summary.total_requests).sum();
    let failed: u64 = run.experiments.iter().map(|p| p.summary.failure_count).sum();
    if run.passed {
        return format!(
            "PASS: {}, {} phase(s), {requests} requests, {failed} failed, seed {}",
            run.profile,
            run.experiments.len(),
            run.seed
        );
    }
    let mut why: Vec<String> = run.fail_reasons.clone();
    let failing = all_thresholds(run).filter(|(_, t)| !t.passed);
    why.extend(failing.map(|(scope, t)| format!("{scope} {}", threshold_text(t))));
    match run.status {
        RunStatus::Aborted => why.push(aborted_text(run)),
        RunStatus::Failed => why.push("the run could not go on (see the notes)".into()),
        RunStatus::Running | RunStatus::Completed => {}
    }
    if why.is_empty() {
        let bound = run.experiments.iter().filter(|p| p.validity.as_ref().is_some_and(|v| !v.is_valid()));
        why.extend(bound.map(|p| format!("phase {} was generator-bound (fail_on_invalid)", p.name)));
    }
    if why.is_empty() {
        why.push("see experiment_summary.json".into());
    }
    format!("FAILED: {}", why.join("; "))
}

/// `aborted in phase X after 1 finished phase(s)`.
fn aborted_text(run: &RunSummary) -> String {
    let finished = run.experiments.iter().filter(|p| p.status != PhaseStatus::Aborted).count();
    match run.experiments.iter().find(|p| p.status == PhaseStatus::Aborted) {
        Some(cut) => format!("aborted in phase {} after {finished} finished phase(s)", cut.name),
        None => format!("aborted after {finished} finished phase(s)"),
    }
}

/// One row per phase; below `WIDE` columns only requests, failed, success (the seed's headline
/// figure), req/s, p50, p99, checks.
fn table(run: &RunSummary, width: usize) -> Vec<String> {
    let wide = width >= WIDE;
    let numbers = if wide { 94 } else { 62 };
    let longest = run.experiments.iter().map(|p| p.name.chars().count()).max().unwrap_or(0).max(5);
    let name_w = longest.min(width.saturating_sub(numbers + 1)).max(8);
    let mut out = Vec::new();
    if wide {
        out.push(format!(
            "{:<name_w$} {:>9} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>14} {:>10}",
            "phase",
            "requests",
            "failed",
            "success",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "dedup hit/dup",
            "checks"
        ));
    } else {
        out.push(format!(
            "{:<name_w$} {:>9} {:>7} {:>8} {:>8} {:>8} {:>8} {:>7}",
            "phase", "requests", "failed", "success", "req/s", "p50 ms", "p99 ms", "checks"
        ));
    }
    for p in &run.experiments {
        let name = cut(&p.name, name_w);
        let s = &p.summary;
        let l = &p.latency_ms;
        let success = crate::metrics::summary::format_success_rate(p.success_rate_percent());
        out.push(if wide {
            let dedup = match p.dedup.server_hits {
                Some(h) => format!("{h}/{}", p.dedup.duplicates_sent),
                None => format!("-/{}", p.dedup.duplicates_sent),
            };
            format!(
                "{name:<name_w$} {:>9} {:>8} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>14} {:>10}",
                s.total_requests,
                s.failure_count,
                success,
                s.requests_per_sec,
                l.p50,
                l.p95,
                l.p99,
                dedup,
                checks_cell(p)
            )
        } else {
            format!(
                "{name:<name_w$} {:>9} {:>7} {:>8} {:>8.1} {:>8.1} {:>8.1} {:>7}",
                s.total_requests,
                s.failure_count,
                success,
                s.requests_per_sec,
                l.p50,
                l.p99,
                checks_cell(p)
            )
        });
    }
    out
}

/// `2/2` thresholds passed, `-` without any; `!` marks a generator-bound phase.
fn checks_cell(p: &PhaseSummary) -> String {
    let bound = if p.validity.as_ref().is_some_and(|v| !v.is_valid()) { "!" } else { "" };
    if p.thresholds.is_empty() {
        return format!("-{bound}");
    }
    format!("{}/{}{bound}", p.thresholds.iter().filter(|t| t.passed).count(), p.thresholds.len())
}

fn all_thresholds(run: &RunSummary) -> impl Iterator<Item = (String, &ThresholdResult)> {
    let phases = run
        .experiments
        .iter()
        .flat_map(|p| p.thresholds.iter().map(move |t| (format!("phase {}", p.name), t)));
    phases.chain(run.thresholds.iter().map(|t| ("run".to_string(), t)))
}

/// `p99_ms 120.3 ≤ 100` (min_rps is a floor: `min_rps 8.0 ≥ 10`).
fn threshold_text(t: &ThresholdResult) -> String {
    let actual =
        if t.metric == "error_rate" { format!("{:.3}", t.actual) } else { format!("{:.1}", t.actual) };
    let relation = if t.metric.starts_with("min_") { "≥" } else { "≤" };
    let untrusted = if t.untrustworthy { " (generator-bound: untrustworthy)" } else { "" };
    format!("{} {actual}, limit {relation} {}{untrusted}", t.metric, t.limit)
}

/// k6's checks: ✓ or ✗ per threshold, and ✗ for a phase that measured the generator.
fn checks(run: &RunSummary) -> Vec<String> {
    let mut rows: Vec<String> = all_thresholds(run)
        .map(|(scope, t)| format!("  {} {scope}: {}", if t.passed { "✓" } else { "✗" }, threshold_text(t)))
        .collect();
    for p in &run.experiments {
        if let Some(v) = p.validity.as_ref().filter(|v| !v.is_valid()) {
            rows.push(format!("  ✗ phase {}: generator-bound ({})", p.name, v.reasons.join("; ")));
        }
    }
    if rows.is_empty() {
        return Vec::new();
    }
    let passed = rows.iter().filter(|r| r.starts_with("  ✓")).count();
    let mut out = vec![format!("checks: {passed} of {} passed", rows.len())];
    out.extend(rows);
    out
}

/// One row per endpoint over all phases: requests, failed, and the worst phase's p99
/// (percentiles of different phases do not add up).
fn endpoints(run: &RunSummary, width: usize) -> Vec<String> {
    let mut by_name: BTreeMap<String, (u64, u64, f64)> = BTreeMap::new();
    for r in run.experiments.iter().flat_map(|p| &p.requests) {
        let row = by_name.entry(format!("{} {}", r.method, r.name)).or_default();
        row.0 += r.requests;
        row.1 += r.failures;
        row.2 = row.2.max(r.p99_ms);
    }
    if by_name.is_empty() {
        return Vec::new();
    }
    let longest = by_name.keys().map(|k| k.chars().count()).max().unwrap_or(0).max(8);
    let name_w = longest.min(width.saturating_sub(2 + 9 + 8 + 12 + 4)).max(8);
    let mut out =
        vec![format!("  {:<name_w$} {:>9} {:>8} {:>12}", "endpoint", "requests", "failed", "worst p99 ms")];
    for (name, (requests, failures, p99)) in by_name {
        out.push(format!("  {:<name_w$} {requests:>9} {failures:>8} {p99:>12.1}", cut(&name, name_w)));
    }
    out
}

/// A distributed run's generators, one row per worker and phase, and how they were wired.
fn workers(run: &RunSummary) -> Vec<String> {
    let Some(d) = &run.distributed else { return Vec::new() };
    let mode = if d.network.is_empty() { String::new() } else { format!(" on the {} network", d.network) };
    let mut out = vec![format!("generators: {} worker task(s) of {}{mode}", d.workers, d.service)];
    for p in run.experiments.iter().filter(|p| !p.workers.is_empty()) {
        out.extend(p.workers.iter().map(|w| format!("  {}: {}", p.name, w.row())));
    }
    out
}

fn capacity(run: &RunSummary, verbose: bool) -> Vec<String> {
    let Some(c) = &run.capacity else { return Vec::new() };
    let mut out = vec![match c.max_sustainable_rps {
        Some(r) => format!(
            "capacity: {r:.1} req/s sustained (p99 ≤ {} ms, errors ≤ {:.1} %)",
            c.p99_limit_ms,
            c.max_error_rate * 100.0
        ),
        None => "capacity: even the first step failed the limits".into(),
    }];
    if verbose && !c.confidence.is_empty() {
        out.push(format!("capacity confidence: {}", c.confidence));
    }
    out
}

/// `--verbose`: per phase the validity, retries and faults, like for like, exactly once,
/// generators, connects and server settings; the protocol.
fn details(run: &RunSummary) -> Vec<String> {
    let mut out = Vec::new();
    for p in &run.experiments {
        let lines = p.validity_line().into_iter().chain(p.resilience_lines()).chain(p.detail_lines());
        out.extend(lines.map(|l| format!("{}: {l}", p.name)));
        if p.connections.connects > 0 || p.connections.failed > 0 {
            out.push(format!(
                "{}: {} connects ({} failed), connect{} p50 {:.1} ms p99 {:.1} ms",
                p.name,
                p.connections.connects,
                p.connections.failed,
                if run.connection.tls.starts_with("https") { "+TLS" } else { "" },
                p.connections.p50_ms,
                p.connections.p99_ms
            ));
        }
        out.extend(p.settings_not_applied.iter().map(|r| format!("{}: server setting {r}", p.name)));
        if p.settings_applied == Some(SettingsApplied::Partial)
            && let Some(held) = &p.settings_held
        {
            out.push(format!(
                "{}: server settings held for {:.0} % of the phase only (the target restarted; see the notes)",
                p.name,
                held.share * 100.0
            ));
        }
    }
    if run.connection.protocol == "HTTP/2" {
        out.push("protocol: HTTP/2 (negotiated with ALPN)".into());
    }
    out
}
