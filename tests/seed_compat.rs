//! Compatibility with the seed harness's users: the schema-2 `experiment_summary.json`
//! (golden file, read back, read by a stdlib-only Python script the way the seed's readers
//! do) and schema-1 folders still loading in `charts` and `compare`.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::path::{Path, PathBuf};
use std::process::Command;

use terrafix_tui::metrics::summary::{RunSummary, SUMMARY_SCHEMA_VERSION};

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn binary(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let o = Command::new(BIN).args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A schema-1 file (written by the previous build) comes out as the golden schema-2 file,
/// and the golden file reads back to the same summary. `UPDATE_GOLDEN=1` rewrites it after an
/// intended change to the summary's fields.
#[test]
fn schema_2_golden_and_round_trip() {
    let v1 =
        RunSummary::load(&fixtures().join("schema1-run/experiment_summary.json")).expect("schema 1 loads");
    assert_eq!(v1.schema_version, 1);
    assert_eq!(v1.experiments.len(), 3);
    let written = serde_json::to_string_pretty(&v1).unwrap() + "\n";
    let golden_path = fixtures().join("summary_v2_golden.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden_path, &written).unwrap();
    }
    let golden = std::fs::read_to_string(&golden_path).unwrap();
    assert_eq!(written, golden, "schema-2 output changed; UPDATE_GOLDEN=1 if intended");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("experiment_summary.json");
    std::fs::write(&path, &golden).unwrap();
    let back = RunSummary::load(&path).expect("schema 2 loads");
    assert_eq!(back.schema_version, SUMMARY_SCHEMA_VERSION);
    assert_eq!(RunSummary { schema_version: 1, ..back }, v1, "nothing lost on the way");

    // The seed's exact keys.
    let v: serde_json::Value = serde_json::from_str(&golden).unwrap();
    assert_eq!(v["schema_version"], 2);
    assert!(v["timestamp"].as_str().unwrap().ends_with("+00:00"));
    let phase = &v["experiments"]["smoke"][0];
    assert_eq!(phase["name"], "smoke_mix");
    assert_eq!(phase["status"], "completed");
    assert_eq!(phase["config"]["users"], 5);
    assert_eq!(phase["config"]["run_time"], "2s");
    assert_eq!(phase["stats_file"], "smoke/smoke_mix_stats.csv");
    assert!(phase["duration_seconds"].as_f64().unwrap() > 1.9);
    assert!(phase.get("suite").is_none(), "the suite is the key");
}

/// Suites keep the order the run had, even when it is not alphabetical.
#[test]
fn suites_keep_run_order() {
    let mut s = RunSummary::load(&fixtures().join("schema1-run/experiment_summary.json")).unwrap();
    s.experiments[0].suite = "zeta".into();
    s.experiments[1].suite = "alpha".into();
    s.experiments[2].suite = "zeta".into();
    let text = serde_json::to_string(&s).unwrap();
    let back: RunSummary = serde_json::from_str(&text).unwrap();
    let order: Vec<(&str, &str)> =
        back.experiments.iter().map(|p| (p.suite.as_str(), p.name.as_str())).collect();
    // Grouped by suite (the seed's shape), suites in order of first appearance.
    assert_eq!(order, [("zeta", "smoke_mix"), ("zeta", "smoke_open"), ("alpha", "smoke_failures")]);
}

#[test]
fn unknown_schema_is_refused_with_the_versions_we_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("experiment_summary.json");
    std::fs::write(&path, r#"{"schema_version": 3, "experiments": {}}"#).unwrap();
    let err = RunSummary::load(&path).unwrap_err().to_string();
    assert!(err.contains("schema_version 3") && err.contains("versions 1 and 2"), "{err}");
}

/// A real run's summary, read by the Python script as the seed's scripts read it.
#[test]
fn python_reads_a_real_summary_like_the_seed() {
    let out = tempfile::tempdir().unwrap();
    let (code, table, err) = binary(&[
        "run".as_ref(),
        "smoke".as_ref(),
        "--phase".as_ref(),
        "smoke_mix".as_ref(),
        "--phase".as_ref(),
        "smoke_open".as_ref(),
        "--duration".as_ref(),
        "2s".as_ref(),
        "--no-charts".as_ref(),
        "--output".as_ref(),
        out.path().as_os_str(),
    ]);
    assert_eq!(code, 0, "{err}");
    // The end-of-run table carries the seed's success rate per phase.
    let header =
        table.lines().find(|l| l.starts_with("phase ")).unwrap_or_else(|| panic!("no table: {table}"));
    assert!(header.contains(" success "), "{header}");
    let mix = table.lines().find(|l| l.starts_with("smoke_mix ")).unwrap();
    assert!(mix.contains(" %"), "a rate in the smoke_mix row: {mix}");
    let run = std::fs::read_dir(out.path()).unwrap().next().unwrap().unwrap().path();
    let summary = run.join("experiment_summary.json");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/seed_readers.py");
    let o = Command::new("python3")
        .arg(&script)
        .arg(&summary)
        .arg(fixtures().join("summary_v2_golden.json"))
        .output()
        .expect("python3 is needed for this test (apt-get install python3)");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("smoke/smoke_mix users=5") && stdout.contains("run_time=2s"), "{stdout}");
    assert!(stdout.contains("smoke/smoke_open users=None"), "open model has no user count: {stdout}");
    // And the script does fail on the old flat list, as the seed's did.
    let o = Command::new("python3")
        .arg(&script)
        .arg(fixtures().join("schema1-run/experiment_summary.json"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "schema 1 is not the seed's shape");
}

#[test]
fn schema_1_folders_still_chart_and_compare() {
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("20261203-084152-smoke");
    copy_dir(&fixtures().join("schema1-run"), &run);
    let before = std::fs::read(run.join("experiment_summary.json")).unwrap();
    let (code, _, err) = binary(&["charts".as_ref(), run.as_os_str()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        run.join("charts/latency_distribution.png").exists()
            || run.join("charts").read_dir().unwrap().count() > 0
    );
    assert!(run.join("charts_report.html").exists(), "{err}");
    assert_eq!(std::fs::read(run.join("experiment_summary.json")).unwrap(), before, "summary left as it was");

    let (code, out, err) =
        binary(&["compare".as_ref(), run.as_os_str(), fixtures().join("schema1-run").as_os_str()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("smoke_mix"), "{out}");
}

/// Every file under `dir` (relative path → bytes), skipping the `skip` sub-folder.
fn snapshot(dir: &Path, skip: Option<&Path>) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if Some(path.as_path()) == skip {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// The seed harness's results folder: Locust CSVs per suite, its own summary (the seed's
/// shape, no schema_version), its HTML reports and PNGs, beside each other.
fn seed_results_folder(dir: &Path) {
    let suite = dir.join("throughput");
    std::fs::create_dir_all(&suite).unwrap();
    for phase in ["smoke_mix", "smoke_failures"] {
        for kind in ["stats", "stats_history", "failures", "exceptions"] {
            let from = fixtures().join(format!("schema1-run/smoke/{phase}_{kind}.csv"));
            let to = suite.join(format!("throughput_{phase}_{kind}.csv"));
            std::fs::copy(from, to).unwrap();
        }
    }
    let summary = r#"{"timestamp": "2025-12-12T10:59:44.206266", "experiments": {"throughput": [
  {"name": "throughput_smoke_mix", "status": "completed", "duration_seconds": 2.0,
   "config": {"users": 5, "spawn_rate": 5, "run_time": "2s"},
   "stats_file": "experiment_results/throughput/throughput_smoke_mix_stats.csv",
   "summary": {"total_requests": 30, "failure_count": 0, "median_response_ms": 38.0,
     "avg_response_ms": 85.0, "p95_response_ms": 257.0, "p99_response_ms": 470.0, "requests_per_sec": 15.0}}]}}
"#;
    std::fs::write(dir.join("experiment_summary.json"), summary).unwrap();
    std::fs::write(dir.join("experiment_summary.html"), "<html>the seed's summary</html>\n").unwrap();
    std::fs::write(dir.join("charts_report.html"), "<html>the seed's charts</html>\n").unwrap();
    for png in ["comparison.png", "throughput_timeline.png", "latency_distribution.png"] {
        std::fs::write(dir.join(png), format!("not really a PNG: {png}")).unwrap();
    }
    std::fs::create_dir(dir.join("charts")).unwrap();
    std::fs::write(dir.join("charts/throughput_timeline.png"), b"\x89PNG the seed's own").unwrap();
}

#[test]
fn charts_on_a_foreign_folder_touches_none_of_its_files() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("experiment_results");
    seed_results_folder(&dir);
    let before = snapshot(&dir, None);

    let (code, out, err) = binary(&["charts".as_ref(), dir.as_os_str()]);
    assert_eq!(code, 0, "{err}");
    let ours = dir.join("terrafix-charts");
    assert!(err.contains("is not a terrafix-tui run") && err.contains("terrafix-charts"), "{err}");
    assert!(err.contains("was not written by terrafix-tui (no schema_version)"), "{err}");
    assert!(out.contains("written in") && out.contains("terrafix-charts"), "{out}");
    assert_eq!(snapshot(&dir, Some(&ours)), before, "every file of the folder is byte-identical, none added");
    for file in ["experiment_summary.html", "charts_report.html", "charts/throughput_timeline.png"] {
        assert!(ours.join(file).is_file(), "{file} missing in {}", ours.display());
    }
    let html = std::fs::read_to_string(ours.join("experiment_summary.html")).unwrap();
    assert!(html.contains("throughput_smoke_mix") && html.contains("throughput_smoke_failures"));

    // --output elsewhere: the folder (now with terrafix-charts/) is not touched at all.
    let before = snapshot(&dir, None);
    let elsewhere = root.path().join("charts-elsewhere");
    let (code, _, err) =
        binary(&["charts".as_ref(), dir.as_os_str(), "--output".as_ref(), elsewhere.as_os_str()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(snapshot(&dir, None), before);
    assert!(elsewhere.join("charts_report.html").is_file() && elsewhere.join("charts").is_dir());
}
