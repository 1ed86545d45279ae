//! Dialling a target: asynchronous DNS (again when every known address fails), connects
//! spread over all addresses, then TLS for https.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_util::either::Either;

use super::Target;
use super::wire::Stream;
use crate::engine::tls::explain_handshake_error;

/// TCP to the first address that answers, then TLS when the target is https.
pub(super) async fn open_stream(target: &Target) -> Result<Stream, String> {
    let tcp = connect_tcp(target).await?;
    match &target.tls {
        None => Ok(Either::Left(tcp)),
        Some((connector, name)) => {
            let host = target.host.to_str().unwrap_or("the target");
            let tls =
                connector.connect(name.clone(), tcp).await.map_err(|e| explain_handshake_error(&e, host))?;
            Ok(Either::Right(Box::new(tls)))
        }
    }
}

/// The addresses last resolved, and when.
#[derive(Clone, Debug, Default)]
pub(super) struct Resolved {
    addrs: Arc<Vec<SocketAddr>>,
    at: Option<std::time::Instant>,
}

/// Looks the host up (getaddrinfo on tokio's blocking pool, so no worker thread stalls)
/// and keeps the answer for the next connects.
async fn resolve(target: &Target) -> Result<Arc<Vec<SocketAddr>>, String> {
    let host = target.host_name.trim_start_matches('[').trim_end_matches(']');
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host, target.port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    if found.is_empty() {
        return Err(format!("{host} resolved to no address"));
    }
    let found = Arc::new(found);
    if let Ok(mut slot) = target.addrs.lock() {
        *slot = Resolved { addrs: found.clone(), at: Some(std::time::Instant::now()) };
    }
    Ok(found)
}

/// TCP to one of the host's addresses: each connect starts at the next address, so the
/// connections spread over all of them.
pub(super) async fn connect_tcp(target: &Target) -> Result<TcpStream, String> {
    let known = target.addrs.lock().map(|r| r.clone()).unwrap_or_default();
    let addrs = match known.at {
        None => resolve(target).await?,
        Some(_) => known.addrs.clone(),
    };
    match connect_any(&addrs).await {
        Ok(tcp) => Ok(tcp),
        Err(last) => {
            // Every known address failed: the host may have moved. Look again, at most once a second.
            if known.at.is_some_and(|t| t.elapsed() >= Duration::from_secs(1))
                && let Ok(fresh) = resolve(target).await
                && fresh != addrs
            {
                return connect_any(&fresh).await;
            }
            Err(last)
        }
    }
}

async fn connect_any(addrs: &[SocketAddr]) -> Result<TcpStream, String> {
    let mut last = String::from("no address to connect to");
    let offset = NEXT_ADDR.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    for i in 0..addrs.len() {
        let addr = addrs[(offset + i) % addrs.len()];
        match TcpStream::connect(addr).await {
            Ok(tcp) => {
                // Without it the connection still works, only small writes may wait for Nagle.
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) => last = format!("{addr}: {e}"),
        }
    }
    Err(last)
}

static NEXT_ADDR: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
