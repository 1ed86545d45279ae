//! The run lifecycle, independent of any UI: start the target (embedded, URL or Docker),
//! run each phase (configure → reset → load → record server status), write results.
//! Headless `run`, the TUI and the tests all call [`run`].

#![deny(missing_docs)]

mod capacity;
mod control;
pub use control::{CallError, ControlClient, ControlError, SettingRefusal, explain_request_error};
mod distributed;
mod docker_target;
mod faults;
mod live_feed;
mod phase_run;
mod restore;
mod results;
mod runner;
pub mod settings;
mod sink;
mod skip;
mod status_poller;
mod steering;
pub mod target;
mod validity;

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::metrics::summary::{PhaseSummary, RunSummary};
use crate::metrics::{ResourceSample, Snapshot};
use crate::profile::Profile;

/// Where the load goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// The mock server started in-process on a free loopback port (in-memory dedup).
    Embedded,
    /// The Docker environment (brought up or reused); dedup in Redis.
    Docker,
    /// Any running service, e.g. the Python mock or a deployed TerraFix.
    Url(Url),
}

/// Why `--target` (or the TUI's URL field) is not a target; the URL is shown with `***`
/// for its password.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Not `embedded`, `docker`, nor a URL at all.
    #[error("--target {shown:?} is not `embedded`, `docker` or a URL ({source}); try http://127.0.0.1:8081")]
    NotAUrl {
        /// The text as typed, password hidden.
        shown: String,
        /// Why it is not a URL.
        #[source]
        source: url::ParseError,
    },
    /// A URL whose scheme is not http or https.
    #[error("--target {shown}: the URL must start with http:// or https:// (got {scheme}://)")]
    Scheme {
        /// The text as typed, password hidden.
        shown: String,
        /// The scheme it has.
        scheme: String,
    },
    /// A URL without a host.
    #[error("--target {shown}: the URL has no host; try http://127.0.0.1:8081")]
    NoHost {
        /// The text as typed, password hidden.
        shown: String,
    },
}

impl Target {
    /// Parses `embedded`, `docker`, or an http(s) URL. A URL's `user:password@` is taken
    /// out (see `parse_with_auth` for where it goes), so no target holds a credential.
    pub fn parse(text: &str) -> Result<Target, TargetError> {
        Target::parse_with_auth(text).map(|(target, _)| target)
    }

    /// `parse`, and the URL's credentials as an `Authorization: Basic` value, for
    /// `TargetOptions::add_url_credentials`. Errors show the URL with `***` for a password.
    pub fn parse_with_auth(text: &str) -> Result<(Target, Option<crate::profile::Secret>), TargetError> {
        match text {
            "embedded" => Ok((Target::Embedded, None)),
            "docker" => Ok((Target::Docker, None)),
            other => {
                let shown = target::redacted_text(other);
                let mut url = match Url::parse(other) {
                    Ok(url) => url,
                    Err(source) => return Err(TargetError::NotAUrl { shown, source }),
                };
                if url.scheme() != "http" && url.scheme() != "https" {
                    return Err(TargetError::Scheme { shown, scheme: url.scheme().to_string() });
                }
                if url.host_str().is_none_or(str::is_empty) {
                    return Err(TargetError::NoHost { shown });
                }
                let auth = target::take_credentials(&mut url);
                Ok((Target::Url(url), auth))
            }
        }
    }

    /// `embedded`, `docker`, or the URL with its password hidden: the summary's `target`.
    pub fn label(&self) -> String {
        match self {
            Target::Embedded => "embedded".into(),
            Target::Docker => "docker".into(),
            Target::Url(u) => target::redacted(u),
        }
    }
}

