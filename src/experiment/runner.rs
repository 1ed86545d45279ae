//! The whole run, as the sequence of its steps: pre-flight checks, results folder, target
//! up and reached, background samplers, phases in order (with pauses), the capacity search,
//! the wind-down, the run-level verdict and the summary on disk. Each step lives in the
//! file named for it under `runner/`; this file only puts them in order.

mod background;
mod bring_up;
mod finish;
mod preflight;
mod run_dir;

use std::path::PathBuf;
use std::time::Duration;

use background::Background;
use bring_up::{Prepared, TargetHandle, connection_info, prepare};
use finish::{finish, refused_by_our_mock, wind_down, write_final_summary};
use preflight::{check_faults_fit, check_machine_holds};
use run_dir::{RunStart, save_summary};

use super::phase_run::{PhaseOutcome, RunContext};
use super::results::rfc3339;
use super::{Event, PhasePlan, PlanLoad, RunChannels, RunControl, RunError, RunRequest, capacity};
use crate::metrics::summary::{RunStatus, RunSummary, SUMMARY_SCHEMA_VERSION};

/// How long a request may take before it counts as a timeout.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// One run from its folder to its final summary; each step below says what it adds.
/// Errors before the first phase leave no results folder behind.
pub async fn run(
    request: RunRequest,
    channels: RunChannels,
    control: RunControl,
) -> Result<(RunSummary, PathBuf), RunError> {
    let profile = &request.profile;
    check_faults_fit(profile, &request.target)?;
    check_machine_holds(profile, &request.target)?;
    if let Some(search) = &profile.capacity {
        capacity::check_judgeable(search, request.time_scale).map_err(|e| RunError::Faults(e.to_string()))?;
    }
    super::distributed::check(&request)?;
    let start = RunStart::now(&request.output_root, &profile.name)?;
    if let Some(series) = &channels.series {
        series.send_modify(|s| s.start_run(&start.run_id, &profile.name));
    }
    let mut prepared = prepare(&request, &channels, &start, &control.cancel).await?;
    announce_start(profile, &start, &prepared.target.url, &channels.events).await;
    let background =
        Background::spawn(&mut prepared.target, &prepared.link.control_client, &start, &channels.events);
    let ctx = phase_context(&request, &channels, &control, &start, &prepared, &background);
    let mut summary = initial_summary(&request, &start, &prepared);
    // From here on the folder describes itself: a killed run leaves `running` behind.
    if let Err(e) = save_summary(&start.dir, &summary).await {
        // Fails only when the UI quit; the final write's failure still ends the run with an error.
        let _ = channels.events.send(Event::Warning(e.to_string())).await;
    }
    let mut outcomes = run_phases(&ctx, profile, &prepared.target, &mut summary).await;
    run_capacity_search(&ctx, profile, &mut outcomes, &mut summary).await;
    wind_down(&ctx, prepared.cluster.as_deref(), background, &mut summary).await;
    finish(&mut summary, &outcomes, profile, &control);
    let refused = refused_by_our_mock(
        summary.experiments.iter().map(|p| (p.name.as_str(), p.settings_not_applied.as_slice())),
        &request.target,
        summary.connection.configure_target,
    );
    summary.fail_reasons.extend(refused);
    summary.passed &= summary.fail_reasons.is_empty();
    write_final_summary(summary, start.dir, &channels.events).await
}

/// Tells the UI the run started and which phases it plans.
async fn announce_start(
    profile: &crate::profile::Profile,
    start: &RunStart,
    target_url: &url::Url,
    events: &tokio::sync::mpsc::Sender<Event>,
) {
    let plans = profile
        .phases
        .iter()
        .map(|p| PhasePlan {
            name: p.name.clone(),
            suite: p.suite.clone(),
            planned: p.duration,
            load: PlanLoad::of(&p.load),
        })
        .collect();
    // Fails only when the UI quit; the run goes on and writes its results.
    let _ = events
        .send(Event::RunStarted {
            run_id: start.run_id.clone(),
            dir: start.dir.clone(),
            target_url: target_url.to_string(),
            phases: plans,
        })
        .await;
}

