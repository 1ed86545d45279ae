//! The headless `run` through the real binary: exit codes 0 (pass), 1 (a threshold
//! failed), 2 (usage error, nothing started), and what SIGTERM and a second SIGINT do.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use terrafix_tui::metrics::summary::{RunStatus, RunSummary};

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");

fn write_profile(dir: &Path, p99_limit_ms: f64, seconds: u32) -> PathBuf {
    let path = dir.join("exit.yaml");
    let text = format!(
        "name: exit\npause_between_phases: 0s\nbehaviours:\n  b:\n    wait: {{ constant: 50ms }}\n    tasks: [ {{ kind: webhook }} ]\nphases:\n  - name: only\n    behaviour: b\n    users: 2\n    spawn_rate: 10\n    duration: {seconds}s\n    server: {{ latency_ms: 20 }}\n    thresholds: {{ p99_ms: {p99_limit_ms} }}\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn run(args: &[&str], out: &Path) -> (i32, String) {
    let o = Command::new(BIN).args(args).arg("--output").arg(out).arg("--no-charts").output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn spawn(profile: &Path, out: &Path) -> Child {
    Command::new(BIN)
        .arg("run")
        .arg(profile)
        .arg("--output")
        .arg(out)
        .arg("--no-charts")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits (bounded) until the run folder's summary exists; returns its path.
fn wait_for_summary(out: &Path) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(path) = std::fs::read_dir(out)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .map(|e| e.path().join("experiment_summary.json"))
            .filter(|p| RunSummary::load(p).is_ok())
        {
            return path;
        }
        assert!(Instant::now() < deadline, "no summary appeared in {}", out.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on our own child's pid; no memory is touched.
    let rc = unsafe { libc::kill(child.id() as i32, sig) };
    assert_eq!(rc, 0);
}

fn wait_exit(child: &mut Child) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        assert!(Instant::now() < deadline, "the run did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn pass_fail_and_usage_errors_have_their_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let pass = write_profile(dir.path(), 5000.0, 2);
    assert_eq!(run(&["run", pass.to_str().unwrap()], &out).0, 0);
    let fail = write_profile(dir.path(), 1.0, 2);
    assert_eq!(run(&["run", fail.to_str().unwrap()], &out).0, 1, "p99 under 1 ms cannot hold at 20 ms");
    let before = std::fs::read_dir(&out).unwrap().count();
    for bad in [
        vec!["run", "smoke", "--time-scale", "1e20"],
        vec!["run", "smoke", "--time-scale", "0"],
        vec!["run", "smoke", "--users", "0"],
        vec!["run", "smoke", "--duration", "soon"],
        vec!["run", "no-such-profile"],
        vec!["run", "smoke", "--header", "no colon here"],
        vec!["run", "smoke", "--header", "Bad Name: x"],
        vec!["run", "smoke", "--header", "X-Token: ${TERRAFIX_SURELY_UNSET_TOKEN}"],
        vec!["run", "smoke", "--ca-cert", "/nonexistent/ca.pem"],
        vec!["run", "smoke", "--ca-cert", "/etc/hostname"],
        vec!["run", "smoke", "--timeout", "0s"],
        vec!["run", "smoke", "--timeout", "forever"],
        vec!["run", "smoke", "--target", "ftp://127.0.0.1:21"],
        vec!["run", "smoke", "--with-localstack"],
        vec!["run", "smoke", "--source-address", "not-an-ip"],
        // TEST-NET-1: never an address of this machine.
        vec!["run", "smoke", "--source-address", "192.0.2.1"],
        vec!["run", "smoke", "--source-address", "127.0.0.2", "--distributed", "2"],
    ] {
        let (code, stderr) = run(&bad, &out);
        assert_eq!(code, 2, "{bad:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{bad:?}: {stderr}");
        assert!(stderr.lines().count() <= 3, "one clear message for {bad:?}: {stderr}");
    }
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), before, "a usage error starts nothing");

    // `env up` refuses API settings the mock would refuse, before Docker is asked anything.
    for bad in [
        vec!["env", "up", "--latency-ms=-5"],
        vec!["env", "up", "--latency-ms", "NaN"],
        vec!["env", "up", "--failure-rate", "1.5"],
        vec!["env", "up", "--health-timeout", "0"],
    ] {
        let o = Command::new(BIN).args(&bad).env("DOCKER_HOST", "unix:///nonexistent.sock").output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {stderr}");
        assert!(!stderr.contains("panicked") && !stderr.contains("nonexistent.sock"), "{bad:?}: {stderr}");
    }

    // An output folder that cannot be made: exit 2, the OS error said once.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let (code, stderr) = run(&["run", pass.to_str().unwrap()], &file.join("results"));
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.matches("Not a directory").count(), 1, "{stderr}");
    assert!(stderr.contains("--output"), "{stderr}");
}

