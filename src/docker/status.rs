//! `env status` and stats sampling: per service its state, host-side health, published
//! ports, uptime and one CPU/memory sample. Imports `containers`, `health`, `state`,
//! `stats`, `metrics`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::Docker;

use super::containers::{container_state, list_ours};
use super::health::probe;
use super::labels::container_name;
use super::services::Service;
use super::state::{Health, ServiceState};
use super::stats::sample;
use super::{DockerError, ServiceStatus};
use crate::metrics::ResourceSample;

/// redis and terrafix-api always (as "missing" when absent); localstack when it exists.
pub async fn status(docker: &Docker, env_id: &str) -> Result<Vec<ServiceStatus>, DockerError> {
    let ours = list_ours(docker, env_id).await?;
    let mut rows = Vec::new();
    for service in Service::ALL {
        let name = container_name(env_id, service.name());
        let Some(container) = ours.iter().find(|c| c.name == name) else {
            if service != Service::LocalStack {
                rows.push(missing(service));
            }
            continue;
        };
        rows.push(service_status(docker, service, &name, &container.image));
    }
    futures::future::join_all(rows.into_iter().map(|row| async move {
        match row {
            Row::Ready(status) => Ok(status),
            Row::Pending(fut) => fut.await,
        }
    }))
    .await
    .into_iter()
    .collect::<Result<Vec<_>, _>>()
}

type StatusFuture<'a> = futures::future::BoxFuture<'a, Result<ServiceStatus, DockerError>>;

enum Row<'a> {
    Ready(ServiceStatus),
    Pending(StatusFuture<'a>),
}

fn missing(service: Service) -> Row<'static> {
    Row::Ready(ServiceStatus {
        name: service.name().to_string(),
        image: String::new(),
        state: ServiceState::Missing,
        health: Health::NotChecked,
        ports: vec![],
        uptime: None,
        cpu_percent: None,
        memory_bytes: None,
    })
}

fn service_status<'a>(docker: &'a Docker, service: Service, name: &str, image: &str) -> Row<'a> {
    let name = name.to_string();
    let image = image.to_string();
    Row::Pending(Box::pin(async move {
        let state = container_state(docker, &name).await?;
        let port_key = format!("{}/tcp", service.container_port());
        let host_port = state.host_ports.get(&port_key).copied();
        let ports = host_port.map(|p| vec![format!("127.0.0.1:{p}->{port_key}")]).unwrap_or_default();
        let (health, usage) = if state.running {
            let health = match host_port {
                Some(port) => match probe(service.probe(), port, Duration::from_secs(2)).await {
                    Ok(()) => Health::Healthy,
                    Err(_) => Health::Unhealthy,
                },
                None => Health::Unhealthy,
            };
            // Stats of a container that stops meanwhile are simply absent from the row.
            (health, sample(docker, &name).await.ok())
        } else {
            (Health::NotChecked, None)
        };
        Ok(ServiceStatus {
            name: service.name().to_string(),
            image,
            state: state.status,
            health,
            ports,
            uptime: if state.running { state.started_at.as_deref().and_then(uptime_since) } else { None },
            cpu_percent: usage.map(|u| u.cpu_percent),
            memory_bytes: usage.map(|u| u.memory_bytes),
        })
    }))
}

fn uptime_since(started_at: &str) -> Option<Duration> {
    let started = chrono::DateTime::parse_from_rfc3339(started_at).ok()?;
    (chrono::Utc::now() - started.with_timezone(&chrono::Utc)).to_std().ok()
}

/// One sample per running container of ours, taken concurrently.
pub async fn sample_stats(docker: &Docker, env_id: &str) -> Result<Vec<ResourceSample>, DockerError> {
    let running: Vec<_> =
        list_ours(docker, env_id).await?.into_iter().filter(|c| c.state == ServiceState::Running).collect();
    let samples = futures::future::join_all(running.iter().map(|c| sample(docker, &c.id))).await;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    let mut out = Vec::new();
    for (container, result) in running.iter().zip(samples) {
        match result {
            Ok(usage) => out.push(ResourceSample {
                timestamp_unix_s: now,
                service: container.service.clone(),
                cpu_percent: usage.cpu_percent,
                memory_bytes: usage.memory_bytes,
            }),
            // A container that stopped between listing and sampling has no figures this second.
            Err(e) => tracing::debug!("no stats for {}: {e}", container.name),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_is_measured_from_the_engine_timestamp() {
        let started = (chrono::Utc::now() - chrono::Duration::seconds(90)).to_rfc3339();
        let up = uptime_since(&started).unwrap();
        assert!(up >= Duration::from_secs(89) && up < Duration::from_secs(200), "{up:?}");
        assert!(uptime_since("0001-01-01T00:00:00Z").is_some());
        assert!(uptime_since("garbage").is_none());
    }
}
