//! The Docker environment through the Engine API (bollard): images, network, containers,
//! health, logs and stats of redis, terrafix-api and localstack. bollard types stay inside
//! this module; callers see `DockerEnv` and plain data. Imports `metrics` (ResourceSample).

#![deny(missing_docs)]

mod build;
mod client;
mod containers;
mod error;
mod health;
mod hostnet;
mod images;
mod labels;
mod logs;
mod ports;
mod services;
mod state;
mod stats;
mod status;
mod swarm;
mod up;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::Docker;
use tokio::task::JoinHandle;

pub use error::DockerError;
pub use hostnet::RunRedis;
pub use images::API_COMPOSE_IMAGE;
pub use labels::{DEFAULT_ENV_ID, LABEL_ENV, LABEL_MANAGED_BY, LABEL_SERVICE, MANAGED_BY_VALUE};
pub use services::{LOCALSTACK_IMAGE, REDIS_HOST_IMAGE, REDIS_IMAGE};
pub use state::{Health, ServiceState, TaskState};
pub use swarm::{GENERATOR_SERVICE, GeneratorSpec, GeneratorTask, LABEL_RUN};

/// A connection to the local engine, scoped to one environment id (the default one is what
/// `terrafix-tui env` manages; tests use their own so they can run side by side).
pub struct DockerEnv {
    docker: Docker,
    env_id: String,
    /// Cleanups spawned when an `up` future was dropped mid-way; see [`DockerEnv::wait_cleanup`].
    pending_cleanup: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

/// How `env up` brings the environment up. `Default` is the seed's: ports 8081/6379/4566, no LocalStack, 60 s health wait.
#[derive(Clone, Debug)]
pub struct UpOptions {
    /// Also start LocalStack (`--with-localstack`).
    pub with_localstack: bool,
    /// Host ports published on 127.0.0.1; 0 = pick a free port. Defaults 8081 / 6379 / 4566.
    pub api_port: u16,
    /// Host port for Redis on 127.0.0.1 (0 = a free one).
    pub redis_port: u16,
    /// Host port for LocalStack on 127.0.0.1 (0 = a free one).
    pub localstack_port: u16,
    /// The executable to put in the terrafix-api image when it must be built locally
    /// (default: std::env::current_exe()). Tests pass env!("CARGO_BIN_EXE_terrafix-tui").
    pub api_binary: Option<PathBuf>,
    /// How long each service may take to report healthy before `up` fails.
    pub health_timeout: Duration,
    /// The API container's `TERRAFIX_MOCK_LATENCY_MS` / `TERRAFIX_MOCK_FAILURE_RATE`
    /// (the seed's `start --latency MS --failure-rate N`); `None` leaves the mock's default.
    pub api_latency_ms: Option<f64>,
    /// Share of failures the API answers with an injected error, in [0, 1]; `None`: the mock's default.
    pub api_failure_rate: Option<f64>,
    /// Run this image as LocalStack instead of `localstack/localstack:3.0`.
    pub localstack_image: Option<String>,
}

impl Default for UpOptions {
    fn default() -> Self {
        UpOptions {
            with_localstack: false,
            api_port: 8081,
            redis_port: 6379,
            localstack_port: 4566,
            api_binary: None,
            health_timeout: Duration::from_secs(60),
            api_latency_ms: None,
            api_failure_rate: None,
            localstack_image: None,
        }
    }
}

/// Where the services of an environment that is up can be reached from the host.
#[derive(Clone, Debug)]
pub struct Endpoints {
    /// e.g. http://127.0.0.1:8081/  (the published mock API)
    pub api_url: url::Url,
    /// e.g. redis://127.0.0.1:6379/0 (published redis, for tools on the host)
    pub redis_url: String,
    /// e.g. http://127.0.0.1:4566/ when LocalStack was asked for and answered.
    pub localstack_url: Option<url::Url>,
    /// What did not come up but does not stop the environment (an unhealthy LocalStack:
    /// the seed only warned), each with its reason.
    pub warnings: Vec<String>,
    /// The one command that brings the same services (images, ports, API settings) up with
    /// the repository's compose file, offline, under the default environment's names.
    pub compose_up: String,
}

impl UpOptions {
    /// The API container's extra environment for the settings asked for.
    pub fn api_environment(&self) -> Vec<String> {
        let mut env = Vec::new();
        if let Some(ms) = self.api_latency_ms {
            env.push(format!("TERRAFIX_MOCK_LATENCY_MS={ms}"));
        }
        if let Some(rate) = self.api_failure_rate {
            env.push(format!("TERRAFIX_MOCK_FAILURE_RATE={rate}"));
        }
        env
    }

