//! The on-disk form of `RunSummary` (schema 2): the seed harness's shape —
//! `{"timestamp", "experiments": {suite: [{name, status, duration_seconds,
//! config{users, spawn_rate, run_time, …}, stats_file, summary{…}, …}]}, …}` — with our own
//! keys beside the seed's. Reading accepts schema 1 (a flat `experiments` list) as well.
//! The seed's keys that only repeat what we already hold (`duration_seconds`, `stats_file`,
//! `config.run_time`, `timestamp`) are derived when writing and dropped when reading.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Error as _, SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{RunSummary, SUMMARY_SCHEMA_VERSION};

/// Keys the seed's readers look for first, in the seed's order; the rest follow alphabetically.
const PHASE_KEYS_FIRST: [&str; 6] = ["name", "status", "duration_seconds", "config", "stats_file", "summary"];
const CONFIG_KEYS_FIRST: [&str; 3] = ["users", "spawn_rate", "run_time"];
const SUMMARY_KEYS_FIRST: [&str; 7] = [
    "total_requests",
    "failure_count",
    "median_response_ms",
    "avg_response_ms",
    "p95_response_ms",
    "p99_response_ms",
    "requests_per_sec",
];

impl Serialize for RunSummary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let flat = RunSummary::serialize(self, serde_json::value::Serializer).map_err(S::Error::custom)?;
        let Value::Object(mut top) = flat else {
            return Err(S::Error::custom("a run summary serializes to a JSON object"));
        };
        let phases = match top.remove("experiments") {
            Some(Value::Array(phases)) => phases,
            _ => Vec::new(),
        };
        // Whatever version was read, what is written is this build's shape.
        top.insert("schema_version".into(), SUMMARY_SCHEMA_VERSION.into());
        let mut fields = vec![
            ("timestamp".to_string(), Node::Plain(seed_timestamp(&self.started_at).into())),
            ("experiments".to_string(), group_by_suite(phases)),
        ];
        fields.extend(top.into_iter().map(|(k, v)| (k, Node::Plain(v))));
        Node::Object(fields).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RunSummary {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireIn::deserialize(deserializer)?;
        let mut top = wire.rest;
        top.remove("timestamp");
        top.insert("experiments".into(), Value::Array(wire.experiments.0));
        RunSummary::deserialize(Value::Object(top)).map_err(de::Error::custom)
    }
}

#[derive(Deserialize)]
struct WireIn {
    experiments: FlatPhases,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

/// The phases in file order, each with its `suite` key, whichever schema they came in.
struct FlatPhases(Vec<Value>);

impl<'de> Deserialize<'de> for FlatPhases {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FlatPhasesVisitor)
    }
}

struct FlatPhasesVisitor;

impl<'de> Visitor<'de> for FlatPhasesVisitor {
    type Value = FlatPhases;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object of suites, each a list of phases (schema 2), or a list of phases (schema 1)")
    }

    /// Schema 1: already flat, `suite` inside each phase.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FlatPhases, A::Error> {
        let mut phases = Vec::new();
        while let Some(phase) = seq.next_element::<Value>()? {
            phases.push(phase);
        }
        Ok(FlatPhases(phases))
    }

    /// Schema 2: the suite is the key; document order is the run's order.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FlatPhases, A::Error> {
        let mut phases = Vec::new();
        while let Some((suite, list)) = map.next_entry::<String, Vec<Value>>()? {
            phases.extend(list.into_iter().map(|phase| from_seed_phase(phase, &suite)));
        }
        Ok(FlatPhases(phases))
    }
}

fn from_seed_phase(phase: Value, suite: &str) -> Value {
    let Value::Object(mut m) = phase else { return phase };
    m.remove("duration_seconds");
    m.remove("stats_file");
    if let Some(Value::Object(config)) = m.get_mut("config") {
        config.remove("run_time");
    }
    m.insert("suite".into(), suite.into());
    Value::Object(m)
}

