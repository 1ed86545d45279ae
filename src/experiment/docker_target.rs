//! `--target docker`: bring the environment up (or reuse a healthy one) through the docker
//! module, forward its progress as events, and sample its containers' CPU and memory.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{DockerTarget, Event, RunError};
use crate::docker::{DockerEnv, ServiceState};
use crate::metrics::ResourceSample;

pub type DockerHandle = Arc<DockerEnv>;

pub async fn up(
    target: &DockerTarget,
    events: &mpsc::Sender<Event>,
) -> Result<(DockerHandle, crate::docker::Endpoints), RunError> {
    let connected = match &target.env_id {
        Some(id) => DockerEnv::connect_with_id(id).await,
        None => DockerEnv::connect().await,
    };
    let env = connected.map_err(|e| RunError::Target(format!("--target docker: {e}")))?;
    let (progress_tx, forward) = forward_progress(events);
    let options = target.options.clone().unwrap_or_default();
    let endpoints = env.up(&options, &progress_tx).await;
    drop(progress_tx);
    // The forwarder only relays progress lines: one that panicked lost lines, not the environment.
    let _ = forward.await;
    let endpoints = endpoints.map_err(|e| RunError::Target(format!("--target docker: {e}")))?;
    // Fails only when the UI quit; the environment is up either way.
    let _ =
        events.send(Event::Environment(format!("docker environment up: API at {}", endpoints.api_url))).await;
    Ok((Arc::new(env), endpoints))
}

/// A channel for progress lines, each forwarded as an `Environment` event; await the handle
/// after dropping the sender to know every line went out.
pub fn forward_progress(events: &mpsc::Sender<Event>) -> (mpsc::Sender<String>, tokio::task::JoinHandle<()>) {
    let (progress_tx, mut progress_rx) = mpsc::channel::<String>(64);
    let events = events.clone();
    let forward = tokio::spawn(async move {
        while let Some(line) = progress_rx.recv().await {
            // The UI quit: the lines are still read so that the sender never blocks.
            let _ = events.send(Event::Environment(line)).await;
        }
    });
    (progress_tx, forward)
}

/// One sample per running service; a failed sample is skipped (the run goes on).
pub async fn sample(env: &DockerHandle) -> Vec<ResourceSample> {
    env.sample_stats().await.unwrap_or_default()
}

/// Services that are not running, for the run's notes (a container that died mid-run).
pub async fn dead_services(env: &DockerHandle) -> Vec<String> {
    match env.status().await {
        Ok(services) => services
            .into_iter()
            .filter(|s| s.state != ServiceState::Running && s.name != "localstack")
            .map(|s| format!("{} is {} (health: {})", s.name, s.state, s.health))
            .collect(),
        Err(_) => Vec::new(),
    }
}