/// What every phase of this run needs, gathered once.
fn phase_context(
    request: &RunRequest,
    channels: &RunChannels,
    control: &RunControl,
    start: &RunStart,
    prepared: &Prepared,
    background: &Background,
) -> RunContext {
    let profile = &request.profile;
    let capacity_steps = profile.capacity.as_ref().map(capacity::max_steps).unwrap_or(0);
    RunContext {
        dir: start.dir.clone(),
        client: prepared.link.client.clone(),
        control_client: prepared.link.control_client.clone(),
        target_settings: prepared.link.target_settings.clone(),
        configure_target: request.target_options.configure_target,
        target_events: background.target_events.clone(),
        events: channels.events.clone(),
        snapshots: channels.snapshots.clone(),
        series: channels.series.clone(),
        server_counters: background.server_counters.clone(),
        control: control.clone(),
        run_start_unix_s: start.unix_s,
        seed: request.seed,
        lockstep_start: profile.lockstep_start,
        phase_count: profile.phases.len() + capacity_steps,
        docker: prepared.target.docker.clone(),
        validity: profile.validity,
        recovery: profile.recovery,
        cluster: prepared.cluster.clone(),
        held: background.held.clone(),
    }
}

/// The summary as it stands before the first phase: `running`, no phases, no verdict.
fn initial_summary(request: &RunRequest, start: &RunStart, prepared: &Prepared) -> RunSummary {
    let profile = &request.profile;
    let options = &request.target_options;
    RunSummary {
        schema_version: SUMMARY_SCHEMA_VERSION,
        tool: "terrafix-tui".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        run_id: start.run_id.clone(),
        profile: profile.name.clone(),
        description: profile.description.clone(),
        target: request.target.label(),
        target_url: prepared.target.url.to_string(),
        seed: request.seed,
        time_scale: request.time_scale,
        started_at: rfc3339(start.started_at),
        finished_at: String::new(),
        status: RunStatus::Running,
        passed: false,
        experiments: Vec::new(),
        thresholds: Vec::new(),
        capacity: None,
        notes: prepared.link.notes.clone(),
        connection: connection_info(
            &prepared.target.url,
            prepared.link.tls.as_ref(),
            options,
            prepared.link.protocol,
        ),
        restore: None,
        distributed: None,
        fail_reasons: Vec::new(),
    }
}

/// The profile's phases in order, with the pause before each but the first; stops early
/// when the run is cancelled.
async fn run_phases(
    ctx: &RunContext,
    profile: &crate::profile::Profile,
    target: &TargetHandle,
    summary: &mut RunSummary,
) -> Vec<PhaseOutcome> {
    let mut outcomes: Vec<PhaseOutcome> = Vec::new();
    for (index, phase) in profile.phases.iter().enumerate() {
        if ctx.control.cancel.is_cancelled() {
            break;
        }
        if index > 0 && !pause(ctx, profile.pause_between_phases, &phase.name).await {
            break;
        }
        let outcome = ctx.run_phase(index, phase).await;
        note_dead_containers(target, &mut summary.notes, &ctx.events).await;
        summary.experiments.push(outcome.summary.clone());
        outcomes.push(outcome);
        // A crash later still leaves a valid summary of the phases done so far.
        // The first write's failure was reported; the final one's ends the run with it.
        let _ = save_summary(&ctx.dir, summary).await;
    }
    outcomes
}

/// The profile's capacity search, after a pause, unless the run was cancelled; its steps
/// count as phases of the run.
async fn run_capacity_search(
    ctx: &RunContext,
    profile: &crate::profile::Profile,
    outcomes: &mut Vec<PhaseOutcome>,
    summary: &mut RunSummary,
) {
    if let Some(search) = &profile.capacity
        && !ctx.control.cancel.is_cancelled()
        && (outcomes.is_empty() || pause(ctx, profile.pause_between_phases, "capacity").await)
    {
        let (steps, report) = capacity::search(ctx, search, outcomes.len()).await;
        summary.experiments.extend(steps.iter().map(|o| o.summary.clone()));
        outcomes.extend(steps);
        summary.capacity = Some(report);
    }
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
            // Kept in the notes; the send fails only when the UI quit.
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
    // Fails only when the UI quit; the pause is waited out all the same.
    let _ = ctx.events.send(Event::Pause { next_phase: next.to_string(), duration }).await;
    tokio::select! {
        _ = tokio::time::sleep(duration) => true,
        _ = skip.skipped() => true,
        _ = ctx.control.cancel.cancelled() => false,
    }
}
