//! The JSON Schema of the profile format, for editors (yaml-language-server) and CI: the
//! `Raw*` shapes derive it (schemars), and what their hand-written `Deserialize` impls accept
//! (durations, counts, batch sizes, wait strategies) and the cross-field rules of their
//! `Check` impls are written here by hand. `assets/profile.schema.json` is this output; a test
//! fails when they drift. Checks a schema cannot state (a name used twice, a behaviour that
//! is not defined, `min` above `max`, overlapping faults, an unset `${VAR}`) stay the
//! loader's alone; docs/install-and-shell.md lists them.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Value, json};

use super::raw::{FAULT_ACTIONS, FAULT_SERVICES, RawHeaders, RawProfile, RawRetryOn, RawWait};
use super::values::{
    BehaviourKey, BehaviourRef, Checked, Count, Dur, Millis, NonEmpty, PhaseName, PosDur, Positive,
    Probability, ProfileName, RawArrival, RawBatchSize, Slots, SuiteName,
};

/// Where the shipped profiles find the schema (relative to `profiles/`), and where it lives
/// in the repository.
pub const SCHEMA_PATH: &str = "assets/profile.schema.json";
/// The first line of every shipped profile: yaml-language-server reads the schema from it.
pub const SCHEMA_MODELINE: &str = "# yaml-language-server: $schema=../assets/profile.schema.json";

/// The schema as pretty JSON with a final newline: exactly the text of [`SCHEMA_PATH`].
pub fn profile_schema_json() -> String {
    let mut root = profile_schema();
    root.insert("title".into(), json!("terrafix-tui experiment profile"));
    root.insert(
        "description".into(),
        json!(
            "A profile of terrafix-tui: phases of load against the TerraFix webhook API (docs/profiles.md)."
        ),
    );
    // Serializing a map of JSON values cannot fail; the fallback keeps `unwrap` out of src/.
    let mut text = serde_json::to_string_pretty(&root).unwrap_or_default();
    text.push('\n');
    text
}

/// Draft-07: the newest draft yaml-language-server checks in full.
fn profile_schema() -> Schema {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    generator.into_root_schema_for::<Checked<RawProfile>>()
}

/// Implements `JsonSchema` with a fixed schema under a readable name.
macro_rules! schema_by_hand {
    ($ty:ty, $name:literal, $schema:tt) => {
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!($schema)
            }
        }
    };
}

/// `30s`, `5m`, `1h30m`, `500ms`, `1.5s`: what `parse_duration` reads.
const DURATION_PATTERN: &str = r"^\s*((\d+\.?\d*|\.\d+)(h|ms|m|s))+\s*$";
/// A duration whose every part is zero (`0s`, `0m0s`).
const ZERO_DURATION_PATTERN: &str = r"^\s*((0+\.?0*|\.0+)(h|ms|m|s))+\s*$";
/// A suite, phase or behaviour name: one file name of letters, digits, `_`, `-`, `.`.
const IDENTIFIER_PATTERN: &str = r"^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,99}$";

