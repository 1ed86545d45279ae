//! `terrafix-tui serve`: the mock TerraFix API until SIGINT/SIGTERM (then drains and exits 0).
//! Wiring only: flags/env → `MockConfig`, bind, signal → shutdown future.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context as _;

use super::UsageError;
use crate::cli::ServeArgs;
use crate::mock::{self, FailureMode, MockConfig, ServeOptions, ServerTls};

pub async fn main(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = config_from(&args)?;
    let options = options_from(&args)?;
    let addr = SocketAddr::new(args.bind, args.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}; is another server on that port? try --port"))?;
    // With --port 0 the kernel picks the port: say which one it is.
    let addr = listener.local_addr().unwrap_or(addr);
    tracing::info!(
        "mock TerraFix API on {}://{addr} (latency {} ms, failure rate {}, dedup {})",
        if options.tls.is_some() { "https" } else { "http" },
        config.latency_ms,
        config.failure_rate,
        if config.redis_url.is_some() { "Redis" } else { "in memory" }
    );
    mock::serve_with(listener, config, options, shutdown_signal()).await?;
    tracing::info!("mock TerraFix API stopped");
    Ok(ExitCode::SUCCESS)
}

fn options_from(args: &ServeArgs) -> anyhow::Result<ServeOptions> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            Some(ServerTls::from_pem_files(cert, key).map_err(|e| UsageError(e.to_string()))?)
        }
        _ => None,
    };
    let header_read_timeout = timeout_flag("--header-timeout-s", args.header_timeout_s)?;
    let body_read_timeout = timeout_flag("--body-timeout-s", args.body_timeout_s)?;
    if args.max_connections == Some(0) {
        return Err(UsageError("--max-connections 0: the server needs at least one".into()).into());
    }
    Ok(ServeOptions {
        tls,
        header_read_timeout,
        body_read_timeout,
        max_connections: args.max_connections.unwrap_or_else(mock::default_max_connections),
    })
}

/// A timeout flag's seconds, from 0.1 to 3600.
fn timeout_flag(flag: &str, seconds: f64) -> Result<std::time::Duration, UsageError> {
    if seconds.is_finite() && (0.1..=3600.0).contains(&seconds) {
        Ok(std::time::Duration::from_secs_f64(seconds))
    } else {
        Err(UsageError(format!("{flag} {seconds}: must be from 0.1 to 3600 seconds")))
    }
}

fn config_from(args: &ServeArgs) -> anyhow::Result<MockConfig> {
    let defaults = MockConfig::default();
    let failure_mode = match args.failure_mode.as_deref() {
        None => defaults.failure_mode,
        Some(name) => FailureMode::parse(name).ok_or_else(|| {
            UsageError(format!("--failure-mode {name} is unknown; allowed: {}", FailureMode::NAMES))
        })?,
    };
    let config = MockConfig {
        latency_ms: args.latency_ms.unwrap_or(defaults.latency_ms),
        per_resource_ms: args.per_resource_ms.unwrap_or(defaults.per_resource_ms),
        failure_rate: args.failure_rate.unwrap_or(defaults.failure_rate),
        failure_mode,
        workers: args.workers.unwrap_or(defaults.workers),
        max_concurrent: args.max_concurrent.unwrap_or(defaults.max_concurrent),
        dedup_ttl_s: args.dedup_ttl_s.unwrap_or(defaults.dedup_ttl_s),
        redis_url: redis_url(args.redis_url.as_deref())?,
        ..defaults
    };
    config.validate().map_err(|err| UsageError(format!("serve: {err}")))?;
    Ok(config)
}

/// `--redis-url` checked before anything listens: a URL the Redis client can open
/// (`redis://`, `rediss://`, `valkey://`, `valkeys://` with a host; `redis+unix://`,
/// `valkey+unix://`, `unix://` with a path). The value is never echoed: it may hold a password.
fn redis_url(text: Option<&str>) -> Result<Option<String>, UsageError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    const HOW: &str = "write it as redis://HOST:PORT (rediss:// for TLS, redis+unix:///PATH for a socket)";
    let url = url::Url::parse(text)
        .map_err(|e| UsageError(format!("--redis-url (or REDIS_URL) is not a URL ({e}); {HOW}")))?;
    let usable = match url.scheme() {
        "redis" | "rediss" | "valkey" | "valkeys" => url.host_str().is_some_and(|h| !h.is_empty()),
        "redis+unix" | "valkey+unix" | "unix" => url.path().len() > 1,
        _ => false,
    };
    if usable {
        Ok(Some(text.to_string()))
    } else {
        Err(UsageError(format!(
            "--redis-url (or REDIS_URL): a {}: URL without a host or socket path is not a Redis address; {HOW}",
            url.scheme()
        )))
    }
}

/// Resolves on the first SIGINT (Ctrl-C), SIGTERM (docker stop) or SIGHUP.
async fn shutdown_signal() {
    let stop = super::signals::stop_requested().await;
    tracing::info!("{}: draining in-flight requests", stop.name());
}

#[cfg(test)]
mod tests {
    use super::redis_url;

    #[test]
    fn redis_urls_are_checked_without_echoing_them() {
        for good in ["redis://127.0.0.1:6379", "rediss://h/0", "redis+unix:///run/redis.sock", "valkey://h"] {
            assert_eq!(redis_url(Some(good)).unwrap().as_deref(), Some(good));
        }
        assert_eq!(redis_url(Some("")).unwrap(), None);
        assert_eq!(redis_url(None).unwrap(), None);
        for bad in ["notaurl", "http://h:6379", "redis://", "unix://", "redis//:s3cret@h"] {
            let err = redis_url(Some(bad)).unwrap_err().0;
            assert!(err.contains("--redis-url") && err.contains("redis://HOST:PORT"), "{bad}: {err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
    }
}
