//! Performing the TUI's commands: every task the UI starts is spawned here, off the UI loop,
//! and reports back as an `Action` on one channel. Holds the active run's controls.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::bridges::{self, DockerHandle};
use super::news::{News, Offered};
use super::scan;
use crate::app::live_metrics::{LiveMetrics, LiveMetricsPlan};
use crate::experiment::ControlClient;
use crate::experiment::{self, RunChannels, RunControl, RunRequest};
use crate::metrics::Snapshot;
use crate::tui::action::QuickStart;
use crate::tui::state::{ChartsState, ProfileItem};
use crate::tui::{Action, Command, DockerOp};

/// How long quitting waits for an aborted run to write its partial results (a distributed
/// run also ends its workers and removes their Swarm service and network in this time:
/// the drain grace plus the service's removal, about 10 s, under load more).
pub const RUN_STOP_GRACE: Duration = Duration::from_secs(40);

struct ActiveRun {
    control: RunControl,
    snapshots: watch::Receiver<Snapshot>,
    task: JoinHandle<()>,
}

pub struct Worker {
    tx: News,
    profiles_dir: Option<PathBuf>,
    output_root: PathBuf,
    run: Option<ActiveRun>,
    docker: Arc<Mutex<Option<Arc<DockerHandle>>>>,
    /// Every Docker operation the UI started: quitting cancels them and waits (bounded)
    /// for their cleanup, so an interrupted `env up` leaves nothing behind.
    docker_tasks: tokio::task::JoinSet<()>,
    logs: Option<JoinHandle<()>>,
}

/// How long a new run waits for the previous one's task (its /metrics linger, cut short).
const PREVIOUS_RUN_GRACE: Duration = Duration::from_secs(5);

/// Starts `/metrics` for a run of the TUI when its settings ask for it, and says where on
/// the Run screen (the run's messages); a port that cannot be had fails the run.
async fn start_metrics(
    metrics: Option<SocketAddr>,
    events: &mpsc::Sender<experiment::Event>,
) -> Result<Option<LiveMetrics>, String> {
    let Some(addr) = metrics else { return Ok(None) };
    let live = LiveMetricsPlan::listen(addr).start().await.map_err(|e| e.0)?;
    if let Some(bound) = live.bound() {
        let said =
            format!("metrics: http://{bound}/metrics (until {} s after the run)", live.linger().as_secs());
        // Buffered before the run starts; a closed channel means the screen is gone.
        let _ = events.send(experiment::Event::Environment(said)).await;
    }
    Ok(Some(live))
}

/// How long quitting waits for cancelled Docker work to remove what it had started.
pub const DOCKER_CLEANUP_GRACE: Duration = Duration::from_secs(60);

/// Whether the loop goes on after a command.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

impl Worker {
    pub fn new(tx: News, profiles_dir: Option<PathBuf>, output_root: PathBuf) -> Self {
        Self {
            tx,
            profiles_dir,
            output_root,
            run: None,
            docker: Arc::default(),
            docker_tasks: tokio::task::JoinSet::new(),
            logs: None,
        }
    }

    /// The newest snapshot of the active run, if one arrived since the last call.
    pub fn latest_snapshot(&mut self) -> Option<Snapshot> {
        let run = self.run.as_mut()?;
        match run.snapshots.has_changed() {
            Ok(true) => Some(run.snapshots.borrow_and_update().clone()),
            _ => None,
        }
    }

