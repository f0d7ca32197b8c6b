"""First use of a line: the stations' models are trained and fitted in parallel, with progress, before composing.

A spectrometer station trains the NIR model and a camera station fits the normal-ore model the first time
they are built (then both are cached under ``$ORELINE_CACHE``). Built one after the other inside
:func:`analysis.site.compose`, that is minutes of silence on a fresh machine. :func:`prepare_station_models`
builds each such station once in its own worker process (``fork``: the workers start with everything already
imported), so the fits run side by side on separate cores, and prints a progress line while they run. The
composition that follows finds the models in the cache. With a warm cache it costs about a second.

A worker that fails is not an error here: :func:`~analysis.site.compose` builds the station again in this
process and raises the station's own error.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, Mapping, TextIO

from conveyor.clock import SimulatedClock
from spectra.cache import ALSO_SHIPPED_GRIDS, SHIPPED_DIR as SPECTRA_SHIPPED, default_model
from vision.fit import SHIPPED_DIR as VISION_SHIPPED
from analysis.progress import Ticker
from analysis.site import build_station, load_site, prepare_station, station_context, station_factory

#: Station kinds whose factory trains or fits a model on first use.
FITTED_KINDS = ("spectrometer", "camera")


def _build_once(name: str, section: Mapping[str, Any], site: Mapping[str, Any]) -> str:
    """Worker: build the station (its factory fits and caches the model), discard it. Returns "" or the error."""
    try:
        with tempfile.TemporaryDirectory(prefix="oreline-prepare-") as tmp:
            context = station_context(site, Path(tmp), SimulatedClock(), simulated=True)
            prepare_station(name, section, context)  # fits and caches the model (a camera's factory only loads it)
            station = build_station(name, section, context)
            close = getattr(station, "close", None)
            if callable(close):
                close()
    except Exception as exc:  # reported by compose, in the parent, with its proper type
        return f"{type(exc).__name__}: {exc}"
    return ""


def prepare_station_models(site: Mapping[str, Any], *, stream: TextIO | None = None, workers: int = 2,
                           log_interval_s: float = 5.0) -> dict[str, float]:
    """Build every enabled simulated station of a :data:`FITTED_KINDS` kind once, in up to ``workers`` processes.

    Stations on real devices are left to :func:`~analysis.site.compose` (a worker must not open a real device).

    Prints ``preparing station models ...`` lines to ``stream`` (default stdout) at least every
    ``log_interval_s`` while they run. Returns {station name: seconds until ready}.
    """
    jobs = [(name, section) for name, section in site["stations"].items()
            if section.get("enabled", True) and section["kind"] in FITTED_KINDS and section["backend"] == "simulated"]
    if not jobs:
        return {}
    ticker = Ticker("preparing station models (first run: trained once, then cached)", stream=stream or sys.stdout,
                    log_interval_s=log_interval_s)
    ticker.update("importing " + ", ".join(sorted({section["kind"] for _n, section in jobs})))
    for _name, section in jobs:
        station_factory(section["kind"])  # imported once, here: the forked workers and compose share them
    t0 = time.monotonic()
    ready: dict[str, float] = {}
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(jobs))),
                             mp_context=multiprocessing.get_context("fork")) as pool:
        futures: dict[Future, str] = {pool.submit(_build_once, name, section, dict(site)): name
                                      for name, section in jobs}
        pending = set(futures)
        while pending:
            ticker.update(", ".join(f"{futures[f]} {'ready' if futures[f] in ready else 'working'}"
                                    for f in futures))
            done, pending = wait(pending, timeout=1.0)
            for f in done:
                ready[futures[f]] = time.monotonic() - t0
    ticker.close(", ".join(f"{name} {s:.0f} s" for name, s in ready.items()))
    return ready


def ship_models(site: Mapping[str, Any], cache_root: Path) -> list[Path]:
    """Fit the site's station models into an empty ``cache_root`` and copy them into the packages' shipped folders
    (``spectra/shipped``, ``vision/shipped``), replacing what was there, with the NIR models of
    :data:`spectra.cache.ALSO_SHIPPED_GRIDS`. Returns the files written.

    ``python -m analysis.prepare`` (``make models``) does this for the shipped default site; run it after a change to
    the library, the NIR training settings or the camera's fitting code (``tests/test_shipped_models.py`` says when).
    """
    os.environ["ORELINE_CACHE"] = str(cache_root)
    prepare_station_models(site)
    for grid in ALSO_SHIPPED_GRIDS:  # e.g. a full-range site's model (spectra.cache.ALSO_SHIPPED_GRIDS)
        default_model(grid)
    written = []
    for kind, shipped_dir in (("spectra", SPECTRA_SHIPPED), ("vision", VISION_SHIPPED)):
        shipped_dir.mkdir(exist_ok=True)
        for old in shipped_dir.glob("*.npz"):
            old.unlink()
        for fitted in sorted((cache_root / kind).glob("*.npz")):
            target = shipped_dir / fitted.name
            shutil.copyfile(fitted, target)
            written.append(target)
    return written


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="oreline-ship-") as tmp:
        for path in ship_models(load_site(), Path(tmp)):
            print(f"shipped {path} ({path.stat().st_size / 1e6:.1f} MB)")
