//! Synthetic TerraFix failure payloads (the seed's Vanta templates) and the behaviour of
//! one virtual user: which request it sends next and how long it waits.
//! Imports only `profile` types. Deterministic for a given seed.

#![deny(missing_docs)]

pub mod answer;
pub mod payload;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::profile::{BatchSize, Behaviour, RepoSize, RepoSizeChoice, RequestKind, WaitStrategy};

/// How many of its own unique failures a user remembers for duplicates (the seed's 100).
pub const RECENT_FAILURES: usize = 100;

/// The HTTP method of a planned request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET` (health and status checks).
    Get,
    /// `POST` (webhooks and batches).
    Post,
}

impl Method {
    /// `GET` or `POST`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// One HTTP request a user is about to send.
#[derive(Clone, Debug)]
pub struct PlannedRequest {
    /// `GET` or `POST`.
    pub method: Method,
    /// `/webhook`, `/batch`, `/health`, `/status`.
    pub path: &'static str,
    /// The name it is recorded under, e.g. `/webhook [throughput]`, `/batch[12] [burst]`.
    pub name: String,
    /// JSON body (POST only).
    pub body: Option<Bytes>,
    /// How many failures in the body are deliberate resends of earlier ones.
    pub duplicates: u32,
    /// How many failures the body carries (1 for `/webhook`, n for `/batch[n]`, 0 for a GET).
    pub payloads: u32,
    /// The task's own headers (none for most tasks: no allocation then).
    pub headers: Option<TaskHeaders>,
}

/// A task's own request headers as (name, value), shared by all its requests.
pub type TaskHeaders = Arc<[(String, String)]>;

/// The seed's cascade factor: `1 + elapsed / 60 s`.
pub fn cascade_factor(phase_elapsed: Duration) -> f64 {
    1.0 + phase_elapsed.as_secs_f64() / 60.0
}

/// The seed's cascade batch size: `min(floor(2·f), 50)`.
pub fn cascade_batch_size(phase_elapsed: Duration) -> u32 {
    ((2.0 * cascade_factor(phase_elapsed)).floor() as u32).min(50)
}

/// The deterministic part of the cascade wait: `max(0.1, 2 / f)` seconds.
pub fn cascade_base_wait(phase_elapsed: Duration) -> Duration {
    Duration::from_secs_f64((2.0 / cascade_factor(phase_elapsed)).max(0.1))
}

/// The random part of the cascade wait is uniform in [0, this).
pub const CASCADE_JITTER: Duration = Duration::from_millis(500);

/// One virtual user's script state: its RNG, its recent failures (for duplicates).
pub struct VirtualUser {
    behaviour: Arc<Behaviour>,
    repo_size: RepoSizeChoice,
    rng: ChaCha8Rng,
    /// Running sums of task weights, for a weighted pick with one draw.
    cumulative_weights: Vec<u32>,
    /// Task names that hold `{n}`, `{size}` or `{endpoint}` and need filling in.
    templated_names: Vec<bool>,
    /// Each task's own headers, shared by its requests.
    task_headers: Vec<Option<TaskHeaders>>,
    /// The last [`RECENT_FAILURES`] unique failures, kept only when a task resends one
    /// (`remembers`): a user that never sends a duplicate would hold up to 100 bodies
    /// for nothing (70 KB a user after 100 s of the `throughput` behaviour).
    recent: VecDeque<Bytes>,
    remembers: bool,
    /// When set, `failed_at` is this plus the phase time (reproducible bodies);
    /// otherwise the wall clock.
    phase_start: Option<SystemTime>,
}

impl VirtualUser {
    /// A user of `behaviour` whose random choices (tasks, waits, payloads) all come from `seed`.
    pub fn new(behaviour: Arc<Behaviour>, repo_size: RepoSizeChoice, seed: u64) -> Self {
        let mut total = 0u32;
        let cumulative_weights = behaviour
            .tasks
            .iter()
            .map(|t| {
                total = total.saturating_add(t.weight.get());
                total
            })
            .collect();
        let templated_names = behaviour.tasks.iter().map(|t| t.name.contains('{')).collect();
        let task_headers = behaviour
            .tasks
            .iter()
            .map(|t| (!t.headers.is_empty()).then(|| Arc::from(t.headers.clone().into_boxed_slice())))
            .collect();
        let remembers = behaviour.tasks.iter().any(|t| matches!(t.kind, RequestKind::Duplicate));
        VirtualUser {
            behaviour,
            repo_size,
            rng: ChaCha8Rng::seed_from_u64(seed),
            cumulative_weights,
            templated_names,
            task_headers,
            // Grown as failures come: a full ring's slots alone are 3.2 KB a user.
            recent: VecDeque::new(),
            remembers,
            phase_start: None,
        }
    }

