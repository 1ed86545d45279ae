//! The coordinator of a distributed run: puts the plan in Redis, asks Swarm for N worker
//! tasks, starts each phase at a common instant, and merges the workers' interval data
//! exactly (histogram addition) into the same ticks a single-node phase hands its sink.

#![deny(missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::transport::{Cursor, Transport, TransportError};
use super::wire::{Control, Cumulative, Data, Plan, WireDone, WireSteer, WireTick};
use crate::docker::{DockerEnv, DockerError, GeneratorSpec, GeneratorTask, TaskState};
use crate::engine::aggregate::{PhaseTotals, Tick};
use crate::engine::phase::{DRAIN_GRACE, next_steer, steer_fits};
use crate::engine::steer::change_record;
use crate::engine::{PhaseEnd, PhaseResult, PhaseSpec, Steer, SteerReceiver, TickReport, TickSink};
use crate::metrics::LatencyHistogram;
use crate::metrics::hlog::{HlogError, HlogWriter};
use crate::metrics::summary::{DistributedReport, WorkerNode, WorkerReport};

/// How long the workers may take to start and say hello.
const HELLO_WAIT: Duration = Duration::from_secs(120);
/// How far ahead of now a phase's common start is set (every worker must have read it).
const START_LEAD: Duration = Duration::from_millis(1500);
/// A worker silent for this long during a phase is counted as lost.
const SILENCE_LOST: Duration = Duration::from_secs(5);
/// How long after a node first reports a missing image the others get to report theirs.
const MISSING_IMAGE_GATHER: Duration = Duration::from_millis(1500);
/// The coordinator ticks this long after the workers so their second has arrived.
const TICK_LAG: Duration = Duration::from_millis(300);

/// What a distributed run needs to start.
pub struct ClusterSetup {
    /// The Docker environment whose Swarm runs the workers.
    pub docker: Arc<DockerEnv>,
    /// How many worker tasks to start (`--distributed N`).
    pub workers: u32,
    /// The run's id: given to every worker and prefixing the run's Redis keys.
    pub run_id: String,
    /// Redis as this process reaches it (the environment's published port).
    pub redis_url: String,
    /// Redis as the workers reach it (its container name on the overlay network).
    pub worker_redis_url: String,
    /// What every worker runs, written to Redis once before the first phase.
    pub plan: Plan,
    /// Overlay (the environment's Redis by name) or host (the run's own Redis by node address).
    pub network: super::WorkerNetwork,
}

/// Why a distributed run's generators could not be started; each text says what to check.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The Docker Engine refused or failed a step (Swarm, network, image, service, tasks).
    #[error("{0}")]
    Docker(#[from] DockerError),
    /// No port was free on this machine for the run's own Redis (host network).
    #[error("finding a free port for the run's Redis: {0}")]
    FreePort(#[source] std::io::Error),
    /// Redis could not be reached, or the plan could not be written to it.
    #[error("{0}")]
    Redis(#[from] TransportError),
    /// The start failed and, cleaning up after it, the run's Redis could not be removed either.
    #[error("{error} (and the run's Redis was not removed: {left})")]
    RedisNotRemoved {
        /// Why the start failed.
        error: Box<ClusterError>,
        /// Why the run's Redis is still there.
        left: DockerError,
    },
    /// A worker reported that it could not start (`worker` is 1-based).
    #[error("generator {worker} could not start: {message}")]
    WorkerFailed {
        /// The worker, 1-based as in its name.
        worker: u32,
        /// The worker's own words.
        message: String,
    },
    /// The data stream ended while the generators were starting.
    #[error("lost the connection to Redis while the generators started")]
    RedisLost,
    /// Not every worker said hello in time, or too many tasks failed.
    #[error(
        "{seen} of {workers} generators said hello within {wait:.0?} ({why}); `docker service ps {service} --no-trunc` shows the tasks"
    )]
    NoHello {
        /// How many said hello.
        seen: u32,
        /// How many were asked for.
        workers: u32,
        /// How long they were given.
        wait: Duration,
        /// The failed tasks in Swarm's words, or that none failed.
        why: String,
        /// The Swarm service of the generators.
        service: String,
    },
    /// Nodes without the worker image and no registry to pull it from.
    #[error("{}", missing_image_message(image, hosts))]
    MissingImage {
        /// The worker image.
        image: String,
        /// The nodes that lack it, by hostname (or id when the name is unknown).
        hosts: Vec<String>,
    },
}

/// Where the workers attach and how both sides reach Redis, per network mode.
struct Wiring {
    network: String,
    redis_url: String,
    worker_redis_url: String,
}

/// How long the run's own Redis (host mode) may take to accept a connection.
const RUN_REDIS_WAIT: Duration = Duration::from_secs(20);