/// Everything a run needs. Overrides are already applied to `profile`.
#[derive(Clone, Debug)]
pub struct RunRequest {
    /// The validated profile, `--time-scale`, `--users` and the other overrides already applied.
    pub profile: Profile,
    /// Where the load goes: the embedded mock, the Docker environment, or a URL.
    pub target: Target,
    /// Results root; the run writes into `<output_root>/<run-id>/`.
    pub output_root: PathBuf,
    /// The seed of every random choice; the same seed replays the same load.
    pub seed: u64,
    /// The time scale already applied to the profile (recorded in the summary).
    pub time_scale: f64,
    /// How to bring up the Docker environment when `target` is `Docker`.
    pub docker: DockerTarget,
    /// How to talk to the target: TLS trust, timeouts, headers, whether to configure it.
    pub target_options: TargetOptions,
    /// `--distributed N`: N generator tasks on Docker Swarm instead of this process.
    pub distributed: Option<std::num::NonZeroU32>,
    /// `--worker-network`: how the generators reach Redis and the target (overlay by default).
    pub worker_network: crate::cluster::WorkerNetwork,
}

/// How a run talks to its target. `Default` is plain trust, 10 s / 5 s timeouts, no
/// extra headers, and the target configured per phase (and restored afterwards).
#[derive(Clone)]
pub struct TargetOptions {
    /// How the target's certificate is checked (https only).
    pub tls: crate::engine::tls::TlsTrust,
    /// How long one request may take before it fails as `timeout` (default 10 s).
    pub request_timeout: Duration,
    /// How long a connect (with its TLS handshake) may take (default 5 s).
    pub connect_timeout: Duration,
    /// Extra headers as (name, value); values may be secrets and are never written out.
    pub headers: Vec<(String, String)>,
    /// False: send neither `/configure` nor `/stats/reset` (a service that must not be touched).
    pub configure_target: bool,
    /// Offer HTTP/2 (ALPN `h2`) to an https target.
    pub http2: bool,
    /// `--source-address`: local addresses the connections are made from, in turn (empty:
    /// the kernel's choice). Beyond one address's ~28,000 ports to one target.
    pub source_addrs: Vec<std::net::IpAddr>,
}

impl TargetOptions {
    /// The profile's `headers:`, timeouts and `configure_target:` over the defaults.
    pub fn from_profile(settings: &crate::profile::TargetSettings) -> TargetOptions {
        let defaults = TargetOptions::default();
        TargetOptions {
            tls: defaults.tls,
            request_timeout: settings.request_timeout.unwrap_or(defaults.request_timeout),
            connect_timeout: settings.connect_timeout.unwrap_or(defaults.connect_timeout),
            headers: settings.headers.clone(),
            configure_target: settings.configure_target,
            http2: defaults.http2,
            source_addrs: defaults.source_addrs,
        }
    }

    /// Adds or replaces a header (names compare without case).
    pub fn set_header(&mut self, name: String, value: String) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        self.headers.push((name, value));
    }

    /// The target URL's credentials as `Authorization`, unless one is given already (an
    /// explicit header wins): call it after the headers are set.
    pub fn add_url_credentials(&mut self, auth: Option<crate::profile::Secret>) {
        let given = self.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("authorization"));
        if let Some(auth) = auth.filter(|_| !given) {
            self.headers.push(("Authorization".to_string(), auth.expose().to_string()));
        }
    }
}

/// Header values may be secrets (a Bearer token, the URL's Basic auth): `Debug`, and so
/// any `{:?}` of a `RunRequest` in a log or an error, shows their names only.
impl std::fmt::Debug for TargetOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let TargetOptions {
            tls,
            request_timeout,
            connect_timeout,
            headers,
            configure_target,
            http2,
            source_addrs,
        } = self;
        f.debug_struct("TargetOptions")
            .field("tls", tls)
            .field("request_timeout", request_timeout)
            .field("connect_timeout", connect_timeout)
            .field("headers", &crate::profile::debug_header_names(headers.iter().map(|(n, _)| n)))
            .field("configure_target", configure_target)
            .field("http2", http2)
            .field("source_addrs", source_addrs)
            .finish()
    }
}

impl Default for TargetOptions {
    fn default() -> Self {
        TargetOptions {
            tls: Default::default(),
            request_timeout: REQUEST_TIMEOUT,
            connect_timeout: Duration::from_secs(5),
            headers: Vec::new(),
            configure_target: true,
            http2: false,
            source_addrs: Vec::new(),
        }
    }
}

