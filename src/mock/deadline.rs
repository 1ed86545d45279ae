//! Deadlines for what hyper leaves open: a request body that trickles in (hyper bounds the
//! head, not the body) and an HTTP/2 connection that never sends its preface (hyper's
//! keep-alive pings start only after it). Either would hold one of `--max-connections`'
//! slots for as long as the client liked.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body as AxumBody;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::{Request, StatusCode, header};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};
use tower_service::Service as _;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The router behind a body deadline: each request's body must be in within `timeout` of
/// its head, or the request is answered 408 and its connection closed.
#[derive(Clone)]
pub struct BodyDeadline {
    app: Router,
    timeout: Duration,
}

impl BodyDeadline {
    pub fn new(app: Router, timeout: Duration) -> BodyDeadline {
        BodyDeadline { app, timeout }
    }
}

impl hyper::service::Service<Request<Incoming>> for BodyDeadline {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let (parts, body) = request.into_parts();
        // A request without a body (most GETs) needs no timer and no flag.
        let (body, expired) = if body.is_end_stream() {
            (AxumBody::new(body), None)
        } else {
            let expired = Arc::new(AtomicBool::new(false));
            let timed = TimedBody::new(body, Instant::now() + self.timeout, expired.clone());
            (AxumBody::new(timed), Some(expired))
        };
        let mut app = self.app.clone();
        let timeout = self.timeout;
        Box::pin(async move {
            // A Router is always ready (its poll_ready returns Ready at once), so no poll first.
            let response = app.call(Request::from_parts(parts, body)).await?;
            if expired.is_some_and(|flag| flag.load(Ordering::Relaxed)) {
                return Ok(too_slow(timeout));
            }
            Ok(response)
        })
    }
}

/// 408, and close: the rest of the body may still be on its way, and the slot is wanted.
fn too_slow(timeout: Duration) -> Response {
    let message = format!(
        "the request body did not arrive within {} s of its head; send it faster, \
         or start the mock with a longer serve --body-timeout-s",
        timeout.as_secs_f64()
    );
    (
        StatusCode::REQUEST_TIMEOUT,
        [(header::CONNECTION, "close")],
        axum::Json(serde_json::json!({"success": false, "error": message})),
    )
        .into_response()
}

/// A request body that fails once its deadline has passed, and says so through `expired`.
struct TimedBody<B> {
    inner: B,
    deadline: Instant,
    /// Made on the first wait only: a body that comes with its head never needs a timer.
    sleep: Option<Pin<Box<Sleep>>>,
    expired: Arc<AtomicBool>,
}

impl<B> TimedBody<B> {
    fn new(inner: B, deadline: Instant, expired: Arc<AtomicBool>) -> TimedBody<B> {
        TimedBody { inner, deadline, sleep: None, expired }
    }
}

impl<B> Body for TimedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|result| result.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        this.expired.store(true, Ordering::Relaxed);
        let err = std::io::Error::new(std::io::ErrorKind::TimedOut, "request body timeout");
        Poll::Ready(Some(Err(Box::new(err))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The HTTP/2 client preface (24 bytes) and the head of the SETTINGS frame that must follow
/// it (9 bytes): what a client sends first on an h2 connection (RFC 9113 §3.4).
const H2_OPENING_BYTES: usize = 24 + 9;

/// A connection whose first `H2_OPENING_BYTES` must arrive before a deadline; reads fail
/// with `TimedOut` past it, which ends hyper's HTTP/2 handshake and the connection.
pub struct PrefaceDeadline<S> {
    inner: S,
    awaited: usize,
    deadline: Instant,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<S> PrefaceDeadline<S> {
    pub fn new(inner: S, timeout: Duration) -> PrefaceDeadline<S> {
        PrefaceDeadline { inner, awaited: H2_OPENING_BYTES, deadline: Instant::now() + timeout, sleep: None }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for PrefaceDeadline<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.awaited == 0 {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let before = buf.filled().len();
        if let Poll::Ready(result) = Pin::new(&mut this.inner).poll_read(cx, buf) {
            this.awaited = this.awaited.saturating_sub(buf.filled().len() - before);
            if this.awaited == 0 {
                this.sleep = None;
            }
            return Poll::Ready(result);
        }
        let deadline = this.deadline;
        let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let err = std::io::Error::new(std::io::ErrorKind::TimedOut, "no HTTP/2 connection preface in time");
        Poll::Ready(Err(err))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for PrefaceDeadline<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_silent_h2_connection_fails_its_read_at_the_deadline() {
        let (client, server) = tokio::io::duplex(64);
        let mut guarded = PrefaceDeadline::new(server, Duration::from_secs(3));
        let mut buf = [0u8; 64];
        let started = Instant::now();
        let err = guarded.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        drop(client);
    }

    #[tokio::test(start_paused = true)]
    async fn after_the_opening_bytes_the_connection_may_go_quiet() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut guarded = PrefaceDeadline::new(server, Duration::from_secs(3));
        client.write_all(&[0u8; H2_OPENING_BYTES]).await.unwrap();
        let mut buf = [0u8; 64];
        let mut got = 0;
        while got < H2_OPENING_BYTES {
            got += guarded.read(&mut buf).await.unwrap();
        }
        // Past the deadline, a read still waits for the client instead of failing.
        tokio::time::advance(Duration::from_secs(10)).await;
        client.write_all(b"x").await.unwrap();
        assert_eq!(guarded.read(&mut buf).await.unwrap(), 1);
    }
}