/// Overlay: joins the environment to the overlay network. Host: starts the run's Redis on
/// the manager's node address with a fresh password; both URLs carry it, nothing prints it.
async fn wire_up(setup: &ClusterSetup) -> Result<Wiring, ClusterError> {
    let docker = &setup.docker;
    match setup.network {
        super::WorkerNetwork::Overlay => Ok(Wiring {
            network: docker.attach_generator_network().await?,
            redis_url: setup.redis_url.clone(),
            worker_redis_url: setup.worker_redis_url.clone(),
        }),
        super::WorkerNetwork::Host => {
            let password = new_password();
            let port = free_port().map_err(ClusterError::FreePort)?;
            let redis = docker.start_run_redis(&setup.run_id, port, &password).await?;
            let url = format!("redis://:{password}@{}:{}/0", redis.node_addr, redis.port);
            Ok(Wiring { network: "host".into(), redis_url: url.clone(), worker_redis_url: url })
        }
    }
}

/// 32 random letters and digits (about 190 bits).
fn new_password() -> String {
    use rand::Rng as _;
    rand::rng().sample_iter(rand::distr::Alphanumeric).take(32).map(char::from).collect()
}

/// A port free on this machine now: the coordinator runs on the manager, whose host
/// network the run's Redis shares.
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("0.0.0.0:0")?.local_addr()?.port())
}