#[test]
fn sigterm_stops_the_run_and_writes_an_aborted_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let mut child = spawn(&write_profile(dir.path(), 5000.0, 120), &out);
    let summary = wait_for_summary(&out);
    signal(&child, libc::SIGTERM);
    let code = wait_exit(&mut child);
    assert_eq!(code, 1, "an aborted run does not pass");
    let s = RunSummary::load(&summary).unwrap();
    assert_eq!(s.status, RunStatus::Aborted);
    assert!(!s.finished_at.is_empty());
    assert_eq!(s.experiments.len(), 1, "the phase that was cut short is kept");
}

#[test]
fn a_second_interrupt_quits_at_once_with_130() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    // A phase whose users wait on a 5 s server latency: the graceful stop takes a while.
    let path = dir.path().join("slow.yaml");
    std::fs::write(
        &path,
        "name: slow\nbehaviours:\n  b:\n    tasks: [ { kind: webhook } ]\nphases:\n  - name: only\n    behaviour: b\n    users: 2\n    duration: 120s\n    server: { latency_ms: 5000 }\n",
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .arg("run")
        .arg(&path)
        .arg("--output")
        .arg(&out)
        .arg("--no-charts")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let summary = wait_for_summary(&out);
    // Wait for the phase to begin (its history file appears), so requests are in flight and
    // the graceful stop has something to wait for.
    // A history row with a user counted means a request is on its 5 s way (the file itself
    // exists before the first user starts).
    let history = summary.parent().unwrap().join("slow/only_stats_history.csv");
    let deadline = Instant::now() + Duration::from_secs(60);
    let user_counted = || {
        std::fs::read_to_string(&history).is_ok_and(|text| {
            text.lines()
                .skip(1)
                .any(|l| l.split(',').nth(1).and_then(|u| u.parse::<u32>().ok()).is_some_and(|u| u >= 1))
        })
    };
    while !user_counted() {
        assert!(Instant::now() < deadline, "the phase never started a user");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&child, libc::SIGINT);
    // The second interrupt goes after the first was seen (two at once could merge into one).
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let seen = stderr.by_ref().any(|line| line.is_ok_and(|l| l.contains("stopping the run")));
    assert!(seen, "the first SIGINT was announced");
    // Keep reading, so the child's last lines do not meet a closed pipe.
    let drain = std::thread::spawn(move || stderr.count());
    signal(&child, libc::SIGINT);
    assert_eq!(wait_exit(&mut child), 130);
    drain.join().unwrap();
}

#[test]
fn serve_with_an_unusable_redis_url_is_a_usage_error() {
    for url in ["notaurl", "http://127.0.0.1:6379", "redis://"] {
        let o = Command::new(BIN)
            .args(["serve", "--port", "0", "--redis-url", url])
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{url}: {err}");
        assert!(err.contains("--redis-url") && err.contains("redis://"), "{url}: {err}");
        assert!(!err.contains("mock TerraFix API on"), "{url}: refused before it says it serves: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{url}: one line: {err}");
    }
}
