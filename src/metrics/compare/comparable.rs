//! Whether two phases may be compared at all: a side whose figures are the generator's
//! own limits (its validity verdict is not `valid`), and every difference of configuration
//! between the two runs' phases that could explain a change as well as the target could.
//! Reads the summaries; the statistics beside it never do.

use crate::metrics::summary::{PhaseChange, PhaseConfig, PhaseSummary, RunSummary, Validity};

/// `A was generator-bound (p99 schedule lag 81.0 ms)` when `validity` is not `valid`;
/// `None` for a valid phase, or one recorded before verdicts existed.
pub fn invalid_side(side: &str, validity: Option<&Validity>) -> Option<String> {
    let v = validity?;
    if v.is_valid() {
        return None;
    }
    // Each reason is "what: why (limit …)"; the table has room for the what.
    let mut details: Vec<String> = v
        .reasons
        .iter()
        .map(|r| {
            let cut = r.find(':').or_else(|| r.find(" (limit")).unwrap_or(r.len());
            r[..cut].trim().to_string()
        })
        .filter(|r| !r.is_empty())
        .collect();
    if details.is_empty()
        && let Some(lag) = &v.schedule_lag_ms
    {
        details.push(format!("p99 schedule lag {:.1} ms", lag.p99_ms));
    }
    let verdict = if v.verdict.is_empty() { "not valid" } else { v.verdict.as_str() };
    Some(if details.is_empty() {
        format!("{side} was {verdict}")
    } else {
        format!("{side} was {verdict} ({})", details.join("; "))
    })
}

/// Differences of configuration between run A and run B, for the phases compared (each
/// pair is the same phase name in both): run-level first (profile, target, tool version),
/// then per phase (behaviour, model, users or arrival rate, repo size, server settings,
/// steering). Empty when the two were set up alike.
pub fn differences(a: &RunSummary, b: &RunSummary, phases: &[(&PhaseSummary, &PhaseSummary)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |what: &str, x: &str, y: &str| {
        if x != y {
            out.push(format!("{what} {} → {}", shown(x), shown(y)));
        }
    };
    field("profile", &a.profile, &b.profile);
    field("target", &a.target, &b.target);
    // The embedded target listens on a new port each run: its URL says nothing.
    if a.target == b.target && a.target != "embedded" {
        field("target URL", &a.target_url, &b.target_url);
    }
    field("tool version", &a.tool_version, &b.tool_version);
    for (pa, pb) in phases {
        out.extend(
            phase_differences((&pa.config, &pa.changes), (&pb.config, &pb.changes))
                .into_iter()
                .map(|d| format!("phase {}: {d}", pa.name)),
        );
    }
    out
}

fn shown(text: &str) -> &str {
    if text.is_empty() { "(none)" } else { text }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// One phase's configuration and the steering applied to it.
type PhaseSetup<'a> = (&'a PhaseConfig, &'a [PhaseChange]);

fn phase_differences((ca, changes_a): PhaseSetup<'_>, (cb, changes_b): PhaseSetup<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |what: &str, x: String, y: String| {
        if x != y {
            out.push(format!("{what} {x} → {y}"));
        }
    };
    field("behaviour", ca.behaviour.clone(), cb.behaviour.clone());
    field("model", ca.model.clone(), cb.model.clone());
    field("users", opt(ca.users), opt(cb.users));
    field("spawn rate", opt(ca.spawn_rate), opt(cb.spawn_rate));
    let rate = |from: Option<f64>, to: Option<f64>| match (from, to) {
        (Some(f), Some(t)) if (f - t).abs() < 1e-9 => format!("{f} req/s"),
        (Some(f), Some(t)) => format!("{f}→{t} req/s"),
        _ => "-".into(),
    };
    field(
        "arrival rate",
        rate(ca.arrival_rate_from, ca.arrival_rate_to),
        rate(cb.arrival_rate_from, cb.arrival_rate_to),
    );
    field("max in flight", opt(ca.max_in_flight), opt(cb.max_in_flight));
    field("duration", format!("{} s", ca.duration_s), format!("{} s", cb.duration_s));
    field("repo size", opt(ca.repo_size.as_deref()), opt(cb.repo_size.as_deref()));
    let (sa, sb) = (ca.server_settings.as_object(), cb.server_settings.as_object());
    let mut keys: Vec<&String> = sa.into_iter().chain(sb).flat_map(|m| m.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let value = |m: Option<&serde_json::Map<String, serde_json::Value>>| {
            m.and_then(|m| m.get(key)).map_or_else(|| "(unset)".to_string(), |v| v.to_string())
        };
        field(&format!("server {key}"), value(sa), value(sb));
    }
    let steering = |changes: &[PhaseChange]| {
        if changes.is_empty() {
            "none".to_string()
        } else {
            changes
                .iter()
                .map(|c| format!("{} at {:.0} s", c.describe(), c.at_s))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    field("steering", steering(changes_a), steering(changes_b));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::summary::LagStats;

    #[test]
    fn an_invalid_side_names_its_verdict_and_what_breached() {
        let mut v = Validity {
            verdict: "generator-bound".into(),
            reasons: vec!["p99 schedule lag 81.0 ms: arrivals went out late (limit 10 ms)".into()],
            generator_cpu_s: 0.0,
            generator_cpu_share: 0.0,
            cores: 2,
            schedule_lag_ms: Some(LagStats { p50_ms: 3.0, p99_ms: 81.0, max_ms: 90.0 }),
            worst_stall_ms: 0.0,
            live_bound_s: None,
        };
        assert_eq!(
            invalid_side("A", Some(&v)).as_deref(),
            Some("A was generator-bound (p99 schedule lag 81.0 ms)")
        );
        v.reasons = vec!["generator CPU 97 % of its 2 cores (limit 90 %)".into()];
        assert_eq!(
            invalid_side("B", Some(&v)).as_deref(),
            Some("B was generator-bound (generator CPU 97 % of its 2 cores)")
        );
        v.verdict = "valid".into();
        assert_eq!(invalid_side("A", Some(&v)), None);
        assert_eq!(invalid_side("A", None), None);
    }

    #[test]
    fn steering_and_repo_size_are_differences_and_equal_settings_are_not() {
        let config = |repo: &str, latency: u32| PhaseConfig {
            behaviour: "b".into(),
            model: "closed".into(),
            users: Some(8),
            repo_size: Some(repo.into()),
            server_settings: serde_json::json!({"latency_ms": latency}),
            ..Default::default()
        };
        let (a, b) = (config("small", 50), config("medium", 70));
        let steered = [PhaseChange { at_s: 3.0, users: Some(58), ..Default::default() }];
        assert_eq!(
            phase_differences((&a, &[]), (&b, &steered)),
            vec![
                "repo size small → medium".to_string(),
                "server latency_ms 50 → 70".to_string(),
                "steering none → users → 58 at 3 s".to_string()
            ]
        );
        assert!(phase_differences((&a, &steered), (&a, &steered)).is_empty());
    }
}
