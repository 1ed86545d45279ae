//! The Results screen's export dialog as plain data: format, size, which charts, which
//! phases and the folder, as one list of rows a cursor moves over; the job it started;
//! and the choices remembered for the rest of the session.

use std::path::PathBuf;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExportFormat {
    #[default]
    Png,
    Svg,
}

impl ExportFormat {
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
    Format,
    Size,
    Chart(usize),
    Phase(usize),
    Folder,
    Start,
}

/// What `app` is asked to export (the TUI's own type; `app` maps it to the report's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRequest {
    pub run_dir: PathBuf,
    pub out_dir: PathBuf,
    pub format: ExportFormat,
    pub width: u32,
    pub height: u32,
    /// Chart names; every chart when all are ticked (then empty).
    pub only: Vec<String>,
    /// Phase names; every phase when all are ticked (then empty).
    pub phases: Vec<String>,
}

/// A dialog's job: running (files written so far), done (the paths), or failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportJob {
    Running { written: Vec<PathBuf>, total: usize },
    Done { written: Vec<PathBuf>, warnings: Vec<String> },
    Failed(String),
}

/// What the dialog remembers between openings in one session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportChoices {
    pub format: ExportFormat,
    pub size: usize,
    /// Names left unticked (so a run with other phases starts with all of its own ticked).
    pub charts_off: Vec<String>,
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
    Packing,
    Done(PathBuf),
    Failed(String),
}

/// `./exports/<run-id>.tar.gz`, beside the run's exported charts.
pub fn default_bundle(run_id: &str) -> PathBuf {
    PathBuf::from("./exports").join(format!("{run_id}.tar.gz"))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportDialog {
    pub run_id: String,
    pub run_dir: PathBuf,
    pub format: ExportFormat,
    pub size: usize,
    pub charts: Vec<(String, bool)>,
    pub phases: Vec<(String, bool)>,
    pub folder: String,
    pub folder_edited: bool,
    pub editing_folder: bool,
    /// The folder field's cursor while it is edited.
    pub folder_caret: crate::tui::edit::Caret,
    pub cursor: usize,
    pub job: Option<ExportJob>,
}

/// `./exports/<run-id>/`, the folder a run's exports go to unless another is typed.
pub fn default_folder(run_id: &str) -> String {
    format!("./exports/{run_id}/")
}

impl ExportDialog {
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

    pub fn rows(&self) -> Vec<Row> {
        let mut rows = vec![Row::Format, Row::Size];
        rows.extend((0..self.charts.len()).map(Row::Chart));
        rows.extend((0..self.phases.len()).map(Row::Phase));
        rows.extend([Row::Folder, Row::Start]);
        rows
    }

    pub fn current(&self) -> Row {
        self.rows().get(self.cursor).copied().unwrap_or(Row::Start)
    }

    pub fn is_running(&self) -> bool {
        matches!(self.job, Some(ExportJob::Running { .. }))
    }

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
