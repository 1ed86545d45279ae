//! `terrafix-tui run`: a headless experiment. Wiring: profile → overrides → experiment::run
//! with a progress printer on the snapshot watch and an event printer on the mpsc; Ctrl-C
//! cancels (partial results are written); charts render at the end unless --no-charts.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tokio::sync::{mpsc, watch};

use super::console::{self, Console, Mode, Verbosity};
use super::{UsageError, signals};
use crate::cli::RunArgs;
use crate::engine::tls::{ClientTls, TlsTrust};
use crate::experiment::settings::{self, SettingKey};
use crate::experiment::{self, RunChannels, RunControl, RunRequest, Target, TargetOptions};
use crate::metrics::Snapshot;
use crate::metrics::summary::RunSummary;
use crate::profile::{self, Overrides, QuickLoad, QuickRun, RepoSizeChoice};

pub async fn main(args: RunArgs, profiles_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let request = build_request(&args, profiles_dir.as_deref())?;
    super::report::check_ci_flags(args.junit.as_deref(), args.summary_md.as_deref())?;
    let control_settings = super::control::settings(&args)?;
    if args.dry_run {
        print!("{}", plan(&request));
        return Ok(ExitCode::SUCCESS);
    }
    let verbosity = match (args.quiet, args.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, true) => Verbosity::Verbose,
        (false, false) => Verbosity::Normal,
    };
    let live_metrics = super::live_metrics::LiveMetricsPlan::from_args(&args)?.start().await?;
    if let Some(bound) = live_metrics.bound() {
        eprintln!("metrics: http://{bound}/metrics");
    }
    let mut console = Console::stdio(Mode::detect(verbosity));
    console.line(&seed_line(request.seed, args.seed.is_some()));
    let (events_tx, events_rx) = mpsc::channel(1024);
    let (snap_tx, snap_rx) = watch::channel(Snapshot::default());
    let control = RunControl::default();
    // The one writer of the terminal while the run goes; handed back for the summary.
    let api = match control_settings {
        Some(settings) => Some(super::control::start(settings, snap_rx.clone(), control.clone()).await?),
        None => None,
    };
    let events_rx = match &api {
        Some(api) => tee_to_hub(events_rx, api.hub.clone()),
        None => events_rx,
    };
    let follower = tokio::spawn(async move {
        console::follow(&mut console, events_rx, snap_rx).await;
        console
    });
    let channels = RunChannels { events: events_tx, snapshots: snap_tx, series: live_metrics.series() };
    let Some(outcome) =
        run_until_stopped(experiment::run(request, channels, control.clone()), &control, api.as_ref()).await
    else {
        return Ok(ExitCode::from(130));
    };
    let mut console = follower.await?;
    // The final push goes now; /metrics and the control API stay up for the linger while
    // the table and charts are made.
    let linger = live_metrics.linger();
    if live_metrics.bound().is_some() {
        eprintln!("metrics: the final counts stay at /metrics for {} s", linger.as_secs_f64());
    }
    // Never cut short here: a stop signal ends the wait below instead.
    let mut exporters = live_metrics.run_ended(tokio_util::sync::CancellationToken::new());
    if let Some(api) = api {
        api.run_ended(linger, &mut exporters);
    }
    let (summary, dir) = outcome?;

    console.summary(&summary, &dir);
    if !args.no_charts {
        render_charts(&mut console, &dir).await;
    }
    super::report::write_ci_outputs(args.junit.as_deref(), args.summary_md.as_deref(), &summary, &dir);
    // Last, so a glance at the end of the output (or `| tail -1`, or `--quiet`) cannot miss it.
    console.verdict(&console::verdict_line(&summary));
    // Each exporter ends within the linger (the servers) or one push's timeout (the
    // pusher); a stop signal meanwhile ends the wait (dropping the set aborts them).
    tokio::select! {
        () = async { while exporters.join_next().await.is_some() {} } => {}
        _ = signals::stop_requested() => {}
    }
    Ok(exit_code(&summary))
}

