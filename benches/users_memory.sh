#!/usr/bin/env bash
# Benchmark (not a test): memory per simulated user, set beside wrk's memory per connection.
# `terrafix-tui serve` (release build, no Redis, 2 ms latency) listens on 127.0.0.1; first
# `terrafix-tui run` holds USERS closed-model users of the `throughput` behaviour (10 webhook
# POSTs to 1 GET /health, constant pacing 1 s: each user keeps one keep-alive connection and
# sends about 1 request/s), all started in the first second, for SECONDS; then wrk holds the
# same number of connections (`wrk -t2 -c USERS`, as fast as they go) against the same server
# for as long. Each generator's VmHWM (peak RSS) is read from /proc every 0.5 s until it
# exits, and its idle RSS (a 1-user run, wrk with 2 connections) is subtracted, so what is
# left is the cost of the users or connections. Prints KB per user / per connection and the
# ratio (the aim in issue 31: at most 2 x wrk). Traffic stays on 127.0.0.1; both runs are
# bounded by SECONDS. Needs wrk (apt-get install -y wrk) and curl; raises `ulimit -n`.
# Past 25,000 users our run connects from several 127.0.0.x addresses (`--source-address`;
# one address holds ~28,000 ports to one target) and wrk, which cannot, is left out: compare
# with a 10,000-user run's wrk figure.
# Usage: bash benches/users_memory.sh [USERS] [SECONDS]   (defaults: 10000 users, 20 s)
set -euo pipefail
cd "$(dirname "$0")/.."
users="${1:-10000}"
seconds="${2:-20}"
port="${USERS_MEM_BENCH_PORT:-18197}"
for tool in wrk curl; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install -y $tool)" >&2; exit 2; }
done
# Each side holds USERS sockets, plus the runtime's own descriptors.
want=$((users + 1024))
ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [[ $(ulimit -n) -lt $want ]]; then
  echo "ulimit -n is $(ulimit -n), $want needed for $users users: raise the hard limit" >&2
  exit 2
fi
# BENCH_PROFILE=profiling: the build with symbols, for perf/callgrind (docs/install-and-shell.md).
# BENCH_BIN=path: measure that binary instead (a build kept from before a change), no build.
bench_profile="${BENCH_PROFILE:-release}"
if [[ -n "${BENCH_BIN:-}" ]]; then
  bin="$BENCH_BIN"
else
  cargo build --profile "$bench_profile" --bin terrafix-tui
  bin="${CARGO_TARGET_DIR:-target}/$bench_profile/terrafix-tui"
fi
work=$(mktemp -d)
server_pid=""
load_pid=""
cleanup() {
  [[ -n "$load_pid" ]] && kill "$load_pid" 2>/dev/null
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

REDIS_URL='' "$bin" serve --port "$port" --latency-ms 2 --per-resource-ms 0 >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.05; done
curl -fs "http://127.0.0.1:$port/health" >/dev/null || { echo "serve did not start" >&2; exit 1; }

# Samples $load_pid's VmHWM and VmRSS (kB) until it exits: `peak` is the last VmHWM seen,
# `rss_max` the largest VmRSS sampled.
peak=0
rss_max=0
sample() {
  local hwm rss
  peak=0
  rss_max=0
  while kill -0 "$load_pid" 2>/dev/null; do
    read -r hwm rss < <(awk '/^VmHWM/ {h = $2} /^VmRSS/ {r = $2} END {print h + 0, r + 0}' \
      "/proc/$load_pid/status" 2>/dev/null || echo "0 0")
    [[ $hwm -gt 0 ]] && peak=$hwm
    [[ $rss -gt $rss_max ]] && rss_max=$rss
    sleep 0.5
  done
}

# Our generator: $1 users for $2 seconds.
ours() {
  cat >"$work/profile.yaml" <<YAML
name: users-memory
configure_target: false
phases:
  - { name: hold, behaviour: throughput, users: $1, spawn_rate: $1, duration: ${2}s, repo_size: small }
YAML
  local sources=()
  if [[ $1 -gt 25000 ]]; then
    local list="127.0.0.1"
    for i in $(seq 2 $(((($1 + 24999) / 25000)))); do list="$list,127.0.0.$i"; done
    sources=(--source-address "$list")
  fi
  "$bin" run "$work/profile.yaml" --target "http://127.0.0.1:$port" --no-charts -q "${sources[@]}" \
    --output "$work/results" >"$work/run.log" 2>&1 &
  load_pid=$!
  sample
  wait "$load_pid" || { echo "the run failed:" >&2; tail -n 20 "$work/run.log" >&2; exit 1; }
  load_pid=""
}

# wrk: $1 connections for $2 seconds.
theirs() {
  wrk -t2 -c "$1" -d "${2}s" "http://127.0.0.1:$port/health" >"$work/wrk.out" 2>&1 &
  load_pid=$!
  sample
  wait "$load_pid" || { echo "wrk failed:" >&2; cat "$work/wrk.out" >&2; exit 1; }
  load_pid=""
}

echo "== $users users against serve (2 ms), ${seconds} s each: peak RSS of the generator"
ours 1 3
ours_idle=$peak
ours "$users" "$seconds"
ours_full=$peak
echo "run: $(tail -n 1 "$work/run.log") (largest VmRSS sampled $((rss_max / 1024)) MB)"
if [[ $users -gt 28000 ]]; then
  awk -v oi="$ours_idle" -v of="$ours_full" -v n="$users" 'BEGIN {
    printf "%-26s %12s %12s %14s\n", "generator", "idle (MB)", "peak (MB)", "KB per user"
    printf "%-26s %12.1f %12.1f %14.2f\n", "terrafix-tui run", oi / 1024, of / 1024, (of - oi) / n
    print "wrk left out: it connects from one address, which holds ~28,000 ports to one target"
  }'
  exit 0
fi
theirs 2 3
theirs_idle=$peak
theirs "$users" "$seconds"
theirs_full=$peak
grep -E "requests in|Socket errors" "$work/wrk.out" | sed 's/^ */wrk: /'
echo "wrk: largest VmRSS sampled $((rss_max / 1024)) MB"
awk -v oi="$ours_idle" -v of="$ours_full" -v ti="$theirs_idle" -v tf="$theirs_full" -v n="$users" 'BEGIN {
  ou = (of - oi) / n; tu = (tf - ti) / n
  printf "%-26s %12s %12s %14s\n", "generator", "idle (MB)", "peak (MB)", "KB per user"
  printf "%-26s %12.1f %12.1f %14.2f\n", "terrafix-tui run", oi / 1024, of / 1024, ou
  printf "%-26s %12.1f %12.1f %14.2f\n", "wrk -t2", ti / 1024, tf / 1024, tu
  printf "ratio per user / per connection: %.2f x wrk (aim <= 2)\n", (tu > 0 ? ou / tu : 0)
}'
