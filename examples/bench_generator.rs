//! Benchmark of the load generator itself: CPU time per 100,000 requests and requests/s
//! against a fast target, and the recorder's cost per sample.
//!
//! Start a target on another core first, e.g.
//!   taskset -c 1 target/release/terrafix-tui serve --port 18081 --latency-ms 0
//! then
//!   taskset -c 0 target/release/examples/bench_generator http://127.0.0.1:18081 health 64 10
//!   taskset -c 0 target/release/examples/bench_generator http://127.0.0.1:18081 webhook 64 10
//! Arguments: URL, `health` or `webhook`, connections (users), seconds.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use terrafix_tui::engine::http::HttpClient;
use terrafix_tui::engine::recorder::Recorder;
use terrafix_tui::engine::{PhaseSpec, TickReport, TickSink, run_phase};
use terrafix_tui::profile::{
    Behaviour, Load, Phase, RepoSize, RepoSizeChoice, RequestKind, ServerSettings, Task, Thresholds,
    WaitStrategy,
};

/// The same allocator as the terrafix-tui binary, so the figures are the real generator's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Quiet;
impl TickSink for Quiet {
    fn on_tick(&mut self, _: &TickReport<'_>) {}
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes into the struct we pass and reads nothing else.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn recorder_cost_ns() -> f64 {
    let recorder = Recorder::new();
    let shard = recorder.shard(0);
    let n = 5_000_000u64;
    let start = Instant::now();
    for i in 0..n {
        shard.record("POST", "/webhook [throughput]", 40_000 + (i % 20_000), 120, None);
    }
    let ns = start.elapsed().as_nanos() as f64 / n as f64;
    std::hint::black_box(recorder.drain());
    ns
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: bench_generator URL health|webhook CONNECTIONS SECONDS");
        std::process::exit(2);
    }
    let url = url::Url::parse(&args[1]).expect("a URL such as http://127.0.0.1:18081");
    let kind = match args[2].as_str() {
        "health" => RequestKind::Health,
        "webhook" => RequestKind::Webhook,
        other => panic!("unknown request kind {other}: use health or webhook"),
    };
    let users: u32 = args[3].parse().expect("connections: a number");
    let seconds: f64 = args[4].parse().expect("seconds: a number");

    println!("recorder: {:.1} ns per sample", recorder_cost_ns());

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let behaviour = Arc::new(Behaviour {
        name: "bench".into(),
        wait: WaitStrategy::Constant(Duration::ZERO),
        tasks: vec![Task {
            weight: NonZeroU32::MIN,
            kind,
            name: format!("/{} [bench]", args[2]),
            headers: Vec::new(),
        }],
        retry: None,
    });
    let phase = Phase {
        name: "bench".into(),
        suite: "bench".into(),
        description: String::new(),
        behaviour,
        load: Load::Closed { users: NonZeroU32::new(users).unwrap(), spawn_rate_per_s: 1e6 },
        duration: Duration::from_secs_f64(seconds),
        repo_size: RepoSizeChoice::Fixed(RepoSize::Small),
        server: ServerSettings::default(),
        thresholds: Thresholds::default(),
        timeouts: Default::default(),
        faults: Vec::new(),
    };
    let spec = PhaseSpec { phase, seed: 1, lockstep_start: true };
    let client = HttpClient::new(&url, Duration::from_secs(10));
    let stop = tokio_util::sync::CancellationToken::new();
    let cpu_before = cpu_seconds();
    let wall = Instant::now();
    let result = runtime.block_on(async { run_phase(&spec, &client, &stop, &mut Quiet).await });
    let cpu = cpu_seconds() - cpu_before;
    let wall = wall.elapsed().as_secs_f64();
    let n = result.totals.all.requests;
    for ((key, kind), f) in &result.totals.failures {
        println!("failures: {} × {} on {} {}: {}", f.count, kind.label(), key.0, key.1, f.first_message);
    }
    println!(
        "{} {}: {n} requests ({} failed) in {wall:.1} s = {:.0} req/s; generator CPU {cpu:.2} s = {:.2} CPU-s per 100k; p50 {:.3} ms p99 {:.3} ms",
        args[2],
        url,
        result.totals.all.failures,
        n as f64 / wall,
        cpu / n.max(1) as f64 * 100_000.0,
        result.totals.all.latency.quantile_ms(0.5),
        result.totals.all.latency.quantile_ms(0.99),
    );
}
