//! Everything the TUI shows, as plain data: one struct per screen plus the overlays.
//! Rendering reads it, `update` changes it; nothing here performs I/O.

use std::collections::VecDeque;
use std::path::PathBuf;

use crate::metrics::Snapshot;
use crate::metrics::compare::Comparison;
use crate::metrics::summary::{PhaseSummary, RunSummary};
use crate::profile::Profile;

use super::edit::{LONG_FIELD_CHARS, SHORT_FIELD_CHARS};
pub use super::env_state::{EnvFocus, EnvState, ServerField, ServerForm, ServiceRow};
pub use super::export_state::{BundleJob, ExportChoices, ExportDialog, ExportJob, ExportRequest};
pub use super::list_filter::ListFilter;
pub use super::run_state::{ChartsState, Point, RunPhase, RunState, Series};
use super::theme::Theme;

/// The four tabs. Closed: a new screen is a new variant and every `match` says what it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Screen {
    /// Pick a profile, choose its phases, adjust the run settings and start it.
    Profiles,
    /// The Docker services (status, logs, up/down) and the target's server settings.
    Environment,
    /// The running (or last) experiment: live charts, per-name table, steering.
    Run,
    /// The run folders on disk: summaries, detail, export, bundle and compare.
    Results,
}

impl Screen {
    /// The screens in tab order; key `1` opens the first.
    pub const ALL: [Screen; 4] = [Screen::Profiles, Screen::Environment, Screen::Run, Screen::Results];

    /// The tab's caption in the header.
    pub fn title(self) -> &'static str {
        match self {
            Screen::Profiles => "Profiles",
            Screen::Environment => "Environment",
            Screen::Run => "Run",
            Screen::Results => "Results",
        }
    }

    /// Position in [`Screen::ALL`], 0-based.
    pub fn index(self) -> usize {
        match self {
            Screen::Profiles => 0,
            Screen::Environment => 1,
            Screen::Run => 2,
            Screen::Results => 3,
        }
    }

    /// The screen after this one in tab order, wrapping from the last to the first.
    pub fn next(self) -> Screen {
        Screen::ALL[(self.index() + 1) % 4]
    }

    /// The screen before this one in tab order, wrapping from the first to the last.
    pub fn prev(self) -> Screen {
        Screen::ALL[(self.index() + 3) % 4]
    }
}

/// A modal drawn over the current screen; it takes every key while open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Overlay {
    /// The key help of the current screen (`?`).
    Help,
    /// Quit while a run is active (the run is aborted and its partial results written).
    ConfirmQuit,
    /// Abort the active run.
    ConfirmAbort,
    /// Start a run planned to take longer than [`CONFIRM_RUNS_LONGER_THAN`]: its name and
    /// planned total (the request waits in `ProfilesState::pending_start`).
    ConfirmStart {
        /// The name of what starts: the profile, or the quick run.
        name: String,
        /// The planned total duration, formatted as profiles write it (`1h12m`).
        planned: String,
    },
}

/// A run that waits for its confirmation: a profile's, or one from the new-run form.
#[derive(Clone, Debug)]
pub enum PendingStart {
    /// A profile's run, fully built.
    Profile(Box<crate::experiment::RunRequest>),
    /// A run of the new-run form; its profile is built once confirmed.
    Quick(Box<super::action::QuickStart>),
}

/// Runs planned longer than this ask before they start (`all` takes over an hour).
pub const CONFIRM_RUNS_LONGER_THAN: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// A one-line message in the footer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flash {
    /// The message, one line.
    pub text: String,
    /// An error stays until Esc dismisses it (or another message replaces it); any other
    /// message goes with the next key or after [`FLASH_TICKS`].
    pub is_error: bool,
    /// A notice that stays like an error (until Esc) but is not one: the attached run's end.
    pub stays: bool,
    /// Ticks (100 ms each) the message has been shown.
    pub age_ticks: u32,
}

/// How long a message (not an error) stays when no key is pressed: 4 s of 100 ms ticks.
pub const FLASH_TICKS: u32 = 40;

/// A text field being edited: which field and what has been typed so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EditBuffer {
    /// The text typed so far (at most the field's `max_chars` characters).
    pub text: String,
    /// Its cursor; a prefilled value starts selected (the first key replaces it).
    pub caret: crate::tui::edit::Caret,
}

impl EditBuffer {
    /// Editing a current value: selected, so typing replaces it.
    pub fn prefilled(text: impl Into<String>) -> Self {
        EditBuffer { text: text.into(), caret: crate::tui::edit::Caret::prefilled() }
    }
}

