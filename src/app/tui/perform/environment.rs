//! The Environment screen's work: Docker operations, the followed log, requests to the
//! target (`/configure`, health) and the desktop opener for a run's HTML.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use tokio::sync::mpsc;

use super::super::bridges::{self, DockerHandle};
use super::super::news::{News, Offered};
use super::{DOCKER_CLEANUP_GRACE, Worker};
use crate::experiment::{self, ControlClient};
use crate::tui::{Action, DockerOp};

impl Worker {
    pub(super) fn docker(&mut self, op: DockerOp) {
        let tx = self.tx.clone();
        let slot = self.docker.clone();
        let handle = lock(&slot).clone();
        let job = async move {
            if op == DockerOp::Connect {
                let result = bridges::connect().await.map(|h| {
                    *lock(&slot) = Some(Arc::new(h));
                });
                return tx.tell(Action::DockerConnected(result)).await;
            }
            let Some(docker) = handle else {
                return tx.tell(Action::DockerConnected(Err("not connected to Docker".into()))).await;
            };
            let done = match op {
                DockerOp::Connect => return,
                DockerOp::Status => return tx.tell(Action::DockerStatus(docker.status().await)).await,
                DockerOp::Up { with_localstack } => up(&docker, with_localstack, &tx).await,
                DockerOp::Down => docker.down().await,
                DockerOp::Start(service) => docker.start(&service).await,
                DockerOp::Stop(service) => docker.stop(&service).await,
                DockerOp::Restart(service) => docker.restart(&service).await,
            };
            tx.tell(Action::DockerDone(done)).await;
        };
        self.docker_tasks.spawn(job, |why| Action::DockerDone(Err(format!("the Docker operation {why}"))));
    }

    pub(super) fn follow_logs(&mut self, service: String) {
        self.stop_logs();
        let tx = self.tx.clone();
        let handle = lock(&self.docker).clone();
        let job = async move {
            let Some(docker) = handle else {
                return tx.tell(Action::LogsEnded(Some("not connected to Docker".into()))).await;
            };
            match docker.logs(&service).await {
                Ok(stream) => forward_log(stream, &tx).await,
                Err(reason) => tx.tell(Action::LogsEnded(Some(reason))).await,
            }
        };
        let failed = |why| Action::LogsEnded(Some(format!("following the log {why}")));
        self.logs = Some(self.jobs.spawn(job, failed));
    }

    pub(super) fn stop_logs(&mut self) {
        if let Some(task) = self.logs.take() {
            task.abort();
        }
    }

