//! `compare` on real runs against the embedded mock: an A/A check, a known slowdown
//! (50 ms against 70 ms), the `--fail-if-slower` exit codes and bad input, the last two
//! through the real binary; on fixture runs (no load), a generator-bound side (not
//! comparable, a gate on it exits 2 unless --allow-invalid) and differences of set-up
//! listed above the table.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod common;
mod report_fixture;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use report_fixture::{Fixture, write_run};
use terrafix_tui::experiment::{RunControl, Target};
use terrafix_tui::metrics::compare::{Comparison, Metric, Settings, Verdict};
use terrafix_tui::metrics::summary::{
    LagStats, PhaseChange, PhaseSummary, RunSummary, SUMMARY_FILE, Validity,
};
use terrafix_tui::profile::{Profile, ServerSettings, WaitStrategy};
use terrafix_tui::report::compare::compare_runs;

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");

/// Eight users against a server answering in `latency_ms`, for ten seconds: a few hundred
/// responses a second, enough seconds for the tails' intervals on a busy machine, little CPU.
fn steady(latency_ms: f64) -> Profile {
    let b = webhook_only("steady", WaitStrategy::Constant(Duration::from_millis(10)));
    let mut phase = closed_phase("steady", b, 8, 100.0, 10.0);
    phase.server =
        ServerSettings { latency_ms: Some(latency_ms), per_resource_ms: Some(0.0), ..Default::default() };
    profile("steady", vec![phase])
}

fn compare(a: &Path, b: &Path) -> Comparison {
    let mut warnings = Vec::new();
    let c = compare_runs(a, b, &[], &Settings::default(), &mut warnings).expect("both are runs");
    assert!(warnings.is_empty(), "{warnings:?}");
    // Shown with --nocapture, and on failure: how close the intervals came.
    println!("{}", terrafix_tui::report::compare::table(&c));
    c
}

