//! Helpers shared by the integration tests: profiles built in code, a run against a
//! target with the snapshots and events collected.
#![allow(dead_code)]

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use terrafix_tui::experiment::{self, DockerTarget, Event, RunChannels, RunControl, RunRequest, Target};
use terrafix_tui::metrics::Snapshot;
use terrafix_tui::metrics::summary::RunSummary;
use terrafix_tui::profile::{
    Behaviour, Load, Phase, Profile, RepoSize, RepoSizeChoice, RequestKind, ServerSettings, Task, Thresholds,
    WaitStrategy,
};

pub fn behaviour(name: &str, wait: WaitStrategy, tasks: &[(u32, RequestKind, &str)]) -> Arc<Behaviour> {
    Arc::new(Behaviour {
        name: name.into(),
        wait,
        tasks: tasks
            .iter()
            .map(|(w, kind, n)| Task {
                weight: NonZeroU32::new(*w).unwrap(),
                kind: kind.clone(),
                name: (*n).into(),
                headers: Vec::new(),
            })
            .collect(),
        retry: None,
    })
}

pub fn webhook_only(name: &str, wait: WaitStrategy) -> Arc<Behaviour> {
    behaviour(name, wait, &[(1, RequestKind::Webhook, "/webhook [test]")])
}

pub fn closed_phase(name: &str, b: Arc<Behaviour>, users: u32, spawn: f64, secs: f64) -> Phase {
    Phase {
        name: name.into(),
        suite: "test".into(),
        description: String::new(),
        behaviour: b,
        load: Load::Closed { users: NonZeroU32::new(users).unwrap(), spawn_rate_per_s: spawn },
        duration: Duration::from_secs_f64(secs),
        repo_size: RepoSizeChoice::Fixed(RepoSize::Small),
        server: ServerSettings { latency_ms: Some(0.0), per_resource_ms: Some(0.0), ..Default::default() },
        thresholds: Thresholds::default(),
        timeouts: Default::default(),
        faults: Vec::new(),
    }
}

pub fn open_phase(name: &str, b: Arc<Behaviour>, rate: f64, max_in_flight: u32, secs: f64) -> Phase {
    Phase {
        load: Load::Open {
            rate_from_per_s: rate,
            rate_to_per_s: rate,
            max_in_flight: NonZeroU32::new(max_in_flight).unwrap(),
        },
        ..closed_phase(name, b, 1, 1.0, secs)
    }
}

pub fn profile(name: &str, phases: Vec<Phase>) -> Profile {
    Profile {
        name: name.into(),
        description: "built by a test".into(),
        source: "test".into(),
        pause_between_phases: Duration::ZERO,
        lockstep_start: false,
        fail_on_request_errors: Default::default(),
        fail_on_invalid: false,
        validity: Default::default(),
        recovery: Default::default(),
        phases,
        thresholds: Thresholds::default(),
        capacity: None,
        target: Default::default(),
    }
}

pub struct Collected {
    pub summary: RunSummary,
    pub dir: PathBuf,
    pub events: Vec<Event>,
    pub snapshots: Vec<Snapshot>,
}

/// Runs `profile` against `target`, collecting every event and snapshot.
pub async fn run_collect(profile: Profile, target: Target, out: &Path, control: RunControl) -> Collected {
    run_collect_with(profile, target, DockerTarget::default(), out, control).await
}

pub async fn run_collect_with(
    profile: Profile,
    target: Target,
    docker: DockerTarget,
    out: &Path,
    control: RunControl,
) -> Collected {
    run_request(test_request(profile, target, docker, out), control).await.expect("the run completes")
}

/// The request every test run uses: seed 7, time scale 1, default target options, one process.
pub fn test_request(profile: Profile, target: Target, docker: DockerTarget, out: &Path) -> RunRequest {
    RunRequest {
        docker,
        profile,
        target,
        output_root: out.to_path_buf(),
        seed: 7,
        time_scale: 1.0,
        target_options: Default::default(),
        distributed: None,
        worker_network: Default::default(),
    }
}

/// Runs a request as built by the caller, collecting every event and snapshot.
pub async fn run_request(
    request: RunRequest,
    control: RunControl,
) -> Result<Collected, experiment::RunError> {
    run_request_watched(request, control, |_| tokio::spawn(async {})).await
}

/// [`run_collect`], with `watch` given the live snapshots as the run publishes them, so a
/// test can act when the run reaches a state (a phase second, a request count) rather than
/// after a guessed sleep. The task `watch` returns is awaited after the run.
pub async fn run_collect_watched(
    profile: Profile,
    target: Target,
    out: &Path,
    control: RunControl,
    watch: impl FnOnce(tokio::sync::watch::Receiver<Snapshot>) -> tokio::task::JoinHandle<()>,
) -> Collected {
    let request = test_request(profile, target, DockerTarget::default(), out);
    run_request_watched(request, control, watch).await.expect("the run completes")
}

/// Waits until a snapshot satisfies `reached` (or the run ends: the sender is gone).
pub async fn until(mut snaps: tokio::sync::watch::Receiver<Snapshot>, reached: impl Fn(&Snapshot) -> bool) {
    while snaps.changed().await.is_ok() {
        if reached(&snaps.borrow_and_update()) {
            return;
        }
    }
}

async fn run_request_watched(
    request: RunRequest,
    control: RunControl,
    watch: impl FnOnce(tokio::sync::watch::Receiver<Snapshot>) -> tokio::task::JoinHandle<()>,
) -> Result<Collected, experiment::RunError> {
    let (events_tx, mut events_rx) = tokio::sync::mpsc::channel(4096);
    let (snap_tx, mut snap_rx) = tokio::sync::watch::channel(Snapshot::default());
    let watcher = watch(snap_tx.subscribe());
    let events_task = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(e) = events_rx.recv().await {
            all.push(e);
        }
        all
    });
    let snaps_task = tokio::spawn(async move {
        let mut all = Vec::new();
        while snap_rx.changed().await.is_ok() {
            all.push(snap_rx.borrow_and_update().clone());
        }
        all
    });
    let (summary, dir) = experiment::run(
        request,
        RunChannels { events: events_tx, snapshots: snap_tx, series: None },
        control,
    )
    .await?;
    watcher.await.expect("the test's watcher");
    Ok(Collected { summary, dir, events: events_task.await.unwrap(), snapshots: snaps_task.await.unwrap() })
}
