//! Results on disk: Locust-compatible CSVs, the JSON summary, HTML reports and PNG/SVG
//! charts (plotters). Reads `metrics` types; never imports `tui` or engine internals.
//! Entry points: [`render_all`] (every chart, both HTML files and `experiment_report.md`),
//! [`write_reports`] (the HTML summary and the Markdown report from what is on disk), [`write_summary_html`],
//! [`export_charts`] (chosen charts, phases, format and size) and [`bundle`] (one .tar.gz).
//! and for `compare`: [`compare::compare_runs`] and [`render_compare_png`].

#![deny(missing_docs)]

/// `write!` into a `String`, which cannot fail: the report builders append a great deal of
/// text, and this says once why their writes need no error handling.
macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        use ::std::fmt::Write as _;
        // fmt::Write for String never returns an error (it only grows the buffer).
        let _ = $out.write_fmt(format_args!($($arg)*));
    }};
}

/// [`put!`] with a newline, as `writeln!`.
macro_rules! putln {
    ($out:expr, $($arg:tt)*) => {{
        use ::std::fmt::Write as _;
        // fmt::Write for String never returns an error (it only grows the buffer).
        let _ = $out.write_fmt(format_args!("{}\n", format_args!($($arg)*)));
    }};
}

mod bundle;
mod charts;
pub mod compare;
pub(crate) mod data;
mod escape;
mod export;
pub mod files;
mod html;
pub mod junit;
pub(crate) mod locust;
pub mod markdown;
mod plain;
mod style;

use std::path::{Path, PathBuf};

use crate::metrics::summary::RunSummary;

pub use bundle::{GZIP_MAGIC, bundle, default_bundle_path, run_id};
pub use export::{ChartFormat, ChartRequest, MAX_SIZE, MIN_SIZE, chart_names, export_charts, parse_size};
pub use html::{CHARTS_REPORT_FILE, SUMMARY_HTML_FILE};
pub use markdown::REPORT_MD_FILE;

/// Folder (inside the run folder) that holds the PNGs.
pub const CHARTS_DIR: &str = "charts";

/// Chart size in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    /// Width in pixels (default 1600).
    pub width: u32,
    /// Height in pixels (default 1000).
    pub height: u32,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self { width: 1600, height: 1000 }
    }
}

/// What a render produced. `warnings` name each file (and line) that could not be used.
#[derive(Clone, Debug, Default)]
pub struct RenderOutcome {
    /// The PNG charts written, in `charts/`.
    pub charts: Vec<PathBuf>,
    /// The HTML reports written (`experiment_summary.html`, `charts_report.html`).
    pub html: Vec<PathBuf>,
    /// `experiment_report.md`, written beside the HTML.
    pub markdown: Option<PathBuf>,
    /// One line per file (and line) that could not be used, with why.
    pub warnings: Vec<String>,
    /// The folder the reports went into (`charts/` inside it holds the PNGs).
    pub out_dir: PathBuf,
    /// The folder was not one of our runs, so nothing was written beside its own files.
    pub foreign: bool,
}

