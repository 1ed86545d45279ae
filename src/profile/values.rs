//! Single values of a profile and their checks, done inside `Deserialize` so serde_yaml
//! reports the line, column and field path: durations, counts, rates, probabilities,
//! names, batch sizes, arrival rates, plus `Checked<T>` for checks across one mapping.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::num::NonZeroU32;
use std::time::Duration;

use serde::Serializer;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Serialize};

use super::duration::parse_duration;

// A per-thread parse context. serde offers no way to hand context to nested
// `Deserialize` impls short of `DeserializeSeed` through every level, and only these two
// checks need it; the guard clears it when the parse ends, even on error.
thread_local! {
    static CONTEXT: RefCell<ParseContext> = RefCell::new(ParseContext::default());
}

#[derive(Default)]
struct ParseContext {
    /// Behaviour names a phase may use; `None` accepts any (first pass).
    known_behaviours: Option<Vec<String>>,
    seen_phases: Vec<String>,
}

pub(crate) struct ContextGuard;

impl ContextGuard {
    pub(crate) fn enter(known_behaviours: Option<Vec<String>>) -> ContextGuard {
        CONTEXT.with(|c| *c.borrow_mut() = ParseContext { known_behaviours, seen_phases: Vec::new() });
        ContextGuard
    }
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        CONTEXT.with(|c| *c.borrow_mut() = ParseContext::default());
    }
}

/// Cross-field checks of one mapping, run while serde_yaml still knows where it is.
pub(crate) trait Check {
    fn check(&self) -> Result<(), String>;
}

/// A mapping deserialized as `T`, then checked with [`Check`].
#[derive(Debug)]
pub(crate) struct Checked<T>(pub T);

impl<'de, T: Deserialize<'de> + Check> Deserialize<'de> for Checked<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CheckedVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Check> Visitor<'de> for CheckedVisitor<T> {
            type Value = Checked<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let value = T::deserialize(MapAccessDeserializer::new(map))?;
                value.check().map_err(de::Error::custom)?;
                Ok(Checked(value))
            }
        }
        deserializer.deserialize_map(CheckedVisitor(PhantomData))
    }
}

/// Implements `Deserialize` for a newtype through a visitor on numbers.
macro_rules! number_newtype {
    ($name:ident, $inner:ty, $expecting:literal, $convert:expr) => {
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$name, E> {
                        let convert: fn(f64) -> Result<$inner, String> = $convert;
                        convert(v).map($name).map_err(E::custom)
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$name, E> {
                        self.visit_f64(v as f64)
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$name, E> {
                        self.visit_f64(v as f64)
                    }
                }
                deserializer.deserialize_any(V)
            }
        }
    };
}

/// A count of at least 1 (users, weights, in-flight limits).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Count(pub NonZeroU32);
number_newtype!(Count, NonZeroU32, "a whole number of at least 1", |v| {
    if v.fract() != 0.0 || !v.is_finite() {
        return Err(format!("expected a whole number of at least 1, got {v}"));
    }
    if v < 1.0 {
        return Err(format!("must be at least 1, got {v}; use a positive whole number"));
    }
    if v > f64::from(u32::MAX) {
        return Err(format!("{v} is too large"));
    }
    NonZeroU32::new(v as u32).ok_or_else(|| format!("must be at least 1, got {v}"))
});

/// A rate or limit above zero (spawn rate, arrival rate, milliseconds thresholds).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Positive(pub f64);
number_newtype!(Positive, f64, "a number above 0", |v| {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(format!("must be above 0, got {v}; use a positive number"))
    }
});

/// A probability or share in [0, 1].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Probability(pub f64);
number_newtype!(Probability, f64, "a number between 0 and 1", |v| {
    super::bounds::check_ratio(v)
        .map_err(|_| format!("must be between 0 and 1 (a share, e.g. 0.1 for 10 %), got {v}"))
});

/// A server setting in milliseconds, within the bounds the mock enforces.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Millis(pub f64);
number_newtype!(Millis, f64, "a number of milliseconds", |v| {
    super::bounds::check_millis(v).map_err(|allowed| {
        format!("{} is out of range: write {allowed} (the bound the mock enforces)", super::bounds::shown(v))
    })
});

/// `workers` or `max_concurrent`, within the bounds the mock enforces.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slots(pub u32);
number_newtype!(Slots, u32, "a whole number", |v| {
    let allowed =
        || format!("write a whole number in [0, {}] (the bound the mock enforces)", super::bounds::MAX_SLOTS);
    if v.fract() != 0.0 || !(0.0..=u64::MAX as f64).contains(&v) {
        return Err(format!("{v} is not a whole number of 0 or more: {}", allowed()));
    }
    super::bounds::check_slots(v as u64)
        .map(|n| n as u32)
        .map_err(|_| format!("{} is out of range: {}", super::bounds::shown(v), allowed()))
});

