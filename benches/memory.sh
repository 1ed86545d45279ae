#!/usr/bin/env bash
# Benchmark (not a test): memory over a long open-model run. The generator (the whole
# `terrafix-tui run`) sends new failures to `terrafix-tui serve` at a fixed arrival rate;
# both processes' RSS is sampled every 10 s, and the generator's RSS at the end is set
# against its RSS after the first minute (aim: at most 1.1 x). The mock's in-memory dedup
# store holds at most 1,000,000 hashes (`memory_dedup_capacity`): a run that sends more
# unique failures than that shows the mock's RSS at its cap. Traffic stays on 127.0.0.1;
# the run is bounded by its phase. Usage: bash benches/memory.sh [MINUTES] [RATE]
# (defaults: 10 minutes at 2000 req/s).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-10}"
rate="${2:-2000}"
port="${MEM_BENCH_PORT:-18199}"
# BENCH_PROFILE=profiling: the build with symbols, for perf/callgrind (docs/install-and-shell.md).
bench_profile="${BENCH_PROFILE:-release}"
cargo build --profile "$bench_profile" --bin terrafix-tui
bin="target/$bench_profile/terrafix-tui"
work=$(mktemp -d)
server_pid=""
run_pid=""
cleanup() {
  [[ -n "$run_pid" ]] && kill "$run_pid" 2>/dev/null
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "-"; }

REDIS_URL='' "$bin" serve --port "$port" --latency-ms 1 --per-resource-ms 0 >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.05; done
cat >"$work/profile.yaml" <<YAML
name: memory
behaviours:
  post:
    tasks: [ { kind: webhook } ]
phases:
  - { name: steady, behaviour: post, arrival_rate: $rate, max_in_flight: 1000, duration: ${minutes}m, repo_size: small }
YAML
"$bin" run "$work/profile.yaml" --target "http://127.0.0.1:$port" --no-charts --output "$work/results" \
  >"$work/run.log" 2>&1 &
run_pid=$!
echo "== ${minutes} min at ${rate} req/s: RSS (MB) of the generator and the mock, every 10 s"
printf "%6s %10s %10s\n" "t (s)" generator mock
at_minute=""
t=0
while kill -0 "$run_pid" 2>/dev/null; do
  sleep 10
  t=$((t + 10))
  gen=$(rss_mb "$run_pid")
  printf "%6d %10s %10s\n" "$t" "$gen" "$(rss_mb "$server_pid")"
  [[ $t -eq 60 ]] && at_minute=$gen
  [[ "$gen" != "-" ]] && last=$gen
done
wait "$run_pid" || { echo "the run failed:" >&2; tail -n 20 "$work/run.log" >&2; exit 1; }
run_pid=""
grep -E "steady|requests" "$work/run.log" | tail -n 3
if [[ -n "$at_minute" && -n "${last:-}" ]]; then
  awk -v a="$at_minute" -v b="$last" \
    'BEGIN {printf "generator RSS: %.1f MB after 1 min, %.1f MB at the end = %.2f x (aim <= 1.1)\n", a, b, b / a}'
fi
echo "mock RSS at the end: $(rss_mb "$server_pid") MB"
