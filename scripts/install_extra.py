"""Install one optional extra's requirements (pyproject.toml's ``[project.optional-dependencies]``) into the running
Python's environment, without reinstalling oreline itself: ``python scripts/install_extra.py fit``.

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
    if len(argv) != 1:
        print("usage: install_extra.py EXTRA", file=sys.stderr)
        return 2
    return subprocess.call([sys.executable, "-m", "pip", "install", *extra_requirements(argv[0])])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
