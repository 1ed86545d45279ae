//! `--target docker`: the environment through the docker module (wired at merge).

use tokio::sync::mpsc;

use super::{Event, RunError};
use crate::metrics::ResourceSample;

#[derive(Clone)]
pub struct DockerHandle;

pub async fn up(events: &mpsc::Sender<Event>) -> Result<(DockerHandle, url::Url), RunError> {
    let _ = events;
    Err(RunError::Target("the docker target is not available in this build yet".into()))
}

pub async fn sample(_env: &DockerHandle) -> Vec<ResourceSample> {
    Vec::new()
}
