"""The catalog package's modules import each other one way only: every import counts, also
those deferred into functions or made for type checkers, so no cycle can hide behind them."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "host" / "catalog"


def catalog_imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.glob("*.py"):
        used: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "host.catalog":
                used |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("host.catalog."):
                used.add(node.module.split(".")[2])
            elif isinstance(node, ast.Import):
                used |= {a.name.split(".")[2] for a in node.names if a.name.startswith("host.catalog.")}
        graph[path.stem] = used - {path.stem}
    return graph


def test_the_catalog_import_graph_has_no_cycle():
    graph = catalog_imports()
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle in host.catalog: {exc.args[1]}") from None
    assert set(order) >= {"layout", "store", "index", "views", "transaction"}


def test_the_leaves_and_the_top():
    graph = catalog_imports()
    assert graph["layout"] == set() and graph["ids"] == set()
    assert not any("transaction" in used for used in graph.values())  # only handlers use it
    assert "index" not in graph["store"] and "index" not in graph["views"]


def test_the_package_docstring_lists_modules_in_import_order():
    import re

    import host.catalog

    listed = re.findall(r"`(\w+)`", host.catalog.__doc__ or "")
    graph = catalog_imports()
    assert set(graph) - {"__init__"} <= set(listed), "a module is missing from the package docstring"
    for module, used in graph.items():
        for dependency in used:
            assert listed.index(dependency) < listed.index(module), f"{module} imports {dependency}"
