#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what is missing, then checks format,
# lints, fuzzes the mock API against its OpenAPI document (schemathesis, in a venv under
# target/) and runs every test (unit, HTTP, Redis, Docker, TUI in tmux).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
# tests/python/seed_readers.py (run by tests/seed_compat.rs) reads summaries as the seed did.
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# tests/html_render.rs renders the HTML report in Debian's headless Chromium.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# tests/multinode.rs starts Docker engines in network namespaces (scripts/multinode.sh).
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v nsenter >/dev/null 2>&1 || missing+=(util-linux)
# tests/prometheus_live.rs scrapes and pushes to a real Prometheus.
[ -x /usr/bin/prometheus ] || missing+=(prometheus)
# tests/shell_and_man.rs renders the man pages with `man -l` (man-db) through groff.
command -v man >/dev/null 2>&1 || missing+=(man-db)
command -v groff >/dev/null 2>&1 || missing+=(groff-base)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

cargo fmt --check
cargo clippy --all-targets -- -D warnings
# The library's docs build without a broken link or unescaped tag (what docs.rs would show).
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps
cargo build --release --bin terrafix-tui
bash scripts/schemathesis.sh
# Includes tests/multinode.rs: a 3-node swarm in network namespaces (root; about 3 minutes).
cargo test --all-targets -- --test-threads 2

# A real JUnit consumer reads the --junit output of a failing run: junitparser (PyPI) in a
# venv under target/, pinned so that a new release cannot change the verdict unnoticed.
junit_venv=target/junit-venv
if ! "$junit_venv/bin/python" -c 'import junitparser' >/dev/null 2>&1; then
  python3 -m venv "$junit_venv"
  "$junit_venv/bin/pip" install -q junitparser==5.0.3
fi
cargo test --test findings_report -- --ignored --test-threads 2
# After the tests, so a failing test (tests/fuzz_regressions.rs replays every kept crash)
# stops CI before the fuzz targets' own instrumented build: each target runs for
# FUZZ_SECONDS; a crash fails CI (docs/fuzzing.md).
bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
