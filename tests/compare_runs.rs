//! `compare` on real runs against the embedded mock: an A/A check, a known slowdown
//! (50 ms against 70 ms), the `--fail-if-slower` exit codes and bad input, the last two
//! through the real binary.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use terrafix_tui::experiment::{RunControl, Target};
use terrafix_tui::metrics::compare::{Comparison, Metric, Settings, Verdict};
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
