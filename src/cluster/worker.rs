//! `terrafix-tui worker`: one task of a distributed run, started by Swarm. It reads the
//! run's plan, says hello, then runs its share of each phase the coordinator starts (at
//! the common instant given), publishing every second's interval data until told to end.

#![deny(missing_docs)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use super::split;
use super::transport::{Cursor, Transport, TransportError};
use super::wire::{Control, Data, Plan, PlanTls, WireDone, WireSteer, WireTick};
use crate::engine::http::{ClientOptions, HttpClient};
use crate::engine::tls::{ClientTls, TlsError, TlsTrust};
use crate::engine::{PhaseSpec, Steer, TickReport, TickSink, run_phase_steered};

/// How long a worker waits for Redis and for the plan before it gives up.
const SETUP_WAIT: Duration = Duration::from_secs(60);
/// A phase whose start is further in the past than this is sat out (a task Swarm restarted
/// mid-phase joins at the next phase, so nothing is counted twice or run short).
const LATE_START: Duration = Duration::from_millis(1000);

/// Who this worker is and where the run lives (from the environment Swarm gives the task).
#[derive(Clone, Debug)]
pub struct WorkerIdentity {
    /// The run's Redis, as this task's container reaches it (`redis://host:port`).
    pub redis_url: String,
    /// The distributed run's id: the prefix of every Redis key the run uses.
    pub run_id: String,
    /// Swarm's slot, 1-based.
    pub slot: u32,
    /// Swarm's task id: tells a restarted task from the one it replaced (`local` outside Swarm).
    pub task_id: String,
}

