"""bench_vision --line-model (issue 27, w27f): the 4 mm/px line station run with saved models in turn, so that a
refitted model's station rate is measured against the shipped one's in the same session."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHIPPED_UNION = REPO / "vision" / "shipped" / "model-4mm-512px-2f7c0564758e.npz"
SHIPPED_BASE = REPO / "vision" / "shipped" / "model-4mm-512px-26df757737f4.npz"


def _bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchmarks.bench_vision", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600)


def test_the_line_station_runs_each_model_in_turn_for_each_round():
    proc = _bench("--line-model", str(SHIPPED_UNION), "--line-model", str(SHIPPED_BASE), "--line-m", "5", "--rounds", "2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    rates = [line for line in proc.stdout.splitlines() if line.startswith("vision line station rate")]
    names = [SHIPPED_UNION.name if SHIPPED_UNION.name in line else SHIPPED_BASE.name if SHIPPED_BASE.name in line else "?"
             for line in rates]
    assert names == [SHIPPED_UNION.name, SHIPPED_BASE.name] * 2
    assert "throughput" not in proc.stdout  # the line station only: no 1 mm/px model is needed


@pytest.mark.parametrize("args, says", [
    (["--line-model", "no-such-model.npz"], "--line-model: no such model file: no-such-model.npz"),
    (["--line-model", str(SHIPPED_UNION), "--rounds", "0"], "--rounds: at least 1, got 0"),
])
def test_the_line_station_refuses_a_missing_model_or_no_round_saying_why(args, says):
    proc = _bench(*args)
    assert proc.returncode == 2 and says in proc.stderr, proc.stderr[-2000:]