/// The whole TUI.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The tab shown.
    pub screen: Screen,
    /// The modal over the screen, if one is open; it takes every key.
    pub overlay: Option<Overlay>,
    /// The styles to draw with (colour on, or off for `NO_COLOR`).
    pub theme: Theme,
    /// Results root (`experiment_results`), where runs, logs and charts go.
    pub output_root: PathBuf,
    /// State of the Profiles screen.
    pub profiles: ProfilesState,
    /// State of the Environment screen.
    pub env: EnvState,
    /// State of the Run screen: the active or last run.
    pub run: RunState,
    /// State of the Results screen.
    pub results: ResultsState,
    /// The footer's message, if any.
    pub flash: Option<Flash>,
    /// Advances on each UI tick while something is busy (spinners).
    pub spinner_frame: usize,
    /// Set when the user asked to leave; the loop exits once the run (if any) has stopped.
    pub quitting: bool,
    /// The Run screen shows a run started elsewhere (`attach`): `q` detaches from it.
    pub attached: bool,
}

impl AppState {
    /// The start state: Profiles screen, nothing loaded yet, results under `output_root`.
    pub fn new(theme: Theme, output_root: PathBuf) -> Self {
        Self {
            screen: Screen::Profiles,
            overlay: None,
            theme,
            output_root,
            profiles: ProfilesState::default(),
            env: EnvState::default(),
            run: RunState::default(),
            results: ResultsState::default(),
            flash: None,
            spinner_frame: 0,
            quitting: false,
            attached: false,
        }
    }

    /// True while an edit field or filter takes raw characters.
    pub fn is_typing(&self) -> bool {
        match self.screen {
            Screen::Profiles => {
                self.profiles.filter.editing || self.profiles.edit.is_some() || self.profiles.quick.is_some()
            }
            Screen::Environment => self.env.form.edit.is_some(),
            Screen::Results => {
                self.results.filter.editing || self.results.dialog.as_ref().is_some_and(|d| d.editing_folder)
            }
            Screen::Run => self.run.steer_input.is_some(),
        }
    }

    /// True while something runs in the background that a spinner should show.
    pub fn is_busy(&self) -> bool {
        self.run.is_active()
            || self.profiles.loading
            || self.results.loading
            || self.env.busy.is_some()
            || matches!(self.run.charts, ChartsState::Rendering { .. })
            || matches!(self.results.export, Some((_, ChartsState::Rendering { .. })))
            || self.results.dialog.as_ref().is_some_and(ExportDialog::is_running)
            || matches!(self.results.bundle, Some((_, BundleJob::Packing)))
    }

    /// The spinner's current frame (a braille character), advanced by `spinner_frame`.
    pub fn spinner(&self) -> char {
        const FRAMES: [char; 8] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧'];
        FRAMES[self.spinner_frame % FRAMES.len()]
    }
}

/// A profile as the list shows it (the load error is kept as text, since it is shown, not handled).
#[derive(Clone, Debug)]
pub struct ProfileItem {
    /// The profile's name: what `load` takes to select it (`smoke`, a file's name).
    pub name: String,
    /// Where it came from: `builtin:NAME` for a shipped profile, else the YAML file's path.
    pub source: String,
    /// The parsed profile, or why it failed to load (shown in place of its phases).
    pub profile: Result<Profile, String>,
}

/// Which pane of the Profiles screen takes the arrow keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProfilesFocus {
    /// The list of profiles.
    #[default]
    List,
    /// The selected profile's phases (space toggles one).
    Phases,
    /// The run settings under the phases.
    Settings,
}

/// Where the load goes, as chosen on the Profiles screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TargetChoice {
    /// The mock API inside this process, on a loopback port.
    #[default]
    Embedded,
    /// The terrafix-api container of the Docker environment.
    Docker,
    /// The URL typed in the `URL` field.
    Url,
}

impl TargetChoice {
    /// The next choice, cycling embedded → docker → URL → embedded.
    pub fn next(self) -> Self {
        match self {
            TargetChoice::Embedded => TargetChoice::Docker,
            TargetChoice::Docker => TargetChoice::Url,
            TargetChoice::Url => TargetChoice::Embedded,
        }
    }
    /// The choice as the settings pane shows it.
    pub fn label(self) -> &'static str {
        match self {
            TargetChoice::Embedded => "embedded",
            TargetChoice::Docker => "docker",
            TargetChoice::Url => "URL",
        }
    }
}