    pub fn perform(&mut self, command: Command) -> Flow {
        let tx = self.tx.clone();
        // Send errors below mean the UI loop has ended; nobody is left to tell.
        match command {
            Command::Quit => return Flow::Quit,
            Command::Batch(commands) => {
                for command in commands {
                    if self.perform(command) == Flow::Quit {
                        return Flow::Quit;
                    }
                }
            }
            Command::LoadProfiles => {
                let dir = self.profiles_dir.clone();
                tokio::task::spawn_blocking(move || {
                    let items = crate::profile::list(dir.as_deref())
                        .into_iter()
                        .map(|e| ProfileItem {
                            name: e.name,
                            source: e.source,
                            profile: e.profile.map_err(|e| e.to_string()),
                        })
                        .collect();
                    tx.tell_blocking(Action::ProfilesLoaded(items));
                });
            }
            Command::LoadResults => {
                let root = self.output_root.clone();
                tokio::task::spawn_blocking(move || {
                    tx.tell_blocking(Action::ResultsLoaded(scan::runs(&root)));
                });
            }
            Command::StartRun { request, metrics } => self.start_run(*request, metrics),
            Command::StartQuickRun(start) => {
                let QuickStart { choice, seed, output_root, options } = *start;
                match crate::profile::load_quick(
                    &choice.quick,
                    choice.defined_in.as_deref(),
                    self.profiles_dir.as_deref(),
                ) {
                    Ok(profile) => self.start_run(
                        RunRequest {
                            docker: Default::default(),
                            target_options: *options,
                            distributed: None,
                            worker_network: Default::default(),
                            profile,
                            target: choice.target,
                            output_root,
                            seed,
                            time_scale: 1.0,
                        },
                        None,
                    ),
                    Err(e) => {
                        // This runs on the UI loop, which drains the queue: hand the send to a task.
                        tokio::spawn(async move { tx.tell(Action::RunEnded(Err(e.to_string()))).await });
                    }
                }
            }
            Command::WriteQuickProfile(choice) => {
                let extra = self.profiles_dir.clone();
                tokio::task::spawn_blocking(move || {
                    let written = crate::profile::write_quick(
                        &choice.quick,
                        choice.defined_in.as_deref(),
                        extra.as_deref(),
                        std::path::Path::new("profiles"),
                    );
                    tx.tell_blocking(Action::ProfileWritten(written.map_err(|e| e.to_string())));
                });
            }
            Command::SkipPhase => {
                if let Some(run) = &self.run {
                    run.control.skip.skip_current();
                }
            }
            Command::Steer(steer) => {
                if let Some(run) = &self.run {
                    run.control.steer.send(steer);
                }
            }
            Command::ResetStats => {
                if let Some(run) = &self.run {
                    run.control.view_reset.reset();
                }
            }
            Command::AbortRun => {
                if let Some(run) = &self.run {
                    run.control.cancel.cancel();
                }
            }
            Command::RenderCharts(dir) => {
                tokio::task::spawn_blocking(move || {
                    let outcome = match bridges::render_charts(&dir) {
                        Ok(out) => ChartsState::Done {
                            dir,
                            charts: out.charts,
                            html: out.html,
                            warnings: out.warnings,
                        },
                        Err(error) => ChartsState::Failed { dir, error },
                    };
                    tx.tell_blocking(Action::ChartsRendered(outcome));
                });
            }
            Command::ExportCharts(request) => {
                tokio::task::spawn_blocking(move || {
                    let progress = tx.clone();
                    let on_written = move |path: &std::path::Path| {
                        progress.tell_blocking(Action::ExportWritten(path.to_path_buf()));
                    };
                    let result = crate::app::export::charts_for_tui(&request, &on_written);
                    tx.tell_blocking(Action::ExportFinished(result));
                });
            }
            Command::Bundle { run_id, run_dir, out } => {
                tokio::task::spawn_blocking(move || {
                    let result = crate::app::export::bundle_run(&run_dir, &out)
                        .map(|bundled| bundled.path)
                        .map_err(|e| e.to_string());
                    tx.tell_blocking(Action::BundleFinished { run_id, result });
                });
            }
            Command::OpenHtml(path) => open_with_system(path, tx),
            Command::LoadRunDetail { run_id, dir } => {
                tokio::task::spawn_blocking(move || {
                    // A panic while reading a hostile folder must not leave the view loading.
                    let result = std::panic::catch_unwind(|| super::detail::load(&dir))
                        .unwrap_or_else(|_| Err(format!("reading {} failed unexpectedly", dir.display())));
                    tx.tell_blocking(Action::RunDetailLoaded { run_id, result });
                });
            }
            Command::Compare { left, left_dir, right, right_dir } => {
                tokio::task::spawn_blocking(move || {
                    let result = bridges::compare(&left_dir, &right_dir);
                    tx.tell_blocking(Action::CompareDone { left, right, result });
                });
            }
            Command::Docker(op) => self.docker(op),
            Command::FollowLogs(service) => self.follow_logs(service),
            Command::StopLogs => {
                if let Some(task) = self.logs.take() {
                    task.abort();
                }
            }
            Command::Configure { base_url, body } => {
                tokio::spawn(async move {
                    let reply = match control_for(&base_url) {
                        Ok(control) => control.configure_line(&body).await,
                        Err(e) => Err(e),
                    };
                    tx.tell(Action::ConfigureReply(reply)).await;
                });
            }
            Command::CheckHealth(base_url) => {
                tokio::spawn(async move {
                    let reply = match control_for(&base_url) {
                        Ok(control) => control.health_line().await,
                        Err(e) => Err(e),
                    };
                    tx.tell(Action::HealthReply(reply)).await;
                });
            }
        }
        Flow::Continue
    }

