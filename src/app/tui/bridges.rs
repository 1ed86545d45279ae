//! The TUI's calls into modules that are built in parallel with it: the Docker environment
//! (`crate::docker`, contract in docker_api.md) and chart rendering (`crate::report::render_all`).
//! Everything the TUI needs from them goes through this file, in the TUI's own view types.

use std::path::{Path, PathBuf};

/// What chart rendering produced (our own copy of `report::RenderOutcome`'s fields).
#[derive(Debug)]
pub struct ChartsOutput {
    pub charts: Vec<PathBuf>,
    pub html: Vec<PathBuf>,
    pub warnings: Vec<String>,
}

/// Renders every chart and HTML report of a run folder. Blocking: call it with spawn_blocking.
pub fn render_charts(run_dir: &Path) -> Result<ChartsOutput, String> {
    use crate::report::{RenderOptions, render_all};
    let outcome = render_all(run_dir, &RenderOptions::default())
        .map_err(|e| format!("rendering charts for {}: {e}", run_dir.display()))?;
    Ok(ChartsOutput { charts: outcome.charts, html: outcome.html, warnings: outcome.warnings })
}

/// Compares run B (`right`) against run A (`left`) with the same statistics as the `compare`
/// command. Blocking: call it with spawn_blocking. Warnings (a phase without histograms) show
/// as that phase's "not enough data".
pub fn compare(left: &Path, right: &Path) -> Result<Box<crate::metrics::compare::Comparison>, String> {
    let settings = crate::metrics::compare::Settings::default();
    let mut warnings = Vec::new();
    crate::report::compare::compare_runs(left, right, &[], &settings, &mut warnings)
        .map(Box::new)
        .map_err(|e| e.to_string())
}

mod wired {
    use futures::StreamExt;
    use futures::stream::BoxStream;
    use tokio::sync::mpsc;

    use crate::docker::{DockerEnv, ServiceStatus, UpOptions};
    use crate::tui::env_state::ServiceRow;

    pub struct DockerHandle(DockerEnv);

    pub async fn connect() -> Result<DockerHandle, String> {
        DockerEnv::connect().await.map(DockerHandle).map_err(|e| e.to_string())
    }

    fn row(s: ServiceStatus) -> ServiceRow {
        ServiceRow {
            name: s.name,
            image: s.image,
            state: s.state,
            health: s.health,
            ports: s.ports,
            uptime_s: s.uptime.map(|u| u.as_secs()),
            cpu_percent: s.cpu_percent,
            memory_bytes: s.memory_bytes,
        }
    }

    impl DockerHandle {
        pub async fn status(&self) -> Result<Vec<ServiceRow>, String> {
            Ok(self.0.status().await.map_err(|e| e.to_string())?.into_iter().map(row).collect())
        }
        pub async fn up(
            &self,
            progress: mpsc::Sender<String>,
            with_localstack: bool,
        ) -> Result<(String, String), String> {
            let opts = UpOptions { with_localstack, ..UpOptions::default() };
            let endpoints = self.0.up(&opts, &progress).await.map_err(|e| e.to_string())?;
            let mut text = format!("environment up; API at {}", endpoints.api_url);
            if let Some(localstack) = &endpoints.localstack_url {
                text.push_str(&format!("; LocalStack at {localstack}"));
            }
            for warning in &endpoints.warnings {
                text.push_str(&format!("; warning: {warning}"));
            }
            Ok((text, endpoints.api_url.to_string()))
        }
        /// Waits for the cleanup of an `up` that was cancelled mid-way.
        pub async fn wait_cleanup(&self) {
            self.0.wait_cleanup().await;
        }
        pub async fn down(&self) -> Result<String, String> {
            self.0.down(false).await.map_err(|e| e.to_string())?;
            Ok("environment down (volumes kept)".into())
        }
        pub async fn start(&self, service: &str) -> Result<String, String> {
            self.0.start_service(service).await.map_err(|e| e.to_string())?;
            Ok(format!("{service} started"))
        }
        pub async fn stop(&self, service: &str) -> Result<String, String> {
            self.0.stop_service(service).await.map_err(|e| e.to_string())?;
            Ok(format!("{service} stopped"))
        }
        pub async fn restart(&self, service: &str) -> Result<String, String> {
            self.0.restart_service(service).await.map_err(|e| e.to_string())?;
            Ok(format!("{service} restarted"))
        }
        pub async fn logs(
            &self,
            service: &str,
        ) -> Result<BoxStream<'static, Result<String, String>>, String> {
            let stream = self.0.logs(service, 200, true).await.map_err(|e| e.to_string())?;
            Ok(stream.map(|line| line.map_err(|e| e.to_string())).boxed())
        }
    }
}
pub use wired::*;
