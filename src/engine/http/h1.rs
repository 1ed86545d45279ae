//! HTTP/1.1 on one keep-alive connection, written for the load generator: the request's
//! bytes are built into a buffer the connection keeps, the answer is read into another and
//! parsed with httparse. No dispatch channel, no second state machine and no allocation per
//! request; hyper drives HTTP/2 only (`wire`).
//!
//! The request is written while the answer is read (both in the same poll), so a server
//! that answers early (a 413 before the body is in) is heard, and one that writes its
//! answer before reading the request cannot deadlock against us.
//!
//! What a demanding server may send is handled: `Content-Length` (a list of equal values
//! too), `chunked` (extensions, trailers, bare-LF line ends), bodies delimited by the
//! connection's close (over TLS also without close_notify), 1xx interim answers, `204`/`304`
//! without a body, `Connection: close`, HTTP/1.0's default of closing, obs-fold and up to
//! [`HEADERS`] headers. Framing that RFC 9112 calls faulty closes the connection after the
//! answer. Only the first [`KEPT_BODY`] bytes of a body are kept (the scans need no more);
//! the rest is counted. `docs/targets.md` (its HTTP/1.1 section) lists what is accepted and refused.

use std::future::poll_fn;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::framing::{Framing, Head, chunk_size};
use super::wire::Stream;

/// Bytes of a body kept for the scans (`scan_body` looks for a duplicate only in bodies
/// shorter than this).
pub(super) const KEPT_BODY: usize = 4096;
/// The response head may not grow past this.
const MAX_HEAD: usize = 64 * 1024;
/// A chunk-size or trailer line may not grow past this.
const MAX_LINE: usize = 4096;
/// Headers an answer may have (hyper's default is 100); more is a head too large.
const HEADERS: usize = 128;
/// The read buffer a connection starts with and returns to when it goes idle after larger
/// answers: most answers to a load test (head and body) fit, and an idle connection holds
/// no more (10,000 users each holding 8 KiB was a third of the generator's memory).
const INITIAL_READ: usize = 1024;
/// Reads that keep filling the buffer grow it up to this, so a long body is read in large
/// pieces.
const READ_CHUNK: usize = 8 * 1024;
/// A kept body's capacity past this is given back after the answer.
const KEPT_IDLE: usize = 1024;

/// One HTTP/1.1 connection: the stream and its two buffers. Generic over the stream only so
/// that `read_answers` can feed it from memory.
pub(super) struct H1<S = Stream> {
    stream: S,
    /// Bytes read and not yet consumed are `read[start..end]`.
    read: Box<[u8]>,
    start: usize,
    end: usize,
    /// The last read filled all the room it had: more is coming, read bigger pieces.
    read_was_full: bool,
    /// The request being sent (kept for its capacity).
    pub(super) write: Vec<u8>,
    /// How much of `write` went out, and whether it all did (flushed) or failed.
    sent: usize,
    sending: Sending,
    /// The first [`KEPT_BODY`] bytes of the last answer's body.
    body: Vec<u8>,
}

/// The parts of an answer the client looks at.
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) retry_after: Option<Duration>,
    /// The server closes the connection after this answer.
    pub(super) closing: bool,
    /// The body's whole length.
    pub(super) body_len: u64,
}

/// Why an exchange failed: before any byte of the answer arrived, or during it, or because
/// the answer's head was over [`MAX_HEAD`] or [`HEADERS`].
pub(super) enum Broken {
    Head(String),
    HeadTooLarge(String),
    Body(String),
}

/// Where the writing of the request stands.
#[derive(Clone, Debug, PartialEq)]
enum Sending {
    Writing,
    Done,
    Failed(String),
}

impl<S: AsyncRead + AsyncWrite + Unpin> H1<S> {
    pub(super) fn new(stream: S) -> H1<S> {
        H1 {
            stream,
            read: vec![0; INITIAL_READ].into_boxed_slice(),
            start: 0,
            end: 0,
            read_was_full: false,
            write: Vec::with_capacity(1024),
            sent: 0,
            sending: Sending::Done,
            body: Vec::new(),
        }
    }

