"""The light ``oreline`` commands start without the heavy packages (start-up cost; ``benchmarks/bench_cli_startup``).

Each command runs through the INSTALLED console script in a subprocess, inside a tiny wrapper that runs the script
with :mod:`runpy` and then writes the names of the loaded heavy packages to a file: the real entry point, the real
argument parsing. Its output is checked against what the command must print.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.site import DEFAULT_SITE, load_site

ORELINE_SCRIPT = Path(sys.executable).parent / "oreline"

#: Third-party packages no light command needs (each costs 0.1-0.9 s of CPU to import).
HEAVY = ("matplotlib", "scipy.stats", "scipy.signal", "sklearn", "fastapi", "starlette", "pydantic", "uvicorn",
         "h5py", "dask", "onnxruntime", "weasyprint", "sqlalchemy", "torch", "pandas")

#: Runs the installed script as ``oreline ARGS`` and writes the heavy packages loaded meanwhile to the file $OUT.
WRAPPER = """
import json, os, runpy, sys
heavy = json.loads(os.environ["HEAVY"])
sys.argv = ["oreline", *sys.argv[1:]]
try:
    runpy.run_path(os.environ["SCRIPT"], run_name="__main__")
    code = 0
except SystemExit as exc:
    code = exc.code
finally:
    loaded = sorted(h for h in heavy if h in sys.modules)
    with open(os.environ["OUT"], "w") as f:
        json.dump(loaded, f)
sys.exit(code)
"""

#: Light command → the heavy packages it may load (what it does needs them).
LIGHT: dict[tuple[str, ...], tuple[str, ...]] = {
    ("--help",): (),
    ("config", "default"): (),
    ("config", "check", str(DEFAULT_SITE)): (),
    ("accounts", "hash", "--help"): (),
    ("accounts", "list", "--help"): (),
    ("report", "--help"): ("h5py",),  # the report reads archives (analysis.archive at module level)
    ("lots", "--help"): ("sqlalchemy",),  # the catalogue is a database
    ("demo", "--help"): (),
    ("control-room", "--help"): (),  # its options are parsed before the control room (the line, the web server) loads
    ("spectra", "train", "--help"): (),  # spectra's work (the models) loads once the options are checked
    ("spectra", "evaluate", "--help"): (),
    ("spectra", "fit-novelty", "--help"): (),
    ("fleet", "--help"): (),  # the fleet's work (the models, dask) loads once the options are checked
}

#: Commands of the line refusing a bad option or site value: refused (exit 2, the option named) before the line's
#: packages load.
REFUSED: dict[tuple[str, ...], str] = {
    ("demo", "--lot-mass-t", "-5", "--speedup=0", "--no-serve"): "simulation.lot_mass_t",
    ("run", str(DEFAULT_SITE), "--lot-mass-t=-1", "--seed", "3"): "simulation.lot_mass_t",
    ("control-room", "--port", "70000", "--speedup=10"): "--port",
    ("spectra", "train", "--test-fraction", "1.5"): "--test-fraction",
    ("spectra", "fit-novelty", "--site-spectra", "nowhere", "--labels", "missing.csv", "--out", "n.npz"): "no such file",
    ("fleet", "rescore", "--model", "missing.npz", "lots"): "oreline fleet rescore: error: --model missing.npz: no such file",
}


def run_wrapped(args: tuple[str, ...], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    out = tmp_path / "loaded.json"
    env = {**os.environ, "HEAVY": json.dumps(HEAVY), "SCRIPT": str(ORELINE_SCRIPT), "OUT": str(out)}
    proc = subprocess.run([sys.executable, "-c", WRAPPER, *args], capture_output=True, text=True, env=env,
                          timeout=120)
    return proc, json.loads(out.read_text())


def test_the_wrapper_sees_heavy_packages(tmp_path):
    """The check can fail: with the composition imported first (what ``oreline config`` did before), the wrapper
    reports the heavy packages it loads."""
    env = {**os.environ, "HEAVY": json.dumps(HEAVY), "SCRIPT": str(ORELINE_SCRIPT), "OUT": str(tmp_path / "x.json")}
    proc = subprocess.run([sys.executable, "-c", "import analysis.site\n" + WRAPPER, "--help"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert {"sklearn", "scipy.stats"} <= set(json.loads((tmp_path / "x.json").read_text()))


@pytest.mark.parametrize("args", list(LIGHT), ids=lambda args: " ".join(Path(a).name for a in args))
def test_a_light_command_loads_no_heavy_package(args, tmp_path):
    proc, loaded = run_wrapped(args, tmp_path)
    assert proc.returncode == 0, proc.stderr
    unexpected = [m for m in loaded if m not in LIGHT[args]]
    assert not unexpected, f"oreline {' '.join(args)} imports {unexpected}; import them where they are used"


def test_config_default_prints_the_shipped_site_file(tmp_path):
    proc, _ = run_wrapped(("config", "default"), tmp_path)
    assert proc.stdout == DEFAULT_SITE.read_text()


def test_config_check_lists_the_stations_of_the_composition_s_own_reading(tmp_path):
    proc, _ = run_wrapped(("config", "check", str(DEFAULT_SITE)), tmp_path)
    site = load_site(DEFAULT_SITE)  # through analysis.site, as the line reads it
    stations = sorted(site["stations"].items(), key=lambda kv: kv[1]["position_m"])
    expected = [f"{DEFAULT_SITE}: valid"] + [
        f"  station {name:<12} {st['kind']:<12} at {st['position_m']:7.1f} m  backend {st['backend']}"
        for name, st in stations]
    assert proc.stdout.splitlines() == expected and len(stations) >= 2


def test_config_check_of_a_bad_file_fails_with_a_clear_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(DEFAULT_SITE.read_text().replace("[verdict]", "[verdict]\nno_such_key = 1", 1))
    proc, loaded = run_wrapped(("config", "check", str(bad)), tmp_path)
    assert proc.returncode == 2 and "oreline: error:" in proc.stderr and "no_such_key" in proc.stderr
    assert not loaded


@pytest.mark.parametrize(("args", "usage"), [(("report", "--help"), "usage: oreline report"),
                                             (("accounts", "hash", "--help"), "usage: oreline accounts hash"),
                                             (("lots", "--help"), "usage: oreline lots")])
def test_a_light_help_is_the_command_s_own(args, usage, tmp_path):
    proc, _ = run_wrapped(args, tmp_path)
    assert proc.stdout.startswith(usage)


@pytest.mark.parametrize("args", list(REFUSED), ids=lambda args: " ".join(Path(a).name for a in args))
def test_a_bad_option_is_refused_before_the_heavy_packages_load(args, tmp_path):
    proc, loaded = run_wrapped(args, tmp_path)
    assert proc.returncode == 2 and REFUSED[args] in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not loaded, f"oreline {' '.join(args)} imports {loaded} before refusing the option"
