#!/usr/bin/env bash
# Benchmark (not a test): the product's generator over HTTPS (keep-alive, TLS 1.3) beside
# plain HTTP against the same mock, `terrafix-tui serve` on core 1 and `terrafix-tui run`
# on core 0, 64 users sending GET /health for SECONDS. Prints requests/s and the whole
# run's CPU-s per 100k requests. Certificates are made here with openssl, traffic stays on
# 127.0.0.1, each run is bounded in time.
# Usage: bash benches/https.sh [SECONDS] (TERRAFIX_BIN=path to use a built binary)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
# BENCH_PROFILE=profiling: the build with symbols, for perf/callgrind (docs/install-and-shell.md).
bench_profile="${BENCH_PROFILE:-release}"
bin="${TERRAFIX_BIN:-target/$bench_profile/terrafix-tui}"
[[ -x "$bin" ]] || cargo build --profile "$bench_profile" --bin terrafix-tui
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=bench CA" \
  -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$work/key.pem" -out "$work/cert.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n' >"$work/ext.cnf"
openssl x509 -req -in "$work/cert.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -days 1 -extfile "$work/ext.cnf" -out "$work/cert.pem" 2>/dev/null

cat >"$work/bench.yaml" <<YAML
name: bench
behaviours:
  get:
    wait: { constant: 0s }
    tasks: [ { kind: health, name: "/health [bench]" } ]
phases:
  - { name: get, behaviour: get, users: 64, spawn_rate: 1000000, duration: ${seconds}s }
YAML

wait_port() {
  for _ in $(seq 1 100); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done
  echo "server on $1 did not start" >&2
  exit 1
}

measure() { # label url [extra run flags...]
  local label=$1 url=$2
  shift 2
  local results="$work/results-$label"
  local cpu
  /usr/bin/time -o "$work/time-$label" -f "%U %S" taskset -c 0 "$bin" run "$work/bench.yaml" --target "$url" \
    --no-charts --no-configure --output "$results" "$@" >/dev/null 2>&1
  cpu=$(tail -n 1 "$work/time-$label")
  local requests
  requests=$(python3 - "$results" <<'PY'
import glob, json, sys
s = json.load(open(glob.glob(sys.argv[1] + "/*/experiment_summary.json")[0]))
e = s["experiments"]
e = e if isinstance(e, list) else [p for v in e.values() for p in v]
print(e[0]["summary"]["total_requests"])
PY
)
  awk -v n="$requests" -v s="$seconds" -v l="$label" \
    '{printf "  %-6s %8.0f req/s  %.2f CPU-s per 100k\n", l, n/s, ($1+$2)*100000/n}' <<<"$cpu"
}

http_port=18191
https_port=18192
taskset -c 1 "$bin" serve --port "$http_port" --latency-ms 0 --per-resource-ms 0 >/dev/null 2>&1 &
pids+=($!)
taskset -c 1 "$bin" serve --port "$https_port" --latency-ms 0 --per-resource-ms 0 \
  --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" >/dev/null 2>&1 &
pids+=($!)
wait_port "$http_port"
wait_port "$https_port"
echo "== terrafix-tui run, 64 users, GET /health, ${seconds}s; serve on core 1, run on core 0"
measure http "http://127.0.0.1:$http_port"
measure https "https://localhost:$https_port" --ca-cert "$work/ca.pem"
