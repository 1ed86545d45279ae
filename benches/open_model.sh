#!/usr/bin/env bash
# Benchmark (not a test): open-model precision at a high arrival rate, beside the ideal.
# `terrafix-tui serve` (release build, no Redis, --latency-ms 0) pinned to core 0; one open-model
# phase of RATE arrivals/s (GET /health, `max_in_flight: 2000`) for SECONDS, the generator
# pinned to core 1. Prints, beside the ideal (every planned arrival sent, on time): arrivals
# planned and sent, dropped, the achieved rate, schedule lag p50/p99/max over the whole phase,
# the latency percentiles, the verdict, and per second (from the history CSV) requests and
# p99 so the first second can be told from the steady ones. Traffic stays on 127.0.0.1; the
# run is bounded by SECONDS. Needs curl and taskset (util-linux); on one core both share it.
# Usage: bash benches/open_model.sh [RATE] [SECONDS] [RUNS]   (defaults: 20000 arrivals/s, 10 s, 1)
set -euo pipefail
cd "$(dirname "$0")/.."
rate="${1:-20000}"
seconds="${2:-10}"
runs="${3:-1}"
port="${OPEN_BENCH_PORT:-18199}"
command -v curl >/dev/null || { echo "missing: curl (apt-get install -y curl)" >&2; exit 2; }
ulimit -n 8192 2>/dev/null || true
# BENCH_BIN=path: measure that binary instead (a build kept from before a change), no build.
if [[ -n "${BENCH_BIN:-}" ]]; then
  bin="$BENCH_BIN"
else
  cargo build --release --bin terrafix-tui
  bin="${CARGO_TARGET_DIR:-target}/release/terrafix-tui"
fi
if [[ $(nproc) -ge 2 ]]; then server_core=0 gen_core=1; else server_core=0 gen_core=0; fi
work=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

REDIS_URL='' taskset -c "$server_core" "$bin" serve --port "$port" --latency-ms 0 --per-resource-ms 0 \
  >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.05; done
curl -fs "http://127.0.0.1:$port/health" >/dev/null || { echo "serve did not start" >&2; exit 1; }

cat >"$work/profile.yaml" <<YAML
name: open-model
configure_target: false
behaviours:
  get:
    tasks: [ { kind: health } ]
phases:
  - { name: open, behaviour: get, arrival_rate: $rate, max_in_flight: 2000, duration: ${seconds}s }
YAML
echo "== open model: $rate arrivals/s for $seconds s, max_in_flight 2000, GET /health against serve --latency-ms 0"
echo "   serve on core $server_core, generator on core $gen_core; $(date -u +%F), $(nproc) cores, $(uname -r)"
for r in $(seq "$runs"); do
  rm -rf "$work/results"
  taskset -c "$gen_core" "$bin" run "$work/profile.yaml" --target "http://127.0.0.1:$port" --no-charts -q \
    --seed 1 --output "$work/results" >"$work/run.log" 2>&1 || true
  summary=$(find "$work/results" -name experiment_summary.json | head -n 1)
  [[ -n "$summary" ]] || { echo "no summary:" >&2; tail -n 20 "$work/run.log" >&2; exit 1; }
  history=$(find "$work/results" -name '*_stats_history.csv' | head -n 1)
  python3 - "$summary" "$history" "$rate" "$seconds" "$r" <<'PY'
import csv, json, sys
summary, history, rate, seconds, run = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
p = next(iter(json.load(open(summary))["experiments"].values()))[0]
s, v = p["summary"], p.get("validity") or {}
lag = v.get("schedule_lag_ms") or {}
planned = rate * seconds
# Dropped arrivals are counted in total_requests (and as failures of kind `dropped`).
dropped = p.get("dropped", 0)
sent = s["total_requests"]
achieved = (sent - dropped) / p["duration_s"]
print(f"-- run {run}")
print(f"{'':26}{'ours':>14}{'ideal':>14}")
print(f"{'arrivals (sent + dropped)':26}{sent:>14,.0f}{planned:>14,.0f}")
print(f"{'dropped':26}{p.get('dropped', 0):>14,}{0:>14}")
print(f"{'sent, not dropped (req/s)':26}{achieved:>14,.1f}{rate:>14,.1f}   ({achieved / rate * 100:.2f} % of ideal)")
print(f"{'schedule lag p50 (ms)':26}{lag.get('p50_ms', float('nan')):>14.3f}{0:>14}")
print(f"{'schedule lag p99 (ms)':26}{lag.get('p99_ms', float('nan')):>14.3f}{'(aim <= 2)':>14}")
print(f"{'schedule lag max (ms)':26}{lag.get('max_ms', float('nan')):>14.3f}")
print(f"{'latency p50/p99 (ms)':26}{s['median_response_ms']:>7.2f}/{s['p99_response_ms']:<6.2f}")
print(f"{'failures':26}{s['failure_count']:>14,}")
print(f"{'verdict':26}{v.get('verdict', '?'):>14}   generator CPU {v.get('generator_cpu_s', 0):.2f} s, worst stall {v.get('worst_stall_ms', 0):.1f} ms")
for reason in v.get("reasons", []):
    print(f"{'':26}{reason}")
if history:
    rows = [r for r in csv.DictReader(open(history)) if r.get("Name") == "Aggregated"]
    print("   per second: " + "  ".join(f"{float(r['Requests/s']):.0f}/p99 {r['99%']}" for r in rows[:int(seconds) + 1] if r.get("Requests/s")))
PY
done