    /// Refuses settings the mock would refuse at start (it would exit, and `up` would
    /// report a container that died instead of the value at fault).
    pub fn check(&self) -> Result<(), DockerError> {
        if let Some(ms) = self.api_latency_ms
            && !(ms.is_finite() && (0.0..=600_000.0).contains(&ms))
        {
            return Err(DockerError::InvalidOption(format!("--latency-ms {ms}: expected 0 to 600000 ms")));
        }
        if let Some(rate) = self.api_failure_rate
            && !(rate.is_finite() && (0.0..=1.0).contains(&rate))
        {
            return Err(DockerError::InvalidOption(format!(
                "--failure-rate {rate}: expected a share in [0, 1]"
            )));
        }
        if self.health_timeout.is_zero() {
            return Err(DockerError::InvalidOption("health timeout must be above zero".into()));
        }
        Ok(())
    }
}

/// One service of the environment as `env status` shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceStatus {
    /// The Compose service name (`terrafix-api`, `redis`, `localstack`).
    pub name: String,
    /// The image its container runs; empty when there is no container.
    pub image: String,
    /// `running`, `exited`, `missing`, ...
    pub state: ServiceState,
    /// The host-side probe's verdict: `healthy`, `unhealthy`, or `none` (not running).
    pub health: Health,
    /// "127.0.0.1:8081->8081/tcp"
    pub ports: Vec<String>,
    /// How long the container has been running; `None` when it is not.
    pub uptime: Option<Duration>,
    /// CPU in percent of one core, as `docker stats` counts it; `None` when not running.
    pub cpu_percent: Option<f64>,
    /// Memory in use in bytes, as `docker stats` counts it; `None` when not running.
    pub memory_bytes: Option<u64>,
}

impl DockerEnv {
    /// Connects to the local engine for the default environment (negotiating the API version).
    pub async fn connect() -> Result<Self, DockerError> {
        Self::connect_with_id(DEFAULT_ENV_ID).await
    }

    /// Connects for environment `env_id` (1–32 of a-z, 0-9, '-'): its network, containers
    /// and volumes carry the id in their names and labels.
    pub async fn connect_with_id(env_id: &str) -> Result<Self, DockerError> {
        labels::validate_env_id(env_id)?;
        let docker = client::connect().await?;
        Ok(DockerEnv { docker, env_id: env_id.to_string(), pending_cleanup: Arc::default() })
    }

    /// The environment id (`default` or `--env-id`): it names the containers, network and volume.
    pub fn env_id(&self) -> &str {
        &self.env_id
    }

    /// The name of this environment's container for `service` (e.g. `terrafix-redis`).
    pub fn container_name(&self, service: &str) -> Result<String, DockerError> {
        let service = services::Service::parse(service)?;
        Ok(labels::container_name(&self.env_id, service.name()))
    }

    /// The name of this environment's network (`terrafix-network` for the default one).
    pub fn network_name(&self) -> String {
        labels::network_name(&self.env_id)
    }

    /// Waits for cleanups started when an `up` future was dropped (Ctrl-C) to finish.
    pub async fn wait_cleanup(&self) {
        let handles: Vec<JoinHandle<()>> = match self.pending_cleanup.lock() {
            Ok(mut pending) => pending.drain(..).collect(),
            // A panic while holding this lock leaves plain handles behind: still usable.
            Err(poisoned) => poisoned.into_inner().drain(..).collect(),
        };
        for handle in handles {
            // The clean-up logs its own failures; a join error (it panicked) leaves nothing to wait for.
            let _ = handle.await;
        }
    }

    /// Stops and removes the environment's containers and network; its volumes too with `remove_volumes`.
    pub async fn down(&self, remove_volumes: bool) -> Result<(), DockerError> {
        self.wait_cleanup().await;
        containers::remove_environment(&self.docker, &self.env_id, remove_volumes).await
    }

