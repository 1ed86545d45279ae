//! The run detail's text under its charts, as lines already fitted to a width: verdict,
//! findings, thresholds, endpoints, failures grouped by kind and message, the server's
//! view, the capacity answer, steering changes and faults, notes. Tables drop whole
//! columns when narrow; sentences wrap at word boundaries.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use crate::analysis::{Finding, Severity};
use crate::metrics::summary::{
    CapacityReport, FailureStat, PhaseSummary, RunStatus, RunSummary, ThresholdResult, format_success_rate,
};
use crate::palette::{self, Rgb};
use crate::tui::detail_state::RunDetail;
use crate::tui::format;
use crate::tui::theme::Theme;

use super::text_fit::{Col, fit, hanging, header, row, wrap_styled};

/// How many lines the text takes at `width` (for the scroll's end).
pub fn line_count(detail: &RunDetail, phase: usize, width: u16) -> usize {
    lines(Theme::new(false), detail, phase, width).len()
}

/// The detail text of `phase` at `width` columns.
pub fn lines(t: Theme, d: &RunDetail, phase: usize, width: u16) -> Vec<Line<'static>> {
    let w = usize::from(width.max(20));
    let Some(p) = d.summary.experiments.get(phase) else {
        return wrap_styled("This run has no phases: it ended before its first one started.", w, t.dim());
    };
    let mut out = Vec::new();
    verdict(t, &d.summary, p, w, &mut out);
    findings(t, &d.findings, &p.name, w, &mut out);
    thresholds(t, &d.summary, p, w, &mut out);
    endpoints(t, p, w, &mut out);
    failures(t, p, w, &mut out);
    server(t, p, w, &mut out);
    if let Some(capacity) = &d.summary.capacity {
        capacity_answer(t, capacity, w, &mut out);
    }
    changes_and_faults(t, p, w, &mut out);
    notes(t, p, &d.warnings, w, &mut out);
    out
}

/// A palette colour, or no colour with `NO_COLOR`.
pub fn rgb(t: Theme, c: Rgb) -> Style {
    if t.color { Style::new().fg(Color::Rgb(c.0, c.1, c.2)) } else { Style::new() }
}

fn failure_style(t: Theme) -> Style {
    rgb(t, palette::FAILURE).add_modifier(Modifier::BOLD)
}

fn mark(t: Theme, passed: bool) -> Span<'static> {
    if passed { Span::styled("✓ ", t.ok()) } else { Span::styled("✗ ", failure_style(t)) }
}

fn heading(t: Theme, text: String, out: &mut Vec<Line<'static>>) {
    if !out.is_empty() {
        out.push(Line::raw(""));
    }
    out.push(Line::styled(text, t.title()));
}

fn verdict(t: Theme, s: &RunSummary, p: &PhaseSummary, w: usize, out: &mut Vec<Line<'static>>) {
    let run = match s.status {
        RunStatus::Aborted => "run aborted".to_string(),
        RunStatus::Running => "run still going (or killed): figures so far".to_string(),
        RunStatus::Failed => "run failed".to_string(),
        RunStatus::Completed if s.passed => "run passed".to_string(),
        RunStatus::Completed => "run FAILED".to_string(),
    };
    let reasons =
        if s.fail_reasons.is_empty() { String::new() } else { format!(": {}", s.fail_reasons.join("; ")) };
    out.extend(hanging(mark(t, s.passed), &format!("{run}{reasons}"), w, Style::new()));
    let status = format!("{:?}", p.status).to_lowercase();
    let totals = format!(
        "{} {status}: {} requests, {} ok, {} req/s, p50 {}, p95 {}, p99 {}",
        p.name,
        format::count(p.summary.total_requests),
        format_success_rate(p.success_rate_percent()),
        format::real(p.summary.requests_per_sec),
        format::ms(p.summary.median_response_ms),
        format::ms(p.summary.p95_response_ms),
        format::ms(p.summary.p99_response_ms),
    );
    let phase_ok = p.thresholds.iter().all(|th| th.passed);
    out.extend(hanging(mark(t, phase_ok), &totals, w, Style::new()));
    out.extend(wrap_styled(&load_text(p), w, t.dim()));
    if let Some(line) = p.validity_line() {
        let bound = p.validity.as_ref().is_some_and(|v| !v.is_valid());
        let style = if bound { t.warn() } else { t.dim() };
        out.extend(hanging(Span::styled(if bound { "⚠ " } else { "  " }, style), &line, w, style));
    }
}

