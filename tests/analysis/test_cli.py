import json
import subprocess
import sys
from pathlib import Path

import pytest

from conveyor.deferred import PROJECT_PACKAGES
from analysis.cli import DELEGATED, build_parser, main
from analysis.config_docs import render
from tests.sitefiles import light_site_file

REPO = Path(__file__).resolve().parents[2]


def oreline(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "analysis.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def test_help_documents_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for command in ["demo", "run", "config", *DELEGATED]:
        assert command in text
    parser = build_parser()
    assert parser.prog == "oreline"


@pytest.mark.parametrize("command", [["report"], ["fleet"], ["archive"], ["control-room"], ["spectra", "train"],
                                     ["sampler", "plan"], ["plc", "docs"], ["vision", "evaluate"]])
def test_delegated_commands_show_their_own_help(command):
    proc = oreline(*command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout and "Traceback" not in proc.stderr


def test_config_check_reports_the_bad_key_without_a_traceback(tmp_path):
    bad = tmp_path / "site.toml"
    bad.write_text('[line]\nbelt_length_m = 200.0\nnominal_speed_m_s = -1.0\n')
    proc = oreline("config", "check", str(bad))
    assert proc.returncode == 2
    assert "line.nominal_speed_m_s: expected a value > 0.0, got -1.0" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_config_check_accepts_the_shipped_default(tmp_path):
    default = oreline("config", "default")
    assert default.returncode == 0
    path = tmp_path / "site.toml"
    path.write_text(default.stdout)
    proc = oreline("config", "check", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "station nir" in proc.stdout


@pytest.mark.e2e  # a real `oreline demo` process
def test_demo_runs_a_short_lot_end_to_end(tmp_path):
    run_dir = tmp_path / "run"
    site = light_site_file(tmp_path / "site.toml", segment_mass_t=10.0)  # three segments in 30 t
    proc = oreline("demo", "--config", str(site), "--lot-mass-t", "30", "--speedup", "0", "--no-serve", "--run-dir",
                   str(run_dir))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "verdict" in proc.stdout and str(run_dir) in proc.stdout
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["end"]["status"] == "complete"
    assert summary["end"]["end_mark_t"] == pytest.approx(30.0)
    assert len(summary["segments"]) == 3
    assert summary["verdict"]["final"] is True
    assert set(summary["stations"]) == {"nir", "camera", "sampler"}
    assert any(p.suffix == ".h5" for p in run_dir.iterdir())
    assert "report html" in proc.stdout


def test_configuration_reference_is_generated_from_the_code():
    doc = (REPO / "docs" / "configuration.md").read_text()
    assert doc == render(), "docs/configuration.md is stale: run `python -m analysis.config_docs > docs/configuration.md`"


def test_a_missing_optional_dependency_gives_the_friendly_message(tmp_path, monkeypatch, capsys):
    (tmp_path / "needs_vendor_sdk.py").write_text("import oreline_absent_vendor_sdk\n\ndef cli(argv):\n    return 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(DELEGATED, "vendor", {"_": ("needs_vendor_sdk", "cli", "a command with a vendor SDK")})
    assert main(["vendor"]) == 2
    err = capsys.readouterr().err
    assert "not available in this build" in err and "oreline_absent_vendor_sdk" in err


def test_a_work_module_missing_a_package_after_the_options_gives_the_friendly_message(tmp_path, monkeypatch, capsys):
    """The commands that check their options first and load their work after (conveyor.deferred) answer the same."""
    (tmp_path / "light_front.py").write_text("from conveyor.deferred import load_function\n\n"
                                             "def cli(argv):\n    return load_function('heavy_work', 'run')(argv)\n")
    (tmp_path / "heavy_work.py").write_text("import oreline_absent_dask_xyz\n\ndef run(argv):\n    return 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(DELEGATED, "front", {"_": ("light_front", "cli", "a command with deferred work")})
    assert main(["front"]) == 2
    err = capsys.readouterr().err
    assert "not available in this build" in err and "oreline_absent_dask_xyz" in err and "Traceback" not in err


def test_a_broken_project_module_fails_loudly(tmp_path, monkeypatch):
    """An ImportError inside oreline itself is a bug: it must surface, not read as a missing extra."""
    (tmp_path / "broken_tool.py").write_text("from analysis.model import no_such_name\n\ndef cli(argv):\n    return 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(DELEGATED, "broken", {"_": ("broken_tool", "cli", "a command whose module is broken")})
    with pytest.raises(ImportError, match="no_such_name"):
        main(["broken"])
    monkeypatch.setitem(DELEGATED, "gone", {"_": ("analysis.no_such_module", "cli", "a module that is missing")})
    with pytest.raises(ModuleNotFoundError):
        main(["gone"])
    monkeypatch.setitem(DELEGATED, "typo", {"_": ("analysis.model", "no_such_function", "a missing function")})
    with pytest.raises(AttributeError):
        main(["typo"])
    assert PROJECT_PACKAGES[-1] == "analysis"


def test_config_check_names_a_bad_station_key_from_its_settings_table(tmp_path):
    """Station keys are checked when the site file is checked, not first when the station is built."""
    default = oreline("config", "default").stdout
    site = tmp_path / "site.toml"
    site.write_text(default.replace("[stations.sampler]\n", "[stations.sampler]\ncutter_speed_m_s = 0.9\n", 1))
    proc = oreline("config", "check", f"{site}")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "stations.sampler.cutter_speed_m_s: expected a value <= 0.6, got 0.9" in proc.stderr

