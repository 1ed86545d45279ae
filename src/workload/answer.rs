//! What the client reads from TerraFix's answers (the mock's and the seed's shapes): a
//! `/webhook` answer's `"duplicate": true` and a `/batch` answer's top-level `"failed": N`.
//! Scans, not parses: they run on the hot path for every resend and batch, look only at
//! the head of a body, and tolerate any JSON whitespace around the colon.

/// How far into a body the scans look: both keys come before any nested `results`.
const HEAD: usize = 256;

/// The bytes after `"key"`, optional whitespace, `:` and optional whitespace, in the
/// first [`HEAD`] bytes of `body`; `None` when the key is not there as a key.
fn value_after<'a>(body: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let head = &body[..body.len().min(HEAD)];
    let mut from = 0;
    while let Some(at) = find(&head[from..], key) {
        let rest = skip_ws(&head[from + at + key.len()..]);
        if let Some(value) = rest.strip_prefix(b":") {
            return Some(skip_ws(value));
        }
        from += at + key.len();
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn skip_ws(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    &bytes[start..]
}

/// A `/webhook` answer of `{"duplicate": true, …}`: the target had already claimed the failure.
pub fn says_duplicate(body: &[u8]) -> bool {
    value_after(body, b"\"duplicate\"").is_some_and(|v| v.starts_with(b"true"))
}

/// The top-level `"failed": N` of a `/batch` answer (`{"total","successful","failed","results"}`);
/// 0 for an answer without it (another API).
pub fn batch_failed_items(body: &[u8]) -> u64 {
    let Some(value) = value_after(body, b"\"failed\"") else { return 0 };
    value
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0u64, |n, d| n.saturating_mul(10).saturating_add(u64::from(d - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_is_read_with_any_whitespace_and_only_as_a_key() {
        assert!(says_duplicate(br#"{"duplicate":true,"id":"x"}"#));
        assert!(says_duplicate(br#"{"duplicate": true}"#));
        assert!(says_duplicate(b"{\n  \"duplicate\" :\ttrue\n}"));
        assert!(!says_duplicate(br#"{"duplicate": false}"#));
        assert!(!says_duplicate(br#"{"message": "duplicate", "ok": true}"#));
        assert!(!says_duplicate(b""));
    }

    #[test]
    fn batch_failed_is_the_top_level_count_with_any_whitespace() {
        assert_eq!(
            batch_failed_items(br#"{"total":10,"successful":7,"failed":3,"results":[{"failed":9}]}"#),
            3
        );
        assert_eq!(batch_failed_items(br#"{"total": 2, "successful": 2, "failed": 0, "results": []}"#), 0);
        assert_eq!(batch_failed_items(b"{ \"failed\" :  12 }"), 12);
        assert_eq!(batch_failed_items(br#"{"note": "failed", "failed": 4}"#), 4);
        assert_eq!(batch_failed_items(b"{}"), 0);
        assert_eq!(batch_failed_items(br#"{"failed": 99999999999999999999999}"#), u64::MAX);
    }
}
