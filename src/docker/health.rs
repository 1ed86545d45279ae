//! Health, seen from the host: RESP PING or HTTP GET through a service's published port
//! (scratch images have no shell or client to run a check inside), then Docker's own
//! HEALTHCHECK status, so `up` says healthy when `docker ps` does. Waiting for health fails
//! fast when the container exits. Imports tokio, `services`, `state` and `logs`.

use std::time::{Duration, Instant};

use bollard::Docker;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::DockerError;
use super::containers::container_state;
use super::logs::last_lines;
use super::services::{Probe, Service};
use super::state::Health;

/// Log lines quoted in health errors.
const ERROR_LOG_LINES: usize = 8;

/// One probe of 127.0.0.1:`port`; Err says what was wrong.
pub async fn probe(kind: Probe, port: u16, timeout: Duration) -> Result<(), String> {
    match tokio::time::timeout(timeout, probe_inner(kind, port)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer on 127.0.0.1:{port} within {timeout:?}")),
    }
}

async fn probe_inner(kind: Probe, port: u16) -> Result<(), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("connecting to 127.0.0.1:{port}: {e}"))?;
    let request = match kind {
        Probe::RedisPing => "*1\r\n$4\r\nPING\r\n".to_string(),
        Probe::HttpGet(path) => {
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        }
    };
    stream.write_all(request.as_bytes()).await.map_err(|e| format!("sending the probe: {e}"))?;
    let mut answer = vec![0u8; 512];
    let n = stream.read(&mut answer).await.map_err(|e| format!("reading the answer: {e}"))?;
    let answer = String::from_utf8_lossy(&answer[..n]);
    let first_line = answer.lines().next().unwrap_or("(connection closed)").to_string();
    let healthy = match kind {
        Probe::RedisPing => first_line == "+PONG",
        Probe::HttpGet(_) => first_line.split_whitespace().nth(1) == Some("200"),
    };
    if healthy { Ok(()) } else { Err(format!("answered {first_line:?}")) }
}

/// Waits until `service` answers its probe on `port` and Docker's own health check (where the
/// container has one) reports `healthy`, its container exits, or `timeout` passes. Says once
/// on `progress` when only Docker's check is still outstanding (its first run comes one
/// interval, 5 s, after the start).
pub async fn wait_healthy(
    docker: &Docker,
    container: &str,
    service: Service,
    port: u16,
    timeout: Duration,
    progress: &mpsc::Sender<String>,
) -> Result<(), DockerError> {
    let started = Instant::now();
    let mut said_waiting = false;
    loop {
        let probed = probe(service.probe(), port, Duration::from_secs(2)).await;
        let state = container_state(docker, container).await?;
        if !state.running {
            return Err(DockerError::ServiceExited {
                service: service.name().to_string(),
                exit_code: state.exit_code,
                last_logs: last_lines(docker, container, ERROR_LOG_LINES).await,
            });
        }
        let last_reason = match (probed, state.health) {
            (Ok(()), None | Some(Health::Healthy)) => return Ok(()),
            (Ok(()), Some(status)) => {
                if !said_waiting {
                    said_waiting = true;
                    // Progress lines are news for a listener that may be gone; the wait goes on without one.
                    let _ = progress
                        .send(format!(
                            "{}: answers on 127.0.0.1:{port}; waiting for Docker's own health check (now {status})",
                            service.name()
                        ))
                        .await;
                }
                format!("it answers, but Docker's own health check reports {status}")
            }
            (Err(reason), _) => reason,
        };
        if started.elapsed() >= timeout {
            return Err(DockerError::HealthTimeout {
                service: service.name().to_string(),
                waited: timeout,
                reason: last_reason,
                last_logs: last_lines(docker, container, ERROR_LOG_LINES).await,
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    async fn serve_once(answer: &'static str) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 256];
            // The probe's request is not checked here: only the canned answer matters.
            let _ = socket.read(&mut buf).await;
            socket.write_all(answer.as_bytes()).await.unwrap();
        });
        port
    }

    #[tokio::test]
    async fn http_200_is_healthy_and_503_is_not() {
        let ok = serve_once("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
        assert!(probe(Probe::HttpGet("/health"), ok, Duration::from_secs(5)).await.is_ok());
        let bad = serve_once("HTTP/1.1 503 Service Unavailable\r\n\r\n").await;
        let err = probe(Probe::HttpGet("/health"), bad, Duration::from_secs(5)).await.unwrap_err();
        assert!(err.contains("503"), "{err}");
    }

    #[tokio::test]
    async fn redis_ping_wants_pong() {
        let ok = serve_once("+PONG\r\n").await;
        assert!(probe(Probe::RedisPing, ok, Duration::from_secs(5)).await.is_ok());
        let loading = serve_once("-LOADING Redis is loading the dataset in memory\r\n").await;
        assert!(probe(Probe::RedisPing, loading, Duration::from_secs(5)).await.is_err());
    }

    #[tokio::test]
    async fn a_closed_port_is_reported() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let err = probe(Probe::RedisPing, port, Duration::from_secs(5)).await.unwrap_err();
        assert!(err.contains(&port.to_string()), "{err}");
    }
}
