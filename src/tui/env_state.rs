//! State of the Environment screen in our own view types (service rows, log lines, the live
//! server-settings form); of the Docker adapter only its plain state and health enums
//! reach the TUI, never a bollard type.

use std::collections::VecDeque;

use super::state::EditBuffer;
use crate::docker::{Health, ServiceState};

/// One Docker service as the table shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceRow {
    /// The compose service name (`redis`, `terrafix-api`, `localstack`).
    pub name: String,
    /// The image the container runs; empty when the container is missing.
    pub image: String,
    /// Docker's container state (`running`, `exited`, …), or `missing` when none exists.
    pub state: ServiceState,
    /// The host-side health probe's verdict for the service (`none` when it is not running).
    pub health: Health,
    /// Published ports as `127.0.0.1:HOST->CONTAINER` text; empty when none.
    pub ports: Vec<String>,
    /// Seconds since the container started; `None` when it is not running.
    pub uptime_s: Option<u64>,
    /// CPU use in percent, 100 = one full core (so above 100 on several); `None` when not sampled.
    pub cpu_percent: Option<f64>,
    /// Memory in use in bytes, page cache excluded; `None` when not sampled.
    pub memory_bytes: Option<u64>,
}

/// Whether the Docker Engine can be reached from here.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum DockerAvail {
    /// Not asked yet (the screen connects when first shown).
    #[default]
    Unknown,
    /// A connection attempt is under way.
    Connecting,
    /// The Engine answered; the screen polls the services' status.
    Available,
    /// Connecting failed; the one-line reason.
    Unavailable(String),
}

/// Which pane of the Environment screen takes the arrow keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EnvFocus {
    /// The table of services.
    #[default]
    Services,
    /// The server settings form.
    Settings,
}

/// The live server settings sent with `POST /configure`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerField {
    /// The target the form and health check talk to (its base URL).
    Url,
    /// Base simulated processing time per request, in milliseconds.
    LatencyMs,
    /// Share of requests answered with an injected error, in [0, 1].
    FailureRate,
    /// How failing requests fail (cycled through [`FAILURE_MODES`]).
    FailureMode,
    /// Backpressure: requests in processing before new ones get 429 (0 = off).
    MaxConcurrent,
    /// Processing slots; requests past them queue (0 = unlimited).
    Workers,
}

impl ServerField {
    /// Every field in the order the form lists them.
    pub const ALL: [ServerField; 6] = [
        ServerField::Url,
        ServerField::LatencyMs,
        ServerField::FailureRate,
        ServerField::FailureMode,
        ServerField::MaxConcurrent,
        ServerField::Workers,
    ];

    /// The field's name in the form.
    pub fn label(self) -> &'static str {
        match self {
            ServerField::Url => "target URL",
            ServerField::LatencyMs => "latency ms",
            ServerField::FailureRate => "failure rate",
            ServerField::FailureMode => "failure mode",
            ServerField::MaxConcurrent => "max concurrent",
            ServerField::Workers => "workers",
        }
    }
}

/// The failure modes the form cycles through: the one enum's names, in its order.
pub const FAILURE_MODES: [crate::profile::FailureMode; 5] = crate::profile::FailureMode::ALL;

/// The Environment screen's server settings form, as typed; empty fields are left out of the `/configure` body.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerForm {
    /// Base URL of the target that receives `/configure`.
    pub url: String,
    /// Base processing time in ms, a number ≥ 0.
    pub latency_ms: String,
    /// Failure rate, a number in [0, 1].
    pub failure_rate: String,
    /// Index into [`FAILURE_MODES`].
    pub failure_mode: usize,
    /// Backpressure limit, a whole number (0 = off).
    pub max_concurrent: String,
    /// Processing slots, a whole number (0 = unlimited).
    pub workers: String,
    /// Selected row, an index into [`ServerField::ALL`].
    pub cursor: usize,
    /// The field being edited, if any.
    pub edit: Option<EditBuffer>,
    /// True while a `/configure` request is in flight.
    pub sending: bool,
    /// The server's answer (Ok) or what went wrong (Err), one line each.
    pub last_reply: Option<Result<String, String>>,
}

impl Default for ServerForm {
    fn default() -> Self {
        Self {
            // Nothing chosen yet: the default target is embedded, which has no URL to check.
            url: String::new(),
            latency_ms: String::new(),
            failure_rate: String::new(),
            failure_mode: 0,
            max_concurrent: String::new(),
            workers: String::new(),
            cursor: 1,
            edit: None,
            sending: false,
            last_reply: None,
        }
    }
}

impl ServerForm {
    /// The field under the cursor (the last one if the cursor is past it).
    pub fn field(&self) -> ServerField {
        ServerField::ALL[self.cursor.min(ServerField::ALL.len() - 1)]
    }

    /// The field's value as the form shows it (the failure mode by name).
    pub fn text(&self, field: ServerField) -> &str {
        match field {
            ServerField::Url => &self.url,
            ServerField::LatencyMs => &self.latency_ms,
            ServerField::FailureRate => &self.failure_rate,
            ServerField::FailureMode => FAILURE_MODES[self.failure_mode % FAILURE_MODES.len()].as_str(),
            ServerField::MaxConcurrent => &self.max_concurrent,
            ServerField::Workers => &self.workers,
        }
    }

