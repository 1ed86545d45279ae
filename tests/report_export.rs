//! Exports people hand on, from run folders written the way the engine writes them:
//! every chart as SVG (well-formed XML with its title, its text as the compiled-in
//! font's glyphs, and its series in their colours)
//! and as PNG at the smallest and largest size; `charts --out` with `--only`/`--phase`
//! writes exactly the asked files and refuses bad requests with exit 2; `export` packs
//! the run byte for byte; the HTML reports shrank to at most half their old size.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod report_fixture;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use report_fixture::{Fixture, write_run};
use terrafix_tui::report::{
    ChartFormat, ChartRequest, RenderOptions, chart_names, export_charts, render_all,
};

/// What a chart's series look like in its SVG: a polyline of at least N points in the
/// colour, or at least N filled rectangles in it (a legend swatch is one).
#[derive(Clone, Copy, Debug)]
enum Series {
    Line(usize),
    Bars(usize),
}

const EXPECTED: [(&str, &str, &str, Series); 11] = [
    ("throughput_timeline", "Throughput over time", "#1F77B4", Series::Line(20)),
    ("latency_over_time", "Latency over time", "#9467BD", Series::Line(20)),
    ("latency_percentiles", "Latency percentiles per phase", "#9ECAE1", Series::Bars(3)),
    ("latency_distribution", "Latency distribution per phase", "#1F77B4", Series::Line(20)),
    ("throughput_vs_latency", "Throughput against latency", "#1F77B4", Series::Line(2)),
    ("success_failure", "Successes and failures", "#2CA02C", Series::Bars(3)),
    ("latency_heatmap", "Latency heatmap", "#FDE725", Series::Bars(2)),
    ("server_view", "Client against server", "#C85A0A", Series::Bars(3)),
    ("resources", "Target resources", "#8C564B", Series::Line(10)),
    ("comparison", "Phase comparison", "#9467BD", Series::Bars(3)),
    ("recovery", "Recovery", "#9467BD", Series::Line(15)),
];

fn small(f: Fixture) -> Fixture {
    Fixture { seconds_per_phase: 20, ..f }
}

fn request(out_dir: &Path, format: ChartFormat, (width, height): (u32, u32)) -> ChartRequest {
    ChartRequest {
        out_dir: out_dir.to_path_buf(),
        format,
        width,
        height,
        only: Vec::new(),
        phases: Vec::new(),
    }
}

fn colour_of(node: &roxmltree::Node<'_, '_>, attr: &str) -> Option<String> {
    node.attribute(attr).map(str::to_ascii_uppercase)
}

fn assert_svg_chart(path: &Path, title: &str, colour: &str, series: Series, size: (u32, u32)) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc =
        roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{} is not XML: {e}", path.display()));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("width"), Some(size.0.to_string().as_str()));
    assert_eq!(root.attribute("height"), Some(size.1.to_string().as_str()));
    let texts: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect();
    assert!(texts.iter().any(|t| t == title), "{}: no title text {title:?} in {texts:?}", path.display());
    // Visible text is the compiled-in font's glyph outlines: each <use> points at a glyph
    // defined in the file, the title's letters are there, and the words stay as
    // invisible text for search.
    let defined: std::collections::HashSet<&str> =
        doc.descendants().filter(|n| n.has_tag_name("path")).filter_map(|n| n.attribute("id")).collect();
    let uses: Vec<&str> =
        doc.descendants().filter(|n| n.has_tag_name("use")).filter_map(|n| n.attribute("href")).collect();
    assert!(
        uses.len() >= title.chars().filter(|c| !c.is_whitespace()).count(),
        "{}: {} glyphs",
        path.display(),
        uses.len()
    );
    assert!(
        uses.iter().all(|h| h.strip_prefix('#').is_some_and(|id| defined.contains(id))),
        "{}: a glyph is used but not defined",
        path.display()
    );
    assert!(
        doc.descendants()
            .filter(|n| n.has_tag_name("text"))
            .all(|n| n.attribute("fill-opacity") == Some("0")),
        "{}: some text is left to the viewer's fonts",
        path.display()
    );
    let found = match series {
        Series::Line(points) => doc
            .descendants()
            .filter(|n| n.has_tag_name("polyline") && colour_of(n, "stroke").as_deref() == Some(colour))
            .map(|n| n.attribute("points").unwrap_or("").split_whitespace().count())
            .max()
            .unwrap_or(0)
            .ge(&points),
        Series::Bars(count) => {
            doc.descendants()
                .filter(|n| n.has_tag_name("rect") && colour_of(n, "fill").as_deref() == Some(colour))
                .count()
                >= count
        }
    };
    assert!(found, "{}: no series in {colour} ({series:?})", path.display());
}

