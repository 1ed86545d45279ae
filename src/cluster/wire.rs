//! What travels between the coordinator and its workers, as JSON in Redis Stream entries:
//! the run's plan, the coordinator's commands, and each worker's per-second interval data
//! (histograms as base64 V2-deflate, exactly as an `.hlog` line carries them).

#![deny(missing_docs)]

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::engine::aggregate::{FailureTotals, PhaseTotals, Tick, Totals};
use crate::engine::recorder::{METHODS, Messages, NameKey, RetryCounts};
use crate::engine::{Steer, TickReport};
use crate::metrics::FailureKind;
use crate::metrics::hlog::{HistogramCodecError, decode_histogram, encode_histogram};
use crate::profile::Phase;

/// Everything a worker needs to run its share of every phase. Written once per run.
#[derive(Clone, Serialize, Deserialize)]
pub struct Plan {
    /// The run folder's name; names the Redis streams and the Swarm service's labels.
    pub run_id: String,
    /// Generators in the run; each runs an even share of every phase's users or arrival rate.
    pub workers: u32,
    /// The run's seed; each worker derives its own from it and its index.
    pub seed: u64,
    /// Whether every user's pacing starts on the same tick (the profile's `lockstep_start`).
    pub lockstep_start: bool,
    /// The target as the workers reach it (a container name on the overlay network).
    pub target: url::Url,
    /// The profile's phases, already scaled and filtered, in run order.
    pub phases: Vec<Phase>,
    /// Per-request timeout in milliseconds.
    pub request_timeout_ms: u64,
    /// Connect (and TLS handshake) timeout in milliseconds.
    pub connect_timeout_ms: u64,
    /// Header values are secrets: the plan is deleted from Redis when the run ends.
    pub headers: Vec<(String, String)>,
    /// How workers check the target's certificate.
    pub tls: PlanTls,
    /// `--http2`: offer h2 in ALPN, as the coordinator did when it checked the target.
    #[serde(default)]
    pub http2: bool,
}

/// Header values are secrets: `Debug` shows their names only.
impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Plan {
            run_id,
            workers,
            seed,
            lockstep_start,
            target,
            phases,
            request_timeout_ms,
            connect_timeout_ms,
            headers,
            tls,
            http2,
        } = self;
        f.debug_struct("Plan")
            .field("run_id", run_id)
            .field("workers", workers)
            .field("seed", seed)
            .field("lockstep_start", lockstep_start)
            .field("target", target)
            .field("phases", phases)
            .field("request_timeout_ms", request_timeout_ms)
            .field("connect_timeout_ms", connect_timeout_ms)
            .field("headers", &crate::profile::debug_header_names(headers.iter().map(|(n, _)| n)))
            .field("tls", tls)
            .field("http2", http2)
            .finish()
    }
}

/// How workers check the target's certificate (a CA file travels as its PEM text).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub enum PlanTls {
    /// Verify against the bundled public (webpki) roots.
    #[default]
    PublicRoots,
    /// Verify against this CA, as PEM text (the file's content, not its path).
    WithCaPem(String),
    /// `--insecure`: do not check the certificate.
    Insecure,
}

/// The coordinator's commands, in order on the run's control stream.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Control {
    /// Start phase `index` at this instant (ms since the epoch), all workers together.
    Phase {
        /// 0-based index of the phase in the plan.
        index: usize,
        /// The shared start instant, milliseconds since the Unix epoch.
        start_unix_ms: u64,
    },
    /// End phase `index` now (skip or abort).
    Stop {
        /// 0-based index of the phase to end (a stale index is ignored).
        index: usize,
    },
    /// Live steering of phase `index`: this worker's share is computed on its side.
    Steer {
        /// 0-based index of the phase it applies to.
        index: usize,
        /// The change, in whole-run values.
        steer: WireSteer,
    },
    /// The run is over: exit.
    End,
}

/// A live steering change as it travels to the workers (whole-run values; each worker takes its share).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum WireSteer {
    /// Closed model: the new user count of the whole run.
    Users(u32),
    /// Open model: the new arrival rate of the whole run, per second.
    ArrivalRate(f64),
    /// Lengthen the phase by this many milliseconds.
    ExtendMs(u64),
}

impl WireSteer {
    /// The engine's steering change in its wire form (an extension saturates at `u64::MAX` ms).
    pub fn of(steer: Steer) -> WireSteer {
        match steer {
            Steer::Users(n) => WireSteer::Users(n),
            Steer::ArrivalRate(r) => WireSteer::ArrivalRate(r),
            Steer::Extend(d) => WireSteer::ExtendMs(d.as_millis().min(u128::from(u64::MAX)) as u64),
        }
    }
}