fn binary(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(BIN).arg("compare").args(args).output().expect("the binary starts");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

fn os(s: &str) -> &std::ffi::OsStr {
    std::ffi::OsStr::new(s)
}

/// Two runs at once, so that both see the same machine: on a shared box a run made a
/// minute later can meet a different load, and that is a real difference, not noise.
async fn two_runs(a: (Profile, Target), b: (Profile, Target), root: &Path) -> (PathBuf, PathBuf) {
    let (out_a, out_b) = (root.join("a"), root.join("b"));
    let (ra, rb) = tokio::join!(
        run_collect(a.0, a.1, &out_a, RunControl::default()),
        run_collect(b.0, b.1, &out_b, RunControl::default())
    );
    (ra.dir, rb.dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_profile_against_the_same_server_shows_no_difference() {
    let root = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(terrafix_tui::mock::serve(
        listener,
        terrafix_tui::mock::MockConfig::default(),
        stop.clone().cancelled_owned(),
    ));
    let target = || Target::parse(&base).unwrap();
    let (a, b) = two_runs((steady(20.0), target()), (steady(20.0), target()), root.path()).await;
    stop.cancel();
    server.await.unwrap().unwrap();
    let c = compare(&a, &b);
    assert_eq!(c.phases.len(), 1);
    let phase = &c.phases[0];
    assert!(phase.seconds_a >= 5 && phase.seconds_b >= 5, "{phase:?}");
    for m in &phase.metrics {
        assert_eq!(m.verdict, Verdict::NoDetectableDifference, "{m:?}");
        assert!(m.change_interval_pct.is_some_and(|i| i.contains(0.0)), "{m:?}");
    }
    // Nothing slower, so a gate of 0 % passes through the binary too.
    let (code, out, err) = binary(&[a.as_os_str(), b.as_os_str(), os("--fail-if-slower"), os("0%")]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("no detectable difference") && out.contains("PASS"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seventy_ms_against_fifty_is_slower_and_trips_the_gate() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) =
        two_runs((steady(50.0), Target::Embedded), (steady(70.0), Target::Embedded), root.path()).await;
    let c = compare(&a, &b);
    let phase = &c.phases[0];
    for metric in [Metric::P50, Metric::P99] {
        let m = phase.metric(metric).unwrap();
        assert_eq!(m.verdict, Verdict::Slower, "{m:?}");
        let i = m.change_interval_pct.unwrap();
        assert!(i.low > 0.0, "the interval must exclude zero: {m:?}");
        // 70 / 50 is +40 % at the server; the client adds a little to both.
        if metric == Metric::P50 {
            assert!((20.0..=50.0).contains(&m.change_pct.unwrap()), "{m:?}");
        }
    }
    assert_eq!(phase.metric(Metric::Rps).unwrap().verdict, Verdict::Slower, "fewer responses per user");

    let (a, b) = (a.as_os_str(), b.as_os_str());
    let (code, out, err) = binary(&[a, b, os("--fail-if-slower"), os("10%")]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("FAIL: p99 of phase steady"), "{out}");
    let (code, out, err) = binary(&[a, b, os("--fail-if-slower"), os("10%"), os("--on"), os("p50")]);
    assert_eq!(code, 1, "{out}\n{err}");
    // Slower, but by less than the limit: passes.
    let (code, out, err) = binary(&[a, b, os("--fail-if-slower"), os("90%")]);
    assert_eq!(code, 0, "{out}\n{err}");
    // The other way round B is faster: passes.
    let (code, out, err) = binary(&[b, a, os("--fail-if-slower"), os("10%")]);
    assert_eq!(code, 0, "{out}\n{err}");

    let chart = root.path().join("compare.png");
    let (code, out, err) = binary(&[a, b, os("--json"), os("--chart"), chart.as_os_str()]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("stdout is one JSON document");
    let p50 = &json["phases"][0]["metrics"][1];
    assert_eq!(p50["metric"], "p50");
    assert_eq!(p50["verdict"], "slower");
    assert!(p50["change_interval_pct"]["low"].as_f64().unwrap() > 0.0, "{p50}");
    assert_eq!(json["method"]["resamples"], 2000);
    assert_eq!(json["gate"], serde_json::Value::Null, "no gate asked for");
    let png = std::fs::read(&chart).expect("compare.png written");
    assert_eq!(&png[1..4], b"PNG");
    // The gate's outcome is in the JSON too, and its FAIL lines go to stderr.
    let (code, out, err) = binary(&[a, b, os("--json"), os("--fail-if-slower"), os("10%")]);
    assert_eq!(code, 1, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("stdout is one JSON document");
    assert_eq!(json["gate"]["passed"], false);
    assert_eq!(json["gate"]["breaches"][0]["phase"], "steady");
    assert!(err.contains("FAIL: p99"), "{err}");
    // A chart that cannot be written is the caller's mistake (2), never "slower" (1).
    let nowhere = root.path().join("no-such-folder").join("compare.png");
    let (code, _, err) = binary(&[a, b, os("--chart"), nowhere.as_os_str()]);
    assert_eq!(code, 2, "{err}");
}

/// Copies a run folder's summary (and nothing else) to `to`, edited by `edit`.
fn edited_copy(run: &Path, to: &Path, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    std::fs::create_dir_all(to).unwrap();
    let text = std::fs::read_to_string(run.join("experiment_summary.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut v);
    std::fs::write(to.join("experiment_summary.json"), v.to_string()).unwrap();
    to.to_path_buf()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_one_line_naming_the_folder_and_exit_2() {
    let root = tempfile::tempdir().unwrap();
    let b = webhook_only("short", WaitStrategy::Constant(Duration::from_millis(20)));
    let run = run_collect(
        profile("short", vec![closed_phase("short", b, 2, 10.0, 1.0)]),
        Target::Embedded,
        &root.path().join("runs"),
        RunControl::default(),
    )
    .await
    .dir;
    let empty = root.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let future = edited_copy(&run, &root.path().join("future"), |v| v["schema_version"] = 99.into());
    let renamed = edited_copy(&run, &root.path().join("renamed"), |v| {
        // Schema 2: `experiments` is keyed by suite.
        if let Some(list) = v["experiments"].as_object_mut().and_then(|suites| suites.values_mut().next()) {
            list[0]["name"] = "other".into();
        }
    });
    let missing = root.path().join("does-not-exist");
    let cases: [(&Path, &Path, &str); 4] = [
        (&empty, &run, "not a run folder"),
        (&run, &missing, "not a run folder"),
        (&run, &future, "unknown summary schema"),
        (&run, &renamed, "no phase in common"),
    ];
    for (a, b, reason) in cases {
        let (code, out, err) = binary(&[a.as_os_str(), b.as_os_str()]);
        assert_eq!(code, 2, "{a:?} {b:?}: {out}\n{err}");
        assert!(out.is_empty(), "{out}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.contains(reason), "{err}");
        let named = if reason == "no phase in common" || a == run.as_path() { b } else { a };
        assert!(err.contains(&named.display().to_string()), "{err} should name {named:?}");
    }
    let (code, _, err) = binary(&[run.as_os_str(), run.as_os_str(), os("--phase"), os("nope")]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("phase `nope` is not in both"), "{err}");
    let (code, _, err) = binary(&[run.as_os_str(), run.as_os_str(), os("--fail-if-slower"), os("lots")]);
    assert_eq!(code, 2, "{err}");
    // A run whose .hlog is gone is still compared: a warning, and no verdict for the phase.
    let bare = edited_copy(&run, &root.path().join("bare"), |_| {});
    let (code, out, err) = binary(&[run.as_os_str(), bare.as_os_str()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning:") && err.contains("short.hlog: missing"), "{err}");
    assert!(out.contains("no per-second histograms") && out.contains("not enough data"), "{out}");
    // A one-second phase is too short for intervals: compared, but no verdict claimed.
    let (code, out, err) = binary(&[run.as_os_str(), run.as_os_str(), os("--fail-if-slower"), os("0")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("not enough data"), "{out}");
}

/// Copies a whole run folder (summary, histograms) to `to`, then edits its summary.
fn run_copy(run: &Path, to: &Path, edit: impl FnOnce(&mut RunSummary)) -> PathBuf {
    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
    copy_dir(run, to);
    let path = to.join(SUMMARY_FILE);
    let mut summary = RunSummary::load(&path).unwrap();
    edit(&mut summary);
    std::fs::write(&path, serde_json::to_string_pretty(&summary).unwrap()).unwrap();
    to.to_path_buf()
}

fn generator_bound(phase: &mut PhaseSummary) {
    phase.validity = Some(Validity {
        verdict: "generator-bound".into(),
        reasons: vec!["p99 schedule lag 81.0 ms: arrivals went out late (limit 10 ms)".into()],
        generator_cpu_s: 1.0,
        generator_cpu_share: 0.4,
        cores: 2,
        schedule_lag_ms: Some(LagStats { p50_ms: 4.0, p99_ms: 81.0, max_ms: 95.0 }),
        worst_stall_ms: 12.0,
        live_bound_s: None,
    });
}

/// Two fixture runs (no load: the same seeded data each time): B's first phase reads the
/// histograms of a phase twice as slow, so B is detectably slower there.
fn fixture_pair(root: &Path) -> (PathBuf, PathBuf) {
    let f = Fixture { phases: 4, seconds_per_phase: 20, ..Fixture::default() };
    let (a, b) = (root.join("fixture-a"), root.join("fixture-b"));
    write_run(&a, f);
    write_run(&b, f);
    let b = run_copy(&b, &root.join("fixture-b-slow"), |s| {
        s.experiments[0].files.hlog = s.experiments[3].files.hlog.clone();
    });
    (a, b)
}

const FIRST: &str = "throughput_baseline";

#[test]
fn a_generator_bound_side_is_not_comparable_and_a_gate_on_it_exits_2() {
    let root = tempfile::tempdir().unwrap();
    let (a, b) = fixture_pair(root.path());
    let busy_a = run_copy(&a, &root.path().join("busy-a"), |s| generator_bound(&mut s.experiments[0]));
    let c = compare(&busy_a, &b);
    let phase = c.phases.iter().find(|p| p.name == FIRST).unwrap();
    assert!(phase.invalid_a && !phase.invalid_b, "{phase:?}");
    for m in phase.metrics.iter().filter(|m| m.metric != Metric::Rps) {
        assert_eq!(m.verdict, Verdict::NotComparable, "{m:?}");
        assert_eq!(m.verdict_if_valid, Some(Verdict::Slower), "the statistics' verdict is kept: {m:?}");
    }
    assert!(c.phases.iter().filter(|p| p.name != FIRST).all(|p| p.not_comparable.is_none()));
    let table = terrafix_tui::report::compare::table(&c);
    let p99_row = table.lines().find(|l| l.contains("p99")).expect("a p99 row");
    assert!(p99_row.contains(" !"), "A's value is marked: {table}");
    assert!(p99_row.ends_with("not comparable: A was generator-bound (p99 schedule lag 81.0 ms)"), "{table}");
    assert!(table.contains("! marks a run whose phase was not valid"), "{table}");
    assert!(c.differs.is_empty(), "the same set-up: {:?}", c.differs);

    let (busy_a, b) = (busy_a.as_os_str(), b.as_os_str());
    // A gate judged on a generator-bound phase is neither a pass nor a fail.
    let (code, out, err) = binary(&[busy_a, b, os("--fail-if-slower"), os("10%")]);
    assert_eq!(code, 2, "{out}\n{err}");
    assert!(out.contains("NOT JUDGED") && !out.contains("PASS"), "{out}");
    assert!(
        out.contains("p99 of phase throughput_baseline is not comparable: A was generator-bound"),
        "{out}"
    );
    // Allowed, it judges the statistics: B is twice as slow (1); the other way round it passes (0).
    let (code, out, err) = binary(&[busy_a, b, os("--fail-if-slower"), os("10%"), os("--allow-invalid")]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("FAIL: p99 of phase throughput_baseline") && out.contains("judged anyway"), "{out}");
    let (code, out, err) = binary(&[b, busy_a, os("--fail-if-slower"), os("10%"), os("--allow-invalid")]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("PASS"), "{out}");
    // Leaving the phase out judges the rest as usual.
    let (code, out, err) =
        binary(&[busy_a, b, os("--fail-if-slower"), os("10%"), os("--phase"), os("throughput_high")]);
    assert_eq!(code, 0, "{out}\n{err}");
    // --allow-invalid alone is a usage mistake: it only qualifies a gate.
    let (code, _, err) = binary(&[busy_a, b, os("--allow-invalid")]);
    assert_eq!(code, 2, "{err}");
    // The JSON carries the verdict and the gate's reason too.
    let (code, out, _) = binary(&[busy_a, b, os("--json"), os("--fail-if-slower"), os("10%")]);
    assert_eq!(code, 2);
    let json: serde_json::Value = serde_json::from_str(&out).expect("stdout is one JSON document");
    assert_eq!(json["phases"][0]["metrics"][3]["verdict"], "not_comparable");
    assert_eq!(json["phases"][0]["metrics"][3]["verdict_if_valid"], "slower");
    assert_eq!(json["gate"]["not_comparable"][0]["phase"], FIRST);
}

#[test]
fn differences_of_set_up_are_listed_above_the_table() {
    let root = tempfile::tempdir().unwrap();
    let (a, _) = fixture_pair(root.path());
    let a = run_copy(&a, &root.path().join("small"), |s| {
        s.experiments[0].config.repo_size = Some("small".into())
    });
    // A medium repository against a small one, with users steered to 58 mid-phase.
    let other = run_copy(&a, &root.path().join("steered"), |s| {
        let p = &mut s.experiments[0];
        p.config.repo_size = Some("medium".into());
        p.changes = vec![PhaseChange { at_s: 4.0, users: Some(58), ..Default::default() }];
        s.tool_version = "0.0.1-other".into();
        s.profile = "other".into();
    });
    let c = compare(&a, &other);
    assert_eq!(
        c.differs,
        vec![
            "profile fixture → other".to_string(),
            "tool version 0.1.0 → 0.0.1-other".to_string(),
            "phase throughput_baseline: repo size small → medium".to_string(),
            "phase throughput_baseline: steering none → users → 58 at 4 s".to_string(),
        ]
    );
    let table = terrafix_tui::report::compare::table(&c);
    let differs = table.lines().find(|l| l.starts_with("differs: ")).expect("a differs line");
    assert!(differs.contains("repo size small → medium") && differs.contains("users → 58"), "{differs}");
    assert!(table.find("differs: ").unwrap() < table.find("phase ").unwrap(), "above the table: {table}");
    let (code, out, _) = binary(&[a.as_os_str(), other.as_os_str(), os("--json")]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).expect("stdout is one JSON document");
    assert_eq!(json["differs"].as_array().map(Vec::len), Some(4), "{}", json["differs"]);
}
