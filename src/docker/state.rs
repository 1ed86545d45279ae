//! A container's state, a Swarm task's state and a service's health as the rest of the tool sees them: read once
//! from the Engine API's words here, so no other module compares strings. The words shown
//! on screen and in files are the engine's own (`running`, `healthy`, …). Imports nothing.

use std::fmt;

/// A container's state as the engine reports it, plus `missing` when there is no container.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ServiceState {
    /// `created`: made but never started.
    Created,
    /// `running`.
    Running,
    /// `paused`: frozen (its processes are not scheduled).
    Paused,
    /// `restarting`.
    Restarting,
    /// `removing`.
    Removing,
    /// `exited`: its process ended.
    Exited,
    /// `dead`: the engine could not stop or remove it cleanly.
    Dead,
    /// `missing`: no container of ours exists for the service.
    Missing,
    /// `unknown`: the engine gave no state.
    #[default]
    Unknown,
    /// A word this version does not know, kept as the engine wrote it.
    Other(String),
}

impl ServiceState {
    /// Reads the engine's word (`running`, `exited`, …); an unknown word is kept as `Other`.
    pub fn from_docker(word: &str) -> Self {
        match word {
            "created" => Self::Created,
            "running" => Self::Running,
            "paused" => Self::Paused,
            "restarting" => Self::Restarting,
            "removing" => Self::Removing,
            "exited" => Self::Exited,
            "dead" => Self::Dead,
            "missing" => Self::Missing,
            "unknown" => Self::Unknown,
            other => Self::Other(other.to_string()),
        }
    }

    /// The word shown for the state, the engine's own.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Created => "created",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Restarting => "restarting",
            Self::Removing => "removing",
            Self::Exited => "exited",
            Self::Dead => "dead",
            Self::Missing => "missing",
            Self::Unknown => "unknown",
            Self::Other(word) => word,
        }
    }
}

impl fmt::Display for ServiceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A service's health: the host-side probe's verdict in `env status`, or Docker's own
/// HEALTHCHECK status while `up` waits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Health {
    /// `healthy`: it answered its probe (or Docker's check passed).
    Healthy,
    /// `unhealthy`: it did not answer as it should.
    Unhealthy,
    /// `starting`: Docker's own check has not run long enough to say.
    Starting,
    /// `none`: nothing was checked (the container is not running, or has no check).
    #[default]
    NotChecked,
    /// A word this version does not know, kept as the engine wrote it.
    Other(String),
}

impl Health {
    /// Reads the engine's word (`healthy`, `starting`, …); an unknown word is kept as `Other`.
    pub fn from_docker(word: &str) -> Self {
        match word {
            "healthy" => Self::Healthy,
            "unhealthy" => Self::Unhealthy,
            "starting" => Self::Starting,
            "none" => Self::NotChecked,
            other => Self::Other(other.to_string()),
        }
    }

    /// The word shown for the health, the engine's own.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Healthy => "healthy",
            Self::Unhealthy => "unhealthy",
            Self::Starting => "starting",
            Self::NotChecked => "none",
            Self::Other(word) => word,
        }
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Swarm task's state (or the state Swarm wants it in) as the engine reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// `new`: just created.
    New,
    /// `allocated`: resources given.
    Allocated,
    /// `pending`: waiting for a node that fits.
    Pending,
    /// `assigned`: placed on a node.
    Assigned,
    /// `accepted`: the node took it.
    Accepted,
    /// `preparing`: the node is pulling the image or making the container.
    Preparing,
    /// `ready`: prepared, not yet started.
    Ready,
    /// `starting`: the container is starting.
    Starting,
    /// `running`.
    Running,
    /// `complete`: its container exited 0.
    Complete,
    /// `shutdown`: stopped on Swarm's request (also the desired state of a replaced task).
    Shutdown,
    /// `failed`: its container exited with an error or could not start.
    Failed,
    /// `rejected`: the node refused it (no such image, a bad mount, …).
    Rejected,
    /// `remove`: marked for removal.
    Remove,
    /// `orphaned`: its node has been unreachable too long.
    Orphaned,
    /// A word this version does not know (or none), kept as the engine wrote it.
    Other(String),
}