/// Implements `Deserialize` for a newtype through a visitor on strings.
macro_rules! string_newtype {
    ($name:ident, $expecting:literal, $convert:expr) => {
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        let convert: fn(&str) -> Result<$name, String> = $convert;
                        convert(v).map_err(E::custom)
                    }
                }
                deserializer.deserialize_str(V)
            }
        }
    };
}

/// A duration of zero or more (`0s`, `10s`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dur(pub Duration);
string_newtype!(Dur, "a duration like 30s, 5m, 1h30m or 500ms", |v| parse_duration(v)
    .map(Dur)
    .map_err(|e| format!("invalid duration: {e}")));

/// A duration above zero (phase durations, pacing intervals).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PosDur(pub Duration);
string_newtype!(PosDur, "a duration above zero like 30s, 5m, 1h30m or 500ms", |v| {
    let d = parse_duration(v).map_err(|e| format!("invalid duration: {e}"))?;
    if d.is_zero() { Err(format!("`{v}` is zero; this duration must be above zero")) } else { Ok(PosDur(d)) }
});

pub(crate) fn check_identifier(what: &str, v: &str) -> Result<(), String> {
    let ok = !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !ok {
        return Err(format!(
            "{what} `{v}` may only use letters, digits, `_`, `-` and `.` (it names files and CSV rows)"
        ));
    }
    // It becomes one folder or file name under the run folder: `.`/`..` would leave it.
    if !crate::fsio::is_safe_component(v) {
        return Err(format!(
            "{what} `{}` is not usable as a folder or file name (`.` and `..` climb out of the run folder; \
             at most {} characters); pick a plain name such as throughput",
            v.chars().take(40).collect::<String>(),
            crate::fsio::MAX_COMPONENT_LEN
        ));
    }
    Ok(())
}

/// A phase's `suite:`, the folder its CSVs and hlog go in.
#[derive(Clone, Debug)]
pub(crate) struct SuiteName(pub String);
string_newtype!(SuiteName, "a suite name such as throughput", |v| {
    check_identifier("suite", v)?;
    Ok(SuiteName(v.to_string()))
});

/// The profile's `name:`: free text (spaces are fine; the run folder and default suite
/// use a cleaned copy), but never a path.
#[derive(Clone, Debug)]
pub(crate) struct ProfileName(pub String);
string_newtype!(ProfileName, "a profile name such as smoke", |v| {
    let bad = v.is_empty()
        || v.trim_matches('.').is_empty()
        || v.contains(['/', '\\', '\0'])
        || v.chars().any(char::is_control)
        || v.len() > crate::fsio::MAX_COMPONENT_LEN;
    if bad {
        return Err(format!(
            "profile name `{}` names the run folder and default suite, so it cannot be empty, `.`/`..`, \
             hold `/`, `\\` or control characters, or pass {} characters; pick a plain name such as smoke",
            v.chars().filter(|c| !c.is_control()).take(40).collect::<String>(),
            crate::fsio::MAX_COMPONENT_LEN
        ));
    }
    Ok(ProfileName(v.to_string()))
});

/// A phase name, unique within the profile.
#[derive(Clone, Debug)]
pub(crate) struct PhaseName(pub String);
string_newtype!(PhaseName, "a phase name such as throughput_baseline", |v| {
    check_identifier("phase name", v)?;
    CONTEXT.with(|c| {
        let mut c = c.borrow_mut();
        if c.seen_phases.iter().any(|seen| seen == v) {
            return Err(format!("duplicate phase name `{v}`; every phase needs its own name"));
        }
        c.seen_phases.push(v.to_string());
        Ok(PhaseName(v.to_string()))
    })
});

/// A reference to a built-in or custom behaviour.
#[derive(Clone, Debug)]
pub(crate) struct BehaviourRef(pub String);
string_newtype!(BehaviourRef, "a behaviour name such as throughput", |v| {
    CONTEXT.with(|c| match &c.borrow().known_behaviours {
        Some(known) if !known.iter().any(|k| k == v) => Err(format!(
            "unknown behaviour `{v}`, expected one of {}; or define it under `behaviours:`",
            known.join(", ")
        )),
        _ => Ok(BehaviourRef(v.to_string())),
    })
});

/// The name of a custom behaviour (a key under `behaviours:`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct BehaviourKey(pub String);
string_newtype!(BehaviourKey, "a behaviour name", |v| {
    check_identifier("behaviour name", v)?;
    if super::builtin::BUILTIN_BEHAVIOURS.contains(&v) {
        return Err(format!("behaviour `{v}` is built in; give yours another name"));
    }
    Ok(BehaviourKey(v.to_string()))
});

