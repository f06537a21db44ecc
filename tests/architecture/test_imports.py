"""The import rules hold: no cycle between any two modules, and every module imports on its own in any order.

`make lint` checks the layers with import-linter (contracts in pyproject.toml); import-linter has no
contract for cycles inside a room, so this test finds them in the same graph (grimp's, which
import-linter builds on), leaving out imports under ``TYPE_CHECKING`` as the contracts do.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import grimp

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("hub", "connectors", "certs", "policies", "blobstores")


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's algorithm: every set of two or more modules that import each other, directly or not."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("a", "a.one", "a.two", "a.three", "a.alone"):
        graph.add_module(module)
    graph.add_import(importer="a.one", imported="a.two")
    graph.add_import(importer="a.two", imported="a.three")
    graph.add_import(importer="a.three", imported="a.one")
    graph.add_import(importer="a.alone", imported="a.one")
    assert strongly_connected(graph) == [["a.one", "a.three", "a.two"]]


def test_no_module_imports_itself_round_a_cycle():
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    cycles = strongly_connected(graph)  # the old hub/ had one of 23 modules (state, audit, errors, web.pages, ...)
    assert cycles == []


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if parts[-1] == "__main__":
                continue  # running it is `python -m hub`, not an import
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_module_imports_in_any_order():
    modules = _modules()
    for seed in (1, 2, 3):
        order = random.Random(seed).sample(modules, len(modules))
        script = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
        done = subprocess.run(
            [sys.executable, "-c", script, *order], cwd=REPO, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (seed, done.stderr[-2000:])
