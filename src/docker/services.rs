//! The three services of the environment and what each needs: image, command, container
//! port, environment, data volume and how its health is probed. Pure data; imports std only.

use super::DockerError;

/// Official images, used when present locally or pullable.
pub const REDIS_IMAGE: &str = "redis:7-alpine";
/// The LocalStack image started with `--with-localstack` (unless `--localstack-image` names another).
pub const LOCALSTACK_IMAGE: &str = "localstack/localstack:3.0";
/// Built from the host's redis-server when `redis:7-alpine` is absent and cannot be pulled.
pub const REDIS_HOST_IMAGE: &str = "terrafix-local/redis:7-host";
/// Built from the executable; the tag is the first 12 hex digits of its SHA-256.
pub const API_IMAGE_REPO: &str = "terrafix-local/terrafix-api";
/// Where the executable lives inside the terrafix-api image.
pub const API_BINARY_PATH: &str = "/usr/local/bin/terrafix-tui";
/// LocalStack services the seed's harness asked for (its compose file's `SERVICES`).
pub const LOCALSTACK_SERVICES: &str = "s3,iam,cloudwatch,logs,secretsmanager,sts";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    Redis,
    Api,
    LocalStack,
}

/// How the host checks that a service answers, through its published port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// RESP `PING` → `+PONG`.
    RedisPing,
    /// HTTP GET of this path → 200.
    HttpGet(&'static str),
}

impl Service {
    /// Start order: dependencies first.
    pub const ALL: [Service; 3] = [Service::Redis, Service::Api, Service::LocalStack];

    pub fn name(self) -> &'static str {
        match self {
            Service::Redis => "redis",
            Service::Api => "terrafix-api",
            Service::LocalStack => "localstack",
        }
    }

    pub fn parse(name: &str) -> Result<Service, DockerError> {
        Service::ALL
            .into_iter()
            .find(|s| s.name() == name || (name == "api" && *s == Service::Api))
            .ok_or_else(|| DockerError::UnknownService { name: name.to_string() })
    }

    /// The port the service listens on inside its container.
    pub fn container_port(self) -> u16 {
        match self {
            Service::Redis => 6379,
            Service::Api => 8081,
            Service::LocalStack => 4566,
        }
    }

    pub fn probe(self) -> Probe {
        match self {
            Service::Redis => Probe::RedisPing,
            Service::Api => Probe::HttpGet("/health"),
            Service::LocalStack => Probe::HttpGet("/_localstack/health"),
        }
    }

    /// The container command (the image's entrypoint stays in charge).
    pub fn command(self) -> Vec<String> {
        let words: &[&str] = match self {
            // Protected mode refuses non-loopback clients when no password is set; the API
            // reaches Redis over the bridge network, and the host port is bound to 127.0.0.1.
            Service::Redis => {
                &["redis-server", "--appendonly", "yes", "--dir", "/data", "--protected-mode", "no"]
            }
            Service::Api => &["serve", "--bind", "0.0.0.0", "--port", "8081"],
            Service::LocalStack => &[],
        };
        words.iter().map(|w| w.to_string()).collect()
    }

    pub fn environment(self) -> Vec<String> {
        match self {
            Service::Redis => vec![],
            // NO_COLOR: the logs are read through `env logs`, not on a terminal.
            Service::Api => {
                vec!["REDIS_URL=redis://redis:6379/0".into(), "RUST_LOG=info".into(), "NO_COLOR=1".into()]
            }
            Service::LocalStack => vec![
                format!("SERVICES={LOCALSTACK_SERVICES}"),
                "DEBUG=0".into(),
                "DEFAULT_REGION=us-west-2".into(),
                "AWS_DEFAULT_REGION=us-west-2".into(),
                // As the seed: state kept in the data volume across restarts.
                "PERSISTENCE=1".into(),
            ],
        }
    }

    /// The check the engine itself runs inside the container (`docker inspect
    /// --format '{{.State.Health.Status}}'`), as an exec form: the API checks itself with
    /// `terrafix-tui health` (a scratch image has no curl), Redis with `redis-cli ping`;
    /// LocalStack's image declares its own.
    pub fn healthcheck(self) -> Option<Vec<String>> {
        let words: &[&str] = match self {
            Service::Api => {
                &["CMD", API_BINARY_PATH, "health", "--timeout", "3", "http://127.0.0.1:8081/health"]
            }
            Service::Redis => &["CMD", "redis-cli", "ping"],
            Service::LocalStack => return None,
        };
        Some(words.iter().map(|w| w.to_string()).collect())
    }

    /// The data directory kept in a named volume, if the service has one.
    pub fn data_dir(self) -> Option<&'static str> {
        match self {
            Service::Redis => Some("/data"),
            Service::LocalStack => Some("/var/lib/localstack"),
            Service::Api => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Service::ALL {
            assert_eq!(Service::parse(s.name()).unwrap(), s);
        }
        assert!(Service::parse("postgres").is_err());
    }

    #[test]
    fn api_points_at_redis_on_the_network() {
        assert!(Service::Api.environment().contains(&"REDIS_URL=redis://redis:6379/0".to_string()));
        assert_eq!(Service::Api.command()[0], "serve");
    }
}
