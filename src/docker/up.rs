//! `DockerEnv::up`: reuse a healthy environment, or clean leftovers, then create network,
//! volumes and containers in dependency order and wait for each to answer. A guard removes
//! what the call started when it fails or is cancelled. Imports the sibling modules.

use std::path::Path;
use std::sync::{Arc, Mutex};

use bollard::Docker;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::containers::{self, container_state, list_ours};
use super::health::{probe, wait_healthy};
use super::images::{API_COMPOSE_IMAGE, ensure_image};
use super::labels::container_name;
use super::ports::ensure_free;
use super::services::{API_IMAGE_REPO, REDIS_IMAGE, Service};

/// The repository's compose file, which names the default environment's containers.
const COMPOSE_FILE: &str = "docker-compose.localstack.yml";
use super::{DockerEnv, DockerError, Endpoints, UpOptions};

/// How many times an interrupted `up` re-checks that nothing it started is left.
const CLEANUP_PASSES: usize = 5;

/// A service to run, with its image and requested host port.
struct Planned {
    service: Service,
    image: String,
    host_port: u16,
}

impl DockerEnv {
    /// Creates what is missing, starts in dependency order, waits for health; cleans leftovers of a
    /// crashed earlier run first. Progress lines go to `progress` (ignore send errors).
    /// Reuses an already healthy environment. Cancelling the future (Ctrl-C) must not leave
    /// half-started containers: clean up what this call started.
    pub async fn up(
        &self,
        opts: &UpOptions,
        progress: &mpsc::Sender<String>,
    ) -> Result<Endpoints, DockerError> {
        self.wait_cleanup().await;
        opts.check()?;
        let plan = self.plan(opts, progress).await?;
        if let Some(endpoints) = self.reusable(&plan, opts).await? {
            // a progress line is for the user's eyes only: the outcome travels in the return value
            let _ = progress
                .send(format!("environment {} is already up and healthy: reusing it", self.env_id))
                .await;
            return Ok(endpoints);
        }
        let leftovers = list_ours(&self.docker, &self.env_id).await?;
        if !leftovers.is_empty() {
            let names: Vec<&str> = leftovers.iter().map(|c| c.name.as_str()).collect();
            // a progress line is for the user's eyes only: the outcome travels in the return value
            let _ =
                progress.send(format!("removing leftovers of an earlier run: {}", names.join(", "))).await;
        }
        containers::remove_environment(&self.docker, &self.env_id, false).await?;
        for p in &plan {
            ensure_free(p.host_port, p.service.name())?;
        }
        // Volumes there before this `up` hold earlier data: a failed or interrupted `up`
        // removes only the ones it created.
        let keep = containers::our_volumes(&self.docker, &self.env_id).await?;
        let mut guard = CleanupGuard::new(self, keep.clone());
        match self.start_all(&plan, opts, progress).await {
            Ok(endpoints) => {
                guard.disarm();
                Ok(endpoints)
            }
            Err(err) => {
                guard.disarm();
                // a progress line is for the user's eyes only: the outcome travels in the return value
                let _ = progress.send(format!("up failed, removing what was started: {err}")).await;
                containers::remove_environment_keeping(&self.docker, &self.env_id, Some(keep)).await?;
                Err(err)
            }
        }
    }

    /// The services to run and their images (pulled or built now if missing).
    async fn plan(
        &self,
        opts: &UpOptions,
        progress: &mpsc::Sender<String>,
    ) -> Result<Vec<Planned>, DockerError> {
        let mut wanted = vec![(Service::Redis, opts.redis_port), (Service::Api, opts.api_port)];
        if opts.with_localstack {
            wanted.push((Service::LocalStack, opts.localstack_port));
        }
        let mut plan = Vec::new();
        for (service, host_port) in wanted {
            let image = match (service, &opts.localstack_image) {
                (Service::LocalStack, Some(image)) => image.clone(),
                _ => {
                    ensure_image(&self.docker, service, opts.api_binary.as_deref().map(Path::new), progress)
                        .await?
                }
            };
            // a progress line is for the user's eyes only: the outcome travels in the return value
            let _ = progress.send(format!("{}: image {image}", service.name())).await;
            plan.push(Planned { service, image, host_port });
        }
        Ok(plan)
    }

