//! Bringing up the target: the embedded mock on its own runtime thread, a URL as given,
//! or the Docker environment. Also the resource sampler for the embedded server, and the
//! one place a target URL's credentials are taken out of it.

use tokio_util::sync::CancellationToken;
use url::Url;

use super::RunError;
use crate::metrics::ResourceSample;

/// Thread-name prefix of the embedded server's runtime; the resource sampler finds its
/// threads by it, so the chart shows the server's CPU and not the generator's.
pub use crate::sys::probe::EMBEDDED_THREAD_NAME;

/// A running embedded mock server; stops when dropped.
pub struct EmbeddedServer {
    /// The base URL it answers on (`http://127.0.0.1:PORT`, an ephemeral port).
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
            // The server drains in-flight requests with a bounded wait, so this join is bounded too;
            // a thread that panicked already stopped serving, and the run counted those errors.
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
    /// A sampler whose first CPU reading covers the time from now.
    pub fn new() -> Self {
        // SAFETY: sysconf only reads a configuration value.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        Self {
            last_ticks: crate::sys::probe::server_thread_ticks(),
            last_at: std::time::Instant::now(),
            clock_ticks_per_s: crate::sys::proc::clock_ticks_per_s(),
            page_bytes: if page > 0 { page as u64 } else { 4096 },
        }
    }

    /// CPU of the server's threads since the previous sample, and the process's resident memory.
    pub fn sample(&mut self) -> ResourceSample {
        let ticks = crate::sys::probe::server_thread_ticks();
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
            timestamp_unix_s: crate::sys::clock::unix_now_s(),
            service: "embedded".into(),
            cpu_percent,
            memory_bytes: rss_pages * self.page_bytes,
        }
    }
}

/// Takes `user:password@` out of `url` and returns them as an `Authorization` value
/// (`Basic base64(user:password)`, the password may be empty, as curl does), so that the
/// URL kept, shown and stored everywhere after this holds no credential.
pub fn take_credentials(url: &mut Url) -> Option<crate::profile::Secret> {
    use base64::Engine as _;
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    let user = percent_decoded(url.username());
    let password = percent_decoded(url.password().unwrap_or(""));
    // Both only fail for URLs that cannot hold credentials (no host), which never get here
    // with any: `Url::parse` puts userinfo only on URLs with a host.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let mut pair = user;
    pair.push(b':');
    pair.extend_from_slice(&password);
    let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
    Some(crate::profile::Secret::new(format!("Basic {encoded}")))
}

/// A URL as it may be shown: a password becomes `***` (`http://user:***@host/`).
pub fn redacted(url: &Url) -> String {
    if url.password().is_none() {
        return url.to_string();
    }
    let mut shown = url.clone();
    // Cannot fail: the URL already holds a password, so it can hold another.
    let _ = shown.set_password(Some("***"));
    shown.to_string()
}

/// `redacted` for text that may not parse as a URL (to quote it in an error): whatever
/// sits between `scheme://user:` and the last `@` of the authority becomes `***`.
pub fn redacted_text(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else { return text.to_string() };
    let authority_start = scheme_end + 3;
    let authority_len = text[authority_start..].find(['/', '?', '#']).unwrap_or(text.len() - authority_start);
    let authority = &text[authority_start..authority_start + authority_len];
    let Some(at) = authority.rfind('@') else { return text.to_string() };
    let Some(colon) = authority[..at].find(':') else { return text.to_string() };
    let user = &authority[..colon];
    format!("{}{user}:***{}", &text[..authority_start], &text[authority_start + at..])
}

/// `%XX` escapes undone (bytes, since a password need not be UTF-8); others kept as they are.
fn percent_decoded(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod credential_tests {
    use super::*;

    #[test]
    fn credentials_leave_the_url_as_a_basic_header() {
        let mut url = Url::parse("http://us%40er:p%3Ass@127.0.0.1:8081/api").unwrap();
        let auth = take_credentials(&mut url).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8081/api");
        // base64("us@er:p:ss")
        assert_eq!(auth.expose(), "Basic dXNAZXI6cDpzcw==");
        assert_eq!(auth.to_string(), "***");
        let mut plain = Url::parse("https://h/").unwrap();
        assert!(take_credentials(&mut plain).is_none());
        let mut user_only = Url::parse("http://bob@h/").unwrap();
        assert_eq!(take_credentials(&mut user_only).unwrap().expose(), "Basic Ym9iOg==");
    }

    #[test]
    fn shown_urls_hide_the_password() {
        let url = Url::parse("http://user:s3cret@h:1/x").unwrap();
        assert_eq!(redacted(&url), "http://user:***@h:1/x");
        assert_eq!(redacted(&Url::parse("http://h/").unwrap()), "http://h/");
        assert_eq!(redacted_text("http://user:s3cret@h:99999/x"), "http://user:***@h:99999/x");
        assert_eq!(redacted_text("http://u:a@b@h/"), "http://u:***@h/");
        assert_eq!(redacted_text("http://h:1/a@b:c"), "http://h:1/a@b:c");
        assert_eq!(redacted_text("not a url"), "not a url");
    }
}
