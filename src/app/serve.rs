//! `terrafix-tui serve`: the mock TerraFix API until SIGINT/SIGTERM (then drains and exits 0).
//! Wiring only: flags/env → `MockConfig`, bind, signal → shutdown future.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context as _;

use super::UsageError;
use crate::cli::ServeArgs;
use crate::mock::{self, FailureMode, MockConfig};

pub async fn main(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = config_from(&args)?;
    let addr = SocketAddr::new(args.bind, args.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}; is another server on that port? try --port"))?;
    // With --port 0 the kernel picks the port: say which one it is.
    let addr = listener.local_addr().unwrap_or(addr);
    tracing::info!(
        "mock TerraFix API on http://{addr} (latency {} ms, failure rate {}, dedup {})",
        config.latency_ms,
        config.failure_rate,
        config.redis_url.as_deref().unwrap_or("in memory")
    );
    mock::serve(listener, config, shutdown_signal()).await?;
    tracing::info!("mock TerraFix API stopped");
    Ok(ExitCode::SUCCESS)
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
