//! `experiment_report.md`: the run as GitHub-flavoured Markdown a user can commit beside
//! their code — the run's facts, the findings, a phase table per suite, a per-endpoint
//! table, the thresholds, and the charts as relative image links (only those on disk).
//! [`head`] is the top of it (verdict, findings, phase tables) for CI step summaries.

use std::path::{Path, PathBuf};

use super::charts::CHARTS;
use super::data::RunData;
use super::{CHARTS_DIR, ReportError};
use crate::analysis::{self, Finding, SecondPoint};
use crate::metrics::summary::{PhaseSummary, RunStatus, RunSummary, ThresholdResult, format_success_rate};

/// The run's Markdown report (figures, findings, chart links), written beside the HTML.
pub const REPORT_MD_FILE: &str = "experiment_report.md";

/// GitHub's limit for one step's summary is 1 MiB; the head stays well inside it.
pub const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;

/// The phases' per-second figures as the findings read them (seconds from each phase's start).
pub fn seconds_of(run: &RunData) -> Vec<Vec<SecondPoint>> {
    run.phases
        .iter()
        .map(|p| {
            p.seconds
                .iter()
                .map(|s| SecondPoint {
                    t_s: s.t_s - p.offset_s,
                    users: s.users,
                    rps: s.rps,
                    fps: s.fps,
                    p50_ms: s.p50_ms,
                })
                .collect()
        })
        .collect()
}

/// Writes `<out_dir>/experiment_report.md` for `summary`, with the findings drawn from it
/// and `seconds`, linking the charts found in `<out_dir>/charts/`.
pub fn write(
    out_dir: &Path,
    summary: &RunSummary,
    seconds: &[Vec<SecondPoint>],
) -> Result<PathBuf, ReportError> {
    let findings = analysis::analyse(summary, seconds);
    let charts: Vec<(&str, &str)> = CHARTS
        .iter()
        .filter(|c| out_dir.join(CHARTS_DIR).join(c.file).is_file())
        .map(|c| (c.file, c.title))
        .collect();
    let text = render(summary, &findings, &charts);
    let path = out_dir.join(REPORT_MD_FILE);
    super::files::write_atomic(&path, text.as_bytes())
        .map_err(|e| ReportError::Write { path: e.path, source: e.source })?;
    Ok(path)
}

/// The whole report; `charts` are (file in `charts/`, title) of the charts that exist.
pub fn render(s: &RunSummary, findings: &[Finding], charts: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(16 * 1024);
    putln!(out, "# Experiment report — {}\n", cell(&s.run_id));
    facts(&mut out, s);
    out.push_str(&body_head(s, findings));
    endpoints(&mut out, &s.experiments);
    thresholds(&mut out, s);
    if !charts.is_empty() {
        out.push_str("## Charts\n\n");
        for (file, title) in charts {
            putln!(out, "### {title}\n\n![{title}]({CHARTS_DIR}/{file})\n");
        }
    }
    out
}

/// The verdict, the findings and the phase tables, within `limit` bytes (phase rows past
/// it are cut and the cut said).
pub fn head(s: &RunSummary, findings: &[Finding], limit: usize) -> String {
    let mut out = format!("## terrafix-tui: {} — {}\n\n", cell(&s.run_id), cell(&s.profile));
    out.push_str(&body_head(s, findings));
    if out.len() > limit {
        let note = "\n\n… cut here to stay within GitHub's step-summary limit; see experiment_report.md\n";
        let mut end = limit.saturating_sub(note.len());
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        // Cut at a line end so no table row is left half written.
        let end = out[..end].rfind('\n').unwrap_or(0);
        out.truncate(end);
        out.push_str(note);
    }
    out
}

fn body_head(s: &RunSummary, findings: &[Finding]) -> String {
    let mut out = String::new();
    putln!(out, "**Verdict: {}**\n", verdict(s));
    out.push_str("## Findings\n\n");
    if findings.is_empty() {
        out.push_str("Nothing stood out beyond what the tables show.\n\n");
    }
    for f in findings {
        putln!(out, "- **{}** `{}` — {}", f.severity.label(), f.id, cell(&f.text));
    }
    if !findings.is_empty() {
        out.push('\n');
    }
    phase_tables(&mut out, &s.experiments);
    out
}

fn verdict(s: &RunSummary) -> String {
    let status = match s.status {
        RunStatus::Running => "still running (or killed)",
        RunStatus::Completed => "completed",
        RunStatus::Aborted => "aborted",
        RunStatus::Failed => "failed",
    };
    let failed =
        s.thresholds.iter().chain(s.experiments.iter().flat_map(|p| &p.thresholds)).filter(|t| !t.passed);
    let failed = failed.count();
    match (s.passed, failed) {
        (true, _) => format!("PASS ({status})"),
        (false, 0) => format!("FAIL ({status})"),
        (false, n) => format!("FAIL ({status}, {n} threshold(s) failed)"),
    }
}

fn facts(out: &mut String, s: &RunSummary) {
    let target =
        if s.target_url.is_empty() { s.target.clone() } else { format!("{} ({})", s.target, s.target_url) };
    out.push_str("| run | |\n|---|---|\n");
    let rows = [
        ("Profile", s.profile.clone()),
        ("Description", s.description.clone()),
        ("Target", target),
        ("Started", s.started_at.clone()),
        ("Finished", s.finished_at.clone()),
        ("Tool", format!("{} {}", s.tool, s.tool_version)),
        ("Seed", s.seed.to_string()),
        ("Phases", s.experiments.len().to_string()),
    ];
    for (k, v) in rows {
        putln!(out, "| {k} | {} |", cell(&v));
    }
    out.push('\n');
    for note in &s.notes {
        putln!(out, "> {}\n", cell(note));
    }
}

