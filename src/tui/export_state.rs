//! The Results screen's export dialog as plain data: format, size, which charts, which
//! phases and the folder, as one list of rows a cursor moves over; the job it started;
//! and the choices remembered for the rest of the session.

use std::path::PathBuf;

/// The file format of exported charts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExportFormat {
    /// Raster images, the size chosen in pixels.
    #[default]
    Png,
    /// Vector images; the size sets their nominal width and height.
    Svg,
}

impl ExportFormat {
    /// The format's name as the dialog shows it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Png => "PNG",
            Self::Svg => "SVG",
        }
    }
}

/// The sizes the dialog offers, smallest to largest (the command line takes any in range).
pub const SIZES: [(u32, u32); 5] = [(800, 500), (1200, 750), (1600, 1000), (2400, 1500), (3200, 2000)];
/// Index of 1600×1000 in [`SIZES`], the default.
pub const DEFAULT_SIZE: usize = 2;

/// One row of the dialog, top to bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Row {
    /// The file format (←→ cycles PNG / SVG).
    Format,
    /// The image size (←→ cycles [`SIZES`]).
    Size,
    /// The tick box of one chart, an index into `ExportDialog::charts`.
    Chart(usize),
    /// The tick box of one phase, an index into `ExportDialog::phases`.
    Phase(usize),
    /// The output folder (Enter edits it).
    Folder,
    /// The button that starts the export.
    Start,
}

/// What `app` is asked to export (the TUI's own type; `app` maps it to the report's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRequest {
    /// The run folder whose data is drawn.
    pub run_dir: PathBuf,
    /// Where the files go; created if missing.
    pub out_dir: PathBuf,
    /// PNG or SVG.
    pub format: ExportFormat,
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Chart names; every chart when all are ticked (then empty).
    pub only: Vec<String>,
    /// Phase names; every phase when all are ticked (then empty).
    pub phases: Vec<String>,
}

/// A dialog's job: running (files written so far), done (the paths), or failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportJob {
    /// Files are being written.
    Running {
        /// The files written so far.
        written: Vec<PathBuf>,
        /// How many files the export will write in all.
        total: usize,
    },
    /// Every chart was drawn or skipped.
    Done {
        /// The files written.
        written: Vec<PathBuf>,
        /// Charts skipped and why.
        warnings: Vec<String>,
    },
    /// The export stopped: why.
    Failed(String),
}

/// What the dialog remembers between openings in one session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportChoices {
    /// The format chosen last.
    pub format: ExportFormat,
    /// The size chosen last, an index into [`SIZES`].
    pub size: usize,
    /// Names left unticked (so a run with other phases starts with all of its own ticked).
    pub charts_off: Vec<String>,
    /// Phase names left unticked.
    pub phases_off: Vec<String>,
    /// A folder typed by hand; `None` keeps the per-run default.
    pub folder: Option<String>,
}

impl Default for ExportChoices {
    fn default() -> Self {
        Self {
            format: ExportFormat::default(),
            size: DEFAULT_SIZE,
            charts_off: Vec::new(),
            phases_off: Vec::new(),
            folder: None,
        }
    }
}

/// `b`: one run packed into a `.tar.gz`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BundleJob {
    /// The archive is being written.
    Packing,
    /// The archive written.
    Done(PathBuf),
    /// Packing failed: why.
    Failed(String),
}

/// `./exports/<run-id>.tar.gz`, beside the run's exported charts.
pub fn default_bundle(run_id: &str) -> PathBuf {
    PathBuf::from("./exports").join(format!("{run_id}.tar.gz"))
}

/// The export dialog (`e` on the Results screen): every choice as a row, and the job once started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportDialog {
    /// The run folder's name.
    pub run_id: String,
    /// The run folder.
    pub run_dir: PathBuf,
    /// The file format.
    pub format: ExportFormat,
    /// The image size, an index into [`SIZES`].
    pub size: usize,
    /// Every chart the run has, with whether it is ticked.
    pub charts: Vec<(String, bool)>,
    /// Every phase of the run, with whether it is ticked.
    pub phases: Vec<(String, bool)>,
    /// The output folder as typed (default: [`default_folder`]).
    pub folder: String,
    /// True once the folder differs from the per-run default (it is then remembered).
    pub folder_edited: bool,
    /// True while keys type into the folder field.
    pub editing_folder: bool,
    /// The folder field's cursor while it is edited.
    pub folder_caret: crate::tui::edit::Caret,
    /// Selected row, an index into `rows()`.
    pub cursor: usize,
    /// The export started from the dialog, once Start was pressed.
    pub job: Option<ExportJob>,
}

