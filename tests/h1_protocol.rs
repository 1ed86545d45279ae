//! The load client's HTTP/1.1 against hand-written servers on 127.0.0.1 that send what a
//! real server may send and a naive client gets wrong: many headers and obs-fold (valid
//! answers), an over-large head (its own failure kind), an early 413 while the request body
//! is still going out, an answer written before the request was read, a close-delimited
//! body over TLS ended without close_notify, and an endless body (memory stays bounded).
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use terrafix_tui::engine::http::{ClientOptions, HttpClient, Outcome};
use terrafix_tui::engine::tls::{ClientTls, TlsTrust};
use terrafix_tui::metrics::FailureKind;
use terrafix_tui::workload::{Method, PlannedRequest};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

/// Held by the tests that allocate tens of MB and by the one that measures RSS, so the
/// measure sees only its own request.
static MEMORY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn get() -> PlannedRequest {
    PlannedRequest {
        method: Method::Get,
        path: "/health",
        name: "/health".into(),
        body: None,
        duplicates: 0,
        payloads: 0,
        headers: None,
    }
}

fn post(body_len: usize) -> PlannedRequest {
    PlannedRequest {
        method: Method::Post,
        path: "/webhook",
        name: "/webhook".into(),
        body: Some(Bytes::from(vec![b'x'; body_len])),
        payloads: 1,
        ..get()
    }
}

/// A server that runs `handle` on every connection it accepts.
async fn server<F, Fut>(handle: F) -> Url
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(handle(socket));
        }
    });
    Url::parse(&format!("http://{addr}/")).unwrap()
}

/// Reads up to the end of a request's head; false if the client went away first.
async fn read_head<S: AsyncRead + Unpin>(socket: &mut S) -> bool {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        match socket.read(&mut byte).await {
            Ok(1) => got.push(byte[0]),
            _ => return false,
        }
    }
    true
}

/// Answers every request on a connection with `answer` (the server never reads a body).
async fn answering(answer: Vec<u8>) -> Url {
    let answer = Arc::new(answer);
    server(move |mut socket| {
        let answer = answer.clone();
        async move {
            while read_head(&mut socket).await {
                if socket.write_all(&answer).await.is_err() {
                    return;
                }
            }
        }
    })
    .await
}

fn client(url: &Url, timeout: Duration) -> HttpClient {
    HttpClient::new(url, timeout)
}

fn ok_with(outcome: Outcome, content_bytes: u64) {
    assert_eq!(outcome, Outcome::Ok { content_bytes, failed_items: 0, duplicate: false });
}