/// Why a worker stopped before the coordinator ended the run: a setup failure, or the
/// coordinator's Redis gone for good.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// Swarm's slot was 0 (slots are 1-based).
    #[error("TERRAFIX_WORKER_SLOT must be 1 or more (Swarm's task slot)")]
    SlotZero,
    /// The slot is past the number of workers the plan asks for.
    #[error("slot {slot} is beyond the run's {workers} workers")]
    SlotBeyond {
        /// This task's slot, 1-based.
        slot: u32,
        /// The run's number of workers.
        workers: u32,
    },
    /// Redis could not be reached, or the plan could not be read from it.
    #[error("{0}")]
    Redis(#[from] TransportError),
    /// Redis answered but holds no plan for this run.
    #[error("no plan for this run in Redis (was the run already over?)")]
    NoPlan,
    /// The plan's CA certificate could not be written to a file for the TLS setup.
    #[error("writing the CA file {}: {source}", path.display())]
    CaFile {
        /// Where it was to be written.
        path: std::path::PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The TLS client could not be set up from the plan.
    #[error("{0}")]
    Tls(#[from] TlsError),
    /// The coordinator's Redis stayed unreachable longer than the setup wait.
    #[error("lost the coordinator's Redis: {0}")]
    LostCoordinator(#[source] TransportError),
}

/// Runs until the coordinator ends the run. An error is a setup failure.
pub async fn run(who: WorkerIdentity) -> Result<(), WorkerError> {
    crate::engine::tls::install_provider();
    let index = who.slot.checked_sub(1).ok_or(WorkerError::SlotZero)?;
    let transport = connect(&who).await?;
    let plan = wait_for_plan(&transport).await?;
    if index >= plan.workers {
        return Err(WorkerError::SlotBeyond { slot: who.slot, workers: plan.workers });
    }
    let (tx, rx) = mpsc::unbounded_channel::<Data>();
    let publisher = tokio::spawn(publish(transport.clone(), rx));
    // The publisher holds the receiver until every sender is gone, so a send fails only if
    // it panicked; the coordinator then hears nothing of this worker and counts it as lost.
    let _ = tx.send(Data::Hello { worker: index, attempt: who.task_id.clone() });
    let client = match client_for(&plan) {
        Ok(c) => c,
        Err(error) => {
            // As for the hello: fails only if the publisher panicked, which loses the worker anyway.
            let _ = tx.send(Data::Failed {
                worker: index,
                attempt: who.task_id.clone(),
                message: error.to_string(),
            });
            drop(tx);
            // Waited only so that the message goes out; a panicked publisher has nothing to send.
            let _ = publisher.await;
            return Err(error);
        }
    };
    let me = Me { index, attempt: who.task_id.clone(), plan, client, tx };
    let result = me.follow(&transport).await;
    drop(me);
    // Waited only so that the last messages go out; a panicked publisher has nothing to send.
    let _ = publisher.await;
    result
}

async fn connect(who: &WorkerIdentity) -> Result<Transport, WorkerError> {
    let deadline = tokio::time::Instant::now() + SETUP_WAIT;
    loop {
        match Transport::connect(&who.redis_url, &who.run_id).await {
            Ok(t) => return Ok(t),
            Err(e) if tokio::time::Instant::now() >= deadline => return Err(e.into()),
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

async fn wait_for_plan(transport: &Transport) -> Result<Plan, WorkerError> {
    let deadline = tokio::time::Instant::now() + SETUP_WAIT;
    loop {
        match transport.plan().await {
            Ok(Some(plan)) => return Ok(plan),
            Ok(None) | Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(250)).await
            }
            Ok(None) => return Err(WorkerError::NoPlan),
            Err(e) => return Err(e.into()),
        }
    }
}

fn client_for(plan: &Plan) -> Result<HttpClient, WorkerError> {
    let tls = match plan.target.scheme() {
        "https" => {
            let trust = match &plan.tls {
                PlanTls::PublicRoots => TlsTrust::PublicRoots,
                PlanTls::Insecure => TlsTrust::Insecure,
                PlanTls::WithCaPem(pem) => {
                    let path = std::env::temp_dir().join(format!("terrafix-ca-{}.pem", std::process::id()));
                    if let Err(source) = std::fs::write(&path, pem) {
                        return Err(WorkerError::CaFile { path, source });
                    }
                    TlsTrust::WithCa(path)
                }
            };
            Some(ClientTls::new(trust, plan.http2)?)
        }
        _ => None,
    };
    let options = ClientOptions {
        request_timeout: Duration::from_millis(plan.request_timeout_ms),
        connect_timeout: Duration::from_millis(plan.connect_timeout_ms),
        tls,
        headers: plan.headers.clone(),
        // A worker connects from its own node's address (`--source-address` is refused
        // for distributed runs).
        source_addrs: Vec::new(),
    };
    Ok(HttpClient::with_options(&plan.target, &options))
}

/// Everything the worker's loop needs.
struct Me {
    index: u32,
    attempt: String,
    plan: Plan,
    client: HttpClient,
    tx: mpsc::UnboundedSender<Data>,
}

/// The phase running now: its index, how to stop it, and where steering goes.
struct Running {
    index: usize,
    stop: CancellationToken,
    steer: broadcast::Sender<crate::engine::SteerRequest>,
    task: tokio::task::JoinHandle<()>,
}

impl Me {
    async fn follow(&self, transport: &Transport) -> Result<(), WorkerError> {
        let mut cursor = Cursor::start();
        let mut running: Option<Running> = None;
        let mut failing_since: Option<tokio::time::Instant> = None;
        loop {
            if running.as_ref().is_some_and(|r| r.task.is_finished()) {
                running = None;
            }
            let commands = match transport.read_control(&mut cursor, Duration::from_millis(500)).await {
                Ok(c) => {
                    failing_since = None;
                    c
                }
                Err(e) => {
                    let since = *failing_since.get_or_insert_with(tokio::time::Instant::now);
                    if since.elapsed() > SETUP_WAIT {
                        return Err(WorkerError::LostCoordinator(e));
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            for command in commands {
                match command {
                    Control::Phase { index, start_unix_ms } => {
                        let late = now_unix_ms().saturating_sub(start_unix_ms);
                        if late > LATE_START.as_millis() as u64 || index >= self.plan.phases.len() {
                            continue;
                        }
                        if let Some(r) = running.take() {
                            r.stop.cancel();
                            // A phase task that panicked sent no `Done`: the coordinator counts
                            // that share as lost (no data), so nothing is hidden here.
                            let _ = r.task.await;
                        }
                        running = Some(self.start_phase(index, start_unix_ms));
                    }
                    Control::Stop { index } => {
                        if let Some(r) = running.as_ref().filter(|r| r.index == index) {
                            r.stop.cancel();
                        }
                    }
                    Control::Steer { index, steer } => {
                        if let Some(r) = running.as_ref().filter(|r| r.index == index) {
                            // No receiver means the phase just ended: nothing is left to steer.
                            let _ = r.steer.send(
                                split::steer_share(steer_of(steer), self.index, self.plan.workers).into(),
                            );
                        }
                    }
                    Control::End => {
                        if let Some(r) = running.take() {
                            r.stop.cancel();
                            // As for a new phase: a panicked task shows as a lost share.
                            let _ = r.task.await;
                        }
                        return Ok(());
                    }
                }
            }
        }
    }

    fn start_phase(&self, index: usize, start_unix_ms: u64) -> Running {
        let stop = CancellationToken::new();
        let (steer_tx, steer_rx) = broadcast::channel(16);
        let share = split::share(&self.plan.phases[index], self.index, self.plan.workers);
        let spec = share.map(|phase| PhaseSpec {
            phase,
            seed: split::worker_seed(self.plan.seed, self.index),
            lockstep_start: self.plan.lockstep_start,
        });
        let client = self.client.clone();
        let (tx, worker, attempt) = (self.tx.clone(), self.index, self.attempt.clone());
        let phase_stop = stop.clone();
        let task = tokio::spawn(async move {
            let wait = Duration::from_millis(start_unix_ms.saturating_sub(now_unix_ms()));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = phase_stop.cancelled() => {}
            }
            let mut done = WireDone {
                worker,
                attempt: attempt.clone(),
                phase: index,
                ran_for_s: 0.0,
                abandoned: 0,
                cpu_s: 0.0,
                cpu_share: 0.0,
                cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
                worst_stall_ms: 0.0,
                connects: 0,
                connect_failed: 0,
                connect_time: String::new(),
            };
            if let Some(spec) = spec.filter(|_| !phase_stop.is_cancelled()) {
                let timeouts = spec.phase.timeouts;
                let client = client.with_timeouts(timeouts.request, timeouts.connect);
                let probe = crate::sys::probe::GeneratorProbe::start(phase_stop.clone());
                let mut sink = Publisher { tx: tx.clone(), worker, attempt, phase: index, seq: 0 };
                let result = run_phase_steered(&spec, &client, &phase_stop, &mut sink, Some(steer_rx)).await;
                phase_stop.cancel();
                let (cpu_s, cpu_share, cores, worst_stall_ms) = probe.finish().await;
                let connects = client.take_connect_stats();
                done = WireDone {
                    connects: connects.connects,
                    connect_failed: connects.failed,
                    connect_time: crate::metrics::hlog::encode_histogram(&connects.time).unwrap_or_default(),
                    ran_for_s: result.ran_for.as_secs_f64(),
                    abandoned: result.abandoned,
                    cpu_s,
                    cpu_share,
                    cores,
                    worst_stall_ms,
                    ..done
                };
            }
            // Fails only if the publisher panicked: the coordinator then counts the share as lost.
            let _ = tx.send(Data::Done(done));
        });
        Running { index, stop, steer: steer_tx, task }
    }
}

fn steer_of(steer: WireSteer) -> Steer {
    match steer {
        WireSteer::Users(n) => Steer::Users(n),
        WireSteer::ArrivalRate(r) => Steer::ArrivalRate(r),
        WireSteer::ExtendMs(ms) => Steer::Extend(Duration::from_millis(ms)),
    }
}

/// The worker's tick sink: each second's window goes on the data stream.
struct Publisher {
    tx: mpsc::UnboundedSender<Data>,
    worker: u32,
    attempt: String,
    phase: usize,
    seq: u64,
}

impl TickSink for Publisher {
    fn on_tick(&mut self, report: &TickReport<'_>) {
        self.seq += 1;
        match WireTick::from_report(report, self.worker, &self.attempt, self.phase, self.seq) {
            Ok(tick) => {
                // Fails only if the publisher panicked: the coordinator then counts the share as lost.
                let _ = self.tx.send(Data::Tick(Box::new(tick)));
            }
            Err(e) => tracing::warn!("phase {}: a tick could not be encoded: {e}", self.phase),
        }
    }
}

/// Sends the worker's messages in order; a failed send is retried for a while (Redis restarting).
async fn publish(transport: Transport, mut rx: mpsc::UnboundedReceiver<Data>) {
    while let Some(message) = rx.recv().await {
        let mut tries = 0;
        while let Err(e) = transport.send_data(&message).await {
            tries += 1;
            if tries >= 20 {
                tracing::warn!("dropping a message the coordinator will miss: {e}");
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Wall-clock time in milliseconds since the Unix epoch (0 if the clock is before 1970):
/// the unit of the start times the coordinator and workers agree on.
pub fn now_unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}