/// A worker's messages on the run's data stream.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Data {
    /// A task started: `worker` is its index (Swarm slot − 1), `attempt` its task id.
    Hello {
        /// The worker's index (Swarm slot − 1).
        worker: u32,
        /// The Swarm task id of this attempt.
        attempt: String,
    },
    /// One second of the worker's measurements.
    Tick(Box<WireTick>),
    /// The worker's share of phase `phase` is over (everything it measured was sent before).
    Done(WireDone),
    /// The worker cannot go on (bad plan, target unreachable at setup): why, in words.
    Failed {
        /// The worker's index (Swarm slot − 1).
        worker: u32,
        /// The Swarm task id of this attempt.
        attempt: String,
        /// Why, in words, as the run's notes show it.
        message: String,
    },
}

/// A worker's end-of-phase report: how long it ran and what it measured about itself.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WireDone {
    /// The worker's index (Swarm slot − 1).
    pub worker: u32,
    /// The Swarm task id of the attempt that ran the phase.
    pub attempt: String,
    /// 0-based index of the phase in the plan.
    pub phase: usize,
    /// How long the worker sent load in the phase, in seconds.
    pub ran_for_s: f64,
    /// Requests still running after the drain grace, dropped uncounted.
    pub abandoned: u64,
    /// CPU seconds the worker's process used in the phase.
    pub cpu_s: f64,
    /// `cpu_s` ÷ (wall time × `cores`), 0–1.
    pub cpu_share: f64,
    /// Cores of the worker's machine (its share's divisor).
    pub cores: usize,
    /// The longest the worker's event loop was late waking a 10 ms timer (ms).
    pub worst_stall_ms: f64,
    /// Connections the worker opened in the phase, failed connects, and their times (encoded).
    #[serde(default)]
    pub connects: u64,
    /// Connection attempts that failed.
    #[serde(default)]
    pub connect_failed: u64,
    /// Connect times (TLS included) as an encoded µs histogram (`encode_histogram`); empty when none.
    #[serde(default)]
    pub connect_time: String,
}

/// One second of one worker: the window's histograms per name, and its cumulative counters
/// (sent whole each time, so a lost entry loses no count).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WireTick {
    /// The worker's index (Swarm slot − 1).
    pub worker: u32,
    /// The Swarm task id of the attempt sending it.
    pub attempt: String,
    /// 0-based index of the phase in the plan.
    pub phase: usize,
    /// The tick's sequence number within the phase, from 1: gaps show lost entries.
    pub seq: u64,
    /// When the window closed, seconds since the Unix epoch.
    pub at_unix_s: f64,
    /// The window's length in seconds (about 1; the last may be shorter).
    pub window_s: f64,
    /// Seconds since the worker started the phase.
    pub phase_elapsed_s: f64,
    /// Closed model: the worker's users running now; 0 for an open phase.
    pub users: u32,
    /// The worker's requests unanswered at the window's end.
    pub in_flight: u64,
    /// True for the last, possibly partial, window after the phase stopped.
    pub is_final: bool,
    /// Per request name: this window's figures.
    pub names: Vec<WireName>,
    /// One line per (name, kind) that failed in this window, for "recent errors".
    pub error_samples: Vec<String>,
    /// The worker's phase totals so far (sent whole, so a lost tick loses no count).
    pub cumulative: Cumulative,
}

/// One request name's figures in one window of one worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WireName {
    /// HTTP method, `GET` or `POST` (any other reads as the first of `METHODS`).
    pub method: String,
    /// The task's request name (e.g. `/webhook [throughput]`).
    pub name: String,
    /// The window's latencies as an encoded µs histogram (`encode_histogram`).
    pub latency: String,
    /// Requests completed in the window, failures included.
    pub requests: u64,
    /// Of `requests`, how many failed.
    pub failures: u64,
    /// Answer body bytes received in the window.
    pub content_bytes: u64,
}

/// A worker's phase totals so far (everything that is not per window).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Cumulative {
    /// Failures by name and kind so far.
    pub failures: Vec<WireFailure>,
    /// Payloads sent that were known resends of earlier ones.
    pub duplicates_sent: u64,
    /// Open model: arrivals not sent because `max_in_flight` were busy.
    pub dropped: u64,
    /// Items of `/batch` posts the answers reported as failed (not in the request failures).
    pub batch_items_failed: u64,
    /// Unique payloads and resends answered or unanswered so far (exactly-once accounting).
    #[serde(default)]
    pub delivery: crate::engine::recorder::Delivery,
    /// Retry counters so far (logical requests, attempts, recovered, …).
    pub retry: RetryCounts,
    /// Schedule lag over the phase so far (µs histogram, encoded).
    pub lag: String,
    /// Paced users' response time from the planned start so far (µs histogram, encoded).
    #[serde(default)]
    pub response: String,
    /// Answered `/webhook` and `/batch` posts so far (µs histograms, encoded).
    #[serde(default)]
    pub webhook: String,
    /// Answered `/batch` posts (µs histogram, encoded); see `webhook`.
    #[serde(default)]
    pub batch: String,
}

