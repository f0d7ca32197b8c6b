"""Every benchmark starts: each module imports and has ``main(argv)``, those with an argument parser answer
``--help``, and ``run_all`` runs one small benchmark end to end in a subprocess. The figures themselves are
``make bench`` (full) and ``make bench-quick`` (every benchmark at a small size, minutes): not the test suite.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.common import frame_cpu_ms, quantiles_text, switch_cost
from benchmarks.run_all import benchmark_names, summary_lines

REPO = Path(__file__).resolve().parents[1]
#: the quickest benchmark (a few seconds with --quick): run_all is run on it, end to end
SMOKE_BENCHMARK = "bench_sampler"


def test_the_summary_prints_text_targets_missing_values_and_broken_benchmarks():
    rows = [{"name": "a", "value": 5200.0, "unit": "records/s", "target": 5000.0, "ok": True},
            {"name": "b", "value": 0.4, "unit": "ratio", "target": ">= 0.9", "ok": False},
            {"name": "c", "value": math.nan, "unit": "ms", "target": "<= 1000", "ok": False}]
    lines = summary_lines(rows, {"bench_x": "TypeError: boom"})
    assert lines == ["  OK   a: 5.2e+03 records/s (target 5,000.0)", "  MISS b: 0.4 ratio (target >= 0.9)",
                     "  MISS c: n/a ms (target <= 1000)", "  BROKEN bench_x: TypeError: boom"]


def test_a_spread_is_printed_over_the_finite_values_with_its_count_and_quantiles():
    values = [4.0, 0.0, math.nan, 2.0, math.inf, 1.0, 3.0]
    assert quantiles_text(values) == "0 / 0.2 / 2 / 3.8 / 4 (min / 5 % / median / 95 % / max)"
    assert quantiles_text(values, (0.25, 0.75), fmt=".2f", count=True) == "1.00 / 3.00 (n 5; 25 % / 75 %)"
    assert quantiles_text(values, (0.5,), count=True, legend=False) == "2 (n 5)"
    assert quantiles_text([math.nan]) == quantiles_text([]) == "none"


def test_frame_cpu_leaves_out_the_first_frame_and_flushes():
    seen: list[object] = []

    class Sink:
        def process(self, frame: object) -> None:
            seen.append(frame)
            sum(range(300_000 if frame == "busy" else 1))  # a few ms of CPU against none

        def flush(self) -> None:
            seen.append("flushed")

    ms = frame_cpu_ms(Sink(), ["warm-up", "idle", "busy"])
    assert seen == ["warm-up", "idle", "busy", "flushed"] and ms.shape == (2,)
    assert ms[1] > ms[0] >= 0.0


def test_switch_cost_measures_off_then_on_each_round_with_the_station_run_as_set():
    state = {"on": False}
    order: list[str] = []

    class Sink:
        def process(self, frame: object) -> None:
            sum(range(300_000 if state["on"] else 1))  # the switch costs a few ms of CPU a frame

        def flush(self) -> None:
            pass

    @contextlib.contextmanager
    def switched_on():
        state["on"] = True
        try:
            yield
        finally:
            state["on"] = False

    def station() -> float:
        order.append("on" if state["on"] else "off")
        return 80.0 if state["on"] else 100.0

    cost = switch_cost(Sink, switched_on, ["warm-up", 1, 2, 3], station, rounds=2)
    assert order == ["off", "on", "off", "on"] and not state["on"]
    assert len(cost.detector_ms["off"]) == len(cost.detector_ms["on"]) == 2
    assert cost.added_ms > 0.0 and cost.p99_ms["on"] > cost.p99_ms["off"]
    assert cost.station_on_m_s == 80.0 and cost.station_share == pytest.approx(0.8)
    assert "line station: off [100.0, 100.0] m/s, on [80.0, 80.0] m/s" in cost.text("off", "on")
    with pytest.raises(ValueError, match="two frames"):
        switch_cost(Sink, switched_on, ["only one"], station)


def test_there_are_benchmarks():
    assert SMOKE_BENCHMARK in benchmark_names() and len(benchmark_names()) >= 10


@pytest.mark.parametrize("name", benchmark_names())
def test_benchmark_imports_and_has_main(name):
    module = importlib.import_module(f"benchmarks.{name}")
    assert callable(getattr(module, "main", None)), f"{name} has no main(argv)"
    params = list(inspect.signature(module.main).parameters)
    assert params[:1] == ["argv"], f"{name}.main takes {params}, expected (argv)"


@pytest.mark.parametrize("name", [n for n in benchmark_names()
                                  if "ArgumentParser" in (REPO / "benchmarks" / f"{n}.py").read_text()])
def test_benchmark_with_a_parser_answers_help(name, capsys):
    module = importlib.import_module(f"benchmarks.{name}")
    with pytest.raises(SystemExit) as stop:
        module.main(["--help"])
    assert stop.value.code == 0
    assert "--quick" in capsys.readouterr().out


@pytest.mark.slow
def test_run_all_runs_a_benchmark_end_to_end():
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run_all", "--quick", "--only", SMOKE_BENCHMARK],
                          cwd=REPO, capture_output=True, text=True, timeout=600, env=env)
    out = proc.stdout
    assert proc.returncode == 0, (out + proc.stderr)[-4000:]
    assert f"== {SMOKE_BENCHMARK}" in out and "BROKEN" not in out
    summary = out[out.index("\nsummary"):]
    assert summary.count("\n  OK") + summary.count("\n  MISS") >= 1


def test_run_all_refuses_an_unknown_benchmark():
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run_all", "--only", "teleport"], cwd=REPO,
                          capture_output=True, text=True, timeout=120, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode == 2 and "unknown benchmark" in proc.stderr


def test_run_all_takes_figure_rows_and_names_a_result_that_is_not_one():
    from benchmarks.run_all import figure_rows
    row = dict(name="x", value=1.0, unit="s", target="< 2", ok=True)
    assert figure_rows([row]) == [row] == figure_rows(row) and figure_rows(None) == []
    assert figure_rows({"thresholds": {}, "ceiling": []}) == []  # a dict of results (bench_vision_seeds): no rows
    with pytest.raises(ValueError, match="not figure rows"):
        figure_rows(["thresholds"])
