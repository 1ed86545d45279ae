//! `GET /metrics` over HTTP/1.1 on a listener the caller bound; everything else is 404.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::series::LiveSeries;

/// The text format's content type, version 0.0.4.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Serves the latest series until `shutdown`; connections in progress finish first.
pub async fn serve(
    listener: TcpListener,
    series: watch::Receiver<LiveSeries>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(metrics))
        .fallback(|| async { (StatusCode::NOT_FOUND, "only /metrics is served here\n") })
        .with_state(series);
    axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await
}

async fn metrics(
    axum::extract::State(series): axum::extract::State<watch::Receiver<LiveSeries>>,
) -> impl IntoResponse {
    // Families are built under the watch's read lock; the text is rendered after it is let go.
    let families = series.borrow().families();
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], super::text::render(&families))
}
