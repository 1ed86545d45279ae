//! Distributed runs on the real Docker Engine in a real single-node Swarm: three workers
//! whose merged counts and percentiles are exactly those of their own `.hlog` files and of
//! the server, an open-model rate held across workers, a worker killed mid-phase, and the
//! refusals (Swarm inactive, embedded target). The test initialises the swarm when the
//! engine has none and leaves it as it found it (the `docker_gwbridge` network included).
//! Without an engine these tests fail unless TERRAFIX_SKIP_DOCKER=1.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod common;

use std::num::NonZeroU32;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use terrafix_tui::docker::{DockerEnv, UpOptions};
use terrafix_tui::experiment::{DockerTarget, RunControl, RunError, RunRequest, Target};
use terrafix_tui::metrics::summary::{PhaseSummary, RunStatus, RunSummary};
use terrafix_tui::profile::{Profile, WaitStrategy};

fn env_id() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    format!("d-{}-{}", std::process::id() % 100_000, nanos % 100_000)
}

fn docker(args: &[&str]) -> (bool, String) {
    let out = Command::new("docker").args(args).output().expect("the docker CLI runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text.trim().to_string())
}

fn swarm_state() -> String {
    docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"]).1
}

/// Initialises a single-node swarm if there is none; on drop, leaves it and removes the
/// network `swarm init` creates, so the engine is as it was found.
struct SwarmGuard {
    initialised: bool,
    gwbridge_existed: bool,
}

impl SwarmGuard {
    fn ensure() -> SwarmGuard {
        let gwbridge_existed = docker(&["network", "inspect", "docker_gwbridge"]).0;
        if swarm_state() == "active" {
            return SwarmGuard { initialised: false, gwbridge_existed };
        }
        let (ok, text) = docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"]);
        assert!(ok, "docker swarm init failed: {text}");
        SwarmGuard { initialised: true, gwbridge_existed }
    }
}

impl Drop for SwarmGuard {
    fn drop(&mut self) {
        if self.initialised {
            let _ = docker(&["swarm", "leave", "--force"]);
            if !self.gwbridge_existed {
                let _ = docker(&["network", "rm", "docker_gwbridge"]);
            }
        }
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
                    let _ = env.remove_generators(Duration::from_secs(30)).await;
                    let _ = env.down(true).await;
                }
            });
        })
        .join();
    }
}

fn request(id: &str, profile: Profile, out: &Path, workers: u32) -> RunRequest {
    RunRequest {
        docker: DockerTarget {
            env_id: Some(id.to_string()),
            options: Some(UpOptions {
                api_port: 0,
                redis_port: 0,
                localstack_port: 0,
                api_binary: Some(env!("CARGO_BIN_EXE_terrafix-tui").into()),
                ..UpOptions::default()
            }),
        },
        profile,
        target: Target::Docker,
        output_root: out.to_path_buf(),
        seed: 11,
        time_scale: 1.0,
        target_options: Default::default(),
        distributed: NonZeroU32::new(workers),
        worker_network: Default::default(),
    }
}

fn only_phase(summary: &RunSummary) -> &PhaseSummary {
    assert_eq!(summary.experiments.len(), 1, "one phase");
    &summary.experiments[0]
}

/// Every interval of `.hlog` files added into one histogram with hdrhistogram itself.
fn union_of(paths: &[std::path::PathBuf]) -> hdrhistogram::Histogram<u64> {
    use base64::Engine as _;
    use hdrhistogram::serialization::Deserializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    let mut union = hdrhistogram::Histogram::<u64>::new(3).unwrap();
    let mut deserializer = Deserializer::new();
    for path in paths {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for entry in IntervalLogIterator::new(&bytes) {
            if let LogEntry::Interval(ih) = entry.expect("a well-formed interval log") {
                let raw = base64::engine::general_purpose::STANDARD.decode(ih.encoded_histogram()).unwrap();
                let h: hdrhistogram::Histogram<u64> =
                    deserializer.deserialize(&mut std::io::Cursor::new(raw)).unwrap();
                union.add(&h).unwrap();
            }
        }
    }
    union
}

fn our_leftovers(id: &str) -> Vec<String> {
    let label = format!("label=io.terrafix.env={id}");
    let mut left = Vec::new();
    let (_, services) = docker(&["service", "ls", "-q", "--filter", &label]);
    left.extend(services.lines().filter(|l| !l.is_empty()).map(|s| format!("service {s}")));
    let (_, containers) =
        docker(&["ps", "-aq", "--filter", &label, "--filter", "label=io.terrafix.service=generator"]);
    left.extend(containers.lines().filter(|l| !l.is_empty()).map(|c| format!("container {c}")));
    let (_, networks) = docker(&["network", "ls", "-q", "--filter", "name=generators", "--filter", &label]);
    left.extend(networks.lines().filter(|l| !l.is_empty()).map(|n| format!("network {n}")));
    left
}

