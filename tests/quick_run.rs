//! `run --behaviour` (a quick run without YAML), `--spawn-rate` and the other overrides,
//! and `--dry-run`, through the real binary against real loopback servers.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use terrafix_tui::metrics::summary::RunSummary;
use terrafix_tui::profile::{self, Load, QuickLoad, QuickRun};

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn tui(args: &[&str], cwd: &Path) -> Outcome {
    let o = Command::new(BIN).args(args).current_dir(cwd).output().unwrap();
    Outcome {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// The only run folder under `root`.
fn run_dir(root: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(dirs.len(), 1, "one run folder in {}: {dirs:?}", root.display());
    dirs[0].clone()
}

/// The run's files relative to its folder, with the phase name written as `{phase}`.
fn layout(dir: &Path, phase: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_string_lossy().replace(phase, "{phase}");
                out.insert(rel);
            }
        }
    }
    out
}

#[test]
fn a_quick_run_writes_what_a_profile_run_writes() {
    let dir = tempfile::tempdir().unwrap();
    // The same phase twice: as a quick run, and as a one-phase profile in suite adhoc.
    let quick_root = dir.path().join("quick");
    let out = tui(
        &[
            "run",
            "--behaviour",
            "burst",
            "--users",
            "3",
            "--spawn-rate",
            "3",
            "--duration",
            "2s",
            "--server-latency-ms",
            "5",
            "--repo-size",
            "small",
            "--output",
            quick_root.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let quick_dir = run_dir(&quick_root);
    let summary = RunSummary::load(&quick_dir.join("experiment_summary.json")).unwrap();
    assert_eq!(summary.profile, "adhoc");
    let phase = &summary.experiments[0];
    assert_eq!((phase.name.as_str(), phase.suite.as_str()), ("burst", "adhoc"));
    assert_eq!(phase.config.users, Some(3));
    assert_eq!(phase.config.spawn_rate, Some(3.0));
    assert!(phase.summary.total_requests > 0, "it sent requests");

    let yaml = dir.path().join("one.yaml");
    std::fs::write(
        &yaml,
        "name: one\nphases:\n  - { name: solo, suite: adhoc, behaviour: burst, users: 3, spawn_rate: 3, duration: 2s, repo_size: small, server: { latency_ms: 5 } }\n",
    )
    .unwrap();
    let profile_root = dir.path().join("profile");
    let out = tui(&["run", yaml.to_str().unwrap(), "--output", profile_root.to_str().unwrap()], dir.path());
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let quick_files = layout(&quick_dir, "burst");
    assert_eq!(quick_files, layout(&run_dir(&profile_root), "solo"));
    for needed in ["adhoc/{phase}_stats.csv", "adhoc/{phase}.hlog", "experiment_summary.html"] {
        assert!(quick_files.contains(needed), "{needed} in {quick_files:?}");
    }
    assert!(quick_files.iter().any(|f| f.starts_with("charts/") && f.ends_with(".png")), "{quick_files:?}");
}

#[test]
fn an_open_model_quick_run_and_a_profile_defined_behaviour() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("mine.yaml");
    std::fs::write(
        &yaml,
        "name: mine\nbehaviours:\n  pinger:\n    tasks: [ { kind: health, name: \"/health [pinger]\" } ]\nphases:\n  - { name: x, behaviour: pinger, users: 1, duration: 1s }\n",
    )
    .unwrap();
    let root = dir.path().join("r");
    let out = tui(
        &[
            "run",
            yaml.to_str().unwrap(),
            "--behaviour",
            "pinger",
            "--arrival-rate",
            "40",
            "--max-in-flight",
            "8",
            "--duration",
            "2s",
            "--no-charts",
            "--output",
            root.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let summary = RunSummary::load(&run_dir(&root).join("experiment_summary.json")).unwrap();
    let phase = &summary.experiments[0];
    assert_eq!(phase.name, "pinger");
    assert_eq!(phase.config.arrival_rate_from, Some(40.0));
    assert!(phase.summary.total_requests >= 20, "about 80 arrivals in 2 s: {}", phase.summary.total_requests);
    assert!(phase.requests.iter().all(|r| r.name == "/health [pinger]"), "{:?}", phase.requests);
}

/// A serve process on a free port, stopped on drop.
struct Serve(std::process::Child, u16);

impl Serve {
    fn start() -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(BIN)
            .args(["serve", "--port", &port.to_string(), "--latency-ms", "3"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "serve did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Serve(child, port)
    }

    fn get(&self, path: &str) -> serde_json::Value {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.1)).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn dry_run_prints_the_plan_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start();
    let before = server.get("/status");
    let target = format!("http://127.0.0.1:{}", server.1);
    let root = dir.path().join("r");
    let out = tui(
        &[
            "run",
            "smoke",
            "--target",
            &target,
            "--users",
            "4",
            "--spawn-rate",
            "2",
            "--server-latency-ms",
            "70",
            "--time-scale",
            "0.5",
            "--header",
            "X-Token: secret-value",
            "--dry-run",
            "--output",
            root.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    let plan = &out.stdout;
    for expected in
        ["dry run", "smoke_mix", "4 users @ 2/s", "latency_ms=70", "3s", &target, "X-Token", "pause"]
    {
        assert!(plan.contains(expected), "{expected:?} in the plan:\n{plan}");
    }
    assert!(!plan.contains("secret-value"), "header values are not printed:\n{plan}");
    assert!(plan.contains("10 req/s") || plan.contains("10→40"), "the open phase keeps its rate:\n{plan}");
    assert!(!root.exists(), "no results folder is made");
    let after = server.get("/status");
    assert_eq!(before["config"], after["config"], "no /configure was sent");
    assert_eq!(after["stats"]["total_requests"], 0, "not a single request reached the server: {after}");
}

#[test]
fn bad_quick_runs_and_overrides_exit_2_and_start_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("r");
    let r = root.to_str().unwrap();
    let cases: [(&[&str], &str); 8] = [
        (&["run", "--behaviour", "nope", "--output", r], "known: throughput, burst"),
        (&["run", "--behaviour", "burst", "--users", "0", "--output", r], "--users \"0\""),
        (&["run", "--behaviour", "burst", "--duration", "5x", "--output", r], "--duration"),
        (&["run", "--behaviour", "burst", "--arrival-rate", "0", "--output", r], "--arrival-rate"),
        (
            &["run", "--behaviour", "burst", "--arrival-rate", "5", "--spawn-rate", "2", "--output", r],
            "--spawn-rate",
        ),
        (&["run", "smoke", "--spawn-rate=-1", "--output", r], "--spawn-rate"),
        (&["run", "smoke", "--phase", "smoke_open", "--users", "3", "--output", r], "arrival rate"),
        (
            &["run", "--behaviour", "burst", "--repo-size", "huge", "--output", r],
            "small, medium, large, mixed",
        ),
    ];
    for (args, expected) in cases {
        let out = tui(args, dir.path());
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(expected), "{args:?}: {expected:?} in {}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        assert!(!root.exists(), "{args:?} started nothing");
    }
    let out = tui(&["run", "--output", r], dir.path());
    assert_eq!(out.code, Some(2), "a profile or --behaviour is needed: {}", out.stderr);
}

#[test]
fn quick_run_yaml_written_to_a_file_loads_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    let quick = QuickRun {
        load: QuickLoad::Closed { users: 12, spawn_rate: Some(4.0) },
        duration: Duration::from_secs(95),
        server_latency_ms: Some(25.0),
        server_failure_rate: Some(0.05),
        ..QuickRun::closed("mixed", 12)
    };
    let path = dir.path().join("mixed-quick.yaml");
    std::fs::write(&path, quick.to_yaml(None).unwrap()).unwrap();
    let out = tui(&["profiles", "validate", path.to_str().unwrap()], dir.path());
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let loaded = profile::load_file(&path).unwrap();
    let direct = quick.to_profile(None).unwrap();
    assert_eq!(format!("{:?}", loaded.phases), format!("{:?}", direct.phases));
    assert_eq!(loaded.phases[0].load, Load::Closed { users: 12.try_into().unwrap(), spawn_rate_per_s: 4.0 });
}

#[test]
fn the_tui_writes_a_form_as_a_profile_that_loads_back_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let quick = QuickRun {
        load: QuickLoad::Open { rate: 75.0, max_in_flight: Some(30) },
        ..QuickRun::closed("smoke_mix", 1)
    };
    let first = profile::write_quick(&quick, Some("smoke"), None, &dir.path().join("profiles")).unwrap();
    let second = profile::write_quick(&quick, Some("smoke"), None, &dir.path().join("profiles")).unwrap();
    assert_eq!(first.file_name().unwrap(), "smoke_mix-quick.yaml");
    assert_eq!(second.file_name().unwrap(), "smoke_mix-quick-2.yaml", "the first file is kept");
    let out = tui(&["profiles", "validate", second.to_str().unwrap()], dir.path());
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("smoke_mix-quick-2"), "{}", out.stdout);
    // It is found by name from ./profiles, like any profile.
    let out = tui(&["run", "smoke_mix-quick", "--dry-run"], dir.path());
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("75 req/s"), "{}", out.stdout);
}
