//! `run --metrics-listen` and `--prometheus-remote-write` against a real Prometheus
//! (Debian's `prometheus`): it scrapes the run's /metrics every second (found through a
//! file_sd targets file written once the run prints its address) and takes its pushes on
//! the remote-write receiver. After the run, PromQL over its HTTP API must agree with
//! the run's own summary. Skipped with a note where /usr/bin/prometheus is missing.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use terrafix_tui::metrics::summary::{RunSummary, SUMMARY_FILE};

const PROMETHEUS: &str = "/usr/bin/prometheus";
/// Upper bounds of the exporter's buckets (seconds), to judge "within one bucket".
const BOUNDS_S: [f64; 18] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    30.0, 60.0,
];

/// A Prometheus started for one test, killed on drop.
struct Prometheus {
    child: Child,
    base: String,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    // Prometheus takes its address as a flag: a port just freed by the OS is the closest
    // to binding :0 that it allows.
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_prometheus(dir: &Path) -> Prometheus {
    let config = dir.join("prometheus.yml");
    std::fs::write(dir.join("targets.json"), "[]").unwrap();
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: terrafix\n    \
             file_sd_configs:\n      - files: ['{}']\n        refresh_interval: 1s\n",
            dir.join("targets.json").display()
        ),
    )
    .unwrap();
    let port = free_port();
    let child = Command::new(PROMETHEUS)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--web.enable-remote-write-receiver")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
        .spawn()
        .expect("prometheus starts");
    let prometheus = Prometheus { child, base: format!("http://127.0.0.1:{port}") };
    wait_for(Duration::from_secs(60), "Prometheus to be ready", || {
        http_get(&format!("{}/-/ready", prometheus.base)).is_some_and(|(status, _)| status == 200)
    });
    prometheus
}

/// A small blocking HTTP/1.0 GET: (status, body).
fn http_get(url: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut stream = std::net::TcpStream::connect(host).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((status, body))
}

fn wait_for(limit: Duration, what: &str, ready: impl FnMut() -> bool) {
    assert!(wait_until(limit, ready), "gave up waiting for {what} after {limit:?}");
}