    /// The read buffer's size now (tests: it grows and shrinks).
    #[cfg(test)]
    pub(super) fn read_capacity(&self) -> usize {
        self.read.len()
    }

    /// The body kept of the last answer (at most [`KEPT_BODY`] bytes).
    pub(super) fn body(&self) -> &[u8] {
        &self.body
    }

    /// Gives back what large answers grew, once the connection goes idle: an idle
    /// connection keeps an [`INITIAL_READ`] buffer (bytes still buffered are kept) and no
    /// more than [`KEPT_IDLE`] of body.
    pub(super) fn settle(&mut self) {
        let held = self.end - self.start;
        if self.read.len() > INITIAL_READ && held <= INITIAL_READ {
            let mut small = vec![0; INITIAL_READ].into_boxed_slice();
            small[..held].copy_from_slice(&self.read[self.start..self.end]);
            self.read = small;
            self.start = 0;
            self.end = held;
        }
        self.read_was_full = false;
        if self.body.capacity() > KEPT_IDLE {
            self.body = Vec::new();
        }
    }

    /// Whether an idle connection can still take a request: the server may have closed it
    /// meanwhile (an idle timeout). Costs no system call while nothing arrived: the
    /// runtime knows the socket has not become readable.
    pub(super) async fn idle_check(&mut self) -> Result<(), String> {
        if self.end > self.start {
            return Err("the server sent bytes nobody asked for".into());
        }
        let mut probe = [0u8; 1];
        std::future::poll_fn(|cx| {
            let mut buf = ReadBuf::new(&mut probe);
            Poll::Ready(match Pin::new(&mut self.stream).poll_read(cx, &mut buf) {
                Poll::Pending => Ok(()),
                Poll::Ready(Ok(())) if buf.filled().is_empty() => {
                    Err("the server closed the connection".to_string())
                }
                Poll::Ready(Ok(())) => Err("the server sent bytes nobody asked for".to_string()),
                Poll::Ready(Err(e)) => Err(e.to_string()),
            })
        })
        .await
    }

    /// Writes the request in `self.write` and reads its whole answer; the writing goes on
    /// while the answer is read (see [`H1::fill`]).
    pub(super) async fn exchange(&mut self) -> Result<Answer, Broken> {
        self.sent = 0;
        self.sending = Sending::Writing;
        let head = loop {
            let head = match self.read_head().await {
                Ok(head) => head,
                Err(HeadError::TooLarge(m)) => return Err(Broken::HeadTooLarge(m)),
                Err(HeadError::Other(m)) => return Err(Broken::Head(self.with_write_error(m))),
            };
            // Interim answers (100 Continue, 103 Early Hints) precede the real one.
            if (100..200).contains(&head.status) && head.status != 101 {
                continue;
            }
            break head;
        };
        if head.status == 101 {
            return Err(Broken::Head(
                "the server switched protocols (101), which a load test does not".into(),
            ));
        }
        self.body.clear();
        // 204 and 304 have no body whatever their headers say (RFC 9112 §6.3).
        let bodiless = head.status == 204 || head.status == 304;
        let body_len = match head.framing {
            _ if bodiless => Ok(0),
            Framing::Length(n) => self.read_exact_body(n).await,
            Framing::Chunked => self.read_chunked().await,
            Framing::Close => self.read_to_close().await,
        }
        .map_err(Broken::Body)?;
        Ok(Answer {
            status: head.status,
            retry_after: head.retry_after,
            // A body that ends at the close leaves nothing to reuse, and neither does an
            // answer that came before the whole request went out (the server would take the
            // rest of the body for the next request).
            closing: head.closing
                || (!bodiless && matches!(head.framing, Framing::Close))
                || self.sending != Sending::Done,
            body_len,
        })
    }

    /// A failure to read an answer, with why the request could not be written when that
    /// happened too (the reset that ended both is then named).
    fn with_write_error(&self, message: String) -> String {
        match &self.sending {
            Sending::Failed(e) => format!("{message} (writing the request: {e})"),
            _ => message,
        }
    }

