//! End to end: the real binary in tmux, in a temporary working directory. Checks that the TUI
//! starts, answers keys, quits (by `q` and by SIGTERM) and leaves the terminal as it found it;
//! and that choosing `smoke` with keys runs it against the embedded target to completion.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");

/// A tmux server of its own (own socket), so parallel tests and users' sessions do not mix.
struct Tmux {
    socket: String,
    dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts `terrafix-tui` in a `width`×`height` pane; after it exits the pane runs
    /// `stty -a` into `stty_after.txt` and prints `TUI-EXITED <code>`.
    fn start(name: &str, width: u16, height: u16) -> Tmux {
        Self::start_in(name, width, height, |_| {})
    }

    /// `start`, after `setup` has prepared the working directory (a `.env`, say).
    fn start_in(name: &str, width: u16, height: u16, setup: impl FnOnce(&Path)) -> Tmux {
        let version = Command::new("tmux").arg("-V").output();
        assert!(
            version.is_ok_and(|o| o.status.success()),
            "tmux is missing: install it (apt-get install tmux); scripts/test.sh does"
        );
        let dir = tempfile::tempdir().unwrap();
        setup(dir.path());
        let socket = format!("terrafix-e2e-{name}-{}", std::process::id());
        let script = format!("{BIN}; code=$?; stty -a > stty_after.txt; echo TUI-EXITED $code; sleep 120");
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "new-session",
                "-d",
                "-s",
                "e2e",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .arg("-c")
            .arg(dir.path())
            .args(["sh", "-c", &script])
            .env("TERM", "xterm-256color")
            .status()
            .unwrap();
        assert!(status.success(), "tmux new-session failed");
        Tmux { socket, dir }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "e2e"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            let status = Command::new("tmux")
                .args(["-L", &self.socket, "send-keys", "-t", "e2e", key])
                .status()
                .unwrap();
            assert!(status.success());
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Waits until the screen shows `text`; panics with the screen after `limit`.
    fn wait_for(&self, text: &str, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(start.elapsed() < limit, "{text:?} did not appear within {limit:?}; screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The pid of terrafix-tui, the child of the pane's shell.
    fn tui_pid(&self) -> u32 {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "display-message", "-p", "-t", "e2e", "#{pane_pid}"])
            .output()
            .unwrap();
        let shell: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children")).unwrap();
        children.split_whitespace().next().expect("terrafix-tui is not running").parse().unwrap()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// After the TUI exited: the terminal is back in cooked mode with echo (no raw mode left).
    fn assert_terminal_restored(&self) {
        let screen = self.wait_for("TUI-EXITED", Duration::from_secs(30));
        assert!(screen.contains("TUI-EXITED 0"), "the TUI did not exit cleanly:\n{screen}");
        let stty = std::fs::read_to_string(self.path("stty_after.txt")).unwrap();
        let flags: Vec<&str> = stty.split_whitespace().collect();
        for flag in ["icanon", "echo", "isig", "icrnl"] {
            assert!(flags.contains(&flag), "terminal left with -{flag} after exit:\n{stty}");
        }
        assert!(!screen.contains("1 Profiles"), "the alternate screen was not left:\n{screen}");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).status();
    }
}

#[test]
fn tui_answers_keys_quits_and_restores_the_terminal() {
    let tmux = Tmux::start("quit", 80, 24);
    tmux.wait_for("1 Profiles", Duration::from_secs(30));
    tmux.keys(&["?"]);
    tmux.wait_for("Keys: Profiles", Duration::from_secs(10));
    tmux.keys(&["Escape", "2"]);
    tmux.wait_for("Live server settings", Duration::from_secs(10));
    tmux.keys(&["4"]);
    tmux.wait_for("Runs (", Duration::from_secs(10));
    tmux.keys(&["q"]);
    tmux.assert_terminal_restored();
    assert!(
        tmux.path("experiment_results/terrafix-tui.log").exists(),
        "the log goes to a file in the results folder"
    );
}

/// `TERRAFIX_OUTPUT_DIR` from `.env` is the TUI's results root (its log goes there too).
#[test]
fn the_results_root_comes_from_terrafix_output_dir() {
    let tmux = Tmux::start_in("outdir", 80, 24, |dir| {
        std::fs::write(dir.join(".env"), "TERRAFIX_OUTPUT_DIR=from-dotenv\n").unwrap();
    });
    tmux.wait_for("1 Profiles", Duration::from_secs(30));
    tmux.keys(&["q"]);
    tmux.assert_terminal_restored();
    assert!(tmux.path("from-dotenv/terrafix-tui.log").exists(), "the log is in the results root");
    assert!(!tmux.path("experiment_results").exists(), "the default root is not used");
}

#[test]
fn sigterm_restores_the_terminal() {
    let tmux = Tmux::start("term", 100, 30);
    tmux.wait_for("1 Profiles", Duration::from_secs(30));
    let pid = tmux.tui_pid();
    let status = Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(status.success());
    tmux.assert_terminal_restored();
}

fn files_under(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { files_under(&path, found) } else { found.push(path) }
    }
}