    /// Stamps `failed_at` as `phase_start + phase_elapsed` instead of the wall clock, so
    /// that a seed reproduces request bodies byte for byte.
    pub fn with_phase_start(mut self, phase_start: SystemTime) -> Self {
        self.phase_start = Some(phase_start);
        self
    }

    /// The behaviour this user runs.
    pub fn behaviour(&self) -> &Arc<Behaviour> {
        &self.behaviour
    }

    /// A seed for another random stream of this user (the retry backoff's jitter). Draws
    /// from the user's generator, so call it only where that stream is wanted.
    pub fn draw_seed(&mut self) -> u64 {
        self.rng.random::<u64>()
    }

    /// The requests of the next task (usually one; two for health+status).
    pub fn next_task(&mut self, phase_elapsed: Duration) -> Vec<PlannedRequest> {
        let index = self.pick_task();
        let behaviour = Arc::clone(&self.behaviour);
        let Some(task) = behaviour.tasks.get(index) else { return Vec::new() };
        let templated = self.templated_names.get(index).copied().unwrap_or(false);
        let size = self.pick_repo_size();
        let name = |n: u32, endpoint: &str| {
            if templated { fill_name(&task.name, n, size, endpoint) } else { task.name.clone() }
        };
        let mut requests = match task.kind {
            RequestKind::Webhook => vec![self.new_webhook(name(1, "/webhook"), size, phase_elapsed)],
            RequestKind::Duplicate if self.recent.is_empty() => {
                vec![self.new_webhook(name(1, "/webhook"), size, phase_elapsed)]
            }
            RequestKind::Duplicate => {
                let pick = self.rng.random_range(0..self.recent.len());
                let body = self.recent.get(pick).cloned();
                vec![post("/webhook", name(1, "/webhook"), body, 1, 1)]
            }
            RequestKind::Batch(batch) => {
                let n = match batch {
                    BatchSize::Fixed(n) => n,
                    BatchSize::Range(lo, hi) => self.rng.random_range(lo..=hi.max(lo)),
                    BatchSize::Cascade => cascade_batch_size(phase_elapsed),
                };
                let body = self.new_batch(n, size, phase_elapsed);
                vec![post("/batch", name(n, "/batch"), Some(body), 0, n)]
            }
            RequestKind::Health => vec![get("/health", name(0, "/health"))],
            RequestKind::Status => vec![get("/status", name(0, "/status"))],
            RequestKind::HealthAndStatus => {
                vec![get("/health", name(0, "/health")), get("/status", name(0, "/status"))]
            }
        };
        if let Some(headers) = self.task_headers.get(index).cloned().flatten() {
            for r in &mut requests {
                r.headers = Some(headers.clone());
            }
        }
        requests
    }

    /// How long to wait after a task that took `task_took`.
    pub fn next_wait(&mut self, phase_elapsed: Duration, task_took: Duration) -> Duration {
        match self.behaviour.wait {
            WaitStrategy::Constant(d) => d,
            WaitStrategy::Between(lo, hi) => self.uniform(lo, hi),
            WaitStrategy::ConstantPacing(interval) => interval.saturating_sub(task_took),
            WaitStrategy::ConstantThroughput(per_s) => {
                Duration::from_secs_f64(1.0 / per_s).saturating_sub(task_took)
            }
            WaitStrategy::Cascade => {
                cascade_base_wait(phase_elapsed) + self.uniform(Duration::ZERO, CASCADE_JITTER)
            }
        }
    }