/// The fields under a profile that adjust the run. Empty text = the profile's own value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunField {
    /// Where the load goes (cycled, not typed).
    Target,
    /// The target's base URL when the target is `URL`.
    Url,
    /// Factor applied to every duration and pause (0.1 runs ten times faster).
    TimeScale,
    /// Users of every closed-model phase.
    Users,
    /// Users started per second (closed-model phases).
    SpawnRate,
    /// Length of every phase (`30s`, `5m`, `1h30m`).
    Duration,
    /// The random seed (`random` draws one): same seed, same requests.
    Seed,
    /// Request timeout (the whole answer), e.g. 30s.
    Timeout,
    /// A PEM CA certificate to trust for an https target.
    CaCert,
    /// Skip certificate checks (said in the results).
    Insecure,
    /// Send /configure and /stats/reset (off: the target is only loaded).
    Configure,
    /// Worker tasks on Docker Swarm (empty: this process generates the load).
    Generators,
    /// Extra request headers, `Name: value; Name: value` (shown by name only).
    Headers,
    /// A loopback address to serve `/metrics` on while the run lasts (empty: off).
    Metrics,
}

impl RunField {
    /// Every field in the order the settings pane lists them.
    pub const ALL: [RunField; 14] = [
        RunField::Target,
        RunField::Url,
        RunField::TimeScale,
        RunField::Users,
        RunField::SpawnRate,
        RunField::Duration,
        RunField::Seed,
        RunField::Timeout,
        RunField::CaCert,
        RunField::Insecure,
        RunField::Configure,
        RunField::Generators,
        RunField::Headers,
        RunField::Metrics,
    ];

    /// Cycled with Enter or space rather than typed.
    pub fn is_toggle(self) -> bool {
        matches!(self, RunField::Target | RunField::Insecure | RunField::Configure)
    }

    /// The longest text the field takes: a path or a list of headers (tokens) can be long.
    pub fn max_chars(self) -> usize {
        match self {
            RunField::CaCert | RunField::Headers => LONG_FIELD_CHARS,
            _ => SHORT_FIELD_CHARS,
        }
    }

    /// One line on what the field does, shown under the settings while it is focused (short
    /// enough for the pane at 80 columns).
    pub fn help(self) -> &'static str {
        match self {
            RunField::Target => "where the load goes: embedded mock, docker, or the URL",
            RunField::Url => "the target when target is URL; a password shows as •",
            RunField::TimeScale => "shrinks phases and pauses: 0.1 runs ten times faster",
            RunField::Users => "users of every closed-model phase (default: its own)",
            RunField::SpawnRate => "users started per second while a phase ramps up",
            RunField::Duration => "length of every phase, e.g. 30s, 5m, 1h30m",
            RunField::Seed => "same seed, same requests: payloads, choices and waits",
            RunField::Timeout => "longest wait for one answer before it fails, e.g. 30s",
            RunField::CaCert => "a PEM file of a CA to trust for an https target",
            RunField::Insecure => "yes: skip certificate checks (the results say so)",
            RunField::Configure => "yes: /configure + /stats/reset per phase; no: load only",
            RunField::Generators => "N Swarm tasks send the load; empty: this process does",
            RunField::Headers => "extra headers: Name: value; Name: value (never shown)",
            RunField::Metrics => "serve /metrics here, e.g. 127.0.0.1:9464; empty: off",
        }
    }

    /// The field's name in the settings pane.
    pub fn label(self) -> &'static str {
        match self {
            RunField::Target => "target",
            RunField::Url => "URL",
            RunField::TimeScale => "time scale",
            RunField::Users => "users",
            RunField::SpawnRate => "spawn rate",
            RunField::Duration => "duration",
            RunField::Seed => "seed",
            RunField::Timeout => "timeout",
            RunField::CaCert => "CA cert",
            RunField::Insecure => "insecure",
            RunField::Configure => "configure",
            RunField::Generators => "generators",
            RunField::Headers => "headers",
            RunField::Metrics => "metrics",
        }
    }
}

