//! Every endpoint of the mock and every kind of bad input, over HTTP against a real listener.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod mock_support;

use std::time::{Duration, Instant};

use mock_support::{Server, failure, unique};
use serde_json::{Value, json};
use terrafix_tui::mock::MockConfig;

fn fast() -> MockConfig {
    MockConfig { latency_ms: 0.0, ..MockConfig::default() }
}

#[tokio::test]
async fn webhook_processes_then_answers_duplicates_at_once() {
    let server = Server::start(fast()).await;
    let body = failure("s3-versioning-enabled-abc", "arn:aws:s3:::b1", "medium");
    let (status, first) = server.post_json("/webhook", &body).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["success"], true);
    assert!(first["pr_url"].as_str().unwrap().starts_with("https://github.com/"), "{first}");
    let hash = terrafix_tui::mock::failure_hash("s3-versioning-enabled-abc", "arn:aws:s3:::b1");
    assert_eq!(first["failure_hash"], hash);
    assert!(first["message"].is_string());
    let (status, second) = server.post_json("/webhook", &body).await;
    assert_eq!(status, 200);
    assert_eq!((second["success"].clone(), second["duplicate"].clone()), (json!(true), json!(true)));
    let stats = server.stats().await;
    assert_eq!((stats["dedup_hits"].as_u64(), stats["dedup_misses"].as_u64()), (Some(1), Some(1)));
    assert_eq!(stats["total_requests"], 2);
    server.shutdown().await;
}

