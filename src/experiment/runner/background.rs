//! What runs beside the phases: the target's status poller and its resource sampler
//! (CPU and memory once a second into events and `resources.csv`), and the slots they fill.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::bring_up::TargetHandle;
use super::run_dir::RunStart;
use crate::experiment::Event;
use crate::experiment::control::ControlClient;
use crate::experiment::phase_run::ActiveSettings;
use crate::metrics::ServerCounters;
use crate::report::files::ResourcesWriter;

/// Samples the target's CPU/memory once a second into events and `resources.csv`.
fn spawn_resource_sampler(
    handle: &mut TargetHandle,
    dir: &Path,
    events: tokio::sync::mpsc::Sender<Event>,
    stop: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    let mut embedded = handle.sampler.take();
    let docker = handle.docker.clone();
    if embedded.is_none() && docker.is_none() {
        return None;
    }
    let path = dir.join(crate::metrics::summary::RESOURCES_FILE);
    Some(tokio::spawn(async move {
        let mut writer = ResourcesWriter::open(&path).ok();
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = stop.cancelled() => break,
            }
            let samples = match (&mut embedded, &docker) {
                (Some(s), _) => vec![s.sample()],
                (None, Some(d)) => crate::experiment::docker_target::sample(d).await,
                (None, None) => Vec::new(),
            };
            for s in samples {
                if let Some(w) = writer.as_mut()
                    && w.append(&s).is_err()
                {
                    writer = None;
                }
                // The row is in resources.csv; a full queue drops only the live sample.
                let _ = events.try_send(Event::Resource(s));
            }
        }
    }))
}

/// The status poller and the resource sampler, which run beside the phases, and the slots
/// they fill for them.
pub(super) struct Background {
    stop: CancellationToken,
    poller: tokio::task::JoinHandle<()>,
    sampler: Option<tokio::task::JoinHandle<()>>,
    pub(super) server_counters: Arc<Mutex<Option<ServerCounters>>>,
    pub(super) target_events: Arc<Mutex<Vec<String>>>,
    /// The running phase's settings, which the poller sends again after a restart.
    pub(super) held: Arc<Mutex<Option<ActiveSettings>>>,
}

impl Background {
    pub(super) fn spawn(
        target: &mut TargetHandle,
        control_client: &ControlClient,
        start: &RunStart,
        events: &tokio::sync::mpsc::Sender<Event>,
    ) -> Background {
        let stop = CancellationToken::new();
        let server_counters = Arc::new(Mutex::new(None));
        let target_events = Arc::new(Mutex::new(Vec::new()));
        let held = Arc::new(Mutex::new(None));
        let poller = crate::experiment::status_poller::spawn(
            control_client.clone(),
            server_counters.clone(),
            target_events.clone(),
            held.clone(),
            start.unix_s,
            stop.clone(),
        );
        let sampler = spawn_resource_sampler(target, &start.dir, events.clone(), stop.clone());
        Background { stop, poller, sampler, server_counters, target_events, held }
    }

    /// Stops both and waits until they are done (the sampler's last row is on disk then).
    pub(super) async fn stop(self) {
        self.stop.cancel();
        // A poller or sampler that panicked loses only its own samples; the run's results stand.
        let _ = self.poller.await;
        if let Some(s) = self.sampler {
            // As for the poller: a panicked sampler loses only its own samples.
            let _ = s.await;
        }
    }
}
