//! Where workers record: a fixed set of shards, each a mutex over one second's window
//! (per-name histograms and counts, failures by kind). A worker only ever touches its
//! own shard, so the lock is uncontended except for the aggregator's one swap per tick.

#![deny(missing_docs)]

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use crate::metrics::{FailureKind, LatencyHistogram};

/// FNV-1a: request names are short and trusted, so a fast non-keyed hash is right here.
#[derive(Default)]
pub struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A `HashMap` with the FNV-1a hasher: fast on the short keys the hot path looks up.
pub type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// `(method, name)` as recorded, e.g. `("POST", "/webhook [throughput]")`.
pub type NameKey = (&'static str, String);

/// One request name's figures within a window.
#[derive(Clone, Debug, Default)]
pub struct NameWindow {
    /// Latencies of the window (µs, service time from the send).
    pub latency: LatencyHistogram,
    /// Requests completed in the window, failures included.
    pub requests: u64,
    /// Of `requests`, how many failed.
    pub failures: u64,
    /// Answer body bytes received in the window.
    pub content_bytes: u64,
}

/// Failures of one kind for one name within a window.
#[derive(Clone, Debug)]
pub struct FailureWindow {
    /// How many failures in the window.
    pub count: u64,
    /// The first one's message.
    pub first_message: String,
    /// Distinct messages with their counts, first seen first (at most `MAX_MESSAGES`).
    pub messages: Messages,
    /// When the first one was recorded.
    pub first_seen: SystemTime,
    /// When the last one was recorded.
    pub last_seen: SystemTime,
}

/// How many distinct messages one (name, kind) keeps; the rest are only counted.
pub const MAX_MESSAGES: usize = 8;

/// Distinct failure messages with counts, bounded: "connection refused" and "connection
/// reset" under the same kind stay apart instead of the first hiding the second.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Messages {
    /// `(message, count)`, first seen first; at most [`MAX_MESSAGES`] entries.
    pub distinct: Vec<(String, u64)>,
    /// Occurrences whose message did not fit in `distinct`.
    pub others: u64,
}

impl Messages {
    /// Counts `count` occurrences of `message` (in `others` when the list is full and it is new).
    pub fn add(&mut self, message: &str, count: u64) {
        if let Some(entry) = self.distinct.iter_mut().find(|(m, _)| m == message) {
            entry.1 += count;
        } else if self.distinct.len() < MAX_MESSAGES {
            self.distinct.push((message.to_string(), count));
        } else {
            self.others += count;
        }
    }

    /// Adds another list's messages and overflow count into this one.
    pub fn merge(&mut self, other: &Messages) {
        for (message, count) in &other.distinct {
            self.add(message, *count);
        }
        self.others += other.others;
    }
}

/// Everything recorded by one shard since the last tick.
#[derive(Debug, Default)]
pub struct Window {
    /// Indexed by method (`METHODS`), then keyed by name: lookups by `&str` allocate nothing.
    pub names: [FnvMap<String, NameWindow>; 2],
    /// Failures by (name, kind) in the window.
    pub failures: FnvMap<(NameKey, FailureKind), FailureWindow>,
    /// Payloads sent in the window that were known resends (a `duplicate` task's).
    pub duplicates_sent: u64,
    /// Open model: arrivals in the window not sent because `max_in_flight` were busy.
    pub dropped: u64,
    /// Items that `/batch` answers reported as failed (inside an HTTP 200).
    pub batch_items_failed: u64,
    /// Failures the server answered (so its dedup saw them), by what the generator knew of
    /// them: sent for the first time, or resent (a `duplicate` task's or a retry's).
    pub delivery: Delivery,
    /// Logical requests of a behaviour with retries (each may take several attempts).
    pub retry: RetryCounts,
    /// How late sends (open model) or paced iterations (closed model) started against
    /// their plan, µs: the generator's own schedule lag.
    pub lag: LatencyHistogram,
    /// Paced closed-model users: each request's response time from its planned start,
    /// corrected for the iterations a slow answer held back (µs, all names together).
    pub response: LatencyHistogram,
    /// Successful `POST /webhook` and `POST /batch` latencies over all names (µs), to set
    /// beside the server's per-failure and per-batch figures.
    pub by_endpoint: EndpointLatency,
}

/// Answered single posts and batches, apart (their server figures differ in kind).
#[derive(Clone, Debug, Default)]
pub struct EndpointLatency {
    /// Answered `POST /webhook` latencies (µs).
    pub webhook: LatencyHistogram,
    /// Answered `POST /batch` latencies (µs).
    pub batch: LatencyHistogram,
}

impl EndpointLatency {
    /// Adds the other side's histograms into these.
    pub fn merge(&mut self, other: &EndpointLatency) {
        if !other.webhook.is_empty() {
            self.webhook.merge(&other.webhook);
        }
        if !other.batch.is_empty() {
            self.batch.merge(&other.batch);
        }
    }
}

