//! The whole run: results folder, target, background samplers, phases in order (with
//! pauses), the capacity search, the run-level verdict and the summary on disk.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::control::{ControlClient, server_counters, settings_baseline};
use super::phase_run::{PhaseOutcome, RunContext};
use super::results::{judge, rfc3339};
use super::target::{EmbeddedSampler, EmbeddedServer, unix_now_s};
use super::{Event, PhasePlan, RunChannels, RunControl, RunError, RunRequest, Target, capacity};
use crate::engine::aggregate::Totals;
use crate::engine::http::HttpClient;
use crate::metrics::ServerCounters;
use crate::metrics::summary::{PhaseStatus, RunStatus, RunSummary, SUMMARY_FILE, SUMMARY_SCHEMA_VERSION};
use crate::report::files::{ResourcesWriter, write_summary};

/// How long a request may take before it counts as a timeout.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the target may take to answer `/health` at the start.
const HEALTH_WAIT: Duration = Duration::from_secs(15);

/// A folder name for the run: `<UTC yyyymmdd-HHMMSS>-<profile>`, made unique if taken.
fn create_run_dir(root: &Path, profile: &str) -> Result<(String, PathBuf), RunError> {
    let clean: String = profile
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    let base = format!("{}-{}", Utc::now().format("%Y%m%d-%H%M%S"), clean);
    std::fs::create_dir_all(root)
        .map_err(|source| RunError::OutputFolder { path: root.to_path_buf(), source })?;
    for n in 1..1000 {
        let id = if n == 1 { base.clone() } else { format!("{base}-{n}") };
        let dir = root.join(&id);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok((id, dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(RunError::OutputFolder { path: dir, source }),
        }
    }
    Err(RunError::Other(format!("could not find a free run folder name under {}", root.display())))
}

/// The target, up and reachable, and what keeps it alive.
struct TargetHandle {
    url: url::Url,
    _embedded: Option<EmbeddedServer>,
    sampler: Option<EmbeddedSampler>,
    docker: Option<super::docker_target::DockerHandle>,
}

async fn bring_up(request: &RunRequest, channels: &RunChannels) -> Result<TargetHandle, RunError> {
    let target = &request.target;
    let say = |m: String| {
        let events = channels.events.clone();
        async move {
            let _ = events.send(Event::Environment(m)).await;
        }
    };
    match target {
        Target::Embedded => {
            let server = EmbeddedServer::start()?;
            say(format!("embedded target serving on {}", server.url)).await;
            Ok(TargetHandle {
                url: server.url.clone(),
                _embedded: Some(server),
                sampler: Some(EmbeddedSampler::new()),
                docker: None,
            })
        }
        Target::Url(url) => {
            say(format!("target {url}")).await;
            Ok(TargetHandle { url: url.clone(), _embedded: None, sampler: None, docker: None })
        }
        Target::Docker => {
            let (env, url) = super::docker_target::up(&request.docker, &channels.events).await?;
            Ok(TargetHandle { url, _embedded: None, sampler: None, docker: Some(env) })
        }
    }
}

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
                (None, Some(d)) => super::docker_target::sample(d).await,
                (None, None) => Vec::new(),
            };
            for s in samples {
                if let Some(w) = writer.as_mut()
                    && w.append(&s).is_err()
                {
                    writer = None;
                }
                let _ = events.try_send(Event::Resource(s));
            }
        }
    }))
}

/// Polls `/status` once a second for the live server counters.
fn spawn_status_poller(
    client: ControlClient,
    into: Arc<Mutex<Option<ServerCounters>>>,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = stop.cancelled() => break,
            }
            let counters = client.status().await.map(|s| server_counters(&s));
            if let Ok(mut slot) = into.lock() {
                *slot = counters;
            }
        }
    })
}

