//! HTTP/1.1 on one keep-alive connection, written for the load generator: the request's
//! bytes are built into a buffer the connection keeps and written at once, the answer is
//! read into another and parsed with httparse. No dispatch channel, no second state machine
//! and no allocation per request; hyper drives HTTP/2 only (`wire`).
//!
//! What a demanding server may send is handled: `Content-Length`, `chunked` (extensions and
//! trailers), bodies delimited by the connection's close, 1xx interim answers, `204`/`304`
//! without a body, `Connection: close` and HTTP/1.0's default of closing. Only the first
//! [`KEPT_BODY`] bytes of a body are kept (the scans need no more); the rest is counted.

use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::wire::Stream;

/// Bytes of a body kept for the scans (`scan_body` looks for a duplicate only in bodies
/// shorter than this).
pub(super) const KEPT_BODY: usize = 4096;
/// The response head may not grow past this.
const MAX_HEAD: usize = 64 * 1024;
/// A chunk-size or trailer line may not grow past this.
const MAX_LINE: usize = 4096;
const HEADERS: usize = 64;
const READ_CHUNK: usize = 8 * 1024;

/// One HTTP/1.1 connection: the stream and its two buffers. Generic over the stream only so
/// that `read_answers` can feed it from memory.
pub(super) struct H1<S = Stream> {
    stream: S,
    /// Bytes read and not yet consumed are `read[start..end]`.
    read: Box<[u8]>,
    start: usize,
    end: usize,
    /// The request being sent (kept for its capacity).
    pub(super) write: Vec<u8>,
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

/// Why an exchange failed: before any byte of the answer arrived, or during it.
pub(super) enum Broken {
    Head(String),
    Body(String),
}

impl<S: AsyncRead + AsyncWrite + Unpin> H1<S> {
    pub(super) fn new(stream: S) -> H1<S> {
        H1 {
            stream,
            read: vec![0; READ_CHUNK].into_boxed_slice(),
            start: 0,
            end: 0,
            write: Vec::with_capacity(1024),
            body: Vec::new(),
        }
    }

    /// The body kept of the last answer (at most [`KEPT_BODY`] bytes).
    pub(super) fn body(&self) -> &[u8] {
        &self.body
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

    /// Writes the request in `self.write` and reads its whole answer.
    pub(super) async fn exchange(&mut self) -> Result<Answer, Broken> {
        self.stream.write_all(&self.write).await.map_err(|e| Broken::Head(e.to_string()))?;
        self.stream.flush().await.map_err(|e| Broken::Head(e.to_string()))?;
        let head = loop {
            let head = self.read_head().await.map_err(Broken::Head)?;
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
            // A body that ends at the close leaves nothing to reuse.
            closing: head.closing || (!bodiless && matches!(head.framing, Framing::Close)),
            body_len,
        })
    }

    /// Reads more bytes after `end`, making room first. 0 means the server closed.
    async fn fill(&mut self) -> Result<usize, String> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.end == self.read.len() {
            if self.start > 0 {
                self.read.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let mut bigger = vec![0; self.read.len() * 2].into_boxed_slice();
                bigger[..self.end].copy_from_slice(&self.read[..self.end]);
                self.read = bigger;
            }
        }
        let n = self.stream.read(&mut self.read[self.end..]).await.map_err(|e| e.to_string())?;
        self.end += n;
        Ok(n)
    }

