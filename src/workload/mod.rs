//! Synthetic TerraFix failure payloads (the seed's Vanta templates) and the behaviour of
//! one virtual user: which request it sends next and how long it waits.
//! Imports only `profile` types. Deterministic for a given seed.

use std::time::Duration;

use bytes::Bytes;

use crate::profile::{Behaviour, RepoSizeChoice};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// One HTTP request a user is about to send.
#[derive(Clone, Debug)]
pub struct PlannedRequest {
    pub method: Method,
    /// `/webhook`, `/batch`, `/health`, `/status`.
    pub path: &'static str,
    /// The name it is recorded under, e.g. `/webhook [throughput]`, `/batch[12] [burst]`.
    pub name: String,
    /// JSON body (POST only).
    pub body: Option<Bytes>,
    /// How many failures in the body are deliberate resends of earlier ones.
    pub duplicates: u32,
}

/// One virtual user's script state: its RNG, its recent failures (for duplicates).
pub struct VirtualUser {
    _behaviour: std::sync::Arc<Behaviour>,
}

impl VirtualUser {
    pub fn new(behaviour: std::sync::Arc<Behaviour>, repo_size: RepoSizeChoice, seed: u64) -> Self {
        let _ = (repo_size, seed);
        Self { _behaviour: behaviour }
    }

    /// The requests of the next task (usually one; two for health+status).
    pub fn next_task(&mut self, phase_elapsed: Duration) -> Vec<PlannedRequest> {
        let _ = phase_elapsed;
        Vec::new()
    }

    /// How long to wait after a task that took `task_took`.
    pub fn next_wait(&mut self, phase_elapsed: Duration, task_took: Duration) -> Duration {
        let _ = (phase_elapsed, task_took);
        Duration::from_secs(1)
    }

    /// Delay before this user's first task: random within its first pacing interval,
    /// so users spawned together do not tick in lockstep.
    pub fn start_offset(&mut self) -> Duration {
        Duration::ZERO
    }
}