/// `./exports/<run-id>/`, the folder a run's exports go to unless another is typed.
pub fn default_folder(run_id: &str) -> String {
    format!("./exports/{run_id}/")
}

impl ExportDialog {
    /// The dialog for one run with the session's last `choices`: the charts and phases they left unticked start unticked, everything else ticked.
    pub fn new(
        run_id: &str,
        run_dir: PathBuf,
        charts: &[&str],
        phases: &[String],
        choices: &ExportChoices,
    ) -> Self {
        let tick = |names: &mut dyn Iterator<Item = String>, off: &[String]| {
            names.map(|n| (n.clone(), !off.contains(&n))).collect::<Vec<_>>()
        };
        Self {
            run_id: run_id.to_string(),
            run_dir,
            format: choices.format,
            size: choices.size.min(SIZES.len() - 1),
            charts: tick(&mut charts.iter().map(|c| c.to_string()), &choices.charts_off),
            phases: tick(&mut phases.iter().cloned(), &choices.phases_off),
            folder: choices.folder.clone().unwrap_or_else(|| default_folder(run_id)),
            folder_edited: choices.folder.is_some(),
            editing_folder: false,
            folder_caret: Default::default(),
            cursor: 0,
            job: None,
        }
    }

    /// Every row, top to bottom: format, size, one per chart, one per phase, folder, start.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = vec![Row::Format, Row::Size];
        rows.extend((0..self.charts.len()).map(Row::Chart));
        rows.extend((0..self.phases.len()).map(Row::Phase));
        rows.extend([Row::Folder, Row::Start]);
        rows
    }

    /// The row under the cursor (`Start` if the cursor is past the end).
    pub fn current(&self) -> Row {
        self.rows().get(self.cursor).copied().unwrap_or(Row::Start)
    }

    /// True while the export job writes files.
    pub fn is_running(&self) -> bool {
        matches!(self.job, Some(ExportJob::Running { .. }))
    }

    /// The chosen size as (width, height) in pixels.
    pub fn size(&self) -> (u32, u32) {
        SIZES[self.size.min(SIZES.len() - 1)]
    }

    /// The request for the ticked rows, or why there is none.
    pub fn request(&self) -> Result<ExportRequest, String> {
        let picked = |list: &[(String, bool)]| -> Vec<String> {
            if list.iter().all(|(_, on)| *on) {
                Vec::new()
            } else {
                list.iter().filter(|(_, on)| *on).map(|(n, _)| n.clone()).collect()
            }
        };
        if !self.charts.iter().any(|(_, on)| *on) {
            return Err("tick at least one chart (space)".into());
        }
        if !self.phases.is_empty() && !self.phases.iter().any(|(_, on)| *on) {
            return Err("tick at least one phase (space)".into());
        }
        if self.folder.trim().is_empty() {
            return Err("type a folder to export into (Enter on the folder row)".into());
        }
        let (width, height) = self.size();
        Ok(ExportRequest {
            run_dir: self.run_dir.clone(),
            out_dir: PathBuf::from(self.folder.trim()),
            format: self.format,
            width,
            height,
            only: picked(&self.charts),
            phases: picked(&self.phases),
        })
    }

    /// What to remember for the next dialog of this session.
    pub fn choices(&self) -> ExportChoices {
        let off =
            |list: &[(String, bool)]| list.iter().filter(|(_, on)| !on).map(|(n, _)| n.clone()).collect();
        ExportChoices {
            format: self.format,
            size: self.size,
            charts_off: off(&self.charts),
            phases_off: off(&self.phases),
            folder: self.folder_edited.then(|| self.folder.clone()),
        }
    }
}
