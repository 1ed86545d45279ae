use super::*;
use crate::metrics::summary::{
    DedupReport, LatencyStats, PhaseConfig, PhaseFiles, PhaseStatus, RunStatus, SeedSummary, ServerView,
    Validity,
};

/// A closed-model phase of `users` over `seconds` at `rps`, with a p50 and a p95 (p99 = 1.3 × p95).
fn phase(suite: &str, name: &str, users: u32, rps: f64, p50: f64, p95: f64) -> PhaseSummary {
    let duration_s = 300.0;
    let total = (rps * duration_s).round() as u64;
    PhaseSummary {
        name: name.into(),
        suite: suite.into(),
        status: PhaseStatus::Completed,
        config: PhaseConfig {
            behaviour: suite.into(),
            model: "closed".into(),
            users: Some(users),
            duration_s,
            server_settings: serde_json::json!({}),
            ..Default::default()
        },
        summary: SeedSummary {
            total_requests: total,
            failure_count: 0,
            median_response_ms: p50,
            avg_response_ms: p50 * 1.1,
            p95_response_ms: p95,
            p99_response_ms: p95 * 1.3,
            requests_per_sec: rps,
        },
        latency_ms: LatencyStats {
            mean: p50 * 1.1,
            p50,
            p95,
            p99: p95 * 1.3,
            max: p95 * 1.5,
            ..Default::default()
        },
        failures_per_sec: 0.0,
        dropped: 0,
        batch_items_failed: 0,
        offset_s: 0.0,
        duration_s,
        started_at: String::new(),
        finished_at: String::new(),
        requests: Vec::new(),
        failures: Vec::new(),
        dedup: DedupReport::default(),
        server: None,
        thresholds: Vec::new(),
        files: PhaseFiles::default(),
        connections: Default::default(),
        settings_not_applied: Vec::new(),
        notes: Vec::new(),
        changes: Vec::new(),
        resilience: None,
        validity: None,
        workers: Vec::new(),
        response_time_ms: None,
        like_for_like: None,
        settings_applied: None,
        settings_held: None,
    }
}

fn run(experiments: Vec<PhaseSummary>) -> RunSummary {
    RunSummary {
        schema_version: 2,
        tool: "terrafix-tui".into(),
        tool_version: "test".into(),
        run_id: "r".into(),
        profile: "p".into(),
        description: String::new(),
        target: "embedded".into(),
        target_url: String::new(),
        seed: 1,
        time_scale: 1.0,
        started_at: String::new(),
        finished_at: String::new(),
        status: RunStatus::Completed,
        passed: true,
        fail_reasons: Vec::new(),
        experiments,
        thresholds: Vec::new(),
        capacity: None,
        notes: Vec::new(),
        connection: Default::default(),
        restore: None,
        distributed: None,
    }
}

fn ids(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.id).collect()
}

/// The seed's published throughput suite: ~5 req/s from 20 users on, p50 0.38 → 18 s.
fn seed_throughput() -> Vec<PhaseSummary> {
    vec![
        phase("throughput", "throughput_baseline", 5, 3.16, 380.0, 1100.0),
        phase("throughput", "throughput_medium", 20, 5.07, 2900.0, 4600.0),
        phase("throughput", "throughput_high", 50, 5.12, 8700.0, 11000.0),
        phase("throughput", "throughput_max", 100, 5.28, 18000.0, 21000.0),
    ]
}

#[test]
fn saturating_suite_names_the_knee_at_20_users() {
    let found = findings(&run(seed_throughput()));
    let sat: Vec<&Finding> = found.iter().filter(|f| f.id == "saturation").collect();
    assert_eq!(sat.len(), 1, "{found:#?}");
    let text = &sat[0].text;
    assert!(text.contains("from 20 users on"), "{text}");
    assert!(text.contains("knee is throughput_medium"), "{text}");
    assert!(text.contains("p50 grows 0.38 → 18 s"), "{text}");
    assert!(text.contains("5.07 → 5.28 req/s"), "{text}");
    assert_eq!(sat[0].severity, Severity::Warning);
    // Every phase's load, throughput and p50 is evidence.
    assert_eq!(sat[0].evidence.len(), 12);
    assert!(
        sat[0]
            .evidence
            .iter()
            .any(|e| e.phase == "throughput_max" && e.figure == "p50" && e.value == 18000.0)
    );
    // The four phases differ in users and in p50: that is not "no isolation".
    assert!(!ids(&found).contains(&"no-isolation"), "{found:#?}");
}

#[test]
fn linear_suite_is_not_saturated() {
    let phases = vec![
        phase("throughput", "a", 5, 10.0, 50.0, 80.0),
        phase("throughput", "b", 20, 40.0, 51.0, 82.0),
        phase("throughput", "c", 50, 99.0, 52.0, 85.0),
        phase("throughput", "d", 100, 201.0, 52.0, 86.0),
    ];
    let found = findings(&run(phases));
    assert!(!ids(&found).contains(&"saturation"), "{found:#?}");
}

