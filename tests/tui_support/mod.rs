//! Fixture state for the TUI tests, built by hand: profiles (one broken), snapshots, run
//! summaries and Docker service rows. Shared by tui_screens.rs and tui_update.rs.
#![allow(dead_code)]

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use terrafix_tui::analysis::{Evidence, Finding, Severity};
use terrafix_tui::metrics::summary::*;
use terrafix_tui::metrics::{NameRow, ServerCounters, Snapshot};
use terrafix_tui::profile::*;
use terrafix_tui::tui::detail_state::{PhaseTimeline, RunDetail};
use terrafix_tui::tui::state::{ProfileItem, ResultEntry};
use terrafix_tui::tui::{AppState, Theme};

pub fn behaviour(name: &str) -> Arc<Behaviour> {
    Arc::new(Behaviour {
        name: name.into(),
        wait: WaitStrategy::Between(Duration::from_millis(500), Duration::from_secs(1)),
        tasks: vec![Task {
            weight: NonZeroU32::MIN,
            kind: RequestKind::Webhook,
            name: "/webhook".into(),
            headers: Vec::new(),
        }],
        retry: None,
    })
}

pub fn smoke_profile() -> Profile {
    let closed = Phase {
        name: "smoke_health".into(),
        suite: "smoke".into(),
        description: "Health and status checks with a few users".into(),
        behaviour: behaviour("health_checker"),
        load: Load::Closed { users: NonZeroU32::new(5).unwrap(), spawn_rate_per_s: 5.0 },
        duration: Duration::from_secs(20),
        repo_size: RepoSizeChoice::Fixed(RepoSize::Small),
        server: ServerSettings::default(),
        thresholds: Thresholds::default(),
        timeouts: Default::default(),
        faults: Vec::new(),
    };
    let open = Phase {
        name: "smoke_webhook".into(),
        suite: "smoke".into(),
        description: "Webhooks at a rising arrival rate with injected 500s".into(),
        behaviour: behaviour("webhook_sender"),
        load: Load::Open {
            rate_from_per_s: 10.0,
            rate_to_per_s: 50.0,
            max_in_flight: NonZeroU32::new(64).unwrap(),
        },
        duration: Duration::from_secs(30),
        repo_size: RepoSizeChoice::Mixed,
        server: ServerSettings {
            latency_ms: Some(50.0),
            failure_rate: Some(0.1),
            failure_mode: Some(terrafix_tui::profile::FailureMode::Error500),
            ..ServerSettings::default()
        },
        thresholds: Thresholds { p95_ms: Some(500.0), error_rate: Some(0.15), ..Thresholds::default() },
        timeouts: Default::default(),
        faults: Vec::new(),
    };
    Profile {
        name: "smoke".into(),
        description: "A one-minute check that the whole chain works".into(),
        source: "shipped".into(),
        pause_between_phases: Duration::from_secs(5),
        lockstep_start: false,
        fail_on_request_errors: Default::default(),
        fail_on_invalid: false,
        validity: Default::default(),
        recovery: Default::default(),
        phases: vec![closed, open],
        thresholds: Thresholds { p99_ms: Some(1000.0), ..Thresholds::default() },
        capacity: None,
        target: Default::default(),
    }
}

pub fn profile_items() -> Vec<ProfileItem> {
    let mut throughput = smoke_profile();
    throughput.name = "throughput".into();
    throughput.source = "builtin:throughput".into();
    vec![
        ProfileItem { name: "smoke".into(), source: "shipped".into(), profile: Ok(smoke_profile()) },
        ProfileItem { name: "throughput".into(), source: "shipped".into(), profile: Ok(throughput) },
        ProfileItem {
            name: "broken".into(),
            source: "profiles/broken.yaml".into(),
            profile: Err("failed to parse profile profiles/broken.yaml at 12:5: unknown field `userz`, expected one of users, spawn_rate, duration".into()),
        },
    ]
}

/// App state with the fixture profiles loaded, colour on, results under `experiment_results`.
pub fn app() -> AppState {
    let mut state = AppState::new(Theme::new(true), PathBuf::from("experiment_results"));
    terrafix_tui::tui::update(&mut state, terrafix_tui::tui::Action::ProfilesLoaded(profile_items()));
    state
}

