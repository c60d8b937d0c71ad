"""Start-up stays light: the CLI imports a command's modules only when it runs, the engine no database code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import run
from yibao.cli.main import COMMANDS

HEAVY = ("sqlalchemy", "fastapi", "argon2", "yibao.identity")


def _modules_after(code: str) -> set[str]:
    """Top-level and yibao modules loaded by a fresh interpreter running ``code``."""
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def _loaded(modules: set[str], name: str) -> bool:
    return name in modules or any(m.startswith(name + ".") for m in modules)


def test_the_engine_imports_no_database_web_or_identity_code() -> None:
    modules = _modules_after("import yibao.engine")
    assert "yibao.engine" in modules
    assert [h for h in HEAVY if _loaded(modules, h)] == []


def test_the_cli_entry_point_imports_no_domain() -> None:
    modules = _modules_after("import yibao.cli.main")
    domains = ("yibao.engine", "yibao.people", "yibao.premiums", "yibao.accounts", "yibao.policy", "pydantic")
    assert [m for m in (*HEAVY, *domains) if _loaded(modules, m)] == []


def test_calc_loads_only_what_it_needs(tmp_path: Path) -> None:
    claim = tmp_path / "claim.json"
    claim.write_text(
        json.dumps(
            {
                "scheme": "resident",
                "benefit": "inpatient",
                "date": "2016-03-01",
                "person": {"birth_date": "1970-05-20", "sex": "F", "group": "general"},
                "hospital_level": 1,
                "total": "3000.00",
                "in_scope": "3000.00",
            }
        ),
        encoding="utf-8",
    )
    code = (
        "import sys\nfrom yibao.cli.main import app\n"
        f"try:\n    app(['calc', {str(claim)!r}])\nexcept SystemExit as e:\n    assert not e.code, e.code"
    )
    modules = _modules_after(code)
    assert _loaded(modules, "yibao.engine")
    assert [m for m in (*HEAVY, "yibao.people", "yibao.accounts", "numpy") if _loaded(modules, m)] == []


def test_help_lists_every_command_with_its_own_help() -> None:
    code, out = run("--help")
    assert code == 0
    for name in COMMANDS:
        assert f" {name} " in out
    for name, spec in COMMANDS.items():
        command = spec.load(name)
        assert command.name == name
        own = (command.help or "").strip().splitlines()[0]
        assert own == spec.help, name  # the declared help is the command's own


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_runs_its_help(name: str) -> None:
    code, out = run(name, "--help")
    assert code == 0 and f"Usage: yibao {name} " in " ".join(out.split()), out
    assert "--install-completion" not in out  # only the root offers shell completion
