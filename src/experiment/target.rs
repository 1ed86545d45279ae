//! Bringing up the target: the embedded mock on its own runtime thread, a URL as given,
//! or the Docker environment. Also the resource sampler for the embedded server.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use url::Url;

use super::RunError;
use crate::metrics::ResourceSample;

/// Thread-name prefix of the embedded server's runtime; the resource sampler finds its
/// threads by it, so the chart shows the server's CPU and not the generator's.
pub const EMBEDDED_THREAD_NAME: &str = "tfx-mock";

/// A running embedded mock server; stops when dropped.
pub struct EmbeddedServer {
    pub url: Url,
    stop: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EmbeddedServer {
    /// Binds 127.0.0.1 on a free port and serves the mock on a dedicated 2-thread runtime.
    pub fn start() -> Result<Self, RunError> {
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|e| {
            RunError::Target(format!("cannot bind a loopback port for the embedded target: {e}"))
        })?;
        std_listener
            .set_nonblocking(true)
            .map_err(|e| RunError::Target(format!("cannot configure the embedded target's socket: {e}")))?;
        let addr = std_listener
            .local_addr()
            .map_err(|e| RunError::Target(format!("cannot read the embedded target's address: {e}")))?;
        let url = Url::parse(&format!("http://{addr}/"))
            .map_err(|e| RunError::Target(format!("bad embedded target address {addr}: {e}")))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(EMBEDDED_THREAD_NAME)
            .enable_all()
            .build()
            .map_err(|e| RunError::Target(format!("cannot start the embedded target's runtime: {e}")))?;
        let stop = CancellationToken::new();
        let shutdown = stop.clone().cancelled_owned();
        let thread = std::thread::Builder::new()
            .name(format!("{EMBEDDED_THREAD_NAME}-main"))
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(std_listener) {
                        Ok(listener) => {
                            if let Err(e) =
                                crate::mock::serve(listener, crate::mock::MockConfig::default(), shutdown)
                                    .await
                            {
                                tracing::error!("embedded target stopped: {e}");
                            }
                        }
                        Err(e) => tracing::error!("embedded target cannot use its socket: {e}"),
                    }
                });
            })
            .map_err(|e| RunError::Target(format!("cannot start the embedded target's thread: {e}")))?;
        Ok(Self { url, stop, thread: Some(thread) })
    }
}

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(t) = self.thread.take() {
            // The server drains in-flight requests with a bounded wait, so this join is bounded too.
            let _ = t.join();
        }
    }
}

/// Samples CPU of the embedded server's threads and the process's resident memory.
pub struct EmbeddedSampler {
    last_ticks: u64,
    last_at: std::time::Instant,
    clock_ticks_per_s: f64,
    page_bytes: u64,
}

impl Default for EmbeddedSampler {
    fn default() -> Self {
        Self::new()
    }
}

impl EmbeddedSampler {
    pub fn new() -> Self {
        // SAFETY: sysconf only reads a configuration value.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        Self {
            last_ticks: server_thread_ticks(),
            last_at: std::time::Instant::now(),
            clock_ticks_per_s: clock_ticks_per_s(),
            page_bytes: if page > 0 { page as u64 } else { 4096 },
        }
    }

    pub fn sample(&mut self) -> ResourceSample {
        let ticks = server_thread_ticks();
        let now = std::time::Instant::now();
        let dt = now.duration_since(self.last_at).as_secs_f64().max(1e-3);
        let cpu_percent = ticks.saturating_sub(self.last_ticks) as f64 / self.clock_ticks_per_s / dt * 100.0;
        self.last_ticks = ticks;
        self.last_at = now;
        let rss_pages = std::fs::read_to_string("/proc/self/statm")
            .ok()
            .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
            .unwrap_or(0);
        ResourceSample {
            timestamp_unix_s: unix_now_s(),
            service: "embedded".into(),
            cpu_percent,
            memory_bytes: rss_pages * self.page_bytes,
        }
    }
}

/// utime + stime of every thread whose name starts with the embedded server's prefix.
pub(crate) fn server_thread_ticks() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return 0 };
    let mut total = 0;
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else { continue };
        // Format: pid (comm) state ... ; comm may contain spaces, so split at the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        if !stat[open + 1..close].starts_with(EMBEDDED_THREAD_NAME) {
            continue;
        }
        total += cpu_ticks_after_comm(&stat[close + 1..]);
    }
    total
}

/// utime + stime from the part of a `/proc/…/stat` line after the `(comm)`: state is
/// field 0 there, utime field 11, stime field 12.
pub(crate) fn cpu_ticks_after_comm(rest: &str) -> u64 {
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime = fields.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let stime = fields.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    utime + stime
}

/// Clock ticks per second of `/proc`'s CPU times (100 when the system does not say).
pub(crate) fn clock_ticks_per_s() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as f64 } else { 100.0 }
}

pub fn unix_now_s() -> f64 {
    unix_s(std::time::SystemTime::now())
}

/// Seconds since the epoch (0 for a clock set before 1970).
pub fn unix_s(t: std::time::SystemTime) -> f64 {
    t.duration_since(std::time::UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs_f64()
}
