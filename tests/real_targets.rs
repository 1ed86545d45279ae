//! Real targets over real loopback listeners: HTTPS with a CA made here, headers that
//! reach the server and nowhere else, request timeouts, leaving the target exactly as it
//! was found, and a target that speaks only the seed harness's API.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use common::*;
use serde_json::{Value, json};
use terrafix_tui::engine::tls::TlsTrust;
use terrafix_tui::experiment::{self, RunChannels, RunControl, RunError, RunRequest, Target, TargetOptions};
use terrafix_tui::metrics::Snapshot;
use terrafix_tui::metrics::summary::RunSummary;
use terrafix_tui::mock::{self, MockConfig, ServeOptions, ServerTls};
use terrafix_tui::profile::{Profile, ServerSettings, WaitStrategy};
use tokio_util::sync::CancellationToken;

/// A CA and a leaf for `localhost` and 127.0.0.1, written as PEM files into `dir`.
fn make_certs(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "terrafix test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf_params =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    let (ca, cert, key) = (dir.join("ca.pem"), dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&ca, ca_cert.pem()).unwrap();
    std::fs::write(&cert, leaf.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
    (ca, cert, key)
}

struct Mock {
    addr: SocketAddr,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), mock::MockError>>,
}

async fn start_mock(listener: tokio::net::TcpListener, config: MockConfig, tls: Option<ServerTls>) -> Mock {
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let options = ServeOptions { tls, ..ServeOptions::default() };
    let task = tokio::spawn(mock::serve_with(listener, config, options, stop.clone().cancelled_owned()));
    Mock { addr, stop, task }
}

