//! `--source-address`: past one local address's ports, connections come from several.
//! Run in a network namespace of its own (`unshare -n`, root) whose local port range is cut
//! to 300 ports: 400 users from 127.0.0.1 alone cannot all connect; from two other
//! addresses (the first run's ports wait in TIME_WAIT) they can. The namespace ends with
//! the shell that made it: nothing is left behind.
#![allow(clippy::unwrap_used)] // a test's unwrap is an assertion

use std::path::Path;
use std::process::Command;

use terrafix_tui::metrics::summary::RunSummary;

const BIN: &str = env!("CARGO_BIN_EXE_terrafix-tui");

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

fn summary(root: &Path) -> RunSummary {
    let run = std::fs::read_dir(root).unwrap().next().unwrap().unwrap().path();
    serde_json::from_slice(&std::fs::read(run.join("experiment_summary.json")).unwrap()).unwrap()
}

#[test]
fn users_beyond_one_address_s_ports_connect_from_the_next_address() {
    if !is_root() {
        eprintln!("skipped: needs root for a network namespace (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("hold.yaml");
    std::fs::write(
        &profile,
        "name: hold\nconfigure_target: false\nbehaviours:\n  hold:\n    wait: { constant_pacing: 1s }\n    \
         tasks: [ { kind: health } ]\nphases:\n  - { name: hold, behaviour: hold, users: 400, duration: 3s }\n",
    )
    .unwrap();
    let script = r#"
set -eu
ip link set lo up
echo "40000 40299" > /proc/sys/net/ipv4/ip_local_port_range
REDIS_URL= "$BIN" serve --port 18431 --latency-ms 0 >"$DIR/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait' EXIT
for _ in $(seq 200); do (echo > /dev/tcp/127.0.0.1/18431) 2>/dev/null && break; sleep 0.05; done
"$BIN" run "$DIR/hold.yaml" --target http://127.0.0.1:18431 --no-charts -q --seed 1 --output "$DIR/one" || true
"$BIN" run "$DIR/hold.yaml" --target http://127.0.0.1:18431 --no-charts -q --seed 1 --output "$DIR/two" \
  --source-address 127.0.0.2,127.0.0.3
"#;
    let out = Command::new("unshare")
        .args(["-n", "bash", "-c", script])
        .env("BIN", BIN)
        .env("DIR", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let phase = |s: &RunSummary| s.experiments[0].clone();
    let one = phase(&summary(&dir.path().join("one")));
    let connection_failures: u64 =
        one.failures.iter().filter(|f| f.kind == "connection").map(|f| f.count).sum();
    assert!(connection_failures > 0, "300 ports cannot hold 400 users: {:?}", one.failures);
    assert!(
        one.failures.iter().any(|f| f.error.contains("Cannot assign requested address")),
        "{:?}",
        one.failures
    );

    let two = phase(&summary(&dir.path().join("two")));
    assert!(two.summary.total_requests >= 400, "every user sent: {}", two.summary.total_requests);
    assert_eq!(two.summary.failure_count, 0, "two addresses hold 600 ports: {:?}", two.failures);
}
