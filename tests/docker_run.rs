//! Experiments against `--target docker` on the machine's real Docker Engine: dedup counted by
//! the containerised server in Redis, container stats sampled into resources.csv, and a Redis
//! container killed mid-run (the API fails open, the run completes, the summary shows it).
//! Without an engine these tests fail unless TERRAFIX_SKIP_DOCKER=1.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use terrafix_tui::docker::{DockerEnv, Health, ServiceState, UpOptions};
use terrafix_tui::experiment::{DockerTarget, RunControl, Target};
use terrafix_tui::metrics::summary::RunStatus;
use terrafix_tui::profile::{RequestKind, WaitStrategy};

fn env_id(tag: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    format!("r-{tag}-{}-{}", std::process::id() % 100_000, nanos % 100_000)
}

fn docker_target(id: &str) -> DockerTarget {
    DockerTarget {
        env_id: Some(id.to_string()),
        options: Some(UpOptions {
            api_port: 0,
            redis_port: 0,
            localstack_port: 0,
            api_binary: Some(env!("CARGO_BIN_EXE_terrafix-tui").into()),
            ..UpOptions::default()
        }),
    }
}

/// Takes the environment down (volumes too) even when the test fails.
struct Down(String);
impl Drop for Down {
    fn drop(&mut self) {
        let id = self.0.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async move {
                if let Ok(env) = DockerEnv::connect_with_id(&id).await {
                    let _ = env.down(true).await;
                }
            });
        })
        .join();
    }
}

async fn engine_or_skip(id: &str) -> Option<DockerEnv> {
    match DockerEnv::connect_with_id(id).await {
        Ok(env) => Some(env),
        Err(e) if std::env::var("TERRAFIX_SKIP_DOCKER").as_deref() == Ok("1") => {
            eprintln!("skipped: no Docker Engine ({e}) and TERRAFIX_SKIP_DOCKER=1");
            None
        }
        Err(e) => panic!(
            "this test needs a running Docker Engine and none answered: {e} (TERRAFIX_SKIP_DOCKER=1 skips it)"
        ),
    }
}