/// `size:` of a batch task: `5`, `5..20` or `cascade`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum RawBatchSize {
    Fixed(u32),
    Range(u32, u32),
    Cascade,
}

impl<'de> Deserialize<'de> for RawBatchSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        const MAX_BATCH: u64 = 10_000;
        impl<'de> Visitor<'de> for V {
            type Value = RawBatchSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a batch size: a number like 5, a range like 5..20, or cascade")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawBatchSize, E> {
                if (1..=MAX_BATCH).contains(&v) {
                    Ok(RawBatchSize::Fixed(v as u32))
                } else {
                    Err(E::custom(format!("batch size must be between 1 and {MAX_BATCH}, got {v}")))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawBatchSize, E> {
                Err(E::custom(format!("batch size must be between 1 and {MAX_BATCH}, got {v}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawBatchSize, E> {
                if v == "cascade" {
                    return Ok(RawBatchSize::Cascade);
                }
                let bad = || {
                    E::custom(format!(
                        "batch size `{v}`: expected a number like 5, a range like 5..20, or cascade"
                    ))
                };
                let (lo, hi) = v.split_once("..").ok_or_else(bad)?;
                let lo: u64 = lo.trim().parse().map_err(|_| bad())?;
                let hi: u64 = hi.trim().trim_start_matches('=').parse().map_err(|_| bad())?;
                if lo < 1 || hi > MAX_BATCH || lo > hi {
                    return Err(E::custom(format!(
                        "batch size range `{v}` must satisfy 1 <= min <= max <= {MAX_BATCH}"
                    )));
                }
                Ok(RawBatchSize::Range(lo as u32, hi as u32))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// `arrival_rate:` — a constant rate, or `{from, to}` for a linear ramp.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawArrival {
    pub from: f64,
    pub to: f64,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct RawRamp {
    from: Positive,
    to: Positive,
}

impl<'de> Deserialize<'de> for RawArrival {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawArrival;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("requests per second above 0, or a ramp {from: 10, to: 100}")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawArrival, E> {
                if v.is_finite() && v > 0.0 {
                    Ok(RawArrival { from: v, to: v })
                } else {
                    Err(E::custom(format!("arrival rate must be above 0 requests/s, got {v}")))
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawArrival, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawArrival, E> {
                self.visit_f64(v as f64)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawArrival, A::Error> {
                let ramp = RawRamp::deserialize(MapAccessDeserializer::new(map))?;
                Ok(RawArrival { from: ramp.from.0, to: ramp.to.0 })
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A sequence that must not be empty.
#[derive(Debug)]
pub(crate) struct NonEmpty<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for NonEmpty<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = NonEmpty<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-empty list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NonEmpty<T>, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                if items.is_empty() {
                    return Err(de::Error::custom("the list is empty; add at least one entry"));
                }
                Ok(NonEmpty(items))
            }
        }
        deserializer.deserialize_seq(V(PhantomData))
    }
}

// Writing a profile back (a quick run is built as a `RawProfile` and serialised): each value
// is written in the form its `Deserialize` above reads, so what is written loads back the same.

impl<T: Serialize> Serialize for Checked<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<T: Serialize> Serialize for NonEmpty<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// Implements `Serialize` for a newtype as what `$get` makes of it.
macro_rules! serialize_as {
    ($name:ident, |$v:ident| $get:expr) => {
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let $v = self;
                ($get).serialize(serializer)
            }
        }
    };
}

serialize_as!(Count, |v| v.0.get());
serialize_as!(Positive, |v| v.0);
serialize_as!(Probability, |v| v.0);
serialize_as!(Millis, |v| v.0);
serialize_as!(Slots, |v| v.0);
serialize_as!(Dur, |v| super::duration::format_duration(v.0));
serialize_as!(PosDur, |v| super::duration::format_duration(v.0));
serialize_as!(SuiteName, |v| v.0.as_str());
serialize_as!(ProfileName, |v| v.0.as_str());
serialize_as!(PhaseName, |v| v.0.as_str());
serialize_as!(BehaviourRef, |v| v.0.as_str());
serialize_as!(BehaviourKey, |v| v.0.as_str());

impl Serialize for RawBatchSize {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            RawBatchSize::Fixed(n) => serializer.serialize_u32(*n),
            RawBatchSize::Range(lo, hi) => serializer.serialize_str(&format!("{lo}..{hi}")),
            RawBatchSize::Cascade => serializer.serialize_str("cascade"),
        }
    }
}

impl Serialize for RawArrival {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.from == self.to {
            return serializer.serialize_f64(self.from);
        }
        RawRamp { from: Positive(self.from), to: Positive(self.to) }.serialize(serializer)
    }
}
