//! `DockerError`: every way the Docker environment can fail, each rendered as one line that
//! says what happened and what to do, plus the mapping from bollard's errors onto it.
//! Imports only std and bollard's error type (which never leaves this file).

#![deny(missing_docs)]

use std::time::Duration;

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of the Docker environment. Each Display is one line: what happened + what to do.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error(
        "no Docker Engine socket at {path}: start Docker (`sudo systemctl start docker`) or point DOCKER_HOST at a running engine"
    )]
    /// No Docker socket at the expected path: the engine is not running or DOCKER_HOST is wrong.
    NoSocket {
        /// The socket path looked for (`/var/run/docker.sock` or DOCKER_HOST's).
        path: String,
    },

    #[error(
        "permission denied on the Docker socket {path}: add your user to the `docker` group (`sudo usermod -aG docker $USER`, then log in again) or run as root"
    )]
    /// The socket exists but this user may not open it.
    PermissionDenied {
        /// The socket path that refused us.
        path: String,
    },

    #[error(
        "the Docker Engine at {endpoint} did not answer ({detail}): check that it runs with `docker info`"
    )]
    /// The socket or URL exists but the engine did not answer.
    EngineUnreachable {
        /// The socket path or URL tried.
        endpoint: String,
        /// The client's error.
        detail: String,
    },

    #[error(
        "the Docker Engine speaks API {found}, older than the {minimum} this tool needs: upgrade Docker to 20.10 or newer"
    )]
    /// The engine's API version is below the one this tool needs.
    EngineTooOld {
        /// The engine's API version, e.g. `1.39`.
        found: String,
        /// The oldest API version this tool speaks.
        minimum: String,
    },

    #[error("port {port} on 127.0.0.1 (for {service}) is already in use{}: stop that process or choose another port (0 picks a free one)", holder_text(.holder))]
    /// A host port a service publishes is taken.
    PortInUse {
        /// The host port asked for.
        port: u16,
        /// The service that was to publish it.
        service: String,
        /// What holds the port (a container's name), when it could be found.
        holder: Option<String>,
    },

    #[error("image {image} is not present and cannot be pulled ({detail}): {remedy}")]
    /// An image is not present locally and the pull failed.
    ImageMissingOffline {
        /// The image reference, e.g. `redis:7-alpine`.
        image: String,
        /// The pull's error.
        detail: String,
        /// What to do about it, as one sentence.
        remedy: String,
    },

    #[error("building image {image} failed: {detail}; {remedy}")]
    /// Building one of our images failed.
    ImageBuild {
        /// The tag being built.
        image: String,
        /// The build's error (its last output line when it has one).
        detail: String,
        /// What to do about it, as one sentence.
        remedy: String,
    },

    #[error("{service} did not become healthy within {:.0?} ({reason}); last log lines: {}", .waited, logs_text(.last_logs))]
    /// A service did not report healthy within its wait.
    HealthTimeout {
        /// The Compose service name.
        service: String,
        /// How long it was given.
        waited: Duration,
        /// The last health state or probe result seen.
        reason: String,
        /// The container's last log lines (bounded), oldest first.
        last_logs: Vec<String>,
    },

    #[error("{service} exited with code {exit_code} while starting; last log lines: {}", logs_text(.last_logs))]
    /// A service's container exited while it was starting.
    ServiceExited {
        /// The Compose service name.
        service: String,
        /// The container's exit code.
        exit_code: i64,
        /// The container's last log lines (bounded), oldest first.
        last_logs: Vec<String>,
    },

    #[error("unknown service {name:?}: the services are redis, terrafix-api and localstack")]
    /// A service name that is not one of ours.
    UnknownService {
        /// The name as given.
        name: String,
    },

    #[error("service {service} has no container in environment {env_id:?}: run `terrafix-tui env up` first")]
    /// A known service has no container in this environment (it was never brought up).
    ServiceMissing {
        /// The Compose service name.
        service: String,
        /// The environment id (`--env-id`) looked in.
        env_id: String,
    },

    #[error(
        "a {kind} named {name} exists but is not managed by terrafix-tui (it has no io.terrafix labels; a leftover of the seed harness's docker-compose?): remove it with `{}` (after checking nothing needs it), or use another environment id (--env-id)",
        remove_command(.kind, .name)
    )]
    /// A container, network or volume with our name exists without our labels.
    NameTaken {
        /// `container`, `network` or `volume`.
        kind: &'static str,
        /// The name that is taken.
        name: String,
    },

    #[error("invalid environment option: {0}")]
    /// An environment option out of range; the message says which and why.
    InvalidOption(String),

    #[error(
        "distributed runs need Docker Swarm, and this engine's swarm state is {state}: enable it with `docker swarm init` (one node is enough; `docker swarm leave --force` undoes it), or join this machine to an existing swarm as a manager"
    )]
    /// A distributed run on an engine that is not in a swarm.
    SwarmInactive {
        /// The engine's local swarm state (`inactive`, `pending`, `error`, `locked`).
        state: String,
    },

    #[error(
        "this engine is a Swarm worker, not a manager: run distributed runs from a manager node (`docker node ls` there lists the nodes)"
    )]
    /// A distributed run from a swarm worker node (only managers can create services).
    SwarmNotManager,

    #[error("Docker Engine request failed while {context}: {source}; check `docker info` and retry")]
    /// A Docker Engine API call failed; `context` says what was being done.
    Api {
        /// What was being done, e.g. `starting terrafix-api`.
        context: String,
        /// bollard's error.
        #[source]
        source: Source,
    },

    #[error("{context}: {source}")]
    /// A local file or socket operation failed; `context` names it.
    Io {
        /// What was being done, with the path involved.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

fn holder_text(holder: &Option<String>) -> String {
    match holder {
        Some(h) => format!(" by {h}"),
        None => String::new(),
    }
}

fn logs_text(lines: &[String]) -> String {
    if lines.is_empty() { "(none)".to_string() } else { lines.join(" | ") }
}

impl DockerError {
    /// Wraps a bollard error raised while doing `context` (e.g. "creating network x").
    pub(crate) fn api(context: impl Into<String>, err: bollard::errors::Error) -> DockerError {
        DockerError::Api { context: context.into(), source: Box::new(err) }
    }

    pub(crate) fn io(context: impl Into<String>, err: std::io::Error) -> DockerError {
        DockerError::Io { context: context.into(), source: err }
    }
}

/// The HTTP status of an engine error response, if the engine answered at all.
pub(crate) fn status_code(err: &bollard::errors::Error) -> Option<u16> {
    match err {
        bollard::errors::Error::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// True when the engine answered 404 (no such container, image, network or volume).
pub(crate) fn is_not_found(err: &bollard::errors::Error) -> bool {
    status_code(err) == Some(404)
}

/// Maps a failure to reach the engine at all onto the socket errors users can act on.
pub(crate) fn connect_error(endpoint: &str, err: bollard::errors::Error) -> DockerError {
    let path = endpoint.trim_start_matches("unix://").to_string();
    if let bollard::errors::Error::SocketNotFoundError(_) = err {
        return DockerError::NoSocket { path };
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::PermissionDenied => return DockerError::PermissionDenied { path },
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                    return DockerError::NoSocket { path };
                }
                _ => {}
            }
        }
        cause = e.source();
    }
    DockerError::EngineUnreachable { endpoint: endpoint.to_string(), detail: err.to_string() }
}

/// The docker command that removes a `kind` (`container`, `network`, `volume`) by name.
fn remove_command(kind: &str, name: &str) -> String {
    match kind {
        "container" => format!("docker rm -f {name}"),
        other => format!("docker {other} rm {name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_is_one_line() {
        let errors = [
            DockerError::NoSocket { path: "/var/run/docker.sock".into() },
            DockerError::PortInUse {
                port: 8081,
                service: "terrafix-api".into(),
                holder: Some("pid 7 (nc)".into()),
            },
            DockerError::HealthTimeout {
                service: "redis".into(),
                waited: Duration::from_secs(30),
                reason: "no PONG".into(),
                last_logs: vec!["a".into(), "b".into()],
            },
        ];
        for e in errors {
            let text = e.to_string();
            assert!(!text.contains('\n'), "{text}");
        }
    }

    #[test]
    fn port_in_use_names_port_and_holder() {
        let e = DockerError::PortInUse {
            port: 6379,
            service: "redis".into(),
            holder: Some("pid 42 (redis-server)".into()),
        };
        let text = e.to_string();
        assert!(text.contains("6379") && text.contains("pid 42 (redis-server)"), "{text}");
    }
}