/// The suites in run order with their phases.
fn by_suite(phases: &[PhaseSummary]) -> Vec<(&str, Vec<&PhaseSummary>)> {
    let mut out: Vec<(&str, Vec<&PhaseSummary>)> = Vec::new();
    for p in phases {
        match out.iter_mut().find(|(s, _)| *s == p.suite) {
            Some((_, list)) => list.push(p),
            None => out.push((p.suite.as_str(), vec![p])),
        }
    }
    out
}

fn phase_verdict(p: &PhaseSummary) -> String {
    let mut parts = Vec::new();
    if p.validity.as_ref().is_some_and(|v| !v.is_valid()) {
        parts.push("generator-bound".to_string());
    }
    if !p.thresholds.is_empty() {
        let ok = p.thresholds.iter().filter(|t| t.passed).count();
        let word = if ok == p.thresholds.len() { "pass" } else { "FAIL" };
        parts.push(format!("{word} ({ok}/{} thresholds)", p.thresholds.len()));
    }
    if parts.is_empty() { "—".into() } else { parts.join(", ") }
}

fn phase_tables(out: &mut String, phases: &[PhaseSummary]) {
    for (suite, list) in by_suite(phases) {
        let title = if suite.is_empty() { "Phases".to_string() } else { format!("Suite {}", cell(suite)) };
        putln!(out, "### {title}\n");
        out.push_str("| phase | requests | success | req/s | p50 ms | p95 ms | p99 ms | verdict |\n");
        out.push_str("|---|--:|--:|--:|--:|--:|--:|---|\n");
        for p in list {
            putln!(
                out,
                "| {} | {} | {} | {:.2} | {:.1} | {:.1} | {:.1} | {} |",
                cell(&p.name),
                p.summary.total_requests,
                format_success_rate(p.success_rate_percent()),
                p.summary.requests_per_sec,
                p50(p),
                pick(p.latency_ms.p95, p.summary.p95_response_ms),
                pick(p.latency_ms.p99, p.summary.p99_response_ms),
                phase_verdict(p)
            );
        }
        out.push('\n');
    }
}

fn pick(ours: f64, seed: f64) -> f64 {
    if ours > 0.0 { ours } else { seed }
}

fn p50(p: &PhaseSummary) -> f64 {
    pick(p.latency_ms.p50, p.summary.median_response_ms)
}

fn endpoints(out: &mut String, phases: &[PhaseSummary]) {
    if phases.iter().all(|p| p.requests.is_empty()) {
        return;
    }
    out.push_str("## Endpoints\n\n");
    out.push_str(
        "| phase | method | name | requests | failures | req/s | p50 ms | p95 ms | p99 ms | max ms |\n",
    );
    out.push_str("|---|---|---|--:|--:|--:|--:|--:|--:|--:|\n");
    for p in phases {
        for r in &p.requests {
            putln!(
                out,
                "| {} | {} | {} | {} | {} | {:.2} | {:.1} | {:.1} | {:.1} | {:.1} |",
                cell(&p.name),
                cell(&r.method),
                cell(&r.name),
                r.requests,
                r.failures,
                r.rps,
                r.median_ms,
                r.p95_ms,
                r.p99_ms,
                r.max_ms
            );
        }
    }
    out.push('\n');
}

fn thresholds(out: &mut String, s: &RunSummary) {
    let all: Vec<&ThresholdResult> =
        s.thresholds.iter().chain(s.experiments.iter().flat_map(|p| &p.thresholds)).collect();
    if all.is_empty() {
        return;
    }
    out.push_str("## Thresholds\n\n| scope | metric | limit | actual | result |\n|---|---|--:|--:|---|\n");
    for t in all {
        let result = match (t.passed, t.untrustworthy) {
            (true, false) => "pass",
            (false, false) => "**FAIL**",
            (true, true) => "pass (generator-bound: untrustworthy)",
            (false, true) => "**FAIL** (generator-bound: untrustworthy)",
        };
        putln!(
            out,
            "| {} | {} | {} | {:.3} | {result} |",
            cell(&t.scope),
            cell(&t.metric),
            t.limit,
            t.actual
        );
    }
    out.push('\n');
}

/// Text made safe for a table cell or a line: Markdown's active characters escaped, line
/// breaks folded, so a phase or request name cannot open a link, a table or HTML.
pub fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '|' | '\\' | '`' | '*' | '[' | ']' | '<' | '>' | '#' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_stays_within_its_limit_and_cuts_at_a_line_end() {
        let summary: RunSummary =
            serde_json::from_str(include_str!("../../tests/fixtures/summary_v2_golden.json")).unwrap();
        let full = head(&summary, &[], STEP_SUMMARY_LIMIT);
        assert!(full.contains("**Verdict:") && full.contains("| phase | requests |"), "{full}");
        assert!(!full.contains("cut here"));
        let limit = full.len() / 2;
        let cut = head(&summary, &[], limit);
        assert!(cut.len() <= limit, "{} > {limit}", cut.len());
        assert!(cut.ends_with("see experiment_report.md\n"), "{cut}");
        // Every line kept is a whole line of the full head.
        let kept = cut.lines().filter(|l| !l.is_empty() && !l.starts_with('…'));
        for line in kept {
            assert!(full.lines().any(|f| f == line), "half a line kept: {line}");
        }
    }

    #[test]
    fn cells_cannot_break_a_table_or_open_html() {
        assert_eq!(cell("a|b\nc <x> [l](u)"), "a\\|b c \\<x\\> \\[l\\](u)");
    }
}
