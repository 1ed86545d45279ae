//! Network, volumes and containers of one environment: create them labelled, find ours by
//! label, read their state and published ports, remove only what carries our labels.
//! Imports bollard, `labels`, `services`, `ports` and `state`.

use std::collections::HashMap;

use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, ContainerStateStatusEnum, EndpointSettings, HealthConfig, HostConfig,
    NetworkCreateRequest, NetworkingConfig, PortBinding, VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptions, ListContainersOptions, ListNetworksOptions, ListVolumesOptions,
    RemoveContainerOptions, RemoveVolumeOptions, StartContainerOptions,
};

use super::DockerError;
use super::error::{is_not_found, status_code};
use super::labels::{
    LABEL_SERVICE, container_name, env_filter, is_ours, labels_for, network_name, volume_name,
};
use super::ports::port_error;
use super::services::Service;
use super::state::{Health, ServiceState};

/// A container of ours, as listed by the engine.
#[derive(Clone, Debug)]
pub struct OurContainer {
    pub id: String,
    pub name: String,
    pub service: String,
    pub image: String,
    pub state: ServiceState,
}

/// What `inspect` says about a container's process.
#[derive(Clone, Debug, Default)]
pub struct RunState {
    pub running: bool,
    pub status: ServiceState,
    pub exit_code: i64,
    pub started_at: Option<String>,
    /// Host ports by container port ("6379/tcp" → 32768).
    pub host_ports: HashMap<String, u16>,
    /// Docker's own health status (`starting`, `healthy`, `unhealthy`); None without a
    /// health check.
    pub health: Option<Health>,
}

/// Every container (running or not) labelled as ours in `env_id`.
pub async fn list_ours(docker: &Docker, env_id: &str) -> Result<Vec<OurContainer>, DockerError> {
    let options =
        ListContainersOptions { all: true, filters: Some(env_filter(env_id)), ..Default::default() };
    let list = docker
        .list_containers(Some(options))
        .await
        .map_err(|e| DockerError::api(format!("listing the containers of environment {env_id}"), e))?;
    Ok(list
        .into_iter()
        .filter(|c| is_ours(c.labels.as_ref(), env_id))
        .map(|c| OurContainer {
            id: c.id.unwrap_or_default(),
            name: c
                .names
                .and_then(|n| n.first().cloned())
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string(),
            service: c.labels.as_ref().and_then(|l| l.get(LABEL_SERVICE).cloned()).unwrap_or_default(),
            image: c.image.unwrap_or_default(),
            state: c.state.map_or(ServiceState::Unknown, |s| ServiceState::from_docker(s.as_ref())),
        })
        .collect())
}

pub async fn container_state(docker: &Docker, container: &str) -> Result<RunState, DockerError> {
    let info = match docker.inspect_container(container, None).await {
        Ok(info) => info,
        Err(e) if is_not_found(&e) => {
            return Ok(RunState { status: ServiceState::Missing, ..Default::default() });
        }
        Err(e) => return Err(DockerError::api(format!("inspecting container {container}"), e)),
    };
    let state = info.state.unwrap_or_default();
    let host_ports = info
        .network_settings
        .and_then(|n| n.ports)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(port, bindings)| {
            let host = bindings?.into_iter().find_map(|b| b.host_port?.parse::<u16>().ok())?;
            Some((port, host))
        })
        .collect();
    let status = match state.status {
        Some(ContainerStateStatusEnum::EMPTY) | None => ServiceState::Unknown,
        Some(s) => ServiceState::from_docker(s.as_ref()),
    };
    Ok(RunState {
        running: state.running.unwrap_or(false),
        status,
        exit_code: state.exit_code.unwrap_or(0),
        started_at: state.started_at,
        host_ports,
        health: state.health.and_then(|h| h.status).map(|status| Health::from_docker(status.as_ref())),
    })
}

