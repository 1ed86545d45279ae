#!/usr/bin/env bash
# Builds the fuzz targets in fuzz/ (cargo-fuzz, libFuzzer) and runs each for SECONDS
# (default 25), then prints what each reached. Fails when a target crashed: its input is
# left in fuzz/artifacts/<target>/ and the line to keep it as a regression test is printed.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Works with the stable toolchain: cargo-fuzz passes -Z flags (sanitizer coverage), which a
# stable rustc takes under RUSTC_BOOTSTRAP=1. Installs cargo-fuzz from crates.io when it is
# missing (about 35 s on two cores). See docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-25}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "scripts/fuzz.sh: SECONDS must be a whole number above 0, got '$seconds' (e.g. scripts/fuzz.sh 30)" >&2
  exit 2
fi
shift || true
all=(h1_answer profile summary hlog locust_csv dotenv)
targets=("$@")
((${#targets[@]})) || targets=("${all[@]}")
for t in "${targets[@]}"; do
  if [[ ! -f "fuzz/fuzz_targets/$t.rs" ]]; then
    echo "scripts/fuzz.sh: no fuzz target '$t'; the targets are: ${all[*]}" >&2
    exit 2
  fi
done

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz from crates.io"
  cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
# AddressSanitizer: the stable std ships its runtime (librustc-stable_rt.asan.a). It watches
# the unsafe code under the parsers (serde_yaml's libyaml port) besides the panics and broken
# invariants the targets look for. FUZZ_SANITIZER=none runs faster without it.
flags=(--fuzz-dir fuzz --sanitizer "${FUZZ_SANITIZER:-address}")
# The readers that take a path are fed through scratch files (src/fuzzing.rs): keep them here.
scratch="$PWD/fuzz/target/tmp"
rm -rf "$scratch"
mkdir -p "$scratch" fuzz/target/logs
export TMPDIR="$scratch"

start=$SECONDS
cargo fuzz build "${flags[@]}"
echo "fuzz build: $((SECONDS - start)) s"

failed=()
rows=()
for t in "${targets[@]}"; do
  work="fuzz/target/corpus/$t"
  log="fuzz/target/logs/$t.log"
  mkdir -p "$work" "fuzz/regressions/$t"
  # New inputs go to the first folder (under target/); the seeds and kept crashes are read only.
  # -timeout: an input that takes 10 s is a finding too (a hang), not something to wait out.
  if cargo fuzz run "${flags[@]}" "$t" "$work" "fuzz/corpus/$t" "fuzz/regressions/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    result=CRASH
    failed+=("$t")
    echo "---- $t crashed; the end of $log:"
    tail -n 40 "$log"
    for input in fuzz/artifacts/"$t"/*; do
      [[ -f "$input" ]] || continue
      echo "keep it as a regression test: cp $input fuzz/regressions/$t/ && cargo test --test fuzz_regressions"
    done
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1 || true)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1 || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2 || true)
  rows+=("$(printf '%-12s %-6s %12s %10s %8s' "$t" "$result" "${runs:-?}" "${rate:-?}" "${cov:-?}")")
done
rm -rf "$scratch"

printf '%-12s %-6s %12s %10s %8s\n' target result executions exec/s edges
printf '%s\n' "${rows[@]}"
echo "fuzzing: $((SECONDS - start)) s in all, ${seconds} s per target"
if ((${#failed[@]})); then
  echo "fuzzing found a crash in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