/// Suites in the order their first phase ran.
fn group_by_suite(phases: Vec<Value>) -> Node {
    let mut suites: Vec<(String, Vec<Node>)> = Vec::new();
    for phase in phases {
        let Value::Object(mut m) = phase else { continue };
        let suite = match m.remove("suite") {
            Some(Value::String(s)) => s,
            _ => String::new(),
        };
        let node = to_seed_phase(m);
        match suites.iter_mut().find(|(name, _)| *name == suite) {
            Some((_, list)) => list.push(node),
            None => suites.push((suite, vec![node])),
        }
    }
    Node::Object(suites.into_iter().map(|(suite, list)| (suite, Node::List(list))).collect())
}

fn to_seed_phase(mut m: Map<String, Value>) -> Node {
    let duration_seconds = m.get("duration_s").cloned().unwrap_or(Value::Null);
    let stats_file = m
        .get("files")
        .and_then(|f| f.get("stats_csv"))
        .cloned()
        .unwrap_or_else(|| Value::String(String::new()));
    let mut config = match m.remove("config") {
        Some(Value::Object(c)) => c,
        _ => Map::new(),
    };
    let run_time = config.get("duration_s").and_then(Value::as_f64).map(run_time_label).unwrap_or_default();
    config.insert("run_time".into(), run_time.into());
    m.insert("config".into(), Value::Object(config));
    m.insert("duration_seconds".into(), duration_seconds);
    m.insert("stats_file".into(), stats_file);
    let mut fields = Vec::new();
    for key in PHASE_KEYS_FIRST {
        if let Some(v) = m.remove(key) {
            let node = match (key, v) {
                ("config", Value::Object(c)) => ordered(c, &CONFIG_KEYS_FIRST),
                ("summary", Value::Object(c)) => ordered(c, &SUMMARY_KEYS_FIRST),
                (_, v) => Node::Plain(v),
            };
            fields.push((key.to_string(), node));
        }
    }
    fields.extend(m.into_iter().map(|(k, v)| (k, Node::Plain(v))));
    Node::Object(fields)
}

fn ordered(mut m: Map<String, Value>, first: &[&str]) -> Node {
    let mut fields: Vec<(String, Node)> =
        first.iter().filter_map(|k| m.remove(*k).map(|v| (k.to_string(), Node::Plain(v)))).collect();
    fields.extend(m.into_iter().map(|(k, v)| (k, Node::Plain(v))));
    Node::Object(fields)
}

/// Locust's `--run-time` spelling: `3m`, `1h30m`, `45s`; fractions of a second as `2.5s`.
pub(crate) fn run_time_label(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return String::new();
    }
    if seconds.fract() != 0.0 {
        return format!("{seconds}s");
    }
    // Whole seconds of a finite non-negative f64; `as` saturates past u64::MAX.
    let total = seconds as u64;
    let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// Our RFC 3339 `…Z` as `…+00:00`, which Python's `datetime.fromisoformat` reads in every version.
fn seed_timestamp(rfc3339: &str) -> String {
    match rfc3339.strip_suffix('Z') {
        Some(rest) => format!("{rest}+00:00"),
        None => rfc3339.to_string(),
    }
}

/// A JSON tree whose objects keep the order they were built in (serde_json's own `Map`
/// sorts its keys in this build).
enum Node {
    Plain(Value),
    Object(Vec<(String, Node)>),
    List(Vec<Node>),
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Plain(v) => v.serialize(serializer),
            Node::Object(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Node::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_time_reads_like_locust() {
        assert_eq!(run_time_label(180.0), "3m");
        assert_eq!(run_time_label(5400.0), "1h30m");
        assert_eq!(run_time_label(45.0), "45s");
        assert_eq!(run_time_label(0.0), "0s");
        assert_eq!(run_time_label(2.5), "2.5s");
        assert_eq!(run_time_label(f64::NAN), "");
    }

    #[test]
    fn timestamp_is_python_friendly() {
        assert_eq!(seed_timestamp("2026-12-03T08:41:52.774Z"), "2026-12-03T08:41:52.774+00:00");
        assert_eq!(seed_timestamp(""), "");
    }
}