/// Which Docker environment `--target docker` uses, and how it is brought up.
#[derive(Clone, Debug, Default)]
pub struct DockerTarget {
    /// `None`: the default environment that `terrafix-tui env` manages.
    pub env_id: Option<String>,
    /// `None`: the defaults (ports 8081/6379, this executable as the API image).
    pub options: Option<crate::docker::UpOptions>,
}

/// The seed of a run that was given none, for `run` and the TUI alike: a new random one,
/// printed and written to the summary so the run can be repeated with it.
pub fn random_seed() -> u64 {
    rand::random()
}

/// Controls a running experiment from outside (keys, signals).
#[derive(Clone, Debug, Default)]
pub struct RunControl {
    /// Stops the run: in-flight requests finish (bounded), results are written as `aborted`.
    pub cancel: CancellationToken,
    /// Ends the current phase early (or the current pause) and goes on with the next.
    pub skip: SkipControl,
    /// Live changes to the running phase: users, arrival rate, length.
    pub steer: SteerControl,
    /// Resets the live view's statistics (snapshots), never the files.
    pub view_reset: ViewReset,
}

/// One phase as planned, for progress displays.
#[derive(Clone, Debug, PartialEq)]
pub struct PhasePlan {
    /// The phase's name.
    pub name: String,
    /// Its suite (results folder).
    pub suite: String,
    /// Its planned length (after `--time-scale`).
    pub planned: Duration,
    /// The load it starts with (what live steering changes).
    pub load: PlanLoad,
}

/// A phase's load as planned: users (closed model) or arrivals (open model).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PlanLoad {
    /// Closed model: a population of users.
    Users {
        /// The user count.
        users: u32,
        /// Users started per second.
        spawn_rate: f64,
    },
    /// Arrivals per second, ramping linearly from `from` to `to` over the phase.
    Rate {
        /// Arrivals per second at the start.
        from: f64,
        /// Arrivals per second at the end.
        to: f64,
    },
}

impl PlanLoad {
    /// The planned load of a profile phase.
    pub fn of(load: &crate::profile::Load) -> PlanLoad {
        match load {
            crate::profile::Load::Closed { users, spawn_rate_per_s } => {
                PlanLoad::Users { users: users.get(), spawn_rate: *spawn_rate_per_s }
            }
            crate::profile::Load::Open { rate_from_per_s, rate_to_per_s, .. } => {
                PlanLoad::Rate { from: *rate_from_per_s, to: *rate_to_per_s }
            }
        }
    }
}

/// What happens during a run, in order. Snapshots travel separately on a `watch`.
#[derive(Clone, Debug)]
pub enum Event {
    /// The run folder exists and the target is up; phases follow.
    RunStarted {
        /// The run folder's name.
        run_id: String,
        /// The run folder.
        dir: PathBuf,
        /// The base URL requests go to.
        target_url: String,
        /// Every phase as planned, in run order.
        phases: Vec<PhasePlan>,
    },
    /// Environment progress in words: "starting embedded target on 127.0.0.1:39123", "pulling redis…".
    Environment(String),
    /// Phase `index` (0-based) began.
    PhaseStarted {
        /// 0-based index into `RunStarted::phases`.
        index: usize,
        /// The phase's name.
        name: String,
        /// Its planned length.
        planned: Duration,
    },
    /// The pause between phases began.
    Pause {
        /// The phase that starts after it.
        next_phase: String,
        /// How long the pause lasts (the skip key ends it early).
        duration: Duration,
    },
    /// Phase `index` ended; its summary is final.
    PhaseFinished {
        /// 0-based index of the phase.
        index: usize,
        /// Its figures, as written to the summary.
        summary: Box<PhaseSummary>,
    },
    /// A steering change applied to the running phase (also kept in its summary's `changes`).
    PhaseChanged {
        /// 0-based index of the phase.
        index: usize,
        /// What changed and when.
        change: crate::metrics::summary::PhaseChange,
        /// The phase's planned length now, extensions included.
        planned: Duration,
    },
    /// A fault window of phase `index` began (`at_s` from the phase's start).
    FaultStarted {
        /// 0-based index of the phase.
        index: usize,
        /// The fault in words (`kill redis`).
        description: String,
        /// Seconds from the phase's start.
        at_s: f64,
    },
    /// A fault window ended and was undone.
    FaultEnded {
        /// 0-based index of the phase.
        index: usize,
        /// The fault in words (`kill redis`).
        description: String,
        /// Seconds from the phase's start.
        at_s: f64,
    },
    /// A sample of a failed request (`HTTP 503 on /webhook [throughput]`), rate-limited.
    RequestError(String),
    /// A CPU/memory sample of the target (also appended to `resources.csv`).
    Resource(ResourceSample),
    /// Something went wrong that did not stop the run (a container died, /configure refused).
    Warning(String),
    /// The run is over and its files are written, whatever its status.
    RunFinished {
        /// The final summary, as written to `experiment_summary.json`.
        summary: Box<RunSummary>,
        /// The run folder.
        dir: PathBuf,
    },
}

