"""The site of ``oreline demo`` / ``oreline run``: the site file with the command's options applied, validated.

Light (the site file's schema, not the line): :mod:`analysis.cli` loads it first, so a bad option or site file is
refused before :mod:`analysis.run` imports the line (scikit-learn, the web server).
"""

from __future__ import annotations

import argparse
from typing import Any

from analysis.site_file import load_site, validate


def _apply_overrides(site: dict[str, Any], args: argparse.Namespace) -> None:
    sim = site["simulation"]
    for attr, key in (("lot_mass_t", "lot_mass_t"), ("speedup", "speedup"), ("seed", "seed"),
                      ("waste_fraction", "waste_fraction")):
        value = getattr(args, attr, None)
        if value is not None:
            sim[key] = value
    if sim["waste_start_t"] >= sim["lot_mass_t"]:
        sim["waste_start_t"] = sim["lot_mass_t"] / 2  # keep the demo's admixture inside a shortened lot
    if sim["waste_start_t"] + sim["waste_extent_t"] > sim["lot_mass_t"]:
        sim["waste_extent_t"] = 0.0


def checked_site(args: argparse.Namespace, *, demo: bool) -> dict[str, Any]:
    """The site of ``args`` (``run``'s site file, ``--config`` or the shipped one) with its overrides, validated;
    ConfigError names the bad key."""
    site_path = getattr(args, "site", None) or args.config
    print(f"oreline {'demo' if demo else 'run'}: composing the line of {site_path or 'the shipped simulated site'}",
          flush=True)
    site = load_site(site_path)
    _apply_overrides(site, args)
    return validate(site)  # overrides must obey the same rules as the file
