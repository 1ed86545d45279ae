//! What ships inside the binary: the seed's six user classes as behaviours, and the
//! profile YAML files of `profiles/` (compiled in with `include_str!`).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use super::types::{BatchSize, Behaviour, RequestKind, Task, WaitStrategy};

/// Built-in behaviour names, in the order the seed's Locust file declares them.
pub const BUILTIN_BEHAVIOURS: [&str; 6] =
    ["throughput", "burst", "resilience", "scalability", "cascade", "mixed"];

/// Shipped profiles: name and YAML text. `all` is built from the three suites.
pub const SHIPPED: [(&str, &str); 5] = [
    ("smoke", include_str!("../../profiles/smoke.yaml")),
    ("throughput", include_str!("../../profiles/throughput.yaml")),
    ("resilience", include_str!("../../profiles/resilience.yaml")),
    ("scalability", include_str!("../../profiles/scalability.yaml")),
    ("capacity", include_str!("../../profiles/capacity.yaml")),
];

/// The suites `all` runs, in order.
pub const ALL_SUITES: [&str; 3] = ["throughput", "resilience", "scalability"];

fn weight(w: u32) -> NonZeroU32 {
    // Every call site passes a literal above zero.
    NonZeroU32::new(w).unwrap_or(NonZeroU32::MIN)
}

fn task(w: u32, kind: RequestKind, name: &str) -> Task {
    Task { weight: weight(w), kind, name: name.to_string(), headers: Vec::new() }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// The seed's user class of this name (same task weights, waits and request names).
pub fn builtin_behaviour(name: &str) -> Option<Behaviour> {
    use RequestKind::*;
    let (wait, tasks) = match name {
        "throughput" => (
            WaitStrategy::ConstantPacing(secs(1.0)),
            vec![task(10, Webhook, "/webhook [throughput]"), task(1, Health, "/health [throughput]")],
        ),
        "burst" => (
            WaitStrategy::Between(secs(0.1), secs(0.5)),
            vec![
                task(3, Webhook, "/webhook [burst]"),
                task(7, Batch(BatchSize::Range(5, 20)), "/batch[{n}] [burst]"),
            ],
        ),
        "resilience" => (
            WaitStrategy::Between(secs(0.5), secs(2.0)),
            vec![
                task(8, Webhook, "/webhook [resilience-unique]"),
                task(2, Duplicate, "/webhook [resilience-duplicate]"),
            ],
        ),
        "scalability" => (
            WaitStrategy::Between(secs(1.0), secs(3.0)),
            vec![task(1, Webhook, "/webhook [scalability-{size}]")],
        ),
        "cascade" => {
            (WaitStrategy::Cascade, vec![task(1, Batch(BatchSize::Cascade), "/batch [cascade-{n}]")])
        }
        "mixed" => (
            WaitStrategy::Between(secs(0.5), secs(5.0)),
            vec![
                task(60, Webhook, "/webhook [mixed-steady]"),
                task(20, Batch(BatchSize::Fixed(3)), "/batch[{n}] [mixed]"),
                task(10, Batch(BatchSize::Fixed(10)), "/batch[{n}] [mixed]"),
                task(5, Batch(BatchSize::Fixed(25)), "/batch[{n}] [mixed]"),
                task(5, HealthAndStatus, "{endpoint} [mixed]"),
            ],
        ),
        _ => return None,
    };
    Some(Behaviour { name: name.to_string(), wait, tasks, retry: None })
}

/// All built-in behaviours, shared.
pub fn builtin_behaviours() -> Vec<Arc<Behaviour>> {
    BUILTIN_BEHAVIOURS.iter().filter_map(|n| builtin_behaviour(n)).map(Arc::new).collect()
}
