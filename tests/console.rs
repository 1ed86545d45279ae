//! The headless console of `run` through the real binary: every message once, a pipe gets
//! plain lines (no `\r`, no escapes, at most about one progress line a second), `--quiet`
//! and `--verbose`, the seed printed and written to the summary, and in a real 80-column
//! terminal (tmux) no line wider than the pane and no event glued to the progress line.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");

/// A profile of one phase: 5 users posting a webhook every 100 ms for `duration`, with
/// `failure_rate` of them answered 500 by the embedded mock.
fn write_profile(dir: &Path, duration: &str, failure_rate: f64) -> PathBuf {
    let path = dir.join("console_check.yaml");
    let text = format!(
        "name: console_check\npause_between_phases: 0s\nbehaviours:\n  b:\n    wait: {{ constant: 100ms }}\n    \
         tasks: [ {{ kind: webhook }} ]\nphases:\n  - {{ name: only_phase_of_a_console_check, behaviour: b, users: 5, \
         duration: {duration}, server: {{ latency_ms: 1, failure_rate: {failure_rate} }}, \
         thresholds: {{ p99_ms: 5000 }} }}\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Runs `run PROFILE --no-charts --output DIR/out EXTRA…` with stdout and stderr piped.
fn run(dir: &Path, profile: &Path, extra: &[&str]) -> Output {
    let start = Instant::now();
    let o = Command::new(BIN)
        .args(["run", profile.to_str().unwrap(), "--no-charts", "--output"])
        .arg(dir.join("out"))
        .args(extra)
        .env_remove("COLUMNS")
        .output()
        .unwrap();
    Output {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

/// The one summary under `dir/out`.
fn summary(dir: &Path) -> serde_json::Value {
    let runs: Vec<PathBuf> = std::fs::read_dir(dir.join("out"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let text = std::fs::read_to_string(runs[0].join("experiment_summary.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_message_is_printed_once() {
    let dir = tempfile::tempdir().unwrap();
    let profile = write_profile(dir.path(), "2s", 0.0);
    let out = run(dir.path(), &profile, &["--verbose"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let both = format!("{}{}", out.stdout, out.stderr);
    assert_eq!(both.matches("target restored").count(), 1, "{both}");
    // No line of the output (progress lines aside) appears twice.
    let mut seen = std::collections::HashSet::new();
    for line in both.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('[')) {
        assert!(seen.insert(line), "printed twice: {line:?}\n{both}");
    }
}

#[test]
fn a_pipe_gets_plain_lines_at_most_one_progress_line_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let profile = write_profile(dir.path(), "4s", 0.2);
    let out = run(dir.path(), &profile, &[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    for stream in [&out.stdout, &out.stderr] {
        assert!(
            !stream.contains('\r') && !stream.contains('\x1b'),
            "control characters in a pipe: {stream:?}"
        );
    }
    let progress = out.stdout.lines().filter(|l| l.starts_with("[1/1 ")).count();
    let seconds = out.elapsed.as_secs_f64();
    assert!(progress >= 2, "progress lines expected:\n{}", out.stdout);
    assert!(progress as f64 <= seconds + 1.0, "{progress} progress lines in {seconds:.1} s:\n{}", out.stdout);
    assert!(out.stdout.contains("! "), "request errors are shown as events:\n{}", out.stdout);
    // The end table fits 80 columns when stdout is not a terminal and COLUMNS is unset.
    let table: Vec<&str> =
        out.stdout.lines().skip_while(|l| !l.starts_with("phase ")).take_while(|l| !l.is_empty()).collect();
    assert!(table.len() >= 2, "a table with a header and a row:\n{}", out.stdout);
    for line in table.iter().take_while(|l| !l.starts_with("checks")) {
        assert!(line.chars().count() <= 80, "wider than 80: {line:?}\n{}", out.stdout);
    }
    assert!(out.stdout.contains("p99_ms"), "the checks are listed:\n{}", out.stdout);
    assert!(out.stdout.contains("POST"), "the endpoints are listed:\n{}", out.stdout);
}

#[test]
fn quiet_prints_the_verdict_alone_and_verbose_the_details() {
    let dir = tempfile::tempdir().unwrap();
    let profile = write_profile(dir.path(), "2s", 0.0);
    let quiet = run(dir.path(), &profile, &["--quiet"]);
    assert_eq!(quiet.code, 0, "{}\n{}", quiet.stdout, quiet.stderr);
    let lines: Vec<&str> = quiet.stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line with --quiet: {:?}", quiet.stdout);
    assert!(lines[0].starts_with("PASS"), "{lines:?}");
    assert!(quiet.stderr.trim().is_empty(), "nothing went wrong, so stderr is empty: {}", quiet.stderr);

    let normal = run(dir.path(), &profile, &[]);
    let verbose = run(dir.path(), &profile, &["--verbose"]);
    for detail in ["connects", "valid (generator CPU"] {
        assert!(verbose.stdout.contains(detail), "--verbose shows {detail:?}:\n{}", verbose.stdout);
        assert!(!normal.stdout.contains(detail), "without --verbose no {detail:?}:\n{}", normal.stdout);
    }
    let last = |s: &str| s.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default().to_string();
    assert!(last(&normal.stdout).starts_with("PASS"), "the verdict is the last line:\n{}", normal.stdout);
    assert!(last(&verbose.stdout).starts_with("PASS"), "the verdict is the last line:\n{}", verbose.stdout);
}

#[test]
fn the_seed_is_printed_at_the_start_and_written_to_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let profile = write_profile(dir.path(), "1s", 0.0);
    let out = run(dir.path(), &profile, &[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let seed = summary(dir.path())["seed"].as_u64().expect("a seed in the summary");
    let first = out.stdout.lines().find(|l| l.contains("seed")).unwrap_or_default();
    assert!(first.contains(&format!("seed {seed}")), "the random seed is printed: {first:?}\n{}", out.stdout);
    assert!(out.stdout.contains(&format!("--seed {seed}")), "and how to repeat it:\n{}", out.stdout);
    let verdict = out.stdout.lines().last().unwrap_or_default();
    assert!(verdict.ends_with(&format!("seed {seed}")), "and in the verdict: {verdict:?}");

    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &profile, &["--seed", "7"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(summary(dir.path())["seed"], 7);
    assert!(out.stdout.contains("seed 7"), "{}", out.stdout);
}

/// A tmux server of its own (own socket) with one `width`×24 pane running `script`.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, width: u16, dir: &Path, script: &str) -> Tmux {
        let version = Command::new("tmux").arg("-V").output();
        assert!(
            version.is_ok_and(|o| o.status.success()),
            "tmux is missing: install it (apt-get install tmux); scripts/test.sh does"
        );
        let socket = format!("terrafix-console-{name}-{}", std::process::id());
        let status = Command::new("tmux")
            .args(["-L", &socket, "new-session", "-d", "-s", "c", "-x", &width.to_string(), "-y", "24"])
            .arg("-c")
            .arg(dir)
            .args(["sh", "-c", script])
            .env("TERM", "xterm-256color")
            .env_remove("COLUMNS")
            .status()
            .unwrap();
        assert!(status.success(), "tmux new-session failed");
        // Keep what scrolls off the pane, so the whole run can be read back.
        let _ =
            Command::new("tmux").args(["-L", &socket, "set-option", "-g", "history-limit", "5000"]).status();
        Tmux { socket }
    }

    /// The pane with its history; `-J` joins wrapped rows, so a row the terminal wrapped
    /// reads back as the one long line it was.
    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-J", "-S", "-", "-t", "c"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

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
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).status();
    }
}

#[test]
fn in_an_80_column_terminal_nothing_is_wider_and_nothing_is_glued() {
    let dir = tempfile::tempdir().unwrap();
    let profile = write_profile(dir.path(), "5s", 0.2);
    let script = format!(
        "{BIN} run {} --no-charts --output out; echo RUN-EXITED $?; sleep 120",
        profile.to_str().unwrap()
    );
    let tmux = Tmux::start("narrow", 80, dir.path(), &script);
    let screen = tmux.wait_for("RUN-EXITED", Duration::from_secs(90));
    assert!(screen.contains("RUN-EXITED 0"), "{screen}");
    for line in screen.lines() {
        assert!(
            line.chars().count() <= 80,
            "wider than the pane ({}): {line:?}\n{screen}",
            line.chars().count()
        );
        // The progress line starts `[1/1 `; an event printed onto it would follow it.
        if let Some(at) = line.find("[1/1 ") {
            assert_eq!(at, 0, "progress glued after other text: {line:?}\n{screen}");
            for event in ["✔", "! ", "▶", "target restored"] {
                assert!(
                    !line.contains(event),
                    "event {event:?} glued to the progress line: {line:?}\n{screen}"
                );
            }
        }
    }
    assert!(screen.contains("! "), "the run had request errors to show:\n{screen}");
    assert!(screen.contains("✔ "), "the phase's end is shown:\n{screen}");
}
