//! The run's own Redis for generators on the nodes' host networks: a container on the
//! manager's host network, listening on the manager's node address and on loopback, behind
//! a password the coordinator generates. It carries only the run's stream and goes with the
//! run; the environment's Redis stays as private as it was.

use bollard::models::{ContainerCreateBody, HealthConfig, HostConfig};
use bollard::query_parameters::{CreateContainerOptions, StartContainerOptions};

use super::error::status_code;
use super::labels;
use super::swarm::{GENERATOR_SERVICE, LABEL_RUN};
use super::{DockerEnv, DockerError};

/// Where the run's Redis listens: the manager's node address and a port on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRedis {
    /// The container's name (one per environment).
    pub container: String,
    /// The manager's address in the swarm (what every node reaches it by).
    pub node_addr: String,
    /// The port it listens on there (free on the manager when chosen).
    pub port: u16,
}

impl DockerEnv {
    /// The container name of the run's Redis (so a leftover is found by name).
    fn run_redis_name(&self) -> String {
        format!("{}-redis", labels::container_name(&self.env_id, GENERATOR_SERVICE))
    }

    /// This manager's address in the swarm (`docker info` → Swarm.NodeAddr).
    pub async fn swarm_node_addr(&self) -> Result<String, DockerError> {
        let info = self.docker.info().await.map_err(|e| DockerError::api("reading the engine's info", e))?;
        info.swarm.and_then(|s| s.node_addr).filter(|a| !a.is_empty()).ok_or(DockerError::SwarmNotManager)
    }

    /// Starts the run's Redis on the manager's host network, on `port`, with `password`
    /// (never logged: it is only in the container's command line on the manager).
    pub async fn start_run_redis(
        &self,
        run_id: &str,
        port: u16,
        password: &str,
    ) -> Result<RunRedis, DockerError> {
        self.remove_run_redis().await?;
        let node_addr = self.swarm_node_addr().await?;
        let image = self.redis_image().await?;
        let container = self.run_redis_name();
        let mut l = labels::labels_for(&self.env_id, GENERATOR_SERVICE);
        l.insert(LABEL_RUN.into(), run_id.into());
        let cmd = [
            "redis-server",
            "--port",
            &port.to_string(),
            "--bind",
            &node_addr,
            "127.0.0.1",
            "--requirepass",
            password,
            "--save",
            "",
            "--appendonly",
            "no",
        ];
        let config = ContainerCreateBody {
            image: Some(image),
            cmd: Some(cmd.iter().map(|w| w.to_string()).collect()),
            labels: Some(l),
            healthcheck: Some(HealthConfig { test: Some(vec!["NONE".into()]), ..Default::default() }),
            host_config: Some(HostConfig { network_mode: Some("host".into()), ..Default::default() }),
            ..Default::default()
        };
        let options = CreateContainerOptions { name: Some(container.clone()), platform: String::new() };
        self.docker.create_container(Some(options), config).await.map_err(|e| {
            if status_code(&e) == Some(409) {
                DockerError::NameTaken { kind: "container", name: container.clone() }
            } else {
                DockerError::api(format!("creating the run's Redis {container}"), e)
            }
        })?;
        self.docker.start_container(&container, None::<StartContainerOptions>).await.map_err(|e| {
            DockerError::api(format!("starting the run's Redis {container} on port {port}"), e)
        })?;
        Ok(RunRedis { container, node_addr, port })
    }

    /// Removes the run's Redis (gone already is fine).
    pub async fn remove_run_redis(&self) -> Result<(), DockerError> {
        super::containers::remove_container(&self.docker, &self.run_redis_name()).await
    }

    /// The image the environment's Redis runs (present on the manager by construction).
    async fn redis_image(&self) -> Result<String, DockerError> {
        let container = self.our_container("redis").await?;
        let info = self
            .docker
            .inspect_container(&container, None)
            .await
            .map_err(|e| DockerError::api(format!("inspecting {container}"), e))?;
        info.config.and_then(|c| c.image).ok_or_else(|| DockerError::ServiceMissing {
            service: "redis".into(),
            env_id: self.env_id.clone(),
        })
    }
}