    /// Endpoints of the running environment if every planned service runs the planned image
    /// on the requested port with the asked API settings, and answers its probe.
    async fn reusable(&self, plan: &[Planned], opts: &UpOptions) -> Result<Option<Endpoints>, DockerError> {
        let ours = list_ours(&self.docker, &self.env_id).await?;
        let mut ports = Vec::new();
        for p in plan {
            let name = container_name(&self.env_id, p.service.name());
            let Some(existing) = ours.iter().find(|c| c.name == name) else { return Ok(None) };
            let state = container_state(&self.docker, &name).await?;
            let Some(port) = state.host_ports.get(&format!("{}/tcp", p.service.container_port())).copied()
            else {
                return Ok(None);
            };
            let image_matches = existing.image == p.image;
            let port_matches = p.host_port == 0 || p.host_port == port;
            if !state.running || !image_matches || !port_matches {
                return Ok(None);
            }
            if p.service == Service::Api {
                // Another latency or failure rate asked for: start it again with those.
                let env = containers::container_env(&self.docker, &name).await?;
                let settings = |e: &&String| e.starts_with("TERRAFIX_MOCK_");
                let mut have: Vec<&String> = env.iter().filter(settings).collect();
                let wanted_env = opts.api_environment();
                let mut wanted: Vec<&String> = wanted_env.iter().collect();
                have.sort();
                wanted.sort();
                if have != wanted {
                    return Ok(None);
                }
            }
            if probe(p.service.probe(), port, std::time::Duration::from_secs(2)).await.is_err() {
                return Ok(None);
            }
            ports.push((p.service, port));
        }
        Ok(Some(endpoints(&ports, compose_up(plan, &ports, opts))))
    }

    async fn start_all(
        &self,
        plan: &[Planned],
        opts: &UpOptions,
        progress: &mpsc::Sender<String>,
    ) -> Result<Endpoints, DockerError> {
        let network = containers::ensure_network(&self.docker, &self.env_id).await?;
        // a progress line is for the user's eyes only: the outcome travels in the return value
        let _ = progress.send(format!("network {network} ready")).await;
        let mut ports = Vec::new();
        let mut warnings = Vec::new();
        for p in plan {
            let volume = match p.service.data_dir() {
                Some(_) => Some(containers::ensure_volume(&self.docker, &self.env_id, p.service).await?),
                None => None,
            };
            let name = container_name(&self.env_id, p.service.name());
            containers::create_service(
                &self.docker,
                &self.env_id,
                p.service,
                &p.image,
                p.host_port,
                volume.as_deref(),
                if p.service == Service::Api { opts.api_environment() } else { Vec::new() },
            )
            .await?;
            containers::start(&self.docker, &name, p.service, p.host_port).await?;
            let state = container_state(&self.docker, &name).await?;
            let port_key = format!("{}/tcp", p.service.container_port());
            let Some(port) = state.host_ports.get(&port_key).copied() else {
                return Err(DockerError::InvalidOption(format!(
                    "{name} started but the engine reports no host port for {port_key}"
                )));
            };
            // a progress line is for the user's eyes only: the outcome travels in the return value
            let _ = progress
                .send(format!("{}: started {name} on 127.0.0.1:{port}, waiting for health", p.service.name()))
                .await;
            match wait_healthy(&self.docker, &name, p.service, port, opts.health_timeout, progress).await {
                Ok(()) => {}
                // LocalStack is optional (mock mode does not use it): like the seed, warn and
                // leave the rest (and the LocalStack container, for its logs) running.
                Err(e) if p.service == Service::LocalStack => {
                    let warning = format!(
                        "localstack is not healthy, the rest of the environment stays up: {e} (see `terrafix-tui env logs localstack`)"
                    );
                    // a progress line is for the user's eyes only: the outcome travels in the return value
                    let _ = progress.send(format!("warning: {warning}")).await;
                    warnings.push(warning);
                    continue;
                }
                Err(e) => return Err(e),
            }
            // a progress line is for the user's eyes only: the outcome travels in the return value
            let _ = progress.send(format!("{}: healthy", p.service.name())).await;
            ports.push((p.service, port));
        }
        let mut endpoints = endpoints(&ports, compose_up(plan, &ports, opts));
        endpoints.warnings = warnings;
        Ok(endpoints)
    }
}