/// `closed model, 5 users (spawn 5/s), 30s, behaviour webhook, repo small`.
fn load_text(p: &PhaseSummary) -> String {
    let c = &p.config;
    let mut parts = Vec::new();
    if !c.model.is_empty() {
        parts.push(format!("{} model", c.model));
    }
    if let Some(users) = c.users {
        let spawn = c.spawn_rate.map(|r| format!(" (spawn {}/s)", format::real(r))).unwrap_or_default();
        parts.push(format!("{users} users{spawn}"));
    }
    match (c.arrival_rate_from, c.arrival_rate_to) {
        (Some(a), Some(b)) if (a - b).abs() > f64::EPSILON => {
            parts.push(format!("{} → {} req/s", format::real(a), format::real(b)));
        }
        (Some(a), _) | (None, Some(a)) => parts.push(format!("{} req/s", format::real(a))),
        (None, None) => {}
    }
    if c.duration_s > 0.0 {
        parts.push(format!("{} planned", format::secs(c.duration_s)));
    }
    parts.push(format!("ran {}", format::secs(p.duration_s)));
    if !c.behaviour.is_empty() {
        parts.push(format!("behaviour {}", c.behaviour));
    }
    if let Some(size) = &c.repo_size {
        parts.push(format!("repository {size}"));
    }
    parts.join(", ")
}

/// The run's findings, those resting on this phase's figures first (each group keeps the
/// analysis' order: most severe first).
fn findings(t: Theme, findings: &[Finding], phase: &str, w: usize, out: &mut Vec<Line<'static>>) {
    let about = |f: &Finding| f.evidence.iter().any(|e| e.phase == phase);
    let here = findings.iter().filter(|f| about(f)).count();
    heading(t, format!("Findings ({}, {here} on this phase)", findings.len()), out);
    if findings.is_empty() {
        out.extend(wrap_styled("Nothing stands out that the data can carry.", w, t.dim()));
    }
    let ordered = findings.iter().filter(|f| about(f)).chain(findings.iter().filter(|f| !about(f)));
    for f in ordered {
        let style = match f.severity {
            Severity::Problem => t.warn().add_modifier(Modifier::BOLD),
            Severity::Warning => t.warn(),
            Severity::Info => Style::new(),
        };
        let lead = Span::styled(format!("{} ", severity_mark(f.severity)), style);
        out.extend(hanging(lead, &f.text, w, style));
    }
}

pub fn severity_mark(severity: Severity) -> &'static str {
    match severity {
        Severity::Problem => "‼",
        Severity::Warning => "!",
        Severity::Info => "·",
    }
}

fn thresholds(t: Theme, s: &RunSummary, p: &PhaseSummary, w: usize, out: &mut Vec<Line<'static>>) {
    let mine: Vec<&ThresholdResult> = p.thresholds.iter().chain(&s.thresholds).collect();
    heading(t, format!("Thresholds ({})", mine.len()), out);
    if mine.is_empty() {
        out.push(Line::styled("none declared for this phase or the run", t.dim()));
    }
    for th in mine {
        let shown = |v: f64| match th.metric.as_str() {
            "error_rate" => format::percent(v),
            "min_rps" => format!("{} req/s", format::real(v)),
            _ => format::ms(v),
        };
        let trust = if th.untrustworthy { " (generator-bound: says more about the generator)" } else { "" };
        let text = format!(
            "{} {}: limit {}, actual {}{trust}",
            th.scope,
            th.metric,
            shown(th.limit),
            shown(th.actual)
        );
        let style = if th.passed { Style::new() } else { failure_style(t) };
        out.extend(hanging(mark(t, th.passed), &text, w, style));
    }
}

fn endpoints(t: Theme, p: &PhaseSummary, w: usize, out: &mut Vec<Line<'static>>) {
    heading(t, format!("Endpoints ({})", p.requests.len()), out);
    if p.requests.is_empty() {
        out.push(Line::styled("no requests were recorded in this phase", t.dim()));
        return;
    }
    let cols = [
        Col { title: "reqs", width: 7, keep: 9 },
        Col { title: "fails", width: 6, keep: 8 },
        Col { title: "req/s", width: 7, keep: 5 },
        Col { title: "p50", width: 7, keep: 6 },
        Col { title: "p95", width: 7, keep: 7 },
        Col { title: "p99", width: 7, keep: 8 },
        Col { title: "max", width: 7, keep: 3 },
    ];
    let (kept, name_w) = fit(&cols, 16, w);
    out.push(header(t, "endpoint", &cols, &kept, name_w));
    for r in &p.requests {
        let fails_style = if r.failures > 0 { rgb(t, palette::FAILURE) } else { Style::new() };
        let cells = [
            (format::count(r.requests), Style::new()),
            (format::count(r.failures), fails_style),
            (format::real(r.rps), Style::new()),
            (format::ms(r.median_ms), rgb(t, palette::P50)),
            (format::ms(r.p95_ms), rgb(t, palette::P95)),
            (format::ms(r.p99_ms), rgb(t, palette::P99)),
            (format::ms(r.max_ms), Style::new()),
        ];
        out.push(row(&format!("{} {}", r.method, r.name), &cells, &cols, &kept, name_w));
    }
}

