//! What can happen to the TUI (`Action`: a key's meaning, or news from the background) and
//! what it asks `app` to do in return (`Command`). Both are plain data.

use std::path::PathBuf;

use crate::experiment::{Event, RunRequest};
use crate::metrics::Snapshot;
use crate::metrics::compare::Comparison;

use super::state::{ChartsState, ExportRequest, ProfileItem, ResultEntry, Screen, ServiceRow};

/// Something that happened to the TUI: a key's meaning on the current screen, or news from the background sent by `app`. `update` turns it into state changes and at most one `Command`.
#[derive(Clone, Debug)]
pub enum Action {
    // Navigation, valid on every screen.
    /// `1`–`4`: jump straight to this screen.
    Show(Screen),
    /// Tab: the next screen, wrapping from the last to the first.
    NextScreen,
    /// Shift-Tab: the previous screen, wrapping from the first to the last.
    PrevScreen,
    /// `?`: open the key help overlay of the current screen.
    Help,
    /// `q`: close what is open, else quit (asking first during a run).
    Back,
    /// Esc: close what is open; never quits.
    Dismiss,
    /// Ctrl-C: quit now (aborting a run, which still writes its partial results).
    ForceQuit,
    /// `y` or Enter in a yes/no dialog: accept what it asks (quit during a run, abort).
    Confirm,
    /// ↑ / `k` (Shift-Tab in forms): one row or field up; stops at the first.
    Up,
    /// ↓ / `j` (Tab in forms): one row or field down; stops at the last.
    Down,
    /// PgUp: one visible page up in a list or scrolled text.
    PageUp,
    /// PgDn: one visible page down in a list or scrolled text.
    PageDown,
    /// Home / `g`: the first row, or the top of a scrolled text.
    Top,
    /// End / `G`: the last row, or the end of a scrolled text.
    Bottom,
    /// Move focus between the panes of a screen.
    FocusNext,
    /// ← / `h`: the previous pane, phase or choice (the counterpart of `FocusNext`).
    FocusPrev,
    /// Enter: open, edit or submit what is selected (its meaning depends on the screen).
    Enter,
    /// Space: toggle a phase, cycle a choice.
    Toggle,
    /// `a`: select all items (phases, charts) or, when all are selected, none.
    ToggleAll,
    /// `/` (Profiles, Results): start typing a filter for the list.
    StartFilter,
    /// A character typed into the filter or field being edited.
    Type(char),
    /// Backspace: delete the character before the cursor of the field or filter being edited.
    Backspace,
    /// Delete: the character under the cursor of the field being edited.
    DeleteForward,
    /// Ctrl-U: clear the field being edited (everything before its cursor).
    ClearField,
    /// Ctrl-W: delete the word before the cursor.
    DeleteWord,
    /// ← / → / Home / End while a field is edited: move its cursor.
    CursorLeft,
    /// → while a field is edited: cursor one character right (stops at the end).
    CursorRight,
    /// Home while a field is edited: cursor to the first character.
    CursorHome,
    /// End while a field is edited: cursor after the last character.
    CursorEnd,
    /// `r`: run the selected profile (Profiles); `R`: refresh (Environment, Results).
    RunSelected,
    /// `n` (Profiles): open the new-run form.
    NewRun,
    /// `w` (new-run form): write it as a profile YAML into ./profiles.
    WriteProfile,
    /// `R`: read the list again (profiles, results, or the services' status).
    Refresh,
    // Run screen.
    /// `s` (Run): end the current phase now and go on with the next one.
    SkipPhase,
    /// `x` (Run): stop the run after confirmation; partial results are still written.
    AbortRun,
    /// `p` / space (Run): freeze or unfreeze the charts; the run itself goes on.
    TogglePauseView,
    /// `+` / `-`: more or fewer users (or a higher or lower arrival rate) by a step.
    SteerUp,
    /// `-`: fewer users (or a lower arrival rate) by one step; never below zero.
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
    /// `u` (Environment): bring the Docker services up (with LocalStack when toggled on).
    EnvUp,
    /// Whether `u` (and runs with target docker) also start LocalStack.
    ToggleLocalStack,
    /// `d` (Environment): take the Docker services down.
    EnvDown,
    /// `s` (Environment): start the selected service.
    ServiceStart,
    /// `x` (Environment): stop the selected service.
    ServiceStop,
    /// `r` (Environment): restart the selected service.
    ServiceRestart,
    /// `f` (Environment): follow the selected service's log in a pane (replacing the one followed before).
    FollowLogs,
    /// `a` (Environment): send the server settings form to the target's `/configure`.
    ApplySettings,
    // Results screen.
    /// `e`: open the export dialog.
    Export,
    /// `b`: pack the run into one .tar.gz.
    Bundle,
    /// `r`: re-render the run's own charts and HTML reports in its folder.
    Rerender,
    /// `o` (Results): open the selected run's `experiment_summary.html` in the browser.
    OpenHtml,
    /// `p` (Results): show the paths of the selected run's files.
    ShowPaths,
    /// `c` (Results): mark this run for comparing; `c` on a second run compares the two.
    MarkCompare,
    // News from the background (sent by `app`).
    /// The UI clock, every 100 ms: ages the footer's message, turns the spinner, paces the Docker status poll.
    Tick,
    /// The profiles found on disk, replacing the list on the Profiles screen.
    ProfilesLoaded(Vec<ProfileItem>),
    /// An event of the running experiment (phase started, ended, warning, …).
    RunEvent(Box<Event>),
    /// The aggregator's latest per-second metrics of the running phase.
    Snapshot(Box<Snapshot>),
    /// `experiment::run` returned: its directory or its error.
    RunEnded(Result<PathBuf, String>),
    /// Charts rendered (or not) for a run directory; `Done`/`Failed` only.
    ChartsRendered(ChartsState),
    /// The run folders found under the output root, or why they could not be listed.
    ResultsLoaded(Result<Vec<ResultEntry>, String>),
    /// The export dialog's job wrote one more file.
    ExportWritten(PathBuf),
    /// The export dialog's job ended: the files written and warnings, or why it failed.
    ExportFinished(Result<(Vec<PathBuf>, Vec<String>), String>),
    /// A bundle ended, for this run id: the file written, or why not.
    BundleFinished {
        /// The run folder's name the bundle was for.
        run_id: String,
        /// The `.tar.gz` written, or why it was not.
        result: Result<PathBuf, String>,
    },
    /// A run folder read for the detail view (run id), or why it cannot be shown.
    RunDetailLoaded {
        /// The run folder's name.
        run_id: String,
        /// The run's data, or why it cannot be shown.
        result: Result<Box<crate::tui::detail_state::RunDetail>, String>,
    },
    /// The statistics of comparing run `right` against run `left` (run ids), or why not.
    CompareDone {
        /// Run id of the baseline run (A).
        left: String,
        /// Run id of the run compared against it (B).
        right: String,
        /// The statistics, or why they could not be computed.
        result: Result<Box<Comparison>, String>,
    },
    /// Whether the Docker Engine answered; the error says why not (socket missing, permission).
    DockerConnected(Result<(), String>),
    /// The state of the environment's services, or why it could not be read.
    DockerStatus(Result<Vec<ServiceRow>, String>),
    /// A Docker operation (up, down, start, stop, restart) ended: a line saying what it did, or why it failed.
    DockerDone(Result<String, String>),
    /// `u` brought the environment up: its API's published URL, which the screen now follows.
    EnvApiUp(String),
    /// A progress line of a long Docker operation ("building terrafix-api image").
    DockerProgress(String),
    /// One line of the followed service's log (the pane keeps a bounded number).
    LogLine(String),
    /// The followed log stream ended; `Some` says why (container gone, Docker error).
    LogsEnded(Option<String>),
    /// The target's answer to `/configure` (its body), or why the request failed.
    ConfigureReply(Result<String, String>),
    /// The target's health probe: its answer, or why it is not healthy; ignored when the screen follows another target by then.
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
    /// List the profiles (shipped, ./profiles and --profiles) off the UI loop; answered by `Action::ProfilesLoaded`.
    LoadProfiles,
    /// List the run folders under the output root; answered by `Action::ResultsLoaded`.
    LoadResults,
    /// Start this run in the background; its events come back as `Action::RunEvent`, its end as
    /// `Action::RunEnded`; `metrics`: serve `/metrics` there while it lasts (and a linger after).
    StartRun {
        /// The run to start.
        request: Box<RunRequest>,
        /// Where to serve `/metrics` while the run lasts, if anywhere.
        metrics: Option<std::net::SocketAddr>,
    },
    /// A run of the new-run form: its profile is built (reading the profile that defines
    /// the behaviour, if any) off the UI loop; a problem ends the run with that message.
    StartQuickRun(Box<QuickStart>),
    /// Write the new-run form as a profile YAML into ./profiles and check it loads back.
    WriteQuickProfile(Box<crate::tui::quick_form::QuickChoice>),
    /// End the running phase now (the run goes on with the next one).
    SkipPhase,
    /// Stop the running experiment; it still writes its partial results.
    AbortRun,
    /// Live steering of the running phase.
    Steer(crate::engine::Steer),
    /// Reset the live statistics of the running phase (the files keep every sample).
    ResetStats,
    /// Render the PNG charts and HTML reports of this run folder; answered by `Action::ChartsRendered`.
    RenderCharts(PathBuf),
    /// Charts as the export dialog asked (format, size, charts, phases, folder).
    ExportCharts(Box<ExportRequest>),
    /// Pack `run_dir` into the `.tar.gz` at `out`; `run_id` comes back with the answer.
    Bundle {
        /// The run folder's name, echoed back in `Action::BundleFinished`.
        run_id: String,
        /// The run folder to pack.
        run_dir: PathBuf,
        /// The archive to write (see `export_state::default_bundle`).
        out: PathBuf,
    },
    /// Open this HTML file with the desktop opener (`xdg-open`, `open`); a failure comes back as `Action::OpenFailed`.
    OpenHtml(PathBuf),
    /// Read a run folder for the detail view (its summary, histories and hlogs), off the UI loop.
    LoadRunDetail {
        /// The run folder's name, echoed back in `Action::RunDetailLoaded`.
        run_id: String,
        /// The run folder to read.
        dir: PathBuf,
    },
    /// Compare the run in `right_dir` against the one in `left_dir` (ids echoed back).
    Compare {
        /// Run id of the baseline run (A), echoed back.
        left: String,
        /// Folder of the baseline run.
        left_dir: PathBuf,
        /// Run id of the run compared against it (B), echoed back.
        right: String,
        /// Folder of the compared run.
        right_dir: PathBuf,
    },
    /// A Docker operation on the environment; answered by `DockerConnected`, `DockerStatus` or `DockerDone`.
    Docker(DockerOp),
    /// Follow the log of this service (compose service name); lines come back as `Action::LogLine`.
    FollowLogs(String),
    /// Stop following the log that is followed, if any.
    StopLogs,
    /// POST `body` to `{base_url}/configure` (the mock's server settings); answered by `Action::ConfigureReply`.
    Configure {
        /// The target's base URL.
        base_url: String,
        /// The JSON body: only the settings the form filled in.
        body: serde_json::Value,
    },
    /// Probe the health of the target at this base URL; answered by `Action::HealthReply`.
    CheckHealth(String),
    /// Leave the event loop (after restoring the terminal).
    Quit,
    /// Several of the above, performed in order.
    Batch(Vec<Command>),
}

/// What a run from the new-run form needs besides the form.
#[derive(Clone, Debug)]
pub struct QuickStart {
    /// The form's choices: behaviour, load, duration, target.
    pub choice: crate::tui::quick_form::QuickChoice,
    /// The run's random seed (from the run settings, or drawn when they say random).
    pub seed: u64,
    /// The folder under which the run's own folder is created.
    pub output_root: PathBuf,
    /// Timeout, TLS trust and `configure` from the run settings.
    pub options: Box<crate::experiment::TargetOptions>,
}

/// One operation on the Docker environment, performed by `app` through the `docker` module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DockerOp {
    /// Connect to the Docker Engine (answered by `Action::DockerConnected`).
    Connect,
    /// Read the state of every service of the environment.
    Status,
    /// Bring the environment up; `with_localstack` also starts LocalStack.
    Up {
        /// Also start LocalStack (not needed against the mock).
        with_localstack: bool,
    },
    /// Take the environment down: stop and remove its containers.
    Down,
    /// Start this service (its compose name).
    Start(String),
    /// Stop this service (its compose name).
    Stop(String),
    /// Restart this service (its compose name).
    Restart(String),
}
