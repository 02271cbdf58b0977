"""The package's shape: no import cycles, no late imports, the test kit off the production path.

The layer contract itself is ``lint-imports`` ([tool.importlinter] in pyproject.toml, run by ``make lint``);
its ``acyclic_siblings`` contract misses a package importing its own child back (the old
``cli`` <-> ``cli.commands`` cycle), so the cycle check here runs over every module.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import grimp

SRC = Path(__file__).resolve().parents[1] / "src" / "dotsync"


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("dotsync", cache_dir=None)


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The import cycles between dotsync's modules: strongly connected components of more than one module."""
    mods = sorted(
        m for m in graph.modules if m.startswith("dotsync") and not m.startswith("dotsync.migrations")
    )
    known = set(mods)
    adj = {m: sorted(x for x in graph.find_modules_directly_imported_by(m) if x in known) for m in mods}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in adj[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for m in mods:
        if m not in index:
            visit(m)
    return found


def _sources() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_no_import_cycle_in_dotsync():
    assert cycles(_graph()) == []


def test_the_cycle_check_finds_a_cycle():
    graph = grimp.ImportGraph()
    for name in ("dotsync", "dotsync.a", "dotsync.b", "dotsync.c"):
        graph.add_module(name)
    graph.add_import(importer="dotsync.a", imported="dotsync.b")
    graph.add_import(importer="dotsync.b", imported="dotsync.a")
    graph.add_import(importer="dotsync.c", imported="dotsync.a")
    assert cycles(graph) == [["dotsync.a", "dotsync.b"]]


def test_no_late_imports_in_src():
    late = [
        f"{p.relative_to(SRC)}:{n}"
        for p in _sources()
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if "noqa: E402" in line
    ]
    assert late == []


def test_only_the_test_kit_imports_the_test_kit():
    pattern = re.compile(
        r"^\s*(from\s+dotsync\.testing[\s.]|import\s+dotsync\.testing\b|from\s+dotsync\s+import\s+testing\b)"
    )
    kit = SRC / "testing"
    found = [
        f"{p.relative_to(SRC)}:{n}"
        for p in _sources()
        if kit not in p.parents
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.match(line)
    ]
    assert found == []


def test_the_layer_contract_holds():
    """``lint-imports`` with the contract in pyproject.toml (``make lint`` runs it too)."""
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(SRC.parents[1] / "pyproject.toml"), no_cache=True) == 0