    /// Writes as much of the request as the stream takes now, then flushes it. Never waits:
    /// a full socket leaves the rest for the next poll (the stream wakes us when it drains).
    fn poll_send(&mut self, cx: &mut Context<'_>) {
        if self.sending != Sending::Writing {
            return;
        }
        while self.sent < self.write.len() {
            match Pin::new(&mut self.stream).poll_write(cx, &self.write[self.sent..]) {
                Poll::Ready(Ok(0)) => {
                    self.sending = Sending::Failed("the connection took no more bytes".into());
                    return;
                }
                Poll::Ready(Ok(n)) => self.sent += n,
                Poll::Ready(Err(e)) => {
                    self.sending = Sending::Failed(e.to_string());
                    return;
                }
                Poll::Pending => return,
            }
        }
        match Pin::new(&mut self.stream).poll_flush(cx) {
            Poll::Ready(Ok(())) => self.sending = Sending::Done,
            Poll::Ready(Err(e)) => self.sending = Sending::Failed(e.to_string()),
            Poll::Pending => {}
        }
    }

    /// Reads more bytes after `end`, making room first, and writes more of the request while
    /// it waits. 0 means the server closed. A write that fails is remembered, not returned:
    /// the server may have answered before it closed (a 413 during a large body), and what
    /// it sent is still read.
    async fn fill(&mut self) -> io::Result<usize> {
        self.make_room();
        let n = poll_fn(|cx| {
            self.poll_send(cx);
            let mut buf = ReadBuf::new(&mut self.read[self.end..]);
            match Pin::new(&mut self.stream).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) => Poll::Ready(Ok(buf.filled().len())),
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        })
        .await?;
        self.read_was_full = self.end + n == self.read.len();
        self.end += n;
        Ok(n)
    }

    /// Room after `end` for the next read: moves the unconsumed bytes to the front, or
    /// doubles the buffer when they fill it (a head longer than the buffer) or when reads
    /// keep filling it and it is under [`READ_CHUNK`].
    fn make_room(&mut self) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        let speed_up = self.read_was_full && self.read.len() < READ_CHUNK;
        if self.end < self.read.len() && !speed_up {
            return;
        }
        let held = self.end - self.start;
        if held < self.read.len() && !speed_up {
            self.read.copy_within(self.start..self.end, 0);
        } else {
            let mut bigger = vec![0; self.read.len() * 2].into_boxed_slice();
            bigger[..held].copy_from_slice(&self.read[self.start..self.end]);
            self.read = bigger;
        }
        self.start = 0;
        self.end = held;
    }

    /// [`H1::fill`] for a body or a chunk line: the error as text.
    async fn fill_body(&mut self) -> Result<usize, String> {
        self.fill().await.map_err(|e| e.to_string())
    }

    async fn read_head(&mut self) -> Result<Head, HeadError> {
        let mut config = httparse::ParserConfig::default();
        // RFC 9112 §5.2: a client may replace obs-fold with spaces; `Head::of` trims them.
        config.allow_obsolete_multiline_headers_in_responses(true);
        loop {
            if self.end > self.start {
                // Left uninitialised: httparse writes only what it parses.
                let mut headers = [const { MaybeUninit::uninit() }; HEADERS];
                let mut response = httparse::Response::new(&mut []);
                let buffered = &self.read[self.start..self.end];
                match config.parse_response_with_uninit_headers(&mut response, buffered, &mut headers) {
                    Ok(httparse::Status::Complete(len)) => {
                        let head = Head::of(&response).map_err(HeadError::Other)?;
                        self.start += len;
                        return Ok(head);
                    }
                    Ok(httparse::Status::Partial) if self.end - self.start >= MAX_HEAD => {
                        return Err(HeadError::TooLarge(format!(
                            "the answer's head is over {} KiB",
                            MAX_HEAD / 1024
                        )));
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(httparse::Error::TooManyHeaders) => {
                        return Err(HeadError::TooLarge(format!(
                            "the answer's head has more than {HEADERS} headers"
                        )));
                    }
                    Err(e) => return Err(HeadError::Other(format!("not an HTTP/1.1 answer: {e}"))),
                }
            }
            match self.fill().await {
                Ok(0) => return Err(HeadError::Other("the server closed the connection".into())),
                Ok(_) => {}
                Err(e) => return Err(HeadError::Other(e.to_string())),
            }
        }
    }

    /// Takes up to `n` buffered body bytes, keeping the first [`KEPT_BODY`].
    fn take(&mut self, n: u64) -> usize {
        let n = (self.end - self.start).min(usize::try_from(n).unwrap_or(usize::MAX));
        let keep = n.min(KEPT_BODY.saturating_sub(self.body.len()));
        self.body.extend_from_slice(&self.read[self.start..self.start + keep]);
        self.start += n;
        n
    }

    async fn read_exact_body(&mut self, len: u64) -> Result<u64, String> {
        let mut left = len;
        loop {
            left -= self.take(left) as u64;
            if left == 0 {
                return Ok(len);
            }
            if self.fill_body().await? == 0 {
                return Err(format!("the server closed the connection {left} bytes short of {len}"));
            }
        }
    }

    async fn read_to_close(&mut self) -> Result<u64, String> {
        let mut total = 0;
        loop {
            total += self.take(u64::MAX) as u64;
            match self.fill().await {
                Ok(0) => return Ok(total),
                Ok(_) => {}
                // rustls: the TCP connection closed without a TLS close_notify. Many servers
                // end a close-delimited body so; it is whole all the same (the length was
                // never promised), and nothing of the connection is reused.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(total),
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    /// The next line of a chunked body without its line end, as (offset, length) in `read`.
    /// The end is CRLF or a bare LF (RFC 9112 §2.2 lets a recipient take LF alone).
    async fn line(&mut self) -> Result<(usize, usize), String> {
        loop {
            let buffered = &self.read[self.start..self.end];
            if let Some(at) = buffered.iter().position(|&b| b == b'\n') {
                let len = if at > 0 && buffered[at - 1] == b'\r' { at - 1 } else { at };
                let line = (self.start, len);
                self.start += at + 1;
                return Ok(line);
            }
            if buffered.len() > MAX_LINE {
                return Err("a chunked body's line is over 4 KiB".into());
            }
            if self.fill_body().await? == 0 {
                return Err("the server closed the connection inside a chunked body".into());
            }
        }
    }

    async fn read_chunked(&mut self) -> Result<u64, String> {
        let mut total = 0u64;
        loop {
            let (at, len) = self.line().await?;
            let size = chunk_size(&self.read[at..at + len])?;
            if size == 0 {
                // Trailers, up to the empty line.
                while self.line().await?.1 > 0 {}
                return Ok(total);
            }
            let mut left = size;
            while left > 0 {
                left -= self.take(left) as u64;
                if left > 0 && self.fill_body().await? == 0 {
                    return Err("the server closed the connection inside a chunk".into());
                }
            }
            total = total.saturating_add(size);
            if self.line().await?.1 != 0 {
                return Err("a chunk is longer than its size says".into());
            }
        }
    }
}

/// Why the head could not be read: over the caps, or anything else.
enum HeadError {
    TooLarge(String),
    Other(String),
}

/// The seam `crate::fuzzing` drives: reads up to `most` answers from `stream` the way a load
/// connection does (its request, empty here, written first), stopping at the first failure
/// or at an answer that closes. Per answer read: (status, body length, bytes of it kept).
pub(crate) async fn read_answers<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    most: usize,
) -> Vec<(u16, u64, usize)> {
    let mut h1 = H1::new(stream);
    let mut read = Vec::new();
    for _ in 0..most {
        let Ok(answer) = h1.exchange().await else { break };
        read.push((answer.status, answer.body_len, h1.body().len()));
        h1.settle();
        if answer.closing {
            break;
        }
    }
    read
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio_util::either::Either;

    /// A connection to a server that answers each request with the next of `answers`
    /// (written in pieces of `piece` bytes, so every parser state meets a buffer's end).
    async fn pair(answers: Vec<Vec<u8>>, piece: usize) -> H1 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            for answer in answers {
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = s.read(&mut buf).await.unwrap();
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                }
                for part in answer.chunks(piece) {
                    s.write_all(part).await.unwrap();
                    s.flush().await.unwrap();
                    tokio::task::yield_now().await;
                }
            }
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let mut h1 = H1::new(Either::Left(tcp));
        h1.write.extend_from_slice(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n");
        h1
    }

    async fn one(answer: &[u8], piece: usize) -> (Result<Answer, Broken>, Vec<u8>) {
        let mut h1 = pair(vec![answer.to_vec()], piece).await;
        let got = h1.exchange().await;
        let body = h1.body().to_vec();
        (got, body)
    }

    fn ok(r: Result<Answer, Broken>) -> Answer {
        match r {
            Ok(a) => a,
            Err(Broken::Head(m)) | Err(Broken::HeadTooLarge(m)) | Err(Broken::Body(m)) => {
                panic!("failed: {m}")
            }
        }
    }

    #[tokio::test]
    async fn reads_length_chunked_and_close_delimited_answers_in_any_pieces() {
        for piece in [1, 3, 7, 4096] {
            let (a, body) = one(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", piece).await;
            let a = ok(a);
            assert_eq!((a.status, a.body_len, a.closing), (200, 5, false));
            assert_eq!(body, b"hello");

            let chunked = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, chunked\r\n\r\n\
                            4;ext=1\r\nwiki\r\nA\r\npedia in\r\n\r\n0\r\nX-Trailer: y\r\n\r\n";
            let (a, body) = one(chunked, piece).await;
            let a = ok(a);
            assert_eq!((a.status, a.body_len, a.closing), (201, 14, false));
            assert_eq!(body, b"wikipedia in\r\n");

            let (a, body) = one(b"HTTP/1.0 200 OK\r\n\r\nuntil the end", piece).await;
            let a = ok(a);
            assert_eq!((a.body_len, a.closing), (13, true));
            assert_eq!(body, b"until the end");
        }
    }

    #[tokio::test]
    async fn skips_interim_answers_and_reads_no_body_for_204_and_304() {
        let (a, _) =
            one(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", 5)
                .await;
        let a = ok(a);
        assert_eq!((a.status, a.body_len, a.closing), (204, 0, false));
        // No length at all: still no body, and the connection stays usable.
        let (a, _) = one(b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", 3).await;
        let a = ok(a);
        assert_eq!((a.status, a.body_len, a.closing), (304, 0, false));
        let (a, _) =
            one(b"HTTP/1.1 503 Busy\r\nRetry-After: 2\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 64)
                .await;
        let a = ok(a);
        assert_eq!((a.status, a.closing, a.retry_after), (503, true, Some(Duration::from_secs(2))));
    }

    #[tokio::test]
    async fn keeps_only_the_head_of_a_big_body_and_reuses_the_connection() {
        let big = vec![b'x'; 100_000];
        let mut first = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", big.len()).into_bytes();
        first.extend_from_slice(&big);
        let second = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec();
        let mut h1 = pair(vec![first, second], 1500).await;
        let a = ok(h1.exchange().await);
        assert_eq!(a.body_len, 100_000);
        assert_eq!(h1.body().len(), KEPT_BODY);
        // The big answer grew the buffers; the idle connection gives that back.
        assert!(h1.read.len() > INITIAL_READ);
        h1.settle();
        assert_eq!((h1.read.len(), h1.body.capacity()), (INITIAL_READ, 0));
        h1.idle_check().await.unwrap();
        let a = ok(h1.exchange().await);
        assert_eq!((a.body_len, h1.body()), (2, b"ok".as_slice()));
        // The server has now closed: the idle check sees it once the close arrived.
        let mut closed = false;
        for _ in 0..200 {
            if h1.idle_check().await.is_err() {
                closed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(closed, "the server's close was never seen");
    }

    #[tokio::test]
    async fn refuses_what_is_not_http_or_is_cut_short() {
        for (answer, head) in [
            (&b"SSH-2.0-OpenSSH\r\n\r\n"[..], true),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", false),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", true),
            (b"HTTP/1.1 200 OK\r\nContent-Le", true),
        ] {
            match one(answer, 4).await.0 {
                Err(Broken::Head(_)) if head => {}
                Err(Broken::Body(_)) if !head => {}
                Err(Broken::Head(m)) | Err(Broken::HeadTooLarge(m)) | Err(Broken::Body(m)) => {
                    panic!("{:?}: wrong kind of failure: {m}", String::from_utf8_lossy(answer))
                }
                Ok(_) => panic!("{:?} was taken for an answer", String::from_utf8_lossy(answer)),
            }
        }
    }

    fn body_failure(r: Result<Answer, Broken>) -> String {
        match r {
            Err(Broken::Body(m)) => m,
            Err(Broken::Head(m)) | Err(Broken::HeadTooLarge(m)) => panic!("a head failure: {m}"),
            Ok(a) => panic!("taken for an answer of {} bytes", a.body_len),
        }
    }

    /// The server answers as soon as it has the head and never reads the 32 MB body: the
    /// answer is taken, and the connection is not kept (the rest of the body would be read
    /// by the server as the next request).
    #[tokio::test]
    async fn an_answer_that_beats_the_request_body_closes_the_connection() {
        let mut h1 = pair(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec()], 4096).await;
        h1.write.clear();
        h1.write.extend_from_slice(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 33554432\r\n\r\n");
        h1.write.resize(h1.write.len() + (32 << 20), b'x');
        let a = ok(h1.exchange().await);
        assert_eq!((a.status, a.body_len, a.closing), (200, 2, true));
    }

    /// RFC 9112 §6.3: Transfer-Encoding wins over Content-Length, and the connection is not
    /// kept (the pair is how answers are smuggled); §6.1: Transfer-Encoding in an HTTP/1.0
    /// answer is faulty, so the body runs to the close.
    #[tokio::test]
    async fn faulty_framing_closes_the_connection() {
        for piece in [1, 5, 4096] {
            let (a, body) = one(
                b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
                piece,
            )
            .await;
            let a = ok(a);
            assert_eq!((a.body_len, a.closing, body.as_slice()), (2, true, b"ok".as_slice()));

            let raw = b"2\r\nok\r\n0\r\n\r\n";
            let mut answer = b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            answer.extend_from_slice(raw);
            let (a, body) = one(&answer, piece).await;
            let a = ok(a);
            assert_eq!((a.body_len, a.closing, body.as_slice()), (raw.len() as u64, true, raw.as_slice()));
        }
    }

    /// RFC 9110 §8.6: a list of equal lengths is one length; anything but digits is refused.
    #[tokio::test]
    async fn content_length_is_digits_or_a_list_of_equal_lengths() {
        for value in ["5, 5", "5,5", " 5 ", "5,\r\n 5"] {
            let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {value}\r\n\r\nhello");
            let a = ok(one(answer.as_bytes(), 4096).await.0);
            assert_eq!((a.body_len, a.closing), (5, false), "{value:?}");
        }
        for value in ["+5", "-5", "5, 6", "5,", "0x5", "5 5", "", "99999999999999999999"] {
            let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {value}\r\n\r\nhello");
            match one(answer.as_bytes(), 4096).await.0 {
                Err(Broken::Head(m)) => assert!(m.contains("Content-Length"), "{value:?}: {m}"),
                _ => panic!("Content-Length {value:?} was accepted"),
            }
        }
    }

    /// Chunk-size lines, chunk ends and trailers may end in a bare LF.
    #[tokio::test]
    async fn chunk_lines_may_end_in_a_bare_lf() {
        for piece in [1, 3, 4096] {
            let mut h1 = pair(
                vec![
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\nwiki\n5;x=y\npedia\r\n0\nT: 1\n\n".to_vec(),
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec(),
                ],
                piece,
            )
            .await;
            let a = ok(h1.exchange().await);
            assert_eq!((a.body_len, a.closing, h1.body()), (9, false, b"wikipedia".as_slice()));
            // The connection carries the next answer: nothing of the first was left over.
            h1.idle_check().await.unwrap();
            let a = ok(h1.exchange().await);
            assert_eq!((a.body_len, h1.body()), (2, b"ok".as_slice()));
        }
    }

    #[tokio::test]
    async fn a_chunk_size_of_fifteen_hex_digits_fails_cleanly() {
        let m = body_failure(
            one(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\nabc", 4096).await.0,
        );
        assert!(m.contains("chunk size too large"), "{m}");
    }
}
