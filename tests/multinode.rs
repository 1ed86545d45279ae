//! Distributed runs across a real multi-node Swarm: `scripts/multinode.sh` starts three
//! Docker engines, each in a network namespace of its own, node 1 the manager; the
//! coordinator runs inside node 1's namespace with `DOCKER_HOST` pointing at it, as a user
//! would run it on a manager. Checked: a node without the worker image stops the run at once
//! with the nodes named and the load command; workers spread over the nodes, named in the
//! summary, merged exactly (counts and percentiles) and matching the server; a node's engine
//! killed mid-phase and a node cut off for 10 s leave a completed run, counted once, nothing
//! of ours left on the surviving nodes; the host engine unchanged. Needs root (network
//! namespaces, mounts, dockerd); elsewhere it fails unless TERRAFIX_SKIP_DOCKER=1.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use terrafix_tui::metrics::summary::{PhaseSummary, RunStatus, RunSummary};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/multinode.sh");
const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn harness(args: &[&str]) -> Output {
    Command::new("bash").arg(SCRIPT).args(args).output().expect("bash runs")
}

/// `docker` against node K's engine (K = 0: the host's own engine).
fn docker(node: u32, args: &[&str]) -> String {
    let mut cmd = Command::new("docker");
    if node > 0 {
        cmd.arg("-H").arg(format!("unix://{}/{node}/docker.sock", root()));
    }
    let out = cmd.args(args).output().expect("the docker CLI runs");
    text(&out).trim().to_string()
}

fn root() -> String {
    std::env::var("TFMN_ROOT").unwrap_or_else(|_| "/var/tmp/tfmn".into())
}

/// Tears the nodes down however the test ends.
struct Nodes;
impl Drop for Nodes {
    fn drop(&mut self) {
        let out = harness(&["down"]);
        if !out.status.success() {
            eprintln!("multinode down: {}", text(&out));
        }
    }
}

/// What the harness could change on the host's engine, as text to compare.
fn host_engine_state() -> Vec<String> {
    vec![
        docker(0, &["info", "--format", "{{.Swarm.LocalNodeState}}"]),
        docker(0, &["network", "ls", "--format", "{{.Name}}", "--filter", "name=docker_gwbridge"]),
        docker(0, &["network", "ls", "--format", "{{.Name}}", "--filter", "name=ingress"]),
        docker(0, &["ps", "-a", "--format", "{{.Names}}", "--filter", "label=io.terrafix.service=generator"]),
    ]
}

/// `terrafix-tui ARGS` inside the manager's namespace, its engine as DOCKER_HOST.
fn on_manager(args: &[&str]) -> Output {
    let mut all = vec!["exec", "1", BIN];
    all.extend_from_slice(args);
    harness(&all)
}

fn write_profile(dir: &Path, name: &str, users: u32, seconds: u32) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    let yaml = format!(
        "name: {name}\nbehaviours:\n  w:\n    wait: {{ constant: 50ms }}\n    tasks: [ {{ kind: webhook, name: w }} ]\nphases:\n  - {{ name: p, behaviour: w, users: {users}, spawn_rate: 1000, duration: {seconds}s, server: {{ latency_ms: 5 }} }}\n"
    );
    std::fs::write(&path, yaml).unwrap();
    path
}

fn distributed(profile: &Path, out: &Path) -> Output {
    on_manager(&[
        "run",
        profile.to_str().unwrap(),
        "--target",
        "docker",
        "--distributed",
        "3",
        "--no-charts",
        "--output",
        out.to_str().unwrap(),
    ])
}

