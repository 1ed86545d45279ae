//! The run-wide series: counters and histograms that only grow while the run lasts (phases
//! add to them, never reset them), gauges of the latest second, and the run's identity.

use std::collections::BTreeMap;

use crate::metrics::{FailureKind, LatencyHistogram};

/// Upper bounds of the latency histogram's buckets, in seconds: from 100 µs (a loopback
/// answer) to 60 s (past any client timeout this tool allows by default).
pub const BUCKET_BOUNDS_S: [f64; 18] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    30.0, 60.0,
];

/// (method, name, status class) of a request counter.
type RequestKey = (String, String, String);
/// (method, name, failure kind) of a failure counter.
type FailureKey = (String, String, String);

/// One request name's latency in the buckets above, cumulative over the run.
#[derive(Clone, Debug, Default, PartialEq)]
struct Buckets {
    /// Count at or below each bound of [`BUCKET_BOUNDS_S`] (not yet cumulative).
    per_bucket: [u64; BUCKET_BOUNDS_S.len()],
    /// Over the last bound (the `+Inf` bucket's own share).
    overflow: u64,
    sum_s: f64,
}

impl Buckets {
    fn add(&mut self, latency: &LatencyHistogram) {
        for (value_us, count) in latency.recorded_values_us() {
            let value_s = value_us as f64 / 1e6;
            match BUCKET_BOUNDS_S.iter().position(|bound| value_s <= *bound) {
                Some(i) => self.per_bucket[i] += count,
                None => self.overflow += count,
            }
        }
        self.sum_s += latency.mean_ms() / 1000.0 * latency.count() as f64;
    }

    fn count(&self) -> u64 {
        self.per_bucket.iter().sum::<u64>() + self.overflow
    }
}

/// The latest second's gauges. `None`: the figure does not apply (a target arrival rate in
/// a closed-model phase; the generator's CPU where the generators are remote workers).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gauges {
    /// Virtual users running (closed model): `terrafix_users`.
    pub users: u32,
    /// Requests sent and not yet answered: `terrafix_in_flight`.
    pub in_flight: u64,
    /// Arrivals per second the open-model schedule asks for now.
    pub target_arrival_rate: Option<f64>,
    /// Requests completed in the last second, per second.
    pub achieved_rate: f64,
    /// 99th percentile of how late sends left against their schedule over the phase so
    /// far, in seconds.
    pub schedule_lag_p99_s: Option<f64>,
    /// The generator's CPU over the phase so far as a share of the machine, in [0, 1].
    pub generator_cpu_ratio: Option<f64>,
}

/// Everything `/metrics` and the pusher publish, kept by the run and read by both.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveSeries {
    run_id: String,
    profile: String,
    phase: String,
    requests: BTreeMap<RequestKey, u64>,
    failures: BTreeMap<FailureKey, u64>,
    latency: BTreeMap<String, Buckets>,
    gauges: Gauges,
}

/// Whether a family is a counter, a gauge or a histogram (its `# TYPE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FamilyKind {
    /// Only goes up over the run (requests, failures).
    Counter,
    /// A value that goes up and down (users, rates).
    Gauge,
    /// Cumulative buckets with `_sum` and `_count` (latency).
    Histogram,
}

impl FamilyKind {
    /// The word for `# TYPE` lines: `counter`, `gauge` or `histogram`.
    pub fn word(self) -> &'static str {
        match self {
            FamilyKind::Counter => "counter",
            FamilyKind::Gauge => "gauge",
            FamilyKind::Histogram => "histogram",
        }
    }
}

