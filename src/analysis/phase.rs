//! Findings about one phase: Little's law, the tail, latency growth, errors, injected
//! failures, dedup, validity, settings that did not apply, the target going away, recovery.

use super::{
    Evidence, Finding, GROWTH_MIN_R2, GROWTH_MIN_RISE, GROWTH_MIN_SECONDS, INJECTION_MIN_EXPECTED,
    LITTLE_TOLERANCE, PhaseView, Severity, TAIL_FACTOR, count_text, duration_text, trim_number,
};
use crate::metrics::summary::RunSummary;

pub(super) fn all(v: &PhaseView<'_>, phases: &[PhaseView<'_>]) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(validity(v));
    out.extend(settings_not_applied(v));
    out.extend(injection(v));
    out.extend(error_onset(v, phases));
    out.extend(littles_law(v));
    out.extend(tail(v));
    out.extend(growth(v));
    out.extend(dedup(v));
    out.extend(target_restart(v));
    out.extend(recovery(v));
    out
}

fn finding(id: &'static str, severity: Severity, text: String, evidence: Vec<Evidence>) -> Finding {
    Finding { id, severity, text, evidence }
}

fn validity(v: &PhaseView<'_>) -> Option<Finding> {
    let validity = v.phase.validity.as_ref().filter(|x| !x.is_valid())?;
    let text = format!(
        "{}: the figures measure the generator, not the target ({}): generator CPU {} % of {} cores, worst stall {}",
        v.name(),
        validity.reasons.join("; "),
        trim_number(validity.generator_cpu_share * 100.0),
        validity.cores,
        duration_text(validity.worst_stall_ms)
    );
    let mut evidence = vec![
        Evidence::new(v.name(), "generator CPU share", validity.generator_cpu_share * 100.0, "%"),
        Evidence::new(v.name(), "worst stall", validity.worst_stall_ms, "ms"),
    ];
    if let Some(lag) = &validity.schedule_lag_ms {
        evidence.push(Evidence::new(v.name(), "schedule lag p99", lag.p99_ms, "ms"));
    }
    Some(finding("validity", Severity::Problem, text, evidence))
}

fn settings_not_applied(v: &PhaseView<'_>) -> Option<Finding> {
    let reasons = &v.phase.settings_not_applied;
    if reasons.is_empty() {
        return None;
    }
    let text = format!(
        "{}: {} server setting(s) did not reach the target, so the phase did not run as written: {}",
        v.name(),
        reasons.len(),
        reasons.join("; ")
    );
    let evidence = vec![Evidence::new(v.name(), "settings not applied", reasons.len() as f64, "")];
    Some(finding("settings-not-applied", Severity::Problem, text, evidence))
}

/// The failure rate the phase asked the server to inject, when it asked for one.
fn failure_rate_set(v: &PhaseView<'_>) -> Option<f64> {
    v.phase.config.server_settings.get("failure_rate")?.as_f64().filter(|r| *r > 0.0 && *r <= 1.0)
}

