//! The connection itself: plain TCP or TLS behind one type, the hyper HTTP/2 connection
//! (HTTP/1.1 is `h1`'s), and `drive`, which polls a step and its connection together so no
//! connection needs a task of its own.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;
use tokio_util::either::Either;

/// Plain TCP or TLS over TCP; one type so the hyper connection stays one type.
pub(super) type Stream = Either<TcpStream, Box<tokio_rustls::client::TlsStream<TcpStream>>>;

pub(super) type H2 = http2::Connection<TokioIo<Stream>, Full<Bytes>, TokioExecutor>;

/// The connection ended (closed or broke) before the awaited step finished.
pub(super) struct ConnectionEnded(pub(super) String);

/// Polls `step` and the connection together, so the connection makes progress without a
/// task of its own.
pub(super) async fn drive<F: Future>(conn: &mut Pin<Box<H2>>, step: F) -> Result<F::Output, ConnectionEnded> {
    let mut step = std::pin::pin!(step);
    poll_fn(|cx| {
        if let Poll::Ready(out) = step.as_mut().poll(cx) {
            return Poll::Ready(Ok(out));
        }
        let ended = match conn.as_mut().poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(())) => "the server closed the connection".to_string(),
            Poll::Ready(Err(e)) => describe(&e),
        };
        // The connection may have delivered the step's last bytes just before it ended (a
        // GOAWAY right after the answer): give the step one more look before calling it lost.
        match step.as_mut().poll(cx) {
            Poll::Ready(out) => Poll::Ready(Ok(out)),
            Poll::Pending => Poll::Ready(Err(ConnectionEnded(ended))),
        }
    })
    .await
}

pub(super) fn describe(e: &dyn std::error::Error) -> String {
    // The innermost cause ("connection reset by peer") says more than the outer wrapper.
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

/// The server chose HTTP/2 in the TLS handshake (offered only with `--http2`).
pub(super) fn negotiated_h2(stream: &Stream) -> bool {
    match stream {
        Either::Left(_) => false,
        Either::Right(tls) => tls.get_ref().1.alpn_protocol() == Some(b"h2".as_slice()),
    }
}
