//! Charts and HTML reports rendered from run folders written the way the engine writes
//! them, and from plain Locust CSV folders: PNGs decode, have the asked size, are not
//! blank and contain their series colours; HTML rows match the JSON; bad files warn.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod report_fixture;

use std::path::Path;

use report_fixture::{Fixture, write_run};
use terrafix_tui::metrics::summary::RunSummary;
use terrafix_tui::report::{RenderOptions, ReportError, render_all, write_summary_html};

const CHART_FILES: [&str; 11] = [
    "throughput_timeline.png",
    "latency_over_time.png",
    "latency_percentiles.png",
    "latency_distribution.png",
    "throughput_vs_latency.png",
    "success_failure.png",
    "latency_heatmap.png",
    "server_view.png",
    "resources.png",
    "comparison.png",
    "recovery.png",
];

const OPTS: RenderOptions = RenderOptions { width: 1200, height: 750 };

fn small(f: Fixture) -> Fixture {
    Fixture { seconds_per_phase: 20, ..f }
}

/// Luminance variance of the image, and how many pixels are close to `colour`.
fn inspect(path: &Path, colour: Option<[u8; 3]>) -> (image::RgbImage, f64, usize) {
    let img =
        image::open(path).unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display())).to_rgb8();
    let lum: Vec<f64> = img
        .pixels()
        .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
        .collect();
    let mean = lum.iter().sum::<f64>() / lum.len() as f64;
    let variance = lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lum.len() as f64;
    let matches = colour.map_or(0, |c| {
        img.pixels().filter(|p| (0..3).all(|i| (i32::from(p[i]) - i32::from(c[i])).abs() <= 12)).count()
    });
    (img, variance, matches)
}

/// Pixels with clear colour (not white, grey or black), inside the plot region (below the title, left of the legend).
fn colourful_in_plot(img: &image::RgbImage) -> usize {
    let (w, h) = img.dimensions();
    let mut n = 0;
    for y in (h / 10)..(h * 9 / 10) {
        for x in (w / 12)..(w * 78 / 100) {
            let p = img.get_pixel(x, y);
            let (max, min) = (p.0.iter().max().copied().unwrap_or(0), p.0.iter().min().copied().unwrap_or(0));
            if max - min > 60 {
                n += 1;
            }
        }
    }
    n
}

fn assert_chart_ok(dir: &Path, file: &str) -> image::RgbImage {
    let path = dir.join("charts").join(file);
    let (img, variance, _) = inspect(&path, None);
    assert_eq!(img.dimensions(), (OPTS.width, OPTS.height), "{file} has the wrong size");
    assert!(variance > 150.0, "{file} looks blank (luminance variance {variance:.1})");
    // The title is drawn with the compiled-in font: dark pixels in the title band.
    let dark_title = (10..60)
        .flat_map(|y| (10..300).map(move |x| (x, y)))
        .filter(|(x, y)| img.get_pixel(*x, *y)[0] < 80)
        .count();
    assert!(dark_title > 200, "{file}: no title text rendered ({dark_title} dark pixels)");
    img
}

#[test]
fn our_run_renders_every_chart_with_its_series() {
    let dir = tempfile::tempdir().unwrap();
    write_run(dir.path(), small(Fixture::default()));
    let outcome = render_all(dir.path(), &OPTS).unwrap();
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    assert_eq!(outcome.charts.len(), 11);
    for file in CHART_FILES {
        let img = assert_chart_ok(dir.path(), file);
        assert!(colourful_in_plot(&img) > 2_000, "{file}: the plot region has almost no series colour");
    }
    let charts = dir.path().join("charts");
    // Series colours where the data goes: requests/s blue, failures/s red, p99 purple, success green.
    for (file, colour, floor) in [
        ("throughput_timeline.png", [31, 119, 180], 500),
        ("throughput_timeline.png", [214, 39, 40], 200),
        ("latency_over_time.png", [148, 103, 189], 500),
        ("success_failure.png", [44, 160, 44], 5_000),
        ("latency_heatmap.png", [253, 231, 37], 0),
    ] {
        let (_, _, n) = inspect(&charts.join(file), Some(colour));
        assert!(n > floor, "{file}: only {n} pixels of {colour:?}");
    }
    // The heatmap is coloured from the colour map, not left white.
    let (heat, _, _) = inspect(&charts.join("latency_heatmap.png"), None);
    assert!(colourful_in_plot(&heat) > 20_000, "heatmap plot region is nearly empty");
    assert_eq!(outcome.html.len(), 2);
}

