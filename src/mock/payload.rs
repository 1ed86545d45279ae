//! Parsing a failure payload (one `/webhook` body or one `/batch` item) into what the
//! mock needs: the dedup hash and the repository's resource count. Pure; serde and sha2 only.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor, value::MapAccessDeserializer};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Most items one `/batch` may carry.
pub const MAX_BATCH_ITEMS: usize = 1000;
/// Largest `resource_details.resource_count` accepted.
const MAX_RESOURCE_COUNT: u64 = 100_000;

/// One failure, ready to process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Hex SHA-256 of `"{test_id}-{resource_arn}"`.
    pub hash: String,
    /// Terraform resources in the failure's repository (drives the simulated cost).
    pub resource_count: u32,
}

/// Why a body was refused. Nothing was processed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PayloadError {
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    #[error("body must be a JSON {expected}, got {got}")]
    WrongShape { expected: &'static str, got: &'static str },
    #[error("{0}")]
    Unprocessable(String),
    #[error("batch has {0} items; at most {MAX_BATCH_ITEMS} are accepted, split it")]
    TooManyItems(usize),
}

#[derive(Deserialize)]
struct RawFailure<'a> {
    #[serde(borrow, default)]
    test_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    resource_arn: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    resource_details: Option<Object<RawDetails<'a>>>,
}

#[derive(Deserialize)]
struct RawDetails<'a> {
    #[serde(borrow, default)]
    repo_size: Option<Cow<'a, str>>,
    #[serde(default)]
    resource_count: Option<u64>,
}

/// A derived struct read from a JSON object only. serde's derive also reads a struct from
/// an array (fields by position), so `"resource_details": ["small", 4]` or a whole body of
/// `["t", "arn"]` would pass as the object they are not; the API document says object.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer.deserialize_map(ObjectVisitor(PhantomData)).map(Object)
    }
}

/// Parses a `/webhook` body: a JSON object with `test_id` and `resource_arn`.
pub fn parse_webhook(body: &[u8]) -> Result<Failure, PayloadError> {
    check_utf8(body)?;
    match serde_json::from_slice::<Object<RawFailure<'_>>>(body) {
        Ok(Object(raw)) => validate(raw, None),
        Err(err) if err.is_data() => {
            // Valid JSON of the wrong shape, or an object with a field of the wrong type.
            match first_byte(body) {
                Some(b'{') => Err(PayloadError::Unprocessable(err.to_string())),
                _ => Err(wrong_shape(body, "object")),
            }
        }
        Err(err) => Err(PayloadError::InvalidJson(err.to_string())),
    }
}

/// Parses a `/batch` body: a JSON array of at most `MAX_BATCH_ITEMS` failure objects.
/// Any bad item refuses the whole batch (naming the item), so nothing is half-done.
pub fn parse_batch(body: &[u8]) -> Result<Vec<Failure>, PayloadError> {
    check_utf8(body)?;
    let value: Value =
        serde_json::from_slice(body).map_err(|err| PayloadError::InvalidJson(err.to_string()))?;
    let Value::Array(items) = value else {
        return Err(PayloadError::WrongShape { expected: "array", got: json_kind(&value) });
    };
    if items.len() > MAX_BATCH_ITEMS {
        return Err(PayloadError::TooManyItems(items.len()));
    }
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            if !item.is_object() {
                return Err(PayloadError::Unprocessable(format!(
                    "item {index}: must be a JSON object, got {}",
                    json_kind(item)
                )));
            }
            let Object(raw) = Object::<RawFailure<'_>>::deserialize(item)
                .map_err(|err| PayloadError::Unprocessable(format!("item {index}: {err}")))?;
            validate(raw, Some(index))
        })
        .collect()
}

/// JSON is UTF-8 (RFC 8259). serde_json checks only the strings it keeps, so a field the
/// server ignores could carry invalid bytes through `/webhook` that `/batch` (which keeps
/// every value) refuses: one check on the whole body gives both routes one rule.
fn check_utf8(body: &[u8]) -> Result<(), PayloadError> {
    std::str::from_utf8(body).map(|_| ()).map_err(|e| {
        PayloadError::InvalidJson(format!("the body is not valid UTF-8 (at byte {})", e.valid_up_to()))
    })
}

fn validate(raw: RawFailure<'_>, index: Option<usize>) -> Result<Failure, PayloadError> {
    let at = |msg: String| match index {
        Some(i) => PayloadError::Unprocessable(format!("item {i}: {msg}")),
        None => PayloadError::Unprocessable(msg),
    };
    let test_id = raw.test_id.filter(|s| !s.is_empty()).ok_or_else(|| at(missing("test_id")))?;
    let arn = raw.resource_arn.filter(|s| !s.is_empty()).ok_or_else(|| at(missing("resource_arn")))?;
    let hash = failure_hash(&test_id, &arn);
    let details = raw.resource_details.map_or(RawDetails { repo_size: None, resource_count: None }, |d| d.0);
    // An unknown size is refused even beside a count: the count wins, but a typo in the
    // size must not pass unnoticed (the API document lists the sizes).
    let from_size = match details.repo_size.as_deref() {
        None => None,
        Some(size) => Some(resources_for_size(size, &hash).ok_or_else(|| {
            at(format!("resource_details.repo_size `{size}` is unknown; allowed: small, medium, large"))
        })?),
    };
    let resource_count = match details.resource_count {
        Some(n) if n <= MAX_RESOURCE_COUNT => n as u32,
        Some(n) => {
            return Err(at(format!(
                "resource_details.resource_count {n} is too large; allowed: 0..={MAX_RESOURCE_COUNT}"
            )));
        }
        None => from_size.unwrap_or(0),
    };
    Ok(Failure { hash, resource_count })
}