    async fn read_head(&mut self) -> Result<Head, String> {
        loop {
            if self.end > self.start {
                let mut headers = [httparse::EMPTY_HEADER; HEADERS];
                let mut response = httparse::Response::new(&mut headers);
                match response.parse(&self.read[self.start..self.end]) {
                    Ok(httparse::Status::Complete(len)) => {
                        let head = Head::of(&response)?;
                        self.start += len;
                        return Ok(head);
                    }
                    Ok(httparse::Status::Partial) if self.end - self.start >= MAX_HEAD => {
                        return Err(format!("the answer's head is over {} KiB", MAX_HEAD / 1024));
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(e) => return Err(format!("not an HTTP/1.1 answer: {e}")),
                }
            }
            if self.fill().await? == 0 {
                return Err("the server closed the connection".into());
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
            if self.fill().await? == 0 {
                return Err(format!("the server closed the connection {left} bytes short of {len}"));
            }
        }
    }

    async fn read_to_close(&mut self) -> Result<u64, String> {
        let mut total = 0;
        loop {
            total += self.take(u64::MAX) as u64;
            if self.fill().await? == 0 {
                return Ok(total);
            }
        }
    }

    /// The next line of a chunked body without its CRLF, as (offset, length) in `read`.
    async fn line(&mut self) -> Result<(usize, usize), String> {
        loop {
            let buffered = &self.read[self.start..self.end];
            if let Some(at) = buffered.windows(2).position(|w| w == b"\r\n") {
                let line = (self.start, at);
                self.start += at + 2;
                return Ok(line);
            }
            if buffered.len() > MAX_LINE {
                return Err("a chunked body's line is over 4 KiB".into());
            }
            if self.fill().await? == 0 {
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
                if left > 0 && self.fill().await? == 0 {
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

/// A `Retry-After` in seconds (0 to an hour; an HTTP date or anything else is ignored).
pub(super) fn parse_retry_after(value: &[u8]) -> Option<Duration> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && (0.0..=3600.0).contains(s))
        .map(Duration::from_secs_f64)
}

/// The hex size at the start of a chunk-size line (extensions after `;` are ignored).
fn chunk_size(line: &[u8]) -> Result<u64, String> {
    let digits = line.split(|&b| b == b';').next().unwrap_or_default().trim_ascii();
    if digits.is_empty() || digits.len() > 15 {
        return Err(format!("bad chunk size {:?}", String::from_utf8_lossy(line)));
    }
    digits.iter().try_fold(0u64, |n, &d| {
        let v = (d as char)
            .to_digit(16)
            .ok_or_else(|| format!("bad chunk size {:?}", String::from_utf8_lossy(line)))?;
        Ok(n * 16 + u64::from(v))
    })
}

enum Framing {
    Length(u64),
    Chunked,
    Close,
}

struct Head {
    status: u16,
    framing: Framing,
    closing: bool,
    retry_after: Option<Duration>,
}

impl Head {
    fn of(response: &httparse::Response<'_, '_>) -> Result<Head, String> {
        let status = response.code.unwrap_or(0);
        let mut length: Option<u64> = None;
        let mut chunked = None;
        // HTTP/1.0 closes unless it says keep-alive; HTTP/1.1 keeps unless it says close.
        let mut closing = response.version == Some(0);
        let mut retry_after = None;
        for h in response.headers.iter() {
            let name = h.name;
            if name.eq_ignore_ascii_case("content-length") {
                let n = std::str::from_utf8(h.value)
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .ok_or_else(|| format!("bad Content-Length {:?}", String::from_utf8_lossy(h.value)))?;
                if length.is_some_and(|l| l != n) {
                    return Err("two different Content-Length headers".into());
                }
                length = Some(n);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                // Chunked counts only as the last coding; any other ends at the close.
                let last = h.value.rsplit(|&b| b == b',').next().unwrap_or_default().trim_ascii();
                chunked = Some(last.eq_ignore_ascii_case(b"chunked"));
            } else if name.eq_ignore_ascii_case("connection") {
                for token in h.value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                    if token.eq_ignore_ascii_case(b"close") {
                        closing = true;
                    } else if token.eq_ignore_ascii_case(b"keep-alive") && response.version == Some(0) {
                        closing = false;
                    }
                }
            } else if name.eq_ignore_ascii_case("retry-after") {
                retry_after = parse_retry_after(h.value);
            }
        }
        // Transfer-Encoding overrides Content-Length (RFC 9112 §6.3).
        let framing = match (chunked, length) {
            (Some(true), _) => Framing::Chunked,
            (Some(false), _) => Framing::Close,
            (None, Some(n)) => Framing::Length(n),
            (None, None) => Framing::Close,
        };
        Ok(Head { status, framing, closing, retry_after })
    }
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
        if answer.closing {
            break;
        }
    }
    read
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;
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
            Err(Broken::Head(m)) | Err(Broken::Body(m)) => panic!("failed: {m}"),
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
                Err(Broken::Head(m)) | Err(Broken::Body(m)) => {
                    panic!("{:?}: wrong kind of failure: {m}", String::from_utf8_lossy(answer))
                }
                Ok(_) => panic!("{:?} was taken for an answer", String::from_utf8_lossy(answer)),
            }
        }
    }

    #[test]
    fn chunk_sizes() {
        assert_eq!(chunk_size(b"1f").unwrap(), 31);
        assert_eq!(chunk_size(b"0 ; name=value").unwrap(), 0);
        assert!(chunk_size(b"").is_err());
        assert!(chunk_size(b"g").is_err());
        assert!(chunk_size(b"1234567890abcdef0").is_err());
    }
}