fn phase_rows(html: &str) -> Vec<(String, Vec<String>)> {
    html.split("<tr class=\"phase\" data-phase=\"")
        .skip(1)
        .map(|chunk| {
            let name = chunk.split('"').next().unwrap().to_string();
            let row = chunk.split("</tr>").next().unwrap();
            let cells = row.split("<td").skip(1).map(|c| {
                let text = c.split_once('>').unwrap().1;
                text.split("</td>").next().unwrap().to_string()
            });
            (name, cells.collect())
        })
        .collect()
}

fn assert_rows_match(html: &str, summary: &RunSummary) {
    let rows = phase_rows(html);
    assert_eq!(rows.len(), summary.experiments.len(), "one row per phase");
    for ((name, cells), p) in rows.iter().zip(&summary.experiments) {
        assert_eq!(name, &p.name);
        let num = |i: usize| {
            cells[i].trim().parse::<f64>().unwrap_or_else(|_| panic!("cell {i} of {name}: {}", cells[i]))
        };
        assert_eq!(num(4) as u64, p.summary.total_requests, "{name} requests");
        assert_eq!(num(5) as u64, p.summary.failure_count, "{name} failures");
        let success = terrafix_tui::metrics::summary::format_success_rate(p.success_rate_percent());
        assert!(cells[6].contains(&success), "{name} success cell {} vs {success}", cells[6]);
        assert!((num(7) - p.summary.requests_per_sec).abs() < 0.006, "{name} rps");
        for (i, want) in
            [(8, p.latency_ms.p50), (9, p.latency_ms.p95), (10, p.latency_ms.p99), (11, p.latency_ms.max)]
        {
            assert!((num(i) - want).abs() < 0.051, "{name} column {i}: {} vs {want}", num(i));
        }
        let mark = if p.thresholds.iter().all(|t| t.passed) { "✓" } else { "✗" };
        assert!(cells[13].contains(mark), "{name} thresholds cell: {}", cells[13]);
    }
}

#[test]
fn html_has_one_row_per_phase_matching_the_json_and_embeds_charts() {
    let dir = tempfile::tempdir().unwrap();
    write_run(dir.path(), small(Fixture { phases: 5, ..Fixture::default() }));
    render_all(dir.path(), &OPTS).unwrap();
    // Compare against the JSON as it is on disk (floats there are what the HTML must show).
    let reloaded = RunSummary::load(&dir.path().join("experiment_summary.json")).unwrap();
    // One report: charts_report.html only points to it (kept for old bookmarks).
    let pointer = std::fs::read_to_string(dir.path().join("charts_report.html")).unwrap();
    assert!(pointer.contains("url=experiment_summary.html#charts"), "{pointer}");
    assert!(
        !pointer.contains("<svg ") && !pointer.contains("data:image/png"),
        "the pointer repeats the report"
    );
    {
        let file = "experiment_summary.html";
        let html = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert_rows_match(&html, &reloaded);
        // Findings come first, before the tables; validity details are folded.
        let findings = html.find("id=\"findings\"").expect("a findings section");
        assert!(findings < html.find("<h2>Phases</h2>").unwrap(), "findings before the phase table");
        assert!(findings < html.find("id=\"charts\"").unwrap(), "findings before the charts");
        // Each chart is inline SVG or a base64 PNG, whichever is smaller.
        let embedded = html.matches("src=\"data:image/png;base64,").count() + html.matches("<svg ").count();
        assert_eq!(embedded, 11, "{file} embeds the 11 charts");
        assert!(!html.contains("<link") && !html.contains("src=\"charts/"), "{file} must be self-contained");
        assert!(html.contains("fixture") && html.contains("42"), "{file} lacks run metadata");
        assert!(html.contains("HTTP 500") && html.contains("timeout"), "{file} lacks failures by kind");
        assert!(html.contains("Capacity search"), "{file} lacks the capacity table");
    }
}

