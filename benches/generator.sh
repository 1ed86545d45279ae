#!/usr/bin/env bash
# Benchmark of the load generator (not a test): CPU-seconds per 100,000 requests and
# requests/s for GET /health and POST /webhook (payload generation included), with the
# target on core 1 and the generator on core 0; wrk on the same target for scale; and the
# recorder's cost per sample. Traffic stays on 127.0.0.1 and each run is bounded in time.
# Needs taskset; wrk and nginx are used when installed (apt-get install -y wrk nginx-light).
# Usage: bash benches/generator.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
port="${GEN_BENCH_PORT:-18181}"
nginx_port=$((port + 1))
# BENCH_PROFILE=profiling: the build with symbols, for perf/callgrind (docs/install-and-shell.md).
bench_profile="${BENCH_PROFILE:-release}"
cargo build --profile "$bench_profile" --bin terrafix-tui --example bench_generator
bin="target/$bench_profile/terrafix-tui"
gen="target/$bench_profile/examples/bench_generator"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [[ -f /tmp/tfx-bench-nginx.pid ]] && kill "$(cat /tmp/tfx-bench-nginx.pid)" 2>/dev/null || true
}
trap cleanup EXIT

wrk_cpu() { # url: wrk's CPU-s per 100k and its req/s
  command -v wrk >/dev/null || { echo "  (wrk not installed: apt-get install -y wrk)"; return; }
  local out
  out=$( { /usr/bin/time -f "%U %S" taskset -c 0 wrk -t1 -c64 -d"${seconds}s" "$1" ; } 2>&1 )
  awk '/requests in/ {n=$1} /Requests\/sec/ {r=$2} NF==2 && $1 ~ /^[0-9.]+$/ {cpu=$1+$2}
       END {printf "  wrk: %.0f req/s, %.2f CPU-s per 100k\n", r, cpu*100000/n}' <<<"$out"
}

echo "== mock server (terrafix-tui serve, 0 ms) on core 1; generator on core 0; 64 connections; ${seconds}s"
taskset -c 1 "$bin" serve --port "$port" --latency-ms 0 --per-resource-ms 0 2>/dev/null &
pids+=($!)
sleep 1
taskset -c 0 "$gen" "http://127.0.0.1:$port" health 64 "$seconds"
taskset -c 0 "$gen" "http://127.0.0.1:$port" webhook 64 "$seconds" | tail -n 1
wrk_cpu "http://127.0.0.1:$port/health"

if command -v nginx >/dev/null; then
  echo "== nginx (static answer) on core 1"
  conf=$(mktemp)
  cat >"$conf" <<CONF
worker_processes 1;
pid /tmp/tfx-bench-nginx.pid;
error_log /dev/null;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$nginx_port; location / { return 200 '{"status":"healthy"}'; } } }
CONF
  taskset -c 1 nginx -c "$conf"
  sleep 0.5
  taskset -c 0 "$gen" "http://127.0.0.1:$nginx_port" health 64 "$seconds" | tail -n 1
  wrk_cpu "http://127.0.0.1:$nginx_port/health"
  # The product itself, as a user runs it: the whole `run` (start-up, live snapshots, the
  # status poller, CSVs, hlog and summary) counted, charts off, the target left alone.
  profile=$(mktemp --suffix .yaml)
  results=$(mktemp -d)
  cat >"$profile" <<YAML
name: bench
behaviours:
  get:
    wait: { constant: 0s }
    tasks: [ { kind: health, name: "/health [bench]" } ]
phases:
  - { name: get, behaviour: get, users: 64, spawn_rate: 1000000, duration: ${seconds}s }
YAML
  /usr/bin/time -o "$results.time" -f "%U %S" taskset -c 0 "$bin" run "$profile" \
    --target "http://127.0.0.1:$nginx_port" --no-charts --no-configure --output "$results" >/dev/null 2>&1
  out=$(tail -n 1 "$results.time")
  requests=$(python3 -c "import json,glob,sys; s=json.load(open(glob.glob(sys.argv[1]+'/*/experiment_summary.json')[0])); e=s['experiments']; e=e if isinstance(e,list) else [p for v in e.values() for p in v]; print(e[0]['summary']['total_requests'])" "$results")
  awk -v n="$requests" -v s="$seconds" '{printf "  terrafix-tui run (the product): %.0f req/s, %.2f CPU-s per 100k\n", n/s, ($1+$2)*100000/n}' <<<"$out"
  rm -rf "$profile" "$results" "$results.time"
fi