/// Connects to Redis, retrying while a just-started run's Redis comes up.
async fn connect_transport(url: &str, run_id: &str, wait: Duration) -> Result<Transport, ClusterError> {
    let deadline = Instant::now() + wait;
    loop {
        match Transport::connect(url, run_id).await {
            Ok(t) => return Ok(t),
            Err(e) if Instant::now() >= deadline => return Err(e.into()),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The generators of one run, from their creation to their removal.
pub struct Cluster {
    docker: Arc<DockerEnv>,
    transport: Transport,
    workers: u32,
    data: tokio::sync::Mutex<mpsc::UnboundedReceiver<Data>>,
    reader_stop: CancellationToken,
    reader: Mutex<Option<tokio::task::JoinHandle<()>>>,
    roster: Mutex<Roster>,
    report: Mutex<DistributedReport>,
}

/// The current attempt of each worker (index → task), and how many each has had.
#[derive(Default)]
struct Roster {
    current: BTreeMap<u32, (String, u32)>,
}

/// What a distributed phase hands back: the merged measurements and what the generators report.
pub struct DistributedPhase {
    /// The merged measurements of every worker, as a local phase would return them.
    pub result: PhaseResult,
    /// What the generators report about themselves: workers, CPU, stalls, losses, connects.
    pub generators: PhaseGenerators,
}

/// The generators' own figures for one phase (the engine's result holds the measurements).
pub struct PhaseGenerators {
    /// Each worker's share of the phase.
    pub workers: Vec<WorkerReport>,
    /// The busiest worker's figures (CPU share, cores, stall) and the sum of CPU seconds.
    pub cpu_s: f64,
    /// The busiest worker's `cpu_s` ÷ (wall time × its cores), 0–1.
    pub cpu_share: f64,
    /// Cores of the busiest worker's machine.
    pub cores: usize,
    /// The longest any worker's event loop was late waking a 10 ms timer, in ms.
    pub worst_stall_ms: f64,
    /// Workers lost during the phase (also in the run's report), then what the coordinator
    /// could not do (a stop or steer not passed on, an hlog not written), in words.
    pub lost: Vec<String>,
    /// The workers' connects and connect times, added up.
    pub connects: crate::engine::http::ConnectStats,
}

impl PhaseGenerators {
    /// Adds one worker's end-of-phase figures: CPU seconds and connects add up, the busiest
    /// worker's share and cores and the worst stall are kept.
    fn add(&mut self, done: &WireDone) {
        self.cpu_s += done.cpu_s;
        if done.cpu_share >= self.cpu_share {
            self.cpu_share = done.cpu_share;
            self.cores = done.cores;
        }
        self.worst_stall_ms = self.worst_stall_ms.max(done.worst_stall_ms);
        self.connects.connects += done.connects;
        self.connects.failed += done.connect_failed;
        if let Ok(h) = crate::metrics::hlog::decode_histogram(&done.connect_time) {
            self.connects.time.merge(&h);
        }
    }
}

/// What `Cluster::run_phase` is asked to run, shared by its steps.
pub struct PhaseCall<'a> {
    /// The phase's 0-based index in the profile (the workers' plan lists the same phases).
    pub index: usize,
    /// The whole phase; each worker runs its share of it.
    pub spec: &'a PhaseSpec,
    /// Fires when the phase is to end early (skip, abort); the workers are told to stop.
    pub stop: &'a CancellationToken,
    /// The phase's hlog path; each worker's file is named after it (`worker_hlog_path`).
    pub hlog_base: &'a Path,
    /// When the run started (Unix seconds): the workers' intervals are placed against it.
    pub run_start_unix_s: f64,
}

/// A phase while the coordinator follows it: the shares, the clocks and what was merged.
struct Following {
    shares: BTreeMap<String, Share>,
    started_at: SystemTime,
    start: Instant,
    end_at: Instant,
    changes: Vec<crate::metrics::summary::PhaseChange>,
    pending: Tick,
    totals: PhaseTotals,
    last_tick: Instant,
    stop_sent: bool,
    /// What went wrong for the phase as a whole, in words.
    lost: Vec<String>,
    /// What the coordinator could not do while following the phase.
    slips: Vec<Slip>,
}

/// Something the coordinator could not do during a phase that does not end it: told in
/// the phase's notes (and as a warning) so that the results say what they lack.
#[derive(Debug, thiserror::Error)]
enum Slip {
    /// The workers were not told to stop early: they ran to the phase's planned end.
    #[error("the stop was not passed on to the generators ({0}); they ran to the phase's planned end")]
    StopNotSent(#[source] TransportError),
    /// A steering change did not reach the workers, so it was not applied (nor recorded).
    #[error("the change {steer:?} was not passed on to the generators ({error}); it was not applied")]
    SteerNotSent {
        /// The change asked for.
        steer: Steer,
        /// Why it could not be sent.
        #[source]
        error: TransportError,
    },
}

impl Following {
    /// Whether every share finished or was lost; past the end plus the drain bound, the
    /// shares still running are counted as lost.
    fn settled(&mut self) -> bool {
        if self.shares.values().all(|s| s.done.is_some() || s.lost.is_some()) {
            return true;
        }
        let bound = 2 * DRAIN_GRACE + Duration::from_secs(10);
        if Instant::now() > self.end_at + bound {
            self.lose_running(&format!("did not finish the phase within {bound:.0?} of its end"));
            return true;
        }
        false
    }

    fn lose_running(&mut self, why: &str) {
        for s in self.shares.values_mut().filter(|s| s.done.is_none() && s.lost.is_none()) {
            s.lost = Some(why.to_string());
        }
    }

    /// Hands the window merged so far to the sink (the last one with `is_final`).
    fn emit(&mut self, sink: &mut dyn TickSink, is_final: bool) -> Instant {
        let now = Instant::now();
        let (window, elapsed) = (now - self.last_tick, now - self.start);
        merge_and_emit(&mut self.pending, &mut self.totals, &self.shares, sink, window, elapsed, is_final);
        now
    }

    /// A second of the phase: emit the merged window, count silent shares as lost.
    fn on_tick(&mut self, sink: &mut dyn TickSink) {
        let now = self.emit(sink, false);
        self.last_tick = now;
        for s in self.shares.values_mut().filter(|s| s.done.is_none() && s.lost.is_none()) {
            let silent = now.saturating_duration_since(s.last_seen);
            if silent > SILENCE_LOST {
                s.lost = Some(format!("no data for {:.0} s", silent.as_secs_f64()));
            }
        }
    }

    /// The longest run a worker reported, or the time since the start when none finished.
    fn ran_for(&self) -> Duration {
        self.shares
            .values()
            .filter_map(|s| s.done.as_ref().map(|d| Duration::from_secs_f64(d.ran_for_s.max(0.0))))
            .max()
            .unwrap_or_else(|| self.start.elapsed())
    }
}

/// One attempt's part in a phase.
struct Share {
    worker: u32,
    task: String,
    attempt: u32,
    last_seen: Instant,
    cumulative: Cumulative,
    all: LatencyHistogram,
    requests: u64,
    failures: u64,
    users: u32,
    in_flight: u64,
    done: Option<WireDone>,
    lost: Option<String>,
    hlog: Option<HlogWriter>,
    /// The first error of this share's hlog and how many seconds it missed (kept apart from
    /// `lost`: a worker whose file could not be written still measured).
    hlog_trouble: Option<(HlogError, u64)>,
}

impl Share {
    fn new(worker: u32, task: String, attempt: u32, hlog: Result<HlogWriter, HlogError>) -> Self {
        let (hlog, hlog_trouble) = match hlog {
            Ok(h) => (Some(h), None),
            Err(e) => (None, Some((e, 0))),
        };
        Share {
            worker,
            task,
            attempt,
            last_seen: Instant::now(),
            cumulative: Cumulative::default(),
            all: LatencyHistogram::new(),
            requests: 0,
            failures: 0,
            users: 0,
            in_flight: 0,
            done: None,
            lost: None,
            hlog,
            hlog_trouble,
        }
    }

    /// The loss of this attempt in words: which worker, when, after how many requests, why.
    fn lost_words(&self, why: &str, start: Instant, phase: &str) -> String {
        let at = self.last_seen.saturating_duration_since(start).as_secs_f64();
        format!(
            "worker-{} (task {}, attempt {}) lost in phase {phase} at +{at:.1} s after {} requests: {why}",
            self.worker + 1,
            short(&self.task),
            self.attempt,
            self.requests
        )
    }

    /// Why this attempt's hlog lacks seconds, in words; `None` when it has them all.
    fn hlog_words(&self) -> Option<String> {
        let (error, missed) = self.hlog_trouble.as_ref()?;
        Some(format!(
            "worker-{} (task {}): {missed} second(s) missing from its histogram log: {error}",
            self.worker + 1,
            short(&self.task)
        ))
    }

    /// Writes one second to this attempt's hlog; a failure is kept for the phase's notes.
    fn append_hlog(&mut self, offset: Duration, length: Duration, latency: &LatencyHistogram) {
        let Some(h) = self.hlog.as_mut() else {
            // A file that could not be created misses every second.
            if let Some((_, missed)) = &mut self.hlog_trouble {
                *missed += 1;
            }
            return;
        };
        if let Err(e) = h.append(offset, length, latency) {
            match &mut self.hlog_trouble {
                Some((_, missed)) => *missed += 1,
                None => self.hlog_trouble = Some((e, 1)),
            }
        }
    }

    /// This attempt's line in the phase's worker table.
    fn report(
        &self,
        seconds: f64,
        lost: Option<String>,
        nodes: &BTreeMap<String, WorkerNode>,
    ) -> WorkerReport {
        let lag_p99 = crate::metrics::hlog::decode_histogram(&self.cumulative.lag)
            .map(|h| h.quantile_ms(0.99))
            .unwrap_or(0.0);
        let (cpu_s, cpu_share) = self.done.as_ref().map_or((0.0, 0.0), |d| (d.cpu_s, d.cpu_share));
        WorkerReport {
            worker: self.worker + 1,
            task: self.task.clone(),
            attempt: self.attempt,
            requests: self.requests,
            failures: self.failures,
            requests_per_s: self.requests as f64 / seconds,
            p99_ms: self.all.quantile_ms(0.99),
            cpu_s,
            cpu_percent: cpu_share * 100.0,
            schedule_lag_p99_ms: lag_p99,
            hlog: String::new(),
            lost,
            node: nodes.get(&self.task).cloned(),
        }
    }
}

impl Cluster {
    /// Checks Swarm, removes leftovers, joins the environment to the overlay network, writes
    /// the plan, creates the service and waits for every worker's hello.
    pub async fn start(
        setup: ClusterSetup,
        progress: &mpsc::Sender<String>,
    ) -> Result<Cluster, ClusterError> {
        let docker = setup.docker.clone();
        docker.check_swarm_manager().await?;
        let leftovers = docker.remove_generators(Duration::from_secs(30)).await?;
        if !leftovers.is_empty() {
            // Progress only informs: with nobody watching (the channel closed) the start goes on.
            let _ = progress
                .send(format!("removed generator leftovers of an earlier run: {}", leftovers.join(", ")))
                .await;
        }
        docker.remove_run_redis().await?;
        let image = docker.api_image().await?;
        let wiring = wire_up(&setup).await?;
        let network = wiring.network.clone();
        let wait = if setup.network == super::WorkerNetwork::Host { RUN_REDIS_WAIT } else { Duration::ZERO };
        let transport = match connect_transport(&wiring.redis_url, &setup.run_id, wait).await {
            Ok(t) => t,
            Err(e) => {
                return Err(match docker.remove_run_redis().await {
                    Ok(()) => e,
                    Err(left) => ClusterError::RedisNotRemoved { error: Box::new(e), left },
                });
            }
        };
        transport.put_plan(&setup.plan).await?;

        let (tx, rx) = mpsc::unbounded_channel();
        let reader_stop = CancellationToken::new();
        let reader = tokio::spawn(read_data(transport.clone(), tx, reader_stop.clone()));
        let spec = GeneratorSpec {
            run_id: setup.run_id.clone(),
            replicas: setup.workers,
            image: image.clone(),
            env: vec![
                format!("TERRAFIX_REDIS_URL={}", wiring.worker_redis_url),
                format!("TERRAFIX_RUN_ID={}", setup.run_id),
                "TERRAFIX_WORKER_SLOT={{.Task.Slot}}".into(),
                "TERRAFIX_TASK_ID={{.Task.ID}}".into(),
            ],
        };
        let cluster = Cluster {
            docker: docker.clone(),
            transport,
            workers: setup.workers,
            data: tokio::sync::Mutex::new(rx),
            reader_stop,
            reader: Mutex::new(Some(reader)),
            roster: Mutex::new(Roster::default()),
            report: Mutex::new(DistributedReport {
                workers: setup.workers,
                service: String::new(),
                image,
                network: setup.network.as_str().into(),
                lost: Vec::new(),
                leftovers_removed: leftovers,
            }),
        };
        let started = async {
            let service = docker.start_generators(&spec, &network).await?;
            // Progress only informs: with nobody watching (the channel closed) the start goes on.
            let _ = progress
                .send(format!(
                    "swarm service {service}: {} generator tasks on network {network}",
                    setup.workers
                ))
                .await;
            if let Ok(mut r) = cluster.report.lock() {
                r.service = service.clone();
            }
            cluster.wait_for_hellos(&service, progress).await
        };
        match started.await {
            Ok(()) => Ok(cluster),
            Err(e) => {
                cluster.finish().await;
                Err(e)
            }
        }
    }

    async fn wait_for_hellos(
        &self,
        service: &str,
        progress: &mpsc::Sender<String>,
    ) -> Result<(), ClusterError> {
        let deadline = Instant::now() + HELLO_WAIT;
        let mut data = self.data.lock().await;
        let mut check = tokio::time::interval(Duration::from_secs(1));
        let mut missing_since = None;
        loop {
            let seen = self.roster.lock().map(|r| r.current.len()).unwrap_or(0) as u32;
            if seen >= self.workers {
                // Progress only informs: with nobody watching (the channel closed) the start goes on.
                let _ = progress.send(format!("all {} generators are ready", self.workers)).await;
                return Ok(());
            }
            tokio::select! {
                message = data.recv() => match message {
                    Some(Data::Hello { worker, attempt }) => { self.hello(worker, attempt); }
                    Some(Data::Failed { worker, message, .. }) => {
                        return Err(ClusterError::WorkerFailed { worker: worker + 1, message });
                    }
                    Some(_) => {}
                    None => return Err(ClusterError::RedisLost),
                },
                _ = check.tick() => {
                    let tasks = self.docker.generator_tasks(service).await?;
                    self.check_images(&tasks, &mut missing_since).await?;
                    let failed: Vec<String> = tasks
                        .iter()
                        .filter(|t| matches!(t.state, TaskState::Failed | TaskState::Rejected))
                        .map(|t| format!("task {} ({}): {}", t.slot, t.state, t.message))
                        .collect();
                    if Instant::now() >= deadline || failed.len() as u32 >= 3 * self.workers {
                        let why = if failed.is_empty() { "no failure reported".to_string() } else { failed.join("; ") };
                        return Err(ClusterError::NoHello {
                            seen,
                            workers: self.workers,
                            wait: HELLO_WAIT,
                            why,
                            service: service.to_string(),
                        });
                    }
                }
            }
        }
    }

    /// Stops the start when a node reported that it lacks the worker image ("No such image"),
    /// one check after the first report so that every such node is named.
    async fn check_images(
        &self,
        tasks: &[GeneratorTask],
        first_seen: &mut Option<Instant>,
    ) -> Result<(), ClusterError> {
        let lacking: BTreeSet<&str> = tasks
            .iter()
            .filter(|t| t.message.contains("No such image"))
            .map(|t| t.node_id.as_str())
            .filter(|n| !n.is_empty())
            .collect();
        if lacking.is_empty() {
            return Ok(());
        }
        let first = *first_seen.get_or_insert_with(Instant::now);
        if first.elapsed() < MISSING_IMAGE_GATHER {
            return Ok(());
        }
        let names = self.docker.swarm_node_names().await.unwrap_or_default();
        let hosts: Vec<String> =
            lacking.iter().map(|id| names.get(*id).cloned().unwrap_or_else(|| (*id).to_string())).collect();
        let image = self.report.lock().map(|r| r.image.clone()).unwrap_or_default();
        Err(ClusterError::MissingImage { image, hosts })
    }

    /// A task said hello: it is worker `worker`'s current attempt from now on.
    fn hello(&self, worker: u32, task: String) -> Option<(String, u32)> {
        let mut roster = self.roster.lock().ok()?;
        let number = roster.current.get(&worker).map_or(1, |(_, n)| n + 1);
        roster.current.insert(worker, (task, number))
    }

    /// The run's distributed report so far (workers started, lost, restarted); a copy.
    pub fn report(&self) -> DistributedReport {
        self.report.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Runs one phase on every worker and merges what they measured.
    pub async fn run_phase(
        &self,
        call: PhaseCall<'_>,
        sink: &mut dyn TickSink,
        mut steer: Option<SteerReceiver>,
    ) -> DistributedPhase {
        let mut data = self.data.lock().await;
        // Hellos between phases (a task Swarm restarted) join from this phase on.
        while let Ok(message) = data.try_recv() {
            if let Data::Hello { worker, attempt } = message {
                self.hello(worker, attempt);
            }
        }
        let shares = self.open_shares(&call);
        let mut phase = self.start_phase(&call, shares).await;
        self.follow(&call, &mut phase, &mut data, sink, &mut steer).await;
        phase.emit(sink, true);
        let ran_for = phase.ran_for();
        let nodes = self.task_nodes().await;
        self.close_phase(call.spec, phase, ran_for, call.stop.is_cancelled(), &nodes)
    }

    /// One share per current worker attempt, each with its own hlog file.
    fn open_shares(&self, call: &PhaseCall<'_>) -> BTreeMap<String, Share> {
        let roster: Vec<(u32, String, u32)> = self
            .roster
            .lock()
            .map(|r| r.current.iter().map(|(w, (t, n))| (*w, t.clone(), *n)).collect())
            .unwrap_or_default();
        roster
            .into_iter()
            .map(|(worker, task, attempt)| {
                let path = worker_hlog_path(call.hlog_base, worker + 1);
                let comment = format!(
                    "terrafix-tui {} phase {} worker-{}",
                    env!("CARGO_PKG_VERSION"),
                    call.spec.phase.name,
                    worker + 1
                );
                let hlog = HlogWriter::create(&path, call.run_start_unix_s, &comment)
                    .map(|h| h.tagged(&format!("worker-{}", worker + 1)));
                (task.clone(), Share::new(worker, task, attempt, hlog))
            })
            .collect()
    }

    /// Tells the workers the phase's common start and waits for it.
    async fn start_phase(&self, call: &PhaseCall<'_>, mut shares: BTreeMap<String, Share>) -> Following {
        let start_unix_ms = super::worker::now_unix_ms() + START_LEAD.as_millis() as u64;
        let mut lost = Vec::new();
        let order = Control::Phase { index: call.index, start_unix_ms };
        if let Err(e) = self.transport.send_control(&order).await {
            lost.push(format!("phase {} could not be started on the generators: {e}", call.spec.phase.name));
            for s in shares.values_mut() {
                s.lost = Some(format!("never started: {e}"));
            }
        }
        tokio::time::sleep(START_LEAD).await;
        let started_at = SystemTime::now();
        let start = Instant::now();
        for s in shares.values_mut() {
            s.last_seen = start;
        }
        Following {
            shares,
            started_at,
            start,
            end_at: start + call.spec.phase.duration,
            changes: Vec::new(),
            pending: Tick::default(),
            totals: PhaseTotals::default(),
            last_tick: start,
            stop_sent: false,
            lost,
            slips: Vec::new(),
        }
    }

    /// Merges the workers' seconds, passes stop and steer on, until every share settled.
    async fn follow(
        &self,
        call: &PhaseCall<'_>,
        phase: &mut Following,
        data: &mut mpsc::UnboundedReceiver<Data>,
        sink: &mut dyn TickSink,
        steer: &mut Option<SteerReceiver>,
    ) {
        let first = phase.start + Duration::from_secs(1) + TICK_LAG;
        let mut ticker = tokio::time::interval_at(first, Duration::from_secs(1));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !phase.settled() {
            tokio::select! {
                _ = ticker.tick() => phase.on_tick(sink),
                _ = call.stop.cancelled(), if !phase.stop_sent => {
                    phase.stop_sent = true;
                    if let Err(e) = self.transport.send_control(&Control::Stop { index: call.index }).await {
                        phase.slips.push(Slip::StopNotSent(e));
                    }
                }
                asked = next_steer(steer) => match asked {
                    Some(asked) => self.steer(call, phase, sink, asked).await,
                    None => *steer = None,
                },
                message = data.recv() => match message {
                    Some(message) => {
                        self.take(message, call.index, &mut phase.shares, &mut phase.pending, call.run_start_unix_s)
                    }
                    None => phase.lose_running("the coordinator lost its connection to Redis"),
                },
            }
        }
    }

    /// Passes a steer the phase's load allows on to the workers and records the change.
    async fn steer(
        &self,
        call: &PhaseCall<'_>,
        phase: &mut Following,
        sink: &mut dyn TickSink,
        asked: crate::engine::SteerRequest,
    ) {
        match steer_fits(asked.steer, &call.spec.phase.load) {
            Ok(()) => {
                let order = Control::Steer { index: call.index, steer: WireSteer::of(asked.steer) };
                if let Err(error) = self.transport.send_control(&order).await {
                    phase.slips.push(Slip::SteerNotSent { steer: asked.steer, error });
                    return;
                }
                if let Steer::Extend(d) = asked.steer {
                    phase.end_at += d;
                }
                let change = change_record(phase.start.elapsed(), asked);
                sink.on_change(&change, phase.end_at - phase.start);
                phase.changes.push(change);
            }
            Err(reason) => sink.on_refused(&reason),
        }
    }

    /// Task id → the node it ran on, as the manager knows it; empty when it cannot say
    /// (bounded: a report without nodes beats a phase that never ends).
    async fn task_nodes(&self) -> BTreeMap<String, WorkerNode> {
        let service = self.report.lock().map(|r| r.service.clone()).unwrap_or_default();
        let lookup = async {
            let tasks = self.docker.generator_tasks(&service).await.ok()?;
            let names = self.docker.swarm_node_names().await.ok()?;
            Some(
                tasks
                    .into_iter()
                    .filter(|t| !t.node_id.is_empty())
                    .map(|t| {
                        let hostname = names.get(&t.node_id).cloned().unwrap_or_default();
                        (t.id, WorkerNode { hostname, id: t.node_id })
                    })
                    .collect(),
            )
        };
        tokio::time::timeout(Duration::from_secs(5), lookup).await.ok().flatten().unwrap_or_default()
    }

    /// One message from the data stream during phase `index`.
    fn take(
        &self,
        message: Data,
        index: usize,
        shares: &mut BTreeMap<String, Share>,
        pending: &mut Tick,
        run_start_unix_s: f64,
    ) {
        match message {
            Data::Tick(t) if t.phase == index => {
                let Some(share) = shares.get_mut(&t.attempt) else { return };
                add_tick(share, &t, pending, run_start_unix_s);
            }
            Data::Done(d) if d.phase == index => {
                if let Some(share) = shares.get_mut(&d.attempt) {
                    share.last_seen = Instant::now();
                    share.done = Some(d);
                }
            }
            Data::Hello { worker, attempt } => {
                // A new task for a worker: its earlier attempt is gone (Swarm replaced it).
                if let Some((old, _)) = self.hello(worker, attempt)
                    && let Some(share) = shares.get_mut(&old)
                    && share.done.is_none()
                {
                    share.lost.get_or_insert_with(|| "its task died and Swarm started another".into());
                }
            }
            Data::Failed { attempt, message, .. } => {
                if let Some(share) = shares.get_mut(&attempt) {
                    share.lost = Some(message);
                }
            }
            _ => {}
        }
    }

    /// The phase's result and each worker's report, once every share settled.
    fn close_phase(
        &self,
        spec: &PhaseSpec,
        phase: Following,
        ran_for: Duration,
        stopped: bool,
        nodes: &BTreeMap<String, WorkerNode>,
    ) -> DistributedPhase {
        let Following { shares, totals, started_at, start, changes, lost, slips, .. } = phase;
        let seconds = ran_for.as_secs_f64().max(1e-3);
        let mut generators = PhaseGenerators {
            workers: Vec::new(),
            cpu_s: 0.0,
            cpu_share: 0.0,
            cores: 1,
            worst_stall_ms: 0.0,
            lost,
            connects: crate::engine::http::ConnectStats::default(),
        };
        let mut abandoned = 0;
        for s in shares.values() {
            if let Some(d) = &s.done {
                generators.add(d);
                abandoned += d.abandoned;
            }
            let lost_text = s.lost.as_ref().map(|why| s.lost_words(why, start, &spec.phase.name));
            if let Some(text) = &lost_text {
                generators.lost.push(text.clone());
            }
            generators.workers.push(s.report(seconds, lost_text, nodes));
        }
        generators.workers.sort_by_key(|w| (w.worker, w.attempt));
        if let Ok(mut r) = self.report.lock() {
            r.lost.extend(generators.lost.iter().cloned());
        }
        // After the report's copy: these say what the coordinator missed, not a lost worker.
        generators.lost.extend(slips.iter().map(Slip::to_string));
        generators.lost.extend(shares.values().filter_map(Share::hlog_words));
        let end = if stopped { PhaseEnd::Stopped } else { PhaseEnd::Completed };
        DistributedPhase {
            result: PhaseResult { totals, started_at, ran_for, end, abandoned, changes },
            generators,
        }
    }

    /// Ends the workers, removes the service, the overlay network and the run's keys.
    /// Returns what could not be cleaned up, in words.
    pub async fn finish(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Err(e) = self.transport.send_control(&Control::End).await {
            problems.push(format!("could not tell the generators to end: {e}"));
        }
        if let Err(e) = self.docker.remove_generators(Duration::from_secs(30)).await {
            problems.push(format!("generator service not fully removed: {e}"));
        }
        self.reader_stop.cancel();
        let reader = self.reader.lock().ok().and_then(|mut r| r.take());
        // Cancelled above, so it ends at once; only a panic in it is news.
        if let Some(reader) = reader
            && let Err(e) = reader.await
            && e.is_panic()
        {
            problems.push(format!("reading the generators' data stopped unexpectedly: {e}"));
        }
        if let Err(e) = self.transport.remove().await {
            problems.push(format!("the run's keys were left in Redis (they expire in a day): {e}"));
        }
        if let Err(e) = self.docker.remove_run_redis().await {
            problems.push(format!("the run's Redis was not removed: {e}"));
        }
        problems
    }
}

/// The one message for nodes without the worker image, with the command that loads it.
pub fn missing_image_message(image: &str, hosts: &[String]) -> String {
    let commands: Vec<String> =
        hosts.iter().map(|h| format!("`docker save {image} | ssh {h} docker load`")).collect();
    format!(
        "the worker image {image} is not on node{} {} (there is no registry to pull it from); load it on each: {}, or push it to a registry every node can pull from, then run again",
        if hosts.len() == 1 { "" } else { "s" },
        hosts.join(", "),
        commands.join("; ")
    )
}

/// `throughput/throughput_baseline.hlog` → `throughput/throughput_baseline.worker-2.hlog`.
pub fn worker_hlog_path(base: &Path, worker: u32) -> std::path::PathBuf {
    let stem = base.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    base.with_file_name(format!("{stem}.worker-{worker}.hlog"))
}

fn short(task: &str) -> &str {
    &task[..task.len().min(12)]
}

/// Folds a worker's second into its share and into the merged window.
fn add_tick(share: &mut Share, t: &WireTick, pending: &mut Tick, run_start_unix_s: f64) {
    let tick = match t.to_tick() {
        Ok(tick) => tick,
        Err(e) => {
            tracing::warn!("worker-{}: an unreadable tick was skipped: {e}", t.worker + 1);
            return;
        }
    };
    share.last_seen = Instant::now();
    share.lost = None;
    share.cumulative = t.cumulative.clone();
    share.all.merge(&tick.all.latency);
    share.requests += tick.all.requests;
    share.failures += tick.all.failures;
    share.users = t.users;
    share.in_flight = t.in_flight;
    let offset = Duration::from_secs_f64((t.at_unix_s - t.window_s - run_start_unix_s).max(0.0));
    share.append_hlog(offset, Duration::from_secs_f64(t.window_s.max(0.0)), &tick.all.latency);
    for (key, totals) in tick.names {
        pending.names.entry(key).or_default().merge(&totals);
    }
    pending.all.merge(&tick.all);
    pending.error_samples.extend(tick.error_samples);
}

/// Hands the merged window to the sink; the counters are the workers' latest cumulative ones.
fn merge_and_emit(
    pending: &mut Tick,
    totals: &mut PhaseTotals,
    shares: &BTreeMap<String, Share>,
    sink: &mut dyn TickSink,
    window: Duration,
    phase_elapsed: Duration,
    is_final: bool,
) {
    let tick = std::mem::take(pending);
    totals.absorb_tick(&tick);
    let mut merged = PhaseTotals {
        names: std::mem::take(&mut totals.names),
        all: std::mem::take(&mut totals.all),
        ..Default::default()
    };
    for s in shares.values() {
        if let Err(e) = s.cumulative.add_to(&mut merged) {
            tracing::warn!("worker-{}: unreadable counters skipped: {e}", s.worker + 1);
        }
    }
    *totals = merged;
    let live = shares.values().filter(|s| s.lost.is_none() && s.done.is_none());
    let (users, in_flight) = live.fold((0, 0), |(u, f), s| (u + s.users, f + s.in_flight));
    sink.on_tick(&TickReport {
        tick: &tick,
        totals,
        window,
        phase_elapsed,
        users,
        in_flight,
        at: SystemTime::now(),
        is_final,
    });
}

/// Reads the data stream into the channel until stopped.
async fn read_data(transport: Transport, tx: mpsc::UnboundedSender<Data>, stop: CancellationToken) {
    let mut cursor = Cursor::start();
    loop {
        let read = tokio::select! {
            r = transport.read_data(&mut cursor, Duration::from_millis(500)) => r,
            _ = stop.cancelled() => return,
        };
        match read {
            Ok(messages) => {
                for m in messages {
                    if tx.send(m).is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                tracing::warn!("reading the generators' data: {e}");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = stop.cancelled() => return,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_missing_image_message_names_each_node_and_its_load_command() {
        let m = missing_image_message("terrafix-local/terrafix-api:abc", &["node-b".into(), "node-c".into()]);
        assert!(m.contains("is not on nodes node-b, node-c"), "{m}");
        assert!(m.contains("`docker save terrafix-local/terrafix-api:abc | ssh node-b docker load`"), "{m}");
        assert!(m.contains("`docker save terrafix-local/terrafix-api:abc | ssh node-c docker load`"), "{m}");
        let one = missing_image_message("img", &["node-b".into()]);
        assert!(one.contains("is not on node node-b"), "{one}");
    }

    #[test]
    fn a_worker_row_names_its_node_even_with_an_odd_id() {
        let worker = WorkerReport {
            worker: 2,
            node: Some(WorkerNode { hostname: "tfmn-2".into(), id: "ñññññññññññññññ".into() }),
            ..Default::default()
        };
        let row = worker.row();
        assert!(row.starts_with("worker-2 on tfmn-2 (node ññññññññññññ): 0 requests"), "{row}");
        let without = WorkerReport { worker: 1, ..Default::default() };
        assert!(without.row().starts_with("worker-1: 0 requests"), "{}", without.row());
    }
}