#[test]
fn summary_html_needs_no_charts() {
    let dir = tempfile::tempdir().unwrap();
    let summary = write_run(dir.path(), small(Fixture { phases: 3, ..Fixture::default() }));
    let path = write_summary_html(dir.path(), &summary).unwrap();
    let html = std::fs::read_to_string(path).unwrap();
    assert_rows_match(&html, &summary);
    assert!(html.contains("No charts were rendered"));
    assert!(!dir.path().join("charts").exists());
}

#[test]
fn plain_locust_folder_is_charted() {
    let dir = tempfile::tempdir().unwrap();
    let written = write_run(dir.path(), small(Fixture { phases: 6, ours: false, ..Fixture::default() }));
    assert!(!dir.path().join("experiment_summary.json").exists());
    let outcome = render_all(dir.path(), &OPTS).unwrap();
    // Locust CSVs hold no faults or retries: no recovery chart, not even a placeholder.
    assert_eq!(outcome.charts.len(), 10, "{:?}", outcome.warnings);
    // Not one of our runs: everything goes into a folder of its own.
    let out = dir.path().join("terrafix-charts");
    assert!(outcome.foreign);
    assert_eq!(outcome.out_dir, out);
    assert!(!dir.path().join("charts").exists() && !dir.path().join("experiment_summary.html").exists());
    for file in CHART_FILES.iter().filter(|f| **f != "recovery.png") {
        assert_chart_ok(&out, file);
    }
    assert!(!out.join("charts/recovery.png").exists(), "recovery.png drawn for a run without faults");
    // The heatmap is approximated from the percentile columns, so it still shows data.
    let (heat, _, _) = inspect(&out.join("charts/latency_heatmap.png"), None);
    assert!(colourful_in_plot(&heat) > 10_000, "heatmap of plain CSVs is nearly empty");
    let html = std::fs::read_to_string(out.join("experiment_summary.html")).unwrap();
    let rows = phase_rows(&html);
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let expected: Vec<&str> = written.experiments.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, expected, "phases in time order");
    for ((_, cells), p) in rows.iter().zip(&written.experiments) {
        assert_eq!(cells[4].parse::<u64>().unwrap(), p.summary.total_requests);
        assert_eq!(cells[1], p.suite);
    }
}

#[test]
fn malformed_csv_is_a_warning_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write_run(dir.path(), small(Fixture { phases: 4, ..Fixture::default() }));
    let history = dir.path().join("throughput/throughput_medium_stats_history.csv");
    let text = std::fs::read_to_string(&history).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[4] = lines[4].replacen(",Aggregated,", ",Aggregated,lots,", 1).replacen(",lots,", ",lots", 1);
    lines[4] = {
        let mut cells: Vec<&str> = lines[4].split(',').collect();
        cells[4] = "lots";
        cells.join(",")
    };
    std::fs::write(&history, lines.join("\n") + "\n").unwrap();
    std::fs::write(dir.path().join("resources.csv"), "timestamp_unix_s,service\n1,api\n").unwrap();
    let outcome = render_all(dir.path(), &OPTS).unwrap();
    let joined = outcome.warnings.join("\n");
    assert!(
        joined.contains("throughput_medium_stats_history.csv:5") && joined.contains("`lots`"),
        "{joined}"
    );
    assert!(joined.contains("resources.csv:1"), "{joined}");
    assert_eq!(outcome.charts.len(), 11, "the rest still renders");
    assert_chart_ok(dir.path(), "throughput_timeline.png");
}