/// Injected failures vs the phase's `failure_rate`: none seen where some were due is the
/// seed harness's bug (the setting never reached its server).
fn injection(v: &PhaseView<'_>) -> Option<Finding> {
    let rate = failure_rate_set(v)?;
    let requests = v.phase.summary.total_requests;
    let expected = rate * requests as f64;
    let server_injected: Option<u64> = v
        .phase
        .server
        .as_ref()
        .filter(|s| !s.injected_failures.is_empty())
        .map(|s| s.injected_failures.values().sum());
    let (seen, source) = match server_injected {
        Some(n) => (n, "injected by the server"),
        None => (v.phase.summary.failure_count, "failed at the client"),
    };
    let mut evidence = vec![
        Evidence::new(v.name(), "failure_rate set", rate, ""),
        Evidence::new(v.name(), "requests", requests as f64, ""),
        Evidence::new(v.name(), source, seen as f64, ""),
    ];
    if seen == 0 {
        if expected < INJECTION_MIN_EXPECTED {
            return None;
        }
        let text = format!(
            "{}: failure_rate {} was set but no failure was injected (0 of {} requests, ~{} expected): the setting \
             did not reach the server — the seed harness's own bug",
            v.name(),
            trim_number(rate),
            count_text(requests),
            trim_number(expected)
        );
        return Some(finding("injection", Severity::Problem, text, evidence));
    }
    // Within three binomial standard deviations the injection did what was asked.
    let sd = (requests as f64 * rate * (1.0 - rate)).sqrt();
    let share = seen as f64 * 100.0 / requests.max(1) as f64;
    let close = (seen as f64 - expected).abs() <= 3.0 * sd.max(1.0);
    evidence.push(Evidence::new(v.name(), "expected", expected, ""));
    let text = format!(
        "{}: failure injection reached the server: {} failures {source} over {} requests ({} % against {} % set){}",
        v.name(),
        count_text(seen),
        count_text(requests),
        trim_number(share),
        trim_number(rate * 100.0),
        if close {
            ""
        } else {
            " — more than chance explains, so something besides the injection failed too, or less was injected"
        }
    );
    Some(finding("injection", if close { Severity::Info } else { Severity::Warning }, text, evidence))
}

/// Errors in a phase that did not ask for them: when they started, and at what load,
/// and whether the lighter phases of the suite were free of them.
fn error_onset(v: &PhaseView<'_>, phases: &[PhaseView<'_>]) -> Option<Finding> {
    let failed = v.phase.summary.failure_count;
    let requests = v.phase.summary.total_requests;
    if failed == 0 || requests == 0 || failure_rate_set(v).is_some() {
        return None;
    }
    let share = failed as f64 * 100.0 / requests as f64;
    let mut evidence = vec![
        Evidence::new(v.name(), "failures", failed as f64, ""),
        Evidence::new(v.name(), "requests", requests as f64, ""),
    ];
    let mut when = String::new();
    if let Some(first) = v.seconds.iter().find(|s| s.fps > 0.0) {
        let start = v.seconds.first().map_or(0.0, |s| s.t_s);
        let at = first.t_s - start;
        when = format!(" from {} s into the phase", trim_number(at));
        if let Some(u) = first.users {
            when.push_str(&format!(" at {u} users"));
            evidence.push(Evidence::new(v.name(), "users at the first failure", f64::from(u), ""));
        }
        evidence.push(Evidence::new(v.name(), "first failure", at, "s"));
    }
    let (load, unit) = v.offered().unwrap_or((0.0, ""));
    let lighter: Vec<&PhaseView<'_>> = phases
        .iter()
        .filter(|o| o.phase.suite == v.phase.suite && o.offered().is_some_and(|(l, u)| u == unit && l < load))
        .collect();
    let clean_below = !lighter.is_empty() && lighter.iter().all(|o| o.phase.summary.failure_count == 0);
    let below = if clean_below {
        let heaviest = lighter.iter().filter_map(|o| o.offered()).map(|(l, _)| l).fold(0.0, f64::max);
        format!("; the lighter phases of the suite (up to {} {unit}) had none", trim_number(heaviest))
    } else {
        String::new()
    };
    let kinds = failure_kinds(v);
    let mostly = kinds.first().map_or(String::new(), |(k, n)| format!(", mostly {k} ({})", count_text(*n)));
    let text = format!(
        "{}: errors{when}: {} of {} requests failed ({} %){mostly}{below}",
        v.name(),
        count_text(failed),
        count_text(requests),
        trim_number(share)
    );
    Some(finding("error-onset", Severity::Warning, text, evidence))
}