#[test]
fn noisy_suite_claims_nothing() {
    // Throughput jumps up and down with load, p50 too: no knee, no isolation, no tail.
    let phases = vec![
        phase("throughput", "a", 10, 30.0, 300.0, 900.0),
        phase("throughput", "b", 20, 12.0, 900.0, 2000.0),
        phase("throughput", "c", 40, 33.0, 400.0, 1200.0),
        phase("throughput", "d", 80, 14.0, 1300.0, 2500.0),
    ];
    let mut summary = run(phases);
    // Little's law holds for none of these by construction; take users out of the picture
    // for it by making each phase's mean match users ÷ rps.
    for p in &mut summary.experiments {
        p.latency_ms.mean = f64::from(p.config.users.unwrap_or(1)) * 1000.0 / p.summary.requests_per_sec;
    }
    let found = findings(&summary);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn too_few_requests_claim_nothing() {
    let mut phases = seed_throughput();
    for p in &mut phases {
        p.summary.total_requests = 20;
    }
    let found = findings(&run(phases));
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn scalability_phases_with_equal_figures_are_not_isolated() {
    let mut phases = vec![
        phase("scalability", "scalability_small", 10, 4.6, 1050.0, 2000.0),
        phase("scalability", "scalability_medium", 10, 4.6, 1050.0, 2000.0),
        phase("scalability", "scalability_large", 10, 4.6, 1050.0, 2000.0),
    ];
    for (p, size) in phases.iter_mut().zip(["small", "medium", "large"]) {
        p.config.repo_size = Some(size.into());
    }
    let found = findings(&run(phases));
    let iso: Vec<&Finding> = found.iter().filter(|f| f.id == "no-isolation").collect();
    assert_eq!(iso.len(), 1, "{found:#?}");
    assert!(iso[0].text.contains("repository size (small, medium, large)"), "{}", iso[0].text);
    assert!(iso[0].text.contains("4.6–4.6 req/s"), "{}", iso[0].text);
}

#[test]
fn sizes_that_do_differ_are_isolated() {
    let mut phases = vec![
        phase("scalability", "scalability_small", 10, 40.0, 100.0, 130.0),
        phase("scalability", "scalability_large", 10, 12.0, 400.0, 520.0),
    ];
    phases[0].config.repo_size = Some("small".into());
    phases[1].config.repo_size = Some("large".into());
    let found = findings(&run(phases));
    assert!(!ids(&found).contains(&"no-isolation"), "{found:#?}");
}

#[test]
fn littles_law_mismatch_is_flagged_with_its_meaning() {
    // 5 users at 0.466 s allow ~10.7 req/s; the seed's baseline achieved 3.16.
    let mut p = phase("throughput", "throughput_baseline", 5, 3.16, 380.0, 1100.0);
    p.latency_ms.mean = 466.4;
    let found = findings(&run(vec![p]));
    let little: Vec<&Finding> = found.iter().filter(|f| f.id == "littles-law").collect();
    assert_eq!(little.len(), 1, "{found:#?}");
    assert!(little[0].text.contains("allow 10.7 req/s"), "{}", little[0].text);
    assert!(little[0].text.contains("think time"), "{}", little[0].text);
    // When it holds, nothing is said.
    let mut p = phase("throughput", "ok", 10, 20.0, 450.0, 900.0);
    p.latency_ms.mean = 500.0;
    assert!(!ids(&findings(&run(vec![p]))).contains(&"littles-law"));
}

#[test]
fn tail_amplification_above_the_factor() {
    let mut p = phase("s", "tail", 10, 100.0, 3.0, 20.0);
    p.latency_ms.mean = 100.0;
    p.latency_ms.p99 = 45.0;
    let found = findings(&run(vec![p]));
    let tail: Vec<&Finding> = found.iter().filter(|f| f.id == "tail-amplification").collect();
    assert_eq!(tail.len(), 1, "{found:#?}");
    assert!(tail[0].text.contains("p99 is 15× p50 (45 ms against 3 ms)"), "{}", tail[0].text);
}

fn seconds(values: impl Iterator<Item = (f64, f64)>) -> Vec<SecondPoint> {
    values
        .map(|(t, p50)| SecondPoint { t_s: t, users: Some(10), rps: 5.0, fps: 0.0, p50_ms: Some(p50) })
        .collect()
}

#[test]
fn latency_growth_from_the_per_second_p50() {
    let p = phase("s", "queue", 10, 5.0, 2000.0, 3000.0);
    let growing =
        seconds((0..60).map(|t| (f64::from(t), 500.0 + 50.0 * f64::from(t) + f64::from(t % 3) * 20.0)));
    let found = analyse(&run(vec![p.clone()]), &[growing]);
    let growth: Vec<&Finding> = found.iter().filter(|f| f.id == "latency-growth").collect();
    assert_eq!(growth.len(), 1, "{found:#?}");
    assert!(growth[0].text.contains("grew by 50"), "{}", growth[0].text);
    // A flat, noisy series: no growth claimed; without seconds: skipped.
    let flat = seconds((0..60).map(|t| (f64::from(t), 2000.0 + f64::from((t * 37) % 11) * 40.0)));
    assert!(!ids(&analyse(&run(vec![p.clone()]), &[flat])).contains(&"latency-growth"));
    assert!(!ids(&findings(&run(vec![p]))).contains(&"latency-growth"));
}

#[test]
fn error_onset_names_the_second_and_the_load() {
    let mut phases =
        vec![phase("t", "light", 10, 20.0, 500.0, 900.0), phase("t", "heavy", 50, 60.0, 800.0, 1200.0)];
    phases[1].summary.failure_count = 90;
    let mut series = seconds((0..30).map(|t| (100.0 + f64::from(t), 800.0)));
    for s in series.iter_mut().skip(12) {
        s.fps = 3.0;
        s.users = Some(50);
    }
    let found = analyse(&run(phases), &[Vec::new(), series]);
    let onset: Vec<&Finding> = found.iter().filter(|f| f.id == "error-onset").collect();
    assert_eq!(onset.len(), 1, "{found:#?}");
    let text = &onset[0].text;
    assert!(text.contains("from 12 s into the phase at 50 users"), "{text}");
    assert!(text.contains("90 of 18,000 requests failed (0.5 %)"), "{text}");
    assert!(text.contains("up to 10 users) had none"), "{text}");
}

#[test]
fn injection_that_never_reached_the_server_is_the_seeds_bug() {
    let mut p = phase("resilience", "resilience_failures", 20, 4.73, 2900.0, 4500.0);
    p.config.server_settings = serde_json::json!({"failure_rate": 0.1});
    let found = findings(&run(vec![p.clone()]));
    let inj: Vec<&Finding> = found.iter().filter(|f| f.id == "injection").collect();
    assert_eq!(inj.len(), 1, "{found:#?}");
    assert_eq!(inj[0].severity, Severity::Problem);
    assert!(inj[0].text.contains("0 of 1,419 requests, ~142 expected"), "{}", inj[0].text);
    // When the server injected about what was asked: one info line.
    p.server = Some(ServerView {
        injected_failures: [("error_500".to_string(), 150)].into_iter().collect(),
        ..Default::default()
    });
    p.summary.failure_count = 150;
    let found = findings(&run(vec![p]));
    let inj: Vec<&Finding> = found.iter().filter(|f| f.id == "injection").collect();
    assert_eq!(inj[0].severity, Severity::Info, "{inj:#?}");
    assert!(
        inj[0]
            .text
            .contains("150 failures injected by the server over 1,419 requests (10.6 % against 10 % set)"),
        "{}",
        inj[0].text
    );
    // Injected failures are not reported as an error onset as well.
    assert!(!ids(&found).contains(&"error-onset"));
}

#[test]
fn validity_and_settings_not_applied_are_problems() {
    let mut p = phase("s", "bound", 10, 100.0, 10.0, 20.0);
    p.latency_ms.mean = 100.0;
    p.validity = Some(Validity {
        verdict: "generator-bound".into(),
        reasons: vec!["generator CPU 97 % of 2 cores".into()],
        generator_cpu_share: 0.97,
        cores: 2,
        worst_stall_ms: 120.0,
        ..Default::default()
    });
    p.settings_not_applied = vec!["failure_rate: the target has no /configure".into()];
    let found = findings(&run(vec![p]));
    assert_eq!(ids(&found), vec!["validity", "settings-not-applied"], "{found:#?}");
    assert!(found[0].text.contains("generator CPU 97 % of 2 cores"), "{}", found[0].text);
    assert!(found.iter().all(|f| f.severity == Severity::Problem));
}

#[test]
fn number_formatting() {
    assert_eq!(trim_number(5.07), "5.07");
    assert_eq!(trim_number(18.0), "18");
    assert_eq!(trim_number(0.38), "0.38");
    assert_eq!(trim_number(1419.0), "1419");
    assert_eq!(duration_text(380.0), "380 ms");
    assert_eq!(duration_text(18000.0), "18 s");
    assert_eq!(count_text(1234567), "1,234,567");
}

/// The smoke profile's first two phases differ in failure injection and use `mixed` and
/// `medium` sizes: they were never meant to isolate the size, so no finding says they fail to.
#[test]
fn phases_that_differ_in_more_than_the_size_or_mix_sizes_claim_no_isolation() {
    let mut phases = vec![
        phase("smoke", "smoke_mix", 5, 22.0, 10.4, 50.0),
        phase("smoke", "smoke_failures", 5, 22.0, 10.4, 50.0),
    ];
    phases[0].config.repo_size = Some("mixed".into());
    phases[1].config.repo_size = Some("medium".into());
    phases[1].config.server_settings = serde_json::json!({"failure_rate": 0.2});
    let found = findings(&run(phases.clone()));
    assert!(!ids(&found).contains(&"no-isolation"), "{found:#?}");

    // Concrete sizes, but the server settings differ too: still not one variable.
    phases[0].config.repo_size = Some("small".into());
    let found = findings(&run(phases.clone()));
    assert!(!ids(&found).contains(&"no-isolation"), "{found:#?}");

    // The same setup with only the size changed: now the likeness is a finding.
    phases[1].config.server_settings = serde_json::json!({});
    let found = findings(&run(phases));
    assert!(ids(&found).contains(&"no-isolation"), "{found:#?}");
}