/// Second `t` of a run in phase 2 of 2, with figures that grow over time.
pub fn snapshot(t: f64) -> Snapshot {
    let rps = 40.0 + t;
    Snapshot {
        timestamp_unix_s: 1_700_000_000.0 + t,
        run_elapsed_s: t,
        phase_index: 1,
        phase_count: 2,
        phase_name: "smoke_webhook".into(),
        phase_elapsed_s: t - 25.0,
        phase_planned_s: 30.0,
        users: 0,
        in_flight: 3,
        rps,
        fps: rps * 0.1,
        p50_ms: 52.0 + t / 10.0,
        p95_ms: 80.0 + t,
        p99_ms: 120.0 + 4.0 * t,
        total_requests: (rps * t) as u64,
        total_failures: (rps * t * 0.1) as u64,
        dropped: 0,
        duplicates_sent: 12,
        rows: vec![
            NameRow {
                method: "POST".into(),
                name: "/webhook [smoke_webhook]".into(),
                requests: 1520,
                failures: 152,
                rps,
                fps: rps * 0.1,
                p50_ms: 52.3,
                p95_ms: 95.1,
                p99_ms: 180.4,
                avg_ms: 60.2,
                max_ms: 310.0,
            },
            NameRow {
                method: "GET".into(),
                name: "/health".into(),
                requests: 40,
                rps: 1.0,
                p50_ms: 0.4,
                p95_ms: 0.9,
                p99_ms: 1.2,
                ..NameRow::default()
            },
        ],
        server: Some(ServerCounters {
            total_requests: 1560,
            dedup_hits: 11,
            dedup_misses: 1509,
            injected_failures: 152,
            ..ServerCounters::default()
        }),
        generator_bound: Vec::new(),
    }
}

pub fn phase_summary(name: &str, rps: f64, p99: f64, passed: bool) -> PhaseSummary {
    PhaseSummary {
        name: name.into(),
        suite: "smoke".into(),
        status: PhaseStatus::Completed,
        config: PhaseConfig::default(),
        summary: SeedSummary {
            total_requests: (rps * 30.0) as u64,
            failure_count: (rps * 3.0) as u64,
            median_response_ms: p99 / 3.0,
            avg_response_ms: p99 / 2.5,
            p95_response_ms: p99 / 1.5,
            p99_response_ms: p99,
            requests_per_sec: rps,
        },
        latency_ms: LatencyStats::default(),
        failures_per_sec: rps / 10.0,
        dropped: 0,
        batch_items_failed: 0,
        offset_s: 0.0,
        duration_s: 30.0,
        started_at: "2025-01-02T10:00:00Z".into(),
        finished_at: "2025-01-02T10:00:30Z".into(),
        requests: vec![],
        failures: vec![],
        dedup: DedupReport::default(),
        server: None,
        thresholds: vec![ThresholdResult {
            scope: name.into(),
            metric: "p95_ms".into(),
            limit: 500.0,
            actual: p99 / 1.5,
            passed,
            untrustworthy: false,
        }],
        files: PhaseFiles { stats_csv: format!("smoke/{name}_stats.csv"), ..PhaseFiles::default() },
        connections: Default::default(),
        settings_not_applied: Vec::new(),
        settings_applied: None,
        settings_held: None,
        notes: Vec::new(),
        changes: Vec::new(),
        resilience: None,
        validity: None,
        workers: Vec::new(),
        response_time_ms: None,
        like_for_like: None,
    }
}

pub fn run_summary(run_id: &str, rps: f64, passed: bool) -> RunSummary {
    RunSummary {
        schema_version: SUMMARY_SCHEMA_VERSION,
        tool: "terrafix-tui".into(),
        tool_version: "0.1.0".into(),
        run_id: run_id.into(),
        profile: "smoke".into(),
        description: "A one-minute check".into(),
        target: "embedded".into(),
        target_url: "http://127.0.0.1:40000/".into(),
        seed: 42,
        time_scale: 1.0,
        started_at: "2025-01-02T10:00:00Z".into(),
        finished_at: "2025-01-02T10:01:05Z".into(),
        status: RunStatus::Completed,
        passed,
        experiments: vec![
            phase_summary("smoke_health", rps / 4.0, 3.0, true),
            phase_summary("smoke_webhook", rps, 240.0, passed),
        ],
        thresholds: vec![ThresholdResult {
            scope: "run".into(),
            metric: "p99_ms".into(),
            limit: 1000.0,
            actual: 240.0,
            passed: true,
            untrustworthy: false,
        }],
        capacity: None,
        notes: vec![],
        connection: Default::default(),
        restore: None,
        distributed: None,
        fail_reasons: Vec::new(),
    }
}