    /// Delay before this user's first task: random within its first pacing interval,
    /// so users spawned together do not tick in lockstep.
    pub fn start_offset(&mut self) -> Duration {
        let interval = match self.behaviour.wait {
            WaitStrategy::Constant(d) | WaitStrategy::ConstantPacing(d) => d,
            WaitStrategy::Between(_, hi) => hi,
            WaitStrategy::ConstantThroughput(per_s) => Duration::from_secs_f64(1.0 / per_s),
            WaitStrategy::Cascade => cascade_base_wait(Duration::ZERO) + CASCADE_JITTER,
        };
        self.uniform(Duration::ZERO, interval)
    }

    fn uniform(&mut self, lo: Duration, hi: Duration) -> Duration {
        if hi <= lo {
            return lo;
        }
        lo + (hi - lo).mul_f64(self.rng.random::<f64>())
    }

    fn pick_task(&mut self) -> usize {
        let total = self.cumulative_weights.last().copied().unwrap_or(0);
        if total == 0 {
            return 0;
        }
        let draw = self.rng.random_range(0..total);
        self.cumulative_weights.partition_point(|&c| c <= draw)
    }

    fn pick_repo_size(&mut self) -> RepoSize {
        match self.repo_size {
            RepoSizeChoice::Fixed(size) => size,
            RepoSizeChoice::Mixed => RepoSize::ALL[self.rng.random_range(0..RepoSize::ALL.len())],
        }
    }

    fn failed_at(&self, phase_elapsed: Duration) -> String {
        let at = self.phase_start.map_or_else(SystemTime::now, |start| start + phase_elapsed);
        payload::format_failed_at(at)
    }

    fn remember(&mut self, failure: Bytes) {
        if !self.remembers {
            return;
        }
        if self.recent.len() == RECENT_FAILURES {
            self.recent.pop_front();
        }
        self.recent.push_back(failure);
    }

    fn new_webhook(&mut self, name: String, size: RepoSize, phase_elapsed: Duration) -> PlannedRequest {
        let failed_at = self.failed_at(phase_elapsed);
        let mut buf = Vec::with_capacity(640);
        payload::write_failure(&mut self.rng, size, &failed_at, &mut buf);
        let body = Bytes::from(buf);
        self.remember(body.clone());
        post("/webhook", name, Some(body), 0, 1)
    }

    /// A JSON array of `n` new failures; each is remembered as a slice of the body.
    fn new_batch(&mut self, n: u32, size: RepoSize, phase_elapsed: Duration) -> Bytes {
        let failed_at = self.failed_at(phase_elapsed);
        let mut buf = Vec::with_capacity(640 * n as usize + 2);
        let mut spans = Vec::with_capacity(n as usize);
        buf.push(b'[');
        for i in 0..n {
            if i > 0 {
                buf.push(b',');
            }
            let start = buf.len();
            payload::write_failure(&mut self.rng, size, &failed_at, &mut buf);
            spans.push(start..buf.len());
        }
        buf.push(b']');
        let body = Bytes::from(buf);
        if !self.remembers {
            return body;
        }
        // Only the last RECENT_FAILURES items can survive in the ring anyway.
        let keep_from = spans.len().saturating_sub(RECENT_FAILURES);
        for span in spans.into_iter().skip(keep_from) {
            self.remember(body.slice(span));
        }
        body
    }
}

fn post(
    path: &'static str,
    name: String,
    body: Option<Bytes>,
    duplicates: u32,
    payloads: u32,
) -> PlannedRequest {
    PlannedRequest { method: Method::Post, path, name, body, duplicates, payloads, headers: None }
}

fn get(path: &'static str, name: String) -> PlannedRequest {
    PlannedRequest { method: Method::Get, path, name, body: None, duplicates: 0, payloads: 0, headers: None }
}

/// Fills `{n}` (batch size), `{size}` (repo size) and `{endpoint}` (request path).
fn fill_name(template: &str, n: u32, size: RepoSize, endpoint: &str) -> String {
    let mut out = String::with_capacity(template.len() + 8);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        if let Some(tail) = after.strip_prefix("{n}") {
            out.push_str(&n.to_string());
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("{size}") {
            out.push_str(size.as_str());
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("{endpoint}") {
            out.push_str(endpoint);
            rest = tail;
        } else {
            out.push('{');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    out
}
