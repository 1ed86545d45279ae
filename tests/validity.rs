//! The validity verdict: an ordinary run is `valid`; a generator asked for far more than it
//! can send is `generator-bound`, with the reason, and `fail_on_invalid` fails the run.

mod common;

use common::*;
use terrafix_tui::experiment::{RunControl, Target};
use terrafix_tui::profile;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ordinary_run_is_valid_and_says_what_the_generator_used() {
    let out = tempfile::tempdir().unwrap();
    // The limits leave room for a machine busy with other tests (a 27 ms p99 lag was seen at
    // load average 6 on two cores); the starved case below is off by orders of magnitude.
    let yaml = "name: calm\nvalidity: { max_open_lag_ms: 250, max_lag_share: 2.5, max_stall_ms: 1000 }\nbehaviours:\n  b:\n    wait: { constant_pacing: 100ms }\n    tasks: [ { kind: webhook } ]\nphases:\n  - { name: calm, behaviour: b, users: 3, duration: 3s, server: { latency_ms: 5 } }\n  - { name: calm_open, behaviour: b, arrival_rate: 30, max_in_flight: 50, duration: 3s, server: { latency_ms: 5 } }\n";
    let profile = profile::parse_str(yaml, "calm", "calm.yaml").unwrap();
    let run = run_collect(profile, Target::Embedded, out.path(), RunControl::default()).await;
    for phase in &run.summary.experiments {
        let v = phase.validity.as_ref().expect("every phase has a verdict");
        assert!(v.is_valid(), "{}: {v:?}", phase.name);
        assert!(v.reasons.is_empty());
        assert!(v.cores >= 1 && v.generator_cpu_s >= 0.0 && v.generator_cpu_share < 0.9, "{v:?}");
        let lag = v.schedule_lag_ms.as_ref().expect("paced and open phases measure their lag");
        assert!(lag.p99_ms < 250.0, "{}: {lag:?}", phase.name);
        assert!(phase.validity_line().unwrap().starts_with("valid"), "{:?}", phase.validity_line());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generator_asked_for_far_more_than_it_can_send_is_generator_bound() {
    let out = tempfile::tempdir().unwrap();
    // 300,000 arrivals a second for 1 s: more than two cores can schedule, let alone send.
    let yaml = "name: starved\nfail_on_invalid: true\nbehaviours:\n  b:\n    tasks: [ { kind: health } ]\nphases:\n  - name: flood\n    behaviour: b\n    arrival_rate: 300000\n    max_in_flight: 64\n    duration: 1s\n    thresholds: { p99_ms: 10000 }\n";
    let profile = profile::parse_str(yaml, "starved", "starved.yaml").unwrap();
    let run = run_collect(profile, Target::Embedded, out.path(), RunControl::default()).await;
    let phase = &run.summary.experiments[0];
    let v = phase.validity.as_ref().unwrap();
    assert_eq!(v.verdict, "generator-bound", "{v:?}");
    assert!(
        v.reasons.iter().any(|r| r.contains("schedule lag") || r.contains("dropped")),
        "the reason is in words: {v:?}"
    );
    assert!(phase.thresholds.iter().all(|t| t.untrustworthy), "{:?}", phase.thresholds);
    assert!(!run.summary.passed, "fail_on_invalid: a generator-bound phase fails the run");
    let line = phase.validity_line().unwrap();
    assert!(line.starts_with("GENERATOR-BOUND") && line.contains("untrustworthy"), "{line}");
}

#[test]
fn more_users_than_the_machine_can_hold_exit_2_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("huge.yaml");
    std::fs::write(
        &yaml,
        "name: huge\nbehaviours:\n  b:\n    tasks: [ { kind: health } ]\nphases:\n  - { name: huge, behaviour: b, users: 10000000, spawn_rate: 1000000, duration: 5s }\n",
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
    assert!(stderr.contains("users 10000000") && stderr.contains("ulimit -n"), "{stderr}");
    assert!(stderr.contains("at or below"), "says how many it can hold: {stderr}");
    let started = std::fs::read_dir(dir.path().join("r")).map(|mut d| d.next().is_some()).unwrap_or(false);
    assert!(!started, "nothing was started");
}