/// Events go to the control API's subscribers as they go to the console.
fn tee_to_hub(
    mut events: mpsc::Receiver<experiment::Event>,
    hub: crate::control::Hub,
) -> mpsc::Receiver<experiment::Event> {
    let (tx, out) = mpsc::channel(1024);
    // Ends when the run drops its sender; the console's follower then sees its own end.
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            hub.publish(&event);
            // A console gone early (a second Ctrl-C) must not stop the API's stream.
            let _ = tx.send(event).await;
        }
    });
    out
}

/// Printed before anything else, so a run can be repeated even if it is cut short.
fn seed_line(seed: u64, given: bool) -> String {
    if given {
        format!("seed {seed} (from --seed)")
    } else {
        format!("seed {seed} (random; --seed {seed} repeats the run's requests)")
    }
}

/// Drives the run. First Ctrl-C (or SIGTERM/SIGHUP): stop gracefully and write what was
/// measured; second: quit at once (`None`).
async fn run_until_stopped<F>(
    run: F,
    control: &RunControl,
    api: Option<&super::control::ControlApi>,
) -> Option<F::Output>
where
    F: std::future::Future,
{
    // Watched from before the run starts, so a second signal right after the first counts.
    let mut stops = signals::StopSignals::new();
    // On a terminal the progress line may be up: start below it rather than on it.
    let below = if std::io::IsTerminal::is_terminal(&std::io::stdout()) { "\n" } else { "" };
    tokio::pin!(run);
    tokio::select! {
        outcome = &mut run => Some(outcome),
        stop = stops.next() => {
            eprintln!(
                "{below}{}: stopping the run, writing what was measured (again: quit at once)",
                stop.name()
            );
            control.cancel.cancel();
            if let Some(api) = api {
                api.hub.mark_stopping();
            }
            tokio::select! {
                outcome = &mut run => Some(outcome),
                _ = stops.next() => {
                    eprintln!("{below}quit without waiting: results may be incomplete");
                    None
                }
            }
        }
    }
}

/// A refused setting as `run` says it: the flag, the value and what to write (exit code 2).
fn flag_error(e: settings::SettingError) -> UsageError {
    UsageError(e.for_flag())
}

/// The profile flags as overrides, each typed by clap and checked as the TUI checks the
/// same value typed as text.
fn flag_overrides(args: &RunArgs) -> Result<Overrides, UsageError> {
    let shown = profile::bounds::shown;
    let repo_size = |text: &String| {
        RepoSizeChoice::parse(text).ok_or_else(|| {
            UsageError(format!("--repo-size {text:?}: write one of small, medium, large, mixed"))
        })
    };
    Ok(Overrides {
        time_scale: args
            .time_scale
            .map(|f| settings::time_scale(&shown(f)))
            .transpose()
            .map_err(flag_error)?,
        users: args.users.map(|n| settings::users(&n.to_string())).transpose().map_err(flag_error)?,
        duration: args.duration.as_deref().map(settings::duration).transpose().map_err(flag_error)?,
        phases: args.phases.clone(),
        spawn_rate: args
            .spawn_rate
            .map(|r| settings::spawn_rate(&shown(r)))
            .transpose()
            .map_err(flag_error)?,
        repo_size: args.repo_size.as_ref().map(repo_size).transpose()?,
        server_latency_ms: args.server_latency_ms,
        server_failure_rate: args.server_failure_rate,
    })
}

/// The named profile with the overrides, or the quick run of `--behaviour` built from them.
fn resolve_profile(
    args: &RunArgs,
    profiles_dir: Option<&Path>,
    overrides: &Overrides,
) -> anyhow::Result<profile::Profile> {
    let Some(behaviour) = &args.behaviour else {
        let name = args.profile.as_deref().unwrap_or("smoke");
        return Ok(profile::load(name, profiles_dir)?.with_overrides(overrides)?);
    };
    let load = match args.arrival_rate {
        Some(rate) => QuickLoad::Open { rate, max_in_flight: args.max_in_flight },
        None => QuickLoad::Closed { users: args.users.unwrap_or(1), spawn_rate: overrides.spawn_rate },
    };
    let quick = QuickRun {
        behaviour: behaviour.clone(),
        load,
        duration: overrides.duration.unwrap_or(profile::QUICK_DEFAULT_DURATION),
        repo_size: overrides.repo_size,
        server_latency_ms: args.server_latency_ms,
        server_failure_rate: args.server_failure_rate,
    };
    let quick_profile = profile::load_quick(&quick, args.profile.as_deref(), profiles_dir)
        .map_err(|e| UsageError(e.to_string()))?;
    // The quick run holds the rest: only the time scale and the phase choice apply on top.
    let on_top = Overrides {
        time_scale: overrides.time_scale,
        phases: overrides.phases.clone(),
        ..Default::default()
    };
    Ok(quick_profile.with_overrides(&on_top)?)
}

