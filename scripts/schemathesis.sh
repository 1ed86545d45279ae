#!/usr/bin/env bash
# Fuzzes the mock API (release binary) with schemathesis against the OpenAPI document it
# serves at /openapi.json (assets/openapi.json), and the control API of a running
# `run --control` against /v1/openapi.json (assets/control-openapi.json): every check, a
# bounded number of cases, a fixed seed, and each server must still answer afterwards. Called by scripts/test.sh
# after the release build; runs alone too (build the release binary first).
set -euo pipefail
cd "$(dirname "$0")/.."

target_dir="${CARGO_TARGET_DIR:-target}"
binary="${SCHEMATHESIS_BINARY:-$target_dir/release/terrafix-tui}"
venv="$target_dir/schemathesis-venv"
# Pinned: a new schemathesis can add checks or change what they accept; move it on purpose.
version=4.32.5
# Cases per operation and phase, and the wall-clock bound of each schemathesis run.
# Both can be overridden to search harder (a failure found that way reproduces with the
# same two values).
examples="${SCHEMATHESIS_EXAMPLES:-60}"
seed="${SCHEMATHESIS_SEED:-20261203}"
run_timeout_s=150

if [[ ! -x "$binary" ]]; then
  echo "schemathesis.sh: $binary is missing; run: cargo build --release --bin terrafix-tui" >&2
  exit 2
fi

constraints=scripts/schemathesis-constraints.txt
# The venv is rebuilt whenever the pinned version or the constraints change.
wanted="schemathesis==$version $(sha256sum "$constraints" | cut -d' ' -f1)"
if [[ "$(cat "$venv/.installed" 2>/dev/null)" != "$wanted" ]]; then
  echo "installing schemathesis $version into $venv"
  # A fresh Debian has no python3, or has it without venv: python3-venv is its own
  # package there (and `import ensurepip` succeeds without it, so only trying tells).
  if ! { command -v python3 >/dev/null 2>&1 && python3 -m venv --clear "$venv" >/dev/null 2>&1; }; then
    if [[ $(id -u) -ne 0 ]]; then
      echo "schemathesis.sh: python3 with venv is missing; run as root, or: sudo apt-get install python3-venv" >&2
      exit 2
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
    python3 -m venv --clear "$venv"
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check -c "$constraints" "schemathesis==$version"
  echo "$wanted" >"$venv/.installed"
fi
st="$(cd "$venv" && pwd)/bin/schemathesis"

logs="$target_dir/schemathesis-logs"
# Schemathesis keeps a cache of earlier crashes (replayed next time) in .schemathesis/ of
# its working directory: run it in an empty one under target/, so runs stay independent
# and the repository clean.
work="$target_dir/schemathesis-work"
rm -rf "$logs" "$work"
mkdir -p "$logs" "$work"
work=$(cd "$work" && pwd)
config="$PWD/scripts/schemathesis.toml"
pids=()
stop_servers() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap stop_servers EXIT

# Starts `terrafix-tui serve` on a port the kernel picks and sets $base to its URL.
# The seed's environment variables (port, latency, failure rate, Redis) are dropped so a
# developer's shell cannot change what is fuzzed; the flags say everything.
start_server() {
  local name=$1
  shift
  local log="$logs/$name.log"
  env -u TERRAFIX_API_PORT -u TERRAFIX_MOCK_LATENCY_MS -u TERRAFIX_MOCK_FAILURE_RATE -u REDIS_URL \
    RUST_LOG=info "$binary" serve --bind 127.0.0.1 --port 0 "$@" >"$log" 2>&1 &
  pids+=($!)
  base=""
  for _ in $(seq 1 300); do
    base=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -n 1 || true)
    [[ -n "$base" ]] && break
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$base" ]]; then
    echo "schemathesis.sh: the $name server did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
}

# Exits non-zero unless GET $1 answers 200 with a JSON body whose "status" is $2.
answers() {
  "$venv/bin/python" - "$1" "$2" <<'PY'
import json, sys, urllib.request
url, status = sys.argv[1], sys.argv[2]
with urllib.request.urlopen(url, timeout=10) as response:
    body = json.load(response)
sys.exit(0 if response.status == 200 and body.get("status") == status else 1)
PY
}

fuzz() {
  local url=$1
  shift
  fuzz_with "$config" "$url/openapi.json" "$@"
}

fuzz_with() {
  local config_file=$1 location=$2
  shift 2
  (cd "$work" && timeout --kill-after=10 "$run_timeout_s" "$st" --no-color --config-file "$config_file" \
    run "$location" \
    --checks all --max-examples "$examples" --seed "$seed" --generation-database none \
    --workers 1 --request-timeout 10 --suppress-health-check too_slow,data_too_large "$@")
}

started=$(date +%s)