    pub(super) fn configure(&mut self, base_url: String, body: serde_json::Value) {
        let tx = self.tx.clone();
        let job = async move {
            let reply = match control_for(&base_url) {
                Ok(control) => control.configure_line(&body).await.map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            tx.tell(Action::ConfigureReply(reply)).await;
        };
        self.jobs.spawn(job, |why| Action::ConfigureReply(Err(format!("sending the settings {why}"))));
    }

    pub(super) fn check_health(&mut self, base_url: String) {
        let tx = self.tx.clone();
        let job = async move {
            let reply = match control_for(&base_url) {
                Ok(control) => control.health_line().await.map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            tx.tell(Action::HealthReply(reply)).await;
        };
        self.jobs.spawn(job, |why| Action::HealthReply(Err(format!("the health probe {why}"))));
    }

    /// Starts the system opener without waiting for it; a missing opener is reported on screen.
    pub(super) fn open_html(&mut self, path: PathBuf) {
        let tx = self.tx.clone();
        let job = async move {
            if let Err(reason) = open_with_system(&path).await {
                tx.tell(Action::OpenFailed(reason)).await;
            }
        };
        self.jobs.spawn(job, |why| Action::OpenFailed(format!("opening the report {why}")));
    }

    /// Cancels Docker work still in flight and waits (bounded) for the cleanup an
    /// interrupted `env up` starts: containers, network and volume it created are removed.
    pub(super) async fn stop_docker_work(&mut self) {
        if self.docker_tasks.is_idle() {
            return;
        }
        eprintln!("terrafix-tui: cancelling Docker work and removing what it started…");
        // Docker work runs on the runtime only, so every job ends at its abort.
        self.docker_tasks.stop().await;
        let handle = lock(&self.docker).clone();
        if let Some(docker) = handle
            && tokio::time::timeout(DOCKER_CLEANUP_GRACE, docker.wait_cleanup()).await.is_err()
        {
            eprintln!(
                "terrafix-tui: cleanup did not finish within {}s; `terrafix-tui env down` removes the rest",
                DOCKER_CLEANUP_GRACE.as_secs()
            );
        }
    }
}

/// `env up` with its progress lines forwarded to the screen; tells the API's URL when up.
async fn up(docker: &DockerHandle, with_localstack: bool, tx: &News) -> Result<String, String> {
    let (progress_tx, mut progress_rx) = mpsc::channel::<String>(64);
    let forward_tx = tx.clone();
    let forward = async move {
        while let Some(line) = progress_rx.recv().await {
            // Only the latest progress line is shown: one dropped while the screen is behind loses nothing.
            let _ = forward_tx.offer(Action::DockerProgress(line));
        }
    };
    // Forwarded beside the operation, in this job: the forwarding ends with the progress channel.
    let (result, ()) = tokio::join!(docker.up(progress_tx, with_localstack), forward);
    let (text, api_url) = result?;
    tx.tell(Action::EnvApiUp(api_url)).await;
    Ok(text)
}

/// Hands the followed log's lines to the screen until the stream or the screen ends.
async fn forward_log(mut stream: impl futures::Stream<Item = Result<String, String>> + Unpin, tx: &News) {
    // Lines the screen could not take while it was behind: said once it catches up.
    let mut skipped = 0u64;
    while let Some(line) = stream.next().await {
        let line = match line {
            Ok(line) => line,
            Err(reason) => return tx.tell(Action::LogsEnded(Some(reason))).await,
        };
        if skipped > 0
            && tx.offer(Action::LogLine(format!("── {skipped} line(s) skipped: the screen was behind")))
                == Offered::Taken
        {
            skipped = 0;
        }
        match tx.offer(Action::LogLine(line)) {
            Offered::Taken => {}
            Offered::Dropped => skipped += 1,
            Offered::Closed => return,
        }
    }
    tx.tell(Action::LogsEnded(None)).await;
}

/// Runs `xdg-open` on the file; why it could not, in words.
async fn open_with_system(path: &std::path::Path) -> Result<(), String> {
    let child = tokio::process::Command::new("xdg-open")
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match child {
        Err(e) => Err(format!("cannot start xdg-open ({e}); open {} yourself", path.display())),
        Ok(mut child) => match child.wait().await {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!("xdg-open {} exited with {status}; open it yourself", path.display())),
            Err(e) => Err(format!("xdg-open {}: {e}", path.display())),
        },
    }
}

/// A poisoned lock only means another task panicked mid-assignment of an `Option`; the value is still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A control client for the Environment screen's target URL. Its `user:password@` is
/// taken out (as for `run --target`) and sent as `Authorization: Basic`, so the URL that
/// is requested and quoted in replies holds no credential.
fn control_for(base_url: &str) -> Result<ControlClient, String> {
    let shown = experiment::target::redacted_text(base_url.trim());
    let mut url = url::Url::parse(base_url.trim())
        .map_err(|e| format!("target URL {shown:?} is not a URL ({e}); e.g. http://127.0.0.1:8081"))?;
    let headers: Vec<(String, String)> = experiment::target::take_credentials(&mut url)
        .map(|auth| ("Authorization".to_string(), auth.expose().to_string()))
        .into_iter()
        .collect();
    Ok(ControlClient::with_options(url, None, &headers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn the_environment_target_sends_url_credentials_as_basic_and_never_quotes_them() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.unwrap() == 1 {
                head.push(byte[0]);
            }
            let answer =
                "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\nconnection: close\r\n\r\ndown";
            stream.write_all(answer.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&head).into_owned()
        });
        let control = control_for(&format!("http://user:SECRETpw@127.0.0.1:{port}")).unwrap();
        let reply = control.health_line().await.unwrap_err().to_string();
        let head = server.await.unwrap();
        // base64("user:SECRETpw")
        assert!(head.to_ascii_lowercase().contains("authorization: basic dxnlcjptrunsrvrwdw=="), "{head}");
        assert!(!reply.contains("SECRETpw"), "{reply}");
        let refused = control_for("http://user:SECRETpw@127.0.0.1:99999").err().unwrap_or_default();
        assert!(!refused.contains("SECRETpw"), "{refused}");
    }
}