fn summary_of(out: &Path) -> (PathBuf, RunSummary) {
    let dir = std::fs::read_dir(out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .expect("a run folder");
    let json = std::fs::read_to_string(dir.join("experiment_summary.json")).unwrap();
    (dir, serde_json::from_str(&json).expect("a readable summary"))
}

fn only_phase(summary: &RunSummary) -> &PhaseSummary {
    assert_eq!(summary.experiments.len(), 1, "one phase");
    &summary.experiments[0]
}

/// Every interval of `.hlog` files added into one histogram with hdrhistogram itself.
fn union_of(paths: &[PathBuf]) -> hdrhistogram::Histogram<u64> {
    use base64::Engine as _;
    use hdrhistogram::serialization::Deserializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    let mut union = hdrhistogram::Histogram::<u64>::new(3).unwrap();
    let mut deserializer = Deserializer::new();
    for path in paths {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for entry in IntervalLogIterator::new(&bytes) {
            if let LogEntry::Interval(ih) = entry.expect("a well-formed interval log") {
                let raw = base64::engine::general_purpose::STANDARD.decode(ih.encoded_histogram()).unwrap();
                let h: hdrhistogram::Histogram<u64> =
                    deserializer.deserialize(&mut std::io::Cursor::new(raw)).unwrap();
                union.add(&h).unwrap();
            }
        }
    }
    union
}

/// Services, generator containers and overlay networks of ours on node K.
fn ours_on(node: u32) -> Vec<String> {
    let mut left: Vec<String> = Vec::new();
    if node == 1 {
        left.extend(docker(1, &["service", "ls", "-q"]).lines().map(|s| format!("service {s}")));
    }
    let generators = docker(node, &["ps", "-aq", "--filter", "label=io.terrafix.service=generator"]);
    left.extend(generators.lines().map(|c| format!("node {node}: container {c}")));
    let networks = docker(node, &["network", "ls", "-q", "--filter", "name=generators"]);
    left.extend(networks.lines().map(|n| format!("node {node}: network {n}")));
    left.retain(|l| !l.ends_with(' '));
    left
}

/// Waits until some worker's log of the run under `out` holds `lines` seconds of data.
fn wait_for_worker_data(out: &Path, lines: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "the workers never got going");
        // <out>/<run id>/<profile name>/p.worker-K.hlog
        let folders = std::fs::read_dir(out).into_iter().flatten().flatten();
        let groups = folders.flat_map(|run| std::fs::read_dir(run.path()).into_iter().flatten().flatten());
        let enough = groups.filter(|g| g.path().is_dir()).any(|group| {
            std::fs::read_dir(group.path()).into_iter().flatten().flatten().any(|f| {
                let name = f.file_name().to_string_lossy().into_owned();
                name.contains(".worker-")
                    && std::fs::read_to_string(f.path())
                        .map(|t| t.lines().filter(|l| l.starts_with("Tag=")).count() >= lines)
                        .unwrap_or(false)
            })
        });
        if enough {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// True when the test cannot run here and TERRAFIX_SKIP_DOCKER=1 says that is fine.
fn skip_or_require_root() -> bool {
    // The effective user from `id -u`, so the test needs no libc bindings.
    let uid = Command::new("id").arg("-u").output().map(|o| text(&o).trim().to_string()).unwrap_or_default();
    let has = |tool: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let missing: Vec<&str> =
        ["dockerd", "docker", "ip", "unshare", "nsenter"].into_iter().filter(|t| !has(t)).collect();
    if uid == "0" && missing.is_empty() {
        return false;
    }
    let why = format!(
        "the multi-node harness needs root (running as uid {uid}) and dockerd, docker, ip, unshare, nsenter (missing: {missing:?})"
    );
    if std::env::var("TERRAFIX_SKIP_DOCKER").as_deref() == Ok("1") {
        eprintln!("skipped: {why} and TERRAFIX_SKIP_DOCKER=1");
        return true;
    }
    panic!("{why}; TERRAFIX_SKIP_DOCKER=1 skips it")
}

/// One test, in order, because the nodes are one set: missing image, the exact merge across
/// nodes, a node cut off, a node killed.
#[test]
fn distributed_runs_across_three_swarm_nodes() {
    if skip_or_require_root() {
        return;
    }
    let host_before = host_engine_state();
    let started = Instant::now();
    let nodes = Nodes;
    let up = harness(&["up", "3"]);
    assert!(up.status.success(), "multinode up: {}", text(&up));
    let work = tempfile::tempdir().unwrap();

    let env_up = on_manager(&["env", "up"]);
    assert!(env_up.status.success(), "env up on the manager: {}", text(&env_up));
    let image = docker(1, &["images", "terrafix-local/terrafix-api", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(image.starts_with("terrafix-local/terrafix-api:"), "{image}");

    missing_image_stops_at_once(work.path(), &image);
    let load = harness(&["load", &image]);
    assert!(load.status.success(), "multinode load: {}", text(&load));
    merge_is_exact_across_nodes(work.path());
    host_network_mode_keeps_its_password(work.path());
    a_cut_off_node_is_never_counted_twice(work.path());
    a_killed_node_is_named_lost(work.path());

    drop(nodes);
    assert_eq!(host_engine_state(), host_before, "the host's engine is as it was");
    let left = Command::new("ip").args(["netns", "list"]).output().map(|o| text(&o)).unwrap_or_default();
    assert!(!left.contains("tfmn-"), "namespaces left: {left}");
    assert!(!Path::new(&root()).exists(), "the harness's state folder is gone");
    eprintln!("multi-node set took {:.0?}", started.elapsed());
}

fn missing_image_stops_at_once(work: &Path, image: &str) {
    let out = work.join("missing");
    let profile = write_profile(work, "missing", 3, 3);
    let asked = Instant::now();
    let run = distributed(&profile, &out);
    let said = text(&run);
    assert!(!run.status.success(), "{said}");
    assert!(asked.elapsed() < Duration::from_secs(60), "stopped after {:.0?}: {said}", asked.elapsed());
    assert!(said.contains(&format!("the worker image {image} is not on node")), "{said}");
    assert!(said.contains("tfmn-2") && said.contains("tfmn-3"), "both nodes named: {said}");
    assert!(said.contains(&format!("docker save {image} | ssh tfmn-2 docker load")), "{said}");
    assert!(!said.contains("tfmn-1 docker load"), "the manager has it: {said}");
    for node in 1..=3 {
        assert_eq!(ours_on(node), Vec::<String>::new(), "left after the refusal");
    }
}

fn merge_is_exact_across_nodes(work: &Path) {
    let out = work.join("merge");
    let profile = write_profile(work, "merge", 7, 6);
    let run = distributed(&profile, &out);
    assert!(run.status.success(), "{}", text(&run));
    let (dir, summary) = summary_of(&out);
    let phase = only_phase(&summary);
    assert_eq!(summary.status, RunStatus::Completed);
    assert_eq!(phase.workers.len(), 3, "{:?}", phase.workers);
    let hosts: std::collections::BTreeSet<_> =
        phase.workers.iter().filter_map(|w| w.node.as_ref().map(|n| n.hostname.clone())).collect();
    assert!(hosts.len() >= 2, "workers on {hosts:?}: {:?}", phase.workers);
    assert!(phase.workers.iter().all(|w| w.node.as_ref().is_some_and(|n| !n.id.is_empty())));
    assert!(text(&run).contains(" on tfmn-"), "the headless table names the nodes: {}", text(&run));
    let per_worker: u64 = phase.workers.iter().map(|w| w.requests).sum();
    assert!(phase.summary.total_requests > 100, "{}", phase.summary.total_requests);
    assert_eq!(per_worker, phase.summary.total_requests);
    let server = phase.server.as_ref().and_then(|s| s.total_requests);
    assert_eq!(server, Some(phase.summary.total_requests), "the server counted what the workers sent");
    let logs: Vec<_> = phase.workers.iter().map(|w| dir.join(&w.hlog)).collect();
    let union = union_of(&logs);
    assert_eq!(union.len(), phase.summary.total_requests);
    for (q, ours) in
        [(0.50, phase.latency_ms.p50), (0.95, phase.latency_ms.p95), (0.99, phase.latency_ms.p99)]
    {
        assert_eq!(
            ours,
            union.value_at_quantile(q) as f64 / 1000.0,
            "p{} vs the union of the logs",
            q * 100.0
        );
    }
    let html = std::fs::read_to_string(dir.join("experiment_summary.html")).unwrap_or_default();
    assert!(html.contains(" on tfmn-"), "the HTML names the nodes");
    assert_eq!(summary.distributed.as_ref().map(|d| d.network.as_str()), Some("overlay"));
    for node in 1..=3 {
        assert_eq!(ours_on(node), Vec::<String>::new(), "left after the run");
    }
}

/// The port the host-mode target listens on in node 1's namespace (a namespace of its own:
/// nothing else binds there).
const HOST_TARGET_PORT: u16 = 18181;

/// Kills the target server however the test ends.
struct Server(std::process::Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `--worker-network host`: workers on the nodes' own networks reach a target on node 1's
/// address and the run's Redis there; the generated password shows in no output or file.
fn host_network_mode_keeps_its_password(work: &Path) {
    let addr = docker(1, &["info", "--format", "{{.Swarm.NodeAddr}}"]);
    let port = HOST_TARGET_PORT.to_string();
    let server = Command::new("bash")
        .args([SCRIPT, "exec", "1", BIN, "serve", "--bind", "0.0.0.0", "--port", &port])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve starts");
    let _server = Server(server);
    let target: std::net::SocketAddr = format!("{addr}:{port}").parse().expect("a node address");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect_timeout(&target, Duration::from_millis(500)).is_err() {
        assert!(Instant::now() < deadline, "the target on {target} never listened");
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = work.join("host");
    let profile = write_profile(work, "host", 7, 5);
    let run = {
        let (profile, out, url) = (profile.clone(), out.clone(), format!("http://{target}/"));
        std::thread::spawn(move || {
            let args = ["--no-charts", "--worker-network", "host", "--distributed", "3", "--target", &url];
            let mut all = vec!["run", profile.to_str().unwrap(), "--output", out.to_str().unwrap()];
            all.extend_from_slice(&args);
            on_manager(&all)
        })
    };
    let password = run_redis_password();
    let run = run.join().unwrap();
    let said = text(&run);
    assert!(run.status.success(), "{said}");
    assert!(said.contains("on the host network"), "the run names the mode: {said}");
    let (dir, summary) = summary_of(&out);
    let phase = only_phase(&summary);
    assert_eq!(summary.distributed.as_ref().map(|d| d.network.as_str()), Some("host"));
    let hosts: std::collections::BTreeSet<_> =
        phase.workers.iter().filter_map(|w| w.node.as_ref().map(|n| n.hostname.clone())).collect();
    assert!(hosts.len() >= 2, "workers on {hosts:?}: {:?}", phase.workers);
    let per_worker: u64 = phase.workers.iter().map(|w| w.requests).sum();
    assert!(phase.summary.total_requests > 100, "{}", phase.summary.total_requests);
    assert_eq!(per_worker, phase.summary.total_requests, "{:?}", phase.workers);
    assert!(!said.contains(&password), "the password was printed");
    for file in files_under(&dir) {
        let bytes = std::fs::read(&file).unwrap_or_default();
        let shown = String::from_utf8_lossy(&bytes);
        assert!(!shown.contains(&password), "the password is in {}", file.display());
    }
    for node in 1..=3 {
        wait_until_clean(node);
    }
}

/// The password the run's Redis was started with, read from its container while it runs.
fn run_redis_password() -> String {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        assert!(Instant::now() < deadline, "the run's Redis never started");
        let filter =
            ["ps", "-q", "--filter", "label=io.terrafix.service=generator", "--filter", "name=-redis"];
        let id = docker(1, &filter);
        if let Some(id) = id.lines().next().filter(|l| !l.is_empty()) {
            let args = docker(1, &["inspect", "--format", "{{join .Args \"\\n\"}}", id]);
            let words: Vec<&str> = args.lines().collect();
            if let Some(i) = words.iter().position(|w| *w == "--requirepass") {
                let password = words.get(i + 1).expect("a password after --requirepass").to_string();
                assert!(password.len() >= 20, "a long password");
                return password;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { files.extend(files_under(&path)) } else { files.push(path) }
    }
    files
}

fn a_cut_off_node_is_never_counted_twice(work: &Path) {
    let out = work.join("cut");
    let profile = write_profile(work, "cut", 6, 16);
    let run = {
        let profile = profile.clone();
        let out = out.clone();
        std::thread::spawn(move || distributed(&profile, &out))
    };
    wait_for_worker_data(&out, 2);
    let down = harness(&["link", "2", "down"]);
    assert!(down.status.success(), "{}", text(&down));
    std::thread::sleep(Duration::from_secs(10));
    let up = harness(&["link", "2", "up"]);
    assert!(up.status.success(), "{}", text(&up));
    let run = run.join().unwrap();
    assert!(run.status.success(), "{}", text(&run));
    let (_, summary) = summary_of(&out);
    let phase = only_phase(&summary);
    assert_eq!(summary.status, RunStatus::Completed);
    let per_worker: u64 = phase.workers.iter().map(|w| w.requests).sum();
    assert_eq!(per_worker, phase.summary.total_requests, "counted once: {:?}", phase.workers);
    let server = phase.server.as_ref().and_then(|s| s.total_requests).expect("the server counts");
    // Requests that timed out or found no connection while the link was down never reached
    // the server; every request that got an HTTP answer did (some the server answered may
    // have been cut on their way back, so the server may count more, never fewer).
    let unanswered: u64 = phase
        .failures
        .iter()
        .filter(|f| ["connection", "timeout", "dropped"].contains(&f.kind.as_str()))
        .map(|f| f.count)
        .sum();
    let answered = phase.summary.total_requests - unanswered;
    assert!(
        server >= answered,
        "server {server} vs {answered} answered ({} sent): {:?}",
        phase.summary.total_requests,
        phase.failures.iter().map(|f| (&f.kind, f.count)).collect::<Vec<_>>()
    );
    let cut: Vec<_> =
        phase.workers.iter().filter(|w| w.node.as_ref().is_some_and(|n| n.hostname == "tfmn-2")).collect();
    assert!(!cut.is_empty(), "a worker ran on tfmn-2: {:?}", phase.workers);
    assert!(cut.iter().all(|w| w.lost.is_some()), "the cut-off worker is named lost: {:?}", phase.workers);
    for node in 1..=3 {
        wait_until_clean(node);
    }
}

fn a_killed_node_is_named_lost(work: &Path) {
    let out = work.join("kill");
    let profile = write_profile(work, "kill", 6, 12);
    let run = {
        let profile = profile.clone();
        let out = out.clone();
        std::thread::spawn(move || distributed(&profile, &out))
    };
    wait_for_worker_data(&out, 3);
    let kill = harness(&["kill", "3"]);
    assert!(kill.status.success(), "{}", text(&kill));
    let run = run.join().unwrap();
    assert!(run.status.success(), "{}", text(&run));
    let (_, summary) = summary_of(&out);
    let phase = only_phase(&summary);
    assert_eq!(summary.status, RunStatus::Completed);
    let lost: Vec<_> = phase.workers.iter().filter(|w| w.lost.is_some()).collect();
    assert_eq!(lost.len(), 1, "{:?}", phase.workers);
    assert_eq!(lost[0].node.as_ref().map(|n| n.hostname.as_str()), Some("tfmn-3"), "{:?}", lost[0]);
    assert!(lost[0].requests > 0, "what it had sent is kept");
    let name = format!("worker-{} ", lost[0].worker);
    assert!(summary.distributed.as_ref().unwrap().lost.iter().any(|l| l.starts_with(&name)));
    let per_worker: u64 = phase.workers.iter().map(|w| w.requests).sum();
    assert_eq!(per_worker, phase.summary.total_requests, "the rest add up");
    for node in 1..=2 {
        wait_until_clean(node);
    }
}

/// A swarm-scoped network or a task container can take a moment to go on a worker node
/// after the manager removed the service: bounded wait, then the assertion.
fn wait_until_clean(node: u32) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ours_on(node).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(ours_on(node), Vec::<String>::new(), "left on node {node}");
}
