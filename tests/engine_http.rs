//! The generator's HTTP client against a hand-written server over real loopback TCP:
//! a server that closes kept-alive connections after a few answers (as nginx does after
//! 1000) or while they sit idle costs no failed request, and a server that stops answering
//! is a timeout.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::time::Duration;

use terrafix_tui::engine::http::{HttpClient, Outcome};
use terrafix_tui::metrics::FailureKind;
use terrafix_tui::workload::{Method, PlannedRequest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn health() -> PlannedRequest {
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

/// Answers `per_connection` requests per connection, the last with `Connection: close`.
async fn closing_server(per_connection: usize) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut pending = Vec::new();
                for n in 1..=per_connection {
                    while !pending.windows(4).any(|w| w == b"\r\n\r\n") {
                        let Ok(read) = socket.read(&mut buf).await else { return };
                        if read == 0 {
                            return;
                        }
                        pending.extend_from_slice(&buf[..read]);
                    }
                    let end = pending.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    pending.drain(..end);
                    let connection = if n == per_connection { "close" } else { "keep-alive" };
                    let answer =
                        format!("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: {connection}\r\n\r\nok");
                    if socket.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{addr}/")
}

#[tokio::test]
async fn connections_closed_by_the_server_are_replaced_without_failures() {
    let url = url::Url::parse(&closing_server(3).await).unwrap();
    let client = HttpClient::new(&url, Duration::from_secs(5));
    let mut connection = client.connection();
    for i in 0..20 {
        let outcome = connection.send(&health()).await;
        assert_eq!(
            outcome,
            Outcome::Ok { content_bytes: 2, failed_items: 0, duplicate: false },
            "request {i}"
        );
    }
}

#[tokio::test]
async fn a_silent_server_is_a_timeout_and_a_refused_port_a_connection_error() {
    // Accepts and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let client =
        HttpClient::new(&url::Url::parse(&format!("http://{addr}/")).unwrap(), Duration::from_millis(300));
    match client.connection().send(&health()).await {
        Outcome::Failed { kind, .. } => assert_eq!(kind, FailureKind::Timeout),
        other => panic!("expected a timeout, got {other:?}"),
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = HttpClient::new(
        &url::Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap(),
        Duration::from_secs(2),
    );
    match client.connection().send(&health()).await {
        Outcome::Failed { kind, message, .. } => {
            assert_eq!(kind, FailureKind::Connection);
            assert!(message.contains("refused"), "{message}");
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
}

/// A server that closes each connection once it has answered and the connection sat idle
/// (an idle timeout, as Node's 5 s keep-alive timeout or nginx's `keepalive_timeout`):
/// no `Connection: close` warns the client. The close is found before the next request is
/// written, and that request goes out on a new connection without a failure.
#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_replaced_without_a_failure() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (closed_tx, mut closed_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await;
            let _ = socket.shutdown().await;
            drop(socket);
            let _ = closed_tx.send(());
        }
    });
    let url = url::Url::parse(&format!("http://{addr}/")).unwrap();
    let client = HttpClient::new(&url, Duration::from_secs(5));
    let mut connection = client.connection();
    for i in 0..5 {
        let outcome = connection.send(&health()).await;
        assert_eq!(
            outcome,
            Outcome::Ok { content_bytes: 2, failed_items: 0, duplicate: false },
            "request {i}"
        );
        // The server has closed this connection; one yield lets the runtime see the close
        // (as any idle time would) before the next request.
        closed_rx.recv().await.unwrap();
        tokio::task::yield_now().await;
    }
    let stats = client.take_connect_stats();
    assert_eq!((stats.connects, stats.failed), (5, 0), "one new connection per request, none failed");
}
