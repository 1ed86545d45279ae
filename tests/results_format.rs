//! Golden tests of what a run leaves on disk: Locust's CSV headers byte for byte, the
//! summary's schema (the seed's keys first), the layout of the run folder.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use terrafix_tui::experiment::{RunControl, Target};
use terrafix_tui::profile::{BatchSize, RequestKind, ServerSettings, WaitStrategy};

const STATS: &str = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%";
const HISTORY: &str = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size";

fn keys(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_headers_and_summary_schema() {
    let out = tempfile::tempdir().unwrap();
    let b = behaviour(
        "golden",
        WaitStrategy::Constant(Duration::from_millis(50)),
        &[
            (2, RequestKind::Webhook, "/webhook [golden]"),
            (1, RequestKind::Batch(BatchSize::Fixed(3)), "/batch[{n}] [golden]"),
        ],
    );
    let mut phase = closed_phase("golden_one", b, 4, 20.0, 3.0);
    phase.server = ServerSettings { latency_ms: Some(5.0), failure_rate: Some(0.2), ..Default::default() };
    let r = run_collect(profile("golden", vec![phase]), Target::Embedded, out.path(), RunControl::default())
        .await;
    let dir = &r.dir;
    let name = dir.file_name().unwrap().to_str().unwrap();
    assert!(name.ends_with("-golden") && name.len() == "yyyymmdd-HHMMSS-golden".len(), "{name}");

    let stats = std::fs::read_to_string(dir.join("test/golden_one_stats.csv")).unwrap();
    let lines: Vec<&str> = stats.lines().collect();
    assert_eq!(lines[0], STATS);
    assert!(lines.last().unwrap().starts_with(",Aggregated,"));
    assert!(lines.iter().any(|l| l.starts_with("POST,/webhook [golden],")), "{stats}");
    assert!(lines.iter().all(|l| l.split(',').count() == 22), "{stats}");

    let history = std::fs::read_to_string(dir.join("test/golden_one_stats_history.csv")).unwrap();
    assert_eq!(history.lines().next().unwrap(), HISTORY);
    assert!(history.lines().skip(1).all(|l| l.split(',').count() == 24), "{history}");
    assert!(history.lines().any(|l| l.contains(",,Aggregated,")));

    let failures = std::fs::read_to_string(dir.join("test/golden_one_failures.csv")).unwrap();
    assert_eq!(failures.lines().next().unwrap(), "Method,Name,Error,Occurrences");
    assert!(failures.lines().count() > 1, "20 % injected failures show up: {failures}");
    let exceptions = std::fs::read_to_string(dir.join("test/golden_one_exceptions.csv")).unwrap();
    assert_eq!(exceptions.lines().next().unwrap(), "Count,Message,Traceback,Nodes");
    assert!(dir.join("test/golden_one.hlog").exists());

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("experiment_summary.json")).unwrap()).unwrap();
    assert_eq!(json["schema_version"], 2);
    assert_eq!(
        keys(&json),
        set(&[
            "schema_version",
            "timestamp",
            "tool",
            "tool_version",
            "run_id",
            "profile",
            "description",
            "target",
            "target_url",
            "seed",
            "time_scale",
            "started_at",
            "finished_at",
            "status",
            "passed",
            "experiments",
            "thresholds",
            "notes",
            "connection",
            "restore",
        ])
    );
    assert_eq!(json["restore"]["restored"], true, "the embedded target is put back too");
    assert_eq!(json["connection"]["tls"], "http");
    // Schema 2: the seed's shape, phases grouped by suite.
    let phase = &json["experiments"]["test"][0];
    for seed_key in ["name", "status", "duration_seconds", "config", "stats_file", "summary"] {
        assert!(phase.get(seed_key).is_some(), "seed key {seed_key} missing");
    }
    assert_eq!(
        keys(&phase["summary"]),
        set(&[
            "total_requests",
            "failure_count",
            "median_response_ms",
            "avg_response_ms",
            "p95_response_ms",
            "p99_response_ms",
            "requests_per_sec",
        ])
    );
    assert_eq!(
        keys(&phase["dedup"]),
        set(&[
            "duplicates_sent",
            "server_hits",
            "server_misses",
            "server_errors",
            "unique_answered",
            "resends_answered",
            "unanswered",
            "exactly_once",
            "fail_open",
        ])
    );
    assert!(phase["server"]["total_requests"].as_u64().unwrap() > 0);
    assert_eq!(json["seed"], 7);
}
