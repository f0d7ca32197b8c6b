"""Every benchmark runs: ``python -m benchmarks.run_all --quick`` in a subprocess, and the summary table's format."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.run_all import benchmark_names, summary_lines

REPO = Path(__file__).resolve().parents[1]


def test_the_summary_prints_text_targets_missing_values_and_broken_benchmarks():
    rows = [{"name": "a", "value": 5200.0, "unit": "records/s", "target": 5000.0, "ok": True},
            {"name": "b", "value": 0.4, "unit": "ratio", "target": ">= 0.9", "ok": False},
            {"name": "c", "value": math.nan, "unit": "ms", "target": "<= 1000", "ok": False}]
    lines = summary_lines(rows, {"bench_x": "TypeError: boom"})
    assert lines == ["  OK   a: 5.2e+03 records/s (target 5,000.0)", "  MISS b: 0.4 ratio (target >= 0.9)",
                     "  MISS c: n/a ms (target <= 1000)", "  BROKEN bench_x: TypeError: boom"]


@pytest.mark.slow
def test_every_benchmark_runs_in_quick_mode(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run_all", "--quick"], cwd=REPO, capture_output=True,
                          text=True, timeout=900, env=env)
    out = proc.stdout
    assert proc.returncode == 0, (out + proc.stderr)[-4000:]
    assert "BROKEN" not in out
    summary = out[out.index("\nsummary"):]
    for name in benchmark_names():
        assert f"== {name}" in out
    assert summary.count("\n  OK") + summary.count("\n  MISS") >= len(benchmark_names())
