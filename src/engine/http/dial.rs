//! Dialling a target: asynchronous DNS (again when every known address fails), connects
//! spread over all addresses, then TLS for https.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream};
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
    match connect_any(&addrs, &target.source_addrs).await {
        Ok(tcp) => Ok(tcp),
        Err(last) => {
            // Every known address failed: the host may have moved. Look again, at most once a second.
            if known.at.is_some_and(|t| t.elapsed() >= Duration::from_secs(1))
                && let Ok(fresh) = resolve(target).await
                && fresh != addrs
            {
                return connect_any(&fresh, &target.source_addrs).await;
            }
            Err(last)
        }
    }
}

async fn connect_any(addrs: &[SocketAddr], sources: &[IpAddr]) -> Result<TcpStream, String> {
    let mut last = String::from("no address to connect to");
    let offset = NEXT_ADDR.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    for i in 0..addrs.len() {
        let addr = addrs[(offset + i) % addrs.len()];
        match connect_from(addr, sources).await {
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

/// TCP to `addr`, from the next of `sources` of the same family (none given: the kernel's
/// choice of local address).
async fn connect_from(addr: SocketAddr, sources: &[IpAddr]) -> std::io::Result<TcpStream> {
    if sources.is_empty() {
        return TcpStream::connect(addr).await;
    }
    let same_family = || sources.iter().copied().filter(|s| s.is_ipv4() == addr.is_ipv4());
    let count = same_family().count();
    let turn = NEXT_SOURCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let Some(source) = same_family().nth(turn % count.max(1)) else {
        return Err(std::io::Error::other(format!(
            "no source address of the target's family (IPv{}) among {}",
            if addr.is_ipv4() { 4 } else { 6 },
            sources.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(", ")
        )));
    };
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket
        .bind(SocketAddr::new(source, 0))
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot bind source address {source}: {e}")))?;
    socket.connect(addr).await
}

static NEXT_SOURCE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connections_come_from_each_source_address_in_turn() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sources: Vec<IpAddr> = vec!["127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap()];
        let mut seen = std::collections::BTreeSet::new();
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(connect_from(addr, &sources).await.unwrap());
            let (_, peer) = listener.accept().await.unwrap();
            seen.insert(peer.ip());
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), sources, "both addresses used, no other");

        let v6_only: Vec<IpAddr> = vec!["::1".parse().unwrap()];
        let refused = connect_from(addr, &v6_only).await.unwrap_err().to_string();
        assert!(refused.contains("no source address of the target's family (IPv4)"), "{refused}");
    }
}
