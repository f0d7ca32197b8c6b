"""scripts/judge_spread.py (issue 27, w27f): the union's second judge's own p(none) on objects and on object-free
belt, and a model without a second judge refused naming it."""

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "vision" / "shipped"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "scripts" / "judge_spread.py"), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(REPO)})


def test_the_judges_spread_is_printed_with_the_counts_under_its_levels():
    proc = _run(str(SHIPPED / "model-4mm-512px-2f7c0564758e.npz"), "111", "8", "8")
    assert proc.returncode == 0, proc.stderr[-2000:]
    first, second = proc.stdout.splitlines()
    assert first.startswith("oreline-vision-model-8:34e3c39dda judge levels [0.00305744 0.01295572]: objects >= 50 mm")
    m = re.search(r"object-free realistic 8 m \(seed 1111\), judge p\(none\) of (\d+) size-passing candidates", second)
    assert m and int(m.group(1)) > 0, second


def test_a_model_without_a_second_judge_is_refused_naming_it():
    proc = _run(str(SHIPPED / "model-4mm-512px-26df757737f4.npz"), "111", "1", "1")
    assert proc.returncode != 0 and "model oreline-vision-model-8:f9ce9850fe has no second judge (not a union)" in proc.stderr