/// Failures of one kind for one request name, as a worker has counted them so far.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WireFailure {
    /// HTTP method, `GET` or `POST`.
    pub method: String,
    /// The task's request name (e.g. `/webhook [throughput]`).
    pub name: String,
    /// Why they failed.
    pub kind: FailureKind,
    /// How many so far.
    pub count: u64,
    /// The first failure's message.
    pub first_message: String,
    /// Each distinct message with its count (bounded).
    pub messages: Messages,
    /// When the first one was recorded.
    pub first_seen: SystemTime,
    /// When the last one was recorded.
    pub last_seen: SystemTime,
}

fn method_key(method: &str) -> &'static str {
    METHODS.iter().copied().find(|m| *m == method).unwrap_or(METHODS[0])
}

impl WireTick {
    /// One worker tick as it goes on the wire.
    pub fn from_report(
        report: &TickReport<'_>,
        worker: u32,
        attempt: &str,
        phase: usize,
        seq: u64,
    ) -> Result<WireTick, HistogramCodecError> {
        let names = report
            .tick
            .names
            .iter()
            .map(|(key, t)| {
                Ok(WireName {
                    method: key.0.to_string(),
                    name: key.1.clone(),
                    latency: encode_histogram(&t.latency)?,
                    requests: t.requests,
                    failures: t.failures,
                    content_bytes: t.content_bytes,
                })
            })
            .collect::<Result<Vec<_>, HistogramCodecError>>()?;
        let totals = report.totals;
        let failures = totals
            .failures
            .iter()
            .map(|((key, kind), f)| WireFailure {
                method: key.0.to_string(),
                name: key.1.clone(),
                kind: *kind,
                count: f.count,
                first_message: f.first_message.clone(),
                messages: f.messages.clone(),
                first_seen: f.first_seen,
                last_seen: f.last_seen,
            })
            .collect();
        Ok(WireTick {
            worker,
            attempt: attempt.to_string(),
            phase,
            seq,
            at_unix_s: crate::sys::clock::unix_s(report.at),
            window_s: report.window.as_secs_f64(),
            phase_elapsed_s: report.phase_elapsed.as_secs_f64(),
            users: report.users,
            in_flight: report.in_flight,
            is_final: report.is_final,
            names,
            error_samples: report.tick.error_samples.clone(),
            cumulative: Cumulative {
                failures,
                duplicates_sent: totals.duplicates_sent,
                dropped: totals.dropped,
                batch_items_failed: totals.batch_items_failed,
                delivery: totals.delivery,
                retry: totals.retry.clone(),
                lag: encode_histogram(&totals.lag)?,
                response: encode_histogram(&totals.response)?,
                webhook: encode_histogram(&totals.by_endpoint.webhook)?,
                batch: encode_histogram(&totals.by_endpoint.batch)?,
            },
        })
    }

    /// The window back as the engine's own [`Tick`] (aggregate row included).
    pub fn to_tick(&self) -> Result<Tick, HistogramCodecError> {
        let mut tick = Tick { error_samples: self.error_samples.clone(), ..Tick::default() };
        for n in &self.names {
            let key: NameKey = (method_key(&n.method), n.name.clone());
            let t = Totals {
                latency: decode_histogram(&n.latency)?,
                requests: n.requests,
                failures: n.failures,
                content_bytes: n.content_bytes,
            };
            tick.all.latency.merge(&t.latency);
            tick.all.requests += t.requests;
            tick.all.failures += t.failures;
            tick.all.content_bytes += t.content_bytes;
            tick.names.insert(key, t);
        }
        Ok(tick)
    }
}