fn dedup_behaviour() -> std::sync::Arc<terrafix_tui::profile::Behaviour> {
    behaviour(
        "dups",
        WaitStrategy::Between(Duration::from_millis(20), Duration::from_millis(60)),
        &[
            (3, RequestKind::Webhook, "/webhook [docker]"),
            (2, RequestKind::Duplicate, "/webhook [docker:dup]"),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_against_docker_dedups_in_redis_and_leaves_nothing() {
    let id = env_id("dedup");
    let Some(env) = engine_or_skip(&id).await else { return };
    let _down = Down(id.clone());
    let out = tempfile::tempdir().unwrap();
    let mut request_profile =
        profile("docker", vec![closed_phase("docker_dups", dedup_behaviour(), 6, 20.0, 5.0)]);
    request_profile.phases[0].server.latency_ms = Some(5.0);
    let r = run_collect_with(
        request_profile,
        Target::Docker,
        docker_target(&id),
        out.path(),
        RunControl::default(),
    )
    .await;
    let phase = &r.summary.experiments[0];
    assert_eq!(r.summary.status, RunStatus::Completed);
    assert_eq!(phase.summary.failure_count, 0, "{:?}", phase.failures);
    assert!(phase.dedup.duplicates_sent > 10, "{:?}", phase.dedup);
    assert_eq!(
        Some(phase.dedup.duplicates_sent),
        phase.dedup.server_hits,
        "server dedup in Redis: {:?}",
        phase.dedup
    );
    let store = phase.server.as_ref().unwrap().raw["dedup_store"].as_str().unwrap_or_default().to_string();
    assert!(store.contains("redis"), "the containerised API dedups in Redis, got {store:?}");
    let resources = std::fs::read_to_string(r.dir.join("resources.csv")).unwrap();
    assert!(resources.lines().any(|l| l.contains(",terrafix-api,")), "{resources}");
    assert!(resources.lines().any(|l| l.contains(",redis,")), "{resources}");

    env.down(true).await.unwrap();
    assert!(
        env.status().await.unwrap().iter().all(|s| s.state == ServiceState::Missing),
        "nothing of ours is left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_the_run_completes_and_says_so() {
    let id = env_id("kill");
    let Some(env) = engine_or_skip(&id).await else { return };
    let _down = Down(id.clone());
    let out = tempfile::tempdir().unwrap();
    let p = profile("docker-kill", vec![closed_phase("docker_kill", dedup_behaviour(), 5, 20.0, 8.0)]);
    let killer_id = id.clone();
    let killer = tokio::spawn(async move {
        // Wait until the environment is up and the phase is running, then kill Redis.
        let env = DockerEnv::connect_with_id(&killer_id).await.unwrap();
        for _ in 0..240 {
            let up = env
                .status()
                .await
                .map(|s| s.iter().any(|x| x.name == "terrafix-api" && x.health == Health::Healthy));
            if up.unwrap_or(false) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        tokio::time::sleep(Duration::from_secs(4)).await;
        env.kill_service("redis").await.unwrap();
    });
    let r = run_collect_with(p, Target::Docker, docker_target(&id), out.path(), RunControl::default()).await;
    killer.await.unwrap();
    let phase = &r.summary.experiments[0];
    assert_eq!(r.summary.status, RunStatus::Completed);
    assert!(phase.summary.total_requests > 20);
    assert_eq!(phase.summary.failure_count, 0, "the API fails open: {:?}", phase.failures);
    assert!(
        phase.dedup.server_errors.unwrap_or(0) > 0,
        "dedup errors show in the summary: {:?}",
        phase.dedup
    );
    assert!(
        r.summary.notes.iter().any(|n| n.contains("redis")),
        "the dead container is noted: {:?}",
        r.summary.notes
    );
    env.down(true).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_kill_fault_window_brings_redis_back_and_reports_the_window_and_the_fail_open() {
    let id = env_id("fault");
    let Some(env) = engine_or_skip(&id).await else { return };
    let _down = Down(id.clone());
    let out = tempfile::tempdir().unwrap();
    let yaml = "name: docker-fault\nbehaviours:\n  b:\n    wait: { constant: 50ms }\n    tasks: [ { kind: webhook, weight: 3 }, { kind: duplicate, weight: 1 } ]\nphases:\n  - name: redis_kill\n    behaviour: b\n    users: 4\n    duration: 14s\n    server: { latency_ms: 5 }\n    faults:\n      - { at: 3s, for: 5s, service: redis, action: kill }\n";
    let p = terrafix_tui::profile::parse_str(yaml, "docker-fault", "docker-fault.yaml").unwrap();
    let r = run_collect_with(p, Target::Docker, docker_target(&id), out.path(), RunControl::default()).await;
    assert_eq!(r.summary.status, RunStatus::Completed);
    let phase = &r.summary.experiments[0];
    let fault = &phase.resilience.as_ref().expect("a phase with faults reports them").faults[0];
    assert_eq!(fault.description, "kill redis");
    let (started, ended) = (fault.started_s.expect("applied"), fault.ended_s.expect("undone"));
    assert!((2.9..=4.5).contains(&started) && (7.9..=10.0).contains(&ended), "{fault:?}");
    assert!(fault.notes.is_empty(), "{fault:?}");
    // Redis is running again after the window.
    let status = env.status().await.unwrap();
    let redis = status.iter().find(|s| s.name == "redis").expect("redis is listed");
    assert_eq!(redis.state, ServiceState::Running, "{status:?}");
    // While Redis was dead the API failed open: its dedup errors are the fail-open window,
    // and the generator's own count of payloads neither a miss nor a hit is the same figure.
    let d = &phase.dedup;
    assert!(d.server_errors.unwrap_or(0) > 0, "{d:?}");
    assert_eq!(d.exactly_once, Some(false), "{d:?}");
    if d.unanswered == 0 {
        assert_eq!(d.fail_open, d.server_errors, "fail-open == the server's dedup_errors: {d:?}");
    } else {
        // A payload whose answer never came may have been claimed, or failed open, or neither.
        assert!(d.fail_open.unwrap_or(0) <= d.server_errors.unwrap_or(0), "{d:?}");
    }
    let json = std::fs::read_to_string(r.dir.join("experiment_summary.json")).unwrap();
    assert!(
        json.contains("\"kill redis\"") && json.contains("\"recovery_s\""),
        "the window is in the summary"
    );
    env.down(true).await.unwrap();
}
