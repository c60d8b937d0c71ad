"""No import circle inside ``yibao.core``, counting imports inside functions too (they hide circles)."""

from __future__ import annotations

import ast
from pathlib import Path

import yibao.core

CORE = Path(yibao.core.__file__).parent


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "yibao.core":
                found |= {f"yibao.core.{a.name}" for a in node.names}
            elif node.module.startswith("yibao.core."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("yibao.core.")}
    return found


def test_core_has_no_import_circle() -> None:
    graph = {f"yibao.core.{p.stem}": _imports(p) for p in CORE.glob("*.py") if p.stem != "__init__"}
    circles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                circles.append([*path[path.index(nxt) :], nxt])
            elif nxt in graph:
                visit(nxt, [*path, nxt])

    for start in graph:
        visit(start, [start])
    assert circles == [], circles[:5]


def test_core_knows_no_domain() -> None:
    for p in CORE.glob("*.py"):
        text = p.read_text(encoding="utf-8")
        for domain in ("accounts", "people", "premiums", "identity", "engine"):
            assert f"yibao.{domain}" not in text, (p.name, domain)
