//! Before the first phase: the target brought up (embedded, Docker or a URL), reached
//! (load and control clients, the TLS check, `/health`, the settings it starts with), and
//! the distributed generators started; and how the run reached it, for the summary.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::run_dir::RunStart;
use crate::cluster::Cluster;
use crate::engine::http::{ClientOptions, HttpClient};
use crate::engine::tls::{ClientTls, TlsTrust};
use crate::experiment::control::{ControlClient, TargetSettings};
use crate::experiment::target::{EmbeddedSampler, EmbeddedServer};
use crate::experiment::{Event, RunChannels, RunError, RunRequest, Target};
use crate::metrics::summary::ConnectionInfo;

/// How long the target may take to answer `/health` at the start.
const HEALTH_WAIT: Duration = Duration::from_secs(15);

/// The target, up and reachable, and what keeps it alive.
pub(super) struct TargetHandle {
    pub(super) url: url::Url,
    _embedded: Option<EmbeddedServer>,
    pub(super) sampler: Option<EmbeddedSampler>,
    pub(super) docker: Option<crate::experiment::docker_target::DockerHandle>,
    /// The Docker environment's Redis as this process reaches it (distributed runs' transport).
    pub(super) redis_url: Option<String>,
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
            let (env, endpoints) =
                crate::experiment::docker_target::up(&request.docker, &channels.events).await?;
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

/// Everything set up before the first phase: the target, how this process talks to it,
/// and the distributed generators.
pub(super) struct Prepared {
    pub(super) target: TargetHandle,
    pub(super) link: Link,
    /// `--distributed N`: the generators that run the phases instead of this process.
    pub(super) cluster: Option<Arc<Cluster>>,
}

/// Brings up and checks the target, then starts the distributed generators. A failure here
/// means nothing was measured, so it takes the run folder with it.
pub(super) async fn prepare(
    request: &RunRequest,
    channels: &RunChannels,
    start: &RunStart,
    cancel: &CancellationToken,
) -> Result<Prepared, RunError> {
    let target = bring_up(request, channels).await.inspect_err(|_| start.remove_empty_folder())?;
    let link = connect(request, &target, &channels.events, cancel)
        .await
        .inspect_err(|_| start.remove_empty_folder())?;
    let cluster = crate::experiment::distributed::start(
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
pub(super) struct Link {
    pub(super) tls: Option<ClientTls>,
    /// What the TLS check found the server chose; plain http is always HTTP/1.1.
    pub(super) protocol: &'static str,
    pub(super) client: HttpClient,
    pub(super) control_client: ControlClient,
    pub(super) target_settings: TargetSettings,
    /// Problems met on the way that the run went on despite (the summary's first notes).
    pub(super) notes: Vec<String>,
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
        source_addrs: options.source_addrs.clone(),
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

/// How the run reached its target, for the summary (header values never appear).
pub(super) fn connection_info(
    url: &url::Url,
    tls: Option<&ClientTls>,
    options: &crate::experiment::TargetOptions,
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