/// The compose file's variables for what differs from its defaults, then the command.
fn compose_up(plan: &[Planned], ports: &[(Service, u16)], opts: &UpOptions) -> String {
    let mut words: Vec<String> = Vec::new();
    for p in plan {
        match p.service {
            Service::Redis if p.image != REDIS_IMAGE => {
                words.push(format!("TERRAFIX_REDIS_IMAGE={}", p.image))
            }
            Service::Api if p.image != API_COMPOSE_IMAGE && !p.image.starts_with(API_IMAGE_REPO) => {
                words.push(format!("TERRAFIX_API_IMAGE={}", p.image));
            }
            _ => {}
        }
    }
    for (service, port) in ports {
        let (variable, default) = match service {
            Service::Redis => ("REDIS_PORT", 6379),
            Service::Api => ("TERRAFIX_API_PORT", 8081),
            Service::LocalStack => ("LOCALSTACK_PORT", 4566),
        };
        if *port != default {
            words.push(format!("{variable}={port}"));
        }
    }
    words.extend(opts.api_environment());
    words.push(format!("docker-compose -f {COMPOSE_FILE}"));
    if opts.with_localstack {
        words.push("--profile localstack".into());
    }
    words.push("up -d".into());
    words.join(" ")
}

fn endpoints(ports: &[(Service, u16)], compose_up: String) -> Endpoints {
    let port_of = |s: Service| ports.iter().find(|(svc, _)| *svc == s).map(|(_, p)| *p);
    let http = |port: u16| {
        // A loopback address with a numeric port always parses.
        url::Url::parse(&format!("http://127.0.0.1:{port}/")).expect("loopback URL is valid")
    };
    Endpoints {
        api_url: http(port_of(Service::Api).unwrap_or(0)),
        redis_url: format!("redis://127.0.0.1:{}/0", port_of(Service::Redis).unwrap_or(0)),
        localstack_url: port_of(Service::LocalStack).map(http),
        warnings: Vec::new(),
        compose_up,
    }
}

/// Removes the environment's containers and network if dropped while armed (the `up` future
/// was cancelled). The removal runs as a task registered in `pending_cleanup`.
struct CleanupGuard {
    docker: Docker,
    env_id: String,
    pending: Arc<Mutex<Vec<JoinHandle<()>>>>,
    armed: bool,
    /// Volumes that existed before the `up`: kept.
    keep_volumes: Vec<String>,
}

impl CleanupGuard {
    fn new(env: &DockerEnv, keep_volumes: Vec<String>) -> Self {
        CleanupGuard {
            docker: env.docker.clone(),
            env_id: env.env_id.clone(),
            pending: env.pending_cleanup.clone(),
            armed: true,
            keep_volumes,
        }
    }

    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for CleanupGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let docker = self.docker.clone();
        let env_id = self.env_id.clone();
        let keep = std::mem::take(&mut self.keep_volumes);
        let task = runtime.spawn(async move {
            // A create request dropped with the future may still complete in the engine after
            // the first pass, so look again until nothing of ours is left (bounded).
            for _ in 0..CLEANUP_PASSES {
                if let Err(e) =
                    containers::remove_environment_keeping(&docker, &env_id, Some(keep.clone())).await
                {
                    tracing::warn!("cleaning up the interrupted `env up` of {env_id}: {e}");
                }
                tokio::time::sleep(std::time::Duration::from_millis(700)).await;
                if list_ours(&docker, &env_id).await.is_ok_and(|left| left.is_empty())
                    && containers::network_exists(&docker, &env_id).await.is_ok_and(|exists| !exists)
                {
                    break;
                }
            }
        });
        match self.pending.lock() {
            Ok(mut pending) => pending.push(task),
            Err(poisoned) => poisoned.into_inner().push(task),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(service: Service, image: &str) -> Planned {
        Planned { service, image: image.to_string(), host_port: 0 }
    }

    #[test]
    fn the_compose_line_sets_only_what_differs_from_the_files_defaults() {
        let plan =
            [planned(Service::Redis, REDIS_IMAGE), planned(Service::Api, "terrafix-local/terrafix-api:abc")];
        let defaults = [(Service::Redis, 6379), (Service::Api, 8081)];
        assert_eq!(
            compose_up(&plan, &defaults, &UpOptions::default()),
            "docker-compose -f docker-compose.localstack.yml up -d"
        );
        let plan = [
            planned(Service::Redis, "terrafix-local/redis:7-host"),
            planned(Service::Api, "terrafix-local/terrafix-api:abc"),
            planned(Service::LocalStack, "localstack/localstack:3.0"),
        ];
        let ports = [(Service::Redis, 6380), (Service::Api, 8081), (Service::LocalStack, 4566)];
        let opts = UpOptions { with_localstack: true, api_latency_ms: Some(500.0), ..UpOptions::default() };
        assert_eq!(
            compose_up(&plan, &ports, &opts),
            "TERRAFIX_REDIS_IMAGE=terrafix-local/redis:7-host REDIS_PORT=6380 TERRAFIX_MOCK_LATENCY_MS=500 \
             docker-compose -f docker-compose.localstack.yml --profile localstack up -d"
        );
    }
}
