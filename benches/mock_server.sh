#!/usr/bin/env bash
# Benchmark of the mock server (not a test): 
#  1. CPU-seconds the server spends per 100,000 POST /webhook at 0 ms simulated latency,
#     server pinned to core 0 and wrk to core 1;
#     and, when nginx is installed, nginx answering the same posts with a static body on the
#     same setup, so the figure can be judged against the machine's loopback cost;
#  2. requests/s at 50 ms simulated latency with 500 and 2,000 concurrent connections, with how
#     busy the server and wrk were (which of them held the rate back).
# Traffic stays on 127.0.0.1 and each run is bounded in time. Needs wrk and taskset
# (apt-get install wrk util-linux; nginx-light for the comparison). Usage: bash benches/mock_server.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/nginx.sh
duration="${1:-15}"
port="${MOCK_BENCH_PORT:-18099}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 2; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# BENCH_PROFILE=profiling: the build with symbols, for perf/callgrind (docs/install-and-shell.md).
bench_profile="${BENCH_PROFILE:-release}"
cargo build --profile "$bench_profile" --bin terrafix-tui
bin="target/$bench_profile/terrafix-tui"
ticks=$(getconf CLK_TCK)

server_pid=""
stop_server() { [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; server_pid=""; }
tmp=$(mktemp -d)
trap 'stop_server; nginx_stop "$tmp/nginx"; rm -rf "$tmp"' EXIT

start_server() { # latency_ms
  REDIS_URL= taskset -c 0 "$bin" serve --port "$port" --latency-ms "$1" --per-resource-ms 0 2>/dev/null &
  server_pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && return; sleep 0.05; done
  echo "server did not start" >&2; exit 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/${1:-$server_pid}/stat"; } # [pid]: user + system ticks
requests_of() { awk '/requests in/ {print $1}'; }

echo "== 1. CPU per 100k webhook posts, latency 0 ms (server: core 0, wrk: core 1, 64 connections, ${duration}s)"
start_server 0
taskset -c 1 wrk -t1 -c64 -d2s -s benches/webhook.lua "http://127.0.0.1:$port" >/dev/null # warm-up
before=$(cpu_ticks)
out=$(taskset -c 1 wrk -t1 -c64 -d"${duration}s" -s benches/webhook.lua "http://127.0.0.1:$port")
after=$(cpu_ticks)
echo "$out" | grep -E "Requests/sec|requests in|Non-2xx|Socket errors" || true
requests=$(echo "$out" | requests_of)
mock_cpu=$(awk -v t="$((after - before))" -v hz="$ticks" -v n="$requests" 'BEGIN { printf "%.3f", t/hz*100000/n }')
awk -v t="$((after - before))" -v hz="$ticks" -v n="$requests" -v c="$mock_cpu" \
  'BEGIN { printf "server CPU: %.2f s for %d requests = %s CPU-s per 100k posts\n", t/hz, n, c }'
stop_server

if command -v nginx >/dev/null; then
  echo "== 1b. nginx answering the same posts with a static body (worker: core 0, wrk: core 1, ${duration}s)"
  ng="$tmp/nginx"
  nginx_conf "$ng" "$port" '{"success":true,"message":"static"}'
  nginx_start 0 "$ng"
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.05; done
  worker=$(pgrep -P "$(cat "$ng/nginx.pid")" | head -1)
  taskset -c 1 wrk -t1 -c64 -d2s -s benches/webhook.lua "http://127.0.0.1:$port" >/dev/null # warm-up
  before=$(cpu_ticks "$worker")
  out=$(taskset -c 1 wrk -t1 -c64 -d"${duration}s" -s benches/webhook.lua "http://127.0.0.1:$port")
  after=$(cpu_ticks "$worker")
  nginx_stop "$ng"; sleep 0.3
  requests=$(echo "$out" | requests_of)
  awk -v t="$((after - before))" -v hz="$ticks" -v n="$requests" -v mock="$mock_cpu" \
    'BEGIN { c = t/hz*100000/n; printf "nginx CPU: %.2f s for %d requests = %.3f CPU-s per 100k posts; the mock costs %.2f x nginx\n", t/hz, n, c, mock/c }'
else
  echo "== 1b. skipped: nginx is missing (apt-get install -y nginx-light)"
fi

for conns in 500 2000; do
echo "== 2. Throughput at 50 ms latency, $conns connections (server: core 0, wrk: core 1, ${duration}s)"
start_server 50
before=$(cpu_ticks)
/usr/bin/time -f "%U %S %e" -o "$tmp/wrk-time" taskset -c 1 wrk -t1 -c"$conns" -d"${duration}s" --timeout 5s \
  -s benches/webhook.lua "http://127.0.0.1:$port" >"$tmp/wrk-out"
after=$(cpu_ticks)
out=$(cat "$tmp/wrk-out"); rm -f "$tmp/wrk-out"
echo "$out" | grep -E "Latency|Requests/sec|requests in|Non-2xx|Socket errors" || true
read -r wu ws we <"$tmp/wrk-time"; rm -f "$tmp/wrk-time"
awk -v t="$((after - before))" -v hz="$ticks" -v wu="$wu" -v ws="$ws" -v we="$we" -v ideal="$((conns * 20))" \
  -v rps="$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
  'BEGIN { printf "%.1f %% of the ideal %d req/s; busy: server %.0f %% of its core, wrk %.0f %% of its core\n", rps/ideal*100, ideal, t/hz/we*100, (wu+ws)/we*100 }'
# The server's own view of its simulated work (50 ms asked): how late the delays end.
echo "server-side latency (ms): $(curl -s "http://127.0.0.1:$port/status" | grep -o '"latency_ms":{[^}]*}' | head -1)"
stop_server
done
