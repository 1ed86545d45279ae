#!/usr/bin/env bash
# Benchmark against peers (not a test): the generator's CPU-seconds per 100,000 requests and
# its requests/s for `terrafix-tui run` (the product, as a user runs it), wrk and oha, each
# against the same two targets: nginx answering GET /health with a static JSON body, and our
# mock (`terrafix-tui serve`, 0 ms). Target on core 1, generator on core 0, 64 connections.
# Generator CPU is user+sys of its whole process; each target gets an uncounted 1 s warm-up.
# Prints one table with the CPU ratios to wrk and the aims (ours <= 1.2 x wrk and below oha
# on GET /health against nginx; POST /webhook <= 1.5 x GET), and beside it the same nginx
# over HTTPS (a self-signed certificate made with openssl, no aim). Traffic stays on 127.0.0.1 and
# each run is bounded in time. Installs nothing: missing generators get a row saying so
# (apt-get install -y wrk nginx-light; cargo install oha --locked). Needs taskset, curl,
# python3 and /usr/bin/time. Usage: bash benches/peers.sh [SECONDS]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/nginx.sh
seconds="${1:-10}"
port="${PEERS_BENCH_PORT:-18191}"
nginx_port=$((port + 1))
wrk_install="apt-get install -y wrk"
oha_install="cargo install oha --locked"
nginx_install="apt-get install -y nginx-light"
for tool in taskset curl python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# BENCH_PROFILE=profiling: the build with symbols, for perf/callgrind (docs/install-and-shell.md).
bench_profile="${BENCH_PROFILE:-release}"
cargo build --profile "$bench_profile" --bin terrafix-tui
bin="target/$bench_profile/terrafix-tui"
work=$(mktemp -d)
mock_pid=""
cleanup() {
  [[ -n "$mock_pid" ]] && kill "$mock_pid" 2>/dev/null && wait "$mock_pid" 2>/dev/null
  nginx_stop "$work/nginx"
  sleep 0.2
  rm -rf "$work"
}
trap cleanup EXIT

rows=() # "target|generator|req/s|CPU-s per 100k|errors", or "target|generator|note"
row() { rows+=("$(IFS='|'; echo "$*")"); }
cpu100k() { awk -v n="$2" '{ if (n > 0) printf "%.3f", ($1 + $2) * 100000 / n; else print "nan" }' "$1"; }
wait_up() { # url
  for _ in $(seq 100); do curl -fs "$1" >/dev/null && return; sleep 0.05; done
  echo "target did not start: $1" >&2; exit 1
}
warm_up() { # url: 1 s, not counted
  if command -v wrk >/dev/null; then taskset -c 0 wrk -t1 -c64 -d1s "$1" >/dev/null
  elif command -v oha >/dev/null; then taskset -c 0 oha -z 1s -c 64 --no-tui --worker-threads 1 "$1" >/dev/null
  else for _ in $(seq 200); do curl -fs "$1" >/dev/null; done; fi
}