    /// One CPU/memory sample per running service of ours (for resources.csv / resources.png).
    pub async fn sample_stats(&self) -> Result<Vec<crate::metrics::ResourceSample>, DockerError> {
        status::sample_stats(&self.docker, &self.env_id).await
    }

    /// Every service of ours with its state, health, ports and resource use (missing ones included).
    pub async fn status(&self) -> Result<Vec<ServiceStatus>, DockerError> {
        status::status(&self.docker, &self.env_id).await
    }

    /// Log lines of a service (stdout+stderr), last `tail` lines then new ones when `follow`.
    pub async fn logs(
        &self,
        service: &str,
        tail: usize,
        follow: bool,
    ) -> Result<futures::stream::BoxStream<'static, Result<String, DockerError>>, DockerError> {
        let container = self.our_container(service).await?;
        Ok(logs::stream_lines(&self.docker, &container, tail, follow))
    }

    /// Starts a service's stopped container (already running is fine).
    pub async fn start_service(&self, service: &str) -> Result<(), DockerError> {
        let container = self.our_container(service).await?;
        self.docker
            .start_container(&container, None::<bollard::query_parameters::StartContainerOptions>)
            .await
            .or_else(|e| if error::status_code(&e) == Some(304) { Ok(()) } else { Err(e) })
            .map_err(|e| DockerError::api(format!("starting {container}"), e))
    }

    /// Stops a service's container, SIGKILL after 5 s (already stopped is fine).
    pub async fn stop_service(&self, service: &str) -> Result<(), DockerError> {
        let container = self.our_container(service).await?;
        let options = bollard::query_parameters::StopContainerOptions { t: Some(5), signal: None };
        self.docker
            .stop_container(&container, Some(options))
            .await
            .or_else(|e| if error::status_code(&e) == Some(304) { Ok(()) } else { Err(e) })
            .map_err(|e| DockerError::api(format!("stopping {container}"), e))
    }

    /// Restarts a service's container (SIGKILL after 5 s if it does not stop).
    pub async fn restart_service(&self, service: &str) -> Result<(), DockerError> {
        let container = self.our_container(service).await?;
        let options = bollard::query_parameters::RestartContainerOptions { t: Some(5), signal: None };
        self.docker
            .restart_container(&container, Some(options))
            .await
            .map_err(|e| DockerError::api(format!("restarting {container}"), e))
    }

    /// Freezes a service's container (its processes stop being scheduled).
    pub async fn pause_service(&self, service: &str) -> Result<(), DockerError> {
        let container = self.our_container(service).await?;
        self.docker
            .pause_container(&container)
            .await
            .map_err(|e| DockerError::api(format!("pausing {container}"), e))
    }

    /// Unfreezes a paused service's container.
    pub async fn unpause_service(&self, service: &str) -> Result<(), DockerError> {
        let container = self.our_container(service).await?;
        self.docker
            .unpause_container(&container)
            .await
            .map_err(|e| DockerError::api(format!("unpausing {container}"), e))
    }

    /// SIGKILL a service's container (tests: "redis dies mid-run").
    pub async fn kill_service(&self, service: &str) -> Result<(), DockerError> {
        let container = self.our_container(service).await?;
        let options = bollard::query_parameters::KillContainerOptions { signal: "SIGKILL".to_string() };
        self.docker
            .kill_container(&container, Some(options))
            .await
            .map_err(|e| DockerError::api(format!("killing {container}"), e))
    }

    /// The container name of `service`, after checking it exists and carries our labels.
    async fn our_container(&self, service: &str) -> Result<String, DockerError> {
        let service = services::Service::parse(service)?;
        let name = labels::container_name(&self.env_id, service.name());
        match self.docker.inspect_container(&name, None).await {
            Ok(info)
                if labels::is_ours(info.config.as_ref().and_then(|c| c.labels.as_ref()), &self.env_id) =>
            {
                Ok(name)
            }
            Ok(_) => Err(DockerError::NameTaken { kind: "container", name }),
            Err(e) if error::is_not_found(&e) => Err(DockerError::ServiceMissing {
                service: service.name().to_string(),
                env_id: self.env_id.clone(),
            }),
            Err(e) => Err(DockerError::api(format!("inspecting {name}"), e)),
        }
    }
}
