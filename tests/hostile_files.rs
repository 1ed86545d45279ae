//! Files and paths as a hostile user would hand them to us (issue 24, items 2, 3, 5 and 6):
//! outputs aimed at a run's own files or at a device, a `charts/` symlink out of the run,
//! suite and profile names that climb out of the results folder, summaries whose paths
//! point at `/dev/zero`, `/etc/passwd` or `../../x`, and local inputs (`--ca-cert`,
//! `serve --tls-cert`, `.env`) that are FIFOs, devices or far too large. Each is refused
//! with a one-line message naming the path, quickly, and nothing of the run is lost.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod report_fixture;

use std::ffi::OsStr;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use report_fixture::{Fixture, write_run};

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");

/// Every hostile case must end well inside this.
const QUICK: Duration = Duration::from_secs(8);

fn cli_in(cwd: &Path, args: &[&OsStr]) -> (i32, String, String, Duration) {
    let started = Instant::now();
    let out: Output = Command::new(BIN)
        .current_dir(cwd)
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("LOG_LEVEL")
        .stdin(Stdio::null())
        .output()
        .expect("the binary starts");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr), started.elapsed())
}

fn os<S: AsRef<OsStr> + ?Sized>(s: &S) -> &OsStr {
    s.as_ref()
}

/// A small run folder of ours (summary, CSVs, hlogs) in `root`.
fn run_folder(root: &Path) -> PathBuf {
    let run = root.join("20251206-081500-fixture");
    std::fs::create_dir(&run).unwrap();
    write_run(&run, Fixture { phases: 2, seconds_per_phase: 10, ..Fixture::default() });
    // Marks the charts as drawn, so `export` packs without drawing them (slow in a debug build).
    std::fs::write(run.join("charts_report.html"), "<html></html>").unwrap();
    run
}

/// `charts RUN --out OUT` for one small SVG: the same readers as a full render, fast.
fn one_chart(root: &Path, run: &Path) -> (i32, String, String, Duration) {
    let out = root.join(format!("out-{}", run.file_name().unwrap().to_string_lossy()));
    cli_in(
        root,
        &[
            os("charts"),
            os(run),
            os("--out"),
            os(&out),
            os("--only"),
            os("throughput_timeline"),
            os("--format"),
            os("svg"),
            os("--size"),
            os("800x500"),
        ],
    )
}

fn summary_of(run: &Path) -> Vec<u8> {
    std::fs::read(run.join("experiment_summary.json")).unwrap()
}

/// One line of stderr that names `needle` (the refusal); fails showing all of stderr.
fn line_naming<'a>(stderr: &'a str, needle: &str) -> &'a str {
    stderr.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("no line names {needle}:\n{stderr}"))
}

#[test]
fn export_over_the_runs_summary_is_refused_and_the_summary_survives() {
    let root = tempfile::tempdir().unwrap();
    let run = run_folder(root.path());
    let before = summary_of(&run);
    let target = run.join("experiment_summary.json");
    for force in [false, true] {
        let mut args = vec![os("export"), os(&run), os("--out"), os(&target)];
        if force {
            args.push(os("--force"));
        }
        let (code, _, err, took) = cli_in(root.path(), &args);
        assert_eq!(code, 2, "force={force}: {err}");
        assert!(took < QUICK);
        line_naming(&err, "experiment_summary.json");
        assert_eq!(summary_of(&run), before, "the summary is untouched (force={force})");
    }
    // An existing export is replaced only with --force.
    let out = root.path().join("run.tar.gz");
    let (code, _, err, _) = cli_in(root.path(), &[os("export"), os(&run), os("--out"), os(&out)]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err, _) = cli_in(root.path(), &[os("export"), os(&run), os("--out"), os(&out)]);
    assert_eq!(code, 2, "{err}");
    assert!(line_naming(&err, "run.tar.gz").contains("--force"), "{err}");
    let (code, _, err, _) =
        cli_in(root.path(), &[os("export"), os(&run), os("--out"), os(&out), os("--force")]);
    assert_eq!(code, 0, "{err}");
    // And the run is still whole: charts and compare read it.
    let (code, _, err, _) = cli_in(root.path(), &[os("compare"), os(&run), os(&run)]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn compare_chart_onto_a_run_file_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let run = run_folder(root.path());
    let before = summary_of(&run);
    let target = run.join("experiment_summary.json");
    let (code, _, err, took) =
        cli_in(root.path(), &[os("compare"), os(&run), os(&run), os("--chart"), os(&target)]);
    assert_eq!(code, 2, "{err}");
    assert!(took < QUICK);
    line_naming(&err, "experiment_summary.json");
    assert_eq!(summary_of(&run), before);
    // A chart of its own is redrawn in place; any other existing file is not replaced.
    let chart = root.path().join("compare.png");
    for _ in 0..2 {
        let (code, _, err, _) =
            cli_in(root.path(), &[os("compare"), os(&run), os(&run), os("--chart"), os(&chart)]);
        assert_eq!(code, 0, "{err}");
    }
    let notes = root.path().join("notes.txt");
    std::fs::write(&notes, b"mine").unwrap();
    let (code, _, err, _) =
        cli_in(root.path(), &[os("compare"), os(&run), os(&run), os("--chart"), os(&notes)]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read(&notes).unwrap(), b"mine");
}

#[test]
fn export_to_a_device_is_refused_and_the_device_stays() {
    let root = tempfile::tempdir().unwrap();
    let run = run_folder(root.path());
    // /dev/null is writable by everyone; as root /dev/full is tried too.
    for device in ["/dev/null", "/dev/full"] {
        let (code, _, err, took) =
            cli_in(root.path(), &[os("export"), os(&run), os("--out"), os(device), os("--force")]);
        assert_eq!(code, 2, "{device}: {err}");
        assert!(took < QUICK);
        line_naming(&err, device);
        let kind = std::fs::symlink_metadata(device).unwrap().file_type();
        assert!(kind.is_char_device(), "{device} is still a character device");
    }
}

#[test]
fn charts_through_a_symlink_out_of_the_run_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let run = run_folder(root.path());
    let outside = root.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, run.join("charts")).unwrap();
    let (code, _, err, took) = cli_in(root.path(), &[os("charts"), os(&run)]);
    assert_eq!(code, 2, "{err}");
    assert!(took < QUICK);
    line_naming(&err, "charts");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0, "nothing written outside the run");
    // Nor may `--output` carry one run's reports over another run's.
    let other = root.path().join("other");
    std::fs::create_dir(&other).unwrap();
    write_run(&other, Fixture { phases: 1, seconds_per_phase: 5, ..Fixture::default() });
    std::fs::write(other.join("charts_report.html"), "theirs").unwrap();
    std::fs::remove_file(run.join("charts")).unwrap();
    let (code, _, err, took) = cli_in(root.path(), &[os("charts"), os(&run), os("--output"), os(&other)]);
    assert_eq!(code, 2, "{err}");
    assert!(took < QUICK);
    line_naming(&err, "other");
    assert_eq!(std::fs::read(other.join("charts_report.html")).unwrap(), b"theirs");
}

