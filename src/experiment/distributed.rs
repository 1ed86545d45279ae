//! `--distributed N`: checks that a run can be spread over Swarm (a target the workers can
//! reach, no capacity search), and starts the cluster with the plan the workers follow.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Event, RunError, RunRequest, Target};
use crate::cluster::wire::{Plan, PlanTls};
use crate::cluster::{Cluster, ClusterSetup};
use crate::docker::DockerEnv;
use crate::engine::tls::TlsTrust;

/// Refuses what a distributed run cannot do, before anything starts (exit 2).
pub fn check(request: &RunRequest) -> Result<(), RunError> {
    let Some(n) = request.distributed else { return Ok(()) };
    let refuse = |m: String| Err(RunError::Distributed(m));
    match &request.target {
        Target::Embedded => {
            return refuse(format!(
                "--distributed {n} with the embedded target: the workers run in containers and cannot reach a server inside this process; use --target docker (the environment's API) or a URL they can reach"
            ));
        }
        Target::Url(url) if is_loopback(url) => {
            return refuse(format!(
                "--distributed {n} with --target {url}: inside a worker's container {} is the container itself; use --target docker, or an address of this machine the containers can reach",
                url.host_str().unwrap_or_default()
            ));
        }
        Target::Docker if request.worker_network == crate::cluster::WorkerNetwork::Host => {
            return refuse(format!(
                "--distributed {n} --worker-network host with --target docker: the environment's API is published on 127.0.0.1 only, which workers on other nodes cannot reach; give --target http://ADDRESS:PORT of a server every node reaches, or leave --worker-network out (overlay)"
            ));
        }
        _ => {}
    }
    if request.profile.capacity.is_some() {
        return refuse(format!(
            "--distributed {n}: profile {} searches capacity step by step on one generator; run it without --distributed",
            request.profile.name
        ));
    }
    Ok(())
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Starts the generators for a distributed run (`None` for a single-node run).
pub async fn start(
    request: &RunRequest,
    run_id: &str,
    target_url: &url::Url,
    docker: Option<Arc<DockerEnv>>,
    redis_url: Option<String>,
    events: &mpsc::Sender<Event>,
) -> Result<Option<Arc<Cluster>>, RunError> {
    let Some(n) = request.distributed else { return Ok(None) };
    let fail = |m: String| RunError::Distributed(format!("--distributed {n}: {m}"));
    // A URL target still carries results through the Docker environment's Redis.
    let (docker, redis_url) = match (docker, redis_url) {
        (Some(d), Some(r)) => (d, r),
        _ => {
            let (env, endpoints) =
                super::docker_target::up(&request.docker, events).await.map_err(|e| fail(e.to_string()))?;
            (env, endpoints.redis_url)
        }
    };
    let worker_target = match &request.target {
        Target::Docker => {
            let api = docker.container_name("terrafix-api").map_err(|e| fail(e.to_string()))?;
            url::Url::parse(&format!("http://{api}:8081/")).map_err(|e| fail(e.to_string()))?
        }
        _ => target_url.clone(),
    };
    let redis = docker.container_name("redis").map_err(|e| fail(e.to_string()))?;
    let options = &request.target_options;
    let tls = match &options.tls {
        TlsTrust::PublicRoots => PlanTls::PublicRoots,
        TlsTrust::Insecure => PlanTls::Insecure,
        TlsTrust::WithCa(path) => PlanTls::WithCaPem(
            crate::fsio::read_capped_string(path, crate::fsio::PEM_CAP, "--ca-cert")
                .map_err(|e| fail(format!("reading --ca-cert {}: {}", path.display(), e.reason())))?,
        ),
    };
    let plan = Plan {
        run_id: run_id.to_string(),
        workers: n.get(),
        seed: request.seed,
        lockstep_start: request.profile.lockstep_start,
        target: worker_target,
        phases: request.profile.phases.clone(),
        request_timeout_ms: options.request_timeout.as_millis() as u64,
        connect_timeout_ms: options.connect_timeout.as_millis() as u64,
        headers: options.headers.clone(),
        tls,
        http2: options.http2,
    };
    let setup = ClusterSetup {
        docker,
        workers: n.get(),
        run_id: run_id.to_string(),
        redis_url,
        worker_redis_url: format!("redis://{redis}:6379/0"),
        plan,
        network: request.worker_network,
    };
    let (progress_tx, forward) = super::docker_target::forward_progress(events);
    let cluster = Cluster::start(setup, &progress_tx).await;
    drop(progress_tx);
    // The forwarder only relays progress lines: one that panicked lost lines, not the cluster.
    let _ = forward.await;
    cluster.map(|c| Some(Arc::new(c))).map_err(|e| fail(e.to_string()))
}
