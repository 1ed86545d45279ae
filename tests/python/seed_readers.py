"""Reads experiment_summary.json files the way the seed harness's readers do
(regenerate_html.py, generate_charts.py): `experiments.items()` (suite -> list of
phases), the seven summary keys, `duration_seconds`, `config`. Standard library only.

Usage: python3 seed_readers.py SUMMARY.json [SUMMARY.json ...]
Exit status 0 when every file reads, 1 (with the reason on stderr) otherwise.
"""

import json
import sys
from datetime import datetime

SEVEN = (
    "total_requests",
    "failure_count",
    "median_response_ms",
    "avg_response_ms",
    "p95_response_ms",
    "p99_response_ms",
    "requests_per_sec",
)


def read(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    # The seed prints the timestamp at the top of its report; it must parse as ISO 8601.
    datetime.fromisoformat(data["timestamp"])
    rows = []
    for suite, phases in data["experiments"].items():
        assert isinstance(phases, list), f"{suite}: phases are a list"
        for exp in phases:
            s = exp["summary"]
            values = [s[k] for k in SEVEN]
            assert all(isinstance(v, (int, float)) for v in values), f"{exp['name']}: {values}"
            assert isinstance(s["total_requests"], int) and isinstance(s["failure_count"], int)
            cfg = exp["config"]
            assert isinstance(cfg["run_time"], str) and cfg["run_time"], f"{exp['name']}: run_time"
            users = cfg["users"]
            assert users is None or isinstance(users, int)
            assert isinstance(exp["duration_seconds"], (int, float))
            assert exp["status"] in ("completed", "skipped", "aborted")
            assert isinstance(exp["stats_file"], str) and exp["stats_file"].endswith("_stats.csv")
            # The seed's success-rate column: successes over requests.
            total = s["total_requests"]
            success = 100.0 * (total - s["failure_count"]) / total if total else 0.0
            rows.append((suite, exp["name"], users, cfg["spawn_rate"], cfg["run_time"],
                         exp["duration_seconds"], success, s["p99_response_ms"]))
    assert rows, "no phases"
    return rows


def main(paths):
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    for path in paths:
        try:
            rows = read(path)
        except Exception as e:  # the seed's scripts die on any of these; say which
            print(f"{path}: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        for row in rows:
            print("%s/%s users=%s spawn=%s run_time=%s %.1fs success=%.1f%% p99=%.1fms" % row)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