impl Cumulative {
    /// Adds this worker's cumulative counters into `totals` (the merge over workers).
    pub fn add_to(&self, totals: &mut PhaseTotals) -> Result<(), HistogramCodecError> {
        totals.duplicates_sent += self.duplicates_sent;
        totals.dropped += self.dropped;
        totals.batch_items_failed += self.batch_items_failed;
        totals.delivery.merge(&self.delivery);
        totals.retry.merge(&self.retry);
        totals.lag.merge(&decode_histogram(&self.lag)?);
        for (text, into) in [
            (&self.response, &mut totals.response),
            (&self.webhook, &mut totals.by_endpoint.webhook),
            (&self.batch, &mut totals.by_endpoint.batch),
        ] {
            if !text.is_empty() {
                into.merge(&decode_histogram(text)?);
            }
        }
        for f in &self.failures {
            let key: NameKey = (method_key(&f.method), f.name.clone());
            totals
                .failures
                .entry((key, f.kind))
                .and_modify(|t| {
                    t.count += f.count;
                    t.first_seen = t.first_seen.min(f.first_seen);
                    t.last_seen = t.last_seen.max(f.last_seen);
                    t.messages.merge(&f.messages);
                })
                .or_insert(FailureTotals {
                    count: f.count,
                    first_message: f.first_message.clone(),
                    messages: f.messages.clone(),
                    first_seen: f.first_seen,
                    last_seen: f.last_seen,
                });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::engine::recorder::{FailureWindow, NameWindow, Window};

    #[test]
    fn the_plan_carries_http2_and_an_older_plan_reads_as_http1() {
        let plan = Plan {
            run_id: "r".into(),
            workers: 2,
            seed: 7,
            lockstep_start: false,
            target: url::Url::parse("https://terrafix-api:8081").unwrap(),
            phases: Vec::new(),
            request_timeout_ms: 10_000,
            connect_timeout_ms: 5_000,
            headers: Vec::new(),
            tls: PlanTls::Insecure,
            http2: true,
        };
        let mut doc = serde_json::to_value(&plan).unwrap();
        assert!(
            serde_json::from_value::<Plan>(doc.clone()).unwrap().http2,
            "the flag travels to the workers"
        );
        doc.as_object_mut().unwrap().remove("http2");
        assert!(!serde_json::from_value::<Plan>(doc).unwrap().http2, "a plan without the key is HTTP/1.1");
    }

    fn window(latencies_ms: &[u64], failed: u64) -> Window {
        let mut w = Window::default();
        let mut name = NameWindow::default();
        for ms in latencies_ms {
            name.latency.record(Duration::from_millis(*ms));
            name.requests += 1;
        }
        name.failures = failed;
        w.names[1].insert("/webhook".to_string(), name);
        if failed > 0 {
            let mut messages = Messages::default();
            messages.add("HTTP 503", failed);
            let now = SystemTime::now();
            w.failures.insert(
                (("POST", "/webhook".to_string()), FailureKind::Http(503)),
                FailureWindow {
                    count: failed,
                    first_message: "HTTP 503".into(),
                    messages,
                    first_seen: now,
                    last_seen: now,
                },
            );
        }
        w.dropped = 2;
        w.lag.record_us(1_500);
        w
    }

    #[test]
    fn a_tick_survives_the_wire_exactly_and_counters_add_up_over_workers() {
        let mut totals = PhaseTotals::default();
        let tick = totals.absorb(vec![window(&[10, 20, 30, 400], 1)]);
        let report = TickReport {
            tick: &tick,
            totals: &totals,
            window: Duration::from_secs(1),
            phase_elapsed: Duration::from_secs(1),
            users: 3,
            in_flight: 1,
            at: SystemTime::now(),
            is_final: false,
        };
        let wire = WireTick::from_report(&report, 1, "task-a", 0, 1).unwrap();
        let json = serde_json::to_string(&Data::Tick(Box::new(wire))).unwrap();
        let Data::Tick(back) = serde_json::from_str(&json).unwrap() else { panic!("a tick") };
        let again = back.to_tick().unwrap();
        assert_eq!(again.all.requests, 4);
        assert_eq!(again.all.failures, 1);
        for q in [0.5, 0.95, 0.99, 1.0] {
            assert_eq!(again.all.latency.quantile_ms(q), tick.all.latency.quantile_ms(q));
        }
        let key = ("POST", "/webhook".to_string());
        assert_eq!(again.names[&key].requests, 4);

        // Two workers' cumulative counters add up: failures, drops, lag.
        let mut merged = PhaseTotals::default();
        back.cumulative.add_to(&mut merged).unwrap();
        back.cumulative.add_to(&mut merged).unwrap();
        assert_eq!(merged.dropped, 4);
        assert_eq!(merged.lag.count(), 2);
        let f = &merged.failures[&(key, FailureKind::Http(503))];
        assert_eq!(f.count, 2);
        assert_eq!(f.messages.distinct, vec![("HTTP 503".to_string(), 2)]);
    }

    #[test]
    fn commands_read_back_as_written() {
        for c in [
            Control::Phase { index: 2, start_unix_ms: 1_700_000_000_000 },
            Control::Stop { index: 2 },
            Control::Steer { index: 1, steer: WireSteer::ExtendMs(30_000) },
            Control::End,
        ] {
            let back: Control = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
            assert_eq!(back, c);
        }
        assert_eq!(WireSteer::of(Steer::Extend(Duration::from_secs(2))), WireSteer::ExtendMs(2000));
    }
}
