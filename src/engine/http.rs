//! The load generator's HTTP client: hyper's pooled HTTP/1.1 client with keep-alive,
//! driven directly (reqwest is kept for control calls). hyper types stay in this file.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use url::Url;

use crate::metrics::FailureKind;
use crate::workload::{Method, PlannedRequest};

/// What one request came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// 2xx, with the body size in bytes.
    Ok { content_bytes: u64 },
    /// Counted as a failure; `message` is a short human description.
    Failed { kind: FailureKind, message: String, content_bytes: u64 },
}

/// Shared by every virtual user of a run; cheap to clone (one connection pool).
#[derive(Clone)]
pub struct HttpClient {
    client: Client<HttpConnector, Full<Bytes>>,
    /// `http://host:port` plus any base path, without a trailing slash.
    base: String,
    timeout: Duration,
}

impl HttpClient {
    pub fn new(base_url: &Url, timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout.min(Duration::from_secs(5))));
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(usize::MAX)
            .build(connector);
        let base = base_url.as_str().trim_end_matches('/').to_string();
        Self { client, base, timeout }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends one request and reads the whole response (so the connection goes back to the pool).
    pub async fn send(&self, request: &PlannedRequest) -> Outcome {
        match tokio::time::timeout(self.timeout, self.send_inner(request)).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Failed {
                kind: FailureKind::Timeout,
                message: format!("no response within {:.1} s", self.timeout.as_secs_f64()),
                content_bytes: 0,
            },
        }
    }

    async fn send_inner(&self, request: &PlannedRequest) -> Outcome {
        let uri = format!("{}{}", self.base, request.path);
        let mut builder = hyper::Request::builder().uri(uri);
        builder = match request.method {
            Method::Get => builder.method(hyper::Method::GET),
            Method::Post => builder
                .method(hyper::Method::POST)
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json")),
        };
        let body = Full::new(request.body.clone().unwrap_or_default());
        let http_request = match builder.body(body) {
            Ok(r) => r,
            Err(e) => return failed(FailureKind::Other, format!("cannot build request: {e}")),
        };
        let response = match self.client.request(http_request).await {
            Ok(r) => r,
            Err(e) => return classify_client_error(&e),
        };
        let status = response.status();
        let content_bytes = match response.into_body().collect().await {
            Ok(collected) => collected.to_bytes().len() as u64,
            Err(e) => return failed(FailureKind::Connection, format!("response body cut short: {e}")),
        };
        if status.is_success() {
            Outcome::Ok { content_bytes }
        } else {
            Outcome::Failed {
                kind: FailureKind::Http(status.as_u16()),
                message: format!("HTTP {} {}", status.as_u16(), status.canonical_reason().unwrap_or("")),
                content_bytes,
            }
        }
    }
}

fn failed(kind: FailureKind, message: String) -> Outcome {
    Outcome::Failed { kind, message, content_bytes: 0 }
}

fn classify_client_error(error: &hyper_util::client::legacy::Error) -> Outcome {
    // Walk to the innermost cause: "connection refused" is far more useful than "client error (Connect)".
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let what = if error.is_connect() { "cannot connect" } else { "connection failed" };
    failed(FailureKind::Connection, format!("{what}: {cause}"))
}
