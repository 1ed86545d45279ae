//! What can happen to the TUI (`Action`: a key's meaning, or news from the background) and
//! what it asks `app` to do in return (`Command`). Both are plain data.

use std::path::PathBuf;

use crate::experiment::{Event, RunRequest};
use crate::metrics::Snapshot;
use crate::metrics::compare::Comparison;

use super::state::{ChartsState, ExportRequest, ProfileItem, ResultEntry, Screen, ServiceRow};

#[derive(Clone, Debug)]
pub enum Action {
    // Navigation, valid on every screen.
    Show(Screen),
    NextScreen,
    PrevScreen,
    Help,
    /// `q`: close what is open, else quit (asking first during a run).
    Back,
    /// Esc: close what is open; never quits.
    Dismiss,
    /// Ctrl-C: quit now (aborting a run, which still writes its partial results).
    ForceQuit,
    Confirm,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Move focus between the panes of a screen.
    FocusNext,
    FocusPrev,
    Enter,
    /// Space: toggle a phase, cycle a choice.
    Toggle,
    ToggleAll,
    StartFilter,
    /// A character typed into the filter or field being edited.
    Type(char),
    Backspace,
    /// Delete: the character under the cursor of the field being edited.
    DeleteForward,
    /// Ctrl-U: clear the field being edited (everything before its cursor).
    ClearField,
    /// Ctrl-W: delete the word before the cursor.
    DeleteWord,
    /// ← / → / Home / End while a field is edited: move its cursor.
    CursorLeft,
    CursorRight,
    CursorHome,
    CursorEnd,
    /// `r`: run the selected profile (Profiles); `R`: refresh (Environment, Results).
    RunSelected,
    /// `n` (Profiles): open the new-run form.
    NewRun,
    /// `w` (new-run form): write it as a profile YAML into ./profiles.
    WriteProfile,
    Refresh,
    // Run screen.
    SkipPhase,
    AbortRun,
    TogglePauseView,
    /// `+` / `-`: more or fewer users (or a higher or lower arrival rate) by a step.
    SteerUp,
    SteerDown,
    /// `u`: type the user count (or arrival rate).
    SteerType,
    /// `e`: type how long to extend the current phase by.
    ExtendPhase,
    /// `r`: reset the live statistics (the files keep everything).
    ResetStats,
    /// `L`: log latency axis on / off (off: linear unless a phase spans two decades).
    ToggleLatencyScale,
    // Environment screen.
    EnvUp,
    /// Whether `u` (and runs with target docker) also start LocalStack.
    ToggleLocalStack,
    EnvDown,
    ServiceStart,
    ServiceStop,
    ServiceRestart,
    FollowLogs,
    ApplySettings,
    // Results screen.
    /// `e`: open the export dialog.
    Export,
    /// `b`: pack the run into one .tar.gz.
    Bundle,
    /// `r`: re-render the run's own charts and HTML reports in its folder.
    Rerender,
    OpenHtml,
    ShowPaths,
    MarkCompare,
    // News from the background (sent by `app`).
    Tick,
    ProfilesLoaded(Vec<ProfileItem>),
    RunEvent(Box<Event>),
    Snapshot(Box<Snapshot>),
    /// `experiment::run` returned: its directory or its error.
    RunEnded(Result<PathBuf, String>),
    /// Charts rendered (or not) for a run directory; `Done`/`Failed` only.
    ChartsRendered(ChartsState),
    ResultsLoaded(Result<Vec<ResultEntry>, String>),
    /// The export dialog's job wrote one more file.
    ExportWritten(PathBuf),
    /// The export dialog's job ended: the files written and warnings, or why it failed.
    ExportFinished(Result<(Vec<PathBuf>, Vec<String>), String>),
    /// A bundle ended, for this run id: the file written, or why not.
    BundleFinished {
        run_id: String,
        result: Result<PathBuf, String>,
    },
    /// A run folder read for the detail view (run id), or why it cannot be shown.
    RunDetailLoaded {
        run_id: String,
        result: Result<Box<crate::tui::detail_state::RunDetail>, String>,
    },
    /// The statistics of comparing run `right` against run `left` (run ids), or why not.
    CompareDone {
        left: String,
        right: String,
        result: Result<Box<Comparison>, String>,
    },
    DockerConnected(Result<(), String>),
    DockerStatus(Result<Vec<ServiceRow>, String>),
    DockerDone(Result<String, String>),
    /// `u` brought the environment up: its API's published URL, which the screen now follows.
    EnvApiUp(String),
    /// A progress line of a long Docker operation ("building terrafix-api image").
    DockerProgress(String),
    LogLine(String),
    LogsEnded(Option<String>),
    ConfigureReply(Result<String, String>),
    HealthReply(Result<String, String>),
    /// The new-run form was written as a profile (its path), or why not.
    ProfileWritten(Result<PathBuf, String>),
    /// The opener could not be started (`xdg-open` missing, say).
    OpenFailed(String),
    /// `attach`: the run's event stream ended, and why (after `run_finished` it ends normally).
    StreamEnded(String),
}

