"""Site files for tests that run `oreline demo` as a real process: the shipped site, lighter."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping


def light_site_file(path: Path, *, flush_interval_s: float | None = None,
                    simulation: Mapping[str, float] | None = None, segment_mass_t: float | None = None) -> Path:
    """Write the shipped default site (its camera renders at the shipped model's 4 mm/px, so no test fits a camera
    model), optionally with another flush interval, other numbers in ``[simulation]``, e.g.
    ``{"waste_start_t": 200.0}``, and another ``[lot].segment_mass_t`` (a short lot with as many segments: the NIR
    baseline's warm-up is counted in segments)."""
    from analysis.site import DEFAULT_SITE

    text = DEFAULT_SITE.read_text()
    for key, value in (simulation or {}).items():
        text, n = re.subn(rf"(?m)^{key} = [0-9.]+", f"{key} = {value}", text)
        assert n == 1, f"the default site must set [simulation].{key} once"
    if flush_interval_s is not None:
        text, n = re.subn(r"(?m)^flush_interval_s = [0-9.]+", f"flush_interval_s = {flush_interval_s}", text)
        assert n == 1, "the default site must set [archive].flush_interval_s once"
    if segment_mass_t is not None:
        text, n = re.subn(r"(?m)^segment_mass_t = [0-9.]+", f"segment_mass_t = {segment_mass_t}", text)
        assert n == 1, "the default site must set [lot].segment_mass_t once"
    path.write_text(text)
    return path
