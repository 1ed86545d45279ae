//! Dedup under concurrency with both stores, and Redis going away and coming back
//! (fail-open, /ready 503, dedup_errors, recovery), against a real redis-server.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod mock_support;

use std::time::{Duration, Instant};

use futures::future::join_all;
use mock_support::{Redis, Server, failure, unique};
use terrafix_tui::mock::MockConfig;

async fn two_hundred_identical_posts(server: &Server) {
    let body = failure("iam-trust-policy-same", "arn:aws:iam::123456789012:role/same", "small").to_string();
    let posts = (0..200).map(|_| server.post("/webhook", body.clone()));
    let mut processed = 0;
    let mut duplicates = 0;
    for response in join_all(posts).await {
        assert_eq!(response.status().as_u16(), 200);
        let json: serde_json::Value = response.json().await.unwrap();
        if json["duplicate"] == true {
            duplicates += 1;
        } else {
            assert!(json["pr_url"].is_string(), "{json}");
            processed += 1;
        }
    }
    assert_eq!((processed, duplicates), (1, 199));
    let stats = server.stats().await;
    assert_eq!(
        (stats["dedup_hits"].as_u64(), stats["dedup_misses"].as_u64()),
        (Some(199), Some(1)),
        "{stats}"
    );
    assert_eq!(stats["dedup_errors"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identical_posts_are_processed_once_in_memory() {
    let server = Server::start(MockConfig { latency_ms: 20.0, ..MockConfig::default() }).await;
    two_hundred_identical_posts(&server).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identical_posts_are_processed_once_in_redis() {
    let redis = Redis::start();
    let config = MockConfig { latency_ms: 20.0, redis_url: Some(redis.url()), ..MockConfig::default() };
    let server = Server::start(config).await;
    let (status, ready) = server.get_json("/ready").await;
    assert_eq!((status, ready["dedup_store"].as_str()), (200, Some("redis")), "{ready}");
    two_hundred_identical_posts(&server).await;
    server.shutdown().await;
}

async fn is_duplicate(server: &Server, body: &serde_json::Value) -> bool {
    let (status, json) = server.post_json("/webhook", body).await;
    assert_eq!(status, 200, "{json}");
    json["duplicate"] == true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_fails_open_and_recovers() {
    let mut redis = Redis::start();
    let config = MockConfig { latency_ms: 0.0, redis_url: Some(redis.url()), ..MockConfig::default() };
    let server = Server::start(config).await;
    let before = unique("before", 1);
    assert!(!is_duplicate(&server, &before).await);
    assert!(is_duplicate(&server, &before).await);

    redis.kill();
    let during = unique("during", 1);
    let started = Instant::now();
    // Fail open: both answered 200 as new work, neither waits long.
    assert!(!is_duplicate(&server, &during).await);
    assert!(!is_duplicate(&server, &during).await);
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    let (status, ready) = server.get_json("/ready").await;
    assert_eq!(status, 503, "{ready}");
    assert!(ready["reason"].as_str().unwrap().contains("redis"), "{ready}");
    let stats = server.stats().await;
    assert!(stats["dedup_errors"].as_u64().unwrap() >= 2, "{stats}");

    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.get_json("/ready").await.0 != 200 {
        assert!(Instant::now() < deadline, "did not become ready after Redis came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let after = unique("after", 1);
    assert!(!is_duplicate(&server, &after).await);
    assert!(is_duplicate(&server, &after).await, "dedup does not work after Redis came back");
    server.shutdown().await;
}

#[tokio::test]
async fn unreachable_redis_at_start_still_serves() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = MockConfig {
        latency_ms: 0.0,
        redis_url: Some(format!("redis://127.0.0.1:{port}/0")),
        ..MockConfig::default()
    };
    let server = Server::start(config).await;
    assert_eq!(server.post_json("/webhook", &unique("nored", 1)).await.0, 200);
    assert_eq!(server.get_json("/ready").await.0, 503);
    server.shutdown().await;
}