    fn start_run(&mut self, request: RunRequest, metrics: Option<SocketAddr>) {
        let (events_tx, mut events_rx) = mpsc::channel(1024);
        let (snapshots_tx, snapshots_rx) = watch::channel(Snapshot::default());
        let control = RunControl::default();
        let tx = self.tx.clone();
        let run_control = control.clone();
        // A finished run's /metrics may still linger, maybe on the port asked for again:
        // its linger ends now, and the new run binds once it has let the port go.
        let previous = self.run.take().map(|run| {
            run.control.cancel.cancel();
            run.task
        });
        tracing::info!(profile = %request.profile.name, target = %request.target.label(), "starting a run");
        let task = tokio::spawn(async move {
            if let Some(previous) = previous {
                // Bounded: the linger ends on the cancel above; a run still writing gets this long.
                let _ = tokio::time::timeout(PREVIOUS_RUN_GRACE, previous).await;
            }
            let live = match start_metrics(metrics, &events_tx).await {
                Ok(live) => live,
                Err(reason) => return tx.tell(Action::RunEnded(Err(reason))).await,
            };
            let forward_tx = tx.clone();
            let forward = tokio::spawn(async move {
                while let Some(event) = events_rx.recv().await {
                    forward_tx.tell(Action::RunEvent(Box::new(event))).await;
                }
            });
            let series = live.as_ref().and_then(LiveMetrics::series);
            let channels = RunChannels { events: events_tx, snapshots: snapshots_tx, series };
            let linger_stop = run_control.cancel.clone();
            // The run gets its own task so that a panic in it becomes an error shown on screen.
            let outcome = tokio::spawn(experiment::run(request, channels, run_control)).await;
            let _ = forward.await;
            let result = match outcome {
                Ok(Ok((_, dir))) => Ok(dir),
                Ok(Err(err)) => Err(err.to_string()),
                Err(join) => Err(format!("the run crashed ({join}); details are in the log file")),
            };
            if let Err(reason) = &result {
                tracing::error!("run ended with an error: {reason}");
            }
            tx.tell(Action::RunEnded(result)).await;
            // /metrics keeps the final counts for the linger (cut short by quitting or the next run).
            if let Some(live) = live {
                let mut exporters = live.run_ended(linger_stop);
                while exporters.join_next().await.is_some() {}
            }
        });
        self.run = Some(ActiveRun { control, snapshots: snapshots_rx, task });
    }

    fn docker(&mut self, op: DockerOp) {
        let tx = self.tx.clone();
        let slot = self.docker.clone();
        let handle = lock(&slot).clone();
        while self.docker_tasks.try_join_next().is_some() {}
        self.docker_tasks.spawn(async move {
            if op == DockerOp::Connect {
                let result = bridges::connect().await.map(|h| {
                    *lock(&slot) = Some(Arc::new(h));
                });
                tx.tell(Action::DockerConnected(result)).await;
                return;
            }
            let Some(docker) = handle else {
                tx.tell(Action::DockerConnected(Err("not connected to Docker".into()))).await;
                return;
            };
            let done = match op {
                DockerOp::Connect => return,
                DockerOp::Status => {
                    tx.tell(Action::DockerStatus(docker.status().await)).await;
                    return;
                }
                DockerOp::Up { with_localstack } => {
                    let (progress_tx, mut progress_rx) = mpsc::channel::<String>(64);
                    let forward_tx = tx.clone();
                    let forward = tokio::spawn(async move {
                        while let Some(line) = progress_rx.recv().await {
                            // Only the latest progress line is shown: one dropped while the screen is behind loses nothing.
                            let _ = forward_tx.offer(Action::DockerProgress(line));
                        }
                    });
                    let result = docker.up(progress_tx, with_localstack).await;
                    // The forwarder ends with the progress channel; a panic in it lost only progress lines.
                    let _ = forward.await;
                    match result {
                        Ok((text, api_url)) => {
                            tx.tell(Action::EnvApiUp(api_url)).await;
                            Ok(text)
                        }
                        Err(e) => Err(e),
                    }
                }
                DockerOp::Down => docker.down().await,
                DockerOp::Start(service) => docker.start(&service).await,
                DockerOp::Stop(service) => docker.stop(&service).await,
                DockerOp::Restart(service) => docker.restart(&service).await,
            };
            tx.tell(Action::DockerDone(done)).await;
        });
    }

