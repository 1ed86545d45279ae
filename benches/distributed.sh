#!/usr/bin/env bash
# Benchmark (not a test): distributed generation on a single-node Docker Swarm beside a
# single-node run against the same target (the Docker environment's terrafix-api at its
# container address, at latency 0), 64 users sending GET /health for SECONDS. Prints, per run: requests, req/s,
# generator CPU-s per 100k requests (single node: the whole `terrafix-tui run` process;
# distributed: the workers' own CPU seconds from the summary) and, for the distributed
# run, the coordinator's CPU per worker-second of merging. Initialises a swarm if there is
# none and leaves it afterwards; takes the default environment down at the end.
# MULTINODE=1 (root): the same two runs on a real multi-node swarm from scripts/multinode.sh
# (one node per worker, the coordinator and the single-node run in node 1's namespace, the
# workers reaching the target across nodes over the overlay); the host engine is not used.
# It then runs the host network mode too: a `terrafix-tui serve` on node 1's address as the
# target, loaded once from node 1 alone and once by `--distributed WORKERS --worker-network host`
# (workers on each node's own network, no VXLAN).
# Usage: bash benches/distributed.sh [SECONDS] [WORKERS] (TERRAFIX_BIN=path to a built binary)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-15}"
workers="${2:-2}"
# BENCH_PROFILE=profiling: the build with symbols, for perf/callgrind (docs/install-and-shell.md).
bench_profile="${BENCH_PROFILE:-release}"
bin="${TERRAFIX_BIN:-target/$bench_profile/terrafix-tui}"
[[ -x "$bin" ]] || cargo build --profile "$bench_profile" --bin terrafix-tui
work=$(mktemp -d)
multinode="${MULTINODE:-0}"
# The coordinator (and the single-node run) where a user would run them: on the manager.
tf=("$bin")
[[ $multinode == 1 ]] && tf=(bash scripts/multinode.sh exec 1 "$bin")
engine() { if [[ $multinode == 1 ]]; then docker -H "unix://${TFMN_ROOT:-/var/tmp/tfmn}/1/docker.sock" "$@"; else docker "$@"; fi; }
initialised=0
gwbridge_existed=0
docker network inspect docker_gwbridge >/dev/null 2>&1 && gwbridge_existed=1
cleanup() {
  if [[ $multinode == 1 ]]; then
    bash scripts/multinode.sh down || true
    rm -rf "$work"
    return
  fi
  "$bin" env down >/dev/null 2>&1 || true
  if [[ $initialised == 1 ]]; then
    docker swarm leave --force >/dev/null 2>&1 || true
    [[ $gwbridge_existed == 1 ]] || docker network rm docker_gwbridge >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
if [[ $multinode == 1 ]]; then
  bash scripts/multinode.sh up "$workers" >/dev/null
elif [[ "$(docker info --format '{{.Swarm.LocalNodeState}}')" != "active" ]]; then
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
  initialised=1
fi

cat >"$work/bench.yaml" <<YAML
name: bench
behaviours:
  get:
    wait: { constant: 0s }
    tasks: [ { kind: health, name: "/health [bench]" } ]
phases:
  - { name: get, behaviour: get, users: 64, spawn_rate: 1000000, duration: ${seconds}s, server: { latency_ms: 0 } }
YAML

figures() { # results-dir coordinator-cpu-seconds
  python3 - "$1" "$2" <<'PY'
import glob, json, sys
s = json.load(open(glob.glob(sys.argv[1] + "/*/experiment_summary.json")[0]))
e = s["experiments"]
e = e if isinstance(e, list) else [p for v in e.values() for p in v]
p = e[0]
n = p["summary"]["total_requests"]
own = float(sys.argv[2])
workers = p.get("workers", [])
if workers:
    gen = sum(w["cpu_s"] for w in workers)
    worker_s = sum(w["requests"] / w["requests_per_s"] for w in workers if w["requests_per_s"] > 0)
    print(f"{n} requests, {n / p['duration_s']:.0f} req/s, generator {gen / n * 1e5:.2f} CPU-s per 100k "
          f"(workers' own), coordinator {own / max(worker_s, 1e-9) * 1000:.1f} ms CPU per worker-second "
          f"({own:.2f} CPU-s over {worker_s:.0f} worker-seconds)")
else:
    print(f"{n} requests, {n / p['duration_s']:.0f} req/s, generator {own / n * 1e5:.2f} CPU-s per 100k (whole process)")
PY
}

measure() { # label target [extra run flags...]
  local label=$1 target=$2
  shift 2
  /usr/bin/time -o "$work/time-$label" -f "%U %S" "${tf[@]}" run "$work/bench.yaml" --target "$target" \
    --no-charts --output "$work/results-$label" "$@" >"$work/log-$label" 2>&1 || { cat "$work/log-$label"; exit 1; }
  local cpu
  cpu=$(tail -n 1 "$work/time-$label" | awk '{print $1 + $2}')
  echo "$label: $(figures "$work/results-$label" "$cpu")"
}

"${tf[@]}" env up >/dev/null
if [[ $multinode == 1 ]]; then
  bash scripts/multinode.sh load "$(engine images terrafix-local/terrafix-api --format '{{.Repository}}:{{.Tag}}' | head -n 1)"
fi
# The single-node run talks to the API container's own address on its bridge network, as the
# workers do over the overlay: through the published port every request would also pay for
# docker-proxy, and the comparison would be of the proxy, not of the generators.
api_ip=$(engine inspect terrafix-api --format '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' | awk '{print $1}')
measure single-node "http://$api_ip:8081"
measure "distributed-$workers" docker --distributed "$workers"
if [[ $multinode == 1 ]]; then
  # Host network mode: the target must be reachable by node address from every node.
  addr=$(engine info --format '{{.Swarm.NodeAddr}}')
  bash scripts/multinode.sh exec 1 "$bin" serve --bind 0.0.0.0 --port 18181 >"$work/serve.log" 2>&1 &
  serve_pid=$!
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/$addr/18181") 2>/dev/null && break; sleep 0.2; done
  measure single-node-by-address "http://$addr:18181"
  measure "distributed-$workers-host" "http://$addr:18181" --distributed "$workers" --worker-network host
  # The same split by hand: WORKERS plain processes, one in each node's namespace, each with
  # its share of the 64 users, at the same time. Set beside the single-node run it shows what
  # splitting the load over processes that share this machine's cores costs by itself; set
  # beside the host-mode run, what the distributed machinery (containers, Redis, the
  # coordinator) adds on top.
  pids=()
  for k in $(seq 1 "$workers"); do
    share=$(( 64 / workers + (k <= 64 % workers ? 1 : 0) ))
    sed "s/users: 64/users: $share/" "$work/bench.yaml" >"$work/bench-$k.yaml"
    /usr/bin/time -o "$work/time-hand-$k" -f "%U %S" bash scripts/multinode.sh exec "$k" "$bin" run \
      "$work/bench-$k.yaml" --target "http://$addr:18181" --no-charts --output "$work/results-hand-$k" \
      >"$work/log-hand-$k" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || { cat "$work"/log-hand-*; exit 1; }; done
  python3 - "$work" "$workers" <<'PY'
import glob, json, sys
work, n = sys.argv[1], int(sys.argv[2])
requests, cpu = 0, 0.0
for k in range(1, n + 1):
    s = json.load(open(glob.glob(f"{work}/results-hand-{k}/*/experiment_summary.json")[0]))
    e = s["experiments"]
    e = e if isinstance(e, list) else [p for v in e.values() for p in v]
    requests += e[0]["summary"]["total_requests"]
    user, system = open(f"{work}/time-hand-{k}").read().split()[-2:]
    cpu += float(user) + float(system)
print(f"split-by-hand-{n}: {requests} requests, generator {cpu / requests * 1e5:.2f} CPU-s per 100k "
      f"({n} whole processes, one per node namespace)")
PY
  kill "$serve_pid" 2>/dev/null || true
fi