#[tokio::test]
async fn an_answer_with_a_hundred_and_twenty_headers_or_an_obs_fold_is_an_answer() {
    let mut many = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n".to_vec();
    for i in 0..120 {
        many.extend_from_slice(format!("X-Header-{i}: value {i}\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\nok");
    let url = answering(many).await;
    ok_with(client(&url, Duration::from_secs(5)).connection().send(&get()).await, 2);

    // RFC 9112 §5.2: a line that starts with a space or tab continues the header before it.
    let folded = b"HTTP/1.1 200 OK\r\nX-Folded: first\r\n  second\r\n\tthird\r\nContent-Length: 3\r\n\r\nabc";
    let url = answering(folded.to_vec()).await;
    let c = client(&url, Duration::from_secs(5));
    let mut connection = c.connection();
    for _ in 0..3 {
        ok_with(connection.send(&get()).await, 3);
    }
    assert_eq!(c.take_connect_stats().connects, 1, "the connection is kept alive");
}

#[tokio::test]
async fn an_over_large_head_is_its_own_failure_kind() {
    let big_value = "v".repeat(80 * 1024);
    let huge = format!("HTTP/1.1 200 OK\r\nX-Big: {big_value}\r\nContent-Length: 0\r\n\r\n");
    let mut crowded = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..2000 {
        crowded.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
    }
    crowded.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    for answer in [huge.into_bytes(), crowded] {
        let url = answering(answer).await;
        match client(&url, Duration::from_secs(5)).connection().send(&get()).await {
            Outcome::Failed { kind: FailureKind::HeadTooLarge, message, .. } => {
                assert!(message.contains("head"), "{message}");
                assert!(!message.contains("not an HTTP/1.1 answer"), "{message}");
            }
            other => panic!("expected a head-too-large failure, got {other:?}"),
        }
    }
}

/// nginx's `client_max_body_size`: the server reads the head, answers 413 and closes while
/// the client is still writing a body of 32 MB.
#[tokio::test]
async fn an_early_413_during_a_large_body_is_recorded_as_413() {
    let url = server(|mut socket| async move {
        if read_head(&mut socket).await {
            let _ = socket
                .write_all(
                    b"HTTP/1.1 413 Content Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                )
                .await;
            // Closed with the body unread: the kernel answers the rest with a reset.
            drop(socket);
        }
    })
    .await;
    let _memory = MEMORY.lock().await;
    let c = client(&url, Duration::from_secs(8));
    let started = std::time::Instant::now();
    match c.connection().send(&post(32 << 20)).await {
        Outcome::Failed { kind: FailureKind::Http(413), .. } => {}
        other => panic!("expected HTTP 413, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

/// A server that writes its whole (large) answer before it reads the request's body: a
/// client that writes everything before reading blocks on a full socket while the server
/// blocks on its own, until the timeout.
#[tokio::test]
async fn an_answer_written_before_the_body_was_read_does_not_deadlock() {
    const ANSWER: usize = 16 << 20;
    let url = server(|mut socket| async move {
        if !read_head(&mut socket).await {
            return;
        }
        let mut answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {ANSWER}\r\n\r\n").into_bytes();
        answer.resize(answer.len() + ANSWER, b'a');
        if socket.write_all(&answer).await.is_err() {
            return;
        }
        // Only now the body, to the end.
        let mut sink = vec![0u8; 64 * 1024];
        while socket.read(&mut sink).await.unwrap_or(0) > 0 {}
    })
    .await;
    let _memory = MEMORY.lock().await;
    let c = client(&url, Duration::from_secs(8));
    let mut connection = c.connection();
    let started = std::time::Instant::now();
    ok_with(connection.send(&post(16 << 20)).await, ANSWER as u64);
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
}

/// A self-signed certificate and a TLS acceptor for it.
fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert =
        rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap().self_signed(&key).unwrap();
    let der = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
    let config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], der)
            .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// An https server that writes `answer` and then closes the TCP connection without a TLS
/// close_notify (as many servers and load balancers do).
async fn tls_without_close_notify(answer: &'static [u8]) -> Url {
    let acceptor = tls_acceptor();
    let url = server(move |socket| {
        let acceptor = acceptor.clone();
        async move {
            let Ok(mut tls) = acceptor.accept(socket).await else { return };
            if read_head(&mut tls).await && tls.write_all(answer).await.is_ok() && tls.flush().await.is_ok() {
                let (mut tcp, _) = tls.into_inner();
                let _ = tcp.shutdown().await;
            }
        }
    })
    .await;
    Url::parse(&url.as_str().replace("http://127.0.0.1", "https://localhost")).unwrap()
}

fn tls_client(url: &Url) -> HttpClient {
    let options = ClientOptions {
        tls: Some(ClientTls::new(TlsTrust::Insecure, false).unwrap()),
        ..ClientOptions::with_timeout(Duration::from_secs(5))
    };
    HttpClient::with_options(url, &options)
}

#[tokio::test]
async fn over_https_a_close_delimited_body_ends_at_the_close_even_without_close_notify() {
    let url =
        tls_without_close_notify(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nthe whole body").await;
    ok_with(tls_client(&url).connection().send(&get()).await, 14);

    // A length that is not reached stays a failure, close_notify or not.
    let url = tls_without_close_notify(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort").await;
    match tls_client(&url).connection().send(&get()).await {
        Outcome::Failed { kind: FailureKind::Connection, message, .. } => {
            assert!(message.contains("short"), "{message}")
        }
        other => panic!("expected a cut-short body, got {other:?}"),
    }
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A server that sends `head` and then body bytes for as long as the client reads them,
/// counting what it sent.
async fn endless(head: &'static [u8], sent: Arc<AtomicU64>) -> Url {
    server(move |mut socket| {
        let sent = sent.clone();
        async move {
            if !read_head(&mut socket).await || socket.write_all(head).await.is_err() {
                return;
            }
            let block = vec![b'z'; 256 * 1024];
            while socket.write_all(&block).await.is_ok() {
                sent.fetch_add(block.len() as u64, Ordering::Relaxed);
            }
        }
    })
    .await
}

/// An endless body (delimited by a close that never comes, or one chunk of 2^52 bytes)
/// ends with the request's timeout, and the client's memory does not grow with it.
#[tokio::test]
async fn an_endless_body_ends_with_the_timeout_and_memory_stays_bounded() {
    let _memory = MEMORY.lock().await;
    for head in [
        &b"HTTP/1.1 200 OK\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000\r\n",
    ] {
        let sent = Arc::new(AtomicU64::new(0));
        let url = endless(head, sent.clone()).await;
        let before = rss_kib();
        let outcome = client(&url, Duration::from_secs(3)).connection().send(&get()).await;
        let after = rss_kib();
        match outcome {
            Outcome::Failed { kind: FailureKind::Timeout, .. } => {}
            other => panic!("expected a timeout, got {other:?}"),
        }
        let sent = sent.load(Ordering::Relaxed);
        assert!(sent > 64 << 20, "the server sent only {sent} bytes: the test proves nothing");
        assert!(
            after.saturating_sub(before) < 32 * 1024,
            "RSS grew from {before} KiB to {after} KiB while {sent} bytes of body arrived"
        );
    }
}
