//! Findings, `experiment_report.md` and the CI outputs end to end: the seed's published
//! results as Locust CSVs give the saturation and "no isolation" findings; the Markdown
//! report parses (every table a table, every link a file of the run); `run --junit` and
//! `--summary-md` for a passing and a failing run; `report RUN` through the binary.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod report_fixture;

use std::path::{Path, PathBuf};
use std::process::Command;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use terrafix_tui::report;

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");
const STATS_HEADER: &str = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%";
const HISTORY_HEADER: &str = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size";

/// (suite, phase, users, req/s, p50, p95, p99) from ../shared/seed/EXPERIMENTS.md.
const SEED: [(&str, &str, u32, f64, f64, f64, f64); 8] = [
    ("throughput", "throughput_baseline", 5, 3.16, 380.0, 1100.0, 1500.0),
    ("throughput", "throughput_medium", 20, 5.07, 2900.0, 4600.0, 6100.0),
    ("throughput", "throughput_high", 50, 5.12, 8700.0, 11000.0, 11000.0),
    ("throughput", "throughput_max", 100, 5.28, 18000.0, 21000.0, 23000.0),
    ("scalability", "scalability_small", 10, 4.78, 1000.0, 1900.0, 2300.0),
    ("scalability", "scalability_medium", 10, 4.59, 1100.0, 2000.0, 2900.0),
    ("scalability", "scalability_large", 10, 4.55, 1100.0, 2100.0, 2600.0),
    ("scalability", "scalability_mixed", 15, 4.57, 2200.0, 3500.0, 4100.0),
];

/// Deterministic noise in [-1, 1) from a counter (no RNG needed for the shape).
fn wobble(i: u64) -> f64 {
    let x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17) ^ 0x5bd1_e995;
    (x % 2000) as f64 / 1000.0 - 1.0
}

/// The seed's published results as its Locust CSVs would hold them: 120 s per phase,
/// per-second rows around each phase's figures, 10 s pauses. A second holds ~5 requests,
/// so its p50 wanders by about a third of the phase's (uniform ±50 % here).
fn write_seed_csvs(dir: &Path) {
    let mut t = 1_765_000_000_i64;
    for (k, (suite, name, users, rps, p50, p95, p99)) in SEED.iter().enumerate() {
        let folder = dir.join(suite);
        std::fs::create_dir_all(&folder).unwrap();
        let seconds = 120_i64;
        let total = (rps * seconds as f64).round() as u64;
        let pct = |scale: f64| {
            [
                *p50,
                p50 * 1.1,
                p50 * 1.2,
                p50 * 1.3,
                (p50 + p95) / 2.0,
                *p95,
                (p95 + p99) / 2.0,
                *p99,
                *p99,
                *p99,
                *p99,
            ]
            .iter()
            .map(|v| format!("{:.0}", v * scale))
            .collect::<Vec<_>>()
            .join(",")
        };
        let row = |kind: &str, n: &str| {
            format!(
                "{kind},{n},{total},0,{p50:.0},{:.1},{:.0},{p99:.0},512,{rps},0.0,{}\n",
                p50 * 1.15,
                p50 * 0.3,
                pct(1.0)
            )
        };
        let stats = format!("{STATS_HEADER}\n{}{}", row("POST", "/webhook"), row("", "Aggregated"));
        std::fs::write(folder.join(format!("{name}_stats.csv")), stats).unwrap();
        let mut history = format!("{HISTORY_HEADER}\n");
        for s in 0..seconds {
            let i = (k as u64) * 1000 + s as u64;
            let second_rps = rps * (1.0 + 0.3 * wobble(i));
            let scale = 1.0 + 0.5 * wobble(i + 7);
            history.push_str(&format!(
                "{},{users},,Aggregated,{second_rps:.2},0.00,{},{},0,{p50:.0},{:.1},{:.0},{p99:.0},512\n",
                t + s,
                pct(scale),
                (rps * (s + 1) as f64).round(),
                p50 * 1.15,
                p50 * 0.3
            ));
        }
        std::fs::write(folder.join(format!("{name}_stats_history.csv")), history).unwrap();
        t += seconds + 10;
    }
}

