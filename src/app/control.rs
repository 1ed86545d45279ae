//! `run --control`: the control API's wiring. The server task is started here, fed the
//! run's snapshots (a `watch` receiver) and events (the run's event printer hands each to
//! the hub), and stopped a linger after the run's last event has been published.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use super::UsageError;
use crate::cli::RunArgs;
use crate::control::{self, ControlSettings, Hub};
use crate::experiment::RunControl;
use crate::metrics::Snapshot;
use crate::profile::Secret;

/// The running API: where events go in, and how to stop it.
pub struct ControlApi {
    pub hub: Hub,
    shutdown: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

/// `--control` and `--control-token`, checked before anything starts.
pub fn settings(args: &RunArgs) -> Result<Option<ControlSettings>, UsageError> {
    let Some(addr) = args.control else { return Ok(None) };
    let token = args.control_token.as_ref().map(|t| Secret::new(t.trim()));
    ControlSettings::new(addr, token).map(Some).map_err(|e| UsageError(e.to_string()))
}

/// Binds and serves; a port that cannot be had is a usage error.
pub async fn start(
    settings: ControlSettings,
    snapshots: watch::Receiver<Snapshot>,
    run: RunControl,
) -> Result<ControlApi, UsageError> {
    let listener = settings.bind().await.map_err(|e| UsageError(e.to_string()))?;
    let bound = listener.local_addr().map_err(|e| UsageError(format!("--control: {e}")))?;
    let hub = Hub::new(snapshots);
    let shutdown = CancellationToken::new();
    let guarded = if settings.token.is_some() { ", bearer token required" } else { "" };
    eprintln!("control API on http://{bound}/v1/run (events: /v1/run/events{guarded})");
    let task = tokio::spawn(control::serve(listener, hub.clone(), run, settings.token, shutdown.clone()));
    Ok(ControlApi { hub, shutdown, task })
}

impl ControlApi {
    /// The run's last event is out: the API stays up for `linger` (so a client's last
    /// `GET /v1/run` sees the final state and verdict), then stops. The task goes into
    /// `tasks`, which the caller awaits before exit, like the `/metrics` server's linger.
    pub fn run_ended(self, linger: Duration, tasks: &mut JoinSet<()>) {
        if !linger.is_zero() {
            eprintln!("control API: the final status stays at /v1/run for {} s", linger.as_secs_f64());
        }
        tasks.spawn(async move {
            tokio::time::sleep(linger).await;
            self.stop().await;
        });
    }

    /// Ends the event streams and the server.
    async fn stop(self) {
        self.shutdown.cancel();
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("  warning: the control API stopped with an error: {e}"),
            Err(e) => eprintln!("  warning: the control API task failed: {e}"),
        }
    }
}
