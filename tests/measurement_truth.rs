//! Numbers that cannot mislead (issue 25, items 3–7), through the real binary and the real
//! runner: settings that survive a target restart, out-of-range settings refused before
//! load, `--users` keeping each phase's ramp, a run whose every request failed exiting 1,
//! and one voice for the validity verdict.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod mock_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use terrafix_tui::experiment::{self, Event, RunChannels, RunControl, RunRequest, Target};
use terrafix_tui::metrics::Snapshot;
use terrafix_tui::metrics::summary::SettingsApplied;
use terrafix_tui::mock::{self, MockConfig};

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");

/// A profile file in `dir` with one behaviour `b` (a webhook every `wait`) and `phases`
/// (YAML list items, one per line).
fn write_profile(dir: &Path, name: &str, extra: &str, phases: &[&str]) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    let mut text = format!(
        "name: {name}\npause_between_phases: 0s\n{extra}behaviours:\n  b:\n    wait: {{ constant: 100ms }}\n    tasks: [ {{ kind: webhook }} ]\nphases:\n"
    );
    for p in phases {
        text.push_str(&format!("  - {p}\n"));
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the binary; (exit code, stdout, stderr).
fn run_bin(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(BIN).args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

// Item 5: `--users 30` on a phase without `spawn_rate` starts all 30 at once, as the
// README says, instead of at the old user count per second.
#[test]
fn users_override_without_spawn_rate_starts_them_all_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let profile = write_profile(
        dir.path(),
        "ramp",
        "",
        &[
            "{ name: at_once, behaviour: b, users: 2, duration: 3s }",
            "{ name: ramped, behaviour: b, users: 5, spawn_rate: 1, duration: 10s }",
        ],
    );
    let (code, out, err) = run_bin(&["run", profile.to_str().unwrap(), "--users", "30", "--dry-run"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let row = |phase: &str| out.lines().find(|l| l.contains(phase)).unwrap_or_default().to_string();
    assert!(row("at_once").contains("30 users @ 30/s"), "{out}");
    assert!(row("ramped").contains("30 users @ 6/s"), "{out}");
}

/// The last non-empty line of a run's standard output.
fn last_line(out: &str) -> &str {
    out.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default()
}

// Item 6: a run in which every request failed, with no threshold set, exits 1 and says why
// on its last line; `fail_on_request_errors: false` lets it pass, explicitly.
#[test]
fn a_run_whose_every_request_failed_exits_1_and_says_so_last() {
    let dir = tempfile::tempdir().unwrap();
    let phase = "{ name: all_fail, behaviour: b, users: 2, duration: 2s, server: { latency_ms: 1, failure_rate: 1.0 } }";
    let failing = write_profile(dir.path(), "failing", "", &[phase]);
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let (code, stdout, stderr) =
        run_bin(&["run", failing.to_str().unwrap(), "--no-charts", "--output", out_s]);
    assert_eq!(code, 1, "every request failed: exit 1\n{stdout}\n{stderr}");
    assert!(
        last_line(&stdout).starts_with("FAILED: every request of phase all_fail failed"),
        "the last line says why: {stdout}"
    );

    let opted_out = write_profile(dir.path(), "opted", "fail_on_request_errors: false\n", &[phase]);
    let (code, stdout, stderr) =
        run_bin(&["run", opted_out.to_str().unwrap(), "--no-charts", "--output", out_s]);
    assert_eq!(code, 0, "fail_on_request_errors: false opts out\n{stdout}\n{stderr}");
    assert!(!stdout.contains("FAILED:"), "{stdout}");
}

// Item 4: out-of-range settings are refused before load, with the place (file:line:col) or
// the flag, by the bounds the mock itself enforces (ten minutes of milliseconds).
#[test]
fn out_of_range_settings_are_refused_before_load() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let stall = write_profile(
        dir.path(),
        "stall",
        "",
        &[
            "{ name: p, behaviour: b, users: 1, duration: 2s, faults: [ { at: 1s, for: 1s, server: { stall_ms: 1e300 } } ] }",
        ],
    );
    let (code, stdout, stderr) =
        run_bin(&["run", stall.to_str().unwrap(), "--no-charts", "--output", out.to_str().unwrap()]);
    assert_eq!(code, 2, "a usage error, nothing started\n{stdout}\n{stderr}");
    assert!(stderr.contains("stall.yaml:8:"), "file:line:col of the value: {stderr}");
    assert!(stderr.contains("stall_ms") && stderr.contains("600000"), "the field and the bound: {stderr}");
    assert!(!out.exists(), "no run folder: nothing was started");

    let workers = write_profile(
        dir.path(),
        "slots",
        "",
        &["{ name: p, behaviour: b, users: 1, duration: 2s, server: { workers: 2000000 } }"],
    );
    let (code, _, stderr) = run_bin(&["run", workers.to_str().unwrap(), "--dry-run"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("workers") && stderr.contains("1000000"), "{stderr}");

    for args in [
        &["run", "smoke", "--server-latency-ms", "1e308", "--dry-run"][..],
        &["run", "--behaviour", "burst", "--users", "1", "--server-latency-ms", "1e308", "--dry-run"][..],
    ] {
        let (code, _, stderr) = run_bin(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains("--server-latency-ms 1e308") && stderr.contains("600000"),
            "{args:?}: {stderr}"
        );
    }
}

/// Polls `url`'s `/status` until `latency_ms` in its config is `want` (bounded): the
/// restarted server is only known to have its settings once it reports them.
async fn wait_for_latency(client: &reqwest::Client, url: &str, want: f64) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(6);
    while tokio::time::Instant::now() < deadline {
        if let Ok(r) = client.get(format!("{url}/status")).send().await
            && let Ok(doc) = r.json::<serde_json::Value>().await
            && doc["config"]["latency_ms"].as_f64() == Some(want)
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

// Item 3: the mock killed and restarted on the same port during a phase gets the phase's
// settings again (not its own 77 ms), and the summary says they held for part of the phase.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_restarted_mid_phase_gets_the_phases_settings_again() {
    let quick =
        MockConfig { latency_ms: 77.0, drain_timeout: Duration::from_millis(200), ..MockConfig::default() };
    let first = mock_support::Server::start(quick.clone()).await;
    let base = first.base.clone();
    let yaml = "name: restart\npause_between_phases: 0s\nbehaviours:\n  b:\n    wait: { constant: 50ms }\n    tasks: [ { kind: webhook } ]\nphases:\n  - { name: held, behaviour: b, users: 2, duration: 6s, server: { latency_ms: 5 } }\n";
    let out = tempfile::tempdir().unwrap();
    let request = RunRequest {
        profile: terrafix_tui::profile::parse_str(yaml, "restart", "restart.yaml").unwrap(),
        target: Target::parse(&base).unwrap(),
        output_root: out.path().to_path_buf(),
        seed: 7,
        time_scale: 1.0,
        docker: Default::default(),
        target_options: Default::default(),
        distributed: None,
        worker_network: Default::default(),
    };
    let (events_tx, mut events) = tokio::sync::mpsc::channel(4096);
    let (snap_tx, mut snapshots) = tokio::sync::watch::channel(Snapshot::default());
    let run = tokio::spawn(experiment::run(
        request,
        RunChannels { events: events_tx, snapshots: snap_tx, series: None },
        RunControl::default(),
    ));
    // The phase has started and its first requests were answered: its settings are in place.
    while let Some(event) = events.recv().await {
        if matches!(event, Event::PhaseStarted { .. }) {
            break;
        }
    }
    tokio::time::timeout(Duration::from_secs(5), snapshots.wait_for(|s| s.total_requests > 0))
        .await
        .expect("requests within 5 s")
        .unwrap();
    let client = first.client.clone();
    assert!(wait_for_latency(&client, &base, 5.0).await, "the phase's settings were sent");
    first.shutdown().await;
    // Drain the events meanwhile, so the run never waits on a full queue.
    let drain = tokio::spawn(async move { while events.recv().await.is_some() {} });
    let addr = base.trim_start_matches("http://").to_string();
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let second = tokio::spawn(mock::serve(listener, quick, stop.clone().cancelled_owned()));
    assert!(
        wait_for_latency(&client, &base, 5.0).await,
        "the restarted target got the phase's latency_ms 5 again, not its own 77"
    );
    let (summary, _) = tokio::time::timeout(Duration::from_secs(20), run).await.unwrap().unwrap().unwrap();
    stop.cancel();
    let _ = second.await;
    let _ = drain.await;
    let phase = &summary.experiments[0];
    assert_eq!(phase.settings_applied, Some(SettingsApplied::Partial), "{phase:?}");
    let held = phase.settings_held.as_ref().expect("which settings held, for what share");
    assert!(held.share > 0.0 && held.share < 1.0, "{held:?}");
    assert_eq!(held.settings["latency_ms"].as_f64(), Some(5.0), "{held:?}");
    assert!(
        phase.notes.iter().any(|n| n.contains("restarted") && n.contains("sent again")),
        "the moment is in the phase's notes: {:?}",
        phase.notes
    );
}
