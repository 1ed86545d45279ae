//! `run --control`: the control API against a real bounded run of the binary (embedded
//! target), driven by a plain HTTP client: status, steering, extend and skip recorded in
//! the summary's `changes` with their source; the bearer token; the loopback-only rule.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use terrafix_tui::metrics::summary::{ChangeSource, RunStatus, RunSummary};

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");
const TOKEN: &str = "tok-SECRET-4f9a1c";

/// Two closed-model phases: a long first one (the test skips it) and a short second one.
fn write_profile(dir: &Path, first_s: u32) -> PathBuf {
    let path = dir.join("control.yaml");
    let text = format!(
        "name: control\npause_between_phases: 0s\nbehaviours:\n  b:\n    wait: {{ constant: 100ms }}\n    tasks: [ {{ kind: webhook }} ]\nphases:\n  - name: first\n    behaviour: b\n    users: 2\n    spawn_rate: 20\n    duration: {first_s}s\n  - name: second\n    behaviour: b\n    users: 1\n    spawn_rate: 20\n    duration: 2s\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Starts the run with the control API on a free loopback port; returns it and the base URL.
fn start(profile: &Path, out: &Path, extra: &[&str]) -> (Child, String, std::thread::JoinHandle<String>) {
    let mut child = Command::new(BIN)
        .arg("run")
        .arg(profile)
        .args(["--output", out.to_str().unwrap(), "--no-charts", "--control", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (base, rest) = read_base(stderr);
    (child, base, rest)
}

/// Reads stderr up to the `control API on http://…` line; the rest is collected by a thread.
fn read_base(stderr: ChildStderr) -> (String, std::thread::JoinHandle<String>) {
    let mut reader = BufReader::new(stderr);
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "no control API line in: {seen}");
        seen.push_str(&line);
        if let Some(rest) = line.trim().strip_prefix("control API on ") {
            let url = rest.split_whitespace().next().unwrap();
            let base = url.trim_end_matches("/v1/run").to_string();
            let collector = std::thread::spawn(move || {
                let mut rest = seen;
                let _ = std::io::Read::read_to_string(&mut reader, &mut rest);
                rest
            });
            return (base, collector);
        }
    }
}

fn client() -> reqwest::Client {
    terrafix_tui::engine::tls::install_provider();
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap()
}

async fn status(http: &reqwest::Client, base: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = http.get(format!("{base}/v1/run"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let code = response.status().as_u16();
    (code, response.json().await.unwrap_or(Value::Null))
}

/// Polls the status (bounded) until `ok` holds.
async fn wait_status(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    what: &str,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, body) = status(http, base, token).await;
        if code == 200 && ok(&body) {
            return body;
        }
        assert!(Instant::now() < deadline, "waited for {what}; last status {code}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn wait_exit(child: &mut Child) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        assert!(Instant::now() < deadline, "the run did not end");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn summary_of(out: &Path) -> (RunSummary, String) {
    let run_dir = std::fs::read_dir(out).unwrap().next().unwrap().unwrap().path();
    let path = run_dir.join("experiment_summary.json");
    (RunSummary::load(&path).unwrap(), std::fs::read_to_string(&path).unwrap())
}

/// Kills the run if the test fails before it ended, so no load outlives the test.
struct Reap<'a>(&'a mut Child);

impl Drop for Reap<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steer_extend_and_skip_through_the_api_are_recorded_in_changes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let (mut child, base, stderr) = start(&write_profile(dir.path(), 120), &out, &[]);
    let child = Reap(&mut child);
    let http = client();

    let running = wait_status(&http, &base, None, "the first phase", |s| {
        s["state"] == "running" && s["phase"]["index"] == 0
    })
    .await;
    assert_eq!(running["api_version"], 1);
    assert_eq!(running["phase"]["model"], "users");
    assert_eq!(running["phase_count"], 2);
    let document = http.get(format!("{base}/v1/openapi.json")).send().await.unwrap().text().await.unwrap();
    assert_eq!(document, terrafix_tui::control::OPENAPI_DOCUMENT);

    // The event stream opens with the run's start (caught up) and carries snapshots.
    let mut stream = http.get(format!("{base}/v1/run/events")).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    let mut seen = String::new();
    while !(seen.contains("event: run_started") && seen.contains("event: snapshot")) {
        let chunk = tokio::time::timeout(Duration::from_secs(30), stream.chunk()).await.unwrap().unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    drop(stream);

    let patch = http.patch(format!("{base}/v1/run")).json(&json!({"users": 4})).send().await.unwrap();
    assert_eq!(patch.status(), 202, "{:?}", patch.text().await);
    wait_status(&http, &base, None, "4 users", |s| s["load"]["users"] == 4).await;
    let wrong_model =
        http.patch(format!("{base}/v1/run")).json(&json!({"arrival_rate": 5})).send().await.unwrap();
    assert_eq!(wrong_model.status(), 409);
    let nonsense = http.patch(format!("{base}/v1/run")).body("{\"users\": -1}").send().await.unwrap();
    assert_eq!(nonsense.status(), 400);
    let extend =
        http.post(format!("{base}/v1/run/extend")).json(&json!({"seconds": 5})).send().await.unwrap();
    assert_eq!(extend.status(), 202);
    wait_status(&http, &base, None, "the extension", |s| s["phase"]["planned_s"] == 125.0).await;

    let skip = http.post(format!("{base}/v1/run/skip")).send().await.unwrap();
    assert_eq!(skip.status(), 202);
    wait_status(&http, &base, None, "the second phase", |s| s["phase"]["index"] == 1).await;

    assert_eq!(wait_exit(child.0), 0, "{}", stderr.join().unwrap());
    let (summary, _) = summary_of(&out);
    let first = &summary.experiments[0];
    assert!(first.duration_s < 60.0, "the first phase was skipped: {}", first.duration_s);
    let users: Vec<_> = first.changes.iter().filter(|c| c.users == Some(4)).collect();
    assert_eq!(users.len(), 1, "{:?}", first.changes);
    assert_eq!(users[0].source, Some(ChangeSource::Api));
    let extended: Vec<_> = first.changes.iter().filter(|c| c.extended_by_s == Some(5.0)).collect();
    assert_eq!(extended.len(), 1, "{:?}", first.changes);
    assert_eq!(extended[0].source, Some(ChangeSource::Api));
    assert!(summary.experiments[1].changes.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_missing_token_is_401_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let (mut child, base, stderr) = start(&write_profile(dir.path(), 3), &out, &["--control-token", TOKEN]);
    let child = Reap(&mut child);
    let http = client();

    wait_status(&http, &base, Some(TOKEN), "the first phase", |s| s["state"] == "running").await;
    assert_eq!(status(&http, &base, None).await.0, 401);
    assert_eq!(status(&http, &base, Some("tok-SECRET-4f9a1d")).await.0, 401);
    let patch = http
        .patch(format!("{base}/v1/run"))
        .bearer_auth("wrong-token-here")
        .json(&json!({"users": 9}))
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), 401);
    assert_eq!(patch.headers().get("www-authenticate").map(|v| v.to_str().unwrap()), Some("Bearer"));
    let abort = http.post(format!("{base}/v1/run/abort")).send().await.unwrap();
    assert_eq!(abort.status(), 401);
    let events = http.get(format!("{base}/v1/run/events")).send().await.unwrap();
    assert_eq!(events.status(), 401);

    assert_eq!(wait_exit(child.0), 0, "the run went on to its end");
    let log = stderr.join().unwrap();
    let (summary, text) = summary_of(&out);
    assert_eq!(summary.status, RunStatus::Completed);
    assert!(summary.experiments.iter().all(|p| p.changes.is_empty()), "a refused call changes nothing");
    assert!(!text.contains(TOKEN) && !log.contains(TOKEN), "the token is never written out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_lingers_after_the_run_with_its_final_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let (mut child, base, stderr) = start(&write_profile(dir.path(), 1), &out, &["--metrics-linger", "8s"]);
    let child = Reap(&mut child);
    let http = client();

    // Polled through the run's end: the API is still there once the run has finished.
    let last = wait_status(&http, &base, None, "the finished run", |s| s["state"] == "finished").await;
    let (summary, _) = summary_of(&out);
    assert_eq!(last["run_id"], summary.run_id.as_str());
    assert_eq!(last["verdict"]["passing"], summary.passed, "{last}");
    assert_eq!(last["verdict"]["phases"].as_array().map(Vec::len), Some(2), "{last}");
    let requests: u64 = summary.experiments.iter().map(|p| p.summary.total_requests).sum();
    assert_eq!(last["totals"]["requests"], requests, "{last}");

    // A reader joining after the end is caught up to `run_finished`, and its stream ends.
    let mut stream = http.get(format!("{base}/v1/run/events")).send().await.unwrap();
    let mut seen = String::new();
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(chunk) = stream.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream did not end after run_finished: {seen}");
    assert!(seen.contains("event: run_started") && seen.contains("event: run_finished"), "{seen}");

    // Nothing is left to steer, skip or abort.
    for path in ["/v1/run/skip", "/v1/run/abort"] {
        let answer = http.post(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(answer.status(), 409, "{path}");
    }
    let patch = http.patch(format!("{base}/v1/run")).json(&json!({"users": 3})).send().await.unwrap();
    assert_eq!(patch.status(), 409);

    assert_eq!(wait_exit(child.0), 0);
    let log = stderr.join().unwrap();
    assert!(log.contains("control API: the final status stays at /v1/run for 8 s"), "{log}");
    assert!(http.get(format!("{base}/v1/run")).send().await.is_err(), "the API stops after the linger");
    assert_eq!(summary_of(&out).0.status, RunStatus::Completed);
}

#[test]
fn binding_beyond_loopback_without_a_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let profile = write_profile(dir.path(), 1);
    for (args, says) in [
        (vec!["--control", "0.0.0.0:0"], "--control-token"),
        (vec!["--control", "127.0.0.1:0", "--control-token", "short"], "at least"),
        (vec!["--control", "localhost"], "--control"),
    ] {
        let o = Command::new(BIN)
            .arg("run")
            .arg(&profile)
            .args(["--output", out.to_str().unwrap(), "--no-charts"])
            .args(&args)
            .env_remove("TERRAFIX_CONTROL_TOKEN")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says) && !stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?}: a refused control address starts nothing");
    }
    let o = Command::new(BIN).args(["attach", "ftp://127.0.0.1:1"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("http://") && !stderr.contains("panicked"), "{stderr}");
}