/// Failures of one kind and message in a phase, over all the endpoints that saw them.
#[derive(Clone, Debug, PartialEq)]
pub struct FailureGroup {
    pub kind: String,
    pub message: String,
    pub count: u64,
    pub endpoints: Vec<String>,
    /// RFC 3339, as the summary holds them.
    pub first_seen: String,
    pub last_seen: String,
}

/// Failures of a phase grouped by kind and message, most frequent first.
pub fn failure_groups(p: &PhaseSummary) -> Vec<FailureGroup> {
    let mut groups: Vec<FailureGroup> = Vec::new();
    for f in &p.failures {
        let endpoint = format!("{} {}", f.method, f.name);
        for (message, count) in messages_of(f) {
            match groups.iter_mut().find(|g| g.kind == f.kind && g.message == message) {
                Some(g) => {
                    g.count += count;
                    if !g.endpoints.contains(&endpoint) {
                        g.endpoints.push(endpoint.clone());
                    }
                    if f.first_seen < g.first_seen {
                        g.first_seen = f.first_seen.clone();
                    }
                    if f.last_seen > g.last_seen {
                        g.last_seen = f.last_seen.clone();
                    }
                }
                None => groups.push(FailureGroup {
                    kind: f.kind.clone(),
                    message,
                    count,
                    endpoints: vec![endpoint.clone()],
                    first_seen: f.first_seen.clone(),
                    last_seen: f.last_seen.clone(),
                }),
            }
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.count));
    groups
}

fn messages_of(f: &FailureStat) -> Vec<(String, u64)> {
    if f.messages.is_empty() {
        return vec![(f.error.clone(), f.count)];
    }
    let mut out: Vec<(String, u64)> = f.messages.iter().map(|m| (m.message.clone(), m.count)).collect();
    if f.other_messages > 0 {
        out.push(("(other messages)".to_string(), f.other_messages));
    }
    out
}

/// A time the summary wrote (RFC 3339) as seconds from the phase's start: `+12s`.
fn since_start(p: &PhaseSummary, at: &str) -> String {
    let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    match (parse(&p.started_at), parse(at)) {
        (Some(start), Some(when)) => {
            let s = (when - start).num_milliseconds() as f64 / 1000.0;
            format!("+{}", format::secs(s.max(0.0)))
        }
        _ => at.to_string(),
    }
}

fn failures(t: Theme, p: &PhaseSummary, w: usize, out: &mut Vec<Line<'static>>) {
    let groups = failure_groups(p);
    let total: u64 = groups.iter().map(|g| g.count).sum();
    if groups.is_empty() {
        heading(t, "Failures (none)".to_string(), out);
        return;
    }
    let kinds = if groups.len() == 1 { "kind" } else { "kinds" };
    heading(t, format!("Failures ({} in {} {kinds})", format::count(total), groups.len()), out);
    for g in groups {
        let lead = Span::styled(format!("{:>6} × ", format::count(g.count)), failure_style(t));
        let text = format!(
            "{} on {}: {} (first {}, last {})",
            g.kind,
            g.endpoints.join(", "),
            g.message,
            since_start(p, &g.first_seen),
            since_start(p, &g.last_seen)
        );
        out.extend(hanging(lead, &text, w, Style::new()));
    }
}

fn server(t: Theme, p: &PhaseSummary, w: usize, out: &mut Vec<Line<'static>>) {
    heading(t, "Server view".to_string(), out);
    let Some(s) = &p.server else {
        out.extend(wrap_styled(
            "none: the target did not answer GET /status (or configure was off)",
            w,
            t.dim(),
        ));
        return;
    };
    let n = |v: Option<u64>| v.map_or("–".to_string(), format::count);
    let ms = |v: Option<f64>| v.map_or("–".to_string(), format::ms);
    let text = format!(
        "{} requests, {} ok, {} failed, {} rejected; p50 {}, p95 {}, p99 {}",
        n(s.total_requests),
        n(s.successful_requests),
        n(s.failed_requests),
        n(s.rejected),
        ms(s.p50_ms),
        ms(s.p95_ms),
        ms(s.p99_ms)
    );
    out.extend(wrap_styled(&text, w, Style::new()));
    if !s.injected_failures.is_empty() {
        let injected: Vec<String> = s.injected_failures.iter().map(|(k, v)| format!("{k} {v}")).collect();
        out.extend(wrap_styled(&format!("injected failures: {}", injected.join(", ")), w, Style::new()));
    }
    if let Some(line) = p.dedup.exactly_once_line() {
        out.extend(wrap_styled(&line, w, Style::new()));
    }
}

