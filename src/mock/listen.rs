//! The mock's accept loop: plain TCP or TLS (rustls), a cap on open connections, a
//! deadline for each request head and for idle keep-alive connections, and a graceful
//! drain. Idle and slow sockets cannot starve the server: past the cap new connections are
//! closed at once (with a log line); a connection is closed when its request head (or, over
//! TLS, its handshake; for HTTP/2, its preface) is not in within the header timeout, and a
//! request whose body is not in within the body timeout is answered 408 and closed. Over
//! TLS the server offers `h2` and `http/1.1` in ALPN and serves whichever the client picks.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::either::Either;
use tokio_util::sync::CancellationToken;

use super::deadline::{BodyDeadline, PrefaceDeadline};

/// How connections are accepted and kept.
#[derive(Clone)]
pub struct ServeOptions {
    /// Serve https with this certificate and key.
    pub tls: Option<ServerTls>,
    /// A client must send a whole request head within this, on a new or kept-alive
    /// connection; otherwise the connection is closed.
    pub header_read_timeout: Duration,
    /// A request's whole body must arrive within this from the end of its head; otherwise
    /// the request is answered 408 and the connection closed.
    pub body_read_timeout: Duration,
    /// Most connections open at once; more are closed on accept.
    pub max_connections: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            tls: None,
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            max_connections: default_max_connections(),
        }
    }
}

/// `serve --body-timeout-s`'s default: a 1 MiB body (the largest the mock takes) needs
/// only 100 KiB/s to make it.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// 10,000, or fewer when the process may not open that many files: a cap above the file
/// limit would let idle sockets use up every descriptor before the cap is reached.
pub fn default_max_connections() -> usize {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct we pass and reads nothing else.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    let files = if ok { usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX) } else { 1024 };
    // Room for the listener, Redis, logs and the runtime's own descriptors.
    files.saturating_sub(64).clamp(16, 10_000)
}

/// Why the mock's TLS could not be set up from `--tls-cert` and `--tls-key`; the flag and
/// the file are named, the key's content never.
#[derive(Debug, thiserror::Error)]
pub enum ServerTlsError {
    /// A file could not be read (missing, too large, not a regular file).
    #[error("{flag} {}: cannot read it: {reason}", path.display())]
    Unreadable {
        /// `--tls-cert` or `--tls-key`.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// Why, in words.
        reason: String,
    },
    /// The certificate file is not PEM.
    #[error("--tls-cert {}: not a PEM certificate: {reason}", path.display())]
    NotPem {
        /// The file.
        path: PathBuf,
        /// The PEM parser's reason.
        reason: String,
    },
    /// The certificate file holds no certificate.
    #[error("--tls-cert {}: no certificate in it (expected -----BEGIN CERTIFICATE-----)", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The key file holds no private key this tool can use.
    #[error("--tls-key {}: no usable PEM private key in it: {reason}", path.display())]
    NoKey {
        /// The file.
        path: PathBuf,
        /// The PEM parser's reason.
        reason: String,
    },
    /// rustls refused the protocol versions (its provider's setup).
    #[error("TLS setup failed: {0}")]
    Setup(String),
    /// The key is not the certificate's.
    #[error("the TLS certificate and key do not go together: {0}")]
    Mismatch(String),
}

/// A loaded certificate chain and key.
#[derive(Clone)]
pub struct ServerTls {
    acceptor: tokio_rustls::TlsAcceptor,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerTls")
    }
}

impl ServerTls {
    /// Reads PEM files: the certificate chain (leaf first) and its private key.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<ServerTls, ServerTlsError> {
        // Capped, regular files only: a FIFO or /dev/zero is refused before it is read.
        let read = |flag: &'static str, path: &Path| {
            crate::fsio::read_capped(path, crate::fsio::PEM_CAP, flag).map_err(|e| {
                ServerTlsError::Unreadable { flag, path: path.to_path_buf(), reason: e.reason() }
            })
        };
        let cert_bytes = read("--tls-cert", cert)?;
        let key_bytes = read("--tls-key", key)?;
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_bytes)
            .collect::<Result<_, _>>()
            .map_err(|e| ServerTlsError::NotPem { path: cert.to_path_buf(), reason: e.to_string() })?;
        if certs.is_empty() {
            return Err(ServerTlsError::NoCertificate { path: cert.to_path_buf() });
        }
        let key = PrivateKeyDer::from_pem_slice(&key_bytes)
            .map_err(|e| ServerTlsError::NoKey { path: key.to_path_buf(), reason: e.to_string() })?;
        ServerTls::from_der(certs, key)
    }

    /// A TLS server configuration from a DER certificate chain (leaf first) and its private key.
    pub fn from_der(
        certs: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<ServerTls, ServerTlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| ServerTlsError::Setup(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| ServerTlsError::Mismatch(e.to_string()))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(ServerTls { acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)) })
    }
}