#[test]
fn broken_summary_falls_back_to_the_csvs() {
    let dir = tempfile::tempdir().unwrap();
    write_run(dir.path(), small(Fixture { phases: 3, ..Fixture::default() }));
    std::fs::write(dir.path().join("experiment_summary.json"), "{\"schema_version\": 1,\n \"tool\": ")
        .unwrap();
    let outcome = render_all(dir.path(), &OPTS).unwrap();
    assert!(
        outcome.warnings.iter().any(|w| w.contains("experiment_summary.json") && w.contains("line 2")),
        "{:?}",
        outcome.warnings
    );
    assert_eq!(outcome.charts.len(), 10, "every chart but recovery (the CSVs hold no faults)");
    // A summary we cannot read does not make the folder ours: its reports are left alone.
    assert_eq!(outcome.out_dir, dir.path().join("terrafix-charts"));
}

#[test]
fn quiet_run_says_what_is_missing_in_the_images() {
    let dir = tempfile::tempdir().unwrap();
    write_run(
        dir.path(),
        small(Fixture { phases: 2, failures: false, server: false, resources: false, ..Fixture::default() }),
    );
    let outcome = render_all(dir.path(), &OPTS).unwrap();
    assert_eq!(outcome.charts.len(), 11);
    for file in ["server_view.png", "resources.png", "success_failure.png"] {
        assert_chart_ok(dir.path(), file);
    }
}

#[test]
fn nothing_readable_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(render_all(dir.path(), &OPTS), Err(ReportError::NothingToRender { .. })));
    let missing = dir.path().join("nope");
    assert!(matches!(render_all(&missing, &OPTS), Err(ReportError::NotAFolder { .. })));
}

/// The seed's comparison chart: a phase is judged by its own thresholds (its limit drawn
/// over its bar), and only a phase without one against the seed's 95 % reference. The
/// fixture's smoke_failures succeeded 88.2 % under its own `error_rate: 0.5`, which passed:
/// it is green, not red against the 95 % line.
#[test]
fn comparison_png_judges_each_phase_by_its_own_threshold() {
    let copy_fixture = copy_schema1_fixture;
    const RED: [u8; 3] = [214, 39, 40];
    const GREEN: [u8; 3] = [44, 160, 44];
    const PURPLE: [u8; 3] = [148, 103, 189];
    const OWN_LIMIT: [u8; 3] = [0, 90, 90];

    // As recorded: every phase met its own limit (or, without one, the 95 % reference).
    let dir = copy_fixture();
    render_all(dir.path(), &OPTS).unwrap();
    let png = dir.path().join("charts/comparison.png");
    assert_chart_ok(dir.path(), "comparison.png");
    let (_, _, red) = inspect(&png, Some(RED));
    let (_, _, green) = inspect(&png, Some(GREEN));
    let (_, _, purple) = inspect(&png, Some(PURPLE));
    let (_, _, limit) = inspect(&png, Some(OWN_LIMIT));
    // The legend's "limit missed" box is red; a bar would be thousands of pixels.
    assert!(red < 1_000, "no phase missed its limit, yet {red} red pixels");
    assert!(green > 10_000, "three phases met their limits: {green} green pixels");
    assert!(purple > 5_000, "p99 bars in the p99 purple: {purple} pixels");
    assert!(limit > 100, "the phases' own limits are drawn: {limit} pixels");

    // Without its own threshold, smoke_failures is judged against the seed's 95 %: red.
    let dir = copy_fixture();
    let summary_path = dir.path().join("experiment_summary.json");
    let mut summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary_path).unwrap()).unwrap();
    summary["experiments"][1]["thresholds"] = serde_json::json!([]);
    // And smoke_open misses its own p99 limit: its p99 bar is red too.
    summary["experiments"][2]["thresholds"][0]["limit"] = serde_json::json!(20.0);
    summary["experiments"][2]["thresholds"][0]["passed"] = serde_json::json!(false);
    std::fs::write(&summary_path, serde_json::to_string(&summary).unwrap()).unwrap();
    render_all(dir.path(), &OPTS).unwrap();
    let (_, _, red) = inspect(&dir.path().join("charts/comparison.png"), Some(RED));
    assert!(red > 10_000, "one success bar under 95 % and one p99 bar over its limit: {red} red pixels");

    let svg = terrafix_tui::report::export_charts(
        dir.path(),
        &terrafix_tui::report::ChartRequest {
            out_dir: dir.path().join("svg"),
            format: terrafix_tui::report::ChartFormat::Svg,
            width: 1600,
            height: 1000,
            only: vec!["comparison".into()],
            phases: Vec::new(),
        },
        &|_| {},
    )
    .unwrap();
    assert_eq!(svg.charts.len(), 1);
    let text = std::fs::read_to_string(&svg.charts[0]).unwrap();
    for label in ["88.2 %", "100 %", "470 ms", "244 ms", "27.6 ms", "seed's 95 % reference", "own limit"] {
        assert!(text.contains(label), "comparison.svg lacks the label {label:?}");
    }
}