impl Action {
    /// News from the background (not a key): it leaves the footer's message alone.
    pub fn is_news(&self) -> bool {
        matches!(
            self,
            Action::Tick
                | Action::ProfilesLoaded(_)
                | Action::RunEvent(_)
                | Action::Snapshot(_)
                | Action::RunEnded(_)
                | Action::ChartsRendered(_)
                | Action::ResultsLoaded(_)
                | Action::ExportWritten(_)
                | Action::ExportFinished(_)
                | Action::BundleFinished { .. }
                | Action::CompareDone { .. }
                | Action::RunDetailLoaded { .. }
                | Action::DockerConnected(_)
                | Action::DockerStatus(_)
                | Action::DockerDone(_)
                | Action::EnvApiUp(_)
                | Action::DockerProgress(_)
                | Action::LogLine(_)
                | Action::LogsEnded(_)
                | Action::ConfigureReply(_)
                | Action::HealthReply(_)
                | Action::ProfileWritten(_)
                | Action::OpenFailed(_)
                | Action::StreamEnded(_)
        )
    }
}

/// Work for `app`: everything that touches the world.
#[derive(Clone, Debug)]
pub enum Command {
    LoadProfiles,
    LoadResults,
    /// A profile's run; `metrics`: serve `/metrics` there while it lasts (and a linger after).
    StartRun {
        request: Box<RunRequest>,
        metrics: Option<std::net::SocketAddr>,
    },
    /// A run of the new-run form: its profile is built (reading the profile that defines
    /// the behaviour, if any) off the UI loop; a problem ends the run with that message.
    StartQuickRun(Box<QuickStart>),
    /// Write the new-run form as a profile YAML into ./profiles and check it loads back.
    WriteQuickProfile(Box<crate::tui::quick_form::QuickChoice>),
    SkipPhase,
    AbortRun,
    /// Live steering of the running phase.
    Steer(crate::engine::Steer),
    ResetStats,
    RenderCharts(PathBuf),
    /// Charts as the export dialog asked (format, size, charts, phases, folder).
    ExportCharts(Box<ExportRequest>),
    /// Pack `run_dir` into the `.tar.gz` at `out`; `run_id` comes back with the answer.
    Bundle {
        run_id: String,
        run_dir: PathBuf,
        out: PathBuf,
    },
    OpenHtml(PathBuf),
    /// Read a run folder for the detail view (its summary, histories and hlogs), off the UI loop.
    LoadRunDetail {
        run_id: String,
        dir: PathBuf,
    },
    /// Compare the run in `right_dir` against the one in `left_dir` (ids echoed back).
    Compare {
        left: String,
        left_dir: PathBuf,
        right: String,
        right_dir: PathBuf,
    },
    Docker(DockerOp),
    FollowLogs(String),
    StopLogs,
    Configure {
        base_url: String,
        body: serde_json::Value,
    },
    CheckHealth(String),
    /// Leave the event loop (after restoring the terminal).
    Quit,
    /// Several of the above, performed in order.
    Batch(Vec<Command>),
}

/// What a run from the new-run form needs besides the form.
#[derive(Clone, Debug)]
pub struct QuickStart {
    pub choice: crate::tui::quick_form::QuickChoice,
    pub seed: u64,
    pub output_root: PathBuf,
    /// Timeout, TLS trust and `configure` from the run settings.
    pub options: Box<crate::experiment::TargetOptions>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DockerOp {
    Connect,
    Status,
    Up { with_localstack: bool },
    Down,
    Start(String),
    Stop(String),
    Restart(String),
}