/// The run settings under a profile, as typed: text is checked when edited and parsed when the run is built; an empty field keeps the profile's own value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSettings {
    /// Where the load goes.
    pub target: TargetChoice,
    /// Base URL used when `target` is `URL`.
    pub url: String,
    /// Time scale factor, e.g. `0.1`.
    pub time_scale: String,
    /// Users of every closed-model phase, a whole number.
    pub users: String,
    /// Users started per second, e.g. `10` or `2.5`.
    pub spawn_rate: String,
    /// Length of every phase, e.g. `30s`, `5m`.
    pub duration: String,
    /// A whole number, or `random` (the default) to draw one per run.
    pub seed: String,
    /// Per-request timeout, e.g. `30s`; empty: the default.
    pub timeout: String,
    /// Path of a PEM CA certificate to trust for an https target.
    pub ca_cert: String,
    /// Skip certificate checks; the results record that they were skipped.
    pub insecure: bool,
    /// False: neither /configure nor /stats/reset is sent.
    pub configure: bool,
    /// `--distributed N`; empty for a single-node run.
    pub generators: String,
    /// As typed (values may be secrets: never shown, never written out).
    pub headers: String,
    /// What the screen shows for `headers`: `Authorization: ***; X-Team: ***`.
    pub headers_shown: String,
    /// Where `/metrics` is served during the run (`run --metrics-listen`); empty: nowhere.
    pub metrics: String,
}

impl RunSettings {
    /// Sets the headers and what the screen shows of them (names only).
    pub fn set_headers(&mut self, text: String) {
        self.headers_shown = split_headers(&text)
            .map(|h| format!("{}: ***", h.split_once(':').map_or(h, |(n, _)| n).trim()))
            .collect::<Vec<_>>()
            .join("; ");
        self.headers = text;
    }
}

/// `Name: value; Name: value` into its parts.
pub fn split_headers(text: &str) -> impl Iterator<Item = &str> {
    text.split(';').map(str::trim).filter(|h| !h.is_empty())
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            target: TargetChoice::Embedded,
            url: "http://127.0.0.1:8081".into(),
            time_scale: String::new(),
            users: String::new(),
            spawn_rate: String::new(),
            duration: String::new(),
            seed: "random".into(),
            timeout: String::new(),
            ca_cert: String::new(),
            insecure: false,
            configure: true,
            generators: String::new(),
            headers: String::new(),
            headers_shown: String::new(),
            metrics: String::new(),
        }
    }
}

impl RunSettings {
    /// The field's value as the settings pane shows it (headers by name only, toggles as words).
    pub fn text(&self, field: RunField) -> &str {
        match field {
            RunField::Target => self.target.label(),
            RunField::Url => &self.url,
            RunField::TimeScale => &self.time_scale,
            RunField::Users => &self.users,
            RunField::SpawnRate => &self.spawn_rate,
            RunField::Duration => &self.duration,
            RunField::Seed => &self.seed,
            RunField::Timeout => &self.timeout,
            RunField::CaCert => &self.ca_cert,
            RunField::Insecure => {
                if self.insecure {
                    "YES: unchecked"
                } else {
                    "no"
                }
            }
            RunField::Configure => {
                if self.configure {
                    "yes"
                } else {
                    "no: load only"
                }
            }
            RunField::Generators => &self.generators,
            RunField::Headers => &self.headers_shown,
            RunField::Metrics => &self.metrics,
        }
    }
}

/// State of the Profiles screen: the list, its filter, the phases chosen and the run settings.
#[derive(Clone, Debug, Default)]
pub struct ProfilesState {
    /// A long run waiting for its confirmation (see `Overlay::ConfirmStart`).
    pub pending_start: Option<PendingStart>,
    /// Every profile found, in the order loaded (the filter picks the visible ones).
    pub items: Vec<ProfileItem>,
    /// True while the list is being read.
    pub loading: bool,
    /// Index into `visible()`.
    pub selected: usize,
    /// Matches profile names.
    pub filter: ListFilter,
    /// The pane that takes the arrow keys.
    pub focus: ProfilesFocus,
    /// Selected row of the phases pane.
    pub phase_cursor: usize,
    /// One flag per phase of the selected profile; reset when the selection changes.
    pub phase_enabled: Vec<bool>,
    /// The run settings (shared by every profile run in the session).
    pub settings: RunSettings,
    /// Selected row of the settings pane, an index into [`RunField::ALL`].
    pub field_cursor: usize,
    /// The settings field being edited, if any.
    pub edit: Option<EditBuffer>,
    /// The new-run form (`n`), while open.
    pub quick: Option<super::quick_form::QuickForm>,
}

impl ProfilesState {
    /// Indexes of the items whose name the filter keeps.
    pub fn visible(&self) -> Vec<usize> {
        self.filter.visible(self.items.iter().map(|item| item.name.as_str()))
    }

    /// The selected profile among the visible ones; `None` when the filter hides all.
    pub fn current(&self) -> Option<&ProfileItem> {
        self.visible().get(self.selected).map(|&i| &self.items[i])
    }

    /// The settings field under the cursor (the last one if the cursor is past it).
    pub fn current_field(&self) -> RunField {
        RunField::ALL[self.field_cursor.min(RunField::ALL.len() - 1)]
    }
}