#[test]
fn every_chart_renders_as_svg_with_its_title_and_series_colours() {
    let run = tempfile::tempdir().unwrap();
    write_run(run.path(), small(Fixture::default()));
    let out = tempfile::tempdir().unwrap();
    let outcome =
        export_charts(run.path(), &request(out.path(), ChartFormat::Svg, (1600, 1000)), &|_| {}).unwrap();
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    assert_eq!(outcome.charts.len(), 11);
    assert_eq!(chart_names(), EXPECTED.map(|e| e.0).to_vec(), "the test covers every chart");
    for (name, title, colour, series) in EXPECTED {
        assert_svg_chart(&out.path().join(format!("{name}.svg")), title, colour, series, (1600, 1000));
    }
}

/// Luminance variance and how many pixels have clear colour (not white, grey or black).
fn inspect_png(path: &Path) -> (image::RgbImage, f64, usize) {
    let img =
        image::open(path).unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display())).to_rgb8();
    let lum: Vec<f64> = img
        .pixels()
        .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
        .collect();
    let mean = lum.iter().sum::<f64>() / lum.len() as f64;
    let variance = lum.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / lum.len() as f64;
    let colourful = img
        .pixels()
        .filter(|p| p.0.iter().max().copied().unwrap_or(0) - p.0.iter().min().copied().unwrap_or(0) > 60)
        .count();
    (img, variance, colourful)
}

#[test]
fn every_chart_renders_as_png_at_the_smallest_and_largest_size() {
    let run = tempfile::tempdir().unwrap();
    write_run(run.path(), small(Fixture { phases: 4, ..Fixture::default() }));
    for size in [(800, 500), (3200, 2000)] {
        let out = tempfile::tempdir().unwrap();
        let outcome =
            export_charts(run.path(), &request(out.path(), ChartFormat::Png, size), &|_| {}).unwrap();
        assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
        for name in chart_names() {
            let path = out.path().join(format!("{name}.png"));
            let (img, variance, colourful) = inspect_png(&path);
            assert_eq!(img.dimensions(), size, "{name} at {size:?}");
            assert!(variance > 100.0, "{name} at {size:?} looks blank (variance {variance:.1})");
            // Series colour covers a share of the image that does not shrink with its size.
            let share = colourful as f64 / f64::from(size.0 * size.1);
            assert!(share > 0.002, "{name} at {size:?}: only {colourful} coloured pixels");
        }
    }
}

#[test]
fn lines_and_text_grow_with_the_image() {
    let run = tempfile::tempdir().unwrap();
    write_run(run.path(), small(Fixture { phases: 3, ..Fixture::default() }));
    let widths: Vec<(f64, f64)> = [(800, 500), (3200, 2000)]
        .into_iter()
        .map(|size| {
            let out = tempfile::tempdir().unwrap();
            let req = ChartRequest {
                only: vec!["throughput_timeline".into()],
                ..request(out.path(), ChartFormat::Svg, size)
            };
            export_charts(run.path(), &req, &|_| {}).unwrap();
            let text = std::fs::read_to_string(out.path().join("throughput_timeline.svg")).unwrap();
            let doc = roxmltree::Document::parse(&text).unwrap();
            let max_attr = |tag: &str, attr: &str| {
                doc.descendants()
                    .filter(|n| n.has_tag_name(tag))
                    .filter_map(|n| n.attribute(attr)?.parse::<f64>().ok())
                    .fold(0.0, f64::max)
            };
            (max_attr("polyline", "stroke-width"), max_attr("text", "font-size"))
        })
        .collect();
    let ((line_small, font_small), (line_large, font_large)) = (widths[0], widths[1]);
    assert!(line_small >= 1.0, "no series line at 800x500");
    assert!(line_large >= 3.0 * line_small, "line widths {line_small} → {line_large}");
    assert!(font_large >= 2.5 * font_small, "title sizes {font_small} → {font_large}");
    assert!(font_small >= 12.0, "the 800x500 title is {font_small} px");
}