/// The container's environment (`KEY=value`, the image's own included); empty when it is gone.
pub async fn container_env(docker: &Docker, container: &str) -> Result<Vec<String>, DockerError> {
    match docker.inspect_container(container, None).await {
        Ok(info) => Ok(info.config.and_then(|c| c.env).unwrap_or_default()),
        Err(e) if is_not_found(&e) => Ok(Vec::new()),
        Err(e) => Err(DockerError::api(format!("inspecting container {container}"), e)),
    }
}

/// Creates the environment's bridge network unless ours already exists.
pub async fn ensure_network(docker: &Docker, env_id: &str) -> Result<String, DockerError> {
    let name = network_name(env_id);
    match docker.inspect_network(&name, None).await {
        Ok(net) if is_ours(net.labels.as_ref(), env_id) => return Ok(name),
        Ok(_) => return Err(DockerError::NameTaken { kind: "network", name }),
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(DockerError::api(format!("inspecting network {name}"), e)),
    }
    let options = NetworkCreateRequest {
        name: name.clone(),
        driver: Some("bridge".to_string()),
        labels: Some(labels_for(env_id, "network")),
        ..Default::default()
    };
    docker
        .create_network(options)
        .await
        .map_err(|e| DockerError::api(format!("creating network {name}"), e))?;
    Ok(name)
}

/// True when this environment's network exists.
pub async fn network_exists(docker: &Docker, env_id: &str) -> Result<bool, DockerError> {
    let name = network_name(env_id);
    match docker.inspect_network(&name, None).await {
        Ok(_) => Ok(true),
        Err(e) if is_not_found(&e) => Ok(false),
        Err(e) => Err(DockerError::api(format!("inspecting network {name}"), e)),
    }
}

/// Creates a service's data volume unless it exists (data survives `down` without --volumes).
pub async fn ensure_volume(docker: &Docker, env_id: &str, service: Service) -> Result<String, DockerError> {
    let name = volume_name(env_id, service.name());
    match docker.inspect_volume(&name).await {
        Ok(vol) if is_ours(Some(&vol.labels), env_id) => return Ok(name),
        Ok(_) => return Err(DockerError::NameTaken { kind: "volume", name }),
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(DockerError::api(format!("inspecting volume {name}"), e)),
    }
    let options = VolumeCreateRequest {
        name: Some(name.clone()),
        driver: Some("local".to_string()),
        labels: Some(labels_for(env_id, service.name())),
        ..Default::default()
    };
    docker
        .create_volume(options)
        .await
        .map_err(|e| DockerError::api(format!("creating volume {name}"), e))?;
    Ok(name)
}

/// Creates (not starts) the container of `service`, publishing its port on 127.0.0.1:`host_port`.
pub async fn create_service(
    docker: &Docker,
    env_id: &str,
    service: Service,
    image: &str,
    host_port: u16,
    volume: Option<&str>,
    extra_env: Vec<String>,
) -> Result<String, DockerError> {
    let name = container_name(env_id, service.name());
    let port_key = format!("{}/tcp", service.container_port());
    let binding = PortBinding {
        host_ip: Some("127.0.0.1".to_string()),
        // An empty host port asks the engine for a free one.
        host_port: Some(if host_port == 0 { String::new() } else { host_port.to_string() }),
    };
    let host_config = HostConfig {
        port_bindings: Some(HashMap::from([(port_key.clone(), Some(vec![binding]))])),
        binds: volume.zip(service.data_dir()).map(|(v, dir)| vec![format!("{v}:{dir}")]),
        ..Default::default()
    };
    let endpoint = EndpointSettings { aliases: Some(vec![service.name().to_string()]), ..Default::default() };
    let cmd = service.command();
    const SECOND_NS: i64 = 1_000_000_000;
    let healthcheck = service.healthcheck().map(|test| HealthConfig {
        test: Some(test),
        interval: Some(5 * SECOND_NS),
        timeout: Some(5 * SECOND_NS),
        retries: Some(3),
        start_period: Some(10 * SECOND_NS),
        start_interval: None,
    });
    let config = ContainerCreateBody {
        healthcheck,
        image: Some(image.to_string()),
        cmd: (!cmd.is_empty()).then_some(cmd),
        env: Some(service.environment().into_iter().chain(extra_env).collect()),
        labels: Some(labels_for(env_id, service.name())),
        exposed_ports: Some(vec![port_key]),
        host_config: Some(host_config),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(network_name(env_id), endpoint)])),
        }),
        ..Default::default()
    };
    let options = CreateContainerOptions { name: Some(name.clone()), platform: String::new() };
    match docker.create_container(Some(options), config).await {
        Ok(created) => Ok(created.id),
        Err(e) if status_code(&e) == Some(409) => Err(DockerError::NameTaken { kind: "container", name }),
        Err(e) => Err(DockerError::api(format!("creating container {name}"), e)),
    }
}

