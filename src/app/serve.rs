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
        config.redis_url.as_deref().unwrap_or("in memory")
    );
    mock::serve_with(listener, config, options, shutdown_signal()).await?;
    tracing::info!("mock TerraFix API stopped");
    Ok(ExitCode::SUCCESS)
}

fn options_from(args: &ServeArgs) -> anyhow::Result<ServeOptions> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(ServerTls::from_pem_files(cert, key).map_err(UsageError)?),
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
        redis_url: args.redis_url.clone().filter(|url| !url.is_empty()),
        ..defaults
    };
    config.validate().map_err(|err| UsageError(format!("serve: {err}")))?;
    Ok(config)
}

/// Resolves on the first SIGINT (Ctrl-C), SIGTERM (docker stop) or SIGHUP.
async fn shutdown_signal() {
    let stop = super::signals::stop_requested().await;
    tracing::info!("{}: draining in-flight requests", stop.name());
}