pub async fn run(
    request: RunRequest,
    channels: RunChannels,
    control: RunControl,
) -> Result<(RunSummary, PathBuf), RunError> {
    let profile = &request.profile;
    let started_at = SystemTime::now();
    let run_start_unix_s = unix_now_s();
    let (run_id, dir) = create_run_dir(&request.output_root, &profile.name)?;
    let mut target = match bring_up(&request, &channels).await {
        Ok(t) => t,
        Err(e) => {
            // Nothing was measured: an empty run folder would only clutter the results list.
            let _ = std::fs::remove_dir(&dir);
            return Err(e);
        }
    };
    let control_client = ControlClient::new(target.url.clone());
    let mut notes = Vec::new();
    if let Err(e) = control_client.wait_healthy(HEALTH_WAIT).await {
        let note = format!("{e}; the run goes on and counts the errors");
        notes.push(note.clone());
        let _ = channels.events.send(Event::Warning(note)).await;
    }
    let baseline = settings_baseline(control_client.status().await.as_ref());

    let capacity_steps = profile.capacity.as_ref().map(capacity::max_steps).unwrap_or(0);
    let phase_count = profile.phases.len() + capacity_steps;
    let plans = profile
        .phases
        .iter()
        .map(|p| PhasePlan { name: p.name.clone(), suite: p.suite.clone(), planned: p.duration })
        .collect();
    let _ = channels
        .events
        .send(Event::RunStarted {
            run_id: run_id.clone(),
            dir: dir.clone(),
            target_url: target.url.to_string(),
            phases: plans,
        })
        .await;

    let background_stop = CancellationToken::new();
    let server_counters = Arc::new(Mutex::new(None));
    let poller =
        spawn_status_poller(control_client.clone(), server_counters.clone(), background_stop.clone());
    let sampler = spawn_resource_sampler(&mut target, &dir, channels.events.clone(), background_stop.clone());

    let ctx = RunContext {
        dir: dir.clone(),
        client: HttpClient::new(&target.url, REQUEST_TIMEOUT),
        control_client,
        baseline,
        events: channels.events.clone(),
        snapshots: channels.snapshots.clone(),
        server_counters,
        control: control.clone(),
        run_start_unix_s,
        seed: request.seed,
        lockstep_start: profile.lockstep_start,
        phase_count,
    };

    let mut summary = RunSummary {
        schema_version: SUMMARY_SCHEMA_VERSION,
        tool: "terrafix-tui".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        run_id,
        profile: profile.name.clone(),
        description: profile.description.clone(),
        target: request.target.label(),
        target_url: target.url.to_string(),
        seed: request.seed,
        time_scale: request.time_scale,
        started_at: rfc3339(started_at),
        finished_at: String::new(),
        status: RunStatus::Running,
        passed: false,
        experiments: Vec::new(),
        thresholds: Vec::new(),
        capacity: None,
        notes,
    };
    // From here on the folder describes itself: a killed run leaves `running` behind.
    if let Err(e) = write_summary(&dir.join(SUMMARY_FILE), &summary) {
        let _ = channels.events.send(Event::Warning(e.to_string())).await;
    }
    let mut outcomes: Vec<PhaseOutcome> = Vec::new();
    for (index, phase) in profile.phases.iter().enumerate() {
        if control.cancel.is_cancelled() {
            break;
        }
        if index > 0 && !pause(&ctx, profile.pause_between_phases, &phase.name).await {
            break;
        }
        let outcome = ctx.run_phase(index, phase).await;
        note_dead_containers(&target, &mut summary.notes, &ctx.events).await;
        summary.experiments.push(outcome.summary.clone());
        outcomes.push(outcome);
        // A crash later still leaves a valid summary of the phases done so far.
        let _ = write_summary(&dir.join(SUMMARY_FILE), &summary);
    }
    if let Some(search) = &profile.capacity
        && !control.cancel.is_cancelled()
        && (outcomes.is_empty() || pause(&ctx, profile.pause_between_phases, "capacity").await)
    {
        let (steps, report) = capacity::search(&ctx, search, outcomes.len()).await;
        summary.experiments.extend(steps.iter().map(|o| o.summary.clone()));
        outcomes.extend(steps);
        summary.capacity = Some(report);
    }
    background_stop.cancel();
    let _ = poller.await;
    if let Some(s) = sampler {
        let _ = s.await;
    }

    finish(&mut summary, &outcomes, profile, &control);
    write_summary(&dir.join(SUMMARY_FILE), &summary)
        .map_err(|e| RunError::Output { path: e.path.clone(), source: e.source })?;
    super::write_html_summary(&dir, &summary);
    let _ = channels
        .events
        .send(Event::RunFinished { summary: Box::new(summary.clone()), dir: dir.clone() })
        .await;
    Ok((summary, dir))
}

/// Records containers of the Docker target that stopped running (once each).
async fn note_dead_containers(
    target: &TargetHandle,
    notes: &mut Vec<String>,
    events: &tokio::sync::mpsc::Sender<Event>,
) {
    let Some(env) = &target.docker else { return };
    for dead in super::docker_target::dead_services(env).await {
        let note = format!("container {dead} during the run");
        if !notes.contains(&note) {
            notes.push(note.clone());
            let _ = events.send(Event::Warning(note)).await;
        }
    }
}

/// Waits out the pause before `next`; false when the run was cancelled meanwhile.
async fn pause(ctx: &RunContext, duration: Duration, next: &str) -> bool {
    if duration.is_zero() {
        return !ctx.control.cancel.is_cancelled();
    }
    let mut skip = ctx.control.skip.begin();
    let _ = ctx.events.send(Event::Pause { next_phase: next.to_string(), duration }).await;
    tokio::select! {
        _ = tokio::time::sleep(duration) => true,
        _ = skip.skipped() => true,
        _ = ctx.control.cancel.cancelled() => false,
    }
}

/// Status, run-level thresholds and the verdict.
fn finish(
    summary: &mut RunSummary,
    outcomes: &[PhaseOutcome],
    profile: &crate::profile::Profile,
    control: &RunControl,
) {
    summary.finished_at = rfc3339(SystemTime::now());
    summary.status = if control.cancel.is_cancelled()
        || summary.experiments.iter().any(|p| p.status == PhaseStatus::Aborted)
    {
        RunStatus::Aborted
    } else {
        RunStatus::Completed
    };
    let mut all = Totals::default();
    let mut seconds = 0.0;
    for o in outcomes {
        all.latency.merge(&o.all.latency);
        all.requests += o.all.requests;
        all.failures += o.all.failures;
        seconds += o.seconds;
    }
    summary.thresholds = judge("run", &profile.thresholds, &all, seconds);
    let thresholds_pass = summary
        .thresholds
        .iter()
        .chain(summary.experiments.iter().flat_map(|p| p.thresholds.iter()))
        .all(|t| t.passed);
    let errors_ok = !profile.fail_on_request_errors || all.failures == 0;
    summary.passed = summary.status == RunStatus::Completed && thresholds_pass && errors_ok;
}
