//! The whole run: results folder, target, background samplers, phases in order (with
//! pauses), the capacity search, the run-level verdict and the summary on disk.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::control::{ControlClient, TargetSettings};
use super::phase_run::{ActiveSettings, PhaseOutcome, RunContext};
use super::results::{judge, rfc3339};
use super::target::{EmbeddedSampler, EmbeddedServer};
use super::{Event, PhasePlan, PlanLoad, RunChannels, RunControl, RunError, RunRequest, Target, capacity};
use crate::cluster::Cluster;
use crate::engine::aggregate::Totals;
use crate::engine::http::{ClientOptions, HttpClient};
use crate::engine::tls::{ClientTls, TlsTrust};
use crate::metrics::ServerCounters;
use crate::metrics::summary::{
    ConnectionInfo, PhaseStatus, RunStatus, RunSummary, SUMMARY_FILE, SUMMARY_SCHEMA_VERSION,
};
use crate::report::files::{ResourcesWriter, WriteError, write_summary};
use crate::sys::clock::unix_now_s;

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
    /// The Docker environment's Redis as this process reaches it (distributed runs' transport).
    redis_url: Option<String>,
}

async fn bring_up(request: &RunRequest, channels: &RunChannels) -> Result<TargetHandle, RunError> {
    let target = &request.target;
    let say = |m: String| {
        let events = channels.events.clone();
        async move {
            // Fails only when the UI quit; the run goes on without an audience.
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
                redis_url: None,
            })
        }
        Target::Url(url) => {
            say(format!("target {url}")).await;
            Ok(TargetHandle {
                url: url.clone(),
                _embedded: None,
                sampler: None,
                docker: None,
                redis_url: None,
            })
        }
        Target::Docker => {
            let (env, endpoints) = super::docker_target::up(&request.docker, &channels.events).await?;
            Ok(TargetHandle {
                url: endpoints.api_url,
                _embedded: None,
                sampler: None,
                docker: Some(env),
                redis_url: Some(endpoints.redis_url),
            })
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
                // The row is in resources.csv; a full queue drops only the live sample.
                let _ = events.try_send(Event::Resource(s));
            }
        }
    }))
}

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

/// A run's name and folder, and when it began: the summary's start, and the zero that
/// phase offsets and status notes count from.
struct RunStart {
    run_id: String,
    dir: PathBuf,
    started_at: SystemTime,
    unix_s: f64,
}

impl RunStart {
    fn now(output_root: &Path, profile: &str) -> Result<RunStart, RunError> {
        let started_at = SystemTime::now();
        let unix_s = unix_now_s();
        let (run_id, dir) = create_run_dir(output_root, profile)?;
        Ok(RunStart { run_id, dir, started_at, unix_s })
    }