impl Mock {
    async fn shutdown(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

fn slow_config(latency_ms: f64) -> MockConfig {
    MockConfig { latency_ms, per_resource_ms: 0.0, ..MockConfig::default() }
}

async fn run_with(
    profile: Profile,
    target: Target,
    out: &Path,
    options: TargetOptions,
    control: RunControl,
) -> Result<(RunSummary, std::path::PathBuf), RunError> {
    let (events_tx, mut events_rx) = tokio::sync::mpsc::channel(4096);
    let (snap_tx, _snap_rx) = tokio::sync::watch::channel(Snapshot::default());
    // Drained so the run never waits on a full channel; the test reads the summary instead.
    let drain = tokio::spawn(async move { while events_rx.recv().await.is_some() {} });
    let request = RunRequest {
        docker: Default::default(),
        profile,
        target,
        output_root: out.to_path_buf(),
        seed: 3,
        time_scale: 1.0,
        target_options: options,
        distributed: None,
        worker_network: Default::default(),
    };
    let result = experiment::run(
        request,
        RunChannels { events: events_tx, snapshots: snap_tx, series: None },
        control,
    )
    .await;
    drain.await.unwrap();
    result
}

fn short_profile(name: &str, secs: f64, server: ServerSettings) -> Profile {
    let b = webhook_only(name, WaitStrategy::Constant(Duration::from_millis(20)));
    let mut phase = closed_phase(name, b, 3, 10.0, secs);
    phase.server = server;
    profile(name, vec![phase])
}

async fn status_config(addr: SocketAddr) -> Value {
    terrafix_tui::engine::tls::install_provider();
    let s: Value = reqwest::get(format!("http://{addr}/status")).await.unwrap().json().await.unwrap();
    s["config"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_is_trusted_through_a_ca_or_insecure_and_refused_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certs(dir.path());
    let tls = ServerTls::from_pem_files(&cert, &key).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = start_mock(listener, slow_config(5.0), Some(tls)).await;
    let target = Target::parse(&format!("https://localhost:{}", server.addr.port())).unwrap();

    let with_ca = TargetOptions { tls: TlsTrust::WithCa(ca.clone()), ..TargetOptions::default() };
    let (s, _) = run_with(
        short_profile("tls", 2.0, Default::default()),
        target.clone(),
        dir.path(),
        with_ca,
        RunControl::default(),
    )
    .await
    .expect("trusted through --ca-cert");
    let p = &s.experiments[0];
    assert!(p.summary.total_requests > 20, "{} requests", p.summary.total_requests);
    assert_eq!(p.summary.failure_count, 0, "{:?}", p.failures);
    assert!(p.latency_ms.p50 >= 4.5, "the server's 5 ms show: {:?}", p.latency_ms);
    assert!(p.connections.connects >= 3, "each user connects (TLS) once: {:?}", p.connections);
    assert!(p.connections.p50_ms > 0.0);
    assert!(!s.connection.insecure);
    assert!(p.server.is_some(), "/status reached over https");

    let insecure = TargetOptions { tls: TlsTrust::Insecure, ..TargetOptions::default() };
    let (s, run_dir) = run_with(
        short_profile("insecure", 1.0, Default::default()),
        target.clone(),
        dir.path(),
        insecure,
        RunControl::default(),
    )
    .await
    .expect("--insecure skips verification");
    assert!(s.connection.insecure);
    assert!(s.connection.tls.contains("INSECURE"), "{}", s.connection.tls);
    assert_eq!(s.experiments[0].summary.failure_count, 0);
    let html = std::fs::read_to_string(run_dir.join("experiment_summary.html")).unwrap();
    assert!(html.contains("INSECURE"), "the HTML says the certificate was not checked");

    let before = std::fs::read_dir(dir.path()).unwrap().count();
    let err = run_with(
        short_profile("refused", 1.0, Default::default()),
        target,
        dir.path(),
        TargetOptions::default(),
        RunControl::default(),
    )
    .await
    .expect_err("an unknown CA is refused");
    let text = err.to_string();
    assert!(matches!(err, RunError::Tls(_)), "{text}");
    assert!(text.contains("unknown issuer") && text.contains("--ca-cert"), "{text}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        before,
        "no results folder for a refused target"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_reach_the_server_and_their_values_appear_nowhere() {
    let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let record = seen.clone();
    let app =
        Router::new().route("/health", get(|| async { axum::Json(json!({"status": "healthy"})) })).route(
            "/webhook",
            post(move |headers: axum::http::HeaderMap| {
                let record = record.clone();
                async move {
                    if let Ok(mut list) = record.lock() {
                        for name in ["x-api-key", "authorization"] {
                            if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
                                list.push((name.to_string(), v.to_string()));
                            }
                        }
                    }
                    axum::Json(json!({"success": true, "failure_hash": "x", "message": "ok"}))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let secret = "tok-5f1d2c-very-secret";
    // SAFETY: set before the run starts; no other thread of this test reads the environment.
    unsafe { std::env::set_var("TERRAFIX_TEST_API_TOKEN", secret) };
    let headers = vec![
        terrafix_tui::profile::parse_header("Authorization: Bearer ${TERRAFIX_TEST_API_TOKEN}").unwrap(),
        terrafix_tui::profile::parse_header("X-Api-Key: key-${TERRAFIX_TEST_API_TOKEN}").unwrap(),
    ];
    let options = TargetOptions { headers, ..TargetOptions::default() };
    let out = tempfile::tempdir().unwrap();
    let (s, run_dir) = run_with(
        short_profile("headers", 1.5, Default::default()),
        Target::parse(&format!("http://{addr}")).unwrap(),
        out.path(),
        options,
        RunControl::default(),
    )
    .await
    .unwrap();
    {
        let seen = seen.lock().unwrap();
        assert!(seen.len() >= 20, "{} requests recorded", seen.len());
        assert!(seen.iter().any(|(n, v)| n == "authorization" && v == &format!("Bearer {secret}")));
        assert!(seen.iter().any(|(n, v)| n == "x-api-key" && v == &format!("key-{secret}")));
    }
    assert_eq!(s.connection.headers, ["Authorization: ***", "X-Api-Key: ***"]);
    for entry in walk(&run_dir) {
        let bytes = std::fs::read(&entry).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(secret), "{} holds the header value", entry.display());
    }
    server.abort();
}

/// (path, X-Task, X-Api-Key) of every request a test server saw.
type Seen = Arc<Mutex<Vec<(String, Option<String>, Option<String>)>>>;

/// `headers:` on a task: sent with that task's requests only, over the profile's (a task's
/// header replaces the profile's of the same name), and never written out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tasks_own_headers_go_with_its_requests_only() {
    let seen: Seen = Arc::default();
    let recorder = |path: &'static str, seen: Seen| {
        move |headers: axum::http::HeaderMap| {
            let seen = seen.clone();
            async move {
                let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
                if let Ok(mut list) = seen.lock() {
                    list.push((path.to_string(), get("x-task"), get("x-api-key")));
                }
                axum::Json(
                    json!({"status": "healthy", "success": true, "failure_hash": "x", "message": "ok"}),
                )
            }
        }
    };
    let app = Router::new()
        .route("/health", get(recorder("/health", seen.clone())))
        .route("/webhook", post(recorder("/webhook", seen.clone())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let secret = "task-3e9a-very-secret";
    // SAFETY: set before the profile is read; no other thread of this test reads the environment.
    unsafe { std::env::set_var("TERRAFIX_TEST_TASK_TOKEN", secret) };
    let yaml = "name: task-headers\nheaders: { X-Api-Key: run-level }\nbehaviours:\n  b:\n    wait: { constant: 20ms }\n    tasks:\n      - { kind: webhook, headers: { X-Task: \"alpha-${TERRAFIX_TEST_TASK_TOKEN}\" } }\n      - { kind: health, headers: { X-Api-Key: task-level } }\nphases:\n  - { name: p, behaviour: b, users: 2, duration: 1500ms }\n";
    let profile = terrafix_tui::profile::parse_str(yaml, "task-headers", "task-headers.yaml").unwrap();
    let options = TargetOptions::from_profile(&profile.target);
    let out = tempfile::tempdir().unwrap();
    let (s, run_dir) = run_with(
        profile,
        Target::parse(&format!("http://{addr}")).unwrap(),
        out.path(),
        options,
        RunControl::default(),
    )
    .await
    .unwrap();
    let seen = seen.lock().unwrap().clone();
    let hooks: Vec<_> = seen.iter().filter(|r| r.0 == "/webhook").collect();
    let health: Vec<_> = seen.iter().filter(|r| r.0 == "/health" && r.1.is_none()).collect();
    assert!(hooks.len() >= 5 && health.len() >= 5, "{seen:?}");
    let alpha = format!("alpha-{secret}");
    assert!(
        hooks.iter().all(|r| r.1.as_deref() == Some(alpha.as_str()) && r.2.as_deref() == Some("run-level")),
        "{hooks:?}"
    );
    // The run's own /health check before the load carries the run's headers; the task's carry its own.
    let by_task = health.iter().filter(|r| r.2.as_deref() == Some("task-level")).count();
    assert!(by_task >= 5 && health.len() - by_task <= 2, "the task's header replaces the run's: {health:?}");
    assert!(!seen.iter().any(|r| r.0 == "/health" && r.1.is_some()), "another task's header stays with it");
    assert_eq!(s.experiments[0].summary.failure_count, 0);
    for entry in walk(&run_dir) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
        assert!(!text.contains(secret), "{} holds a task header's value", entry.display());
    }
    server.abort();
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_timeout_of_one_second_ends_hanging_requests_after_a_second() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = start_mock(listener, slow_config(0.0), None).await;
    let settings = ServerSettings {
        failure_rate: Some(1.0),
        failure_mode: Some(terrafix_tui::profile::FailureMode::Hang),
        ..Default::default()
    };
    // The phase's own `request_timeout: 1s` (the run's is the default 10 s).
    let mut hang = short_profile("hang", 3.0, settings);
    hang.phases[0].timeouts.request = Some(Duration::from_secs(1));
    let options = TargetOptions::default();
    let out = tempfile::tempdir().unwrap();
    let (s, _) = run_with(
        hang,
        Target::parse(&format!("http://{}", server.addr)).unwrap(),
        out.path(),
        options,
        RunControl::default(),
    )
    .await
    .unwrap();
    let p = &s.experiments[0];
    assert!(p.summary.failure_count >= 3, "{:?}", p.summary);
    assert!(p.failures.iter().all(|f| f.kind == "timeout"), "{:?}", p.failures);
    assert!((900.0..=3000.0).contains(&p.latency_ms.p50), "timeouts after ~1 s, not 10: {:?}", p.latency_ms);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_target_is_left_as_it_was_found() {
    let out = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = start_mock(listener, slow_config(5.0), None).await;
    let addr = server.addr;
    let start = status_config(addr).await;
    assert_eq!(start["latency_ms"], json!(5.0));
    let target = Target::parse(&format!("http://{addr}")).unwrap();
    let settings =
        || ServerSettings { latency_ms: Some(50.0), failure_rate: Some(0.1), ..Default::default() };

    // Completed.
    let (s, _) = run_with(
        short_profile("restore", 2.0, settings()),
        target.clone(),
        out.path(),
        TargetOptions::default(),
        RunControl::default(),
    )
    .await
    .unwrap();
    assert!(s.experiments[0].summary.failure_count > 0, "the phase's settings were applied");
    assert_eq!(status_config(addr).await, start, "back at exactly the start config after a completed run");
    assert!(s.restore.as_ref().is_some_and(|r| r.restored), "{:?}", s.restore);

    // Aborted through the cancel token.
    let control = RunControl::default();
    let cancel = control.cancel.clone();
    tokio::spawn(async move {
        // Wait for the phase's requests to reach the server (the event), then abort.
        loop {
            let status: Value =
                reqwest::get(format!("http://{addr}/status")).await.unwrap().json().await.unwrap();
            if status["stats"]["total_requests"].as_u64().unwrap_or(0) > 5 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        cancel.cancel();
    });
    let (s, _) = run_with(
        short_profile("abort", 60.0, settings()),
        target.clone(),
        out.path(),
        TargetOptions::default(),
        control,
    )
    .await
    .unwrap();
    assert_eq!(s.status, terrafix_tui::metrics::summary::RunStatus::Aborted);
    assert_eq!(status_config(addr).await, start, "back at the start config after an aborted run");

    // The target dies mid-run and comes back on the same port with its own start config.
    let before = server_total(addr).await;
    let stopper = {
        let server_stop = server.stop.clone();
        tokio::spawn(async move {
            // Stopped once this run's requests reach it (the event), whether or not the run
            // reset the server's counters at its phase's start.
            loop {
                let now = server_total(addr).await;
                if now >= before + 5 || (now < before && now >= 5) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            server_stop.cancel();
        })
    };
    let run = tokio::spawn({
        let target = target.clone();
        let out = out.path().to_path_buf();
        async move {
            run_with(
                short_profile("outage", 8.0, settings()),
                target,
                &out,
                TargetOptions::default(),
                RunControl::default(),
            )
            .await
        }
    });
    stopper.await.unwrap();
    let _ = server.task.await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let listener = tokio::net::TcpListener::bind(addr).await.expect("the port is free again");
    let server = start_mock(listener, slow_config(5.0), None).await;
    let (s, _) = run.await.unwrap().unwrap();
    let p = &s.experiments[0];
    assert!(p.failures.iter().any(|f| f.kind == "connection"), "the outage shows as connection errors");
    assert!(s.notes.iter().any(|n| n.contains("stopped answering")), "{:?}", s.notes);
    assert!(s.notes.iter().any(|n| n.contains("answered /status again")), "{:?}", s.notes);
    assert_eq!(status_config(addr).await, start, "back at the start config after an outage");

    // --no-configure: neither /configure nor /stats/reset reaches the target.
    terrafix_tui::engine::tls::install_provider();
    let http = reqwest::Client::new();
    for i in 0..3 {
        http.post(format!("http://{addr}/webhook"))
            .json(&json!({"test_id": format!("pre-{i}"), "resource_arn": "arn:x"}))
            .send()
            .await
            .unwrap();
    }
    let options = TargetOptions { configure_target: false, ..TargetOptions::default() };
    let (s, _) = run_with(
        short_profile("untouched", 1.5, settings()),
        target,
        out.path(),
        options,
        RunControl::default(),
    )
    .await
    .unwrap();
    let p = &s.experiments[0];
    assert_eq!(p.summary.failure_count, 0, "failure_rate 0.1 was not sent");
    assert!(
        p.settings_not_applied.iter().any(|r| r.starts_with("failure_rate=")),
        "{:?}",
        p.settings_not_applied
    );
    let server_total = p.server.as_ref().and_then(|v| v.total_requests).unwrap();
    assert!(
        server_total >= p.summary.total_requests + 3,
        "no reset: the 3 earlier posts still count ({server_total})"
    );
    assert_eq!(status_config(addr).await, start);
    assert!(s.restore.is_none());
    server.shutdown().await;
}

/// A server with only the seed harness's API: GET-only /stats/reset, /configure with two
/// keys (anything else is refused), /status without `config`.
#[derive(Default)]
struct SeedState {
    requests: u64,
    latency_ms: f64,
    failure_rate: f64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_with_only_the_seed_api_gets_a_per_phase_view_and_a_report_of_what_was_not_applied() {
    let state: Arc<Mutex<SeedState>> = Arc::default();
    let (s1, s2, s3, s4) = (state.clone(), state.clone(), state.clone(), state.clone());
    let app = Router::new()
        .route("/health", get(|| async { axum::Json(json!({"status": "healthy"})) }))
        .route(
            "/webhook",
            post(move || {
                let s = s1.clone();
                async move {
                    s.lock().unwrap().requests += 1;
                    axum::Json(json!({"success": true, "failure_hash": "h", "message": "processed"}))
                }
            }),
        )
        .route(
            "/status",
            get(move || {
                let s = s2.clone();
                async move {
                    let n = s.lock().unwrap().requests;
                    axum::Json(json!({"status": "running", "mock_mode": true, "stats": {"total_requests": n, "successful_requests": n, "failed_requests": 0}}))
                }
            }),
        )
        .route(
            "/stats/reset",
            get(move || {
                let s = s3.clone();
                async move {
                    s.lock().unwrap().requests = 0;
                    axum::Json(json!({"status": "reset"}))
                }
            }),
        )
        .route(
            "/configure",
            post(move |axum::Json(body): axum::Json<Value>| {
                let s = s4.clone();
                async move {
                    use axum::http::StatusCode;
                    use axum::response::IntoResponse;
                    let Some(map) = body.as_object() else {
                        return (StatusCode::BAD_REQUEST, "the body must be an object".to_string()).into_response();
                    };
                    if let Some(bad) = map.keys().find(|k| *k != "latency_ms" && *k != "failure_rate") {
                        return (StatusCode::BAD_REQUEST, format!("unknown setting {bad}")).into_response();
                    }
                    let mut st = s.lock().unwrap();
                    if let Some(v) = map.get("latency_ms").and_then(Value::as_f64) {
                        st.latency_ms = v;
                    }
                    if let Some(v) = map.get("failure_rate").and_then(Value::as_f64) {
                        st.failure_rate = v;
                    }
                    axum::Json(json!({"latency_ms": st.latency_ms, "failure_rate": st.failure_rate})).into_response()
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let b = webhook_only("seed", WaitStrategy::Constant(Duration::from_millis(20)));
    let mut first = closed_phase("first", b.clone(), 2, 10.0, 1.5);
    first.server = ServerSettings {
        latency_ms: Some(1.0),
        failure_mode: Some(terrafix_tui::profile::FailureMode::Error500),
        ..Default::default()
    };
    let mut second = closed_phase("second", b, 2, 10.0, 1.5);
    second.server = ServerSettings { failure_rate: Some(0.0), ..Default::default() };
    let out = tempfile::tempdir().unwrap();
    let (s, _) = run_with(
        profile("seedapi", vec![first, second]),
        Target::parse(&format!("http://{addr}")).unwrap(),
        out.path(),
        TargetOptions::default(),
        RunControl::default(),
    )
    .await
    .unwrap();
    assert_eq!(s.status, terrafix_tui::metrics::summary::RunStatus::Completed);
    let (p1, p2) = (&s.experiments[0], &s.experiments[1]);
    assert!(
        p1.settings_not_applied.iter().any(|r| r.starts_with("failure_mode=")),
        "{:?}",
        p1.settings_not_applied
    );
    assert!(
        !p1.settings_not_applied.iter().any(|r| r.starts_with("latency_ms=")),
        "{:?}",
        p1.settings_not_applied
    );
    assert!(p2.settings_not_applied.is_empty(), "{:?}", p2.settings_not_applied);
    assert_eq!(state.lock().unwrap().latency_ms, 1.0, "the known key was sent");
    for p in [p1, p2] {
        let server_total = p.server.as_ref().and_then(|v| v.total_requests).unwrap();
        assert_eq!(server_total, p.summary.total_requests, "{}: per phase, not cumulative", p.name);
    }
    assert!(s.restore.as_ref().is_some_and(|r| !r.restored), "the start settings were unknown: said so");
    server.abort();
}

/// The same through the binaries: `serve --tls-cert/--tls-key`, then `run --ca-cert`,
/// `run --insecure` and a plain `run` that must be refused with exit 2.
#[test]
fn the_binaries_serve_and_load_https() {
    use std::process::{Command, Stdio};
    let bin = env!("CARGO_BIN_EXE_terrafix-tui");
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certs(dir.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new(bin)
        .args(["serve", "--port", &port.to_string(), "--latency-ms", "1"])
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let yaml = dir.path().join("https.yaml");
    std::fs::write(&yaml, "name: https\nbehaviours:\n  b:\n    wait: { constant: 50ms }\n    tasks: [ { kind: webhook } ]\nphases:\n  - { name: only, behaviour: b, users: 2, duration: 2s }\n").unwrap();
    let target = format!("https://localhost:{port}");
    let run = |extra: &[&str]| {
        let out = Command::new(bin)
            .arg("run")
            .arg(&yaml)
            .args(["--target", &target, "--no-charts", "--output"])
            .arg(dir.path().join("results"))
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = run(&["--ca-cert", ca.to_str().unwrap(), "--verbose"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("connects"), "connect figures in the --verbose details: {stdout}");
    let (code, stdout, stderr) = run(&["--insecure"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("INSECURE") || stderr.contains("NOT checked"), "{stdout}\n{stderr}");
    let (code, _, stderr) = run(&[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("unknown issuer") && stderr.contains("--ca-cert"), "{stderr}");
    assert_eq!(stderr.lines().filter(|l| l.starts_with("error:")).count(), 1, "one error line: {stderr}");
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(server.id() as i32, libc::SIGTERM) };
    assert!(server.wait().unwrap().success(), "serve drains and exits 0 on SIGTERM");
}

/// An https server that speaks HTTP/2 only (ALPN `h2` and nothing else) and records the
/// protocol version of every request it answers.
async fn h2_only_server(
    cert: &Path,
    key: &Path,
) -> (SocketAddr, Arc<Mutex<Vec<axum::http::Version>>>, tokio::task::JoinHandle<()>) {
    use rustls::pki_types::pem::PemObject;
    let certs: Vec<rustls::pki_types::CertificateDer<'static>> =
        rustls::pki_types::CertificateDer::pem_file_iter(cert).unwrap().map(|c| c.unwrap()).collect();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(key).unwrap();
    let mut config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let versions: Arc<Mutex<Vec<axum::http::Version>>> = Arc::default();
    let record = versions.clone();
    let app = Router::new().route(
        "/webhook",
        post(move |version: axum::http::Version| {
            let record = record.clone();
            async move {
                record.lock().unwrap().push(version);
                axum::Json(json!({"success": true, "failure_hash": "x", "message": "ok"}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, app) = (acceptor.clone(), app.clone());
            connections.spawn(async move {
                // A client that offers no h2 fails the handshake: that is the point of this server.
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let builder = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new());
                let _ = builder.serve_connection(hyper_util::rt::TokioIo::new(tls), service).await;
            });
        }
    });
    (addr, versions, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_is_offered_in_alpn_and_every_request_goes_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certs(dir.path());
    let trusted = |http2| TargetOptions {
        tls: TlsTrust::WithCa(ca.clone()),
        configure_target: false,
        http2,
        ..TargetOptions::default()
    };

    // A server that speaks nothing but HTTP/2: every request the run counts reached it as HTTP/2.
    let (addr, versions, server) = h2_only_server(&cert, &key).await;
    let target = Target::parse(&format!("https://localhost:{}", addr.port())).unwrap();
    let (s, _) = run_with(
        short_profile("h2", 1.5, Default::default()),
        target.clone(),
        dir.path(),
        trusted(true),
        RunControl::default(),
    )
    .await
    .expect("an h2-only server is loaded with --http2");
    let p = &s.experiments[0];
    assert_eq!(s.connection.protocol, "HTTP/2");
    assert_eq!(p.summary.failure_count, 0, "{:?}", p.failures);
    assert!(p.summary.total_requests > 20, "{} requests", p.summary.total_requests);
    let seen = versions.lock().unwrap().clone();
    assert_eq!(seen.len() as u64, p.summary.total_requests, "the server answered exactly what we counted");
    assert!(seen.iter().all(|v| *v == axum::http::Version::HTTP_2), "{seen:?}");
    // Without --http2 the client offers only http/1.1: refused before any load, naming the flag.
    let err = run_with(
        short_profile("h1", 1.0, Default::default()),
        target,
        dir.path(),
        trusted(false),
        RunControl::default(),
    )
    .await
    .expect_err("an h2-only server refuses an http/1.1-only client");
    assert!(matches!(&err, RunError::Tls(m) if m.contains("--http2")), "{err}");
    server.abort();

    // Our own mock offers both: --http2 gets HTTP/2 and the server counts the same requests;
    // without the flag the run stays HTTP/1.1.
    let tls = ServerTls::from_pem_files(&cert, &key).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mock = start_mock(listener, slow_config(1.0), Some(tls)).await;
    let target = Target::parse(&format!("https://localhost:{}", mock.addr.port())).unwrap();
    for (http2, protocol) in [(true, "HTTP/2"), (false, "HTTP/1.1")] {
        let options = TargetOptions { configure_target: true, ..trusted(http2) };
        let (s, _) = run_with(
            short_profile("mock_h2", 1.5, Default::default()),
            target.clone(),
            dir.path(),
            options,
            RunControl::default(),
        )
        .await
        .unwrap();
        let p = &s.experiments[0];
        assert_eq!(s.connection.protocol, protocol);
        assert_eq!(p.summary.failure_count, 0, "{:?}", p.failures);
        let server = p.server.as_ref().expect("/status over https");
        assert_eq!(
            server.total_requests,
            Some(p.summary.total_requests),
            "{protocol}: the server saw what we sent"
        );
    }
    mock.shutdown().await;
}

#[test]
fn http2_without_an_https_target_is_a_usage_error() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_terrafix-tui"))
        .args(["run", "smoke", "--http2", "--target", "http://127.0.0.1:9", "--dry-run"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--http2") && stderr.contains("https://"), "{stderr}");
}

/// The server's request count from its `/status`.
async fn server_total(addr: std::net::SocketAddr) -> u64 {
    let status: Value = reqwest::get(format!("http://{addr}/status")).await.unwrap().json().await.unwrap();
    status["stats"]["total_requests"].as_u64().unwrap_or(0)
}
