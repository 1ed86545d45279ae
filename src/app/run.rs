//! `terrafix-tui run`: a headless experiment. Wiring: profile → overrides → experiment::run
//! with a progress printer on the snapshot watch and an event printer on the mpsc; Ctrl-C
//! cancels (partial results are written); charts render at the end unless --no-charts.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::{UsageError, signals};
use crate::cli::RunArgs;
use crate::engine::tls::{ClientTls, TlsTrust};
use crate::experiment::{self, Event, RunChannels, RunControl, RunRequest, Target, TargetOptions};
use crate::metrics::Snapshot;
use crate::metrics::summary::{RunStatus, RunSummary};
use crate::profile::{self, Overrides, QuickLoad, QuickRun, RepoSizeChoice, TimeScale};

pub async fn main(args: RunArgs, profiles_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let request = build_request(&args, profiles_dir.as_deref())?;
    super::report::check_ci_flags(args.junit.as_deref(), args.summary_md.as_deref())?;
    let control_settings = super::control::settings(&args)?;
    if args.dry_run {
        print!("{}", plan(&request));
        return Ok(ExitCode::SUCCESS);
    }
    let (events_tx, events_rx) = mpsc::channel(1024);
    let (snap_tx, snap_rx) = watch::channel(Snapshot::default());
    let control = RunControl::default();
    let api = match control_settings {
        Some(settings) => Some(super::control::start(settings, snap_rx.clone(), control.clone()).await?),
        None => None,
    };

    let printer = tokio::spawn(print_events(events_rx, api.as_ref().map(|a| a.hub.clone())));
    let progress = tokio::spawn(print_progress(snap_rx));
    let channels = RunChannels { events: events_tx, snapshots: snap_tx };
    let cancel = control.cancel.clone();
    // Watched from before the run starts, so a second signal right after the first counts.
    let mut stops = signals::StopSignals::new();
    let run = experiment::run(request, channels, control);
    tokio::pin!(run);
    // First Ctrl-C (or SIGTERM/SIGHUP): stop gracefully and write what was measured.
    // Second: quit at once.
    let outcome = tokio::select! {
        outcome = &mut run => outcome,
        stop = stops.next() => {
            eprintln!(
                "\n{}: stopping the run and writing what was measured (Ctrl-C again to quit at once)",
                stop.name()
            );
            cancel.cancel();
            if let Some(api) = &api {
                api.hub.mark_stopping();
            }
            tokio::select! {
                outcome = &mut run => outcome,
                _ = stops.next() => {
                    eprintln!("quit without waiting: results may be incomplete");
                    return Ok(ExitCode::from(130));
                }
            }
        }
    };
    let _ = printer.await;
    let _ = progress.await;
    if let Some(api) = api {
        api.stop().await;
    }
    let (summary, dir) = outcome?;

    print_table(&summary);
    if !args.no_charts {
        render_charts(&dir).await;
    }
    super::report::write_ci_outputs(args.junit.as_deref(), args.summary_md.as_deref(), &summary, &dir);
    println!("results: {}", dir.display());
    // Last, so a glance at the end of the output (or `| tail -1`) cannot miss it.
    for reason in &summary.fail_reasons {
        println!("FAILED: {reason}");
    }
    Ok(exit_code(&summary))
}

/// The most generator tasks one run asks Swarm for.
const MAX_WORKERS: u32 = 256;