#[test]
fn seed_locust_csvs_give_saturation_and_no_isolation() {
    let dir = tempfile::tempdir().unwrap();
    write_seed_csvs(dir.path());
    let (summary, findings) = report::findings_of(dir.path()).unwrap();
    assert_eq!(summary.experiments.len(), 8);
    let texts: Vec<String> = findings.iter().map(|f| format!("{} {}", f.id, f.text)).collect();
    let saturation: Vec<_> = findings.iter().filter(|f| f.id == "saturation").collect();
    assert_eq!(saturation.len(), 1, "{texts:#?}");
    let text = &saturation[0].text;
    assert!(text.starts_with("suite throughput:"), "{text}");
    assert!(text.contains("from 20 users on"), "{text}");
    assert!(text.contains("the knee is throughput_medium (20 users)"), "{text}");
    assert!(text.contains("p50 grows 0.38 → 18 s"), "{text}");
    let isolation: Vec<_> = findings.iter().filter(|f| f.id == "no-isolation").collect();
    assert_eq!(isolation.len(), 1, "{texts:#?}");
    let text = &isolation[0].text;
    assert!(
        text.starts_with("suite scalability: scalability_small, scalability_medium, scalability_large"),
        "{text}"
    );
    assert!(text.contains("repository size (small, medium, large)"), "{text}");
    assert!(text.contains("4.55–4.78 req/s"), "{text}");
    // Flat per-second p50s: no growth is claimed; no failures: no onset.
    assert!(!findings.iter().any(|f| f.id == "latency-growth" || f.id == "error-onset"), "{texts:#?}");

    // `report` on the seed's folder writes beside it, in terrafix-charts/, never over its files.
    let (files, _warnings) = report::write_reports(dir.path()).unwrap();
    let md = dir.path().join("terrafix-charts").join(report::REPORT_MD_FILE);
    assert!(files.contains(&md), "{files:?}");
    let text = std::fs::read_to_string(&md).unwrap();
    check_markdown(&text, md.parent().unwrap());
    assert!(text.contains("`saturation`") && text.contains("`no-isolation`"), "{text}");
    assert!(text.contains("### Suite throughput") && text.contains("### Suite scalability"), "{text}");
    assert!(
        text.contains("## Endpoints") && text.contains("| scalability_large | POST | /webhook | 546 |"),
        "{text}"
    );
}

/// Every table parses as a table whose rows all have the header's column count; no table
/// source is left as paragraph text; every link and image resolves to a file under `base`.
/// Returns the image targets and the tables' column counts.
fn check_markdown(text: &str, base: &Path) -> (Vec<String>, Vec<usize>) {
    let mut images = Vec::new();
    let mut tables = Vec::new();
    let mut columns = 0;
    let mut cells = 0;
    let mut in_table = false;
    for event in Parser::new_ext(text, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Table(aligns)) => {
                columns = aligns.len();
                tables.push(columns);
                in_table = true;
            }
            Event::End(TagEnd::Table) => in_table = false,
            Event::Start(Tag::TableHead | Tag::TableRow) => cells = 0,
            Event::Start(Tag::TableCell) => cells += 1,
            Event::End(TagEnd::TableHead | TagEnd::TableRow) => {
                assert_eq!(cells, columns, "a row with {cells} cells in a table of {columns} columns");
            }
            Event::Start(Tag::Image { dest_url, .. }) => {
                assert!(base.join(dest_url.as_ref()).is_file(), "image {dest_url} does not resolve");
                images.push(dest_url.to_string());
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                assert!(base.join(dest_url.as_ref()).is_file(), "link {dest_url} does not resolve");
            }
            Event::Text(t) if !in_table => {
                assert!(!t.contains("|---") && !t.contains("--:|"), "table source left as text: {t}");
            }
            _ => {}
        }
    }
    let separators = text.lines().filter(|l| l.starts_with("|---")).count();
    assert_eq!(separators, tables.len(), "every table in the source parsed as one");
    (images, tables)
}