/// A sample's labels, in the order they are printed.
pub type Labels = Vec<(&'static str, String)>;

/// One metric family with its samples: each sample's full name (a histogram's have
/// `_bucket`, `_sum`, `_count`), labels in order, and value.
#[derive(Clone, Debug, PartialEq)]
pub struct Family {
    /// The family's name (`terrafix_requests_total`).
    pub name: &'static str,
    /// Its `# HELP` text, one line.
    pub help: &'static str,
    /// Its `# TYPE`.
    pub kind: FamilyKind,
    /// (full sample name, labels, value) in print order.
    pub samples: Vec<(String, Labels, f64)>,
}

impl Family {
    fn new(name: &'static str, kind: FamilyKind, help: &'static str) -> Family {
        Family { name, help, kind, samples: Vec::new() }
    }

    fn push(&mut self, labels: Labels, value: f64) {
        self.samples.push((self.name.to_string(), labels, value));
    }
}

/// The status class a failure kind is counted under: `5xx` for an HTTP 503, `none` where
/// no answer came (connection, timeout, dropped, …).
fn status_class(kind: &FailureKind) -> String {
    match kind {
        FailureKind::Http(code) => format!("{}xx", code / 100),
        _ => "none".to_string(),
    }
}

/// A failure kind as a label value: `http_503`, `connection`, `timeout`, …
pub fn kind_label(kind: &FailureKind) -> String {
    match kind {
        FailureKind::Http(code) => format!("http_{code}"),
        FailureKind::Connection => "connection".into(),
        FailureKind::Timeout => "timeout".into(),
        FailureKind::Dropped => "dropped".into(),
        FailureKind::Other => "other".into(),
        FailureKind::HeadTooLarge => "head_too_large".into(),
    }
}

impl LiveSeries {
    /// The run's identity, for `terrafix_run_info`.
    pub fn start_run(&mut self, run_id: &str, profile: &str) {
        self.run_id = run_id.to_string();
        self.profile = profile.to_string();
    }

    /// One second of one request name: its successes (as `2xx`) and its latencies. Its
    /// failures are added by kind with [`LiveSeries::add_failures`].
    pub fn add_window(&mut self, method: &str, name: &str, successes: u64, latency: &LatencyHistogram) {
        if successes > 0 {
            *self.requests.entry((method.into(), name.into(), "2xx".into())).or_default() += successes;
        }
        if !latency.is_empty() {
            self.latency.entry(name.to_string()).or_default().add(latency);
        }
    }

    /// `count` more failures of one kind on one request name (each also a request).
    pub fn add_failures(&mut self, method: &str, name: &str, kind: &FailureKind, count: u64) {
        if count == 0 {
            return;
        }
        *self.requests.entry((method.into(), name.into(), status_class(kind))).or_default() += count;
        *self.failures.entry((method.into(), name.into(), kind_label(kind))).or_default() += count;
    }

    /// The latest second's gauges, and the phase they belong to.
    pub fn set_gauges(&mut self, phase: &str, gauges: Gauges) {
        if self.phase != phase {
            self.phase = phase.to_string();
        }
        self.gauges = gauges;
    }

    /// Requests counted so far, over every name and class.
    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }

    /// Every family, in a fixed order; empty families are left out.
    pub fn families(&self) -> Vec<Family> {
        let mut out = vec![self.request_family(), self.failure_family(), self.latency_family()];
        out.extend(self.gauge_families());
        out.push(self.info_family());
        out.retain(|f| !f.samples.is_empty());
        out
    }

    fn request_family(&self) -> Family {
        let mut f = Family::new(
            "terrafix_requests_total",
            FamilyKind::Counter,
            "Requests completed (failures included).",
        );
        for ((method, name, class), n) in &self.requests {
            f.push(
                vec![("name", name.clone()), ("method", method.clone()), ("status_class", class.clone())],
                *n as f64,
            );
        }
        f
    }

    fn failure_family(&self) -> Family {
        let mut f = Family::new("terrafix_failures_total", FamilyKind::Counter, "Failed requests by kind.");
        for ((method, name, kind), n) in &self.failures {
            f.push(
                vec![("name", name.clone()), ("method", method.clone()), ("kind", kind.clone())],
                *n as f64,
            );
        }
        f
    }

    fn latency_family(&self) -> Family {
        let mut f = Family::new(
            "terrafix_request_duration_seconds",
            FamilyKind::Histogram,
            "Request latency from send to the whole answer.",
        );
        for (name, b) in &self.latency {
            let mut cumulative = 0;
            for (bound, n) in BUCKET_BOUNDS_S.iter().zip(b.per_bucket) {
                cumulative += n;
                let labels = vec![("name", name.clone()), ("le", bound.to_string())];
                f.samples.push((format!("{}_bucket", f.name), labels, cumulative as f64));
            }
            let count = b.count() as f64;
            let labels = vec![("name", name.clone()), ("le", "+Inf".to_string())];
            f.samples.push((format!("{}_bucket", f.name), labels, count));
            f.samples.push((format!("{}_sum", f.name), vec![("name", name.clone())], b.sum_s));
            f.samples.push((format!("{}_count", f.name), vec![("name", name.clone())], count));
        }
        f
    }

    fn gauge_families(&self) -> Vec<Family> {
        let g = &self.gauges;
        let gauge = |name, help, value: Option<f64>| {
            let mut f = Family::new(name, FamilyKind::Gauge, help);
            if let Some(v) = value.filter(|v| v.is_finite()) {
                f.push(Vec::new(), v);
            }
            f
        };
        if self.run_id.is_empty() && self.phase.is_empty() {
            return Vec::new();
        }
        vec![
            gauge("terrafix_users", "Virtual users running (closed model).", Some(f64::from(g.users))),
            gauge("terrafix_in_flight", "Requests sent and not yet answered.", Some(g.in_flight as f64)),
            gauge(
                "terrafix_target_arrival_rate",
                "Arrivals per second the open-model schedule asks for now.",
                g.target_arrival_rate,
            ),
            gauge(
                "terrafix_achieved_rate",
                "Requests completed in the last second, per second.",
                Some(g.achieved_rate),
            ),
            gauge(
                "terrafix_schedule_lag_p99_seconds",
                "99th percentile of how late sends left against their schedule, over the phase so far.",
                g.schedule_lag_p99_s,
            ),
            gauge(
                "terrafix_generator_cpu_ratio",
                "The generator's CPU over the phase so far, as a share of the machine (0..1).",
                g.generator_cpu_ratio,
            ),
        ]
    }

    fn info_family(&self) -> Family {
        let mut f = Family::new(
            "terrafix_run_info",
            FamilyKind::Gauge,
            "The run's id, profile and current phase (always 1).",
        );
        if !self.run_id.is_empty() {
            let labels = vec![
                ("run_id", self.run_id.clone()),
                ("profile", self.profile.clone()),
                ("phase", self.phase.clone()),
            ];
            f.push(labels, 1.0);
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn latencies(ms: &[u64]) -> LatencyHistogram {
        let mut h = LatencyHistogram::new();
        for m in ms {
            h.record(Duration::from_millis(*m));
        }
        h
    }

    #[test]
    fn counters_add_up_across_windows_and_classes() {
        let mut s = LiveSeries::default();
        s.add_window("POST", "/webhook", 3, &latencies(&[1, 2, 3]));
        s.add_failures("POST", "/webhook", &FailureKind::Http(503), 2);
        s.add_failures("POST", "/webhook", &FailureKind::Timeout, 1);
        s.add_window("POST", "/webhook", 1, &latencies(&[70_000]));
        assert_eq!(s.total_requests(), 7);
        let requests = &s.families()[0];
        let classes: Vec<(&str, f64)> =
            requests.samples.iter().map(|(_, l, v)| (l[2].1.as_str(), *v)).collect();
        assert_eq!(classes, vec![("2xx", 4.0), ("5xx", 2.0), ("none", 1.0)]);
        let failures = &s.families()[1];
        assert_eq!(failures.samples[0].1[2].1, "http_503");
    }

    #[test]
    fn buckets_are_cumulative_and_the_slowest_lands_in_inf_only() {
        let mut s = LiveSeries::default();
        s.add_window("GET", "/health", 3, &latencies(&[1, 20, 70_000]));
        let histogram =
            s.families().into_iter().find(|f| f.kind == FamilyKind::Histogram).expect("histogram");
        let bucket = |le: &str| {
            histogram
                .samples
                .iter()
                .find(|(_, l, _)| l.iter().any(|(k, v)| *k == "le" && v == le))
                .map(|s| s.2)
        };
        assert_eq!(bucket("0.001"), Some(1.0));
        assert_eq!(bucket("0.025"), Some(2.0));
        assert_eq!(bucket("60"), Some(2.0));
        assert_eq!(bucket("+Inf"), Some(3.0));
        let sum = histogram.samples.iter().find(|(n, _, _)| n.ends_with("_sum")).map(|s| s.2).unwrap_or(0.0);
        assert!((sum - 70.021).abs() < 0.1, "{sum}");
    }

    #[test]
    fn gauges_that_do_not_apply_are_left_out() {
        let mut s = LiveSeries::default();
        s.start_run("r1", "smoke");
        s.set_gauges("warmup", Gauges { users: 5, ..Default::default() });
        let names: Vec<&str> = s.families().iter().map(|f| f.name).collect();
        assert!(names.contains(&"terrafix_users") && names.contains(&"terrafix_run_info"), "{names:?}");
        assert!(!names.contains(&"terrafix_target_arrival_rate"), "{names:?}");
    }
}