/// One run folder under the results root.
#[derive(Clone, Debug)]
pub struct ResultEntry {
    /// Folder name: `<UTC yyyymmdd-HHMMSS>-<profile>`.
    pub run_id: String,
    /// The run's folder.
    pub dir: PathBuf,
    /// Its `experiment_summary.json`, or why it could not be read (a run cut short has none).
    pub summary: Result<RunSummary, String>,
    /// Its `experiment_summary.html`, when present.
    pub html: Option<PathBuf>,
    /// Its PNG charts, when rendered.
    pub charts: Vec<PathBuf>,
    /// What the run showed, from its summary (`crate::analysis`); the detail view adds
    /// the findings that need the per-second histories.
    pub findings: Vec<crate::analysis::Finding>,
}

/// What the right-hand pane of the Results screen shows for the selected run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ResultsView {
    /// The run's summary and findings.
    #[default]
    Detail,
    /// Output paths of the selected run.
    Paths,
    /// Side by side: the marked run (left) and the selected one (right), by run id.
    Compare {
        /// Run id of the marked run (A).
        left: String,
        /// Run id of the selected run (B), compared against `left`.
        right: String,
    },
}

/// A comparison of run `right` against run `left` (run ids): being computed, or its outcome.
#[derive(Clone, Debug, PartialEq)]
pub enum CompareState {
    /// The statistics are being computed in the background.
    Computing {
        /// Run id of the baseline run (A).
        left: String,
        /// Run id of the run compared against it (B).
        right: String,
    },
    /// The comparison, or why it could not be made (missing summary, no common phase).
    Done {
        /// Run id of the baseline run (A).
        left: String,
        /// Run id of the run compared against it (B).
        right: String,
        /// The statistics, or why they could not be computed.
        result: Result<Box<Comparison>, String>,
    },
}

impl CompareState {
    /// Whether this is the comparison of run `r` against run `l` (run ids).
    pub fn is_for(&self, l: &str, r: &str) -> bool {
        match self {
            CompareState::Computing { left, right } | CompareState::Done { left, right, .. } => {
                left == l && right == r
            }
        }
    }
}

/// State of the Results screen: the runs on disk, the selection and the jobs started from it.
#[derive(Clone, Debug, Default)]
pub struct ResultsState {
    /// Newest first.
    pub entries: Vec<ResultEntry>,
    /// True while the run folders are being read.
    pub loading: bool,
    /// Why the results root could not be listed, if it could not.
    pub load_error: Option<String>,
    /// Index into `visible()`.
    pub selected: usize,
    /// Matches run ids.
    pub filter: ListFilter,
    /// What the right-hand pane shows.
    pub view: ResultsView,
    /// Run id marked with `c` as the first side of a comparison.
    pub compare_mark: Option<String>,
    /// The statistics behind the compare view, computed by `app` in the background.
    pub comparison: Option<CompareState>,
    /// A re-render started from this screen: run id and its state.
    pub export: Option<(String, ChartsState)>,
    /// The export dialog (`e`), when open.
    pub dialog: Option<ExportDialog>,
    /// The dialog's last choices, kept for the session.
    pub export_choices: ExportChoices,
    /// A bundle (`b`) started from this screen: run id and its state.
    pub bundle: Option<(String, BundleJob)>,
    /// The run detail (Enter on a run), while open.
    pub explorer: Option<super::detail_state::Explorer>,
}

impl ResultsState {
    /// Indexes of the entries whose run id the filter keeps.
    pub fn visible(&self) -> Vec<usize> {
        self.filter.visible(self.entries.iter().map(|entry| entry.run_id.as_str()))
    }

    /// The selected run among the visible ones; `None` when the filter hides all.
    pub fn current(&self) -> Option<&ResultEntry> {
        self.visible().get(self.selected).map(|&i| &self.entries[i])
    }

    /// The run with this run id, visible or not.
    pub fn by_id(&self, run_id: &str) -> Option<&ResultEntry> {
        self.entries.iter().find(|e| e.run_id == run_id)
    }
}

/// Bounded list of recent lines (errors, log lines): oldest dropped first.
pub fn push_bounded(list: &mut VecDeque<String>, line: String, cap: usize) {
    if list.len() == cap {
        list.pop_front();
    }
    list.push_back(line);
}

/// Phase summaries of a finished run or of one still going.
pub type PhaseSummaries = Vec<PhaseSummary>;

/// The latest snapshot, if any arrived.
pub type LatestSnapshot = Option<Snapshot>;