/// Polls until `ready` or `limit`; whether it became ready.
fn wait_until(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !ready() {
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    true
}

fn encode(query: &str) -> String {
    query
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `data.result` of an instant or range query.
fn query(p: &Prometheus, path: &str, promql: &str, extra: &str) -> Vec<Value> {
    let url = format!("{}/api/v1/{path}?query={}{extra}", p.base, encode(promql));
    let (status, body) = http_get(&url).unwrap_or_else(|| panic!("no answer to {url}"));
    assert_eq!(status, 200, "{promql}: {body}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    doc["data"]["result"].as_array().cloned().unwrap_or_default()
}

/// The single value of an instant query, when it has one.
fn scalar(p: &Prometheus, promql: &str) -> Option<f64> {
    let result = query(p, "query", promql, "");
    result.first()?["value"][1].as_str()?.parse().ok()
}

fn bucket_index(seconds: f64) -> usize {
    BOUNDS_S.iter().position(|b| seconds <= *b).unwrap_or(BOUNDS_S.len())
}

/// Starts `run` with the exporters on, writes its address into the targets file, and
/// returns once it exited; stderr lines are kept.
fn run_with_exporters(dir: &Path, prometheus: &Prometheus) -> (std::process::ExitStatus, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_terrafix-tui"))
        .args(["run", "smoke", "--target", "embedded", "--no-charts", "--metrics-listen", "127.0.0.1:0"])
        .args(["--metrics-linger", "4s", "--prometheus-remote-write"])
        .arg(format!("{}/api/v1/write", prometheus.base))
        .arg("--output")
        .arg(dir.join("results"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("terrafix-tui starts");
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    let address = loop {
        let line = rx.recv_timeout(Duration::from_secs(30)).expect("the run prints its metrics address");
        lines.push(line.clone());
        if let Some(rest) = line.strip_prefix("metrics: http://") {
            break rest.trim_end_matches("/metrics").to_string();
        }
    };
    let targets = dir.join("targets.json.new");
    std::fs::write(&targets, format!("[{{\"targets\": [\"{address}\"]}}]")).unwrap();
    std::fs::rename(&targets, dir.join("targets.json")).unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(180) {
            let _ = child.kill();
            panic!("the run did not end within 180 s: {lines:?}");
        }
        while let Ok(line) = rx.try_recv() {
            lines.push(line);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    reader.join().unwrap();
    lines.extend(rx.try_iter());
    (status, lines)
}

fn summary_of(results: &Path) -> RunSummary {
    let run: PathBuf =
        std::fs::read_dir(results).unwrap().map(|e| e.unwrap().path()).find(|p| p.is_dir()).unwrap();
    RunSummary::load(&run.join(SUMMARY_FILE)).unwrap()
}

#[test]
fn prometheus_scrapes_and_receives_the_runs_series() {
    if !Path::new(PROMETHEUS).exists() {
        eprintln!("skipped: {PROMETHEUS} is missing (apt-get install prometheus)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let prometheus = start_prometheus(dir.path());
    let (status, lines) = run_with_exporters(dir.path(), &prometheus);
    assert!(status.code().is_some(), "the run was killed: {lines:?}");
    assert!(!lines.iter().any(|l| l.contains("remote write failed")), "{lines:#?}");
    let summary = summary_of(&dir.path().join("results"));
    let phases = &summary.experiments;
    let total: f64 = phases.iter().map(|p| p.summary.total_requests as f64).sum();
    assert!(total > 50.0, "the smoke run sent only {total} requests");

    for job in ["terrafix", ""] {
        let sum = format!("sum(last_over_time(terrafix_requests_total{{job=\"{job}\"}}[10m]))");
        let mut seen = None;
        // The last scrape and the last push land within a second or two of the exit.
        wait_until(Duration::from_secs(20), || {
            seen = scalar(&prometheus, &sum);
            seen == Some(total)
        });
        assert_eq!(seen, Some(total), "job {job:?}: {sum} against the summary's total");
        let failures = format!("sum(last_over_time(terrafix_failures_total{{job=\"{job}\"}}[10m]))");
        let expected: f64 = phases.iter().map(|p| p.summary.failure_count as f64).sum();
        assert_eq!(scalar(&prometheus, &failures), Some(expected), "{failures}");
        let injected =
            format!("sum(last_over_time(terrafix_failures_total{{job=\"{job}\",kind=\"http_500\"}}[10m]))");
        assert!(scalar(&prometheus, &injected).is_some_and(|n| n > 0.0), "{injected}");
    }

    // The same series both ways: as many of them, and the same latency count.
    let both = |promql: &str| {
        let of = |job: &str| scalar(&prometheus, &promql.replace("JOB", job));
        (of("terrafix"), of(""))
    };
    let (scraped, pushed) = both(
        "count(last_over_time({__name__=~\"terrafix_(requests_total|failures_total|request_duration_seconds_.+)\",job=\"JOB\"}[10m]))",
    );
    assert!(
        scraped.is_some_and(|n| n > 10.0) && scraped == pushed,
        "series: scraped {scraped:?}, pushed {pushed:?}"
    );
    let (scraped, pushed) =
        both("sum(last_over_time(terrafix_request_duration_seconds_count{job=\"JOB\"}[10m]))");
    assert!(scraped.is_some() && scraped == pushed, "latency count: scraped {scraped:?}, pushed {pushed:?}");

    let p50 = scalar(
        &prometheus,
        "histogram_quantile(0.5, sum by (le) (last_over_time(terrafix_request_duration_seconds_bucket{job=\"terrafix\"}[10m])))",
    )
    .expect("a median from the histogram");
    // The run's median lies between its phases' medians: within one bucket of them.
    let phase_buckets: Vec<usize> = phases.iter().map(|p| bucket_index(p.latency_ms.p50 / 1000.0)).collect();
    let (low, high) = (phase_buckets.iter().min().unwrap(), phase_buckets.iter().max().unwrap());
    let got = bucket_index(p50);
    assert!(
        got + 1 >= *low && got <= high + 1,
        "PromQL p50 {p50} s in bucket {got}; the phases' in {phase_buckets:?}"
    );

    // run_info's phase label follows the phases, in order.
    let end = chrono_now_s();
    let range = query(
        &prometheus,
        "query_range",
        "terrafix_run_info{job=\"terrafix\"}",
        &format!("&start={}&end={end}&step=1", end - 300.0),
    );
    let mut spans: Vec<(String, f64, f64)> = range
        .iter()
        .map(|s| {
            let times: Vec<f64> =
                s["values"].as_array().unwrap().iter().map(|v| v[0].as_f64().unwrap()).collect();
            (s["metric"]["phase"].as_str().unwrap().to_string(), times[0], times[times.len() - 1])
        })
        .filter(|s| !s.0.is_empty())
        .collect();
    spans.sort_by(|a, b| a.1.total_cmp(&b.1));
    let names: Vec<&str> = spans.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(names, ["smoke_mix", "smoke_failures", "smoke_open"], "{spans:?}");

    // The open phase's target rate was pushed and scraped alike.
    for job in ["terrafix", ""] {
        let rate = scalar(
            &prometheus,
            &format!("max_over_time(terrafix_target_arrival_rate{{job=\"{job}\"}}[10m])"),
        );
        assert!(rate.is_some_and(|r| (10.0..=40.0).contains(&r)), "{job}: {rate:?}");
    }
}

fn chrono_now_s() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64()
}

/// `run` with `args`: (exit code, stderr), results under `out`.
fn run_refused(out: &Path, args: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_terrafix-tui"))
        .args(["run", "smoke", "--no-charts", "--output"])
        .arg(out)
        .args(args)
        .output()
        .expect("terrafix-tui runs");
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn bad_metrics_flags_are_usage_errors_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let (code, text) = run_refused(&out, &["--metrics-listen", "0.0.0.0:0"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("--metrics-allow-public"), "{text}");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, text) = run_refused(&out, &["--metrics-listen", &addr]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("cannot listen there"), "{text}");
    let (code, text) = run_refused(&out, &["--metrics-listen", "127.0.0.1:0", "--metrics-linger", "2h"]);
    assert_eq!(code, Some(2), "{text}");
    let (code, text) = run_refused(&out, &["--prometheus-remote-write", "ftp://127.0.0.1/write"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(!out.exists(), "a refused run left a results folder");
}

#[test]
fn a_remote_write_receiver_that_is_not_there_is_said_once_and_the_run_passes() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on a port just freed: every push is refused.
    let url = format!("http://127.0.0.1:{}/api/v1/write", free_port());
    let started = Instant::now();
    let (code, text) = run_refused(
        &dir.path().join("results"),
        &["--phase", "smoke_open", "--duration", "3s", "--prometheus-remote-write", &url],
    );
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(text.matches("remote write failed").count(), 1, "{text}");
    assert!(started.elapsed() < Duration::from_secs(60), "the run took {:?}", started.elapsed());
}