schema_by_hand!(Dur, "Duration", {
    "description": "A duration such as 30s, 5m, 1h30m or 500ms (units h, m, s, ms; zero allowed).",
    "type": "string",
    "pattern": DURATION_PATTERN
});
schema_by_hand!(PosDur, "PositiveDuration", {
    "description": "A duration above zero such as 30s, 5m, 1h30m or 500ms (units h, m, s, ms).",
    "type": "string",
    "pattern": DURATION_PATTERN,
    "not": { "pattern": ZERO_DURATION_PATTERN }
});
schema_by_hand!(Count, "Count", {
    "description": "A whole number of at least 1.",
    "type": "integer",
    "minimum": 1,
    "maximum": u32::MAX
});
schema_by_hand!(Positive, "Positive", {
    "description": "A number above 0.",
    "type": "number",
    "exclusiveMinimum": 0
});
schema_by_hand!(Probability, "Share", {
    "description": "A share between 0 and 1, e.g. 0.1 for 10 %.",
    "type": "number",
    "minimum": 0,
    "maximum": 1
});
schema_by_hand!(Millis, "Milliseconds", {
    "description": "Milliseconds, within the bounds the mock enforces.",
    "type": "number",
    "minimum": 0,
    "maximum": super::bounds::MAX_SETTING_MS
});
schema_by_hand!(Slots, "Slots", {
    "description": "A whole number of slots; 0 turns the limit off.",
    "type": "integer",
    "minimum": 0,
    "maximum": super::bounds::MAX_SLOTS
});
schema_by_hand!(SuiteName, "SuiteName", {
    "description": "The suite: the folder a phase's CSVs and hlog go in.",
    "type": "string",
    "pattern": IDENTIFIER_PATTERN,
    "not": { "enum": [".", ".."] }
});
schema_by_hand!(PhaseName, "PhaseName", {
    "description": "A phase name, unique within the profile (letters, digits, _, -, .).",
    "type": "string",
    "pattern": IDENTIFIER_PATTERN,
    "not": { "enum": [".", ".."] }
});
schema_by_hand!(ProfileName, "ProfileName", {
    "description": "The profile's name: free text that names the run folder, never a path.",
    "type": "string",
    "minLength": 1,
    "maxLength": crate::fsio::MAX_COMPONENT_LEN,
    "pattern": r"^[^/\\\u0000-\u001f\u007f]*$",
    "not": { "pattern": r"^\.*$" }
});
schema_by_hand!(BehaviourRef, "BehaviourRef", {
    "description": "A behaviour: built in (throughput, burst, resilience, scalability, cascade, mixed) or one defined under `behaviours:`.",
    "type": "string",
    "examples": super::builtin::BUILTIN_BEHAVIOURS
});
schema_by_hand!(RawBatchSize, "BatchSize", {
    "description": "Failures per batch: a number like 5, a range like 5..20, or cascade.",
    "oneOf": [
        { "type": "integer", "minimum": 1, "maximum": 10000 },
        { "type": "string", "enum": ["cascade"] },
        { "type": "string", "pattern": r"^\s*\+?\d{1,5}\s*\.\.\s*=*\+?\d{1,5}\s*$" }
    ]
});
schema_by_hand!(RawArrival, "ArrivalRate", {
    "description": "Arrivals per second: a constant rate above 0, or a linear ramp {from: 10, to: 100}.",
    "oneOf": [
        { "type": "number", "exclusiveMinimum": 0 },
        {
            "type": "object",
            "additionalProperties": false,
            "required": ["from", "to"],
            "properties": {
                "from": { "type": "number", "exclusiveMinimum": 0 },
                "to": { "type": "number", "exclusiveMinimum": 0 }
            }
        }
    ]
});
schema_by_hand!(RawRetryOn, "RetryOn", {
    "description": "An outcome that is retried: an HTTP status, `timeout` or `connection`.",
    "oneOf": [
        { "type": "integer", "minimum": 100, "maximum": 599 },
        { "type": "string", "enum": ["timeout", "connection"] }
    ]
});
schema_by_hand!(RawHeaders, "Headers", {
    "description": "Extra request headers, name: value; a value may read the environment as ${VAR}.",
    "type": "object",
    "propertyNames": {
        "pattern": r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$",
        "not": {
            "pattern": "^([Hh][Oo][Ss][Tt]|[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[Ll][Ee][Nn][Gg][Tt][Hh]|[Tt][Rr][Aa][Nn][Ss][Ff][Ee][Rr]-[Ee][Nn][Cc][Oo][Dd][Ii][Nn][Gg]|[Cc][Oo][Nn][Nn][Ee][Cc][Tt][Ii][Oo][Nn])$"
        }
    },
    "additionalProperties": { "type": "string", "pattern": r"^[^\u0000-\u0008\u000a-\u001f\u007f]*$" }
});

impl JsonSchema for BehaviourKey {
    fn schema_name() -> Cow<'static, str> {
        "BehaviourName".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The name of a behaviour of your own; the built-in names are taken.",
            "type": "string",
            "pattern": IDENTIFIER_PATTERN,
            "not": { "enum": [".", "..", "throughput", "burst", "resilience", "scalability", "cascade", "mixed"] }
        })
    }
}