run_wrk() { # target url
  command -v wrk >/dev/null || { row "$1" wrk "not installed: $wrk_install"; return; }
  /usr/bin/time -f "%U %S" -o "$work/time" taskset -c 0 wrk -t1 -c64 -d"${seconds}s" "$2" >"$work/wrk.out"
  local n rps errors
  n=$(awk '/requests in/ {print $1}' "$work/wrk.out")
  rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$work/wrk.out")
  errors=$(awk '/Non-2xx/ {e += $NF} /Socket errors/ {gsub(/[^0-9 ]/, " "); e += $1 + $2 + $3 + $4}
                END {print e + 0}' "$work/wrk.out")
  row "$1" wrk "$rps" "$(cpu100k "$work/time" "$n")" "$errors"
}

run_oha() { # target url [oha options...]
  command -v oha >/dev/null || { row "$1" oha "not installed: $oha_install"; return; }
  local extra=("${@:3}")
  local json=(-j) # oha >= 1.5 spells it --output-format json; one worker thread, as wrk -t1
  grep -q -- --output-format < <(oha --help) && json=(--output-format json)
  /usr/bin/time -f "%U %S" -o "$work/time" taskset -c 0 oha -z "${seconds}s" -c 64 --no-tui \
    --worker-threads 1 "${json[@]}" "${extra[@]}" "$2" >"$work/oha.json"
  local n rps errors
  # Requests = responses received (statusCodeDistribution); the requests cut off at the
  # deadline are in errorDistribution and not counted.
  read -r n rps errors < <(python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
codes = j.get("statusCodeDistribution", {})
n = sum(codes.values())
bad = sum(v for k, v in codes.items() if not k.startswith("2"))
bad += sum(v for k, v in j.get("errorDistribution", {}).items() if "deadline" not in k)
print(n, round(j["summary"]["requestsPerSec"]), bad)' "$work/oha.json")
  row "$1" oha "$rps" "$(cpu100k "$work/time" "$n")" "$errors"
}

run_ours() { # target url kind label [run options...]: the whole `run` counted (start-up, snapshots, CSVs, summary)
  local results="$work/results-${1// /_}-${4// /_}"
  local extra=("${@:5}")
  cat >"$work/profile.yaml" <<YAML
name: peers
behaviours:
  bench:
    wait: { constant: 0s }
    tasks: [ { kind: $3, name: "/$3 [peers]" } ]
phases:
  - { name: bench, behaviour: bench, users: 64, spawn_rate: 1000000, duration: ${seconds}s, repo_size: small }
YAML
  /usr/bin/time -f "%U %S" -o "$work/time" taskset -c 0 "$bin" run "$work/profile.yaml" \
    --target "$2" --no-charts --no-configure --output "$results" "${extra[@]}" >"$work/run.log" 2>&1 ||
    { echo "terrafix-tui run failed:" >&2; tail -n 20 "$work/run.log" >&2; exit 1; }
  local n errors
  read -r n errors < <(python3 -c '
import json, glob, sys
s = json.load(open(glob.glob(sys.argv[1] + "/*/experiment_summary.json")[0]))
e = s["experiments"]
e = e if isinstance(e, list) else [p for v in e.values() for p in v]
print(e[0]["summary"]["total_requests"], e[0]["summary"].get("failure_count", 0))' "$results")
  row "$1" "$4" "$(awk -v n="$n" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}')" \
    "$(cpu100k "$work/time" "$n")" "$errors"
}

echo "== generators on core 0, targets on core 1, 64 connections, ${seconds}s each (+1 s warm-up per target)"
if command -v nginx >/dev/null; then
  nginx_conf "$work/nginx" "$nginx_port" '{"status":"healthy"}'
  nginx_start 1 "$work/nginx"
  url="http://127.0.0.1:$nginx_port/health"
  wait_up "$url"
  warm_up "$url"
  echo "   nginx: terrafix-tui run"; run_ours nginx "http://127.0.0.1:$nginx_port" health "terrafix-tui run"
  echo "   nginx: wrk"; run_wrk nginx "$url"
  echo "   nginx: oha"; run_oha nginx "$url"
  nginx_stop "$work/nginx"
  # Reported beside, no aim: the same nginx over HTTPS (TLS 1.3, a certificate made here;
  # keep-alive, so the handshakes are 64 of the requests).
  if command -v openssl >/dev/null; then
    # A CA made here (trusted with --ca-cert) and a server certificate it signs.
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=peers-bench-ca \
      -keyout "$work/ca-key.pem" -out "$work/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$work/key.pem" -out "$work/csr.pem" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$work/ext.cnf"
    openssl x509 -req -in "$work/csr.pem" -CA "$work/ca.pem" -CAkey "$work/ca-key.pem" -CAcreateserial \
      -days 1 -extfile "$work/ext.cnf" -out "$work/cert.pem" 2>/dev/null
    nginx_conf "$work/nginx" "$nginx_port" '{"status":"healthy"}' \
      " ssl; ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem"
    sleep 0.3
    nginx_start 1 "$work/nginx"
    url="https://127.0.0.1:$nginx_port/health"
    for _ in $(seq 100); do curl -fsk "$url" >/dev/null && break; sleep 0.05; done
    taskset -c 0 curl -fsk "$url" >/dev/null || { echo "nginx over TLS did not start" >&2; exit 1; }
    echo "   nginx https: terrafix-tui run"
    run_ours "nginx https" "https://127.0.0.1:$nginx_port" health "terrafix-tui run" --ca-cert "$work/ca.pem"
    echo "   nginx https: wrk"; run_wrk "nginx https" "$url"
    echo "   nginx https: oha"; run_oha "nginx https" "$url" --insecure
    nginx_stop "$work/nginx"
  else
    row "nginx https" "(all)" "openssl missing: apt-get install -y openssl"
  fi
else
  for g in "terrafix-tui run" wrk oha; do row nginx "$g" "nginx not installed: $nginx_install"; done
fi

REDIS_URL='' taskset -c 1 "$bin" serve --port "$port" --latency-ms 0 --per-resource-ms 0 >/dev/null 2>&1 &
mock_pid=$!
url="http://127.0.0.1:$port/health"
wait_up "$url"
warm_up "$url"
echo "   mock: terrafix-tui run GET"; run_ours mock "http://127.0.0.1:$port" health "terrafix-tui run GET"
echo "   mock: terrafix-tui run POST /webhook"
run_ours mock "http://127.0.0.1:$port" webhook "terrafix-tui run POST /webhook"
echo "   mock: wrk"; run_wrk mock "$url"
echo "   mock: oha"; run_oha mock "$url"

# The table: "× wrk" is the generator's CPU per request over wrk's on the same target.
cpu_of() { # target generator
  local r; for r in "${rows[@]}"; do
    IFS='|' read -r t g _ c _ <<<"$r"; [[ "$t" == "$1" && "$g" == "$2" ]] && { echo "$c"; return; }
  done
  return 0
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "| target | generator | req/s | CPU-s per 100k | × wrk | errors |"
echo "|---|---|---:|---:|---:|---:|"
for r in "${rows[@]}"; do
  IFS='|' read -r t g rps cpu errors <<<"$r"
  if [[ -z "$cpu" ]]; then echo "| $t | $g | $rps | | | |"; continue; fi
  echo "| $t | $g | $rps | $cpu | $(ratio "$cpu" "$(cpu_of "$t" wrk)") | $errors |"
done
ours=$(cpu_of nginx "terrafix-tui run"); wrk_cpu=$(cpu_of nginx wrk); oha_cpu=$(cpu_of nginx oha)
echo
echo "aim: ours ≤ 1.2 × wrk and below oha (GET, nginx): ours $(ratio "$ours" "$wrk_cpu") × wrk," \
  "$(ratio "$ours" "$oha_cpu") × oha"
echo "aim: POST ≤ 1.5 × GET: POST $(ratio "$(cpu_of mock "terrafix-tui run POST /webhook")" \
  "$(cpu_of mock "terrafix-tui run GET")") × GET (ours, mock, CPU per request)"
