//! `run --metrics-listen` and `--prometheus-remote-write`: the series channel the run feeds,
//! the `/metrics` server and the pusher, and how long they outlive the run.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::UsageError;
use crate::cli::RunArgs;
use crate::prometheus::{LiveSeries, Pusher};

/// `--metrics-linger`'s default and its ceiling.
const DEFAULT_LINGER: Duration = Duration::from_secs(5);
const MAX_LINGER: Duration = Duration::from_secs(60);

/// What the flags asked for, checked before anything starts.
pub struct LiveMetricsPlan {
    listen: Option<SocketAddr>,
    linger: Duration,
    remote_write: Option<Url>,
}

/// The running exporters; `None` parts were not asked for.
pub struct LiveMetrics {
    series: Option<watch::Sender<LiveSeries>>,
    tasks: JoinSet<()>,
    serve_stop: CancellationToken,
    push_stop: CancellationToken,
    linger: Duration,
    /// Where `/metrics` is served, when it is.
    bound: Option<SocketAddr>,
}

impl LiveMetricsPlan {
    pub fn from_args(args: &RunArgs) -> Result<LiveMetricsPlan, UsageError> {
        let listen = match &args.metrics_listen {
            Some(text) => Some(listen_address(text, args.metrics_allow_public)?),
            None => None,
        };
        if args.metrics_linger.is_some() && args.metrics_listen.is_none() && args.control.is_none() {
            return Err(UsageError(
                "--metrics-linger keeps /metrics or the control API up after the run: give it with \
                 --metrics-listen ADDR or --control ADDR"
                    .into(),
            ));
        }
        let linger = match &args.metrics_linger {
            Some(text) => {
                crate::profile::parse_duration(text).ok().filter(|d| *d <= MAX_LINGER).ok_or_else(|| {
                    UsageError(format!("--metrics-linger {text:?}: write a duration from 0s to 60s, e.g. 5s"))
                })?
            }
            None => DEFAULT_LINGER,
        };
        let remote_write = match &args.prometheus_remote_write {
            Some(text) => Some(remote_write_url(text)?),
            None => None,
        };
        Ok(LiveMetricsPlan { listen, linger, remote_write })
    }

    /// `/metrics` on `addr` with the default linger: the TUI's `metrics` run setting
    /// (checked there: a loopback address).
    pub fn listen(addr: SocketAddr) -> LiveMetricsPlan {
        LiveMetricsPlan { listen: Some(addr), linger: DEFAULT_LINGER, remote_write: None }
    }

    /// Binds the listener (a taken port is a usage error) and starts what was asked for.
    /// Prints nothing: the caller says where `/metrics` is ([`LiveMetrics::bound`]).
    pub async fn start(self) -> Result<LiveMetrics, UsageError> {
        let mut live = LiveMetrics {
            series: None,
            tasks: JoinSet::new(),
            serve_stop: CancellationToken::new(),
            push_stop: CancellationToken::new(),
            linger: self.linger,
            bound: None,
        };
        if self.listen.is_none() && self.remote_write.is_none() {
            return Ok(live);
        }
        let (tx, rx) = watch::channel(LiveSeries::default());
        live.series = Some(tx);
        if let Some(addr) = self.listen {
            let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
                UsageError(format!(
                    "--metrics-listen {addr}: cannot listen there ({e}); pick a free port, or port 0 for any"
                ))
            })?;
            live.bound = Some(listener.local_addr().unwrap_or(addr));
            let stop = live.serve_stop.clone();
            let series = rx.clone();
            live.tasks.spawn(async move {
                if let Err(e) = crate::prometheus::serve(listener, series, stop).await {
                    eprintln!("  note: /metrics stopped serving: {e}");
                }
            });
        }
        if let Some(url) = self.remote_write {
            let pusher =
                Pusher::new(url).map_err(|e| UsageError(format!("--prometheus-remote-write: {e}")))?;
            let stop = live.push_stop.clone();
            live.tasks.spawn(pusher.run(rx, stop, |e| {
                eprintln!("  note: Prometheus remote write failed (the run goes on; later failures are not shown): {e}")
            }));
        }
        Ok(live)
    }
}

impl LiveMetrics {
    /// How long what serves the run outlives it (`--metrics-linger`); the control API
    /// lingers as long.
    pub fn linger(&self) -> Duration {
        self.linger
    }

    /// The address `/metrics` is served on (port 0 resolved), when it is.
    pub fn bound(&self) -> Option<SocketAddr> {
        self.bound
    }

    /// The sender the run feeds, when any exporter is on.
    pub fn series(&self) -> Option<watch::Sender<LiveSeries>> {
        self.series.clone()
    }

    /// The run is over: push once more now, keep `/metrics` up for the linger (or until
    /// `cut_short` is cancelled). Returns a handle to await before exit (it ends within the
    /// linger); once it has, the port is free again.
    pub fn run_ended(mut self, cut_short: CancellationToken) -> JoinSet<()> {
        self.push_stop.cancel();
        if self.bound.is_some() {
            let (stop, linger) = (self.serve_stop.clone(), self.linger);
            self.tasks.spawn(async move {
                tokio::select! {
                    () = tokio::time::sleep(linger) => {}
                    () = cut_short.cancelled() => {}
                }
                stop.cancel();
            });
        }
        self.tasks
    }
}

fn listen_address(text: &str, allow_public: bool) -> Result<SocketAddr, UsageError> {
    let addr: SocketAddr = text.parse().map_err(|_| {
        UsageError(format!(
            "--metrics-listen {text:?}: write an address with a port, e.g. 127.0.0.1:9464 or [::1]:9464"
        ))
    })?;
    if !addr.ip().is_loopback() && !allow_public {
        return Err(UsageError(format!(
            "--metrics-listen {addr}: not a loopback address; /metrics has no authentication, so add \
             --metrics-allow-public to serve it there on purpose, or use 127.0.0.1:{}",
            addr.port()
        )));
    }
    Ok(addr)
}

fn remote_write_url(text: &str) -> Result<Url, UsageError> {
    let shown = crate::experiment::target::redacted_text(text);
    let url = Url::parse(text).map_err(|e| {
        UsageError(format!(
            "--prometheus-remote-write {shown:?}: not a URL ({e}); e.g. http://127.0.0.1:9090/api/v1/write"
        ))
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(UsageError(format!(
            "--prometheus-remote-write {shown}: the URL must start with http:// or https://"
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_unless_allowed() {
        assert!(listen_address("127.0.0.1:0", false).is_ok());
        assert!(listen_address("[::1]:9464", false).is_ok());
        let refused = listen_address("0.0.0.0:9464", false).err().map(|e| e.0).unwrap_or_default();
        assert!(refused.contains("--metrics-allow-public"), "{refused}");
        assert!(listen_address("0.0.0.0:9464", true).is_ok());
        let bad = listen_address("localhost", false).err().map(|e| e.0).unwrap_or_default();
        assert!(bad.contains("127.0.0.1:9464"), "{bad}");
    }

    #[test]
    fn remote_write_wants_http() {
        assert!(remote_write_url("http://127.0.0.1:9090/api/v1/write").is_ok());
        assert!(remote_write_url("ftp://x/").is_err());
        let shown = remote_write_url("nope").err().map(|e| e.0).unwrap_or_default();
        assert!(shown.contains("e.g. http://"), "{shown}");
    }
}