fn cli(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_terrafix-tui")).args(args).current_dir(cwd).output().unwrap()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn only_and_phase_write_exactly_the_asked_files_and_phases() {
    let run = tempfile::tempdir().unwrap();
    write_run(run.path(), small(Fixture { phases: 8, ..Fixture::default() }));
    let out = run.path().join("picked");
    let run_arg = run.path().to_str().unwrap();
    let output = cli(
        &[
            "charts",
            run_arg,
            "--out",
            out.to_str().unwrap(),
            "--format",
            "svg",
            "--size",
            "1200x800",
            "--only",
            "latency_percentiles,latency_over_time",
            "--phase",
            "throughput_high",
            "--phase",
            "resilience/resilience_burst",
        ],
        run.path(),
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(files_in(&out), ["latency_over_time.svg", "latency_percentiles.svg"]);
    let svg = std::fs::read_to_string(out.join("latency_percentiles.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let texts: Vec<&str> =
        doc.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).collect();
    let mentions = |phase: &str| texts.iter().any(|t| t.contains(phase));
    assert!(mentions("throughput_high") && mentions("resilience_burst"), "{texts:?}");
    for other in ["throughput_baseline", "throughput_medium", "throughput_max", "resilience_steady"] {
        assert!(!mentions(other), "{other} is drawn though not asked for");
    }
    // Two phases, two bar groups of six percentiles: no more bars of the lightest colour.
    let p50_bars = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some("#9ECAE1"))
        .count();
    assert_eq!(p50_bars, 2 + 1, "two p50 bars and one legend swatch");

    let png_out = run.path().join("one-png");
    let output =
        cli(&["charts", run_arg, "--out", png_out.to_str().unwrap(), "--only", "resources"], run.path());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(files_in(&png_out), ["resources.png"]);
    let (img, ..) = inspect_png(&png_out.join("resources.png"));
    assert_eq!(img.dimensions(), (1600, 1000), "the default size");
}

#[test]
fn bad_requests_exit_2_with_a_message_and_write_nothing() {
    let run = tempfile::tempdir().unwrap();
    write_run(run.path(), small(Fixture { phases: 2, ..Fixture::default() }));
    let run_arg = run.path().to_str().unwrap();
    let out = run.path().join("never");
    let out_arg = out.to_str().unwrap();
    let not_a_folder = run.path().join("experiment_summary.json").join("sub");
    let cases: [(Vec<&str>, &str); 5] = [
        (
            vec!["--only", "latency_over_time,p99"],
            "no chart is called `p99`; the charts are: throughput_timeline, latency_over_time",
        ),
        (vec!["--size", "640x480"], "use 800x500 up to 3200x2000"),
        (vec!["--size", "3201x2000"], "use 800x500 up to 3200x2000"),
        (vec!["--size", "big"], "is not WIDTHxHEIGHT"),
        (
            vec!["--phase", "warmup"],
            "no phase called `warmup`; its phases are: throughput_baseline, throughput_medium",
        ),
    ];
    for (extra, message) in cases {
        let mut args = vec!["charts", run_arg, "--out", out_arg];
        args.extend(&extra);
        let output = cli(&args, run.path());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(message), "{extra:?}: {stderr}");
        assert!(!out.exists(), "{extra:?} created the output folder");
    }
    let output = cli(&["charts", run_arg, "--out", not_a_folder.to_str().unwrap()], run.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write into") && stderr.contains("pick a folder you can write to"),
        "{stderr}"
    );
    assert!(!run.path().join("charts").exists(), "a failed export must not draw into the run folder");
}