/// Little's law for a closed-model phase: users ÷ mean response time bounds the
/// throughput the users can carry (think time, not recorded in the summary, lowers it).
fn littles_law(v: &PhaseView<'_>) -> Option<Finding> {
    let users = v.users?;
    let mean_ms = v.mean_ms();
    if !v.enough() || users == 0 || mean_ms <= 0.0 || !v.phase.changes.is_empty() || v.rps() <= 0.0 {
        return None;
    }
    let expected = f64::from(users) / (mean_ms / 1000.0);
    let ratio = v.rps() / expected;
    if (ratio - 1.0).abs() <= LITTLE_TOLERANCE {
        return None;
    }
    let meaning = if ratio < 1.0 {
        "the users were idle part of the time: think time between requests, users still spawning, or a generator \
         that could not keep them busy"
    } else {
        "more completed than the users could carry: the mean response time understates (fast failures, dropped \
         requests) or more users ran than configured"
    };
    let text = format!(
        "{}: Little's law: {users} users ÷ {} mean response time allow {} req/s, the phase achieved {} req/s \
         ({} % of it): {meaning}",
        v.name(),
        duration_text(mean_ms),
        trim_number(expected),
        trim_number(v.rps()),
        trim_number(ratio * 100.0)
    );
    let evidence = vec![
        Evidence::new(v.name(), "users", f64::from(users), ""),
        Evidence::new(v.name(), "mean response time", mean_ms, "ms"),
        Evidence::new(v.name(), "throughput", v.rps(), "req/s"),
    ];
    Some(finding("littles-law", Severity::Info, text, evidence))
}

fn tail(v: &PhaseView<'_>) -> Option<Finding> {
    let (p50, p99) = (v.p50_ms(), v.p99_ms());
    // Below 100 requests the p99 is the slowest one or two: not a tail.
    if v.phase.summary.total_requests < 100 || p50 <= 0.0 || p99 / p50 <= TAIL_FACTOR {
        return None;
    }
    let text = format!(
        "{}: p99 is {}× p50 ({} against {}): a few requests wait far longer than the typical one — queueing, \
         pauses, retries or a slow dependency",
        v.name(),
        trim_number(p99 / p50),
        duration_text(p99),
        duration_text(p50)
    );
    let evidence = vec![Evidence::new(v.name(), "p50", p50, "ms"), Evidence::new(v.name(), "p99", p99, "ms")];
    Some(finding("tail-amplification", Severity::Warning, text, evidence))
}

/// Least-squares line through (t, y): slope, intercept and R².
fn fit(points: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
    let n = points.len() as f64;
    let (mx, my) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let sxx: f64 = points.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let syy: f64 = points.iter().map(|(_, y)| (y - my).powi(2)).sum();
    let sxy: f64 = points.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    Some((slope, my - slope * mx, sxy * sxy / (sxx * syy)))
}

/// The per-second p50 rising through the phase (once all its users are in): a queue building.
fn growth(v: &PhaseView<'_>) -> Option<Finding> {
    let full = v.seconds.iter().filter_map(|s| s.users).max();
    let points: Vec<(f64, f64)> = v
        .seconds
        .iter()
        .filter(|s| full.is_none() || s.users == full)
        .filter_map(|s| s.p50_ms.map(|p| (s.t_s, p)))
        .collect();
    if points.len() < GROWTH_MIN_SECONDS {
        return None;
    }
    let (slope, intercept, r2) = fit(&points)?;
    let (t0, t1) = (points[0].0, points[points.len() - 1].0);
    let (from, to) = (intercept + slope * t0, intercept + slope * t1);
    let mut sorted: Vec<f64> = points.iter().map(|p| p.1).collect();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    if slope <= 0.0 || r2 < GROWTH_MIN_R2 || median <= 0.0 || to - from < GROWTH_MIN_RISE * median {
        return None;
    }
    let text = format!(
        "{}: the per-second p50 grew by {} ms each second over {} s ({} → {} on the fitted line, R² {}): a queue \
         was building and the phase never reached a steady state",
        v.name(),
        trim_number(slope),
        trim_number(t1 - t0),
        duration_text(from.max(0.0)),
        duration_text(to),
        trim_number(r2)
    );
    let evidence = vec![
        Evidence::new(v.name(), "p50 slope", slope, "ms/s"),
        Evidence::new(v.name(), "seconds fitted", points.len() as f64, ""),
        Evidence::new(v.name(), "R²", r2, ""),
    ];
    Some(finding("latency-growth", Severity::Warning, text, evidence))
}