#[test]
fn smoke_runs_end_to_end_from_the_profiles_screen() {
    let tmux = Tmux::start("smoke", 120, 40);
    tmux.wait_for("1 Profiles", Duration::from_secs(30));
    tmux.keys(&["/", "s", "m", "o", "k", "e", "Enter"]);
    tmux.wait_for("▶ smoke", Duration::from_secs(10));
    tmux.keys(&["Enter"]);
    tmux.wait_for("smoke → embedded", Duration::from_secs(10));
    // Bounded: the smoke profile takes well under a minute; the charts a few seconds more.
    let start = Instant::now();
    let screen = loop {
        let screen = tmux.screen();
        if screen.contains("charts in ") || screen.contains("charts failed") || screen.contains("✗ failed")
        {
            break screen;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "smoke did not finish within 120 s; screen:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(screen.contains("charts in "), "the run or its charts failed:\n{screen}");
    let mut files = Vec::new();
    files_under(&tmux.path("experiment_results"), &mut files);
    let has = |pred: &dyn Fn(&str) -> bool| files.iter().any(|f| pred(&f.to_string_lossy()));
    assert!(has(&|f| f.ends_with("_stats.csv")), "no *_stats.csv in {files:?}");
    assert!(has(&|f| f.ends_with("_stats_history.csv")), "no *_stats_history.csv in {files:?}");
    assert!(has(&|f| f.ends_with("experiment_summary.json")), "no experiment_summary.json in {files:?}");
    assert!(has(&|f| f.contains("/charts/") && f.ends_with(".png")), "no charts/*.png in {files:?}");
    tmux.keys(&["q"]);
    tmux.assert_terminal_restored();
}

/// The only `experiment_summary.json` under the TUI's results folder, once it says finished.
fn finished_summary(tmux: &Tmux) -> terrafix_tui::metrics::summary::RunSummary {
    let mut files = Vec::new();
    files_under(&tmux.path("experiment_results"), &mut files);
    let path = files.iter().find(|f| f.ends_with("experiment_summary.json")).expect("a summary");
    terrafix_tui::metrics::summary::RunSummary::load(path).unwrap()
}

#[test]
fn a_quick_run_from_the_form_is_steered_with_plus_and_the_change_is_in_the_summary() {
    let tmux = Tmux::start("steer", 120, 40);
    tmux.wait_for("1 Profiles", Duration::from_secs(30));
    tmux.keys(&["/", "s", "m", "o", "k", "e", "Enter"]);
    tmux.wait_for("▶ smoke", Duration::from_secs(10));
    // The form starts from smoke's first phase: smoke_mix, 5 users at 5/s.
    tmux.keys(&["n"]);
    tmux.wait_for("New run", Duration::from_secs(10));
    tmux.keys(&["Down", "Down", "Down", "Down", "BSpace", "BSpace", "1", "4", "s"]);
    tmux.wait_for("duration: 14s", Duration::from_secs(10));
    tmux.keys(&["Enter"]);
    tmux.wait_for("adhoc:smoke_mix → embedded", Duration::from_secs(20));
    tmux.wait_for("users 5  ", Duration::from_secs(20));
    tmux.keys(&["+"]);
    tmux.wait_for("users 6  ", Duration::from_secs(20));
    let start = Instant::now();
    let screen = loop {
        let screen = tmux.screen();
        if screen.contains("charts in ") || screen.contains("charts failed") || screen.contains("✗ failed")
        {
            break screen;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "the run did not finish; screen:\n{screen}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(screen.contains("charts in "), "{screen}");
    let summary = finished_summary(&tmux);
    let phase = &summary.experiments[0];
    assert_eq!((phase.name.as_str(), phase.suite.as_str()), ("smoke_mix", "adhoc"));
    let users: Vec<Option<u32>> = phase.changes.iter().map(|c| c.users).collect();
    assert_eq!(users, vec![Some(6)], "{:?}", phase.changes);
    assert!(phase.changes[0].at_s > 0.5 && phase.changes[0].at_s < 14.5, "{:?}", phase.changes);
    tmux.keys(&["q"]);
    tmux.assert_terminal_restored();
}

fn default_env_resources() -> Vec<String> {
    let mut found = Vec::new();
    for args in [
        &["ps", "-aq", "--filter", "label=io.terrafix.env=default"][..],
        &["network", "ls", "-q", "--filter", "label=io.terrafix.env=default"][..],
        &["volume", "ls", "-q", "--filter", "label=io.terrafix.env=default"][..],
    ] {
        let out = Command::new("docker").args(args).output().expect("the docker CLI runs");
        found.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter(|l| !l.is_empty())
                .map(|l| format!("{} {l}", args[0])),
        );
    }
    found
}

/// Quitting while `env up` is in flight asks first, then cancels it and waits for its
/// cleanup: no container, network or volume of the environment is left (issue 14 §2.2).
#[test]
fn quitting_during_env_up_leaves_nothing_behind() {
    if Command::new("docker").arg("info").output().map(|o| !o.status.success()).unwrap_or(true) {
        assert_eq!(
            std::env::var("TERRAFIX_SKIP_DOCKER").as_deref(),
            Ok("1"),
            "this test needs a running Docker Engine (TERRAFIX_SKIP_DOCKER=1 skips it)"
        );
        return;
    }
    // A data volume kept by an earlier `env down` (without --volumes) is the user's: it stays.
    let before = default_env_resources();
    assert!(
        before.iter().all(|r| r.starts_with("volume ")),
        "the default environment is up already ({before:?}): take it down with `terrafix-tui env down` first"
    );
    let tmux = Tmux::start("envquit", 120, 40);
    tmux.wait_for("1 Profiles", Duration::from_secs(30));
    tmux.keys(&["2"]);
    tmux.wait_for("Live server settings", Duration::from_secs(10));
    tmux.keys(&["u"]);
    // The event that matters: `up` has created something of the environment.
    let start = Instant::now();
    while default_env_resources().len() <= before.len() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "env up never started; screen:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    tmux.keys(&["q"]);
    tmux.wait_for("Docker work is in flight", Duration::from_secs(10));
    tmux.keys(&["y"]);
    tmux.assert_terminal_restored();
    let left: Vec<String> = default_env_resources().into_iter().filter(|r| !before.contains(r)).collect();
    assert!(left.is_empty(), "quitting during env up left {left:?}");
}

/// Issue 27: `u` offers the current user count (5) selected, so `8` replaces it: the run
/// gets 8 users, not 58, and the value is echoed with the one it replaces.
#[test]
fn typing_u_8_enter_sets_8_users_not_58() {
    let tmux = Tmux::start("usertype", 120, 40);
    tmux.wait_for("1 Profiles", Duration::from_secs(30));
    tmux.keys(&["/", "s", "m", "o", "k", "e", "Enter"]);
    tmux.wait_for("▶ smoke", Duration::from_secs(10));
    // smoke's first phase (smoke_mix, 5 users) as a one-phase run of 20 s on the embedded target.
    tmux.keys(&["n"]);
    tmux.wait_for("New run", Duration::from_secs(10));
    tmux.keys(&["Down", "Down", "Down", "Down", "2", "0", "s"]);
    tmux.wait_for("duration: 20s", Duration::from_secs(10));
    tmux.keys(&["Enter"]);
    tmux.wait_for("adhoc:smoke_mix → embedded", Duration::from_secs(20));
    tmux.wait_for("users 5  ", Duration::from_secs(20));
    tmux.keys(&["u"]);
    tmux.wait_for("set users: 5", Duration::from_secs(10));
    tmux.keys(&["8"]);
    tmux.wait_for("set users: 8 ", Duration::from_secs(10));
    tmux.keys(&["Enter"]);
    tmux.wait_for("users 8 (was 5)", Duration::from_secs(10));
    tmux.wait_for("users 8  ", Duration::from_secs(20));
    let start = Instant::now();
    let screen = loop {
        let screen = tmux.screen();
        if screen.contains("charts in ") || screen.contains("charts failed") || screen.contains("✗ failed")
        {
            break screen;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "the run did not finish; screen:\n{screen}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(screen.contains("charts in "), "{screen}");
    let summary = finished_summary(&tmux);
    let users: Vec<Option<u32>> = summary.experiments[0].changes.iter().map(|c| c.users).collect();
    assert_eq!(users, vec![Some(8)], "{:?}", summary.experiments[0].changes);
    tmux.keys(&["q"]);
    tmux.assert_terminal_restored();
}

/// A finished two-phase run (the real headless binary, 2 s per phase against the embedded
/// target) is opened on the Results screen at 80×24: Enter shows its first phase with the
/// charts and findings, → the second, Esc the list again.
#[test]
fn a_finished_run_opens_in_the_results_detail_with_its_phases_and_findings() {
    let tmux = Tmux::start_in("explorer", 80, 24, |dir| {
        let profile = dir.join("two.yaml");
        let text = "name: two\npause_between_phases: 0s\nbehaviours:\n  b:\n    wait: { constant: 20ms }\n    tasks: [ { kind: webhook } ]\nphases:\n  - name: first_phase\n    behaviour: b\n    users: 2\n    spawn_rate: 10\n    duration: 2s\n  - name: second_phase\n    behaviour: b\n    users: 4\n    spawn_rate: 10\n    duration: 2s\n";
        std::fs::write(&profile, text).unwrap();
        let out = Command::new(BIN)
            .current_dir(dir)
            .args(["run", "two.yaml", "--output", "experiment_results", "--no-charts"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    });
    tmux.wait_for("1 Profiles", Duration::from_secs(30));
    tmux.keys(&["4"]);
    tmux.wait_for("Runs (1)", Duration::from_secs(10));
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("phase 1/2", Duration::from_secs(20));
    assert!(screen.contains("first_phase"), "{screen}");
    assert!(screen.contains("req/s") && screen.contains("latency"), "the charts are drawn:\n{screen}");
    // The findings follow the verdict in the scrolling text: scroll (bounded) until seen.
    let mut screen = screen;
    for _ in 0..20 {
        if screen.contains("Findings (") {
            break;
        }
        tmux.keys(&["Down"]);
        screen = tmux.screen();
    }
    assert!(screen.contains("Findings ("), "no findings section within 20 lines:\n{screen}");
    tmux.keys(&["Right"]);
    let screen = tmux.wait_for("phase 2/2", Duration::from_secs(10));
    assert!(screen.contains("second_phase"), "{screen}");
    for line in screen.lines() {
        assert!(line.chars().count() <= 80, "a line wider than the terminal: {line:?}");
    }
    tmux.keys(&["Escape"]);
    tmux.wait_for("Enter detail", Duration::from_secs(10));
    tmux.keys(&["q"]);
    tmux.assert_terminal_restored();
}

/// `GET /metrics` on loopback with a plain socket; `None` while nothing answers.
fn scrape(port: u16) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    Some(text)
}

#[test]
fn the_metrics_run_setting_serves_metrics_while_the_tui_run_lasts() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let tmux = Tmux::start("metrics", 120, 40);
    tmux.wait_for("1 Profiles", Duration::from_secs(30));
    tmux.keys(&["/", "s", "m", "o", "k", "e", "Enter"]);
    tmux.wait_for("▶ smoke", Duration::from_secs(10));
    // Settings pane, then its last field: metrics.
    tmux.keys(&["l", "l"]);
    tmux.keys(&["j"; 20]);
    tmux.wait_for("serve /metrics here", Duration::from_secs(10));
    tmux.keys(&["Enter"]);
    let address = format!("127.0.0.1:{port}");
    let typed: Vec<String> = address.chars().map(String::from).collect();
    tmux.keys(&typed.iter().map(String::as_str).collect::<Vec<_>>());
    tmux.keys(&["Enter"]);
    tmux.wait_for(&format!("metrics: {address}"), Duration::from_secs(10));
    tmux.keys(&["r"]);
    tmux.wait_for("smoke → embedded", Duration::from_secs(10));
    let start = Instant::now();
    let served = loop {
        if let Some(text) = scrape(port).filter(|t| t.contains("terrafix_requests_total{")) {
            break text;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no counts at /metrics; screen:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(served.starts_with("HTTP/1.") && served.contains("terrafix_run_info{"), "{served}");
    tmux.wait_for(&format!("metrics: http://{address}/metrics"), Duration::from_secs(10));
    tmux.wait_for("charts in ", Duration::from_secs(120));
    // The linger ends with the TUI: after q, nothing listens there.
    tmux.keys(&["q"]);
    tmux.assert_terminal_restored();
    assert!(scrape(port).is_none(), "/metrics outlived the TUI");
}