/// Why a report could not be made; [`ReportError::is_usage`] tells the caller's mistakes from the machine's.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The path given is not a folder.
    #[error(
        "{path} is not a folder; pass a run folder (with experiment_summary.json) or a folder of Locust CSVs"
    )]
    NotAFolder {
        /// The path as given.
        path: PathBuf,
    },
    /// The folder holds neither a readable summary nor any Locust stats CSV.
    #[error(
        "nothing to chart in {dir}: no readable experiment_summary.json and no *_stats.csv in it or its sub-folders"
    )]
    NothingToRender {
        /// The folder searched.
        dir: PathBuf,
    },
    /// A report file could not be written.
    #[error("cannot write {path}: {source}; check the folder exists and is writable")]
    Write {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// plotters failed to draw a chart.
    #[error("{path}: chart not drawn: {message}")]
    Chart {
        /// The chart file.
        path: PathBuf,
        /// plotters' reason.
        message: String,
    },
    /// The compiled-in font did not load (a build problem); the text is the reason.
    #[error("the compiled-in chart font could not be loaded: {0}")]
    Font(String),
    /// A render size outside 400×300 to 8000×8000 pixels.
    #[error("chart size {width}×{height} is too small or too large; use 400×300 up to 8000×8000")]
    Size {
        /// Width asked for, pixels.
        width: u32,
        /// Height asked for, pixels.
        height: u32,
    },
    /// An export size outside 800×500 to 3200×2000 pixels.
    #[error("chart size {width}×{height} is out of range; use 800x500 up to 3200x2000")]
    ExportSize {
        /// Width asked for, pixels.
        width: u32,
        /// Height asked for, pixels.
        height: u32,
    },
    /// A size that is not written `WIDTHxHEIGHT`.
    #[error("chart size `{text}` is not WIDTHxHEIGHT; write it like 1600x1000 (800x500 up to 3200x2000)")]
    BadSize {
        /// The text as given.
        text: String,
    },
    /// A chart name that is not one of ours.
    #[error("no chart is called `{name}`; the charts are: {known}")]
    UnknownChart {
        /// The name as given.
        name: String,
        /// The chart names, comma-separated.
        known: String,
    },
    /// A phase name the run does not have.
    #[error("this run has no phase called `{name}`; its phases are: {known}")]
    UnknownPhase {
        /// The name as given.
        name: String,
        /// The run's phase names, comma-separated.
        known: String,
    },
    /// The output folder could not be created or written.
    #[error("cannot write into {path}: {source}; pick a folder you can write to")]
    OutDir {
        /// The folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A run file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A refused read or write (a device, a symlink out of the run, a file not ours to replace).
    #[error(transparent)]
    Files(#[from] crate::fsio::FsError),
}

impl ReportError {
    /// True when the error is about what was asked (a name, a size, a folder), not about
    /// the machine: the command line turns these into exit code 2.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::NotAFolder { .. }
                | Self::NothingToRender { .. }
                | Self::ExportSize { .. }
                | Self::BadSize { .. }
                | Self::UnknownChart { .. }
                | Self::UnknownPhase { .. }
                | Self::OutDir { .. }
        ) || matches!(self, Self::Files(e) if e.is_usage())
    }
}

/// Renders every chart under `<run>/charts/` and writes `experiment_summary.html` and
/// `charts_report.html`. Works on our run folders and on plain Locust CSV folders.
/// Unreadable files become warnings; an error only when nothing at all can be read.
pub fn render_all(run_dir: &Path, opts: &RenderOptions) -> Result<RenderOutcome, ReportError> {
    render_into(run_dir, None, opts)
}

/// Where `render_all` writes for a folder that is not one of our runs (the seed harness's
/// results, plain Locust CSVs): a sub-folder of its own, so none of the folder's files
/// (its `experiment_summary.html`, `charts_report.html`, PNGs) is overwritten.
pub const FOREIGN_OUT_DIR: &str = "terrafix-charts";

