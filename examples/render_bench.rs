//! Benchmark: render every chart and both HTML reports for a 12-phase run with 300 s of
//! per-second data per phase. `cargo run --release --example render_bench [DIR]`
//! (without DIR, writes the fixture to a temporary folder; with DIR, keeps it there;
//! a second argument changes the seconds per phase).
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

#[path = "../tests/report_fixture/mod.rs"]
mod report_fixture;

use std::time::Instant;

use terrafix_tui::report::{RenderOptions, render_all};

fn main() -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let dir =
        std::env::args().nth(1).map(std::path::PathBuf::from).unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let seconds_per_phase = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(300);
    let fixture = report_fixture::Fixture { seconds_per_phase, ..Default::default() };
    let t = Instant::now();
    report_fixture::write_run(&dir, fixture);
    println!(
        "fixture: 12 phases × {seconds_per_phase} s written in {:.2?} to {}",
        t.elapsed(),
        dir.display()
    );
    let mut runs = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let outcome = render_all(&dir, &RenderOptions::default())?;
        runs.push(t.elapsed());
        anyhow::ensure!(
            outcome.charts.len() == 9,
            "only {} charts: {:?}",
            outcome.charts.len(),
            outcome.warnings
        );
    }
    runs.sort();
    println!(
        "render_all (9 charts 1600×1000 + 2 HTML): best {:.2?}, median {:.2?}, worst {:.2?}",
        runs[0], runs[1], runs[2]
    );
    Ok(())
}
