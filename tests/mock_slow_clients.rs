//! Slow and silent clients cannot lock the mock out: every slot of `--max-connections`
//! held by a client that trickles its request body, or by a TLS connection that picked h2
//! in ALPN and then sends nothing, is freed by a deadline, and `/health` answers a fresh
//! client soon after. Each test first shows the slots are full (a fresh client is refused),
//! then polls `/health` and asserts how long the lockout lasted.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

mod mock_support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mock_support::Server;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use terrafix_tui::mock::{MockConfig, ServeOptions, ServerTls};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SLOTS: usize = 20;
const DEADLINE: Duration = Duration::from_secs(1);
/// Room for a busy two-core machine on top of the deadline.
const MARGIN: Duration = Duration::from_secs(4);

fn fast() -> MockConfig {
    MockConfig { latency_ms: 0.0, per_resource_ms: 0.0, ..MockConfig::default() }
}

fn addr_of(server: &Server) -> SocketAddr {
    let host = server.base.split("://").nth(1).unwrap();
    host.parse().unwrap()
}

/// One try from a fresh connection: true when `/health` answered 200.
async fn health_answers_once(client: &reqwest::Client, url: &str) -> bool {
    client.get(url).send().await.is_ok_and(|r| r.status().is_success())
}

/// Polls `/health` with a fresh connection each time until it answers 200; returns when.
async fn health_returns(client: &reqwest::Client, url: &str, bound: Duration) -> Duration {
    let started = Instant::now();
    while started.elapsed() < bound {
        if health_answers_once(client, url).await {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("/health did not answer a fresh client within {bound:?}: the slots are still held");
}

fn fresh_client() -> reqwest::Client {
    terrafix_tui::engine::tls::install_provider();
    // No pooled connection may answer for a fresh one.
    reqwest::Client::builder().timeout(Duration::from_secs(2)).pool_max_idle_per_host(0).build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_trickling_a_body_are_answered_408_and_free_their_slots() {
    let options = ServeOptions {
        header_read_timeout: DEADLINE,
        body_read_timeout: DEADLINE,
        max_connections: SLOTS,
        ..ServeOptions::default()
    };
    let server = Server::start_with(fast(), options).await;
    // No request before the tricklers: a kept-alive connection would hold a slot too.
    let addr = addr_of(&server);

    // Each sends its head at once, then one byte of a 1,000-byte body every 300 ms: the
    // whole body would take five minutes.
    let mut trickling = Vec::new();
    for _ in 0..SLOTS {
        let mut conn = TcpStream::connect(addr).await.unwrap();
        let head = "POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
                    content-length: 1000\r\n\r\n{";
        conn.write_all(head.as_bytes()).await.unwrap();
        trickling.push(tokio::spawn(async move {
            let mut answer = Vec::new();
            let mut buf = [0u8; 1024];
            loop {
                tokio::select! {
                    read = conn.read(&mut buf) => match read {
                        Ok(0) | Err(_) => return answer,
                        Ok(n) => answer.extend_from_slice(&buf[..n]),
                    },
                    // Pacing the hostile client, not waiting for an event.
                    () = tokio::time::sleep(Duration::from_millis(300)) => {
                        if conn.write_all(b" ").await.is_err() {
                            return answer;
                        }
                    }
                }
            }
        }));
    }
    // The slots are full: the accept loop took the 20 before this one.
    let locked_out = Instant::now();
    let client = fresh_client();
    let health = server.url("/health");
    assert!(
        !health_answers_once(&client, &health).await,
        "a fresh client was served: the slots were not all held"
    );

    let waited = health_returns(&client, &health, DEADLINE + MARGIN).await;
    assert!(locked_out.elapsed() <= DEADLINE + MARGIN, "lockout lasted {:?}", locked_out.elapsed());
    eprintln!("/health answered again after {waited:?}");

    // Each trickler was told why, then closed.
    for task in trickling {
        let answer = tokio::time::timeout(Duration::from_secs(5), task).await.unwrap().unwrap();
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 408"), "answer to a trickled body: {text:?}");
        assert!(text.to_ascii_lowercase().contains("connection: close"), "{text:?}");
    }
    server.shutdown().await;
}

/// A body that arrives within the deadline is served as before, even when sent in parts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_in_parts_within_the_deadline_is_served() {
    let options = ServeOptions { body_read_timeout: Duration::from_secs(5), ..ServeOptions::default() };
    let server = Server::start_with(fast(), options).await;
    let addr = addr_of(&server);
    let body = mock_support::unique("parts", 0).to_string();
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    let mut conn = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /webhook HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(first).await.unwrap();
    conn.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await; // a pause the deadline allows
    conn.write_all(rest).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), conn.read_to_string(&mut answer)).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.shutdown().await;
}

/// A CA and a leaf for 127.0.0.1: the server's TLS and the clients' trust.
fn make_tls() -> (ServerTls, CertificateDer<'static>) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "slow clients test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let tls = ServerTls::from_der(vec![leaf.der().clone()], key).unwrap();
    (tls, ca_cert.der().clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_connections_that_pick_h2_and_stay_silent_free_their_slots() {
    let (tls, ca) = make_tls();
    let options = ServeOptions {
        tls: Some(tls),
        header_read_timeout: DEADLINE,
        max_connections: SLOTS,
        ..ServeOptions::default()
    };
    let server = Server::start_with(fast(), options).await;
    let addr = addr_of(&server);

    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));

    // Handshake, agree on h2, then never send the connection preface.
    let mut silent = Vec::new();
    for _ in 0..SLOTS {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let stream = connector.connect(name, tcp).await.unwrap();
        assert_eq!(stream.get_ref().1.alpn_protocol(), Some(b"h2".as_slice()));
        silent.push(stream);
    }
    let locked_out = Instant::now();
    terrafix_tui::engine::tls::install_provider();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .pool_max_idle_per_host(0)
        .add_root_certificate(reqwest::Certificate::from_der(&ca).unwrap())
        .build()
        .unwrap();
    let health = server.url("/health");
    assert!(
        !health_answers_once(&client, &health).await,
        "a fresh client was served: the slots were not all held"
    );

    let waited = health_returns(&client, &health, DEADLINE + MARGIN).await;
    assert!(locked_out.elapsed() <= DEADLINE + MARGIN, "lockout lasted {:?}", locked_out.elapsed());
    eprintln!("/health answered again after {waited:?}");

    // The silent connections were closed by the server.
    for mut stream in silent {
        let mut buf = [0u8; 256];
        let end = loop {
            match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break true,
                Ok(Ok(_)) => continue, // the server's SETTINGS frame
                Err(_) => break false,
            }
        };
        assert!(end, "a connection that never sent its preface is still open");
    }
    server.shutdown().await;
}