/// Failure payloads by what the server's dedup should make of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Delivery {
    /// First sends of a failure that got an HTTP answer: each should be one dedup miss.
    pub unique_answered: u64,
    /// Resends that got an HTTP answer: each should be one dedup hit.
    pub resends_answered: u64,
    /// Payloads whose attempt got no answer (timeout, connection): the server may or may not
    /// have seen them.
    pub unanswered: u64,
}

impl Delivery {
    /// Adds another window's counts into these.
    pub fn merge(&mut self, other: &Delivery) {
        self.unique_answered += other.unique_answered;
        self.resends_answered += other.resends_answered;
        self.unanswered += other.unanswered;
    }
}

/// Longest attempt count kept apart in [`RetryCounts::by_attempts`]; more count as the last.
pub const MAX_COUNTED_ATTEMPTS: usize = 16;

/// How one logical request under a retry policy ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogicalOutcome {
    /// Its first attempt succeeded.
    FirstTime,
    /// A later attempt succeeded.
    Recovered,
    /// A later attempt was answered "duplicate": accepted, but no work done.
    SwallowedAsDuplicate,
    /// Every attempt allowed failed (or the phase ended while it waited).
    GaveUp,
}

/// Outcomes of logical requests under a retry policy.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RetryCounts {
    /// Logical requests that finished (each one or more attempts).
    pub logical: u64,
    /// Whose first attempt failed.
    pub failed_first: u64,
    /// Of those, how many succeeded on a later attempt.
    pub recovered: u64,
    /// Of those, how many a later attempt got a "duplicate" answer for: the target had
    /// claimed the failure before the first attempt failed, so its work was never done.
    pub swallowed: u64,
    /// Attempts sent for them, first tries and retries together.
    pub attempts: u64,
    /// `by_attempts[n - 1]`: logical requests that took `n` attempts.
    pub by_attempts: [u64; MAX_COUNTED_ATTEMPTS],
}

impl RetryCounts {
    /// Adds another window's counts into these.
    pub fn merge(&mut self, other: &RetryCounts) {
        self.logical += other.logical;
        self.failed_first += other.failed_first;
        self.recovered += other.recovered;
        self.swallowed += other.swallowed;
        self.attempts += other.attempts;
        for (a, b) in self.by_attempts.iter_mut().zip(other.by_attempts) {
            *a += b;
        }
    }

    /// The attempt count at quantile `q` of the logical requests (1 when there are none).
    pub fn attempts_quantile(&self, q: f64) -> u32 {
        let wanted = (q * self.logical as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.by_attempts.iter().enumerate() {
            seen += n;
            if seen >= wanted {
                return i as u32 + 1;
            }
        }
        1
    }
}

/// The shards of one phase. Cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    shards: Arc<[Mutex<Window>]>,
}

/// Shards per available core: enough that workers rarely meet on a lock, few enough that the
/// tick's drain and merge stay small (each used shard's window is a set of histograms).
const SHARDS_PER_CORE: usize = 4;
const MAX_SHARDS: usize = 64;

fn shard_count() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores * SHARDS_PER_CORE).clamp(SHARDS_PER_CORE, MAX_SHARDS)
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// An empty recorder with one shard per a few cores (4 a core, at most 64).
    pub fn new() -> Self {
        Self { shards: (0..shard_count()).map(|_| Mutex::new(Window::default())).collect() }
    }

    /// The shard a worker with this id records into.
    pub fn shard(&self, worker_id: usize) -> ShardHandle {
        ShardHandle { recorder: self.clone(), index: worker_id % self.shards.len() }
    }

    /// Takes every shard's window, leaving empty ones (the aggregator's tick).
    pub fn drain(&self) -> Vec<Window> {
        self.shards.iter().map(|s| std::mem::take(&mut *lock(s))).collect()
    }
}

fn lock(m: &Mutex<Window>) -> MutexGuard<'_, Window> {
    // A worker that panicked while holding the lock left a window that is still valid data.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One worker's way into its shard.
#[derive(Clone)]
pub struct ShardHandle {
    recorder: Recorder,
    index: usize,
}

impl ShardHandle {
    /// Records a completed request (success or failure with a response time).
    #[inline]
    pub fn record(
        &self,
        method: &'static str,
        name: &str,
        latency_us: u64,
        content_bytes: u64,
        failure: Option<(FailureKind, &str)>,
    ) {
        let mut w = lock(&self.recorder.shards[self.index]);
        let entry = name_entry(&mut w, method, name);
        entry.latency.record_us(latency_us);
        entry.requests += 1;
        entry.content_bytes += content_bytes;
        if let Some((kind, message)) = failure {
            entry.failures += 1;
            note_failure(&mut w, method, name, kind, message);
        }
    }