    fn follow_logs(&mut self, service: String) {
        if let Some(task) = self.logs.take() {
            task.abort();
        }
        let tx = self.tx.clone();
        let handle = lock(&self.docker).clone();
        self.logs = Some(tokio::spawn(async move {
            let Some(docker) = handle else {
                tx.tell(Action::LogsEnded(Some("not connected to Docker".into()))).await;
                return;
            };
            let mut stream = match docker.logs(&service).await {
                Ok(stream) => stream,
                Err(reason) => {
                    tx.tell(Action::LogsEnded(Some(reason))).await;
                    return;
                }
            };
            // Lines the screen could not take while it was behind: said once it catches up.
            let mut skipped = 0u64;
            while let Some(line) = stream.next().await {
                match line {
                    Ok(line) => {
                        if skipped > 0
                            && tx.offer(Action::LogLine(format!(
                                "── {skipped} line(s) skipped: the screen was behind"
                            ))) == Offered::Taken
                        {
                            skipped = 0;
                        }
                        match tx.offer(Action::LogLine(line)) {
                            Offered::Taken => {}
                            Offered::Dropped => skipped += 1,
                            Offered::Closed => return,
                        }
                    }
                    Err(reason) => {
                        tx.tell(Action::LogsEnded(Some(reason))).await;
                        return;
                    }
                }
            }
            tx.tell(Action::LogsEnded(None)).await;
        }));
    }

    /// Stops what is still going: aborts an active run and waits (bounded) for its partial
    /// results; ends log streams.
    pub async fn shutdown(mut self) {
        if let Some(task) = self.logs.take() {
            task.abort();
        }
        self.stop_docker_work().await;
        if let Some(run) = self.run.take() {
            if run.task.is_finished() {
                return;
            }
            run.control.cancel.cancel();
            eprintln!("terrafix-tui: stopping the run and writing its partial results…");
            if tokio::time::timeout(RUN_STOP_GRACE, run.task).await.is_err() {
                eprintln!(
                    "terrafix-tui: the run did not stop within {}s; its results may be incomplete",
                    RUN_STOP_GRACE.as_secs()
                );
            }
        }
    }
}

impl Worker {
    /// Cancels Docker work still in flight and waits (bounded) for the cleanup an
    /// interrupted `env up` starts: containers, network and volume it created are removed.
    async fn stop_docker_work(&mut self) {
        while self.docker_tasks.try_join_next().is_some() {}
        if self.docker_tasks.is_empty() {
            return;
        }
        eprintln!("terrafix-tui: cancelling Docker work and removing what it started…");
        self.docker_tasks.abort_all();
        while self.docker_tasks.join_next().await.is_some() {}
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

/// A poisoned lock only means another task panicked mid-assignment of an `Option`; the value is still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A control client for a URL typed in the TUI (http or https, public roots).
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

/// Starts the system opener without waiting for it; a missing opener is reported on screen.
fn open_with_system(path: PathBuf, tx: News) {
    tokio::spawn(async move {
        let child = tokio::process::Command::new("xdg-open")
            .arg(&path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        let reason = match child {
            Err(e) => format!("cannot start xdg-open ({e}); open {} yourself", path.display()),
            Ok(mut child) => match child.wait().await {
                Ok(status) if status.success() => return,
                Ok(status) => format!("xdg-open {} exited with {status}; open it yourself", path.display()),
                Err(e) => format!("xdg-open {}: {e}", path.display()),
            },
        };
        tx.tell(Action::OpenFailed(reason)).await;
    });
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
        let reply = control.health_line().await.unwrap_err();
        let head = server.await.unwrap();
        // base64("user:SECRETpw")
        assert!(head.to_ascii_lowercase().contains("authorization: basic dxnlcjptrunsrvrwdw=="), "{head}");
        assert!(!reply.contains("SECRETpw"), "{reply}");
        let refused = control_for("http://user:SECRETpw@127.0.0.1:99999").err().unwrap_or_default();
        assert!(!refused.contains("SECRETpw"), "{refused}");
    }
}