fn build_request(args: &RunArgs, profiles_dir: Option<&Path>) -> anyhow::Result<RunRequest> {
    let time_scale = match args.time_scale {
        Some(f) => Some(TimeScale::new(f).map_err(|e| UsageError(format!("--time-scale: {e}")))?),
        None => None,
    };
    let users = match args.users {
        Some(0) => return Err(UsageError("--users 0: a phase needs at least one user".into()).into()),
        Some(n) => NonZeroU32::new(n),
        None => None,
    };
    let duration = match &args.duration {
        Some(text) => Some(
            profile::parse_duration(text)
                .map_err(|e| UsageError(format!("--duration {text:?}: {e} (examples: 30s, 5m, 1h30m)")))?,
        ),
        None => None,
    };
    let repo_size = match &args.repo_size {
        Some(text) => Some(RepoSizeChoice::parse(text).ok_or_else(|| {
            UsageError(format!("--repo-size {text:?}: write one of small, medium, large, mixed"))
        })?),
        None => None,
    };
    let profile = match &args.behaviour {
        Some(behaviour) => {
            let load = match args.arrival_rate {
                Some(rate) => QuickLoad::Open { rate, max_in_flight: args.max_in_flight },
                None => QuickLoad::Closed { users: args.users.unwrap_or(1), spawn_rate: args.spawn_rate },
            };
            let quick = QuickRun {
                behaviour: behaviour.clone(),
                load,
                duration: duration.unwrap_or(profile::QUICK_DEFAULT_DURATION),
                repo_size,
                server_latency_ms: args.server_latency_ms,
                server_failure_rate: args.server_failure_rate,
            };
            let quick_profile = profile::load_quick(&quick, args.profile.as_deref(), profiles_dir)
                .map_err(|e| UsageError(e.to_string()))?;
            let overrides = Overrides { time_scale, phases: args.phases.clone(), ..Default::default() };
            quick_profile.with_overrides(&overrides)?
        }
        None => {
            let name = args.profile.as_deref().unwrap_or("smoke");
            let overrides = Overrides {
                time_scale,
                users,
                duration,
                phases: args.phases.clone(),
                spawn_rate: args.spawn_rate,
                repo_size,
                server_latency_ms: args.server_latency_ms,
                server_failure_rate: args.server_failure_rate,
            };
            profile::load(name, profiles_dir)?.with_overrides(&overrides)?
        }
    };
    let (target, url_credentials) = Target::parse_with_auth(&args.target).map_err(UsageError)?;
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
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
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
    let distributed = match args.distributed {
        Some(0) => {
            return Err(
                UsageError("--distributed 0: a distributed run needs at least one worker".into()).into()
            );
        }
        Some(n) if n > MAX_WORKERS => {
            return Err(UsageError(format!(
                "--distributed {n}: at most {MAX_WORKERS} workers (each is a Swarm task with its own connections)"
            ))
            .into());
        }
        Some(n) => NonZeroU32::new(n),
        None => None,
    };
    Ok(RunRequest {
        docker,
        target_options,
        distributed,
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
            "generators: {n} worker tasks of one Docker Swarm service, each running its share of every phase \
             (users and rates split, remainders to the lowest workers); results merged by histogram addition\n"
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
    let duration = |flag: &str, text: &str| {
        profile::parse_duration(text)
            .ok()
            .filter(|d| !d.is_zero() && *d <= Duration::from_secs(3600))
            .ok_or_else(|| {
                UsageError(format!("--{flag} {text:?}: write a duration from 1ms to 1h, e.g. 30s"))
            })
    };
    if let Some(text) = &args.timeout {
        options.request_timeout = duration("timeout", text)?;
    }
    if let Some(text) = &args.connect_timeout {
        options.connect_timeout = duration("connect-timeout", text)?;
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
    Ok(options)
}

async fn print_events(mut events: mpsc::Receiver<Event>, hub: Option<crate::control::Hub>) {
    let mut errors_shown = 0usize;
    while let Some(event) = events.recv().await {
        if let Some(hub) = &hub {
            hub.publish(&event);
        }
        match event {
            Event::RunStarted { run_id, dir, target_url, phases } => {
                let total: Duration = phases.iter().map(|p| p.planned).sum();
                eprintln!(
                    "run {run_id}: {} phase(s), {} of load against {target_url}\n  writing to {}",
                    phases.len(),
                    fmt_duration(total),
                    dir.display()
                );
            }
            Event::Environment(m) => eprintln!("  {m}"),
            Event::PhaseStarted { index, name, planned } => {
                eprintln!("▶ phase {} {name} ({})", index + 1, fmt_duration(planned));
            }
            Event::Pause { next_phase, duration } => {
                eprintln!("  pause {} before {next_phase}", fmt_duration(duration))
            }
            Event::PhaseFinished { summary, .. } => {
                eprintln!(
                    "✔ {}: {} requests, {} failures, {:.1} req/s, p50 {:.1} ms, p99 {:.1} ms{}",
                    summary.name,
                    summary.summary.total_requests,
                    summary.summary.failure_count,
                    summary.summary.requests_per_sec,
                    summary.latency_ms.p50,
                    summary.latency_ms.p99,
                    batch_note(summary.batch_items_failed)
                );
                // Right under the phase's line: the live `so far` warning no longer holds.
                if let Some(word) = summary.validity.as_ref().and_then(|v| v.final_word()) {
                    eprintln!("  phase {}: {word}", summary.name);
                }
            }
            Event::RequestError(m) => {
                // The table at the end counts every failure; the log shows the first few.
                if errors_shown < 5 {
                    eprintln!("  ! {m}");
                } else if errors_shown == 5 {
                    eprintln!("  ! (more errors: see the failures CSVs)");
                }
                errors_shown += 1;
            }
            Event::Warning(m) => eprintln!("  warning: {m}"),
            Event::FaultStarted { description, at_s, .. } => {
                eprintln!("  fault at {at_s:.1} s: {description}")
            }
            Event::FaultEnded { description, at_s, .. } => {
                eprintln!("  fault over at {at_s:.1} s: {description}")
            }
            Event::Resource(_) => {}
            Event::PhaseChanged { change, .. } => {
                eprintln!("  changed at {:.1} s: {}", change.at_s, change.describe())
            }
            Event::RunFinished { .. } => {}
        }
    }
}

/// One progress line per second on stderr (a terminal gets it rewritten in place).
async fn print_progress(mut snapshots: watch::Receiver<Snapshot>) {
    use std::io::IsTerminal;
    let tty = std::io::stderr().is_terminal();
    while snapshots.changed().await.is_ok() {
        let s = snapshots.borrow_and_update().clone();
        let line = format!(
            "[{}/{} {} {}/{}] users {} | {:.1} req/s | {:.1} fail/s | p50 {:.1} ms p95 {:.1} ms p99 {:.1} ms | total {} ({} failed)",
            s.phase_index + 1,
            s.phase_count,
            s.phase_name,
            fmt_duration(Duration::from_secs_f64(s.phase_elapsed_s)),
            fmt_duration(Duration::from_secs_f64(s.phase_planned_s)),
            s.users,
            s.rps,
            s.fps,
            s.p50_ms,
            s.p95_ms,
            s.p99_ms,
            s.total_requests,
            s.total_failures
        );
        let line = match s.generator_bound.first() {
            // The first reason is enough on one line; the warning printed at the breach has them all.
            Some(reason) => format!("{line} | ⚠ generator-bound so far: {reason}"),
            None => line,
        };
        if tty { eprint!("\r\x1b[2K{line}") } else { eprintln!("{line}") }
    }
    if tty {
        eprintln!();
    }
}

/// Failed batch items arrive inside HTTP 200 answers: say so beside the failure count.
fn batch_note(items: u64) -> String {
    if items == 0 { String::new() } else { format!(" (+{items} batch items failed inside 200 answers)") }
}

fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

fn print_table(summary: &RunSummary) {
    println!();
    println!(
        "{:<28} {:>9} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>14} {:>10}",
        "phase",
        "requests",
        "failed",
        "success",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "dedup hit/dup",
        "thresholds"
    );
    for p in &summary.experiments {
        let dedup = match p.dedup.server_hits {
            Some(h) => format!("{h}/{}", p.dedup.duplicates_sent),
            None => format!("-/{}", p.dedup.duplicates_sent),
        };
        let thresholds = if p.thresholds.is_empty() {
            "-".to_string()
        } else {
            format!("{}/{} ok", p.thresholds.iter().filter(|t| t.passed).count(), p.thresholds.len())
        };
        println!(
            "{:<28} {:>9} {:>8} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>14} {:>10}",
            p.name,
            p.summary.total_requests,
            p.summary.failure_count,
            crate::metrics::summary::format_success_rate(p.success_rate_percent()),
            p.summary.requests_per_sec,
            p.latency_ms.p50,
            p.latency_ms.p95,
            p.latency_ms.p99,
            dedup,
            thresholds
        );
    }
    for p in &summary.experiments {
        if let Some(line) = p.validity_line() {
            println!("{}: {line}", p.name);
        }
        for line in p.resilience_lines().into_iter().chain(p.detail_lines()) {
            println!("{}: {line}", p.name);
        }
    }
    for p in summary.experiments.iter().filter(|p| p.batch_items_failed > 0) {
        println!(
            "{}: {} batch items failed inside HTTP 200 answers (not in `failed`)",
            p.name, p.batch_items_failed
        );
    }
    for p in &summary.experiments {
        if p.connections.connects > 0 || p.connections.failed > 0 {
            println!(
                "{}: {} connects ({} failed), connect{} p50 {:.1} ms p99 {:.1} ms",
                p.name,
                p.connections.connects,
                p.connections.failed,
                if summary.connection.tls.starts_with("https") { "+TLS" } else { "" },
                p.connections.p50_ms,
                p.connections.p99_ms
            );
        }
        for reason in &p.settings_not_applied {
            println!("{}: server setting {reason}", p.name);
        }
        if p.settings_applied == Some(crate::metrics::summary::SettingsApplied::Partial)
            && let Some(held) = &p.settings_held
        {
            println!(
                "{}: server settings held for {:.0} % of the phase only (the target restarted; see the notes)",
                p.name,
                held.share * 100.0
            );
        }
    }
    if summary.connection.insecure {
        println!("connection: {}", summary.connection.tls);
    }
    if summary.connection.protocol == "HTTP/2" {
        println!("protocol: HTTP/2 (negotiated with ALPN)");
    }
    if let Some(restore) = &summary.restore {
        println!("target: {}", restore.message);
    }
    for t in &summary.thresholds {
        println!(
            "run threshold {}: limit {} actual {:.3} {}",
            t.metric,
            t.limit,
            t.actual,
            if t.passed { "pass" } else { "FAIL" }
        );
    }
    if let Some(c) = &summary.capacity {
        match c.max_sustainable_rps {
            Some(r) => println!(
                "capacity: {r:.1} req/s sustained (p99 ≤ {} ms, errors ≤ {:.1} %)",
                c.p99_limit_ms,
                c.max_error_rate * 100.0
            ),
            None => println!("capacity: even the first step failed the limits"),
        }
        if !c.confidence.is_empty() {
            println!("capacity confidence: {}", c.confidence);
        }
    }
    for note in &summary.notes {
        println!("note: {note}");
    }
    let status = match summary.status {
        RunStatus::Running => "running (not finished)",
        RunStatus::Completed => "completed",
        RunStatus::Aborted => "aborted",
        RunStatus::Failed => "failed",
    };
    println!("status: {status}, {}", if summary.passed { "PASS" } else { "FAIL" });
}

/// Renders every chart and the HTML reports off the async threads.
async fn render_charts(dir: &Path) {
    eprintln!("rendering charts…");
    let run_dir = dir.to_path_buf();
    let rendered = tokio::task::spawn_blocking(move || {
        crate::report::render_all(&run_dir, &crate::report::RenderOptions::default())
    })
    .await;
    match rendered {
        Ok(Ok(outcome)) => {
            for w in &outcome.warnings {
                eprintln!("  warning: {w}");
            }
            eprintln!("  {} charts, {} HTML reports", outcome.charts.len(), outcome.html.len());
        }
        Ok(Err(e)) => {
            eprintln!("  charts not rendered: {e} (retry with `terrafix-tui charts {}`)", dir.display())
        }
        Err(e) => {
            eprintln!("  chart rendering crashed: {e} (retry with `terrafix-tui charts {}`)", dir.display())
        }
    }
}

fn exit_code(summary: &RunSummary) -> ExitCode {
    if summary.passed { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
