//! The connection itself: plain TCP or TLS, the hyper HTTP/1.1 or HTTP/2 halves behind one
//! type each, and `drive`, which polls a step and its connection together so no connection
//! needs a task of its own.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;
use tokio_util::either::Either;

/// Plain TCP or TLS over TCP; one type so the hyper connection stays one type.
pub(super) type Stream = Either<TcpStream, Box<tokio_rustls::client::TlsStream<TcpStream>>>;

pub(super) type H1 = http1::Connection<TokioIo<Stream>, Full<Bytes>>;
pub(super) type H2 = http2::Connection<TokioIo<Stream>, Full<Bytes>, TokioExecutor>;

/// The sending half of a connection, HTTP/1.1 or HTTP/2.
pub(super) enum Sender {
    H1(http1::SendRequest<Full<Bytes>>),
    H2(http2::SendRequest<Full<Bytes>>),
}

/// The connection half, which must be polled for anything to move.
pub(super) enum Wire {
    H1(Pin<Box<H1>>),
    H2(Pin<Box<H2>>),
}

impl Future for Wire {
    type Output = hyper::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Wire::H1(c) => c.as_mut().poll(cx),
            Wire::H2(c) => c.as_mut().poll(cx),
        }
    }
}

impl Sender {
    pub(super) fn is_closed(&self) -> bool {
        match self {
            Sender::H1(s) => s.is_closed(),
            Sender::H2(s) => s.is_closed(),
        }
    }

    pub(super) async fn ready(&mut self) -> hyper::Result<()> {
        match self {
            Sender::H1(s) => s.ready().await,
            Sender::H2(s) => s.ready().await,
        }
    }

    pub(super) fn send(
        &mut self,
        request: hyper::Request<Full<Bytes>>,
    ) -> impl Future<Output = hyper::Result<hyper::Response<hyper::body::Incoming>>> + use<> {
        match self {
            Sender::H1(s) => Either::Left(s.send_request(request)),
            Sender::H2(s) => Either::Right(s.send_request(request)),
        }
    }
}

pub(super) struct Live {
    pub(super) sender: Sender,
    pub(super) conn: Wire,
}

/// The connection ended (closed or broke) before the awaited step finished.
pub(super) struct ConnectionEnded(pub(super) String);

/// Polls `step` and the connection together, so the connection makes progress without a
/// task of its own.
pub(super) async fn drive<F: Future>(conn: &mut Wire, step: F) -> Result<F::Output, ConnectionEnded> {
    let mut step = std::pin::pin!(step);
    poll_fn(|cx| {
        if let Poll::Ready(out) = step.as_mut().poll(cx) {
            return Poll::Ready(Ok(out));
        }
        let ended = match Pin::new(&mut *conn).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Ok(())) => "the server closed the connection".to_string(),
            Poll::Ready(Err(e)) => describe(&e),
        };
        // The connection may have delivered the step's last bytes just before it ended
        // (a `Connection: close` answer): give the step one more look before calling it lost.
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
