"""Functions longer than a limit (default 80 lines, decorators and docstring included), found with ``ast``.

``python scripts/long_functions.py [--max-lines N] [--report] PATH...``: prints ``file:line name (N lines)``
for each, longest first; exit 1 when any is found (0 with ``--report``, which only lists them). Folders
are searched for ``*.py`` (``.venv`` and hidden folders skipped). Nested functions count on their own too.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path
from typing import Iterator, NamedTuple, Sequence


class LongFunction(NamedTuple):
    path: Path
    line: int
    name: str
    lines: int


def python_files(paths: Sequence[str]) -> Iterator[Path]:
    for item in paths:
        p = Path(item)
        if p.is_dir():
            for f in sorted(p.rglob("*.py")):
                if not any(part.startswith(".") for part in f.relative_to(p).parts):
                    yield f
        elif p.suffix == ".py":
            yield p


def long_functions(path: Path, max_lines: int) -> list[LongFunction]:
    """Every function or method in ``path`` longer than ``max_lines`` (from its first decorator to its end)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = (node.end_lineno or node.lineno) - first + 1
            if length > max_lines:
                found.append(LongFunction(path, node.lineno, node.name, length))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="long_functions", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--max-lines", type=int, default=80)
    parser.add_argument("--report", action="store_true", help="list only; exit 0 whatever is found")
    args = parser.parse_args(argv)
    found = [f for path in python_files(args.paths) for f in long_functions(path, args.max_lines)]
    for f in sorted(found, key=lambda f: -f.lines):
        print(f"{f.path}:{f.line}: {f.name} ({f.lines} lines > {args.max_lines})")
    print(f"{len(found)} function(s) over {args.max_lines} lines", file=sys.stderr)
    return 0 if args.report or not found else 1


if __name__ == "__main__":
    sys.exit(main())