fn capacity_answer(t: Theme, c: &CapacityReport, w: usize, out: &mut Vec<Line<'static>>) {
    heading(t, "Capacity".to_string(), out);
    let answer = match c.max_sustainable_rps {
        Some(rps) => format!(
            "{} req/s sustained (p99 ≤ {}, errors ≤ {})",
            format::real(rps),
            format::ms(c.p99_limit_ms),
            format::percent(c.max_error_rate)
        ),
        None => "no step met the limits: even the first step failed".to_string(),
    };
    out.extend(hanging(
        mark(t, c.max_sustainable_rps.is_some()),
        &answer,
        w,
        Style::new().add_modifier(Modifier::BOLD),
    ));
    if !c.confidence.is_empty() {
        out.extend(wrap_styled(&c.confidence, w, t.dim()));
    }
    let cols = [
        Col { title: "target", width: 7, keep: 9 },
        Col { title: "achieved", width: 8, keep: 8 },
        Col { title: "p99", width: 7, keep: 8 },
        Col { title: "errors", width: 7, keep: 6 },
        Col { title: "dropped", width: 7, keep: 4 },
        Col { title: "ok", width: 2, keep: 9 },
    ];
    let (kept, name_w) = fit(&cols, 12, w);
    out.push(header(t, "step", &cols, &kept, name_w));
    for s in &c.steps {
        let cells = [
            (format::real(s.target_rps), Style::new()),
            (format::real(s.achieved_rps), Style::new()),
            (format::ms(s.p99_ms), rgb(t, palette::P99)),
            (format::percent(s.error_rate), Style::new()),
            (format::count(s.dropped), Style::new()),
            if s.passed { ("✓".to_string(), t.ok()) } else { ("✗".to_string(), failure_style(t)) },
        ];
        out.push(row(&s.phase, &cells, &cols, &kept, name_w));
    }
}

fn changes_and_faults(t: Theme, p: &PhaseSummary, w: usize, out: &mut Vec<Line<'static>>) {
    let faults = p.resilience.as_ref().map_or(&[][..], |r| r.faults.as_slice());
    heading(t, format!("Changes and faults ({})", p.changes.len() + faults.len()), out);
    if p.changes.is_empty() && faults.is_empty() {
        out.push(Line::styled("no steering changes, no injected faults", t.dim()));
    }
    let change_style = rgb(t, palette::CHANGE);
    for c in &p.changes {
        let what = match (c.users, c.arrival_rate, c.extended_by_s) {
            (Some(u), _, _) => format!("users → {u}"),
            (_, Some(r), _) => format!("arrival rate → {} req/s", format::real(r)),
            (_, _, Some(s)) => format!("extended by {}", format::secs(s)),
            _ => "statistics reset".to_string(),
        };
        let lead = Span::styled(format!("│ +{:<6} ", format::secs(c.at_s)), change_style);
        out.extend(hanging(lead, &format!("change: {what}"), w, change_style));
    }
    let fault_style = rgb(t, palette::FAULT);
    for f in faults {
        let from = f.started_s.unwrap_or(f.planned_at_s);
        let to = f.ended_s.unwrap_or(f.planned_end_s);
        let lead = Span::styled(format!("▕▏+{:<6}", format::secs(from)), fault_style);
        let text = format!("fault until +{}: {} ({})", format::secs(to), f.description, f.recovery_text());
        out.extend(hanging(lead, &text, w, fault_style));
    }
}

fn notes(t: Theme, p: &PhaseSummary, warnings: &[String], w: usize, out: &mut Vec<Line<'static>>) {
    let lines: Vec<String> = p
        .resilience_lines()
        .into_iter()
        .chain(p.detail_lines())
        .chain(p.settings_not_applied.iter().map(|s| format!("setting not applied: {s}")))
        .chain(p.notes.iter().cloned())
        .collect();
    if lines.is_empty() && warnings.is_empty() {
        return;
    }
    heading(t, "Notes".to_string(), out);
    for line in lines {
        out.extend(hanging(Span::raw("· "), &line, w, t.dim()));
    }
    for warning in warnings {
        out.extend(hanging(Span::styled("⚠ ", t.warn()), warning, w, t.warn()));
    }
}
