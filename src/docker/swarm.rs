//! Docker Swarm for distributed runs: whether this engine is a manager, the attachable
//! overlay network that joins the generators to the environment, and the generator
//! service itself (created, its tasks listed, removed with everything it left).

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{
    EndpointSettings, HealthConfig, LocalNodeState, NetworkAttachmentConfig, NetworkConnectRequest,
    NetworkCreateRequest, NetworkDisconnectRequest, ServiceSpec, ServiceSpecMode, ServiceSpecModeReplicated,
    TaskSpec, TaskSpecContainerSpec, TaskSpecPlacement, TaskSpecPlacementPreferences,
    TaskSpecPlacementSpread, TaskSpecRestartPolicy, TaskSpecRestartPolicyConditionEnum,
};
use bollard::query_parameters::{
    ListContainersOptions, ListNodesOptions, ListServicesOptions, ListTasksOptions,
};

use super::error::{is_not_found, status_code};
use super::labels::{self, LABEL_SERVICE};
use super::{DockerEnv, DockerError, TaskState};

/// The `io.terrafix.service` label of the generator service and its containers.
pub const GENERATOR_SERVICE: &str = "generator";
/// The run a generator service belongs to.
pub const LABEL_RUN: &str = "io.terrafix.run";

/// What a distributed run asks Swarm for.
#[derive(Clone, Debug)]
pub struct GeneratorSpec {
    /// The run it serves; set as the service's `io.terrafix.run` label.
    pub run_id: String,
    /// Generator tasks to run (one per worker).
    pub replicas: u32,
    /// The image the tasks run (this tool's own).
    pub image: String,
    /// `KEY=value`; Swarm expands `{{.Task.Slot}}` and `{{.Task.ID}}` in them.
    pub env: Vec<String>,
}

/// One task of the generator service as Swarm reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratorTask {
    /// Swarm's task id.
    pub id: String,
    /// 1-based, as Swarm numbers replicas.
    pub slot: u32,
    /// The task's current state (`running`, `complete`, `failed`, …).
    pub state: TaskState,
    /// The state Swarm wants it in (`running`, `shutdown`).
    pub desired: TaskState,
    /// Swarm's message, and its error when the task failed.
    pub message: String,
    /// The container's exit code, once it has exited.
    pub exit_code: Option<i64>,
    /// The task's container, once it has one.
    pub container_id: Option<String>,
    /// The Swarm node the task was placed on (empty while unassigned).
    pub node_id: String,
}

impl DockerEnv {
    /// Ok when this engine is an active Swarm manager; otherwise says how to make it one.
    pub async fn check_swarm_manager(&self) -> Result<(), DockerError> {
        let info = self.docker.info().await.map_err(|e| DockerError::api("reading the engine's info", e))?;
        let swarm = info.swarm.unwrap_or_default();
        match swarm.local_node_state {
            Some(LocalNodeState::ACTIVE) if swarm.control_available == Some(true) => Ok(()),
            Some(LocalNodeState::ACTIVE) => Err(DockerError::SwarmNotManager),
            state => Err(DockerError::SwarmInactive {
                state: state.map(|s| s.to_string()).filter(|s| !s.is_empty()).unwrap_or("inactive".into()),
            }),
        }
    }

    /// `terrafix-generators` (or `terrafix-<id>-generators`): an attachable overlay network
    /// that the generator tasks and this environment's redis and terrafix-api join.
    pub fn generator_network_name(&self) -> String {
        labels::network_name(&self.env_id).replace("-network", "-generators")
    }

    /// Creates the overlay network (if missing) and attaches redis and terrafix-api to it,
    /// reachable there by their container names.
    pub async fn attach_generator_network(&self) -> Result<String, DockerError> {
        let name = self.generator_network_name();
        match self.docker.inspect_network(&name, None).await {
            Ok(net) if labels::is_ours(net.labels.as_ref(), &self.env_id) => {}
            Ok(_) => return Err(DockerError::NameTaken { kind: "network", name }),
            Err(e) if is_not_found(&e) => {
                let request = NetworkCreateRequest {
                    name: name.clone(),
                    driver: Some("overlay".into()),
                    attachable: Some(true),
                    labels: Some(labels::labels_for(&self.env_id, GENERATOR_SERVICE)),
                    ..Default::default()
                };
                self.docker
                    .create_network(request)
                    .await
                    .map_err(|e| DockerError::api(format!("creating the overlay network {name}"), e))?;
            }
            Err(e) => return Err(DockerError::api(format!("inspecting network {name}"), e)),
        }
        for service in ["redis", "terrafix-api"] {
            let container = self.our_container(service).await?;
            let request = NetworkConnectRequest {
                container: container.clone(),
                endpoint_config: Some(EndpointSettings {
                    aliases: Some(vec![container.clone()]),
                    ..Default::default()
                }),
            };
            match self.docker.connect_network(&name, request).await {
                Ok(()) => {}
                // Already attached (a reused environment): fine.
                Err(e) if status_code(&e) == Some(403) => {}
                Err(e) => return Err(DockerError::api(format!("attaching {container} to {name}"), e)),
            }
        }
        Ok(name)
    }