/// Connections the kernel may hold for us before `accept` (capped by net.core.somaxconn).
const ACCEPT_BACKLOG: libc::c_int = 4096;

/// Listeners bound by std, mio or tokio queue 128 connections. A load test opens its
/// connections in a burst (wrk connects 2,000 at once, a generator's users start
/// together), and past 128 the kernel drops the SYNs: each client retries after a second,
/// so a 10 s run at 2,000 connections lost 5–10 % of its requests to the ramp. Listening
/// again on a listening socket only changes its backlog (Linux and the BSDs).
fn widen_backlog(listener: &TcpListener) {
    use std::os::fd::AsRawFd;
    // SAFETY: listen takes the fd of a socket we own and an integer; it touches no memory.
    if unsafe { libc::listen(listener.as_raw_fd(), ACCEPT_BACKLOG) } != 0 {
        let err = std::io::Error::last_os_error();
        tracing::debug!("mock server: could not widen the accept backlog ({err}); keeping the default");
    }
}

/// Accepts until `stop` is cancelled, then waits for open connections to finish their
/// current request (the caller bounds that wait).
pub async fn accept_loop(listener: TcpListener, app: Router, options: ServeOptions, stop: CancellationToken) {
    widen_backlog(&listener);
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let mut last_cap_log: Option<Instant> = None;
    let mut refused_since_log = 0u64;
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(options.header_read_timeout).keep_alive(true);
    let mut builder_h2 = http2::Builder::new(TokioExecutor::new());
    // An idle HTTP/2 connection is pinged and closed when the client stops answering.
    builder_h2
        .timer(TokioTimer::new())
        .keep_alive_interval(options.header_read_timeout)
        .keep_alive_timeout(options.header_read_timeout);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => break,
        };
        let tcp = match accepted {
            Ok((tcp, _peer)) => tcp,
            Err(e) => {
                // Out of file descriptors (EMFILE/ENFILE) or a connection reset before accept:
                // back off briefly instead of spinning, and keep serving the connections we have.
                tracing::warn!("mock server: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refused_since_log += 1;
            if last_cap_log.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                tracing::warn!(
                    "mock server: {} connections open (the cap); closed {refused_since_log} new one(s)",
                    options.max_connections
                );
                last_cap_log = Some(Instant::now());
                refused_since_log = 0;
            }
            drop(tcp);
            continue;
        };
        // Small responses: send them now rather than waiting for Nagle. A socket that refuses
        // the option still serves, only slower.
        let _ = tcp.set_nodelay(true);
        let service = BodyDeadline::new(app.clone(), options.body_read_timeout);
        let tls = options.tls.clone();
        let handshake_timeout = options.header_read_timeout;
        let builder = builder.clone();
        let builder_h2 = builder_h2.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            let io = match tls {
                None => Either::Left(tcp),
                Some(tls) => match tokio::time::timeout(handshake_timeout, tls.acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) if stream.get_ref().1.alpn_protocol() == Some(b"h2".as_slice()) => {
                        // hyper's pings start after the preface: until then, this deadline.
                        let stream = PrefaceDeadline::new(stream, handshake_timeout);
                        let conn = builder_h2.serve_connection(TokioIo::new(stream), service);
                        // As below: a client that goes away is its own business.
                        let _ = watcher.watch(conn).await;
                        return;
                    }
                    Ok(Ok(stream)) => Either::Right(stream),
                    Ok(Err(e)) => {
                        tracing::debug!("mock server: TLS handshake failed: {e}");
                        return;
                    }
                    Err(_) => return,
                },
            };
            let conn = builder.serve_connection(TokioIo::new(io), service);
            // A client that goes away mid-request is its own business: nothing to report.
            let _ = watcher.watch(conn).await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
