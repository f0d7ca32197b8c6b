import json
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.cli import DELEGATED, build_parser, main
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


def test_demo_runs_a_short_lot_end_to_end(tmp_path):
    run_dir = tmp_path / "run"
    proc = oreline("demo", "--config", str(light_site_file(tmp_path / "site.toml")), "--lot-mass-t", "300", "--speedup", "0",
                   "--no-serve", "--run-dir", str(run_dir))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "verdict" in proc.stdout and str(run_dir) in proc.stdout
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["end"]["status"] == "complete"
    assert summary["end"]["end_mark_t"] == pytest.approx(300.0)
    assert len(summary["segments"]) == 3
    assert summary["verdict"]["final"] is True
    assert set(summary["stations"]) == {"nir", "camera", "sampler"}
    assert any(p.suffix == ".h5" for p in run_dir.iterdir())
    assert "report html" in proc.stdout


def test_configuration_reference_is_generated_from_the_code():
    from analysis.config_docs import render

    doc = (REPO / "docs" / "configuration.md").read_text()
    assert doc == render(), "docs/configuration.md is stale: run `python -m analysis.config_docs > docs/configuration.md`"


@pytest.mark.parametrize("argv, passed", [
    (["vision", "fit", "--images", "/frames", "--out", "m.npz"], ["--images", "/frames", "--out", "m.npz"]),
    (["-v", "vision", "fit", "--out=m.npz", "--images=/frames"], ["--out=m.npz", "--images=/frames"]),
    (["report", "--lot", "L1.h5"], ["--lot", "L1.h5"]),
])
def test_delegated_commands_get_their_words_in_the_order_typed(argv, passed):
    from analysis.cli import _delegated_argv

    args, _ = build_parser().parse_known_args(argv)
    assert _delegated_argv(argv, args) == passed