pub fn result_entries() -> Vec<ResultEntry> {
    let entry = |id: &str, rps: f64, passed: bool, html: bool| {
        let dir = PathBuf::from("experiment_results").join(id);
        ResultEntry {
            run_id: id.into(),
            summary: Ok(run_summary(id, rps, passed)),
            html: html.then(|| dir.join("experiment_summary.html")),
            charts: if html { vec![dir.join("charts/throughput_timeline.png")] } else { vec![] },
            findings: if passed { vec![] } else { sample_findings() },
            dir,
        }
    };
    vec![
        entry("20250102-100000-smoke", 48.0, false, true),
        entry("20250101-090000-smoke", 40.0, true, false),
        ResultEntry {
            run_id: "20241231-235959-broken".into(),
            dir: PathBuf::from("experiment_results/20241231-235959-broken"),
            summary: Err(
                "experiment_results/20241231-235959-broken/experiment_summary.json has schema_version 0"
                    .into(),
            ),
            html: None,
            charts: vec![],
            findings: vec![],
        },
    ]
}

/// Findings as `crate::analysis` states them: one of each severity.
pub fn sample_findings() -> Vec<Finding> {
    let evidence = |phase: &str, figure: &str, value: f64, unit: &'static str| Evidence {
        phase: phase.into(),
        figure: figure.into(),
        value,
        unit,
    };
    vec![
        Finding {
            id: "saturation",
            severity: Severity::Problem,
            text: "throughput levels off at ~48 req/s from 20 users on while p50 grows 80 ms → 1.2 s: the target is the bottleneck, not the load".into(),
            evidence: vec![evidence("smoke_webhook", "rps", 48.0, "req/s")],
        },
        Finding {
            id: "tail-amplification",
            severity: Severity::Warning,
            text: "smoke_webhook: p99 is 12× its p50 (240 ms vs 20 ms): a few requests wait far longer than most".into(),
            evidence: vec![evidence("smoke_webhook", "p99 / p50", 12.0, "")],
        },
        Finding {
            id: "injection",
            severity: Severity::Info,
            text: "smoke_webhook: the client saw 144 HTTP 500s for 150 injected by the server".into(),
            evidence: vec![evidence("smoke_webhook", "injected", 150.0, "")],
        },
    ]
}

