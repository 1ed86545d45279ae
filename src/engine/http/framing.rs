//! The head of an HTTP/1.1 answer read as the load client needs it: how its body is framed
//! (RFC 9112 §6), whether the connection stays open, `Retry-After`; and the two numbers a
//! server writes as text, `Content-Length` and a chunk's size, each checked strictly.

use std::time::Duration;

/// Hex digits a chunk size may have, leading zeros aside: 14 is 64 PiB less one byte.
const CHUNK_SIZE_DIGITS: usize = 14;

/// A `Retry-After` in seconds (0 to an hour; an HTTP date or anything else is ignored).
pub(super) fn parse_retry_after(value: &[u8]) -> Option<Duration> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && (0.0..=3600.0).contains(s))
        .map(Duration::from_secs_f64)
}

/// The hex size at the start of a chunk-size line (extensions after `;` are ignored). A
/// size of more than [`CHUNK_SIZE_DIGITS`] digits is refused before it is added up, so no
/// size overflows (and none is ever allocated: a body is counted, not stored).
pub(super) fn chunk_size(line: &[u8]) -> Result<u64, String> {
    let digits = line.split(|&b| b == b';').next().unwrap_or_default().trim_ascii();
    let bad = || format!("bad chunk size {:?}", shown(line));
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(bad());
    }
    let significant = &digits[digits.iter().position(|&d| d != b'0').unwrap_or(digits.len())..];
    if significant.len() > CHUNK_SIZE_DIGITS {
        return Err(format!(
            "chunk size too large: {:?} (at most {CHUNK_SIZE_DIGITS} hex digits)",
            shown(line)
        ));
    }
    significant.iter().try_fold(0u64, |n, &d| {
        let v = (d as char).to_digit(16).ok_or_else(bad)?;
        Ok(n * 16 + u64::from(v))
    })
}

/// A piece of a line the server sent, short enough for a message.
pub(super) fn shown(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(40)]).into_owned()
}

/// A `Content-Length` value: one length or a list of equal ones ("5, 5", RFC 9110 §8.6),
/// each of digits only (no sign, no space inside, nothing else).
fn content_length(value: &[u8]) -> Result<u64, String> {
    let bad = || format!("bad Content-Length {:?}", shown(value));
    let mut length = None;
    for item in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
        // 19 digits always fit in a u64; a longer length is not a body anyone sends.
        if item.is_empty() || item.len() > 19 || !item.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        let n = item.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
        if length.is_some_and(|l| l != n) {
            return Err(format!("Content-Length lists different lengths {:?}", shown(value)));
        }
        length = Some(n);
    }
    length.ok_or_else(bad)
}

pub(super) enum Framing {
    Length(u64),
    Chunked,
    Close,
}

pub(super) struct Head {
    pub(super) status: u16,
    pub(super) framing: Framing,
    pub(super) closing: bool,
    pub(super) retry_after: Option<Duration>,
}

impl Head {
    pub(super) fn of(response: &httparse::Response<'_, '_>) -> Result<Head, String> {
        let status = response.code.unwrap_or(0);
        let mut length: Option<u64> = None;
        let mut chunked = None;
        // HTTP/1.0 closes unless it says keep-alive; HTTP/1.1 keeps unless it says close.
        let mut closing = response.version == Some(0);
        let mut retry_after = None;
        for h in response.headers.iter() {
            let name = h.name;
            if name.eq_ignore_ascii_case("content-length") {
                let n = content_length(h.value)?;
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
        if chunked.is_some() && (length.is_some() || response.version == Some(0)) {
            // RFC 9112 §6.3: with both, Transfer-Encoding wins and the connection is closed
            // after the answer (the two may have been put there to smuggle a second answer).
            // §6.1: Transfer-Encoding in an HTTP/1.0 answer is faulty framing: the body ends
            // at the close.
            closing = true;
        }
        let framing = match (chunked, length) {
            (Some(true), _) if response.version != Some(0) => Framing::Chunked,
            (Some(_), _) => Framing::Close,
            (None, Some(n)) => Framing::Length(n),
            (None, None) => Framing::Close,
        };
        Ok(Head { status, framing, closing, retry_after })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes() {
        assert_eq!(chunk_size(b"1f").unwrap(), 31);
        assert_eq!(chunk_size(b"0 ; name=value").unwrap(), 0);
        assert_eq!(chunk_size(b"0000000000000000000001").unwrap(), 1);
        assert_eq!(chunk_size(b"ffffffffffffff").unwrap(), (1 << 56) - 1);
        assert!(chunk_size(b"").is_err());
        assert!(chunk_size(b"g").is_err());
        assert!(chunk_size(b"+1").is_err());
        for too_large in [&b"100000000000000"[..], b"1234567890abcdef0", b"ffffffffffffffffffffffffffffffff"]
        {
            assert!(chunk_size(too_large).unwrap_err().contains("too large"));
        }
    }
}