    /// Records an arrival the open model could not send in time (no latency).
    pub fn record_dropped(&self, method: &'static str, name: &str) {
        let mut w = lock(&self.recorder.shards[self.index]);
        w.dropped += 1;
        let entry = name_entry(&mut w, method, name);
        entry.requests += 1;
        entry.failures += 1;
        note_failure(
            &mut w,
            method,
            name,
            FailureKind::Dropped,
            "max_in_flight requests were busy at send time",
        );
    }

    /// Records how a logical request under a retry policy ended.
    pub fn record_logical(&self, attempts: u32, outcome: LogicalOutcome) {
        let mut w = lock(&self.recorder.shards[self.index]);
        let r = &mut w.retry;
        r.logical += 1;
        r.attempts += u64::from(attempts);
        r.by_attempts[(attempts.max(1) as usize).min(MAX_COUNTED_ATTEMPTS) - 1] += 1;
        match outcome {
            LogicalOutcome::FirstTime => {}
            LogicalOutcome::Recovered => {
                r.failed_first += 1;
                r.recovered += 1;
            }
            LogicalOutcome::SwallowedAsDuplicate => {
                r.failed_first += 1;
                r.swallowed += 1;
            }
            LogicalOutcome::GaveUp => r.failed_first += 1,
        }
    }

    /// Records how late a planned send or iteration started.
    #[inline]
    /// A successful post's latency under its endpoint (`/webhook` or `/batch`; others are not kept).
    pub fn record_endpoint(&self, path: &str, latency_us: u64) {
        let mut w = lock(&self.recorder.shards[self.index]);
        match path {
            "/webhook" => w.by_endpoint.webhook.record_us(latency_us),
            "/batch" => w.by_endpoint.batch.record_us(latency_us),
            _ => {}
        }
    }

    /// A paced user's request: `took` from its planned start, the plan's `interval`.
    pub fn record_response(&self, took: std::time::Duration, interval: std::time::Duration) {
        let us = |d: std::time::Duration| d.as_micros().min(u128::from(u64::MAX)) as u64;
        lock(&self.recorder.shards[self.index]).response.record_corrected_us(us(took), us(interval).max(1));
    }

    /// Records how late a planned send or paced iteration started against its plan.
    pub fn record_lag(&self, late: std::time::Duration) {
        let us = late.as_micros().min(u128::from(u64::MAX)) as u64;
        lock(&self.recorder.shards[self.index]).lag.record_us(us);
    }

    /// Counts `n` `/batch` items the answer reported as failed (inside an HTTP 200).
    pub fn add_failed_items(&self, n: u64) {
        if n > 0 {
            lock(&self.recorder.shards[self.index]).batch_items_failed += n;
        }
    }

    /// Counts a request's failure payloads once its attempt is over: `answered` when the
    /// server gave an HTTP answer; `resend` when the whole body was sent before (a retry).
    pub fn add_delivery(&self, payloads: u32, duplicates: u32, resend: bool, answered: bool) {
        if payloads == 0 {
            return;
        }
        let resent = if resend { payloads } else { duplicates.min(payloads) };
        let mut w = lock(&self.recorder.shards[self.index]);
        if answered {
            w.delivery.unique_answered += u64::from(payloads - resent);
            w.delivery.resends_answered += u64::from(resent);
        } else {
            w.delivery.unanswered += u64::from(payloads);
        }
    }

    /// Counts `n` payloads sent as known resends of earlier ones.
    pub fn add_duplicates(&self, n: u32) {
        if n > 0 {
            lock(&self.recorder.shards[self.index]).duplicates_sent += u64::from(n);
        }
    }
}

/// The methods the generator sends, in `Window::names` order.
pub const METHODS: [&str; 2] = ["GET", "POST"];

fn name_entry<'a>(w: &'a mut Window, method: &'static str, name: &str) -> &'a mut NameWindow {
    let map = &mut w.names[usize::from(method != METHODS[0])];
    // Two lookups on first sight of a name, one (allocation-free) every time after.
    if !map.contains_key(name) {
        map.insert(name.to_string(), NameWindow::default());
    }
    map.get_mut(name).expect("inserted just above")
}

fn note_failure(w: &mut Window, method: &'static str, name: &str, kind: FailureKind, message: &str) {
    let now = SystemTime::now();
    w.failures
        .entry(((method, name.to_string()), kind))
        .and_modify(|f| {
            f.count += 1;
            f.last_seen = now;
            f.messages.add(message, 1);
        })
        .or_insert_with(|| FailureWindow {
            count: 1,
            first_message: message.to_string(),
            messages: Messages { distinct: vec![(message.to_string(), 1)], others: 0 },
            first_seen: now,
            last_seen: now,
        });
}
