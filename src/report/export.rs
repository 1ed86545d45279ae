//! Exports people hand on: any subset of the charts for any subset of phases, as PNG or
//! SVG at a chosen size into a chosen folder ([`export_charts`]), and one `.tar.gz` of a
//! whole run folder ([`bundle`]). Requests are checked before anything is drawn.

use std::path::{Path, PathBuf};

use super::charts::{self, CHARTS, ChartSpec, Encoding};
use super::data::{self, RunData};
use super::{RenderOutcome, ReportError};
use crate::fsio::WritePolicy;

/// Smallest exported chart (width, height) in pixels: text and lines are sized for the span up to [`MAX_SIZE`].
pub const MIN_SIZE: (u32, u32) = (800, 500);
/// Largest exported chart (width, height) in pixels.
pub const MAX_SIZE: (u32, u32) = (3200, 2000);

/// The file format of exported charts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChartFormat {
    /// Raster PNG (the default).
    #[default]
    Png,
    /// Scalable SVG.
    Svg,
}

impl ChartFormat {
    /// The file extension, without the dot: `png` or `svg`.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Svg => "svg",
        }
    }

    fn encoding(self) -> Encoding {
        match self {
            Self::Png => Encoding::Png,
            Self::Svg => Encoding::Svg,
        }
    }
}

/// Which charts, which phases, what format and size, and where to put them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartRequest {
    /// The folder the charts are written into.
    pub out_dir: PathBuf,
    /// PNG or SVG.
    pub format: ChartFormat,
    /// Width in pixels, within [`MIN_SIZE`] and [`MAX_SIZE`].
    pub width: u32,
    /// Height in pixels, within [`MIN_SIZE`] and [`MAX_SIZE`].
    pub height: u32,
    /// Chart names ([`chart_names`]); empty means all.
    pub only: Vec<String>,
    /// Phase names (or `suite/name`); empty means all.
    pub phases: Vec<String>,
}

/// Every chart's name, as `--only` takes it (the file name without extension).
pub fn chart_names() -> Vec<&'static str> {
    CHARTS.iter().map(ChartSpec::name).collect()
}

/// Parses `1600x1000` (or `1600×1000`) and checks it is within [`MIN_SIZE`]..=[`MAX_SIZE`].
pub fn parse_size(text: &str) -> Result<(u32, u32), ReportError> {
    let bad = || ReportError::BadSize { text: text.to_string() };
    let (w, h) = text.trim().split_once(['x', 'X', '×']).ok_or_else(bad)?;
    let width: u32 = w.trim().parse().map_err(|_| bad())?;
    let height: u32 = h.trim().parse().map_err(|_| bad())?;
    check_size(width, height)?;
    Ok((width, height))
}

fn check_size(width: u32, height: u32) -> Result<(), ReportError> {
    if (MIN_SIZE.0..=MAX_SIZE.0).contains(&width) && (MIN_SIZE.1..=MAX_SIZE.1).contains(&height) {
        Ok(())
    } else {
        Err(ReportError::ExportSize { width, height })
    }
}

/// The charts a request names, in the order of [`CHARTS`]; an unknown name is an error
/// that lists the known ones.
fn select(only: &[String]) -> Result<Vec<&'static ChartSpec>, ReportError> {
    if let Some(unknown) = only.iter().find(|n| !CHARTS.iter().any(|c| c.name() == n.as_str())) {
        return Err(ReportError::UnknownChart { name: unknown.clone(), known: chart_names().join(", ") });
    }
    Ok(CHARTS.iter().filter(|c| only.is_empty() || only.iter().any(|n| n == c.name())).collect())
}

/// Checks the request against the run (sizes, chart and phase names, the folder) and
/// draws the asked charts into `req.out_dir`. `on_written` hears of each file as it lands.
pub fn export_charts(
    run_dir: &Path,
    req: &ChartRequest,
    on_written: &(dyn Fn(&Path) + Sync),
) -> Result<RenderOutcome, ReportError> {
    check_size(req.width, req.height)?;
    let specs = select(&req.only)?;
    super::style::ensure_font().map_err(ReportError::Font)?;
    let mut outcome = RenderOutcome::default();
    let mut run = data::load(run_dir, &mut outcome.warnings)?;
    if let Some(unknown) = req.phases.iter().find(|p| !run.has_phase(p)) {
        return Err(ReportError::UnknownPhase { name: unknown.clone(), known: run.phase_names().join(", ") });
    }
    run.keep_phases(&req.phases);
    // "All charts" means those with something to show; a chart named explicitly is drawn.
    let specs: Vec<_> = specs.into_iter().filter(|s| !req.only.is_empty() || s.applies_to(&run)).collect();
    prepare_folder(&req.out_dir)?;
    // Files of these names are ours to redraw in the chosen folder; a device, a FIFO or a
    // symlink in their place is refused before anything is drawn.
    for spec in &specs {
        let path = req.out_dir.join(format!("{}.{}", spec.name(), req.format.extension()));
        crate::fsio::check_destination(&path, WritePolicy::Regenerate { root: &req.out_dir })?;
    }
    let results = draw_all(&specs, &run, req, on_written);
    for (path, result) in results {
        match result {
            Ok(()) => outcome.charts.push(path),
            Err(e) => outcome.warnings.push(format!("{}: chart not drawn: {e}", path.display())),
        }
    }
    Ok(outcome)
}

/// Creates the folder and proves a file can be written in it, so a bad `--out` fails
/// once, up front, instead of once per chart.
fn prepare_folder(dir: &Path) -> Result<(), ReportError> {
    let out_dir = |source| ReportError::OutDir { path: dir.to_path_buf(), source };
    std::fs::create_dir_all(dir).map_err(out_dir)?;
    // A new file only (create_new never opens a device, a FIFO or a link someone left here).
    let probe = dir.join(format!(".terrafix-write-probe-{}", std::process::id()));
    std::fs::OpenOptions::new().write(true).create_new(true).open(&probe).map_err(out_dir)?;
    // The probe is empty and ours; if it cannot be removed the folder is still usable.
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Draws on scoped threads (one per chart: encoding dominates and charts are independent).
fn draw_all(
    specs: &[&'static ChartSpec],
    run: &RunData,
    req: &ChartRequest,
    on_written: &(dyn Fn(&Path) + Sync),
) -> Vec<(PathBuf, Result<(), String>)> {
    let paths: Vec<PathBuf> =
        specs.iter().map(|s| req.out_dir.join(format!("{}.{}", s.name(), req.format.extension()))).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = specs
            .iter()
            .zip(&paths)
            .map(|(spec, path)| {
                scope.spawn(move || {
                    let bytes = charts::render(spec, run, req.format.encoding(), req.width, req.height)
                        .map_err(|e| e.0)?;
                    let policy = WritePolicy::Regenerate { root: &req.out_dir };
                    crate::fsio::write_atomic(path, &bytes, policy).map_err(|e| e.to_string())?;
                    on_written(path);
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(&paths)
            .map(|(h, path)| (path.clone(), h.join().unwrap_or_else(|_| Err("drawing panicked".to_string()))))
            .collect()
    })
}
