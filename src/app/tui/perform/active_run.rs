//! The active run: starting one (from a request or the new-run form), with its `/metrics`
//! and its events forwarded to the screen, and passing the Run screen's controls on to it.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt as _;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::super::news::News;
use super::{ActiveRun, Worker};
use crate::app::live_metrics::{LiveMetrics, LiveMetricsPlan};
use crate::experiment::{self, RunChannels, RunControl, RunRequest};
use crate::metrics::Snapshot;
use crate::tui::Action;
use crate::tui::action::QuickStart;

/// How long a new run waits for the previous one's task (its /metrics linger, cut short).
const PREVIOUS_RUN_GRACE: Duration = Duration::from_secs(5);

/// What one run's task needs: the run, its channels' ends, and the task of the run before.
struct RunJob {
    request: RunRequest,
    metrics: Option<SocketAddr>,
    control: RunControl,
    events: (mpsc::Sender<experiment::Event>, mpsc::Receiver<experiment::Event>),
    snapshots: watch::Sender<Snapshot>,
    previous: Option<JoinHandle<()>>,
}

impl Worker {
    pub(super) fn start_run(&mut self, request: RunRequest, metrics: Option<SocketAddr>) {
        let (snapshots_tx, snapshots_rx) = watch::channel(Snapshot::default());
        let control = RunControl::default();
        // A finished run's /metrics may still linger, maybe on the port asked for again:
        // its linger ends now, and the new run binds once it has let the port go.
        let previous = self.run.take().map(|run| {
            run.control.cancel.cancel();
            run.task
        });
        tracing::info!(profile = %request.profile.name, target = %request.target.label(), "starting a run");
        let job = RunJob {
            request,
            metrics,
            control: control.clone(),
            events: mpsc::channel(1024),
            snapshots: snapshots_tx,
            previous,
        };
        let tx = self.tx.clone();
        let task = tokio::spawn(async move {
            // A panic outside the run itself (its /metrics, the forwarding) still ends the run on screen.
            if AssertUnwindSafe(drive_run(job, tx.clone())).catch_unwind().await.is_err() {
                let why = "the run's task crashed; details are in the log file".to_string();
                tx.tell(Action::RunEnded(Err(why))).await;
            }
        });
        self.run = Some(ActiveRun { control, snapshots: snapshots_rx, task });
    }

    pub(super) fn start_quick_run(&mut self, start: QuickStart) {
        let QuickStart { choice, seed, output_root, options } = start;
        let loaded = crate::profile::load_quick(
            &choice.quick,
            choice.defined_in.as_deref(),
            self.profiles_dir.as_deref(),
        );
        match loaded {
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
                // This runs on the UI loop, which drains the queue: hand the send to a job.
                let (tx, reason) = (self.tx.clone(), e.to_string());
                let told = async move { tx.tell(Action::RunEnded(Err(reason))).await };
                self.jobs.spawn(told, |why| Action::RunEnded(Err(format!("starting the run {why}"))));
            }
        }
    }

    /// Passes a Run screen control (skip, steer, reset, abort) on to the active run, if any.
    pub(super) fn with_run(&self, act: impl FnOnce(&RunControl)) {
        if let Some(run) = &self.run {
            act(&run.control);
        }
    }
}

/// One run's task: waits for the run before, starts `/metrics`, runs the experiment in a
/// task of its own (so that a panic in it becomes an error on screen), tells its end, and
/// keeps `/metrics` for the linger.
async fn drive_run(job: RunJob, tx: News) {
    let RunJob { request, metrics, control, events: (events_tx, mut events_rx), snapshots, mut previous } =
        job;
    if let Some(task) = previous.as_mut()
        && tokio::time::timeout(PREVIOUS_RUN_GRACE, task).await.is_err()
    {
        // Bounded: the linger ends on the cancel; a run still writing goes on beside this one.
        tracing::warn!(
            "the previous run had not ended within {PREVIOUS_RUN_GRACE:?}; starting the next beside it"
        );
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
    let channels = RunChannels { events: events_tx, snapshots, series };
    let linger_stop = control.cancel.clone();
    let outcome = tokio::spawn(experiment::run(request, channels, control)).await;
    // It ends with the events channel, closed by the run's end; a panic in it lost only events.
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
    if let Some(task) = previous
        && !task.is_finished()
    {
        // Cancelled before this run started, it only finishes writing; its own task told
        // the screen of any failure, so the join has nothing more to say.
        let _ = task.await;
    }
    // /metrics keeps the final counts for the linger (cut short by quitting or the next run).
    if let Some(live) = live {
        let mut exporters = live.run_ended(linger_stop);
        while exporters.join_next().await.is_some() {}
    }
}

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
