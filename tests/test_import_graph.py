"""The import graph of oreline's packages: no circles, nothing upward, no function-level project imports.

Read from the source with :mod:`ast` (nothing is imported). The rules, as
/work/shared/ARCHITECTURE.md and the README state them:

1. Packages import down this list only: conveyor → spectra → vision → sampler → plc → analysis.
2. Inside analysis/: the shared base (``analysis.errors``, ``analysis.lazy``, ``analysis.model``, ``analysis.progress``)
   imports no other analysis module; the rooms ``decide``, ``archive``, ``report``, ``fleet`` and
   ``web`` may import the base, their own room, and the rooms ``decide`` and ``archive`` (``archive``
   only ``decide``; ``decide`` none), always through the other room's front door (its package, e.g.
   ``from analysis.archive import open_archive``), never its modules. Only the composition root and
   the CLI (the modules at analysis/ top level) may import every room, also through the front doors.
3. No circles among module-level imports.
4. Project modules are imported at module level only. A function-level import is allowed for optional
   third-party dependencies (vendor SDKs, GUI or cluster libraries), never for oreline's own modules;
   backends that must load lazily are named in a registry and loaded with ``importlib``.
"""
from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAYERS = ("conveyor", "spectra", "vision", "sampler", "plc", "analysis")
ANALYSIS_BASE = {"analysis", "analysis.errors", "analysis.lazy", "analysis.model", "analysis.progress"}
ANALYSIS_ROOMS = ("decide", "archive", "report", "fleet", "web", "catalogue")
#: room → the other rooms it may import (through their front doors)
ROOM_MAY_IMPORT = {"decide": set(), "archive": {"decide"}, "report": {"decide", "archive"},
                   "fleet": {"decide", "archive"}, "web": {"decide", "archive"},
                   "catalogue": {"decide", "archive"}}


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module (resolved to a module where the name is one)
    path: Path
    line: int
    module_level: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    """Every module of the six packages, by dotted name."""
    mods: dict[str, Path] = {}
    for pkg in LAYERS:
        for path in sorted((REPO / pkg).rglob("*.py")):
            mods[_module_name(path)] = path
    return mods


def _is_module_level(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    p = parents.get(node)
    while p is not None:
        if isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return False
        p = parents.get(p)
    return True


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    """The project imports in one module (relative imports resolved; names that are modules become modules)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        for t in dict.fromkeys(targets):
            if t.split(".")[0] in LAYERS:
                found.append(Import(name, t, path, node.lineno, _is_module_level(node, parents)))
    return found


@functools.cache
def all_imports() -> list[Import]:
    modules = project_modules()
    return [imp for name, path in modules.items() for imp in imports_of(name, path, modules)]


def _room(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "analysis" or module in ANALYSIS_BASE:
        return None
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ANALYSIS_ROOMS) else "root"


def _where(imp: Import) -> str:
    return f"{imp.path.relative_to(REPO)}:{imp.line}: {imp.source} imports {imp.target}"


def upward_imports(imports: list[Import]) -> list[str]:
    bad = []
    for imp in imports:
        src, dst = imp.source.split(".")[0], imp.target.split(".")[0]
        if LAYERS.index(dst) > LAYERS.index(src):
            bad.append(f"{_where(imp)} (upward: {src} may import only {', '.join(LAYERS[:LAYERS.index(src) + 1])})")
    return bad


def room_violations(imports: list[Import]) -> list[str]:
    bad = []
    for imp in imports:
        if not (imp.source.startswith("analysis") and imp.target.startswith("analysis")):
            continue
        src_room, dst_room = _room(imp.source), _room(imp.target)
        if dst_room is None or src_room == dst_room:
            continue  # the shared base, or inside one room
        if imp.source in ANALYSIS_BASE:
            bad.append(f"{_where(imp)} (the shared base imports no room)")
        elif dst_room == "root":
            bad.append(f"{_where(imp)} (a room never imports the composition root)")
        elif imp.target != f"analysis.{dst_room}":
            bad.append(f"{_where(imp)} (use the room's front door: from analysis.{dst_room} import ...)")
        elif src_room != "root" and dst_room not in ROOM_MAY_IMPORT[src_room]:
            allowed = ", ".join(sorted(ROOM_MAY_IMPORT[src_room])) or "no other room"
            bad.append(f"{_where(imp)} (room {src_room} may import {allowed})")
    return bad


def circles(imports: list[Import]) -> list[list[str]]:
    """Strongly connected components (> 1 module) of the module-level import graph (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.module_level and imp.source != imp.target:
            graph.setdefault(imp.source, set()).add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def function_level_imports(imports: list[Import]) -> list[str]:
    return [_where(imp) for imp in imports if not imp.module_level]


def test_the_walker_sees_every_package() -> None:
    imports = all_imports()
    sources = {imp.source.split(".")[0] for imp in imports}
    assert sources == set(LAYERS)  # every package, conveyor too (its modules import each other)
    assert len(imports) > 300, "the walker found too few imports; is it reading the packages?"


def test_no_upward_imports() -> None:
    bad = upward_imports(all_imports())
    assert not bad, "imports go conveyor → spectra → vision → sampler → plc → analysis, never upward:\n" + "\n".join(bad)


def test_analysis_rooms_import_only_decide_and_archive_through_their_front_doors() -> None:
    bad = room_violations(all_imports())
    assert not bad, ("inside analysis/, rooms import only decide/ and archive/ (through `from analysis.<room> "
                     "import ...`); only the top-level composition root and CLI import every room:\n" + "\n".join(bad))


def test_no_import_circles() -> None:
    found = circles(all_imports())
    assert not found, ("module-level imports form circles; move the shared piece down (a smaller module both "
                       "import) instead of importing inside a function:\n" + "\n".join(" ↔ ".join(c) for c in found))


def test_no_function_level_imports_of_project_modules() -> None:
    bad = function_level_imports(all_imports())
    assert not bad, ("oreline's own modules are imported at module level (only optional third-party dependencies "
                     "may be imported inside a function; lazy backends go through a registry + importlib):\n"
                     + "\n".join(bad))


def test_the_rules_catch_what_they_name() -> None:
    """The checks themselves can fail: a synthetic circle, an upward import, a lazy import and a room breach."""
    p = REPO / "x.py"
    imps = [Import("conveyor.a", "spectra.b", p, 1, True), Import("spectra.b", "conveyor.a", p, 2, True),
            Import("analysis.report.data", "analysis.fleet", p, 3, True),
            Import("analysis.fleet.rescore", "analysis.archive.reader", p, 4, True),
            Import("analysis.web.app", "analysis.site", p, 5, False)]
    assert circles(imps) == [["conveyor.a", "spectra.b"]]
    assert len(upward_imports(imps)) == 1
    assert [b.split("(")[-1] for b in room_violations(imps)] == [
        "room report may import archive, decide)", "use the room's front door: from analysis.archive import ...)",
        "a room never imports the composition root)"]
    assert len(function_level_imports(imps)) == 1
