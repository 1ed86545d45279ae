//! Fixture state for the TUI tests, built by hand: profiles (one broken), snapshots, run
//! summaries and Docker service rows. Shared by tui_screens.rs and tui_update.rs.
#![allow(dead_code)]

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use terrafix_tui::metrics::summary::*;
use terrafix_tui::metrics::{NameRow, ServerCounters, Snapshot};
use terrafix_tui::profile::*;
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
        },
    ]
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