#[test]
fn our_run_report_tables_parse_and_links_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    std::fs::create_dir_all(&run_dir).unwrap();
    let fixture = report_fixture::Fixture { phases: 4, seconds_per_phase: 20, ..Default::default() };
    let summary = report_fixture::write_run(&run_dir, fixture);
    // One chart on disk: it is linked, the others are not.
    std::fs::create_dir_all(run_dir.join("charts")).unwrap();
    std::fs::write(run_dir.join("charts/throughput_timeline.png"), b"png").unwrap();
    let (files, _) = report::write_reports(&run_dir).unwrap();
    assert_eq!(files.len(), 2, "{files:?}");
    let text = std::fs::read_to_string(run_dir.join(report::REPORT_MD_FILE)).unwrap();
    let (images, tables) = check_markdown(&text, &run_dir);
    assert_eq!(images, vec!["charts/throughput_timeline.png".to_string()]);
    // Facts (2), one phase table per suite (8), endpoints (10) when the phases list
    // requests, thresholds (5).
    let suites = {
        let mut s: Vec<&str> = summary.experiments.iter().map(|p| p.suite.as_str()).collect();
        s.dedup();
        s.len()
    };
    let mut expected = vec![2];
    expected.extend(std::iter::repeat_n(8, suites));
    if summary.experiments.iter().any(|p| !p.requests.is_empty()) {
        expected.push(10);
    }
    if summary.experiments.iter().any(|p| !p.thresholds.is_empty()) {
        expected.push(5);
    }
    assert_eq!(tables, expected, "{text}");
    for p in &summary.experiments {
        assert!(
            text.contains(&format!("| {} | {} |", p.name, p.summary.total_requests)),
            "{}: {text}",
            p.name
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn write_profile(dir: &Path, p99_limit_ms: f64) -> PathBuf {
    let path = dir.join(format!("ci-{p99_limit_ms}.yaml"));
    let text = format!(
        "name: ci\npause_between_phases: 0s\nbehaviours:\n  b:\n    wait: {{ constant: 50ms }}\n    tasks: [ {{ kind: webhook }} ]\nphases:\n  - name: only\n    behaviour: b\n    users: 2\n    spawn_rate: 10\n    duration: 2s\n    server: {{ latency_ms: 20 }}\n    thresholds: {{ p99_ms: {p99_limit_ms} }}\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

struct CiRun {
    code: i32,
    stderr: String,
    junit: String,
    summary_md: String,
    step_summary: String,
}

fn ci_run(dir: &Path, p99_limit_ms: f64) -> CiRun {
    let profile = write_profile(dir, p99_limit_ms);
    let junit = dir.join(format!("junit-{p99_limit_ms}.xml"));
    let summary_md = dir.join(format!("summary-{p99_limit_ms}.md"));
    let step = dir.join(format!("step-{p99_limit_ms}.md"));
    std::fs::write(&step, "earlier step\n").unwrap();
    let o = Command::new(BIN)
        .arg("run")
        .arg(&profile)
        .arg("--output")
        .arg(dir.join("results"))
        .arg("--no-charts")
        .arg("--junit")
        .arg(&junit)
        .arg("--summary-md")
        .arg(&summary_md)
        .env("GITHUB_STEP_SUMMARY", &step)
        .output()
        .unwrap();
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    CiRun {
        code: o.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        junit: read(&junit),
        summary_md: read(&summary_md),
        step_summary: read(&step),
    }
}

/// (testcase name, failure message) of every testcase, and the root's failures count.
fn junit_cases(xml: &str) -> (Vec<(String, Option<String>)>, usize) {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let mut cases = Vec::new();
    for suite in root.children().filter(|n| n.has_tag_name("testsuite")) {
        let listed: usize = suite.attribute("tests").unwrap().parse().unwrap();
        let mine: Vec<_> = suite.children().filter(|n| n.has_tag_name("testcase")).collect();
        assert_eq!(listed, mine.len(), "tests= of {:?}", suite.attribute("name"));
        for case in mine {
            let failure = case
                .children()
                .find(|n| n.has_tag_name("failure"))
                .map(|f| f.attribute("message").unwrap().to_string());
            cases.push((case.attribute("name").unwrap().to_string(), failure));
        }
    }
    let failures = root.attribute("failures").unwrap().parse().unwrap();
    (cases, failures)
}

/// tests/python/junit_schema.py on `files`: (every file passed, its output).
fn junit_schema(files: &[PathBuf]) -> (bool, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/junit_schema.py");
    let o = Command::new("python3").arg(script).args(files).output().expect("python3 runs");
    (
        o.status.success(),
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)),
    )
}

/// The schema check catches what a CI consumer would trip on.
#[test]
fn junit_schema_check_rejects_what_the_schema_forbids() {
    let dir = tempfile::tempdir().unwrap();
    let bad = [
        // A testcase without its name, and a count that does not match.
        r#"<testsuites><testsuite name="s" tests="2"><testcase classname="c"/></testsuite></testsuites>"#,
        // A failure directly in a suite, and a time that is not a number.
        r#"<testsuite name="s" tests="0" time="1,5"><failure message="m"/></testsuite>"#,
        // A timestamp with a zone.
        r#"<testsuite name="s" tests="0" timestamp="2026-12-07T01:02:03Z"/>"#,
    ];
    for (i, xml) in bad.iter().enumerate() {
        let file = dir.path().join(format!("bad-{i}.xml"));
        std::fs::write(&file, xml).unwrap();
        let (ok, out) = junit_schema(std::slice::from_ref(&file));
        assert!(!ok, "bad-{i}.xml passed: {out}");
    }
    let good = dir.path().join("good.xml");
    std::fs::write(
        &good,
        r#"<testsuites tests="1" failures="1"><testsuite name="s" tests="1" failures="1"><testcase name="t" classname="c" time="0.5"><failure message="m">d</failure></testcase></testsuite></testsuites>"#,
    )
    .unwrap();
    let (ok, out) = junit_schema(&[good]);
    assert!(ok, "{out}");
}

#[test]
fn junit_and_step_summary_for_a_passing_and_a_failing_run() {
    let dir = tempfile::tempdir().unwrap();
    let pass = ci_run(dir.path(), 5000.0);
    assert_eq!(pass.code, 0, "{}", pass.stderr);
    let (cases, failures) = junit_cases(&pass.junit);
    assert_eq!(failures, 0, "{}", pass.junit);
    assert!(cases.iter().any(|(n, f)| n.contains("only p99_ms ≤ 5000") && f.is_none()), "{cases:?}");
    assert!(cases.iter().any(|(n, f)| n == "run verdict" && f.is_none()), "{cases:?}");
    assert!(pass.summary_md.contains("**Verdict: PASS"), "{}", pass.summary_md);
    assert!(pass.summary_md.contains("| only |"), "{}", pass.summary_md);
    assert!(pass.summary_md.len() < 1024 * 1024);
    assert!(pass.step_summary.starts_with("earlier step\n"), "appended, not replaced: {}", pass.step_summary);
    assert!(pass.step_summary.contains(&pass.summary_md), "{}", pass.step_summary);

    let fail = ci_run(dir.path(), 1.0);
    assert_eq!(fail.code, 1, "p99 under 1 ms cannot hold at 20 ms: {}", fail.stderr);
    let (cases, failures) = junit_cases(&fail.junit);
    assert_eq!(failures, 2, "the threshold and the verdict: {}", fail.junit);
    let threshold =
        cases.iter().find(|(n, _)| n.contains("only p99_ms ≤ 1")).expect("the threshold's testcase");
    let message = threshold.1.as_deref().expect("a <failure>");
    assert!(message.contains("p99_ms = ") && message.contains("limit ≤ 1"), "{message}");
    assert!(fail.summary_md.contains("**Verdict: FAIL"), "{}", fail.summary_md);
    assert!(fail.summary_md.contains("FAIL (0/1 thresholds)"), "{}", fail.summary_md);
    assert!(fail.step_summary.starts_with("earlier step\n"), "appended, not replaced: {}", fail.step_summary);
    assert!(fail.step_summary.contains(&fail.summary_md), "{}", fail.step_summary);

    // Both files hold to the common JUnit schema's structure (Python's xml.etree reads them).
    let checked = junit_schema(&[dir.path().join("junit-5000.xml"), dir.path().join("junit-1.xml")]);
    assert!(checked.0, "{}", checked.1);
    assert!(checked.1.contains("junit-1.xml: ok") && checked.1.contains("2 failures"), "{}", checked.1);

    // The run folder got its experiment_report.md beside the HTML summary.
    let runs: Vec<PathBuf> =
        std::fs::read_dir(dir.path().join("results")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(runs.len(), 2);
    for run in &runs {
        assert!(run.join(report::SUMMARY_HTML_FILE).is_file(), "{}", run.display());
        let md = std::fs::read_to_string(run.join(report::REPORT_MD_FILE)).unwrap();
        check_markdown(&md, run);
    }
}

#[test]
fn report_command_rewrites_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    write_seed_csvs(dir.path());
    let o = Command::new(BIN).arg("report").arg(dir.path()).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(dir.path().join("terrafix-charts").join(report::REPORT_MD_FILE).is_file());
    assert!(dir.path().join("terrafix-charts").join(report::SUMMARY_HTML_FILE).is_file());
    for bad in [dir.path().join("missing"), dir.path().join("throughput/throughput_max_stats.csv")] {
        let o = Command::new(BIN).arg("report").arg(&bad).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{}: {stderr}", bad.display());
        assert!(!stderr.contains("panicked") && stderr.lines().count() <= 2, "{stderr}");
    }
    // A schema-1 run folder of ours: the report is written into the run itself, and its
    // tables parse (the endpoint table included).
    let old = dir.path().join("schema1-run");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema1-run"), &old);
    let o = Command::new(BIN).arg("report").arg(&old).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(old.join(report::REPORT_MD_FILE)).unwrap();
    let (_, tables) = check_markdown(&md, &old);
    assert!(tables.contains(&10), "an endpoint table: {md}");

    // --junit into a folder that does not exist: exit 2 before anything runs.
    let o = Command::new(BIN)
        .args(["run", "smoke", "--no-charts", "--junit"])
        .arg(dir.path().join("no/such/folder/j.xml"))
        .arg("--output")
        .arg(dir.path().join("results"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--junit") && stderr.contains("does not exist"), "{stderr}");
    assert!(!dir.path().join("results").exists(), "nothing ran");
}

/// A real consumer reads the JUnit file: Python's junitparser (PyPI), from a venv under
/// target/. Ignored by default as it needs that venv; run it with
/// `python3 -m venv target/junit-venv && target/junit-venv/bin/pip install junitparser`
/// then `cargo test --test findings_report -- --ignored`.
#[test]
#[ignore = "needs target/junit-venv with junitparser (see the comment)"]
fn junitparser_reads_the_junit_of_a_failing_run() {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/junit-venv/bin/python");
    assert!(python.is_file(), "create {} first (see the comment above)", python.display());
    let dir = tempfile::tempdir().unwrap();
    let fail = ci_run(dir.path(), 1.0);
    assert_eq!(fail.code, 1, "{}", fail.stderr);
    let junit = dir.path().join("junit-1.xml");
    let script = r#"
import sys
from junitparser import JUnitXml, Failure
xml = JUnitXml.fromfile(sys.argv[1])
for suite in xml:
    for case in suite:
        failures = [r for r in case.result if isinstance(r, Failure)]
        print(f"{suite.name}|{case.name}|{failures[0].message if failures else 'ok'}")
print(f"total|{xml.tests}|{xml.failures}")
"#;
    let o = Command::new(&python).arg("-c").arg(script).arg(&junit).output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.iter().any(|l| l.contains("|only p99_ms ≤ 1|only p99_ms = ") && l.contains("limit ≤ 1")),
        "{stdout}"
    );
    assert!(lines.iter().any(|l| l.starts_with("run|run verdict|run ") && l.contains("failed")), "{stdout}");
    let total = lines.last().unwrap();
    assert!(total.starts_with("total|") && total.ends_with("|2"), "{stdout}");
}
