"""Start-up cost of the ``oreline`` command: the CPU (user + sys) of each light command, run through the installed
script in a subprocess as an operator runs it, median of several runs (target <= 0.8 s each), and the CPU of a
short demo lot from start to exit (printed for the record; it does the whole line's work, so no start-up target).

Run: ``.venv/bin/python -m benchmarks.bench_cli_startup [--runs 5] [--quick]``. CPU is
``resource.getrusage(RUSAGE_CHILDREN)`` deltas around each run, so a loaded machine changes it little.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from analysis.site import DEFAULT_SITE
from benchmarks.common import row

#: A light command's CPU target (s): what an operator or PLC engineer waits for before anything happens.
LIGHT_TARGET_S = 0.8

#: The light commands (arguments after ``oreline``).
LIGHT_COMMANDS: tuple[tuple[str, ...], ...] = (
    ("--help",), ("config", "default"), ("config", "check", str(DEFAULT_SITE)), ("accounts", "hash", "--help"),
    ("report", "--help"), ("lots", "--help"), ("demo", "--help"),
)

#: A short demo lot, start to exit.
DEMO_ARGS = ("demo", "--no-serve", "--no-report", "--speedup=0", "--lot-mass-t", "1")


def oreline_script() -> Path:
    """The installed ``oreline`` script beside this interpreter."""
    script = Path(sys.executable).with_name("oreline")
    if not script.exists():
        raise FileNotFoundError(f"no installed oreline script at {script} (make setup)")
    return script


def command_cpu_s(args: Sequence[str], *, cwd: Path | None = None) -> float:
    """CPU seconds (user + sys) of one ``oreline ARGS`` run; raises when it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run([str(oreline_script()), *args], capture_output=True, text=True, cwd=cwd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"oreline {' '.join(args)} exited {proc.returncode}: {proc.stderr[-500:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_cpu_s(args: Sequence[str], runs: int, *, cwd: Path | None = None) -> float:
    """Median CPU seconds of ``runs`` runs of ``oreline ARGS``."""
    return statistics.median(command_cpu_s(args, cwd=cwd) for _ in range(runs))


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(prog="bench_cli_startup")
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (the median is printed)")
    parser.add_argument("--quick", action="store_true", help="two runs each (checks the benchmark runs)")
    parser.add_argument("--no-demo", action="store_true", help="skip the short demo lot")
    args = parser.parse_args(None if argv is None else list(argv))
    runs = 2 if args.quick else args.runs
    if runs < 1:
        parser.error("--runs must be at least 1")
    rows = [row(f"oreline {' '.join(a if a != str(DEFAULT_SITE) else '<shipped site>' for a in cmd)} CPU "
                f"(median of {runs})", median_cpu_s(cmd, runs), "s", LIGHT_TARGET_S, higher_is_better=False)
            for cmd in LIGHT_COMMANDS]
    if not args.no_demo:
        with tempfile.TemporaryDirectory(prefix="oreline-bench-cli-") as tmp:
            demo = [*DEMO_ARGS, "--run-dir", str(Path(tmp) / "run")]
            cpu = median_cpu_s(demo, 1 if args.quick else max(1, runs // 2), cwd=Path(tmp))
        print(f"oreline {' '.join(DEMO_ARGS)} start to exit: {cpu:.2f} s CPU (the whole 1 t lot; no target)")
    return rows


if __name__ == "__main__":
    main()
