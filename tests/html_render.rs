//! The HTML report in a real browser: Debian's headless Chromium renders the
//! `experiment_summary.html` that `terrafix-tui charts` and `terrafix-tui report` write for a
//! run folder, to a PNG that decodes and is not blank, and logs no console error. The
//! console check is itself checked: the same page with a script that throws must be caught.
//!
//! Needs `chromium` on PATH (Debian's package; scripts/test.sh installs it).
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod report_fixture;

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");
/// A render on a busy two-core machine takes a few seconds; past this the browser is stuck.
const BROWSER_LIMIT: Duration = Duration::from_secs(60);
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 2400;

/// What one headless render left behind.
struct Render {
    png: PathBuf,
    /// Chromium's log lines that report the page's console: errors, uncaught exceptions,
    /// resources that failed to load. The report has no script, so any such line is a fault.
    console: Vec<String>,
}

fn chromium() -> &'static str {
    let found =
        Command::new("chromium").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    assert!(
        found.is_ok_and(|s| s.success()),
        "chromium is missing: install it (apt-get install chromium); scripts/test.sh does"
    );
    "chromium"
}

/// Renders `page` with headless Chromium into `work/NAME.png`, killing the browser (its whole
/// process group) if it has not finished within [`BROWSER_LIMIT`].
fn render(page: &Path, work: &Path, name: &str) -> Render {
    let png = work.join(format!("{name}.png"));
    let log = work.join(format!("{name}.log"));
    let profile = work.join(format!("{name}-profile"));
    let mut child = Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"])
        .args(["--no-default-browser-check", "--disable-extensions", "--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--window-size={WIDTH},{HEIGHT}"))
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .process_group(0)
        .spawn()
        .expect("chromium starts");
    let pid = child.id();
    let (done_tx, done_rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let status = child.wait();
        // The test stops listening only after a timeout, when the status no longer matters.
        let _ = done_tx.send(status);
    });
    match done_rx.recv_timeout(BROWSER_LIMIT) {
        Ok(status) => assert!(status.unwrap().success(), "chromium failed: {}", read(&log)),
        Err(_) => {
            // SAFETY: killpg on the group this test created for the browser; no memory involved.
            unsafe { libc::killpg(pid as i32, libc::SIGKILL) };
            waiter.join().unwrap();
            panic!("chromium did not finish within {BROWSER_LIMIT:?}: {}", read(&log));
        }
    }
    waiter.join().unwrap();
    let console = read(&log)
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .map(str::to_string)
        .collect();
    Render { png, console }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A run folder of ours (four phases, failures, server view, resources) with its charts and
/// reports written by the binary, as a user would: `charts RUN`, then `report RUN`.
fn run_folder(root: &Path) -> PathBuf {
    let run = root.join("run");
    std::fs::create_dir_all(&run).unwrap();
    let fixture = report_fixture::Fixture { phases: 4, seconds_per_phase: 20, ..Default::default() };
    report_fixture::write_run(&run, fixture);
    for command in ["charts", "report"] {
        let out = Command::new(BIN).arg(command).arg(&run).output().unwrap();
        assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
    }
    run
}

/// Luminance variance, and the share of pixels that are not near-white.
fn ink(img: &image::RgbImage) -> (f64, f64) {
    let lum: Vec<f64> = img
        .pixels()
        .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
        .collect();
    let mean = lum.iter().sum::<f64>() / lum.len() as f64;
    let variance = lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lum.len() as f64;
    let inked = lum.iter().filter(|l| **l < 235.0).count() as f64 / lum.len() as f64;
    (variance, inked)
}

#[test]
fn summary_html_renders_in_headless_chromium_without_console_errors() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_folder(dir.path());
    let page = run.join("experiment_summary.html");
    let html = read(&page);
    assert!(html.contains("id=\"findings\"") && html.contains("id=\"charts\""), "not the report");

    let shot = render(&page, dir.path(), "report");
    assert!(shot.console.is_empty(), "the report logged console errors: {:#?}", shot.console);
    let img = image::open(&shot.png)
        .unwrap_or_else(|e| panic!("{} does not decode: {e}", shot.png.display()))
        .to_rgb8();
    assert_eq!(img.dimensions(), (WIDTH, HEIGHT), "the screenshot has the window's size");
    let (variance, inked) = ink(&img);
    assert!(variance > 200.0, "the screenshot is nearly uniform (luminance variance {variance:.1})");
    assert!(inked > 0.03, "only {:.1} % of the screenshot is drawn on", inked * 100.0);
    // Keep the screenshot for a person to look at when asked to.
    if let Some(keep) = std::env::var_os("TERRAFIX_KEEP_SCREENSHOT") {
        std::fs::copy(&shot.png, keep).unwrap();
    }

    // The console check catches a page that does throw: the same report plus one bad script.
    let broken = dir.path().join("broken.html");
    std::fs::write(&broken, html.replace("</body>", "<script>throw 1</script></body>")).unwrap();
    let shot = render(&broken, dir.path(), "broken");
    assert!(
        shot.console.iter().any(|l| l.contains("Uncaught")),
        "a thrown exception went unnoticed: {:#?}",
        shot.console
    );
}
