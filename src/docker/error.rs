//! `DockerError`: every way the Docker environment can fail, each rendered as one line that
//! says what happened and what to do, plus the mapping from bollard's errors onto it.
//! Imports only std and bollard's error type (which never leaves this file).

use std::time::Duration;

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of the Docker environment. Each Display is one line: what happened + what to do.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error(
        "no Docker Engine socket at {path}: start Docker (`sudo systemctl start docker`) or point DOCKER_HOST at a running engine"
    )]
    NoSocket { path: String },

    #[error(
        "permission denied on the Docker socket {path}: add your user to the `docker` group (`sudo usermod -aG docker $USER`, then log in again) or run as root"
    )]
    PermissionDenied { path: String },

    #[error(
        "the Docker Engine at {endpoint} did not answer ({detail}): check that it runs with `docker info`"
    )]
    EngineUnreachable { endpoint: String, detail: String },

    #[error(
        "the Docker Engine speaks API {found}, older than the {minimum} this tool needs: upgrade Docker to 20.10 or newer"
    )]
    EngineTooOld { found: String, minimum: String },

    #[error("port {port} on 127.0.0.1 (for {service}) is already in use{}: stop that process or choose another port (0 picks a free one)", holder_text(.holder))]
    PortInUse { port: u16, service: String, holder: Option<String> },

    #[error("image {image} is not present and cannot be pulled ({detail}): {remedy}")]
    ImageMissingOffline { image: String, detail: String, remedy: String },

    #[error("building image {image} failed: {detail}; {remedy}")]
    ImageBuild { image: String, detail: String, remedy: String },

    #[error("{service} did not become healthy within {:.0?} ({reason}); last log lines: {}", .waited, logs_text(.last_logs))]
    HealthTimeout { service: String, waited: Duration, reason: String, last_logs: Vec<String> },

    #[error("{service} exited with code {exit_code} while starting; last log lines: {}", logs_text(.last_logs))]
    ServiceExited { service: String, exit_code: i64, last_logs: Vec<String> },

    #[error("unknown service {name:?}: the services are redis, terrafix-api and localstack")]
    UnknownService { name: String },

    #[error("service {service} has no container in environment {env_id:?}: run `terrafix-tui env up` first")]
    ServiceMissing { service: String, env_id: String },

    #[error(
        "a {kind} named {name} exists but is not managed by terrafix-tui (it has no io.terrafix labels; a leftover of the seed harness's docker-compose?): remove it with `{}` (after checking nothing needs it), or use another environment id (--env-id)",
        remove_command(.kind, .name)
    )]
    NameTaken { kind: &'static str, name: String },

    #[error("invalid environment option: {0}")]
    InvalidOption(String),

    #[error(
        "distributed runs need Docker Swarm, and this engine's swarm state is {state}: enable it with `docker swarm init` (one node is enough; `docker swarm leave --force` undoes it), or join this machine to an existing swarm as a manager"
    )]
    SwarmInactive { state: String },

    #[error(
        "this engine is a Swarm worker, not a manager: run distributed runs from a manager node (`docker node ls` there lists the nodes)"
    )]
    SwarmNotManager,

    #[error("Docker Engine request failed while {context}: {source}; check `docker info` and retry")]
    Api {
        context: String,
        #[source]
        source: Source,
    },

    #[error("{context}: {source}")]
    Io {
        context: String,
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