fn build_request(args: &RunArgs, profiles_dir: Option<&Path>) -> anyhow::Result<RunRequest> {
    let overrides = flag_overrides(args)?;
    let time_scale = overrides.time_scale;
    let profile = resolve_profile(args, profiles_dir, &overrides)?;
    let (target, url_credentials) =
        Target::parse_with_auth(&args.target).map_err(|e| UsageError(e.to_string()))?;
    if args.with_localstack && target != Target::Docker {
        return Err(UsageError(format!(
            "--with-localstack starts LocalStack in the Docker environment: use it with --target docker, not {:?}",
            target.label()
        ))
        .into());
    }
    let docker = crate::experiment::DockerTarget {
        env_id: None,
        options: args
            .with_localstack
            .then(|| crate::docker::UpOptions { with_localstack: true, ..Default::default() }),
    };
    let seed = args.seed.unwrap_or_else(crate::experiment::random_seed);
    let mut target_options = target_options(args, &profile.target)?;
    target_options.add_url_credentials(url_credentials);
    if target_options.http2 && !matches!(&target, Target::Url(u) if u.scheme() == "https") {
        return Err(UsageError(format!(
            "--http2 with --target {}: HTTP/2 is negotiated in the TLS handshake (ALPN), so it needs an \
             https:// URL target; leave --http2 out for http targets (they stay HTTP/1.1)",
            target.label()
        ))
        .into());
    }
    if args.worker_network == crate::cluster::WorkerNetwork::Host && args.distributed.is_none() {
        return Err(UsageError(
            "--worker-network host without --distributed N: the mode is how the workers of a distributed run \
             are wired; add --distributed N or leave --worker-network out"
                .into(),
        )
        .into());
    }
    if !args.source_addrs.is_empty() && args.distributed.is_some() {
        return Err(UsageError(
            "--source-address with --distributed N: the workers connect from their own nodes' addresses; \
             leave --source-address out, or run on this machine without --distributed"
                .into(),
        )
        .into());
    }
    let distributed =
        args.distributed.map(|n| settings::generators(&n.to_string())).transpose().map_err(flag_error)?;
    Ok(RunRequest {
        docker,
        target_options,
        distributed,
        worker_network: args.worker_network,
        profile,
        target,
        output_root: args.output.clone(),
        seed,
        time_scale: time_scale.unwrap_or_default().get(),
    })
}