fn missing(field: &str) -> String {
    format!("missing required field `{field}` (a non-empty string)")
}

/// Hex SHA-256 of `"{test_id}-{resource_arn}"`, TerraFix's dedup key.
pub fn failure_hash(test_id: &str, resource_arn: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(test_id.as_bytes());
    hasher.update(b"-");
    hasher.update(resource_arn.as_bytes());
    let mut hex_digits = [0u8; 64];
    // The digest is 32 bytes, so 64 hex digits always fit; the iterator form of `hex::encode` was a hot spot.
    // Hex digits are ASCII: the plain UTF-8 check is one pass, where the lossy one walked
    // the digits chunk by chunk (0.4 % of the server's profile).
    match hex::encode_to_slice(hasher.finalize(), &mut hex_digits) {
        Ok(()) => std::str::from_utf8(&hex_digits).map(str::to_owned).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Resources of a repository of this size: small 5–15, medium 50–100, large 300–500.
/// Drawn from the hash so the same failure always costs the same.
fn resources_for_size(size: &str, hash: &str) -> Option<u32> {
    let (low, high) = match size {
        "small" => (5, 15),
        "medium" => (50, 100),
        "large" => (300, 500),
        _ => return None,
    };
    let spread = u32::from_str_radix(hash.get(..8).unwrap_or("0"), 16).unwrap_or(0);
    Some(low + spread % (high - low + 1))
}

fn first_byte(body: &[u8]) -> Option<u8> {
    body.iter().copied().find(|b| !b.is_ascii_whitespace())
}

fn wrong_shape(body: &[u8], expected: &'static str) -> PayloadError {
    let got = serde_json::from_slice::<Value>(body).map(|v| json_kind(&v)).unwrap_or("something else");
    PayloadError::WrongShape { expected, got }
}

/// "a string", "an array", …: what a JSON value is, for error messages.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256_of_test_id_dash_arn() {
        // printf 'a-b' | sha256sum
        assert_eq!(
            failure_hash("a", "b"),
            "d44362d67d921091c7b9674d752e9e23c1f9ec8a4f0b82741bf01364eb97c830"
        );
        let body = br#"{"test_id":"a","resource_arn":"b","resource_details":{"repo_size":"large"}}"#;
        let f = parse_webhook(body).unwrap();
        assert_eq!(f.hash, failure_hash("a", "b"));
        assert!((300..=500).contains(&f.resource_count), "{}", f.resource_count);
    }

    #[test]
    fn sizes_and_explicit_counts() {
        let small =
            parse_webhook(br#"{"test_id":"t","resource_arn":"r","resource_details":{"repo_size":"small"}}"#);
        assert!((5..=15).contains(&small.unwrap().resource_count));
        let counted = parse_webhook(
            br#"{"test_id":"t","resource_arn":"r","resource_details":{"repo_size":"small","resource_count":42}}"#,
        );
        assert_eq!(counted.unwrap().resource_count, 42);
        assert_eq!(parse_webhook(br#"{"test_id":"t","resource_arn":"r"}"#).unwrap().resource_count, 0);
        let typo = parse_webhook(
            br#"{"test_id":"t","resource_arn":"r","resource_details":{"repo_size":"huge","resource_count":4}}"#,
        );
        assert!(matches!(typo, Err(PayloadError::Unprocessable(m)) if m.contains("repo_size")));
    }

    #[test]
    fn bad_bodies_are_classified() {
        assert!(matches!(parse_webhook(b"{nope"), Err(PayloadError::InvalidJson(_))));
        assert!(matches!(parse_webhook(b"[1,2]"), Err(PayloadError::WrongShape { got: "an array", .. })));
        assert!(
            matches!(parse_webhook(b"{\"test_id\":\"t\"}"), Err(PayloadError::Unprocessable(m)) if m.contains("resource_arn"))
        );
        assert!(matches!(parse_webhook(b"{\"test_id\":5}"), Err(PayloadError::Unprocessable(_))));
        assert!(matches!(parse_batch(b"{}"), Err(PayloadError::WrongShape { expected: "array", .. })));
        assert!(
            matches!(parse_batch(b"[{\"test_id\":\"t\",\"resource_arn\":\"r\"}, 3]"), Err(PayloadError::Unprocessable(m)) if m.starts_with("item 1"))
        );
        let many = format!("[{}]", vec!["{}"; 1001].join(","));
        assert_eq!(parse_batch(many.as_bytes()), Err(PayloadError::TooManyItems(1001)));
    }

    #[test]
    fn arrays_do_not_pass_for_objects() {
        // serde's derive reads a struct from an array by position; the API says object.
        let positional = parse_webhook(br#"["t","arn"]"#);
        assert!(
            matches!(positional, Err(PayloadError::WrongShape { got: "an array", .. })),
            "{positional:?}"
        );
        let details = parse_webhook(br#"{"test_id":"t","resource_arn":"r","resource_details":["small",4]}"#);
        assert!(
            matches!(&details, Err(PayloadError::Unprocessable(m)) if m.contains("object")),
            "{details:?}"
        );
        let item = parse_batch(br#"[{"test_id":"t","resource_arn":"r","resource_details":[null,null]}]"#);
        assert!(matches!(&item, Err(PayloadError::Unprocessable(m)) if m.starts_with("item 0")), "{item:?}");
        let null_details = parse_webhook(br#"{"test_id":"t","resource_arn":"r","resource_details":null}"#);
        assert_eq!(null_details.unwrap().resource_count, 0);
    }
}
