"""``oreline config``: print the shipped default site file, or check a site file and print the composed line.

Imports only the site file's schema (:mod:`analysis.site_file`), not the line: a light command. ``oreline config
default`` goes straight to :func:`analysis.site_default.print_default_site` (it needs no schema).
"""

from __future__ import annotations

import argparse

from analysis.site_default import print_default_site
from analysis.site_file import load_site


def check_config(args: argparse.Namespace) -> int:
    """``config default`` prints the shipped site file; ``config check SITE`` validates one and lists its stations."""
    if args.config_command == "default":
        return print_default_site(args)
    site = load_site(args.site)
    print(f"{args.site}: valid")
    for name, st in sorted(site["stations"].items(), key=lambda kv: kv[1]["position_m"]):
        print(f"  station {name:<12} {st['kind']:<12} at {st['position_m']:7.1f} m  backend {st['backend']}")
    return 0