impl TaskState {
    /// Reads the engine's word (`running`, `failed`, …); an unknown word is kept as `Other`.
    pub fn from_docker(word: &str) -> Self {
        match word {
            "new" => Self::New,
            "allocated" => Self::Allocated,
            "pending" => Self::Pending,
            "assigned" => Self::Assigned,
            "accepted" => Self::Accepted,
            "preparing" => Self::Preparing,
            "ready" => Self::Ready,
            "starting" => Self::Starting,
            "running" => Self::Running,
            "complete" => Self::Complete,
            "shutdown" => Self::Shutdown,
            "failed" => Self::Failed,
            "rejected" => Self::Rejected,
            "remove" => Self::Remove,
            "orphaned" => Self::Orphaned,
            other => Self::Other(other.to_string()),
        }
    }

    /// The word shown for the state, the engine's own.
    pub fn as_str(&self) -> &str {
        match self {
            Self::New => "new",
            Self::Allocated => "allocated",
            Self::Pending => "pending",
            Self::Assigned => "assigned",
            Self::Accepted => "accepted",
            Self::Preparing => "preparing",
            Self::Ready => "ready",
            Self::Starting => "starting",
            Self::Running => "running",
            Self::Complete => "complete",
            Self::Shutdown => "shutdown",
            Self::Failed => "failed",
            Self::Rejected => "rejected",
            Self::Remove => "remove",
            Self::Orphaned => "orphaned",
            Self::Other(word) => word,
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_state_word_reads_and_prints_back() {
        let known = [
            ("created", ServiceState::Created),
            ("running", ServiceState::Running),
            ("paused", ServiceState::Paused),
            ("restarting", ServiceState::Restarting),
            ("removing", ServiceState::Removing),
            ("exited", ServiceState::Exited),
            ("dead", ServiceState::Dead),
            ("missing", ServiceState::Missing),
            ("unknown", ServiceState::Unknown),
        ];
        for (word, state) in known {
            assert_eq!(ServiceState::from_docker(word), state, "{word}");
            assert_eq!(state.as_str(), word);
            assert_eq!(state.to_string(), word);
        }
    }

    #[test]
    fn an_unknown_state_word_is_kept_as_written() {
        let state = ServiceState::from_docker("hibernating");
        assert_eq!(state, ServiceState::Other("hibernating".into()));
        assert_eq!(state.to_string(), "hibernating");
        assert_eq!(ServiceState::from_docker("Running"), ServiceState::Other("Running".into()));
        assert_eq!(ServiceState::from_docker(""), ServiceState::Other(String::new()));
    }

    #[test]
    fn every_known_health_word_reads_and_prints_back() {
        let known = [
            ("healthy", Health::Healthy),
            ("unhealthy", Health::Unhealthy),
            ("starting", Health::Starting),
            ("none", Health::NotChecked),
        ];
        for (word, health) in known {
            assert_eq!(Health::from_docker(word), health, "{word}");
            assert_eq!(health.as_str(), word);
            assert_eq!(health.to_string(), word);
        }
    }

    #[test]
    fn an_unknown_health_word_is_kept_as_written() {
        let health = Health::from_docker("degraded");
        assert_eq!(health, Health::Other("degraded".into()));
        assert_eq!(health.to_string(), "degraded");
        assert_eq!(Health::from_docker(""), Health::Other(String::new()));
    }

    #[test]
    fn every_known_task_state_word_reads_and_prints_back() {
        let known = [
            ("new", TaskState::New),
            ("allocated", TaskState::Allocated),
            ("pending", TaskState::Pending),
            ("assigned", TaskState::Assigned),
            ("accepted", TaskState::Accepted),
            ("preparing", TaskState::Preparing),
            ("ready", TaskState::Ready),
            ("starting", TaskState::Starting),
            ("running", TaskState::Running),
            ("complete", TaskState::Complete),
            ("shutdown", TaskState::Shutdown),
            ("failed", TaskState::Failed),
            ("rejected", TaskState::Rejected),
            ("remove", TaskState::Remove),
            ("orphaned", TaskState::Orphaned),
        ];
        for (word, state) in known {
            assert_eq!(TaskState::from_docker(word), state, "{word}");
            assert_eq!(state.to_string(), word);
        }
        assert_eq!(TaskState::from_docker(""), TaskState::Other(String::new()));
        assert_eq!(TaskState::from_docker("Failed").to_string(), "Failed");
    }
}
