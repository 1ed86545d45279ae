#!/usr/bin/env bash
# Benchmark of the mock server (not a test): 
#  1. CPU-seconds the server spends per 100,000 POST /webhook at 0 ms simulated latency,
#     server pinned to core 0 and wrk to core 1;
#  2. requests/s at 50 ms simulated latency with 2,000 concurrent connections.
# Traffic stays on 127.0.0.1 and each run is bounded in time. Needs wrk and taskset
# (apt-get install wrk util-linux). Usage: bash benches/mock_server.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-15}"
port="${MOCK_BENCH_PORT:-18099}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
cargo build --release --bin terrafix-tui
bin=target/release/terrafix-tui
ticks=$(getconf CLK_TCK)

server_pid=""
stop_server() { [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; server_pid=""; }
trap stop_server EXIT

start_server() { # latency_ms
  REDIS_URL= taskset -c 0 "$bin" serve --port "$port" --latency-ms "$1" --per-resource-ms 0 2>/dev/null &
  server_pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && return; sleep 0.05; done
  echo "server did not start" >&2; exit 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
requests_of() { awk '/requests in/ {print $1}'; }

echo "== 1. CPU per 100k webhook posts, latency 0 ms (server: core 0, wrk: core 1, 64 connections, ${duration}s)"
start_server 0
taskset -c 1 wrk -t1 -c64 -d2s -s benches/webhook.lua "http://127.0.0.1:$port" >/dev/null # warm-up
before=$(cpu_ticks)
out=$(taskset -c 1 wrk -t1 -c64 -d"${duration}s" -s benches/webhook.lua "http://127.0.0.1:$port")
after=$(cpu_ticks)
echo "$out" | grep -E "Requests/sec|requests in|Non-2xx|Socket errors" || true
requests=$(echo "$out" | requests_of)
awk -v t="$((after - before))" -v hz="$ticks" -v n="$requests" \
  'BEGIN { printf "server CPU: %.2f s for %d requests = %.3f CPU-s per 100k posts\n", t/hz, n, t/hz*100000/n }'
stop_server

echo "== 2. Throughput at 50 ms latency, 2000 connections (server: core 0, wrk: core 1, ${duration}s)"
start_server 50
out=$(taskset -c 1 wrk -t1 -c2000 -d"${duration}s" --timeout 5s -s benches/webhook.lua "http://127.0.0.1:$port")
echo "$out" | grep -E "Latency|Requests/sec|requests in|Non-2xx|Socket errors" || true
curl -s "http://127.0.0.1:$port/status" | head -c 600; echo
stop_server
