"""scripts/long_functions.py finds what it names, and only that."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "long_functions.py"


def _function(name: str, body_lines: int, decorated: bool = False) -> str:
    head = "@staticmethod\n" if decorated else ""
    return head + f"def {name}():\n" + "".join(f"    x{i} = {i}\n" for i in range(body_lines - 1)) + "    return 0\n"


def test_finds_a_function_over_the_limit_and_spares_one_at_it(tmp_path):
    (tmp_path / "m.py").write_text(_function("at_limit", 79) + "\n\n" + _function("over", 80, decorated=True))
    proc = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "m.py:" in proc.stdout and "over (82 lines > 80)" in proc.stdout  # the decorator counts
    assert "at_limit" not in proc.stdout
    report = subprocess.run([sys.executable, str(SCRIPT), "--report", str(tmp_path)], capture_output=True, text=True)
    assert report.returncode == 0 and "over" in report.stdout


def test_a_clean_folder_passes(tmp_path):
    (tmp_path / "m.py").write_text(_function("short", 10))
    proc = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout == ""