/// The channels a run publishes on.
pub struct RunChannels {
    /// Every event, in order. Run milestones wait for room; warnings, samples, faults and steering notices are dropped when the channel is full.
    pub events: mpsc::Sender<Event>,
    /// The latest snapshot, once a second.
    pub snapshots: watch::Sender<Snapshot>,
    /// The run-wide Prometheus series (`--metrics-listen`, remote write); `None`: not kept.
    pub series: Option<watch::Sender<crate::prometheus::LiveSeries>>,
}

/// Why a run could not start or finish; the usage errors (exit 2) are marked per variant.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The target could not be reached, started or prepared; the text says which and why.
    #[error("{0}")]
    Target(String),
    /// The results folder could not be made: a usage error (pick another --output).
    #[error("cannot create the results folder {path}: {source}; choose a writable --output folder")]
    OutputFolder {
        /// The folder that could not be made.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A results file could not be written after the run started.
    #[error("cannot write results under {path}: {source}")]
    Output {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An https target whose certificate or TLS setup fails: a usage error (exit 2).
    #[error("{0}")]
    Tls(String),
    /// A fault the target cannot carry out: a usage error (exit 2), nothing started.
    #[error("{0}")]
    Faults(String),
    /// A distributed run that cannot be set up (no Swarm, a target workers cannot reach):
    /// a usage error (exit 2), nothing measured.
    #[error("{0}")]
    Distributed(String),
    /// Anything else that stopped the run; the text says what.
    #[error("{0}")]
    Other(String),
}

/// Runs the whole experiment and returns its summary (also written to disk).
pub async fn run(
    request: RunRequest,
    channels: RunChannels,
    control: RunControl,
) -> Result<(RunSummary, PathBuf), RunError> {
    runner::run(request, channels, control).await
}

pub use runner::REQUEST_TIMEOUT;
pub use skip::{SkipControl, SkipScope};
pub use steering::{SteerControl, ViewReset};

/// `experiment_summary.html` beside the JSON, charts or not; a failure is logged, not fatal
/// (the JSON and CSVs are what the run is judged by).
fn write_html_summary(dir: &Path, summary: &RunSummary) {
    if let Err(e) = crate::report::write_summary_html(dir, summary) {
        tracing::warn!("could not write the HTML summary in {}: {e}", dir.display());
    }
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    #[test]
    fn debug_of_target_options_prints_header_names_only() {
        let mut options = TargetOptions::default();
        options.set_header("Authorization".into(), "Bearer SECRETdbg".into());
        options.add_url_credentials(Some(crate::profile::Secret::new("Basic SECRETurl")));
        for shown in [format!("{options:?}"), format!("{options:#?}")] {
            assert!(shown.contains("Authorization") && shown.contains("request_timeout"), "{shown}");
            assert!(!shown.contains("SECRET"), "{shown}");
        }
        let mut client = crate::engine::http::ClientOptions::with_timeout(Duration::from_secs(1));
        client.headers = options.headers.clone();
        let shown = format!("{client:?}");
        assert!(shown.contains("Authorization") && !shown.contains("SECRET"), "{shown}");
    }
}