impl JsonSchema for RawWait {
    fn schema_name() -> Cow<'static, str> {
        "Wait".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let one = |key: &str, value: Schema| {
            json!({
                "type": "object",
                "additionalProperties": false,
                "required": [key],
                "properties": { key: value }
            })
        };
        json_schema!({
            "description": "How long a user waits between tasks: cascade, or one of {constant: 1s}, {between: {min: 1s, max: 3s}}, {constant_pacing: 1s}, {constant_throughput: 2}.",
            "oneOf": [
                { "type": "string", "enum": ["cascade"] },
                one("constant", generator.subschema_for::<Dur>()),
                one("between", generator.subschema_for::<super::raw::RawBetween>()),
                one("constant_pacing", generator.subschema_for::<PosDur>()),
                one("constant_throughput", generator.subschema_for::<Positive>()),
                one("cascade", json_schema!(true))
            ]
        })
    }
}

/// A mapping checked after parsing has the schema of the mapping (its `Check` rules are
/// part of that schema, through the `transform`s below).
impl<T: JsonSchema> JsonSchema for Checked<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

impl<T: JsonSchema> JsonSchema for NonEmpty<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("NonEmpty_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "array", "minItems": 1, "items": generator.subschema_for::<T>() })
    }
}

/// Adds `rules` to the schema under `allOf`.
fn add_rules(schema: &mut Schema, rules: Vec<Value>) {
    schema.insert("allOf".into(), Value::Array(rules));
}

/// A profile has `phases:` (a list) or a `capacity:` search, or both.
pub(super) fn profile_rules(schema: &mut Schema) {
    // The keys' own pattern becomes `patternProperties`; the taken names need saying here.
    if let Some(behaviours) = schema.pointer_mut("/properties/behaviours").and_then(Value::as_object_mut) {
        behaviours.insert(
            "propertyNames".into(),
            json!({ "not": { "enum": [".", "..", "throughput", "burst", "resilience", "scalability", "cascade", "mixed"] } }),
        );
    }
    add_rules(
        schema,
        vec![json!({ "anyOf": [
            { "required": ["phases"], "properties": { "phases": { "type": "array" } } },
            { "required": ["capacity"], "properties": { "capacity": { "type": "object" } } }
        ] })],
    );
}

/// A phase is closed (`users`, maybe `spawn_rate`) or open (`arrival_rate`, maybe
/// `max_in_flight`), never both.
pub(super) fn phase_rules(schema: &mut Schema) {
    add_rules(
        schema,
        vec![
            json!({ "oneOf": [{ "required": ["users"] }, { "required": ["arrival_rate"] }] }),
            json!({ "dependencies": { "spawn_rate": ["users"], "max_in_flight": ["arrival_rate"] } }),
        ],
    );
}

/// A batch task has a `size:`; no other kind has one.
pub(super) fn task_rules(schema: &mut Schema) {
    add_rules(
        schema,
        vec![json!({
            "if": { "properties": { "kind": { "const": "batch" } } },
            "then": { "required": ["size"] },
            "else": { "not": { "required": ["size"] } }
        })],
    );
}

/// A fault has `for:` or `until:`, and either `server:` settings or a `service:` with an
/// `action:`.
pub(super) fn fault_rules(schema: &mut Schema) {
    let has = |key: &str| json!({ "required": [key] });
    add_rules(
        schema,
        vec![
            json!({ "oneOf": [has("for"), has("until")] }),
            json!({ "oneOf": [
                { "required": ["server"], "not": { "anyOf": [has("service"), has("action")] } },
                { "required": ["service", "action"], "not": has("server") }
            ] }),
        ],
    );
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        properties.insert("service".into(), json!({ "type": "string", "enum": FAULT_SERVICES }));
        properties.insert(
            "action".into(),
            json!({ "description": "Undone at the window's end.", "type": "string", "enum": FAULT_ACTIONS }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_is_draft_07_and_closes_the_top_level_mapping() {
        let schema: Value = serde_json::from_str(&profile_schema_json()).unwrap_or_default();
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
        assert_eq!(schema["additionalProperties"], false);
        assert!(schema["properties"]["phases"].is_object(), "{schema:#}");
    }
}