    /// Nothing was measured: an empty run folder would only clutter the results list.
    fn remove_empty_folder(&self) {
        // The run fails with its own error; an empty folder left behind holds nothing to lose.
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Everything set up before the first phase: the target, how this process talks to it,
/// and the distributed generators.
struct Prepared {
    target: TargetHandle,
    link: Link,
    /// `--distributed N`: the generators that run the phases instead of this process.
    cluster: Option<Arc<Cluster>>,
}

/// Brings up and checks the target, then starts the distributed generators. A failure here
/// means nothing was measured, so it takes the run folder with it.
async fn prepare(
    request: &RunRequest,
    channels: &RunChannels,
    start: &RunStart,
    cancel: &CancellationToken,
) -> Result<Prepared, RunError> {
    let target = bring_up(request, channels).await.inspect_err(|_| start.remove_empty_folder())?;
    let link = connect(request, &target, &channels.events, cancel)
        .await
        .inspect_err(|_| start.remove_empty_folder())?;
    let cluster = super::distributed::start(
        request,
        &start.run_id,
        &target.url,
        target.docker.clone(),
        target.redis_url.clone(),
        &channels.events,
    )
    .await
    .inspect_err(|_| {
        // The run fails with the generators' error; a folder left behind holds no measurement.
        let _ = std::fs::remove_dir_all(&start.dir);
    })?;
    Ok(Prepared { target, link, cluster })
}

/// The clients of a reached target, and what checking it found.
struct Link {
    tls: Option<ClientTls>,
    /// What the TLS check found the server chose; plain http is always HTTP/1.1.
    protocol: &'static str,
    client: HttpClient,
    control_client: ControlClient,
    target_settings: TargetSettings,
    /// Problems met on the way that the run went on despite (the summary's first notes).
    notes: Vec<String>,
}

/// Builds the load and control clients for the target, checks its certificate (an error)
/// and its `/health` (a note), and reads the settings it starts with. A cancelled run stops
/// waiting at once: no phase will run, so nothing here is needed.
async fn connect(
    request: &RunRequest,
    target: &TargetHandle,
    events: &tokio::sync::mpsc::Sender<Event>,
    cancel: &CancellationToken,
) -> Result<Link, RunError> {
    let options = &request.target_options;
    let tls = match target.url.scheme() {
        "https" => Some(
            ClientTls::new(options.tls.clone(), options.http2).map_err(|e| RunError::Tls(e.to_string()))?,
        ),
        _ => None,
    };
    let client_options = ClientOptions {
        request_timeout: options.request_timeout,
        connect_timeout: options.connect_timeout,
        tls: tls.clone(),
        headers: options.headers.clone(),
    };
    let client = HttpClient::with_options(&target.url, &client_options);
    let protocol = match &tls {
        Some(tls) => tokio::select! {
            checked = check_tls(&client, tls, &target.url, options.http2, events) => checked?,
            _ = cancel.cancelled() => "HTTP/1.1",
        },
        None => "HTTP/1.1",
    };
    let control_client = ControlClient::with_options(target.url.clone(), tls.as_ref(), &options.headers)
        .stopped_by(cancel.clone());
    let mut notes = Vec::new();
    for name in tls.as_ref().map(ClientTls::pinned_servers).unwrap_or_default() {
        let note = format!(
            "the certificate of {name} is not signed by a CA in --ca-cert but is itself in that file: trusted as that server's own certificate (pinned)"
        );
        notes.push(note.clone());
        // The note is kept for the summary; the send fails only when the UI quit.
        let _ = events.send(Event::Warning(note)).await;
    }
    if let Err(e) = control_client.wait_healthy(HEALTH_WAIT).await
        && !cancel.is_cancelled()
    {
        let note = format!("{e}; the run goes on and counts the errors");
        notes.push(note.clone());
        // As above: kept in the notes, and the send fails only when the UI quit.
        let _ = events.send(Event::Warning(note)).await;
    }
    let status = if cancel.is_cancelled() { None } else { control_client.status().await };
    let target_settings = TargetSettings::from_status(status.as_ref());
    Ok(Link { tls, protocol, client, control_client, target_settings, notes })
}

/// A certificate problem is a setup error: say what and which flag, before any load.
/// Returns the protocol the server chose in the handshake, and warns where the flags asked
/// for something the server did not give (HTTP/2) or the user should not forget (`--insecure`).
async fn check_tls(
    client: &HttpClient,
    tls: &ClientTls,
    url: &url::Url,
    http2: bool,
    events: &tokio::sync::mpsc::Sender<Event>,
) -> Result<&'static str, RunError> {
    // `None`: no handshake happened (the target is not reachable yet); the run counts those errors.
    let chosen = client.check_tls().await.map_err(RunError::Tls)?;
    if let Some(other) = chosen.filter(|&c| http2 && c != "HTTP/2") {
        // The summary's connection records the protocol; the send fails only when the UI quit.
        let _ = events
            .send(Event::Warning(format!(
                "--http2: {url} chose {other} in the TLS handshake; the run uses {other}"
            )))
            .await;
    }
    if tls.is_insecure() {
        // The summary's connection records `insecure`; the send fails only when the UI quit.
        let _ =
            events.send(Event::Warning(format!("--insecure: the certificate of {url} is NOT checked"))).await;
    }
    Ok(chosen.unwrap_or("HTTP/1.1"))
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

/// The status poller and the resource sampler, which run beside the phases, and the slots
/// they fill for them.
struct Background {
    stop: CancellationToken,
    poller: tokio::task::JoinHandle<()>,
    sampler: Option<tokio::task::JoinHandle<()>>,
    server_counters: Arc<Mutex<Option<ServerCounters>>>,
    target_events: Arc<Mutex<Vec<String>>>,
    /// The running phase's settings, which the poller sends again after a restart.
    held: Arc<Mutex<Option<ActiveSettings>>>,
}

impl Background {
    fn spawn(
        target: &mut TargetHandle,
        control_client: &ControlClient,
        start: &RunStart,
        events: &tokio::sync::mpsc::Sender<Event>,
    ) -> Background {
        let stop = CancellationToken::new();
        let server_counters = Arc::new(Mutex::new(None));
        let target_events = Arc::new(Mutex::new(Vec::new()));
        let held = Arc::new(Mutex::new(None));
        let poller = super::status_poller::spawn(
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
    async fn stop(self) {
        self.stop.cancel();
        // A poller or sampler that panicked loses only its own samples; the run's results stand.
        let _ = self.poller.await;
        if let Some(s) = self.sampler {
            // As for the poller: a panicked sampler loses only its own samples.
            let _ = s.await;
        }
    }
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

/// After the last phase: the generators' report, the samplers stopped, every phase's notes
/// gathered at run level, and the target's settings put back.
async fn wind_down(
    ctx: &RunContext,
    cluster: Option<&Cluster>,
    background: Background,
    summary: &mut RunSummary,
) {
    if let Some(cluster) = cluster {
        for problem in cluster.finish().await {
            // The problem goes into the notes below; the send fails only when the UI quit.
            let _ = ctx.events.send(Event::Warning(problem.clone())).await;
            summary.notes.push(problem);
        }
        summary.distributed = Some(cluster.report());
    }
    background.stop().await;
    for phase in &summary.experiments {
        summary.notes.extend(phase.notes.iter().map(|n| format!("phase {}: {n}", phase.name)));
    }
    if ctx.configure_target && !summary.experiments.is_empty() {
        let report = super::restore::restore_target(ctx).await;
        // A failed restore goes into the notes and the summary's `restore`; the send fails
        // only when the UI quit.
        let _ = ctx.events.send(Event::Environment(report.message.clone())).await;
        if !report.restored {
            summary.notes.push(report.message.clone());
        }
        summary.restore = Some(report);
    }
}

/// The finished summary on disk (failing that fails the run), its HTML page beside it, and
/// the news to the UI.
async fn write_final_summary(
    summary: RunSummary,
    dir: PathBuf,
    events: &tokio::sync::mpsc::Sender<Event>,
) -> Result<(RunSummary, PathBuf), RunError> {
    save_summary(&dir, &summary)
        .await
        .map_err(|e| RunError::Output { path: e.path.clone(), source: e.source })?;
    super::write_html_summary(&dir, &summary);
    // Fails only when the UI quit; the caller gets the summary and folder anyway.
    let _ = events.send(Event::RunFinished { summary: Box::new(summary.clone()), dir: dir.clone() }).await;
    Ok((summary, dir))
}

/// How the run reached its target, for the summary (header values never appear).
fn connection_info(
    url: &url::Url,
    tls: Option<&ClientTls>,
    options: &super::TargetOptions,
    protocol: &str,
) -> ConnectionInfo {
    let tls_text = match tls.map(|t| &t.trust) {
        None => "http".to_string(),
        Some(TlsTrust::PublicRoots) => "https (verified against the public roots)".into(),
        Some(TlsTrust::WithCa(path)) => format!("https (verified, CA from {})", path.display()),
        Some(TlsTrust::Insecure) => format!("https to {url} (INSECURE: certificate not checked)"),
    };
    ConnectionInfo {
        tls: tls_text,
        insecure: tls.is_some_and(ClientTls::is_insecure),
        headers: options.headers.iter().map(|(n, _)| crate::profile::shown_header(n)).collect(),
        request_timeout_s: options.request_timeout.as_secs_f64(),
        connect_timeout_s: options.connect_timeout.as_secs_f64(),
        configure_target: options.configure_target,
        protocol: protocol.to_string(),
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
    summary.fail_reasons.extend(request_error_failures(summary, profile.fail_on_request_errors, &all));
    let valid_ok = !profile.fail_on_invalid
        || summary.experiments.iter().all(|p| p.validity.as_ref().is_none_or(|v| v.is_valid()));
    summary.passed = summary.status == RunStatus::Completed
        && thresholds_pass
        && summary.fail_reasons.is_empty()
        && valid_ok;
}

/// A phase setting our own mock (the embedded or Docker target) did not take fails the run:
/// the tool and its mock share the bounds, so a refusal there is a fault, and the phase ran
/// with other settings than the summary's. A foreign target may know fewer settings: its
/// refusals stay the warnings and notes the phase already carries.
/// `phases`: each phase's name and its settings that did not reach the target.
fn refused_by_our_mock<'a>(
    phases: impl Iterator<Item = (&'a str, &'a [String])>,
    target: &Target,
    configured: bool,
) -> Vec<String> {
    if matches!(target, Target::Url(_)) || !configured {
        return Vec::new();
    }
    phases
        .filter(|(_, refused)| !refused.is_empty())
        .map(|(name, refused)| {
            format!(
                "phase {name}: the {} mock refused the phase's settings ({}), so the phase ran with others",
                target.label(),
                refused.join("; ")
            )
        })
        .collect()
}

/// Why the run's failed requests fail it, under the profile's `fail_on_request_errors`: by
/// default each phase whose every request failed (a run against a dead or refusing target is
/// no PASS, thresholds or not); with `true` any failure; with `false` nothing.
fn request_error_failures(
    summary: &RunSummary,
    policy: crate::profile::RequestErrorPolicy,
    all: &Totals,
) -> Vec<String> {
    use crate::profile::RequestErrorPolicy;
    if policy == RequestErrorPolicy::Never {
        return Vec::new();
    }
    let mut reasons: Vec<String> = summary
        .experiments
        .iter()
        .filter(|p| p.summary.total_requests > 0 && p.summary.failure_count >= p.summary.total_requests)
        .map(|p| {
            format!(
                "every request of phase {} failed ({} of {}); set fail_on_request_errors: false in the \
                 profile if that was the point",
                p.name, p.summary.failure_count, p.summary.total_requests
            )
        })
        .collect();
    if policy == RequestErrorPolicy::AnyFailure && all.failures > 0 && reasons.is_empty() {
        reasons.push(format!(
            "{} of {} requests failed (fail_on_request_errors: true)",
            all.failures, all.requests
        ));
    }
    reasons
}

/// A service fault needs the Docker target; one that is not `optional` refuses the run
/// before anything starts (an optional one is skipped with a note in its report).
fn check_faults_fit(profile: &crate::profile::Profile, target: &Target) -> Result<(), RunError> {
    if matches!(target, Target::Docker) {
        return Ok(());
    }
    for phase in &profile.phases {
        for fault in &phase.faults {
            if let crate::profile::FaultKind::Service { service, action, optional: false } = &fault.kind {
                return Err(RunError::Faults(format!(
                    "phase {}: the fault `{} {service}` needs the Docker target (--target docker), not {}; \
                     add `optional: true` to the fault to skip it on other targets",
                    phase.name,
                    action.as_str(),
                    target.label()
                )));
            }
        }
    }
    Ok(())
}

/// File descriptors kept for everything but the load's connections (logs, files, Docker).
const SPARE_FDS: u64 = 128;
/// A virtual user's memory, generously (its task, connection and buffers).
const BYTES_PER_USER: u64 = 64 << 10;

/// Refuses phases this machine cannot hold: each closed-model user (and each open-model
/// request in flight) keeps a connection — two sockets with the embedded target, which
/// lives in this process — and some memory. The soft file limit is raised to the hard one
/// first, as servers do.
fn check_machine_holds(profile: &crate::profile::Profile, target: &Target) -> Result<(), RunError> {
    use crate::profile::Load;
    let per_connection: u64 = if matches!(target, Target::Embedded) { 2 } else { 1 };
    let Some(worst) = profile
        .phases
        .iter()
        .map(|p| match p.load {
            Load::Closed { users, .. } => (u64::from(users.get()), p.name.as_str(), "users"),
            Load::Open { max_in_flight, .. } => {
                (u64::from(max_in_flight.get()), p.name.as_str(), "max_in_flight")
            }
        })
        .max_by_key(|w| w.0)
    else {
        return Ok(());
    };
    let (count, phase, what) = worst;
    let files = crate::sys::limits::raise_file_limit();
    let needed = count * per_connection + SPARE_FDS;
    if needed > files {
        let most = files.saturating_sub(SPARE_FDS) / per_connection;
        return Err(RunError::Faults(format!(
            "phase {phase}: {what} {count} needs about {needed} open files ({per_connection} per connection{}), \
             but this process may open {files} (ulimit -n); raise the limit (ulimit -n {needed}) or keep {what} \
             at or below {most}",
            if per_connection == 2 { ": the embedded target's side is in this process too" } else { "" }
        )));
    }
    if let Some(available) = crate::sys::limits::available_memory_bytes() {
        let needed = count.saturating_mul(BYTES_PER_USER);
        if needed > available {
            return Err(RunError::Faults(format!(
                "phase {phase}: {what} {count} would need about {} MB of memory and {} MB is available; \
                 keep {what} at or below {}",
                needed >> 20,
                available >> 20,
                available / BYTES_PER_USER
            )));
        }
    }
    Ok(())
}

/// Writes the summary (serialise, write, fsync, rename) on the blocking pool: an fsync on a
/// busy disk must not hold up one of the runtime's worker threads.
async fn save_summary(dir: &std::path::Path, summary: &RunSummary) -> Result<(), WriteError> {
    let path = dir.join(SUMMARY_FILE);
    let (target, copy) = (path.clone(), summary.clone());
    match tokio::task::spawn_blocking(move || write_summary(&target, &copy)).await {
        Ok(result) => result,
        Err(e) => Err(WriteError { path, source: std::io::Error::other(e) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_our_mock_refused_fails_the_run_and_a_foreign_targets_does_not() {
        let refused = vec!["latency_ms=1e300: not applied (POST /configure answered HTTP 400)".to_string()];
        let phases = || [("fast", refused.as_slice()), ("calm", &[][..])].into_iter();
        let ours = refused_by_our_mock(phases(), &Target::Embedded, true);
        assert_eq!(ours.len(), 1, "{ours:?}");
        assert!(ours[0].starts_with("phase fast: the embedded mock refused") && ours[0].contains("HTTP 400"));
        assert_eq!(refused_by_our_mock(phases(), &Target::Docker, true).len(), 1);
        let foreign = Target::Url(url::Url::parse("http://127.0.0.1:9/").unwrap());
        assert!(refused_by_our_mock(phases(), &foreign, true).is_empty(), "a foreign target: a warning only");
        assert!(
            refused_by_our_mock(phases(), &Target::Embedded, false).is_empty(),
            "--no-configure sends none"
        );
    }
}
