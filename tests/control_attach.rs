//! `terrafix-tui attach`: the real binary in tmux, attached to a real `run --control` of
//! the binary. The attached Run screen follows the phase change; its `+` reaches the
//! run's `changes` (source `attach`); `q` detaches and the run goes on to its end.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use terrafix_tui::metrics::summary::{ChangeSource, RunStatus, RunSummary};

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");

/// A tmux server of its own (own socket), running `terrafix-tui attach URL`.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn attach(url: &str, dir: &Path) -> Tmux {
        let version = Command::new("tmux").arg("-V").output();
        assert!(version.is_ok_and(|o| o.status.success()), "tmux is missing: apt-get install tmux");
        let socket = format!("terrafix-attach-{}", std::process::id());
        let script = format!("{BIN} attach {url}; echo ATTACH-EXITED $?; sleep 120");
        let status = Command::new("tmux")
            .args(["-L", &socket, "new-session", "-d", "-s", "e2e", "-x", "160", "-y", "48"])
            .arg("-c")
            .arg(dir)
            .args(["sh", "-c", &script])
            .env("TERM", "xterm-256color")
            .env_remove("TERRAFIX_CONTROL_TOKEN")
            .status()
            .unwrap();
        assert!(status.success(), "tmux new-session failed");
        Tmux { socket }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "e2e"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn key(&self, key: &str) {
        let status =
            Command::new("tmux").args(["-L", &self.socket, "send-keys", "-t", "e2e", key]).status().unwrap();
        assert!(status.success());
    }

    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "{text:?} did not appear; screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).status();
    }
}

/// Starts the run (a long first phase, a 3 s second one) with the control API; returns
/// it and the API's base URL.
fn start_run(dir: &Path) -> (Child, String) {
    let profile = dir.join("attach.yaml");
    std::fs::write(
        &profile,
        "name: attach\npause_between_phases: 0s\nbehaviours:\n  b:\n    wait: { constant: 100ms }\n    tasks: [ { kind: webhook } ]\nphases:\n  - name: alpha\n    behaviour: b\n    users: 2\n    spawn_rate: 20\n    duration: 120s\n  - name: omega\n    behaviour: b\n    users: 1\n    spawn_rate: 20\n    duration: 3s\n",
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .arg("run")
        .arg(&profile)
        .args(["--output", dir.join("results").to_str().unwrap(), "--no-charts", "--control", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let url = read_url(stderr);
    (child, url)
}

/// Reads stderr up to the `control API on http://…` line, then drains the rest in a thread
/// so the run never blocks on a full pipe.
fn read_url(stderr: std::process::ChildStderr) -> String {
    let mut reader = BufReader::new(stderr);
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "the run printed no control API line");
        if let Some(rest) = line.trim().strip_prefix("control API on ") {
            let url = rest.split_whitespace().next().unwrap().trim_end_matches("/v1/run").to_string();
            std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
            return url;
        }
    }
}

async fn users_now(http: &reqwest::Client, base: &str) -> u64 {
    let status: serde_json::Value =
        http.get(format!("{base}/v1/run")).send().await.unwrap().json().await.unwrap();
    status["load"]["users"].as_u64().unwrap_or(0)
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
async fn an_attached_tui_follows_the_phase_and_its_plus_reaches_the_runs_changes() {
    terrafix_tui::engine::tls::install_provider();
    let dir = tempfile::tempdir().unwrap();
    let (mut run, base) = start_run(dir.path());
    let run = Reap(&mut run);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let tmux = Tmux::attach(&base, dir.path());

    tmux.wait_for("phase 1/2 alpha");
    let deadline = Instant::now() + Duration::from_secs(60);
    while users_now(&http, &base).await != 2 {
        assert!(Instant::now() < deadline, "the run never reached its 2 users");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tmux.key("+");
    while users_now(&http, &base).await != 3 {
        assert!(
            Instant::now() < deadline,
            "the attached TUI's + did not reach the run; screen:\n{}",
            tmux.screen()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let skip = http.post(format!("{base}/v1/run/skip")).send().await.unwrap();
    assert_eq!(skip.status(), 202);
    tmux.wait_for("phase 2/2 omega");
    tmux.key("q");
    tmux.wait_for("ATTACH-EXITED 0");

    let deadline = Instant::now() + Duration::from_secs(60);
    let code = loop {
        if let Some(status) = run.0.try_wait().unwrap() {
            break status.code();
        }
        assert!(Instant::now() < deadline, "the run did not end after the detach");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(code, Some(0), "detaching left the run going to its end");
    let run_dir = std::fs::read_dir(dir.path().join("results")).unwrap().next().unwrap().unwrap().path();
    let summary = RunSummary::load(&run_dir.join("experiment_summary.json")).unwrap();
    assert_eq!(summary.status, RunStatus::Completed);
    let changes = &summary.experiments[0].changes;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].users, Some(3));
    assert_eq!(changes[0].source, Some(ChangeSource::Attach));
}