/// `render_all`, with the reports and `charts/` written into `out_dir` when given. Without
/// it: into the run folder itself when it is one of ours (a readable summary), otherwise
/// into `<dir>/terrafix-charts/`.
pub fn render_into(
    run_dir: &Path,
    out_dir: Option<&Path>,
    opts: &RenderOptions,
) -> Result<RenderOutcome, ReportError> {
    if !(400..=8000).contains(&opts.width) || !(300..=8000).contains(&opts.height) {
        return Err(ReportError::Size { width: opts.width, height: opts.height });
    }
    style::ensure_font().map_err(ReportError::Font)?;
    let mut outcome = RenderOutcome::default();
    let run = data::load(run_dir, &mut outcome.warnings)?;
    outcome.foreign = run.from_plain_csv;
    outcome.out_dir = output_folder(run_dir, out_dir, run.from_plain_csv)?;
    let out_dir = outcome.out_dir.clone();
    let charts_dir = out_dir.join(CHARTS_DIR);
    std::fs::create_dir_all(&charts_dir)
        .map_err(|source| ReportError::Write { path: charts_dir.clone(), source })?;
    // The charts are ours to redraw, but only inside the folder: a `charts/` symlink that
    // leads elsewhere (or a chart that is a device or a link) is refused before drawing.
    let policy = crate::fsio::WritePolicy::Regenerate { root: &out_dir };
    for spec in charts::CHARTS.iter() {
        crate::fsio::check_destination(&charts_dir.join(spec.file), policy)?;
    }
    let specs: Vec<&charts::ChartSpec> = charts::CHARTS.iter().filter(|s| s.applies_to(&run)).collect();
    let results = draw_charts(&specs, &run, &charts_dir, policy, opts);
    let mut embeds = Vec::new();
    for (spec, result) in specs.into_iter().zip(results) {
        let path = charts_dir.join(spec.file);
        match result {
            Ok(embed) => {
                outcome.charts.push(path);
                embeds.push((spec, embed));
            }
            Err(e) => outcome.warnings.push(format!("{}: chart not drawn: {e}", path.display())),
        }
    }
    let drawn = html::Charts::Drawn(&embeds);
    let (summary_html, report_md) =
        write_summary_pages(&out_dir, &run.summary, &markdown::seconds_of(&run), &drawn)?;
    outcome.html.push(summary_html);
    // The pointer page names the report and nothing else: it reads no findings.
    outcome.html.push(html::write(&out_dir, &run.summary, &[], html::Kind::Charts, &drawn)?);
    outcome.markdown = Some(report_md);
    Ok(outcome)
}

/// Where [`render_into`] writes: `out_dir` when given, else the run folder when it is one of
/// ours, else its `terrafix-charts/`. Refused when `out_dir` is inside another run's folder:
/// `--output` naming it would replace that run's charts and reports.
fn output_folder(run_dir: &Path, out_dir: Option<&Path>, foreign: bool) -> Result<PathBuf, ReportError> {
    let out_dir = match out_dir {
        Some(dir) => dir.to_path_buf(),
        None if foreign => run_dir.join(FOREIGN_OUT_DIR),
        None => run_dir.to_path_buf(),
    };
    if let Some(other) = out_dir.exists().then(|| crate::fsio::inside_run_folder(&out_dir)).flatten()
        && run_dir.canonicalize().ok().as_deref() != Some(other.as_path())
    {
        return Err(crate::fsio::FsError::Refused {
            path: out_dir,
            why: format!(
                "it is inside the run folder {}, whose reports are its own; choose another folder",
                other.display()
            ),
        }
        .into());
    }
    Ok(out_dir)
}

/// Draws each chart of `specs` into `charts_dir`, in `specs`' order. Charts are independent:
/// they are drawn on scoped threads (PNG encoding dominates). Each is also drawn as SVG so
/// the reports can carry whichever of the two is smaller.
fn draw_charts(
    specs: &[&charts::ChartSpec],
    run: &data::RunData,
    charts_dir: &Path,
    policy: crate::fsio::WritePolicy<'_>,
    opts: &RenderOptions,
) -> Vec<Result<html::Embed, String>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = specs
            .iter()
            .map(|&spec| {
                let path = charts_dir.join(spec.file);
                scope.spawn(move || {
                    let png = charts::render(spec, run, charts::Encoding::Png, opts.width, opts.height)
                        .map_err(|e| e.0)?;
                    crate::fsio::write_atomic(&path, &png, policy).map_err(|e| e.to_string())?;
                    let svg = charts::render(spec, run, charts::Encoding::SvgInPage, opts.width, opts.height)
                        .ok()
                        .and_then(|bytes| String::from_utf8(bytes).ok());
                    Ok(html::Embed::smaller(png, svg))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("drawing panicked".to_string())))
            .collect()
    })
}

