"""Core stands below every domain: no import circle inside it, no import of a domain, no domain's table.

Imports inside functions count too (they hide circles and dependencies).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yibao
import yibao.core

CORE = Path(yibao.core.__file__).parent
PACKAGE = Path(yibao.__file__).parent
DOMAINS = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "core" and any(p.glob("*.py")))


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


def _all_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_core_imports_no_domain_and_no_interface() -> None:
    assert {"accounts", "people", "premiums", "identity", "engine", "policy", "api", "cli"} <= set(DOMAINS)
    for p in CORE.glob("*.py"):
        for s in _code_strings(p):  # no ``importlib.import_module("yibao.people...")`` either
            assert not any(f"yibao.{domain}" in s for domain in DOMAINS), (p.name, s[:80])
        imported = {m for m in _all_imports(p) if m == "yibao" or m.startswith("yibao.")}
        assert all(m.startswith("yibao.core") for m in imported), (p.name, imported)


def _domain_tables() -> set[str]:
    """Every table a domain declares (``__tablename__ = "..."`` outside core)."""
    tables: set[str] = set()
    for p in PACKAGE.rglob("*.py"):
        if CORE in p.parents:
            continue
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            named = isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__tablename__" for t in node.targets
            )
            if named and isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                tables.add(str(node.value.value))
    return tables


def _code_strings(path: Path) -> list[str]:
    """String constants of a module's code (docstrings left out: prose may say "persons")."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]


def test_core_names_no_domain_table() -> None:
    tables = _domain_tables()
    assert {"persons", "insurance_records", "sharing_bindings", "auth_identities"} <= tables
    for p in CORE.glob("*.py"):
        for s in _code_strings(p):
            for table in tables:
                assert not re.search(rf"\b{table}\b", s), (p.name, table, s[:80])