const PROFILE_TAIL: &str = "    behaviour: throughput\n    users: 1\n    spawn_rate: 1\n    duration: 1s\n";

#[test]
fn suite_and_profile_names_that_climb_out_are_refused_with_their_position() {
    let root = tempfile::tempdir().unwrap();
    let cases = [
        ("suite.yaml", format!("name: fine\nphases:\n  - name: p1\n    suite: \"..\"\n{PROFILE_TAIL}"), 4),
        ("slash.yaml", format!("name: fine\nphases:\n  - name: p1\n    suite: a/b\n{PROFILE_TAIL}"), 4),
        ("name.yaml", format!("name: \"../../../x/escaped\"\nphases:\n  - name: p1\n{PROFILE_TAIL}"), 1),
    ];
    for (file, text, line) in cases {
        let path = root.path().join(file);
        std::fs::write(&path, text).unwrap();
        let (code, _, err, _) = cli_in(root.path(), &[os("profiles"), os("validate"), os(&path)]);
        assert_eq!(code, 2, "{file}: {err}");
        let shown = line_naming(&err, file);
        assert!(shown.contains(&format!("{file}:{line}:")), "{file}: file:line:col expected: {shown}");
    }
    // A profile name with spaces is still fine: its suite becomes a safe folder name.
    let path = root.path().join("spaces.yaml");
    std::fs::write(&path, format!("name: my load test\nphases:\n  - name: p1\n{PROFILE_TAIL}")).unwrap();
    let profile = terrafix_tui::profile::load_file(&path).unwrap();
    let suite = &profile.phases[0].suite;
    assert!(!suite.contains(['/', ' ']) && suite != "..", "{suite}");
}