    /// The `/configure` body: only the fields that were filled in, checked.
    pub fn body(&self) -> Result<serde_json::Value, String> {
        let mut body = serde_json::Map::new();
        if !self.latency_ms.trim().is_empty() {
            let v: f64 =
                self.latency_ms.trim().parse().map_err(|_| "latency ms must be a number, e.g. 50")?;
            if v < 0.0 {
                return Err("latency ms cannot be negative".into());
            }
            body.insert("latency_ms".into(), v.into());
        }
        if !self.failure_rate.trim().is_empty() {
            let v: f64 = self
                .failure_rate
                .trim()
                .parse()
                .map_err(|_| "failure rate must be a number in [0, 1], e.g. 0.1")?;
            if !(0.0..=1.0).contains(&v) {
                return Err("failure rate must be in [0, 1] (0.1 = 10 %)".into());
            }
            body.insert("failure_rate".into(), v.into());
            body.insert("failure_mode".into(), self.text(ServerField::FailureMode).into());
        }
        for (field, text) in [("max_concurrent", &self.max_concurrent), ("workers", &self.workers)] {
            if !text.trim().is_empty() {
                let v: u32 =
                    text.trim().parse().map_err(|_| format!("{field} must be a whole number (0 = off)"))?;
                body.insert(field.into(), v.into());
            }
        }
        if body.is_empty() {
            return Err("fill in at least one setting before applying".into());
        }
        Ok(serde_json::Value::Object(body))
    }
}

/// Which target the screen's URL and health check follow: the one the user chose last (in
/// the run settings, in this screen's form, by `u`, or by starting a run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvTarget {
    /// A URL typed in the form or chosen in the run settings.
    Url,
    /// The Docker environment's published API: chosen in the run settings, after `u`, or
    /// during a run with target docker. Checked only once its services exist.
    Docker,
    /// A run's embedded mock, which exists only while that run does. The default, as it is
    /// the run settings' default target: nothing is checked until a run starts.
    Embedded {
        /// True while a run (and so its mock) is going on.
        running: bool,
    },
}

impl Default for EnvTarget {
    fn default() -> Self {
        EnvTarget::Embedded { running: false }
    }
}

/// The Docker environment's API on the host, as `u` publishes it by default.
pub const DOCKER_API_URL: &str = "http://127.0.0.1:8081";

/// The log of one service, followed in a pane.
#[derive(Clone, Debug, Default)]
pub struct LogPane {
    /// The compose service whose log this is.
    pub service: String,
    /// The latest lines, oldest dropped first (at most [`LOG_CAP`]).
    pub lines: VecDeque<String>,
    /// False once the stream ended (the reason is the last line).
    pub following: bool,
}

/// Lines a log pane keeps.
pub const LOG_CAP: usize = 500;

impl EnvState {
    /// Whether the Docker environment is up: `u` said so, or one of its services runs (a
    /// missing one is only listed).
    pub fn docker_up(&self) -> bool {
        self.api_up || self.services.iter().any(|s| s.state == ServiceState::Running)
    }

    /// Whether the screen's target is something that can answer now: a URL that was typed
    /// or chosen, the Docker environment once its services exist, a run's embedded mock
    /// while the run goes on. Nothing else is ever asked.
    pub fn should_probe(&self) -> bool {
        let has_url = !self.form.url.is_empty();
        match self.target {
            EnvTarget::Embedded { running } => running && has_url,
            EnvTarget::Docker => self.docker_up() && has_url,
            EnvTarget::Url => has_url,
        }
    }
}

/// State of the Environment screen: Docker's reachability, the services, logs, the server settings form and the target's health.
#[derive(Clone, Debug, Default)]
pub struct EnvState {
    /// Whether the Docker Engine can be reached.
    pub docker: DockerAvail,
    /// The environment's services, in compose order.
    pub services: Vec<ServiceRow>,
    /// Selected row of the services table.
    pub selected: usize,
    /// The pane that takes the arrow keys.
    pub focus: EnvFocus,
    /// A Docker operation in progress, in words ("starting the environment").
    pub busy: Option<String>,
    /// The last Docker operation's outcome, one line: what it did, or why it failed.
    pub last_result: Option<Result<String, String>>,
    /// The followed log, while a pane is open.
    pub logs: Option<LogPane>,
    /// The server settings form.
    pub form: ServerForm,
    /// Target health from `GET /health`: Ok(answer) or Err(reason).
    pub health: Option<Result<String, String>>,
    /// Ticks since the last status poll.
    pub ticks_since_poll: u32,
    /// `u` and runs with target docker also start LocalStack (off: mock mode needs none).
    pub with_localstack: bool,
    /// What `form.url` is: the target the health check follows.
    pub target: EnvTarget,
    /// `u` said the Docker environment's API is up (until `d` takes it down).
    pub api_up: bool,
}