#[tokio::test]
async fn health_ready_status_metrics_and_reset() {
    let server = Server::start(fast()).await;
    assert_eq!(server.get_json("/health").await, (200, json!({"status": "healthy"})));
    let (status, ready) = server.get_json("/ready").await;
    assert_eq!((status, ready["dedup_store"].as_str()), (200, Some("memory")));
    server.post_json("/webhook", &unique("st", 1)).await;

    let (status, body) = server.get_json("/status").await;
    assert_eq!(status, 200);
    assert_eq!((body["status"].as_str(), body["mock_mode"].as_bool()), (Some("running"), Some(true)));
    let stats = &body["stats"];
    for key in [
        "total_requests",
        "successful_requests",
        "failed_requests",
        "success_rate_percent",
        "uptime_seconds",
        "requests_per_second",
        "dedup_hits",
        "dedup_misses",
        "dedup_errors",
        "injected_failures",
        "injected_failures_total",
        "rejected",
        "in_flight",
        "batch_items",
    ] {
        assert!(!stats[key].is_null(), "stats.{key} missing in {stats}");
    }
    for key in ["avg", "min", "max", "p50", "p95", "p99"] {
        assert!(stats["latency_ms"][key].is_number(), "latency_ms.{key} missing");
    }
    assert_eq!(body["config"]["latency_ms"], 0.0);
    // The run reads the same document through the one shared type: every figure is there.
    let typed = terrafix_tui::metrics::status::ServerStatus::from_value(&body);
    let st = &typed.stats;
    let counts = [
        st.total_requests,
        st.successful_requests,
        st.failed_requests,
        st.dedup_hits,
        st.dedup_misses,
        st.dedup_errors,
        st.injected_failures_total,
        st.rejected,
        st.in_flight,
        st.batch_items,
        st.batch_requests,
    ];
    assert!(counts.iter().all(Option::is_some), "a /status field the run reads is missing: {st:?}");
    assert_eq!(st.total_requests, Some(1));
    assert!(st.latency_ms.p99.is_some() && st.batch_latency_ms.p99.is_some(), "{st:?}");
    assert_eq!((typed.dedup_store.as_deref(), typed.stall_remaining_ms), (Some("memory"), Some(0)));
    assert!(typed.config.is_some_and(|c| c.contains_key("failure_mode")));

    let metrics = server.client.get(server.url("/metrics")).send().await.unwrap();
    assert!(metrics.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = metrics.text().await.unwrap();
    assert!(text.contains("# TYPE terrafix_mock_processing_seconds histogram"), "{text}");
    assert!(text.contains("terrafix_mock_processing_seconds_bucket{le=\"+Inf\"} 1"), "{text}");
    assert!(text.contains("terrafix_mock_processing_seconds_count 1"), "{text}");
    assert!(text.contains("terrafix_mock_processing_seconds_sum "), "{text}");

    let (status, _) = server.post_json("/stats/reset", &json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(server.stats().await["total_requests"], 0);
    assert_eq!(server.get_json("/stats/reset").await.0, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn batch_reports_each_item_and_counts_items() {
    let server = Server::start(fast()).await;
    let items = json!([unique("b", 1), unique("b", 2), unique("b", 1)]);
    let (status, body) = server.post_json("/batch", &items).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["total"].as_u64(), body["successful"].as_u64(), body["failed"].as_u64()),
        (Some(3), Some(3), Some(0))
    );
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[2]["duplicate"], true, "{body}");
    assert!(results[0]["pr_url"].is_string());
    let stats = server.stats().await;
    assert_eq!((stats["batch_items"].as_u64(), stats["dedup_hits"].as_u64()), (Some(3), Some(1)));
    assert_eq!(stats["batch_requests"].as_u64(), Some(1));
    server.shutdown().await;
}

/// `/status` keeps a per-batch figure beside the per-failure one: a 3-item batch at 40 ms per
/// failure, processed one item after another, takes about 120 ms as a whole, while each of
/// its items took 40 ms — the figures a client's /batch and /webhook latencies compare with.
#[tokio::test]
async fn status_reports_batches_as_wholes_beside_the_per_failure_latency() {
    let server = Server::start(MockConfig { latency_ms: 40.0, ..fast() }).await;
    let items = json!([unique("w", 1), unique("w", 2), unique("w", 3)]);
    assert_eq!(server.post_json("/batch", &items).await.0, 200);
    let stats = server.stats().await;
    let per_failure = stats["latency_ms"]["p99"].as_f64().unwrap();
    let per_batch = &stats["batch_latency_ms"];
    for key in ["avg", "max", "p50", "p95", "p99"] {
        assert!(per_batch[key].is_number(), "batch_latency_ms.{key} missing in {stats}");
    }
    let batch_p50 = per_batch["p50"].as_f64().unwrap();
    assert!((35.0..80.0).contains(&per_failure), "per failure: {per_failure}");
    assert!(batch_p50 >= 110.0, "a batch is its items together: {batch_p50} (per failure {per_failure})");
    // Reset clears both.
    server.post_json("/stats/reset", &json!({})).await;
    assert_eq!(server.stats().await["batch_latency_ms"]["p50"], 0.0);
    server.shutdown().await;
}

async fn error_of(server: &Server, path: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
    let response = server.post(path, body).await;
    let status = response.status().as_u16();
    let json: Value = response.json().await.unwrap();
    assert_eq!(json["success"], false, "{json}");
    (status, json["error"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn bad_input_gets_clear_json_errors_and_changes_nothing() {
    let server = Server::start(fast()).await;
    let (status, msg) = error_of(&server, "/webhook", "{\"test_id\": ").await;
    assert_eq!(status, 400);
    assert!(msg.starts_with("invalid JSON") && msg.contains("EOF"), "{msg}");
    assert_eq!(error_of(&server, "/webhook", "[1,2]").await.0, 400);
    let (status, msg) = error_of(&server, "/webhook", r#"{"test_id":"x"}"#).await;
    assert_eq!(status, 422);
    assert!(msg.contains("resource_arn"), "{msg}");
    assert_eq!(error_of(&server, "/webhook", r#"{"resource_arn":"x"}"#).await.0, 422);
    assert_eq!(error_of(&server, "/batch", r#"{"a":1}"#).await.0, 400);
    assert_eq!(error_of(&server, "/batch", "[{\"test_id\":\"x\"}]").await.0, 422);
    // Invalid UTF-8 inside a string the server would not keep: one rule for both routes.
    let item = b"{\"test_id\":\"t\",\"resource_arn\":\"a\",\"note\":\"\xff\xfe\"}".to_vec();
    let (status, msg) = error_of(&server, "/webhook", item.clone()).await;
    assert_eq!((status, msg.contains("UTF-8")), (400, true), "{msg}");
    let batch = [b"[".to_vec(), item, b"]".to_vec()].concat();
    let (status, msg) = error_of(&server, "/batch", batch).await;
    assert_eq!((status, msg.contains("UTF-8")), (400, true), "{msg}");

    let big = format!("{{\"test_id\":\"x\",\"resource_arn\":\"y\",\"pad\":\"{}\"}}", "a".repeat(1 << 20));
    let (status, msg) = error_of(&server, "/webhook", big).await;
    assert_eq!(status, 413);
    assert!(msg.contains("1 MiB"), "{msg}");
    let many: Vec<Value> =
        (0..1001).map(|i| json!({"test_id": "t", "resource_arn": i.to_string()})).collect();
    let (status, msg) = error_of(&server, "/batch", Value::from(many).to_string()).await;
    assert_eq!(status, 413);
    assert!(msg.contains("1001"), "{msg}");

    let response = server.client.get(server.url("/nowhere")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(response.json::<Value>().await.unwrap()["success"], false);
    let response = server.client.delete(server.url("/webhook")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.json::<Value>().await.unwrap()["success"], false);

    let stats = server.stats().await;
    assert_eq!((stats["total_requests"].as_u64(), stats["batch_items"].as_u64()), (Some(0), Some(0)));
    // The server is still fine.
    assert_eq!(server.post_json("/webhook", &unique("ok", 1)).await.0, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn configure_validates_and_returns_the_active_config() {
    let server = Server::start(fast()).await;
    let all = json!({
        "latency_ms": 12.5, "per_resource_ms": 1, "jitter": "uniform", "jitter_ms": 3,
        "failure_rate": 0.25, "failure_mode": "throttle_429", "max_concurrent": 100,
        "workers": 4, "batch_parallel": true, "dedup_ttl_s": 60
    });
    let active = server.configure(all.clone()).await;
    for (key, value) in all.as_object().unwrap() {
        assert_eq!(active[key].as_f64().or(None), value.as_f64(), "{key}");
        assert_eq!(active[key].as_str(), value.as_str(), "{key}");
    }
    for (patch, names) in [
        (json!({"failure_rate": 1.5}), "failure_rate"),
        (json!({"latency_ms": -1}), "latency_ms"),
        (json!({"failure_mode": "explode"}), "failure_mode"),
        (json!({"jitter": "gaussian"}), "jitter"),
        (json!({"workers": 1.5}), "workers"),
        (json!({"latency_ms": 1, "bogus": 2}), "bogus"),
    ] {
        let (status, msg) = error_of(&server, "/configure", patch.to_string()).await;
        assert_eq!(status, 400, "{patch}");
        assert!(msg.contains(names), "{msg}");
    }
    assert_eq!(error_of(&server, "/configure", "[]").await.0, 400);
    assert_eq!(error_of(&server, "/configure", "{").await.0, 400);
    let (_, status) = server.get_json("/status").await;
    assert_eq!(status["config"], active, "a rejected /configure changed the config");
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let server = Server::start(MockConfig { latency_ms: 400.0, ..MockConfig::default() }).await;
    let client = server.client.clone();
    let url = server.url("/webhook");
    let in_flight = tokio::spawn(async move {
        client.post(url).body(unique("drain", 1).to_string()).send().await.map(|r| r.status().as_u16())
    });
    // Shut down only once the server says the request is in flight.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status: serde_json::Value =
            server.client.get(server.url("/status")).send().await.unwrap().json().await.unwrap();
        if status["stats"]["in_flight"].as_u64().unwrap_or(0) >= 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the request never arrived: {status}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = Instant::now();
    server.shutdown().await;
    assert_eq!(in_flight.await.unwrap().unwrap(), 200);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn serve_command_exits_zero_on_sigterm() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_terrafix-tui"))
        .args(["serve", "--port", &port.to_string(), "--latency-ms", "0"])
        .env_remove("REDIS_URL")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    terrafix_tui::engine::tls::install_provider();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if client.get(format!("http://127.0.0.1:{port}/health")).send().await.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "serve did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // SAFETY: kill(2) only sends a signal to our own child by pid; no memory is involved.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
}
