//! Connecting to the local Docker Engine: socket discovery, API version negotiation and
//! the minimum-version check. Imports bollard and `error` only.

use bollard::{ClientVersion, Docker};

use super::DockerError;
use super::error::connect_error;

/// The oldest Engine API we speak (Docker 19.03); this machine's engine is 20.10 / 1.41.
const MINIMUM_API: (usize, usize) = (1, 40);

/// Where the client will connect: `DOCKER_HOST` or the default Unix socket.
pub fn endpoint() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".to_string())
}

/// Connects and negotiates the API version (requests fail on this engine without it).
pub async fn connect() -> Result<Docker, DockerError> {
    let endpoint = endpoint();
    let socket_path = endpoint.strip_prefix("unix://").map(str::to_string);
    if let Some(path) = &socket_path {
        // bollard connects lazily: check the socket up front so the error names it.
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(DockerError::NoSocket { path: path.clone() });
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(DockerError::PermissionDenied { path: path.clone() });
            }
            _ => {}
        }
    }
    let docker = Docker::connect_with_local_defaults().map_err(|e| connect_error(&endpoint, e))?;
    let docker = docker.negotiate_version().await.map_err(|e| connect_error(&endpoint, e))?;
    check_version(docker.client_version())?;
    Ok(docker)
}

fn check_version(negotiated: ClientVersion) -> Result<(), DockerError> {
    let found = (negotiated.major_version, negotiated.minor_version);
    if found < MINIMUM_API {
        return Err(DockerError::EngineTooOld {
            found: format!("{}.{}", found.0, found.1),
            minimum: format!("{}.{}", MINIMUM_API.0, MINIMUM_API.1),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_engines_are_refused_with_the_versions() {
        let err = check_version(ClientVersion { major_version: 1, minor_version: 39 }).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("1.39") && text.contains("1.40"), "{text}");
        assert!(check_version(ClientVersion { major_version: 1, minor_version: 41 }).is_ok());
    }
}