/// A run read for the detail view: the failing smoke run with endpoints, grouped failures,
/// a steering change, a fault, the server's view and 30 s of history per phase.
pub fn run_detail() -> RunDetail {
    let mut summary = run_summary("20250102-100000-smoke", 48.0, false);
    summary.fail_reasons = vec!["smoke_webhook p95_ms 160 ms > 500 ms".into()];
    let webhook = &mut summary.experiments[1];
    webhook.config = PhaseConfig {
        behaviour: "webhook".into(),
        model: "closed".into(),
        users: Some(5),
        spawn_rate: Some(5.0),
        duration_s: 30.0,
        repo_size: Some("small".into()),
        ..PhaseConfig::default()
    };
    let stat = |method: &str, name: &str, requests: u64, failures: u64, p99: f64| RequestStats {
        method: method.into(),
        name: name.into(),
        requests,
        failures,
        median_ms: p99 / 4.0,
        avg_ms: p99 / 3.0,
        p95_ms: p99 / 1.5,
        p99_ms: p99,
        max_ms: p99 * 2.0,
        rps: requests as f64 / 30.0,
    };
    webhook.requests = vec![
        stat("POST", "/webhook", 1200, 140, 240.0),
        stat("GET", "/api/v1/repositories/{owner}/{repo}/pulls", 240, 4, 80.0),
    ];
    let failure = |name: &str, message: &str, count: u64, first: &str, last: &str| FailureStat {
        method: "POST".into(),
        name: name.into(),
        kind: "HTTP 500".into(),
        error: message.into(),
        count,
        first_seen: first.into(),
        last_seen: last.into(),
        messages: vec![MessageCount { message: message.into(), count }],
        other_messages: 0,
    };
    webhook.failures = vec![
        failure(
            "/webhook",
            "injected failure (failure_rate 0.1)",
            140,
            "2025-01-02T10:00:03Z",
            "2025-01-02T10:00:29Z",
        ),
        FailureStat {
            method: "GET".into(),
            kind: "timeout".into(),
            ..failure(
                "/api/v1/repositories/{owner}/{repo}/pulls",
                "no answer within 30 s",
                4,
                "2025-01-02T10:00:12Z",
                "2025-01-02T10:00:20Z",
            )
        },
    ];
    webhook.changes = vec![PhaseChange { at_s: 10.0, users: Some(20), ..PhaseChange::default() }];
    webhook.resilience = Some(ResilienceReport {
        faults: vec![FaultReport {
            description: "server failure_rate=0.5 failure_mode=error_500".into(),
            planned_at_s: 15.0,
            planned_end_s: 20.0,
            started_s: Some(15.0),
            ended_s: Some(20.0),
            baseline_p99_ms: Some(200.0),
            recovery_s: Some(2.0),
            recovered: true,
            notes: vec![],
        }],
        ..ResilienceReport::default()
    });
    webhook.server = Some(ServerView {
        total_requests: Some(1440),
        successful_requests: Some(1296),
        failed_requests: Some(144),
        p50_ms: Some(18.0),
        p95_ms: Some(150.0),
        p99_ms: Some(230.0),
        injected_failures: [("error_500".to_string(), 150)].into_iter().collect(),
        ..ServerView::default()
    });
    let timeline = |rps: f64, p99: f64| {
        let points = |f: &dyn Fn(f64) -> f64| (0..30).map(|s| (s as f64, f(s as f64))).collect::<Vec<_>>();
        PhaseTimeline {
            rps: points(&|s| rps * (0.5 + s.min(10.0) / 20.0)),
            failed_rps: points(&|s| if (15.0..20.0).contains(&s) { rps / 2.0 } else { rps / 20.0 }),
            p50: points(&|s| p99 / 4.0 + s),
            p95: points(&|s| p99 / 1.5 + s * 2.0),
            p99: points(&|s| p99 + s * 3.0),
            percentiles_from: "hlog",
        }
    };
    RunDetail {
        timelines: vec![timeline(12.0, 3.0), timeline(48.0, 240.0)],
        summary,
        findings: sample_findings(),
        warnings: vec!["experiment_results/20250102-100000-smoke/smoke/smoke_health.hlog: missing".into()],
    }
}

/// `n` seconds of 100 responses spread evenly over `from_ms..from_ms + 10 ms`.
fn even_seconds(n: usize, from_ms: u64) -> Vec<terrafix_tui::metrics::compare::SecondSample> {
    (0..n)
        .map(|s| {
            let mut latency = terrafix_tui::metrics::LatencyHistogram::new();
            for i in 0..100u64 {
                latency.record_us(from_ms * 1000 + (i * 97 + s as u64 * 31) % 10_000);
            }
            terrafix_tui::metrics::compare::SecondSample::new(1.0, &latency)
        })
        .collect()
}

/// A comparison of the two readable fixture runs: one phase unchanged, one 50 % slower,
/// one too short for intervals.
pub fn comparison() -> terrafix_tui::metrics::compare::Comparison {
    use terrafix_tui::metrics::compare::*;
    let settings = Settings { resamples: 200, seed: DEFAULT_SEED };
    let (fast, slow) = (even_seconds(10, 20), even_seconds(10, 30));
    Comparison {
        run_a: RunRef { run_id: "20250102-100000-smoke".into(), dir: "a".into() },
        run_b: RunRef { run_id: "20250101-090000-smoke".into(), dir: "b".into() },
        method: settings.method(),
        phases: vec![
            compare_phase("smoke_health", "smoke", &fast, &fast, &settings),
            compare_phase("smoke_webhook", "smoke", &fast, &slow, &settings),
            compare_phase("smoke_open", "smoke", &fast, &fast[..3], &settings),
        ],
        only_in_a: vec![],
        only_in_b: vec![],
        differs: vec![],
    }
}