# 1. Every operation but POST /configure, on a server with the default settings except
#    for the simulated work (0 ms base, 0 ms per resource): a fuzzed batch of a thousand
#    items with resource_count 100000 would otherwise take hours to "process". The
#    failure rate is 0, so any 5xx here is a bug. /configure is left out of this run
#    because a fuzzed body can legally set failure_rate 1 (5xx on purpose), latency or
#    stall_ms of ten minutes, or hang mode, and every later case would then measure
#    those settings instead of the API; it is fuzzed on a server of its own below.
start_server api --latency-ms 0 --per-resource-ms 0 --failure-rate 0
fuzz "$base" --exclude-operation-id configure
answers "$base/health" healthy ||
  { echo "schemathesis.sh: the fuzzed server is not healthy afterwards" >&2; exit 1; }

# 2. POST /configure alone: whatever it sets stays on this server, and /configure's own
#    answers do not depend on it. /ready (which no stall delays) must still say ready.
start_server configure --latency-ms 0 --per-resource-ms 0 --failure-rate 0
fuzz "$base" --include-operation-id configure
answers "$base/ready" ready ||
  { echo "schemathesis.sh: the /configure server is not ready afterwards" >&2; exit 1; }

# 3. The injected failures, one mode per server at failure rate 1, so their documented
#    bodies and headers (Retry-After, x-ratelimit-*) meet real answers. Here a 500 or
#    503 is what was asked for, so not_a_server_error is the one check left out.
for mode in error_500 throttle_429 rate_limit_403 unavailable_503; do
  start_server "inject-$mode" --latency-ms 0 --per-resource-ms 0 --failure-rate 1 --failure-mode "$mode"
  fuzz "$base" --include-operation-id webhook --include-operation-id batch \
    --exclude-checks not_a_server_error --max-examples 15
  answers "$base/health" healthy ||
    { echo "schemathesis.sh: the $mode server is not healthy afterwards" >&2; exit 1; }
done

# 4. The control API of a real run: one long closed-model phase of one user (spawned at
#    1/s, so even a fuzzed `users: 100000` adds at most a user a second) on the embedded
#    target. The event stream never ends while the run lasts, skip and abort end the
#    phase or the run, so those three are checked by tests/control_api.rs instead and
#    called once here at the end: abort must stop the run with its results written.
control_profile="$work/control.yaml"
cat >"$control_profile" <<'YAML'
name: control-fuzz
pause_between_phases: 0s
behaviours:
  idle:
    wait: { constant: 1s }
    tasks: [ { kind: webhook } ]
phases:
  - name: steered
    behaviour: idle
    users: 1
    spawn_rate: 1
    duration: 10m
YAML
control_log="$logs/control-run.log"
env -u TERRAFIX_CONTROL_TOKEN -u TERRAFIX_OUTPUT_DIR -u TERRAFIX_API_HOST \
  "$binary" run "$control_profile" --output "$work/control-results" --no-charts \
  --control 127.0.0.1:0 >"$control_log" 2>&1 &
control_pid=$!
pids+=("$control_pid")
base=""
for _ in $(seq 1 300); do
  base=$(grep -o 'control API on http://127\.0\.0\.1:[0-9]*' "$control_log" | grep -o 'http://.*' | head -n 1 || true)
  [[ -n "$base" ]] && grep -q '▶ phase 1' "$control_log" && break
  kill -0 "$control_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$base" ]]; then
  echo "schemathesis.sh: the controlled run did not start:" >&2
  cat "$control_log" >&2
  exit 1
fi
fuzz_with "$PWD/scripts/schemathesis-control.toml" "$base/v1/openapi.json" --url "$base" \
  --exclude-operation-id events --exclude-operation-id skip --exclude-operation-id abort \
  --exclude-operation-id openapi
"$venv/bin/python" - "$base" <<'PY' ||
import json, sys, urllib.request
base = sys.argv[1]
with urllib.request.urlopen(base + "/v1/run", timeout=10) as response:
    state = json.load(response)["state"]
sys.exit(0 if state == "running" else 1)
PY
  { echo "schemathesis.sh: the fuzzed run is not running afterwards" >&2; exit 1; }
"$venv/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/v1/run/abort", method="POST"), timeout=10)' "$base"
for _ in $(seq 1 300); do
  kill -0 "$control_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$control_pid" 2>/dev/null; then
  echo "schemathesis.sh: the controlled run did not stop after POST /v1/run/abort" >&2
  exit 1
fi
grep -q '"status": *"aborted"' "$work"/control-results/*/experiment_summary.json ||
  { echo "schemathesis.sh: the aborted run wrote no aborted summary" >&2; exit 1; }

# A handler that panicked only loses its connection, so the answers above would not show
# it; the servers' logs do.
if grep -l 'panicked' "$logs"/*.log >&2; then
  echo "schemathesis.sh: a server panicked (logs above, in $logs)" >&2
  exit 1
fi

echo "schemathesis.sh: every check passed on every server in $(($(date +%s) - started)) s"