/// What `--dry-run` prints: the profile after every override, then how the target is
/// reached and changed. Nothing is started or sent.
fn plan(request: &RunRequest) -> String {
    let options = &request.target_options;
    let mut out =
        format!("plan (dry run: nothing is started or sent)\n\n{}", super::profiles::show(&request.profile));
    let target = match &request.target {
        Target::Embedded => "the embedded mock, started in-process on a free loopback port".to_string(),
        Target::Docker => "the Docker environment (brought up or reused), dedup in Redis".to_string(),
        Target::Url(url) => url.to_string(),
    };
    out.push_str(&format!("\ntarget: {target}\n"));
    out.push_str(&format!(
        "timeouts: request {}, connect {}\n",
        profile::format_duration(options.request_timeout),
        profile::format_duration(options.connect_timeout)
    ));
    if matches!(&request.target, Target::Url(u) if u.scheme() == "https") {
        let trust = match &options.tls {
            TlsTrust::PublicRoots => "public roots (webpki-roots)".to_string(),
            TlsTrust::WithCa(path) => format!("public roots and {}", path.display()),
            TlsTrust::Insecure => "NOT VERIFIED (--insecure)".to_string(),
        };
        out.push_str(&format!("TLS: certificates checked against {trust}\n"));
        if options.http2 {
            out.push_str("protocol: HTTP/2 offered in ALPN (HTTP/1.1 if the server does not take it)\n");
        }
    }
    if !options.headers.is_empty() {
        let names: Vec<&str> = options.headers.iter().map(|(n, _)| n.as_str()).collect();
        out.push_str(&format!("headers: {} (values not shown)\n", names.join(", ")));
    }
    out.push_str(if options.configure_target {
        "server settings: each phase's are sent with POST /configure and its stats reset first; \
         the target's own settings are put back after the run\n"
    } else {
        "server settings: none sent (--no-configure / configure_target: false): the target is only loaded\n"
    });
    if let Some(n) = request.distributed {
        out.push_str(&format!(
            "generators: {n} worker tasks of one Docker Swarm service on the {} network, each running its share of every phase \
             (users and rates split, remainders to the lowest workers); results merged by histogram addition\n",
            request.worker_network.as_str()
        ));
    }
    out.push_str(&format!(
        "seed {}, time scale {}, results under {}\n",
        request.seed,
        request.time_scale,
        request.output_root.display()
    ));
    out
}

/// TLS trust, timeouts, headers and `--no-configure`, checked.
fn target_options(args: &RunArgs, from_profile: &profile::TargetSettings) -> anyhow::Result<TargetOptions> {
    let mut options = TargetOptions::from_profile(from_profile);
    if let Some(text) = &args.timeout {
        options.request_timeout = settings::timeout(SettingKey::Timeout, text).map_err(flag_error)?;
    }
    if let Some(text) = &args.connect_timeout {
        options.connect_timeout = settings::timeout(SettingKey::ConnectTimeout, text).map_err(flag_error)?;
    }
    for header in &args.headers {
        let (name, value) = profile::parse_header(header).map_err(UsageError)?;
        options.set_header(name, value);
    }
    options.tls = match (&args.ca_cert, args.insecure) {
        (Some(path), _) => {
            // Read it now: a bad file is a usage error before anything starts.
            ClientTls::new(TlsTrust::WithCa(path.clone()), false).map_err(|e| UsageError(e.to_string()))?;
            TlsTrust::WithCa(path.clone())
        }
        (None, true) => TlsTrust::Insecure,
        (None, false) => TlsTrust::PublicRoots,
    };
    if args.no_configure {
        options.configure_target = false;
    }
    options.http2 = args.http2;
    for ip in &args.source_addrs {
        // Checked now: an address this machine does not have fails every connect of the run.
        // UDP, so that TCP ports all taken (a run before this one) do not make it fail.
        std::net::UdpSocket::bind((*ip, 0)).map_err(|e| {
            UsageError(format!(
                "--source-address {ip}: cannot bind it ({e}); give an address of this machine \
                 (127.0.0.N for a target on 127.0.0.1, `ip -brief address` lists the others)"
            ))
        })?;
    }
    options.source_addrs = args.source_addrs.clone();
    Ok(options)
}

/// Renders every chart and the HTML reports off the async threads.
async fn render_charts<O: std::io::Write, E: std::io::Write>(console: &mut Console<O, E>, dir: &Path) {
    console.line("rendering charts…");
    let run_dir = dir.to_path_buf();
    let rendered = tokio::task::spawn_blocking(move || {
        crate::report::render_all(&run_dir, &crate::report::RenderOptions::default())
    })
    .await;
    match rendered {
        Ok(Ok(outcome)) => {
            for w in &outcome.warnings {
                console.warn(&format!("  warning: {w}"));
            }
            console.line(&format!("  {} charts, {} HTML reports", outcome.charts.len(), outcome.html.len()));
        }
        Ok(Err(e)) => console.warn(&format!(
            "  charts not rendered: {e} (retry with `terrafix-tui charts {}`)",
            dir.display()
        )),
        Err(e) => console.warn(&format!(
            "  chart rendering crashed: {e} (retry with `terrafix-tui charts {}`)",
            dir.display()
        )),
    }
}

fn exit_code(summary: &RunSummary) -> ExitCode {
    if summary.passed { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