/// A copy of `run` whose summary lists `listed` as the first phase's history CSV and hlog.
fn run_listing(root: &Path, name: &str, listed: &str) -> PathBuf {
    let run = root.join(name);
    std::fs::create_dir(&run).unwrap();
    write_run(&run, Fixture { phases: 2, seconds_per_phase: 10, ..Fixture::default() });
    let path = run.join("experiment_summary.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let suites = v["experiments"].as_object_mut().expect("suites by name");
    let phase = suites.values_mut().next().unwrap().as_array_mut().unwrap().first_mut().unwrap();
    phase["files"]["history_csv"] = listed.into();
    phase["files"]["hlog"] = listed.into();
    phase["stats_file"] = listed.into();
    std::fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    run
}

#[test]
fn summary_paths_out_of_the_run_are_refused_by_name() {
    let root = tempfile::tempdir().unwrap();
    for (i, listed) in ["/dev/zero", "/etc/passwd", "../../x"].into_iter().enumerate() {
        let run = run_listing(root.path(), &format!("run{i}"), listed);
        let (code, _, err, took) = one_chart(root.path(), &run);
        assert!(took < QUICK, "charts took {took:?} on {listed}");
        assert_eq!(code, 0, "the other phases still chart: {err}");
        assert!(line_naming(&err, listed).contains("run folder"), "{err}");
        let (code, _, err, took) = cli_in(root.path(), &[os("compare"), os(&run), os(&run)]);
        assert!(took < QUICK, "compare took {took:?} on {listed}");
        assert_eq!(code, 0, "{err}");
        line_naming(&err, listed);
    }
}

#[test]
fn an_oversized_history_csv_is_refused_with_its_limit() {
    let root = tempfile::tempdir().unwrap();
    let run = run_folder(root.path());
    let history = run.join("throughput/throughput_baseline_stats_history.csv");
    // Sparse: 200 MB that take no disk.
    let file = std::fs::OpenOptions::new().append(true).open(&history).unwrap();
    file.set_len(200 << 20).unwrap();
    let (code, _, err, took) = one_chart(root.path(), &run);
    assert_eq!(code, 0, "{err}");
    assert!(took < QUICK, "{took:?}");
    assert!(line_naming(&err, "throughput_baseline_stats_history.csv").contains("MiB"), "{err}");
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo {}", path.display());
}

#[test]
fn ca_cert_that_is_a_fifo_a_device_or_huge_is_refused_quickly() {
    let root = tempfile::tempdir().unwrap();
    let fifo = root.path().join("ca.pem");
    mkfifo(&fifo);
    let huge = root.path().join("huge.pem");
    std::fs::write(&huge, vec![b'A'; 20 << 20]).unwrap();
    for (path, says) in
        [(fifo.as_path(), "FIFO"), (Path::new("/dev/zero"), "device"), (huge.as_path(), "1 MiB")]
    {
        let (code, _, err, took) = cli_in(
            root.path(),
            &[
                os("run"),
                os("smoke"),
                os("--target"),
                os("https://127.0.0.1:9"),
                os("--ca-cert"),
                os(path),
                os("--dry-run"),
            ],
        );
        assert_eq!(code, 2, "{}: {err}", path.display());
        assert!(took < QUICK, "{took:?}");
        assert!(line_naming(&err, &path.display().to_string()).contains(says), "{err}");
        assert!(err.len() < 2000, "a short message, not the file: {} bytes", err.len());
    }
}

#[test]
fn serve_tls_cert_that_is_a_device_is_refused_quickly() {
    let root = tempfile::tempdir().unwrap();
    let fifo = root.path().join("key.pem");
    mkfifo(&fifo);
    let (code, _, err, took) = cli_in(
        root.path(),
        &[os("serve"), os("--port"), os("0"), os("--tls-cert"), os("/dev/zero"), os("--tls-key"), os(&fifo)],
    );
    assert_eq!(code, 2, "{err}");
    assert!(took < QUICK, "{took:?}");
    line_naming(&err, "/dev/zero");
}

#[test]
fn an_env_file_that_is_a_device_or_too_large_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let zero = root.path().join("zero");
    std::fs::create_dir(&zero).unwrap();
    std::os::unix::fs::symlink("/dev/zero", zero.join(".env")).unwrap();
    let big = root.path().join("big");
    std::fs::create_dir(&big).unwrap();
    std::fs::write(big.join(".env"), "A=1\n".repeat(512 << 10)).unwrap();
    for (cwd, says) in [(&zero, "device"), (&big, "1 MiB")] {
        let (code, out, err, took) = cli_in(cwd, &[os("profiles"), os("list")]);
        assert!(took < QUICK, "{took:?}");
        assert_eq!(code, 0, "a bad .env is a warning: {err}");
        assert!(out.contains("smoke"), "{out}");
        assert!(line_naming(&err, ".env").contains(says), "{err}");
        assert!(err.len() < 2000, "{} bytes of stderr", err.len());
    }
}

#[test]
fn an_env_line_that_does_not_parse_names_its_line_never_its_value() {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(
        root.path().join(".env"),
        "# tokens\nTERRAFIX_OK=1\nAUTH_TOKEN=\"Bearer SECRETENV1\nBearer SECRETENV2\n",
    )
    .unwrap();
    let (code, _, err, _) = cli_in(root.path(), &[os("profiles"), os("list")]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("SECRETENV"), "the value leaked: {err}");
    let shown = line_naming(&err, ".env");
    assert!(shown.contains(":3") || shown.contains("line 3"), "{shown}");
    assert!(shown.contains("AUTH_TOKEN"), "{shown}");

    std::fs::write(root.path().join(".env"), "GOOD=1\nBearer SECRETENV3\n").unwrap();
    let (code, _, err, _) = cli_in(root.path(), &[os("profiles"), os("list")]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("SECRETENV"), "the value leaked: {err}");
    let shown = line_naming(&err, ".env");
    assert!(shown.contains(":2") || shown.contains("line 2"), "{shown}");
}