#[test]
fn distributed_with_the_embedded_target_is_refused_with_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_terrafix-tui"))
        .args(["run", "smoke", "--distributed", "2", "--output"])
        .arg(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("embedded target") && stderr.contains("--target docker"), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_terrafix-tui"))
        .args(["run", "smoke", "--distributed", "2", "--target", "http://127.0.0.1:9/"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is the container itself"), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_terrafix-tui"))
        .args(["run", "smoke", "--distributed", "0", "--target", "docker"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// One test, in order, because a swarm is one per engine: the inactive message (when the
/// engine starts without a swarm), then three runs on a swarm this test sets up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distributed_runs_merge_exactly_hold_their_rate_and_survive_a_lost_worker() {
    let id = env_id();
    match DockerEnv::connect_with_id(&id).await {
        Ok(_) => {}
        Err(e) if std::env::var("TERRAFIX_SKIP_DOCKER").as_deref() == Ok("1") => {
            eprintln!("skipped: no Docker Engine ({e}) and TERRAFIX_SKIP_DOCKER=1");
            return;
        }
        Err(e) => panic!("this test needs a running Docker Engine: {e} (TERRAFIX_SKIP_DOCKER=1 skips it)"),
    }
    let _down = Down(id.clone());
    let out = tempfile::tempdir().unwrap();
    let wait = WaitStrategy::Constant(Duration::from_millis(50));

    // Swarm inactive: a clear message and a usage error, never a silent `swarm init`.
    if swarm_state() == "inactive" {
        let p = profile("dist-inactive", vec![closed_phase("p", webhook_only("w", wait), 3, 10.0, 2.0)]);
        let err = run_request(request(&id, p, out.path(), 2), RunControl::default()).await.err();
        match err {
            Some(RunError::Distributed(m)) => {
                assert!(m.contains("docker swarm init"), "{m}");
            }
            other => panic!("expected the Swarm message, got {:?}", other.map(|e| e.to_string())),
        }
        assert_eq!(swarm_state(), "inactive", "the run must not initialise a swarm itself");
    } else {
        eprintln!("note: this engine already runs a swarm, so the inactive message was not exercised here");
    }
    let _swarm = SwarmGuard::ensure();

    // 1. Three workers, closed model: merged == sum of workers == server; percentiles exact.
    let p = profile("dist-closed", vec![closed_phase("closed", webhook_only("w", wait), 7, 50.0, 6.0)]);
    let run =
        run_request(request(&id, p, out.path(), 3), RunControl::default()).await.expect("the run completes");
    let phase = only_phase(&run.summary);
    assert_eq!(run.summary.status, RunStatus::Completed);
    assert_eq!(phase.workers.len(), 3, "{:?}", phase.workers);
    let per_worker: u64 = phase.workers.iter().map(|w| w.requests).sum();
    assert!(phase.summary.total_requests > 100, "{}", phase.summary.total_requests);
    assert_eq!(per_worker, phase.summary.total_requests);
    let server = phase.server.as_ref().expect("the server's view");
    assert_eq!(
        server.total_requests,
        Some(phase.summary.total_requests),
        "the server counted what the workers sent"
    );
    assert!(phase.workers.iter().all(|w| w.requests > 0), "every worker sent: {:?}", phase.workers);
    let worker_logs: Vec<_> = phase.workers.iter().map(|w| run.dir.join(&w.hlog)).collect();
    let union = union_of(&worker_logs);
    assert_eq!(union.len(), phase.summary.total_requests);
    let merged_log = union_of(&[run.dir.join(&phase.files.hlog)]);
    assert_eq!(merged_log.len(), union.len());
    for (q, ours) in
        [(0.50, phase.latency_ms.p50), (0.95, phase.latency_ms.p95), (0.99, phase.latency_ms.p99)]
    {
        let theirs = union.value_at_quantile(q) as f64 / 1000.0;
        assert_eq!(ours, theirs, "p{} of the merge vs the union of the workers' logs", q * 100.0);
        assert_eq!(merged_log.value_at_quantile(q), union.value_at_quantile(q));
    }
    for w in &phase.workers {
        let text = std::fs::read_to_string(run.dir.join(&w.hlog)).unwrap();
        assert!(text.contains(&format!("Tag=worker-{},", w.worker)), "tagged log of worker {}", w.worker);
    }
    assert!(phase.connections.connects >= 3, "the workers' connects are counted: {:?}", phase.connections);
    assert!(
        phase.validity.as_ref().is_some_and(|v| v.cores >= 1),
        "the verdict is judged on the workers' own figures"
    );
    let report = run.summary.distributed.as_ref().expect("the distributed report");
    assert_eq!(report.workers, 3);
    assert!(report.lost.is_empty(), "{:?}", report.lost);
    let left = our_leftovers(&id);
    assert!(left.is_empty(), "left behind: {left:?}");

    // 2. Open model: 300 arrivals/s over three workers hold 300 ± 5 %.
    let p = profile("dist-open", vec![open_phase("open", webhook_only("w", wait), 300.0, 300, 10.0)]);
    let run =
        run_request(request(&id, p, out.path(), 3), RunControl::default()).await.expect("the run completes");
    let phase = only_phase(&run.summary);
    let rate = phase.summary.total_requests as f64 / phase.duration_s;
    assert!(
        (285.0..=315.0).contains(&rate),
        "achieved {rate:.1} req/s of 300 ({} in {:.2} s)",
        phase.summary.total_requests,
        phase.duration_s
    );
    assert_eq!(phase.summary.failure_count, 0);

    // 3. One worker's container killed mid-phase: the run completes with the others, the
    // lost worker is named with what it had sent, and nothing of ours is left.
    let p = profile("dist-kill", vec![closed_phase("kill", webhook_only("w", wait), 6, 50.0, 12.0)]);
    let control = RunControl::default();
    let run = tokio::spawn(run_request(request(&id, p, out.path(), 3), control.clone()));
    // Wait for the event that matters: a worker's log holds a few seconds of data.
    let victim = {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            assert!(tokio::time::Instant::now() < deadline, "the workers never got going");
            let found = glob_worker_log(out.path(), "kill.worker-2.hlog");
            if let Some(path) = found
                && std::fs::read_to_string(&path)
                    .map(|t| t.lines().filter(|l| l.starts_with("Tag=")).count())
                    .unwrap_or(0)
                    >= 3
            {
                let label = format!("label=io.terrafix.env={id}");
                let (_, list) = docker(&[
                    "ps",
                    "--filter",
                    &label,
                    "--filter",
                    "label=io.terrafix.service=generator",
                    "--format",
                    "{{.ID}} {{.Names}}",
                ]);
                // Task containers are named <service>.<slot>.<task id>.
                let slot_2 = list.lines().find_map(|l| {
                    let (cid, name) = l.split_once(' ')?;
                    (name.split('.').nth(1) == Some("2")).then(|| cid.to_string())
                });
                if let Some(c) = slot_2 {
                    break c;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let (ok, text) = docker(&["kill", &victim]);
    assert!(ok, "docker kill: {text}");
    let run = run.await.unwrap().expect("the run completes without the lost worker");
    let phase = only_phase(&run.summary);
    assert_eq!(run.summary.status, RunStatus::Completed);
    let lost: Vec<_> = phase.workers.iter().filter(|w| w.lost.is_some()).collect();
    assert_eq!(lost.len(), 1, "{:?}", phase.workers);
    assert_eq!(lost[0].worker, 2);
    assert!(lost[0].requests > 0, "its data up to the kill is kept");
    let report = run.summary.distributed.as_ref().unwrap();
    assert!(report.lost.iter().any(|l| l.starts_with("worker-2 ")), "{:?}", report.lost);
    assert!(phase.notes.iter().any(|n| n.starts_with("worker-2 ")), "{:?}", phase.notes);
    let per_worker: u64 = phase.workers.iter().map(|w| w.requests).sum();
    assert_eq!(per_worker, phase.summary.total_requests, "nothing else is lost");
    let server = phase.server.as_ref().unwrap().total_requests.expect("the server counts requests");
    assert!(server >= phase.summary.total_requests, "server {server} vs {}", phase.summary.total_requests);
    // Only what the killed worker had in flight or in its last second can be missing.
    assert!(
        server - phase.summary.total_requests <= 100,
        "server {server} vs {}",
        phase.summary.total_requests
    );
    let others: Vec<_> = phase.workers.iter().filter(|w| w.lost.is_none()).collect();
    assert!(others.iter().all(|w| w.requests > lost[0].requests), "{:?}", phase.workers);
    let left = our_leftovers(&id);
    assert!(left.is_empty(), "left behind: {left:?}");
}

fn glob_worker_log(root: &Path, file: &str) -> Option<std::path::PathBuf> {
    for run in std::fs::read_dir(root).ok()?.flatten() {
        let candidate = run.path().join("test").join(file);
        if candidate.exists() && run.file_name().to_string_lossy().ends_with("dist-kill") {
            return Some(candidate);
        }
    }
    None
}
