"""Install one optional extra's requirements (pyproject.toml's ``[project.optional-dependencies]``) into the running
Python's environment, without reinstalling oreline itself: ``python scripts/install_extra.py fit``
(``--dry-run``: print the pip command instead).

``pip install -e '.[test,EXTRA]'`` would do the same and more: it builds oreline's editable wheel again in a fresh
build environment (setuptools fetched again) and walks every requirement again, about 17 s of a fresh `make test`
for nothing new. The requirements are read from pyproject.toml, so they are stated in one place.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def extra_requirements(extra: str, pyproject: Path = PYPROJECT) -> list[str]:
    """The requirement strings of ``extra``; SystemExit naming the extras there are when it has none."""
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    if extra not in extras:
        raise SystemExit(f"install_extra: no extra {extra!r} in {pyproject} (extras: {', '.join(sorted(extras))})")
    return list(extras[extra])


def main(argv: list[str]) -> int:
    dry_run = "--dry-run" in argv
    args = [a for a in argv if a != "--dry-run"]
    if len(args) != 1:
        print("usage: install_extra.py [--dry-run] EXTRA", file=sys.stderr)
        return 2
    command = [sys.executable, "-m", "pip", "install", *extra_requirements(args[0])]
    if dry_run:
        print(" ".join(command))
        return 0
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