/// The one writer of `experiment_summary.html` and of `experiment_report.md` beside it,
/// for [`render_into`], [`write_summary_html`] (the run's own, at its end) and
/// [`write_reports`]: the findings from the summary and its per-second histories, then both
/// pages into `out_dir`. Returns (the HTML, the Markdown).
fn write_summary_pages(
    out_dir: &Path,
    summary: &RunSummary,
    seconds: &[Vec<crate::analysis::SecondPoint>],
    charts: &html::Charts<'_>,
) -> Result<(PathBuf, PathBuf), ReportError> {
    let findings = crate::analysis::analyse(summary, seconds);
    let page = html::write(out_dir, summary, &findings, html::Kind::Summary, charts)?;
    let report = markdown::write(out_dir, summary, seconds)?;
    Ok((page, report))
}

/// Writes `<run>/experiment_summary.html` from the summary alone; embeds whatever PNGs
/// are already in `<run>/charts/` (none is fine, e.g. with `--no-charts`).
/// `experiment_report.md` is written beside it (see [`write_reports`]).
pub fn write_summary_html(run_dir: &Path, summary: &RunSummary) -> Result<PathBuf, ReportError> {
    // The per-second histories feed the findings about growth and error onset; without
    // them (unreadable, or a phase count that does not match) the summary alone speaks.
    let seconds = data::load(run_dir, &mut Vec::new())
        .ok()
        .filter(|run| !run.from_plain_csv && run.phases.len() == summary.experiments.len())
        .map(|run| markdown::seconds_of(&run))
        .unwrap_or_default();
    write_summary_pages(run_dir, summary, &seconds, &html::Charts::OnDisk).map(|(page, _)| page)
}

/// `terrafix-tui report RUN`: (re)writes `experiment_summary.html` and
/// `experiment_report.md` from a run folder without redrawing charts (the reports link or
/// embed the ones on disk). A folder that is not one of our runs (the seed's Locust CSVs)
/// gets them in `terrafix-charts/` inside it, as `charts` does. Returns the files written.
pub fn write_reports(run_dir: &Path) -> Result<(Vec<PathBuf>, Vec<String>), ReportError> {
    let mut warnings = Vec::new();
    let run = data::load(run_dir, &mut warnings)?;
    let out_dir = if run.from_plain_csv { run_dir.join(FOREIGN_OUT_DIR) } else { run_dir.to_path_buf() };
    std::fs::create_dir_all(&out_dir)
        .map_err(|source| ReportError::OutDir { path: out_dir.clone(), source })?;
    let (html, md) =
        write_summary_pages(&out_dir, &run.summary, &markdown::seconds_of(&run), &html::Charts::OnDisk)?;
    Ok((vec![html, md], warnings))
}

/// The findings of a run folder (ours or Locust CSVs), with the per-second histories.
pub fn findings_of(run_dir: &Path) -> Result<(RunSummary, Vec<crate::analysis::Finding>), ReportError> {
    let run = data::load(run_dir, &mut Vec::new())?;
    let findings = crate::analysis::analyse(&run.summary, &markdown::seconds_of(&run));
    Ok((run.summary, findings))
}

/// Draws `compare.png` (each shared phase's p99 in A beside B, with intervals) at `path`.
pub fn render_compare_png(
    comparison: &crate::metrics::compare::Comparison,
    path: &Path,
    opts: &RenderOptions,
) -> Result<(), ReportError> {
    if !(400..=8000).contains(&opts.width) || !(300..=8000).contains(&opts.height) {
        return Err(ReportError::Size { width: opts.width, height: opts.height });
    }
    style::ensure_font().map_err(ReportError::Font)?;
    let png = charts::draw_png(opts.width, opts.height, |root, sizes| {
        charts::compare::draw(root, comparison, sizes)
    })
    .map_err(|e| ReportError::Chart { path: path.to_path_buf(), message: e.0 })?;
    crate::fsio::write_atomic(path, &png, compare_chart_policy())?;
    Ok(())
}

/// A PNG file's signature: `compare --chart` redraws over a chart of its own, nothing else.
pub const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Where `compare --chart` may write: a new file, or over an earlier PNG outside any run folder.
pub fn compare_chart_policy() -> crate::fsio::WritePolicy<'static> {
    crate::fsio::WritePolicy::UserNamed { force: false, ours: Some(PNG_MAGIC) }
}