fn dedup(v: &PhaseView<'_>) -> Option<Finding> {
    let d = &v.phase.dedup;
    let line = d.exactly_once_line()?;
    let severity = if d.exactly_once == Some(true) { Severity::Info } else { Severity::Problem };
    let mut evidence = vec![
        Evidence::new(v.name(), "unique answered", d.unique_answered as f64, ""),
        Evidence::new(v.name(), "resends answered", d.resends_answered as f64, ""),
    ];
    evidence.extend(d.server_misses.map(|m| Evidence::new(v.name(), "server dedup misses", m as f64, "")));
    evidence.extend(d.server_hits.map(|h| Evidence::new(v.name(), "server dedup hits", h as f64, "")));
    Some(finding("dedup", severity, format!("{}: {line}", v.name()), evidence))
}

/// The target stopped answering during the phase (as the status poller noted it).
fn target_restart(v: &PhaseView<'_>) -> Option<Finding> {
    let notes: Vec<&String> = v
        .phase
        .notes
        .iter()
        .filter(|n| n.contains("stopped answering") || n.contains("answered /status again"))
        .collect();
    if notes.is_empty() {
        return None;
    }
    let back = notes.iter().any(|n| n.contains("again"));
    let text = format!(
        "{}: the target went away during the phase{}: {}",
        v.name(),
        if back { " and came back" } else { " and had not come back when it ended" },
        notes.iter().map(|n| n.as_str()).collect::<Vec<_>>().join("; ")
    );
    let evidence = vec![Evidence::new(v.name(), "status outages noted", notes.len() as f64, "")];
    Some(finding("target-restart", Severity::Problem, text, evidence))
}

/// Fault windows the phase did not recover from before it ended.
fn recovery(v: &PhaseView<'_>) -> Option<Finding> {
    let r = v.phase.resilience.as_ref()?;
    let stuck: Vec<_> = r.faults.iter().filter(|f| f.started_s.is_some() && !f.recovered).collect();
    if stuck.is_empty() {
        return None;
    }
    let text = format!(
        "{}: {} fault window(s) not recovered from before the phase ended: {}",
        v.name(),
        stuck.len(),
        stuck.iter().map(|f| f.description.as_str()).collect::<Vec<_>>().join("; ")
    );
    let evidence = stuck
        .iter()
        .map(|f| {
            Evidence::new(
                v.name(),
                &format!("fault `{}` ended at", f.description),
                f.ended_s.unwrap_or(0.0),
                "s",
            )
        })
        .collect();
    Some(finding("recovery", Severity::Problem, text, evidence))
}

/// Run-wide notes that name a container of the target that died.
pub(super) fn run_notes(summary: &RunSummary) -> Vec<Finding> {
    summary
        .notes
        .iter()
        .filter(|n| n.starts_with("container ") && n.ends_with("during the run"))
        .map(|n| {
            finding(
                "target-restart",
                Severity::Problem,
                format!("the run: {n}: the figures after it are of a target that was not whole"),
                vec![Evidence::new("run", "containers stopped", 1.0, "")],
            )
        })
        .collect()
}

/// The phase's failures summed by kind, largest first.
fn failure_kinds(v: &PhaseView<'_>) -> Vec<(String, u64)> {
    let mut by_kind: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for f in &v.phase.failures {
        *by_kind.entry(f.kind.as_str()).or_default() += f.count;
    }
    let mut out: Vec<(String, u64)> =
        by_kind.into_iter().filter(|(_, n)| *n > 0).map(|(k, n)| (k.to_string(), n)).collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}
