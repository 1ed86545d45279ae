//! Shared by the mock_* integration tests: an in-process mock server on 127.0.0.1:0,
//! a real redis-server on a free port, payload builders and small HTTP helpers.
#![allow(dead_code)] // each test file uses a different subset

use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use terrafix_tui::mock::{self, MockConfig};
use tokio_util::sync::CancellationToken;

pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    pub stop: CancellationToken,
    pub task: tokio::task::JoinHandle<Result<(), mock::MockError>>,
}

impl Server {
    pub async fn start(config: MockConfig) -> Server {
        Server::start_with(config, mock::ServeOptions::default()).await
    }

    /// `start` with TLS, connection cap or timeouts of the test's choosing (the base URL
    /// is https when `options.tls` is set; `client` trusts no test CA).
    pub async fn start_with(config: MockConfig, options: mock::ServeOptions) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let scheme = if options.tls.is_some() { "https" } else { "http" };
        let base = format!("{scheme}://{}", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        let task = tokio::spawn(mock::serve_with(listener, config, options, stop.clone().cancelled_owned()));
        terrafix_tui::engine::tls::install_provider();
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        Server { base, client, stop, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self.post(path, body.to_string()).await;
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    pub async fn configure(&self, patch: Value) -> Value {
        let (status, body) = self.post_json("/configure", &patch).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn stats(&self) -> Value {
        self.get_json("/status").await.1["stats"].clone()
    }

    pub async fn shutdown(self) {
        self.stop.cancel();
        tokio::time::timeout(Duration::from_secs(15), self.task).await.unwrap().unwrap().unwrap();
    }
}

/// A failure payload like the load generator's.
pub fn failure(test_id: &str, arn: &str, repo_size: &str) -> Value {
    json!({
        "test_id": test_id,
        "test_name": "S3 Bucket Block Public Access",
        "resource_arn": arn,
        "resource_type": "AWS::S3::Bucket",
        "failure_reason": "S3 bucket does not have public access blocked",
        "severity": "high",
        "framework": "SOC2",
        "failed_at": "2025-12-12T10:59:44.206266+00:00",
        "current_state": {"block_public_acls": false},
        "required_state": {"block_public_acls": true},
        "resource_id": "res-a1b2c3d4",
        "resource_details": {"name": arn, "repo_size": repo_size}
    })
}

pub fn unique(prefix: &str, i: usize) -> Value {
    failure(&format!("{prefix}-{i}"), &format!("arn:aws:s3:::bucket-{prefix}-{i}"), "small")
}

pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A real redis-server on a free port; killed when dropped.
pub struct Redis {
    pub port: u16,
    child: Option<Child>,
}

impl Redis {
    pub fn start() -> Redis {
        let port = StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = Redis { port, child: None };
        redis.restart();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// (Re)starts redis-server on the same port and waits until it answers PING.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "redis-server must be installed (scripts/test.sh installs it: apt-get install redis-server)",
            );
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(mut conn) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                use std::io::{Read, Write};
                let _ = conn.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = [0u8; 16];
                if conn.write_all(b"PING\r\n").is_ok() && conn.read(&mut buf).is_ok_and(|n| n > 0) {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server on port {} did not answer within 10 s", self.port);
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}