/// Starts a container; a port clash becomes `PortInUse` naming the port and its holder.
pub async fn start(
    docker: &Docker,
    container: &str,
    service: Service,
    host_port: u16,
) -> Result<(), DockerError> {
    match docker.start_container(container, None::<StartContainerOptions>).await {
        Ok(()) => Ok(()),
        Err(e) => Err(port_error(&e.to_string(), host_port, service.name())
            .unwrap_or_else(|| DockerError::api(format!("starting container {container}"), e))),
    }
}

/// Force-removes a container (anonymous volumes too); an already gone one is fine.
pub async fn remove_container(docker: &Docker, container: &str) -> Result<(), DockerError> {
    let options = RemoveContainerOptions { force: true, v: true, ..Default::default() };
    match docker.remove_container(container, Some(options)).await {
        Ok(()) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        // 409 "removal already in progress": another cleanup got there first.
        Err(e) if status_code(&e) == Some(409) => Ok(()),
        Err(e) => Err(DockerError::api(format!("removing container {container}"), e)),
    }
}

/// Removes every container of ours in `env_id`, then our network(s), then (if asked) volumes.
pub async fn remove_environment(
    docker: &Docker,
    env_id: &str,
    remove_volumes: bool,
) -> Result<(), DockerError> {
    remove_environment_keeping(docker, env_id, remove_volumes.then(Vec::new)).await
}

/// The names of our volumes in `env_id`.
pub async fn our_volumes(docker: &Docker, env_id: &str) -> Result<Vec<String>, DockerError> {
    let volumes = docker
        .list_volumes(Some(ListVolumesOptions { filters: Some(env_filter(env_id)) }))
        .await
        .map_err(|e| DockerError::api(format!("listing the volumes of environment {env_id}"), e))?;
    Ok(volumes
        .volumes
        .unwrap_or_default()
        .into_iter()
        .filter(|v| is_ours(Some(&v.labels), env_id))
        .map(|v| v.name)
        .collect())
}

/// [`remove_environment`]; with `Some(keep)` also our volumes except those in `keep` (an
/// interrupted `up` removes the volume it created, never the data of an earlier one).
pub async fn remove_environment_keeping(
    docker: &Docker,
    env_id: &str,
    remove_volumes_except: Option<Vec<String>>,
) -> Result<(), DockerError> {
    for container in list_ours(docker, env_id).await? {
        remove_container(docker, &container.id).await?;
    }
    let networks = docker
        .list_networks(Some(ListNetworksOptions { filters: Some(env_filter(env_id)) }))
        .await
        .map_err(|e| DockerError::api(format!("listing the networks of environment {env_id}"), e))?;
    for net in networks.into_iter().filter(|n| is_ours(n.labels.as_ref(), env_id)) {
        let name = net.name.unwrap_or_default();
        match docker.remove_network(&name).await {
            Ok(()) => {}
            Err(e) if is_not_found(&e) => {}
            Err(e) => {
                return Err(DockerError::api(
                    format!("removing network {name} (is a foreign container attached to it?)"),
                    e,
                ));
            }
        }
    }
    if let Some(keep) = remove_volumes_except {
        for name in our_volumes(docker, env_id).await?.into_iter().filter(|v| !keep.contains(v)) {
            match docker.remove_volume(&name, Some(RemoveVolumeOptions { force: false })).await {
                Ok(()) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(DockerError::api(format!("removing volume {name}"), e)),
            }
        }
    }
    Ok(())
}