/// A copy of the recorded smoke run (three phases: no threshold, `error_rate: 0.5`, `p99_ms: 1000`).
fn copy_schema1_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema1-run");
    for e in walk(&fixture) {
        let to = dir.path().join(e.strip_prefix(&fixture).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&e, &to).unwrap();
    }
    dir
}

/// The success cells of the phase table, after `edit` has changed the recorded summary.
fn success_cells(edit: impl Fn(&mut serde_json::Value)) -> Vec<String> {
    let dir = copy_schema1_fixture();
    let path = dir.path().join("experiment_summary.json");
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut json);
    std::fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
    let summary = RunSummary::load(&path).unwrap();
    let html = std::fs::read_to_string(write_summary_html(dir.path(), &summary).unwrap()).unwrap();
    phase_rows(&html).into_iter().map(|(_, cells)| cells[6].clone()).collect()
}

/// The phase table's success cell is red only when the phase's own error-rate limit failed;
/// a phase without one is marked under the seed's 95 % reference, and says so.
#[test]
fn html_success_cell_is_red_only_for_a_missed_limit_or_the_labelled_reference() {
    // As recorded: smoke_failures succeeded 88.2 % under its own `error_rate: 0.5`, which passed.
    let cells = success_cells(|_| {});
    assert!(cells.iter().all(|c| !c.contains("fail")), "no phase missed anything: {cells:?}");
    assert!(cells[1].contains("88.2"), "{cells:?}");

    // Its limit at 0.05 fails: red, naming the limit.
    let cells = success_cells(|j| {
        j["experiments"][1]["thresholds"][0]["limit"] = serde_json::json!(0.05);
        j["experiments"][1]["thresholds"][0]["passed"] = serde_json::json!(false);
    });
    assert!(cells[1].contains("class=\"fail\"") && cells[1].contains("limit"), "{}", cells[1]);
    assert!(!cells[1].contains("95 %"), "a phase with its own limit is not judged by the reference");

    // Without a limit of its own, 88.2 % is under the seed's reference: red, labelled so.
    let cells = success_cells(|j| j["experiments"][1]["thresholds"] = serde_json::json!([]));
    assert!(cells[1].contains("class=\"fail\""), "{}", cells[1]);
    assert!(cells[1].contains("95 % reference"), "{}", cells[1]);
    // 100 % without a limit (smoke_mix) stays plain.
    assert!(!cells[0].contains("fail") && !cells[0].contains("95"), "{}", cells[0]);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}