/// Every regular file under `dir`, by path relative to it, with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(here) = pending.pop() {
        for entry in std::fs::read_dir(&here).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.insert(path.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

#[test]
fn bundle_unpacks_to_the_runs_files_byte_for_byte() {
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("20251206-081500-fixture");
    std::fs::create_dir(&run).unwrap();
    write_run(&run, small(Fixture { phases: 3, ..Fixture::default() }));
    let output = cli(&["export", run.to_str().unwrap()], root.path());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let bundle = root.path().join("20251206-081500-fixture.tar.gz");
    assert!(
        bundle.is_file(),
        "the bundle is named after the run: {}",
        String::from_utf8_lossy(&output.stdout)
    );

    let unpacked = root.path().join("unpacked");
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(&bundle).unwrap());
    tar::Archive::new(gz).unpack(&unpacked).unwrap();
    let original = tree(&run);
    let packed = tree(&unpacked.join("20251206-081500-fixture"));
    assert_eq!(files_in(&unpacked), ["20251206-081500-fixture"], "one top folder, the run id");
    assert_eq!(original.keys().collect::<Vec<_>>(), packed.keys().collect::<Vec<_>>());
    for (path, bytes) in &original {
        assert!(packed[path] == *bytes, "{} differs in the bundle", path.display());
    }
    // The run was written without charts: the bundle drew them first.
    for needed in [
        "experiment_summary.json",
        "experiment_summary.html",
        "charts_report.html",
        "charts/latency_over_time.png",
        "throughput/throughput_baseline_stats.csv",
        "throughput/throughput_baseline_stats_history.csv",
        "throughput/throughput_baseline.hlog",
        "resources.csv",
    ] {
        assert!(packed.contains_key(Path::new(needed)), "{needed} is not in the bundle");
    }

    let chosen = root.path().join("elsewhere").join("run.tar.gz");
    let output = cli(&["export", run.to_str().unwrap(), "--out", chosen.to_str().unwrap()], root.path());
    assert!(output.status.success() && chosen.is_file(), "{}", String::from_utf8_lossy(&output.stderr));
    let folder = root.path().join("elsewhere");
    let output = cli(&["export", run.to_str().unwrap(), "--out", folder.to_str().unwrap()], root.path());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        folder.join("20251206-081500-fixture.tar.gz").is_file(),
        "--out FOLDER puts <run-id>.tar.gz in it"
    );
    let output = cli(&["export", root.path().join("missing").to_str().unwrap()], root.path());
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
}

/// `charts_report.html` of `Fixture::default()` (12 phases, 30 s each) as the charts
/// command wrote it before this change (fast PNG compression, every chart a PNG).
const HTML_BYTES_BEFORE: u64 = 5_538_986;

#[test]
fn html_reports_of_twelve_phases_are_at_most_half_their_old_size() {
    let run = tempfile::tempdir().unwrap();
    write_run(run.path(), Fixture::default());
    let outcome = render_all(run.path(), &RenderOptions::default()).unwrap();
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
    // charts_report.html is now a pointer to the one report; the report holds the charts.
    {
        let file = "experiment_summary.html";
        let bytes = std::fs::metadata(run.path().join(file)).unwrap().len();
        eprintln!("{file}: {bytes} bytes (before: {HTML_BYTES_BEFORE})");
        assert!(bytes <= HTML_BYTES_BEFORE / 2, "{file} is {bytes} bytes, over half of {HTML_BYTES_BEFORE}");
        let html = std::fs::read_to_string(run.path().join(file)).unwrap();
        // Eleven charts since comparison.png and recovery.png joined (the size bound above still holds).
        assert_eq!(html.matches("<svg ").count() + html.matches("data:image/png;base64,").count(), 11);
    }
}
