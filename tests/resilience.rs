//! Faults scheduled inside a phase and client retries, against the embedded mock over real
//! loopback HTTP: where the failures fall, how long recovery takes, what retries achieve,
//! and that `Retry-After` is honoured. Profiles are written in YAML, as a user would.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod common;

use common::*;
use terrafix_tui::experiment::{Event, RunControl, Target};
use terrafix_tui::metrics::summary::PhaseSummary;
use terrafix_tui::profile;

fn load(yaml: &str) -> profile::Profile {
    profile::parse_str(yaml, "resilience-test", "test.yaml").unwrap_or_else(|e| panic!("{e}"))
}

/// (seconds from the phase's start, requests, failures) per history row of the phase.
fn seconds(dir: &std::path::Path, phase: &PhaseSummary) -> Vec<(i64, u64, u64)> {
    let text = std::fs::read_to_string(dir.join(&phase.files.history_csv)).unwrap();
    let mut rows: Vec<(i64, f64, f64)> = text
        .lines()
        .skip(1)
        .filter(|l| l.contains(",Aggregated,"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().unwrap(), f[4].parse().unwrap(), f[5].parse().unwrap())
        })
        .collect();
    let first = rows.first().map_or(0, |r| r.0) - 1;
    rows.iter_mut().map(|r| (r.0 - first, r.1.round() as u64, r.2.round() as u64)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_window_fails_only_inside_it_and_the_recovery_is_measured() {
    let out = tempfile::tempdir().unwrap();
    let yaml = "name: faults\nbehaviours:\n  b:\n    wait: { constant: 50ms }\n    tasks: [ { kind: webhook } ]\nphases:\n  - name: window\n    behaviour: b\n    users: 4\n    duration: 20s\n    server: { latency_ms: 5, per_resource_ms: 0.5, failure_rate: 0 }\n    faults:\n      - { at: 5s, for: 5s, server: { failure_rate: 1.0, failure_mode: error_500 } }\n";
    // per_resource_ms 0.5 (the mock's default when this test was written): a 30–55 ms
    // baseline, so "p99 back under 1.5 × baseline" is not decided by a busy machine's jitter
    // on a 5 ms one.
    let run = run_collect(load(yaml), Target::Embedded, out.path(), RunControl::default()).await;
    let phase = &run.summary.experiments[0];
    let resilience = phase.resilience.as_ref().expect("a phase with faults has a resilience report");
    let fault = &resilience.faults[0];
    let (started, ended) = (fault.started_s.unwrap(), fault.ended_s.unwrap());
    assert!((4.9..=6.0).contains(&started) && (9.9..=11.0).contains(&ended), "{fault:?}");
    assert!(fault.recovered, "{fault:?}");
    let recovery = fault.recovery_s.unwrap();
    assert!(recovery <= 3.0, "recovered in {recovery} s against the mock");
    assert!(fault.baseline_p99_ms.is_some_and(|p| p > 4.0), "{fault:?}");

    for (t, requests, failures) in seconds(&run.dir, phase) {
        if failures > 0 {
            assert!((5..=12).contains(&t), "failures only inside the window ±1 s: {failures} at second {t}");
        }
        if (7..=9).contains(&t) {
            assert_eq!(failures, requests, "second {t}: every request fails inside the window");
        }
    }
    assert!(phase.summary.failure_count > 100, "{}", phase.summary.failure_count);
    let starts = run.events.iter().filter(|e| matches!(e, Event::FaultStarted { .. })).count();
    let ends = run.events.iter().filter(|e| matches!(e, Event::FaultEnded { .. })).count();
    assert_eq!((starts, ends), (1, 1), "each fault's start and end are events");
    let json = std::fs::read_to_string(run.dir.join("experiment_summary.json")).unwrap();
    assert!(json.contains("\"recovery_s\""), "the recovery is in the summary");
}

/// A real HTTP server over loopback that answers `/webhook` 500 or 200 at random, half
/// and half, without any dedup: every attempt is judged on its own.
async fn coin_flip_server() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use axum::routing::{get, post};
    let flips = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0x9e37_79b9_7f4a_7c15));
    let app = axum::Router::new()
        .route(
            "/webhook",
            post(move || {
                let flips = flips.clone();
                async move {
                    // xorshift: a fair coin per request, shared by all connections.
                    let mut x = flips.load(std::sync::atomic::Ordering::Relaxed);
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    flips.store(x, std::sync::atomic::Ordering::Relaxed);
                    if x & 1 == 0 {
                        (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "{\"success\":false}")
                    } else {
                        (axum::http::StatusCode::OK, "{\"success\":true}")
                    }
                }
            }),
        )
        .route("/health", get(|| async { "{\"status\":\"healthy\"}" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (addr, tokio::spawn(async move { axum::serve(listener, app).await.unwrap() }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_against_half_failures_succeed_three_times_in_four() {
    let out = tempfile::tempdir().unwrap();
    let (addr, server) = coin_flip_server().await;
    let yaml = "name: retries\nbehaviours:\n  r:\n    wait: { constant: 10ms }\n    retry: { max_attempts: 3, on: [500], backoff: { base: 5ms, cap: 20ms } }\n    tasks: [ { kind: webhook, name: \"/webhook [r]\" } ]\nphases:\n  - name: half\n    behaviour: r\n    users: 4\n    duration: 6s\n";
    let target = Target::parse(&format!("http://{addr}")).unwrap();
    let run = run_collect(load(yaml), target, out.path(), RunControl::default()).await;
    server.abort();
    let phase = &run.summary.experiments[0];
    let r = phase.resilience.as_ref().unwrap();
    assert!(r.failed_first >= 300, "enough samples: {r:?}");
    let success = r.retry_success_rate.unwrap();
    assert!((0.70..=0.80).contains(&success), "1 − 0.5² = 0.75 expected, got {success:.3}: {r:?}");
    assert!((1.65..=1.85).contains(&r.attempts_mean), "1 + 0.5 + 0.25 attempts expected: {r:?}");
    assert_eq!(r.attempts_p99, 3);
    assert_eq!(r.retries_answered_duplicate, 0, "this server has no dedup");
    // Every attempt is a Locust row under the request's name.
    let row = phase.requests.iter().find(|q| q.name == "/webhook [r]").unwrap();
    assert_eq!(row.requests, r.attempts, "attempts are the CSV's requests");
    // A logical request fails only after its third failed attempt: about 1 in 8.
    let given_up = r.failed_first - r.recovered_by_retry;
    let share = given_up as f64 / r.logical_requests as f64;
    assert!((0.09..=0.16).contains(&share), "0.5³ = 0.125 of requests fail for good: {share:.3}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_a_claim_first_dedup_a_retry_is_answered_duplicate_and_retry_after_is_honoured() {
    let out = tempfile::tempdir().unwrap();
    // Every first answer is 429 with Retry-After: 1 (the policy's own backoff is 1 ms). The
    // mock, like the seed's API, claims a failure before it fails it: the resend is a
    // "duplicate" 200 — accepted, no work done — and is reported as such, not as recovered.
    let yaml = "name: retry-after\nbehaviours:\n  t:\n    retry: { max_attempts: 2, on: [429], backoff: { base: 1ms, cap: 1ms } }\n    tasks: [ { kind: webhook } ]\nphases:\n  - name: throttled\n    behaviour: t\n    users: 1\n    duration: 4s\n    server: { latency_ms: 1, failure_rate: 1.0, failure_mode: throttle_429 }\n";
    let run = run_collect(load(yaml), Target::Embedded, out.path(), RunControl::default()).await;
    let phase = &run.summary.experiments[0];
    let r = phase.resilience.clone().unwrap();
    // Each logical request: 429, wait the server's 1 s, resend; about 4 in 4 s.
    assert!((2..=5).contains(&r.logical_requests), "no resend earlier than 1 s: {r:?}");
    assert!(r.attempts <= 2 * r.logical_requests && r.attempts + 1 >= 2 * r.logical_requests, "{r:?}");
    assert_eq!(r.recovered_by_retry, 0, "{r:?}");
    assert!(r.retries_answered_duplicate + 1 >= r.logical_requests, "{r:?}");
    assert_eq!(r.retry_success_rate, Some(0.0), "a swallowed resend is no success");
    // The server agrees: each resend was a dedup hit.
    assert_eq!(phase.dedup.server_hits, Some(r.retries_answered_duplicate), "{:?}", phase.dedup);
}

#[test]
fn bad_faults_and_retry_policies_are_refused_with_their_place() {
    let phase = |extra: &str| {
        format!(
            "behaviours:\n  b:\n    tasks: [ {{ kind: webhook }} ]\nphases:\n  - name: p\n    behaviour: b\n    users: 1\n    duration: 20s\n{extra}"
        )
    };
    let cases = [
        (phase("    faults:\n      - { at: 15s, for: 10s, server: { failure_rate: 1 } }\n"), "after the phase"),
        (
            phase(
                "    faults:\n      - { at: 1s, for: 5s, server: { failure_rate: 1 } }\n      - { at: 3s, until: 8s, server: { latency_ms: 9 } }\n",
            ),
            "overlap",
        ),
        (phase("    faults:\n      - { at: 1s, for: 5s, server: { failure_ratio: 1 } }\n"), "failure_ratio"),
        (phase("    faults:\n      - { at: 1s, server: { failure_rate: 1 } }\n"), "for:"),
        (phase("    faults:\n      - { at: 1s, for: 2s, service: redis, action: nuke }\n"), "stop, kill, pause"),
        (
            "behaviours:\n  b:\n    retry: { max_attempts: 0 }\n    tasks: [ { kind: webhook } ]\nphases:\n  - { name: p, behaviour: b, users: 1, duration: 1s }\n".to_string(),
            "max_attempts",
        ),
        (
            "behaviours:\n  b:\n    retry: { max_attempts: 3, backoff: { base: 2s, cap: 1s } }\n    tasks: [ { kind: webhook } ]\nphases:\n  - { name: p, behaviour: b, users: 1, duration: 1s }\n".to_string(),
            "below base",
        ),
        (
            "behaviours:\n  b:\n    retry: { max_attempts: 3, on: [teapot] }\n    tasks: [ { kind: webhook } ]\nphases:\n  - { name: p, behaviour: b, users: 1, duration: 1s }\n".to_string(),
            "teapot",
        ),
    ];
    for (yaml, expected) in cases {
        let err = profile::parse_str(&yaml, "bad", "bad.yaml").map(|_| ()).unwrap_err().to_string();
        assert!(err.contains(expected), "{expected:?} in: {err}\n{yaml}");
        assert!(err.contains("bad.yaml:"), "the place is named: {err}");
    }
}

#[test]
fn a_service_fault_on_a_target_that_is_not_docker_exits_2_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("kill.yaml");
    std::fs::write(
        &yaml,
        "name: kill\nbehaviours:\n  b:\n    tasks: [ { kind: webhook } ]\nphases:\n  - name: p\n    behaviour: b\n    users: 1\n    duration: 5s\n    faults:\n      - { at: 1s, for: 2s, service: redis, action: kill }\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_terrafix-tui"))
        .arg("run")
        .arg(&yaml)
        .arg("--output")
        .arg(dir.path().join("r"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--target docker") && stderr.contains("optional: true"), "{stderr}");
    assert!(
        !dir.path().join("r").exists() || std::fs::read_dir(dir.path().join("r")).unwrap().next().is_none()
    );
}

#[test]
fn recovery_limits_are_profile_settings() {
    let base = "behaviours:\n  b:\n    tasks: [ { kind: webhook } ]\nphases:\n  - { name: p, behaviour: b, users: 1, duration: 1s }\n";
    let p = profile::parse_str(
        &format!("recovery: {{ success_rate: 0.95, p99_factor: 2, hold: 3s }}\n{base}"),
        "r",
        "r.yaml",
    )
    .unwrap();
    assert_eq!(p.recovery.success_rate, 0.95);
    assert_eq!(p.recovery.p99_factor, 2.0);
    assert_eq!(p.recovery.hold, std::time::Duration::from_secs(3));
    let err = profile::parse_str(&format!("recovery: {{ hold_for: 3s }}\n{base}"), "r", "r.yaml")
        .map(|_| ())
        .unwrap_err();
    assert!(err.to_string().contains("hold_for"), "{err}");
}

/// Retries (against injected 500s, after the server claimed the failure) and `duplicate`
/// tasks, against one dedup store: every unique failure is one server miss, every resend
/// one hit — the exactly-once figure of the summary.
async fn exactly_once_against(target: Target, out: &std::path::Path) -> PhaseSummary {
    let yaml = "name: once\nbehaviours:\n  b:\n    wait: { constant: 10ms }\n    retry: { max_attempts: 3, on: [500], backoff: { base: 5ms, cap: 20ms } }\n    tasks: [ { kind: webhook, weight: 3, name: \"/webhook [once]\" }, { kind: duplicate, weight: 1, name: \"/webhook [once:dup]\" }, { kind: batch, size: 3, weight: 1, name: \"/batch [once]\" } ]\nphases:\n  - name: once\n    behaviour: b\n    users: 4\n    duration: 4s\n    server: { latency_ms: 1, failure_rate: 0.3, failure_mode: error_500 }\n";
    let run = run_collect(load(yaml), target, out, RunControl::default()).await;
    run.summary.experiments[0].clone()
}

fn assert_exactly_once(phase: &PhaseSummary) {
    let d = &phase.dedup;
    assert!(d.unique_answered > 200 && d.resends_answered > 50, "enough of both: {d:?}");
    assert_eq!(d.unanswered, 0, "{d:?}");
    assert_eq!(Some(d.unique_answered), d.server_misses, "unique sent == server misses: {d:?}");
    assert_eq!(Some(d.resends_answered), d.server_hits, "resends == server hits: {d:?}");
    assert_eq!(d.exactly_once, Some(true));
    assert_eq!(d.fail_open, Some(0));
    let line = d.exactly_once_line().unwrap();
    assert!(line.starts_with("exactly once:") && line.contains("no duplicate PRs"), "{line}");
    assert!(phase.detail_lines().contains(&line), "the line is in the table, the HTML and the TUI");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_once_holds_against_the_memory_store() {
    let out = tempfile::tempdir().unwrap();
    let phase = exactly_once_against(Target::Embedded, out.path()).await;
    assert_exactly_once(&phase);
}

#[path = "mock_support/mod.rs"]
mod mock_support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_once_holds_against_redis_and_a_redis_outage_is_counted_as_fail_open() {
    let mut redis = mock_support::Redis::start();
    let config = terrafix_tui::mock::MockConfig { redis_url: Some(redis.url()), ..Default::default() };
    let server = mock_support::Server::start(config).await;
    let out = tempfile::tempdir().unwrap();
    let target = Target::parse(&server.base).unwrap();
    let phase = exactly_once_against(target.clone(), out.path()).await;
    assert_exactly_once(&phase);

    // Redis gone for the whole phase: the server fails open, and every answered payload it
    // could not check is the fail-open count, equal to the server's own dedup_errors.
    redis.kill();
    let phase = exactly_once_against(target, out.path()).await;
    let d = &phase.dedup;
    assert_eq!(d.exactly_once, Some(false), "{d:?}");
    // Each claim first waits for Redis to refuse: a busy machine answers fewer in the phase.
    assert!(d.fail_open.unwrap_or(0) > 20, "{d:?}");
    assert_eq!(d.fail_open, d.server_errors, "fail-open == the server's dedup_errors: {d:?}");
    assert!(d.exactly_once_line().unwrap().contains("fail-open"), "{d:?}");
    server.shutdown().await;
}