    /// The image the environment's terrafix-api runs (the generators run the same binary).
    pub async fn api_image(&self) -> Result<String, DockerError> {
        let container = self.our_container("terrafix-api").await?;
        let info = self
            .docker
            .inspect_container(&container, None)
            .await
            .map_err(|e| DockerError::api(format!("inspecting {container}"), e))?;
        info.config.and_then(|c| c.image).ok_or_else(|| DockerError::ServiceMissing {
            service: "terrafix-api".into(),
            env_id: self.env_id.clone(),
        })
    }

    fn generator_labels(&self, run_id: &str) -> HashMap<String, String> {
        let mut l = labels::labels_for(&self.env_id, GENERATOR_SERVICE);
        l.insert(LABEL_RUN.into(), run_id.into());
        l
    }

    /// Creates the generator service: `replicas` tasks of `worker`, restarted on failure.
    pub async fn start_generators(&self, spec: &GeneratorSpec, network: &str) -> Result<String, DockerError> {
        let name = format!("{}-{}", labels::container_name(&self.env_id, GENERATOR_SERVICE), spec.run_id)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
            .take(63)
            .collect::<String>();
        let labels = self.generator_labels(&spec.run_id);
        let service = ServiceSpec {
            name: Some(name.clone()),
            labels: Some(labels.clone()),
            task_template: Some(TaskSpec {
                container_spec: Some(TaskSpecContainerSpec {
                    image: Some(spec.image.clone()),
                    labels: Some(labels),
                    args: Some(vec!["worker".into()]),
                    env: Some(spec.env.clone()),
                    // The image's health check is the API's; a generator serves nothing.
                    health_check: Some(HealthConfig {
                        test: Some(vec!["NONE".into()]),
                        ..Default::default()
                    }),
                    stop_grace_period: Some(10_000_000_000),
                    ..Default::default()
                }),
                // One task per node before any node gets a second: the point of spreading.
                placement: Some(TaskSpecPlacement {
                    preferences: Some(vec![TaskSpecPlacementPreferences {
                        spread: Some(TaskSpecPlacementSpread { spread_descriptor: Some("node.id".into()) }),
                    }]),
                    ..Default::default()
                }),
                restart_policy: Some(TaskSpecRestartPolicy {
                    condition: Some(TaskSpecRestartPolicyConditionEnum::ON_FAILURE),
                    delay: Some(1_000_000_000),
                    max_attempts: Some(3),
                    window: None,
                }),
                networks: Some(vec![NetworkAttachmentConfig {
                    target: Some(network.to_string()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            mode: Some(ServiceSpecMode {
                replicated: Some(ServiceSpecModeReplicated { replicas: Some(i64::from(spec.replicas)) }),
                ..Default::default()
            }),
            ..Default::default()
        };
        self.docker
            .create_service(service, None)
            .await
            .map_err(|e| DockerError::api(format!("creating the generator service {name}"), e))?;
        Ok(name)
    }

    /// The tasks of a generator service, every attempt (running, failed, shut down).
    pub async fn generator_tasks(&self, service: &str) -> Result<Vec<GeneratorTask>, DockerError> {
        let filters = HashMap::from([("service".to_string(), vec![service.to_string()])]);
        let tasks = self
            .docker
            .list_tasks(Some(ListTasksOptions { filters: Some(filters) }))
            .await
            .map_err(|e| DockerError::api(format!("listing the tasks of {service}"), e))?;
        Ok(tasks
            .into_iter()
            .map(|t| {
                let status = t.status.unwrap_or_default();
                let container = status.container_status.clone().unwrap_or_default();
                let message = [status.message.clone(), status.err.clone()]
                    .into_iter()
                    .flatten()
                    .filter(|m| !m.is_empty())
                    .collect::<Vec<_>>()
                    .join(": ");
                GeneratorTask {
                    id: t.id.unwrap_or_default(),
                    slot: t.slot.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32,
                    state: TaskState::from_docker(&status.state.map(|s| s.to_string()).unwrap_or_default()),
                    desired: TaskState::from_docker(
                        &t.desired_state.map(|s| s.to_string()).unwrap_or_default(),
                    ),
                    message,
                    exit_code: container.exit_code,
                    container_id: container.container_id.filter(|c| !c.is_empty()),
                    node_id: t.node_id.unwrap_or_default(),
                }
            })
            .collect())
    }

    /// The swarm's nodes: id → hostname (a node that left still answers until removed).
    pub async fn swarm_node_names(&self) -> Result<HashMap<String, String>, DockerError> {
        let nodes = self
            .docker
            .list_nodes(None::<ListNodesOptions>)
            .await
            .map_err(|e| DockerError::api("listing the swarm's nodes", e))?;
        Ok(nodes
            .into_iter()
            .filter_map(|n| {
                let host = n.description.and_then(|d| d.hostname).unwrap_or_default();
                Some((n.id?, host))
            })
            .collect())
    }

    /// Removes every generator service of this environment (this run's or an earlier run's
    /// leftovers), waits (bounded) for their containers to go, then detaches the environment
    /// from the overlay network and removes it. Returns the services removed.
    pub async fn remove_generators(&self, wait: Duration) -> Result<Vec<String>, DockerError> {
        let mut filters = labels::env_filter(&self.env_id);
        filters.entry("label".into()).or_default().push(format!("{LABEL_SERVICE}={GENERATOR_SERVICE}"));
        let services = self
            .docker
            .list_services(Some(ListServicesOptions { filters: Some(filters.clone()), status: None }))
            .await
            .map_err(|e| DockerError::api("listing generator services", e))?;
        let mut removed = Vec::new();
        for s in services {
            let Some(name) = s.spec.and_then(|spec| spec.name) else { continue };
            match self.docker.delete_service(&name).await {
                Ok(()) => removed.push(name),
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(DockerError::api(format!("removing service {name}"), e)),
            }
        }
        // Swarm removes a service's containers after the call returns (and a task it was
        // restarting may still appear): wait for them, remove stragglers ourselves, then the
        // network; repeat until nothing of ours is left or the wait is over.
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = self.generator_containers(&filters).await?;
            if left.is_empty() {
                self.detach_generator_network().await?;
                // A container that appeared meanwhile brings us round again.
                if self.generator_containers(&filters).await?.is_empty() {
                    break;
                }
            } else if tokio::time::Instant::now() >= deadline {
                for id in &left {
                    super::containers::remove_container(&self.docker, id).await?;
                }
                self.detach_generator_network().await?;
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Ok(removed)
    }

    /// Ids of the generator containers of this environment, stopped ones included.
    async fn generator_containers(
        &self,
        filters: &HashMap<String, Vec<String>>,
    ) -> Result<Vec<String>, DockerError> {
        let list = self
            .docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                filters: Some(filters.clone()),
                ..Default::default()
            }))
            .await
            .map_err(|e| DockerError::api("listing generator containers", e))?;
        Ok(list.into_iter().filter_map(|c| c.id).collect())
    }

    /// True once the engine no longer lists the network (a swarm-scoped network can linger
    /// on the node for a moment after its removal was accepted).
    async fn network_gone(&self, name: &str) -> bool {
        matches!(self.docker.inspect_network(name, None).await, Err(e) if is_not_found(&e))
    }

    async fn detach_generator_network(&self) -> Result<(), DockerError> {
        let name = self.generator_network_name();
        match self.docker.inspect_network(&name, None).await {
            Ok(net) if labels::is_ours(net.labels.as_ref(), &self.env_id) => {}
            Ok(_) => return Ok(()),
            Err(e) if is_not_found(&e) => return Ok(()),
            Err(e) => return Err(DockerError::api(format!("inspecting network {name}"), e)),
        }
        for service in ["redis", "terrafix-api"] {
            let container = labels::container_name(&self.env_id, service);
            let request = NetworkDisconnectRequest { container, force: Some(true) };
            // Not attached, or gone: nothing to undo.
            let _ = self.docker.disconnect_network(&name, request).await;
        }
        // The overlay's own endpoints can take a moment to go after its last task.
        for _ in 0..40 {
            // Refused while the overlay's last endpoints go, or accepted and still listed for
            // a moment: either way the engine's listing decides.
            let _ = self.docker.remove_network(&name).await;
            if self.network_gone(&name).await {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        self.docker
            .remove_network(&name)
            .await
            .map_err(|e| DockerError::api(format!("removing network {name}"), e))
    }
}
