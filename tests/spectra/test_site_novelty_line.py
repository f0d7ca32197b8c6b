"""Site novelty on the line: ``oreline spectra fit-novelty`` writes a model, the site file names it
(``[stations.nir] site_novelty``), and ``oreline run`` uses it: the site's own ore stops being novel. The line
replays spectra files, so it runs on the wall clock: the test's site feeds 25 t at 18,000 t/h past a spectrometer
5 m from the belt scale taking 12 spectra a second (about 5 s and 60 spectra a run)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from analysis.archive.reader import open_archive
from analysis.site import DEFAULT_SITE

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # real processes on the wall clock

ORELINE = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "oreline"


def _site_ore(folder: Path, seed: int, n: int = 150) -> Path:
    """A site's genuine ore unlike the library (simulated blends with a site tilt and a weak 1.30 µm band), one CSV
    per spectrum, and its labels file."""
    from spectra.formats import write_csv
    from spectra.grid import grid_by_name
    from spectra.library import load_library
    from spectra.scene import MixtureSimulator

    grid = grid_by_name("ingaas256")
    rng = np.random.default_rng(seed)
    sim = MixtureSimulator(load_library().resample(grid, skip_uncovered=True))
    wl = grid.wavelength_nm
    r = sim.render(sim.ore_blends(rng, n), rng)
    r = r * (0.8 + 0.4 * (wl - wl[0]) / (wl[-1] - wl[0])) * (1 - 0.15 * np.exp(-0.5 * ((wl - 1300) / 30) ** 2))
    folder.mkdir()
    for i, row in enumerate(r):
        write_csv(folder / f"s{i:03d}.csv", wl, row)
    labels = folder.parent / f"{folder.name}-labels.csv"
    labels.write_text("file,class\n" + "".join(f"s{i:03d}.csv,ore\n" for i in range(n)))
    return labels


def _site_file(path: Path, replay: Path, site_novelty: str | None) -> Path:
    """The shipped site with only the NIR station, replaying ``replay``, no PLC or control room; a short lot on the
    wall clock (a fast feed, the spectrometer near the scale, spectra as often as the shipped rate gives per tonne)."""
    text = DEFAULT_SITE.read_text()
    nir = (f'backend = "replay"\nreplay_path = "{replay}"\ngrid = "ingaas256"\nspectra_per_s = 12.0\n'
           "n_average = 1\nreference_repeats = 4\nintegration_time_ms = 1.0\n")  # no real-time waits
    text, n = re.subn(r"(?m)^rate_t_h = [0-9.]+", "rate_t_h = 18000.0", text)
    assert n == 1
    text, n = re.subn(r'(?m)^(\[stations\.nir\]\n(?:[^\[].*\n)*?)position_m = [0-9.]+', r"\g<1>position_m = 5.0", text)
    assert n == 1
    if site_novelty is not None:
        nir += f'site_novelty = "{site_novelty}"\n'
    text, n = re.subn(r'(?m)^(\[stations\.nir\][^\[]*?)backend = "simulated"\n', lambda m: m.group(1) + nir, text)
    assert n == 1
    text = re.sub(r'(?m)^grid = "full".*\n(?:\s+#.*\n)*', "", text)  # the shipped site's own grid: replaced above
    for section in ("camera", "sampler"):
        text, n = re.subn(rf"(?m)^\[stations\.{section}\]\n", f"[stations.{section}]\nenabled = false\n", text)
        assert n == 1
    path.write_text(text)
    return path


def _run(site: Path, run_dir: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(ORELINE), "run", str(site), "--lot-mass-t", "25", "--speedup=0", "--no-serve",
                           "--no-report", f"--run-dir={run_dir}"], capture_output=True, text=True, env=env,
                          timeout=600, check=False)


def _novel_share(run_dir: Path) -> tuple[float, dict]:
    (archive,) = run_dir.glob("*.h5")
    with open_archive(archive) as r:
        (nir,) = r.streams_of_kind("nir")
        cols = r.stream_table(nir.name, ["valid", "novel", "id_class"])
        ok = cols["valid"].astype(bool)
        assert ok.sum() > 40
        return float(cols["novel"][ok].mean()), nir.metadata


def test_site_novelty_named_in_the_site_file_makes_the_sites_ore_not_novel_on_the_line(tmp_path):
    env = {**os.environ, "ORELINE_CACHE": os.environ.get("ORELINE_CACHE", str(tmp_path / "cache"))}
    labels = _site_ore(tmp_path / "fit", seed=8)
    _site_ore(tmp_path / "line", seed=9)  # later ore of the same site, replayed on the line
    model = tmp_path / "site-novelty.npz"
    fit = subprocess.run([str(ORELINE), "spectra", "fit-novelty", "--grid=ingaas256", "--site-spectra",
                          str(tmp_path / "fit"), f"--labels={labels}", "--out", str(model)],
                         capture_output=True, text=True, env=env, timeout=600, check=False)
    assert fit.returncode == 0, fit.stderr

    before = _run(_site_file(tmp_path / "plain.toml", tmp_path / "line", None), tmp_path / "run-plain", env)
    assert before.returncode == 0, before.stderr[-2000:]
    assert "novelty: the model's own" in before.stdout
    after = _run(_site_file(tmp_path / "site.toml", tmp_path / "line", str(model)), tmp_path / "run-site", env)
    assert after.returncode == 0, after.stderr[-2000:]
    assert f"novelty: site T²/Q from {model}" in after.stdout

    novel_before, meta_before = _novel_share(tmp_path / "run-plain")
    novel_after, meta_after = _novel_share(tmp_path / "run-site")
    assert novel_before > 0.5 and novel_after < 0.2, (novel_before, novel_after)
    assert meta_before["site_novelty"] is None
    assert meta_after["site_novelty"]["path"] == str(model.resolve()) and meta_after["site_novelty"]["spectra"] == 150
    assert "-site" in meta_after["model_hash"]


def test_a_missing_or_foreign_site_novelty_file_is_refused_naming_the_key(tmp_path):
    env = {**os.environ, "ORELINE_CACHE": os.environ.get("ORELINE_CACHE", str(tmp_path / "cache"))}
    (tmp_path / "line").mkdir()
    missing = _run(_site_file(tmp_path / "a.toml", tmp_path / "line", str(tmp_path / "nope.npz")),
                   tmp_path / "run-a", env)
    assert missing.returncode == 2 and "stations.nir.site_novelty" in missing.stderr and "nope.npz" in missing.stderr
